//! Mentor matching and coffee pairings: pure functions over plain data.
//!
//! - [`score`] and [`rank`]: how well a mentor suits a mentoring request, with
//!   reasons a member can read, or why not at all.
//! - [`assign`]: the scheduled pass, which matches all open requests at once for the
//!   highest total score within mentors' free places; [`assign_greedy`] is the
//!   simple baseline it is measured against (`scripts/bench-matching`).
//! - [`coffee_round`]: random pairs of members, avoiding recent repeats and
//!   preferring other organisations, the same for every re-run of a round.
//!
//! Nothing here stores, sends or logs anything; callers load the data, call these
//! functions and keep the results. `docs/matching.md` explains the choices.

mod assign;
mod coffee;
mod flow;
mod model;
mod score;

pub use assign::{Assignment, DEFAULT_TOP_K, Match, MatchingError, Unmatched, assign, assign_greedy};
pub use coffee::{COFFEE_EXACT_POOL, COFFEE_HISTORY_ROUNDS, CoffeeError, CoffeeMember, CoffeeRound, coffee_round, round_seed};
pub use model::{CrossOrganisation, Kind, Mentor, Mode, Request, Weights};
pub use score::{Candidate, SKILLS_COUNTED, Scored, rank, score};
