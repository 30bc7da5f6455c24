//! The published lists' pages are kept as JSON while the store is unchanged
//! (issue 24). Whatever changes what a reader could see (a publication, an
//! edit, an organisation renamed, a write by another process) shows on the
//! very next request.

use qnet_domain::Role;
use qnet_ports::{Condition, Index, Query, RecordStore};
use qnet_tests::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn titles(t: &TestApp, path: &str) -> Vec<String> {
    let a = t.get(path, None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.header("content-type"), Some("application/json"));
    a.body["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_kept_page_never_outlives_a_change() {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let member = t.token("jo@leedsth.nhs.uk", &[]).await;
    let case = |title: &str| json!({"title": title, "body": "Four PDSA cycles on the board round.", "topics": ["flow"]});
    let first = t.submit(&member, case("Hourly rounding")).await;
    t.publish(first["id"].as_str().unwrap()).await;

    // Read twice: the second answer is the kept page, byte for byte.
    let all = "/case-studies?limit=20";
    let a = t.get(all, None).await;
    let b = t.get(all, None).await;
    assert_eq!(a.text, b.text);
    assert_eq!(a.body["items"][0]["organisation_name"], "Leeds Teaching Hospitals");
    assert_eq!(titles(&t, &format!("/case-studies?limit=20&organisation_id={org}")).await, ["Hourly rounding"]);

    // A publication.
    let second = t.submit(&member, case("Safety huddles")).await;
    let second_id = second["id"].as_str().unwrap().to_string();
    assert_eq!(titles(&t, all).await, ["Hourly rounding"], "a pending case study is not listed");
    t.publish(&second_id).await;
    assert_eq!(titles(&t, all).await, ["Safety huddles", "Hourly rounding"]);
    assert_eq!(titles(&t, "/case-studies?limit=20&topic=flow").await, ["Safety huddles", "Hourly rounding"]);

    // An edit of a published case study.
    let moderator = t.token("moderator@qnet.test", &[Role::Moderator]).await;
    let path = format!("/case-studies/{second_id}");
    let version = t.get(&path, Some(&moderator)).await.body["version"].as_u64().unwrap();
    let edited = t.patch(&path, &moderator, version, json!({"title": "Safety huddles at 8am"})).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert_eq!(titles(&t, all).await, ["Safety huddles at 8am", "Hourly rounding"]);

    // An organisation renamed: its name is joined into every summary.
    let admin = t.token("admin@qnet.test", &[Role::Admin]).await;
    let renamed = t
        .send(Method::PATCH, &format!("/organisations/{org}"), Some(&admin), Some(json!({"name": "Leeds Hospitals"})), &[])
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(t.get(all, None).await.body["items"][0]["organisation_name"], "Leeds Hospitals");

    // Another process writing to the same store (as `qnet token` or `qnet
    // admin` does beside `qnet serve`): its own connections, its own writer.
    let other = qnet_embedded::EmbeddedRecordStore::open(&t.data_dir).unwrap();
    let page = other.query(Query::new(Index::Primary, qnet_app::keys::published_list(None, None)).limit(10)).await.unwrap();
    let mut entry = page.items.into_iter().find(|i| i.data["id"] == second_id.as_str()).expect("its list entry");
    entry.data["title"] = "Written by another process".into();
    other.put(entry, Condition::None).await.unwrap();
    assert_eq!(titles(&t, all).await, ["Written by another process", "Hourly rounding"]);

    // A bad request is still refused on a kept page's path.
    t.get("/case-studies?limit=20&topic=nope", None).await.assert_problem(422);
    t.get("/case-studies?limit=20&cursor=nope", None).await.assert_problem(400);
}
