//! `qnet admin` on an empty system (embedded backend): the operator creates the
//! first organisation and invites the first admin, grants and revokes roles, and
//! the invited admin, signed in with no role of their own, creates a second
//! organisation through the API (the grant is merged into their claims).

use std::process::Command;
use std::sync::Arc;

use serde_json::{Value, json};
use tower::ServiceExt;

const BIN: &str = env!("CARGO_BIN_EXE_qnet");

fn qnet(dir: &str, args: &[&str]) -> Value {
    let out = Command::new(BIN).args(args).args(["--data-dir", dir]).env_remove("QNET_BACKEND").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "qnet {args:?} failed: {stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.trim().to_string()))
}

fn admin(dir: &str, args: &[&str]) -> Value {
    qnet(dir, &[&["admin"], args].concat())
}

#[tokio::test]
async fn first_day_on_an_empty_system() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_str().unwrap();
    assert_eq!(admin(d, &["organisations", "list"])["items"], json!([]), "an empty system");

    let org = admin(d, &["organisations", "create", "--name", "Leeds Teaching Hospitals", "--domain", "leedsth.nhs.uk"]);
    assert_eq!(org["email_domains"], json!(["leedsth.nhs.uk"]));
    let invited = admin(d, &["invite-admin", "First.Admin@Example.org"]);
    assert_eq!(invited["grant"]["email"], "first.admin@example.org");
    assert_eq!(invited["grant"]["role"], "admin");

    admin(d, &["roles", "grant", "sam@leedsth.nhs.uk", "moderator"]);
    let roles = |d| -> Vec<(String, String)> {
        admin(d, &["roles", "list"])["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (g["email"].as_str().unwrap().to_string(), g["role"].as_str().unwrap().to_string()))
            .collect()
    };
    assert_eq!(
        roles(d),
        vec![("first.admin@example.org".into(), "admin".into()), ("sam@leedsth.nhs.uk".into(), "moderator".into())]
    );
    admin(d, &["roles", "revoke", "sam@leedsth.nhs.uk", "moderator"]);
    assert_eq!(roles(d), vec![("first.admin@example.org".into(), "admin".into())]);
    let out =
        Command::new(BIN).args(["admin", "roles", "grant", "x@leedsth.nhs.uk", "overlord", "--data-dir", d]).output().unwrap();
    assert!(!out.status.success(), "a role that does not exist is refused");

    // The invited admin signs in (a token with no role) and creates a second
    // organisation through the API: the granted role counts.
    let token = qnet(d, &["token", "--email", "first.admin@example.org"]);
    let backend = qnet::backend::Backend::open_embedded(tmp.path(), "http://127.0.0.1:8080", Arc::new(qnet_ports::SystemClock))
        .expect("the embedded backend opens");
    let api = qnet_api::router(backend.app.clone(), Arc::new(qnet_api::Authenticator::Local(backend.tokens.clone())));
    let req = http::Request::post("/organisations")
        .header("authorization", format!("Bearer {}", token.as_str().unwrap()))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"name": "Leeds City Council", "type": "local_authority", "email_domains": ["leeds.gov.uk"]}).to_string(),
        ))
        .unwrap();
    let answer = api.oneshot(req).await.unwrap();
    assert_eq!(answer.status(), 201, "the invited admin creates an organisation");
    let names: Vec<String> = admin(d, &["organisations", "list"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Leeds City Council", "Leeds Teaching Hospitals"]);
}
