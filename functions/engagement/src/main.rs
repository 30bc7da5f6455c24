//! The engagement Lambda, invoked daily by an EventBridge Scheduler schedule.

use qnet_app::config::EngagementConfig;

#[tokio::main]
async fn main() -> Result<(), qnet_lambda::Error> {
    let (config, kit) = qnet_lambda::start::<EngagementConfig>().await?;
    // Reads members, projects, items and questions, writes claims and counters,
    // sends email: no bucket. Links go to the web app; unsubscribe links to the API.
    let app = kit
        .app(&config.table_name)
        .with_web_base_url(&config.web_base_url)
        .with_api_base_url(&config.public_api_url)
        .with_mailer(kit.mailer(&config.configuration_set), &config.mail_from);
    let app = &app;
    qnet_lambda::run_event(move |event| async move { qnet_engagement::handle(app, event).await }).await
}
