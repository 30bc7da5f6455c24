//! Seeds a data directory for `scripts/bench-insights` through the app layer
//! (the same use cases the API calls, so every tally is written as in use):
//! 40 organisations of every type, N projects (default 10,000) spread over
//! them with statuses, classifications, topics and progress scores, and 200
//! published case studies, each with a question and half with an answer.
//!
//!   seed_insights DATA_DIR [N]

use qnet_app::Claims;
use qnet_domain::Role;
use qnet_domain::organisation::OrganisationInput;
use qnet_domain::project::NewProject;
use qnet_domain::topics::TOPICS;

const TYPES: [&str; 5] = ["nhs", "local_authority", "voluntary", "education", "other"];
const STATUSES: [&str; 5] = ["idea", "active", "sustaining", "completed", "stopped"];
const CLASSES: [&str; 4] = ["quality_improvement", "audit", "service_evaluation", "research"];

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("DATA_DIR"));
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let backend = qnet::backend::Backend::open_embedded(&dir, "http://127.0.0.1", std::sync::Arc::new(qnet_ports::SystemClock))
        .expect("backend");
    let app = qnet_app::App::new(backend.app.records.clone(), backend.app.blobs.clone(), backend.app.clock().clone());
    let admin = Claims::new("admin".into(), "admin@org0.example.org".into(), "Admin".into(), vec![Role::Admin]);
    let moderator = Claims::new("moderator".into(), "mod@org0.example.org".into(), "Mod".into(), vec![Role::Moderator]);
    let mut orgs = Vec::new();
    for i in 0..40 {
        let input = serde_json::json!({"name": format!("Organisation {i:02}"), "type": TYPES[i % TYPES.len()],
            "email_domains": [format!("org{i}.example.org")]});
        let input = OrganisationInput::parse(&input, true).expect("a valid organisation");
        let created = app.create_organisation(&admin, input, None).await.expect("organisation");
        orgs.push(created.view()["id"].as_str().expect("an id").to_string());
    }
    let members: Vec<Claims> = (0..40)
        .map(|i| Claims::new(format!("member{i}"), format!("member{i}@org{i}.example.org"), format!("Member {i}"), vec![]))
        .collect();
    let today = app.today();
    for i in 0..n {
        let body = serde_json::json!({
            "title": format!("Improvement project {i}"),
            "aim": "Reduce avoidable harm on the wards by a half within a year",
            "organisation_ids": [orgs[i % orgs.len()], orgs[(i * 7 + 3) % orgs.len()]],
            "team": [],
            "topics": [TOPICS[i % TOPICS.len()].id, TOPICS[(i / 3) % TOPICS.len()].id],
            "status": STATUSES[i % STATUSES.len()],
            "classification": CLASSES[i % CLASSES.len()],
            "progress_score": ((i % 10) + 1) as f64 / 2.0,
        });
        let input = NewProject::parse(&body, today).expect("a valid project");
        app.create_project(&members[i % members.len()], input, None).await.expect("project");
        if (i + 1) % 1000 == 0 {
            eprintln!("seed_insights: {} projects", i + 1);
        }
    }
    for i in 0..200 {
        let author = &members[i % members.len()];
        let body = serde_json::json!({"title": format!("Case study {i}"), "body": "Hourly rounding over six PDSA cycles.",
            "topics": [TOPICS[i % TOPICS.len()].id]});
        let created = app.create_case_study(author, &body, None).await.expect("case study");
        let id = created.view()["id"].as_str().expect("an id").to_string();
        app.publish_case_study(&moderator, &id, created.view()["version"].as_u64()).await.expect("publish");
        let asker = &members[(i + 1) % members.len()];
        let q = app
            .ask_question(
                asker,
                qnet_domain::question::TargetKind::CaseStudy,
                &id,
                &serde_json::json!({"body": "How long did it take?"}),
                None,
            )
            .await
            .expect("question");
        if i % 2 == 0 {
            let qid = q.view()["id"].as_str().expect("an id").to_string();
            app.answer_question(author, &qid, &serde_json::json!({"body": "About six weeks."}), None).await.expect("answer");
        }
    }
    eprintln!("seed_insights: {n} projects, 200 case studies, 200 questions, 100 answers");
}
