//! The event reminders Lambda, invoked daily by an EventBridge Scheduler schedule.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use qnet_app::App;
use qnet_app::config::{EventRemindersConfig, Reader};
use qnet_ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = EventRemindersConfig::read(Reader::from_env())?;
    qnet_app::logging::init(&config.log_level);
    let sdk = qnet_aws::from_env::sdk_config().await;
    // Reads events, bookings and members, writes claims, sends email: no bucket.
    let app = App::new(
        Arc::new(qnet_aws::from_env::record_store(&sdk, config.table_name)),
        Arc::new(qnet_app::NoBlobs),
        Arc::new(SystemClock),
    )
    .with_web_base_url(&config.web_base_url)
    .with_mailer(
        Arc::new(qnet_aws::SesMailSender::new(qnet_aws::aws_sdk_sesv2::Client::new(&sdk), config.configuration_set.clone())),
        &config.mail_from,
    );
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        qnet_event_reminders::handle(app, event.payload).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
