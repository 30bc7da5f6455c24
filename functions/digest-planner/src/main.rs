//! The digest planner Lambda, invoked by an EventBridge Scheduler schedule.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use qnet_app::App;
use qnet_app::config::{DigestPlannerConfig, Reader};
use qnet_app::digest::Digest;
use qnet_ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = DigestPlannerConfig::read(Reader::from_env())?;
    qnet_app::logging::init(&config.log_level);
    let sdk = qnet_aws::from_env::sdk_config().await;
    // The planner reads members and writes to the queue: no bucket.
    let app = App::new(
        Arc::new(qnet_aws::from_env::record_store(&sdk, config.table_name)),
        Arc::new(qnet_app::NoBlobs),
        Arc::new(SystemClock),
    );
    let queue = qnet_aws::from_env::job_queue(&sdk, config.queue_url);
    let digest = Digest::planner();
    let (app, queue, digest) = (&app, &queue, &digest);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        qnet_digest_planner::handle(app, digest, queue, event.payload).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
