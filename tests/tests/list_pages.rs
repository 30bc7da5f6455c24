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

/// The embedded store, with one list request run between a transaction's
/// commit and its answer to the writer: what a concurrent request can see.
struct ListsAfterCommit {
    inner: std::sync::Arc<dyn RecordStore>,
    app: std::sync::Arc<std::sync::OnceLock<qnet_app::App>>,
    armed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

#[async_trait::async_trait]
impl RecordStore for ListsAfterCommit {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<qnet_ports::Item>, qnet_ports::StoreError> {
        self.inner.get(pk, sk).await
    }
    async fn put(&self, item: qnet_ports::Item, c: Condition) -> Result<(), qnet_ports::StoreError> {
        self.inner.put(item, c).await
    }
    async fn delete(&self, pk: &str, sk: &str, c: Condition) -> Result<(), qnet_ports::StoreError> {
        self.inner.delete(pk, sk, c).await
    }
    async fn query(&self, q: Query) -> Result<qnet_ports::Page, qnet_ports::StoreError> {
        self.inner.query(q).await
    }
    async fn query_raw(&self, q: Query) -> Result<qnet_ports::RawPage, qnet_ports::StoreError> {
        self.inner.query_raw(q).await
    }
    async fn change_mark(&self) -> Result<Option<u64>, qnet_ports::StoreError> {
        self.inner.change_mark().await
    }
    async fn transact(&self, writes: Vec<qnet_ports::Write>) -> Result<(), qnet_ports::StoreError> {
        let r = self.inner.transact(writes).await;
        if self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            let app = self.app.get().expect("the app").clone();
            app.list_published_json(&all()).await.expect("a list between the commit and its answer");
        }
        r
    }
    fn at_clock(&self, clock: std::sync::Arc<dyn qnet_ports::Clock>) -> std::sync::Arc<dyn RecordStore> {
        std::sync::Arc::new(ListsAfterCommit {
            inner: self.inner.at_clock(clock),
            app: self.app.clone(),
            armed: self.armed.clone(),
        })
    }
}

fn all() -> qnet_app::case_studies::ListRequest {
    qnet_app::case_studies::ListRequest { topic: None, organisation_id: None, limit: 20, cursor: None }
}

/// A list request that lands just after a rename commits, before the writer
/// has dropped its copy of the organisation names, must not keep a page with
/// the old name for later readers (a review found it did).
#[tokio::test]
async fn a_page_read_as_a_rename_commits_never_keeps_the_old_name() {
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let store = qnet_embedded::EmbeddedRecordStore::open(dir.path()).unwrap();
    let blobs = qnet_embedded::EmbeddedBlobStore::open(dir.path(), [7u8; 32], "http://127.0.0.1".into()).unwrap();
    let slot = Arc::new(std::sync::OnceLock::new());
    let armed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hooked = ListsAfterCommit { inner: Arc::new(store), app: slot.clone(), armed: armed.clone() };
    let app = qnet_app::App::new(Arc::new(hooked), Arc::new(blobs), Arc::new(qnet_ports::SystemClock));
    slot.set(app.clone()).ok();
    let admin = qnet_app::Claims::new("a".into(), "admin@leedsth.nhs.uk".into(), "A".into(), vec![Role::Admin]);
    let input = qnet_domain::organisation::OrganisationInput::parse(
        &json!({"name": "Leeds Teaching Hospitals", "type": "nhs", "email_domains": ["leedsth.nhs.uk"]}),
        true,
    )
    .unwrap();
    let created = app.create_organisation(&admin, input, None).await.unwrap();
    let org = created.view()["id"].as_str().unwrap().to_string();
    // A published case study's list entry, as publication writes it.
    let entry = json!({"id": "cs1", "title": "Hourly rounding", "summary": "Falls halved.", "organisation_id": org,
                       "topics": [], "published_at": "2026-01-01T00:00:00Z"});
    app.records
        .put(qnet_ports::Item::new(qnet_app::keys::published_list(None, None), "2026#cs1", entry), Condition::None)
        .await
        .unwrap();
    let before = String::from_utf8(app.list_published_json(&all()).await.unwrap().to_vec()).unwrap();
    assert!(before.contains("Leeds Teaching Hospitals"), "{before}");

    armed.store(true, std::sync::atomic::Ordering::SeqCst);
    let input = qnet_domain::organisation::OrganisationInput::parse(&json!({"name": "Leeds Hospitals"}), false).unwrap();
    app.update_organisation(&admin, &org, input, None).await.unwrap();
    assert!(!armed.load(std::sync::atomic::Ordering::SeqCst), "the list ran between the commit and its answer");
    let after = String::from_utf8(app.list_published_json(&all()).await.unwrap().to_vec()).unwrap();
    assert!(after.contains("\"organisation_name\":\"Leeds Hospitals\""), "{after}");
}
