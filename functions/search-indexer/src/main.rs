//! The search indexer Lambda, triggered by the table's stream.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use qnet_app::App;
use qnet_app::config::{Reader, StorageConfig};
use qnet_ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = StorageConfig::read(Reader::from_env())?;
    qnet_app::logging::init(&config.log_level);
    let sdk = qnet_aws::from_env::sdk_config().await;
    let app = App::new(
        Arc::new(qnet_aws::from_env::record_store(&sdk, config.table_name)),
        Arc::new(qnet_aws::from_env::blob_store(&sdk, config.bucket_name)),
        Arc::new(SystemClock),
    );
    let app = &app;
    let workdir = std::env::temp_dir().join("qnet-search");
    let workdir = &workdir;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        qnet_search_indexer::handle(app, workdir, event.payload).await.map(|_| ()).map_err(lambda_runtime::Error::from)
    }))
    .await
}
