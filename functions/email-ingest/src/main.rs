//! The email ingest Lambda, invoked by the SES receipt rule.

use qnet_app::config::IngestConfig;
use qnet_app::ingest::IngestOptions;

#[tokio::main]
async fn main() -> Result<(), qnet_lambda::Error> {
    let (config, kit) = qnet_lambda::start::<IngestConfig>().await?;
    let mailer = kit.mailer(&config.configuration_set);
    // An answer by email emails the asker and the authors from inside the
    // ingest (questions feature): the app sends with SES, from the case study
    // address's domain, with opt-out links to the public API.
    let app = kit
        .app_with_bucket(&config.table_name, &config.bucket_name)
        .with_web_base_url(&config.web_base_url)
        .with_api_base_url(&config.public_api_url)
        .with_mailer(mailer.clone(), &config.mail_from)
        .with_board_queue(kit.queue(&config.board_queue_url));
    let opts = IngestOptions { dry_run: false, mail_from: config.mail_from.clone() };
    let (app, mailer, opts, prefix) = (&app, mailer.as_ref(), &opts, config.raw_mail_prefix.as_str());
    qnet_lambda::run_event(move |event: qnet_email_ingest::SesEvent| async move {
        qnet_email_ingest::handle(app, mailer, event, prefix, opts).await.map(|_| ())
    })
    .await
}
