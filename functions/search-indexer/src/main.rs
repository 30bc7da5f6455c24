//! The search indexer Lambda, triggered by the table's stream.

use qnet_app::config::StorageConfig;

#[tokio::main]
async fn main() -> Result<(), qnet_lambda::Error> {
    let (config, kit) = qnet_lambda::start::<StorageConfig>().await?;
    let app = kit.app_with_bucket(&config.table_name, &config.bucket_name);
    let workdir = std::env::temp_dir().join("qnet-search");
    let (app, workdir) = (&app, &workdir);
    qnet_lambda::run_event(move |event| async move { qnet_search_indexer::handle(app, workdir, event).await.map(|_| ()) }).await
}
