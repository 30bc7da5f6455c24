//! The board notifier Lambda, fed by the board queue (SQS).

use aws_lambda_events::event::sqs::SqsEvent;
use qnet_app::config::BoardNotifierConfig;

#[tokio::main]
async fn main() -> Result<(), qnet_lambda::Error> {
    let (config, kit) = qnet_lambda::start::<BoardNotifierConfig>().await?;
    // Board emails carry links, not files: no bucket.
    let app = kit
        .app(&config.table_name)
        .with_web_base_url(&config.web_base_url)
        .with_mailer(kit.mailer(&config.configuration_set), &config.mail_from);
    let app = &app;
    qnet_lambda::run_event(move |event: SqsEvent| async move {
        Ok::<_, qnet_lambda::Error>(qnet_board_notifier::handle(app, event).await)
    })
    .await
}
