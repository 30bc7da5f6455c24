//! The coffee round Lambda, invoked by an EventBridge Scheduler schedule.

use qnet_app::config::CoffeeRoundConfig;

#[tokio::main]
async fn main() -> Result<(), qnet_lambda::Error> {
    let (config, kit) = qnet_lambda::start::<CoffeeRoundConfig>().await?;
    // The round reads members, writes its record and claims, and sends email: no bucket.
    let app = kit.app(&config.table_name).with_mailer(kit.mailer(&config.configuration_set), &config.mail_from);
    let app = &app;
    qnet_lambda::run_event(move |event| async move { qnet_coffee_round::handle(app, event).await }).await
}
