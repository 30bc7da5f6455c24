//! The board notifier Lambda, fed by the board queue (SQS).

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use qnet_app::App;
use qnet_app::config::{BoardNotifierConfig, Reader};
use qnet_ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = BoardNotifierConfig::read(Reader::from_env())?;
    qnet_app::logging::init(&config.log_level);
    let sdk = qnet_aws::from_env::sdk_config().await;
    // Board emails carry links, not files: no bucket.
    let mailer = qnet_aws::SesMailSender::new(qnet_aws::aws_sdk_sesv2::Client::new(&sdk), config.configuration_set.clone());
    let app = App::new(
        Arc::new(qnet_aws::from_env::record_store(&sdk, config.table_name.clone())),
        Arc::new(qnet_app::NoBlobs),
        Arc::new(SystemClock),
    )
    .with_web_base_url(&config.web_base_url)
    .with_mailer(Arc::new(mailer), &config.mail_from);
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(qnet_board_notifier::handle(app, event.payload).await)
    }))
    .await
}
