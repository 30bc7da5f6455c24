//! The SES events Lambda, subscribed to the configuration set's SNS topic.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use qnet_app::App;
use qnet_app::config::{Reader, TableConfig};
use qnet_ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = TableConfig::read(Reader::from_env())?;
    qnet_app::logging::init(&config.log_level);
    let sdk = qnet_aws::from_env::sdk_config().await;
    let app = App::new(
        Arc::new(qnet_aws::from_env::record_store(&sdk, config.table_name)),
        Arc::new(qnet_app::NoBlobs),
        Arc::new(SystemClock),
    );
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        qnet_ses_events::handle(app, event.payload).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
