//! The attachment check Lambda, triggered by S3 `ObjectCreated` under `uploads/`.

use aws_lambda_events::event::s3::S3Event;
use qnet_app::config::StorageConfig;

#[tokio::main]
async fn main() -> Result<(), qnet_lambda::Error> {
    let (config, kit) = qnet_lambda::start::<StorageConfig>().await?;
    let app = kit.app_with_bucket(&config.table_name, &config.bucket_name);
    let app = &app;
    qnet_lambda::run_event(move |event: S3Event| async move { qnet_attachment_check::handle(app, event).await.map(|_| ()) }).await
}
