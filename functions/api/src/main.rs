//! The API Lambda: builds the adapters once at init, then serves the router.

use std::sync::Arc;

use qnet_api::{Authenticator, CognitoVerifier};
use qnet_app::App;
use qnet_app::config::{ApiConfig, Reader};
use qnet_ports::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = ApiConfig::read(Reader::from_env())?;
    qnet_app::logging::init(&config.log_level);
    let sdk = qnet_aws::from_env::sdk_config().await;
    let app = App::new(
        Arc::new(qnet_aws::from_env::record_store(&sdk, config.table_name)),
        Arc::new(qnet_aws::from_env::blob_store(&sdk, config.bucket_name)),
        Arc::new(SystemClock),
    )
    .with_web_base_url(&config.web_base_url)
    .with_api_base_url(&config.public_api_url)
    // Read from Secrets Manager on first need, not during init.
    .with_link_signer(qnet_app::links::LinkSigner::deferred(qnet_aws::from_env::link_key_loader(
        &sdk,
        &config.link_signing_key_arn,
    )))
    .with_mentoring(config.mentoring)
    .with_board_queue(Arc::new(qnet_aws::from_env::job_queue(&sdk, config.board_queue_url.clone())))
    .with_mailer(
        Arc::new(qnet_aws::SesMailSender::new(qnet_aws::aws_sdk_sesv2::Client::new(&sdk), config.configuration_set.clone())),
        &config.mail_from,
    );
    // Search: the newest snapshot the indexer stored, refreshed every minute.
    let workdir = std::env::temp_dir().join("qnet-search");
    let app = match qnet_search::startup_index(&app, &workdir).await {
        Ok(index) => {
            qnet_search::spawn_refresher(app.clone(), index.clone(), workdir, std::time::Duration::from_secs(60));
            app.with_search(index)
        }
        Err(e) => {
            tracing::error!(error = %e, "no search index: GET /search answers 503 until one loads");
            app
        }
    };
    let auth = Arc::new(Authenticator::Cognito(
        CognitoVerifier::new(config.jwt_issuer, config.jwt_audience).with_jwks_url(config.jwks_url),
    ));
    let links = app.links.clone();
    lambda_http::run(qnet_api::with_link_key_loaded(qnet_api::router(app, auth), links)).await
}
