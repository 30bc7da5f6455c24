//! Synthetic QI text for the search benchmarks (`scripts/bench-search`: the
//! in-process bench and the seeding of `qnet serve`): one vocabulary, one
//! deterministic generator, and the 20 realistic queries.

pub const WORDS: &[&str] = &[
    "frailty",
    "discharge",
    "flow",
    "falls",
    "pressure",
    "ulcers",
    "sepsis",
    "screening",
    "deterioration",
    "handover",
    "medication",
    "errors",
    "waiting",
    "times",
    "outpatient",
    "clinic",
    "primary",
    "care",
    "mental",
    "health",
    "crisis",
    "community",
    "nursing",
    "therapy",
    "stroke",
    "pathway",
    "dementia",
    "delirium",
    "nutrition",
    "hydration",
    "board",
    "round",
    "huddle",
    "safety",
    "cross",
    "measure",
    "run",
    "chart",
    "shift",
    "trend",
    "variation",
    "pdsa",
    "cycle",
    "ward",
    "theatre",
    "recovery",
    "pharmacy",
    "lounge",
    "transport",
    "social",
    "workers",
    "carers",
    "team",
    "patients",
];

/// The benchmark's queries, one with a typo ("frialty").
pub const QUERIES: &[&str] = &[
    "frailty",
    "frialty screening",
    "discharge before noon",
    "falls prevention",
    "pressure ulcers",
    "sepsis screening tool",
    "deterioration news2",
    "handover safety",
    "medication errors",
    "waiting times clinic",
    "mental health crisis",
    "community nursing",
    "stroke pathway",
    "dementia delirium",
    "nutrition hydration",
    "board round huddle",
    "run chart shift",
    "pdsa cycle",
    "theatre recovery",
    "discharge lounge transport",
];

/// Deterministic sentences of [`WORDS`] (a linear congruential generator: the
/// same seed gives the same text on every machine).
pub struct Words(u64);

impl Words {
    pub fn new(seed: u64) -> Words {
        Words(seed)
    }

    pub fn sentence(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| {
                self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                WORDS[(self.0 >> 33) as usize % WORDS.len()]
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}
