//! The API on the AWS adapters: the same flows as `api.rs`, served from
//! DynamoDB and S3 (moto), so what works locally works deployed. Test names
//! start with `moto_` so nextest runs them one at a time (they reset moto).

use qnet_domain::Role;
use qnet_tests::spawn_app_on_moto;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn moto_case_studies_from_submission_to_listing() {
    let t = spawn_app_on_moto().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let member = t.token("jo@leedsth.nhs.uk", &[]).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;

    let mut ids = Vec::new();
    for i in 0..7 {
        let key = format!("k{i}");
        let a = t
            .send(
                Method::POST,
                "/case-studies",
                Some(&member),
                Some(json!({"title": format!("Case {i}"), "body": "PDSA cycles.", "topics": ["flow"]})),
                &[("idempotency-key", &key)],
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        // A retry replays, creating nothing.
        let again = t
            .send(
                Method::POST,
                "/case-studies",
                Some(&member),
                Some(json!({"title": format!("Case {i}"), "body": "PDSA cycles.", "topics": ["flow"]})),
                &[("idempotency-key", &key)],
            )
            .await;
        assert_eq!(again.body["id"], a.body["id"]);
        ids.push(a.body["id"].as_str().unwrap().to_string());
    }
    let queue = t.get("/moderation/case-studies?limit=3", Some(&moderator)).await;
    assert_eq!(queue.body["items"][0]["id"], ids[0].as_str(), "{}", queue.text);
    assert!(queue.body["next_cursor"].is_string());

    // Version checks hold on DynamoDB too.
    let path = format!("/case-studies/{}", ids[0]);
    t.patch(&path, &member, 9, json!({"title": "x"})).await.assert_problem(412);
    assert_eq!(t.patch(&path, &member, 1, json!({"title": "Case zero"})).await.status, StatusCode::OK);

    for id in &ids {
        assert_eq!(t.publish(id).await.status, StatusCode::OK);
    }
    let mut seen = Vec::new();
    let mut url = format!("/case-studies?limit=3&topic=flow&organisation_id={org}");
    loop {
        let page = t.get(&url, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()));
        match page.body["next_cursor"].as_str() {
            Some(c) => url = format!("/case-studies?limit=3&topic=flow&organisation_id={org}&cursor={c}"),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);
    let one = t.get(&format!("/case-studies/{}", ids[0]), None).await;
    assert_eq!(one.header("etag"), Some("\"2\""));
    assert!(one.body["submitted_by"].get("email").is_none());
}

#[tokio::test]
async fn moto_holds_erasure_and_attachments() {
    use sha2::{Digest, Sha256};
    let t = spawn_app_on_moto().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let member = t.token("jo@leedsth.nhs.uk", &[]).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;

    let held = t.submit(&member, json!({"title": "Letters", "body": "Patient 9434765919 waited."})).await;
    let id = held["id"].as_str().unwrap();
    assert!(held["hold"].is_object());
    t.publish(id).await.assert_problem(409);
    let path = format!("/case-studies/{id}");
    assert_eq!(t.patch(&path, &moderator, 1, json!({"body": "A patient waited."})).await.status, StatusCode::OK);
    assert_eq!(t.moderate(&format!("{path}/release-hold"), Some(&moderator), Value::Null).await.status, StatusCode::OK);
    assert_eq!(t.publish(id).await.status, StatusCode::OK);

    // Presigned upload to S3, then the check the S3 event triggers.
    let bytes = b"Week,Falls\n1,4\n2,3\n".to_vec();
    let d = t
        .post(&format!("{path}/attachments"), Some(&moderator), json!({"filename": "falls.csv", "content_type": "text/csv", "size": bytes.len(), "sha256": hex::encode(Sha256::digest(&bytes))}))
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    let mut put = t.client.put(d.body["upload_url"].as_str().unwrap()).body(bytes.clone());
    for (k, v) in d.body["upload_headers"].as_object().unwrap() {
        if k != "content-length" {
            put = put.header(k, v.as_str().unwrap());
        }
    }
    let r = put.send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let att = d.body["attachment"]["id"].as_str().unwrap();
    let event = qnet_attachment_check::object_created_event("qnet-e2e-files", &format!("uploads/{id}/{att}"), bytes.len() as u64);
    qnet_attachment_check::handle(&t.app, event).await.unwrap();
    let redirect = t.get(&format!("{path}/attachments/{att}"), None).await;
    assert_eq!(redirect.status, StatusCode::FOUND);
    let got = t.client.get(redirect.header("location").unwrap()).send().await.unwrap();
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);

    assert_eq!(t.send(Method::DELETE, "/me", Some(&member), None, &[]).await.status, StatusCode::NO_CONTENT);
    let after = t.get(&path, None).await;
    assert_eq!(after.body["submitted_by"], json!({"member_id": null, "name": null}));
}

#[tokio::test]
async fn moto_resources_with_every_list_entry_a_checked_file_and_counted_downloads() {
    use sha2::{Digest, Sha256};
    let t = spawn_app_on_moto().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let member = t.token("jo@leedsth.nhs.uk", &[]).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    // Ten topics: the publish transaction writes the record, its history and 44 list entries.
    let topics = json!([
        "patient-safety",
        "patient-experience",
        "flow",
        "waiting-times",
        "primary-care",
        "mental-health",
        "community-care",
        "end-of-life",
        "prevention",
        "measurement"
    ]);
    let created = t
        .post("/resources", Some(&member), json!({"title": "Falls audit workbook", "description": "Spreadsheet to audit falls.", "kind": "dataset", "topics": topics}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_str().unwrap();
    let bytes = b"Week,Falls\n1,4\n2,3\n".to_vec();
    let d = t
        .post(&format!("/resources/{id}/file"), Some(&member), json!({"filename": "falls.csv", "content_type": "text/csv", "size": bytes.len(), "sha256": hex::encode(Sha256::digest(&bytes))}))
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    let mut put = t.client.put(d.body["upload_url"].as_str().unwrap()).body(bytes.clone());
    for (k, v) in d.body["upload_headers"].as_object().unwrap() {
        if k != "content-length" {
            put = put.header(k, v.as_str().unwrap());
        }
    }
    assert!(put.send().await.unwrap().status().is_success());
    let file = d.body["attachment"]["id"].as_str().unwrap();
    let key = format!("uploads/resources/{id}/{file}");
    let event = qnet_attachment_check::object_created_event("qnet-e2e-files", &key, bytes.len() as u64);
    qnet_attachment_check::handle(&t.app, event).await.unwrap();
    let published = t.moderate(&format!("/resources/{id}/publish"), Some(&moderator), Value::Null).await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text);
    for q in ["", "?topic=measurement", "?kind=dataset", "?topic=flow&kind=dataset"] {
        assert_eq!(t.get(&format!("/resources{q}"), None).await.body["items"][0]["id"], id, "{q}");
    }
    let by_org = t.get(&format!("/resources?topic=end-of-life&kind=dataset&organisation={org}"), None).await;
    assert_eq!(by_org.body["items"][0]["id"], id);
    for _ in 0..3 {
        let redirect = t.get(&format!("/resources/{id}/download"), None).await;
        assert_eq!(redirect.status, StatusCode::FOUND);
        let got = t.client.get(redirect.header("location").unwrap()).send().await.unwrap();
        assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
    }
    assert_eq!(t.get(&format!("/resources/{id}"), None).await.body["download_count"], 3);
    // Rejecting removes all 44 entries in one transaction.
    let rejected = t.moderate(&format!("/resources/{id}/reject"), Some(&moderator), json!({"reason": "Superseded"})).await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    assert_eq!(t.get("/resources?topic=measurement", None).await.body["items"], json!([]));
}
