//! The digest sender Lambda, fed by the digest queue (SQS).

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use qnet_app::App;
use qnet_app::config::{DigestSenderConfig, Reader};
use qnet_app::digest::Digest;
use qnet_ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = DigestSenderConfig::read(Reader::from_env())?;
    qnet_app::logging::init(&config.log_level);
    let sdk = qnet_aws::from_env::sdk_config().await;
    // Digests carry links, not files: no bucket.
    let app = App::new(
        Arc::new(qnet_aws::from_env::record_store(&sdk, config.table_name.clone())),
        Arc::new(qnet_app::NoBlobs),
        Arc::new(SystemClock),
    )
    .with_web_base_url(&config.settings.web_base_url);
    let mailer = qnet_aws::SesMailSender::new(qnet_aws::aws_sdk_sesv2::Client::new(&sdk), config.configuration_set.clone());
    // Built once per container, so its section cache and send pacing carry over
    // from one batch to the next.
    let digest = Digest::new(config.settings.clone());
    let (app, mailer, digest) = (&app, &mailer, &digest);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(qnet_digest_sender::handle(app, digest, mailer, event.payload).await)
    }))
    .await
}
