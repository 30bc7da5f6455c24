//! Questions that get answers and "This helped me", end to end over HTTP on the
//! embedded store: asking on a published case study or resource emails its
//! author with a reply address; an answer on the web or by email (once per
//! delivery) emails the asker; the patient data guard refuses before anything
//! is stored; authors and moderators remove; reports reach moderators once per
//! member; thanks count once per reader, with names for the author only.

use qnet_app::ingest::{Inbound, IngestOptions};
use qnet_domain::Role;
use qnet_embedded::Outbox;
use qnet_tests::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const HOME: &str = "leedsth.nhs.uk";

/// A header's value, unfolded.
fn header(mail: &str, name: &str) -> Option<String> {
    let head = mail.split("\r\n\r\n").next().unwrap_or(mail).replace("\r\n ", " ").replace("\r\n\t", " ");
    head.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")).map(String::from))
}

/// The question emails sent so far, quoted-printable soft breaks undone.
fn question_mails(t: &TestApp) -> Vec<String> {
    t.outbox_texts()
        .into_iter()
        .filter(|m| m.contains("From: \"Qnet questions\""))
        .map(|m| m.replace("=\r\n", "").replace("=\n", ""))
        .collect()
}

fn to_of(mail: &str) -> String {
    header(mail, "To").unwrap_or_default()
}

struct World {
    t: TestApp,
    ann: String,
    bob: String,
    cat: String,
    moderator: String,
}

async fn world() -> World {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &[HOME]).await;
    let ann = t.token(&format!("ann@{HOME}"), &[]).await;
    let bob = t.token(&format!("bob@{HOME}"), &[]).await;
    let cat = t.token(&format!("cat@{HOME}"), &[]).await;
    let moderator = t.token(&format!("mod@{HOME}"), &[Role::Moderator]).await;
    for tok in [&ann, &bob, &cat, &moderator] {
        assert_eq!(t.get("/me", Some(tok)).await.status, StatusCode::OK);
    }
    World { t, ann, bob, cat, moderator }
}

/// A case study by Ann, published.
async fn published_case_study(w: &World, title: &str) -> String {
    let cs = w.t.submit(&w.ann, json!({"title": title, "body": "We tried hourly rounding."})).await;
    let id = cs["id"].as_str().unwrap().to_string();
    let p = w.t.publish(&id).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    id
}

async fn ask(w: &World, who: &str, path: &str, body: &str) -> Value {
    let a = w.t.post(path, Some(who), json!({"body": body})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body
}

#[tokio::test]
async fn a_question_emails_the_author_who_answers_by_email_once_and_the_asker_hears() {
    let w = world().await;
    let t = &w.t;
    let cs = published_case_study(&w, "Fewer falls").await;
    let path = format!("/case-studies/{cs}/questions");

    // Bob asks, with an idempotency key: 201, Location, the question.
    let body = json!({"body": "How long did the huddle take to settle in?"});
    let q = t.send(Method::POST, &path, Some(&w.bob), Some(body.clone()), &[("idempotency-key", "q1")]).await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.text);
    let qid = q.body["id"].as_str().unwrap().to_string();
    assert_eq!(q.header("location"), Some(format!("/questions/{qid}").as_str()));
    assert_eq!(q.body["target"], json!({"kind": "case_study", "id": cs, "title": "Fewer falls"}));
    assert_eq!(q.body["author"]["name"], "bob");
    assert_eq!(q.body["answered"], false);
    assert_eq!(q.body["can_remove"], true);
    assert_eq!(q.body["answers"], json!([]));

    // Ann (the author) is emailed, with a reply address, the link and a one-click opt-out; Bob is not.
    let mails = question_mails(t);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(to_of(&mails[0]).contains(&format!("ann@{HOME}")), "{}", to_of(&mails[0]));
    let reply_to = header(&mails[0], "Reply-To").unwrap();
    assert!(reply_to.starts_with("<reply+") && reply_to.ends_with("@qnet.localhost>"), "{reply_to}");
    assert!(mails[0].contains(&format!("/questions/{qid}")), "the link to the question");
    assert!(mails[0].contains("How long did the huddle take to settle in?"));
    assert!(header(&mails[0], "List-Unsubscribe").is_some_and(|h| h.contains("/unsubscribe/")), "one-click opt-out");
    assert_eq!(header(&mails[0], "List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));

    // The same request again: the first answer, replayed; nothing stored or sent twice.
    let again = t.send(Method::POST, &path, Some(&w.bob), Some(body), &[("idempotency-key", "q1")]).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body["id"], qid.as_str());
    assert_eq!(question_mails(t).len(), 1);

    // The patient data guard: 422, nothing stored, nobody emailed.
    let refused = t.post(&path, Some(&w.bob), json!({"body": "Was it patient 943 476 5919?"})).await;
    refused.assert_problem(422);
    assert_eq!(refused.problem_fields(), ["body"]);
    assert_eq!(t.get(&path, None).await.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(question_mails(t).len(), 1);

    // Cat answers on the web: Bob (the asker) and Ann (the author) are emailed, Cat is not.
    let a = t.post(&format!("/questions/{qid}/answers"), Some(&w.cat), json!({"body": "About six weeks for us."})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.header("location"), Some(format!("/questions/{qid}").as_str()));
    assert_eq!(a.body["source"], "web");
    let about: Vec<String> =
        question_mails(t).into_iter().filter(|m| m.contains("About six weeks for us.")).map(|m| to_of(&m)).collect();
    assert_eq!(about.len(), 2, "{about:?}");
    assert!(about.iter().any(|to| to.contains("bob@")) && about.iter().any(|to| to.contains("ann@")), "{about:?}");

    // Ann replies to her email: the reply becomes an answer, once per delivery.
    let address = reply_to.trim_matches(['<', '>']).to_string();
    let ob = Outbox::open(&t.data_dir).unwrap();
    let opts = IngestOptions { dry_run: false, mail_from: "case-studies@qnet.test".into() };
    let message = |from: &str, id: &str, text: &str| {
        format!(
            "From: Ann <{from}>\r\nTo: {address}\r\nSubject: Re: a question\r\nMessage-ID: <{id}@{HOME}>\r\nDate: Mon, 7 Dec 2026 09:00:00 +0000\r\n\r\n{text}\r\n\r\n-- \r\nAnn\r\nWard manager\r\n\r\nOn Mon, 7 Dec 2026 at 08:00, Qnet questions wrote:\r\n> How long did the huddle take to settle in?\r\n"
        )
    };
    let delivery = Inbound::local(
        message(&format!("ann@{HOME}"), "r1", "Four weeks on ward 6.").into_bytes(),
        qnet_mail::Verdicts::default(),
    );
    let report = t.app.ingest(&delivery, &opts, &ob).await.unwrap();
    assert_eq!(report.outcome, "accept", "{report:?}");
    assert_eq!(report.reason.as_deref(), Some("question_answer"));
    let sent = question_mails(t).len();
    let again = t.app.ingest(&delivery, &opts, &ob).await.unwrap();
    assert_eq!(again.reason.as_deref(), Some("question_answer"));
    assert_eq!(question_mails(t).len(), sent, "the same delivery emails nobody twice");

    let got = t.get(&format!("/questions/{qid}"), None).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    let answers = got.body["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 2, "{}", got.text);
    assert_eq!(answers[1]["body"], "Four weeks on ward 6.", "quotes and signature stripped");
    assert_eq!(answers[1]["source"], "email");
    assert_eq!(answers[1]["author"]["name"], "ann");
    assert_eq!(got.body["answered"], true);
    assert_eq!(got.body["can_answer"], false, "not signed in");
    // Bob (the asker) hears of Ann's answer; Ann does not hear of her own.
    let about: Vec<String> =
        question_mails(t).into_iter().filter(|m| m.contains("Four weeks on ward 6.")).map(|m| to_of(&m)).collect();
    assert_eq!(about.len(), 1, "{about:?}");
    assert!(about[0].contains("bob@"));

    // Someone else using Ann's address, and a reply holding an NHS number, add nothing.
    let stranger = Inbound::local(message(&format!("mallory@{HOME}"), "r2", "Hi").into_bytes(), qnet_mail::Verdicts::default());
    assert_eq!(t.app.ingest(&stranger, &opts, &ob).await.unwrap().reason.as_deref(), Some("sender_mismatch"));
    let nhs = Inbound::local(
        message(&format!("ann@{HOME}"), "r3", "Patient 943 476 5919 was first.").into_bytes(),
        qnet_mail::Verdicts::default(),
    );
    let r = t.app.ingest(&nhs, &opts, &ob).await.unwrap();
    assert_eq!(r.reason.as_deref(), Some("patient_identifier"));
    let got = t.get(&format!("/questions/{qid}"), None).await;
    assert_eq!(got.body["answers"].as_array().unwrap().len(), 2);
    assert!(!got.text.contains("943 476 5919"));

    // Once the case study is no longer published (held by the guard after an
    // edit), a reply by email adds nothing and nobody is emailed, as on the web.
    let current = t.get(&format!("/case-studies/{cs}"), Some(&w.moderator)).await;
    let v = current.body["version"].as_u64().unwrap();
    let held = t.patch(&format!("/case-studies/{cs}"), &w.moderator, v, json!({"body": "Patient 943 476 5919 waited."})).await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.text);
    assert!(held.body["hold"].is_object() || held.body["status"] != "published", "{}", held.text);
    let sent = question_mails(t).len();
    let late = Inbound::local(
        message(&format!("ann@{HOME}"), "r4", "One more thing about the huddle.").into_bytes(),
        qnet_mail::Verdicts::default(),
    );
    assert_eq!(t.app.ingest(&late, &opts, &ob).await.unwrap().reason.as_deref(), Some("not_available"));
    assert_eq!(question_mails(t).len(), sent);
    let got = t.get(&format!("/questions/{qid}"), Some(&w.moderator)).await;
    assert!(!got.text.contains("One more thing"), "{}", got.text);
}

#[tokio::test]
async fn questions_are_for_published_items_and_lists_are_paged() {
    let w = world().await;
    let t = &w.t;
    // A pending case study: nobody may ask or thank; to others it does not
    // exist (404), to its submitter it is not open yet (409); only she sees
    // its (empty) list.
    let pending = t.submit(&w.ann, json!({"title": "Draft", "body": "Not yet."})).await;
    let pid = pending["id"].as_str().unwrap();
    t.post(&format!("/case-studies/{pid}/questions"), Some(&w.bob), json!({"body": "Hm?"})).await.assert_problem(404);
    t.post(&format!("/case-studies/{pid}/questions"), Some(&w.ann), json!({"body": "Hm?"})).await.assert_problem(409);
    t.post(&format!("/case-studies/{pid}/thanks"), Some(&w.bob), json!({"named": true})).await.assert_problem(404);
    t.post(&format!("/case-studies/{pid}/thanks"), Some(&w.ann), json!({"named": true})).await.assert_problem(409);
    t.get(&format!("/case-studies/{pid}/questions"), Some(&w.bob)).await.assert_problem(404);
    t.get(&format!("/case-studies/{pid}/questions"), None).await.assert_problem(404);
    assert_eq!(t.get(&format!("/case-studies/{pid}/questions"), Some(&w.ann)).await.status, StatusCode::OK);
    t.post("/case-studies/01J00000000000000000000000/questions", Some(&w.bob), json!({"body": "x"})).await.assert_problem(404);
    t.get("/questions/01J00000000000000000000000", None).await.assert_problem(404);
    t.get("/questions/not-an-id", None).await.assert_problem(404);
    t.post(&format!("/case-studies/{pid}/questions"), None, json!({"body": "x"})).await.assert_problem(401);

    // A resource: the same.
    let r = t
        .post(
            "/resources",
            Some(&w.ann),
            json!({"title": "Workbook", "description": "A workbook.", "kind": "dataset", "url": "https://qi.example.org/w"}),
        )
        .await;
    let rid = r.body["id"].as_str().unwrap().to_string();
    t.post(&format!("/resources/{rid}/questions"), Some(&w.bob), json!({"body": "Is there a template?"}))
        .await
        .assert_problem(404);
    let m = t.moderate(&format!("/resources/{rid}/publish"), Some(&w.moderator), Value::Null).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    let rq = ask(&w, &w.bob, &format!("/resources/{rid}/questions"), "Is there a template?").await;
    assert_eq!(rq["target"]["kind"], "resource");
    assert!(question_mails(t).iter().any(|m| to_of(m).contains("ann@")));

    // Pages of a case study's questions, oldest first, answers inside their question.
    let cs = published_case_study(&w, "Fewer falls").await;
    let path = format!("/case-studies/{cs}/questions");
    let mut ids = vec![];
    for n in 0..3 {
        let q = ask(&w, &w.bob, &path, &format!("Question {n}")).await;
        let qid = q["id"].as_str().unwrap().to_string();
        let a = t.post(&format!("/questions/{qid}/answers"), Some(&w.cat), json!({"body": format!("Answer {n}")})).await;
        assert_eq!(a.status, StatusCode::CREATED);
        ids.push(qid);
    }
    let first = t.get(&format!("{path}?limit=2"), None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let items = first.body["items"].as_array().unwrap();
    assert_eq!(items.iter().map(|q| q["id"].as_str().unwrap()).collect::<Vec<_>>(), ids[..2]);
    assert_eq!(items[1]["answers"][0]["body"], "Answer 1");
    let next = first.body["next_cursor"].as_str().expect("a next page").to_string();
    let second = t.get(&format!("{path}?limit=2&cursor={next}"), None).await;
    let items = second.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", second.text);
    assert_eq!(items[0]["id"], ids[2].as_str());
    assert_eq!(items[0]["answers"][0]["body"], "Answer 2");
    assert_eq!(second.body["next_cursor"], Value::Null);
    assert_eq!(t.get(&path, None).await.body["items"].as_array().unwrap().len(), 3, "default page");
    // A limit out of bounds names its field (422, as every list); a cursor that is not this list's is a 400.
    for bad in ["limit=0", "limit=101", "limit=x"] {
        assert_eq!(t.get(&format!("{path}?{bad}"), None).await.assert_problem(422).problem_fields(), ["limit"]);
    }
    t.get(&format!("{path}?cursor=nonsense"), None).await.assert_problem(400);
    // A cursor of another list is refused.
    t.get(&format!("/resources/{rid}/questions?cursor={next}"), None).await.assert_problem(400);
    // Bodies: bounded, every field checked.
    let long = "x".repeat(2001);
    t.post(&path, Some(&w.bob), json!({"body": long})).await.assert_problem(422);
    let e = t.post(&path, Some(&w.bob), json!({"text": "x"})).await;
    e.assert_problem(422);
    assert_eq!(e.problem_fields(), ["text", "body"]);
}

#[tokio::test]
async fn authors_and_moderators_remove_and_reports_reach_moderators_once_per_member() {
    let w = world().await;
    let t = &w.t;
    let cs = published_case_study(&w, "Fewer falls").await;
    let path = format!("/case-studies/{cs}/questions");
    let q = ask(&w, &w.bob, &path, "Does rounding help at night?").await;
    let qid = q["id"].as_str().unwrap().to_string();
    let a = t.post(&format!("/questions/{qid}/answers"), Some(&w.cat), json!({"body": "Yes, with a night huddle."})).await;
    let aid = a.body["id"].as_str().unwrap().to_string();

    // Reports: once per member per item; a repeat changes nothing.
    for _ in 0..2 {
        let r = t.post(&format!("/questions/{qid}/reports"), Some(&w.cat), json!({"reason": "Off topic"})).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        assert_eq!(r.body, json!({"status": "received"}));
    }
    let r = t
        .post(&format!("/questions/{qid}/answers/{aid}/reports"), Some(&w.ann), json!({"reason": "Looks like advertising"}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    t.post(&format!("/questions/{qid}/reports"), Some(&w.ann), json!({"reason": "Patient 943 476 5919"}))
        .await
        .assert_problem(422);
    t.post(&format!("/questions/{qid}/reports"), Some(&w.ann), json!({})).await.assert_problem(422);
    t.post(&format!("/questions/{qid}/answers/01J00000000000000000000000/reports"), Some(&w.ann), json!({"reason": "x"}))
        .await
        .assert_problem(404);

    t.get("/moderation/reports", Some(&w.bob)).await.assert_problem(403);
    let list = t.get("/moderation/reports", Some(&w.moderator)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", list.text);
    assert_eq!(items[0]["kind"], "answer", "newest first");
    assert_eq!(items[0]["answer_id"], aid.as_str());
    assert_eq!(items[0]["text"], "Yes, with a night huddle.");
    assert_eq!(items[0]["reasons"], json!(["Looks like advertising"]));
    assert_eq!(items[1]["kind"], "question");
    assert_eq!(items[1]["report_count"], 1, "Cat's repeat did not count");
    assert_eq!(items[1]["author"]["name"], "bob");
    assert_eq!(items[1]["target_title"], "Fewer falls");
    assert_eq!(items[1]["answer_id"], Value::Null);
    // A second member's report counts.
    t.post(&format!("/questions/{qid}/reports"), Some(&w.ann), json!({"reason": "Rude"})).await;
    let list = t.get("/moderation/reports", Some(&w.moderator)).await;
    let question_report = list.body["items"].as_array().unwrap().iter().find(|r| r["kind"] == "question").unwrap().clone();
    assert_eq!(question_report["report_count"], 2);

    // Dismissing closes the report; the text stays.
    t.post(&format!("/moderation/reports/{qid}/dismiss"), Some(&w.bob), Value::Null).await.assert_problem(403);
    let d = t.post(&format!("/moderation/reports/{qid}/dismiss"), Some(&w.moderator), Value::Null).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.text);
    t.post("/moderation/reports/01J00000000000000000000000/dismiss", Some(&w.moderator), Value::Null).await.assert_problem(404);
    let list = t.get("/moderation/reports", Some(&w.moderator)).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(t.get(&format!("/questions/{qid}"), None).await.status, StatusCode::OK);

    // Removing: not by others (403); a moderator removing the reported answer closes its report.
    let del = |who: &str, p: String| {
        let who = who.to_string();
        async move { t.send(Method::DELETE, &p, Some(&who), None, &[]).await }
    };
    del(&w.ann, format!("/questions/{qid}/answers/{aid}")).await.assert_problem(403);
    del(&w.ann, format!("/questions/{qid}")).await.assert_problem(403);
    assert_eq!(del(&w.moderator, format!("/questions/{qid}/answers/{aid}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get("/moderation/reports", Some(&w.moderator)).await.body["items"], json!([]));
    let got = t.get(&format!("/questions/{qid}"), None).await;
    assert_eq!(got.body["answers"], json!([]));
    assert_eq!(got.body["answered"], false, "unanswered again");
    del(&w.moderator, format!("/questions/{qid}/answers/{aid}")).await.assert_problem(404);

    // The author removes the question: it and its text leave the store.
    assert_eq!(del(&w.bob, format!("/questions/{qid}")).await.status, StatusCode::NO_CONTENT);
    t.get(&format!("/questions/{qid}"), None).await.assert_problem(404);
    assert_eq!(t.get(&path, None).await.body["items"], json!([]));
    let q2 = ask(&w, &w.cat, &path, "Who leads the huddle?").await;
    let q2 = q2["id"].as_str().unwrap();
    assert_eq!(del(&w.moderator, format!("/questions/{q2}")).await.status, StatusCode::NO_CONTENT);
    let texts = format!(
        "{:?}",
        t.app.records.query(qnet_ports::Query::new(qnet_ports::Index::Primary, format!("QTARGET#cs#{cs}"))).await.unwrap().items
    );
    assert!(!texts.contains("Does rounding help at night?") && !texts.contains("Who leads the huddle?"), "{texts}");
    t.send(Method::DELETE, &format!("/questions/{q2}"), None, None, &[]).await.assert_problem(401);
}

#[tokio::test]
async fn thanks_count_once_per_reader_and_only_the_author_sees_names() {
    let w = world().await;
    let t = &w.t;
    let cs = published_case_study(&w, "Fewer falls").await;
    let path = format!("/case-studies/{cs}/thanks");

    let b = t.post(&path, Some(&w.bob), json!({"named": true})).await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.text);
    assert_eq!(b.body, json!({"count": 1, "thanked": true, "named": true, "names": []}));
    // Again, unnamed: the count stays, the choice changes.
    let b = t.post(&path, Some(&w.bob), json!({"named": false})).await;
    assert_eq!(b.body, json!({"count": 1, "thanked": true, "named": false, "names": []}));
    let c = t.post(&path, Some(&w.cat), json!({"named": true})).await;
    assert_eq!(c.body["count"], 2);

    // The author sees the names of those who chose to be named; others do not.
    let ann = t.get(&path, Some(&w.ann)).await;
    assert_eq!(ann.body, json!({"count": 2, "thanked": false, "named": null, "names": ["cat"]}));
    let m = t.get(&path, Some(&w.moderator)).await;
    assert_eq!(m.body["names"], json!(["cat"]));
    let anon = t.get(&path, None).await;
    assert_eq!(anon.body, json!({"count": 2, "thanked": false, "named": null, "names": []}));
    assert_eq!(t.get(&path, Some(&w.cat)).await.body["names"], json!([]));

    // Not one's own; not without a choice; not unpublished; not anonymous.
    t.post(&path, Some(&w.ann), json!({"named": true})).await.assert_problem(409);
    t.post(&path, Some(&w.bob), json!({})).await.assert_problem(422);
    t.post(&path, None, json!({"named": true})).await.assert_problem(401);
    let pending = t.submit(&w.ann, json!({"title": "Draft", "body": "Not yet."})).await;
    let pid = pending["id"].as_str().unwrap();
    t.post(&format!("/case-studies/{pid}/thanks"), Some(&w.bob), json!({"named": true})).await.assert_problem(404);
    t.get(&format!("/case-studies/{pid}/thanks"), None).await.assert_problem(404);
    t.get("/resources/01J00000000000000000000000/thanks", None).await.assert_problem(404);

    // Erasure takes the member's thanks (and the count with it), questions and answers.
    let q = ask(&w, &w.cat, &format!("/case-studies/{cs}/questions"), "Cat's question").await;
    let qid = q["id"].as_str().unwrap().to_string();
    t.post(&format!("/questions/{qid}/answers"), Some(&w.bob), json!({"body": "Bob's answer"})).await;
    assert_eq!(t.send(Method::DELETE, "/me", Some(&w.cat), None, &[]).await.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get(&path, None).await.body["count"], 1);
    t.get(&format!("/questions/{qid}"), None).await.assert_problem(404);
}

#[tokio::test]
async fn members_who_turned_question_emails_off_get_none_and_the_experts_pass_finds_unanswered_questions_once() {
    let w = world().await;
    let t = &w.t;
    let cs = published_case_study(&w, "Fewer falls").await;
    let path = format!("/case-studies/{cs}/questions");

    // Ann turns question emails off: a question on her case study emails nobody.
    let me = t.get("/me", Some(&w.ann)).await;
    let version: u64 = me.header("etag").unwrap().trim_matches('"').parse().unwrap();
    let p = t.patch("/me", &w.ann, version, json!({"engagement": {"questions": false}})).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    let q = ask(&w, &w.bob, &path, "Who leads the huddle?").await;
    assert_eq!(question_mails(t), Vec::<String>::new());

    // The experts pass: asked before the cutoff, unanswered, experts not yet asked.
    let qid = q["id"].as_str().unwrap().to_string();
    let answered = ask(&w, &w.cat, &path, "Which wards?").await;
    let answered = answered["id"].as_str().unwrap().to_string();
    t.post(&format!("/questions/{answered}/answers"), Some(&w.ann), json!({"body": "Wards 5 and 6"})).await;
    let later = qnet_domain::timestamp(time::OffsetDateTime::now_utc() + time::Duration::days(1));
    let found: Vec<String> = t.app.unanswered_questions(&later, 10).await.unwrap().into_iter().map(|q| q.id).collect();
    assert_eq!(found, vec![qid.clone()], "only the unanswered one");
    assert_eq!(t.app.unanswered_questions("2000-01-01T00:00:00.000Z", 10).await.unwrap(), vec![], "none asked before the cutoff");
    let found = t.app.unanswered_questions(&later, 10).await.unwrap();
    assert_eq!(t.app.question_target_author_ids(&found[0]).await.unwrap().len(), 1);
    assert_eq!(t.app.question_target_topics(&found[0]).await.unwrap(), Vec::<String>::new());
    assert!(t.app.mark_experts_asked(&qid).await.unwrap(), "the first time");
    assert!(!t.app.mark_experts_asked(&qid).await.unwrap(), "once only");
    assert_eq!(t.app.unanswered_questions(&later, 10).await.unwrap(), vec![]);
}

#[tokio::test]
async fn questions_and_answers_are_limited_per_member_per_hour() {
    let w = world().await;
    let cs = published_case_study(&w, "Fewer falls").await;
    let path = format!("/case-studies/{cs}/questions");
    // One moment in the middle of an hour, so the window cannot end mid-test.
    let at = time::OffsetDateTime::now_utc().replace_minute(30).unwrap().replace_second(0).unwrap();
    let now = w.t.api_at(at).await;
    let first = now.post(&path, Some(&w.cat), json!({"body": "Question 0"})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let qid = first.body["id"].as_str().unwrap().to_string();
    for i in 1..qnet_app::limits::QUESTIONS_PER_HOUR {
        // Answers count with questions.
        let (p, body) = if i % 2 == 0 { (path.clone(), "Question") } else { (format!("/questions/{qid}/answers"), "Answer") };
        let a = now.post(&p, Some(&w.cat), json!({"body": format!("{body} {i}")})).await;
        assert_eq!(a.status, StatusCode::CREATED, "{i}: {}", a.text);
    }
    let over = now.post(&path, Some(&w.cat), json!({"body": "One too many"})).await;
    over.assert_problem(429);
    assert!(over.header("retry-after").is_some());
    now.post(&format!("/questions/{qid}/answers"), Some(&w.cat), json!({"body": "And an answer"})).await.assert_problem(429);
    let list = now.get(&format!("{path}?limit=100"), None).await;
    assert!(!list.text.contains("One too many") && !list.text.contains("And an answer"), "nothing stored");
    // Another member is not limited by Cat's.
    assert_eq!(now.post(&path, Some(&w.bob), json!({"body": "Bob's"})).await.status, StatusCode::CREATED);
}
