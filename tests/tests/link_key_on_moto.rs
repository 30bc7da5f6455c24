//! The link-signing key in AWS: the API reads it from Secrets Manager by ARN on
//! its first request (not during init, and never from its environment), keeps
//! it, and answers 503 instead of signing with no key. Against moto; test names
//! contain `moto` so nextest runs them one at a time.

use std::sync::Arc;

use axum::body::Body;
use http::{Request, StatusCode};
use qnet_app::links::LinkSigner;
use qnet_tests::moto;
use tower::ServiceExt;

async fn status(router: &axum::Router, path: &str) -> StatusCode {
    router.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.expect("an answer").status()
}

/// The API router as the Lambda builds it (functions/api/src/main.rs).
fn lambda_router(app: qnet_app::App, config: &qnet_aws::aws_config::SdkConfig, arn: &str) -> (axum::Router, Arc<LinkSigner>) {
    let app = app.with_link_signer(LinkSigner::deferred(qnet_aws::from_env::link_key_loader(config, arn)));
    let links = app.links.clone();
    let auth = Arc::new(qnet_api::Authenticator::Local(qnet_app::LocalTokens::new(&[1u8; 32])));
    (qnet_api::with_link_key_loaded(qnet_api::router(app, auth), links.clone()), links)
}

#[tokio::test]
async fn moto_link_key_is_read_by_arn_on_the_first_request_and_kept() {
    let config = moto::config().await;
    let secrets = qnet_aws::aws_sdk_secretsmanager::Client::new(&config);
    let key = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01";
    let created = secrets.create_secret().name("qnet-link-signing-key").secret_string(key).send().await.expect("CreateSecret");
    let arn = created.arn().expect("an ARN").to_string();
    let test_app = qnet_tests::spawn_app().await;

    let (router, links) = lambda_router(test_app.app.clone(), &config, &arn);
    assert_eq!(status(&router, "/health").await, StatusCode::OK);
    let far = 4_000_000_000;
    let token = links.sign("confirm-email", "member-1", far);
    assert_eq!(
        LinkSigner::new(key.as_bytes()).verify("confirm-email", &token, 1),
        Ok("member-1".into()),
        "links are signed with the secret's value"
    );

    // Kept: with the secret gone, the process still signs with the key it read.
    secrets.delete_secret().secret_id(&arn).force_delete_without_recovery(true).send().await.expect("DeleteSecret");
    assert_eq!(status(&router, "/health").await, StatusCode::OK);
    assert_eq!(links.verify("confirm-email", &links.sign("confirm-email", "member-2", far), 1), Ok("member-2".into()));

    // A key that cannot be read: 503 for the request, never a link signed without it.
    let (broken, _) = lambda_router(test_app.app.clone(), &config, &arn);
    let answer = broken.clone().oneshot(Request::get("/health").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers()["content-type"], "application/problem+json");
}
