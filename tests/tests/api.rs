//! End-to-end: HTTP request in, record in the store, answer out, through the same
//! router `qnet serve` and the Lambda run.

use qnet_app::Claims;
use qnet_domain::Role;
use qnet_tests::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn member_with_org(t: &TestApp) -> (String, String) {
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    (t.token("jo.bloggs@leedsth.nhs.uk", &[]).await, org)
}

fn case_study() -> Value {
    json!({"title": "Fewer falls on ward 5", "body": "We tested hourly rounding over six PDSA cycles.", "topics": ["patient-safety", "pdsa"],
           "sections": {"aim": "Halve falls by March", "results": "Falls fell from 12 to 5 a month."}})
}

#[tokio::test]
async fn a_case_study_goes_from_submission_to_publication() {
    let t = spawn_app().await;
    let (member, org) = member_with_org(&t).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;

    let created = t.post("/case-studies", Some(&member), case_study()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(created.header("location"), Some(format!("/case-studies/{id}").as_str()));
    assert_eq!(created.body["status"], "pending");
    assert_eq!(created.body["source"], "web");
    assert_eq!(created.body["organisation_id"], org.as_str());
    assert_eq!(created.body["organisation_name"], "Leeds Teaching Hospitals");
    assert_eq!(created.body["submitted_by"]["email"], "jo.bloggs@leedsth.nhs.uk");
    assert_eq!(created.body["sections"]["aim"], "Halve falls by March");

    // Pending: hidden from the public and other members, visible to its submitter and moderators.
    t.get(&format!("/case-studies/{id}"), None).await.assert_problem(404);
    let other = t.token("someone@else.test", &[]).await;
    t.get(&format!("/case-studies/{id}"), Some(&other)).await.assert_problem(404);
    let mine = t.get(&format!("/case-studies/{id}"), Some(&member)).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.header("etag"), Some("\"1\""));
    assert_eq!(t.get("/case-studies", None).await.body["items"], json!([]));

    let queue = t.get("/moderation/case-studies", Some(&moderator)).await;
    assert_eq!(queue.body["items"][0]["id"], id.as_str());
    assert_eq!(queue.body["items"][0]["status"], "pending");
    let my_list = t.get("/me/case-studies", Some(&member)).await;
    assert_eq!(my_list.body["items"][0]["id"], id.as_str());

    let published = t.moderate(&format!("/case-studies/{id}/publish"), Some(&moderator), Value::Null).await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text);
    assert_eq!(published.body["status"], "published");
    assert!(published.body["published_at"].is_string());

    let public = t.get(&format!("/case-studies/{id}"), None).await;
    assert_eq!(public.status, StatusCode::OK);
    assert_eq!(public.header("etag"), Some("\"2\""));
    assert!(public.body["submitted_by"].get("email").is_none(), "email must not be public: {}", public.text);
    assert_eq!(public.body["submitted_by"]["name"], "jo bloggs");

    let list = t.get("/case-studies", None).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let item = &list.body["items"][0];
    assert_eq!(item["organisation_name"], "Leeds Teaching Hospitals");
    assert!(item.get("body").is_none(), "lists carry summaries, not bodies");
    assert_eq!(list.body["next_cursor"], Value::Null);
    for q in ["topic=pdsa", &format!("organisation_id={org}"), &format!("topic=patient-safety&organisation_id={org}")] {
        let l = t.get(&format!("/case-studies?{q}"), None).await;
        assert_eq!(l.body["items"].as_array().unwrap().len(), 1, "{q}");
    }
    assert_eq!(t.get("/case-studies?topic=digital", None).await.body["items"], json!([]));
    assert_eq!(t.get("/moderation/case-studies", Some(&moderator)).await.body["items"], json!([]));
    // Published twice is a conflict.
    t.moderate(&format!("/case-studies/{id}/publish"), Some(&moderator), Value::Null).await.assert_problem(409);
}

#[tokio::test]
async fn every_role_that_must_be_refused_is_refused() {
    let t = spawn_app().await;
    let (member, _) = member_with_org(&t).await;
    let organiser = t.token("org@leedsth.nhs.uk", &[Role::Organiser]).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let id = t.submit(&member, case_study()).await["id"].as_str().unwrap().to_string();

    // Anonymous.
    t.post("/case-studies", None, case_study()).await.assert_problem(401);
    t.get("/me", None).await.assert_problem(401);
    t.get("/me/case-studies", None).await.assert_problem(401);
    t.get("/moderation/case-studies", None).await.assert_problem(401);
    t.post("/organisations", None, json!({"name": "X", "type": "nhs"})).await.assert_problem(401);
    let unauth = t.get("/me", None).await;
    assert_eq!(unauth.header("www-authenticate"), Some("Bearer"));
    // Members and organisers are not moderators or admins.
    for who in [&member, &organiser] {
        t.get("/moderation/case-studies", Some(who)).await.assert_problem(403);
        t.post("/organisations", Some(who), json!({"name": "X", "type": "nhs"})).await.assert_problem(403);
    }
    t.moderate(&format!("/case-studies/{id}/publish"), Some(&member), Value::Null).await.assert_problem(403);
    t.moderate(&format!("/case-studies/{id}/reject"), Some(&member), json!({"reason": "no"})).await.assert_problem(403);
    t.moderate(&format!("/case-studies/{id}/release-hold"), Some(&member), Value::Null).await.assert_problem(403);
    // Someone else's pending case study does not exist as far as they know.
    t.moderate(&format!("/case-studies/{id}/publish"), Some(&organiser), Value::Null).await.assert_problem(404);
    t.patch(&format!("/case-studies/{id}"), &organiser, 1, json!({"title": "Mine now"})).await.assert_problem(404);
    // Moderators are not admins.
    t.post("/organisations", Some(&moderator), json!({"name": "X", "type": "nhs"})).await.assert_problem(403);
    // Once published, only moderators change it; the submitter is refused.
    assert_eq!(t.publish(&id).await.status, StatusCode::OK);
    t.patch(&format!("/case-studies/{id}"), &member, 2, json!({"title": "Changed"})).await.assert_problem(403);
    t.patch(&format!("/case-studies/{id}"), &organiser, 2, json!({"title": "Changed"})).await.assert_problem(403);
    // Bad tokens are refused even where login is optional.
    t.get("/case-studies", Some("not-a-token")).await.assert_problem(401);
    let a = t.send(Method::GET, "/case-studies", None, None, &[("authorization", "Basic abc")]).await;
    a.assert_problem(401);
}

#[tokio::test]
async fn bad_input_gets_a_clear_problem_and_changes_nothing() {
    let t = spawn_app().await;
    let (member, _) = member_with_org(&t).await;

    let bad = t
        .post(
            "/case-studies",
            Some(&member),
            json!({"title": "", "body": "x".repeat(100_001), "topics": ["astrology"], "organisation_id": "nope", "colour": "red"}),
        )
        .await;
    bad.assert_problem(422);
    let fields = bad.problem_fields();
    for f in ["colour", "title", "body", "topics[0]"] {
        assert!(fields.contains(&f.to_string()), "{f} not named in {fields:?}");
    }
    let unknown_org = t
        .post("/case-studies", Some(&member), json!({"title": "t", "body": "b", "organisation_id": "01J0000000000000000000000Z"}))
        .await;
    unknown_org.assert_problem(422);
    assert_eq!(unknown_org.problem_fields(), ["organisation_id"]);

    let r = t
        .client
        .post(format!("{}/case-studies", t.base))
        .bearer_auth(&member)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    qnet_tests::read(r).await.assert_problem(400);
    let r = t
        .client
        .post(format!("{}/case-studies", t.base))
        .bearer_auth(&member)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    qnet_tests::read(r).await.assert_problem(415);
    let huge = format!("{{\"title\": \"t\", \"body\": \"{}\"}}", "y".repeat(1024 * 1024));
    let r = t
        .client
        .post(format!("{}/case-studies", t.base))
        .bearer_auth(&member)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    qnet_tests::read(r).await.assert_problem(413);
    t.send(Method::DELETE, "/case-studies", Some(&member), None, &[]).await.assert_problem(405);
    t.get("/no/such/route", None).await.assert_problem(404);
    t.get("/case-studies?limit=0", None).await.assert_problem(422);
    t.get("/case-studies?limit=abc", None).await.assert_problem(422);
    t.get("/case-studies?topic=astrology", None).await.assert_problem(422);
    t.get("/case-studies?cursor=garbage", None).await.assert_problem(400);
    t.get("/case-studies/not-an-id", None).await.assert_problem(404);

    // Nothing was created by any of that.
    assert_eq!(t.get("/me/case-studies", Some(&member)).await.body["items"], json!([]));
}

#[tokio::test]
async fn edits_need_the_current_version() {
    let t = spawn_app().await;
    let (member, _) = member_with_org(&t).await;
    let id = t.submit(&member, case_study()).await["id"].as_str().unwrap().to_string();
    let path = format!("/case-studies/{id}");

    let missing = t.send(Method::PATCH, &path, Some(&member), Some(json!({"title": "New"})), &[]).await;
    missing.assert_problem(428);
    t.patch(&path, &member, 7, json!({"title": "New"})).await.assert_problem(412);
    let ok = t
        .patch(
            &path,
            &member,
            1,
            json!({"title": "New title", "sections": {"aim": null, "measures": "Falls per 1,000 bed days"}}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.body["version"], 2);
    assert_eq!(ok.body["title"], "New title");
    assert_eq!(ok.body["sections"]["aim"], Value::Null);
    assert_eq!(ok.body["sections"]["measures"], "Falls per 1,000 bed days");
    // The old version is stale now.
    t.patch(&path, &member, 1, json!({"title": "Again"})).await.assert_problem(412);
    let invalid = t.patch(&path, &member, 2, json!({"title": "", "topics": ["x"]})).await;
    invalid.assert_problem(422);
    assert_eq!(t.get(&path, Some(&member)).await.body["title"], "New title");
    // History keeps the earlier version.
    assert_eq!(t.app.case_study_history(&id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn retries_with_an_idempotency_key_create_one_record() {
    let t = spawn_app().await;
    let (member, _) = member_with_org(&t).await;
    let first = t.send(Method::POST, "/case-studies", Some(&member), Some(case_study()), &[("idempotency-key", "abc-123")]).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = t.send(Method::POST, "/case-studies", Some(&member), Some(case_study()), &[("idempotency-key", "abc-123")]).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let different = t
        .send(
            Method::POST,
            "/case-studies",
            Some(&member),
            Some(json!({"title": "Other", "body": "b"})),
            &[("idempotency-key", "abc-123")],
        )
        .await;
    different.assert_problem(409);
    // Concurrent retries still make one record.
    let mut handles = Vec::new();
    for _ in 0..8 {
        let (client, base, tok) = (t.client.clone(), t.base.clone(), member.clone());
        handles.push(tokio::spawn(async move {
            client
                .post(format!("{base}/case-studies"))
                .bearer_auth(tok)
                .header("idempotency-key", "race")
                .json(&case_study())
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), StatusCode::CREATED);
    }
    assert_eq!(t.get("/me/case-studies", Some(&member)).await.body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn patient_data_holds_a_case_study_until_a_moderator_releases_it() {
    let t = spawn_app().await;
    let (member, _) = member_with_org(&t).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let cs = t.submit(&member, json!({"title": "Discharge letters", "body": "Patient 943 476 5919 waited four days."})).await;
    let id = cs["id"].as_str().unwrap();
    assert!(cs["hold"]["reason"].as_str().unwrap().contains("NHS number"));
    assert!(!cs["hold"]["reason"].as_str().unwrap().contains("943"), "the reason must not quote the data");
    t.publish(id).await.assert_problem(409);

    // A second edit by the submitter while held keeps no copy of the held text.
    let path = format!("/case-studies/{id}");
    assert_eq!(t.patch(&path, &member, 1, json!({"summary": "About letters"})).await.status, StatusCode::OK);
    let edited = t.patch(&path, &moderator, 2, json!({"body": "A patient waited four days."})).await;
    assert_eq!(edited.status, StatusCode::OK);
    assert!(edited.body["hold"].is_object(), "the hold stays until released");
    let released = t.moderate(&format!("{path}/release-hold"), Some(&moderator), Value::Null).await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.text);
    assert_eq!(released.body["hold"], Value::Null);
    assert!(t.app.case_study_history(id).await.unwrap().is_empty(), "earlier versions are purged");
    assert_eq!(t.publish(id).await.status, StatusCode::OK);
    // Dates of birth next to names, in a section.
    let dob = t
        .submit(&member, json!({"title": "t", "body": "b", "sections": {"background": "Mrs Jane Smith, DOB 12/03/1946, fell."}}))
        .await;
    assert!(dob["hold"]["reason"].as_str().unwrap().contains("date of birth"));
    t.moderate(&format!("/case-studies/{}/release-hold", cs["id"].as_str().unwrap()), Some(&moderator), Value::Null)
        .await
        .assert_problem(409);
}

#[tokio::test]
async fn rejection_needs_a_reason() {
    let t = spawn_app().await;
    let (member, _) = member_with_org(&t).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let id = t.submit(&member, case_study()).await["id"].as_str().unwrap().to_string();
    let no_reason = t.moderate(&format!("/case-studies/{id}/reject"), Some(&moderator), json!({})).await;
    no_reason.assert_problem(422);
    assert_eq!(no_reason.problem_fields(), ["reason"]);
    let r =
        t.moderate(&format!("/case-studies/{id}/reject"), Some(&moderator), json!({"reason": "Please add your measures."})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "rejected");
    assert_eq!(r.body["rejection_reason"], "Please add your measures.");
    // The submitter still sees it, with the reason; it has left the queue.
    assert_eq!(t.get(&format!("/case-studies/{id}"), Some(&member)).await.body["rejection_reason"], "Please add your measures.");
    assert_eq!(t.get("/moderation/case-studies", Some(&moderator)).await.body["items"], json!([]));
    t.moderate(&format!("/case-studies/{id}/publish"), Some(&moderator), Value::Null).await.assert_problem(409);
}

#[tokio::test]
async fn lists_page_through_every_item_once() {
    let t = spawn_app().await;
    let (member, _) = member_with_org(&t).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let mut ids = Vec::new();
    for i in 0..23 {
        let id =
            t.submit(&member, json!({"title": format!("Case study {i}"), "body": "Body text.", "topics": ["flow"]})).await["id"]
                .as_str()
                .unwrap()
                .to_string();
        ids.push(id);
    }
    // The queue is oldest first.
    let q = t.get("/moderation/case-studies?limit=5", Some(&moderator)).await;
    assert_eq!(q.body["items"][0]["id"], ids[0].as_str());
    for id in &ids {
        assert_eq!(t.publish(id).await.status, StatusCode::OK);
    }
    for base in ["/case-studies?limit=10", "/case-studies?limit=10&topic=flow"] {
        let mut seen = Vec::new();
        let mut url = base.to_string();
        loop {
            let page = t.get(&url, None).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text);
            for it in page.body["items"].as_array().unwrap() {
                seen.push(it["id"].as_str().unwrap().to_string());
            }
            match page.body["next_cursor"].as_str() {
                Some(c) => url = format!("{base}&cursor={c}"),
                None => break,
            }
        }
        // Newest first, each once.
        let mut expected = ids.clone();
        expected.reverse();
        assert_eq!(seen, expected, "{base}");
    }
    // A cursor from one list is refused by another.
    let page = t.get("/case-studies?limit=10", None).await;
    let c = page.body["next_cursor"].as_str().unwrap();
    t.get(&format!("/case-studies?limit=10&topic=pdsa&cursor={c}"), None).await.assert_problem(400);
}

#[tokio::test]
async fn members_get_their_organisation_from_their_email_and_can_change_it() {
    let t = spawn_app().await;
    let (member, org) = member_with_org(&t).await;
    let me = t.get("/me", Some(&member)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["organisation_id"], org.as_str());
    assert_eq!(me.body["organisation_name"], "Leeds Teaching Hospitals");
    // A member may move to another organisation that lists their domain.
    let other_org = t.organisation("Leeds City Council", &["leeds.gov.uk", "leedsth.nhs.uk"]).await;
    let changed = t
        .send(
            Method::PATCH,
            "/me",
            Some(&member),
            Some(json!({"organisation_id": other_org, "job_title": "Ward manager", "topics": ["flow"]})),
            &[],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["organisation_name"], "Leeds City Council");
    assert_eq!(changed.body["job_title"], "Ward manager");
    let bad = t.send(Method::PATCH, "/me", Some(&member), Some(json!({"organisation_id": "nope", "topics": ["x"]})), &[]).await;
    bad.assert_problem(422);
    // A domain shared by several organisations decides nothing.
    t.organisation("Leeds Community Healthcare", &["nhs.net"]).await;
    t.organisation("Leeds and York Partnership", &["nhs.net"]).await;
    let nhsmail = t.token("sam.jones@nhs.net", &[]).await;
    assert_eq!(t.get("/me", Some(&nhsmail)).await.body["organisation_id"], Value::Null);
    // Without an organisation a case study must name one.
    let a = t.post("/case-studies", Some(&nhsmail), json!({"title": "t", "body": "b"})).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["organisation_id"]);
    let orgs = t.get("/organisations", None).await;
    assert_eq!(orgs.body["items"].as_array().unwrap().len(), 4);
    assert_eq!(orgs.body["items"][0]["name"], "Leeds and York Partnership");
}

#[tokio::test]
async fn admins_manage_organisations() {
    let t = spawn_app().await;
    let admin = t.token("admin@qnet.test", &[Role::Admin]).await;
    let a = t
        .post(
            "/organisations",
            Some(&admin),
            json!({"name": "St Gemma's Hospice", "type": "voluntary", "ods_code": "ntr", "email_domains": ["st-gemma.co.uk"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["ods_code"], "NTR");
    let id = a.body["id"].as_str().unwrap();
    t.post("/organisations", Some(&admin), json!({"name": "st gemma's hospice", "type": "voluntary"})).await.assert_problem(409);
    let bad = t.post("/organisations", Some(&admin), json!({"name": "", "type": "pub", "email_domains": ["no"]})).await;
    bad.assert_problem(422);
    assert_eq!(bad.problem_fields().len(), 3);
    let p = t.patch(&format!("/organisations/{id}"), &admin, 1, json!({"email_domains": ["stgemma.org.uk"]})).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert_eq!(p.body["version"], 2);
    t.patch(&format!("/organisations/{id}"), &admin, 1, json!({"name": "X"})).await.assert_problem(412);
    assert_eq!(t.app.organisations_for_email("a@stgemma.org.uk").await.unwrap(), vec![id.to_string()]);
    assert!(t.app.organisations_for_email("a@st-gemma.co.uk").await.unwrap().is_empty());
    t.patch("/organisations/01J0000000000000000000000Z", &admin, 1, json!({"name": "X"})).await.assert_problem(404);
}

#[tokio::test]
async fn attachments_upload_straight_to_the_store_and_are_checked() {
    use sha2::{Digest, Sha256};
    let t = spawn_app().await;
    let (member, _) = member_with_org(&t).await;
    let id = t.submit(&member, case_study()).await["id"].as_str().unwrap().to_string();
    let bytes = b"%PDF-1.7\nrun chart data\n%%EOF\n".to_vec();
    let sha = hex::encode(Sha256::digest(&bytes));
    let declared = t
        .post(
            &format!("/case-studies/{id}/attachments"),
            Some(&member),
            json!({"filename": "run chart.pdf", "content_type": "application/pdf", "size": bytes.len(), "sha256": sha}),
        )
        .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.text);
    let att = declared.body["attachment"]["id"].as_str().unwrap().to_string();
    assert_eq!(declared.body["attachment"]["status"], "pending");
    let url = declared.body["upload_url"].as_str().unwrap();
    let headers = declared.body["upload_headers"].as_object().unwrap();

    let put = |body: Vec<u8>| {
        let mut r = t.client.put(url).body(body);
        for (k, v) in headers {
            if k != "content-length" {
                r = r.header(k, v.as_str().unwrap());
            }
        }
        r.send()
    };
    // Other bytes of the same length are refused by the store itself.
    let mut wrong = bytes.clone();
    wrong[3] ^= 1;
    assert_eq!(put(wrong).await.unwrap().status(), StatusCode::BAD_REQUEST);
    // Not ready yet: nobody can download it.
    t.get(&format!("/case-studies/{id}/attachments/{att}"), Some(&member)).await.assert_problem(404);
    assert_eq!(put(bytes.clone()).await.unwrap().status(), StatusCode::OK);

    let cs = t.get(&format!("/case-studies/{id}"), Some(&member)).await;
    assert_eq!(cs.body["attachments"][0]["status"], "ready", "{}", cs.text);
    let redirect = t.get(&format!("/case-studies/{id}/attachments/{att}"), Some(&member)).await;
    assert_eq!(redirect.status, StatusCode::FOUND);
    let got = t.client.get(redirect.header("location").unwrap()).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert!(got.headers()["content-disposition"].to_str().unwrap().contains("run chart.pdf"));
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
    // Anonymous readers get nothing while the case study is pending...
    t.get(&format!("/case-studies/{id}/attachments/{att}"), None).await.assert_problem(404);

    // An executable dressed as a PDF is rejected by content.
    let exe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
    let d = t
        .post(&format!("/case-studies/{id}/attachments"), Some(&member), json!({"filename": "report.pdf", "content_type": "application/pdf", "size": exe.len(), "sha256": hex::encode(Sha256::digest(&exe))}))
        .await;
    let mut r = t.client.put(d.body["upload_url"].as_str().unwrap()).body(exe);
    for (k, v) in d.body["upload_headers"].as_object().unwrap() {
        if k != "content-length" {
            r = r.header(k, v.as_str().unwrap());
        }
    }
    assert_eq!(r.send().await.unwrap().status(), StatusCode::OK);
    let cs = t.get(&format!("/case-studies/{id}"), Some(&member)).await;
    let rejected = cs.body["attachments"].as_array().unwrap().iter().find(|a| a["filename"] == "report.pdf").unwrap().clone();
    assert_eq!(rejected["status"], "rejected");
    assert!(rejected["rejection_reason"].as_str().unwrap().contains("executable"));

    // Executables and oversized files are refused when declared.
    let bad = t
        .post(
            &format!("/case-studies/{id}/attachments"),
            Some(&member),
            json!({"filename": "setup.exe", "content_type": "application/x-msdownload", "size": 20_000_000, "sha256": sha}),
        )
        .await;
    bad.assert_problem(422);
    assert_eq!(bad.problem_fields(), ["filename", "content_type", "size"]);
}

#[tokio::test]
async fn erasing_a_profile_detaches_the_member_from_their_case_studies() {
    let t = spawn_app().await;
    let (member, _) = member_with_org(&t).await;
    let id = t.submit(&member, case_study()).await["id"].as_str().unwrap().to_string();
    assert_eq!(
        t.patch(&format!("/case-studies/{id}"), &member, 1, json!({"title": "Second title"})).await.status,
        StatusCode::OK
    );
    assert_eq!(t.publish(&id).await.status, StatusCode::OK);
    let r = t.send(Method::DELETE, "/me", Some(&member), None, &[]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let cs = t.get(&format!("/case-studies/{id}"), Some(&moderator)).await;
    assert_eq!(cs.body["submitted_by"], json!({"member_id": null, "name": null}));
    assert!(!cs.text.contains("jo.bloggs"), "{}", cs.text);
    assert!(t.app.case_study_history(&id).await.unwrap().iter().all(|v| v.submitted_by.email.is_none()));
    assert_eq!(t.app.member_id_for_email("jo.bloggs@leedsth.nhs.uk").await.unwrap(), None);
    // Still published, still listed.
    assert_eq!(t.get("/case-studies", None).await.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn topics_and_health_answer_without_login() {
    let t = spawn_app().await;
    let h = t.get("/health", None).await;
    assert_eq!(h.body, json!({"status": "ok"}));
    let topics = t.get("/topics", None).await;
    let items = topics.body["items"].as_array().unwrap();
    assert!(items.iter().any(|i| i["id"] == "pdsa" && i["name"].is_string()));
    assert_eq!(topics.body["next_cursor"], Value::Null);
}

#[tokio::test]
async fn patient_data_added_after_publication_takes_the_case_study_down() {
    let t = spawn_app().await;
    let (member, _) = member_with_org(&t).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let id = t.submit(&member, case_study()).await["id"].as_str().unwrap().to_string();
    assert_eq!(t.publish(&id).await.status, StatusCode::OK);
    let edited =
        t.patch(&format!("/case-studies/{id}"), &moderator, 2, json!({"body": "Seen: Mr John Smith, born 01/02/1950."})).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert_eq!(edited.body["status"], "pending");
    assert!(edited.body["hold"].is_object());
    t.get(&format!("/case-studies/{id}"), None).await.assert_problem(404);
    assert_eq!(t.get("/case-studies", None).await.body["items"], json!([]));
    assert_eq!(t.get("/case-studies?topic=pdsa", None).await.body["items"], json!([]));
}

#[tokio::test]
async fn releasing_a_hold_purges_the_stored_first_answer_too() {
    use sha2::{Digest, Sha256};
    let t = spawn_app().await;
    let (member, _) = member_with_org(&t).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let a = t
        .send(
            Method::POST,
            "/case-studies",
            Some(&member),
            Some(json!({"title": "t", "body": "NHS no 943 476 5919"})),
            &[("idempotency-key", "held-1")],
        )
        .await;
    let id = a.body["id"].as_str().unwrap().to_string();
    let member_id = t.get("/me", Some(&member)).await.body["id"].as_str().unwrap().to_string();
    let (pk, sk) = qnet_app::keys::idempotency(&member_id, &hex::encode(Sha256::digest(b"held-1")));
    assert!(t.app.records.get(&pk, &sk).await.unwrap().is_some());
    assert_eq!(
        t.patch(&format!("/case-studies/{id}"), &moderator, 1, json!({"body": "NHS number removed"})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        t.moderate(&format!("/case-studies/{id}/release-hold"), Some(&moderator), Value::Null).await.status,
        StatusCode::OK
    );
    assert!(t.app.records.get(&pk, &sk).await.unwrap().is_none(), "the stored answer quoted the NHS number");
    let stored = t.get(&format!("/case-studies/{id}"), Some(&moderator)).await;
    assert!(!stored.text.contains("943 476 5919"));
}

#[tokio::test]
async fn two_admins_cannot_create_the_same_organisation_at_once() {
    let t = spawn_app().await;
    let admin = t.token("admin@qnet.test", &[Role::Admin]).await;
    let mut handles = Vec::new();
    for _ in 0..6 {
        let (client, base, tok) = (t.client.clone(), t.base.clone(), admin.clone());
        handles.push(tokio::spawn(async move {
            client
                .post(format!("{base}/organisations"))
                .bearer_auth(tok)
                .json(&json!({"name": "Wakefield Hospice", "type": "voluntary"}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut created = 0;
    for h in handles {
        match h.await.unwrap() {
            StatusCode::CREATED => created += 1,
            s => assert_eq!(s, StatusCode::CONFLICT),
        }
    }
    assert_eq!(created, 1);
    // Renaming onto a taken name is refused; renaming back frees the old name.
    let other = t.post("/organisations", Some(&admin), json!({"name": "Leeds Mind", "type": "voluntary"})).await;
    let id = other.body["id"].as_str().unwrap();
    t.patch(&format!("/organisations/{id}"), &admin, 1, json!({"name": "WAKEFIELD hospice"})).await.assert_problem(409);
    assert_eq!(
        t.patch(&format!("/organisations/{id}"), &admin, 1, json!({"name": "Leeds Mind Charity"})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        t.post("/organisations", Some(&admin), json!({"name": "Leeds Mind", "type": "voluntary"})).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn patient_data_in_a_text_attachment_holds_the_case_study() {
    use sha2::{Digest, Sha256};
    let t = spawn_app().await;
    let (member, _) = member_with_org(&t).await;
    let id = t.submit(&member, case_study()).await["id"].as_str().unwrap().to_string();
    let bytes = b"name,nhs_number\nJ Smith,9434765919\n".to_vec();
    let d = t
        .post(&format!("/case-studies/{id}/attachments"), Some(&member), json!({"filename": "audit.csv", "content_type": "text/csv", "size": bytes.len(), "sha256": hex::encode(Sha256::digest(&bytes))}))
        .await;
    let mut put = t.client.put(d.body["upload_url"].as_str().unwrap()).body(bytes);
    for (k, v) in d.body["upload_headers"].as_object().unwrap() {
        if k != "content-length" {
            put = put.header(k, v.as_str().unwrap());
        }
    }
    assert_eq!(put.send().await.unwrap().status(), StatusCode::OK);
    let cs = t.get(&format!("/case-studies/{id}"), Some(&member)).await;
    assert!(cs.body["hold"]["reason"].as_str().unwrap().starts_with("Attachment audit.csv"), "{}", cs.text);
    t.publish(&id).await.assert_problem(409);
    // The file itself is never served, even after the hold is released.
    assert_eq!(cs.body["attachments"][0]["status"], "rejected");
    let att = cs.body["attachments"][0]["id"].as_str().unwrap();
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    assert_eq!(
        t.moderate(&format!("/case-studies/{id}/release-hold"), Some(&moderator), Value::Null).await.status,
        StatusCode::OK
    );
    assert_eq!(t.publish(&id).await.status, StatusCode::OK);
    t.get(&format!("/case-studies/{id}/attachments/{att}"), None).await.assert_problem(404);
}

#[tokio::test]
async fn a_member_joins_only_an_organisation_that_lists_their_domain_or_an_admin_assigns() {
    let t = spawn_app().await;
    let leeds = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let north = t.organisation("North Trust", &["nhs.net"]).await;
    let south = t.organisation("South Trust", &["nhs.net"]).await;
    let group = t.organisation("Carers Together", &[]).await;
    let jo = t.token("jo@nhs.net", &[]).await;
    let admin = t.token("admin@qnet.test", &[Role::Admin]).await;
    // nhs.net is shared: the member chooses among the organisations listing it.
    let me = t.get("/me", Some(&jo)).await;
    assert_eq!(me.body["organisation_id"], Value::Null);
    for other in [&leeds, &group] {
        let a = t.patch("/me", &jo, 1, json!({"organisation_id": other, "job_title": "Nurse"})).await;
        a.assert_problem(422);
        assert_eq!(a.problem_fields(), ["organisation_id"]);
    }
    let me = t.get("/me", Some(&jo)).await;
    assert_eq!(
        (me.body["organisation_id"].clone(), me.body["job_title"].clone(), me.body["version"].as_u64()),
        (Value::Null, Value::Null, Some(1))
    );
    let a = t.patch("/me", &jo, 1, json!({"organisation_id": south})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["organisation_id"], south.as_str());

    // An admin assigns any organisation, including one that lists no domain.
    let jo_id = me.body["id"].as_str().unwrap().to_string();
    let path = format!("/members/{jo_id}/organisation");
    t.send(Method::PUT, &path, Some(&jo), Some(json!({"organisation_id": group})), &[]).await.assert_problem(403);
    t.send(Method::PUT, &path, None, Some(json!({"organisation_id": group})), &[]).await.assert_problem(401);
    let a = t.send(Method::PUT, &path, Some(&admin), Some(json!({"organisation_id": "01NOSUCHORGANISATION000000"})), &[]).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["organisation_id"]);
    let a = t.send(Method::PUT, &path, Some(&admin), Some(json!({"organisation_id": 7, "extra": 1})), &[]).await;
    a.assert_problem(422);
    assert_eq!(t.get("/me", Some(&jo)).await.body["organisation_id"], south.as_str());
    t.send(Method::PUT, "/members/nobody/organisation", Some(&admin), Some(json!({"organisation_id": group})), &[])
        .await
        .assert_problem(404);
    let a = t.send(Method::PUT, &path, Some(&admin), Some(json!({"organisation_id": group})), &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["organisation_id"], group.as_str());
    // Keeping the assigned organisation while editing the profile is fine;
    // moving back to one listing the domain too.
    let v = a.body["version"].as_u64().unwrap();
    let a = t.patch("/me", &jo, v, json!({"organisation_id": group, "job_title": "Carer lead"})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let a = t.patch("/me", &jo, v + 1, json!({"organisation_id": north})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);

    // `qnet token --organisation` is the operator's assignment: any organisation.
    let kim = Claims::new("m-kim".into(), "kim@gmail.com".into(), "Kim".into(), vec![]);
    let m = t.app.set_member_organisation(&kim, &group).await.unwrap();
    assert_eq!(m.organisation_id.as_deref(), Some(group.as_str()));
}

#[tokio::test]
async fn a_case_study_names_its_submitters_organisation_unless_a_moderator_sets_another() {
    let t = spawn_app().await;
    let leeds = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let bradford = t.organisation("Bradford Council", &["bradford.gov.uk"]).await;
    let jo = t.token("jo@leedsth.nhs.uk", &[]).await;
    let moderator = t.token("moderator@qnet.test", &[Role::Moderator]).await;
    let cs = json!({"title": "Fewer falls", "body": "Hourly rounding.", "organisation_id": bradford});
    let a = t.post("/case-studies", Some(&jo), cs.clone()).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["organisation_id"]);
    assert_eq!(t.get("/me/case-studies", Some(&jo)).await.body["items"], json!([]));
    let own = t.submit(&jo, json!({"title": "Fewer falls", "body": "Hourly rounding.", "organisation_id": leeds})).await;
    let id = own["id"].as_str().unwrap();
    let a = t.patch(&format!("/case-studies/{id}"), &jo, 1, json!({"organisation_id": bradford, "title": "Moved"})).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["organisation_id"]);
    let got = t.get(&format!("/case-studies/{id}"), Some(&jo)).await;
    assert_eq!((got.body["organisation_id"].as_str(), got.body["title"].as_str()), (Some(leeds.as_str()), Some("Fewer falls")));
    assert_eq!(got.header("etag"), Some("\"1\""));
    // A moderator may name any organisation.
    let a = t.patch(&format!("/case-studies/{id}"), &moderator, 1, json!({"organisation_id": bradford})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["organisation_id"], bradford.as_str());
    let by_moderator = t.submit(&moderator, cs).await;
    assert_eq!(by_moderator["organisation_id"], bradford.as_str());
}

#[tokio::test]
async fn moderators_publish_reject_and_release_only_the_version_they_reviewed() {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let jo = t.token("jo@leedsth.nhs.uk", &[]).await;
    let moderator = t.token("moderator@qnet.test", &[Role::Moderator]).await;
    let cs = t.submit(&jo, json!({"title": "Fewer falls", "body": "Hourly rounding."})).await;
    let id = cs["id"].as_str().unwrap();
    let path = format!("/case-studies/{id}");
    // The moderator reads version 1; the submitter then edits it.
    assert_eq!(t.get(&path, Some(&moderator)).await.header("etag"), Some("\"1\""));
    let edited = t.patch(&path, &jo, 1, json!({"body": "Hourly rounding, and something unseen."})).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    for action in ["publish", "release-hold"] {
        let p = format!("{path}/{action}");
        t.send(Method::POST, &p, Some(&moderator), None, &[]).await.assert_problem(428);
        let stale = t.send(Method::POST, &p, Some(&moderator), None, &[("if-match", "\"1\"")]).await;
        stale.assert_problem(412);
        assert_eq!(stale.header("etag"), Some("\"2\""), "{}", stale.text);
    }
    let reason = json!({"reason": "Please add your measures."});
    t.send(Method::POST, &format!("{path}/reject"), Some(&moderator), Some(reason.clone()), &[]).await.assert_problem(428);
    t.send(Method::POST, &format!("{path}/reject"), Some(&moderator), Some(reason), &[("if-match", "\"1\"")])
        .await
        .assert_problem(412);
    // Nothing was published or rejected.
    let got = t.get(&path, Some(&moderator)).await;
    assert_eq!((got.body["status"].as_str(), got.header("etag")), (Some("pending"), Some("\"2\"")));
    assert_eq!(t.get("/case-studies", None).await.body["items"], json!([]));
    t.get(&path, None).await.assert_problem(404);
    // With the version just reviewed, it is published.
    let a = t.send(Method::POST, &format!("{path}/publish"), Some(&moderator), None, &[("if-match", "\"2\"")]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(t.get(&path, None).await.body["body"], "Hourly rounding, and something unseen.");
}
