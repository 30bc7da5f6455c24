//! Engagement, part 2: the "For you" lines and the weekly nudges, end to end on
//! the embedded store. Members, projects and case studies are made over HTTP
//! on an API stopped at fixed moments; the pass runs through `App::run_engagement`
//! (and the function's handler in `lambda_events.rs`) at fixed Mondays, and
//! what went out is read from the outbox. Nothing here depends on today's date.

use qnet_app::digest::{Digest, DigestSettings};
use qnet_app::reads::ReadKind;
use qnet_tests::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

/// A Wednesday in ISO week 2026-W47.
const WED_W47: OffsetDateTime = datetime!(2026-11-18 10:00 UTC);
/// The Mondays after it: the nudges of W48's Monday cover W47.
const MON_W48: OffsetDateTime = datetime!(2026-11-23 07:30 UTC);
const MON_W49: OffsetDateTime = datetime!(2026-11-30 07:30 UTC);

/// A member who signs in at `api`'s moment, on `cadence`; answers (token, id).
async fn member(t: &TestApp, api: &TestApp, email: &str, cadence: &str) -> (String, String) {
    let tok = t.token(email, &[]).await;
    let me = api.get("/me", Some(&tok)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    if cadence != "weekly" {
        let v = me.body["version"].as_u64().unwrap();
        let a = api.patch("/me", &tok, v, json!({"digest": {"cadence": cadence}})).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }
    (tok, me.body["id"].as_str().unwrap().to_string())
}

/// The messages in the outbox to `email` that contain `mark`, unfolded.
fn mails(t: &TestApp, email: &str, mark: &str) -> Vec<String> {
    t.outbox_texts()
        .into_iter()
        .map(|m| m.replace("=\r\n", "").replace("=E2=80=9C", "\u{201c}").replace("=E2=80=9D", "\u{201d}"))
        .filter(|m| m.contains(&format!("<{email}>")) && m.contains(mark))
        .collect()
}

fn nudges(t: &TestApp, email: &str) -> Vec<String> {
    mails(t, email, "Subject: Your week in Qnet")
}

fn digests(t: &TestApp, email: &str) -> Vec<String> {
    mails(t, email, "List-Id: Qnet digest")
}

fn settings(t: &TestApp) -> DigestSettings {
    DigestSettings {
        from: "digest@qnet.test".into(),
        web_base_url: "https://qnet.example.nhs.uk".into(),
        api_base_url: t.base.clone(),
        inbound_domain: "qnet.test".into(),
        max_per_second: None,
    }
}

/// The digest due at `now`, sent as the deployed functions send it.
async fn digest_at(t: &TestApp, now: OffsetDateTime) {
    let app = t.at(now);
    Digest::new(settings(t)).run_local(&app, &*app.mailer, now, false).await.unwrap();
}

async fn engagement_at(t: &TestApp, now: OffsetDateTime) -> qnet_app::engagement::EngagementReport {
    t.at(now).run_engagement(now).await.unwrap()
}

#[tokio::test]
async fn a_new_member_is_welcomed_once_in_the_digest_or_in_one_email() {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let api = t.api_at(WED_W47).await;
    // Ann turned the digest off; Bob keeps the weekly digest; Cat is monthly
    // (not due in late November).
    member(&t, &api, "ann@leedsth.nhs.uk", "off").await;
    member(&t, &api, "bob@leedsth.nhs.uk", "weekly").await;
    member(&t, &api, "cat@leedsth.nhs.uk", "monthly").await;

    // The digest goes first on Monday (07:00), then the pass (07:30).
    digest_at(&t, MON_W48).await;
    let bob = digests(&t, "bob@leedsth.nhs.uk");
    assert_eq!(bob.len(), 1, "a welcome alone makes a digest worth sending");
    assert!(bob[0].contains("FOR YOU") && bob[0].contains("Welcome to Qnet: three things to do"), "{}", bob[0]);
    assert!(bob[0].contains("1 thing for you"), "the subject counts it: {}", bob[0]);

    let report = engagement_at(&t, MON_W48).await;
    assert_eq!(report.nudge_week.as_deref(), Some("weekly-2026-W47"));
    assert_eq!((report.nudges_sent, report.in_digest), (2, 1), "{report:?}");
    assert!(nudges(&t, "bob@leedsth.nhs.uk").is_empty(), "Bob had his lines in the digest: no email as well");
    for who in ["ann@leedsth.nhs.uk", "cat@leedsth.nhs.uk"] {
        let n = nudges(&t, who);
        assert_eq!(n.len(), 1, "{who}");
        assert!(n[0].contains("Welcome to Qnet: three things to do"), "{}", n[0]);
        assert!(n[0].contains("Start a project, or follow one"), "{}", n[0]);
        assert!(n[0].contains("List-Unsubscribe: <") && n[0].contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    }

    // A re-run of the day, and next Monday (still within 14 days of joining):
    // nothing again, in the email or in the digest.
    let again = engagement_at(&t, MON_W48).await;
    assert_eq!((again.nudges_sent, again.already_sent), (0, 2), "{again:?}");
    digest_at(&t, MON_W49).await;
    engagement_at(&t, MON_W49).await;
    assert_eq!(nudges(&t, "ann@leedsth.nhs.uk").len(), 1);
    assert_eq!(nudges(&t, "cat@leedsth.nhs.uk").len(), 1);
    assert!(digests(&t, "bob@leedsth.nhs.uk").iter().skip(1).all(|d| !d.contains("Welcome to Qnet")));
    // Only Mondays nudge.
    let tuesday = engagement_at(&t, datetime!(2026-11-24 07:30 UTC)).await;
    assert_eq!(tuesday.nudge_week, None);
}

#[tokio::test]
async fn a_quiet_project_is_asked_for_its_latest_once_per_quiet_stretch() {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let started = datetime!(2026-09-16 10:00 UTC);
    let api = t.api_at(started).await;
    let (ann, _) = member(&t, &api, "ann@leedsth.nhs.uk", "off").await;
    let p = api
        .post(
            "/projects",
            Some(&ann),
            json!({"title": "Falls on ward 5", "aim": "Halve inpatient falls on ward 5 by March", "organisation_ids": [org],
                   "status": "active"}),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
    let pid = p.body["id"].as_str().unwrap().to_string();
    let done = api
        .post(
            "/projects",
            Some(&ann),
            json!({"title": "Finished work", "aim": "Done", "organisation_ids": [org], "status": "completed"}),
        )
        .await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.text);

    // Seven weeks and five days on: not yet quiet for eight weeks.
    let early = datetime!(2026-11-09 07:30 UTC);
    assert_eq!(engagement_at(&t, early).await.nudges_sent, 0);
    // Nine weeks and five days on: asked, once.
    engagement_at(&t, MON_W48).await;
    let n = nudges(&t, "ann@leedsth.nhs.uk");
    assert_eq!(n.len(), 1);
    assert!(n[0].contains("Falls on ward 5: what is your latest?") && n[0].contains("Nothing new since 2026-09-16"), "{}", n[0]);
    assert!(n[0].contains(&format!("/projects/{pid}")));
    assert!(!n[0].contains("Finished work"), "a completed project is not nagged");
    engagement_at(&t, MON_W49).await;
    assert_eq!(nudges(&t, "ann@leedsth.nhs.uk").len(), 1, "the same quiet stretch is asked about once");

    // A PDSA cycle on 1 December ends the stretch; eight weeks later a new one is asked about.
    let pdsa = t
        .api_at(datetime!(2026-12-01 10:00 UTC))
        .await
        .post(&format!("/projects/{pid}/pdsa"), Some(&ann), json!({"plan": "Try a falls huddle at 8am"}))
        .await;
    assert_eq!(pdsa.status, StatusCode::CREATED, "{}", pdsa.text);
    engagement_at(&t, datetime!(2027-01-18 07:30 UTC)).await;
    assert_eq!(nudges(&t, "ann@leedsth.nhs.uk").len(), 1, "seven weeks after the cycle: not quiet");
    engagement_at(&t, datetime!(2027-02-01 07:30 UTC)).await;
    let n = nudges(&t, "ann@leedsth.nhs.uk");
    assert_eq!(n.len(), 2);
    assert!(n.iter().any(|m| m.contains("Nothing new since 2026-12-01")), "{n:?}");
}

#[tokio::test]
async fn reads_are_counted_without_the_author_and_reach_the_author_as_a_number() {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let joined = datetime!(2026-06-01 10:00 UTC);
    let (dan, _) = member(&t, &t.api_at(joined).await, "dan@leedsth.nhs.uk", "off").await;
    let (eve, _) = member(&t, &t.api_at(joined).await, "eve@leedsth.nhs.uk", "off").await;
    let cs = t
        .submit(
            &dan,
            json!({"title": "Fewer falls on ward 5", "body": "We tested hourly rounding.", "topics": ["patient-safety"],
                   "sections": {"aim": "Halve falls", "results": "Falls fell from 12 to 5 a month."}}),
        )
        .await;
    let id = cs["id"].as_str().unwrap().to_string();
    let path = format!("/case-studies/{id}");
    // Pending: reads do not count.
    let w47 = t.api_at(WED_W47).await;
    assert_eq!(w47.get(&path, Some(&dan)).await.status, StatusCode::OK);
    assert_eq!(t.publish(&id).await.status, StatusCode::OK);
    // Two anonymous reads and one by Eve count; the author's own do not.
    for tok in [None, None, Some(eve.as_str()), Some(dan.as_str()), Some(dan.as_str())] {
        assert_eq!(w47.get(&path, tok).await.status, StatusCode::OK);
    }
    assert_eq!(t.app.reads(ReadKind::CaseStudy, &id, "2026-W47").await.unwrap(), 3);
    // Eve's team is trying it (issue 22): the author hears the count, never who.
    let adopted = w47.post(&format!("{path}/adoptions"), Some(&eve), json!({})).await;
    assert_eq!(adopted.status, StatusCode::CREATED, "{}", adopted.text);
    assert_eq!(t.app.reads(ReadKind::CaseStudy, &id, "2026-W48").await.unwrap(), 0, "weeks are counted apart");
    // A resource counts the same way.
    let r = w47
        .post(
            "/resources",
            Some(&dan),
            json!({"title": "Falls toolkit", "description": "A toolkit for preventing falls on wards.", "kind": "tool",
                  "topics": ["patient-safety"], "url": "https://example.org/falls"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let rid = r.body["id"].as_str().unwrap().to_string();
    let m = t.token("moderator@qnet.test", &[qnet_domain::Role::Moderator]).await;
    let published = t.moderate(&format!("/resources/{rid}/publish"), Some(&m), Value::Null).await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text);
    assert_eq!(w47.get(&format!("/resources/{rid}"), Some(&eve)).await.status, StatusCode::OK);
    assert_eq!(t.app.reads(ReadKind::Resource, &rid, "2026-W47").await.unwrap(), 1);

    engagement_at(&t, MON_W48).await;
    let n = nudges(&t, "dan@leedsth.nhs.uk");
    assert_eq!(n.len(), 1);
    assert!(
        n[0].contains("\u{201c}Fewer falls on ward 5\u{201d} was read 3 times last week, and 1 team is trying it (1 new)"),
        "{}",
        n[0]
    );
    assert!(n[0].contains("\u{201c}Falls toolkit\u{201d} was read once last week"), "{}", n[0]);
    assert!(!n[0].contains("eve"), "never who read it");
    assert!(nudges(&t, "eve@leedsth.nhs.uk").is_empty(), "Eve published nothing and joined long ago");
}

#[tokio::test]
async fn one_email_a_week_whatever_asks() {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let api = t.api_at(WED_W47).await;
    let (_, ann) = member(&t, &api, "ann@leedsth.nhs.uk", "off").await;
    let (_, bob) = member(&t, &api, "bob@leedsth.nhs.uk", "off").await;
    // Another engagement email already took Ann's slot this week.
    assert!(t.at(MON_W48).claim_weekly_slot(&ann).await.unwrap());
    let dry = t.at(MON_W48).preview_engagement(MON_W48).await.unwrap();
    assert_eq!((dry.nudges_sent, dry.capped), (1, 1), "{dry:?}");
    assert!(t.outbox_texts().is_empty(), "a dry run sends nothing");
    let report = engagement_at(&t, MON_W48).await;
    assert_eq!((report.nudges_sent, report.capped), (1, 1), "{report:?}");
    assert!(nudges(&t, "ann@leedsth.nhs.uk").is_empty());
    assert_eq!(nudges(&t, "bob@leedsth.nhs.uk").len(), 1);
    // Bob's slot is now taken too: nothing else may reach him this week.
    assert!(!t.at(MON_W48).claim_weekly_slot(&bob).await.unwrap());
}

#[tokio::test]
async fn each_kind_turned_off_sends_nothing_of_that_kind() {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let api = t.api_at(datetime!(2026-09-16 10:00 UTC)).await;
    let (ann, _) = member(&t, &api, "ann@leedsth.nhs.uk", "off").await;
    let p = api
        .post("/projects", Some(&ann), json!({"title": "Falls on ward 5", "aim": "Halve falls", "organisation_ids": [org]}))
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
    // Ann's project is quiet by 23 November; Bob and Cat are new that week.
    let w47 = t.api_at(WED_W47).await;
    let (bob, _) = member(&t, &w47, "bob@leedsth.nhs.uk", "off").await;
    let (cat, _) = member(&t, &w47, "cat@leedsth.nhs.uk", "weekly").await;
    for (tok, switch) in [(&ann, "project_reminders"), (&bob, "welcome"), (&cat, "welcome")] {
        let v = w47.get("/me", Some(tok)).await.body["version"].as_u64().unwrap();
        let a = w47.patch("/me", tok, v, json!({"engagement": {switch: false}})).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }
    digest_at(&t, MON_W48).await;
    let report = engagement_at(&t, MON_W48).await;
    assert_eq!(report.nudges_sent, 0, "{report:?}");
    assert!(nudges(&t, "ann@leedsth.nhs.uk").is_empty() && nudges(&t, "bob@leedsth.nhs.uk").is_empty());
    assert!(digests(&t, "cat@leedsth.nhs.uk").iter().all(|d| !d.contains("Welcome to Qnet")), "nor in the digest");

    // Turned on again, the welcome comes; its one-click link turns off the welcome only.
    let v = w47.get("/me", Some(&bob)).await.body["version"].as_u64().unwrap();
    w47.patch("/me", &bob, v, json!({"engagement": {"welcome": true}})).await;
    engagement_at(&t, MON_W48).await;
    let n = nudges(&t, "bob@leedsth.nhs.uk");
    assert_eq!(n.len(), 1);
    let h = n[0].split("List-Unsubscribe: <").nth(1).unwrap();
    let url = h.split('>').next().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/unsubscribe/", t.base)), "{url}");
    let posted = t
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_success(), "{}", posted.status());
    let me = t.get("/me", Some(&bob)).await.body;
    assert_eq!(me["engagement"]["welcome"], json!(false));
    assert_eq!(me["engagement"]["author_updates"], json!(true), "other kinds stay on");
}

/// A published case study on patient safety by `author`; answers its id.
async fn published_case_study(t: &TestApp, author: &str, title: &str) -> String {
    let cs = t
        .submit(
            author,
            json!({"title": title, "body": "We tested hourly rounding.", "topics": ["patient-safety"],
                   "sections": {"aim": "Halve falls", "results": "Falls fell from 12 to 5 a month."}}),
        )
        .await;
    let id = cs["id"].as_str().unwrap().to_string();
    assert_eq!(t.publish(&id).await.status, StatusCode::OK);
    id
}

/// `who` asks a question on the case study at `api`'s moment; answers its id.
async fn ask(api: &TestApp, who: &str, case_study: &str) -> String {
    let q = api
        .post(
            &format!("/case-studies/{case_study}/questions"),
            Some(who),
            json!({"body": "How did you staff the hourly rounds at night?"}),
        )
        .await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.text);
    q.body["id"].as_str().unwrap().to_string()
}

async fn set_me(api: &TestApp, tok: &str, body: Value) {
    let v = api.get("/me", Some(tok)).await.body["version"].as_u64().unwrap();
    let a = api.patch("/me", tok, v, body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
}

fn asked(t: &TestApp, email: &str) -> Vec<String> {
    mails(t, email, "Could you help?")
}

#[tokio::test]
async fn unanswered_questions_go_to_five_opted_in_experts_least_asked_first_once() {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let api = t.api_at(datetime!(2026-11-02 10:00 UTC)).await;
    let (dan, _) = member(&t, &api, "dan@leedsth.nhs.uk", "off").await;
    let (eve, _) = member(&t, &api, "eve@leedsth.nhs.uk", "off").await;
    // Seven experts; Dan (the author) and Eve (the asker) chose the topic too.
    for who in ["e1", "e2", "e3", "e4", "e5", "e6", "e7"] {
        let (tok, _) = member(&t, &api, &format!("{who}@leedsth.nhs.uk"), "off").await;
        set_me(&api, &tok, json!({"ask_me_about": ["patient-safety"]})).await;
    }
    for tok in [&dan, &eve] {
        set_me(&api, tok, json!({"ask_me_about": ["patient-safety"]})).await;
    }
    // Listed in the directory on the topic, but never asked to be asked: not consent.
    let (lou, _) = member(&t, &api, "lou@leedsth.nhs.uk", "off").await;
    set_me(&api, &lou, json!({"listed": true, "topics": ["patient-safety"]})).await;
    // Chose the topic, then turned expert questions off.
    let (ola, _) = member(&t, &api, "ola@leedsth.nhs.uk", "off").await;
    set_me(&api, &ola, json!({"ask_me_about": ["patient-safety"], "engagement": {"expert_questions": false}})).await;

    let first = published_case_study(&t, &dan, "Fewer falls on ward 5").await;
    let second = published_case_study(&t, &dan, "Night rounds on ward 6").await;
    // Week 46: the first question; every expert asked 0 times, so the first five by id.
    let q0 = ask(&t.api_at(datetime!(2026-11-09 10:00 UTC)).await, &eve, &first).await;
    let r = engagement_at(&t, datetime!(2026-11-12 10:30 UTC)).await;
    assert_eq!((r.questions, r.experts_asked), (1, 5), "{r:?}");
    for who in ["e1", "e2", "e3", "e4", "e5"] {
        let m = asked(&t, &format!("{who}@leedsth.nhs.uk"));
        assert_eq!(m.len(), 1, "{who}");
        assert!(m[0].contains(&format!("/questions/{q0}")), "{}", m[0]);
        assert!(m[0].contains("Reply-To: <reply+"), "answer by replying: {}", m[0]);
        assert!(m[0].contains("List-Unsubscribe: <"), "{}", m[0]);
        assert!(m[0].contains("How did you staff the hourly rounds at night?"));
    }
    for who in ["e6", "e7", "dan", "eve", "lou", "ola"] {
        assert!(asked(&t, &format!("{who}@leedsth.nhs.uk")).is_empty(), "{who} is not asked");
    }

    // Week 47: the second question, asked on Wednesday at 10:00.
    let q1 = ask(&t.api_at(datetime!(2026-11-18 10:00 UTC)).await, &eve, &second).await;
    let early = engagement_at(&t, datetime!(2026-11-21 09:59 UTC)).await;
    assert_eq!(early.experts_asked, 0, "a minute short of three days");
    let r = engagement_at(&t, datetime!(2026-11-21 10:01 UTC)).await;
    assert_eq!((r.questions, r.experts_asked), (1, 5), "{r:?}");
    // Never asked before (e6, e7) first, then the least asked by id.
    for (who, n) in [("e1", 2), ("e2", 2), ("e3", 2), ("e4", 1), ("e5", 1), ("e6", 1), ("e7", 1)] {
        assert_eq!(asked(&t, &format!("{who}@leedsth.nhs.uk")).len(), n, "{who}");
    }
    assert!(asked(&t, "e6@leedsth.nhs.uk")[0].contains(&format!("/questions/{q1}")));
    // Once per question, whatever runs again.
    let again = engagement_at(&t, datetime!(2026-11-22 10:00 UTC)).await;
    assert_eq!((again.questions, again.experts_asked), (0, 0), "{again:?}");
    assert_eq!(t.outbox_texts().iter().filter(|m| m.contains("Could you help?")).count(), 10);
}

#[tokio::test]
async fn an_expert_asked_this_week_gets_no_nudge_as_well() {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let (dan, _) = member(&t, &t.api_at(datetime!(2026-06-01 10:00 UTC)).await, "dan@leedsth.nhs.uk", "off").await;
    let (eve, _) = member(&t, &t.api_at(datetime!(2026-06-01 10:00 UTC)).await, "eve@leedsth.nhs.uk", "off").await;
    // Fay joined on Wednesday (a welcome is due on Monday) and can be asked about patient safety.
    let w47 = t.api_at(WED_W47).await;
    let (fay, _) = member(&t, &w47, "fay@leedsth.nhs.uk", "off").await;
    set_me(&w47, &fay, json!({"ask_me_about": ["patient-safety"]})).await;
    let cs = published_case_study(&t, &dan, "Fewer falls on ward 5").await;
    ask(&t.api_at(datetime!(2026-11-19 10:00 UTC)).await, &eve, &cs).await;
    // Monday: the question (three days old) goes to Fay first; her nudge waits.
    let r = engagement_at(&t, MON_W48).await;
    assert_eq!((r.experts_asked, r.nudges_sent, r.capped), (1, 0, 1), "{r:?}");
    assert_eq!(asked(&t, "fay@leedsth.nhs.uk").len(), 1);
    assert!(nudges(&t, "fay@leedsth.nhs.uk").is_empty(), "one engagement email a week");
}

#[tokio::test]
async fn thanks_reach_the_author_in_one_weekly_line_naming_only_those_who_chose() {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let api = t.api_at(datetime!(2026-06-01 10:00 UTC)).await;
    let (dan, _) = member(&t, &api, "dan@leedsth.nhs.uk", "off").await;
    let cs = published_case_study(&t, &dan, "Fewer falls on ward 5").await;
    let w47 = t.api_at(WED_W47).await;
    for (who, named) in [("ann", true), ("bob", true), ("cat", false), ("dee", false)] {
        let (tok, _) = member(&t, &api, &format!("{who}@leedsth.nhs.uk"), "off").await;
        let a = w47.post(&format!("/case-studies/{cs}/thanks"), Some(&tok), json!({"named": named})).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }
    engagement_at(&t, MON_W48).await;
    let n = nudges(&t, "dan@leedsth.nhs.uk");
    assert_eq!(n.len(), 1);
    assert!(
        n[0].contains("4 people found \u{201c}Fewer falls on ward 5\u{201d} helpful last week: ann, bob and 2 others"),
        "{}",
        n[0]
    );
    assert!(!n[0].contains("cat") && !n[0].contains("dee"), "only those who chose to be named");
    // The next week, with no new thanks: no line.
    engagement_at(&t, MON_W49).await;
    assert_eq!(nudges(&t, "dan@leedsth.nhs.uk").len(), 1);
}

#[tokio::test]
async fn a_question_on_an_item_no_longer_published_leaves_the_unanswered_list_without_emails() {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let api = t.api_at(datetime!(2026-11-02 10:00 UTC)).await;
    let (dan, _) = member(&t, &api, "dan@leedsth.nhs.uk", "off").await;
    let (eve, _) = member(&t, &api, "eve@leedsth.nhs.uk", "off").await;
    let (e1, _) = member(&t, &api, "e1@leedsth.nhs.uk", "off").await;
    set_me(&api, &e1, json!({"ask_me_about": ["patient-safety"]})).await;
    let cs = published_case_study(&t, &dan, "Fewer falls on ward 5").await;
    let q = ask(&t.api_at(datetime!(2026-11-09 10:00 UTC)).await, &eve, &cs).await;
    // A moderator's edit holds the case study (the guard): it is not published now.
    let moderator = t.token("mod@qnet.test", &[qnet_domain::Role::Moderator]).await;
    let v = t.get(&format!("/case-studies/{cs}"), Some(&moderator)).await.body["version"].as_u64().unwrap();
    let held = t.patch(&format!("/case-studies/{cs}"), &moderator, v, json!({"body": "Patient 943 476 5919 fell."})).await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.text);
    let cutoff = "2026-11-30T00:00:00.000Z";
    assert_eq!(t.app.unanswered_questions(cutoff, 10).await.unwrap().len(), 1);
    let r = engagement_at(&t, datetime!(2026-11-12 10:30 UTC)).await;
    assert_eq!(r.experts_asked, 0, "{r:?}");
    assert!(asked(&t, "e1@leedsth.nhs.uk").is_empty(), "nothing about an unpublished item leaves by email");
    assert!(t.app.unanswered_questions(cutoff, 10).await.unwrap().is_empty(), "{q} no longer waits at the head of the list");
}
