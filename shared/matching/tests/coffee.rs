//! Coffee rounds: everyone exactly once, no avoidable repeats, other organisations
//! when possible, the same pairs for a re-run.

use std::collections::{BTreeMap, BTreeSet};

use qnet_matching::{COFFEE_EXACT_POOL, COFFEE_HISTORY_ROUNDS, CoffeeError, CoffeeMember, CoffeeRound, coffee_round, round_seed};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type History = Vec<Vec<(String, String)>>;

fn member(id: &str, organisation: &str) -> CoffeeMember {
    CoffeeMember { id: id.into(), organisation_id: organisation.into() }
}

/// `count` members spread over organisations by `organisation_of(index)`.
fn pool(count: usize, mut organisation_of: impl FnMut(usize) -> usize) -> Vec<CoffeeMember> {
    (0..count).map(|i| member(&format!("m{i:05}"), &format!("org-{}", organisation_of(i)))).collect()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

/// Every member exactly once; groups of two, one trio for an odd pool of three or
/// more; the counts match the history and organisations.
fn check(round: &CoffeeRound, pool: &[CoffeeMember], history: &[Vec<(String, String)>]) {
    let mut seen = BTreeSet::new();
    for group in &round.groups {
        for id in group {
            assert!(seen.insert(id.clone()), "{id} appears twice");
        }
    }
    if let Some(id) = &round.unpaired {
        assert!(seen.insert(id.clone()), "{id} appears twice");
    }
    let expected: BTreeSet<String> = pool.iter().map(|m| m.id.clone()).collect();
    assert_eq!(seen, expected, "everyone exactly once");

    let trios = round.groups.iter().filter(|g| g.len() == 3).count();
    assert!(round.groups.iter().all(|g| g.len() == 2 || g.len() == 3));
    assert_eq!(trios, usize::from(pool.len() % 2 == 1 && pool.len() >= 3));
    assert_eq!(round.unpaired.is_some(), pool.len() == 1);

    let organisation: BTreeMap<&str, &str> = pool.iter().map(|m| (m.id.as_str(), m.organisation_id.as_str())).collect();
    let met: BTreeSet<(String, String)> = history
        .iter()
        .take(COFFEE_HISTORY_ROUNDS)
        .flatten()
        .flat_map(|(a, b)| [(a.clone(), b.clone()), (b.clone(), a.clone())])
        .collect();
    let pairs = round.pairs();
    assert_eq!(pairs.len(), round.groups.len() + 2 * trios);
    assert_eq!(round.repeats, pairs.iter().filter(|p| met.contains(*p)).count());
    assert_eq!(
        round.same_organisation,
        pairs.iter().filter(|(a, b)| organisation[a.as_str()] == organisation[b.as_str()]).count()
    );
}

/// Runs `rounds` rounds in a row, each with the history of the ones before.
fn run_rounds(pool: &[CoffeeMember], rounds: usize, prefix: &str) -> History {
    let mut history: History = Vec::new();
    for r in 0..rounds {
        let round = coffee_round(&format!("{prefix}-{r}"), pool, &history).unwrap();
        check(&round, pool, &history);
        history.insert(0, round.pairs());
    }
    history
}

#[test]
fn every_member_appears_exactly_once_for_every_pool_size() {
    for size in 0..=60 {
        let members = pool(size, |i| i % 4);
        let history = run_rounds(&members, 3, &format!("size-{size}"));
        let round = coffee_round("next", &members, &history).unwrap();
        check(&round, &members, &history);
    }
}

#[test]
fn tiny_pools() {
    let empty = coffee_round("r", &[], &[]).unwrap();
    assert_eq!(empty, CoffeeRound { groups: vec![], unpaired: None, repeats: 0, same_organisation: 0 });

    let one = coffee_round("r", &[member("a", "x")], &[]).unwrap();
    assert!(one.groups.is_empty());
    assert_eq!(one.unpaired.as_deref(), Some("a"));

    let two = coffee_round("r", &[member("b", "x"), member("a", "x")], &[]).unwrap();
    assert_eq!(two.groups, [["a", "b"]]);
    assert_eq!(two.same_organisation, 1);

    let three = coffee_round("r", &[member("c", "y"), member("a", "x"), member("b", "x")], &[]).unwrap();
    assert_eq!(three.groups, [["a", "b", "c"]]);
    assert_eq!(three.pairs().len(), 3);
    assert_eq!(three.same_organisation, 1);
}

#[test]
fn two_who_met_last_round_still_meet_when_there_is_nobody_else() {
    let members = [member("a", "x"), member("b", "y")];
    let round = coffee_round("r", &members, &[vec![pair("a", "b")]]).unwrap();
    assert_eq!(round.groups, [["a", "b"]]);
    assert_eq!(round.repeats, 1);
}

#[test]
fn an_odd_pool_makes_exactly_one_trio() {
    for size in [3, 5, 11, 13, 99, 1001] {
        let members = pool(size, |i| i % 5);
        let round = coffee_round("odd", &members, &[]).unwrap();
        check(&round, &members, &[]);
        assert_eq!(round.groups.iter().filter(|g| g.len() == 3).count(), 1);
        assert_eq!(round.groups.len(), size / 2);
    }
}

#[test]
fn the_only_pairing_without_repeats_is_found() {
    // a–b and c–d met last round, a–c and b–d the round before: only a–d, b–c is new.
    let members = [member("a", "x"), member("b", "x"), member("c", "x"), member("d", "x")];
    let history = vec![vec![pair("a", "b"), pair("c", "d")], vec![pair("c", "a"), pair("b", "d")]];
    for round_id in ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"] {
        let round = coffee_round(round_id, &members, &history).unwrap();
        assert_eq!(round.groups, [["a", "d"], ["b", "c"]], "{round_id}");
        assert_eq!(round.repeats, 0);
    }
}

#[test]
fn rounds_older_than_six_do_not_count() {
    // The same two pairings fill the last six rounds; the third pairing is only in
    // the seventh, which no longer counts, so it is the one chosen.
    let members = [member("a", "x"), member("b", "x"), member("c", "x"), member("d", "x")];
    let mut history: History = Vec::new();
    for r in 0..6 {
        history.push(if r % 2 == 0 { vec![pair("a", "b"), pair("c", "d")] } else { vec![pair("a", "c"), pair("b", "d")] });
    }
    history.push(vec![pair("a", "d"), pair("b", "c")]);
    let round = coffee_round("r", &members, &history).unwrap();
    assert_eq!(round.groups, [["a", "d"], ["b", "c"]]);
    assert_eq!(round.repeats, 0);
}

#[test]
fn no_repeat_wins_over_another_organisation() {
    // Crossing organisations would mean a–c, b–d (met last round); the only new
    // pairing keeps organisations together.
    let members = [member("a", "x"), member("b", "x"), member("c", "y"), member("d", "y")];
    let history = vec![vec![pair("a", "c"), pair("b", "d")], vec![pair("a", "d"), pair("b", "c")]];
    let round = coffee_round("r", &members, &history).unwrap();
    assert_eq!(round.groups, [["a", "b"], ["c", "d"]]);
    assert_eq!((round.repeats, round.same_organisation), (0, 2));
}

#[test]
fn no_repeats_in_the_small_tight_pools_searched_exhaustively() {
    // Twelve members in a ring, each having met the four nearest: a pairing without
    // repeats exists (each with the one opposite), but random choices rarely find it.
    let size = COFFEE_EXACT_POOL;
    let members = pool(size, |_| 0);
    let history: History = vec![
        (0..size).map(|i| pair(&members[i].id, &members[(i + 1) % size].id)).collect(),
        (0..size).map(|i| pair(&members[i].id, &members[(i + 2) % size].id)).collect(),
        (0..size).map(|i| pair(&members[i].id, &members[(i + 3) % size].id)).collect(),
        (0..size).map(|i| pair(&members[i].id, &members[(i + 4) % size].id)).collect(),
        (0..size).map(|i| pair(&members[i].id, &members[(i + 5) % size].id)).collect(),
    ];
    for r in 0..5 {
        let round = coffee_round(&format!("ring-{r}"), &members, &history).unwrap();
        check(&round, &members, &history);
        assert_eq!(round.repeats, 0, "ring-{r}");
    }
}

#[test]
fn no_repeats_across_many_rounds_of_a_larger_pool() {
    // Three organisations of 14: after six rounds everyone has met six others, but 28
    // people remain in other organisations, so every round can be new and crossing.
    let members = pool(42, |i| i % 3);
    let mut history: History = Vec::new();
    for r in 0..20 {
        let round = coffee_round(&format!("large-{r}"), &members, &history).unwrap();
        check(&round, &members, &history);
        assert_eq!((round.repeats, round.same_organisation), (0, 0), "round {r}");
        history.insert(0, round.pairs());
    }
}

#[test]
fn two_organisations_of_equal_size_always_cross() {
    for (size, round_id) in [(2, "a"), (4, "b"), (10, "c"), (12, "d"), (14, "e"), (200, "f"), (5000, "g")] {
        let members = pool(size, |i| i % 2);
        let round = coffee_round(round_id, &members, &[]).unwrap();
        check(&round, &members, &[]);
        assert_eq!(round.same_organisation, 0, "size {size}");
        if size < 200 {
            // In six rounds a small pool runs out of new people across: repeats would
            // then be needed to cross, and no repeat comes first.
            continue;
        }
        let history = run_rounds(&members, 6, round_id);
        let round = coffee_round("next", &members, &history).unwrap();
        assert_eq!(round.same_organisation, 0, "size {size} with history");
    }
}

#[test]
fn cross_organisation_when_one_organisation_is_more_than_half_pairs_the_rest_within_it() {
    // 30 in org-0 and 10 elsewhere: 10 pairs can cross, the other 10 pairs are within
    // org-0, and no more.
    let members = pool(40, |i| if i < 30 { 0 } else { 1 + i % 3 });
    let round = coffee_round("big", &members, &[]).unwrap();
    check(&round, &members, &[]);
    assert_eq!(round.same_organisation, 10);
}

#[test]
fn many_small_organisations_give_no_same_organisation_pairs() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    // Organisations of very different sizes, the largest well under half.
    let members = pool(3001, |_| {
        let x: f64 = rng.random();
        (x * x * 25.0) as usize
    });
    let history = run_rounds(&members, 6, "skewed");
    let round = coffee_round("skewed-next", &members, &history).unwrap();
    check(&round, &members, &history);
    assert_eq!((round.repeats, round.same_organisation), (0, 0));
}

#[test]
fn a_rerun_of_a_round_gives_the_same_pairs_whatever_the_order_of_the_pool() {
    let mut members = pool(501, |i| i % 7);
    let history = run_rounds(&members, 6, "det");
    let first = coffee_round("2025-07", &members, &history).unwrap();
    assert_eq!(coffee_round("2025-07", &members, &history).unwrap(), first);
    members.shuffle(&mut ChaCha8Rng::seed_from_u64(11));
    assert_eq!(coffee_round("2025-07", &members, &history).unwrap(), first);

    let small = pool(9, |i| i % 3);
    let first = coffee_round("2025-07", &small, &[]).unwrap();
    let mut shuffled = small.clone();
    shuffled.reverse();
    assert_eq!(coffee_round("2025-07", &shuffled, &[]).unwrap(), first);
}

#[test]
fn different_rounds_give_different_pairs() {
    let members = pool(200, |i| i % 4);
    let a = coffee_round("2025-07", &members, &[]).unwrap();
    let b = coffee_round("2025-08", &members, &[]).unwrap();
    assert_ne!(a.groups, b.groups);
    let small = pool(10, |i| i % 2);
    let distinct: BTreeSet<Vec<Vec<String>>> =
        (0..10).map(|r| coffee_round(&format!("round-{r}"), &small, &[]).unwrap().groups).collect();
    assert!(distinct.len() > 5, "{}", distinct.len());
}

#[test]
fn history_naming_people_outside_the_pool_is_ignored() {
    let members = pool(6, |i| i % 2);
    let history = vec![vec![pair("gone", "m00000"), pair("m00001", "m00001"), pair("also-gone", "left")]];
    let round = coffee_round("r", &members, &history).unwrap();
    check(&round, &members, &history);
    assert_eq!((round.repeats, round.same_organisation), (0, 0));
}

#[test]
fn a_duplicate_member_is_refused() {
    let members = [member("a", "x"), member("b", "y"), member("a", "y")];
    assert_eq!(coffee_round("r", &members, &[]), Err(CoffeeError::DuplicateMember("a".into())));
}

#[test]
fn the_seed_is_fnv_1a_of_the_round_id() {
    // Published FNV-1a 64-bit test vectors.
    assert_eq!(round_seed(""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(round_seed("a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(round_seed("foobar"), 0x8594_4171_f739_67e8);
}

/// The fewest (repeats, same-organisation pairs) any grouping of `n` members can
/// have, by exhaustive search.
fn best_possible(n: usize, met: &BTreeSet<(usize, usize)>, organisation: &[usize]) -> (usize, usize) {
    fn pair(a: usize, b: usize, met: &BTreeSet<(usize, usize)>, organisation: &[usize]) -> (usize, usize) {
        (usize::from(met.contains(&(a.min(b), a.max(b)))), usize::from(organisation[a] == organisation[b]))
    }
    fn add(x: (usize, usize), y: (usize, usize)) -> (usize, usize) {
        (x.0 + y.0, x.1 + y.1)
    }
    fn search(
        taken: &mut Vec<bool>,
        trio_left: bool,
        met: &BTreeSet<(usize, usize)>,
        organisation: &[usize],
        cost: (usize, usize),
        best: &mut (usize, usize),
    ) {
        if cost >= *best {
            return;
        }
        let Some(a) = taken.iter().position(|t| !t) else {
            *best = cost;
            return;
        };
        taken[a] = true;
        for b in a + 1..taken.len() {
            if taken[b] {
                continue;
            }
            taken[b] = true;
            let ab = pair(a, b, met, organisation);
            search(taken, trio_left, met, organisation, add(cost, ab), best);
            if trio_left {
                for c in b + 1..taken.len() {
                    if !taken[c] {
                        taken[c] = true;
                        let abc = add(ab, add(pair(a, c, met, organisation), pair(b, c, met, organisation)));
                        search(taken, false, met, organisation, add(cost, abc), best);
                        taken[c] = false;
                    }
                }
            }
            taken[b] = false;
        }
        taken[a] = false;
    }
    let mut best = (usize::MAX, usize::MAX);
    search(&mut vec![false; n], n % 2 == 1, met, organisation, (0, 0), &mut best);
    best
}

#[test]
fn pools_just_above_the_exhaustive_size_still_get_the_best_grouping() {
    // Tight cases: one to six random rounds of history among 13 or 14 people in one
    // to four organisations. The heuristic is best effort; on these it is exact.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for case in 0..120 {
        let n = rng.random_range(COFFEE_EXACT_POOL + 1..=COFFEE_EXACT_POOL + 2);
        let organisations = rng.random_range(1..=4);
        let organisation: Vec<usize> = (0..n).map(|_| rng.random_range(0..organisations)).collect();
        let members: Vec<CoffeeMember> =
            (0..n).map(|i| member(&format!("m{i:02}"), &format!("org-{}", organisation[i]))).collect();
        let mut history: History = Vec::new();
        let mut met = BTreeSet::new();
        for _ in 0..rng.random_range(1..=6) {
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut rng);
            let round = order
                .chunks_exact(2)
                .map(|p| {
                    met.insert((p[0].min(p[1]), p[0].max(p[1])));
                    (members[p[0]].id.clone(), members[p[1]].id.clone())
                })
                .collect();
            history.push(round);
        }
        let round = coffee_round(&format!("tight-{case}"), &members, &history).unwrap();
        check(&round, &members, &history);
        assert_eq!((round.repeats, round.same_organisation), best_possible(n, &met, &organisation), "case {case}");
    }
}
