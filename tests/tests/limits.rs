//! Limits on what one member can set in motion (issue 15 item 2), over HTTP:
//! per-member rate limits (429 with Retry-After, nothing stored for the
//! refused request, the next window allows again) and the cap on open
//! mentoring requests (409, race-safe, freed by withdrawing or closing).

use qnet_app::limits::{BOOKINGS_PER_HOUR, CONFIRMATION_EMAILS_PER_HOUR, MENTORING_REQUESTS_PER_DAY, POSTS_PER_HOUR};
use qnet_app::mentoring::MAX_OPEN_MENTORING_REQUESTS;
use qnet_app::suppression::{SesNotice, SesNoticeKind};
use qnet_domain::Role;
use qnet_tests::{Answer, TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Half past the current hour: a moment well inside one hourly window.
fn half_past() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_minute(30).unwrap().replace_second(0).unwrap().replace_nanosecond(0).unwrap()
}

async fn network() -> (TestApp, String) {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    (t, org)
}

async fn member(t: &TestApp, email: &str) -> (String, String) {
    let tok = t.token(email, &[]).await;
    let me = t.get("/me", Some(&tok)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    (tok, me.body["id"].as_str().unwrap().to_string())
}

/// A 429 problem with a Retry-After that ends the window.
fn assert_limited(a: &Answer, at: OffsetDateTime, window: i64) {
    a.assert_problem(429);
    let retry: i64 = a.header("retry-after").expect("Retry-After").parse().expect("seconds");
    let now = at.unix_timestamp();
    assert_eq!(retry, window - now.rem_euclid(window), "Retry-After counts to the window's end");
}

#[tokio::test]
async fn posts_and_replies_are_limited_per_hour_and_the_next_hour_allows_again() {
    let (t, org) = network().await;
    let (ann, _) = member(&t, "ann@leedsth.nhs.uk").await;
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
    let pid = p.body["id"].as_str().unwrap();
    let at = half_past();
    let now = t.api_at(at).await;
    let first = now.post(&format!("/projects/{pid}/posts"), Some(&ann), json!({"body": "Post 1"})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let post_id = first.body["id"].as_str().unwrap().to_string();
    for i in 1..POSTS_PER_HOUR {
        // Replies count with posts.
        let path = if i % 2 == 0 { format!("/projects/{pid}/posts") } else { format!("/projects/{pid}/posts/{post_id}/replies") };
        let a = now.post(&path, Some(&ann), json!({"body": format!("Message {i}")})).await;
        assert_eq!(a.status, StatusCode::CREATED, "message {i}: {}", a.text);
    }
    let over = now.post(&format!("/projects/{pid}/posts"), Some(&ann), json!({"body": "One too many"})).await;
    assert_limited(&over, at, 3600);
    assert!(over.body["detail"].as_str().unwrap().contains("30 board posts and replies per hour"), "{}", over.text);
    let reply = now.post(&format!("/projects/{pid}/posts/{post_id}/replies"), Some(&ann), json!({"body": "And a reply"})).await;
    assert_limited(&reply, at, 3600);
    let board = now.get(&format!("/projects/{pid}/posts?limit=100"), Some(&ann)).await;
    let texts = board.text;
    assert!(!texts.contains("One too many") && !texts.contains("And a reply"), "nothing is stored for a refused post");
    // Another member is not limited by Ann's posts.
    let (bob, _) = member(&t, "bob@leedsth.nhs.uk").await;
    let b = now.post(&format!("/projects/{pid}/posts"), Some(&bob), json!({"body": "Bob's post"})).await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text);
    // The next hour allows again.
    let later = t.api_at(at + time::Duration::hours(1)).await;
    let a = later.post(&format!("/projects/{pid}/posts"), Some(&ann), json!({"body": "Next hour"})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
}

fn request() -> Value {
    json!({"kind": "mentoring", "topics": ["measurement"], "goals": "I want to get better at run charts.",
           "cross_organisation": "prefer", "availability": {"modes": ["online"]}})
}

#[tokio::test]
async fn a_member_holds_at_most_three_open_mentoring_requests_and_withdrawing_frees_a_slot() {
    let (t, _) = network().await;
    let (ann, _) = member(&t, "ann@leedsth.nhs.uk").await;
    let mut ids = vec![];
    for _ in 0..MAX_OPEN_MENTORING_REQUESTS {
        let a = t.post("/mentoring-requests", Some(&ann), request()).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        ids.push(a.body["id"].as_str().unwrap().to_string());
    }
    let fourth = t.post("/mentoring-requests", Some(&ann), request()).await;
    fourth.assert_problem(409);
    assert!(fourth.body["detail"].as_str().unwrap().contains("3 open mentoring requests"), "{}", fourth.text);
    let mine = t.get("/me/mentoring-requests", Some(&ann)).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 3, "nothing is stored for the fourth");
    let w = t.send(Method::DELETE, &format!("/mentoring-requests/{}", ids[0]), Some(&ann), None, &[]).await;
    assert_eq!(w.status, StatusCode::NO_CONTENT, "{}", w.text);
    // Withdrawing again frees nothing more.
    let w = t.send(Method::DELETE, &format!("/mentoring-requests/{}", ids[0]), Some(&ann), None, &[]).await;
    assert_eq!(w.status, StatusCode::NO_CONTENT, "{}", w.text);
    let a = t.post("/mentoring-requests", Some(&ann), request()).await;
    assert_eq!(a.status, StatusCode::CREATED, "a withdrawn request frees its slot: {}", a.text);
    t.post("/mentoring-requests", Some(&ann), request()).await.assert_problem(409);
    // Someone else has slots of their own.
    let (bob, _) = member(&t, "bob@leedsth.nhs.uk").await;
    assert_eq!(t.post("/mentoring-requests", Some(&bob), request()).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn ten_concurrent_mentoring_requests_make_exactly_three() {
    let (t, _) = network().await;
    let (ann, _) = member(&t, "ann@leedsth.nhs.uk").await;
    let mut tasks = vec![];
    for _ in 0..10 {
        let (client, url, tok) = (t.client.clone(), format!("{}/mentoring-requests", t.base), ann.clone());
        tasks
            .push(tokio::spawn(async move { client.post(url).bearer_auth(tok).json(&request()).send().await.unwrap().status() }));
    }
    let mut statuses = vec![];
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    assert_eq!(created, 3, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT), "{statuses:?}");
    let mine = t.get("/me/mentoring-requests", Some(&ann)).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn mentoring_requests_are_limited_per_day() {
    let (t, _) = network().await;
    let (ann, _) = member(&t, "ann@leedsth.nhs.uk").await;
    let at = half_past();
    let now = t.api_at(at).await;
    for i in 0..MENTORING_REQUESTS_PER_DAY {
        let a = now.post("/mentoring-requests", Some(&ann), request()).await;
        assert_eq!(a.status, StatusCode::CREATED, "request {i}: {}", a.text);
        let id = a.body["id"].as_str().unwrap();
        let w = now.send(Method::DELETE, &format!("/mentoring-requests/{id}"), Some(&ann), None, &[]).await;
        assert_eq!(w.status, StatusCode::NO_CONTENT, "{}", w.text);
    }
    let over = now.post("/mentoring-requests", Some(&ann), request()).await;
    assert_limited(&over, at, 24 * 3600);
    let mine = now.get("/me/mentoring-requests?limit=100", Some(&ann)).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len() as i64, MENTORING_REQUESTS_PER_DAY);
    let tomorrow = t.api_at(at + time::Duration::days(1)).await;
    assert_eq!(tomorrow.post("/mentoring-requests", Some(&ann), request()).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn bookings_are_limited_per_hour() {
    let (t, org) = network().await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let starts = (OffsetDateTime::now_utc() + time::Duration::days(20)).replace_nanosecond(0).unwrap();
    let mut events = vec![];
    for i in 0..=BOOKINGS_PER_HOUR + 1 {
        let a = t
            .post(
                "/events",
                Some(&organiser),
                json!({"kind": "workshop", "title": format!("Run charts {i}"), "description": "Bring your data.",
                       "starts_at": starts.format(&Rfc3339).unwrap(),
                       "ends_at": (starts + time::Duration::hours(2)).format(&Rfc3339).unwrap(),
                       "location": "Room 2, St James's, Leeds", "capacity": 10, "host_organisation_id": org,
                       "topics": ["measurement"]}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        events.push(a.body["id"].as_str().unwrap().to_string());
    }
    let (ann, _) = member(&t, "ann@leedsth.nhs.uk").await;
    let at = half_past();
    let now = t.api_at(at).await;
    for id in &events[..BOOKINGS_PER_HOUR as usize] {
        let a = now.post(&format!("/events/{id}/bookings"), Some(&ann), Value::Null).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    }
    // Booking again answers the booking the member has, and counts nothing.
    let again = now.post(&format!("/events/{}/bookings", events[0]), Some(&ann), Value::Null).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    let over = now.post(&format!("/events/{}/bookings", events[BOOKINGS_PER_HOUR as usize]), Some(&ann), Value::Null).await;
    assert_limited(&over, at, 3600);
    let mine = now.get("/me/bookings?limit=100", Some(&ann)).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len() as i64, BOOKINGS_PER_HOUR, "nothing stored for it");
    let later = t.api_at(at + time::Duration::hours(1)).await;
    let a = later.post(&format!("/events/{}/bookings", events[BOOKINGS_PER_HOUR as usize]), Some(&ann), Value::Null).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
}

#[tokio::test]
async fn confirmation_emails_are_limited_per_hour() {
    let (t, _) = network().await;
    let (ann, _) = member(&t, "ann@leedsth.nhs.uk").await;
    t.app
        .apply_ses_notices(&[SesNotice { kind: SesNoticeKind::Complaint, email: "ann@leedsth.nhs.uk".into(), detail: None }])
        .await
        .unwrap();
    let confirmations = |t: &TestApp| t.outbox_texts().iter().filter(|m| m.contains("Confirm your email address")).count();
    let at = half_past();
    let now = t.api_at(at).await;
    for _ in 0..CONFIRMATION_EMAILS_PER_HOUR {
        let a = now.post("/me/email/confirm", Some(&ann), Value::Null).await;
        assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text);
    }
    let over = now.post("/me/email/confirm", Some(&ann), Value::Null).await;
    assert_limited(&over, at, 3600);
    assert_eq!(confirmations(&t) as i64, CONFIRMATION_EMAILS_PER_HOUR, "nothing sent for it");
    let later = t.api_at(at + time::Duration::hours(1)).await;
    assert_eq!(later.post("/me/email/confirm", Some(&ann), Value::Null).await.status, StatusCode::ACCEPTED);
}
