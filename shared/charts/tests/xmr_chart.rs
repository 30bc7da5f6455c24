//! XmR charts: limits from the screened mean moving range and the Making Data
//! Count rules (NHSRplotthedots' ptd_spc_standard and
//! ptd_calculate_point_type), each rule on both sides of its boundary, the
//! variation of the latest point and the assurance verdict.

mod common;

use common::*;
use qnet_charts::{
    AnalysisError, Assurance, Chart, Direction, NotEvaluated, Options, Point, Rule, SignalKind, Variation, analyse,
};

fn xmr(direction: Direction) -> Options {
    options(Chart::Xmr, direction)
}

fn xmr_baseline(direction: Direction) -> Options {
    Options { baseline: Some(12), ..xmr(direction) }
}

/// 12 points alternating 12, 10: mean 11, every moving range 2, so the
/// limits are 11 ± 5.32 and the two-sigma lines 11 ± 3.547. The last point
/// (10) is below the mean.
fn baseline() -> Vec<f64> {
    alternating(12, 12.0, 10.0)
}

fn baseline_then(more: &[f64]) -> Vec<f64> {
    let mut values = baseline();
    values.extend_from_slice(more);
    values
}

/// The baseline's limits as the analysis computes them, for points placed
/// exactly on a limit.
fn baseline_limits() -> (f64, f64) {
    let analysis = analyse_values(&baseline(), &xmr(Direction::Up)).unwrap();
    (analysis.segments[0].lower_limit.unwrap(), analysis.segments[0].upper_limit.unwrap())
}

#[test]
fn limits_are_the_mean_plus_or_minus_2_66_mean_moving_ranges() {
    let analysis = analyse_values(&baseline(), &xmr(Direction::Up)).unwrap();
    let segment = analysis.segments[0];
    assert_eq!((segment.from_index, segment.to_index, segment.centre), (0, 11, 11.0));
    assert!((segment.lower_limit.unwrap() - 5.68).abs() < 1e-12);
    assert!((segment.upper_limit.unwrap() - 16.32).abs() < 1e-12);
    assert!(analysis.signals.is_empty());
    assert_eq!(analysis.variation, Some(Variation::CommonCause));
}

#[test]
fn a_point_on_a_limit_is_not_astronomical_and_one_beyond_it_is() {
    let (lower, upper) = baseline_limits();
    for at_limit in [upper, lower] {
        let analysis = analyse_values(&baseline_then(&[at_limit]), &xmr_baseline(Direction::Up)).unwrap();
        assert!(of_rule(&analysis, Rule::Astronomical).is_empty(), "{at_limit}");
    }
    let high = analyse_values(&baseline_then(&[16.33]), &xmr_baseline(Direction::Up)).unwrap();
    assert_eq!(high.signals, vec![signal(Rule::Astronomical, [12], SignalKind::Improvement)]);
    let low = analyse_values(&baseline_then(&[5.67]), &xmr_baseline(Direction::Up)).unwrap();
    assert_eq!(low.signals, vec![signal(Rule::Astronomical, [12], SignalKind::Concern)]);
    let low_down = analyse_values(&baseline_then(&[5.67]), &xmr_baseline(Direction::Down)).unwrap();
    assert_eq!(low_down.signals, vec![signal(Rule::Astronomical, [12], SignalKind::Improvement)]);
}

#[test]
fn six_points_above_the_mean_are_not_a_shift() {
    let analysis = analyse_values(&baseline_then(&[11.5; 6]), &xmr_baseline(Direction::Up)).unwrap();
    assert!(analysis.signals.is_empty(), "{:?}", analysis.signals);
}

#[test]
fn seven_points_above_the_mean_are_a_shift() {
    let up = analyse_values(&baseline_then(&[11.5; 7]), &xmr_baseline(Direction::Up)).unwrap();
    assert_eq!(up.signals, vec![signal(Rule::Shift, 12..=18, SignalKind::Improvement)]);
    assert_eq!(up.variation, Some(Variation::SpecialCauseImprovement));
    let down = analyse_values(&baseline_then(&[11.5; 7]), &xmr_baseline(Direction::Down)).unwrap();
    assert_eq!(down.signals, vec![signal(Rule::Shift, 12..=18, SignalKind::Concern)]);
    assert_eq!(down.variation, Some(Variation::SpecialCauseConcern));
}

#[test]
fn a_point_on_the_mean_breaks_a_shift() {
    let on_mean = [11.5, 11.5, 11.5, 11.0, 11.5, 11.5, 11.5, 11.5];
    let analysis = analyse_values(&baseline_then(&on_mean), &xmr_baseline(Direction::Up)).unwrap();
    assert!(analysis.signals.is_empty(), "{:?}", analysis.signals);

    let just_above = [11.5, 11.5, 11.5, 11.2, 11.5, 11.5, 11.5, 11.5];
    let analysis = analyse_values(&baseline_then(&just_above), &xmr_baseline(Direction::Up)).unwrap();
    assert_eq!(analysis.signals, vec![signal(Rule::Shift, 12..=19, SignalKind::Improvement)]);
}

#[test]
fn six_rising_points_are_not_a_trend() {
    // Points 11..=16: 10, 10.5, 11, 11.5, 12, 12.5.
    let analysis = analyse_values(&baseline_then(&[10.5, 11.0, 11.5, 12.0, 12.5]), &xmr_baseline(Direction::Up)).unwrap();
    assert!(analysis.signals.is_empty(), "{:?}", analysis.signals);
}

#[test]
fn seven_rising_points_are_a_trend_judged_by_its_direction() {
    let values = baseline_then(&[10.5, 11.0, 11.5, 12.0, 12.5, 13.0]);
    let up = analyse_values(&values, &xmr_baseline(Direction::Up)).unwrap();
    assert_eq!(up.signals, vec![signal(Rule::Trend, 11..=17, SignalKind::Improvement)]);
    let neither = analyse_values(&values, &xmr_baseline(Direction::Neither)).unwrap();
    assert_eq!(neither.signals, vec![signal(Rule::Trend, 11..=17, SignalKind::Neither)]);
    assert_eq!(neither.variation, Some(Variation::SpecialCauseNeither));
}

#[test]
fn seven_falling_points_are_a_trend_and_six_are_not() {
    let mut six = alternating(12, 10.0, 12.0); // ends on 12
    six.extend([11.5, 11.0, 10.5, 10.0, 9.5]);
    let analysis = analyse_values(&six, &xmr_baseline(Direction::Up)).unwrap();
    assert!(analysis.signals.is_empty(), "{:?}", analysis.signals);

    let mut seven = six.clone();
    seven.push(9.0);
    let analysis = analyse_values(&seven, &xmr_baseline(Direction::Up)).unwrap();
    assert_eq!(analysis.signals, vec![signal(Rule::Trend, 11..=17, SignalKind::Concern)]);
}

#[test]
fn an_equal_neighbour_breaks_a_trend() {
    let values = baseline_then(&[10.5, 11.0, 11.0, 11.5, 12.0, 12.5, 13.0]);
    let analysis = analyse_values(&values, &xmr_baseline(Direction::Up)).unwrap();
    assert!(of_rule(&analysis, Rule::Trend).is_empty(), "{:?}", analysis.signals);
}

#[test]
fn two_of_three_close_to_a_limit_on_one_side_are_a_signal_of_the_close_points() {
    let analysis = analyse_values(&baseline_then(&[15.0, 12.0, 15.0]), &xmr_baseline(Direction::Up)).unwrap();
    assert_eq!(analysis.signals, vec![signal(Rule::TwoInThree, [12, 14], SignalKind::Improvement)]);
    assert_eq!(analysis.variation, Some(Variation::SpecialCauseImprovement));

    let low = analyse_values(&baseline_then(&[7.0, 7.2]), &xmr_baseline(Direction::Up)).unwrap();
    assert_eq!(low.signals, vec![signal(Rule::TwoInThree, [12, 13], SignalKind::Concern)]);
}

#[test]
fn one_of_three_close_to_a_limit_is_not_a_signal() {
    let analysis = analyse_values(&baseline_then(&[15.0, 12.0, 13.0]), &xmr_baseline(Direction::Up)).unwrap();
    assert!(analysis.signals.is_empty(), "{:?}", analysis.signals);
}

#[test]
fn a_point_on_the_limit_counts_as_close_and_one_beyond_it_does_not() {
    let (_, upper) = baseline_limits();
    let on_limit = analyse_values(&baseline_then(&[upper, 12.0, upper]), &xmr_baseline(Direction::Up)).unwrap();
    assert_eq!(on_limit.signals, vec![signal(Rule::TwoInThree, [12, 14], SignalKind::Improvement)]);

    // As NHSRplotthedots: close_to_limits excludes points outside the limits.
    let beyond = analyse_values(&baseline_then(&[15.0, 17.0, 12.0]), &xmr_baseline(Direction::Up)).unwrap();
    assert_eq!(beyond.signals, vec![signal(Rule::Astronomical, [13], SignalKind::Improvement)]);
}

#[test]
fn overlapping_windows_make_one_two_in_three_signal_and_separate_ones_two() {
    let merged = analyse_values(&baseline_then(&[15.0, 12.0, 15.0, 12.0, 15.0]), &xmr_baseline(Direction::Up)).unwrap();
    assert_eq!(merged.signals, vec![signal(Rule::TwoInThree, [12, 14, 16], SignalKind::Improvement)]);

    let separate =
        analyse_values(&baseline_then(&[15.0, 12.0, 15.0, 10.0, 15.0, 12.0, 15.0]), &xmr_baseline(Direction::Up)).unwrap();
    assert_eq!(
        separate.signals,
        vec![
            signal(Rule::TwoInThree, [12, 14], SignalKind::Improvement),
            signal(Rule::TwoInThree, [16, 18], SignalKind::Improvement),
        ]
    );
}

/// NHSRplotthedots' test "it only reports special cause for 2 of 3 points
/// close to limits when they are on the same side of the mean": 16 points
/// alternating 1, -1 with the last two 5.5 and -5.5. The moving range of 11
/// is screened out (over 3.267 × 2.9), leaving a mean moving range of
/// 32.5 / 14, and the last two points are common cause.
#[test]
fn nhsrplotthedots_two_close_points_on_opposite_sides_with_a_screened_range() {
    let mut values = alternating(16, 1.0, -1.0);
    values[14] = 5.5;
    values[15] = -5.5;
    let analysis = analyse_values(&values, &xmr(Direction::Up)).unwrap();
    let segment = analysis.segments[0];
    assert_eq!(segment.centre, 0.0);
    let screened = 2.66 * 32.5 / 14.0;
    assert!((segment.upper_limit.unwrap() - screened).abs() < 1e-12, "{segment:?}");
    assert!((segment.lower_limit.unwrap() + screened).abs() < 1e-12);
    assert!(analysis.signals.is_empty(), "{:?}", analysis.signals);
    assert_eq!(analysis.variation, Some(Variation::CommonCause));
}

#[test]
fn a_screened_moving_range_narrows_the_limits() {
    // 20 points alternating 10, 12, then 30 and 10: ranges 2 (x19), 18, 20;
    // the first mean 76 / 21 screens at 11.82, so 18 and 20 go and the mean
    // moving range is 2.
    let mut values = alternating(20, 10.0, 12.0);
    values.extend([30.0, 10.0]);
    let analysis = analyse_values(&values, &xmr(Direction::Up)).unwrap();
    let segment = analysis.segments[0];
    let mean = 260.0 / 22.0;
    assert!((segment.centre - mean).abs() < 1e-12);
    assert!((segment.upper_limit.unwrap() - (mean + 5.32)).abs() < 1e-9, "{segment:?}");
    assert_eq!(of_rule(&analysis, Rule::Astronomical), vec![signal(Rule::Astronomical, [20], SignalKind::Improvement)]);
}

/// NHSRplotthedots issue #200's example, c(0:7, 6:1): mean 3.5, every moving
/// range 1, limits 0.84 and 6.16. A point (7) is part of a rising and a
/// falling trend; the last point is in the falling one.
#[test]
fn nhsrplotthedots_rise_and_fall_example() {
    let values: Vec<f64> = (0..=7).chain((1..=6).rev()).map(f64::from).collect();
    let analysis = analyse_values(&values, &xmr(Direction::Up)).unwrap();
    assert_eq!(
        analysis.signals,
        vec![
            signal(Rule::Astronomical, [0], SignalKind::Concern),
            signal(Rule::Trend, 0..=7, SignalKind::Improvement),
            signal(Rule::Shift, 4..=10, SignalKind::Improvement),
            signal(Rule::TwoInThree, [6, 8], SignalKind::Improvement),
            signal(Rule::Astronomical, [7], SignalKind::Improvement),
            signal(Rule::Trend, 7..=13, SignalKind::Concern),
        ]
    );
    assert_eq!(analysis.variation, Some(Variation::SpecialCauseConcern));
}

/// NHSRplotthedots issue #167: 8 points falling were not flagged (fixed in
/// 0.2.x); rising and falling trends are both found.
#[test]
fn nhsrplotthedots_falling_trend_is_found_as_well_as_rising() {
    let rising: Vec<f64> = (0..=7).map(f64::from).collect();
    let falling: Vec<f64> = (0..=7).map(|v| -f64::from(v)).collect();
    let up = analyse_values(&rising, &xmr(Direction::Neither)).unwrap();
    assert_eq!(of_rule(&up, Rule::Trend), vec![signal(Rule::Trend, 0..=7, SignalKind::Neither)]);
    let down = analyse_values(&falling, &xmr(Direction::Down)).unwrap();
    assert_eq!(of_rule(&down, Rule::Trend), vec![signal(Rule::Trend, 0..=7, SignalKind::Improvement)]);
    assert_eq!(down.variation, Some(Variation::SpecialCauseImprovement));
}

#[test]
fn the_latest_point_takes_the_kind_of_the_higher_precedence_rule() {
    // Rising from 7.5 to 10.5 below the mean of 11: a rising trend
    // (improvement) and a shift below the mean (concern) both end on the
    // latest point; the trend wins, as in NHSRplotthedots.
    let values = baseline_then(&[7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 10.5]);
    let analysis = analyse_values(&values, &xmr_baseline(Direction::Up)).unwrap();
    assert_eq!(
        analysis.signals,
        vec![signal(Rule::Shift, 11..=18, SignalKind::Concern), signal(Rule::Trend, 12..=18, SignalKind::Improvement),]
    );
    assert_eq!(analysis.variation, Some(Variation::SpecialCauseImprovement));
}

#[test]
fn an_earlier_signal_does_not_make_the_latest_point_special() {
    let analysis = analyse_values(&baseline_then(&[17.0, 12.0]), &xmr_baseline(Direction::Up)).unwrap();
    assert_eq!(analysis.signals.len(), 1);
    assert_eq!(analysis.variation, Some(Variation::CommonCause));
}

#[test]
fn too_short_series_list_the_rules_not_evaluated() {
    let six = analyse_values(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &xmr(Direction::Up)).unwrap();
    assert!(six.signals.is_empty(), "a 6-point rise is no trend: {:?}", six.signals);
    assert_eq!(
        six.not_evaluated,
        vec![NotEvaluated { rule: Rule::Shift, needs_points: 7 }, NotEvaluated { rule: Rule::Trend, needs_points: 7 }]
    );

    let two = analyse_values(&[1.0, 2.0], &xmr(Direction::Up)).unwrap();
    assert_eq!(
        two.not_evaluated.iter().map(|n| (n.rule, n.needs_points)).collect::<Vec<_>>(),
        vec![(Rule::Shift, 7), (Rule::Trend, 7), (Rule::TwoInThree, 3)]
    );

    let seven = analyse_values(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], &xmr(Direction::Up)).unwrap();
    assert!(seven.not_evaluated.is_empty());
    assert_eq!(of_rule(&seven, Rule::Trend), vec![signal(Rule::Trend, 0..=6, SignalKind::Improvement)]);
}

#[test]
fn each_segment_has_its_own_baseline_limits_and_signals() {
    let mut values = alternating(12, 9.0, 11.0);
    values.extend(alternating(12, 19.0, 21.0));

    let together = analyse_values(&values, &xmr(Direction::Up)).unwrap();
    assert!(!of_rule(&together, Rule::Shift).is_empty());

    // The last point drops to 14: above the first segment's mean, but below
    // the second segment's lower limit (20 - 5.32).
    *values.last_mut().unwrap() = 14.0;
    let options = Options { baseline: Some(10), recalculate_from: Some(day(12)), ..xmr(Direction::Up) };
    let split = analyse_values(&values, &options).unwrap();
    let bounds: Vec<_> = split.segments.iter().map(|s| (s.from_index, s.to_index, s.centre)).collect();
    assert_eq!(bounds, vec![(0, 11, 10.0), (12, 23, 20.0)]);
    assert!((split.segments[1].lower_limit.unwrap() - 14.68).abs() < 1e-9);
    assert_eq!(split.signals, vec![signal(Rule::Astronomical, [23], SignalKind::Concern)]);
    assert_eq!(split.variation, Some(Variation::SpecialCauseConcern));
}

#[test]
fn a_rule_too_long_for_several_segments_is_listed_once() {
    let values = [1.0, 3.0, 2.0, 4.0, 1.0, 3.0, 10.0, 12.0, 11.0, 13.0, 10.0, 12.0];
    let options = Options { recalculate_from: Some(day(6)), ..xmr(Direction::Up) };
    let analysis = analyse_values(&values, &options).unwrap();
    assert_eq!(analysis.segments.len(), 2);
    assert_eq!(
        analysis.not_evaluated,
        vec![NotEvaluated { rule: Rule::Shift, needs_points: 7 }, NotEvaluated { rule: Rule::Trend, needs_points: 7 }],
        "both segments have 6 points"
    );
}

fn assurance(values: &[f64], direction: Direction, target: Option<f64>) -> Option<Assurance> {
    analyse_values(values, &Options { target, ..xmr(direction) }).unwrap().assurance
}

#[test]
fn assurance_each_way_when_higher_is_better() {
    let values = alternating(14, 12.0, 10.0);
    let (lower, upper) = baseline_limits();
    assert_eq!(assurance(&values, Direction::Up, Some(5.0)), Some(Assurance::ConsistentlyMet));
    assert_eq!(assurance(&values, Direction::Up, Some(lower)), Some(Assurance::ConsistentlyMet));
    assert_eq!(assurance(&values, Direction::Up, Some(5.7)), Some(Assurance::Inconsistent));
    assert_eq!(assurance(&values, Direction::Up, Some(16.3)), Some(Assurance::Inconsistent));
    assert_eq!(assurance(&values, Direction::Up, Some(upper)), Some(Assurance::ConsistentlyMissed));
    assert_eq!(assurance(&values, Direction::Up, Some(17.0)), Some(Assurance::ConsistentlyMissed));
}

#[test]
fn assurance_each_way_when_lower_is_better() {
    let values = alternating(14, 12.0, 10.0);
    let (lower, upper) = baseline_limits();
    assert_eq!(assurance(&values, Direction::Down, Some(17.0)), Some(Assurance::ConsistentlyMet));
    assert_eq!(assurance(&values, Direction::Down, Some(upper)), Some(Assurance::ConsistentlyMet));
    assert_eq!(assurance(&values, Direction::Down, Some(11.0)), Some(Assurance::Inconsistent));
    assert_eq!(assurance(&values, Direction::Down, Some(lower)), Some(Assurance::ConsistentlyMissed));
    assert_eq!(assurance(&values, Direction::Down, Some(5.0)), Some(Assurance::ConsistentlyMissed));
}

#[test]
fn no_assurance_without_a_target_a_direction_or_limits() {
    let values = alternating(14, 12.0, 10.0);
    assert_eq!(assurance(&values, Direction::Neither, Some(5.0)), None);
    assert_eq!(assurance(&values, Direction::Up, None), None);
    let run = Options { target: Some(5.0), ..options(Chart::Run, Direction::Up) };
    assert_eq!(analyse_values(&values, &run).unwrap().assurance, None);
}

#[test]
fn assurance_is_judged_on_the_last_segment() {
    let mut values = alternating(12, 12.0, 10.0);
    values.extend(alternating(12, 22.0, 20.0));
    let options = Options { recalculate_from: Some(day(12)), target: Some(15.0), ..xmr(Direction::Up) };
    // 15 is inside the first segment's limits but below the last one's (15.68).
    assert_eq!(analyse_values(&values, &options).unwrap().assurance, Some(Assurance::ConsistentlyMet));
}

#[test]
fn equal_values_have_zero_width_limits_and_no_signals() {
    let analysis = analyse_values(&[5.0; 10], &Options { target: Some(5.0), ..xmr(Direction::Up) }).unwrap();
    let segment = analysis.segments[0];
    assert_eq!((segment.centre, segment.lower_limit, segment.upper_limit), (5.0, Some(5.0), Some(5.0)));
    assert!(analysis.signals.is_empty(), "points on the mean are on neither side");
    assert_eq!(analysis.variation, Some(Variation::CommonCause));
    assert_eq!(analysis.assurance, Some(Assurance::ConsistentlyMet));
}

#[test]
fn invalid_input_is_an_error() {
    let mut points = series(&[1.0, 2.0, 3.0]);
    points[1].value = f64::NAN;
    assert_eq!(analyse(&points, &xmr(Direction::Up)), Err(AnalysisError::NonFiniteValue { index: 1 }));

    let same_day = vec![Point::new(day(0), 1.0), Point::new(day(1), 2.0), Point::new(day(1), 3.0)];
    assert_eq!(analyse(&same_day, &xmr(Direction::Up)), Err(AnalysisError::DatesNotIncreasing { index: 2 }));

    let values = [1.0, 2.0, 3.0];
    let options = Options { baseline: Some(1), ..xmr(Direction::Up) };
    assert_eq!(analyse_values(&values, &options), Err(AnalysisError::BaselineTooShort { got: 1 }));
    let options = Options { target: Some(f64::INFINITY), ..xmr(Direction::Up) };
    assert_eq!(analyse_values(&values, &options), Err(AnalysisError::NonFiniteTarget));
}

#[test]
fn the_json_has_the_contracted_shape() {
    let options = Options { target: Some(20.0), baseline: Some(12), ..xmr(Direction::Up) };
    let analysis = analyse_values(&baseline_then(&[17.0]), &options).unwrap();
    let json = serde_json::to_value(&analysis).unwrap();
    assert_eq!(json["chart"], "xmr");
    for run_only in ["useful_observations", "longest_run", "longest_run_max", "crossings", "crossings_min"] {
        assert!(json[run_only].is_null(), "{run_only}");
    }
    assert_eq!(json["variation"], "special_cause_improvement");
    assert_eq!(json["assurance"], "consistently_missed");
    assert_eq!(json["signals"], serde_json::json!([{ "rule": "astronomical", "points": [12], "kind": "improvement" }]));
    assert_eq!(json["segments"][0]["centre"], 11.0);
    assert!(json["segments"][0]["upper_limit"].is_f64());
    let options = serde_json::to_value(Options { recalculate_from: Some(day(3)), ..options }).unwrap();
    assert_eq!(options["recalculate_from"], "2024-01-22");
    assert_eq!(options["chart"], "xmr");
    assert_eq!(options["improvement_direction"], "up");
}

#[test]
fn options_deserialise_with_defaults() {
    let options: Options = serde_json::from_str(r#"{"chart":"run"}"#).unwrap();
    assert_eq!(options, Options::new(Chart::Run));
    let options: Options = serde_json::from_str(
        r#"{"chart":"xmr","baseline":12,"recalculate_from":"2024-03-01","improvement_direction":"down","target":0.95}"#,
    )
    .unwrap();
    assert_eq!(options.baseline, Some(12));
    assert_eq!(options.recalculate_from, Some(time::macros::date!(2024 - 03 - 01)));
    assert_eq!(options.improvement_direction, Direction::Down);
}
