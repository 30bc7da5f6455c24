//! The scheduled pass: all open requests against all mentors at once.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::num::NonZeroUsize;

use serde::{Deserialize, Serialize};

use crate::flow::max_weight_assignment;
use crate::model::{CrossOrganisation, Mentor, Request, Weights};
use crate::score::{Eligibility, MentorPool, PreparedRequest};

/// How many candidates the optimal pass starts from: each request's `k` best
/// eligible mentors, and each mentor's `k` best requests per free place.
///
/// The result does not depend on `k`: it is optimal over all eligible pairs (see
/// [`assign`]). `k` only decides how much of the work is done on a small graph.
/// Too small, and pairs found missing must be added and the flow solved again; too
/// large, and the one solve is slow. The mentors' side matters as much as the
/// requests': when requests far outnumber places, what decides the total is which
/// requests each place goes to. With 20, the benchmark's 5,000 requests and 1,000
/// mentors start from about 117,000 pairs of the 5,000,000, and pricing adds two
/// before the second solve confirms the optimum. The total is the same with k = 5
/// (about as fast) or k = 1,000 (several times slower).
pub const DEFAULT_TOP_K: NonZeroUsize = NonZeroUsize::new(20).unwrap();

/// One proposed match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    pub request_id: String,
    pub mentor_id: String,
    pub score: u64,
    pub reasons: Vec<String>,
}

/// A request the pass could not match, with a reason the member can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmatched {
    pub request_id: String,
    pub reason: String,
}

/// The outcome of a pass: every request appears exactly once, in `assignments` or
/// in `unmatched`, each list in request id order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub assignments: Vec<Match>,
    pub unmatched: Vec<Unmatched>,
    /// The sum of the scores of `assignments`.
    pub total_score: u64,
}

/// Input the pass refuses: ids must be unique, or the result would depend on the
/// order of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchingError {
    #[error("request id {0} appears more than once")]
    DuplicateRequest(String),
    #[error("mentor id {0} appears more than once")]
    DuplicateMentor(String),
}

/// Assigns open requests to mentors so that the total score is the highest
/// possible.
///
/// Each request gets at most one mentor, only an eligible one (see
/// [`crate::score`]), and no mentor gets more requests than their free places
/// (capacity − load). The objective is the total score, not the number of matches:
/// with the default weights every eligible pair scores above zero, so a request is
/// never left without a mentor who still has a place for it, but two good matches
/// can win over three poor ones.
///
/// The assignment is a minimum-cost flow (see `flow.rs`) solved first over a few
/// candidates (see [`DEFAULT_TOP_K`]); then every eligible pair left out is priced
/// against the solution's potentials, and if any could raise the total, those pairs
/// join the candidates and the flow is solved again. When none could, the result is
/// optimal over all eligible pairs: `top_k` changes the time taken, not the total.
///
/// Scores are those of [`crate::score`] on the input as given; a match made during
/// the pass does not change the free places that other pairs are scored with.
///
/// Requests and mentors are processed in id order and every tie is broken by id, so
/// the result depends only on the set of requests and mentors, not their order.
pub fn assign(
    requests: &[Request],
    mentors: &[Mentor],
    weights: &Weights,
    top_k: NonZeroUsize,
) -> Result<Assignment, MatchingError> {
    let pass = Pass::new(requests, mentors)?;
    let free: Vec<u32> = (0..pass.mentors.len()).map(|m| pass.mentors.free(m)).collect();
    let with_place: Vec<usize> = (0..free.len()).filter(|&m| free[m] > 0).collect();
    let k = top_k.get();

    // Each request's k best mentors, and each mentor's k best requests per place,
    // kept in a bounded heap whose top is the worst kept (lowest score, then
    // highest request index).
    let mut mentor_best: Vec<BinaryHeap<KeptRequest>> = vec![BinaryHeap::new(); free.len()];
    let mut scored = Vec::new();
    let mut candidates: Vec<Vec<(u32, u64)>> = Vec::with_capacity(pass.requests.len());
    for (r, prepared) in pass.prepared.iter().enumerate() {
        scored.clear();
        for &m in &with_place {
            let Some(parts) = pass.mentors.parts(prepared, m) else { continue };
            let points = parts.points(weights);
            scored.push((points, m as u32));
            let heap = &mut mentor_best[m];
            let entry = Reverse((points, Reverse(r as u32)));
            if heap.len() < k.saturating_mul(free[m] as usize) {
                heap.push(entry);
            } else if heap.peek().is_some_and(|worst| entry < *worst) {
                heap.pop();
                heap.push(entry);
            }
        }
        best_first(&mut scored, k);
        candidates.push(scored.iter().map(|&(points, m)| (m, points)).collect());
    }
    for (m, heap) in mentor_best.into_iter().enumerate() {
        for Reverse((points, Reverse(r))) in heap {
            let list = &mut candidates[r as usize];
            if !list.iter().any(|&(listed, _)| listed as usize == m) {
                list.push((m as u32, points));
            }
        }
    }

    let mut listed = vec![false; free.len()];
    let solution = loop {
        let solution = max_weight_assignment(&candidates, &free);
        let mut added = false;
        for (r, prepared) in pass.prepared.iter().enumerate() {
            let list = &mut candidates[r];
            for &(m, _) in list.iter() {
                listed[m as usize] = true;
            }
            let before = list.len();
            for &m in &with_place {
                if listed[m] {
                    continue;
                }
                if let Some(parts) = pass.mentors.parts(prepared, m) {
                    let points = parts.points(weights);
                    if solution.improves(r, m, points) {
                        list.push((m as u32, points));
                    }
                }
            }
            added |= list.len() > before;
            for &(m, _) in list.iter() {
                listed[m as usize] = false;
            }
        }
        if !added {
            break solution;
        }
    };

    let chosen: Vec<Option<(u32, u64)>> =
        solution.picks.iter().zip(&candidates).map(|(pick, list)| pick.map(|position| list[position])).collect();
    Ok(pass.finish(&chosen, weights))
}

/// The baseline the optimal pass is measured against: all eligible pairs, best
/// score first (ties by request id, then mentor id), each taken when the request is
/// still unmatched and the mentor still has a place. Quick and plausible, but a
/// request taking its best mentor can leave another request with a much worse one,
/// or none, where [`assign`] weighs the whole.
pub fn assign_greedy(requests: &[Request], mentors: &[Mentor], weights: &Weights) -> Result<Assignment, MatchingError> {
    let pass = Pass::new(requests, mentors)?;
    let mut pairs: Vec<(u64, u32, u32)> = Vec::new();
    for (r, prepared) in pass.prepared.iter().enumerate() {
        for m in 0..pass.mentors.len() {
            if let Some(parts) = pass.mentors.parts(prepared, m) {
                pairs.push((parts.points(weights), r as u32, m as u32));
            }
        }
    }
    pairs.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut places: Vec<u32> = (0..pass.mentors.len()).map(|m| pass.mentors.free(m)).collect();
    let mut chosen: Vec<Option<(u32, u64)>> = vec![None; pass.requests.len()];
    for (score, r, m) in pairs {
        if chosen[r as usize].is_none() && places[m as usize] > 0 {
            chosen[r as usize] = Some((m, score));
            places[m as usize] -= 1;
        }
    }
    Ok(pass.finish(&chosen, weights))
}

/// A request in a mentor's bounded list of best requests, ordered so that the
/// heap's top is the worst kept: lowest score, then highest request index.
type KeptRequest = Reverse<(u64, Reverse<u32>)>;

/// Keeps the `k` best `(score, mentor)` entries, best first, ties by mentor index
/// (which is id order).
fn best_first(scored: &mut Vec<(u64, u32)>, k: usize) {
    let order = |a: &(u64, u32), b: &(u64, u32)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
    if scored.len() > k {
        scored.select_nth_unstable_by(k - 1, order);
        scored.truncate(k);
    }
    scored.sort_unstable_by(order);
}

/// Requests and mentors sorted by id and prepared for scoring.
struct Pass<'a> {
    requests: Vec<&'a Request>,
    prepared: Vec<PreparedRequest>,
    mentors: MentorPool<'a>,
}

impl<'a> Pass<'a> {
    fn new(requests: &'a [Request], mentors: &'a [Mentor]) -> Result<Self, MatchingError> {
        let mut requests: Vec<&Request> = requests.iter().collect();
        requests.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some(pair) = requests.windows(2).find(|pair| pair[0].id == pair[1].id) {
            return Err(MatchingError::DuplicateRequest(pair[0].id.clone()));
        }
        let mut mentors: Vec<&Mentor> = mentors.iter().collect();
        mentors.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some(pair) = mentors.windows(2).find(|pair| pair[0].id == pair[1].id) {
            return Err(MatchingError::DuplicateMentor(pair[0].id.clone()));
        }
        let mentors = MentorPool::new(mentors);
        let prepared = requests.iter().map(|r| mentors.prepare_request(r)).collect();
        Ok(Pass { requests, prepared, mentors })
    }

    fn finish(&self, chosen: &[Option<(u32, u64)>], weights: &Weights) -> Assignment {
        let mut assignments = Vec::new();
        let mut unmatched = Vec::new();
        let mut places: Vec<u32> = (0..self.mentors.len()).map(|m| self.mentors.free(m)).collect();
        for &(m, _) in chosen.iter().flatten() {
            places[m as usize] -= 1;
        }
        for (r, request) in self.requests.iter().enumerate() {
            match chosen[r] {
                Some((m, score)) => {
                    let m = m as usize;
                    let parts = self.mentors.parts(&self.prepared[r], m).expect("only eligible pairs are chosen");
                    debug_assert_eq!(parts.points(weights), score);
                    assignments.push(Match {
                        request_id: request.id.clone(),
                        mentor_id: self.mentors.mentor(m).id.clone(),
                        score,
                        reasons: self.mentors.reasons(request, m, &parts),
                    });
                }
                None => unmatched.push(Unmatched { request_id: request.id.clone(), reason: self.why_unmatched(r, &places) }),
            }
        }
        let total_score = assignments.iter().map(|a| a.score).sum();
        Assignment { assignments, unmatched, total_score }
    }

    /// The furthest any mentor got through the eligibility rules decides the reason:
    /// if some mentor passed every rule but the last, the last rule is to blame.
    /// `places` are those left after the pass.
    fn why_unmatched(&self, r: usize, places: &[u32]) -> String {
        let request = self.requests[r];
        let prepared = &self.prepared[r];
        let furthest =
            (0..self.mentors.len()).map(|m| self.mentors.eligibility(prepared, m)).max().unwrap_or(Eligibility::NotOffered);
        let kind = prepared.kind();
        let from_elsewhere =
            if request.cross_organisation == CrossOrganisation::Require { " from another organisation" } else { "" };
        match furthest {
            Eligibility::NotOffered => format!("no mentor is accepting {kind} requests at the moment"),
            Eligibility::Excluded => {
                format!("every mentor who offers {kind} has already declined you or been declined by you")
            }
            Eligibility::SameOrganisation => {
                format!("no mentor who offers {kind} is from another organisation, as you asked")
            }
            Eligibility::NoCommonMode => {
                let modes: Vec<&str> = request.availability.iter().map(|m| m.as_str()).collect();
                format!("no mentor{from_elsewhere} who offers {kind} is available {}, as you asked", modes.join(" or "))
            }
            Eligibility::Full => "every suitable mentor is at capacity".to_string(),
            // Only a pair worth nothing (possible when `kind_offered` is zero) is
            // left out while the mentor still has a place.
            Eligibility::Eligible
                if (0..self.mentors.len()).any(|m| places[m] > 0 && self.mentors.parts(prepared, m).is_some()) =>
            {
                "a suitable mentor still has a place, but with the current weights the match would score nothing".to_string()
            }
            Eligibility::Eligible => {
                "every suitable mentor is now at capacity: their places went to other requests in this round".to_string()
            }
        }
    }
}
