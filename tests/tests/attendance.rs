//! The register of an event over HTTP: the organiser marks who attended (kept
//! on the booking in the store), only for confirmed places and from an hour
//! before the start, and exports the bookings as CSV with every formula-like
//! cell neutralised.

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

fn workshop(org: &str, capacity: u64) -> Value {
    json!({"kind": "workshop", "title": "Run charts for beginners", "description": "Bring your data.",
           "starts_at": in_days(20, 9).format(&Rfc3339).unwrap(), "ends_at": in_days(20, 12).format(&Rfc3339).unwrap(),
           "location": "Room 2, St James's, Leeds", "capacity": capacity,
           "host_organisation_id": org, "topics": ["measurement"]})
}

/// A member called `name`, answering (token, member id).
async fn member(t: &TestApp, email: &str, name: &str) -> (String, String) {
    let token = t.token(email, &[]).await;
    let me = t.get("/me", Some(&token)).await;
    let version = me.body["version"].as_u64().unwrap();
    let renamed = t.patch("/me", &token, version, json!({"name": name})).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    (token, me.body["id"].as_str().unwrap().to_string())
}

async fn mark(t: &TestApp, token: Option<&str>, event: &str, booking: &str, body: Value) -> qnet_tests::Answer {
    t.send(Method::PUT, &format!("/events/{event}/bookings/{booking}/attendance"), token, Some(body), &[]).await
}

/// The cells of a CSV line as written (every cell quoted, quotes doubled).
fn cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        assert_eq!(c, '"', "every cell is quoted: {line}");
        let mut cell = String::new();
        loop {
            match chars.next() {
                Some('"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                Some('"') => break,
                Some(ch) => cell.push(ch),
                None => panic!("unterminated cell in {line}"),
            }
        }
        out.push(cell);
        match chars.next() {
            Some(',') | None => {}
            Some(other) => panic!("{other:?} after a cell in {line}"),
        }
    }
    out
}

#[tokio::test]
async fn the_organiser_marks_attendance_and_exports_a_neutralised_csv() {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let organiser = t.token("olu@leedsth.nhs.uk", &[Role::Organiser]).await;
    let other_organiser = t.token("oti@leedsth.nhs.uk", &[Role::Organiser]).await;
    let moderator = t.token("mo@leedsth.nhs.uk", &[Role::Moderator]).await;
    let a = t.post("/events", Some(&organiser), workshop(&org, 1)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let id = a.body["id"].as_str().unwrap().to_string();
    let starts = in_days(20, 9);

    let (ann, ann_id) = member(&t, "ann@leedsth.nhs.uk", "=HYPERLINK(\"http://evil.example\",\"Ann\")").await;
    let (bob, _) = member(&t, "bob@leedsth.nhs.uk", "-2+3 Bob").await;
    let (cy, _) = member(&t, "cy@leedsth.nhs.uk", "@Cy, \"the\" tab\tname").await;
    let booked = t.post(&format!("/events/{id}/bookings"), Some(&ann), Value::Null).await;
    assert_eq!(booked.body["status"], "confirmed", "{}", booked.text);
    assert_eq!(booked.body["attended"], Value::Null);
    let ann_booking = booked.body["id"].as_str().unwrap().to_string();
    let waiting = t.post(&format!("/events/{id}/bookings"), Some(&bob), Value::Null).await;
    assert_eq!(waiting.body["status"], "waitlisted");
    let bob_booking = waiting.body["id"].as_str().unwrap().to_string();
    t.post(&format!("/events/{id}/bookings"), Some(&cy), Value::Null).await;

    // Weeks before the start the register is not open.
    mark(&t, Some(&organiser), &id, &ann_booking, json!({"attended": true})).await.assert_problem(409);

    // Half an hour before the start it is.
    let at_door = t.api_at(starts - time::Duration::minutes(30)).await;
    mark(&at_door, None, &id, &ann_booking, json!({"attended": true})).await.assert_problem(401);
    mark(&at_door, Some(&ann), &id, &ann_booking, json!({"attended": true})).await.assert_problem(403);
    mark(&at_door, Some(&other_organiser), &id, &ann_booking, json!({"attended": true})).await.assert_problem(403);
    mark(&at_door, Some(&organiser), &id, &ann_booking, json!({"attended": "yes"})).await.assert_problem(422);
    mark(&at_door, Some(&organiser), &id, &ann_booking, json!({"attended": true, "extra": 1})).await.assert_problem(422);
    mark(&at_door, Some(&organiser), &id, &bob_booking, json!({"attended": true})).await.assert_problem(409);
    mark(&at_door, Some(&organiser), &id, "01NOSUCHBOOKING00000000000", json!({"attended": true})).await.assert_problem(404);
    let marked = mark(&at_door, Some(&organiser), &id, &ann_booking, json!({"attended": true})).await;
    assert_eq!(marked.status, StatusCode::OK, "{}", marked.text);
    assert_eq!(marked.body["attended"], true);
    assert_eq!(marked.body["status"], "confirmed");

    // Recorded on the booking in the store.
    let (pk, sk) = qnet_app::keys::booking(&id, &ann_id);
    let stored = t.app.records.get(&pk, &sk).await.unwrap().expect("the booking is stored");
    assert_eq!(stored.data["attended"], true);
    let version = stored.version;
    // The same answer again changes nothing; a moderator may correct it.
    mark(&at_door, Some(&organiser), &id, &ann_booking, json!({"attended": true})).await;
    assert_eq!(t.app.records.get(&pk, &sk).await.unwrap().unwrap().version, version);
    let after = t.api_at(starts + time::Duration::hours(4)).await;
    let corrected = mark(&after, Some(&moderator), &id, &ann_booking, json!({"attended": false})).await;
    assert_eq!(corrected.body["attended"], false, "{}", corrected.text);
    assert_eq!(t.app.records.get(&pk, &sk).await.unwrap().unwrap().data["attended"], false);
    mark(&after, Some(&organiser), &id, &ann_booking, json!({"attended": true})).await;

    // The organiser's list and the member's own bookings say so.
    let list = t.get(&format!("/events/{id}/bookings"), Some(&organiser)).await;
    let ann_row = list.body["items"].as_array().unwrap().iter().find(|b| b["id"] == ann_booking.as_str()).unwrap().clone();
    assert_eq!(ann_row["attended"], true);
    let mine = t.get("/me/bookings", Some(&ann)).await;
    assert_eq!(mine.body["items"][0]["booking"]["attended"], true, "{}", mine.text);

    // The CSV: organiser and moderators only.
    let path = format!("/events/{id}/bookings.csv");
    t.get(&path, None).await.assert_problem(401);
    t.get(&path, Some(&ann)).await.assert_problem(403);
    t.get(&path, Some(&other_organiser)).await.assert_problem(403);
    assert_eq!(t.get(&path, Some(&moderator)).await.status, StatusCode::OK);
    let csv = t.get(&path, Some(&organiser)).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.header("content-disposition").unwrap().contains(&format!("attendees-{id}.csv")));
    let text = csv.text.strip_prefix('\u{feff}').expect("a byte order mark for spreadsheets");
    assert!(text.ends_with("\r\n"));
    let rows: Vec<Vec<String>> = text.trim_end_matches("\r\n").split("\r\n").map(cells).collect();
    assert_eq!(rows[0], ["Name", "Email", "Organisation", "Status", "Waiting list position", "Attended", "Booked"]);
    assert_eq!(rows.len(), 4, "{text}");
    assert_eq!(rows[1][0], "'=HYPERLINK(\"http://evil.example\",\"Ann\")");
    assert_eq!(rows[1][1], "ann@leedsth.nhs.uk");
    assert_eq!(rows[1][2], "Leeds Teaching Hospitals");
    assert_eq!(rows[1][3..6], ["Confirmed", "", "Yes"]);
    assert_eq!(rows[2][0], "'-2+3 Bob");
    assert_eq!(rows[2][3..6], ["Waiting list", "1", ""]);
    assert_eq!(rows[3][0], "'@Cy, \"the\" tab\tname");
    assert_eq!(rows[3][4], "2");
    for row in &rows {
        for cell in row {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a formula-like cell was left as is: {cell:?}");
        }
    }

    // A cancelled event has no register.
    let cancelled = t.post(&format!("/events/{id}/cancel"), Some(&organiser), json!({"reason": "Room flooded"})).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    mark(&after, Some(&organiser), &id, &ann_booking, json!({"attended": true})).await.assert_problem(409);
}
