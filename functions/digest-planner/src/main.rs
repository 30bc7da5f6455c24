//! The digest planner Lambda, invoked by an EventBridge Scheduler schedule.

use qnet_app::config::DigestPlannerConfig;
use qnet_app::digest::Digest;

#[tokio::main]
async fn main() -> Result<(), qnet_lambda::Error> {
    let (config, kit) = qnet_lambda::start::<DigestPlannerConfig>().await?;
    // The planner reads members and writes to the queue: no bucket.
    let (app, queue, digest) = (kit.app(&config.table_name), kit.queue(&config.queue_url), Digest::planner());
    let (app, queue, digest) = (&app, queue.as_ref(), &digest);
    qnet_lambda::run_event(move |event| async move { qnet_digest_planner::handle(app, digest, queue, event).await }).await
}
