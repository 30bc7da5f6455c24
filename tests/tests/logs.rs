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

/// A mail service that is down, quoting the address in its error as SES can.
struct Failing;

#[async_trait::async_trait]
impl qnet_ports::MailSender for Failing {
    async fn send(&self, mail: &qnet_ports::OutgoingMail) -> Result<String, qnet_ports::MailError> {
        Err(qnet_ports::MailError::Unavailable(format!("connection reset while sending to {}", mail.to.join(", "))))
    }
}

#[tokio::test]
async fn mail_service_errors_are_logged_by_kind_and_board_lines_have_one_message() {
    let captured = Captured::default();
    let writer = captured.clone();
    // This thread only (the server below runs on it), so it works beside the global subscriber.
    let subscriber =
        tracing_subscriber::fmt().json().with_max_level(tracing::Level::TRACE).with_writer(move || writer.clone()).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let ann = t.token("ann@leedsth.nhs.uk", &[Role::Member]).await;
    let bob = t.token("bob.follower@leedsth.nhs.uk", &[Role::Member]).await;
    let p = t
        .post(
            "/projects",
            Some(&ann),
            json!({"title": "Fewer falls", "aim": "Halve inpatient falls on wards 5 and 6 by March 2027",
                   "problem": "Falls rose.", "organisation_ids": [org], "team": [], "topics": [], "status": "active",
                   "started_on": "2026-01-05", "classification": "quality_improvement"}),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.text);
    let pid = p.body["id"].as_str().unwrap();
    assert_eq!(t.post(&format!("/projects/{pid}/follow"), Some(&bob), serde_json::Value::Null).await.status.as_u16(), 200);

    // The same app and store, with a mail service that refuses and names the address.
    let tokens = qnet_app::LocalTokens::new(&[7u8; 32]);
    let ann_id = t.app.member_id_for_email("ann@leedsth.nhs.uk").await.unwrap().unwrap();
    let claims = qnet_app::Claims::new(ann_id, "ann@leedsth.nhs.uk".into(), "ann".into(), vec![Role::Member]);
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    let token = tokens.sign(&claims, now, 600);
    let queue = Arc::new(qnet_app::digest::MemoryQueue::default());
    let app = t.app.clone().with_mailer(Arc::new(Failing), "projects@qnet.test").with_board_queue(queue.clone());
    let router = qnet_api::router(app.clone(), Arc::new(qnet_api::Authenticator::Local(tokens)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let a = t
        .client
        .post(format!("{base}/projects/{pid}/posts"))
        .bearer_auth(&token)
        .json(&json!({"body": "Huddle at 8am?"}))
        .send()
        .await
        .unwrap();
    // The request only enqueues; the worker meets the failing mail service.
    assert_eq!(a.status(), 201);
    let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
    record.message_id = Some("m1".into());
    record.body = queue.take().pop();
    let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
    event.records = vec![record];
    assert_eq!(qnet_board_notifier::handle(&app, event).await.batch_item_failures.len(), 1);
    let ok = t.post(&format!("/projects/{pid}/posts"), Some(&ann), json!({"body": "Second post"})).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    t.jobs_done().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("the mail service is unavailable"), "the kind is logged: {logs}");
    assert!(!logs.contains("bob.follower@"), "a log line quotes the mail service's error: {logs}");
    let board = logs.lines().find(|l| l.contains("board emails sent")).unwrap_or_else(|| panic!("no board line: {logs}"));
    assert_eq!(board.matches("\"message\":").count(), 1, "one message key: {board}");
}
