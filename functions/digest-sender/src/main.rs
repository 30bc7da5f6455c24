//! The digest sender Lambda, fed by the digest queue (SQS).

use aws_lambda_events::event::sqs::SqsEvent;
use qnet_app::config::DigestSenderConfig;
use qnet_app::digest::Digest;

#[tokio::main]
async fn main() -> Result<(), qnet_lambda::Error> {
    let (config, kit) = qnet_lambda::start::<DigestSenderConfig>().await?;
    // Digests carry links, not files: no bucket.
    let app = kit.app(&config.table_name).with_web_base_url(&config.settings.web_base_url);
    let mailer = kit.mailer(&config.configuration_set);
    // Built once per container, so its section cache and send pacing carry over
    // from one batch to the next.
    let digest = Digest::new(config.settings);
    let (app, mailer, digest) = (&app, mailer.as_ref(), &digest);
    qnet_lambda::run_event(move |event: SqsEvent| async move {
        Ok::<_, qnet_lambda::Error>(qnet_digest_sender::handle(app, digest, mailer, event).await)
    })
    .await
}
