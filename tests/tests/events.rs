//! Events and training end to end over HTTP: who may create and change events,
//! every bad field named, upcoming lists, bookings with a waitlist that holds
//! under 200 concurrent requests (embedded here, DynamoDB through moto in
//! `moto_`), invitations parsed from the outbox (UID, SEQUENCE, METHOD), cancel
//! notices sent once, and go-and-see visit requests with the host's links.

use std::sync::Arc;

use mail_parser::{MessageParser, MimeHeaders};
use qnet_app::{AppError, Claims};
use qnet_domain::Role;
use qnet_embedded::Outbox;
use qnet_ports::{Condition, Item, Page, Query, RecordStore, StoreError, Write};
use qnet_tests::{TestApp, spawn_app, spawn_app_on_moto_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn in_days(days: i64, hour: u8) -> OffsetDateTime {
    let d = (OffsetDateTime::now_utc() + time::Duration::days(days)).date();
    d.with_hms(hour, 0, 0).unwrap().assume_utc()
}

fn text(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// One email from the outbox: who to, subject, its text and its calendar part.
#[derive(Debug)]
struct Mail {
    to: String,
    subject: String,
    text: String,
    ics: Option<String>,
    ics_method_param: Option<String>,
    has_invite_attachment: bool,
}

fn outbox(t: &TestApp) -> Vec<Mail> {
    let o = Outbox::open(&t.data_dir).unwrap();
    let mut out = Vec::new();
    for e in o.list().unwrap() {
        let raw = o.read(&e.file_name).unwrap();
        let m = MessageParser::default().parse(&raw).unwrap();
        let to = m.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_string();
        let mut ics = None;
        let mut method = None;
        let mut attached = false;
        for part in &m.parts {
            let Some(ct) = part.content_type() else { continue };
            if ct.ctype() == "text" && ct.subtype() == Some("calendar") {
                if part.attachment_name() == Some("invite.ics") {
                    attached = true;
                } else {
                    ics = part.text_contents().map(str::to_string);
                    method = ct.attribute("method").map(str::to_string);
                }
            }
        }
        out.push(Mail {
            to,
            subject: m.subject().unwrap_or_default().to_string(),
            text: m.body_text(0).map(|b| b.to_string()).unwrap_or_default(),
            ics,
            ics_method_param: method,
            has_invite_attachment: attached,
        });
    }
    out
}

fn mails_to(t: &TestApp, email: &str) -> Vec<Mail> {
    outbox(t).into_iter().filter(|m| m.to == email).collect()
}

/// RFC 5545 content lines: unfolded, as (name, parameters, value).
fn ics_lines(ics: &str) -> Vec<(String, String, String)> {
    let unfolded = ics.replace("\r\n ", "").replace("\r\n\t", "");
    unfolded
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| {
            // The value starts at the first colon outside a quoted parameter.
            let mut quoted = false;
            let at = l
                .char_indices()
                .find(|(_, c)| {
                    if *c == '"' {
                        quoted = !quoted;
                    }
                    *c == ':' && !quoted
                })
                .map(|(i, _)| i)
                .expect("a content line has a colon");
            let (head, value) = (&l[..at], &l[at + 1..]);
            let (name, params) = head.split_once(';').unwrap_or((head, ""));
            (name.to_string(), params.to_string(), value.to_string())
        })
        .collect()
}

fn ics_value(ics: &str, name: &str) -> Option<String> {
    ics_lines(ics).into_iter().find(|(n, _, _)| n == name).map(|(_, _, v)| v)
}

/// The domain of the address Qnet's emails come from.
fn domain(t: &TestApp) -> String {
    t.app.mail_from.rsplit_once('@').unwrap().1.to_string()
}

async fn network() -> (TestApp, String) {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    (t, org)
}

fn workshop(org: &str, capacity: u64) -> Value {
    json!({"kind": "workshop", "title": "Run charts for beginners", "description": "Bring your data.",
           "starts_at": text(in_days(20, 9)), "ends_at": text(in_days(20, 12)),
           "location": "Room 2, St James's, Leeds", "capacity": capacity,
           "host_organisation_id": org, "topics": ["measurement"]})
}

async fn create(t: &TestApp, token: &str, body: Value) -> Value {
    let a = t.post("/events", Some(token), body).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body
}

async fn book(t: &TestApp, id: &str, token: &str) -> qnet_tests::Answer {
    t.post(&format!("/events/{id}/bookings"), Some(token), Value::Null).await
}

#[tokio::test]
async fn every_bad_field_is_named_and_nothing_is_created() {
    let (t, org) = network().await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let bad = json!({"kind": "party", "title": "", "description": 7, "starts_at": "next week",
                     "ends_at": "2020-01-01T00:00:00Z", "online_url": "http://meet.example.org/x",
                     "capacity": 10001, "host_organisation_id": "no such org!", "topics": ["astrology"],
                     "colour": "red"});
    let a = t.post("/events", Some(&organiser), bad).await;
    a.assert_problem(422);
    let fields = a.problem_fields();
    for f in
        ["colour", "kind", "title", "description", "starts_at", "online_url", "capacity", "host_organisation_id", "topics[0]"]
    {
        assert!(fields.contains(&f.to_string()), "{f} not named in {fields:?}");
    }
    // Rules that span fields, and an organisation that does not exist.
    let mut past = workshop(&org, 0);
    past["starts_at"] = json!("2020-01-01T09:00:00Z");
    past["ends_at"] = json!("2019-12-31T09:00:00Z");
    past["booking_closes_at"] = json!("2020-01-02T09:00:00Z");
    past.as_object_mut().unwrap().remove("location");
    past["host_organisation_id"] = json!("01NOSUCHORGANISATION000000");
    let a = t.post("/events", Some(&organiser), past).await;
    a.assert_problem(422);
    let fields = a.problem_fields();
    for f in ["capacity", "starts_at", "ends_at", "booking_closes_at", "location", "host_organisation_id"] {
        assert!(fields.contains(&f.to_string()), "{f} not named in {fields:?}");
    }
    let mut visit = workshop(&org, 5);
    visit["kind"] = json!("go_and_see");
    let a = t.post("/events", Some(&organiser), visit).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["what_you_will_see", "host"]);
    assert_eq!(t.get("/events", None).await.body["items"], json!([]));
}

#[tokio::test]
async fn each_role_may_do_only_its_part() {
    let (t, org) = network().await;
    let member = t.token("mo@leedsth.nhs.uk", &[]).await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let other_organiser = t.token("ola@leedsth.nhs.uk", &[Role::Organiser]).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;

    t.post("/events", None, workshop(&org, 5)).await.assert_problem(401);
    t.post("/events", Some(&member), workshop(&org, 5)).await.assert_problem(403);
    let e = create(&t, &organiser, workshop(&org, 5)).await;
    let id = e["id"].as_str().unwrap();
    assert_eq!(e["places"], json!({"capacity": 5, "confirmed": 0, "left": 5}));
    // A moderator may create too.
    create(&t, &moderator, workshop(&org, 3)).await;

    let path = format!("/events/{id}");
    for (token, status) in [(&member, 403), (&other_organiser, 403)] {
        t.patch(&path, token, 1, json!({"title": "Mine now"})).await.assert_problem(status);
        t.post(&format!("{path}/cancel"), Some(token), Value::Null).await.assert_problem(status);
        t.get(&format!("{path}/bookings"), Some(token)).await.assert_problem(status);
    }
    t.send(Method::PATCH, &path, None, Some(json!({"title": "x"})), &[("if-match", "\"1\"")]).await.assert_problem(401);
    t.post(&format!("{path}/cancel"), None, Value::Null).await.assert_problem(401);
    t.get(&format!("{path}/bookings"), None).await.assert_problem(401);
    book(&t, id, "").await.assert_problem(401);
    t.send(Method::DELETE, &format!("{path}/bookings/me"), None, None, &[]).await.assert_problem(401);
    t.get("/me/bookings", None).await.assert_problem(401);
    // Nothing changed.
    let got = t.get(&path, None).await;
    assert_eq!(got.body["title"], "Run charts for beginners");
    assert_eq!(got.header("etag"), Some("\"1\""));

    // If-Match is required and checked.
    t.send(Method::PATCH, &path, Some(&organiser), Some(json!({"title": "x"})), &[]).await.assert_problem(428);
    t.patch(&path, &organiser, 7, json!({"title": "x"})).await.assert_problem(412);
    let a = t.patch(&path, &moderator, 1, json!({"title": "Run charts (moderated)"})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let a = t.patch(&path, &organiser, 2, json!({"title": "Run charts, again", "kind": "meeting"})).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["kind"]);
    assert_eq!(t.get(&format!("{path}/bookings"), Some(&moderator)).await.status, StatusCode::OK);
    assert_eq!(t.get(&format!("{path}/bookings"), Some(&organiser)).await.status, StatusCode::OK);
    t.get("/events/01NOSUCHEVENT0000000000000", None).await.assert_problem(404);
}

#[tokio::test]
async fn a_retried_create_makes_one_event() {
    let (t, org) = network().await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let send = || t.send(Method::POST, "/events", Some(&organiser), Some(workshop(&org, 5)), &[("idempotency-key", "evt-1")]);
    let first = send().await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = send().await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(t.get("/events", None).await.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn upcoming_events_soonest_first_with_filters_pages_and_london_times() {
    let (t, org) = network().await;
    let other = t.organisation("Bradford Council", &["bradford.gov.uk"]).await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let other_organiser = t.token("bea@bradford.gov.uk", &[Role::Organiser]).await;
    let mut ids = Vec::new();
    for (days, kind, host, topic) in
        [(30, "training", &org, "measurement"), (10, "workshop", &other, "flow"), (20, "meeting", &org, "measurement")]
    {
        let mut b = workshop(host, 10);
        b["kind"] = json!(kind);
        b["topics"] = json!([topic]);
        b["starts_at"] = json!(text(in_days(days, 9)));
        b["ends_at"] = json!(text(in_days(days, 10)));
        let by = if host == &other { &other_organiser } else { &organiser };
        ids.push(create(&t, by, b).await["id"].as_str().unwrap().to_string());
    }
    let all = t.get("/events", None).await;
    let order: Vec<&str> = all.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(order, [&ids[1], &ids[2], &ids[0]]);
    let by_topic = t.get("/events?topic=measurement", None).await;
    assert_eq!(by_topic.body["items"].as_array().unwrap().len(), 2);
    let by_org_kind = t.get(&format!("/events?organisation={org}&kind=training"), None).await;
    assert_eq!(by_org_kind.body["items"][0]["id"], ids[0].as_str());
    assert_eq!(by_org_kind.body["items"].as_array().unwrap().len(), 1);
    let a = t.get("/events?kind=party&topic=astrology", None).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["topic", "kind"]);
    // Pages.
    let p1 = t.get("/events?limit=2", None).await;
    let cursor = p1.body["next_cursor"].as_str().unwrap();
    let p2 = t.get(&format!("/events?limit=2&cursor={cursor}"), None).await;
    assert_eq!(p2.body["items"][0]["id"], ids[0].as_str());
    assert!(p2.body["next_cursor"].is_null());
    t.get(&format!("/events?topic=flow&cursor={cursor}"), None).await.assert_problem(400);

    // Times are stored in UTC and shown in London time, BST in summer.
    let mut summer = workshop(&org, 10);
    let year = OffsetDateTime::now_utc().year() + 1;
    summer["starts_at"] = json!(format!("{year}-07-01T10:00:00+01:00"));
    summer["ends_at"] = json!(format!("{year}-07-01T12:00:00+01:00"));
    let e = create(&t, &organiser, summer).await;
    assert_eq!(e["starts_at"], format!("{year}-07-01T09:00:00.000Z"));
    assert!(e["starts_local"].as_str().unwrap().ends_with("10:00 BST"), "{}", e["starts_local"]);
    let mut winter = workshop(&org, 10);
    winter["starts_at"] = json!(format!("{year}-01-15T10:00:00Z"));
    winter["ends_at"] = json!(format!("{year}-01-15T12:00:00Z"));
    let e = create(&t, &organiser, winter).await;
    assert!(e["starts_local"].as_str().unwrap().ends_with("10:00 GMT"), "{}", e["starts_local"]);
}

/// `n` members book at once; answers each status.
async fn book_concurrently(t: &TestApp, id: &str, n: usize) -> Vec<String> {
    let mut tokens = Vec::new();
    for i in 0..n {
        let tok = t.token(&format!("member{i}@leedsth.nhs.uk"), &[]).await;
        // Profiles exist before the race: it is the bookings that race.
        assert_eq!(t.get("/me", Some(&tok)).await.status, StatusCode::OK);
        tokens.push(tok);
    }
    let client = t.client.clone();
    let mut tasks = Vec::new();
    for tok in tokens {
        let (client, url) = (client.clone(), format!("{}/events/{id}/bookings", t.base));
        tasks.push(tokio::spawn(async move {
            let r = client.post(url).bearer_auth(tok).send().await.unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["status"].as_str().unwrap().to_string()
        }));
    }
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

async fn capacity_holds(t: &TestApp, org: &str) {
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let e = create(t, &organiser, workshop(org, 50)).await;
    let id = e["id"].as_str().unwrap();
    let statuses = book_concurrently(t, id, 200).await;
    assert_eq!(statuses.iter().filter(|s| *s == "confirmed").count(), 50);
    assert_eq!(statuses.iter().filter(|s| *s == "waitlisted").count(), 150);
    let got = t.get(&format!("/events/{id}"), None).await;
    assert_eq!(got.body["places"], json!({"capacity": 50, "confirmed": 50, "left": 0}));
    let mut items = vec![];
    let mut page = format!("/events/{id}/bookings");
    loop {
        let list = t.get(&page, Some(&organiser)).await;
        items.extend(list.body["items"].as_array().unwrap().iter().cloned());
        let Some(next) = list.body["next_cursor"].as_str() else { break };
        page = format!("/events/{id}/bookings?cursor={next}");
    }
    assert_eq!(items.len(), 200);
    assert_eq!(items.iter().filter(|b| b["status"] == "confirmed").count(), 50);
    // The waitlist is numbered 1..=150 with no gaps or repeats.
    let mut positions: Vec<u64> = items.iter().filter_map(|b| b["waitlist_position"].as_u64()).collect();
    positions.sort();
    assert_eq!(positions, (1..=150).collect::<Vec<_>>());
}

#[tokio::test]
async fn two_hundred_bookings_for_fifty_places() {
    let (t, org) = network().await;
    capacity_holds(&t, &org).await;
}

/// Calls into moto one at a time: moto's DynamoDB is not thread-safe
/// (concurrent transactions answer 500 "dictionary changed size during
/// iteration"), which DynamoDB itself is. The 200 requests still race in the
/// app: reads and transactions of different requests interleave freely, and
/// only the bounded `Write::Increment` (an `Update` with a condition on
/// DynamoDB) decides who gets a place.
struct OneAtATime {
    inner: Arc<dyn RecordStore>,
    gate: Arc<tokio::sync::Mutex<()>>,
}

#[async_trait::async_trait]
impl RecordStore for OneAtATime {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let _g = self.gate.lock().await;
        self.inner.get(pk, sk).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        let _g = self.gate.lock().await;
        self.inner.put(item, condition).await
    }
    async fn delete(&self, pk: &str, sk: &str, condition: Condition) -> Result<(), StoreError> {
        let _g = self.gate.lock().await;
        self.inner.delete(pk, sk, condition).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let _g = self.gate.lock().await;
        self.inner.query(query).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let _g = self.gate.lock().await;
        self.inner.transact(writes).await
    }
    fn at_clock(&self, clock: Arc<dyn qnet_ports::Clock>) -> Arc<dyn RecordStore> {
        Arc::new(OneAtATime { inner: self.inner.at_clock(clock), gate: self.gate.clone() })
    }
}

#[tokio::test]
async fn moto_two_hundred_bookings_for_fifty_places() {
    let t = spawn_app_on_moto_with(|inner| Arc::new(OneAtATime { inner, gate: Arc::new(tokio::sync::Mutex::new(())) })).await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    capacity_holds(&t, &org).await;
}

#[tokio::test]
async fn a_freed_place_goes_to_the_first_in_line_with_an_invitation() {
    let (t, org) = network().await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let e = create(&t, &organiser, workshop(&org, 1)).await;
    let id = e["id"].as_str().unwrap();
    let ann = t.token("ann@leedsth.nhs.uk", &[]).await;
    let bob = t.token("bob@leedsth.nhs.uk", &[]).await;
    let cat = t.token("cat@leedsth.nhs.uk", &[]).await;
    let a = book(&t, id, &ann).await;
    assert_eq!((a.status, a.body["status"].as_str()), (StatusCode::CREATED, Some("confirmed")), "{}", a.text);
    let b = book(&t, id, &bob).await;
    assert_eq!(b.body["status"], "waitlisted");
    assert_eq!(b.body["waitlist_position"], 1);
    assert_eq!(book(&t, id, &cat).await.body["waitlist_position"], 2);
    // Booking again answers the same booking.
    let again = book(&t, id, &bob).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["id"], b.body["id"]);

    // Ann's confirmation carries an invitation.
    let confirm = mails_to(&t, "ann@leedsth.nhs.uk");
    assert_eq!(confirm.len(), 1, "{confirm:?}");
    let ics = confirm[0].ics.as_deref().expect("a calendar part");
    assert_eq!(confirm[0].ics_method_param.as_deref(), Some("REQUEST"));
    assert!(confirm[0].has_invite_attachment);
    assert_eq!(ics_value(ics, "METHOD").as_deref(), Some("REQUEST"));
    let uid = ics_value(ics, "UID").unwrap();
    assert_eq!(uid, format!("event-{id}@{}", domain(&t)));
    assert_eq!(ics_value(ics, "SEQUENCE").as_deref(), Some("0"));
    assert!(ics_value(ics, "DTSTART").unwrap().ends_with('Z'));
    assert_eq!(ics_value(ics, "ORGANIZER"), Some(format!("mailto:noreply@{}", domain(&t))));
    assert_eq!(ics_value(ics, "ATTENDEE").as_deref(), Some("mailto:ann@leedsth.nhs.uk"));
    assert!(mails_to(&t, "bob@leedsth.nhs.uk").is_empty(), "the waitlist is not emailed an invitation");

    // Ann cancels: Bob gets the place and an email, Ann a CANCEL.
    let del = t.send(Method::DELETE, &format!("/events/{id}/bookings/me"), Some(&ann), None, &[]).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT, "{}", del.text);
    t.send(Method::DELETE, &format!("/events/{id}/bookings/me"), Some(&ann), None, &[]).await.assert_problem(404);
    let bob_mail = mails_to(&t, "bob@leedsth.nhs.uk");
    assert_eq!(bob_mail.len(), 1);
    assert!(bob_mail[0].subject.starts_with("A place came up"), "{}", bob_mail[0].subject);
    assert_eq!(ics_value(bob_mail[0].ics.as_deref().unwrap(), "UID").unwrap(), uid);
    let ann_mail = mails_to(&t, "ann@leedsth.nhs.uk");
    let cancel = ann_mail.iter().find(|m| m.subject.starts_with("Booking cancelled")).expect("a CANCEL");
    assert_eq!(ics_value(cancel.ics.as_deref().unwrap(), "METHOD").as_deref(), Some("CANCEL"));
    let mine = t.get("/me/bookings", Some(&cat)).await;
    assert_eq!(mine.body["items"][0]["booking"]["waitlist_position"], 1, "{}", mine.text);
    let bob_list = t.get("/me/bookings", Some(&bob)).await;
    assert_eq!(bob_list.body["items"][0]["booking"]["status"], "confirmed");
    assert_eq!(bob_list.body["items"][0]["event"]["id"], id);

    // Raising the capacity promotes Cat.
    let a = t.patch(&format!("/events/{id}"), &organiser, 1, json!({"capacity": 2})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["places"]["confirmed"], 2);
    assert_eq!(mails_to(&t, "cat@leedsth.nhs.uk").len(), 1);
}

#[tokio::test]
async fn a_change_of_time_sends_a_higher_sequence_and_cancelling_sends_cancel_once() {
    let (t, org) = network().await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let e = create(&t, &organiser, workshop(&org, 1)).await;
    let id = e["id"].as_str().unwrap();
    let ann = t.token("ann@leedsth.nhs.uk", &[]).await;
    let bob = t.token("bob@leedsth.nhs.uk", &[]).await;
    book(&t, id, &ann).await;
    book(&t, id, &bob).await;

    // A new title changes no invitation.
    t.patch(&format!("/events/{id}"), &organiser, 1, json!({"title": "Run charts 101"})).await;
    assert_eq!(mails_to(&t, "ann@leedsth.nhs.uk").len(), 1);
    let a = t
        .patch(
            &format!("/events/{id}"),
            &organiser,
            2,
            json!({"starts_at": text(in_days(21, 9)), "ends_at": text(in_days(21, 12))}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let ann_mail = mails_to(&t, "ann@leedsth.nhs.uk");
    assert_eq!(ann_mail.len(), 2);
    let first = ann_mail.iter().find(|m| m.subject.starts_with("Booked")).unwrap().ics.clone().unwrap();
    let update = ann_mail.iter().find(|m| m.subject.starts_with("Changed")).unwrap().ics.clone().unwrap();
    assert_eq!(ics_value(&update, "UID"), ics_value(&first, "UID"));
    assert_eq!(ics_value(&update, "METHOD").as_deref(), Some("REQUEST"));
    let seq = |ics: &str| ics_value(ics, "SEQUENCE").unwrap().parse::<u32>().unwrap();
    assert!(seq(&update) > seq(&first));
    let start = in_days(21, 9);
    assert_eq!(
        ics_value(&update, "DTSTART").unwrap(),
        format!("{:04}{:02}{:02}T090000Z", start.year(), start.month() as u8, start.day())
    );
    assert!(mails_to(&t, "bob@leedsth.nhs.uk").is_empty(), "the waitlist gets no invitation");
    // The member's list follows the new start.
    let mine = t.get("/me/bookings", Some(&ann)).await;
    assert_eq!(mine.body["items"][0]["event"]["starts_at"], a.body["starts_at"]);

    // Cancelling (twice) tells each person once.
    for _ in 0..2 {
        let c = t.post(&format!("/events/{id}/cancel"), Some(&organiser), Value::Null).await;
        assert_eq!(c.status, StatusCode::OK, "{}", c.text);
        assert_eq!(c.body["status"], "cancelled");
    }
    let cancels: Vec<Mail> =
        mails_to(&t, "ann@leedsth.nhs.uk").into_iter().filter(|m| m.subject.starts_with("Cancelled")).collect();
    assert_eq!(cancels.len(), 1);
    let ics = cancels[0].ics.as_deref().unwrap();
    assert_eq!(ics_value(ics, "METHOD").as_deref(), Some("CANCEL"));
    assert_eq!(ics_value(ics, "STATUS").as_deref(), Some("CANCELLED"));
    assert!(seq(ics) > seq(&update));
    let bob_mail = mails_to(&t, "bob@leedsth.nhs.uk");
    assert_eq!(bob_mail.len(), 1, "the waitlisted member is told, once");
    assert!(bob_mail[0].ics.is_none());
    // A cancelled event takes no bookings, leaves the lists, and its page says so.
    let cat = t.token("cat@leedsth.nhs.uk", &[]).await;
    book(&t, id, &cat).await.assert_problem(409);
    assert_eq!(t.get("/events", None).await.body["items"], json!([]));
    t.patch(&format!("/events/{id}"), &organiser, 4, json!({"title": "x"})).await.assert_problem(409);
}

#[tokio::test]
async fn bookings_close_and_past_events_refuse() {
    let (t, org) = network().await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let mut b = workshop(&org, 5);
    b["booking_closes_at"] = json!(text(in_days(10, 9)));
    let e = create(&t, &organiser, b).await;
    let id = e["id"].as_str().unwrap();
    let member = t.token("ann@leedsth.nhs.uk", &[]).await;
    t.get("/me", Some(&member)).await;
    let claims = Claims::new(
        t.app.member_id_for_email("ann@leedsth.nhs.uk").await.unwrap().unwrap_or("m-ann".into()),
        "ann@leedsth.nhs.uk".into(),
        "ann".into(),
        vec![],
    );
    let after_close = t.at(in_days(15, 9));
    assert!(matches!(after_close.book(&claims, id, "http://x").await, Err(AppError::Conflict(m)) if m.contains("closed")));
    let after_start = t.at(in_days(20, 10));
    assert!(matches!(after_start.book(&claims, id, "http://x").await, Err(AppError::Conflict(m)) if m.contains("started")));
    // Nothing was booked.
    assert_eq!(t.get(&format!("/events/{id}"), None).await.body["places"]["confirmed"], 0);
    assert_eq!(t.get("/me/bookings", Some(&member)).await.body["items"], json!([]));
}

#[tokio::test]
async fn calendar_ics_is_public() {
    let (t, org) = network().await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let e = create(&t, &organiser, workshop(&org, 5)).await;
    let id = e["id"].as_str().unwrap();
    let a = t.get(&format!("/events/{id}/calendar.ics"), None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.header("content-type").unwrap().starts_with("text/calendar"));
    assert_eq!(ics_value(&a.text, "METHOD").as_deref(), Some("PUBLISH"));
    assert_eq!(ics_value(&a.text, "UID").unwrap(), format!("event-{id}@{}", domain(&t)));
    assert_eq!(ics_value(&a.text, "LOCATION").as_deref(), Some("Room 2\\, St James's\\, Leeds"));
    t.get("/events/01NOSUCHEVENT0000000000000/calendar.ics", None).await.assert_problem(404);
}

fn visit(org: &str) -> Value {
    let mut v = workshop(org, 1);
    v["kind"] = json!("go_and_see");
    v["title"] = json!("Ward 7 safety huddle");
    v["what_you_will_see"] = json!("The 08:30 huddle and the safety cross.");
    v["host"] = json!("Ward 7 sister");
    v
}

fn link_token(mail: &Mail) -> String {
    let start = mail.text.find("/visit-requests/").unwrap() + "/visit-requests/".len();
    mail.text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect()
}

#[tokio::test]
async fn go_and_see_requests_are_accepted_or_declined_by_the_host() {
    let (t, org) = network().await;
    let host = t.token("host@leedsth.nhs.uk", &[Role::Organiser]).await;
    t.get("/me", Some(&host)).await;
    let e = create(&t, &host, visit(&org)).await;
    let id = e["id"].as_str().unwrap();
    let ann = t.token("ann@leedsth.nhs.uk", &[]).await;
    let bob = t.token("bob@leedsth.nhs.uk", &[]).await;
    let a = book(&t, id, &ann).await;
    assert_eq!(a.body["status"], "requested", "{}", a.text);
    let b = book(&t, id, &bob).await;
    assert_eq!(b.body["status"], "requested");

    // The host's email links to a page; opening it changes nothing.
    let host_mail = mails_to(&t, "host@leedsth.nhs.uk");
    assert_eq!(host_mail.len(), 2);
    let token = link_token(&host_mail[0]);
    let page = t.get(&format!("/visit-requests/{token}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Accept") && page.text.contains("asks to visit"), "{}", page.text);
    let bad = t.get("/visit-requests/nonsense", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(t.post("/visit-requests/nonsense/accept", None, Value::Null).await.status, StatusCode::BAD_REQUEST);
    let list = t.get(&format!("/events/{id}/bookings"), Some(&host)).await;
    assert!(list.body["items"].as_array().unwrap().iter().all(|b| b["status"] == "requested"));

    // Accepting through the link confirms and sends the visitor the invitation.
    let accepted = t.post(&format!("/visit-requests/{token}/accept"), None, Value::Null).await;
    assert_eq!(accepted.status, StatusCode::OK);
    assert!(accepted.text.contains("You have accepted"));
    let again = t.post(&format!("/visit-requests/{token}/accept"), None, Value::Null).await;
    assert!(again.text.contains("You have accepted"));
    let first_visitor = if mails_to(&t, "ann@leedsth.nhs.uk").is_empty() { "bob" } else { "ann" };
    let mails = mails_to(&t, &format!("{first_visitor}@leedsth.nhs.uk"));
    assert_eq!(mails.len(), 1, "accepting twice sends one invitation");
    assert_eq!(ics_value(mails[0].ics.as_deref().unwrap(), "METHOD").as_deref(), Some("REQUEST"));

    // The JSON route: another member may not answer; the host declines the other.
    let other_id = if first_visitor == "ann" { b.body["id"].as_str().unwrap() } else { a.body["id"].as_str().unwrap() };
    let other_email = if first_visitor == "ann" { "bob@leedsth.nhs.uk" } else { "ann@leedsth.nhs.uk" };
    let path = format!("/events/{id}/bookings/{other_id}");
    t.post(&format!("{path}/decline"), Some(&ann), Value::Null).await.assert_problem(403);
    t.post(&format!("{path}/decline"), None, Value::Null).await.assert_problem(401);
    let d = t.post(&format!("{path}/decline"), Some(&host), Value::Null).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    assert_eq!(d.body["status"], "declined");
    t.post(&format!("{path}/accept"), Some(&host), Value::Null).await.assert_problem(409);
    let declined = mails_to(&t, other_email);
    assert_eq!(declined.len(), 1);
    assert!(declined[0].subject.starts_with("Visit request declined"));
    assert!(declined[0].ics.is_none());
    t.post(&format!("/events/{id}/bookings/01NOSUCHBOOKING00000000000/accept"), Some(&host), Value::Null)
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn a_moderator_accepts_a_visit_through_the_json_route() {
    let (t, org) = network().await;
    let host = t.token("host@leedsth.nhs.uk", &[Role::Organiser]).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let e = create(&t, &host, visit(&org)).await;
    let id = e["id"].as_str().unwrap();
    let ann = t.token("ann@leedsth.nhs.uk", &[]).await;
    let booking = book(&t, id, &ann).await.body;
    let a =
        t.post(&format!("/events/{id}/bookings/{}/accept", booking["id"].as_str().unwrap()), Some(&moderator), Value::Null).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["status"], "confirmed");
    assert_eq!(t.get(&format!("/events/{id}"), None).await.body["places"]["left"], 0);
}

#[tokio::test]
async fn calendar_replies_to_the_no_reply_organiser_are_ignored() {
    let (t, org) = network().await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let e = create(&t, &organiser, workshop(&org, 5)).await;
    let id = e["id"].as_str().unwrap();
    let ann = t.token("ann@leedsth.nhs.uk", &[]).await;
    book(&t, id, &ann).await;
    let before = outbox(&t).len();
    let domain = domain(&t);
    // What Outlook sends when Ann clicks "Accept" on the invitation.
    let reply = format!(
        "From: Ann <ann@leedsth.nhs.uk>\r\nTo: Qnet events <noreply@{domain}>\r\nSubject: Accepted: Run charts for beginners\r\n\
         Message-ID: <imip-reply-1@leedsth.nhs.uk>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/calendar; method=REPLY; charset=utf-8\r\n\r\n\
         BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:Microsoft Exchange Server 2010\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n\
         UID:event-{id}@{domain}\r\nSEQUENCE:0\r\nDTSTAMP:20261123T100000Z\r\n\
         ATTENDEE;PARTSTAT=ACCEPTED:mailto:ann@leedsth.nhs.uk\r\nORGANIZER:mailto:noreply@{domain}\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let inbound = qnet_app::ingest::Inbound::local(reply.into_bytes(), qnet_mail::Verdicts::default());
    let opts = qnet_app::ingest::IngestOptions { dry_run: false, mail_from: t.app.mail_from.to_string() };
    let mailer = Outbox::open(&t.data_dir).unwrap();
    let r = t.app.ingest(&inbound, &opts, &mailer).await.unwrap();
    assert_eq!(r.outcome, "ignore");
    assert_eq!(r.reason.as_deref(), Some("no_reply_address"));
    assert!(r.case_study.is_none());
    assert_eq!(outbox(&t).len(), before, "nothing is sent back");
    assert_eq!(t.get("/me/case-studies", Some(&ann)).await.body["items"], json!([]));
}

#[tokio::test]
async fn the_digest_lists_upcoming_events_that_still_have_places() {
    let (t, org) = network().await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let open = create(&t, &organiser, workshop(&org, 2)).await;
    let mut full = workshop(&org, 1);
    full["title"] = json!("Already full workshop");
    let full = create(&t, &organiser, full).await;
    let mut far = workshop(&org, 10);
    far["title"] = json!("Next season's workshop");
    far["starts_at"] = json!(text(in_days(60, 9)));
    far["ends_at"] = json!(text(in_days(60, 12)));
    far["booking_closes_at"] = json!(text(in_days(59, 9)));
    create(&t, &organiser, far).await;
    let ann = t.token("ann@leedsth.nhs.uk", &[]).await;
    assert_eq!(book(&t, full["id"].as_str().unwrap(), &ann).await.status, StatusCode::CREATED);
    assert_eq!(book(&t, open["id"].as_str().unwrap(), &ann).await.status, StatusCode::CREATED);

    let reader = t.token("reader@leedsth.nhs.uk", &[]).await;
    let preview = t.get("/me/digest/preview", Some(&reader)).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert!(preview.text.contains("Upcoming events with places"), "{}", preview.text);
    assert!(preview.text.contains("Run charts for beginners"), "{}", preview.text);
    assert!(preview.text.contains("1 place left"), "{}", preview.text);
    assert!(!preview.text.contains("Already full workshop"), "a full event is not offered: {}", preview.text);
    assert!(!preview.text.contains("Next season"), "only the next four weeks: {}", preview.text);
    // A member whose digest topics leave it out does not get it.
    let v = t.get("/me", Some(&reader)).await.body["version"].as_u64().unwrap();
    assert_eq!(t.patch("/me", &reader, v, json!({"digest": {"topics": ["flow"]}})).await.status, StatusCode::OK);
    assert!(!t.get("/me/digest/preview", Some(&reader)).await.text.contains("Run charts for beginners"));
}

#[tokio::test]
async fn erasing_a_member_gives_their_place_to_the_first_in_line() {
    let (t, org) = network().await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let e = create(&t, &organiser, workshop(&org, 1)).await;
    let id = e["id"].as_str().unwrap();
    let ann = t.token("ann@leedsth.nhs.uk", &[]).await;
    let bob = t.token("bob@leedsth.nhs.uk", &[]).await;
    assert_eq!(book(&t, id, &ann).await.body["status"], "confirmed");
    assert_eq!(book(&t, id, &bob).await.body["status"], "waitlisted");
    assert_eq!(t.send(Method::DELETE, "/me", Some(&ann), None, &[]).await.status, StatusCode::NO_CONTENT);
    let list = t.get(&format!("/events/{id}/bookings"), Some(&organiser)).await;
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", list.text);
    assert_eq!(items[0]["status"], "confirmed");
    assert!(!list.text.contains("ann@"), "{}", list.text);
    assert_eq!(t.get(&format!("/events/{id}"), None).await.body["places"]["confirmed"], 1);
}

#[tokio::test]
async fn scheduled_events_are_searchable_until_cancelled() {
    let (t, org) = network().await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let e = create(&t, &organiser, workshop(&org, 10)).await;
    let id = e["id"].as_str().unwrap();
    let found = t.get("/search?q=beginners&type=event", None).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    assert_eq!(found.body["items"][0]["id"], id, "{}", found.text);
    assert_eq!(found.body["items"][0]["type"], "event");
    assert!(found.body["items"][0]["highlights"].to_string().contains("<mark>beginners</mark>"), "{}", found.text);
    // A typo still finds it; an edit shows at once.
    assert_eq!(t.get("/search?q=beginers", None).await.body["items"][0]["id"], id);
    let v = t.get(&format!("/events/{id}"), None).await.body["version"].as_u64().unwrap();
    let renamed = t.patch(&format!("/events/{id}"), &organiser, v, json!({"title": "Run charts: a first look"})).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(t.get("/search?q=charts&type=event", None).await.body["items"][0]["title"], "Run charts: a first look");
    let cancelled = t.post(&format!("/events/{id}/cancel"), Some(&organiser), Value::Null).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    assert_eq!(t.get("/search?q=charts&type=event", None).await.body["items"], json!([]));
}

#[tokio::test]
async fn an_events_host_is_its_organisers_organisation_unless_a_moderator_sets_another() {
    let (t, leeds) = network().await;
    let bradford = t.organisation("Bradford Council", &["bradford.gov.uk"]).await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let a = t.post("/events", Some(&organiser), workshop(&bradford, 5)).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["host_organisation_id"]);
    assert_eq!(t.get("/events", None).await.body["items"], json!([]));
    let e = create(&t, &organiser, workshop(&leeds, 5)).await;
    let path = format!("/events/{}", e["id"].as_str().unwrap());
    let a = t.patch(&path, &organiser, 1, json!({"host_organisation_id": bradford, "title": "Moved"})).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["host_organisation_id"]);
    let got = t.get(&path, None).await;
    assert_eq!(got.body["host_organisation"]["id"], leeds.as_str());
    assert_eq!((got.body["title"].as_str(), got.header("etag")), (Some("Run charts for beginners"), Some("\"1\"")));
    // A moderator may set another host, and create an event for any.
    let a = t.patch(&path, &moderator, 1, json!({"host_organisation_id": bradford})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["host_organisation"]["id"], bradford.as_str());
    // The organiser keeps the host a moderator set when changing something else.
    let a = t.patch(&path, &organiser, 2, json!({"host_organisation_id": bradford, "title": "Run charts, part 1"})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    create(&t, &moderator, workshop(&bradford, 5)).await;
}

#[tokio::test]
async fn the_join_link_is_only_for_confirmed_attendees_the_organiser_and_moderators() {
    let (t, org) = network().await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let attendee = t.token("ann@leedsth.nhs.uk", &[]).await;
    let waiting = t.token("wes@leedsth.nhs.uk", &[]).await;
    let stranger = t.token("sue@leedsth.nhs.uk", &[]).await;
    let join = "https://meet.example.nhs.uk/run-charts-4711";
    let mut online = workshop(&org, 1);
    online["online_url"] = json!(join);
    let created = create(&t, &organiser, online).await;
    assert_eq!(created["online_url"], join);
    let id = created["id"].as_str().unwrap();
    assert_eq!(book(&t, id, &attendee).await.body["status"], "confirmed");
    assert_eq!(book(&t, id, &waiting).await.body["status"], "waitlisted");

    let path = format!("/events/{id}");
    for (who, token) in
        [("anonymous", None), ("a member without a booking", Some(&stranger)), ("a waitlisted member", Some(&waiting))]
    {
        let a = t.get(&path, token.map(String::as_str)).await;
        assert_eq!(a.status, StatusCode::OK, "{who}: {}", a.text);
        assert_eq!(a.body["online_url"], Value::Null, "{who}");
        assert_eq!(a.body["online"], true, "{who}");
        assert!(!a.text.contains(join), "{who}: {}", a.text);
    }
    for (who, token) in [("the attendee", &attendee), ("the organiser", &organiser), ("a moderator", &moderator)] {
        let a = t.get(&path, Some(token)).await;
        assert_eq!(a.body["online_url"], join, "{who}: {}", a.text);
    }
    // Never in the public lists, search or the public calendar.
    for public in ["/events".to_string(), "/search?q=charts".to_string(), format!("{path}/calendar.ics")] {
        let a = t.get(&public, None).await;
        assert_eq!(a.status, StatusCode::OK, "{public}: {}", a.text);
        assert!(!a.text.contains("meet.example.nhs.uk"), "{public}: {}", a.text);
    }
    // The confirmed attendee's invitation and personal feed carry it.
    let invitation = mails_to(&t, "ann@leedsth.nhs.uk");
    assert!(invitation.iter().any(|m| m.text.contains(join) && m.ics.as_deref().is_some_and(|i| i.contains("meet.example"))));
    assert!(mails_to(&t, "wes@leedsth.nhs.uk").iter().all(|m| !m.text.contains(join)));
    let feed = t.post("/me/calendar-feed", Some(&attendee), Value::Null).await;
    let url = feed.body["url"].as_str().unwrap().strip_prefix(&t.base).unwrap().to_string();
    assert!(t.get(&url, None).await.text.contains("meet.example.nhs.uk"));
}
