//! How often the patient data guard refuses ordinary QI text: the inbound email
//! fixtures, the texts written in the tests, and a few thousand generated
//! measure descriptions full of numbers, dates, phone and ward numbers and lists
//! of counts. Refusals (an NHS number) and warnings (a name beside a date, which
//! never refuse) are counted apart.
//!
//! `cargo run -p qnet-domain --example guard_false_positives` (from the workspace root).

use std::path::Path;

use qnet_domain::patient_data::{Finding, inspect};

#[derive(Default)]
struct Tally {
    texts: usize,
    refused: usize,
    warned: usize,
}

impl Tally {
    fn add(&mut self, text: &str, source: &str) {
        self.texts += 1;
        match inspect(text) {
            Some(Finding::NhsNumber) => {
                self.refused += 1;
                println!("  refused: {source}");
            }
            Some(Finding::NameBesideDate) => self.warned += 1,
            None => {}
        }
    }

    fn print(&self, name: &str) {
        let rate = if self.texts == 0 { 0.0 } else { 100.0 * self.refused as f64 / self.texts as f64 };
        println!("{name}: {} texts, {} refused ({rate:.2}%), {} warnings", self.texts, self.refused, self.warned);
    }
}

/// The tests' own texts: string literals of 20 characters or more, less those
/// written to hold an NHS number on purpose.
fn literals(code: &str) -> Vec<String> {
    let re = regex::Regex::new(r#""((?:[^"\\]|\\.){20,})""#).expect("valid regex");
    re.captures_iter(code)
        .map(|c| c[1].replace("\\n", "\n").replace("\\r", "\r"))
        .filter(|s| !["943", "９", "5919", "NHS no", "nhs_number"].iter().any(|m| s.contains(m)))
        .collect()
}

/// A small deterministic generator (xorshift), so the numbers are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn date(r: &mut Rng) -> String {
    let (d, m, y) = (1 + r.below(28), 1 + r.below(12), 2019 + r.below(8));
    match r.below(4) {
        0 => format!("{d:02}/{m:02}/{y}"),
        1 => format!("{y}-{m:02}-{d:02}"),
        2 => format!("{d}.{m}.{}", y % 100),
        _ => format!("{d} {} {y}", ["January", "March", "June", "September", "November"][r.below(5) as usize]),
    }
}

fn phone(r: &mut Rng) -> String {
    let n = |r: &mut Rng, k: u32| format!("{:0width$}", r.below(10u64.pow(k)), width = k as usize);
    match r.below(6) {
        0 => format!("0113 {} {}", n(r, 3), n(r, 4)),
        1 => format!("020 {} {}", n(r, 4), n(r, 4)),
        2 => format!("07{} {}", n(r, 3), n(r, 6)),
        3 => format!("+44 113 {} {}", n(r, 3), n(r, 4)),
        4 => format!("0{}", n(r, 10)),
        _ => format!("ext. {}", n(r, 5)),
    }
}

fn counts(r: &mut Rng) -> String {
    let k = 3 + r.below(10);
    let sep = r.pick(&[", ", " ", "; ", " / ", ",", " - "]);
    (0..k)
        .map(|_| {
            let top = if r.below(3) == 0 { 2000 } else { 40 };
            r.below(top).to_string()
        })
        .collect::<Vec<_>>()
        .join(sep)
}

fn measure_description(r: &mut Rng) -> String {
    let ward = 1 + r.below(40);
    let n = r.below(500);
    let d = r.below(100_000);
    match r.below(12) {
        0 => format!("Falls per 1,000 occupied bed days on ward {ward}, {} to {}.", date(r), date(r)),
        1 => format!("Weekly counts: {}. Baseline median {n}.", counts(r)),
        2 => format!("Percentage of patients with NEWS2 recorded within {n} minutes; ward {ward}; call {} for data.", phone(r)),
        3 => format!("Cycles {} were run between {} and {}.", counts(r), date(r), date(r)),
        4 => format!("Numerator {n}, denominator {d}; audit ref {}/{:02}/{:03}.", 2020 + r.below(6), r.below(13), r.below(1000)),
        5 => format!("Discharges before noon on wards {ward} and {}: {}.", ward + 1, counts(r)),
        6 => format!(
            "Data from Datix incidents {}-{} (n={n}), bed {ward}, bay {}.",
            r.below(100_000),
            r.below(100_000),
            r.below(8)
        ),
        7 => format!("Target {n}% by {}; contact the QI team on {}.", date(r), phone(r)),
        8 => format!("Length of stay (days): {}. Cost £{},{:03}.", counts(r), r.below(100), r.below(1000)),
        9 => format!("Times to antibiotics (min): {} at {:02}:{:02}.", counts(r), r.below(24), r.below(60)),
        10 => format!("ODS RR8{:02}, site {ward}, {d} attendances in {}.", r.below(100), 2018 + r.below(8)),
        _ => format!("Run chart of {} points, shift after week {n}: {}.", 10 + r.below(40), counts(r)),
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut fixtures = Tally::default();
    // The email fixtures only: the other fixtures are machine events, not text people write.
    let mut dirs = vec![root.join("tests/fixtures/email")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("the fixtures folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                fixtures.add(&text, &path.display().to_string());
            }
        }
    }
    let mut tests = Tally::default();
    for entry in std::fs::read_dir(root.join("tests/tests")).expect("the tests folder").flatten() {
        let path = entry.path();
        let code = std::fs::read_to_string(&path).unwrap_or_default();
        for s in literals(&code) {
            tests.add(&s, &format!("{}: {s:?}", path.display()));
        }
    }
    let mut generated = Tally::default();
    let mut r = Rng(0x5eed_1234_abcd_ef01);
    for _ in 0..5000 {
        let text = measure_description(&mut r);
        generated.add(&text, &text);
    }
    fixtures.print("email fixtures (whole .eml and .json files)");
    tests.print("texts in the tests");
    generated.print("generated measure descriptions");
    let all = fixtures.texts + tests.texts + generated.texts;
    let refused = fixtures.refused + tests.refused + generated.refused;
    let warned = fixtures.warned + tests.warned + generated.warned;
    println!("all: {all} texts, {refused} refused, {warned} warnings");
}
