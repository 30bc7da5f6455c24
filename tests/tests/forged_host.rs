//! Links Qnet writes come from configured origins only (issue 14, item 2).
//!
//! Every flow that sends an email or answers a URL is driven against the bare
//! API router (as Lambda runs it, with no Host check in front) with a forged
//! `Host`, `X-Forwarded-Host` and `Forwarded`: no answer and no outbox message
//! may carry the forged name. Then `qnet serve`'s own check refuses such
//! requests outright, on the API and on the web listener.

use qnet_domain::Role;
use qnet_tests::{Answer, TestApp, read, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const EVIL: &str = "evil.example";

/// A request to `base` with every header a proxy or attacker could use to
/// name another host.
async fn forged(t: &TestApp, base: &str, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
    let mut r = t
        .client
        .request(method, format!("{base}{path}"))
        .header("host", format!("{EVIL}:8080"))
        .header("x-forwarded-host", EVIL)
        .header("x-forwarded-proto", "https")
        .header("forwarded", format!("host={EVIL};proto=https"));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let a = read(r.send().await.expect("the server answers")).await;
    let headers = format!("{:?}", a.headers);
    assert!(!a.text.contains(EVIL) && !headers.contains(EVIL), "{path} answered the forged host: {headers} {}", a.text);
    a
}

fn in_days(days: i64, hour: u8) -> String {
    let d = (time::OffsetDateTime::now_utc() + time::Duration::days(days)).date();
    qnet_domain::timestamp(d.with_hms(hour, 0, 0).unwrap().assume_utc())
}

fn token_after(mails: &[String], marker: &str) -> String {
    let mail = mails.iter().find(|m| m.contains(marker)).unwrap_or_else(|| panic!("no mail links {marker}"));
    let unfolded = mail.replace("=\r\n", "").replace("=\n", "");
    let start = unfolded.find(marker).unwrap() + marker.len();
    unfolded[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect()
}

#[tokio::test]
async fn no_answer_or_email_carries_a_forged_host() {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let api = t.bare_api().await;
    let (get, post, put) = (Method::GET, Method::POST, Method::PUT);
    let ann = t.token("ann@leedsth.nhs.uk", &[]).await;
    let host = t.token("host@leedsth.nhs.uk", &[Role::Organiser]).await;
    let mentor = t.token("meg@leedsth.nhs.uk", &[]).await;
    for tok in [&ann, &host, &mentor] {
        assert_eq!(forged(&t, &api, get.clone(), "/me", Some(tok), None).await.status, StatusCode::OK);
    }

    // A private calendar feed URL.
    let feed = forged(&t, &api, post.clone(), "/me/calendar-feed", Some(&ann), None).await;
    assert!(feed.status.is_success(), "{}", feed.text);
    assert!(feed.text.contains(&t.base), "the feed URL is on the configured API origin: {}", feed.text);

    // An address confirmation email (for an address a bounce suppressed).
    use qnet_app::suppression::{SesNotice, SesNoticeKind};
    let sue = t.token("sue@leedsth.nhs.uk", &[]).await;
    forged(&t, &api, get.clone(), "/me", Some(&sue), None).await;
    let bounce = SesNotice { kind: SesNoticeKind::HardBounce, email: "sue@leedsth.nhs.uk".into(), detail: None };
    t.app.apply_ses_notices(&[bounce]).await.unwrap();
    let confirm = forged(&t, &api, post.clone(), "/me/email/confirm", Some(&sue), None).await;
    assert_eq!(confirm.status, StatusCode::ACCEPTED, "{}", confirm.text);

    // A go-and-see visit: the host's email links to the request page.
    let visit = json!({"kind": "go_and_see", "title": "Ward 7 safety huddle", "description": "See the huddle.",
        "starts_at": in_days(20, 9), "ends_at": in_days(20, 10), "location": "Ward 7, St James's", "capacity": 2,
        "host_organisation_id": org, "what_you_will_see": "The 08:30 huddle.", "host": "Ward 7 sister"});
    let created = forged(&t, &api, post.clone(), "/events", Some(&host), Some(visit)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let event = created.body["id"].as_str().unwrap().to_string();
    let booked = forged(&t, &api, post.clone(), &format!("/events/{event}/bookings"), Some(&ann), None).await;
    assert_eq!(booked.body["status"], "requested", "{}", booked.text);
    let visit_token = token_after(&t.outbox_texts(), "/visit-requests/");
    forged(&t, &api, get.clone(), &format!("/visit-requests/{visit_token}"), None, None).await;
    let accepted = forged(&t, &api, post.clone(), &format!("/visit-requests/{visit_token}/accept"), None, None).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);

    // Mentoring: the mentor's offer email, the offer page, and the introduction.
    let profile = json!({"offers": ["mentoring"], "topics": ["flow"], "capacity": 2, "accepting": true,
        "availability": {"modes": ["online"]}, "bio": "Twenty years in QI."});
    let p = forged(&t, &api, put, "/me/mentor", Some(&mentor), Some(profile)).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    let ask = json!({"kind": "mentoring", "topics": ["flow"], "goals": "Process mapping for discharge.",
        "cross_organisation": "no_preference", "availability": {"modes": ["online"]}});
    let asked = forged(&t, &api, post.clone(), "/mentoring-requests", Some(&ann), Some(ask)).await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.text);
    let offer = token_after(&t.outbox_texts(), "/mentoring/offers/");
    forged(&t, &api, get.clone(), &format!("/mentoring/offers/{offer}"), None, None).await;
    let yes = forged(&t, &api, post.clone(), &format!("/mentoring/offers/{offer}/accept"), None, None).await;
    assert_eq!(yes.status, StatusCode::OK, "{}", yes.text);

    // A case study and its attachment's upload URL; the digest preview.
    let cs = json!({"title": "Fewer falls on ward 5", "body": "Six PDSA cycles of hourly rounding.", "topics": ["pdsa"]});
    let cs = forged(&t, &api, post.clone(), "/case-studies", Some(&ann), Some(cs)).await;
    assert_eq!(cs.status, StatusCode::CREATED, "{}", cs.text);
    let id = cs.body["id"].as_str().unwrap();
    let bytes = b"%PDF-1.4 run chart".to_vec();
    let file = json!({"filename": "chart.pdf", "content_type": "application/pdf", "size": bytes.len(),
        "sha256": hex::encode(Sha256::digest(&bytes))});
    let up = forged(&t, &api, post.clone(), &format!("/case-studies/{id}/attachments"), Some(&ann), Some(file)).await;
    assert!(up.status.is_success(), "{}", up.text);
    forged(&t, &api, get.clone(), "/me/digest/preview", Some(&ann), None).await;

    // A linked resource's download redirect.
    let link = json!({"kind": "link", "title": "IHI run chart tool", "description": "A guide to run charts.",
        "url": "https://www.ihi.org/run-chart", "topics": ["measurement"]});
    let r = forged(&t, &api, post, "/resources", Some(&ann), Some(link)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let mails = t.outbox_texts();
    assert!(mails.len() >= 5, "the flows sent their emails: {}", mails.len());
    for m in &mails {
        assert!(!m.contains(EVIL), "an email carries the forged host:\n{m}");
    }
    assert!(mails.iter().any(|m| m.contains(&format!("{}/visit-requests/", t.base))), "links use the configured origin");
}

#[tokio::test]
async fn qnet_serve_refuses_requests_addressed_to_another_host() {
    let t = spawn_app().await;
    let ann = t.token("ann@qnet.test", &[]).await;
    for path in ["/health", "/_local/outbox", "/me"] {
        let a = forged(&t, &t.base, Method::GET, path, Some(&ann), None).await;
        a.assert_problem(400);
        assert_eq!(a.body["type"], "/problems/unknown-host");
    }
    // A rebinding page writes nothing either.
    let before = t.get("/me/case-studies", Some(&ann)).await.body["items"].as_array().map(Vec::len);
    let body = json!({"title": "Rebound", "body": "Sent by another site.", "topics": ["pdsa"]});
    forged(&t, &t.base, Method::POST, "/case-studies", Some(&ann), Some(body)).await.assert_problem(400);
    assert_eq!(t.get("/me/case-studies", Some(&ann)).await.body["items"].as_array().map(Vec::len), before);
    // Loopback names and the configured origin are answered.
    for host in ["localhost", "127.0.0.1:8080", "[::1]:8080"] {
        let a = read(t.client.get(format!("{}/health", t.base)).header("host", host).send().await.unwrap()).await;
        assert_eq!(a.status, StatusCode::OK, "{host}: {}", a.text);
    }
}

#[tokio::test]
async fn the_web_listener_serves_the_app_on_every_path_to_its_own_host_only() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let allowed = qnet::hosts::AllowedHosts::new(["http://127.0.0.1:8080", base.as_str()]);
    tokio::spawn(async move {
        axum::serve(listener, qnet::web::router(dir.path(), allowed, qnet::web::local_config("http://127.0.0.1:8080")))
            .await
            .unwrap()
    });
    let client = reqwest::Client::new();
    let get = |path: &str, host: Option<&str>| {
        let mut r = client.get(format!("{base}{path}"));
        if let Some(h) = host {
            r = r.header("host", h);
        }
        r.send()
    };
    // Not built yet: a page says how to build it.
    let a = read(get("/case-studies/01ABC", None).await.unwrap()).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(a.text.contains("npm --prefix web ci"), "{}", a.text);
    // Built: files are files, and every app path answers index.html.
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!doctype html><title>Qnet</title>").unwrap();
    std::fs::create_dir(dist.path().join("assets")).unwrap();
    std::fs::write(dist.path().join("assets/app.js"), "console.log('qnet');\n".repeat(200)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let allowed = qnet::hosts::AllowedHosts::new([base.as_str()]);
    let root = dist.path().to_path_buf();
    tokio::spawn(async move {
        axum::serve(listener, qnet::web::router(&root, allowed, qnet::web::local_config("http://127.0.0.1:8080"))).await.unwrap()
    });
    for path in ["/", "/case-studies/01ABC", "/settings/digest", "/events/01XYZ"] {
        let a = read(client.get(format!("{base}{path}")).send().await.unwrap()).await;
        assert_eq!((a.status, a.text.contains("<title>Qnet</title>")), (StatusCode::OK, true), "{path}");
    }
    // One set of security headers, the file CloudFront's policy is checked against.
    let page = client.get(format!("{base}/settings/digest")).send().await.unwrap();
    let csp = page.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(csp.contains("script-src 'self';") && !csp.contains("unsafe-inline") && !csp.contains('{'), "{csp}");
    assert!(csp.contains("connect-src 'self' http://127.0.0.1:8080") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers().get("referrer-policy").and_then(|v| v.to_str().ok()), Some("no-referrer"));
    assert!(page.headers().get("strict-transport-security").is_some());
    let config = read(client.get(format!("{base}/config.json")).send().await.unwrap()).await;
    assert_eq!(config.body, json!({"apiBaseUrl": "http://127.0.0.1:8080", "signIn": "local"}));
    let gz = client.get(format!("{base}/assets/app.js")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(gz.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("gzip"), "compressed like CloudFront");
    let js = read(client.get(format!("{base}/assets/app.js")).send().await.unwrap()).await;
    assert!(js.text.contains("console.log"));
    let evil = read(client.get(format!("{base}/")).header("host", EVIL).send().await.unwrap()).await;
    assert_eq!(evil.status, StatusCode::BAD_REQUEST);
}
