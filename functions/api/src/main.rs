//! The API Lambda: builds the adapters once at init, then serves the router.

use std::sync::Arc;
use std::time::Duration;

use qnet_api::{Authenticator, CognitoVerifier};
use qnet_app::config::ApiConfig;

#[tokio::main]
async fn main() -> Result<(), qnet_lambda::Error> {
    let (config, kit) = qnet_lambda::start::<ApiConfig>().await?;
    let app = kit
        .app_with_bucket(&config.table_name, &config.bucket_name)
        .with_web_base_url(&config.web_base_url)
        .with_api_base_url(&config.public_api_url)
        // Read from Secrets Manager on first need, not during init.
        .with_link_signer(kit.link_signer(&config.link_signing_key_arn))
        .with_mentoring(config.mentoring)
        .with_board_queue(kit.queue(&config.board_queue_url))
        .with_mailer(kit.mailer(&config.configuration_set), &config.mail_from);
    // Search: the newest snapshot the indexer stored, loaded on the first
    // search (not during init), then refreshed every minute.
    let search = qnet_search::LazySearch::new(&app, std::env::temp_dir().join("qnet-search"), Duration::from_secs(60));
    let app = app.with_search(search.index());
    let verifier = CognitoVerifier::new(config.jwt_issuer, config.jwt_audience).with_jwks_url(config.jwks_url);
    let links = app.links.clone();
    let router = qnet_api::router(app, Arc::new(Authenticator::Cognito(verifier)));
    qnet_lambda::run_http(qnet_api::with_search_loaded(qnet_api::with_link_key_loaded(router, links), search)).await
}
