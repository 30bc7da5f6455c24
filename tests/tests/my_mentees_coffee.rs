//! A mentor's offers and mentees (`GET /me/mentees`) and a member's coffee
//! rounds (`GET /me/coffee`) over HTTP on the embedded store: each person sees
//! their own and nobody else's.

use qnet_tests::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn network() -> TestApp {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    t.organisation("Bradford Council", &["bradford.gov.uk"]).await;
    t
}

async fn member(t: &TestApp, email: &str) -> String {
    let tok = t.token(email, &[]).await;
    assert_eq!(t.get("/me", Some(&tok)).await.status, StatusCode::OK);
    tok
}

async fn mentees(t: &TestApp, tok: &str) -> Value {
    let a = t.get("/me/mentees", Some(tok)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.body
}

#[tokio::test]
async fn a_mentor_sees_their_offers_then_their_mentees_and_nobody_elses() {
    let t = network().await;
    let dan = member(&t, "dan@bradford.gov.uk").await;
    t.become_mentor(&dan).await;
    let ann = member(&t, "ann@leedsth.nhs.uk").await;
    let eve = member(&t, "eve@leedsth.nhs.uk").await;
    assert_eq!(mentees(&t, &dan).await, json!({"offered": [], "current": []}), "nothing before anyone asks");

    let r = t
        .post(
            "/mentoring-requests",
            Some(&ann),
            json!({"kind": "mentoring", "topics": ["flow"], "goals": "Run charts for discharge times."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["state"], "proposed");
    let id = r.body["id"].as_str().unwrap().to_string();

    let m = mentees(&t, &dan).await;
    assert_eq!(m["current"], json!([]));
    let offered = m["offered"].as_array().unwrap();
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0]["request"]["id"], id.as_str());
    assert_eq!(offered[0]["request"]["goals"], "Run charts for discharge times.");
    assert_eq!(offered[0]["mentee_name"], "ann");
    assert_eq!(offered[0]["mentee_organisation"], "Leeds Teaching Hospitals");
    // The member who asked and a bystander are nobody's mentor here.
    assert_eq!(mentees(&t, &ann).await, json!({"offered": [], "current": []}));
    assert_eq!(mentees(&t, &eve).await, json!({"offered": [], "current": []}));

    let token = t.offer_token("dan@bradford.gov.uk");
    assert_eq!(t.post(&format!("/mentoring/offers/{token}/accept"), None, Value::Null).await.status, StatusCode::OK);
    let m = mentees(&t, &dan).await;
    assert_eq!(m["offered"], json!([]));
    let current = m["current"].as_array().unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["request"]["state"], "active");
    assert_eq!(current[0]["request"]["pairing"]["mentor_id"], t.get("/me", Some(&dan)).await.body["id"]);
    assert_eq!(mentees(&t, &eve).await, json!({"offered": [], "current": []}));

    // Closed pairings leave the list.
    let a = t.post(&format!("/mentoring-pairings/{id}/close"), Some(&ann), json!({"feedback": "Thank you."})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(mentees(&t, &dan).await, json!({"offered": [], "current": []}));
    assert_eq!(t.get("/me/mentees", None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_member_sees_this_weeks_coffee_pairing_and_past_rounds() {
    let t = network().await;
    for who in ["a1@leedsth.nhs.uk", "b1@bradford.gov.uk"] {
        let tok = member(&t, who).await;
        let a = t.patch("/me", &tok, 1, json!({"coffee": {"opt_in": true}})).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }
    let c1 = member(&t, "c1@leedsth.nhs.uk").await;
    let a1 = t.token("a1@leedsth.nhs.uk", &[]).await;
    let b1 = t.token("b1@bradford.gov.uk", &[]).await;

    let week1 = time::macros::datetime!(2026-11-23 09:00 UTC);
    let in_week1 = t.api_at(week1 + time::Duration::days(1)).await;
    let before = in_week1.get("/me/coffee", Some(&a1)).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    assert_eq!(before.body, json!({"opt_in": true, "round": "2026-W48", "this_week": null, "past": []}), "not drawn yet");

    t.app.coffee_round(week1, false).await.unwrap();
    let mine = in_week1.get("/me/coffee", Some(&a1)).await.body;
    let week = &mine["this_week"];
    assert_eq!(week["round"], "2026-W48");
    assert_eq!(week["partners"], json!([{"name": "b1", "organisation": "Bradford Council", "email": "b1@bradford.gov.uk"}]));
    assert!(week["introduced_at"].is_string());
    let intro = week["introduction"].as_str().unwrap();
    assert!(intro.contains("Hello a1 and b1") || intro.contains("Hello b1 and a1"), "{intro}");
    assert!(intro.contains("b1, Bradford Council: b1@bradford.gov.uk"), "{intro}");
    let theirs = in_week1.get("/me/coffee", Some(&b1)).await.body;
    assert_eq!(theirs["this_week"]["partners"][0]["name"], "a1");
    let outside = in_week1.get("/me/coffee", Some(&c1)).await.body;
    assert_eq!(outside, json!({"opt_in": false, "round": "2026-W48", "this_week": null, "past": []}));

    // The next week, before its round: last week is a past round.
    let in_week2 = t.api_at(week1 + time::Duration::weeks(1)).await;
    let later = in_week2.get("/me/coffee", Some(&a1)).await.body;
    assert_eq!(later["round"], "2026-W49");
    assert_eq!(later["this_week"], Value::Null);
    assert_eq!(later["past"].as_array().unwrap().len(), 1);
    assert_eq!(later["past"][0]["round"], "2026-W48");
    assert_eq!(later["past"][0]["partners"][0]["name"], "b1");
    assert_eq!(in_week2.get("/me/coffee", None).await.status, StatusCode::UNAUTHORIZED);
}
