//! Quality of "similar work" (issue 22): the judged test collection in
//! `tests/fixtures/similar/` (80 case studies and projects, 32 query projects
//! with the items a person would want to see, judged before any ranking
//! existed) through `SearchIndex::similar`; prints precision of the top 3 per
//! query and overall against the target (0.8). `scripts/bench-similar` runs it.

use std::collections::HashSet;
use std::path::PathBuf;

use qnet_search::{SearchDoc, SearchIndex, SimilarQuery, Weights};
use serde::Deserialize;

#[derive(Deserialize)]
struct Item {
    id: String,
    kind: String,
    title: String,
    aim: String,
    summary: String,
    topics: Vec<String>,
}

#[derive(Deserialize)]
struct Judged {
    id: String,
    title: String,
    aim: String,
    topics: Vec<String>,
    relevant: Vec<String>,
}

const TARGET: f64 = 0.8;

fn main() {
    let dir = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("tests/fixtures/similar"));
    let corpus: Vec<Item> =
        serde_json::from_slice(&std::fs::read(dir.join("corpus.json")).expect("corpus.json")).expect("corpus");
    let queries: Vec<Judged> =
        serde_json::from_slice(&std::fs::read(dir.join("queries.json")).expect("queries.json")).expect("queries");
    let tmp = std::env::temp_dir().join(format!("qnet-bench-similar-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let ix = SearchIndex::open_dir(&tmp).expect("index");
    let docs: Vec<SearchDoc> = corpus
        .iter()
        .map(|i| SearchDoc {
            id: i.id.clone(),
            kind: i.kind.clone(),
            title: i.title.clone(),
            body: format!("{}\n{}", i.aim, i.summary),
            topics: i.topics.clone(),
        })
        .collect();
    ix.upsert(&docs).expect("build");
    let title_of = |id: &str| corpus.iter().find(|i| i.id == id).map(|i| i.title.as_str()).unwrap_or("?");
    let run = |qs: &[Judged], w: Weights, verbose: bool| -> f64 {
        let mut sum = 0.0;
        for q in qs {
            let hits = ix
                .similar(&SimilarQuery {
                    title: q.title.clone(),
                    text: q.aim.clone(),
                    topics: q.topics.clone(),
                    kinds: vec!["case_study".into(), "project".into()],
                    exclude_id: None,
                    limit: 3,
                    weights: w,
                })
                .expect("query");
            let relevant: HashSet<&str> = q.relevant.iter().map(String::as_str).collect();
            let good = hits.iter().filter(|h| relevant.contains(h.id.as_str())).count();
            sum += good as f64 / 3.0;
            if verbose {
                let shown: Vec<String> = hits
                    .iter()
                    .map(|h| if relevant.contains(h.id.as_str()) { h.id.clone() } else { format!("x{}", h.id) })
                    .collect();
                println!("{:<4} {:>4.2}  {}", q.id, good as f64 / 3.0, shown.join(" "));
                for h in hits.iter().filter(|h| !relevant.contains(h.id.as_str())) {
                    println!("       {} \"{}\" for \"{}\"", h.id, title_of(&h.id), q.title);
                }
            }
        }
        sum / qs.len() as f64
    };
    let defaults = Weights::default();
    let (tune, held_out) = queries.split_at(queries.len() / 2);
    if std::env::var_os("BENCH_SIMILAR_TUNE").is_some() {
        // Weights are chosen on the first half of the queries only; the second
        // half is never looked at while choosing, so its number is honest.
        println!("tuning on {} queries ({}..{})", tune.len(), tune[0].id, tune[tune.len() - 1].id);
        for title in [1.0f32, 2.0, 3.0] {
            for topic in [0.0f32, 0.8, 1.5, 2.5, 4.0] {
                for draft_title in [1.0f32, 1.5, 2.5] {
                    let w = Weights { title, topic, draft_title };
                    println!("  title {title:.1} topic {topic:.1} draft title {draft_title:.1}: {:.3}", run(tune, w, false));
                }
            }
        }
    }
    println!("{:<4} {:>4}  top 3 (x = not judged relevant)", "q", "P@3");
    let all = run(&queries, defaults, true);
    let t = run(tune, defaults, false);
    let h = run(held_out, defaults, false);
    println!("weights: title {:.1}, topic {:.1}, draft title {:.1}", defaults.title, defaults.topic, defaults.draft_title);
    println!("precision@3, tuning half ({} queries): {t:.3}", tune.len());
    println!("precision@3, held-out half ({} queries): {h:.3}", held_out.len());
    println!(
        "precision@3 over all {} queries: {all:.3} (target {TARGET}): {}",
        queries.len(),
        if all >= TARGET { "met" } else { "missed" }
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
