//! The mentoring pass Lambda, invoked by an EventBridge Scheduler schedule.

use qnet_app::config::MentoringConfig;

#[tokio::main]
async fn main() -> Result<(), qnet_lambda::Error> {
    let (config, kit) = qnet_lambda::start::<MentoringConfig>().await?;
    // The pass reads and writes records and sends email: no bucket.
    let app = kit
        .app(&config.table_name)
        .with_link_signer(kit.link_signer(&config.link_signing_key_arn))
        .with_mentoring(config.mentoring)
        .with_mailer(kit.mailer(&config.configuration_set), &config.mail_from);
    let (app, url) = (&app, config.public_api_url.trim_end_matches('/'));
    qnet_lambda::run_event(move |event| async move {
        // The link key (Secrets Manager) is fetched by the first invocation, then kept.
        app.links.ensure_loaded().await?;
        Ok::<_, qnet_lambda::Error>(qnet_mentoring::handle(app, url, event).await?)
    })
    .await
}
