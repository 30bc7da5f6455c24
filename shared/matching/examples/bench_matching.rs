//! Benchmark of the matching core (run by `scripts/bench-matching`; a benchmark, not
//! a test): the scheduled pass on 5,000 open requests against 1,000 mentors beside
//! the greedy baseline on the same data, and a coffee round of 20,000 members with
//! six rounds of history. Data are random but shaped like the real thing and the
//! same on every run (fixed seed).
//!
//! Exits 1 when a result is wrong (optimal below greedy, someone missing from the
//! coffee round); missed time targets are reported, not failed.

use std::collections::{BTreeSet, HashMap};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use qnet_matching::{
    COFFEE_HISTORY_ROUNDS, CoffeeMember, CrossOrganisation, DEFAULT_TOP_K, Kind, Mentor, Mode, Request, Weights, assign,
    assign_greedy, coffee_round,
};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const REQUESTS: usize = 5_000;
const MENTORS: usize = 1_000;
const ORGANISATIONS: usize = 20;
const COFFEE_POOL: usize = 20_000;

const ASSIGN_TARGET: Duration = Duration::from_secs(5);
const COFFEE_TARGET: Duration = Duration::from_secs(2);

const TOPICS: [&str; 30] = [
    "patient flow",
    "frailty",
    "sepsis",
    "falls",
    "discharge",
    "pressure ulcers",
    "medication safety",
    "deterioration",
    "handover",
    "outpatients",
    "theatre productivity",
    "mental health",
    "maternity",
    "infection control",
    "nutrition",
    "end of life care",
    "diabetes",
    "stroke",
    "primary care access",
    "digital",
    "patient experience",
    "staff wellbeing",
    "waiting lists",
    "readmissions",
    "delirium",
    "antimicrobial stewardship",
    "health inequalities",
    "co-production",
    "measurement for improvement",
    "leadership",
];

const SKILLS: [&str; 20] = [
    "statistical process control",
    "process mapping",
    "pdsa cycles",
    "run charts",
    "data analysis",
    "coaching",
    "facilitation",
    "lean",
    "human factors",
    "co-design",
    "project management",
    "clinical audit",
    "driver diagrams",
    "demand and capacity",
    "stakeholder engagement",
    "writing",
    "presenting",
    "spread and scale",
    "sustainability",
    "measurement",
];

const GOAL_OPENINGS: [&str; 5] = [
    "I want to get better at",
    "Looking for help with",
    "Our team is starting a project and needs",
    "I would like guidance on",
    "Hoping to learn",
];

/// Weights proportional to 1 / rank^exponent: a few popular items, a long tail.
fn zipf(count: usize, exponent: f64) -> WeightedIndex<f64> {
    WeightedIndex::new((1..=count).map(|rank| 1.0 / (rank as f64).powf(exponent))).expect("positive weights")
}

/// Between `min` and `max` distinct names, popular ones more often.
fn some_of(
    rng: &mut ChaCha8Rng,
    names: &[&str],
    popularity: &WeightedIndex<f64>,
    (min, max): (usize, usize),
) -> BTreeSet<String> {
    let count = rng.random_range(min..=max);
    let mut chosen = BTreeSet::new();
    while chosen.len() < count {
        chosen.insert(names[popularity.sample(rng)].to_string());
    }
    chosen
}

fn modes(rng: &mut ChaCha8Rng) -> BTreeSet<Mode> {
    match rng.random_range(0..10) {
        0 | 1 => BTreeSet::new(),
        2..=4 => [Mode::InPerson].into(),
        5..=7 => [Mode::Online].into(),
        _ => [Mode::InPerson, Mode::Online].into(),
    }
}

fn organisation(i: usize) -> String {
    format!("org-{i:02}")
}

fn mentors(rng: &mut ChaCha8Rng, topics: &WeightedIndex<f64>, organisations: &WeightedIndex<f64>) -> Vec<Mentor> {
    let skills = zipf(SKILLS.len(), 0.7);
    (0..MENTORS)
        .map(|i| {
            let capacity = rng.random_range(1..=3);
            let load = if rng.random_bool(0.4) { rng.random_range(0..=capacity) } else { 0 };
            Mentor {
                id: format!("member-{i:05}"),
                name: format!("Mentor {i}"),
                organisation_id: organisation(organisations.sample(rng)),
                organisation_type: None,
                offers: match rng.random_range(0..20) {
                    0..=11 => [Kind::Mentoring].into(),
                    12..=14 => [Kind::Coaching].into(),
                    _ => [Kind::Mentoring, Kind::Coaching].into(),
                },
                topics: some_of(rng, &TOPICS, topics, (2, 6)),
                skills: some_of(rng, &SKILLS, &skills, (2, 5)),
                capacity,
                load,
                availability: modes(rng),
                accepting: rng.random_bool(0.92),
            }
        })
        .collect()
}

fn requests(rng: &mut ChaCha8Rng, topics: &WeightedIndex<f64>, organisations: &WeightedIndex<f64>) -> Vec<Request> {
    (0..REQUESTS)
        .map(|i| {
            // One request in twenty comes from a member who is a mentor too.
            let member = if rng.random_bool(0.05) { rng.random_range(0..MENTORS) } else { MENTORS + i };
            let goals = if rng.random_bool(0.7) {
                let skill = SKILLS.choose(rng).expect("skills");
                let other = SKILLS.choose(rng).expect("skills");
                format!("{} {skill} and some {other}.", GOAL_OPENINGS.choose(rng).expect("openings"))
            } else {
                String::new()
            };
            let excluded = if rng.random_bool(0.2) {
                (0..rng.random_range(1..=3)).map(|_| format!("member-{:05}", rng.random_range(0..MENTORS))).collect()
            } else {
                BTreeSet::new()
            };
            Request {
                id: format!("request-{i:05}"),
                member_id: format!("member-{member:05}"),
                member_organisation_id: organisation(organisations.sample(rng)),
                kind: if rng.random_bool(0.75) { Kind::Mentoring } else { Kind::Coaching },
                topics: some_of(rng, &TOPICS, topics, (1, 3)),
                goals,
                cross_organisation: match rng.random_range(0..10) {
                    0..=3 => CrossOrganisation::Prefer,
                    4 => CrossOrganisation::Require,
                    _ => CrossOrganisation::NoPreference,
                },
                availability: modes(rng),
                excluded_mentors: excluded,
            }
        })
        .collect()
}

fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

fn main() -> ExitCode {
    let mut rng = ChaCha8Rng::seed_from_u64(2025);
    let topics = zipf(TOPICS.len(), 1.0);
    let organisations = zipf(ORGANISATIONS, 0.8);
    let mentors = mentors(&mut rng, &topics, &organisations);
    let requests = requests(&mut rng, &topics, &organisations);
    let weights = Weights::default();
    let places: u32 = mentors.iter().filter(|m| m.accepting).map(Mentor::free_places).sum();
    let mut wrong = false;

    println!(
        "mentoring: {REQUESTS} open requests, {MENTORS} mentors ({places} free places), {} topics, {ORGANISATIONS} organisations",
        TOPICS.len()
    );
    let started = Instant::now();
    let optimal = assign(&requests, &mentors, &weights, DEFAULT_TOP_K).expect("unique ids");
    let optimal_time = started.elapsed();
    let started = Instant::now();
    let greedy = assign_greedy(&requests, &mentors, &weights).expect("unique ids");
    let greedy_time = started.elapsed();

    println!(
        "  optimal (k = {}):  {:>9}  {} matched, total score {}",
        DEFAULT_TOP_K,
        seconds(optimal_time),
        optimal.assignments.len(),
        optimal.total_score
    );
    println!(
        "  greedy baseline:   {:>9}  {} matched, total score {}",
        seconds(greedy_time),
        greedy.assignments.len(),
        greedy.total_score
    );
    let gain = optimal.total_score as i64 - greedy.total_score as i64;
    println!(
        "  optimal - greedy:  {gain:+} points ({:+.2}%), {:+} matches",
        100.0 * gain as f64 / greedy.total_score.max(1) as f64,
        optimal.assignments.len() as i64 - greedy.assignments.len() as i64
    );
    let mut reasons: HashMap<&str, usize> = HashMap::new();
    for u in &optimal.unmatched {
        *reasons.entry(u.reason.as_str()).or_default() += 1;
    }
    let mut reasons: Vec<(&str, usize)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    println!("  unmatched ({}):", optimal.unmatched.len());
    for (reason, count) in reasons {
        println!("    {count:>5}  {reason}");
    }
    if gain < 0 {
        wrong = true;
    }

    let coffee_pool: Vec<CoffeeMember> = (0..COFFEE_POOL)
        .map(|i| CoffeeMember { id: format!("member-{i:05}"), organisation_id: organisation(organisations.sample(&mut rng)) })
        .collect();
    let largest_share = {
        let mut sizes: HashMap<&str, usize> = HashMap::new();
        for m in &coffee_pool {
            *sizes.entry(m.organisation_id.as_str()).or_default() += 1;
        }
        100.0 * *sizes.values().max().unwrap_or(&0) as f64 / COFFEE_POOL as f64
    };
    let mut history: Vec<Vec<(String, String)>> = Vec::new();
    for r in 1..=COFFEE_HISTORY_ROUNDS {
        let round = coffee_round(&format!("2025-{r:02}"), &coffee_pool, &history).expect("unique ids");
        history.insert(0, round.pairs());
    }
    let started = Instant::now();
    let round = coffee_round("2025-07", &coffee_pool, &history).expect("unique ids");
    let coffee_time = started.elapsed();
    let covered: usize = round.groups.iter().map(Vec::len).sum::<usize>() + usize::from(round.unpaired.is_some());
    let trios = round.groups.iter().filter(|g| g.len() == 3).count();
    println!(
        "coffee: {COFFEE_POOL} members, {ORGANISATIONS} organisations (largest {largest_share:.0}%), {} rounds of history",
        history.len()
    );
    println!(
        "  round:  {:>9}  {} pairs, {trios} trio, {} repeats, {} same-organisation pairs",
        seconds(coffee_time),
        round.groups.len() - trios,
        round.repeats,
        round.same_organisation
    );
    if covered != COFFEE_POOL {
        println!("  WRONG: {covered} members placed of {COFFEE_POOL}");
        wrong = true;
    }

    println!(
        "targets: optimal pass < {}: {}; optimal >= greedy: {}; coffee round < {}: {}",
        seconds(ASSIGN_TARGET),
        verdict(optimal_time < ASSIGN_TARGET),
        verdict(gain >= 0),
        seconds(COFFEE_TARGET),
        verdict(coffee_time < COFFEE_TARGET)
    );
    if wrong { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
