//! Issue 22, adoption and spread: "We are trying this" on a published case
//! study, through HTTP on the embedded store. The author hears once; the case
//! study shows where it spread (organisations with their types, projects); the
//! adopting project links back; bad input and the wrong people change nothing.

use qnet_domain::Role;
use qnet_tests::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct World {
    t: TestApp,
    author: String,
    ann: String,
    ann_id: String,
    cat: String,
    cs: String,
    project: String,
}

async fn world() -> World {
    let t = spawn_app().await;
    let leeds = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    t.organisation("Kirklees Council", &["kirklees.gov.uk"]).await;
    let author = t.token("author@leedsth.nhs.uk", &[]).await;
    let cs = t
        .submit(&author, json!({"title": "Fewer falls on ward 5", "body": "Hourly rounding over six PDSA cycles.", "topics": ["patient-safety"]}))
        .await;
    let cs = cs["id"].as_str().unwrap().to_string();
    assert_eq!(t.publish(&cs).await.status, StatusCode::OK);
    let ann = t.token("ann@kirklees.gov.uk", &[]).await;
    let ann_id = t.get("/me", Some(&ann)).await.body["id"].as_str().unwrap().to_string();
    let cat = t.token("cat@leedsth.nhs.uk", &[]).await;
    let p = t
        .post(
            "/projects",
            Some(&ann),
            json!({"title": "Falls in care homes", "aim": "Halve falls in our care homes by June 2027",
                   "organisation_ids": [leeds], "team": [], "topics": ["patient-safety"], "status": "active",
                   "started_on": "2026-10-05", "classification": "quality_improvement"}),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
    let project = p.body["id"].as_str().unwrap().to_string();
    World { t, author, ann, ann_id, cat, cs, project }
}

/// The adoption emails in the outbox: headers, then the plain text part decoded.
fn adoption_mails(t: &TestApp) -> Vec<String> {
    t.outbox_texts()
        .into_iter()
        .filter(|m| m.contains("is trying your case study"))
        .map(|raw| {
            let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap();
            format!("{raw}\n{}", parsed.body_text(0).unwrap_or_default())
        })
        .collect()
}

#[tokio::test]
async fn a_member_records_an_adoption_the_author_hears_once_and_the_project_links_back() {
    let w = world().await;
    let t = &w.t;
    let path = format!("/case-studies/{}/adoptions", w.cs);
    let body = json!({"kind": "adapting", "project_id": w.project, "note": "Rounding every two hours in three care homes."});
    let a = t.post(&path, Some(&w.ann), body.clone()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["count"], json!(1));
    assert_eq!(a.body["adopted_by_me"], json!(true));
    assert_eq!(
        a.body["organisations"],
        json!([{"id": a.body["organisations"][0]["id"], "name": "Kirklees Council", "type": a.body["organisations"][0]["type"]}])
    );
    assert_eq!(a.body["projects"][0]["title"], json!("Falls in care homes"));
    assert_eq!(a.body["items"][0]["note"], json!("Rounding every two hours in three care homes."));

    // The author is told, once, with a one-click opt-out of author updates.
    let mails = adoption_mails(t);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("To: \"author\" <author@leedsth.nhs.uk>"), "{}", mails[0]);
    assert!(mails[0].contains("Falls in care homes") && mails[0].contains("Kirklees Council"));
    assert!(mails[0].contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));

    // Recording again changes it (200), tells nobody again, counts once.
    let again = t.post(&path, Some(&w.ann), json!({"kind": "adopting", "project_id": w.project})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["count"], json!(1));
    assert_eq!(again.body["items"][0]["kind"], json!("adopting"));
    assert_eq!(adoption_mails(t).len(), 1, "the author hears once");
    assert_eq!(t.app.adoption_count(&w.cs).await.unwrap(), 1);

    // Ann's projects (the form's choice): hers, not others'.
    let mine = t.get("/me/projects", Some(&w.ann)).await;
    assert_eq!(mine.body["items"][0]["id"], json!(w.project), "{}", mine.text);
    assert_eq!(t.get("/me/projects", Some(&w.cat)).await.body["items"], json!([]));

    // The project's page links back to where the idea came from.
    let p = t.get(&format!("/projects/{}", w.project), Some(&w.ann)).await;
    assert_eq!(p.body["inspired_by"], json!([{"case_study_id": w.cs, "title": "Fewer falls on ward 5"}]));

    // Anyone may see where it spread; who recorded it is for members only.
    let public = t.get(&path, None).await;
    assert_eq!(public.status, StatusCode::OK);
    assert_eq!(public.body["count"], json!(1));
    assert_eq!(public.body["items"], json!([]));
    assert_eq!(public.body["organisations"][0]["name"], json!("Kirklees Council"));
    assert_eq!(public.body["projects"], json!([]), "projects are for members");
    let seen = t.get(&path, Some(&w.cat)).await;
    assert_eq!(seen.body["items"][0]["member_name"], json!("ann"));
    assert_eq!(seen.body["items"][0]["can_remove"], json!(false));

    // Withdrawing removes the adoption and the project's link.
    let gone = t.send(Method::DELETE, &format!("{path}/{}", w.ann_id), Some(&w.ann), None, &[]).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get(&path, None).await.body["count"], json!(0));
    assert_eq!(t.get(&format!("/projects/{}", w.project), Some(&w.ann)).await.body["inspired_by"], json!([]));
}

#[tokio::test]
async fn bad_input_and_the_wrong_people_change_nothing() {
    let w = world().await;
    let t = &w.t;
    let path = format!("/case-studies/{}/adoptions", w.cs);
    // The author cannot adopt their own work.
    t.post(&path, Some(&w.author), json!({})).await.assert_problem(409);
    // A project the caller is not in, an unknown project, a bad kind, an NHS number.
    let cases: [(Value, &str); 4] = [
        (json!({"project_id": w.project}), "project_id"),
        (json!({"project_id": "01JZZZZZZZZZZZZZZZZZZZZZZZ"}), "project_id"),
        (json!({"kind": "copying"}), "kind"),
        (json!({"note": "Started with the patient 943 476 5919"}), "note"),
    ];
    for (body, field) in cases {
        let r = t.post(&path, Some(&w.cat), body.clone()).await;
        r.assert_problem(422);
        assert!(r.problem_fields().iter().any(|f| f == field), "{body}: {:?}", r.problem_fields());
    }
    assert_eq!(t.get(&path, None).await.body["count"], json!(0), "nothing was recorded");
    assert!(adoption_mails(t).is_empty());

    // A pending case study cannot be adopted (and is not known to exist).
    let pending = t.submit(&w.author, json!({"title": "Draft", "body": "Not yet."})).await;
    let pending_path = format!("/case-studies/{}/adoptions", pending["id"].as_str().unwrap());
    t.post(&pending_path, Some(&w.ann), json!({})).await.assert_problem(404);
    t.get(&pending_path, None).await.assert_problem(404);

    // Only who recorded it, or a moderator, removes it.
    assert_eq!(t.post(&path, Some(&w.ann), json!({"note": "Trying it on two wards"})).await.status, StatusCode::CREATED);
    let ann_adoption = format!("{path}/{}", w.ann_id);
    t.send(Method::DELETE, &ann_adoption, Some(&w.cat), None, &[]).await.assert_problem(403);
    t.send(Method::DELETE, &ann_adoption, None, None, &[]).await.assert_problem(401);
    assert_eq!(t.get(&path, None).await.body["count"], json!(1));
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    assert_eq!(t.send(Method::DELETE, &ann_adoption, Some(&moderator), None, &[]).await.status, StatusCode::NO_CONTENT);
    t.send(Method::DELETE, &ann_adoption, Some(&moderator), None, &[]).await.assert_problem(404);
}

#[tokio::test]
async fn an_author_who_turned_off_updates_is_not_told_and_erasure_takes_adoptions_away() {
    let w = world().await;
    let t = &w.t;
    let me = t.get("/me", Some(&w.author)).await.body;
    let v = me["version"].as_u64().unwrap();
    assert_eq!(t.patch("/me", &w.author, v, json!({"engagement": {"author_updates": false}})).await.status, StatusCode::OK);
    let path = format!("/case-studies/{}/adoptions", w.cs);
    assert_eq!(t.post(&path, Some(&w.ann), json!({"project_id": w.project})).await.status, StatusCode::CREATED);
    assert!(adoption_mails(t).is_empty(), "author updates are off");
    assert_eq!(adoptions_counted(t, &w.cat).await, json!(1));

    let r = t.send(Method::DELETE, "/me", Some(&w.ann), None, &[]).await;
    assert!(r.status.is_success(), "{}", r.text);
    assert_eq!(t.get(&path, None).await.body["count"], json!(0));
    assert!(t.app.inspired_by(&w.project).await.unwrap().is_empty());
    assert_eq!(adoptions_counted(t, &w.cat).await, json!(0), "an erased adoption no longer stands in the insights");
}

/// The system-wide count of standing adoptions (`GET /insights`, this period).
/// The view rounds and suppresses small counts, so the exact count is read
/// from the system's tallies of the view's months.
async fn adoptions_counted(t: &TestApp, token: &str) -> Value {
    let v = t.get("/insights", Some(token)).await.body;
    let m = |s: &Value| {
        let s = s.as_str().unwrap();
        s[..4].parse::<i32>().unwrap() * 12 + s[5..7].parse::<i32>().unwrap() - 1
    };
    let mut n = 0;
    for month in m(&v["from"])..=m(&v["to"]) {
        let pk = format!("INSIGHTS#{:04}-{:02}", month / 12, month % 12 + 1);
        let item = t.app.records.get(&pk, "ALL").await.unwrap();
        n += item.and_then(|i| i.data["adoptions"].as_i64()).unwrap_or(0);
    }
    json!(n)
}

#[tokio::test]
async fn an_adoption_note_is_reported_to_moderators_who_remove_it_or_dismiss_the_report() {
    let w = world().await;
    let t = &w.t;
    let path = format!("/case-studies/{}/adoptions", w.cs);
    let note = "Trying it with the night team on ward 9";
    assert_eq!(t.post(&path, Some(&w.ann), json!({"note": note})).await.status, StatusCode::CREATED);
    let reports = format!("{path}/{}/reports", w.ann_id);
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;

    // Bad input, an unknown adoption and anonymous callers change nothing.
    t.post(&reports, Some(&w.cat), json!({})).await.assert_problem(422);
    t.post(&reports, Some(&w.cat), json!({"reason": "Names patient 943 476 5919"})).await.assert_problem(422);
    t.post(&format!("{path}/{}/reports", "01JZZZZZZZZZZZZZZZZZZZZZZZ"), Some(&w.cat), json!({"reason": "x"}))
        .await
        .assert_problem(404);
    t.post(&reports, None, json!({"reason": "Rude"})).await.assert_problem(401);
    assert_eq!(t.get("/moderation/reports", Some(&moderator)).await.body["items"], json!([]));

    // A member reports it; a repeat by the same member counts once.
    for _ in 0..2 {
        let r = t.post(&reports, Some(&w.cat), json!({"reason": "Names a colleague"})).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        assert_eq!(r.body["status"], json!("received"));
    }
    t.get("/moderation/reports", Some(&w.cat)).await.assert_problem(403);
    let open = t.get("/moderation/reports", Some(&moderator)).await;
    let items = open.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", open.text);
    assert_eq!(items[0]["kind"], json!("adoption"));
    assert_eq!(items[0]["text"], json!(note));
    assert_eq!(items[0]["author"]["name"], json!("ann"));
    assert_eq!(items[0]["case_study_id"], json!(w.cs));
    assert_eq!(items[0]["adopter_id"], json!(w.ann_id));
    assert_eq!(items[0]["question_id"], Value::Null);
    assert_eq!(items[0]["target_title"], json!("Fewer falls on ward 5"));
    assert_eq!(items[0]["reasons"], json!(["Names a colleague"]));
    assert_eq!(items[0]["report_count"], json!(1));

    // Dismissing keeps the note; a new report opens it again.
    let id = items[0]["id"].as_str().unwrap().to_string();
    let dismissed = t.post(&format!("/moderation/reports/{id}/dismiss"), Some(&moderator), json!({})).await;
    assert_eq!(dismissed.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get("/moderation/reports", Some(&moderator)).await.body["items"], json!([]));
    assert_eq!(t.get(&path, Some(&w.cat)).await.body["items"][0]["note"], json!(note));
    let author_report = t.post(&reports, Some(&w.author), json!({"reason": "Not what we did"})).await;
    assert_eq!(author_report.status, StatusCode::ACCEPTED);
    assert_eq!(t.get("/moderation/reports", Some(&moderator)).await.body["items"][0]["report_count"], json!(2));

    // Removing the adoption takes its reports with it.
    let gone = t.send(Method::DELETE, &format!("{path}/{}", w.ann_id), Some(&moderator), None, &[]).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get("/moderation/reports", Some(&moderator)).await.body["items"], json!([]));
    t.post(&reports, Some(&w.cat), json!({"reason": "Still there?"})).await.assert_problem(404);
}
