//! Every Lambda entry point, fed a real event shape from `tests/fixtures/events/`
//! (API Gateway HTTP API v2 with and without the JWT authorizer, Cognito
//! pre-sign-up, S3 ObjectCreated), through the same handler the binary runs.

use std::sync::Arc;

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPreSignup;
use aws_lambda_events::event::s3::S3Event;
use qnet_api::{Authenticator, CognitoVerifier};
use qnet_app::uploads::CheckOutcome;
use qnet_domain::Role;
use qnet_tests::spawn_app;
use serde_json::{Value, json};
use tower::ServiceExt;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture exists")
}

/// The router as the Lambda builds it: Cognito verification for bearer tokens
/// (never reached here: these requests carry authorizer claims or no token).
fn lambda_router(app: qnet_app::App) -> axum::Router {
    let auth = Authenticator::Cognito(CognitoVerifier::new(
        "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_Example1".into(),
        "5example0client0id0abcde".into(),
    ));
    qnet_api::router(app, Arc::new(auth))
}

async fn call(router: axum::Router, event: &str) -> (u16, http::HeaderMap, Value) {
    let req = lambda_http::request::from_str(event).expect("a valid API Gateway event");
    let resp = router.oneshot(req).await.expect("the router answers");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn api_gateway_authorizer_claims_reach_the_handlers() {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let router = lambda_router(t.app.clone());

    let (status, headers, me) = call(router.clone(), &fixture("apigw-v2-get-me.json")).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["id"], "8f2c1d3e-0000-4000-8000-1234567890ab");
    assert_eq!(me["email"], "jo.bloggs@leedsth.nhs.uk");
    assert_eq!(me["organisation_id"], org.as_str());
    // The API Gateway request id is the log and response request id.
    assert_eq!(headers["x-request-id"], "JnIxYhAoLPEEJbA=");

    let (status, headers, cs) = call(router.clone(), &fixture("apigw-v2-post-case-study.json")).await;
    assert_eq!(status, 201, "{cs}");
    assert!(headers["location"].to_str().unwrap().starts_with("/case-studies/"));
    assert_eq!(cs["submitted_by"]["name"], "Jo Bloggs");
    // A retried event (same Idempotency-Key) creates nothing new.
    let (status, _, again) = call(router.clone(), &fixture("apigw-v2-post-case-study.json")).await;
    assert_eq!(status, 201);
    assert_eq!(again["id"], cs["id"]);

    // "[moderator]" in the claims makes the caller a moderator.
    let id = cs["id"].as_str().unwrap();
    let mut publish: Value = serde_json::from_str(&fixture("apigw-v2-get-me.json")).unwrap();
    publish["rawPath"] = json!(format!("/case-studies/{id}/publish"));
    publish["requestContext"]["http"]["method"] = json!("POST");
    publish["requestContext"]["http"]["path"] = publish["rawPath"].clone();
    let (status, _, published) = call(router.clone(), &publish.to_string()).await;
    assert_eq!(status, 200, "{published}");
    // Without the moderator group the same request is refused.
    publish["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = json!("[]");
    let (status, _, _) = call(router.clone(), &publish.to_string()).await;
    assert_eq!(status, 403);
    // An unverified email, or an access token (no email), is no identity at all.
    publish["requestContext"]["authorizer"]["jwt"]["claims"]["email_verified"] = json!("false");
    assert_eq!(call(router.clone(), &publish.to_string()).await.0, 401);
    publish["requestContext"]["authorizer"]["jwt"]["claims"]["email_verified"] = json!("true");
    publish["requestContext"]["authorizer"]["jwt"]["claims"]["token_use"] = json!("access");
    assert_eq!(call(router.clone(), &publish.to_string()).await.0, 401);

    let (status, _, list) = call(router, &fixture("apigw-v2-list-case-studies-anonymous.json")).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["id"], cs["id"]);
}

#[tokio::test]
async fn pre_signup_admits_known_domains_only() {
    let t = spawn_app().await;
    let event: CognitoEventUserPoolsPreSignup = serde_json::from_str(&fixture("cognito-pre-signup.json")).unwrap();
    let refused = qnet_pre_signup::handle(&t.app, event.clone()).await.unwrap_err();
    assert!(refused.to_string().contains("work email"));
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let admitted = qnet_pre_signup::handle(&t.app, event).await.unwrap();
    assert_eq!(admitted.request.user_attributes["email"], "jo.bloggs@leedsth.nhs.uk");
}

#[tokio::test]
async fn attachment_check_marks_uploads_from_the_s3_event() {
    use sha2::{Digest, Sha256};
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let member = t.token("jo@leedsth.nhs.uk", &[Role::Member]).await;
    let cs = t.submit(&member, json!({"title": "t", "body": "b"})).await;
    let cs_id = cs["id"].as_str().unwrap();
    let bytes = b"Week,Falls\n1,4\n2,3\n3,2\n".to_vec();
    let declared = t
        .post(&format!("/case-studies/{cs_id}/attachments"), Some(&member), json!({"filename": "falls.csv", "content_type": "text/csv", "size": bytes.len(), "sha256": hex::encode(Sha256::digest(&bytes))}))
        .await;
    let att_id = declared.body["attachment"]["id"].as_str().unwrap();
    // The bytes land in the store the way S3 would hold them, then the event arrives.
    let key = format!("uploads/{cs_id}/{att_id}");
    t.app.blobs.put(&key, bytes, "text/csv").await.unwrap();
    let raw = fixture("s3-object-created.json").replace("__CASE_STUDY__", cs_id).replace("__ATTACHMENT__", att_id);
    let event: S3Event = serde_json::from_str(&raw).unwrap();
    assert_eq!(qnet_attachment_check::handle(&t.app, event.clone()).await.unwrap(), vec![CheckOutcome::Ready]);
    // S3 delivers at least once: the retry does nothing.
    assert_eq!(qnet_attachment_check::handle(&t.app, event).await.unwrap(), vec![CheckOutcome::Ignored("already checked")]);
    let view = t.get(&format!("/case-studies/{cs_id}"), Some(&member)).await;
    assert_eq!(view.body["attachments"][0]["status"], "ready");
    assert!(t.app.blobs.head(&format!("attachments/{cs_id}/{att_id}")).await.unwrap().is_some());
    assert!(t.app.blobs.head(&key).await.unwrap().is_none(), "the upload is removed once checked");
}
