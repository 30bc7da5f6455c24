//! XmR charts: the mean, process limits from the screened mean moving range,
//! and the Making Data Count rules as NHSRplotthedots applies them
//! (`ptd_spc_standard`, `ptd_calculate_point_type`).

use std::ops::Range;

use crate::analysis::{runs_of, side_kind};
use crate::model::{Direction, NotEvaluated, Rule, Segment, Signal};

/// Points in a row on one side of the mean for a shift.
pub const SHIFT_POINTS: usize = 7;
/// Points in a row, each higher (or each lower) than the one before, for a trend.
pub const TREND_POINTS: usize = 7;
/// The window of the two-in-three rule.
pub const TWO_IN_THREE_POINTS: usize = 3;
/// Limits need one moving range, so two points.
pub const ASTRONOMICAL_POINTS: usize = 2;

/// Process limits lie this many mean moving ranges from the mean (3 / d2,
/// d2 = 1.128, as Making Data Count rounds it).
const LIMIT_FACTOR: f64 = 2.66;
/// Moving ranges of this many mean moving ranges or more are screened out
/// before the mean moving range is recomputed (the upper range limit, D4).
const SCREEN_FACTOR: f64 = 3.267;

/// What one segment contributes to the analysis.
pub(crate) struct SegmentResult {
    pub segment: Segment,
    pub signals: Vec<Signal>,
    pub not_evaluated: Vec<NotEvaluated>,
}

pub(crate) fn analyse_segment(
    values: &[f64],
    range: Range<usize>,
    baseline: Option<usize>,
    direction: Direction,
) -> SegmentResult {
    let offset = range.start;
    let ys = &values[range.clone()];
    let base = &ys[..baseline.map_or(ys.len(), |b| b.min(ys.len()))];
    let mean = base.iter().sum::<f64>() / base.len() as f64;
    let amr = screened_mean_moving_range(base);
    let upper = mean + LIMIT_FACTOR * amr;
    let lower = mean - LIMIT_FACTOR * amr;
    // Written as NHSRplotthedots writes it, so the floating point agrees.
    let close_factor = 2.0 * (LIMIT_FACTOR / 3.0);
    let near_upper = mean + close_factor * amr;
    let near_lower = mean - close_factor * amr;

    let side: Vec<i8> = ys
        .iter()
        .map(|&y| {
            if y > mean {
                1
            } else if y < mean {
                -1
            } else {
                0
            }
        })
        .collect();
    let outside: Vec<bool> = ys.iter().map(|&y| y > upper || y < lower).collect();
    // Beyond the two-sigma line but not beyond the limit: a point on the
    // limit counts, a point past it does not (it is astronomical instead).
    let close: Vec<bool> = ys.iter().zip(&outside).map(|(&y, &out)| !out && (y > near_upper || y < near_lower)).collect();

    let mut signals = Vec::new();
    let mut not_evaluated = Vec::new();
    let mut evaluable = |rule: Rule, needs_points: usize| {
        let ok = ys.len() >= needs_points;
        if !ok {
            not_evaluated.push(NotEvaluated { rule, needs_points });
        }
        ok
    };

    if evaluable(Rule::Astronomical, ASTRONOMICAL_POINTS) {
        for (i, &y) in ys.iter().enumerate().filter(|&(i, _)| outside[i]) {
            signals.push(Signal { rule: Rule::Astronomical, points: vec![offset + i], kind: side_kind(y > upper, direction) });
        }
    }

    if evaluable(Rule::Shift, SHIFT_POINTS) {
        // A point on the mean (side 0) ends a run and never starts one.
        for (key, first, last) in runs_of(&side) {
            if key != 0 && last - first + 1 >= SHIFT_POINTS {
                signals.push(Signal {
                    rule: Rule::Shift,
                    points: (offset + first..=offset + last).collect(),
                    kind: side_kind(key > 0, direction),
                });
            }
        }
    }

    if evaluable(Rule::Trend, TREND_POINTS) {
        // Runs of rises (1) or falls (-1) between neighbours; an equal
        // neighbour (0) ends both. Six steps make seven points.
        let steps: Vec<i8> = ys.windows(2).map(|w| (w[1] > w[0]) as i8 - (w[1] < w[0]) as i8).collect();
        for (key, first, last) in runs_of(&steps) {
            if key != 0 && last - first + 2 >= TREND_POINTS {
                signals.push(Signal {
                    rule: Rule::Trend,
                    points: (offset + first..=offset + last + 1).collect(),
                    kind: side_kind(key > 0, direction),
                });
            }
        }
    }

    if evaluable(Rule::TwoInThree, TWO_IN_THREE_POINTS) {
        signals.extend(two_in_three(&side, &close, offset, direction));
    }

    SegmentResult {
        segment: Segment {
            from_index: range.start,
            to_index: range.end - 1,
            centre: mean,
            lower_limit: Some(lower),
            upper_limit: Some(upper),
        },
        signals,
        not_evaluated,
    }
}

/// The mean moving range of `base` (at least 2 points) after screening out
/// ranges of `SCREEN_FACTOR` times the first mean or more. When every range
/// is zero the screen would remove them all; the mean moving range is then 0.
fn screened_mean_moving_range(base: &[f64]) -> f64 {
    let ranges = || base.windows(2).map(|w| (w[1] - w[0]).abs());
    let first = ranges().sum::<f64>() / (base.len() - 1) as f64;
    let screen = SCREEN_FACTOR * first;
    let (sum, count) = ranges().filter(|&r| r < screen).fold((0.0, 0usize), |(s, c), r| (s + r, c + 1));
    if count == 0 { first } else { sum / count as f64 }
}

/// Windows of 3 points in a row, all on one side of the mean, with at least
/// 2 of them close to a limit. Overlapping windows make one signal, whose
/// points are the close points in them (the third point is not part of it,
/// as in NHSRplotthedots' `ptd_part_of_two_in_three`).
fn two_in_three(side: &[i8], close: &[bool], offset: usize, direction: Direction) -> Vec<Signal> {
    let qualifies = |s: usize| {
        side[s] != 0 && side[s] == side[s + 1] && side[s] == side[s + 2] && close[s..s + 3].iter().filter(|&&c| c).count() >= 2
    };
    let mut signals = Vec::new();
    // The current group of overlapping windows: first and last window start.
    let mut group: Option<(usize, usize)> = None;
    let mut flush = |(first, last): (usize, usize)| {
        signals.push(Signal {
            rule: Rule::TwoInThree,
            points: (first..last + 3).filter(|&i| close[i]).map(|i| offset + i).collect(),
            kind: side_kind(side[first] > 0, direction),
        });
    };
    for s in (0..side.len().saturating_sub(2)).filter(|&s| qualifies(s)) {
        group = match group {
            Some((first, last)) if s <= last + 2 => Some((first, s)),
            Some(done) => {
                flush(done);
                Some((s, s))
            }
            None => Some((s, s)),
        };
    }
    if let Some(done) = group {
        flush(done);
    }
    signals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screening_removes_ranges_at_or_over_the_screen() {
        // Ranges 1, 1, 1, 10: first mean 3.25, screen 10.6 keeps them all.
        assert_eq!(screened_mean_moving_range(&[0.0, 1.0, 0.0, 1.0, 11.0]), 13.0 / 4.0);
        // Ranges 1 x 9 and 40: first mean 4.9, screen 16.0: 40 goes, leaving 1.
        let mut base = vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0];
        base.push(41.0);
        assert_eq!(screened_mean_moving_range(&base), 1.0);
    }

    #[test]
    fn screening_of_all_zero_ranges_keeps_zero() {
        assert_eq!(screened_mean_moving_range(&[4.0, 4.0, 4.0]), 0.0);
    }
}
