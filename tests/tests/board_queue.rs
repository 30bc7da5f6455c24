//! Follower emails for board posts go through a queue (issue 15 item 2): the
//! request only enqueues one job; the worker (`functions/board-notifier` in
//! AWS, the in-process queue locally) sends each follower one email, claimed
//! before it is sent, so a retried or duplicated job sends nothing twice, and
//! a record that may succeed later is reported as a batch item failure.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use qnet_app::digest::MemoryQueue;
use qnet_tests::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn member(t: &TestApp, email: &str) -> String {
    let tok = t.token(email, &[]).await;
    assert_eq!(t.get("/me", Some(&tok)).await.status, StatusCode::OK);
    tok
}

fn board_mails(t: &TestApp) -> Vec<String> {
    t.outbox_texts().into_iter().filter(|m| m.contains("From: \"Qnet projects\"")).collect()
}

fn event(records: &[(&str, &str)]) -> SqsEvent {
    let records = records
        .iter()
        .map(|(id, body)| {
            let mut m = SqsMessage::default();
            m.message_id = Some(id.to_string());
            m.body = Some(body.to_string());
            m
        })
        .collect();
    let mut e = SqsEvent::default();
    e.records = records;
    e
}

/// A project by Ann that Cat and Dan follow.
async fn board() -> (TestApp, String, String) {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let ann = member(&t, "ann@leedsth.nhs.uk").await;
    let p = t
        .post(
            "/projects",
            Some(&ann),
            json!({"title": "Fewer falls", "aim": "Halve falls", "problem": "Falls rose.", "organisation_ids": [org],
                   "topics": ["patient-safety"], "status": "active", "started_on": "2026-01-05",
                   "classification": "quality_improvement"}),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
    let pid = p.body["id"].as_str().unwrap().to_string();
    for who in ["cat@leedsth.nhs.uk", "dan@leedsth.nhs.uk"] {
        let tok = member(&t, who).await;
        assert_eq!(t.post(&format!("/projects/{pid}/follow"), Some(&tok), Value::Null).await.status, StatusCode::OK);
    }
    (t, pid, ann)
}

#[tokio::test]
async fn a_post_answers_before_any_email_and_the_worker_sends_each_follower_one() {
    let (t, pid, ann) = board().await;
    // The API with a queue that only holds what is put on it.
    let queue = Arc::new(MemoryQueue::default());
    let api = t.serving(t.app.clone().with_board_queue(queue.clone())).await;
    let post = api.post(&format!("/projects/{pid}/posts"), Some(&ann), json!({"body": "Huddle on Monday?"})).await;
    assert_eq!(post.status, StatusCode::CREATED, "{}", post.text);
    let post_id = post.body["id"].as_str().unwrap().to_string();
    t.jobs_done().await;
    assert!(board_mails(&t).is_empty(), "the request sends no email");
    let jobs = queue.take();
    assert_eq!(jobs.len(), 1, "one job per post: {jobs:?}");

    // The worker: one email per follower (not the author); the same job
    // delivered twice in a batch, then again later, sends nothing twice.
    let r = qnet_board_notifier::handle(&t.app, event(&[("m1", &jobs[0]), ("m2", &jobs[0]), ("m3", "not a job")])).await;
    let failed: Vec<&str> = r.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, vec!["m3"], "only the record that is not a job comes back");
    let mails = board_mails(&t);
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails.iter().any(|m| m.contains("cat@leedsth.nhs.uk")) && mails.iter().any(|m| m.contains("dan@leedsth.nhs.uk")));
    let r = qnet_board_notifier::handle(&t.app, event(&[("m4", &jobs[0])])).await;
    assert!(r.batch_item_failures.is_empty());
    assert_eq!(board_mails(&t).len(), 2, "a retried job sends nothing twice");

    // A reply is one job too.
    let reply = api.post(&format!("/projects/{pid}/posts/{post_id}/replies"), Some(&ann), json!({"body": "8am suits"})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let jobs = queue.take();
    assert_eq!(jobs.len(), 1);
    assert!(qnet_board_notifier::handle(&t.app, event(&[("m5", &jobs[0])])).await.batch_item_failures.is_empty());
    assert_eq!(board_mails(&t).len(), 4);
}

#[tokio::test]
async fn a_job_whose_emails_cannot_go_yet_is_a_batch_item_failure_and_sends_once_later() {
    let (t, pid, ann) = board().await;
    let queue = Arc::new(MemoryQueue::default());
    let api = t.serving(t.app.clone().with_board_queue(queue.clone())).await;
    let post = api.post(&format!("/projects/{pid}/posts"), Some(&ann), json!({"body": "Huddle on Monday?"})).await;
    assert_eq!(post.status, StatusCode::CREATED, "{}", post.text);
    let jobs = queue.take();
    // The mail service is down: the record comes back, nothing is sent.
    let down = t.app.clone().with_mailer(Arc::new(qnet_app::NoMail), &t.app.mail_from);
    let r = qnet_board_notifier::handle(&down, event(&[("m1", &jobs[0])])).await;
    let failed: Vec<&str> = r.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, vec!["m1"]);
    assert!(board_mails(&t).is_empty());
    // Redelivered once the service is back: each follower gets one email.
    let r = qnet_board_notifier::handle(&t.app, event(&[("m1", &jobs[0])])).await;
    assert!(r.batch_item_failures.is_empty());
    assert_eq!(board_mails(&t).len(), 2);
}

#[tokio::test]
async fn locally_the_in_process_queue_sends_after_the_post() {
    let (t, pid, ann) = board().await;
    let post = t.post(&format!("/projects/{pid}/posts"), Some(&ann), json!({"body": "Huddle on Monday?"})).await;
    assert_eq!(post.status, StatusCode::CREATED, "{}", post.text);
    t.jobs_done().await;
    assert_eq!(board_mails(&t).len(), 2);
}
