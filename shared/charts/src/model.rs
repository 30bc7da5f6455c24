//! The types of the analysis: what goes in, what comes out, and the errors.
//!
//! Every type here serialises with serde in snake_case; the JSON shape of
//! [`Analysis`] is a contract with the HTTP API and its clients (see
//! `docs/charts.md`), so field and variant names must not change.

use serde::{Deserialize, Serialize};
use time::Date;

time::serde::format_description!(pub(crate) iso_date, Date, "[year]-[month]-[day]");

/// One observation of a measure: the period it belongs to and its value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The period, serialised as `YYYY-MM-DD`.
    #[serde(with = "iso_date")]
    pub date: Date,
    pub value: f64,
}

impl Point {
    pub fn new(date: Date, value: f64) -> Self {
        Self { date, value }
    }
}

/// Which chart to draw, and so which rules to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Chart {
    /// A run chart: the median, and the Anhøj rules (shift, crossings).
    Run,
    /// An XmR (individuals) chart: the mean, process limits and the Making
    /// Data Count rules (astronomical, shift, trend, two in three).
    Xmr,
}

/// Which way is better for the measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher is better.
    Up,
    /// Lower is better.
    Down,
    /// Neither: signals are reported without a judgement.
    #[default]
    Neither,
}

/// How to analyse a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Options {
    pub chart: Chart,
    /// The first N points of each segment fix its centre line (and limits);
    /// `None` uses every point of the segment. At least 2.
    #[serde(default)]
    pub baseline: Option<usize>,
    /// A break point: the points dated on or after it form a new segment with
    /// its own centre line and limits. For several break points use
    /// [`crate::analyse_with_break_points`].
    #[serde(default, with = "iso_date::option")]
    pub recalculate_from: Option<Date>,
    #[serde(default)]
    pub improvement_direction: Direction,
    /// The target, for the assurance verdict of an XmR chart.
    #[serde(default)]
    pub target: Option<f64>,
}

impl Options {
    /// Options for `chart` with no baseline, break point, direction or target.
    pub fn new(chart: Chart) -> Self {
        Self { chart, baseline: None, recalculate_from: None, improvement_direction: Direction::Neither, target: None }
    }
}

/// The result of [`crate::analyse`]: the series, its segments, the signals
/// found and the verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub chart: Chart,
    /// Every point, in order; signal indices point into this list.
    pub points: Vec<Point>,
    /// One segment per part of the series between break points, in order.
    pub segments: Vec<Segment>,
    /// Every signal found, ordered by first point and then by rule.
    pub signals: Vec<Signal>,
    /// Run charts only (`null` for XmR): of the last segment.
    pub useful_observations: Option<usize>,
    /// Run charts only: the longest run on one side of the median (last segment).
    pub longest_run: Option<usize>,
    /// Run charts only: a run longer than this is a shift (last segment).
    pub longest_run_max: Option<usize>,
    /// Run charts only: how many times the line crosses the median (last segment).
    pub crossings: Option<usize>,
    /// Run charts only: fewer crossings than this is a signal (last segment).
    pub crossings_min: Option<usize>,
    /// XmR only (`null` for run charts): the variation of the latest point.
    pub variation: Option<Variation>,
    /// XmR with a target and a direction only: can the process meet the target?
    pub assurance: Option<Assurance>,
    /// Rules that were not applied to at least one segment, for lack of points.
    pub not_evaluated: Vec<NotEvaluated>,
}

/// A stretch of the series with its own centre line (and limits).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Index of the first point (inclusive).
    pub from_index: usize,
    /// Index of the last point (inclusive).
    pub to_index: usize,
    /// The median (run chart) or mean (XmR) of the segment's baseline.
    pub centre: f64,
    /// The lower process limit; `null` for run charts.
    pub lower_limit: Option<f64>,
    /// The upper process limit; `null` for run charts.
    pub upper_limit: Option<f64>,
}

/// A rule that fired, and the points that make it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    pub rule: Rule,
    /// 0-based indices into [`Analysis::points`], ascending.
    pub points: Vec<usize>,
    pub kind: SignalKind,
}

/// The rules, in the order the chart gives them precedence when one point
/// belongs to several signals (see [`Rule::precedence`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// XmR: a point beyond a process limit.
    Astronomical,
    /// XmR: 7 points in a row rising, or falling.
    Trend,
    /// XmR: 2 of 3 points in a row close to a limit, all on one side.
    TwoInThree,
    /// Run chart: a run longer than the limit; XmR: 7 points on one side of the mean.
    Shift,
    /// Run chart: too few crossings of the median.
    Crossings,
}

impl Rule {
    /// Lower wins when a point is part of several signals: the order
    /// NHSRplotthedots uses to label a point (beyond a limit, trend, two in
    /// three, shift), with crossings last.
    pub fn precedence(self) -> u8 {
        match self {
            Rule::Astronomical => 0,
            Rule::Trend => 1,
            Rule::TwoInThree => 2,
            Rule::Shift => 3,
            Rule::Crossings => 4,
        }
    }
}

/// Whether a signal is good news, bad news, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    Improvement,
    Concern,
    Neither,
}

/// The variation of the latest point of an XmR chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variation {
    CommonCause,
    SpecialCauseImprovement,
    SpecialCauseConcern,
    SpecialCauseNeither,
}

/// Whether the process, as it is, will meet the target (Making Data Count's
/// assurance icons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assurance {
    /// The target lies on or beyond the limit on the bad side: every point is
    /// expected to meet it.
    ConsistentlyMet,
    /// The target lies on or beyond the limit on the good side: no point is
    /// expected to meet it.
    ConsistentlyMissed,
    /// The target lies between the limits: it will be met some of the time.
    Inconsistent,
}

/// A rule that was not applied because a segment was too short for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotEvaluated {
    pub rule: Rule,
    /// Points a segment needs for the rule; for the run chart rules, useful
    /// observations (points not on the median).
    pub needs_points: usize,
}

/// Why a series cannot be analysed. Every variant is the caller's input
/// (the HTTP API answers 422).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalysisError {
    #[error("a chart needs at least 2 points, got {got}")]
    TooFewPoints { got: usize },
    #[error("point {index} has a value that is not a finite number")]
    NonFiniteValue { index: usize },
    #[error("point {index} is not dated after the point before it; dates must be strictly increasing")]
    DatesNotIncreasing { index: usize },
    #[error("a baseline needs at least 2 points, got {got}")]
    BaselineTooShort { got: usize },
    #[error("the segment starting at point {from_index} has {got} point(s); each segment needs at least 2")]
    SegmentTooShort { from_index: usize, got: usize },
    #[error("the target is not a finite number")]
    NonFiniteTarget,
}
