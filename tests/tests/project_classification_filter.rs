//! `GET /projects?classification=`: the register filtered by what kind of work
//! a project is (issue 18), alone and with another filter; a word that is not a
//! classification is refused naming the field.

use qnet_tests::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_register_filters_by_classification() {
    let t = spawn_app().await;
    let org = t.organisation("Leeds Teaching Hospitals", &["leedsth.nhs.uk"]).await;
    let ann = t.token("ann@leedsth.nhs.uk", &[]).await;
    assert_eq!(t.get("/me", Some(&ann)).await.status, StatusCode::OK);
    for (title, classification, status) in [
        ("Falls audit", "audit", "active"),
        ("Discharge QI", "quality_improvement", "active"),
        ("Sepsis trial", "research", "idea"),
    ] {
        let a = t
            .post("/projects", Some(&ann), json!({"title": title, "aim": "Better by June.", "organisation_ids": [org], "classification": classification, "status": status}))
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    }
    let titles = |body: &serde_json::Value| {
        body["items"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let a = t.get("/projects?classification=audit", Some(&ann)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(titles(&a.body), ["Falls audit"]);
    assert_eq!(titles(&t.get("/projects?classification=research", Some(&ann)).await.body), ["Sepsis trial"]);
    assert_eq!(titles(&t.get("/projects?classification=research&status=active", Some(&ann)).await.body), Vec::<String>::new());
    assert_eq!(titles(&t.get("/projects", Some(&ann)).await.body).len(), 3);
    let bad = t.get("/projects?classification=survey", Some(&ann)).await;
    bad.assert_problem(422);
    assert_eq!(bad.problem_fields(), ["classification"]);
}
