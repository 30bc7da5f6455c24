//! Whatever can be posted can be taken down (issue 15): a board post or reply,
//! a PDSA cycle, an annotation and a measure's point, by their author, the
//! project's team or a moderator. The text leaves the store; anyone else gets
//! 403 and nothing changes.

use qnet_domain::Role;
use qnet_ports::{Index, Query};
use qnet_tests::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

const TEXT: &str = "Huddle at 08:15 on ward 6";

/// Every item of a project's and a measure's partitions, as text.
async fn stored(t: &TestApp, pid: &str, mid: &str) -> String {
    let mut out = String::new();
    for partition in [qnet_app::keys::project_partition(pid), qnet_app::keys::measure_partition(mid)] {
        let page = t.app.records.query(Query::new(Index::Primary, partition)).await.unwrap();
        for item in page.items {
            out.push_str(&item.data.to_string());
        }
    }
    out
}

#[tokio::test]
async fn authors_team_and_moderators_take_down_what_was_posted_and_others_cannot() {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let ann = t.token("ann@leedsth.nhs.uk", &[]).await;
    let bob = t.token("bob@leedsth.nhs.uk", &[]).await;
    let bob_id = t.get("/me", Some(&bob)).await.body["id"].as_str().unwrap().to_string();
    let cat = t.token("cat@leedsth.nhs.uk", &[]).await;
    let moderator = t.token("mod@qnet.test", &[Role::Moderator]).await;
    let p = t
        .post(
            "/projects",
            Some(&ann),
            json!({"title": "Fewer falls", "aim": "Halve inpatient falls on wards 5 and 6 by March 2027",
                 "problem": "Falls rose.", "organisation_ids": [org], "team": [bob_id], "topics": [], "status": "active",
                 "started_on": "2025-01-06", "classification": "quality_improvement"}),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
    let pid = p.body["id"].as_str().unwrap().to_string();
    // Bob was invited to the team; he joins by accepting.
    let joined = t.post(&format!("/projects/{pid}/invitation/accept"), Some(&bob), serde_json::Value::Null).await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.text);
    let m = t
        .post(
            &format!("/projects/{pid}/measures"),
            Some(&ann),
            json!({"name": "Falls", "type": "outcome", "improvement_direction": "down"}),
        )
        .await;
    let mid = m.body["id"].as_str().unwrap().to_string();
    let delete = |path: String, token: String| {
        let t = &t;
        async move { t.send(Method::DELETE, &path, Some(&token), None, &[]).await.status }
    };

    // Board: Cat (a member, not on the team) posts; Ann (lead) and the moderator may take down.
    for remover in [&ann, &moderator, &cat] {
        let post = t.post(&format!("/projects/{pid}/posts"), Some(&cat), json!({"body": TEXT})).await;
        let post_id = post.body["id"].as_str().unwrap().to_string();
        let reply = t.post(&format!("/projects/{pid}/posts/{post_id}/replies"), Some(&bob), json!({"body": "Yes please"})).await;
        let reply_id = reply.body["id"].as_str().unwrap().to_string();
        // Another member may not touch Bob's reply; Bob's own reply goes.
        let other = t.token("dan@leedsth.nhs.uk", &[]).await;
        assert_eq!(
            delete(format!("/projects/{pid}/posts/{post_id}/replies/{reply_id}"), other.clone()).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(delete(format!("/projects/{pid}/posts/{post_id}"), other).await, StatusCode::FORBIDDEN);
        assert!(t.get(&format!("/projects/{pid}/posts"), Some(&ann)).await.text.contains("Yes please"));
        assert_eq!(
            delete(format!("/projects/{pid}/posts/{post_id}/replies/{reply_id}"), bob.clone()).await,
            StatusCode::NO_CONTENT
        );
        assert!(!t.get(&format!("/projects/{pid}/posts"), Some(&ann)).await.text.contains("Yes please"));
        assert_eq!(delete(format!("/projects/{pid}/posts/{post_id}"), remover.clone()).await, StatusCode::NO_CONTENT);
        let board = t.get(&format!("/projects/{pid}/posts"), Some(&ann)).await;
        assert!(!board.text.contains(TEXT), "{}", board.text);
        assert!(!stored(&t, &pid, &mid).await.contains(TEXT));
        assert_eq!(delete(format!("/projects/{pid}/posts/{post_id}"), remover.clone()).await, StatusCode::NOT_FOUND);
    }

    // PDSA cycles: Ann writes one; Cat may not delete it, Bob (team) may.
    let pdsa = t.post(&format!("/projects/{pid}/pdsa"), Some(&ann), json!({"title": "Cycle 1", "plan": TEXT})).await;
    let pdsa_id = pdsa.body["id"].as_str().unwrap().to_string();
    assert_eq!(delete(format!("/projects/{pid}/pdsa/{pdsa_id}"), cat.clone()).await, StatusCode::FORBIDDEN);
    assert!(t.get(&format!("/projects/{pid}/pdsa"), Some(&ann)).await.text.contains(TEXT));
    assert_eq!(delete(format!("/projects/{pid}/pdsa/{pdsa_id}"), bob.clone()).await, StatusCode::NO_CONTENT);
    assert!(!t.get(&format!("/projects/{pid}/pdsa"), Some(&ann)).await.text.contains(TEXT));
    assert_eq!(delete(format!("/projects/{pid}/pdsa/{pdsa_id}"), bob.clone()).await, StatusCode::NOT_FOUND);

    // Annotations and points.
    let points: Vec<_> = ["2025-01-06", "2025-01-13"].iter().map(|d| json!({"date": d, "value": 3})).collect();
    let up = t.post(&format!("/projects/{pid}/measures/{mid}/points"), Some(&ann), json!({"points": points})).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.text);
    let a = t
        .post(&format!("/projects/{pid}/measures/{mid}/annotations"), Some(&bob), json!({"date": "2025-01-06", "text": TEXT}))
        .await;
    let aid = a.body["id"].as_str().unwrap().to_string();
    assert_eq!(delete(format!("/projects/{pid}/measures/{mid}/annotations/{aid}"), cat.clone()).await, StatusCode::FORBIDDEN);
    assert!(stored(&t, &pid, &mid).await.contains(TEXT));
    assert_eq!(
        delete(format!("/projects/{pid}/measures/{mid}/annotations/{aid}"), moderator.clone()).await,
        StatusCode::NO_CONTENT
    );
    assert!(!stored(&t, &pid, &mid).await.contains(TEXT));
    assert_eq!(delete(format!("/projects/{pid}/measures/{mid}/points/2025-01-06"), cat.clone()).await, StatusCode::FORBIDDEN);
    assert_eq!(delete(format!("/projects/{pid}/measures/{mid}/points/2025-01-06"), ann.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(delete(format!("/projects/{pid}/measures/{mid}/points/2025-01-06"), ann.clone()).await, StatusCode::NOT_FOUND);
    let measure = t.get(&format!("/projects/{pid}/measures/{mid}"), Some(&ann)).await;
    assert_eq!(measure.body["point_count"], 1, "{}", measure.text);
    assert_eq!(measure.body["first_date"], "2025-01-13", "{}", measure.text);
}
