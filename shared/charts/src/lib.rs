//! Run charts and XmR (SPC) charts: the analysis and the SVG, pure functions.
//!
//! [`analyse`] turns a dated series into an [`Analysis`]: segments with their
//! centre line (and process limits), the signals the rules find, and the
//! verdicts. [`render_svg`] draws an analysis as an accessible SVG. Both are
//! pure and fast (well under a millisecond for 1,000 points), so the HTTP API
//! computes them per request (`…/analysis` serialises the [`Analysis`] as
//! JSON, `…/chart.svg` renders it).
//!
//! - Run charts follow the Anhøj rules as qicharts2 implements them.
//! - XmR charts follow NHS England's Making Data Count rules as
//!   NHSRplotthedots implements them.
//!
//! The rules as implemented, the minimum point counts and the choices made
//! where the references differ are in `docs/charts.md`.

mod analysis;
mod model;
mod run;
mod svg;
mod xmr;

pub use analysis::{analyse, analyse_with_break_points};
pub use model::{
    Analysis, AnalysisError, Assurance, Chart, Direction, NotEvaluated, Options, Point, Rule, Segment, Signal, SignalKind,
    Variation,
};
pub use run::{MIN_USEFUL_OBSERVATIONS, crossings_min, longest_run_max};
pub use svg::{ChartMeta, render_svg};
pub use xmr::{ASTRONOMICAL_POINTS, SHIFT_POINTS, TREND_POINTS, TWO_IN_THREE_POINTS};
