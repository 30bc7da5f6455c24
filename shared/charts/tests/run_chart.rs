//! Run charts: the median and the Anhøj rules (qicharts2's runs.analysis),
//! each rule on both sides of its boundary.

mod common;

use common::*;
use qnet_charts::{
    AnalysisError, Chart, Direction, MIN_USEFUL_OBSERVATIONS, NotEvaluated, Options, Rule, SignalKind, analyse_with_break_points,
    crossings_min, longest_run_max,
};
use time::Duration;

fn run_options() -> Options {
    Options::new(Chart::Run)
}

/// Anhøj & Olesen's table of critical values, as qicharts2's vignette prints
/// it (`round(log2(n) + 3)` and `qbinom(0.05, n - 1, 0.5)`), for n = 10..=100
/// useful observations. Derived independently with exact integer binomial
/// sums; n = 10 → 6 and 2, n = 24 → 8 and 8, n = 100 → 10 and 41.
const LONGEST_RUN_MAX_10_TO_100: [usize; 91] = [
    6, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 10, 10,
    10, 10, 10, 10, 10, 10, 10, 10,
];
const CROSSINGS_MIN_10_TO_100: [usize; 91] = [
    2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8, 8, 9, 9, 10, 10, 11, 11, 11, 12, 12, 13, 13, 14, 14, 14, 15, 15, 16, 16, 17,
    17, 17, 18, 18, 19, 19, 20, 20, 21, 21, 21, 22, 22, 23, 23, 24, 24, 25, 25, 25, 26, 26, 27, 27, 28, 28, 29, 29, 29, 30, 30,
    31, 31, 32, 32, 33, 33, 34, 34, 34, 35, 35, 36, 36, 37, 37, 38, 38, 39, 39, 39, 40, 40, 41, 41,
];

#[test]
fn critical_values_match_the_table_for_10_to_100_useful_observations() {
    for n in 10..=100 {
        assert_eq!(longest_run_max(n), Some(LONGEST_RUN_MAX_10_TO_100[n - 10]), "longest run, n = {n}");
        assert_eq!(crossings_min(n), Some(CROSSINGS_MIN_10_TO_100[n - 10]), "crossings, n = {n}");
    }
    assert_eq!((longest_run_max(10), crossings_min(10)), (Some(6), Some(2)));
    assert_eq!((longest_run_max(24), crossings_min(24)), (Some(8), Some(8)));
    assert_eq!((longest_run_max(100), crossings_min(100)), (Some(10), Some(41)));
}

#[test]
fn critical_values_below_ten_and_without_useful_observations() {
    // qbinom(0.05, n - 1, 0.5) first reaches 1 at n = 6 (0.5^5 < 0.05).
    let expected = [(1, 3, 0), (2, 4, 0), (3, 5, 0), (4, 5, 0), (5, 5, 0), (6, 6, 1), (7, 6, 1), (8, 6, 1), (9, 6, 2)];
    for (n, run, crossings) in expected {
        assert_eq!((longest_run_max(n), crossings_min(n)), (Some(run), Some(crossings)), "n = {n}");
    }
    assert_eq!((longest_run_max(0), crossings_min(0)), (None, None));
}

/// 12 baseline points alternating about a median of 0 (the last one below),
/// then `run` points above it.
fn baseline_then_run(run: usize) -> Vec<f64> {
    let mut values = alternating(12, 1.0, -1.0);
    values.extend(std::iter::repeat_n(1.0, run));
    values
}

#[test]
fn a_run_as_long_as_the_limit_is_not_a_shift() {
    // 19 useful observations: longest_run_max = round(log2 19) + 3 = 7.
    let analysis = analyse_values(&baseline_then_run(7), &Options { baseline: Some(12), ..run_options() }).unwrap();
    assert_eq!(analysis.segments[0].centre, 0.0);
    assert_eq!(analysis.useful_observations, Some(19));
    assert_eq!((analysis.longest_run, analysis.longest_run_max), (Some(7), Some(7)));
    assert_eq!((analysis.crossings, analysis.crossings_min), (Some(12), Some(6)));
    assert!(analysis.signals.is_empty(), "{:?}", analysis.signals);
}

#[test]
fn a_run_one_longer_than_the_limit_is_a_shift_judged_by_direction() {
    // 20 useful observations: the limit is still 7, the run is 8.
    for (direction, kind) in [
        (Direction::Up, SignalKind::Improvement),
        (Direction::Down, SignalKind::Concern),
        (Direction::Neither, SignalKind::Neither),
    ] {
        let options = Options { baseline: Some(12), improvement_direction: direction, ..run_options() };
        let analysis = analyse_values(&baseline_then_run(8), &options).unwrap();
        assert_eq!((analysis.longest_run, analysis.longest_run_max), (Some(8), Some(7)));
        assert_eq!(analysis.signals, vec![signal(Rule::Shift, 12..=19, kind)]);
        assert_eq!(analysis.variation, None, "variation is for XmR charts");
    }
}

#[test]
fn points_on_the_median_neither_count_nor_break_a_run() {
    // Baseline of 13 with its median (0) as a point; then 8 points above
    // with one on the median in the middle of them.
    let mut values = vec![1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 0.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0];
    values.extend([1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0]);
    let options = Options { baseline: Some(13), improvement_direction: Direction::Down, ..run_options() };
    let analysis = analyse_values(&values, &options).unwrap();
    assert_eq!(analysis.useful_observations, Some(20));
    assert_eq!((analysis.longest_run, analysis.longest_run_max), (Some(8), Some(7)));
    assert_eq!(analysis.crossings, Some(12));
    assert_eq!(analysis.signals, vec![signal(Rule::Shift, [13, 14, 15, 16, 18, 19, 20, 21], SignalKind::Concern)]);
}

/// ±1 values (median 0) with runs of the given lengths, starting above.
fn runs(lengths: &[usize]) -> Vec<f64> {
    lengths.iter().enumerate().flat_map(|(i, &len)| std::iter::repeat_n(if i % 2 == 0 { 1.0 } else { -1.0 }, len)).collect()
}

#[test]
fn crossings_at_the_critical_value_are_not_a_signal() {
    // 20 useful observations, 7 runs: 6 crossings = qbinom(0.05, 19, 0.5).
    let values = runs(&[3, 4, 3, 3, 2, 3, 2]);
    let analysis = analyse_values(&values, &run_options()).unwrap();
    assert_eq!(analysis.segments[0].centre, 0.0);
    assert_eq!(analysis.useful_observations, Some(20));
    assert_eq!((analysis.crossings, analysis.crossings_min), (Some(6), Some(6)));
    assert_eq!(analysis.longest_run, Some(4));
    assert!(analysis.signals.is_empty(), "{:?}", analysis.signals);
}

#[test]
fn crossings_one_below_the_critical_value_are_a_signal_of_no_direction() {
    // 20 useful observations, 6 runs: 5 crossings < 6.
    let values = runs(&[4, 4, 3, 3, 3, 3]);
    let analysis = analyse_values(&values, &options(Chart::Run, Direction::Up)).unwrap();
    assert_eq!((analysis.crossings, analysis.crossings_min), (Some(5), Some(6)));
    assert_eq!(analysis.signals, vec![signal(Rule::Crossings, 0..20, SignalKind::Neither)]);
}

#[test]
fn fewer_than_ten_useful_observations_are_not_evaluated() {
    // 1..=9: the median 5 is a point, leaving 8 useful observations; a
    // single crossing would otherwise be a signal.
    let values: Vec<f64> = (1..=9).map(f64::from).collect();
    let analysis = analyse_values(&values, &run_options()).unwrap();
    assert_eq!(analysis.useful_observations, Some(8));
    assert_eq!(analysis.crossings, Some(1));
    assert!(analysis.signals.is_empty());
    assert_eq!(
        analysis.not_evaluated,
        vec![
            NotEvaluated { rule: Rule::Shift, needs_points: MIN_USEFUL_OBSERVATIONS },
            NotEvaluated { rule: Rule::Crossings, needs_points: MIN_USEFUL_OBSERVATIONS },
        ]
    );
}

#[test]
fn ten_useful_observations_are_evaluated() {
    // 1..=10: median 5.5, two runs of 5, 1 crossing < qbinom(0.05, 9, 0.5) = 2.
    let values: Vec<f64> = (1..=10).map(f64::from).collect();
    let analysis = analyse_values(&values, &run_options()).unwrap();
    assert_eq!(analysis.segments[0].centre, 5.5);
    assert_eq!(analysis.useful_observations, Some(10));
    assert_eq!((analysis.longest_run, analysis.longest_run_max), (Some(5), Some(6)));
    assert_eq!((analysis.crossings, analysis.crossings_min), (Some(1), Some(2)));
    assert!(analysis.not_evaluated.is_empty());
    assert_eq!(analysis.signals, vec![signal(Rule::Crossings, 0..10, SignalKind::Neither)]);
}

#[test]
fn equal_values_leave_no_useful_observations() {
    let analysis = analyse_values(&[5.0; 12], &run_options()).unwrap();
    assert_eq!(analysis.segments[0].centre, 5.0);
    assert_eq!(analysis.useful_observations, Some(0));
    assert_eq!((analysis.longest_run, analysis.crossings), (Some(0), Some(0)));
    assert_eq!((analysis.longest_run_max, analysis.crossings_min), (None, None));
    assert!(analysis.signals.is_empty());
    assert_eq!(analysis.not_evaluated.len(), 2);
}

#[test]
fn the_centre_is_the_median_of_the_baseline_only() {
    let values = [1.0, 2.0, 3.0, 4.0, 100.0, 200.0, 300.0];
    let analysis = analyse_values(&values, &Options { baseline: Some(4), ..run_options() }).unwrap();
    assert_eq!(analysis.segments[0].centre, 2.5);
    // A baseline longer than the series uses every point.
    let analysis = analyse_values(&values, &Options { baseline: Some(50), ..run_options() }).unwrap();
    assert_eq!(analysis.segments[0].centre, 4.0);
}

#[test]
fn a_break_point_gives_each_segment_its_own_median_and_runs_analysis() {
    let mut values = alternating(12, 9.0, 11.0);
    values.extend(alternating(12, 19.0, 21.0));

    let together = analyse_values(&values, &run_options()).unwrap();
    assert_eq!(together.segments.len(), 1);
    assert_eq!(together.segments[0].centre, 15.0);
    assert_eq!(together.signals.iter().map(|s| s.rule).collect::<Vec<_>>(), vec![Rule::Shift, Rule::Crossings, Rule::Shift]);

    let split = analyse_values(&values, &Options { recalculate_from: Some(day(12)), ..run_options() }).unwrap();
    let segments: Vec<_> = split.segments.iter().map(|s| (s.from_index, s.to_index, s.centre)).collect();
    assert_eq!(segments, vec![(0, 11, 10.0), (12, 23, 20.0)]);
    assert!(split.signals.is_empty(), "{:?}", split.signals);
    // The top-level numbers are the last segment's.
    assert_eq!(split.useful_observations, Some(12));
    assert_eq!((split.longest_run, split.longest_run_max), (Some(1), Some(7)));
    assert_eq!((split.crossings, split.crossings_min), (Some(11), Some(3)));
}

#[test]
fn several_break_points_are_merged_and_out_of_range_ones_ignored() {
    let values = alternating(24, 1.0, 2.0);
    let options = Options { recalculate_from: Some(day(16)), ..run_options() };
    let breaks = [
        day(8) - Duration::days(3), // between points 7 and 8: starts at 8
        day(8),                     // a repeat
        day(0),                     // on the first point: no segment before it
        day(0) - Duration::days(30),
        day(40),
    ];
    let analysis = analyse_with_break_points(&series(&values), &options, &breaks).unwrap();
    let bounds: Vec<_> = analysis.segments.iter().map(|s| (s.from_index, s.to_index)).collect();
    assert_eq!(bounds, vec![(0, 7), (8, 15), (16, 23)]);
    // Each segment has 8 useful observations: too few for the rules.
    assert_eq!(analysis.not_evaluated.len(), 2);
}

#[test]
fn a_segment_of_one_point_is_an_error() {
    let values = alternating(12, 1.0, 2.0);
    let options = Options { recalculate_from: Some(day(11)), ..run_options() };
    assert_eq!(analyse_values(&values, &options), Err(AnalysisError::SegmentTooShort { from_index: 11, got: 1 }));
}

#[test]
fn fewer_than_two_points_is_an_error() {
    assert_eq!(analyse_values(&[], &run_options()), Err(AnalysisError::TooFewPoints { got: 0 }));
    assert_eq!(analyse_values(&[3.0], &run_options()), Err(AnalysisError::TooFewPoints { got: 1 }));
    let two = analyse_values(&[3.0, 4.0], &run_options()).unwrap();
    assert_eq!(two.points.len(), 2);
    assert!(two.signals.is_empty());
}

#[test]
fn the_json_has_the_contracted_shape() {
    let options = Options { baseline: Some(12), improvement_direction: Direction::Up, ..run_options() };
    let analysis = analyse_values(&baseline_then_run(8), &options).unwrap();
    let json = serde_json::to_value(&analysis).unwrap();

    let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "assurance",
            "chart",
            "crossings",
            "crossings_min",
            "longest_run",
            "longest_run_max",
            "not_evaluated",
            "points",
            "segments",
            "signals",
            "useful_observations",
            "variation"
        ]
    );
    assert_eq!(json["chart"], "run");
    assert_eq!(json["points"][0], serde_json::json!({ "date": "2024-01-01", "value": 1.0 }));
    assert_eq!(
        json["segments"][0],
        serde_json::json!({ "from_index": 0, "to_index": 19, "centre": 0.0, "lower_limit": null, "upper_limit": null })
    );
    assert_eq!(
        json["signals"][0],
        serde_json::json!({ "rule": "shift", "points": [12, 13, 14, 15, 16, 17, 18, 19], "kind": "improvement" })
    );
    assert_eq!(json["useful_observations"], 20);
    assert_eq!(json["longest_run_max"], 7);
    assert_eq!(json["crossings_min"], 6);
    assert!(json["variation"].is_null());
    assert!(json["assurance"].is_null());
    assert_eq!(json["not_evaluated"], serde_json::json!([]));

    let back: qnet_charts::Analysis = serde_json::from_value(json).unwrap();
    assert_eq!(back, analysis);
}
