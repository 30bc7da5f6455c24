//! Throughput of the full ingest step (dry run: analysis, organisation lookup,
//! the patient data guard, the report) over the email fixtures, beside bare
//! `mail_parser::MessageParser::parse` of the same bytes in the same run.
//! Run through `scripts/bench-ingest`, which builds it in release mode.
//!
//!   bench_ingest <fixture dir> [seconds per side]
//!   bench_ingest <fixture dir> 0 --each   (each message's own times)
//!   bench_ingest --one <file>     (ingest one message once; for peak memory)

use std::path::PathBuf;
use std::time::{Duration, Instant};

use qnet_app::ingest::{Inbound, IngestOptions};
use qnet_mail::Verdicts;

fn load(dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("the fixture folder")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    v.sort();
    v
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = tempfile_dir();
    let backend = qnet::backend::Backend::open_embedded(&dir, "http://127.0.0.1", std::sync::Arc::new(qnet_ports::SystemClock))
        .expect("backend");
    let opts = IngestOptions { dry_run: true, mail_from: "case-studies@qnet.localhost".into() };
    if args.get(1).map(String::as_str) == Some("--one") {
        let raw = std::fs::read(&args[2]).expect("the message");
        let before = peak_rss_kib();
        let r =
            backend.app.ingest(&Inbound::local(raw, Verdicts::default()), &opts, backend.mailer.as_ref()).await.expect("ingest");
        println!("{} {} {}", r.outcome, before, peak_rss_kib());
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let fixtures = load(args.get(1).map(String::as_str).unwrap_or("tests/fixtures/email"));
    if args.get(3).map(String::as_str) == Some("--each") {
        // Where the time goes, message by message: microseconds of a bare
        // parse, the analysis and the full step (best of 20 runs each).
        println!("{:<44} {:>9} {:>9} {:>9} {:>7}", "message", "parse µs", "analyse", "ingest", "KiB");
        for (name, raw) in &fixtures {
            let best = |f: &mut dyn FnMut()| {
                (0..20)
                    .map(|_| {
                        let t = Instant::now();
                        f();
                        t.elapsed()
                    })
                    .min()
                    .unwrap_or_default()
                    .as_secs_f64()
                    * 1e6
            };
            let parser = mail_parser::MessageParser::default();
            let parse = best(&mut || {
                std::hint::black_box(parser.parse(raw.as_slice()));
            });
            let analyse = best(&mut || {
                std::hint::black_box(qnet_mail::analyse(raw, &Verdicts::default()));
            });
            let mut ingest = f64::MAX;
            for n in 0..20 {
                let inbound = Inbound { delivery_id: format!("each-{n}"), raw: raw.clone(), verdicts: Verdicts::default() };
                let t = Instant::now();
                std::hint::black_box(backend.app.ingest(&inbound, &opts, backend.mailer.as_ref()).await.expect("ingest"));
                ingest = ingest.min(t.elapsed().as_secs_f64() * 1e6);
            }
            println!("{name:<44} {parse:>9.1} {analyse:>9.1} {ingest:>9.1} {:>7}", raw.len() / 1024);
        }
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let budget = Duration::from_secs_f64(args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5.0));
    let bytes: usize = fixtures.iter().map(|(_, b)| b.len()).sum();
    println!("{} messages, {} KiB in all, {:.1} s per side", fixtures.len(), bytes / 1024, budget.as_secs_f64());

    // Bare parser.
    let parser = mail_parser::MessageParser::default();
    let (mut n, start) = (0u64, Instant::now());
    while start.elapsed() < budget {
        for (_, raw) in &fixtures {
            std::hint::black_box(parser.parse(raw.as_slice()));
            n += 1;
        }
    }
    let parse_rate = n as f64 / start.elapsed().as_secs_f64();

    // The pure analysis alone, to show where the time goes.
    let (mut k, start) = (0u64, Instant::now());
    while start.elapsed() < budget {
        for (_, raw) in &fixtures {
            std::hint::black_box(qnet_mail::analyse(raw, &Verdicts::default()));
            k += 1;
        }
    }
    let analyse_rate = k as f64 / start.elapsed().as_secs_f64();

    // Full ingest step, dry run.
    let mut slowest = (Duration::ZERO, String::new());
    let (mut m, start) = (0u64, Instant::now());
    while start.elapsed() < budget {
        for (name, raw) in &fixtures {
            let t = Instant::now();
            let inbound = Inbound { delivery_id: format!("bench-{m}"), raw: raw.clone(), verdicts: Verdicts::default() };
            std::hint::black_box(backend.app.ingest(&inbound, &opts, backend.mailer.as_ref()).await.expect("ingest"));
            let took = t.elapsed();
            if took > slowest.0 {
                slowest = (took, name.clone());
            }
            m += 1;
        }
    }
    let ingest_rate = m as f64 / start.elapsed().as_secs_f64();
    println!("{:<44} {:>12.0} msg/s", "mail_parser::MessageParser::parse (bare)", parse_rate);
    println!("{:<44} {:>12.0} msg/s", "qnet_mail::analyse alone (pure step)", analyse_rate);
    println!("{:<44} {:>12.0} msg/s", "ingest step, dry run (full)", ingest_rate);
    println!("{:<44} {:>11.1}%   (target >= 25%)", "ingest / bare parser", 100.0 * ingest_rate / parse_rate);
    println!("{:<44} {:>9.2} ms   (target < 50 ms) {}", "slowest single message", slowest.0.as_secs_f64() * 1000.0, slowest.1);
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("qnet-bench-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
