//! Personal calendar feeds over HTTP: a member makes a feed URL, a calendar app
//! reads it with no login, and it lists exactly the events the member has a
//! confirmed place on (the invitations' UID and SEQUENCE, cancelled events
//! marked so), as well-formed RFC 5545; replaced, revoked and erased feeds
//! answer 404 problem+json and change nothing.

use std::collections::BTreeMap;

use mail_parser::{MessageParser, MimeHeaders};
use qnet_app::Claims;
use qnet_domain::Role;
use qnet_embedded::Outbox;
use qnet_tests::{Answer, TestApp, spawn_app};
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

const ORGANISER: &str = "olu@leedsth.nhs.uk";
const ANN: &str = "ann@leedsth.nhs.uk";
const BOB: &str = "bob@leedsth.nhs.uk";

fn event_body(org: &str, title: &str, days: i64, capacity: u64) -> Value {
    json!({"kind": "training", "title": title, "description": "Bring your data.",
           "starts_at": text(in_days(days, 9)), "ends_at": text(in_days(days, 11)),
           "location": "Room 2, St James's, Leeds", "capacity": capacity,
           "host_organisation_id": org, "topics": ["measurement"]})
}

async fn network() -> (TestApp, String, String) {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let organiser = t.token(ORGANISER, &[Role::Organiser]).await;
    (t, org, organiser)
}

async fn create_event(t: &TestApp, organiser: &str, body: Value) -> String {
    let a = t.post("/events", Some(organiser), body).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body["id"].as_str().unwrap().to_string()
}

async fn book(t: &TestApp, token: &str, event: &str) -> String {
    let a = t.post(&format!("/events/{event}/bookings"), Some(token), Value::Null).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body["status"].as_str().unwrap().to_string()
}

async fn new_feed(t: &TestApp, token: &str) -> String {
    let a = t.post("/me/calendar-feed", Some(token), Value::Null).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.header("location"), Some("/me/calendar-feed"));
    let url = a.body["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/calendar-feeds/", t.base)), "{url}");
    url
}

/// Reads a feed URL as a calendar app would: no login.
async fn fetch(t: &TestApp, url: &str) -> Answer {
    qnet_tests::read(t.client.get(url).send().await.unwrap()).await
}

/// A feed that answered 200, checked as RFC 5545 text: CRLF line ends, lines
/// folded at 75 octets, and parsed by the icalendar crate's parser (after
/// unfolding). Answers each VEVENT's properties by name.
fn parse_feed(a: &Answer) -> (BTreeMap<String, String>, Vec<BTreeMap<String, String>>) {
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.header("content-type"), Some("text/calendar; charset=utf-8"));
    assert_eq!(a.header("cache-control"), Some("private, max-age=300"));
    let ics = &a.text;
    assert!(ics.ends_with("\r\n"), "{ics}");
    assert!(!ics.replace("\r\n", "").contains('\n'), "every line ends with CRLF: {ics}");
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "a line over 75 octets: {line:?}");
    }
    let unfolded = icalendar::parser::unfold(ics);
    let cal = icalendar::parser::read_calendar(&unfolded).expect("the feed parses as iCalendar");
    let props = |p: &[icalendar::parser::Property<'_>]| {
        p.iter().map(|p| (p.name.as_str().to_string(), p.val.as_str().to_string())).collect::<BTreeMap<_, _>>()
    };
    let head = props(&cal.properties);
    let events = cal.components.iter().filter(|c| c.name == "VEVENT").map(|c| props(&c.properties)).collect();
    (head, events)
}

/// The UID and SEQUENCE of the latest invitation the emails to `to` carried for `event`.
fn invitation(t: &TestApp, to: &str, event: &str) -> (String, String) {
    let o = Outbox::open(&t.data_dir).unwrap();
    let uid = format!("event-{event}@");
    let mut found: Vec<(u32, String)> = Vec::new();
    for e in o.list().unwrap() {
        let raw = o.read(&e.file_name).unwrap();
        let m = MessageParser::default().parse(&raw).unwrap();
        if m.to().and_then(|a| a.first()).and_then(|a| a.address()) != Some(to) {
            continue;
        }
        for part in &m.parts {
            let is_ics = part.content_type().is_some_and(|ct| ct.ctype() == "text" && ct.subtype() == Some("calendar"));
            let Some(body) = part.text_contents().filter(|_| is_ics) else { continue };
            let unfolded = icalendar::parser::unfold(body);
            let cal = icalendar::parser::read_calendar(&unfolded).unwrap();
            for c in cal.components.iter().filter(|c| c.name == "VEVENT") {
                let get = |n: &str| c.properties.iter().find(|p| p.name == n).map(|p| p.val.as_str().to_string());
                if get("UID").is_some_and(|u| u.starts_with(&uid)) {
                    found.push((get("SEQUENCE").unwrap().parse().unwrap(), get("UID").unwrap()));
                }
            }
        }
    }
    let (sequence, uid) = found.into_iter().max().unwrap_or_else(|| panic!("no invitation to {to} for {event}"));
    (uid, sequence.to_string())
}

#[tokio::test]
async fn the_feed_lists_exactly_the_events_the_member_is_confirmed_on() {
    let (t, org, organiser) = network().await;
    let ann = t.token(ANN, &[]).await;
    let bob = t.token(BOB, &[]).await;
    let long_title = "Measurement for improvement: run charts and SPC and telling a story with data to your board";
    let confirmed = create_event(&t, &organiser, event_body(&org, long_title, 10, 5)).await;
    let full = create_event(&t, &organiser, event_body(&org, "Full up", 11, 1)).await;
    let cancelled = create_event(&t, &organiser, event_body(&org, "Called off", 12, 5)).await;
    let left = create_event(&t, &organiser, event_body(&org, "Changed my mind", 13, 5)).await;
    let moved = create_event(&t, &organiser, event_body(&org, "Moved once", 14, 5)).await;
    let _not_booked = create_event(&t, &organiser, event_body(&org, "Not booked", 15, 5)).await;

    assert_eq!(book(&t, &ann, &confirmed).await, "confirmed");
    assert_eq!(book(&t, &bob, &full).await, "confirmed");
    assert_eq!(book(&t, &ann, &full).await, "waitlisted");
    assert_eq!(book(&t, &ann, &cancelled).await, "confirmed");
    assert_eq!(t.post(&format!("/events/{cancelled}/cancel"), Some(&organiser), Value::Null).await.status, StatusCode::OK);
    assert_eq!(book(&t, &ann, &left).await, "confirmed");
    let gone = t.send(Method::DELETE, &format!("/events/{left}/bookings/me"), Some(&ann), None, &[]).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    assert_eq!(book(&t, &ann, &moved).await, "confirmed");
    let got = t.get(&format!("/events/{moved}"), None).await;
    let version = got.body["version"].as_u64().unwrap();
    let patched = t.patch(&format!("/events/{moved}"), &organiser, version, json!({"location": "Room 9 LGI"})).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);

    // Past events, made and booked while they were to come: one that ended 10
    // days ago is still in the feed, one that ended 45 days ago is not.
    let claims = |email: &str, roles: Vec<Role>| {
        Claims::new(format!("m-{}", email.replace(['@', '.'], "-")), email.into(), "x".into(), roles)
    };
    let mut past = Vec::new();
    for (days, title) in [(10, "Ten days ago"), (45, "Forty-five days ago")] {
        let then = t.at(in_days(-days - 5, 8));
        let body = event_body(&org, title, 0, 5);
        let mut body = body;
        body["starts_at"] = json!(text(in_days(-days, 9)));
        body["ends_at"] = json!(text(in_days(-days, 11)));
        let created = then.create_event(&claims(ORGANISER, vec![Role::Organiser]), &body, None).await.unwrap();
        let id = created.view()["id"].as_str().unwrap().to_string();
        then.book(&claims(ANN, vec![]), &id, &t.base).await.unwrap();
        past.push(id);
    }

    let url = new_feed(&t, &ann).await;
    let (head, events) = parse_feed(&fetch(&t, &url).await);
    assert_eq!(head.get("METHOD").map(String::as_str), Some("PUBLISH"));
    assert_eq!(head.get("X-WR-CALNAME").map(String::as_str), Some("Qnet"));
    assert_eq!(head.get("VERSION").map(String::as_str), Some("2.0"));
    assert!(!fetch(&t, &url).await.text.contains("METHOD:REQUEST"));

    let domain = t.app.mail_from.rsplit_once('@').unwrap().1.to_string();
    let uid = |id: &str| format!("event-{id}@{domain}");
    let mut uids: Vec<String> = events.iter().map(|e| e["UID"].clone()).collect();
    uids.sort();
    let mut expected = vec![uid(&confirmed), uid(&cancelled), uid(&moved), uid(&past[0])];
    expected.sort();
    assert_eq!(uids, expected, "confirmed places only: not waitlisted, not cancelled bookings, not unbooked or older events");

    let by_uid = |id: &str| events.iter().find(|e| e["UID"] == uid(id)).unwrap();
    assert_eq!(by_uid(&confirmed)["SUMMARY"], long_title, "a folded line unfolds to the whole title");
    assert_eq!(by_uid(&confirmed)["STATUS"], "CONFIRMED");
    assert_eq!(by_uid(&cancelled)["STATUS"], "CANCELLED");
    assert_eq!(by_uid(&moved)["LOCATION"], "Room 9 LGI");
    // The same UID and SEQUENCE as the emails: calendar apps show one entry.
    for id in [&confirmed, &moved] {
        let (invite_uid, invite_sequence) = invitation(&t, ANN, id);
        assert_eq!((by_uid(id)["UID"].clone(), by_uid(id)["SEQUENCE"].clone()), (invite_uid, invite_sequence));
    }
    assert_eq!(by_uid(&moved)["SEQUENCE"], "1", "the place changed once");
    // Soonest first.
    let starts: Vec<&String> = events.iter().map(|e| &e["DTSTART"]).collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted);

    // Bob's feed is his own.
    let bobs = new_feed(&t, &bob).await;
    let (_, events) = parse_feed(&fetch(&t, &bobs).await);
    assert_eq!(events.iter().map(|e| e["UID"].clone()).collect::<Vec<_>>(), vec![uid(&full)]);
}

#[tokio::test]
async fn a_replaced_or_revoked_feed_answers_404_and_changes_nothing() {
    let (t, _org, _organiser) = network().await;
    let ann = t.token(ANN, &[]).await;
    let none = t.get("/me/calendar-feed", Some(&ann)).await;
    assert_eq!((none.status, none.body.clone()), (StatusCode::OK, json!({"exists": false, "created_at": null})));

    let first = new_feed(&t, &ann).await;
    parse_feed(&fetch(&t, &first).await);
    let status = t.get("/me/calendar-feed", Some(&ann)).await;
    assert_eq!(status.body["exists"], true);
    assert!(status.body["created_at"].is_string());
    let token = first.rsplit('/').next().unwrap();
    assert!(!status.text.contains(token), "the token is never shown again");
    // Calendar apps may change the token's case; it still works.
    parse_feed(&fetch(&t, &first.replace(token, &token.to_ascii_lowercase())).await);

    let second = new_feed(&t, &ann).await;
    assert_ne!(first, second);
    fetch(&t, &first).await.assert_problem(404);
    parse_feed(&fetch(&t, &second).await);

    // Bad tokens change nothing: the live feed still works.
    for bad in ["nonsense", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &format!("{}A", token)] {
        fetch(&t, &format!("{}/calendar-feeds/{bad}", t.base)).await.assert_problem(404);
    }
    parse_feed(&fetch(&t, &second).await);

    let revoked = t.send(Method::DELETE, "/me/calendar-feed", Some(&ann), None, &[]).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    fetch(&t, &second).await.assert_problem(404);
    assert_eq!(t.get("/me/calendar-feed", Some(&ann)).await.body["exists"], false);
    // Revoking again is harmless.
    assert_eq!(t.send(Method::DELETE, "/me/calendar-feed", Some(&ann), None, &[]).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn two_requests_at_once_leave_one_working_feed() {
    let (t, _org, _organiser) = network().await;
    let ann = t.token(ANN, &[]).await;
    let (a, b) = tokio::join!(new_feed(&t, &ann), new_feed(&t, &ann));
    let working = [fetch(&t, &a).await.status, fetch(&t, &b).await.status];
    assert_eq!(working.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{working:?}");
    assert_eq!(working.iter().filter(|s| **s == StatusCode::NOT_FOUND).count(), 1, "{working:?}");
}

#[tokio::test]
async fn the_me_routes_need_a_login_and_each_member_has_their_own_feed() {
    let (t, _org, organiser) = network().await;
    for method in [Method::GET, Method::POST, Method::DELETE] {
        t.send(method.clone(), "/me/calendar-feed", None, None, &[]).await.assert_problem(401);
        t.send(method, "/me/calendar-feed", Some("not-a-token"), None, &[]).await.assert_problem(401);
    }
    // Every role is a member with a feed of their own; revoking one leaves the others.
    let moderator = t.token("mo@leedsth.nhs.uk", &[Role::Moderator]).await;
    let ann = t.token(ANN, &[]).await;
    let feeds = [new_feed(&t, &organiser).await, new_feed(&t, &moderator).await, new_feed(&t, &ann).await];
    assert_eq!(t.send(Method::DELETE, "/me/calendar-feed", Some(&ann), None, &[]).await.status, StatusCode::NO_CONTENT);
    parse_feed(&fetch(&t, &feeds[0]).await);
    parse_feed(&fetch(&t, &feeds[1]).await);
    fetch(&t, &feeds[2]).await.assert_problem(404);
}

#[tokio::test]
async fn erasure_revokes_the_feed() {
    let (t, _org, _organiser) = network().await;
    let ann = t.token(ANN, &[]).await;
    let me = t.get("/me", Some(&ann)).await;
    let member_id = me.body["id"].as_str().unwrap().to_string();
    let url = new_feed(&t, &ann).await;
    parse_feed(&fetch(&t, &url).await);
    assert_eq!(t.send(Method::DELETE, "/me", Some(&ann), None, &[]).await.status, StatusCode::NO_CONTENT);
    fetch(&t, &url).await.assert_problem(404);
    let (pk, sk) = qnet_app::keys::calendar_feed(&member_id);
    assert!(t.app.records.get(&pk, &sk).await.unwrap().is_none(), "the pointer goes with the member");
}
