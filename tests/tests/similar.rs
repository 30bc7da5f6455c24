//! Issue 22, similar work before duplicating it, through HTTP on the embedded
//! store: `POST /similar` answers only what the caller may see (published case
//! studies, projects for signed-in members), projects are kept in the index on
//! create and update and by a rebuild, the public search never answers them,
//! and `POST /projects/{id}/team-up` emails the lead once a week per member.

use std::sync::Arc;

use qnet_app::suppression::{SesNotice, SesNoticeKind};
use qnet_tests::{Answer, TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct World {
    t: TestApp,
    leeds: String,
    ann: String,
    bob: String,
    cat: String,
    published: String,
    pending: String,
    project: String,
    other_project: String,
}

async fn project(t: &TestApp, token: &str, body: Value) -> String {
    let p = t.post("/projects", Some(token), body).await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
    p.body["id"].as_str().unwrap().to_string()
}

async fn world() -> World {
    let t = spawn_app().await;
    let leeds = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let kirklees = t.organisation("Kirklees Council", &["kirklees.gov.uk"]).await;
    let author = t.token("author@leedsth.nhs.uk", &[]).await;
    let published = t
        .submit(
            &author,
            json!({"title": "Fewer inpatient falls with hourly rounding", "summary": "Falls on two wards halved with hourly rounding.",
                   "body": "Six PDSA cycles of hourly rounding on older people's wards.", "topics": ["patient-safety"]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(t.publish(&published).await.status, StatusCode::OK);
    let pending = t
        .submit(
            &author,
            json!({"title": "Falls prevention on older people's wards", "body": "Falls fell.", "topics": ["patient-safety"]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ann = t.token("ann@kirklees.gov.uk", &[]).await;
    let bob = t.token("bob@kirklees.gov.uk", &[]).await;
    let bob_id = t.get("/me", Some(&bob)).await.body["id"].as_str().unwrap().to_string();
    let cat = t.token("cat@leedsth.nhs.uk", &[]).await;
    let project_id = project(
        &t,
        &ann,
        json!({"title": "Reducing falls in care homes", "aim": "Halve falls in our care homes by June 2027",
               "problem": "Falls in care homes rose by a third.", "organisation_ids": [kirklees], "team": [bob_id],
               "topics": ["patient-safety"], "status": "active"}),
    )
    .await;
    let joined = t.post(&format!("/projects/{project_id}/invitation/accept"), Some(&bob), json!({})).await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.text);
    let other_project = project(
        &t,
        &ann,
        json!({"title": "Blood pressure checks in barbershops", "aim": "Find 200 people with undiagnosed hypertension",
               "organisation_ids": [kirklees], "topics": ["prevention"], "status": "idea"}),
    )
    .await;
    World { t, leeds, ann, bob, cat, published, pending, project: project_id, other_project }
}

fn ids(a: &Answer) -> Vec<String> {
    a.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", a.text))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn falls_draft() -> Value {
    json!({"title": "Preventing falls on our older people's wards", "aim": "Reduce falls by a third in six months",
           "topics": ["patient-safety"]})
}

#[tokio::test]
async fn similar_work_is_what_the_member_may_see_with_its_team_and_organisation() {
    let w = world().await;
    let t = &w.t;
    t.post("/similar", None, falls_draft()).await.assert_problem(401);

    let a = t.post("/similar", Some(&w.cat), falls_draft()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let found = ids(&a);
    assert!(found.contains(&w.project) && found.contains(&w.published), "{found:?}");
    assert!(!found.contains(&w.pending), "pending work is never shown: {found:?}");
    assert!(found.len() <= 5);
    let items = a.body["items"].as_array().unwrap();
    let p = items.iter().find(|i| i["id"] == json!(w.project)).unwrap();
    assert_eq!(p["kind"], json!("project"));
    assert_eq!(p["title"], json!("Reducing falls in care homes"));
    assert_eq!(p["summary"], json!("Halve falls in our care homes by June 2027"));
    assert_eq!(p["organisation"]["name"], json!("Kirklees Council"));
    assert!(p["organisation"]["type"].is_string(), "{p}");
    let names: Vec<&str> = p["team"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ann", "bob"]);
    assert_eq!(p["following"], json!(false));
    assert_eq!(p["topics"], json!(["patient-safety"]));
    let cs = items.iter().find(|i| i["id"] == json!(w.published)).unwrap();
    assert_eq!(cs["kind"], json!("case_study"));
    assert_eq!(cs["summary"], json!("Falls on two wards halved with hourly rounding."));
    assert_eq!(cs["organisation"]["id"], json!(w.leeds));
    assert_eq!(cs["team"][0]["name"], json!("author"), "the author, as the case study's page names them");
    assert_eq!(cs["following"], json!(false));

    // Following shows; kinds, exclude_id and limit are honoured.
    assert_eq!(t.post(&format!("/projects/{}/follow", w.project), Some(&w.cat), json!({})).await.status, StatusCode::OK);
    let a = t.post("/similar", Some(&w.cat), falls_draft()).await;
    let p = a.body["items"].as_array().unwrap().iter().find(|i| i["id"] == json!(w.project)).unwrap().clone();
    assert_eq!(p["following"], json!(true));
    let mut only = falls_draft();
    only["kinds"] = json!(["project"]);
    let a = t.post("/similar", Some(&w.cat), only.clone()).await;
    assert!(a.body["items"].as_array().unwrap().iter().all(|i| i["kind"] == json!("project")), "{}", a.text);
    assert!(ids(&a).contains(&w.project));
    only["exclude_id"] = json!(w.project);
    assert!(!ids(&t.post("/similar", Some(&w.cat), only).await).contains(&w.project));
    let mut one = falls_draft();
    one["limit"] = json!(1);
    assert_eq!(ids(&t.post("/similar", Some(&w.cat), one).await).len(), 1);

    // Withdrawn from view: a case study put back (rejected) is no longer answered.
    let moderator = t.token("mo@leedsth.nhs.uk", &[qnet_domain::Role::Moderator]).await;
    let read = t.get(&format!("/case-studies/{}", w.published), Some(&moderator)).await;
    let etag = read.header("etag").unwrap().to_string();
    let take_down = t
        .send(
            Method::POST,
            &format!("/case-studies/{}/reject", w.published),
            Some(&moderator),
            Some(json!({"reason": "Not QI."})),
            &[("If-Match", etag.as_str())],
        )
        .await;
    assert_eq!(take_down.status, StatusCode::OK, "{}", take_down.text);
    assert!(!ids(&t.post("/similar", Some(&w.cat), falls_draft()).await).contains(&w.published));

    // Every bad field at once, named; patient identifiers refused.
    let bad = t
        .post(
            "/similar",
            Some(&w.cat),
            json!({"title": "Patient 943 476 5919 fell", "aim": "x".repeat(2001), "topics": ["astrology"], "kinds": ["event"],
                   "limit": 11, "colour": "red"}),
        )
        .await;
    bad.assert_problem(422);
    let fields = bad.problem_fields();
    for f in ["title", "aim", "topics[0]", "kinds[0]", "limit", "colour"] {
        assert!(fields.contains(&f.to_string()), "{f}: {fields:?}");
    }
    let many: Vec<&str> = vec!["flow"; 11];
    t.post("/similar", Some(&w.cat), json!({"title": "Falls", "topics": many})).await.assert_problem(422);
    t.post("/similar", Some(&w.cat), json!({"aim": "Falls"})).await.assert_problem(422);
}

#[tokio::test]
async fn projects_are_indexed_on_create_update_and_rebuild_but_never_publicly_searched() {
    let w = world().await;
    let t = &w.t;
    // The public search never answers a project, to anyone.
    for token in [None, Some(w.cat.as_str())] {
        let a = t.get("/search?q=falls%20care%20homes", token).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let found = ids(&a);
        assert!(found.contains(&w.published), "{found:?}");
        assert!(!found.contains(&w.project), "{found:?}");
        assert!(a.body["items"].as_array().unwrap().iter().all(|i| i["type"] != json!("project")));
        t.get("/search?q=falls&type=project", token).await.assert_problem(422);
    }
    let barbers = t.get("/search?q=barbershops%20hypertension", None).await;
    assert_eq!(barbers.body["items"], json!([]), "{}", barbers.text);

    // An update is indexed: the new words find it.
    let current = t.get(&format!("/projects/{}", w.other_project), Some(&w.ann)).await;
    let version = current.body["version"].as_u64().unwrap();
    let changed = t
        .patch(&format!("/projects/{}", w.other_project), &w.ann, version, json!({"title": "Hydration rounds in care homes"}))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let a = t.post("/similar", Some(&w.cat), json!({"title": "Hydration rounds", "kinds": ["project"]})).await;
    assert_eq!(ids(&a).first(), Some(&w.other_project), "{}", a.text);
    assert_eq!(a.body["items"][0]["title"], json!("Hydration rounds in care homes"));

    // A rebuild puts every project in a fresh index.
    let dir = tempfile::tempdir().unwrap();
    let index = Arc::new(qnet_search::SearchIndex::open_dir(dir.path()).unwrap());
    let documents = t.app.clone().with_search(index.clone()).rebuild_search_index().await.unwrap();
    assert_eq!(documents, 3, "one published case study and two projects");
    let draft = qnet_ports::SimilarWorkQuery {
        title: "Falls in care homes".into(),
        kinds: vec!["project".into()],
        limit: 5,
        ..Default::default()
    };
    let hits = qnet_ports::TextSearch::similar(index.as_ref(), &draft).unwrap();
    assert_eq!(hits.first(), Some(&(w.project.clone(), "project".to_string())), "{hits:?}");
}

/// The team-up emails in the outbox, each as raw headers and its text part.
fn team_up_mails(t: &TestApp) -> Vec<String> {
    t.outbox_texts()
        .into_iter()
        .filter(|m| m.contains("would like to team up"))
        .map(|raw| {
            let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap();
            format!("{raw}\n{}", parsed.body_text(0).unwrap_or_default())
        })
        .collect()
}

#[tokio::test]
async fn asking_the_lead_to_team_up_sends_one_email_a_week() {
    let w = world().await;
    let t = &w.t;
    let path = format!("/projects/{}/team-up", w.project);
    let message = json!({"message": "We are doing the same on ward 5. Shall we share run charts?"});
    t.post(&path, None, message.clone()).await.assert_problem(401);

    let send = |token: &str, body: Value| {
        let token = token.to_string();
        let path = path.clone();
        async move { t.send(Method::POST, &path, Some(&token), Some(body), &[("Idempotency-Key", "team-up-1")]).await }
    };
    let a = send(&w.cat, message.clone()).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text);
    assert_eq!(a.body, json!({"status": "sent"}));
    let mails = team_up_mails(t);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert!(m.contains("To: \"ann\" <ann@kirklees.gov.uk>"), "to the lead only: {m}");
    assert!(!m.contains("bob@kirklees.gov.uk"), "{m}");
    assert!(m.contains("Reply-To: <cat@leedsth.nhs.uk>"), "{m}");
    assert!(m.contains("Leeds Teaching Hospitals") && m.contains("Shall we share run charts?"), "{m}");
    assert!(m.contains("cat@leedsth.nhs.uk") && m.contains("Reducing falls in care homes"), "{m}");
    // One click stops them (the switch of emails about questions on one's work).
    assert!(m.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{m}");
    assert!(m.contains("/settings"), "{m}");

    // A retry, and a repeat with another message, within the week: nothing more.
    assert_eq!(send(&w.cat, message.clone()).await.status, StatusCode::ACCEPTED);
    assert_eq!(send(&w.cat, json!({"message": "Hello again"})).await.status, StatusCode::ACCEPTED);
    assert_eq!(team_up_mails(t).len(), 1, "one email a week per member and project");

    // The team may not ask; bad messages are refused naming the field; no such project is 404.
    send(&w.bob, message.clone()).await.assert_problem(409);
    send(&w.ann, message.clone()).await.assert_problem(409);
    let dan = t.token("dan@leedsth.nhs.uk", &[]).await;
    for bad in
        [json!({"message": "Patient 943 476 5919 fell"}), json!({"message": ""}), json!({"message": "a".repeat(1001)}), json!({})]
    {
        let a = send(&dan, bad).await;
        a.assert_problem(422);
        assert_eq!(a.problem_fields(), ["message"]);
    }
    send(&dan, message.clone()).await;
    assert_eq!(team_up_mails(t).len(), 2, "another member may ask");
    t.post("/projects/01ARZ3NDEKTSV4RRFFQ69G5FAV/team-up", Some(&w.cat), message.clone()).await.assert_problem(404);

    // A week later the same member may ask again.
    let later = t.api_at(time::OffsetDateTime::now_utc() + time::Duration::days(8)).await;
    let a = later.send(Method::POST, &path, Some(&w.cat), Some(message.clone()), &[]).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text);
    assert_eq!(team_up_mails(t).len(), 3);

    // An address that refuses email gets none; the asker still hears "sent".
    t.app
        .apply_ses_notices(&[SesNotice { kind: SesNoticeKind::Complaint, email: "ann@kirklees.gov.uk".into(), detail: None }])
        .await
        .unwrap();
    let eve = t.token("eve@leedsth.nhs.uk", &[]).await;
    assert_eq!(send(&eve, message.clone()).await.status, StatusCode::ACCEPTED);
    assert_eq!(team_up_mails(t).len(), 3, "suppressed");

    // A lead who turned these emails off is not written to: the asker is told
    // (409), and may ask again once the lead takes them.
    let off = t.send(Method::PATCH, "/me", Some(&w.ann), Some(json!({"engagement": {"questions": false}})), &[]).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    let fay = t.token("fay@leedsth.nhs.uk", &[]).await;
    send(&fay, message.clone()).await.assert_problem(409);
    assert_eq!(team_up_mails(t).len(), 3);
    t.send(Method::PATCH, "/me", Some(&w.ann), Some(json!({"engagement": {"questions": true}})), &[]).await;
    assert_eq!(send(&fay, message).await.status, StatusCode::ACCEPTED, "the refusal kept no claim");
}
