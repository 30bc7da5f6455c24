//! The entry points: check the input, cut the series into segments, hand each
//! segment to the chart's rules, and put the answer together.

use std::ops::Range;

use time::Date;

use crate::model::{
    Analysis, AnalysisError, Assurance, Chart, Direction, NotEvaluated, Options, Point, Segment, Signal, SignalKind, Variation,
};
use crate::{run, xmr};

/// Analyses `points` as a run chart or XmR chart, as `options` says.
///
/// The points must be in strictly increasing date order with finite values;
/// at least 2 are needed (and 2 per segment). A series too short for a rule
/// still answers, with the rule in [`Analysis::not_evaluated`].
///
/// ```
/// use qnet_charts::{analyse, Chart, Direction, Options, Point, Rule, Variation};
/// use time::macros::date;
///
/// // Weekly values: from the 8th on, they stay above the mean of the first 8.
/// let values = [5.0, 6.0, 5.0, 6.0, 5.0, 6.0, 5.0, 6.0, 5.8, 5.9, 5.7, 5.8, 5.9, 5.7, 5.8];
/// let points: Vec<Point> = values
///     .iter()
///     .enumerate()
///     .map(|(i, &v)| Point::new(date!(2024 - 01 - 01) + time::Duration::weeks(i as i64), v))
///     .collect();
/// let options = Options { baseline: Some(8), improvement_direction: Direction::Up, ..Options::new(Chart::Xmr) };
///
/// let analysis = analyse(&points, &options)?;
/// assert_eq!(analysis.segments[0].centre, 5.5);
/// assert_eq!(analysis.signals[0].rule, Rule::Shift);
/// assert_eq!(analysis.signals[0].points, (7..=14).collect::<Vec<_>>());
/// assert_eq!(analysis.variation, Some(Variation::SpecialCauseImprovement));
/// # Ok::<(), qnet_charts::AnalysisError>(())
/// ```
pub fn analyse(points: &[Point], options: &Options) -> Result<Analysis, AnalysisError> {
    analyse_with_break_points(points, options, &[])
}

/// [`analyse`] with several break points: `break_points` together with
/// `options.recalculate_from`. Each break point starts a new segment at the
/// first point dated on or after it; break points on or before the first
/// point or after the last are ignored, and so are repeats.
pub fn analyse_with_break_points(points: &[Point], options: &Options, break_points: &[Date]) -> Result<Analysis, AnalysisError> {
    validate(points, options)?;
    let ranges = segment_ranges(points, options.recalculate_from.iter().chain(break_points))?;
    let values: Vec<f64> = points.iter().map(|p| p.value).collect();
    let direction = options.improvement_direction;

    let mut segments = Vec::with_capacity(ranges.len());
    let mut signals = Vec::new();
    let mut not_evaluated: Vec<NotEvaluated> = Vec::new();
    let mut last_runs = None;
    for range in ranges {
        let (segment, found, missing) = match options.chart {
            Chart::Run => {
                let result = run::analyse_segment(&values, range, options.baseline, direction);
                last_runs = Some(result.summary);
                (result.segment, result.signals, result.not_evaluated)
            }
            Chart::Xmr => {
                let result = xmr::analyse_segment(&values, range, options.baseline, direction);
                (result.segment, result.signals, result.not_evaluated)
            }
        };
        segments.push(segment);
        signals.extend(found);
        for rule in missing {
            if !not_evaluated.iter().any(|n| n.rule == rule.rule) {
                not_evaluated.push(rule);
            }
        }
    }
    signals.sort_by_key(|s| (s.points[0], s.rule.precedence()));

    let (variation, assurance) = match options.chart {
        Chart::Run => (None, None),
        Chart::Xmr => (
            Some(latest_variation(&signals, points.len() - 1)),
            segments.last().and_then(|last| assurance(last, direction, options.target)),
        ),
    };
    Ok(Analysis {
        chart: options.chart,
        points: points.to_vec(),
        segments,
        signals,
        useful_observations: last_runs.as_ref().map(|r| r.useful_observations),
        longest_run: last_runs.as_ref().map(|r| r.longest_run),
        longest_run_max: last_runs.as_ref().and_then(|r| r.longest_run_max),
        crossings: last_runs.as_ref().map(|r| r.crossings),
        crossings_min: last_runs.as_ref().and_then(|r| r.crossings_min),
        variation,
        assurance,
        not_evaluated,
    })
}

fn validate(points: &[Point], options: &Options) -> Result<(), AnalysisError> {
    if points.len() < 2 {
        return Err(AnalysisError::TooFewPoints { got: points.len() });
    }
    if let Some(index) = points.iter().position(|p| !p.value.is_finite()) {
        return Err(AnalysisError::NonFiniteValue { index });
    }
    if let Some(i) = points.windows(2).position(|w| w[1].date <= w[0].date) {
        return Err(AnalysisError::DatesNotIncreasing { index: i + 1 });
    }
    if let Some(got) = options.baseline
        && got < 2
    {
        return Err(AnalysisError::BaselineTooShort { got });
    }
    if options.target.is_some_and(|t| !t.is_finite()) {
        return Err(AnalysisError::NonFiniteTarget);
    }
    Ok(())
}

/// Index ranges of the segments, in order, covering every point.
fn segment_ranges<'a>(
    points: &[Point],
    break_points: impl Iterator<Item = &'a Date>,
) -> Result<Vec<Range<usize>>, AnalysisError> {
    let mut starts: Vec<usize> = break_points
        .map(|d| points.partition_point(|p| p.date < *d))
        .filter(|&start| start > 0 && start < points.len())
        .collect();
    starts.push(0);
    starts.sort_unstable();
    starts.dedup();
    let mut ranges = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(points.len());
        if end - start < 2 {
            return Err(AnalysisError::SegmentTooShort { from_index: start, got: end - start });
        }
        ranges.push(start..end);
    }
    Ok(ranges)
}

/// The kind of a signal on the high (`above` true) or low side.
pub(crate) fn side_kind(above: bool, direction: Direction) -> SignalKind {
    match (direction, above) {
        (Direction::Neither, _) => SignalKind::Neither,
        (Direction::Up, true) | (Direction::Down, false) => SignalKind::Improvement,
        (Direction::Up, false) | (Direction::Down, true) => SignalKind::Concern,
    }
}

/// The latest point's variation: the kind of the signal it belongs to, the
/// signal of the highest-precedence rule winning when it belongs to several.
fn latest_variation(signals: &[Signal], latest: usize) -> Variation {
    // Signal points ascend, so a signal holding the latest point ends with it.
    let winner = signals.iter().filter(|s| s.points.last() == Some(&latest)).min_by_key(|s| s.rule.precedence());
    match winner.map(|s| s.kind) {
        None => Variation::CommonCause,
        Some(SignalKind::Improvement) => Variation::SpecialCauseImprovement,
        Some(SignalKind::Concern) => Variation::SpecialCauseConcern,
        Some(SignalKind::Neither) => Variation::SpecialCauseNeither,
    }
}

/// Making Data Count's assurance, from the last segment's limits. A target
/// exactly on a limit counts as beyond it; met is checked first, so a
/// process with no spread whose value is the target meets it.
fn assurance(last: &Segment, direction: Direction, target: Option<f64>) -> Option<Assurance> {
    let target = target?;
    let (lower, upper) = (last.lower_limit?, last.upper_limit?);
    let (met, missed) = match direction {
        Direction::Neither => return None,
        Direction::Up => (target <= lower, target >= upper),
        Direction::Down => (target >= upper, target <= lower),
    };
    Some(if met {
        Assurance::ConsistentlyMet
    } else if missed {
        Assurance::ConsistentlyMissed
    } else {
        Assurance::Inconsistent
    })
}

/// Maximal runs of equal keys: `(key, first position, last position)`, in
/// order. Shared by the run chart (sides of the useful points) and the XmR
/// shift rule (sides of every point).
pub(crate) fn runs_of<K: Copy + PartialEq>(keys: &[K]) -> Vec<(K, usize, usize)> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=keys.len() {
        if i == keys.len() || keys[i] != keys[start] {
            if start < keys.len() {
                runs.push((keys[start], start, i - 1));
            }
            start = i;
        }
    }
    runs
}
