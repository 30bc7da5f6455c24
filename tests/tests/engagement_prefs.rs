//! Issue 21's shared rules, through HTTP and the store: "Ask me about" and the
//! engagement switches in `PATCH /me`, the experts index they keep, the
//! one-click opt-out that turns off one kind of email only (by link and by
//! mail), and the one-email-a-week cap.

use qnet_app::engagement::{EmailKind, UnsubscribeTarget};
use qnet_tests::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

async fn member(t: &TestApp, email: &str) -> (String, String) {
    let tok = t.token(email, &[]).await;
    let me = t.get("/me", Some(&tok)).await;
    assert_eq!(me.status, StatusCode::OK);
    (tok, me.body["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn ask_me_about_and_the_switches_are_saved_and_indexed() {
    let t = spawn_app().await;
    let (ann, ann_id) = member(&t, "ann@leedsth.nhs.uk").await;
    let (_bob, bob_id) = member(&t, "bob@leedsth.nhs.uk").await;
    let me = t.get("/me", Some(&ann)).await.body;
    assert_eq!(me["ask_me_about"], json!([]));
    assert_eq!(
        me["engagement"],
        json!({"questions": true, "expert_questions": true, "project_reminders": true, "welcome": true, "author_updates": true}),
        "every kind starts on"
    );
    let v = me["version"].as_u64().unwrap();
    let a = t
        .patch("/me", &ann, v, json!({"ask_me_about": ["flow", "patient-safety", "flow"], "engagement": {"welcome": false}}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["ask_me_about"], json!(["flow", "patient-safety"]));
    assert_eq!(a.body["engagement"]["welcome"], json!(false));
    assert_eq!(a.body["engagement"]["questions"], json!(true), "switches not named stay as they were");
    assert_eq!(t.app.experts_for_topics(&["flow".into()]).await.unwrap(), vec![ann_id.clone()]);
    assert!(!t.app.experts_for_topics(&["flow".into()]).await.unwrap().contains(&bob_id), "only who opted in");

    // Dropping a topic leaves the index; bad input is refused whole and changes nothing.
    let v = a.body["version"].as_u64().unwrap();
    let a = t.patch("/me", &ann, v, json!({"ask_me_about": ["patient-safety"]})).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(t.app.experts_for_topics(&["flow".into()]).await.unwrap().is_empty());
    let v = a.body["version"].as_u64().unwrap();
    let eleven: Vec<String> = (0..11).map(|_| "flow".to_string()).collect();
    for (bad, field) in [
        (json!({"ask_me_about": ["no-such-topic"]}), "ask_me_about[0]"),
        (json!({"ask_me_about": eleven}), "ask_me_about"),
        (json!({"engagement": {"welcome": "no"}}), "engagement.welcome"),
        (json!({"engagement": {"pigeons": true}}), "engagement.pigeons"),
    ] {
        let r = t.patch("/me", &ann, v, bad.clone()).await;
        r.assert_problem(422);
        assert!(r.problem_fields().iter().any(|f| f == field), "{bad}: {:?}", r.problem_fields());
    }
    assert_eq!(t.get("/me", Some(&ann)).await.body["version"].as_u64().unwrap(), v, "nothing changed");

    // Erasure takes the member out of the index.
    let r = t.send(reqwest::Method::DELETE, "/me", Some(&ann), None, &[]).await;
    assert!(r.status.is_success(), "{}", r.text);
    assert!(t.app.experts_for_topics(&["patient-safety".into()]).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_opt_out_link_turns_off_its_kind_only_by_link_or_by_mail() {
    let t = spawn_app().await;
    let (ann, ann_id) = member(&t, "ann@leedsth.nhs.uk").await;
    let (write, headers) = t.app.opt_out_headers(&ann_id, EmailKind::ProjectReminders);
    t.app.records.transact(vec![write]).await.unwrap();
    assert_eq!(headers[1], ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_string()));
    let url = headers[0].1.split(['<', '>']).nth(1).unwrap().to_string();
    let token = url.rsplit('/').next().unwrap().to_string();
    assert!(url.starts_with(&t.base), "links go to the configured API: {url}");
    assert!(headers[0].1.contains(&format!("mailto:unsubscribe+{token}@")));
    assert_eq!(t.app.unsubscribe_target(&token).await.unwrap(), Some(UnsubscribeTarget::Emails(EmailKind::ProjectReminders)));

    let page = t.get(&format!("/unsubscribe/{token}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("reminders to add your project"), "{}", page.text);
    assert_eq!(t.get("/me", Some(&ann)).await.body["engagement"]["project_reminders"], json!(true), "a GET changes nothing");
    let post = t
        .client
        .post(format!("{}/unsubscribe/{token}", t.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::OK);
    let me = t.get("/me", Some(&ann)).await.body;
    assert_eq!(me["engagement"]["project_reminders"], json!(false));
    assert_eq!(me["engagement"]["questions"], json!(true), "other kinds stay on");
    assert!(me["digest"].get("unsubscribed_at").is_none(), "the digest stays");

    // By mail: unsubscribe+TOKEN@ turns off the welcome only.
    let (write, headers) = t.app.opt_out_headers(&ann_id, EmailKind::Welcome);
    t.app.records.transact(vec![write]).await.unwrap();
    let mailto = headers[0].1.split("mailto:").nth(1).unwrap().trim_end_matches('>').to_string();
    let raw = format!(
        "From: ann <ann@leedsth.nhs.uk>\r\nTo: {mailto}\r\nSubject: unsubscribe\r\nMessage-ID: <u2@leedsth.nhs.uk>\r\nDate: Mon, 7 Dec 2026 09:00:00 +0000\r\n\r\n\r\n"
    );
    let inbound = qnet_app::ingest::Inbound::local(raw.into_bytes(), qnet_mail::Verdicts::default());
    let opts = qnet_app::ingest::IngestOptions { dry_run: false, mail_from: "case-studies@qnet.test".into() };
    let ob = qnet_embedded::Outbox::open(&t.data_dir).unwrap();
    let report = t.app.ingest(&inbound, &opts, &ob).await.unwrap();
    assert_eq!(report.reason.as_deref(), Some("unsubscribed"), "{report:?}");
    let me = t.get("/me", Some(&ann)).await.body;
    assert_eq!(me["engagement"]["welcome"], json!(false));
    assert_eq!(me["engagement"]["author_updates"], json!(true));
}

#[tokio::test]
async fn one_engagement_email_a_week_whoever_asks_first() {
    let t = spawn_app().await;
    let (_ann, ann_id) = member(&t, "ann@leedsth.nhs.uk").await;
    let monday = time::macros::datetime!(2026-12-07 08:00 UTC);
    let app = t.at(monday);
    assert!(!app.weekly_slot_taken(&ann_id).await.unwrap());
    assert!(app.claim_weekly_slot(&ann_id).await.unwrap(), "the week's first takes it");
    assert!(app.weekly_slot_taken(&ann_id).await.unwrap());
    assert!(!t.at(monday + time::Duration::days(6)).claim_weekly_slot(&ann_id).await.unwrap(), "Sunday: still taken");
    assert!(t.at(monday + time::Duration::days(7)).claim_weekly_slot(&ann_id).await.unwrap(), "next Monday: free again");
    app.release_weekly_slot(&ann_id).await.unwrap();
    assert!(app.claim_weekly_slot(&ann_id).await.unwrap(), "a released slot can be taken again");
}
