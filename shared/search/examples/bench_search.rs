//! Index build time for 5,000 documents and query latency (p50/p99) for 20
//! realistic queries, in process. `scripts/bench-search` runs it in release mode.

use std::time::Instant;

use qnet_search::synthetic::{QUERIES, Words};
use qnet_search::{SearchDoc, SearchIndex, SearchQuery};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let mut words = Words::new(42);
    let docs: Vec<SearchDoc> = (0..n)
        .map(|i| SearchDoc {
            id: format!("doc{i:05}"),
            kind: ["case_study", "resource", "event"][i % 3].into(),
            title: words.sentence(6),
            body: words.sentence(400),
            topics: vec![["flow", "frailty", "patient-safety", "measurement"][i % 4].into()],
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("qnet-bench-search-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let t = Instant::now();
    let ix = SearchIndex::open_dir(&dir).expect("index");
    ix.upsert(&docs).expect("build");
    let build = t.elapsed().as_secs_f64();
    let mut times = Vec::new();
    for round in 0..25 {
        for q in QUERIES {
            let t = Instant::now();
            let h = ix.search(&SearchQuery { text: q.to_string(), limit: 20, ..Default::default() }).expect("search");
            if round == 0 {
                assert!(h.total > 0, "{q} finds something");
            }
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    let p = |x: f64| times[((times.len() - 1) as f64 * x).round() as usize];
    println!("index build, {n} documents (~400 words each): {build:.2} s (target < 10 s)");
    println!("search, 20 queries x 25 rounds in process: p50 {:.2} ms, p99 {:.2} ms", p(0.5), p(0.99));
    let _ = std::fs::remove_dir_all(&dir);
}
