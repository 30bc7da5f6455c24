//! The mentoring pass Lambda, invoked by an EventBridge Scheduler schedule.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use qnet_app::App;
use qnet_app::config::{MentoringConfig, Reader};
use qnet_ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = MentoringConfig::read(Reader::from_env())?;
    qnet_app::logging::init(&config.log_level);
    let sdk = qnet_aws::from_env::sdk_config().await;
    // The pass reads and writes records and sends email: no bucket.
    let app = App::new(
        Arc::new(qnet_aws::from_env::record_store(&sdk, config.table_name)),
        Arc::new(qnet_app::NoBlobs),
        Arc::new(SystemClock),
    )
    // Read from Secrets Manager on first need, not during init.
    .with_link_signer(qnet_app::links::LinkSigner::deferred(qnet_aws::from_env::link_key_loader(
        &sdk,
        &config.link_signing_key_arn,
    )))
    .with_mentoring(config.mentoring)
    .with_mailer(
        Arc::new(qnet_aws::SesMailSender::new(qnet_aws::aws_sdk_sesv2::Client::new(&sdk), config.configuration_set.clone())),
        &config.mail_from,
    );
    let (app, url) = (&app, config.public_api_url.trim_end_matches('/'));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        // The link key (Secrets Manager) is fetched by the first invocation, then kept.
        app.links.ensure_loaded().await?;
        qnet_mentoring::handle(app, url, event.payload).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
