//! The event reminders Lambda, invoked daily by an EventBridge Scheduler schedule.

use qnet_app::config::EventRemindersConfig;

#[tokio::main]
async fn main() -> Result<(), qnet_lambda::Error> {
    let (config, kit) = qnet_lambda::start::<EventRemindersConfig>().await?;
    // Reads events, bookings and members, writes claims, sends email: no bucket.
    let app = kit
        .app(&config.table_name)
        .with_web_base_url(&config.web_base_url)
        .with_mailer(kit.mailer(&config.configuration_set), &config.mail_from);
    let app = &app;
    qnet_lambda::run_event(move |event| async move { qnet_event_reminders::handle(app, event).await }).await
}
