//! Logs carry request ids, routes and outcomes, never tokens, email addresses or
//! the text people submit.

use std::io::Write;
use std::sync::{Arc, Mutex};

use qnet_domain::Role;
use qnet_tests::spawn_app;
use reqwest::Method;
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_hold_no_tokens_emails_or_submitted_text() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt().json().with_max_level(tracing::Level::TRACE).with_writer(move || writer.clone()).init();

    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let member = t.token("jo.bloggs@leedsth.nhs.uk", &[Role::Member]).await;
    let secret_text = "Ward 7 tested a falls bundle with Mrs Example";
    let cs = t.submit(&member, json!({"title": "Falls bundle", "body": secret_text})).await;
    let id = cs["id"].as_str().unwrap();
    t.get(&format!("/case-studies/{id}?cursor=abc"), Some(&member)).await;
    t.get("/me", Some("expired.or.forged.token")).await;
    t.send(Method::PATCH, "/me", Some(&member), Some(json!({"name": "Jo"})), &[]).await;
    t.post("/case-studies", Some(&member), json!({"title": "", "body": "x"})).await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("\"route\":\"/case-studies/{id}\""), "requests are logged by route template: {logs}");
    assert!(logs.contains("request_id"));
    for forbidden in [member.as_str(), "expired.or.forged.token", "jo.bloggs@leedsth.nhs.uk", secret_text, "Falls bundle"] {
        assert!(!logs.contains(forbidden), "the logs contain {forbidden:?}");
    }
}
