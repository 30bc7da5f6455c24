//! Seeds a data directory with N published case studies of realistic length
//! for `scripts/bench-search` (straight into the store, no index: `qnet serve`
//! builds the index when it opens the directory). Prints one published id.
//!
//!   seed_search DATA_DIR [N]

use qnet_app::Claims;
use qnet_domain::Role;
use qnet_domain::topics::TOPICS;
use qnet_search::synthetic::Words;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("DATA_DIR"));
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let backend = qnet::backend::Backend::open_embedded(&dir, "http://127.0.0.1", std::sync::Arc::new(qnet_ports::SystemClock))
        .expect("backend");
    // Seed without the index; the server builds it from the store.
    let app = qnet_app::App::new(backend.app.records.clone(), backend.app.blobs.clone(), backend.app.clock().clone());
    let admin = Claims::new("admin".into(), "admin@leedsth.nhs.uk".into(), "Admin".into(), vec![Role::Admin]);
    let author = Claims::new("author".into(), "author@leedsth.nhs.uk".into(), "Author".into(), vec![]);
    let moderator = Claims::new("moderator".into(), "mod@leedsth.nhs.uk".into(), "Mod".into(), vec![Role::Moderator]);
    let org = serde_json::json!({"name": "Leeds Teaching Hospitals", "type": "nhs", "email_domains": ["leedsth.nhs.uk"]});
    let org = qnet_domain::organisation::OrganisationInput::parse(&org, true).expect("a valid organisation");
    app.create_organisation(&admin, org, None).await.expect("organisation");
    let mut text = Words::new(7);
    let mut words = |k: usize| text.sentence(k);
    let mut last = String::new();
    for i in 0..n {
        let body = serde_json::json!({
            "title": format!("{} ({i})", words(6)),
            "body": words(350),
            "topics": [TOPICS[i % TOPICS.len()].id],
            "sections": {"aim": words(12), "results": words(20)}
        });
        let created = app.create_case_study(&author, &body, None).await.expect("create");
        last = created.view()["id"].as_str().unwrap().to_string();
        app.publish_case_study(&moderator, &last, created.view()["version"].as_u64()).await.expect("publish");
    }
    println!("{last}");
}
