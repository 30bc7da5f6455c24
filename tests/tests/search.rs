//! `GET /search` through the real server on the embedded store: ranked,
//! typo-tolerant, filtered, paged, with highlights from the current record, and
//! never showing anything that is not published, whatever the index holds.

use qnet_app::search::IndexDocument;
use qnet_tests::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn case_study(title: &str, body: &str, topics: &[&str]) -> Value {
    json!({"title": title, "body": body, "topics": topics,
           "sections": {"aim": "Improve care", "results": "It improved."}})
}

async fn library() -> (TestApp, Vec<String>) {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let author = t.token("author@leedsth.nhs.uk", &[]).await;
    let mut ids = vec![];
    for (title, body, topics) in [
        (
            "Frailty screening in the emergency department",
            "Every patient over 75 was screened for frailty on arrival.",
            vec!["patient-safety"],
        ),
        ("Discharge before noon", "Delays on the ward fell after a morning board round. Frailty was not a factor.", vec!["flow"]),
        ("Hourly rounding", "Falls fell by half with hourly rounding.", vec!["patient-safety"]),
    ] {
        let cs = t.submit(&author, case_study(title, body, &topics)).await;
        let id = cs["id"].as_str().unwrap().to_string();
        assert_eq!(t.publish(&id).await.status, StatusCode::OK);
        ids.push(id);
    }
    (t, ids)
}

fn found(a: &qnet_tests::Answer) -> Vec<String> {
    a.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn search_ranks_tolerates_typos_and_highlights() {
    let (t, ids) = library().await;
    let a = t.get("/search?q=frailty", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(found(&a), [ids[0].clone(), ids[1].clone()], "the title match ranks first");
    let first = &a.body["items"][0];
    assert_eq!(first["type"], "case_study");
    assert_eq!(first["title"], "Frailty screening in the emergency department");
    assert!(first["highlights"][0].as_str().unwrap().contains("<mark>Frailty</mark>"), "{first}");
    assert_eq!(found(&t.get("/search?q=frialty", None).await).len(), 2, "one typo is tolerated");
    assert_eq!(found(&t.get("/search?q=delay", None).await), [ids[1].clone()], "stemmed");
    assert_eq!(found(&t.get("/search?q=frailty&topic=flow", None).await), [ids[1].clone()]);
    assert!(found(&t.get("/search?q=frailty&type=event", None).await).is_empty());
    let page1 = t.get("/search?q=frailty&limit=1", None).await;
    let cursor = page1.body["next_cursor"].as_str().expect("a next page").to_string();
    let page2 = t.get(&format!("/search?q=frailty&limit=1&cursor={cursor}"), None).await;
    assert_eq!(found(&page2), [ids[1].clone()]);
    assert!(page2.body["next_cursor"].is_null());
}

#[tokio::test]
async fn search_refuses_bad_input() {
    let (t, _) = library().await;
    t.get("/search", None).await.assert_problem(422);
    t.get("/search?q=%20", None).await.assert_problem(422);
    let a = t.get("/search?q=x&type=spell&topic=astrology&limit=51", None).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["type", "topic", "limit"]);
    t.get("/search?q=frailty&cursor=not-a-cursor", None).await.assert_problem(400);
}

#[tokio::test]
async fn a_stale_index_never_shows_what_is_not_published() {
    let (t, ids) = library().await;
    let index = t.app.search.clone().expect("qnet serve has an index");
    // The index believes in a case study that was never published, and holds
    // old text for a published one.
    let author = t.token("author@leedsth.nhs.uk", &[]).await;
    let pending = t.submit(&author, case_study("Frailty draft", "Frailty work in progress.", &[])).await;
    index
        .upsert(&[
            IndexDocument {
                id: pending["id"].as_str().unwrap().into(),
                kind: "case_study".into(),
                title: "Frailty draft".into(),
                body: "frailty".into(),
                topics: vec![],
            },
            IndexDocument {
                id: ids[2].clone(),
                kind: "case_study".into(),
                title: "Frailty secrets".into(),
                body: "frailty secret text".into(),
                topics: vec![],
            },
        ])
        .unwrap();
    let a = t.get("/search?q=frailty", None).await;
    let items = found(&a);
    assert!(!items.contains(&pending["id"].as_str().unwrap().to_string()), "pending is never shown");
    let stale = a.body["items"].as_array().unwrap().iter().find(|i| i["id"] == ids[2].as_str()).expect("the published one");
    assert_eq!(stale["title"], "Hourly rounding", "the title comes from the record");
    assert!(!stale.to_string().contains("secret"), "highlights come from the current text: {stale}");
}
