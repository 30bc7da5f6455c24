//! On routes where login is optional, API Gateway passes requests through without
//! its authorizer and the function verifies a Cognito ID token itself against the
//! user pool's JWKS. Here a local JWKS server and a test-only RSA key stand in for
//! the user pool (tests/fixtures/cognito/README.md).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use qnet_api::{Authenticator, CognitoVerifier};
use qnet_domain::Role;
use qnet_tests::spawn_app;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt;

const AUDIENCE: &str = "5example0client0id0abcde";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/cognito/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn id_token(issuer: &str, overrides: Value) -> String {
    signed(issuer, overrides, "qnet-test-key-1", "test-signing-key.pem")
}

fn signed(issuer: &str, overrides: Value, kid: &str, pem: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut claims = json!({
        "sub": "5c1f0e2a-0000-4000-8000-00000000abcd", "email": "mod@leedsth.nhs.uk", "name": "Sam Moderator",
        "cognito:groups": ["moderator"], "token_use": "id", "email_verified": true, "aud": AUDIENCE, "iss": issuer,
        "iat": now, "exp": now + 3600, "auth_time": now
    });
    for (k, v) in overrides.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(claims.get("kid_override").and_then(|k| k.as_str()).unwrap_or(kid).to_string());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_pem(&fixture(pem)).unwrap()).unwrap()
}

async fn status(router: &axum::Router, path: &str, token: &str) -> u16 {
    let req =
        http::Request::get(path).header("authorization", format!("Bearer {token}")).body(axum::body::Body::empty()).unwrap();
    router.clone().oneshot(req).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn id_tokens_are_verified_against_the_user_pool_keys() {
    // The user pool's JWKS endpoint, counting fetches.
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let jwks = axum::Router::new().route(
        "/.well-known/jwks.json",
        get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { ([("content-type", "application/json")], fixture("jwks.json")) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, jwks).await.unwrap() });

    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let member = t.token("jo@leedsth.nhs.uk", &[Role::Member]).await;
    let id = t.submit(&member, json!({"title": "t", "body": "b"})).await["id"].as_str().unwrap().to_string();
    let path = format!("/case-studies/{id}");
    let router =
        qnet_api::router(t.app.clone(), Arc::new(Authenticator::Cognito(CognitoVerifier::new(issuer.clone(), AUDIENCE.into()))));

    // A moderator's ID token sees the pending case study: the identity got through.
    assert_eq!(status(&router, &path, &id_token(&issuer, json!({}))).await, 200);
    // The same person without the moderator group may not know it exists.
    assert_eq!(status(&router, &path, &id_token(&issuer, json!({"cognito:groups": []}))).await, 404);
    // Refused: an access token, an expired token, another app's token, another
    // issuer's token, an unknown key, and a token signed by someone else.
    assert_eq!(status(&router, &path, &id_token(&issuer, json!({"token_use": "access"}))).await, 401);
    assert_eq!(status(&router, &path, &id_token(&issuer, json!({"email_verified": false}))).await, 401);
    assert_eq!(status(&router, &path, &id_token(&issuer, json!({"exp": 1_600_000_000, "iat": 1_599_990_000}))).await, 401);
    assert_eq!(status(&router, &path, &id_token(&issuer, json!({"aud": "another-client"}))).await, 401);
    assert_eq!(
        status(&router, &path, &id_token(&issuer, json!({"iss": "https://cognito-idp.eu-west-1.amazonaws.com/other"}))).await,
        401
    );
    assert_eq!(status(&router, &path, &id_token(&issuer, json!({"kid_override": "rotated-away"}))).await, 401);
    let forged = t.token("mod@leedsth.nhs.uk", &[Role::Moderator]).await; // HS256, local key
    assert_eq!(status(&router, &path, &forged).await, 401);
    // Anonymous reading still works, and the keys were fetched once for the container.
    assert_eq!(status(&router, "/case-studies", &id_token(&issuer, json!({}))).await, 200);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

/// The user pool's JWKS endpoint: the old key only until the flag is set, then
/// (after the rotation) both. Answers the issuer and the count of fetches.
async fn rotating_pool() -> (String, Arc<AtomicUsize>, Arc<AtomicBool>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let rotated = Arc::new(AtomicBool::new(false));
    let (counter, switch) = (hits.clone(), rotated.clone());
    let jwks = axum::Router::new().route(
        "/.well-known/jwks.json",
        get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let name = if switch.load(Ordering::SeqCst) { "jwks-rotated.json" } else { "jwks.json" };
            async move { ([("content-type", "application/json")], fixture(name)) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, jwks).await.unwrap() });
    (issuer, hits, rotated)
}

/// A clock the test moves by hand.
struct HandClock(Mutex<OffsetDateTime>);

impl qnet_ports::Clock for HandClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_a_minute_at_most() {
    let (issuer, hits, rotated) = rotating_pool().await;

    let t = spawn_app().await;
    let clock = Arc::new(HandClock(Mutex::new(OffsetDateTime::now_utc())));
    let verifier = CognitoVerifier::new(issuer.clone(), AUDIENCE.into()).with_clock(clock.clone());
    let router = qnet_api::router(t.app.clone(), Arc::new(Authenticator::Cognito(verifier)));
    let new_key = || signed(&issuer, json!({}), "qnet-test-key-2", "rotated-signing-key.pem");

    assert_eq!(status(&router, "/me", &id_token(&issuer, json!({}))).await, 200);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // Unknown key ids within a minute of the fetch: refused, and the key set is
    // not fetched again for each of them.
    rotated.store(true, Ordering::SeqCst);
    *clock.0.lock().unwrap() += time::Duration::seconds(61);
    assert_eq!(status(&router, "/me", &id_token(&issuer, json!({"kid_override": "made-up-1"}))).await, 401);
    assert_eq!(hits.load(Ordering::SeqCst), 2, "an unknown key id a minute after the fetch fetches the keys again");
    *clock.0.lock().unwrap() += time::Duration::seconds(30);
    assert_eq!(status(&router, "/me", &id_token(&issuer, json!({"kid_override": "made-up-2"}))).await, 401);
    assert_eq!(status(&router, "/me", &id_token(&issuer, json!({"kid_override": "made-up-3"}))).await, 401);
    assert_eq!(hits.load(Ordering::SeqCst), 2, "unknown key ids within a minute cause one fetch only");
    // That refresh got the rotated set: the new key signs in, without a fetch.
    assert_eq!(status(&router, "/me", &new_key()).await, 200);
    assert_eq!(status(&router, "/me", &id_token(&issuer, json!({}))).await, 200, "the old key still verifies");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_token_signed_with_a_new_key_is_accepted_after_a_refresh() {
    let (issuer, hits, rotated) = rotating_pool().await;

    let t = spawn_app().await;
    let clock = Arc::new(HandClock(Mutex::new(OffsetDateTime::now_utc())));
    let verifier = CognitoVerifier::new(issuer.clone(), AUDIENCE.into()).with_clock(clock.clone());
    let router = qnet_api::router(t.app.clone(), Arc::new(Authenticator::Cognito(verifier)));
    let new_key = signed(&issuer, json!({}), "qnet-test-key-2", "rotated-signing-key.pem");

    assert_eq!(status(&router, "/me", &id_token(&issuer, json!({}))).await, 200);
    // The pool rotates; a token signed with the new key arrives within the minute
    // (refused: the set was just fetched), then after it (one fetch, accepted).
    rotated.store(true, Ordering::SeqCst);
    assert_eq!(status(&router, "/me", &new_key).await, 401);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    *clock.0.lock().unwrap() += time::Duration::minutes(2);
    assert_eq!(status(&router, "/me", &new_key).await, 200);
    assert_eq!(status(&router, "/me", &new_key).await, 200);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

/// `QNET_JWKS_URL`: an issuer whose own key set cannot be fetched (moto's, offline)
/// is verified against the configured URL, and the issuer claim is still checked.
#[tokio::test]
async fn the_key_set_comes_from_the_configured_jwks_url_when_given() {
    let jwks =
        axum::Router::new().route("/keys", get(|| async { ([("content-type", "application/json")], fixture("jwks.json")) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let jwks_url = format!("http://{}/keys", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, jwks).await.unwrap() });
    // Nothing listens at the issuer: fetching from it would fail.
    let issuer = "http://127.0.0.1:9/eu-west-2_Unreachable".to_string();

    let t = spawn_app().await;
    let config = qnet_app::config::ApiConfig::read(qnet_app::config::Reader::from_map(&std::collections::BTreeMap::from([
        ("QNET_TABLE_NAME".to_string(), "t".to_string()),
        ("QNET_BUCKET_NAME".to_string(), "b".to_string()),
        ("QNET_JWT_ISSUER".to_string(), "https://cognito-idp.eu-west-2.amazonaws.com/pool".to_string()),
        ("QNET_JWT_AUDIENCE".to_string(), AUDIENCE.to_string()),
        ("QNET_WEB_BASE_URL".to_string(), "https://qnet.example.nhs.uk".to_string()),
        ("QNET_PUBLIC_API_URL".to_string(), "https://api.qnet.example.nhs.uk".to_string()),
        ("QNET_MAIL_FROM".to_string(), "digest@example.nhs.uk".to_string()),
        ("QNET_LINK_SIGNING_KEY_ARN".to_string(), "arn:aws:secretsmanager:eu-west-2:1:secret:k".to_string()),
        ("QNET_BOARD_QUEUE_URL".to_string(), "https://sqs.eu-west-2.amazonaws.com/1/board".to_string()),
        ("QNET_JWKS_URL".to_string(), jwks_url.clone()),
    ])))
    .expect("a configuration with QNET_JWKS_URL");
    assert_eq!(config.jwks_url.as_deref(), Some(jwks_url.as_str()));

    let verifier = CognitoVerifier::new(issuer.clone(), AUDIENCE.into()).with_jwks_url(config.jwks_url);
    let router = qnet_api::router(t.app.clone(), Arc::new(Authenticator::Cognito(verifier)));
    assert_eq!(status(&router, "/me", &id_token(&issuer, json!({}))).await, 200, "verified with the configured key set");
    assert_eq!(status(&router, "/me", &id_token("https://elsewhere.example", json!({}))).await, 401, "the issuer still counts");
}
