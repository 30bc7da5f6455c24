//! Run charts: the median and the Anhøj rules, as qicharts2's
//! `runs.analysis` applies them.

use std::ops::Range;

use crate::analysis::{runs_of, side_kind};
use crate::model::{Direction, NotEvaluated, Rule, Segment, Signal, SignalKind};

/// The shift and crossings rules are applied to a segment with at least this
/// many useful observations (points not on the median). Anhøj and Olesen
/// tabulate and validate the rules from 10 up, and qicharts2's table of
/// critical values starts at 10; below it, a single random run decides too
/// much.
pub const MIN_USEFUL_OBSERVATIONS: usize = 10;

/// The longest run a random process is expected to show among `useful`
/// observations: `round(log2(useful)) + 3` (Schilling 2012, as qicharts2).
/// A longer run is a shift. `None` without useful observations.
pub fn longest_run_max(useful: usize) -> Option<usize> {
    (useful > 0).then(|| (useful as f64).log2().round() as usize + 3)
}

/// The fewest crossings a random process is expected to show among `useful`
/// observations: the 5th percentile of Binomial(useful - 1, 0.5), that is
/// R's `qbinom(0.05, useful - 1, 0.5)` (Chen 2010, as qicharts2). Fewer
/// crossings is a signal. `None` without useful observations.
pub fn crossings_min(useful: usize) -> Option<usize> {
    (useful > 0).then(|| binomial_half_quantile(0.05, useful - 1))
}

/// The smallest `x` with `P(X <= x) >= p` for `X ~ Binomial(trials, 0.5)`:
/// the lower quantile `qbinom` returns. The probabilities are summed in log
/// space so that long series do not underflow `0.5^trials`. (The exact CDF
/// never equals 0.05: that would need `20 * sum C(m, k) = 2^m`, which 5 does
/// not divide; so no rounding tie can arise.)
fn binomial_half_quantile(p: f64, trials: usize) -> usize {
    let m = trials as f64;
    let mut ln_pmf = -m * std::f64::consts::LN_2;
    let mut cdf = 0.0;
    for k in 0..trials {
        cdf += ln_pmf.exp();
        if cdf >= p {
            return k;
        }
        let k = k as f64;
        ln_pmf += ((m - k) / (k + 1.0)).ln();
    }
    trials
}

/// What one segment contributes to the analysis.
pub(crate) struct SegmentResult {
    pub segment: Segment,
    pub signals: Vec<Signal>,
    pub not_evaluated: Vec<NotEvaluated>,
    pub summary: RunSummary,
}

/// The runs analysis numbers of one segment.
pub(crate) struct RunSummary {
    pub useful_observations: usize,
    pub longest_run: usize,
    pub longest_run_max: Option<usize>,
    pub crossings: usize,
    pub crossings_min: Option<usize>,
}

pub(crate) fn analyse_segment(
    values: &[f64],
    range: Range<usize>,
    baseline: Option<usize>,
    direction: Direction,
) -> SegmentResult {
    let base_len = baseline.map_or(range.len(), |b| b.min(range.len()));
    let centre = median(&values[range.start..range.start + base_len]);

    // Points on the median neither extend nor break a run: drop them.
    let (useful, above): (Vec<usize>, Vec<bool>) =
        range.clone().filter(|&i| values[i] != centre).map(|i| (i, values[i] > centre)).unzip();
    let n = useful.len();
    let runs = runs_of(&above);
    let longest_run = runs.iter().map(|&(_, first, last)| last - first + 1).max().unwrap_or(0);
    let crossings = runs.len().saturating_sub(1);
    let run_max = longest_run_max(n);
    let cross_min = crossings_min(n);

    let mut signals = Vec::new();
    let mut not_evaluated = Vec::new();
    if n >= MIN_USEFUL_OBSERVATIONS {
        let run_max = run_max.unwrap_or(usize::MAX);
        for &(is_above, first, last) in &runs {
            if last - first + 1 > run_max {
                signals.push(Signal {
                    rule: Rule::Shift,
                    points: useful[first..=last].to_vec(),
                    kind: side_kind(is_above, direction),
                });
            }
        }
        if cross_min.is_some_and(|min| crossings < min) {
            signals.push(Signal { rule: Rule::Crossings, points: useful.clone(), kind: SignalKind::Neither });
        }
    } else {
        for rule in [Rule::Shift, Rule::Crossings] {
            not_evaluated.push(NotEvaluated { rule, needs_points: MIN_USEFUL_OBSERVATIONS });
        }
    }

    SegmentResult {
        segment: Segment { from_index: range.start, to_index: range.end - 1, centre, lower_limit: None, upper_limit: None },
        signals,
        not_evaluated,
        summary: RunSummary {
            useful_observations: n,
            longest_run,
            longest_run_max: run_max,
            crossings,
            crossings_min: cross_min,
        },
    }
}

/// The median of a non-empty slice (the mean of the two middle values when
/// the count is even), in linear time.
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    let mid = v.len() / 2;
    let (lower, upper, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    if values.len() % 2 == 1 {
        *upper
    } else {
        let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (below + *upper) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `qbinom(0.05, m, 0.5)` by exact integer arithmetic: the smallest x
    /// with `20 * sum_{k<=x} C(m, k) >= 2^m`.
    fn exact_quantile(m: u32) -> usize {
        let mut c: u128 = 1;
        let mut sum: u128 = 0;
        for k in 0..=m {
            sum += c;
            if 20 * sum >= 1u128 << m {
                return k as usize;
            }
            c = c * u128::from(m - k) / u128::from(k + 1);
        }
        m as usize
    }

    #[test]
    fn log_space_quantile_agrees_with_exact_integers() {
        for m in 0..=120 {
            assert_eq!(binomial_half_quantile(0.05, m as usize), exact_quantile(m), "trials {m}");
        }
    }

    #[test]
    fn quantile_of_long_series_does_not_underflow() {
        // 0.5^2000 underflows f64; the normal approximation gives
        // 1000 - 1.645 * sqrt(500) ~ 963.2, and the exact quantile (Python, exact integers) is 963.
        assert_eq!(binomial_half_quantile(0.05, 2000), 963);
    }

    #[test]
    fn median_odd_even_and_ties() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[5.0, 5.0, 1.0, 5.0]), 5.0);
        assert_eq!(median(&[7.0, 7.0]), 7.0);
    }
}
