//! "My QI portfolio" over HTTP on the embedded store: two members with
//! activity of every kind each see only their own, with its dates; the period
//! filter; the CSV (absolute links on the configured web address, formula-like
//! cells neutralised); sign-in required.

use qnet_domain::Role;
use qnet_tests::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn in_days(days: i64, hour: u8) -> OffsetDateTime {
    let d = (OffsetDateTime::now_utc() + time::Duration::days(days)).date();
    d.with_hms(hour, 0, 0).unwrap().assume_utc()
}

/// A London date (as the app dates activity), `days` from today.
fn london_day(days: i64) -> String {
    qnet_domain::event::london_offset_text(OffsetDateTime::now_utc() + time::Duration::days(days))[..10].to_string()
}

fn today() -> String {
    london_day(0)
}

/// A member named `name`: (token, id).
async fn member(t: &TestApp, email: &str, name: &str, roles: &[Role]) -> (String, String) {
    let token = t.token(email, roles).await;
    let me = t.get("/me", Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    let version = me.body["version"].as_u64().unwrap();
    let renamed = t.patch("/me", &token, version, json!({"name": name})).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    (token, me.body["id"].as_str().unwrap().to_string())
}

/// The items of one section as (date, title, detail, link).
fn section(p: &Value, id: &str) -> Vec<(String, String, String, String)> {
    let s = p["sections"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("no section {id}"));
    assert_eq!(s["truncated"], false, "{id} is far below the cap");
    s["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let f = |k: &str| i[k].as_str().unwrap().to_string();
            (f("date"), f("title"), f("detail"), f("link"))
        })
        .collect()
}

fn titles(p: &Value, id: &str) -> Vec<String> {
    section(p, id).into_iter().map(|i| i.1).collect()
}

async fn portfolio(t: &TestApp, token: &str, query: &str) -> Value {
    let a = t.get(&format!("/me/portfolio{query}"), Some(token)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.body
}

struct World {
    t: TestApp,
    ann: String,
    bob: String,
    project: String,
    case_study: String,
    pending: String,
    resource: String,
    event: String,
    question: String,
    request: String,
}

/// Ann leads a project Bob joined; she records a PDSA cycle, publishes a case
/// study (and has one awaiting review), attends a workshop, answers Bob's
/// question on her case study, which Bob thanks; Bob shares a resource and
/// mentors Ann (a pairing he accepted, then closed).
async fn world() -> World {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    t.organisation("Bradford Council", &["bradford.gov.uk"]).await;
    let (ann, _) = member(&t, "ann@leedsth.nhs.uk", "Ann Jones", &[]).await;
    let (bob, bob_id) = member(&t, "bob@bradford.gov.uk", "Bob Li", &[]).await;
    let (organiser, _) = member(&t, "olu@leedsth.nhs.uk", "Olu Organiser", &[Role::Organiser]).await;
    let moderator = t.token("mo@leedsth.nhs.uk", &[Role::Moderator]).await;

    // A project: Ann leads, Bob joins; Ann records a PDSA cycle.
    let p = t
        .post(
            "/projects",
            Some(&ann),
            json!({"title": "Fewer falls on ward 5", "aim": "Halve inpatient falls on ward 5 by March 2027",
                   "organisation_ids": [org], "team": [bob_id], "topics": ["patient-safety"], "status": "active"}),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
    let project = p.body["id"].as_str().unwrap().to_string();
    let joined = t.post(&format!("/projects/{project}/invitation/accept"), Some(&bob), Value::Null).await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.text);
    let c = t
        .post(
            &format!("/projects/{project}/pdsa"),
            Some(&ann),
            json!({"title": "Falls huddle at 8am", "plan": "Try a falls huddle at 8am on ward 5",
                   "started_on": "2025-02-03", "ended_on": "2025-02-17", "points": []}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);

    // Case studies: one published (its title starts with "="), one pending.
    let cs = t.submit(&ann, json!({"title": "=1+1 falls huddles work", "body": "We tried hourly rounding."})).await;
    let case_study = cs["id"].as_str().unwrap().to_string();
    assert_eq!(t.publish(&case_study).await.status, StatusCode::OK);
    let pending = t.submit(&ann, json!({"title": "Hourly rounding pilot", "body": "Not yet reviewed."})).await;
    let pending = pending["id"].as_str().unwrap().to_string();

    // Bob's resource, published.
    let r = t
        .post(
            "/resources",
            Some(&bob),
            json!({"title": "Run chart rules explained", "description": "A short guide to reading run charts.",
                   "kind": "link", "topics": ["measurement"], "url": "https://qi.example.org/run-charts"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let resource = r.body["id"].as_str().unwrap().to_string();
    let pub_r = t.moderate(&format!("/resources/{resource}/publish"), Some(&moderator), Value::Null).await;
    assert_eq!(pub_r.status, StatusCode::OK, "{}", pub_r.text);

    // Bob asks on Ann's case study, Ann answers; Bob thanks her, named.
    let q = t
        .post(&format!("/case-studies/{case_study}/questions"), Some(&bob), json!({"body": "How long did the huddles take?"}))
        .await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.text);
    let question = q.body["id"].as_str().unwrap().to_string();
    let a = t.post(&format!("/questions/{question}/answers"), Some(&ann), json!({"body": "About ten minutes."})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let th = t.post(&format!("/case-studies/{case_study}/thanks"), Some(&bob), json!({"named": true})).await;
    assert_eq!(th.status, StatusCode::OK, "{}", th.text);

    // A workshop in 20 days: Ann books and is marked as attending at the door.
    let e = t
        .post(
            "/events",
            Some(&organiser),
            json!({"kind": "workshop", "title": "Run charts for beginners", "description": "Bring your data.",
                   "starts_at": in_days(20, 9).format(&Rfc3339).unwrap(), "ends_at": in_days(20, 12).format(&Rfc3339).unwrap(),
                   "location": "Room 2, St James's, Leeds", "capacity": 10, "host_organisation_id": org,
                   "topics": ["measurement"]}),
        )
        .await;
    assert_eq!(e.status, StatusCode::CREATED, "{}", e.text);
    let event = e.body["id"].as_str().unwrap().to_string();
    let booked = t.post(&format!("/events/{event}/bookings"), Some(&ann), Value::Null).await;
    assert_eq!(booked.body["status"], "confirmed", "{}", booked.text);
    let booking = booked.body["id"].as_str().unwrap();
    let at_door = t.api_at(in_days(20, 9) - time::Duration::minutes(30)).await;
    let marked = at_door
        .send(
            Method::PUT,
            &format!("/events/{event}/bookings/{booking}/attendance"),
            Some(&organiser),
            Some(json!({"attended": true})),
            &[],
        )
        .await;
    assert_eq!(marked.status, StatusCode::OK, "{}", marked.text);

    // Bob mentors Ann: offered, accepted, then closed by Ann.
    t.become_mentor(&bob).await;
    let req = t
        .post(
            "/mentoring-requests",
            Some(&ann),
            json!({"kind": "mentoring", "topics": ["flow"], "goals": "Run charts for discharge."}),
        )
        .await;
    assert_eq!(req.body["state"], "proposed", "{}", req.text);
    let request = req.body["id"].as_str().unwrap().to_string();
    let token = t.offer_token("bob@bradford.gov.uk");
    assert_eq!(t.post(&format!("/mentoring/offers/{token}/accept"), None, Value::Null).await.status, StatusCode::OK);
    let closed = t.post(&format!("/mentoring-pairings/{request}/close"), Some(&ann), json!({})).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);

    World { t, ann, bob, project, case_study, pending, resource, event, question, request }
}

#[tokio::test]
async fn each_member_sees_only_their_own_activity_with_dates() {
    let w = world().await;
    let t = &w.t;
    let today = today();
    let event_day = in_days(20, 9).date().to_string();

    let ann = portfolio(t, &w.ann, "").await;
    assert_eq!(ann["member_name"], "Ann Jones");
    assert_eq!(ann["organisation_name"], "Leeds Teaching Hospitals");
    assert_eq!(ann["period"], "All time");
    assert_eq!(ann["section_cap"], 100);
    let ids: Vec<&str> = ann["sections"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "projects",
            "pdsa_cycles",
            "case_studies",
            "resources",
            "mentoring_given",
            "mentoring_received",
            "events_attended",
            "questions_answered",
            "thanks"
        ]
    );
    let project_link = format!("/projects/{}", w.project);
    assert_eq!(
        section(&ann, "projects"),
        [(today.clone(), "Fewer falls on ward 5".into(), "Lead (project active)".into(), project_link.clone())]
    );
    assert_eq!(
        section(&ann, "pdsa_cycles"),
        [(
            "2025-02-03".into(),
            "Falls huddle at 8am".into(),
            "Recorded by you on “Fewer falls on ward 5”".into(),
            project_link.clone()
        )]
    );
    let mut cs = section(&ann, "case_studies");
    cs.sort();
    assert_eq!(
        cs,
        [
            (today.clone(), "=1+1 falls huddles work".into(), "Published".into(), format!("/case-studies/{}", w.case_study)),
            (
                today.clone(),
                "Hourly rounding pilot".into(),
                "Submitted, awaiting review".into(),
                format!("/case-studies/{}", w.pending)
            ),
        ]
    );
    assert!(section(&ann, "resources").is_empty(), "Bob's resource is not Ann's");
    assert!(section(&ann, "mentoring_given").is_empty());
    let received = section(&ann, "mentoring_received");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0, today);
    assert_eq!(received[0].1, "Mentoring: flow");
    assert_eq!(received[0].2, format!("Mentee, {today} to {today}"));
    assert_eq!(received[0].3, format!("/mentoring/requests/{}", w.request));
    assert_eq!(
        section(&ann, "events_attended"),
        [(event_day.clone(), "Run charts for beginners".into(), "Attended (workshop)".into(), format!("/events/{}", w.event))]
    );
    assert_eq!(
        section(&ann, "questions_answered"),
        [(today.clone(), "How long did the huddles take?".into(), "Answered".into(), format!("/questions/{}", w.question))]
    );
    assert_eq!(
        section(&ann, "thanks"),
        [(today.clone(), "=1+1 falls huddles work".into(), "From Bob Li".into(), format!("/case-studies/{}", w.case_study))]
    );

    let bob = portfolio(t, &w.bob, "").await;
    assert_eq!(bob["member_name"], "Bob Li");
    assert_eq!(bob["organisation_name"], "Bradford Council");
    assert_eq!(
        section(&bob, "projects"),
        [(today.clone(), "Fewer falls on ward 5".into(), "Team member (project active)".into(), project_link.clone())]
    );
    assert_eq!(section(&bob, "pdsa_cycles")[0].2, "On your project “Fewer falls on ward 5”");
    assert!(section(&bob, "case_studies").is_empty(), "Ann's case studies are not Bob's");
    assert_eq!(
        section(&bob, "resources"),
        [(today.clone(), "Run chart rules explained".into(), "Published (link)".into(), format!("/resources/{}", w.resource))]
    );
    let given = section(&bob, "mentoring_given");
    assert_eq!(given.len(), 1, "the closed pairing stays in the mentor's record");
    assert_eq!(given[0].2, format!("Mentor, {today} to {today}"));
    for id in ["mentoring_received", "events_attended", "questions_answered", "thanks"] {
        assert!(section(&bob, id).is_empty(), "{id} is Ann's, not Bob's");
    }

    // Leaving the team takes the project out of the portfolio.
    let read = t.get(&format!("/projects/{}", w.project), Some(&w.ann)).await;
    let version = read.header("etag").unwrap().trim_matches('"').parse::<u64>().unwrap();
    let a = t.patch(&format!("/projects/{}", w.project), &w.ann, version, json!({"team": []})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let bob = portfolio(t, &w.bob, "").await;
    assert!(section(&bob, "projects").is_empty() && section(&bob, "pdsa_cycles").is_empty());
    assert_eq!(section(&portfolio(t, &w.ann, "").await, "projects").len(), 1, "the lead stays");
}

#[tokio::test]
async fn the_period_filters_by_date_and_is_checked() {
    let w = world().await;
    let t = &w.t;
    let last_year = portfolio(t, &w.ann, "?from=2025-01-01&to=2025-12-31").await;
    assert_eq!(last_year["from"], "2025-01-01");
    assert_eq!(last_year["period"], "2025-01-01 to 2025-12-31");
    assert_eq!(titles(&last_year, "pdsa_cycles"), ["Falls huddle at 8am"]);
    for id in ["projects", "case_studies", "mentoring_received", "events_attended", "questions_answered", "thanks"] {
        assert!(section(&last_year, id).is_empty(), "{id} happened this year");
    }
    let later = format!("?from={}", in_days(10, 0).date());
    let ahead = portfolio(t, &w.ann, &later).await;
    assert_eq!(titles(&ahead, "events_attended"), ["Run charts for beginners"]);
    assert!(section(&ahead, "case_studies").is_empty() && section(&ahead, "pdsa_cycles").is_empty());
    let up_to_today = portfolio(t, &w.ann, &format!("?to={}", today())).await;
    assert!(section(&up_to_today, "events_attended").is_empty(), "the workshop is after the period");
    assert_eq!(titles(&up_to_today, "questions_answered"), ["How long did the huddles take?"]);

    let bad = t.get("/me/portfolio?from=2026-04-01&to=2026-03-31", Some(&w.ann)).await;
    assert_eq!(bad.assert_problem(422).problem_fields(), ["to"]);
    let bad = t.get("/me/portfolio.csv?from=last-week", Some(&w.ann)).await;
    assert_eq!(bad.assert_problem(422).problem_fields(), ["from"]);
    t.get("/me/portfolio?to=1066-10-14", Some(&w.ann)).await.assert_problem(422);
}

#[tokio::test]
async fn the_csv_has_absolute_links_and_neutralised_cells() {
    let w = world().await;
    let t = &w.t;
    let r = t.client.get(format!("{}/me/portfolio.csv", t.base)).bearer_auth(&w.ann).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"qi-portfolio.csv\"");
    let body = r.text().await.unwrap();
    // A byte order mark first, so spreadsheet programs read it as UTF-8.
    let body = body.strip_prefix('\u{feff}').expect("a byte order mark");
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(body.as_bytes());
    assert_eq!(reader.headers().unwrap(), vec!["Section", "Date", "Title", "Role or detail", "Link"]);
    let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    let web = t.app.web_base_url.trim_end_matches('/').to_string();
    assert!(web.starts_with("http"), "{web}");
    // The published case study's title starts with "=": a spreadsheet would run it.
    let cs_row = rows.iter().find(|r| r[0] == "Case studies" && r[2].contains("falls huddles")).expect("the case study row");
    assert_eq!(cs_row[2], "'=1+1 falls huddles work");
    assert_eq!(cs_row[1], today());
    assert_eq!(cs_row[4], format!("{web}/case-studies/{}", w.case_study));
    let thanks = rows.iter().find(|r| r[0] == "Thanks received").expect("the thanks row");
    assert_eq!(thanks[2], "'=1+1 falls huddles work");
    assert_eq!(thanks[3], "From Bob Li");
    let pdsa = rows.iter().find(|r| r[0] == "PDSA cycles").expect("the PDSA row");
    assert_eq!(
        pdsa[1..],
        [
            "2025-02-03".to_string(),
            "Falls huddle at 8am".into(),
            "Recorded by you on “Fewer falls on ward 5”".into(),
            format!("{web}/projects/{}", w.project)
        ]
    );
    assert_eq!(rows.len(), 8, "one row per activity: {rows:?}");
    assert!(rows.iter().all(|r| r[4].starts_with(&web)), "every link is on the configured web address");
    assert!(body.ends_with("\r\n"));
    // Another member's CSV holds only their own activity.
    let bob =
        t.client.get(format!("{}/me/portfolio.csv", t.base)).bearer_auth(&w.bob).send().await.unwrap().text().await.unwrap();
    assert!(!bob.contains("falls huddles") && bob.contains("Run chart rules explained"), "{bob}");
    // A request's Host never makes the links.
    let forged = t
        .client
        .get(format!("{}/me/portfolio.csv", t.base))
        .bearer_auth(&w.ann)
        .header("x-forwarded-host", "evil.example")
        .send()
        .await
        .unwrap();
    assert!(!forged.text().await.unwrap().contains("evil.example"));
}

#[tokio::test]
async fn sign_in_is_required_and_there_is_no_route_to_anyone_elses() {
    let t = spawn_app().await;
    t.get("/me/portfolio", None).await.assert_problem(401);
    t.get("/me/portfolio.csv", None).await.assert_problem(401);
    let (ann, ann_id) = member(&t, "ann@qnet.test", "Ann Jones", &[]).await;
    let empty = portfolio(&t, &ann, "").await;
    assert!(empty["sections"].as_array().unwrap().iter().all(|s| s["items"] == json!([])));
    assert_eq!(empty["organisation_name"], Value::Null);
    // No member id is read from the request: another id in the query changes nothing,
    // and no path names a member.
    let (bob, _) = member(&t, "bob@qnet.test", "Bob Li", &[]).await;
    let as_bob = portfolio(&t, &bob, &format!("?member={ann_id}")).await;
    assert_eq!(as_bob["member_name"], "Bob Li");
    t.get(&format!("/members/{ann_id}/portfolio"), Some(&bob)).await.assert_problem(404);
}

#[tokio::test]
async fn the_backfill_indexes_what_was_stored_before_the_portfolio() {
    let w = world().await;
    let t = &w.t;
    // As stored before: no team places, and the closed pairing not under its mentor.
    for item in t
        .app
        .records
        .query(
            qnet_ports::Query::new(qnet_ports::Index::Primary, qnet_app::keys::project_partition(&w.project))
                .prefix(qnet_app::keys::TEAM_PREFIX),
        )
        .await
        .unwrap()
        .items
    {
        t.app.records.delete(&item.pk, &item.sk, qnet_ports::Condition::None).await.unwrap();
    }
    let (pk, sk) = qnet_app::keys::mentoring_request(&w.request);
    let mut old = t.app.records.get(&pk, &sk).await.unwrap().unwrap();
    assert!(old.gsi1.is_some(), "a closed pairing is indexed under its mentor");
    old.gsi1 = None;
    t.app.records.put(old, qnet_ports::Condition::None).await.unwrap();
    assert!(section(&portfolio(t, &w.ann, "").await, "projects").is_empty());
    assert!(section(&portfolio(t, &w.bob, "").await, "mentoring_given").is_empty());

    assert_eq!(t.app.backfill_portfolio_indexes().await.unwrap(), 3, "two team places and one pairing");
    assert_eq!(t.app.backfill_portfolio_indexes().await.unwrap(), 0, "nothing twice");
    let ann = portfolio(t, &w.ann, "").await;
    assert_eq!(section(&ann, "projects")[0].2, "Lead (project active)");
    assert_eq!(section(&ann, "pdsa_cycles").len(), 1);
    let bob = portfolio(t, &w.bob, "").await;
    assert_eq!(section(&bob, "projects")[0].2, "Team member (project active)");
    assert_eq!(section(&bob, "mentoring_given").len(), 1);
}

/// The items of one section, truncated or not.
fn items(p: &Value, id: &str) -> Vec<Value> {
    let s = p["sections"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap();
    s["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn ongoing_work_counts_in_every_period_it_overlaps_and_a_withdrawn_pairing_stays() {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let (ann, _) = member(&t, "ann@leedsth.nhs.uk", "Ann Jones", &[]).await;
    let (bob, _) = member(&t, "bob@leedsth.nhs.uk", "Bob Li", &[]).await;
    // Forty days ago Ann started a project, and Bob started mentoring her.
    let past = t.api_at(OffsetDateTime::now_utc() - time::Duration::days(40)).await;
    let p = past
        .post(
            "/projects",
            Some(&ann),
            json!({"title": "Faster discharge letters", "aim": "Send every discharge letter within 24 hours",
                   "organisation_ids": [org], "topics": ["flow"], "status": "active"}),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
    let m = past
        .send(
            Method::PUT,
            "/me/mentor",
            Some(&bob),
            Some(json!({"offers": ["mentoring"], "topics": ["flow"], "capacity": 2, "accepting": true})),
            &[],
        )
        .await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    let req = past
        .post("/mentoring-requests", Some(&ann), json!({"kind": "mentoring", "topics": ["flow"], "goals": "Discharge flow."}))
        .await;
    assert_eq!(req.body["state"], "proposed", "{}", req.text);
    let request = req.body["id"].as_str().unwrap().to_string();
    let token = t.offer_token("bob@leedsth.nhs.uk");
    assert_eq!(past.post(&format!("/mentoring/offers/{token}/accept"), None, Value::Null).await.status, StatusCode::OK);
    let started = london_day(-40);

    // Still going: in a period that began after they started, not in one that ended before.
    let recent = format!("?from={}&to={}", london_day(-10), london_day(-5));
    let a = portfolio(&t, &ann, &recent).await;
    assert_eq!(section(&a, "projects")[0].0, started, "dated by its start");
    assert_eq!(section(&a, "mentoring_received")[0].2, format!("Mentee, since {started}"));
    assert_eq!(section(&portfolio(&t, &bob, &recent).await, "mentoring_given").len(), 1);
    let before = format!("?to={}", london_day(-50));
    let a = portfolio(&t, &ann, &before).await;
    assert!(items(&a, "projects").is_empty() && items(&a, "mentoring_received").is_empty());

    // Ann withdraws while the pairing is active: it ended today, and stays in both portfolios.
    let w = t.send(Method::DELETE, &format!("/mentoring-requests/{request}"), Some(&ann), None, &[]).await;
    assert_eq!(w.status, StatusCode::NO_CONTENT, "{}", w.text);
    let today = today();
    let received = section(&portfolio(&t, &ann, &recent).await, "mentoring_received");
    assert_eq!(received.len(), 1, "the withdrawn pairing stays in the mentee's record");
    assert_eq!(received[0].2, format!("Mentee, {started} to {today}"));
    let given = section(&portfolio(&t, &bob, "").await, "mentoring_given");
    assert_eq!(given.len(), 1, "and in the mentor's");
    assert_eq!(given[0].2, format!("Mentor, {started} to {today}"));
    assert!(items(&portfolio(&t, &ann, &format!("?from={}", london_day(1))).await, "mentoring_received").is_empty());

    // Stored before the index: the backfill puts it under its mentor.
    let (pk, sk) = qnet_app::keys::mentoring_request(&request);
    let mut old = t.app.records.get(&pk, &sk).await.unwrap().unwrap();
    old.gsi1 = None;
    t.app.records.put(old, qnet_ports::Condition::None).await.unwrap();
    assert!(items(&portfolio(&t, &bob, "").await, "mentoring_given").is_empty());
    assert_eq!(t.app.backfill_portfolio_indexes().await.unwrap(), 1, "the withdrawn pairing");
    assert_eq!(items(&portfolio(&t, &bob, "").await, "mentoring_given").len(), 1);
}

#[tokio::test]
async fn erasure_empties_the_team_index_and_the_backfill_does_not_bring_it_back() {
    let w = world().await;
    let t = &w.t;
    let bob_id = t.get("/me", Some(&w.bob)).await.body["id"].as_str().unwrap().to_string();
    let places = |id: String| {
        let records = t.app.records.clone();
        async move {
            records
                .query(qnet_ports::Query::new(qnet_ports::Index::Gsi2, qnet_app::keys::members_projects(&id)))
                .await
                .unwrap()
                .items
                .len()
        }
    };
    assert_eq!(places(bob_id.clone()).await, 1, "Bob's place on Ann's team");
    assert_eq!(t.send(Method::DELETE, "/me", Some(&w.bob), None, &[]).await.status, StatusCode::NO_CONTENT);
    assert_eq!(places(bob_id.clone()).await, 0, "erasure empties MEMBER#<id>#PROJECTS");
    // The project's team list still names Bob; the backfill leaves him out.
    let (pk, sk) = qnet_app::keys::project(&w.project);
    let project = t.app.records.get(&pk, &sk).await.unwrap().unwrap();
    assert!(project.data["team"].as_array().unwrap().iter().any(|m| m == &json!(bob_id)), "{}", project.data);
    t.app.backfill_portfolio_indexes().await.unwrap();
    assert_eq!(places(bob_id).await, 0, "no place for an erased member");
    assert_eq!(section(&portfolio(t, &w.ann, "").await, "projects").len(), 1);
}

#[tokio::test]
async fn portfolios_are_limited_per_member() {
    let t = spawn_app().await;
    let (ann, _) = member(&t, "ann@qnet.test", "Ann Jones", &[]).await;
    let (bob, _) = member(&t, "bob@qnet.test", "Bob Li", &[]).await;
    // Half past the hour, so the window does not roll over mid-test.
    let t = t.api_at(OffsetDateTime::now_utc().replace_minute(30).unwrap()).await;
    for n in 0..qnet_app::limits::PORTFOLIOS_PER_HOUR {
        let path = if n % 2 == 0 { "/me/portfolio" } else { "/me/portfolio.csv" };
        let r = t.get(path, Some(&ann)).await;
        assert_eq!(r.status, StatusCode::OK, "{n}: {}", r.text);
    }
    for path in ["/me/portfolio", "/me/portfolio.csv"] {
        let over = t.get(path, Some(&ann)).await;
        over.assert_problem(429);
        let retry: u64 = over.header("retry-after").expect("Retry-After").parse().unwrap();
        assert!((1..=1800).contains(&retry), "{retry}");
    }
    // Per member: Bob is not held back by Ann.
    assert_eq!(t.get("/me/portfolio", Some(&bob)).await.status, StatusCode::OK);
}
