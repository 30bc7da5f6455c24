//! QI projects end to end over HTTP on the embedded store: the register with
//! its roles, PDSA cycles, measures, points by JSON and CSV, annotations, the
//! run/XmR analysis of a known series, the SVG chart, and the discussion board
//! with follower emails and replies by email through the inbound path.

use qnet_app::ingest::{Inbound, IngestOptions};
use qnet_domain::Role;
use qnet_embedded::Outbox;
use qnet_tests::{Answer, TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A header's value, unfolded.
fn header(mail: &str, name: &str) -> Option<String> {
    let head = mail.split("\r\n\r\n").next().unwrap_or(mail).replace("\r\n ", " ").replace("\r\n\t", " ");
    head.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")).map(String::from))
}

fn outbox(t: &TestApp) -> Vec<String> {
    let o = Outbox::open(&t.data_dir).unwrap();
    o.list().unwrap().iter().map(|e| String::from_utf8(o.read(&e.file_name).unwrap()).unwrap()).collect()
}

/// The board emails sent, once the in-process queue has run every job.
async fn board_mails(t: &TestApp) -> Vec<String> {
    t.jobs_done().await;
    outbox(t).into_iter().filter(|m| m.contains("From: \"Qnet projects\"")).collect()
}

fn to_of(mail: &str) -> String {
    header(mail, "To").unwrap_or_default()
}

struct World {
    t: TestApp,
    org: String,
    other_org: String,
    /// Ann leads the project; Bob is on its team; Cat is another member.
    ann: String,
    bob: String,
    cat: String,
    bob_id: String,
}

async fn member(t: &TestApp, email: &str, roles: &[Role]) -> (String, String) {
    let tok = t.token(email, roles).await;
    let me = t.get("/me", Some(&tok)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    (tok, me.body["id"].as_str().unwrap().to_string())
}

async fn world() -> World {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let other_org = t.organisation("Leeds Community Healthcare", &["leedscommunity.nhs.uk"]).await;
    let (ann, _) = member(&t, "ann@leedsth.nhs.uk", &[]).await;
    let (bob, bob_id) = member(&t, "bob@leedsth.nhs.uk", &[]).await;
    let (cat, _) = member(&t, "cat@leedscommunity.nhs.uk", &[]).await;
    World { t, org, other_org, ann, bob, cat, bob_id }
}

fn project_body(w: &World, title: &str, topics: &[&str], status: &str) -> Value {
    json!({"title": title, "aim": "Halve inpatient falls on wards 5 and 6 from 12 to 6 a month by March 2027",
           "problem": "Falls rose after the winter.", "organisation_ids": [w.org], "team": [w.bob_id],
           "topics": topics, "status": status, "started_on": "2026-01-05", "classification": "quality_improvement",
           "progress_score": 2.5})
}

/// Ann creates the project and invites Bob, who accepts: both are on the team.
async fn create_project(w: &World, title: &str, topics: &[&str], status: &str) -> Value {
    let a = w.t.post("/projects", Some(&w.ann), project_body(w, title, topics, status)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["invited"], json!([w.bob_id]), "named members are invited, not added: {}", a.text);
    let id = a.body["id"].as_str().unwrap();
    let joined = w.t.post(&format!("/projects/{id}/invitation/accept"), Some(&w.bob), Value::Null).await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.text);
    joined.body
}

fn ids(a: &Answer) -> Vec<String> {
    a.body["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn members_register_list_filter_and_read_projects_and_anonymous_callers_are_refused() {
    let w = world().await;
    let t = &w.t;
    // Anonymous: refused everywhere but the public classification guide.
    t.post("/projects", None, project_body(&w, "x", &[], "idea")).await.assert_problem(401);
    t.get("/projects", None).await.assert_problem(401);
    let guide = t.get("/projects/classification-questions", None).await;
    assert_eq!(guide.status, StatusCode::OK);
    let research = guide.body["outcomes"].as_array().unwrap().iter().find(|o| o["classification"] == "research").unwrap();
    assert_eq!(research["needs_ethics_approval"], true);
    assert!(research["note"].as_str().unwrap().contains("Research Ethics Committee"));
    assert!(guide.body["questions"].as_array().unwrap().len() >= 4);
    assert_eq!(guide.body["progress_scale"][0]["label"], "Intent to participate");
    assert_eq!(guide.body["progress_scale"][9]["score"], 5.0);

    let falls = create_project(&w, "Fewer falls", &["patient-safety"], "active").await;
    assert_eq!(falls["lead_id"], falls["team"][0]);
    assert_eq!(falls["team"].as_array().unwrap().len(), 2);
    assert_eq!(falls["progress_label"], "Changes tested, but no improvement");
    assert_eq!(falls["ethics_approval_required"], false);
    assert_eq!(falls["organisations"][0]["name"], "Leeds Teaching Hospitals");
    create_project(&w, "Discharge before noon", &["flow"], "idea").await;
    let mut community = project_body(&w, "Community falls", &["patient-safety"], "idea");
    community["organisation_ids"] = json!([w.other_org]);
    community["team"] = json!([]);
    let c = t.post("/projects", Some(&w.cat), community).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);

    // Every member reads every project, newest first, with filters.
    let all = t.get("/projects", Some(&w.bob)).await;
    assert_eq!(ids(&all), ["Community falls", "Discharge before noon", "Fewer falls"]);
    assert_eq!(ids(&t.get("/projects?topic=patient-safety", Some(&w.cat)).await), ["Community falls", "Fewer falls"]);
    assert_eq!(
        ids(&t.get(&format!("/projects?organisation={}", w.org), Some(&w.cat)).await),
        ["Discharge before noon", "Fewer falls"]
    );
    assert_eq!(ids(&t.get("/projects?status=active", Some(&w.cat)).await), ["Fewer falls"]);
    assert_eq!(
        ids(&t.get(&format!("/projects?topic=patient-safety&organisation={}", w.other_org), Some(&w.cat)).await),
        ["Community falls"]
    );
    t.get("/projects?status=finished", Some(&w.cat)).await.assert_problem(422);
    t.get("/projects?topic=astrology", Some(&w.cat)).await.assert_problem(422);
    // Cursor pagination, also through a filtered list.
    let p1 = t.get("/projects?limit=1&topic=patient-safety", Some(&w.cat)).await;
    assert_eq!(ids(&p1), ["Community falls"]);
    let cursor = p1.body["next_cursor"].as_str().unwrap();
    let p2 = t.get(&format!("/projects?limit=1&topic=patient-safety&cursor={cursor}"), Some(&w.cat)).await;
    assert_eq!(ids(&p2), ["Fewer falls"]);
    assert!(p2.body["next_cursor"].is_null());
    t.get(&format!("/projects?limit=1&status=idea&cursor={cursor}"), Some(&w.cat)).await.assert_problem(400);

    let id = falls["id"].as_str().unwrap();
    let got = t.get(&format!("/projects/{id}"), Some(&w.cat)).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("etag"), Some("\"2\""), "created, then Bob joined");
    assert_eq!(got.body["following"], false, "Cat is not on the team");
    assert_eq!(t.get(&format!("/projects/{id}"), Some(&w.bob)).await.body["following"], true, "team members follow");
    t.get("/projects/01J00000000000000000000000", Some(&w.cat)).await.assert_problem(404);
    t.get(&format!("/projects/{id}"), None).await.assert_problem(401);
}

#[tokio::test]
async fn bad_projects_are_refused_naming_every_field_and_retries_create_one() {
    let w = world().await;
    let t = &w.t;
    let bad = t
        .post(
            "/projects",
            Some(&w.ann),
            json!({"title": "", "organisation_ids": ["nope"], "team": ["ghost"], "status": "done", "progress_score": 7,
                   "started_on": "2999-01-01", "colour": "blue"}),
        )
        .await;
    bad.assert_problem(422);
    assert_eq!(bad.problem_fields(), ["colour", "title", "aim", "status", "started_on", "progress_score"]);
    let unknown = t
        .post("/projects", Some(&w.ann), json!({"title": "T", "aim": "A", "organisation_ids": ["nope"], "team": ["ghost"]}))
        .await;
    unknown.assert_problem(422);
    assert_eq!(unknown.problem_fields(), ["organisation_ids[0]", "team[0]"]);
    assert_eq!(t.get("/projects", Some(&w.ann)).await.body["items"].as_array().unwrap().len(), 0, "nothing was created");

    let body = project_body(&w, "Once", &[], "idea");
    let first = t.send(Method::POST, "/projects", Some(&w.ann), Some(body.clone()), &[("idempotency-key", "k1")]).await;
    let again = t.send(Method::POST, "/projects", Some(&w.ann), Some(body), &[("idempotency-key", "k1")]).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(first.body["id"], again.body["id"]);
    assert_eq!(t.get("/projects", Some(&w.ann)).await.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn only_the_team_and_moderators_change_a_project() {
    let w = world().await;
    let t = &w.t;
    let p = create_project(&w, "Fewer falls", &["patient-safety"], "idea").await;
    let path = format!("/projects/{}", p["id"].as_str().unwrap());
    let organiser = t.token("org@leedsth.nhs.uk", &[Role::Organiser]).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    t.patch(&path, &w.cat, 2, json!({"status": "active"})).await.assert_problem(403);
    t.patch(&path, &organiser, 2, json!({"status": "active"})).await.assert_problem(403);
    t.send(Method::PATCH, &path, None, Some(json!({"status": "active"})), &[("if-match", "\"2\"")]).await.assert_problem(401);
    t.send(Method::PATCH, &path, Some(&w.bob), Some(json!({"status": "active"})), &[]).await.assert_problem(428);
    t.patch(&path, &w.bob, 9, json!({"status": "active"})).await.assert_problem(412);
    t.patch(&path, &w.bob, 2, json!({"progress_score": 4.2})).await.assert_problem(422);
    // A team member edits the project but may not rewrite its team: that is the lead's.
    t.patch(&path, &w.bob, 2, json!({"team": []})).await.assert_problem(403);
    assert_eq!(t.get(&path, Some(&w.cat)).await.body["version"], 2, "refusals changed nothing");

    let by_team = t.patch(&path, &w.bob, 2, json!({"status": "active", "progress_score": 3.5})).await;
    assert_eq!(by_team.status, StatusCode::OK, "{}", by_team.text);
    assert_eq!(by_team.body["progress_label"], "Improvement");
    assert_eq!(ids(&t.get("/projects?status=active", Some(&w.cat)).await), ["Fewer falls"]);
    assert!(ids(&t.get("/projects?status=idea", Some(&w.cat)).await).is_empty(), "it left the old status list");
    let by_lead = t.patch(&path, &w.ann, 3, json!({"team": []})).await;
    assert_eq!(by_lead.status, StatusCode::OK, "{}", by_lead.text);
    assert_eq!(by_lead.body["team"], json!([p["lead_id"]]), "the lead stays on the team");
    // Bob left the team: he may no longer change it; a moderator may.
    t.patch(&path, &w.bob, 4, json!({"status": "sustaining"})).await.assert_problem(403);
    let by_mod = t.patch(&path, &moderator, 4, json!({"status": "sustaining", "classification": "research"})).await;
    assert_eq!(by_mod.status, StatusCode::OK, "{}", by_mod.text);
    assert_eq!(by_mod.body["ethics_approval_required"], true);
    assert_eq!(by_mod.header("etag"), Some("\"5\""));
}

#[tokio::test]
async fn team_members_join_by_accepting_an_invitation() {
    let w = world().await;
    let t = &w.t;
    let a = t.post("/projects", Some(&w.ann), project_body(&w, "Fewer falls", &["patient-safety"], "idea")).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let id = a.body["id"].as_str().unwrap().to_string();
    let path = format!("/projects/{id}");
    // Invited, not yet on the team or following; the invitation email links the project page.
    assert_eq!(a.body["team"].as_array().unwrap().len(), 1);
    assert_eq!(t.get(&path, Some(&w.bob)).await.body["following"], false);
    t.patch(&path, &w.bob, 1, json!({"status": "active"})).await.assert_problem(403);
    let mails = t.outbox_texts();
    let invite: Vec<_> = mails.iter().filter(|m| m.contains("bob@leedsth.nhs.uk") && m.contains("invited you")).collect();
    assert_eq!(invite.len(), 1, "one invitation");
    assert!(invite[0].contains(&format!("/projects/{id}")));
    // Only the invited member answers; others get 404.
    t.post(&format!("{path}/invitation/accept"), Some(&w.cat), Value::Null).await.assert_problem(404);
    let joined = t.post(&format!("{path}/invitation/accept"), Some(&w.bob), Value::Null).await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.text);
    assert_eq!(joined.body["team"].as_array().unwrap().len(), 2);
    assert_eq!(joined.body["invited"], json!([]));
    assert_eq!(joined.body["following"], true, "joining follows the board");
    t.post(&format!("{path}/invitation/accept"), Some(&w.bob), Value::Null).await.assert_problem(404);
    // The lead invites Cat, who declines: she never joins.
    let cat_id = t.get("/me", Some(&w.cat)).await.body["id"].as_str().unwrap().to_string();
    let team = json!([a.body["lead_id"], w.bob_id, cat_id]);
    let inv = t.patch(&path, &w.ann, 2, json!({"team": team})).await;
    assert_eq!(inv.body["invited"], json!([cat_id]), "{}", inv.text);
    let declined = t.post(&format!("{path}/invitation/decline"), Some(&w.cat), Value::Null).await;
    assert_eq!(declined.status, StatusCode::OK, "{}", declined.text);
    assert_eq!(declined.body["team"].as_array().unwrap().len(), 2);
    assert_eq!(declined.body["invited"], json!([]));
}

const WEEKS: [&str; 9] = [
    "2025-01-06",
    "2025-01-13",
    "2025-01-20",
    "2025-01-27",
    "2025-02-03",
    "2025-02-10",
    "2025-02-17",
    "2025-02-24",
    "2025-03-03",
];

async fn project_with_measure(w: &World) -> (String, String) {
    let p = create_project(w, "Fewer falls", &["patient-safety"], "active").await;
    let pid = p["id"].as_str().unwrap().to_string();
    let m =
        w.t.post(
            &format!("/projects/{pid}/measures"),
            Some(&w.bob),
            json!({"name": "Patients seen within 4 hours", "type": "outcome", "unit": "%", "improvement_direction": "up",
                   "target": 15, "frequency": "weekly"}),
        )
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.text);
    (pid, m.body["id"].as_str().unwrap().to_string())
}

async fn csv(t: &TestApp, path: &str, token: &str, text: &str) -> Answer {
    let r = t
        .client
        .post(format!("{}{}", t.base, path))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(text.to_string())
        .send()
        .await
        .unwrap();
    qnet_tests::read(r).await
}

#[tokio::test]
async fn measures_take_points_by_json_and_csv_and_refuse_bad_input_changing_nothing() {
    let w = world().await;
    let t = &w.t;
    let (pid, mid) = project_with_measure(&w).await;
    let points = format!("/projects/{pid}/measures/{mid}/points");
    let (other, _) = project_with_measure(&w).await;

    t.post(
        &format!("/projects/{pid}/measures"),
        Some(&w.cat),
        json!({"name": "x", "type": "process", "improvement_direction": "up"}),
    )
    .await
    .assert_problem(403);
    let bad = t.post(&format!("/projects/{pid}/measures"), Some(&w.ann), json!({"name": "x", "type": "kpi"})).await;
    bad.assert_problem(422);
    assert_eq!(bad.problem_fields(), ["type", "improvement_direction"]);

    let first = t
        .post(
            &points,
            Some(&w.bob),
            json!({"points": WEEKS[..4].iter().map(|d| json!({"date": d, "value": 10})).collect::<Vec<_>>()}),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!((first.body["added"].as_u64(), first.body["replaced"].as_u64()), (Some(4), Some(0)));

    // CSV: adds and replaces by date.
    let up = csv(t, &points, &w.ann, "date,value\n2025-01-27,12\n2025-02-03,10\n\n2025-02-10,12\n").await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.text);
    assert_eq!((up.body["added"].as_u64(), up.body["replaced"].as_u64()), (Some(2), Some(1)));
    assert_eq!(up.body["measure"]["point_count"], 6);
    assert_eq!(up.body["measure"]["last_date"], "2025-02-10");

    // Bad input: every problem named, nothing stored.
    let bad_csv = csv(t, &points, &w.ann, "date,value\n2025-02-17,12\n2025-02-24,twelve\n2999-01-01,3\n2025-02-17,4\n").await;
    bad_csv.assert_problem(422);
    assert_eq!(bad_csv.problem_fields(), ["line 3", "line 4", "line 5"]);
    assert!(bad_csv.body["errors"][0]["message"].as_str().unwrap().contains("'twelve' is not a number"));
    assert!(bad_csv.body["errors"][1]["message"].as_str().unwrap().contains("future"));
    assert!(bad_csv.body["errors"][2]["message"].as_str().unwrap().contains("twice"));
    let bad_json = t
        .post(
            &points,
            Some(&w.ann),
            json!({"points": [{"date": "2025-02-17", "value": "12"}, {"date": "2025-02-24", "value": 1e13}]}),
        )
        .await;
    bad_json.assert_problem(422);
    assert_eq!(bad_json.problem_fields(), ["points[0].value", "points[1].value"]);
    csv(t, &points, &w.cat, "date,value\n2025-02-17,12\n").await.assert_problem(403);
    t.post(
        &format!("/projects/{other}/measures/{mid}/points"),
        Some(&w.ann),
        json!({"points": [{"date": "2025-02-17", "value": 1}]}),
    )
    .await
    .assert_problem(404);
    let plain = t
        .client
        .post(format!("{}{points}", t.base))
        .bearer_auth(&w.ann)
        .header("content-type", "text/plain")
        .body("date,value\n")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let measures = t.get(&format!("/projects/{pid}/measures"), Some(&w.cat)).await;
    assert_eq!(measures.body["items"][0]["point_count"], 6, "nothing changed: {}", measures.text);

    // Annotations and PDSA cycles that point at the data.
    let note = t
        .post(
            &format!("/projects/{pid}/measures/{mid}/annotations"),
            Some(&w.bob),
            json!({"date": "2025-02-03", "text": "Falls huddle starts"}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.text);
    t.post(&format!("/projects/{pid}/measures/{mid}/annotations"), Some(&w.cat), json!({"date": "2025-02-03", "text": "x"}))
        .await
        .assert_problem(403);
    let pdsa = json!({"title": "Cycle 1", "plan": "Try a falls huddle at 8am on ward 5", "prediction": "Fewer falls at night",
                      "do": "Ran it for two weeks", "study": "Falls fell from 3 to 1", "act": "Adopt on ward 6",
                      "started_on": "2025-02-03", "ended_on": "2025-02-17",
                      "points": [{"measure_id": mid, "date": "2025-02-03"}, {"measure_id": mid, "date": "2025-02-10"}]});
    let created = t.post(&format!("/projects/{pid}/pdsa"), Some(&w.ann), pdsa.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["do"], "Ran it for two weeks");
    let mut wrong = pdsa.clone();
    wrong["points"] = json!([{"measure_id": mid, "date": "2025-03-31"}]);
    let refused = t.post(&format!("/projects/{pid}/pdsa"), Some(&w.ann), wrong).await;
    refused.assert_problem(422);
    assert_eq!(refused.problem_fields(), ["points[0].date"]);
    t.post(&format!("/projects/{pid}/pdsa"), Some(&w.cat), pdsa).await.assert_problem(403);
    let cycles = t.get(&format!("/projects/{pid}/pdsa"), Some(&w.cat)).await;
    assert_eq!(cycles.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(cycles.body["items"][0]["points"][1]["date"], "2025-02-10");

    // PATCH a measure with If-Match.
    let mpath = format!("/projects/{pid}/measures/{mid}");
    let one = t.get(&mpath, Some(&w.cat)).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.body["point_count"], 6);
    t.get(&format!("/projects/{other}/measures/{mid}"), Some(&w.cat)).await.assert_problem(404);
    let v = measures.body["items"][0]["version"].as_u64().unwrap();
    assert_eq!(one.header("etag"), Some(format!("\"{v}\"").as_str()));
    t.patch(&mpath, &w.cat, v, json!({"target": 20})).await.assert_problem(403);
    t.patch(&mpath, &w.ann, v + 5, json!({"target": 20})).await.assert_problem(412);
    t.patch(&format!("/projects/{other}/measures/{mid}"), &w.ann, v, json!({"target": 20})).await.assert_problem(404);
    let changed = t.patch(&mpath, &w.ann, v, json!({"target": 20, "name": "Seen within 4 hours"})).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["target"], 20.0);
}

#[tokio::test]
async fn a_known_series_is_analysed_as_run_and_xmr_charts_and_drawn_as_svg() {
    let w = world().await;
    let t = &w.t;
    let (pid, mid) = project_with_measure(&w).await;
    let base = format!("/projects/{pid}/measures/{mid}");
    let one = t.post(&format!("{base}/points"), Some(&w.ann), json!({"points": [{"date": WEEKS[0], "value": 10}]})).await;
    assert_eq!(one.status, StatusCode::OK);
    let short = t.get(&format!("{base}/analysis?chart=xmr"), Some(&w.cat)).await;
    short.assert_problem(422);
    assert_eq!(short.problem_fields(), ["points"]);

    // 10, 12, 10, 12 … over 8 weeks, then 20. Baseline 8: mean 11, every moving
    // range 2, limits 11 ± 2.66 × 2 = 5.68 and 16.32; the 20 is beyond the
    // upper limit, which is good news as higher is better; the target (15) lies
    // between the limits.
    let values = [10.0, 12.0, 10.0, 12.0, 10.0, 12.0, 10.0, 12.0, 20.0];
    let series: Vec<Value> = WEEKS.iter().zip(values).map(|(d, v)| json!({"date": d, "value": v})).collect();
    assert_eq!(t.post(&format!("{base}/points"), Some(&w.ann), json!({"points": series})).await.status, StatusCode::OK);
    let xmr = t.get(&format!("{base}/analysis?chart=xmr&baseline=8"), Some(&w.cat)).await;
    assert_eq!(xmr.status, StatusCode::OK, "{}", xmr.text);
    let a = &xmr.body;
    assert_eq!(a["chart"], "xmr");
    assert_eq!(a["points"].as_array().unwrap().len(), 9);
    assert_eq!(a["points"][8], json!({"date": "2025-03-03", "value": 20.0}));
    let seg = &a["segments"][0];
    assert_eq!((seg["from_index"].as_u64(), seg["to_index"].as_u64()), (Some(0), Some(8)));
    assert!((seg["centre"].as_f64().unwrap() - 11.0).abs() < 1e-9, "{seg}");
    assert!((seg["lower_limit"].as_f64().unwrap() - 5.68).abs() < 1e-9, "{seg}");
    assert!((seg["upper_limit"].as_f64().unwrap() - 16.32).abs() < 1e-9, "{seg}");
    assert_eq!(a["signals"], json!([{"rule": "astronomical", "points": [8], "kind": "improvement"}]));
    assert_eq!(a["variation"], "special_cause_improvement");
    assert_eq!(a["assurance"], "inconsistent");
    for f in ["useful_observations", "longest_run", "longest_run_max", "crossings", "crossings_min"] {
        assert!(a[f].is_null(), "{f} is for run charts");
    }
    assert!(a["not_evaluated"].is_array());

    // The same series as a run chart: median 12; the four 12s are on the median
    // and ignored, leaving 5 useful points (10, 10, 10, 10, 20): runs of 4 below
    // and 1 above, one crossing. n = 5 is under the 10 useful points the Anhøj
    // rules need, so they are listed as not evaluated.
    let run = t.get(&format!("{base}/analysis?chart=run"), Some(&w.cat)).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text);
    let r = &run.body;
    assert_eq!(r["chart"], "run");
    assert_eq!(r["segments"][0]["centre"], 12.0);
    assert!(r["segments"][0]["lower_limit"].is_null());
    assert_eq!(r["useful_observations"], 5);
    assert_eq!(r["longest_run"], 4);
    assert_eq!(r["crossings"], 1);
    assert!(r["variation"].is_null() && r["assurance"].is_null());
    assert_eq!(r["signals"], json!([]));
    assert!(!r["not_evaluated"].as_array().unwrap().is_empty(), "{r}");

    // A break point: separate lines before and after.
    let split = t.get(&format!("{base}/analysis?chart=xmr&recalculate_from=2025-02-03"), Some(&w.cat)).await;
    assert_eq!(split.status, StatusCode::OK, "{}", split.text);
    assert_eq!(split.body["segments"].as_array().unwrap().len(), 2);
    assert_eq!(split.body["segments"][1]["from_index"], 4);

    for bad in ["chart=pie", "", "chart=run&baseline=1", "chart=xmr&recalculate_from=March"] {
        t.get(&format!("{base}/analysis?{bad}"), Some(&w.cat)).await.assert_problem(422);
    }
    t.get(&format!("{base}/analysis?chart=run"), None).await.assert_problem(401);

    let note = t
        .post(&format!("{base}/annotations"), Some(&w.ann), json!({"date": "2025-02-03", "text": "Huddle & handover <new>"}))
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    let svg = t.get(&format!("{base}/chart.svg?chart=xmr"), Some(&w.cat)).await;
    assert_eq!(svg.status, StatusCode::OK);
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(svg.text.starts_with("<svg") || svg.text.starts_with("<?xml"), "{}", &svg.text[..80]);
    for token in xmlparser::Tokenizer::from(svg.text.as_str()) {
        token.unwrap_or_else(|e| panic!("chart.svg is not well-formed: {e}"));
    }
    assert!(svg.text.contains("<title"), "an accessible title");
    assert!(svg.text.contains("Huddle &amp; handover &lt;new&gt;"), "the annotation, escaped");
    assert!(svg.text.contains("Patients seen within 4 hours"));
    t.get(&format!("{base}/chart.svg?chart=bar"), Some(&w.cat)).await.assert_problem(422);
}

#[tokio::test]
async fn the_board_threads_posts_and_emails_each_follower_once_with_a_reply_address() {
    let w = world().await;
    let t = &w.t;
    let p = create_project(&w, "Fewer falls", &["patient-safety"], "active").await;
    let pid = p["id"].as_str().unwrap();
    // Cat follows; Ann and Bob (the team) follow already.
    let f = t.post(&format!("/projects/{pid}/follow"), Some(&w.cat), Value::Null).await;
    assert_eq!(f.body, json!({"project_id": pid, "following": true}));
    t.post(&format!("/projects/{pid}/follow"), None, Value::Null).await.assert_problem(401);

    let body = json!({"body": "We start the falls huddle on Monday. Ideas welcome."});
    let post = t
        .send(Method::POST, &format!("/projects/{pid}/posts"), Some(&w.ann), Some(body.clone()), &[("idempotency-key", "p1")])
        .await;
    assert_eq!(post.status, StatusCode::CREATED, "{}", post.text);
    let mails = board_mails(t).await;
    let mut to: Vec<String> = mails.iter().map(|m| to_of(m)).collect();
    to.sort();
    assert_eq!(to.len(), 2, "{to:?}");
    assert!(to[0].contains("bob@leedsth.nhs.uk") && to[1].contains("cat@leedscommunity.nhs.uk"), "not the author: {to:?}");
    let reply_to = header(&mails[0], "Reply-To").unwrap();
    assert!(reply_to.starts_with("<reply+") && reply_to.ends_with("@qnet.localhost>"), "{reply_to}");
    assert_ne!(header(&mails[0], "Reply-To"), header(&mails[1], "Reply-To"), "one token per follower");
    assert!(mails[0].contains("We start the falls huddle on Monday."));

    // A retry of the same request adds nothing and sends nothing.
    let again =
        t.send(Method::POST, &format!("/projects/{pid}/posts"), Some(&w.ann), Some(body), &[("idempotency-key", "p1")]).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(board_mails(t).await.len(), 2);

    // Cat unfollows; Bob replies: only Ann hears of it.
    let u = t.send(Method::DELETE, &format!("/projects/{pid}/follow"), Some(&w.cat), None, &[]).await;
    assert_eq!(u.body["following"], false);
    let post_id = post.body["id"].as_str().unwrap();
    let reply = t.post(&format!("/projects/{pid}/posts/{post_id}/replies"), Some(&w.bob), json!({"body": "Count me in."})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let mails = board_mails(t).await;
    assert_eq!(mails.len(), 3);
    let newest = mails.iter().find(|m| m.contains("Count me in.")).unwrap();
    assert!(to_of(newest).contains("ann@leedsth.nhs.uk"));

    t.post(&format!("/projects/{pid}/posts/01J00000000000000000000000/replies"), Some(&w.bob), json!({"body": "x"}))
        .await
        .assert_problem(404);
    t.post(&format!("/projects/{pid}/posts"), Some(&w.bob), json!({"body": "  "})).await.assert_problem(422);
    t.get(&format!("/projects/{pid}/posts"), None).await.assert_problem(401);

    let second = t.post(&format!("/projects/{pid}/posts"), Some(&w.cat), json!({"body": "How did you measure falls?"})).await;
    assert_eq!(second.status, StatusCode::CREATED);
    let board = t.get(&format!("/projects/{pid}/posts"), Some(&w.cat)).await;
    let threads = board.body["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 2);
    assert_eq!(threads[0]["post"]["body"], "How did you measure falls?", "newest thread first");
    assert_eq!(threads[1]["replies"][0]["body"], "Count me in.");
    assert_eq!(threads[1]["replies"][0]["reply_to"], post_id);
}

#[tokio::test]
async fn a_reply_by_email_lands_on_the_board_once_from_the_token_member_only() {
    let w = world().await;
    let t = &w.t;
    let p = create_project(&w, "Fewer falls", &["patient-safety"], "active").await;
    let pid = p["id"].as_str().unwrap();
    t.post(&format!("/projects/{pid}/follow"), Some(&w.cat), Value::Null).await;
    let post = t.post(&format!("/projects/{pid}/posts"), Some(&w.ann), json!({"body": "Huddle on Monday?"})).await;
    let bob_mail = board_mails(t).await.into_iter().find(|m| to_of(m).contains("bob@")).unwrap();
    let reply_to = header(&bob_mail, "Reply-To").unwrap();
    let address = reply_to.trim_matches(['<', '>']).to_string();

    let ob = Outbox::open(&t.data_dir).unwrap();
    let opts = IngestOptions { dry_run: false, mail_from: "case-studies@qnet.test".into() };
    let message = |from: &str, id: &str| {
        format!(
            "From: Bob <{from}>\r\nTo: {address}\r\nSubject: Re: Fewer falls\r\nMessage-ID: <{id}@leedsth.nhs.uk>\r\nDate: Mon, 2 Mar 2026 09:00:00 +0000\r\n\r\nYes, 8am suits ward 6.\r\n\r\n-- \r\nBob\r\nWard manager\r\n\r\nOn Mon, 2 Mar 2026 at 08:00, Qnet projects wrote:\r\n> Huddle on Monday?\r\n"
        )
    };
    let delivery = Inbound::local(message("bob@leedsth.nhs.uk", "r1").into_bytes(), qnet_mail::Verdicts::default());
    let report = t.app.ingest(&delivery, &opts, &ob).await.unwrap();
    assert_eq!(report.outcome, "accept", "{report:?}");
    assert_eq!(report.reason.as_deref(), Some("board_reply"));
    let sent = board_mails(t).await.len();
    // The same delivery again adds nothing and emails nobody twice.
    let again = t.app.ingest(&delivery, &opts, &ob).await.unwrap();
    assert_eq!(again.reason.as_deref(), Some("board_reply"));
    assert_eq!(board_mails(t).await.len(), sent);

    let board = t.get(&format!("/projects/{pid}/posts"), Some(&w.cat)).await;
    let replies = board.body["threads"][0]["replies"].as_array().unwrap().clone();
    assert_eq!(replies.len(), 1, "{}", board.text);
    assert_eq!(replies[0]["body"], "Yes, 8am suits ward 6.", "quoted text and signature stripped");
    assert_eq!(replies[0]["source"], "email");
    assert_eq!(replies[0]["author_id"], w.bob_id);
    assert_eq!(replies[0]["reply_to"], post.body["id"]);
    // Ann (the author of the post) and Cat hear of it; Bob does not.
    let about: Vec<String> =
        board_mails(t).await.into_iter().filter(|m| m.contains("8am suits ward 6")).map(|m| to_of(&m)).collect();
    assert_eq!(about.len(), 2, "{about:?}");
    assert!(about.iter().all(|to| !to.contains("bob@")));

    // Someone else using Bob's reply address, an unverified sender, an unknown token.
    let stranger = Inbound::local(message("mallory@leedsth.nhs.uk", "r2").into_bytes(), qnet_mail::Verdicts::default());
    assert_eq!(t.app.ingest(&stranger, &opts, &ob).await.unwrap().reason.as_deref(), Some("sender_mismatch"));
    let fail = qnet_mail::Verdicts { dmarc: qnet_mail::Verdict::Fail, ..Default::default() };
    let spoofed = Inbound::local(message("bob@leedsth.nhs.uk", "r3").into_bytes(), fail);
    assert_ne!(t.app.ingest(&spoofed, &opts, &ob).await.unwrap().outcome, "accept");
    let unknown = message("bob@leedsth.nhs.uk", "r4").replace(&address, "reply+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@qnet.localhost");
    let r = t.app.ingest(&Inbound::local(unknown.into_bytes(), qnet_mail::Verdicts::default()), &opts, &ob).await.unwrap();
    assert_eq!(r.reason.as_deref(), Some("unknown_token"));
    let board = t.get(&format!("/projects/{pid}/posts"), Some(&w.cat)).await;
    assert_eq!(board.body["threads"][0]["replies"].as_array().unwrap().len(), 1, "refused replies add nothing");
}

/// A mail service that accepts `accept` messages and then throttles until told otherwise.
struct ThrottlingMailer {
    accept: std::sync::atomic::AtomicUsize,
    sent: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl qnet_ports::MailSender for ThrottlingMailer {
    async fn send(&self, mail: &qnet_ports::OutgoingMail) -> Result<String, qnet_ports::MailError> {
        let left = self.accept.load(std::sync::atomic::Ordering::SeqCst);
        if left == 0 {
            return Err(qnet_ports::MailError::Throttled("Maximum sending rate exceeded".into()));
        }
        self.accept.store(left - 1, std::sync::atomic::Ordering::SeqCst);
        self.sent.lock().unwrap().push(mail.to.join(","));
        Ok(format!("m{left}"))
    }
}

#[tokio::test]
async fn a_throttled_follower_email_is_sent_by_the_retry_and_no_email_goes_twice() {
    let w = world().await;
    let t = &w.t;
    let p = create_project(&w, "Fewer falls", &["patient-safety"], "active").await;
    let pid = p["id"].as_str().unwrap();
    t.post(&format!("/projects/{pid}/follow"), Some(&w.cat), Value::Null).await;
    let mailer = std::sync::Arc::new(ThrottlingMailer { accept: 1.into(), sent: Default::default() });
    let queue = std::sync::Arc::new(qnet_app::digest::MemoryQueue::default());
    let app = t.app.clone().with_mailer(mailer.clone(), "projects@qnet.test").with_board_queue(queue.clone());
    let ann_id = t.app.member_id_for_email("ann@leedsth.nhs.uk").await.unwrap().unwrap();
    let ann = qnet_app::Claims::new(ann_id.clone(), "ann@leedsth.nhs.uk".into(), "ann".into(), vec![Role::Member]);
    let body = json!({"body": "Huddle at 8am?"});
    let raw = serde_json::to_vec(&body).unwrap();
    let path = format!("/projects/{pid}/posts");
    let envelope: qnet_app::idempotency::Envelope = std::sync::Arc::new(|_: &str| (201, None));
    let key = || {
        qnet_app::idempotency::IdempotencyKey::new(&ann_id, "post-1", &[b"POST", path.as_bytes(), &raw], envelope.clone())
            .unwrap()
    };

    // The request only enqueues; a retried request enqueues again (a job may
    // be lost between the post and the queue) and adds no post.
    app.create_board_message(&ann, pid, None, &body, Some(&key())).await.unwrap();
    assert!(matches!(
        app.create_board_message(&ann, pid, None, &body, Some(&key())).await.unwrap(),
        qnet_app::idempotency::Creation::Replayed(_)
    ));
    let jobs: Vec<qnet_app::boards::BoardJob> = queue.take().iter().map(|b| serde_json::from_str(b).unwrap()).collect();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0], jobs[1]);
    assert!(mailer.sent.lock().unwrap().is_empty(), "nothing is sent in the request");

    // One follower's email goes, the other's is throttled: the job fails (so
    // the queue retries it).
    let first = app.process_board_job(&jobs[0]).await;
    assert!(matches!(first, Err(qnet_app::AppError::Unavailable(_))), "{first:?}");
    assert_eq!(mailer.sent.lock().unwrap().len(), 1);

    // The retry, and the duplicate job, send only the email still owed.
    mailer.accept.store(10, std::sync::atomic::Ordering::SeqCst);
    app.process_board_job(&jobs[0]).await.unwrap();
    app.process_board_job(&jobs[1]).await.unwrap();
    let mut sent = mailer.sent.lock().unwrap().clone();
    sent.sort();
    assert_eq!(sent, ["bob@leedsth.nhs.uk", "cat@leedscommunity.nhs.uk"]);
    assert_eq!(t.get(&path, Some(&w.cat)).await.body["threads"].as_array().unwrap().len(), 1, "one post");
}

#[tokio::test]
async fn erasing_a_member_detaches_their_board_messages_and_ends_their_follows() {
    let w = world().await;
    let t = &w.t;
    let p = create_project(&w, "Fewer falls", &["patient-safety"], "active").await;
    let pid = p["id"].as_str().unwrap();
    t.post(&format!("/projects/{pid}/follow"), Some(&w.cat), Value::Null).await;
    let post = t.post(&format!("/projects/{pid}/posts"), Some(&w.cat), json!({"body": "How did you staff the huddle?"})).await;
    assert_eq!(post.status, StatusCode::CREATED, "{}", post.text);
    assert_eq!(t.send(Method::DELETE, "/me", Some(&w.cat), None, &[]).await.status, StatusCode::NO_CONTENT);
    let board = t.get(&format!("/projects/{pid}/posts"), Some(&w.ann)).await;
    let text = board.text.clone();
    assert!(text.contains("How did you staff the huddle?"), "the discussion keeps its text: {text}");
    assert!(!text.contains("cat"), "but not the author's name: {text}");
    // Cat no longer follows: a new post emails the team only.
    let before = board_mails(t).await.len();
    t.post(&format!("/projects/{pid}/posts"), Some(&w.ann), json!({"body": "We used the bank staff."})).await;
    let new: Vec<String> = board_mails(t).await.into_iter().skip(before).collect();
    assert!(new.iter().all(|m| !m.contains("cat@leedscommunity.nhs.uk")), "no email to an erased member");
}
