//! The SES events Lambda, subscribed to the configuration set's SNS topic.

use qnet_app::config::TableConfig;

#[tokio::main]
async fn main() -> Result<(), qnet_lambda::Error> {
    let (config, kit) = qnet_lambda::start::<TableConfig>().await?;
    let app = kit.app(&config.table_name);
    let app = &app;
    qnet_lambda::run_event(move |event| async move { qnet_ses_events::handle(app, event).await }).await
}
