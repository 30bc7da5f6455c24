//! Mentoring, coaching and randomised coffee end to end on the embedded store:
//! mentor profiles and requests over HTTP, proposals and their offer emails in
//! the outbox, the offer pages, concurrency on the last place, the scheduled pass
//! (`qnet match` calls `App::run_matching`) and coffee rounds (`qnet coffee-round`
//! calls `App::coffee_round`).

use qnet_embedded::Outbox;
use qnet_tests::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;

fn outbox(t: &TestApp) -> Vec<String> {
    let o = Outbox::open(&t.data_dir).unwrap();
    o.list()
        .unwrap()
        .iter()
        .map(|e| String::from_utf8(o.read(&e.file_name).unwrap()).unwrap().replace("=\r\n", "").replace("=\n", ""))
        .collect()
}

fn offers_to(t: &TestApp, email: &str) -> Vec<String> {
    outbox(t).into_iter().filter(|m| m.contains("/mentoring/offers/") && m.contains(&format!("<{email}>"))).collect()
}

fn introductions(t: &TestApp) -> Vec<String> {
    outbox(t).into_iter().filter(|m| m.contains("Subject: Qnet mentoring: introducing")).collect()
}

fn offer_token(mail: &str) -> String {
    let start = mail.find("/mentoring/offers/").unwrap() + "/mentoring/offers/".len();
    mail[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect()
}

/// Two organisations; members sign in and land in theirs by email domain.
async fn network() -> TestApp {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    t.organisation("Bradford Council", &["bradford.gov.uk"]).await;
    t
}

async fn member(t: &TestApp, email: &str) -> String {
    let tok = t.token(email, &[]).await;
    assert_eq!(t.get("/me", Some(&tok)).await.status, StatusCode::OK);
    tok
}

fn profile(topics: &[&str], capacity: u32) -> Value {
    json!({"offers": ["mentoring", "coaching"], "topics": topics, "skills": ["process mapping"], "capacity": capacity,
           "availability": {"modes": ["online"], "note": "Tuesday afternoons"}, "bio": "Twenty years in QI.",
           "accepting": true})
}

async fn put(t: &TestApp, path: &str, token: &str, body: Value) -> qnet_tests::Answer {
    t.send(Method::PUT, path, Some(token), Some(body), &[]).await
}

async fn mentor(t: &TestApp, email: &str, topics: &[&str], capacity: u32) -> String {
    let tok = member(t, email).await;
    let a = put(t, "/me/mentor", &tok, profile(topics, capacity)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    tok
}

fn request(topics: &[&str]) -> Value {
    json!({"kind": "mentoring", "topics": topics, "goals": "I want to get better at process mapping for discharge.",
           "cross_organisation": "prefer", "availability": {"modes": ["online"]}})
}

async fn ask(t: &TestApp, token: &str, body: Value) -> Value {
    let a = t.post("/mentoring-requests", Some(token), body).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body
}

#[tokio::test]
async fn mentor_profiles_refuse_bad_input_and_capacity_below_load() {
    let t = network().await;
    let ann = member(&t, "ann@leedsth.nhs.uk").await;
    let a = t.send(Method::PUT, "/me/mentor", None, Some(profile(&["flow"], 2)), &[]).await;
    a.assert_problem(401);
    let a = put(
        &t,
        "/me/mentor",
        &ann,
        json!({"offers": ["teaching"], "topics": ["flow", "astrology"], "capacity": 0, "accepting": true}),
    )
    .await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["offers[0]", "topics[1]", "capacity"]);
    t.get("/me/mentor", Some(&ann)).await.assert_problem(404);

    let a = put(&t, "/me/mentor", &ann, profile(&["flow", "patient-safety"], 2)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["organisation"]["name"], "Leeds Teaching Hospitals");
    assert_eq!(a.body["organisation"]["type"], "nhs");
    assert_eq!((a.body["load"].as_u64(), a.body["free_places"].as_u64()), (Some(0), Some(2)));
    assert_eq!(a.body["availability"], json!({"modes": ["online"], "note": "Tuesday afternoons"}));

    // Two requests take both places; capacity cannot then go below 2.
    for who in ["bob@bradford.gov.uk", "cat@bradford.gov.uk"] {
        let tok = member(&t, who).await;
        let r = ask(&t, &tok, request(&["flow"])).await;
        assert_eq!(r["state"], "proposed", "{r}");
    }
    let a = put(&t, "/me/mentor", &ann, profile(&["flow"], 1)).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["capacity"]);
    let me = t.get("/me/mentor", Some(&ann)).await;
    assert_eq!((me.body["capacity"].as_u64(), me.body["load"].as_u64()), (Some(2), Some(2)), "nothing changed");
    t.send(Method::DELETE, "/me/mentor", Some(&ann), None, &[]).await.assert_problem(409);
}

#[tokio::test]
async fn requests_show_matches_with_reasons_and_refuse_other_members() {
    let t = network().await;
    mentor(&t, "ann@leedsth.nhs.uk", &["flow"], 1).await;
    mentor(&t, "dan@bradford.gov.uk", &["flow", "patient-safety"], 3).await;
    let bob = member(&t, "bob@leedsth.nhs.uk").await;
    let a = t.post("/mentoring-requests", Some(&bob), json!({"kind": "tutoring", "topics": ["astrology"]})).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["kind", "topics[0]", "goals"]);
    t.post("/mentoring-requests", None, request(&["flow"])).await.assert_problem(401);
    let a = t
        .post(
            "/mentoring-requests",
            Some(&bob),
            json!({"kind": "mentoring", "topics": ["flow"], "goals": "x",
        "mentor_id": "m-nobody"}),
        )
        .await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["mentor_id"]);

    let key = [("idempotency-key", "req-1")];
    let first = t.send(Method::POST, "/mentoring-requests", Some(&bob), Some(request(&["flow", "patient-safety"])), &key).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = t.send(Method::POST, "/mentoring-requests", Some(&bob), Some(request(&["flow", "patient-safety"])), &key).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body["id"], first.body["id"], "a retry creates nothing");
    let id = first.body["id"].as_str().unwrap();
    // Dan shares both topics and is from another organisation, as Bob prefers.
    assert_eq!(first.body["state"], "proposed");
    assert_eq!(first.body["proposal"]["mentor_id"], "m-dan-bradford-gov-uk");
    assert_eq!(offers_to(&t, "dan@bradford.gov.uk").len(), 1, "one offer email, even after the retry");
    let mine = t.get("/me/mentoring-requests", Some(&bob)).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);

    let m = t.get(&format!("/mentoring-requests/{id}/matches"), Some(&bob)).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    let items = m.body["items"].as_array().unwrap();
    let reasons = |i: usize| -> Vec<String> {
        items[i]["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect()
    };
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["mentor_id"], "m-dan-bradford-gov-uk");
    assert_eq!(items[0]["name"], "dan");
    assert_eq!(items[0]["organisation"], "Bradford Council");
    assert!(items[0]["score"].as_u64() > items[1]["score"].as_u64());
    let dan_reasons = reasons(0);
    assert!(
        dan_reasons.contains(&"shares all 2 of your topics: Patient flow and discharge, Patient safety".to_string()),
        "{dan_reasons:?}"
    );
    assert!(dan_reasons.contains(&"from a different organisation, as you asked".to_string()), "{dan_reasons:?}");
    assert!(dan_reasons.contains(&"has 2 of 3 places free".to_string()), "the offer holds one: {dan_reasons:?}");
    let ann_reasons = reasons(1);
    assert!(ann_reasons.contains(&"shares 1 of your 2 topics: Patient flow and discharge".to_string()), "{ann_reasons:?}");
    assert!(ann_reasons.contains(&"has a skill you mention: process mapping".to_string()), "{ann_reasons:?}");
    assert!(ann_reasons.contains(&"has 1 of 1 place free".to_string()), "{ann_reasons:?}");

    // Other members do not see the request; the proposed mentor sees it but not its matches.
    let eve = member(&t, "eve@leedsth.nhs.uk").await;
    t.get(&format!("/mentoring-requests/{id}"), Some(&eve)).await.assert_problem(404);
    t.get(&format!("/mentoring-requests/{id}/matches"), Some(&eve)).await.assert_problem(404);
    t.send(Method::DELETE, &format!("/mentoring-requests/{id}"), Some(&eve), None, &[]).await.assert_problem(404);
    t.get(&format!("/mentoring-requests/{id}"), None).await.assert_problem(401);
    let dan = t.token("dan@bradford.gov.uk", &[]).await;
    assert_eq!(t.get(&format!("/mentoring-requests/{id}"), Some(&dan)).await.status, StatusCode::OK);
    t.get(&format!("/mentoring-requests/{id}/matches"), Some(&dan)).await.assert_problem(403);
    t.send(Method::DELETE, &format!("/mentoring-requests/{id}"), Some(&dan), None, &[]).await.assert_problem(403);
    let moderator = t.token("mod@leedsth.nhs.uk", &[qnet_domain::Role::Moderator]).await;
    assert_eq!(t.get(&format!("/mentoring-requests/{id}/matches"), Some(&moderator)).await.status, StatusCode::OK);
    assert_eq!(t.get(&format!("/mentoring-requests/{id}"), Some(&bob)).await.body["state"], "proposed", "nothing changed");

    // Withdrawing releases Dan's place; withdrawing again changes nothing.
    for _ in 0..2 {
        let a = t.send(Method::DELETE, &format!("/mentoring-requests/{id}"), Some(&bob), None, &[]).await;
        assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    }
    assert_eq!(t.get(&format!("/mentoring-requests/{id}"), Some(&bob)).await.body["state"], "withdrawn");
    assert_eq!(t.get("/me/mentor", Some(&dan)).await.body["load"], 0);
}

#[tokio::test]
async fn offers_are_answered_through_their_pages_once() {
    let t = network().await;
    let ann = mentor(&t, "ann@leedsth.nhs.uk", &["flow"], 2).await;
    let dan = mentor(&t, "dan@bradford.gov.uk", &["flow", "patient-safety"], 2).await;
    let bob = member(&t, "bob@leedsth.nhs.uk").await;
    let r = ask(&t, &bob, request(&["flow", "patient-safety"])).await;
    let id = r["id"].as_str().unwrap();
    let mails = offers_to(&t, "dan@bradford.gov.uk");
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("text/html") && mails[0].contains("text/plain"), "both parts");
    let token = offer_token(&mails[0]);

    // The page shows both buttons and changes nothing.
    let page = t.get(&format!("/mentoring/offers/{token}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Accept") && page.text.contains("Decline") && page.text.contains("/decline"), "{}", page.text);
    assert_eq!(t.get(&format!("/mentoring-requests/{id}"), Some(&bob)).await.body["state"], "proposed");

    // Tampered and expired links get a 400 page and change nothing.
    let mut tampered = token.clone().into_bytes();
    tampered[5] ^= 1;
    let tampered = String::from_utf8(tampered).unwrap();
    let a = t.post(&format!("/mentoring/offers/{tampered}/accept"), None, Value::Null).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.text.contains("does not work"), "{}", a.text);
    let seq_subject = format!("{id}|1|m-dan-bradford-gov-uk");
    let expired = t.app.links.sign(qnet_app::mentoring::OFFER_PURPOSE, &seq_subject, 1_000);
    let a = t.post(&format!("/mentoring/offers/{expired}/accept"), None, Value::Null).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.text.contains("expired"), "{}", a.text);
    assert_eq!(t.get(&format!("/mentoring/offers/{expired}"), None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(t.get(&format!("/mentoring-requests/{id}"), Some(&bob)).await.body["state"], "proposed");

    // Dan declines: Ann is proposed next; declining again changes nothing.
    for _ in 0..2 {
        let a = t.post(&format!("/mentoring/offers/{token}/decline"), None, Value::Null).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.text.contains("You have declined"), "{}", a.text);
    }
    let now = t.get(&format!("/mentoring-requests/{id}"), Some(&bob)).await.body;
    assert_eq!(now["proposal"]["mentor_id"], "m-ann-leedsth-nhs-uk");
    assert_eq!(t.get("/me/mentor", Some(&dan)).await.body["load"], 0);
    assert_eq!(offers_to(&t, "ann@leedsth.nhs.uk").len(), 1);
    // Dan is not proposed to Bob again, on any request.
    let m = t.get(&format!("/mentoring-requests/{id}/matches"), Some(&bob)).await;
    assert!(m.body["items"].as_array().unwrap().iter().all(|i| i["mentor_id"] != "m-dan-bradford-gov-uk"), "{}", m.text);
    let second = ask(&t, &bob, request(&["patient-safety"])).await;
    assert_ne!(second["proposal"]["mentor_id"], "m-dan-bradford-gov-uk");

    // Ann accepts (twice): one introduction to both, the place becomes an active mentee.
    let ann_token = offer_token(&offers_to(&t, "ann@leedsth.nhs.uk")[0]);
    for _ in 0..2 {
        let a = t.post(&format!("/mentoring/offers/{ann_token}/accept"), None, Value::Null).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.text.contains("You have accepted"), "{}", a.text);
    }
    let intros = introductions(&t);
    assert_eq!(intros.len(), 1);
    assert!(intros[0].contains("bob@leedsth.nhs.uk") && intros[0].contains("ann@leedsth.nhs.uk"));
    let active = t.get(&format!("/mentoring-requests/{id}"), Some(&bob)).await.body;
    assert_eq!(active["state"], "active");
    assert_eq!(active["pairing"]["id"], id);
    let ann_profile = t.get("/me/mentor", Some(&ann)).await.body;
    assert_eq!(ann_profile["load"], 2, "Bob as a mentee, and the second request's offer: {ann_profile}");
    // A decline after the acceptance changes nothing.
    let a = t.post(&format!("/mentoring/offers/{ann_token}/decline"), None, Value::Null).await;
    assert!(a.text.contains("You have accepted"));

    // Closing: others refused; Bob closes with feedback, Ann adds hers.
    let eve = member(&t, "eve@leedsth.nhs.uk").await;
    t.post(&format!("/mentoring-pairings/{id}/close"), Some(&eve), json!({})).await.assert_problem(404);
    t.post(&format!("/mentoring-pairings/{id}/close"), None, json!({})).await.assert_problem(401);
    let a = t.post(&format!("/mentoring-pairings/{id}/close"), Some(&bob), json!({"feedback": "Very helpful", "stars": 5})).await;
    a.assert_problem(422);
    let a = t.post(&format!("/mentoring-pairings/{id}/close"), Some(&bob), json!({"feedback": "Very helpful"})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["state"], "closed");
    assert_eq!(a.body["pairing"]["closed_by"], "mentee");
    let a = t.post(&format!("/mentoring-pairings/{id}/close"), Some(&ann), json!({"feedback": "A pleasure"})).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(t.get("/me/mentor", Some(&ann)).await.body["load"], 1, "the place is free again");
    t.send(Method::DELETE, &format!("/mentoring-requests/{id}"), Some(&bob), None, &[]).await.assert_problem(409);
}

#[tokio::test]
async fn the_last_place_is_taken_once() {
    let t = network().await;
    let ann = mentor(&t, "ann@leedsth.nhs.uk", &["flow"], 1).await;
    let mut members = vec![];
    for i in 0..6 {
        members.push(member(&t, &format!("m{i}@bradford.gov.uk")).await);
    }
    // Six requests at once for one place: one is proposed, the rest stay open.
    let answers =
        join_all(members.iter().map(|tok| t.post("/mentoring-requests", Some(tok), request(&["flow"]))).collect()).await;
    let states: Vec<&str> = answers.iter().map(|a| a.body["state"].as_str().unwrap()).collect();
    assert_eq!(states.iter().filter(|s| **s == "proposed").count(), 1, "{states:?}");
    let open = answers.iter().find(|a| a.body["state"] == "open").unwrap();
    assert_eq!(open.body["unmatched_reason"], "every suitable mentor is at capacity");
    assert_eq!(t.get("/me/mentor", Some(&ann)).await.body["load"], 1);

    // Eight acceptances at once: one wins, one introduction.
    let token = offer_token(&offers_to(&t, "ann@leedsth.nhs.uk")[0]);
    let path = format!("/mentoring/offers/{token}/accept");
    let answers = join_all((0..8).map(|_| t.post(&path, None, Value::Null)).collect()).await;
    assert!(answers.iter().all(|a| a.status == StatusCode::OK && a.text.contains("You have accepted")));
    assert_eq!(introductions(&t).len(), 1);
    let me = t.get("/me/mentor", Some(&ann)).await.body;
    assert_eq!((me["load"].as_u64(), me["capacity"].as_u64()), (Some(1), Some(1)));
}

/// Runs the requests at once (polled together on this task) and answers them in order.
async fn join_all<F: std::future::Future<Output = qnet_tests::Answer>>(futures: Vec<F>) -> Vec<qnet_tests::Answer> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<qnet_tests::Answer>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if results[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(a) => results[i] = Some(a),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    results.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn the_scheduled_pass_expires_lapsed_offers_and_assigns_open_requests() {
    let t = network().await;
    let ann = mentor(&t, "ann@leedsth.nhs.uk", &["flow"], 1).await;
    let bob = member(&t, "bob@bradford.gov.uk").await;
    let cat = member(&t, "cat@bradford.gov.uk").await;
    let first = ask(&t, &bob, request(&["flow"])).await;
    let second = ask(&t, &cat, request(&["flow"])).await;
    assert_eq!((first["state"].as_str(), second["state"].as_str()), (Some("proposed"), Some("open")));
    // Dan joins later with a free place: the pass proposes Cat's request to him.
    mentor(&t, "dan@leedsth.nhs.uk", &["flow"], 1).await;
    let base = t.base.clone();
    // `qnet match --dry-run` prints what it would propose.
    let printed = qnet::community::match_on(&t.app, OffsetDateTime::now_utc(), true).await.unwrap();
    let printed: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(printed["assignments"][0]["request_id"], second["id"], "{printed}");
    assert_eq!(printed["assignments"][0]["mentor_id"], "m-dan-leedsth-nhs-uk");
    assert!(printed["assignments"][0]["score"].as_u64() > Some(0));
    assert!(printed["assignments"][0]["reasons"].as_array().is_some_and(|r| !r.is_empty()));
    assert_eq!(printed["unmatched"], json!([]));
    let dry = t.app.run_matching(OffsetDateTime::now_utc(), true, &base).await.unwrap();
    assert_eq!(dry.assignments.len(), 1);
    assert_eq!(dry.assignments[0].request_id, second["id"].as_str().unwrap());
    assert_eq!(t.get(&format!("/mentoring-requests/{}", second["id"].as_str().unwrap()), Some(&cat)).await.body["state"], "open");

    let report = t.app.run_matching(OffsetDateTime::now_utc(), false, &base).await.unwrap();
    assert_eq!(report.assignments.len(), 1);
    assert_eq!(report.assignments[0].mentor_id, "m-dan-leedsth-nhs-uk");
    assert!(!report.assignments[0].reasons.is_empty());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json.as_object().unwrap().keys().collect::<Vec<_>>(), ["assignments", "unmatched"]);
    assert_eq!(offers_to(&t, "dan@leedsth.nhs.uk").len(), 1);
    // Live proposals are left alone: a second pass changes nothing.
    let again = t.app.run_matching(OffsetDateTime::now_utc(), false, &base).await.unwrap();
    assert!(again.assignments.is_empty() && again.unmatched.is_empty(), "{again:?}");

    // Eight days on, both offers have lapsed: each request goes to the other
    // mentor, never to the one who let it lapse.
    let later = t.at(OffsetDateTime::now_utc() + time::Duration::days(8));
    let report = later.run_matching(later.clock().now(), false, &base).await.unwrap();
    let pairs: Vec<(String, String)> = report.assignments.iter().map(|m| (m.request_id.clone(), m.mentor_id.clone())).collect();
    assert_eq!(pairs.len(), 2, "both lapsed requests are proposed again, never to the mentor who let them lapse: {report:?}");
    for (request_id, mentor_id) in pairs {
        let first_mentor =
            if request_id == first["id"].as_str().unwrap() { "m-ann-leedsth-nhs-uk" } else { "m-dan-leedsth-nhs-uk" };
        assert_ne!(mentor_id, first_mentor);
    }
    assert_eq!(t.get("/me/mentor", Some(&ann)).await.body["load"], 1);
}

#[tokio::test]
async fn coffee_rounds_pair_across_organisations_without_repeats_and_send_once() {
    let t = network().await;
    let mut ids = vec![];
    for who in ["a1@leedsth.nhs.uk", "a2@leedsth.nhs.uk", "b1@bradford.gov.uk", "b2@bradford.gov.uk", "c1@leedsth.nhs.uk"] {
        let tok = member(&t, who).await;
        if who != "c1@leedsth.nhs.uk" {
            let me = t.get("/me", Some(&tok)).await;
            let a = t.patch("/me", &tok, me.body["version"].as_u64().unwrap(), json!({"coffee": {"opt_in": true}})).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.text);
            assert_eq!(a.body["coffee"]["opt_in"], true);
            ids.push(a.body["id"].as_str().unwrap().to_string());
        }
    }
    let c1 = t.token("c1@leedsth.nhs.uk", &[]).await;
    let a = t.patch("/me", &c1, 1, json!({"coffee": {"opt_in": "yes"}})).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["coffee.opt_in"]);

    let week1 = time::macros::datetime!(2026-11-23 09:00 UTC);
    // `qnet coffee-round --dry-run` prints the round and stores nothing.
    let printed = qnet::community::coffee_round_on(&t.app, week1, true).await.unwrap();
    let printed: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(printed.as_object().unwrap().keys().collect::<Vec<_>>(), ["pairs", "round"]);
    assert_eq!(printed["round"], "2026-W48");
    let dry = t.app.coffee_round(week1, true).await.unwrap();
    assert_eq!(json!(dry.pairs), printed["pairs"]);
    assert_eq!(outbox(&t).iter().filter(|m| m.contains("Qnet coffee")).count(), 0, "a dry run sends nothing");
    let round = t.app.coffee_round(week1, false).await.unwrap();
    assert_eq!(round.round, "2026-W48");
    assert_eq!(round.pairs, dry.pairs);
    assert_eq!(round.pairs.len(), 2);
    let org = |id: &str| if id.contains("leedsth") { "leeds" } else { "bradford" };
    for pair in &round.pairs {
        assert_ne!(org(&pair[0]), org(&pair[1]), "pairs cross organisations: {pair:?}");
    }
    let coffee_mails = || outbox(&t).iter().filter(|m| m.contains("Subject: Your Qnet coffee")).count();
    assert_eq!(coffee_mails(), 2);

    // A re-run of the week prints the same round and sends nothing, even after the pool changed.
    let tok = t.token("c1@leedsth.nhs.uk", &[]).await;
    assert_eq!(t.patch("/me", &tok, 1, json!({"coffee": {"opt_in": true}})).await.status, StatusCode::OK);
    let again = t.app.coffee_round(week1 + time::Duration::days(2), false).await.unwrap();
    assert_eq!((again.round.as_str(), &again.pairs, again.sent), ("2026-W48", &round.pairs, 0));
    assert_eq!(coffee_mails(), 2);

    // Next week: nobody meets last week's partner, and the odd member makes a trio.
    let week2 = t.app.coffee_round(week1 + time::Duration::weeks(1), false).await.unwrap();
    assert_eq!(week2.round, "2026-W49");
    let met: Vec<(String, String)> = round.pairs.iter().map(|p| (p[0].clone(), p[1].clone())).collect();
    for group in &week2.pairs {
        for (i, a) in group.iter().enumerate() {
            for b in &group[i + 1..] {
                assert!(
                    !met.contains(&(a.clone(), b.clone())) && !met.contains(&(b.clone(), a.clone())),
                    "{a} and {b} met last week"
                );
            }
        }
    }
    assert_eq!(week2.pairs.iter().map(Vec::len).sum::<usize>(), 5);
    assert_eq!(coffee_mails(), 4);
}

#[tokio::test]
async fn erasing_a_member_withdraws_their_requests_and_removes_their_mentor_profile() {
    let t = network().await;
    let ann = mentor(&t, "ann@leedsth.nhs.uk", &["flow"], 1).await;
    let bob = member(&t, "bob@bradford.gov.uk").await;
    let r = ask(&t, &bob, request(&["flow"])).await;
    assert_eq!(t.get("/me/mentor", Some(&ann)).await.body["load"], 1);
    assert_eq!(t.send(Method::DELETE, "/me", Some(&bob), None, &[]).await.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get("/me/mentor", Some(&ann)).await.body["load"], 0, "the held place is released");
    let moderator = t.token("mod@leedsth.nhs.uk", &[qnet_domain::Role::Moderator]).await;
    t.get(&format!("/mentoring-requests/{}", r["id"].as_str().unwrap()), Some(&moderator)).await.assert_problem(404);
    assert_eq!(t.send(Method::DELETE, "/me", Some(&ann), None, &[]).await.status, StatusCode::NO_CONTENT);
    let ann = t.token("ann@leedsth.nhs.uk", &[]).await;
    t.get("/me/mentor", Some(&ann)).await.assert_problem(404);
}

#[tokio::test]
async fn a_member_declines_a_proposed_mentor_once_and_never_gets_them_again() {
    let t = network().await;
    let dan = mentor(&t, "dan@bradford.gov.uk", &["flow"], 2).await;
    mentor(&t, "ann@leedsth.nhs.uk", &["flow"], 2).await;
    let bob = member(&t, "bob@leedsth.nhs.uk").await;
    let r = ask(&t, &bob, request(&["flow"])).await;
    let id = r["id"].as_str().unwrap();
    assert_eq!(r["proposal"]["mentor_id"], "m-dan-bradford-gov-uk");
    let path = format!("/mentoring-requests/{id}/decline-proposal");
    t.post(&path, Some(&bob), json!({})).await.assert_problem(422);
    t.post(&path, Some(&dan), json!({"mentor_id": "m-dan-bradford-gov-uk"})).await.assert_problem(403);
    // Declining twice declines Dan once: Ann, proposed next, is not declined by the retry.
    for _ in 0..2 {
        let a = t.post(&path, Some(&bob), json!({"mentor_id": "m-dan-bradford-gov-uk"})).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["proposal"]["mentor_id"], "m-ann-leedsth-nhs-uk");
    }
    assert_eq!(t.get("/me/mentor", Some(&dan)).await.body["load"], 0);
    let dan_offer = offer_token(&offers_to(&t, "dan@bradford.gov.uk")[0]);
    let a = t.post(&format!("/mentoring/offers/{dan_offer}/accept"), None, Value::Null).await;
    assert!(a.text.contains("no longer open"), "{}", a.text);
    let again = ask(&t, &bob, request(&["flow"])).await;
    assert_eq!(again["proposal"]["mentor_id"], "m-ann-leedsth-nhs-uk", "never Dan again");
    t.post(&path, Some(&bob), json!({"mentor_id": "m-nobody"})).await.assert_problem(409);
}
