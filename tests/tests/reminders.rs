//! Day-before event reminders: only confirmed members of tomorrow's scheduled
//! events are emailed, exactly once across repeated and concurrent runs, on the
//! right London day across the clock changes; a failed send is retried by the
//! next run; `qnet reminders` runs the same code on a data directory; and on
//! DynamoDB (moto, `moto_`), reminders and a calendar feed over the same keys.

use std::sync::Arc;

use async_trait::async_trait;
use mail_parser::MessageParser;
use qnet_app::Claims;
use qnet_app::reminders::{ReminderReport, reminder_day};
use qnet_domain::Role;
use qnet_embedded::Outbox;
use qnet_ports::{MailError, MailSender, OutgoingMail};
use qnet_tests::{TestApp, spawn_app, spawn_app_on_moto};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;

fn text(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

const ORGANISER: &str = "olu@leedsth.nhs.uk";

fn claims(email: &str, roles: Vec<Role>) -> Claims {
    Claims::new(format!("m-{}", email.replace(['@', '.'], "-")), email.into(), email.split('@').next().unwrap().into(), roles)
}

fn event_body(org: &str, title: &str, starts: OffsetDateTime, capacity: u64) -> Value {
    json!({"kind": "workshop", "title": title, "description": "Bring your data.",
           "starts_at": text(starts), "ends_at": text(starts + time::Duration::hours(2)),
           "location": "Room 2, St James's, Leeds", "capacity": capacity,
           "host_organisation_id": org, "topics": ["measurement"]})
}

/// A reminder in the outbox: to whom, and its text and HTML parts.
#[derive(Debug)]
struct Reminder {
    to: String,
    subject: String,
    text: String,
    html: String,
}

fn reminders(t: &TestApp) -> Vec<Reminder> {
    let o = Outbox::open(&t.data_dir).unwrap();
    let mut out = Vec::new();
    for e in o.list().unwrap() {
        let raw = o.read(&e.file_name).unwrap();
        let m = MessageParser::default().parse(&raw).unwrap();
        let subject = m.subject().unwrap_or_default().to_string();
        if !subject.starts_with("Tomorrow: ") {
            continue;
        }
        out.push(Reminder {
            to: m.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_string(),
            subject,
            text: m.body_text(0).map(|b| b.to_string()).unwrap_or_default(),
            html: m.body_html(0).map(|b| b.to_string()).unwrap_or_default(),
        });
    }
    out.sort_by(|a, b| (&a.to, &a.subject).cmp(&(&b.to, &b.subject)));
    out
}

fn sent_to(t: &TestApp) -> Vec<(String, String)> {
    reminders(t).into_iter().map(|r| (r.to, r.subject)).collect()
}

fn skipped(r: &ReminderReport, why: &str) -> usize {
    r.skipped.get(why).copied().unwrap_or_else(|| panic!("no skipped.{why} in {r:?}"))
}

async fn network() -> (TestApp, String) {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    (t, org)
}

async fn create(t: &TestApp, organiser: &str, body: Value) -> String {
    let a = t.post("/events", Some(organiser), body).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body["id"].as_str().unwrap().to_string()
}

async fn book(t: &TestApp, token: &str, event: &str) -> String {
    let a = t.post(&format!("/events/{event}/bookings"), Some(token), Value::Null).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body["status"].as_str().unwrap().to_string()
}

/// Tomorrow's events, built over HTTP: a workshop (2 places: Ann and Bob
/// confirmed, Cat waitlisted), a talk Eve booked and cancelled, a go-and-see
/// visit Fay asked for, an event Ann booked that was cancelled, and one next
/// week. Answers the run time and the two workshops' ids.
async fn tomorrows_events(t: &TestApp, org: &str) -> (OffsetDateTime, String) {
    let now = OffsetDateTime::now_utc();
    let (_, tomorrow, _) = reminder_day(now);
    let organiser = t.token(ORGANISER, &[Role::Organiser]).await;
    let token = |who: &'static str| async move { t.token(&format!("{who}@leedsth.nhs.uk"), &[]).await };
    let (ann, bob, cat, eve, fay) =
        (token("ann").await, token("bob").await, token("cat").await, token("eve").await, token("fay").await);

    let workshop = create(t, &organiser, event_body(org, "Run charts", tomorrow + time::Duration::hours(10), 2)).await;
    assert_eq!(book(t, &ann, &workshop).await, "confirmed");
    assert_eq!(book(t, &bob, &workshop).await, "confirmed");
    assert_eq!(book(t, &cat, &workshop).await, "waitlisted");

    let talk = create(t, &organiser, event_body(org, "A talk", tomorrow + time::Duration::hours(14), 5)).await;
    assert_eq!(book(t, &eve, &talk).await, "confirmed");
    let cancelled = t.send(Method::DELETE, &format!("/events/{talk}/bookings/me"), Some(&eve), None, &[]).await;
    assert_eq!(cancelled.status, StatusCode::NO_CONTENT, "{}", cancelled.text);

    let mut visit = event_body(org, "See our discharge lounge", tomorrow + time::Duration::hours(11), 3);
    visit["kind"] = json!("go_and_see");
    visit["what_you_will_see"] = json!("The lounge at work");
    visit["host"] = json!("Sister Jones");
    let visit = create(t, &organiser, visit).await;
    assert_eq!(book(t, &fay, &visit).await, "requested");

    let off = create(t, &organiser, event_body(org, "Called off", tomorrow + time::Duration::hours(12), 5)).await;
    assert_eq!(book(t, &ann, &off).await, "confirmed");
    assert_eq!(t.post(&format!("/events/{off}/cancel"), Some(&organiser), Value::Null).await.status, StatusCode::OK);

    let later = create(t, &organiser, event_body(org, "Next week", tomorrow + time::Duration::days(7), 5)).await;
    assert_eq!(book(t, &ann, &later).await, "confirmed");
    (now, workshop)
}

#[tokio::test]
async fn reminders_go_to_confirmed_members_of_tomorrows_events_once() {
    let (t, org) = network().await;
    let (now, workshop) = tomorrows_events(&t, &org).await;

    let first = qnet::reminders::reminders_on(&t.app, now).await.unwrap();
    assert_eq!((first.events, first.sent, first.failed), (3, 2, 0), "{first:?}");
    assert_eq!(skipped(&first, "not_confirmed"), 2, "Cat is waitlisted, Fay's visit is a request: {first:?}");
    assert_eq!(skipped(&first, "already_sent"), 0);
    assert!(first.failures.is_empty());
    assert_eq!(
        sent_to(&t),
        [
            ("ann@leedsth.nhs.uk".to_string(), "Tomorrow: Run charts".to_string()),
            ("bob@leedsth.nhs.uk".to_string(), "Tomorrow: Run charts".to_string())
        ],
        "confirmed places only; none for the cancelled event, the cancelled booking or next week's event"
    );

    // The email: London time, the place, a link to the event, a text and an HTML part.
    let mail = reminders(&t).into_iter().next().unwrap();
    let (_, tomorrow, _) = reminder_day(now);
    let local = qnet_domain::event::london_local(tomorrow + time::Duration::hours(10));
    assert!(mail.text.contains(&format!("When: {local}")), "{}", mail.text);
    assert!(mail.text.contains("Where: Room 2, St James's, Leeds"), "{}", mail.text);
    let link = format!("{}/events/{workshop}", t.app.web_base_url);
    assert!(mail.text.contains(&link), "{}", mail.text);
    assert!(mail.html.contains(&link) && mail.html.contains("max-width:600px"), "{}", mail.html);
    assert!(mail.text.trim_start().starts_with("Hello ann,"), "{}", mail.text);

    // Again, and again later the same day: nothing more.
    let again = qnet::reminders::reminders_on(&t.app, now).await.unwrap();
    assert_eq!((again.events, again.sent, skipped(&again, "already_sent")), (3, 0, 2), "{again:?}");
    let later = qnet::reminders::reminders_on(&t.app, now + time::Duration::hours(1)).await.unwrap();
    assert_eq!(later.sent, 0, "{later:?}");
    assert_eq!(reminders(&t).len(), 2);
}

#[tokio::test]
async fn two_runs_at_once_send_each_reminder_once() {
    let (t, org) = network().await;
    let (now, _) = tomorrows_events(&t, &org).await;
    let (a, b) = tokio::join!(qnet::reminders::reminders_on(&t.app, now), qnet::reminders::reminders_on(&t.app, now));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 2, "{a:?} {b:?}");
    assert_eq!(skipped(&a, "already_sent") + skipped(&b, "already_sent"), 2, "{a:?} {b:?}");
    assert_eq!(reminders(&t).len(), 2);
}

/// Refuses every email, as an SES outage would.
struct Down;

#[async_trait]
impl MailSender for Down {
    async fn send(&self, _: &OutgoingMail) -> Result<String, MailError> {
        Err(MailError::Unavailable("SES is down".into()))
    }
}

#[tokio::test]
async fn a_failed_reminder_is_sent_by_the_next_run_and_qnet_reminders_reports_it() {
    let (t, org) = network().await;
    let (now, workshop) = tomorrows_events(&t, &org).await;
    let down = t.app.clone().with_mailer(Arc::new(Down), &t.app.mail_from);
    let failed = qnet::reminders::reminders_on(&down, now).await.unwrap();
    assert_eq!((failed.sent, failed.failed), (0, 2), "{failed:?}");
    assert!(failed.failures.iter().all(|f| f.event_id == workshop), "{failed:?}");
    let printed = serde_json::to_string(&failed).unwrap();
    assert!(!printed.contains("@leedsth.nhs.uk") && !printed.contains("SES is down"), "ids only: {printed}");
    assert!(reminders(&t).is_empty());

    // `qnet reminders` on the data directory: the claims were released, so it sends both.
    let report = qnet::reminders::run_reminders(&t.data_dir, Arc::new(qnet_ports::FixedClock(now))).await.unwrap();
    assert_eq!((report.sent, report.failed), (2, 0), "{report:?}");
    let printed: Value = serde_json::to_value(&report).unwrap();
    for field in ["date", "events", "sent", "skipped", "failed", "failures"] {
        assert!(printed.get(field).is_some(), "the summary has {field}: {printed}");
    }
    assert_eq!(reminders(&t).len(), 2);
    assert_eq!(qnet::reminders::run_reminders(&t.data_dir, Arc::new(qnet_ports::FixedClock(now))).await.unwrap().sent, 0);
}

/// Events around the spring and autumn clock changes, made and booked through
/// `App` at a fixed moment before them. Each run reminds exactly the events on
/// the next London date.
#[tokio::test]
async fn tomorrow_is_the_next_london_day_across_the_clock_changes() {
    let (t, org) = network().await;
    let made = t.at(datetime!(2027-03-01 09:00 UTC));
    let organiser = claims(ORGANISER, vec![Role::Organiser]);
    let ann = claims("ann@leedsth.nhs.uk", vec![]);
    for (name, starts) in [
        // Clocks go forward on Sunday 28 March 2027 (that day is 00:00Z to 23:00Z).
        ("sat-late", datetime!(2027-03-27 23:30 UTC)),  // 23:30 GMT Saturday
        ("sun-last", datetime!(2027-03-28 22:30 UTC)),  // 23:30 BST Sunday
        ("mon-first", datetime!(2027-03-28 23:30 UTC)), // 00:30 BST Monday
        // Clocks go back on Sunday 31 October 2027 (23:00Z on the 30th to 00:00Z on 1 November).
        ("sat-late-bst", datetime!(2027-10-30 22:30 UTC)), // 23:30 BST Saturday
        ("sun-first", datetime!(2027-10-30 23:30 UTC)),    // 00:30 BST Sunday
        ("sun-late", datetime!(2027-10-31 23:30 UTC)),     // 23:30 GMT Sunday
    ] {
        let created = made.create_event(&organiser, &event_body(&org, name, starts, 5), None).await.unwrap();
        let id = created.view()["id"].as_str().unwrap().to_string();
        made.book(&ann, &id, &t.base).await.unwrap();
    }
    let mut seen = 0;
    for (now, date, expected) in [
        // Friday 26 March, 09:00 GMT: Saturday's event.
        (datetime!(2027-03-26 09:00 UTC), "2027-03-27", &["sat-late"][..]),
        // Saturday 27 March, 09:00 GMT: Sunday, the short day.
        (datetime!(2027-03-27 09:00 UTC), "2027-03-28", &["sun-last"][..]),
        // Sunday 28 March, 09:00 BST (08:00 UTC): Monday's 00:30 BST event.
        (datetime!(2027-03-28 08:00 UTC), "2027-03-29", &["mon-first"][..]),
        // Friday 29 October, 09:00 BST: Saturday's late event only.
        (datetime!(2027-10-29 08:00 UTC), "2027-10-30", &["sat-late-bst"][..]),
        // Saturday 30 October, 09:00 BST: Sunday, the long day, has two.
        (datetime!(2027-10-30 08:00 UTC), "2027-10-31", &["sun-first", "sun-late"][..]),
        // Sunday 31 October, 09:00 GMT: nothing on Monday.
        (datetime!(2027-10-31 09:00 UTC), "2027-11-01", &[][..]),
    ] {
        let r = qnet::reminders::reminders_on(&t.at(now), now).await.unwrap();
        assert_eq!((r.date.as_str(), r.events, r.sent, r.failed), (date, expected.len(), expected.len(), 0), "{r:?}");
        let all = reminders(&t);
        assert_eq!(all.len(), seen + expected.len(), "{all:?}");
        seen = all.len();
        for name in expected {
            let subject = format!("Tomorrow: {name}");
            assert_eq!(all.iter().filter(|m| m.subject == subject).count(), 1, "{name} reminded once, on {date}'s eve");
        }
    }
}

/// On DynamoDB (moto): tomorrow's events from the upcoming list's date
/// prefixes, claims by conditional put, and a calendar feed read from the
/// member's bookings on GSI2. The table is shared with other tests and runs,
/// so the day is a random one years ahead.
#[tokio::test]
async fn moto_reminders_and_a_calendar_feed_on_dynamodb() {
    let t = spawn_app_on_moto().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let spread = i64::from(OffsetDateTime::now_utc().nanosecond() % 1500);
    let day = datetime!(2030-01-07 00:00 UTC) + time::Duration::days(spread);
    let made = t.at(day - time::Duration::days(10));
    let organiser = claims(ORGANISER, vec![Role::Organiser]);
    let (ann, bob) = (claims("ann@leedsth.nhs.uk", vec![]), claims("bob@leedsth.nhs.uk", vec![]));
    let created =
        made.create_event(&organiser, &event_body(&org, "On DynamoDB", day + time::Duration::hours(10), 1), None).await.unwrap();
    let id = created.view()["id"].as_str().unwrap().to_string();
    assert_eq!(made.book(&ann, &id, &t.base).await.unwrap().booking.status, qnet_app::events::BookingStatus::Confirmed);
    assert_eq!(made.book(&bob, &id, &t.base).await.unwrap().booking.status, qnet_app::events::BookingStatus::Waitlisted);

    let eve = day - time::Duration::hours(15);
    let first = qnet::reminders::reminders_on(&made, eve).await.unwrap();
    assert_eq!((first.events, first.sent, skipped(&first, "not_confirmed")), (1, 1, 1), "{first:?}");
    let again = qnet::reminders::reminders_on(&made, eve).await.unwrap();
    assert_eq!((again.sent, skipped(&again, "already_sent")), (0, 1), "{again:?}");
    assert_eq!(sent_to(&t), [("ann@leedsth.nhs.uk".to_string(), "Tomorrow: On DynamoDB".to_string())]);

    let then = t.at(eve);
    let link = then.create_calendar_feed(&ann, &t.base).await.unwrap();
    let token = link.url.rsplit('/').next().unwrap().to_string();
    let ics = then.calendar_feed(&token).await.unwrap();
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 1, "{ics}");
    assert!(ics.contains(&format!("UID:event-{id}@")), "{ics}");
    let replaced = then.create_calendar_feed(&ann, &t.base).await.unwrap();
    assert!(then.calendar_feed(&token).await.is_err(), "the replaced feed is revoked");
    let fresh = replaced.url.rsplit('/').next().unwrap();
    assert!(then.calendar_feed(fresh).await.is_ok());
    let bobs = then.create_calendar_feed(&bob, &t.base).await.unwrap();
    let bob_ics = then.calendar_feed(bobs.url.rsplit('/').next().unwrap()).await.unwrap();
    assert!(!bob_ics.contains("BEGIN:VEVENT"), "Bob is waitlisted: {bob_ics}");
}
