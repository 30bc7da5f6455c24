//! The resources library through HTTP: sharing, moderation (the same mechanism
//! as case studies), files checked like attachments, links, lists with filters,
//! counted downloads, and every refusal.

use qnet_domain::Role;
use qnet_tests::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

async fn member(t: &TestApp) -> (String, String) {
    let org = t.organisation("Bradford District Care", &["bdct.nhs.uk"]).await;
    (t.token("sam.patel@bdct.nhs.uk", &[]).await, org)
}

fn link() -> Value {
    json!({"title": "Run chart rules explained", "description": "A short guide to reading run charts: shifts, trends and runs.",
           "kind": "link", "topics": ["measurement"], "url": "https://qi.example.org/run-charts"})
}

async fn moderator(t: &TestApp) -> String {
    t.token("mod@qnet.test", &[Role::Moderator]).await
}

async fn upload(t: &TestApp, declared: &Answer, bytes: Vec<u8>) -> StatusCode {
    let mut r = t.client.put(declared.body["upload_url"].as_str().unwrap()).body(bytes);
    for (k, v) in declared.body["upload_headers"].as_object().unwrap() {
        if k != "content-length" {
            r = r.header(k, v.as_str().unwrap());
        }
    }
    r.send().await.unwrap().status()
}

use qnet_tests::Answer;

fn declaration(name: &str, content_type: &str, bytes: &[u8]) -> Value {
    json!({"filename": name, "content_type": content_type, "size": bytes.len(), "sha256": hex::encode(Sha256::digest(bytes))})
}

/// A well-formed PDF with no pages.
fn empty_pdf() -> Vec<u8> {
    use lopdf::{Document, Object, dictionary};
    let mut doc = Document::with_version("1.4");
    let pages = doc.add_object(dictionary! {"Type" => "Pages", "Kids" => Vec::<Object>::new(), "Count" => 0});
    let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages});
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[tokio::test]
async fn a_link_resource_is_shared_moderated_listed_and_counted() {
    let t = spawn_app().await;
    let (sam, org) = member(&t).await;
    let moderator = moderator(&t).await;
    let topic = "measurement";

    let created = t.post("/resources", Some(&sam), link()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(created.header("location"), Some(format!("/resources/{id}").as_str()));
    assert_eq!(created.body["status"], "pending");
    assert_eq!(created.body["organisation_id"], org.as_str());
    assert_eq!(created.body["organisation_name"], "Bradford District Care");
    assert_eq!(created.body["download_count"], 0);

    // Pending: only the submitter and moderators know it exists.
    t.get(&format!("/resources/{id}"), None).await.assert_problem(404);
    let other = t.token("someone@else.test", &[]).await;
    t.get(&format!("/resources/{id}"), Some(&other)).await.assert_problem(404);
    t.get(&format!("/resources/{id}/download"), None).await.assert_problem(404);
    assert_eq!(t.get(&format!("/resources/{id}"), Some(&sam)).await.status, StatusCode::OK);
    assert_eq!(t.get("/resources", None).await.body["items"], json!([]));

    // The moderation queue and the roles that may not use it.
    t.get("/moderation/resources", None).await.assert_problem(401);
    t.get("/moderation/resources", Some(&sam)).await.assert_problem(403);
    let organiser = t.token("org@bdct.nhs.uk", &[Role::Organiser]).await;
    t.get("/moderation/resources", Some(&organiser)).await.assert_problem(403);
    let queue = t.get("/moderation/resources", Some(&moderator)).await;
    assert_eq!(queue.body["items"][0]["id"], id.as_str());
    assert_eq!(queue.body["items"][0]["format"], "link");

    // Only moderators publish or reject.
    t.moderate(&format!("/resources/{id}/publish"), None, Value::Null).await.assert_problem(401);
    t.moderate(&format!("/resources/{id}/publish"), Some(&sam), Value::Null).await.assert_problem(403);
    t.moderate(&format!("/resources/{id}/publish"), Some(&organiser), Value::Null).await.assert_problem(404);
    t.moderate(&format!("/resources/{id}/reject"), Some(&sam), json!({"reason": "no"})).await.assert_problem(403);
    let published = t.moderate(&format!("/resources/{id}/publish"), Some(&moderator), Value::Null).await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text);
    assert_eq!(published.body["status"], "published");
    t.moderate(&format!("/resources/{id}/publish"), Some(&moderator), Value::Null).await.assert_problem(409);
    assert_eq!(t.get("/moderation/resources", Some(&moderator)).await.body["items"], json!([]));

    // Public now, without the submitter's email.
    let public = t.get(&format!("/resources/{id}"), None).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.body["submitted_by"].get("email").is_none(), "{}", public.text);
    assert_eq!(public.header("etag"), Some("\"2\""));

    // Every filter, alone and together, and one that matches nothing.
    for q in [
        String::new(),
        format!("?topic={topic}"),
        "?kind=link".into(),
        format!("?organisation={org}"),
        format!("?topic={topic}&kind=link&organisation={org}"),
    ] {
        let l = t.get(&format!("/resources{q}"), None).await;
        assert_eq!(l.body["items"][0]["id"], id.as_str(), "{q}: {}", l.text);
        assert_eq!(l.body["items"][0]["organisation_name"], "Bradford District Care");
    }
    assert_eq!(t.get("/resources?kind=video", None).await.body["items"], json!([]));
    assert_eq!(t.get("/resources?topic=flow&kind=link", None).await.body["items"], json!([]));
    t.get("/resources?limit=0", None).await.assert_problem(422);
    let bad = t.get("/resources?kind=poster&topic=nope&organisation=nowhere", None).await;
    bad.assert_problem(422);
    for f in ["kind", "topic", "organisation"] {
        assert!(bad.problem_fields().contains(&f.to_string()), "{f}: {}", bad.text);
    }
    t.get("/resources?cursor=garbage", None).await.assert_problem(400);

    // Downloads: a 302 to the link, counted atomically under concurrency.
    let d = t.get(&format!("/resources/{id}/download"), None).await;
    assert_eq!(d.status, StatusCode::FOUND);
    assert_eq!(d.header("location"), Some("https://qi.example.org/run-charts"));
    let many: Vec<_> = (0..20)
        .map(|_| {
            let (client, url) = (t.client.clone(), format!("{}/resources/{id}/download", t.base));
            tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
        })
        .collect();
    for a in many {
        assert_eq!(a.await.unwrap(), StatusCode::FOUND);
    }
    assert_eq!(t.get(&format!("/resources/{id}"), None).await.body["download_count"], 21);

    // Editing: the submitter only while pending; a moderator always, with If-Match.
    t.patch(&format!("/resources/{id}"), &sam, 2, json!({"title": "Mine now"})).await.assert_problem(403);
    t.patch(&format!("/resources/{id}"), &other, 2, json!({"title": "Mine now"})).await.assert_problem(403);
    t.patch(&format!("/resources/{id}"), &moderator, 1, json!({"title": "Stale"})).await.assert_problem(412);
    let none = t.send(Method::PATCH, &format!("/resources/{id}"), Some(&moderator), Some(json!({"title": "x"})), &[]).await;
    none.assert_problem(428);
    let edited = t.patch(&format!("/resources/{id}"), &moderator, 2, json!({"kind": "guide", "topics": ["flow"]})).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert_eq!(t.get("/resources?kind=link", None).await.body["items"], json!([]));
    assert_eq!(t.get(&format!("/resources?topic={topic}"), None).await.body["items"], json!([]));
    assert_eq!(t.get("/resources?topic=flow&kind=guide", None).await.body["items"][0]["id"], id.as_str());
    let http = t.patch(&format!("/resources/{id}"), &moderator, 3, json!({"url": "http://qi.example.org/"})).await;
    http.assert_problem(422);
    assert_eq!(http.problem_fields(), vec!["url".to_string()]);

    // Rejection takes it out of every list.
    let rejected =
        t.moderate(&format!("/resources/{id}/reject"), Some(&moderator), json!({"reason": "Duplicate of another guide"})).await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    assert_eq!(t.get("/resources", None).await.body["items"], json!([]));
    assert_eq!(t.get(&format!("/resources/{id}"), Some(&sam)).await.body["rejection_reason"], "Duplicate of another guide");
}

#[tokio::test]
async fn a_file_resource_is_published_only_once_its_file_is_checked() {
    let t = spawn_app().await;
    let (sam, _org) = member(&t).await;
    let moderator = moderator(&t).await;
    let created = t
        .post(
            "/resources",
            Some(&sam),
            json!({"title": "PDSA template", "description": "A one-page PDSA worksheet.", "kind": "template"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    let early = t.moderate(&format!("/resources/{id}/publish"), Some(&moderator), Value::Null).await;
    early.assert_problem(409);
    assert!(early.text.contains("neither a file nor a url"), "{}", early.text);

    // Declaring a file: the same refusals as attachments, nothing recorded.
    let exe =
        t.post(&format!("/resources/{id}/file"), Some(&sam), declaration("setup.exe", "application/x-msdownload", b"MZ")).await;
    exe.assert_problem(422);
    let other = t.token("someone@else.test", &[]).await;
    // A PDF the check can read (an unreadable one would hold the resource).
    let pdf = empty_pdf();
    t.post(&format!("/resources/{id}/file"), Some(&other), declaration("w.pdf", "application/pdf", &pdf))
        .await
        .assert_problem(404);
    t.post(&format!("/resources/{id}/file"), None, declaration("w.pdf", "application/pdf", &pdf)).await.assert_problem(401);

    // Retried with the same key: one declaration.
    let key = [("idempotency-key", "file-1")];
    let body = declaration("worksheet.pdf", "application/pdf", &pdf);
    let declared = t.send(Method::POST, &format!("/resources/{id}/file"), Some(&sam), Some(body.clone()), &key).await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.text);
    let again = t.send(Method::POST, &format!("/resources/{id}/file"), Some(&sam), Some(body), &key).await;
    assert_eq!(again.body["attachment"]["id"], declared.body["attachment"]["id"]);
    assert_eq!(declared.body["attachment"]["status"], "pending");
    let pending = t.moderate(&format!("/resources/{id}/publish"), Some(&moderator), Value::Null).await;
    pending.assert_problem(409);
    assert!(pending.text.contains("not been uploaded and checked"), "{}", pending.text);

    assert_eq!(upload(&t, &declared, pdf.clone()).await, StatusCode::OK);
    let r = t.get(&format!("/resources/{id}"), Some(&sam)).await;
    assert_eq!(r.body["file"]["status"], "ready", "{}", r.text);
    // A link cannot be added to a file resource.
    t.patch(&format!("/resources/{id}"), &sam, r.body["version"].as_u64().unwrap(), json!({"url": "https://x.example/"}))
        .await
        .assert_problem(422);

    assert_eq!(t.moderate(&format!("/resources/{id}/publish"), Some(&moderator), Value::Null).await.status, StatusCode::OK);
    let d = t.get(&format!("/resources/{id}/download"), None).await;
    assert_eq!(d.status, StatusCode::FOUND);
    let location = d.header("location").unwrap().to_string();
    assert!(location.contains("/_local/blobs/attachments/resources/"), "{location}");
    let bytes = t.client.get(&location).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), pdf.as_slice());
    assert_eq!(t.get(&format!("/resources/{id}"), None).await.body["download_count"], 1);
    // A published resource's checked file is not swapped behind the moderator's back.
    t.post(&format!("/resources/{id}/file"), Some(&moderator), declaration("v2.pdf", "application/pdf", &pdf))
        .await
        .assert_problem(409);
}

#[tokio::test]
async fn patient_data_holds_a_resource_until_a_moderator_releases_it() {
    let t = spawn_app().await;
    let (sam, _org) = member(&t).await;
    let moderator = moderator(&t).await;
    let mut body = link();
    body["description"] = json!("Worked example from patient 943 476 5919's pathway.");
    let created = t.post("/resources", Some(&sam), body).await;
    assert!(created.body["hold"]["reason"].as_str().unwrap().contains("NHS number"), "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    let refused = t.moderate(&format!("/resources/{id}/publish"), Some(&moderator), Value::Null).await;
    refused.assert_problem(409);
    assert!(refused.text.contains("a hold stands on this resource"), "{}", refused.text);
    assert_eq!(
        t.patch(&format!("/resources/{id}"), &moderator, 1, json!({"description": "Worked example, anonymised."})).await.status,
        StatusCode::OK
    );
    let released = t.moderate(&format!("/resources/{id}/release-hold"), Some(&moderator), Value::Null).await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.text);
    assert_eq!(released.body["hold"], Value::Null);
    assert_eq!(t.moderate(&format!("/resources/{id}/publish"), Some(&moderator), Value::Null).await.status, StatusCode::OK);

    // A file with patient data is refused and holds its resource, which leaves the lists.
    let r2 = t
        .post("/resources", Some(&sam), json!({"title": "Audit data", "description": "Our falls audit.", "kind": "dataset"}))
        .await;
    let id2 = r2.body["id"].as_str().unwrap().to_string();
    let csv = b"date,nhs_number\n2026-01-01,943 476 5919\n".to_vec();
    let declared = t.post(&format!("/resources/{id2}/file"), Some(&sam), declaration("audit.csv", "text/csv", &csv)).await;
    assert_eq!(upload(&t, &declared, csv).await, StatusCode::OK);
    let held = t.get(&format!("/resources/{id2}"), Some(&sam)).await;
    assert_eq!(held.body["file"]["status"], "rejected", "{}", held.text);
    assert!(held.body["hold"]["reason"].as_str().unwrap().starts_with("Attachment audit.csv"), "{}", held.text);
    t.moderate(&format!("/resources/{id2}/publish"), Some(&moderator), Value::Null).await.assert_problem(409);
}

#[tokio::test]
async fn bad_resources_are_refused_and_retries_create_one() {
    let t = spawn_app().await;
    let (sam, _org) = member(&t).await;
    t.post("/resources", None, link()).await.assert_problem(401);
    let bad = t
        .post("/resources", Some(&sam), json!({"title": " ", "kind": "poster", "url": "http://qi.example.org", "topics": ["nope"], "organisation_id": "nowhere", "colour": "red"}))
        .await;
    bad.assert_problem(422);
    for f in ["title", "description", "kind", "url", "topics[0]", "colour"] {
        assert!(bad.problem_fields().contains(&f.to_string()), "{f}: {}", bad.text);
    }
    let no_url = t.post("/resources", Some(&sam), json!({"title": "t", "description": "d", "kind": "link"})).await;
    no_url.assert_problem(422);
    assert_eq!(no_url.problem_fields(), vec!["url".to_string()]);
    let mut unknown_org = link();
    unknown_org["organisation_id"] = json!("01JAAAAAAAAAAAAAAAAAAAAAAA");
    t.post("/resources", Some(&sam), unknown_org).await.assert_problem(422);
    t.get("/resources/not-an-id", None).await.assert_problem(404);

    let key = [("idempotency-key", "share-1")];
    let a = t.send(Method::POST, "/resources", Some(&sam), Some(link()), &key).await;
    let b = t.send(Method::POST, "/resources", Some(&sam), Some(link()), &key).await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.body["id"], b.body["id"]);
    let moderator = moderator(&t).await;
    assert_eq!(t.get("/moderation/resources", Some(&moderator)).await.body["items"].as_array().unwrap().len(), 1);
    let mut other = link();
    other["title"] = json!("Something else");
    t.send(Method::POST, "/resources", Some(&sam), Some(other), &key).await.assert_problem(409);
}

#[tokio::test]
async fn erasing_a_member_keeps_their_resources_anonymous() {
    let t = spawn_app().await;
    let (sam, _org) = member(&t).await;
    let created = t.post("/resources", Some(&sam), link()).await;
    let id = created.body["id"].as_str().unwrap().to_string();
    let moderator = moderator(&t).await;
    assert_eq!(t.moderate(&format!("/resources/{id}/publish"), Some(&moderator), Value::Null).await.status, StatusCode::OK);
    assert_eq!(t.send(Method::DELETE, "/me", Some(&sam), None, &[]).await.status, StatusCode::NO_CONTENT);
    let r = t.get(&format!("/resources/{id}"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["submitted_by"], json!({"member_id": null, "name": null}));
    assert!(!r.text.contains("sam"), "{}", r.text);
}

#[tokio::test]
async fn new_resources_have_their_own_digest_section_filtered_by_topic() {
    let t = spawn_app().await;
    let (sam, _org) = member(&t).await;
    let moderator = moderator(&t).await;
    let created = t.post("/resources", Some(&sam), link()).await;
    let id = created.body["id"].as_str().unwrap().to_string();
    // Pending resources are not news.
    let reader = t.token("reader@bdct.nhs.uk", &[]).await;
    let before = t.get("/me/digest/preview", Some(&reader)).await;
    assert!(!before.text.contains("Run chart rules explained"), "{}", before.text);
    assert_eq!(t.moderate(&format!("/resources/{id}/publish"), Some(&moderator), Value::Null).await.status, StatusCode::OK);
    let preview = t.get("/me/digest/preview", Some(&reader)).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(preview.text.contains("New resources"), "{}", preview.text);
    assert!(preview.text.contains("Run chart rules explained (link)"), "{}", preview.text);
    assert!(preview.text.contains(&format!("/resources/{id}")), "{}", preview.text);
    // A member whose digest topics leave it out does not get it.
    let me = t.get("/me", Some(&reader)).await;
    let v = me.body["version"].as_u64().unwrap();
    assert_eq!(t.patch("/me", &reader, v, json!({"digest": {"topics": ["flow"]}})).await.status, StatusCode::OK);
    let filtered = t.get("/me/digest/preview", Some(&reader)).await;
    assert!(!filtered.text.contains("Run chart rules explained"), "{}", filtered.text);
}

#[tokio::test]
async fn published_resources_are_searchable_and_leave_the_answers_when_withdrawn() {
    let t = spawn_app().await;
    let (sam, _org) = member(&t).await;
    let moderator = moderator(&t).await;
    let created = t.post("/resources", Some(&sam), link()).await;
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(t.get("/search?q=run+charts", None).await.body["items"], json!([]), "pending resources are not found");
    assert_eq!(t.moderate(&format!("/resources/{id}/publish"), Some(&moderator), Value::Null).await.status, StatusCode::OK);
    let found = t.get("/search?q=trends&type=resource", None).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    assert_eq!(found.body["items"][0]["id"], id.as_str(), "{}", found.text);
    assert_eq!(found.body["items"][0]["type"], "resource");
    assert_eq!(found.body["items"][0]["title"], "Run chart rules explained");
    assert!(found.body["items"][0]["highlights"].to_string().contains("<mark>trends</mark>"), "{}", found.text);
    assert_eq!(t.get("/search?q=trends&type=case_study", None).await.body["items"], json!([]));
    let rejected = t.moderate(&format!("/resources/{id}/reject"), Some(&moderator), json!({"reason": "Out of date"})).await;
    assert_eq!(rejected.status, StatusCode::OK);
    assert_eq!(t.get("/search?q=trends", None).await.body["items"], json!([]));
}

#[tokio::test]
async fn a_resource_names_its_submitters_organisation_unless_a_moderator_sets_another() {
    let t = spawn_app().await;
    let (sam, own) = member(&t).await;
    let moderator = moderator(&t).await;
    let other = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let mut claimed = link();
    claimed["organisation_id"] = json!(other);
    let a = t.post("/resources", Some(&sam), claimed.clone()).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["organisation_id"]);
    assert_eq!(t.get("/moderation/resources", Some(&moderator)).await.body["items"], json!([]));
    let created = t.post("/resources", Some(&sam), link()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let path = format!("/resources/{}", created.body["id"].as_str().unwrap());
    let a = t.patch(&path, &sam, 1, json!({"organisation_id": other, "title": "Moved"})).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["organisation_id"]);
    let got = t.get(&path, Some(&sam)).await;
    assert_eq!(
        (got.body["organisation_id"].as_str(), got.body["title"].as_str()),
        (Some(own.as_str()), Some("Run chart rules explained"))
    );
    assert_eq!(got.header("etag"), Some("\"1\""));
    // Naming their own organisation is fine; a moderator may name any.
    let a = t.patch(&path, &sam, 1, json!({"organisation_id": own})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let a = t.patch(&path, &moderator, 2, json!({"organisation_id": other})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["organisation_id"], other.as_str());
    let by_moderator = t.post("/resources", Some(&moderator), claimed).await;
    assert_eq!(by_moderator.status, StatusCode::CREATED, "{}", by_moderator.text);
}

#[tokio::test]
async fn a_resource_is_published_only_at_the_version_the_moderator_reviewed() {
    let t = spawn_app().await;
    let (sam, _) = member(&t).await;
    let moderator = moderator(&t).await;
    let created = t.post("/resources", Some(&sam), link()).await;
    let path = format!("/resources/{}", created.body["id"].as_str().unwrap());
    let edited = t.patch(&path, &sam, 1, json!({"description": "A longer guide, edited after the moderator looked."})).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    t.send(Method::POST, &format!("{path}/publish"), Some(&moderator), None, &[]).await.assert_problem(428);
    t.send(Method::POST, &format!("{path}/publish"), Some(&moderator), None, &[("if-match", "\"1\"")]).await.assert_problem(412);
    t.send(Method::POST, &format!("{path}/reject"), Some(&moderator), Some(json!({"reason": "No"})), &[])
        .await
        .assert_problem(428);
    t.send(Method::POST, &format!("{path}/release-hold"), Some(&moderator), None, &[]).await.assert_problem(428);
    assert_eq!(t.get(&path, Some(&moderator)).await.body["status"], "pending");
    assert_eq!(t.get("/resources", None).await.body["items"], json!([]));
    let a = t.send(Method::POST, &format!("{path}/publish"), Some(&moderator), None, &[("if-match", "\"2\"")]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
}
