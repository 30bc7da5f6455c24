//! Every list's `cursor` and `limit` are bounded (issue 14, item 1): the
//! listing routes are read from the OpenAPI document (every GET with a `cursor`
//! query parameter), so a new list is covered without touching this file, and
//! each is sent hostile cursors: out of range, negative, non-numeric, of the
//! wrong shape, from another list or partition, garbage. Each must be the
//! bad-cursor 400 problem and leave the server alive. Each list is also paged
//! one item at a time and must give back exactly its whole list.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use qnet_domain::Role;
use qnet_tests::{Answer, TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Everything the lists need two of, made through the API.
struct World {
    t: TestApp,
    /// Moderator, admin and organiser, on every project's team: may read every list.
    boss: String,
    projects: [String; 2],
    measures: [String; 2],
    events: [String; 2],
    /// Published case studies and resources, each with two questions.
    case_studies: [String; 2],
    resources: [String; 2],
}

async fn ok(a: Answer) -> Value {
    assert!(a.status.is_success(), "{}: {}", a.status, a.text);
    a.body
}

async fn me(t: &TestApp, token: &str) -> String {
    ok(t.get("/me", Some(token)).await).await["id"].as_str().unwrap().to_string()
}

async fn publish(t: &TestApp, token: &str, path: &str, created: &Value) {
    let id = created["id"].as_str().unwrap();
    let version = format!("\"{}\"", created["version"].as_u64().unwrap_or(1));
    let a = t.send(Method::POST, &format!("{path}/{id}/publish"), Some(token), None, &[("if-match", &version)]).await;
    ok(a).await;
}

fn in_days(days: i64) -> String {
    (OffsetDateTime::now_utc() + time::Duration::days(days)).replace_nanosecond(0).unwrap().format(&Rfc3339).unwrap()
}

async fn world() -> World {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    t.organisation("Bradford Council", &["bradford.gov.uk"]).await;
    t.organisation("Leeds Community Healthcare", &["leedscommunity.nhs.uk"]).await;
    let boss = t.token("boss@leedsth.nhs.uk", &[Role::Moderator, Role::Admin, Role::Organiser]).await;
    let ann = t.token("ann@leedsth.nhs.uk", &[]).await;
    let boss_id = me(&t, &boss).await;
    me(&t, &ann).await;
    for tok in [&boss, &ann] {
        ok(t.send(Method::PATCH, "/me", Some(tok), Some(json!({"listed": true})), &[]).await).await;
    }
    let mut case_studies = vec![];
    let mut resources = vec![];
    for n in 0..4 {
        let cs = t
            .submit(
                &boss,
                json!({"title": format!("Fewer falls on ward {n}"), "body": "Falls fell with hourly rounding.",
                                  "topics": ["patient-safety"], "sections": {"aim": "Fewer falls", "results": "Fewer."}}),
            )
            .await;
        let r = ok(t
            .post(
                "/resources",
                Some(&boss),
                json!({"title": format!("Falls guide {n}"), "description": "How to count falls.",
                   "kind": "link", "topics": ["patient-safety"], "url": format!("https://qi.example.org/falls-{n}")}),
            )
            .await)
        .await;
        if n < 2 {
            publish(&t, &boss, "/case-studies", &cs).await;
            publish(&t, &boss, "/resources", &r).await;
            for (kind, item, list) in [("case-studies", &cs, &mut case_studies), ("resources", &r, &mut resources)] {
                let id = item["id"].as_str().unwrap().to_string();
                for k in 0..2 {
                    let q = json!({"body": format!("How did you count falls? ({k})")});
                    ok(t.post(&format!("/{kind}/{id}/questions"), Some(&ann), q).await).await;
                }
                list.push(id);
            }
        }
    }
    let mut projects = vec![];
    let mut measures = vec![];
    for n in 0..2 {
        let p = ok(t
            .post(
                "/projects",
                Some(&boss),
                json!({"title": format!("Fewer falls {n}"), "aim": "Halve falls on ward 5 by March",
                   "organisation_ids": [org], "team": [boss_id], "topics": ["patient-safety"], "status": "active"}),
            )
            .await)
        .await;
        let pid = p["id"].as_str().unwrap().to_string();
        for k in 0..2 {
            let m = ok(t
                .post(
                    &format!("/projects/{pid}/measures"),
                    Some(&boss),
                    json!({"name": format!("Falls {k}"), "type": "outcome", "improvement_direction": "down"}),
                )
                .await)
            .await;
            if k == 0 {
                measures.push(m["id"].as_str().unwrap().to_string());
            }
            ok(t.post(&format!("/projects/{pid}/pdsa"), Some(&boss), json!({"plan": format!("Huddle {k}")})).await).await;
            let post =
                ok(t.post(&format!("/projects/{pid}/posts"), Some(&boss), json!({"body": format!("Post {k}")})).await).await;
            let post_id = post["id"].as_str().unwrap();
            ok(t.post(&format!("/projects/{pid}/posts/{post_id}/replies"), Some(&ann), json!({"body": "Agreed"})).await).await;
        }
        projects.push(pid);
    }
    let mut events = vec![];
    for n in 0..2 {
        let e = ok(t
            .post(
                "/events",
                Some(&boss),
                json!({"kind": "workshop", "title": format!("Run charts {n}"), "description": "Bring data.",
                   "starts_at": in_days(20 + n), "ends_at": in_days(21 + n), "location": "Room 2", "capacity": 10,
                   "host_organisation_id": org, "topics": ["measurement"]}),
            )
            .await)
        .await;
        let id = e["id"].as_str().unwrap().to_string();
        for tok in [&boss, &ann] {
            ok(t.post(&format!("/events/{id}/bookings"), Some(tok), Value::Null).await).await;
        }
        events.push(id);
    }
    for topic in ["flow", "patient-safety"] {
        ok(t.post(
            "/mentoring-requests",
            Some(&boss),
            json!({"kind": "mentoring", "topics": [topic],
                   "goals": "I want to get better at process mapping.", "availability": {"modes": ["online"]}}),
        )
        .await)
        .await;
    }
    for who in ["sam@qnet.test", "kim@qnet.test"] {
        let grant = json!({"email": who, "role": "moderator"});
        ok(t.send(reqwest::Method::PUT, "/admin/roles", Some(&boss), Some(grant), &[]).await).await;
    }
    World {
        t,
        boss,
        projects: projects.try_into().unwrap(),
        measures: measures.try_into().unwrap(),
        events: events.try_into().unwrap(),
        case_studies: case_studies.try_into().unwrap(),
        resources: resources.try_into().unwrap(),
    }
}

/// A GET route with a `cursor` query parameter, from the OpenAPI document.
struct Listing {
    path: String,
    /// Required query parameters other than the cursor, with values.
    query: String,
    /// The largest `limit` the document allows.
    max_limit: u64,
}

async fn listings(t: &TestApp) -> Vec<Listing> {
    let doc = ok(t.get("/openapi.json", None).await).await;
    let mut out = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let params = get["parameters"].as_array().cloned().unwrap_or_default();
        let query = |p: &&Value| p["in"] == "query";
        if !params.iter().filter(query).any(|p| p["name"] == "cursor") {
            continue;
        }
        let mut required = vec![];
        for p in params.iter().filter(query).filter(|p| p["required"] == true) {
            match p["name"].as_str().unwrap() {
                "q" => required.push("q=falls"),
                other => panic!("{path} requires the query parameter {other}: give it a value here"),
            }
        }
        let limit = params.iter().filter(query).find(|p| p["name"] == "limit");
        let max_limit = limit.and_then(|p| p["schema"]["maximum"].as_u64());
        let max_limit = max_limit.unwrap_or_else(|| panic!("{path} takes a cursor but documents no maximum limit"));
        out.push(Listing { path: path.clone(), query: required.join("&"), max_limit });
    }
    out
}

impl World {
    /// The path with its parameters filled from set `n` (0 or 1) of what was made.
    fn fill(&self, template: &str, n: usize) -> String {
        let mut path = template.to_string();
        let id = match template.split('/').nth(1) {
            Some("projects") => &self.projects[n],
            Some("events") => &self.events[n],
            Some("case-studies") => &self.case_studies[n],
            Some("resources") => &self.resources[n],
            _ => "",
        };
        for (name, value) in [("{id}", id), ("{mid}", &self.measures[n])] {
            path = path.replace(name, value);
        }
        assert!(!path.contains('{'), "{template}: a path parameter this test does not fill; make one in world()");
        path
    }
}

fn url(l: &Listing, path: &str, extra: &str) -> String {
    let q: Vec<&str> = [l.query.as_str(), extra].into_iter().filter(|s| !s.is_empty()).collect();
    format!("{path}?{}", q.join("&"))
}

/// The items of a page: `items`, or a board's `threads`.
fn items(a: &Answer) -> Vec<Value> {
    a.body.get("items").or_else(|| a.body.get("threads")).and_then(Value::as_array).cloned().unwrap_or_else(|| {
        panic!("a list answer without items: {}", a.text);
    })
}

fn encode(v: Value) -> String {
    B64.encode(v.to_string())
}

async fn assert_bad_cursor(t: &TestApp, token: &str, target: &str, why: &str) {
    let a = t.get(target, Some(token)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{why}: GET {target} answered {}: {}", a.status, a.text);
    a.assert_problem(400);
    assert_eq!(a.body["type"], "/problems/bad-cursor", "{why}: {target}: {}", a.text);
    assert_eq!(t.get("/health", None).await.status, StatusCode::OK, "{why}: the server died after {target}");
}

#[tokio::test]
async fn every_listing_route_refuses_every_bad_cursor_and_limit_and_pages_without_gaps() {
    let w = world().await;
    let t = &w.t;
    let routes = listings(t).await;
    assert!(routes.len() >= 16, "only {} listing routes in the OpenAPI document", routes.len());

    // Every list, in both sets where it has path parameters: its whole list,
    // then paged one at a time, which gives back exactly the same items.
    let mut real: Vec<(String, String, String)> = vec![]; // (route, path, a real cursor)
    for l in &routes {
        let sets = if l.path.contains('{') { 2 } else { 1 };
        for n in 0..sets {
            let path = w.fill(&l.path, n);
            let whole = t.get(&url(l, &path, &format!("limit={}", l.max_limit)), Some(&w.boss)).await;
            assert_eq!(whole.status, StatusCode::OK, "{path}: {}", whole.text);
            assert!(whole.body["next_cursor"].is_null(), "{path}: {}", whole.text);
            let whole = items(&whole);
            assert!(whole.len() >= 2, "{path} needs two items for this test: {whole:?}");
            let mut paged = vec![];
            let mut cursor: Option<String> = None;
            loop {
                let extra = match &cursor {
                    None => "limit=1".to_string(),
                    Some(c) => format!("limit=1&cursor={c}"),
                };
                let page = t.get(&url(l, &path, &extra), Some(&w.boss)).await;
                assert_eq!(page.status, StatusCode::OK, "{path} {extra}: {}", page.text);
                let got = items(&page);
                assert_eq!(got.len(), 1, "{path} {extra}: {}", page.text);
                paged.extend(got);
                match page.body["next_cursor"].as_str() {
                    Some(c) => {
                        if cursor.is_none() {
                            real.push((l.path.clone(), path.clone(), c.to_string()));
                        }
                        cursor = Some(c.to_string());
                    }
                    None => break,
                }
                assert!(paged.len() <= whole.len(), "{path}: paging does not end");
            }
            let key = |v: &Value| v.to_string();
            let (mut a, mut b): (Vec<String>, Vec<String>) = (whole.iter().map(key).collect(), paged.iter().map(key).collect());
            a.sort();
            b.sort();
            assert_eq!(a, b, "{path}: pages of one are not the whole list (gaps or repeats)");
            b.dedup();
            assert_eq!(b.len(), paged.len(), "{path}: an item came twice");
        }
    }

    let offsets = [json!(1_000_000_000_000_000u64), json!(-1), json!("ten"), json!(1.5), json!(null)];
    for l in &routes {
        let path = w.fill(&l.path, 0);
        let own = &real.iter().find(|(_, p, _)| *p == path).expect("a real cursor of this list").2;
        let own_json: Value = serde_json::from_slice(&B64.decode(own).unwrap()).unwrap();
        let mut hostile: Vec<(String, String)> = vec![
            ("garbage".into(), "!!not-a-cursor".into()),
            ("not base64url JSON".into(), B64.encode("offset=5")),
            ("a JSON array".into(), encode(json!([1, 2]))),
            ("only an offset".into(), encode(json!({"offset": 1_000_000_000_000_000u64}))),
            ("too long".into(), "A".repeat(5000)),
        ];
        for o in &offsets {
            hostile.push((format!("offset {o}"), encode(json!({"offset": o}))));
            // The list's own cursor with its position replaced: an offset for
            // an offset cursor, another partition for a store cursor.
            let mut forged = own_json.clone();
            forged[partition_field(&own_json)] = o.clone();
            hostile.push((format!("own cursor with {o}"), encode(forged)));
        }
        if own_json.get("offset").is_none() {
            let mut other = own_json.clone();
            other[partition_field(&own_json)] = json!("ORG#01HZZZZZZZZZZZZZZZZZZZZZZZ");
            hostile.push(("own cursor for another partition".into(), encode(other)));
        }
        for (route, from, c) in &real {
            if *from != path {
                let why =
                    if *route == l.path { "a cursor of the same list, another partition" } else { "a cursor of another list" };
                hostile.push((format!("{why} ({from})"), c.clone()));
            }
        }
        for (why, c) in &hostile {
            let target = url(l, &path, &format!("cursor={}", urlencode(c)));
            assert_bad_cursor(t, &w.boss, &target, why).await;
        }
        let over = (l.max_limit + 1).to_string();
        for limit in ["0", over.as_str(), "-1", "ten", "99999999999"] {
            let target = url(l, &path, &format!("limit={limit}"));
            let a = t.get(&target, Some(&w.boss)).await;
            assert!(matches!(a.status.as_u16(), 400 | 422), "{target}: {}: {}", a.status, a.text);
            a.assert_problem(a.status.as_u16());
            assert_eq!(t.get("/health", None).await.status, StatusCode::OK);
        }
    }
    // The same lists, counted: this fails if one is dropped from the document.
    let names: BTreeMap<&str, ()> = routes.iter().map(|l| (l.path.as_str(), ())).collect();
    for must in [
        "/organisations",
        "/projects/{id}/posts",
        "/projects/{id}/pdsa",
        "/projects/{id}/measures",
        "/me/bookings",
        "/me/mentoring-requests",
        "/events/{id}/bookings",
        "/search",
    ] {
        assert!(names.contains_key(must), "{must} is not a paged list in the OpenAPI document");
    }
}

/// The field of a cursor that says where it is: an offset, or the partition
/// of the index the list is read from.
fn partition_field(cursor: &Value) -> &'static str {
    if cursor.get("offset").is_some() {
        "offset"
    } else if cursor.get("ipk").is_some() {
        "ipk"
    } else {
        "pk"
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// The search offset's ceiling is exact: a cursor at it is answered, one past
/// it (or from another search) is refused before the index sees it. Before the
/// ceiling, a large offset reached tantivy, which reserves memory for it: the
/// process aborted.
#[tokio::test]
async fn the_search_offset_has_a_ceiling_and_a_cursor_belongs_to_its_search() {
    let w = world().await;
    let t = &w.t;
    let first = ok(t.get("/search?q=falls&limit=1", None).await).await;
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let mut c: Value = serde_json::from_slice(&B64.decode(cursor).unwrap()).unwrap();
    assert_eq!(c["offset"], 1);
    c["offset"] = json!(qnet_app::search::MAX_SEARCH_OFFSET);
    let at = t.get(&format!("/search?q=falls&cursor={}", encode(c.clone())), None).await;
    assert_eq!(at.status, StatusCode::OK, "{}", at.text);
    assert_eq!(items(&at), Vec::<Value>::new());
    for offset in [json!(qnet_app::search::MAX_SEARCH_OFFSET + 1), json!(1_000_000_000_000_000u64), json!(u64::MAX)] {
        c["offset"] = offset;
        assert_bad_cursor(t, &w.boss, &format!("/search?q=falls&cursor={}", encode(c.clone())), "past the ceiling").await;
    }
    // Another search's cursor: the words, the type or the topic differ.
    for other in ["q=fall", "q=falls&type=resource", "q=falls&topic=patient-safety"] {
        assert_bad_cursor(t, &w.boss, &format!("/search?{other}&cursor={cursor}"), "another search").await;
    }
    let second = ok(t.get(&format!("/search?q=falls&limit=1&cursor={cursor}"), None).await).await;
    assert_ne!(second["items"], first["items"]);
}
