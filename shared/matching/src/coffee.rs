//! Coffee rounds: random pairs of members, avoiding recent repeats and preferring
//! people from other organisations.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

/// How many past rounds count as "met recently".
pub const COFFEE_HISTORY_ROUNDS: usize = 6;

/// Pools up to this size are paired by exhaustive search, so the result is the best
/// possible (fewest repeats, then fewest same-organisation pairs).
pub const COFFEE_EXACT_POOL: usize = 12;

/// How many other groups the repair tries for each group it wants to fix, and how
/// many pairs the odd member out is offered to.
const REPAIR_TRIES: usize = 2_000;

/// The repair's budget of regroupings: this many per member of the pool, but at
/// least the minimum, so that small pools are searched thoroughly.
const REPAIR_BUDGET_PER_MEMBER: usize = 50;
const REPAIR_BUDGET_MIN: usize = 100_000;

/// Pools of at most this many members get this many attempts of the heuristic.
const RESTART_POOL: usize = 1_000;
const RESTARTS: usize = 8;

/// Pools of at most this many groups also try regrouping three groups at once.
const SMALL_POOL_GROUPS: usize = 64;

/// Random members tried for a partner before scanning the pool in order.
const PARTNER_SAMPLES: usize = 16;

/// A member taking part in a coffee round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoffeeMember {
    pub id: String,
    pub organisation_id: String,
}

/// The pairs of one round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoffeeRound {
    /// Pairs, and one trio when the pool is odd; each group's ids sorted, groups
    /// sorted by their first id. Every member of the pool appears exactly once here
    /// or in `unpaired`.
    pub groups: Vec<Vec<String>>,
    /// The only member of a pool of one, who has nobody to meet.
    pub unpaired: Option<String>,
    /// Pairs (within groups, a trio counting three) of people who met in the last
    /// [`COFFEE_HISTORY_ROUNDS`] rounds.
    pub repeats: usize,
    /// Pairs (likewise) of people from the same organisation.
    pub same_organisation: usize,
}

impl CoffeeRound {
    /// Every pair who meet in this round (a trio gives three): what to keep as
    /// history for the next rounds.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        for group in &self.groups {
            for (i, a) in group.iter().enumerate() {
                for b in &group[i + 1..] {
                    pairs.push((a.clone(), b.clone()));
                }
            }
        }
        pairs
    }
}

/// Input a round refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoffeeError {
    #[error("member id {0} appears more than once in the pool")]
    DuplicateMember(String),
}

/// The seed of a round: 64-bit FNV-1a of its id. Stable across builds and
/// platforms (unlike std's `DefaultHasher`), so re-running a round gives the same
/// pairs.
pub fn round_seed(round_id: &str) -> u64 {
    round_id.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Pairs the pool for round `round_id`.
///
/// `history` holds the pairs of past rounds, most recent first; only the first
/// [`COFFEE_HISTORY_ROUNDS`] count, and pairs naming someone outside the pool are
/// ignored. The rules, in order of priority:
///
/// 1. nobody meets someone they met in those rounds, unless there is no other way;
/// 2. people meet someone from another organisation whenever the pool allows;
/// 3. otherwise partners are random, drawn from a ChaCha8 generator seeded with
///    [`round_seed`] of the round id: the same round id, pool and history give the
///    same pairs.
///
/// Guaranteed: every member appears exactly once; an even pool makes pairs, an odd
/// pool of three or more makes pairs and one trio, a pool of one leaves that member
/// in `unpaired`; the same input gives the same output, whatever the order of the
/// pool. Pools of up to [`COFFEE_EXACT_POOL`] members get the best grouping the
/// rules allow (fewest repeats, then fewest same-organisation pairs), by exhaustive
/// search.
///
/// Larger pools, best effort: a randomised greedy pass pairs members one at a time,
/// taking them from an organisation that holds half of those left first (so that,
/// without history, every pair crosses organisations whenever no organisation holds
/// more than half of the pool), and giving each a random partner who breaks as few
/// rules as possible; the odd member out joins the pair they fit best; then a local
/// search regroups the members of any group that breaks a rule with those of
/// another group (or two, in pools of up to 128), within a budget of work
/// proportional to the pool. Pools of up to 1,000 get eight such attempts and keep
/// the best. In the tests and the benchmark this finds the best grouping whenever
/// it could be checked; the counts in the result say how a round went.
///
/// ```
/// use qnet_matching::{coffee_round, CoffeeMember};
///
/// let pool: Vec<CoffeeMember> = ["a", "b", "c", "d"]
///     .iter()
///     .zip(["x", "x", "y", "y"])
///     .map(|(id, org)| CoffeeMember { id: id.to_string(), organisation_id: org.to_string() })
///     .collect();
/// let last_round = vec![("a".to_string(), "c".to_string()), ("b".to_string(), "d".to_string())];
/// let round = coffee_round("2025-06", &pool, &[last_round]).unwrap();
/// assert_eq!(round.groups, [["a", "d"], ["b", "c"]]);
/// assert_eq!((round.repeats, round.same_organisation), (0, 0));
/// ```
pub fn coffee_round(
    round_id: &str,
    pool: &[CoffeeMember],
    history: &[Vec<(String, String)>],
) -> Result<CoffeeRound, CoffeeError> {
    let mut members: Vec<&CoffeeMember> = pool.iter().collect();
    members.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(pair) = members.windows(2).find(|pair| pair[0].id == pair[1].id) {
        return Err(CoffeeError::DuplicateMember(pair[0].id.clone()));
    }
    let n = members.len();
    let mut rng = ChaCha8Rng::seed_from_u64(round_seed(round_id));
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let costs = Costs::new(&members, history);

    let groups: Vec<Vec<u32>> = match n {
        0 | 1 => Vec::new(),
        _ if n <= COFFEE_EXACT_POOL => exact(&costs, &mut rng),
        _ => {
            // Small pools afford a few independent attempts; the first without a
            // broken rule, or else the cheapest, wins.
            let attempts = if n <= RESTART_POOL { RESTARTS } else { 1 };
            let mut best: Option<(u64, Vec<Vec<u32>>)> = None;
            for _ in 0..attempts {
                let groups = heuristic(&costs, &mut rng);
                let cost: u64 = groups.iter().map(|g| costs.group(g)).sum();
                if best.as_ref().is_none_or(|(lowest, _)| cost < *lowest) {
                    best = Some((cost, groups));
                }
                if cost == 0 {
                    break;
                }
            }
            best.map(|(_, groups)| groups).unwrap_or_default()
        }
    };

    let mut round = CoffeeRound {
        groups: groups
            .iter()
            .map(|group| {
                let mut names: Vec<String> = group.iter().map(|&m| ids[m as usize].to_string()).collect();
                names.sort();
                names
            })
            .collect(),
        unpaired: if n == 1 { Some(ids[0].to_string()) } else { None },
        repeats: 0,
        same_organisation: 0,
    };
    round.groups.sort();
    for group in &groups {
        for (i, &a) in group.iter().enumerate() {
            for &b in &group[i + 1..] {
                round.repeats += usize::from(costs.met(a, b));
                round.same_organisation += usize::from(costs.organisation[a as usize] == costs.organisation[b as usize]);
            }
        }
    }
    Ok(round)
}

/// Who met whom and who works where, by member index (members sorted by id).
struct Costs {
    organisation: Vec<u32>,
    /// For each member, the members met in the counted rounds, sorted.
    met: Vec<Vec<u32>>,
    /// A repeat costs more than any number of same-organisation pairs, so that the
    /// first rule always wins over the second.
    repeat_cost: u64,
}

impl Costs {
    fn new(members: &[&CoffeeMember], history: &[Vec<(String, String)>]) -> Self {
        let index: HashMap<&str, u32> = members.iter().enumerate().map(|(i, m)| (m.id.as_str(), i as u32)).collect();
        let mut organisations: HashMap<&str, u32> = HashMap::new();
        let organisation = members
            .iter()
            .map(|m| {
                let next = organisations.len() as u32;
                *organisations.entry(m.organisation_id.as_str()).or_insert(next)
            })
            .collect();
        let mut met = vec![Vec::new(); members.len()];
        for (a, b) in history.iter().take(COFFEE_HISTORY_ROUNDS).flatten() {
            if let (Some(&a), Some(&b)) = (index.get(a.as_str()), index.get(b.as_str()))
                && a != b
            {
                met[a as usize].push(b);
                met[b as usize].push(a);
            }
        }
        for list in &mut met {
            list.sort_unstable();
            list.dedup();
        }
        Costs { organisation, met, repeat_cost: members.len() as u64 + 1 }
    }

    fn len(&self) -> usize {
        self.organisation.len()
    }

    fn met(&self, a: u32, b: u32) -> bool {
        self.met[a as usize].binary_search(&b).is_ok()
    }

    fn same_organisation(&self, a: u32, b: u32) -> bool {
        self.organisation[a as usize] == self.organisation[b as usize]
    }

    fn pair(&self, a: u32, b: u32) -> u64 {
        let repeat = if self.met(a, b) { self.repeat_cost } else { 0 };
        repeat + u64::from(self.same_organisation(a, b))
    }

    fn group(&self, group: &[u32]) -> u64 {
        let mut cost = 0;
        for (i, &a) in group.iter().enumerate() {
            for &b in &group[i + 1..] {
                cost += self.pair(a, b);
            }
        }
        cost
    }
}

/// A uniform index below `bound` (which must be above zero), from the generator's
/// raw output so that the pairs depend only on the ChaCha8 stream, not on how a
/// version of `rand` maps it to ranges.
fn below(rng: &mut ChaCha8Rng, bound: usize) -> usize {
    ((u128::from(rng.next_u64()) * bound as u128) >> 64) as usize
}

fn shuffled(n: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        order.swap(i, below(rng, i + 1));
    }
    order
}

/// The cheapest grouping by exhaustive search with pruning, visiting members and
/// partners in a shuffled order so that the first of several equally good groupings
/// is a random one.
fn exact(costs: &Costs, rng: &mut ChaCha8Rng) -> Vec<Vec<u32>> {
    struct Search<'c> {
        costs: &'c Costs,
        order: Vec<u32>,
        taken: Vec<bool>,
        current: Vec<Vec<u32>>,
        best: Option<(u64, Vec<Vec<u32>>)>,
    }

    impl Search<'_> {
        fn run(&mut self, cost: u64, trio_left: bool) {
            if self.best.as_ref().is_some_and(|(best, _)| cost >= *best) {
                return;
            }
            let Some(first) = self.order.iter().position(|&m| !self.taken[m as usize]) else {
                self.best = Some((cost, self.current.clone()));
                return;
            };
            let a = self.order[first];
            self.taken[a as usize] = true;
            for i in first + 1..self.order.len() {
                let b = self.order[i];
                if self.taken[b as usize] {
                    continue;
                }
                self.taken[b as usize] = true;
                self.current.push(vec![a, b]);
                self.run(cost + self.costs.pair(a, b), trio_left);
                self.current.pop();
                if trio_left {
                    for j in i + 1..self.order.len() {
                        let c = self.order[j];
                        if self.taken[c as usize] {
                            continue;
                        }
                        self.taken[c as usize] = true;
                        self.current.push(vec![a, b, c]);
                        self.run(cost + self.costs.group(&[a, b, c]), false);
                        self.current.pop();
                        self.taken[c as usize] = false;
                    }
                }
                self.taken[b as usize] = false;
            }
            self.taken[a as usize] = false;
        }
    }

    let n = costs.len();
    let mut search = Search { costs, order: shuffled(n, rng), taken: vec![false; n], current: Vec::new(), best: None };
    search.run(0, n % 2 == 1);
    search.best.map(|(_, groups)| groups).unwrap_or_default()
}

/// Randomised greedy pairing; the odd member out (if any) joins the pair where
/// they fit best; then local search regroups members of groups that break a rule.
fn heuristic(costs: &Costs, rng: &mut ChaCha8Rng) -> Vec<Vec<u32>> {
    let pairs = greedy_pairs(costs, rng);
    let mut groups: Vec<Vec<u32>> = pairs.iter().map(|p| p.to_vec()).collect();
    if costs.len() % 2 == 1 {
        let mut paired = vec![false; costs.len()];
        for &m in pairs.iter().flatten() {
            paired[m as usize] = true;
        }
        let odd = paired.iter().position(|&p| !p).expect("an odd pool leaves one member out") as u32;
        let start = below(rng, groups.len());
        let mut best = (u64::MAX, 0);
        for step in 0..groups.len().min(REPAIR_TRIES) {
            let i = (start + step) % groups.len();
            let cost = costs.pair(odd, groups[i][0]) + costs.pair(odd, groups[i][1]);
            if cost < best.0 {
                best = (cost, i);
                if cost == 0 {
                    break;
                }
            }
        }
        groups[best.1].push(odd);
    }
    repair(costs, &mut groups, rng);
    groups
}

/// Members still to pair, removable in constant time, overall and by organisation.
struct Unpaired {
    all: Vec<u32>,
    position: Vec<usize>,
    by_organisation: Vec<Vec<u32>>,
    position_in_organisation: Vec<usize>,
    /// Largest organisations first; entries go stale as members are paired and are
    /// corrected when they reach the top.
    largest: BinaryHeap<(usize, Reverse<u32>)>,
}

impl Unpaired {
    fn new(costs: &Costs, order: Vec<u32>) -> Self {
        let n = order.len();
        let organisations = costs.organisation.iter().max().map_or(0, |&o| o as usize + 1);
        let mut position = vec![0; n];
        let mut by_organisation = vec![Vec::new(); organisations];
        let mut position_in_organisation = vec![0; n];
        for (i, &m) in order.iter().enumerate() {
            position[m as usize] = i;
            let list = &mut by_organisation[costs.organisation[m as usize] as usize];
            position_in_organisation[m as usize] = list.len();
            list.push(m);
        }
        let largest = by_organisation.iter().enumerate().map(|(o, list)| (list.len(), Reverse(o as u32))).collect();
        Unpaired { all: order, position, by_organisation, position_in_organisation, largest }
    }

    fn remove(&mut self, m: u32, organisation: u32) {
        let i = self.position[m as usize];
        self.all.swap_remove(i);
        if let Some(&moved) = self.all.get(i) {
            self.position[moved as usize] = i;
        }
        let list = &mut self.by_organisation[organisation as usize];
        let i = self.position_in_organisation[m as usize];
        list.swap_remove(i);
        if let Some(&moved) = list.get(i) {
            self.position_in_organisation[moved as usize] = i;
        }
    }

    /// The largest organisation among the unpaired and its size.
    fn largest(&mut self) -> (usize, u32) {
        while let Some(&(size, Reverse(o))) = self.largest.peek() {
            let actual = self.by_organisation[o as usize].len();
            if actual == size {
                return (size, o);
            }
            self.largest.pop();
            self.largest.push((actual, Reverse(o)));
        }
        (0, 0)
    }
}

/// Pairs members one pair at a time. The first member of a pair is random, except
/// that while one organisation holds at least half of those left, it comes from
/// that organisation: pairing its members with others first is what keeps
/// cross-organisation pairs possible to the end. The partner is a random member who
/// satisfies as many rules as can be satisfied for this member, in rule order.
fn greedy_pairs(costs: &Costs, rng: &mut ChaCha8Rng) -> Vec<[u32; 2]> {
    let n = costs.len();
    let mut unpaired = Unpaired::new(costs, shuffled(n, rng));
    let mut pairs = Vec::with_capacity(n / 2);
    while unpaired.all.len() >= 2 {
        let left = unpaired.all.len();
        let (size, organisation) = unpaired.largest();
        let a = if 2 * size >= left {
            unpaired.by_organisation[organisation as usize][below(rng, size)]
        } else {
            unpaired.all[below(rng, left)]
        };
        let a_organisation = costs.organisation[a as usize];
        unpaired.remove(a, a_organisation);
        let others_elsewhere = unpaired.all.len() - unpaired.by_organisation[a_organisation as usize].len();
        let fresh = |b: u32| !costs.met(a, b);
        let elsewhere = |b: u32| !costs.same_organisation(a, b);
        let b = (others_elsewhere > 0)
            .then(|| find(&unpaired.all, rng, |b| fresh(b) && elsewhere(b)))
            .flatten()
            .or_else(|| find(&unpaired.all, rng, fresh))
            .or_else(|| (others_elsewhere > 0).then(|| find(&unpaired.all, rng, elsewhere)).flatten())
            .unwrap_or_else(|| unpaired.all[below(rng, unpaired.all.len())]);
        unpaired.remove(b, costs.organisation[b as usize]);
        pairs.push([a, b]);
    }
    pairs
}

/// A random member of `among` that satisfies `wanted`: a few random draws, then one
/// pass over all of them from a random start.
fn find(among: &[u32], rng: &mut ChaCha8Rng, wanted: impl Fn(u32) -> bool) -> Option<u32> {
    for _ in 0..PARTNER_SAMPLES {
        let b = among[below(rng, among.len())];
        if wanted(b) {
            return Some(b);
        }
    }
    let start = below(rng, among.len());
    (0..among.len()).map(|step| among[(start + step) % among.len()]).find(|&b| wanted(b))
}

/// Local search: for each group that breaks a rule, regroup its members with those
/// of another group (every way of splitting them into groups of the same sizes),
/// and in small pools with those of two other groups, keeping the first
/// regrouping that lowers the cost. Stops after a sweep that improves nothing, a
/// few sweeps, or a budget of regroupings proportional to the pool, so that a pool
/// where breaking rules is unavoidable (one organisation, everyone met) does not
/// take long.
fn repair(costs: &Costs, groups: &mut [Vec<u32>], rng: &mut ChaCha8Rng) {
    const SWEEPS: usize = 4;
    let count = groups.len();
    if count < 2 {
        return;
    }
    let mut budget = (REPAIR_BUDGET_PER_MEMBER * costs.len()).max(REPAIR_BUDGET_MIN);
    let mut members = Vec::with_capacity(9);
    for _ in 0..SWEEPS {
        let mut improved = false;
        for i in 0..count {
            if costs.group(&groups[i]) == 0 {
                continue;
            }
            let start = below(rng, count);
            let others = || (0..count).map(move |step| (start + step) % count).filter(move |&j| j != i);
            for j in others().take(REPAIR_TRIES) {
                if budget == 0 {
                    return;
                }
                budget -= 1;
                members.clear();
                members.extend(groups[i].iter().chain(&groups[j]).copied());
                let sizes = [groups[i].len(), groups[j].len()];
                if let Some(better) = regroup(costs, &members, &sizes, costs.group(&groups[i]) + costs.group(&groups[j])) {
                    let [a, b] = <[Vec<u32>; 2]>::try_from(better).expect("two groups");
                    (groups[i], groups[j]) = (a, b);
                    improved = true;
                    if costs.group(&groups[i]) == 0 {
                        break;
                    }
                }
            }
            if count > SMALL_POOL_GROUPS || costs.group(&groups[i]) == 0 {
                continue;
            }
            'triples: for j in others() {
                for k in others().filter(|&k| k > j) {
                    if budget == 0 {
                        return;
                    }
                    budget -= 1;
                    members.clear();
                    members.extend(groups[i].iter().chain(&groups[j]).chain(&groups[k]).copied());
                    let sizes = [groups[i].len(), groups[j].len(), groups[k].len()];
                    let now = costs.group(&groups[i]) + costs.group(&groups[j]) + costs.group(&groups[k]);
                    if let Some(better) = regroup(costs, &members, &sizes, now) {
                        let [a, b, c] = <[Vec<u32>; 3]>::try_from(better).expect("three groups");
                        (groups[i], groups[j], groups[k]) = (a, b, c);
                        improved = true;
                        if costs.group(&groups[i]) == 0 {
                            break 'triples;
                        }
                    }
                }
            }
        }
        if !improved {
            break;
        }
    }
}

/// The cheapest split of `members` into groups of `sizes` (in that order), if it
/// costs less than `now`.
fn regroup(costs: &Costs, members: &[u32], sizes: &[usize], now: u64) -> Option<Vec<Vec<u32>>> {
    let mut search = Regroup {
        costs,
        members,
        sizes,
        placed: vec![false; members.len()],
        groups: vec![Vec::new(); sizes.len()],
        best_cost: now,
        best: None,
    };
    search.place_next(0);
    search.best
}

/// Exhaustive search for [`regroup`]: the first unplaced member goes into each
/// empty group in turn (only the first of equally sized empty groups, which are
/// interchangeable), with every choice of companions among later members.
struct Regroup<'a> {
    costs: &'a Costs,
    members: &'a [u32],
    sizes: &'a [usize],
    placed: Vec<bool>,
    groups: Vec<Vec<u32>>,
    best_cost: u64,
    best: Option<Vec<Vec<u32>>>,
}

impl Regroup<'_> {
    fn place_next(&mut self, cost: u64) {
        if cost >= self.best_cost {
            return;
        }
        let Some(first) = self.placed.iter().position(|&p| !p) else {
            self.best_cost = cost;
            self.best = Some(self.groups.clone());
            return;
        };
        for slot in 0..self.sizes.len() {
            let size = self.sizes[slot];
            let interchangeable = (0..slot).any(|earlier| self.groups[earlier].is_empty() && self.sizes[earlier] == size);
            if !self.groups[slot].is_empty() || interchangeable {
                continue;
            }
            self.placed[first] = true;
            self.groups[slot].push(self.members[first]);
            self.add_companions(slot, first + 1, cost);
            self.groups[slot].pop();
            self.placed[first] = false;
        }
    }

    fn add_companions(&mut self, slot: usize, from: usize, cost: u64) {
        if self.groups[slot].len() == self.sizes[slot] {
            let cost = cost + self.costs.group(&self.groups[slot]);
            self.place_next(cost);
            return;
        }
        for next in from..self.members.len() {
            if self.placed[next] {
                continue;
            }
            self.placed[next] = true;
            self.groups[slot].push(self.members[next]);
            self.add_companions(slot, next + 1, cost);
            self.groups[slot].pop();
            self.placed[next] = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs_for(organisations: &[u32]) -> Costs {
        let members: Vec<CoffeeMember> = organisations
            .iter()
            .enumerate()
            .map(|(i, o)| CoffeeMember { id: format!("m{i:05}"), organisation_id: format!("org-{o}") })
            .collect();
        let refs: Vec<&CoffeeMember> = members.iter().collect();
        Costs::new(&refs, &[])
    }

    /// Pairing members of the largest organisation first whenever it holds half of
    /// those left keeps every pair across organisations, before any repair, as long
    /// as no organisation holds more than half of the pool.
    #[test]
    fn the_greedy_pass_alone_crosses_organisations_when_no_organisation_is_over_half() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut checked = 0;
        for case in 0..300 {
            let n = 2 + below(&mut rng, 400);
            let organisations = 2 + below(&mut rng, 6);
            // Organisation 0 takes exactly half, or a random share below it.
            let big = if case % 2 == 0 { n / 2 } else { below(&mut rng, n / 2 + 1) };
            let mut of: Vec<u32> = (0..n).map(|i| if i < big { 0 } else { 1 + below(&mut rng, organisations) as u32 }).collect();
            of.sort_unstable();
            let costs = costs_for(&of);
            let largest = (0..=organisations as u32).map(|o| of.iter().filter(|&&x| x == o).count()).max().unwrap();
            if 2 * largest > n {
                continue;
            }
            let pairs = greedy_pairs(&costs, &mut rng);
            assert_eq!(pairs.len(), n / 2);
            assert!(pairs.iter().all(|&[a, b]| !costs.same_organisation(a, b)), "case {case}: {of:?}");
            checked += 1;
        }
        assert!(checked > 200, "{checked}");
    }
}
