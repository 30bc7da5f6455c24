//! Digest throughput on the embedded store: 10,000 members and 200 case studies
//! published in the period; times the planner, and the composition (tera render
//! of both parts and the MIME build, no sending) of every member's message on one
//! core, beside rendering one bare tera template in the same run. Run through
//! `scripts/bench-digest`, which builds it in release mode.
//!
//!   bench_digest [members] [case studies]

use std::time::Instant;

use qnet_app::Claims;
use qnet_app::digest::{Digest, DigestJob, DigestSettings, MemoryQueue};
use qnet_domain::Role;
use qnet_domain::digest::{Cadence, DigestPrefs, Period};
use qnet_domain::member::Member;
use qnet_domain::topics::TOPICS;
use qnet_ports::{Condition, Write};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let members = args.first().copied().unwrap_or(10_000);
    let case_studies = args.get(1).copied().unwrap_or(200);
    let dir = std::env::temp_dir().join(format!("qnet-bench-digest-{}", ulid::Ulid::generate()));
    std::fs::create_dir_all(&dir).unwrap();
    let backend = qnet::backend::Backend::open_embedded(&dir, "http://127.0.0.1", std::sync::Arc::new(qnet_ports::SystemClock))
        .expect("backend");
    let app = &backend.app;

    let t = Instant::now();
    let author = Claims::new("author".into(), "author@leedsth.nhs.uk".into(), "Author".into(), vec![]);
    let moderator = Claims::new("moderator".into(), "mod@leedsth.nhs.uk".into(), "Mod".into(), vec![Role::Moderator]);
    let admin = Claims::new("admin".into(), "admin@leedsth.nhs.uk".into(), "Admin".into(), vec![Role::Admin]);
    let org = serde_json::json!({"name": "Leeds Teaching Hospitals", "type": "nhs", "email_domains": ["leedsth.nhs.uk"]});
    let org = qnet_domain::organisation::OrganisationInput::parse(&org, true).expect("a valid organisation");
    app.create_organisation(&admin, org, None).await.expect("organisation");
    for i in 0..case_studies {
        let topics = [TOPICS[i % TOPICS.len()].id, TOPICS[(i * 7 + 3) % TOPICS.len()].id];
        let body = serde_json::json!({
            "title": format!("Case study {i}: reducing delays on ward {}", i % 40),
            "body": "We ran four PDSA cycles on the morning board round and measured time to discharge. ".repeat(6),
            "topics": if topics[0] == topics[1] { vec![topics[0]] } else { topics.to_vec() },
            "sections": {"aim": "Discharge half of patients before noon", "results": "From 18% to 46% in twelve weeks."}
        });
        let created = app.create_case_study(&author, &body, None).await.expect("create");
        let id = created.view()["id"].as_str().unwrap().to_string();
        app.publish_case_study(&moderator, &id, created.view()["version"].as_u64()).await.expect("publish");
    }
    let now_text = qnet_domain::timestamp(time::OffsetDateTime::now_utc());
    let mut writes = Vec::new();
    for i in 0..members {
        let digest = DigestPrefs {
            cadence: if i % 10 == 9 { Cadence::Monthly } else { Cadence::Weekly },
            topics: if i % 3 == 0 { vec![TOPICS[i % TOPICS.len()].id.to_string()] } else { vec![] },
            unsubscribed_at: None,
        };
        let m = Member {
            id: format!("member-{i:05}"),
            name: format!("Member {i}"),
            email: format!("member{i}@leedsth.nhs.uk"),
            organisation_id: None,
            job_title: None,
            topics: vec![],
            digest,
            coffee: Default::default(),
            listed: false,
            ask_me_about: vec![],
            engagement: Default::default(),
            created_at: now_text.clone(),
            updated_at: now_text.clone(),
            version: 1,
        };
        writes.push(Write::Put { item: qnet_app::members::member_item(&m), condition: Condition::None });
        if writes.len() == 100 {
            app.records.transact(std::mem::take(&mut writes)).await.expect("seed");
        }
    }
    if !writes.is_empty() {
        app.records.transact(writes).await.expect("seed");
    }
    eprintln!("seeded {members} members and {case_studies} case studies in {:.1} s", t.elapsed().as_secs_f64());

    let settings = DigestSettings::local("https://qnet.example.nhs.uk");
    let digest = Digest::new(settings);
    let now = time::OffsetDateTime::now_utc() + time::Duration::days(7);

    // The planner: every weekly member's job onto the (in-memory) queue.
    let queue = MemoryQueue::default();
    let t = Instant::now();
    let plan = digest.plan(app, now, &queue).await.expect("plan");
    let planner = t.elapsed().as_secs_f64();
    let jobs: Vec<DigestJob> = queue.take().iter().map(|b| serde_json::from_str(b).unwrap()).collect();

    // Gather each member's items (store reads), then time composition alone.
    let mut inputs = Vec::new();
    let t = Instant::now();
    for job in &jobs {
        let member = app.member_by_id(&job.member_id).await.unwrap().unwrap();
        let period = Period::parse(&job.issue_id).unwrap();
        let sections = digest.gather(app, &member, &period).await.unwrap();
        inputs.push((member, period, sections));
    }
    let gather = t.elapsed().as_secs_f64();
    let token = qnet_app::tokens::new_token();
    let mut times = Vec::with_capacity(inputs.len());
    let mut bytes = 0usize;
    let mut composed = 0usize;
    let t = Instant::now();
    for (member, period, sections) in &inputs {
        if sections.is_empty() {
            continue;
        }
        let s = Instant::now();
        let c = digest.compose(member, period, sections, Some(&token.text)).expect("compose");
        times.push(s.elapsed().as_secs_f64() * 1000.0);
        bytes += c.mail.raw.len();
        composed += 1;
    }
    let compose = t.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);

    // Baseline: one bare tera template, rendered as often in the same run.
    let mut tera = tera::Tera::new();
    tera.add_raw_template("bare", "Hello {{ name }}, you have {{ n }} new items.").unwrap();
    let mut ctx = tera::Context::new();
    ctx.insert("name", "Member 1");
    ctx.insert("n", &5);
    let rounds = composed.max(1000);
    let t = Instant::now();
    let mut sink = 0usize;
    for _ in 0..rounds {
        sink += tera.render("bare", &ctx).unwrap().len();
    }
    let bare = t.elapsed().as_secs_f64();
    std::hint::black_box(sink);

    let items: usize = inputs.iter().map(|(_, _, s)| s.iter().map(|(_, i)| i.len()).sum::<usize>()).sum();
    println!("issues {:?}: {} jobs planned", plan.issues, plan.due);
    println!("planner (10,000-member scale)        {:>10.3} s  (target < 2 s)", planner);
    println!("gather items, all members              {:>10.3} s", gather);
    println!(
        "compose (render + MIME), one core   {:>10.0} msgs/s  mean {:.3} ms  p99 {:.3} ms  ({} messages, {:.1} items and {} bytes each on average; target >= 2000/s)",
        composed as f64 / compose,
        times.iter().sum::<f64>() / times.len().max(1) as f64,
        percentile(&times, 0.99),
        composed,
        items as f64 / inputs.len().max(1) as f64,
        bytes / composed.max(1)
    );
    println!(
        "bare tera render, same run           {:>10.0} renders/s  ({:.4} ms each)",
        rounds as f64 / bare,
        bare * 1000.0 / rounds as f64
    );
    println!("compose costs {:.1} bare renders per message", (compose / composed.max(1) as f64) / (bare / rounds as f64));
    let _ = std::fs::remove_dir_all(&dir);
}
