//! Issue 22, sharing successes outward, through HTTP on the embedded store:
//! highlights (moderators choose them; they lead the list and open the
//! digest), public Atom feeds (read back by a feed parser; pending work never
//! appears) and the share page a link preview crawler reads.

use qnet_domain::Role;
use qnet_tests::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

struct World {
    t: TestApp,
    author: String,
    moderator: String,
    published: String,
    pending: String,
}

async fn world() -> World {
    let t = spawn_app().await;
    t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let author = t.token("jo.author@leedsth.nhs.uk", &[]).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let cs = t
        .submit(
            &author,
            json!({"title": "Fewer falls on ward 5", "summary": "Hourly rounding halved falls.", "topics": ["patient-safety"],
                   "body": "Six PDSA cycles.", "sections": {"contact": "Jo Author, jo.author@leedsth.nhs.uk, 0113 555 0100"}}),
        )
        .await;
    let published = cs["id"].as_str().unwrap().to_string();
    assert_eq!(t.publish(&published).await.status, StatusCode::OK);
    let pending =
        t.submit(&author, json!({"title": "A draft about discharge", "body": "Not yet.", "topics": ["patient-safety"]})).await;
    World { t, author, moderator, published, pending: pending["id"].as_str().unwrap().to_string() }
}

#[tokio::test]
async fn feeds_are_atom_with_published_work_only_all_and_per_topic() {
    let w = world().await;
    let t = &w.t;
    for (path, entries) in [
        ("/feeds/case-studies.atom", 1),
        ("/feeds/topics/patient-safety/case-studies.atom", 1),
        ("/feeds/topics/flow/case-studies.atom", 0),
    ] {
        let r = t.client.get(format!("{}{path}", t.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/atom+xml"));
        let body = r.bytes().await.unwrap();
        let feed = feed_rs::parser::parse(&body[..]).unwrap_or_else(|e| panic!("{path} is not a feed: {e}"));
        assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
        assert_eq!(feed.entries.len(), entries, "{path}");
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("A draft about discharge"), "pending work never appears: {path}");
        assert!(!text.contains("jo.author@"), "no contact details in a feed");
        if entries == 1 {
            let e = &feed.entries[0];
            assert_eq!(e.title.as_ref().unwrap().content, "Fewer falls on ward 5");
            assert!(e.links[0].href.ends_with(&format!("/case-studies/{}", w.published)));
            assert_eq!(e.authors[0].name, "Leeds Teaching Hospitals", "the organisation, not a person");
            assert!(e.published.is_some());
        }
    }
    t.get("/feeds/topics/no-such-topic/case-studies.atom", None).await.assert_problem(404);
    // The document lists the feeds.
    let doc = t.get("/openapi.json", None).await.body;
    assert!(doc["paths"]["/feeds/case-studies.atom"]["get"]["responses"]["200"]["content"]["application/atom+xml"].is_object());
}

#[tokio::test]
async fn a_link_preview_crawler_reads_title_summary_and_organisation_and_nothing_private() {
    let w = world().await;
    let t = &w.t;
    for agent in [
        "facebookexternalhit/1.1",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "LinkedInBot/1.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Teams/1.6",
    ] {
        let r = t
            .client
            .get(format!("{}/share/case-studies/{}", t.base, w.published))
            .header("user-agent", agent)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{agent}");
        let html = r.text().await.unwrap();
        assert!(html.contains(r#"<meta property="og:title" content="Fewer falls on ward 5">"#), "{html}");
        assert!(
            html.contains(
                r#"<meta property="og:description" content="Hourly rounding halved falls. From Leeds Teaching Hospitals.">"#
            ),
            "{html}"
        );
        assert!(html.contains(r#"<meta name="twitter:card" content="summary">"#));
        let web = t.app.web_base_url.trim_end_matches('/');
        assert!(html.contains(&format!(r#"<meta property="og:url" content="{web}/case-studies/{}">"#, w.published)), "{html}");
        assert!(html.contains(&format!(r#"<meta http-equiv="refresh" content="0; url={web}/case-studies/{}">"#, w.published)));
        assert!(
            !html.contains("jo.author") && !html.contains("0113") && !html.contains("Jo Author"),
            "no names or contact details"
        );
        assert!(!html.contains("<script"), "crawlers run no JavaScript; the page needs none");
    }
    // Pending, unknown: a clear page, not the work.
    for id in [w.pending.as_str(), "01JZZZZZZZZZZZZZZZZZZZZZZZ"] {
        let r = t.client.get(format!("{}/share/case-studies/{id}", t.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let html = r.text().await.unwrap();
        assert!(html.contains("This case study cannot be shared") && !html.contains("A draft about discharge"));
    }
}

#[tokio::test]
async fn moderators_choose_highlights_which_lead_the_list_and_open_the_digest() {
    let w = world().await;
    let t = &w.t;
    let path = format!("/case-studies/{}/highlight", w.published);
    assert_eq!(t.get("/case-studies/highlights", None).await.body["items"], json!([]));
    t.send(Method::PUT, &path, Some(&w.author), None, &[]).await.assert_problem(403);
    t.send(Method::PUT, &path, None, None, &[]).await.assert_problem(401);
    t.send(Method::PUT, &format!("/case-studies/{}/highlight", w.pending), Some(&w.moderator), None, &[])
        .await
        .assert_problem(409);
    assert_eq!(t.send(Method::PUT, &path, Some(&w.moderator), None, &[]).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        t.send(Method::PUT, &path, Some(&w.moderator), None, &[]).await.status,
        StatusCode::NO_CONTENT,
        "again: no change"
    );
    let list = t.get("/case-studies/highlights", None).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["items"][0]["title"], json!("Fewer falls on ward 5"));
    // A bad limit is refused as on every list.
    let usual = t.get("/case-studies?limit=0", None).await.status;
    assert!(usual.is_client_error());
    assert_eq!(t.get("/case-studies/highlights?limit=0", None).await.status, usual);
    assert_eq!(
        t.get("/case-studies/highlights?limit=many", None).await.status,
        t.get("/case-studies?limit=many", None).await.status
    );

    // The digest opens with it, for a member whatever their topics.
    let reader = t.token("reader@leedsth.nhs.uk", &[]).await;
    let me = t.get("/me", Some(&reader)).await.body;
    let v = me["version"].as_u64().unwrap();
    assert_eq!(t.patch("/me", &reader, v, json!({"digest": {"topics": ["flow"]}})).await.status, StatusCode::OK);
    let preview = t.get("/me/digest/preview", Some(&reader)).await;
    assert_eq!(preview.status, StatusCode::OK);
    let first_heading = preview.text.find("Highlights").expect("a Highlights section");
    if let Some(next) = preview.text.find("New case studies") {
        assert!(first_heading < next, "highlights open the digest");
    }

    // Unpublished or unhighlighted, it leaves the list.
    assert_eq!(t.send(Method::DELETE, &path, Some(&w.moderator), None, &[]).await.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get("/case-studies/highlights", None).await.body["items"], json!([]));
    t.send(Method::DELETE, &path, Some(&w.moderator), None, &[]).await.assert_problem(404);
}
