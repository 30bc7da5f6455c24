//! The member directory (`GET /members`) and organisation member counts
//! (`GET /organisations`) end to end on the embedded store, over HTTP.

use qnet_domain::Role;
use qnet_tests::{Answer, TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Two organisations; members sign in and land in theirs by email domain.
async fn network() -> (TestApp, String, String) {
    let t = spawn_app().await;
    let leeds = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let bradford = t.organisation("Bradford Council", &["bradford.gov.uk"]).await;
    (t, leeds, bradford)
}

async fn member(t: &TestApp, email: &str) -> String {
    let tok = t.token(email, &[]).await;
    assert_eq!(t.get("/me", Some(&tok)).await.status, StatusCode::OK);
    tok
}

async fn patch_me(t: &TestApp, token: &str, body: Value) -> Answer {
    t.send(Method::PATCH, "/me", Some(token), Some(body), &[]).await
}

/// An admin assigns the member to an organisation (one that does not list
/// their email domain: `PATCH /me` cannot move them there).
async fn assign(t: &TestApp, token: &str, organisation_id: &str) -> Answer {
    let id = t.get("/me", Some(token)).await.body["id"].as_str().unwrap().to_string();
    let admin = t.token("admin@qnet.test", &[Role::Admin]).await;
    let body = json!({ "organisation_id": organisation_id });
    t.send(Method::PUT, &format!("/members/{id}/organisation"), Some(&admin), Some(body), &[]).await
}

async fn listed(t: &TestApp, email: &str, body: Value) -> String {
    let tok = member(t, email).await;
    let mut body = body;
    body["listed"] = json!(true);
    let a = patch_me(t, &tok, body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    tok
}

fn names(a: &Answer) -> Vec<String> {
    a.body["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect()
}

async fn directory(t: &TestApp, token: &str, query: &str) -> Answer {
    let a = t.get(&format!("/members{query}"), Some(token)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a
}

async fn counts(t: &TestApp) -> Vec<(String, u64)> {
    let a = t.get("/organisations", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            assert_eq!(o["type"], "nhs", "{o}");
            (o["name"].as_str().unwrap().to_string(), o["member_count"].as_u64().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn only_listed_members_appear_by_name_without_emails() {
    let (t, leeds, _) = network().await;
    let ann = member(&t, "ann@leedsth.nhs.uk").await;
    let me = t.get("/me", Some(&ann)).await;
    assert_eq!(me.body["listed"], false, "profiles start unlisted");
    // Bob is a member but never chose to be listed.
    let bob = member(&t, "bob@bradford.gov.uk").await;
    assert_eq!(names(&directory(&t, &bob, "").await), Vec::<String>::new());

    let a =
        patch_me(&t, &ann, json!({"listed": true, "job_title": "Improvement lead", "topics": ["flow", "patient-safety"]})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["listed"], true);
    assert_eq!(t.get("/me", Some(&ann)).await.body["listed"], true);
    listed(&t, "cat@leedsth.nhs.uk", json!({"name": "Aaron Zed"})).await;

    let a = directory(&t, &bob, "").await;
    assert_eq!(names(&a), ["Aaron Zed", "ann"], "sorted by name, case-insensitively");
    let ann_entry = &a.body["items"][1];
    assert_eq!(ann_entry["organisation"], json!({"id": leeds, "name": "Leeds Teaching Hospitals"}));
    assert_eq!(ann_entry["job_title"], "Improvement lead");
    assert_eq!(ann_entry["topics"], json!(["flow", "patient-safety"]));
    assert_eq!(ann_entry["mentor"], false);
    for address in ["ann@leedsth.nhs.uk", "cat@leedsth.nhs.uk", "bob@bradford.gov.uk"] {
        assert!(!a.text.contains(address), "the directory shows {address}: {}", a.text);
    }
    assert!(!a.text.contains('@'), "no email address at all: {}", a.text);

    // A rename moves the entry; unlisting removes it everywhere.
    let a = patch_me(&t, &ann, json!({"name": "Zoe Ann"})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(names(&directory(&t, &bob, "").await), ["Aaron Zed", "Zoe Ann"]);
    let a = patch_me(&t, &ann, json!({"listed": false})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(names(&directory(&t, &bob, "").await), ["Aaron Zed"]);
    assert_eq!(names(&directory(&t, &bob, "?topic=flow").await), Vec::<String>::new());
    assert_eq!(names(&directory(&t, &bob, &format!("?organisation={leeds}")).await), ["Aaron Zed"]);
}

#[tokio::test]
async fn filters_by_topic_and_organisation_and_pages() {
    let (t, leeds, bradford) = network().await;
    let viewer = listed(&t, "ann@leedsth.nhs.uk", json!({"topics": ["flow"]})).await;
    listed(&t, "bob@bradford.gov.uk", json!({"topics": ["flow", "patient-safety"]})).await;
    listed(&t, "cat@bradford.gov.uk", json!({"topics": ["patient-safety"]})).await;
    listed(&t, "dan@leedsth.nhs.uk", json!({})).await;

    assert_eq!(names(&directory(&t, &viewer, "?topic=flow").await), ["ann", "bob"]);
    assert_eq!(names(&directory(&t, &viewer, &format!("?organisation={bradford}")).await), ["bob", "cat"]);
    assert_eq!(names(&directory(&t, &viewer, &format!("?organisation={leeds}")).await), ["ann", "dan"]);
    assert_eq!(names(&directory(&t, &viewer, &format!("?topic=patient-safety&organisation={bradford}")).await), ["bob", "cat"]);
    assert_eq!(names(&directory(&t, &viewer, &format!("?topic=flow&organisation={leeds}")).await), ["ann"]);

    // Moving organisation moves the entries.
    let dan = t.token("dan@leedsth.nhs.uk", &[]).await;
    let a = assign(&t, &dan, &bradford).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(names(&directory(&t, &viewer, &format!("?organisation={leeds}")).await), ["ann"]);
    assert_eq!(names(&directory(&t, &viewer, &format!("?organisation={bradford}")).await), ["bob", "cat", "dan"]);

    // Cursor pagination walks the whole list once, in order.
    let mut seen = Vec::new();
    let mut query = "?limit=3".to_string();
    loop {
        let a = directory(&t, &viewer, &query).await;
        assert!(names(&a).len() <= 3);
        seen.extend(names(&a));
        match a.body["next_cursor"].as_str() {
            Some(c) => query = format!("?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ["ann", "bob", "cat", "dan"]);
}

#[tokio::test]
async fn mentor_badge_follows_the_mentor_profile() {
    let (t, _, _) = network().await;
    let ann = listed(&t, "ann@leedsth.nhs.uk", json!({"topics": ["flow"]})).await;
    let profile = json!({"offers": ["mentoring"], "topics": ["flow"], "skills": [], "capacity": 2,
                         "availability": {"modes": ["online"]}, "accepting": true});
    let a = t.send(Method::PUT, "/me/mentor", Some(&ann), Some(profile), &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    for query in ["", "?topic=flow"] {
        assert_eq!(directory(&t, &ann, query).await.body["items"][0]["mentor"], true, "{query}");
    }
    // The badge stays through a profile change, and goes with the mentor profile.
    let a = patch_me(&t, &ann, json!({"job_title": "Matron"})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(directory(&t, &ann, "").await.body["items"][0]["mentor"], true);
    let a = t.send(Method::DELETE, "/me/mentor", Some(&ann), None, &[]).await;
    assert!(a.status.is_success(), "{}", a.text);
    for query in ["", "?topic=flow"] {
        assert_eq!(directory(&t, &ann, query).await.body["items"][0]["mentor"], false, "{query}");
    }
    // An unlisted mentor gets no entry.
    let bob = member(&t, "bob@bradford.gov.uk").await;
    let profile = json!({"offers": ["coaching"], "topics": ["flow"], "skills": [], "capacity": 1,
                         "availability": {"modes": ["online"]}, "accepting": true});
    let a = t.send(Method::PUT, "/me/mentor", Some(&bob), Some(profile), &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(names(&directory(&t, &ann, "").await), ["ann"]);
}

#[tokio::test]
async fn anonymous_is_refused_and_bad_queries_are_problems() {
    let (t, _, _) = network().await;
    let ann = listed(&t, "ann@leedsth.nhs.uk", json!({})).await;
    t.get("/members", None).await.assert_problem(401);
    t.get("/members", Some("not-a-token")).await.assert_problem(401);
    // Every role that signs in may read it.
    for role in [Role::Organiser, Role::Moderator, Role::Admin] {
        let tok = t.token("staff@qnet.test", &[role]).await;
        assert_eq!(names(&directory(&t, &tok, "").await), ["ann"]);
    }

    let a = t.get("/members?topic=astrology&organisation=nowhere&limit=0", Some(&ann)).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["limit"]);
    let a = t.get("/members?topic=astrology&organisation=nowhere", Some(&ann)).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["topic", "organisation"]);
    t.get("/members?cursor=rubbish", Some(&ann)).await.assert_problem(400);

    let a = patch_me(&t, &ann, json!({"listed": "yes"})).await;
    a.assert_problem(422);
    assert_eq!(a.problem_fields(), ["listed"]);
    assert_eq!(t.get("/me", Some(&ann)).await.body["listed"], true, "a refused change changes nothing");
}

#[tokio::test]
async fn erasure_removes_the_entry_and_counts_stay_exact() {
    let (t, leeds, bradford) = network().await;
    assert_eq!(counts(&t).await, [("Bradford Council".into(), 0), ("Leeds Teaching Hospitals".into(), 0)]);
    // Joining (on first sign-in, organisation by email domain), listed or not.
    let ann = listed(&t, "ann@leedsth.nhs.uk", json!({"topics": ["flow"]})).await;
    member(&t, "bob@leedsth.nhs.uk").await;
    member(&t, "cat@bradford.gov.uk").await;
    // A domain no organisation lists: no organisation, no count.
    member(&t, "dan@example.org").await;
    assert_eq!(counts(&t).await, [("Bradford Council".into(), 1), ("Leeds Teaching Hospitals".into(), 2)]);

    // Moving between organisations; choosing one for the first time.
    let a = assign(&t, &ann, &bradford).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let dan = t.token("dan@example.org", &[]).await;
    let a = assign(&t, &dan, &leeds).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    // A change that keeps the organisation counts nothing twice.
    let a = patch_me(&t, &dan, json!({"organisation_id": leeds, "job_title": "Porter"})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(counts(&t).await, [("Bradford Council".into(), 2), ("Leeds Teaching Hospitals".into(), 2)]);

    // Erasure: the entry and the count go with the profile.
    let viewer = member(&t, "eve@bradford.gov.uk").await;
    assert_eq!(names(&directory(&t, &viewer, &format!("?topic=flow&organisation={bradford}")).await), ["ann"]);
    let a = t.send(Method::DELETE, "/me", Some(&ann), None, &[]).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    for query in [
        "".to_string(),
        "?topic=flow".into(),
        format!("?organisation={bradford}"),
        format!("?topic=flow&organisation={bradford}"),
    ] {
        assert_eq!(names(&directory(&t, &viewer, &query).await), Vec::<String>::new(), "{query}");
    }
    assert_eq!(
        counts(&t).await,
        [("Bradford Council".into(), 2), ("Leeds Teaching Hospitals".into(), 2)],
        "eve joined, ann left"
    );
}

#[tokio::test]
async fn counts_hold_under_concurrent_sign_ups() {
    let (t, _, _) = network().await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let base = t.base.clone();
        let client = t.client.clone();
        let tok = t.token(&format!("person{i}@leedsth.nhs.uk"), &[]).await;
        tasks.push(tokio::spawn(async move { client.get(format!("{base}/me")).bearer_auth(tok).send().await.unwrap().status() }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(counts(&t).await, [("Bradford Council".into(), 0), ("Leeds Teaching Hospitals".into(), 20)]);
}

/// The same transactions on the DynamoDB adapter (moto): entries, the mentor
/// badge, counters created, moved and erased.
#[tokio::test]
async fn moto_directory_entries_and_counts() {
    let t = qnet_tests::spawn_app_on_moto().await;
    // Names unique to this run: the moto table is shared by every run.
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let leeds = t.organisation(&format!("Leeds {run}"), &[&format!("leeds{run}.nhs.uk")]).await;
    let york = t.organisation(&format!("York {run}"), &[&format!("york{run}.nhs.uk")]).await;
    let count = async |org: &str| -> u64 {
        let a = t.get("/organisations", None).await;
        a.body["items"].as_array().unwrap().iter().find(|o| o["id"] == org).unwrap()["member_count"].as_u64().unwrap()
    };
    let ann = listed(&t, &format!("ann@leeds{run}.nhs.uk"), json!({"topics": ["flow"]})).await;
    member(&t, &format!("bob@leeds{run}.nhs.uk")).await;
    assert_eq!((count(&leeds).await, count(&york).await), (2, 0));

    let profile = json!({"offers": ["mentoring"], "topics": ["flow"], "skills": [], "capacity": 1,
                         "availability": {"modes": ["online"]}, "accepting": true});
    let a = t.send(Method::PUT, "/me/mentor", Some(&ann), Some(profile), &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let a = directory(&t, &ann, &format!("?topic=flow&organisation={leeds}")).await;
    assert_eq!(names(&a), ["ann"]);
    assert_eq!(a.body["items"][0]["mentor"], true);

    let a = assign(&t, &ann, &york).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!((count(&leeds).await, count(&york).await), (1, 1));
    assert_eq!(names(&directory(&t, &ann, &format!("?organisation={leeds}")).await), Vec::<String>::new());
    assert_eq!(names(&directory(&t, &ann, &format!("?organisation={york}")).await), ["ann"]);

    let a = t.send(Method::DELETE, "/me", Some(&ann), None, &[]).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    assert_eq!((count(&leeds).await, count(&york).await), (1, 0));
    let viewer = member(&t, &format!("cat@york{run}.nhs.uk")).await;
    assert_eq!(names(&directory(&t, &viewer, &format!("?organisation={york}")).await), Vec::<String>::new());
}
