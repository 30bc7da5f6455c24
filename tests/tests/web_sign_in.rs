//! Local sign-in for the web app and the roles admins grant (issue 16).

use qnet_domain::Role;
use qnet_tests::{TestApp, read, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn sign_in(t: &TestApp, email: &str, role: &str) -> qnet_tests::Answer {
    t.post("/_local/sign-in", None, json!({"email": email, "role": role})).await
}

async fn token(t: &TestApp, email: &str, role: &str) -> String {
    let a = sign_in(t, email, role).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(a.body["expires_at"].as_u64().is_some());
    a.body["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_first_admin_starts_then_only_listed_domains_sign_in() {
    let t = spawn_app().await;
    // No organisation yet: anyone may sign in, so the first admin can start.
    let admin = token(&t, "first.admin@leedsth.nhs.uk", "admin").await;
    let org = json!({"name": "Leeds Teaching Hospitals", "type": "nhs", "email_domains": ["leedsth.nhs.uk"]});
    assert_eq!(t.post("/organisations", Some(&admin), org).await.status, StatusCode::CREATED);
    // Now the pre-sign-up rule: an unlisted domain is refused, naming the field.
    let refused = sign_in(&t, "stranger@example.com", "member").await;
    refused.assert_problem(403);
    assert_eq!(refused.problem_fields(), vec!["email"]);
    let jo = token(&t, "jo.bloggs@leedsth.nhs.uk", "member").await;
    let me = t.get("/me", Some(&jo)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.body["email"], "jo.bloggs@leedsth.nhs.uk");
    // Bad input is named and changes nothing.
    assert_eq!(sign_in(&t, "not an address", "member").await.problem_fields(), vec!["email"]);
    assert_eq!(sign_in(&t, "jo.bloggs@leedsth.nhs.uk", "emperor").await.problem_fields(), vec!["role"]);
    let garbage = t.send(Method::POST, "/_local/sign-in", None, None, &[("content-type", "text/plain")]).await;
    garbage.assert_problem(400);
}

#[tokio::test]
async fn sign_in_exists_only_in_the_local_runner() {
    let t = spawn_app().await;
    let bare = t.bare_api().await;
    let a =
        read(t.client.post(format!("{bare}/_local/sign-in")).json(&json!({"email": "a@b.nhs.uk"})).send().await.unwrap()).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "the Lambda router has no local sign-in: {}", a.text);
}

#[tokio::test]
async fn admins_grant_and_revoke_roles_that_count_at_once() {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let admin = t.token("admin@qnet.test", &[Role::Admin]).await;
    let sam = token(&t, "sam@leedsth.nhs.uk", "member").await;
    t.get("/moderation/case-studies", Some(&sam)).await.assert_problem(403);

    // Only admins touch roles.
    let grant = json!({"email": "Sam@LeedsTH.nhs.uk", "role": "moderator"});
    t.send(Method::PUT, "/admin/roles", None, Some(grant.clone()), &[]).await.assert_problem(401);
    t.send(Method::PUT, "/admin/roles", Some(&sam), Some(grant.clone()), &[]).await.assert_problem(403);
    t.get("/admin/roles", Some(&sam)).await.assert_problem(403);
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    t.get("/admin/roles", Some(&moderator)).await.assert_problem(403);
    let bad = t.send(Method::PUT, "/admin/roles", Some(&admin), Some(json!({"email": "x", "role": "member"})), &[]).await;
    bad.assert_problem(422);
    assert_eq!(bad.problem_fields(), vec!["email", "role"]);

    // Granted: the same token now moderates; granting twice changes nothing.
    let g = t.send(Method::PUT, "/admin/roles", Some(&admin), Some(grant.clone()), &[]).await;
    assert_eq!(g.status, StatusCode::OK, "{}", g.text);
    assert_eq!((g.body["email"].as_str(), g.body["role"].as_str()), (Some("sam@leedsth.nhs.uk"), Some("moderator")));
    let again = t.send(Method::PUT, "/admin/roles", Some(&admin), Some(grant), &[]).await;
    assert_eq!(again.body["granted_at"], g.body["granted_at"]);
    assert_eq!(t.get("/moderation/case-studies", Some(&sam)).await.status, StatusCode::OK);
    let list = t.get("/admin/roles?limit=10", Some(&admin)).await;
    let items: Vec<Value> = list.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", list.text);

    // A new sign-in carries it too.
    let fresh = token(&t, "sam@leedsth.nhs.uk", "member").await;
    assert_eq!(t.get("/moderation/case-studies", Some(&fresh)).await.status, StatusCode::OK);

    // Revoked: refused at once, with the token that had it.
    let path = "/admin/roles?email=sam%40leedsth.nhs.uk&role=moderator";
    assert_eq!(t.send(Method::DELETE, path, Some(&admin), None, &[]).await.status, StatusCode::NO_CONTENT);
    t.get("/moderation/case-studies", Some(&sam)).await.assert_problem(403);
    t.send(Method::DELETE, path, Some(&admin), None, &[]).await.assert_problem(404);
    t.send(Method::DELETE, "/admin/roles?email=admin%40qnet.test&role=admin", Some(&admin), None, &[]).await.assert_problem(409);
    assert!(t.get("/admin/roles", Some(&admin)).await.body["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn browsers_may_call_the_api_from_the_web_origin_only() {
    let t = spawn_app().await;
    let preflight = |origin: &'static str| {
        t.client
            .request(Method::OPTIONS, format!("{}/case-studies/01ABC", t.base))
            .header("origin", origin)
            .header("access-control-request-method", "PATCH")
            .header("access-control-request-headers", "authorization, content-type, if-match")
            .send()
    };
    let ok = preflight("http://127.0.0.1:8081").await.unwrap();
    assert_eq!(ok.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("http://127.0.0.1:8081"));
    let methods = ok.headers().get("access-control-allow-methods").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(methods.contains("PATCH") && methods.contains("PUT") && methods.contains("DELETE"), "{methods}");
    let other = preflight("http://evil.example").await.unwrap();
    // Only the web origin is ever named, so a browser on another site is refused.
    let named = other.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok());
    assert!(named.is_none_or(|o| o == "http://127.0.0.1:8081"), "{named:?}");
    let get = t.client.get(format!("{}/health", t.base)).header("origin", "http://127.0.0.1:8081").send().await.unwrap();
    let exposed = get.headers().get("access-control-expose-headers").and_then(|v| v.to_str().ok()).unwrap_or("").to_lowercase();
    assert!(exposed.contains("etag") && exposed.contains("retry-after"), "{exposed}");
}

#[tokio::test]
async fn pages_behind_email_links_wear_the_web_apps_stylesheet() {
    let t = spawn_app().await;
    for path in ["/unsubscribe/not-a-token", "/email-confirmations/not-a-token", "/mentoring/offers/nope", "/visit-requests/nope"]
    {
        let a = t.get(path, None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(a.header("content-type").unwrap().starts_with("text/html"));
        // The web app's own stylesheet, from its configured origin; no scripts.
        assert!(a.text.contains(r#"<link rel="stylesheet" href="http://127.0.0.1:8081/qnet.css">"#), "{path}: {}", a.text);
        assert!(a.text.contains(r#"class="nhsuk-header""#) && !a.text.contains("<script"), "{path}");
        assert_eq!(a.text.matches("<h1>").count(), 1, "{path}: one h1");
    }
}
