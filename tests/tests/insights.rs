//! Issue 23, the system-wide view: `GET /insights` and `GET /insights.csv`
//! through HTTP on the embedded store. The counts move in the same
//! transaction as the change they count (a refused change moves nothing),
//! small counts are suppressed where they could point at someone, the period
//! filters what happened, and the CSV is safe to open in a spreadsheet.

use qnet_domain::Role;
use qnet_tests::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The cell of `table` in the row labelled `row`, column `column`.
fn cell(view: &Value, table: &str, row: &str, column: &str) -> Value {
    let t = view["tables"].as_array().unwrap().iter().find(|t| t["name"] == table).unwrap_or_else(|| panic!("no table {table}"));
    let i =
        t["columns"].as_array().unwrap().iter().position(|c| c["key"] == column).unwrap_or_else(|| panic!("no column {column}"));
    let r = t["rows"].as_array().unwrap().iter().find(|r| r["label"] == row).unwrap_or_else(|| panic!("no row {row} in {t}"));
    r["cells"][i].clone()
}

fn count(view: &Value, table: &str, row: &str, column: &str) -> Value {
    cell(view, table, row, column)["value"].clone()
}

/// The exact system-wide count behind a cell of `view`'s "All organisations"
/// row, read from the tallies in the store: the view itself shows every count
/// suppressed under 5 and rounded, so the counting is checked here.
async fn sys(t: &TestApp, view: &Value, table: &str, column: &str) -> Value {
    let (field, state) = match table {
        "projects_by_status" if column == "projects" => ("projects".to_owned(), true),
        "projects_by_status" => (format!("status:{column}"), true),
        "projects_by_classification" => (format!("classification:{column}"), true),
        "projects_by_topic" => (format!("topic:{column}"), true),
        "progress_scores" => (format!("score:{column}"), true),
        "case_studies_published" => ("case_studies_published".to_owned(), false),
        "coffee_by_organisation_type" => (format!("coffee_with:{column}"), false),
        _ => (column.to_owned(), false),
    };
    if state {
        return json!(tally(t, "INSIGHTS#state", &field).await);
    }
    let months: Vec<String> = if table == "case_studies_published" {
        vec![column.to_owned()]
    } else {
        let (from, to) = (view["from"].as_str().unwrap(), view["to"].as_str().unwrap());
        let m = |s: &str| s[..4].parse::<i32>().unwrap() * 12 + s[5..7].parse::<i32>().unwrap() - 1;
        (m(from)..=m(to)).map(|n| format!("{:04}-{:02}", n / 12, n % 12 + 1)).collect()
    };
    let mut n = 0;
    for month in months {
        n += tally(t, &format!("INSIGHTS#{month}"), &field).await;
    }
    json!(n)
}

/// One field of the system's tally item in partition `pk`.
async fn tally(t: &TestApp, pk: &str, field: &str) -> i64 {
    let item = t.app.records.get(pk, "ALL").await.unwrap();
    item.and_then(|i| i.data.get(field).and_then(Value::as_i64)).unwrap_or(0)
}

async fn insights(t: &TestApp, token: &str, query: &str) -> Value {
    let a = t.get(&format!("/insights{query}"), Some(token)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.body
}

async fn project(t: &TestApp, token: &str, org: &str, status: &str) -> String {
    let p = t
        .post(
            "/projects",
            Some(token),
            json!({"title": "Falls in care homes", "aim": "Halve falls in our care homes by June 2027",
                   "organisation_ids": [org], "team": [], "topics": ["patient-safety", "flow"], "status": status,
                   "classification": "quality_improvement", "progress_score": 2.5}),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
    p.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn anonymous_callers_are_refused() {
    let t = spawn_app().await;
    t.get("/insights", None).await.assert_problem(401);
    t.get("/insights.csv?table=activity", None).await.assert_problem(401);
}

#[tokio::test]
async fn projects_move_their_counts_with_each_change_and_a_refused_change_moves_nothing() {
    let t = spawn_app().await;
    let leeds = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let jo = t.token("jo@leedsth.nhs.uk", &[]).await;
    let before = insights(&t, &jo, "").await;
    assert_eq!(sys(&t, &before, "projects_by_status", "projects").await, json!(0));

    let id = project(&t, &jo, &leeds, "active").await;
    let v = insights(&t, &jo, "").await;
    assert_eq!(sys(&t, &v, "projects_by_status", "active").await, json!(1));
    assert_eq!(sys(&t, &v, "projects_by_classification", "quality_improvement").await, json!(1));
    assert_eq!(sys(&t, &v, "projects_by_topic", "flow").await, json!(1));
    assert_eq!(sys(&t, &v, "progress_scores", "2.5").await, json!(1));

    // A change of status moves one count down and another up.
    let a = t.patch(&format!("/projects/{id}"), &jo, 1, json!({"status": "completed", "progress_score": 4})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let v = insights(&t, &jo, "").await;
    assert_eq!(sys(&t, &v, "projects_by_status", "active").await, json!(0));
    assert_eq!(sys(&t, &v, "projects_by_status", "completed").await, json!(1));
    assert_eq!(sys(&t, &v, "projects_by_status", "projects").await, json!(1));
    assert_eq!(sys(&t, &v, "progress_scores", "2.5").await, json!(0));
    assert_eq!(sys(&t, &v, "progress_scores", "4.0").await, json!(1));

    // A refused change (stale version; someone else's project) moves nothing.
    t.patch(&format!("/projects/{id}"), &jo, 1, json!({"status": "stopped"})).await.assert_problem(412);
    let other = t.token("al@leedsth.nhs.uk", &[]).await;
    t.patch(&format!("/projects/{id}"), &other, 2, json!({"status": "stopped"})).await.assert_problem(403);
    let after = insights(&t, &jo, "").await;
    assert_eq!(sys(&t, &after, "projects_by_status", "stopped").await, json!(0));
    assert_eq!(sys(&t, &after, "projects_by_status", "completed").await, json!(1));
}

#[tokio::test]
async fn counts_of_one_to_four_in_an_organisation_row_are_fewer_than_5() {
    let t = spawn_app().await;
    let leeds = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let york = t.organisation("York Hospital", &["york.nhs.uk"]).await;
    let jo = t.token("jo@leedsth.nhs.uk", &[]).await;
    let yo = t.token("yo@york.nhs.uk", &[]).await;
    for _ in 0..5 {
        project(&t, &jo, &leeds, "active").await;
    }
    project(&t, &yo, &york, "active").await;
    let v = insights(&t, &jo, "").await;
    assert_eq!(count(&v, "projects_by_status", "Leeds Teaching Hospitals", "active"), json!(5));
    let york_cell = cell(&v, "projects_by_status", "York Hospital", "active");
    assert_eq!(york_cell, json!({"value": null, "suppressed": true, "rounded": false, "text": "fewer than 5"}));
    assert_eq!(count(&v, "projects_by_status", "York Hospital", "idea"), json!(0), "zero points at nobody");
    // Every count is rounded to the nearest 5, the system's too, so York's 1
    // cannot be found by subtraction (NHS less Leeds, or all less Leeds).
    assert_eq!(sys(&t, &v, "projects_by_status", "active").await, json!(6));
    assert_eq!(count(&v, "projects_by_status", "All organisations", "active"), json!(5));
    let nhs = cell(&v, "projects_by_status", "NHS organisations", "active");
    assert_eq!((nhs["value"].clone(), nhs["rounded"].clone()), (json!(5), json!(true)));
    assert_eq!(v["rounding_base"], json!(5));
    for _ in 0..3 {
        project(&t, &jo, &leeds, "active").await;
    }
    let v = insights(&t, &jo, "").await;
    assert_eq!(count(&v, "projects_by_status", "Leeds Teaching Hospitals", "active"), json!(10), "8 rounds to 10");
    assert_eq!(sys(&t, &v, "projects_by_status", "active").await, json!(9));

    // A type with one organisation is that organisation: suppressed too.
    let admin = t.token("admin@qnet.test", &[Role::Admin]).await;
    let council = t
        .post(
            "/organisations",
            Some(&admin),
            json!({"name": "Kirklees Council", "type": "local_authority", "email_domains": ["kirklees.gov.uk"]}),
        )
        .await;
    assert_eq!(council.status, StatusCode::CREATED, "{}", council.text);
    let ann = t.token("ann@kirklees.gov.uk", &[]).await;
    project(&t, &ann, council.body["id"].as_str().unwrap(), "idea").await;
    let v = insights(&t, &jo, "").await;
    assert_eq!(cell(&v, "projects_by_status", "Local authorities", "idea")["suppressed"], json!(true));
    assert_eq!(sys(&t, &v, "projects_by_status", "idea").await, json!(1));

    // Filters narrow the rows: one organisation, with the system and its type.
    let only = insights(&t, &jo, &format!("?organisation={york}")).await;
    let labels: Vec<&str> = only["tables"][0]["rows"].as_array().unwrap().iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["All organisations", "NHS organisations", "York Hospital"]);
    let by_type = insights(&t, &jo, "?organisation_type=local_authority").await;
    let labels: Vec<&str> =
        by_type["tables"][0]["rows"].as_array().unwrap().iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["All organisations", "Local authorities", "Kirklees Council"]);
    let bad = t.get("/insights?organisation_type=guild&from=2026-13", Some(&jo)).await;
    bad.assert_problem(422);
    assert_eq!(bad.problem_fields().len(), 2, "every field error at once: {}", bad.text);
    t.get("/insights?organisation=nope", Some(&jo)).await.assert_problem(422);
    // A month is exactly YYYY-MM, as the document's pattern says: a space of any kind is refused, not trimmed.
    t.get("/insights?from=%C2%A0", Some(&jo)).await.assert_problem(422);
    assert_eq!(t.get("/insights?from=", Some(&jo)).await.status, StatusCode::OK, "empty is absent");
}

#[tokio::test]
async fn case_studies_adoptions_and_questions_are_counted_once_when_they_happen() {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    t.organisation("Kirklees Council", &["kirklees.gov.uk"]).await;
    let author = t.token("author@leedsth.nhs.uk", &[]).await;
    let ann = t.token("ann@kirklees.gov.uk", &[]).await;
    let ann_id = t.get("/me", Some(&ann)).await.body["id"].as_str().unwrap().to_string();
    let cs = t
        .submit(&author, json!({"title": "Fewer falls on ward 5", "body": "Hourly rounding.", "topics": ["patient-safety"]}))
        .await;
    let cs = cs["id"].as_str().unwrap().to_string();
    let v = insights(&t, &ann, "").await;
    assert_eq!(sys(&t, &v, "activity", "case_studies_published").await, json!(0), "pending is not published");
    assert_eq!(t.publish(&cs).await.status, StatusCode::OK);
    let month = time::OffsetDateTime::now_utc().date().to_string()[..7].to_string();
    let v = insights(&t, &ann, "").await;
    assert_eq!(sys(&t, &v, "activity", "case_studies_published").await, json!(1));
    assert_eq!(sys(&t, &v, "case_studies_published", &month).await, json!(1));
    assert_eq!(cell(&v, "case_studies_published", "Leeds Teaching Hospitals", &month)["text"], json!("fewer than 5"));

    // Adoptions: recorded once (recording again changes it, not the count), withdrawn.
    let path = format!("/case-studies/{cs}/adoptions");
    assert_eq!(t.post(&path, Some(&ann), json!({"kind": "adapting"})).await.status, StatusCode::CREATED);
    let again = t.post(&path, Some(&ann), json!({"kind": "adopting"})).await;
    assert!(again.status.is_success(), "{}", again.text);
    let v = insights(&t, &ann, "").await;
    assert_eq!(sys(&t, &v, "activity", "adoptions").await, json!(1));
    // Refused (the author's own case study): nothing moves.
    t.post(&path, Some(&author), json!({"kind": "adapting"})).await.assert_problem(409);
    assert_eq!(sys(&t, &insights(&t, &ann, "").await, "activity", "adoptions").await, json!(1));
    let gone = t.send(Method::DELETE, &format!("{path}/{ann_id}"), Some(&ann), None, &[]).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(sys(&t, &insights(&t, &ann, "").await, "activity", "adoptions").await, json!(0));

    // Questions: asked, first answered (a second answer is not a first), the median delay.
    let q = t.post(&format!("/case-studies/{cs}/questions"), Some(&ann), json!({"body": "How long did it take?"})).await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.text);
    let qid = q.body["id"].as_str().unwrap().to_string();
    let v = insights(&t, &ann, "").await;
    assert_eq!(sys(&t, &v, "activity", "questions_asked").await, json!(1));
    assert_eq!(sys(&t, &v, "activity", "questions_answered").await, json!(0));
    assert_eq!(cell(&v, "activity", "All organisations", "median_hours_to_first_answer")["text"], json!("no answers"));
    for body in ["About six weeks.", "Eight weeks here."] {
        let a = t.post(&format!("/questions/{qid}/answers"), Some(&author), json!({"body": body})).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    }
    let v = insights(&t, &ann, "").await;
    assert_eq!(sys(&t, &v, "activity", "questions_answered").await, json!(1));
    // One answer: its delay is shown to nobody (the median of fewer than 5 answers is suppressed too).
    assert_eq!(cell(&v, "activity", "All organisations", "median_hours_to_first_answer")["text"], json!("fewer than 5"));
    assert_eq!(sys(&t, &v, "activity", "answer_delay:1").await, json!(1));
    assert_eq!(cell(&v, "activity", "Kirklees Council", "median_hours_to_first_answer")["suppressed"], json!(true));
}

#[tokio::test]
async fn the_period_filters_what_happened_and_is_bounded() {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let author = t.token("author@leedsth.nhs.uk", &[]).await;
    let cs = t
        .submit(&author, json!({"title": "Fewer falls on ward 5", "body": "Hourly rounding.", "topics": ["patient-safety"]}))
        .await;
    let cs = cs["id"].as_str().unwrap().to_string();
    assert_eq!(t.publish(&cs).await.status, StatusCode::OK);
    // A question asked in March 2025 (the app stopped then).
    let then = time::macros::datetime!(2025-03-10 09:00 UTC);
    let past = t.api_at(then).await;
    let q = past.post(&format!("/case-studies/{cs}/questions"), Some(&author), json!({"body": "Anyone tried this?"})).await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.text);
    let march = insights(&t, &author, "?from=2025-03&to=2025-03").await;
    assert_eq!((march["from"].clone(), march["to"].clone()), (json!("2025-03"), json!("2025-03")));
    assert_eq!(sys(&t, &march, "activity", "questions_asked").await, json!(1));
    assert_eq!(sys(&t, &march, "activity", "case_studies_published").await, json!(0));
    let now = insights(&t, &author, "").await;
    assert_eq!(sys(&t, &now, "activity", "questions_asked").await, json!(0), "the last 12 months by default");
    assert_eq!(sys(&t, &now, "activity", "case_studies_published").await, json!(1));
    let long = t.get("/insights?from=2022-01&to=2025-01", Some(&author)).await;
    long.assert_problem(422);
    assert_eq!(long.problem_fields(), ["from"]);
    t.get("/insights?from=2025-05&to=2025-01", Some(&author)).await.assert_problem(422);
}

#[tokio::test]
async fn every_table_downloads_as_csv_with_formula_cells_neutralised() {
    let t = spawn_app().await;
    let admin = t.token("admin@qnet.test", &[Role::Admin]).await;
    let org = t
        .post(
            "/organisations",
            Some(&admin),
            json!({"name": "=HYPERLINK(\"http://x\")", "type": "voluntary", "email_domains": ["vol.org.uk"]}),
        )
        .await;
    assert_eq!(org.status, StatusCode::CREATED, "{}", org.text);
    let org = org.body["id"].as_str().unwrap().to_string();
    let vi = t.token("vi@vol.org.uk", &[]).await;
    project(&t, &vi, &org, "active").await;
    for table in [
        "projects_by_status",
        "projects_by_classification",
        "projects_by_topic",
        "progress_scores",
        "case_studies_published",
        "activity",
    ] {
        let a = t.get(&format!("/insights.csv?table={table}"), Some(&vi)).await;
        assert_eq!(a.status, StatusCode::OK, "{table}: {}", a.text);
        assert_eq!(a.header("content-type"), Some("text/csv; charset=utf-8"));
        assert!(a.header("content-disposition").unwrap().starts_with("attachment; filename=\"insights-"), "{table}");
        assert!(a.text.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{table}: {}", a.text);
    }
    let a = t.get("/insights.csv?table=projects_by_status", Some(&vi)).await;
    let lines: Vec<&str> = a.text.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("\"Organisation\",\"Scope\",\"All projects\",\"Idea\",\"Active\""), "{}", lines[0]);
    assert!(lines.iter().any(|l| l.starts_with("\"'=HYPERLINK") && l.contains("\"fewer than 5\"")), "{}", a.text);
    let system = "\"All organisations\",\"system\",\"fewer than 5\",\"0\",\"fewer than 5\"";
    assert!(lines.iter().any(|l| l.starts_with(system)), "{}", a.text);
    let bad = t.get("/insights.csv?table=members", Some(&vi)).await;
    bad.assert_problem(422);
    assert_eq!(bad.problem_fields(), ["table"]);
    t.get("/insights.csv", Some(&vi)).await.assert_problem(422);
}

/// Records stored before the counts were kept: `rebuild_insights` (what
/// `qnet insights rebuild` runs) recounts them, and a second run changes nothing.
#[tokio::test]
async fn a_rebuild_recounts_from_the_records_and_is_idempotent() {
    use qnet_ports::{Index, Query, Write};
    let t = spawn_app().await;
    let leeds = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    t.organisation("Kirklees Council", &["kirklees.gov.uk"]).await;
    let jo = t.token("jo@leedsth.nhs.uk", &[]).await;
    let ann = t.token("ann@kirklees.gov.uk", &[]).await;
    project(&t, &jo, &leeds, "active").await;
    let cs =
        t.submit(&jo, json!({"title": "Fewer falls on ward 5", "body": "Hourly rounding.", "topics": ["patient-safety"]})).await;
    let cs = cs["id"].as_str().unwrap().to_string();
    assert_eq!(t.publish(&cs).await.status, StatusCode::OK);
    assert_eq!(
        t.post(&format!("/case-studies/{cs}/adoptions"), Some(&ann), json!({"kind": "adapting"})).await.status,
        StatusCode::CREATED
    );
    let q = t.post(&format!("/case-studies/{cs}/questions"), Some(&ann), json!({"body": "How long did it take?"})).await;
    let qid = q.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        t.post(&format!("/questions/{qid}/answers"), Some(&jo), json!({"body": "Six weeks."})).await.status,
        StatusCode::CREATED
    );
    let counted = insights(&t, &jo, "").await;

    // Forget every tally, as if the records came before them.
    let month = time::OffsetDateTime::now_utc().date().to_string()[..7].to_string();
    for pk in ["INSIGHTS#state".to_owned(), format!("INSIGHTS#{month}")] {
        let page = t.app.records.query(Query::new(Index::Primary, pk).limit(100)).await.unwrap();
        assert!(!page.items.is_empty());
        let deletes = page
            .items
            .iter()
            .map(|i| Write::Delete { pk: i.pk.clone(), sk: i.sk.clone(), condition: qnet_ports::Condition::None })
            .collect();
        t.app.records.transact(deletes).await.unwrap();
    }
    let forgotten = insights(&t, &jo, "").await;
    assert_eq!(sys(&t, &forgotten, "projects_by_status", "projects").await, json!(0));

    let report = t.app.rebuild_insights().await.unwrap();
    assert_eq!((report.projects, report.case_studies_published, report.adoptions, report.questions), (1, 1, 1, 1));
    assert!(report.tallies_corrected > 0);
    let rebuilt = insights(&t, &jo, "").await;
    assert_eq!(rebuilt["tables"], counted["tables"], "the rebuild counts what the changes counted");
    let again = t.app.rebuild_insights().await.unwrap();
    assert_eq!(again.tallies_corrected, 0, "a second run changes nothing");
    assert_eq!(insights(&t, &jo, "").await["tables"], counted["tables"]);
}

/// A signed-in member with a name: (token, id).
async fn named(t: &TestApp, email: &str, name: &str, roles: &[Role]) -> (String, String) {
    let token = t.token(email, roles).await;
    let me = t.get("/me", Some(&token)).await;
    let renamed = t.patch("/me", &token, me.body["version"].as_u64().unwrap(), json!({"name": name})).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    (token, me.body["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn mentoring_pairs_event_places_and_coffee_pairs_are_counted_when_they_happen() {
    use time::format_description::well_known::Rfc3339;
    let t = spawn_app().await;
    let leeds = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let admin = t.token("admin@qnet.test", &[Role::Admin]).await;
    let council = t
        .post(
            "/organisations",
            Some(&admin),
            json!({"name": "Bradford Council", "type": "local_authority", "email_domains": ["bradford.gov.uk"]}),
        )
        .await;
    assert_eq!(council.status, StatusCode::CREATED, "{}", council.text);
    let (ann, ann_id) = named(&t, "ann@leedsth.nhs.uk", "Ann Jones", &[]).await;
    let (bob, _) = named(&t, "bob@bradford.gov.uk", "Bob Li", &[]).await;
    let (cat, _) = named(&t, "cat@leedsth.nhs.uk", "Cat Moss", &[]).await;
    let (organiser, _) = named(&t, "olu@leedsth.nhs.uk", "Olu Organiser", &[Role::Organiser]).await;

    // An event starts in 40 days (always a later month): the period runs from this month to that one.
    let day = |d: i64, h: u8| {
        (time::OffsetDateTime::now_utc() + time::Duration::days(d)).date().with_hms(h, 0, 0).unwrap().assume_utc()
    };
    let starts = day(40, 9);
    let this_month = &time::OffsetDateTime::now_utc().format(&Rfc3339).unwrap()[..7];
    let event_month = &starts.format(&Rfc3339).unwrap()[..7];
    let period = format!("?from={this_month}&to={event_month}");
    let v = insights(&t, &ann, &period).await;
    for c in ["mentoring_started", "mentoring_closed", "places_booked", "places_attended", "coffee_pairs"] {
        assert_eq!(sys(&t, &v, "people", c).await, json!(0), "{c} before anything happened");
    }

    // Bob (a council) mentors Ann (NHS): started when he accepts, closed when she closes it.
    t.become_mentor(&bob).await;
    let req =
        t.post("/mentoring-requests", Some(&ann), json!({"kind": "mentoring", "topics": ["flow"], "goals": "Run charts."})).await;
    assert_eq!(req.body["state"], "proposed", "{}", req.text);
    let request = req.body["id"].as_str().unwrap().to_string();
    let v = insights(&t, &ann, &period).await;
    assert_eq!(sys(&t, &v, "people", "mentoring_started").await, json!(0), "an offer is not a pair");
    let token = t.offer_token("bob@bradford.gov.uk");
    assert_eq!(t.post(&format!("/mentoring/offers/{token}/accept"), None, Value::Null).await.status, StatusCode::OK);
    // Accepting again (a retry of the link) counts nothing more.
    assert_eq!(t.post(&format!("/mentoring/offers/{token}/accept"), None, Value::Null).await.status, StatusCode::OK);
    let v = insights(&t, &ann, &period).await;
    assert_eq!(sys(&t, &v, "people", "mentoring_started").await, json!(1));
    assert_eq!(cell(&v, "people", "Leeds Teaching Hospitals", "mentoring_started")["suppressed"], json!(true));
    assert_eq!(cell(&v, "people", "Local authorities", "mentoring_started")["suppressed"], json!(true));
    for _ in 0..2 {
        let closed = t.post(&format!("/mentoring-pairings/{request}/close"), Some(&ann), json!({})).await;
        assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    }
    let v = insights(&t, &ann, &period).await;
    assert_eq!(sys(&t, &v, "people", "mentoring_closed").await, json!(1), "closed once, however often asked");

    // Ann and Cat book the workshop; Cat cancels; Ann is marked as attending, then not, then again.
    let e = t
        .post(
            "/events",
            Some(&organiser),
            json!({"kind": "workshop", "title": "Run charts for beginners", "description": "Bring your data.",
                   "starts_at": starts.format(&Rfc3339).unwrap(), "ends_at": day(40, 12).format(&Rfc3339).unwrap(),
                   "location": "Room 2, St James's, Leeds", "capacity": 10, "host_organisation_id": leeds,
                   "topics": ["measurement"]}),
        )
        .await;
    assert_eq!(e.status, StatusCode::CREATED, "{}", e.text);
    let event = e.body["id"].as_str().unwrap().to_string();
    let booked = t.post(&format!("/events/{event}/bookings"), Some(&ann), Value::Null).await;
    assert_eq!(booked.body["status"], "confirmed", "{}", booked.text);
    let booking = booked.body["id"].as_str().unwrap().to_string();
    assert_eq!(t.post(&format!("/events/{event}/bookings"), Some(&ann), Value::Null).await.status, StatusCode::OK);
    let c = t.post(&format!("/events/{event}/bookings"), Some(&cat), Value::Null).await;
    assert_eq!(c.body["status"], "confirmed", "{}", c.text);
    let v = insights(&t, &ann, &period).await;
    assert_eq!(sys(&t, &v, "people", "places_booked").await, json!(2));
    let gone = t.send(Method::DELETE, &format!("/events/{event}/bookings/me"), Some(&cat), None, &[]).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    let at_door = t.api_at(starts - time::Duration::minutes(30)).await;
    for attended in [true, false, true, true] {
        let marked = at_door
            .send(
                Method::PUT,
                &format!("/events/{event}/bookings/{booking}/attendance"),
                Some(&organiser),
                Some(json!({"attended": attended})),
                &[],
            )
            .await;
        assert_eq!(marked.status, StatusCode::OK, "{}", marked.text);
    }
    let v = insights(&t, &ann, &period).await;
    assert_eq!(sys(&t, &v, "people", "places_booked").await, json!(1), "net of the cancellation");
    assert_eq!(sys(&t, &v, "people", "places_attended").await, json!(1));
    // Counted in the month the event starts: a period before it shows none.
    let before = insights(&t, &ann, &format!("?from={this_month}&to={this_month}")).await;
    assert_eq!(sys(&t, &before, "people", "places_booked").await, json!(0));
    // The event moves by an hour, within its month: the counts stay, and the booking follows it.
    let ev = t.get(&format!("/events/{event}"), Some(&organiser)).await;
    let nudged = t
        .patch(
            &format!("/events/{event}"),
            &organiser,
            ev.body["version"].as_u64().unwrap(),
            json!({"starts_at": day(40, 10).format(&Rfc3339).unwrap()}),
        )
        .await;
    assert_eq!(nudged.status, StatusCode::OK, "{}", nudged.text);
    let (pk, sk) = qnet_app::keys::booking(&event, &ann_id);
    let stored = t.app.records.get(&pk, &sk).await.unwrap().unwrap();
    assert_eq!(stored.data["event_starts_at"], nudged.body["starts_at"], "the booking follows its event");
    let same = insights(&t, &ann, &format!("?from={event_month}&to={event_month}")).await;
    assert_eq!(sys(&t, &same, "people", "places_booked").await, json!(1));
    assert_eq!(sys(&t, &same, "people", "places_attended").await, json!(1));
    // The event moves a month on: its places (and attendance) move with it.
    let later = day(75, 9);
    let later_month = &later.format(&Rfc3339).unwrap()[..7];
    let ev = t.get(&format!("/events/{event}"), Some(&organiser)).await;
    let moved = t
        .patch(
            &format!("/events/{event}"),
            &organiser,
            ev.body["version"].as_u64().unwrap(),
            json!({"starts_at": later.format(&Rfc3339).unwrap(), "ends_at": day(75, 12).format(&Rfc3339).unwrap()}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let old_month = insights(&t, &ann, &format!("?from={event_month}&to={event_month}")).await;
    assert_eq!(sys(&t, &old_month, "people", "places_booked").await, json!(0), "moved out of the old month");
    let new_month = insights(&t, &ann, &format!("?from={later_month}&to={later_month}")).await;
    assert_eq!(sys(&t, &new_month, "people", "places_booked").await, json!(1));
    assert_eq!(sys(&t, &new_month, "people", "places_attended").await, json!(1));
    // Ann cancels (the event has not started): her place and her attendance go.
    let gone = t.send(Method::DELETE, &format!("/events/{event}/bookings/me"), Some(&ann), None, &[]).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    let new_month = insights(&t, &ann, &format!("?from={later_month}&to={later_month}")).await;
    assert_eq!(sys(&t, &new_month, "people", "places_booked").await, json!(0));
    assert_eq!(sys(&t, &new_month, "people", "places_attended").await, json!(0), "attended never exceeds booked");

    // Ann and Bob join the coffee pool: one pair, across an NHS trust and a council, counted once.
    for tok in [&ann, &bob] {
        let me = t.get("/me", Some(tok)).await;
        let a = t.patch("/me", tok, me.body["version"].as_u64().unwrap(), json!({"coffee": {"opt_in": true}})).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }
    let now = time::OffsetDateTime::now_utc();
    assert_eq!(t.app.coffee_round(now, true).await.unwrap().pairs.len(), 1);
    let v = insights(&t, &ann, &period).await;
    assert_eq!(sys(&t, &v, "people", "coffee_pairs").await, json!(0), "a dry run counts nothing");
    t.app.coffee_round(now, false).await.unwrap();
    t.app.coffee_round(now, false).await.unwrap();
    let v = insights(&t, &ann, &period).await;
    assert_eq!(sys(&t, &v, "people", "coffee_pairs").await, json!(1), "a rerun of the week counts nothing more");
    assert_eq!(sys(&t, &v, "coffee_by_organisation_type", "nhs").await, json!(1));
    assert_eq!(sys(&t, &v, "coffee_by_organisation_type", "local_authority").await, json!(1));
    assert_eq!(sys(&t, &v, "coffee_by_organisation_type", "voluntary").await, json!(0));
    assert_eq!(cell(&v, "coffee_by_organisation_type", "NHS organisations", "local_authority")["suppressed"], json!(true));
    // The system row is protected too: with one local authority, its count would be that council's.
    assert_eq!(cell(&v, "coffee_by_organisation_type", "All organisations", "local_authority")["suppressed"], json!(true));

    // A rebuild leaves these counts as they are (it cannot recount them).
    t.app.rebuild_insights().await.unwrap();
    let v = insights(&t, &ann, &period).await;
    assert_eq!(sys(&t, &v, "people", "mentoring_started").await, json!(1));
    assert_eq!(sys(&t, &v, "people", "mentoring_closed").await, json!(1));
    assert_eq!(sys(&t, &v, "people", "coffee_pairs").await, json!(1));
    for table in ["people", "coffee_by_organisation_type"] {
        let csv = t.get(&format!("/insights.csv{period}&table={table}"), Some(&ann)).await;
        assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
        assert!(csv.text.contains("All organisations"), "{}", csv.text);
    }
}
