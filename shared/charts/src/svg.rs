//! The chart as an accessible SVG, written by hand: a few dozen element kinds
//! do not need a template engine, and building the string directly keeps a
//! 1,000-point chart well under a millisecond.

use std::fmt::Write;

use time::Date;

use crate::model::{Analysis, Assurance, Chart, Rule, Signal, SignalKind, Variation};

/// What the chart says about itself: the words around the analysis.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartMeta {
    /// The chart's heading; the measure name is used when it is empty.
    pub title: String,
    /// The measure, as the y-axis title.
    pub measure_name: String,
    /// The unit of the values (`%`, `days`); empty for none.
    pub unit: String,
    /// Drawn as a horizontal line.
    pub target: Option<f64>,
    /// Events to mark on the chart: a numbered marker at the date, and the
    /// text in a numbered list below it.
    pub annotations: Vec<(Date, String)>,
}

/// Making Data Count's colours: blue for improvement, orange for concern,
/// purple for neither, grey for common cause.
const IMPROVEMENT: &str = "#289de0";
const CONCERN: &str = "#fab428";
const CONCERN_EDGE: &str = "#9a6400";
const NEITHER: &str = "#361475";
const COMMON: &str = "#7b7d7d";
const INK: &str = "#231f20";
const LIMIT: &str = "#5f6368";
const TARGET: &str = "#c8102e";
const GRID: &str = "#e6e6e6";
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

const WIDTH: f64 = 600.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 40.0;
const PLOT_HEIGHT: f64 = 240.0;
const PLOT_WIDTH: f64 = WIDTH - LEFT - RIGHT;
const BOTTOM: f64 = TOP + PLOT_HEIGHT;
/// Rough width of a character of 11px text, to lay out labels and legend.
const CHAR_WIDTH: f64 = 6.0;
const ROW: f64 = 17.0;
/// At most this many signals are described in words in `<desc>`.
const DESCRIBED_SIGNALS: usize = 8;

/// Renders `analysis` as an SVG document 600 px wide (with a `viewBox`, so
/// it scales): title and description for screen readers, axes with thinned
/// date labels, the data, centre line and limits per segment, the target,
/// signal points by kind (colour and shape, with a legend) and annotations.
/// Every piece of text is XML-escaped.
pub fn render_svg(analysis: &Analysis, meta: &ChartMeta) -> String {
    let title = if meta.title.trim().is_empty() { meta.measure_name.as_str() } else { meta.title.as_str() };
    let id = format!("qnet-chart-{:08x}", fingerprint(analysis, title));
    let scale = Scale::new(analysis, meta.target);
    let highlights = highlights(analysis);
    let crossing_segments = crossing_segments(analysis);

    let mut legend = Legend::default();
    legend.add(LegendMark::Data, "Data");
    legend.add(LegendMark::Centre(INK), if analysis.chart == Chart::Run { "Median" } else { "Mean" });
    if analysis.chart == Chart::Xmr && analysis.segments.iter().any(|s| s.lower_limit.is_some()) {
        legend.add(LegendMark::Limit, "Process limits");
    }
    if meta.target.is_some_and(f64::is_finite) {
        legend.add(LegendMark::Target, "Target");
    }
    for (kind, label) in [
        (SignalKind::Improvement, "Improvement"),
        (SignalKind::Concern, "Concern"),
        (SignalKind::Neither, "Special cause, neither"),
    ] {
        if highlights.iter().any(|h| h.is_some_and(|(k, _)| k == kind)) {
            legend.add(LegendMark::Signal(kind), label);
        }
    }
    if !crossing_segments.is_empty() {
        legend.add(LegendMark::Centre(NEITHER), "Too few crossings");
    }
    let legend_top = BOTTOM + 50.0;
    let legend_rows = legend.rows();
    let notes_top = legend_top + legend_rows as f64 * ROW + 6.0;
    let height = (notes_top + meta.annotations.len() as f64 * ROW + 8.0).ceil();

    let mut s = String::with_capacity(4096 + analysis.points.len() * 48);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" viewBox="0 0 {w} {height}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="{FONT}" font-size="11">"#,
        w = WIDTH,
    );
    let _ = write!(s, r#"<title id="{id}-title">"#);
    escape_into(&mut s, title);
    let _ = write!(s, r#"</title><desc id="{id}-desc">"#);
    escape_into(&mut s, &describe(analysis, meta));
    s.push_str("</desc>");
    s.push_str(r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = write!(s, r#"<text x="{LEFT}" y="22" font-size="15" font-weight="600" fill="{INK}">"#);
    escape_into(&mut s, &truncate(title, ((WIDTH - LEFT - RIGHT) / 8.0) as usize));
    s.push_str("</text>");

    axes(&mut s, analysis, meta, &scale);
    segment_lines(&mut s, analysis, &scale, &crossing_segments);
    if let Some(target) = meta.target.filter(|t| t.is_finite()) {
        let y = scale.y(target);
        let _ = write!(
            s,
            r#"<line x1="{LEFT}" y1="{y:.1}" x2="{x2}" y2="{y:.1}" stroke="{TARGET}" stroke-width="1.5"/><text x="{x2}" y="{ty:.1}" text-anchor="end" fill="{TARGET}">Target "#,
            x2 = WIDTH - RIGHT,
            ty = y - 4.0,
        );
        escape_into(&mut s, &format_value(target));
        s.push_str("</text>");
    }
    annotation_markers(&mut s, analysis, meta, &scale);
    data(&mut s, analysis, &scale, &highlights);
    legend.render(&mut s, legend_top);
    annotation_list(&mut s, meta, notes_top);
    s.push_str("</svg>");
    s
}

/// Maps values and dates to the plot area.
struct Scale {
    first_day: f64,
    day_span: f64,
    low: f64,
    high: f64,
    ticks: Vec<f64>,
    tick_decimals: usize,
}

impl Scale {
    fn new(analysis: &Analysis, target: Option<f64>) -> Self {
        let days: Vec<f64> = analysis.points.iter().map(|p| f64::from(p.date.to_julian_day())).collect();
        let first_day = days.first().copied().unwrap_or(0.0);
        let day_span = days.last().copied().unwrap_or(0.0) - first_day;

        let values = analysis.points.iter().map(|p| p.value);
        let lines = analysis.segments.iter().flat_map(|s| [Some(s.centre), s.lower_limit, s.upper_limit]).flatten();
        let (mut low, mut high) = values
            .chain(lines)
            .chain(target)
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if low > high {
            (low, high) = (0.0, 1.0);
        }
        if high - low < 1e-9 * high.abs().max(1.0) {
            let pad = (high.abs() * 0.1).max(1.0);
            (low, high) = (low - pad, high + pad);
        }
        // A little room so that no point sits on the axis.
        let pad = (high - low) * 0.04;
        let (low, high) = (low - pad, high + pad);
        let step = nice_step((high - low) / 5.0);
        let low = (low / step).floor() * step;
        let high = (high / step).ceil() * step;
        // At most a dozen or so by construction; the cap guards absurd inputs.
        let count = (((high - low) / step).round() as usize).min(50);
        let ticks = (0..=count).map(|i| low + i as f64 * step).collect();
        let tick_decimals = (-step.log10().floor()).max(0.0) as usize;
        Scale { first_day, day_span, low, high, ticks, tick_decimals }
    }

    fn x_of_day(&self, day: f64) -> f64 {
        if self.day_span <= 0.0 { LEFT + PLOT_WIDTH / 2.0 } else { LEFT + (day - self.first_day) / self.day_span * PLOT_WIDTH }
    }

    fn x(&self, date: Date) -> f64 {
        self.x_of_day(f64::from(date.to_julian_day()))
    }

    fn y(&self, value: f64) -> f64 {
        BOTTOM - (value - self.low) / (self.high - self.low) * PLOT_HEIGHT
    }

    fn contains_day(&self, date: Date) -> bool {
        let day = f64::from(date.to_julian_day());
        day >= self.first_day && day <= self.first_day + self.day_span
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

fn axes(s: &mut String, analysis: &Analysis, meta: &ChartMeta, scale: &Scale) {
    // Horizontal grid and value labels.
    for &tick in &scale.ticks {
        let y = scale.y(tick);
        let _ = write!(
            s,
            r#"<line x1="{LEFT}" y1="{y:.1}" x2="{x2}" y2="{y:.1}" stroke="{GRID}"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="{INK}">{label}</text>"#,
            x2 = WIDTH - RIGHT,
            tx = LEFT - 6.0,
            ty = y + 4.0,
            label = format_fixed(tick, scale.tick_decimals),
        );
    }
    let _ = write!(
        s,
        r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{BOTTOM}" stroke="{INK}"/><line x1="{LEFT}" y1="{BOTTOM}" x2="{x2}" y2="{BOTTOM}" stroke="{INK}"/>"#,
        x2 = WIDTH - RIGHT,
    );

    // Date labels, thinned greedily so that none overlaps the one before.
    let label_width = 10.0 * CHAR_WIDTH + 12.0;
    let mut last_right = f64::NEG_INFINITY;
    for point in &analysis.points {
        let x = scale.x(point.date);
        let (left, right) = (x - label_width / 2.0, x + label_width / 2.0);
        if left < last_right || left < 0.0 || right > WIDTH {
            continue;
        }
        last_right = right;
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="{BOTTOM}" x2="{x:.1}" y2="{tb}" stroke="{INK}"/><text x="{x:.1}" y="{ty}" text-anchor="middle" font-size="10" fill="{INK}">{date}</text>"#,
            tb = BOTTOM + 4.0,
            ty = BOTTOM + 16.0,
            date = iso(point.date),
        );
    }

    // Axis titles.
    let _ = write!(
        s,
        r#"<text x="{x:.1}" y="{y}" text-anchor="middle" fill="{INK}">Date</text>"#,
        x = LEFT + PLOT_WIDTH / 2.0,
        y = BOTTOM + 34.0,
    );
    let mut y_title = meta.measure_name.trim().to_owned();
    if !meta.unit.trim().is_empty() {
        y_title = if y_title.is_empty() { meta.unit.trim().to_owned() } else { format!("{y_title} ({})", meta.unit.trim()) };
    }
    if !y_title.is_empty() {
        let _ = write!(
            s,
            r#"<text transform="rotate(-90)" x="{x:.1}" y="14" text-anchor="middle" fill="{INK}">"#,
            x = -(TOP + PLOT_HEIGHT / 2.0),
        );
        escape_into(s, &truncate(&y_title, (PLOT_HEIGHT / CHAR_WIDTH) as usize));
        s.push_str("</text>");
    }
}

/// Centre line and limits of each segment, and a divider where a segment starts.
fn segment_lines(s: &mut String, analysis: &Analysis, scale: &Scale, crossing_segments: &[usize]) {
    let date = |i: usize| analysis.points.get(i).map(|p| p.date);
    for (n, seg) in analysis.segments.iter().enumerate() {
        let (Some(from), Some(to)) = (date(seg.from_index), date(seg.to_index)) else { continue };
        let (x1, x2) = (scale.x(from), scale.x(to));
        if n > 0
            && let Some(previous) = seg.from_index.checked_sub(1).and_then(date)
        {
            let x = (scale.x(previous) + x1) / 2.0;
            let _ =
                write!(s, r#"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{BOTTOM}" stroke="{LIMIT}" stroke-dasharray="1 3"/>"#);
        }
        for limit in [seg.lower_limit, seg.upper_limit].into_iter().flatten().filter(|v| v.is_finite()) {
            let y = scale.y(limit);
            let _ = write!(
                s,
                r#"<line x1="{x1:.1}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="{LIMIT}" stroke-width="1.2" stroke-dasharray="6 4"/>"#
            );
        }
        if seg.centre.is_finite() {
            let y = scale.y(seg.centre);
            let (colour, dash) = if crossing_segments.contains(&n) { (NEITHER, r#" stroke-dasharray="8 3""#) } else { (INK, "") };
            let _ = write!(
                s,
                r#"<line x1="{x1:.1}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="{colour}" stroke-width="1.5"{dash}/>"#
            );
        }
    }
}

fn data(s: &mut String, analysis: &Analysis, scale: &Scale, highlights: &[Option<(SignalKind, Rule)>]) {
    let points = &analysis.points;
    if points.is_empty() {
        let _ = write!(
            s,
            r#"<text x="{x}" y="{y}" text-anchor="middle" fill="{INK}">No data</text>"#,
            x = LEFT + PLOT_WIDTH / 2.0,
            y = TOP + PLOT_HEIGHT / 2.0,
        );
        return;
    }
    let _ = write!(s, r#"<polyline fill="none" stroke="{COMMON}" stroke-width="1.5" stroke-linejoin="round" points=""#);
    for (i, p) in points.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{:.1},{:.1}", scale.x(p.date), scale.y(p.value));
    }
    s.push_str(r#""/>"#);

    let (radius, marker_size) = if points.len() > 120 { (1.5, 0.7) } else { (2.5, 1.0) };
    let _ = write!(s, r#"<g fill="{COMMON}">"#);
    for (p, _) in points.iter().zip(highlights).filter(|(_, h)| h.is_none()) {
        let _ = write!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="{radius}"/>"#, scale.x(p.date), scale.y(p.value));
    }
    s.push_str("</g>");

    for (p, &(kind, rule)) in points.iter().zip(highlights).filter_map(|(p, h)| h.as_ref().map(|h| (p, h))) {
        let (x, y) = (scale.x(p.date), scale.y(p.value));
        s.push_str("<g><title>");
        escape_into(s, &format!("{}: {} ({}, {})", iso(p.date), format_value(p.value), kind_words(kind), rule_name(rule)));
        s.push_str("</title>");
        marker(s, kind, x, y, marker_size);
        s.push_str("</g>");
    }
}

/// A signal marker: improvement a circle, concern a square, neither a diamond.
fn marker(s: &mut String, kind: SignalKind, x: f64, y: f64, size: f64) {
    let _ = match kind {
        SignalKind::Improvement => write!(
            s,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{IMPROVEMENT}" stroke="{INK}" stroke-width="0.8"/>"#,
            r = 4.5 * size
        ),
        SignalKind::Concern => write!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="{w:.1}" height="{w:.1}" fill="{CONCERN}" stroke="{CONCERN_EDGE}" stroke-width="0.8"/>"#,
            x - 4.0 * size,
            y - 4.0 * size,
            w = 8.0 * size
        ),
        SignalKind::Neither => {
            let r = 5.0 * size;
            write!(
                s,
                r#"<polygon points="{x:.1},{:.1} {:.1},{y:.1} {x:.1},{:.1} {:.1},{y:.1}" fill="{NEITHER}" stroke="{INK}" stroke-width="0.8"/>"#,
                y - r,
                x + r,
                y + r,
                x - r
            )
        }
    };
}

fn annotation_markers(s: &mut String, analysis: &Analysis, meta: &ChartMeta, scale: &Scale) {
    if analysis.points.is_empty() {
        return;
    }
    for (n, (date, _)) in meta.annotations.iter().enumerate() {
        if !scale.contains_day(*date) {
            continue;
        }
        let x = scale.x(*date);
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{BOTTOM}" stroke="{NEITHER}" stroke-opacity="0.5" stroke-dasharray="3 3"/><circle cx="{x:.1}" cy="{top}" r="7" fill="#ffffff" stroke="{NEITHER}"/><text x="{x:.1}" y="{ty}" text-anchor="middle" font-size="9" fill="{NEITHER}">{num}</text>"##,
            top = TOP + 8.0,
            ty = TOP + 11.0,
            num = n + 1,
        );
    }
}

fn annotation_list(s: &mut String, meta: &ChartMeta, top: f64) {
    let max_chars = ((WIDTH - LEFT - RIGHT - 90.0) / CHAR_WIDTH) as usize;
    for (n, (date, text)) in meta.annotations.iter().enumerate() {
        let y = top + n as f64 * ROW + 11.0;
        let _ = write!(
            s,
            r#"<text x="{LEFT}" y="{y:.1}" fill="{INK}"><tspan fill="{NEITHER}" font-weight="600">{}</tspan> {}: "#,
            n + 1,
            iso(*date)
        );
        escape_into(s, &truncate(text, max_chars));
        s.push_str("</text>");
    }
}

/// What the legend shows beside a label.
#[derive(Clone, Copy)]
enum LegendMark {
    Data,
    Centre(&'static str),
    Limit,
    Target,
    Signal(SignalKind),
}

/// Legend entries laid out in rows that wrap at the chart's width.
#[derive(Default)]
struct Legend {
    items: Vec<(LegendMark, &'static str)>,
}

impl Legend {
    fn add(&mut self, mark: LegendMark, label: &'static str) {
        self.items.push((mark, label));
    }

    fn item_width(label: &str) -> f64 {
        26.0 + label.chars().count() as f64 * CHAR_WIDTH + 14.0
    }

    /// (row, x) of each item.
    fn layout(&self) -> Vec<(usize, f64)> {
        let mut row = 0;
        let mut x = LEFT;
        self.items
            .iter()
            .map(|(_, label)| {
                let w = Self::item_width(label);
                if x + w > WIDTH - RIGHT && x > LEFT {
                    row += 1;
                    x = LEFT;
                }
                let at = (row, x);
                x += w;
                at
            })
            .collect()
    }

    fn rows(&self) -> usize {
        self.layout().last().map_or(0, |&(row, _)| row + 1)
    }

    fn render(&self, s: &mut String, top: f64) {
        for (&(mark, label), (row, x)) in self.items.iter().zip(self.layout()) {
            let y = top + row as f64 * ROW + 6.0;
            let (x1, x2, mid) = (x, x + 20.0, x + 10.0);
            let _ = match mark {
                LegendMark::Data => write!(
                    s,
                    r#"<line x1="{x1:.1}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="{COMMON}" stroke-width="1.5"/><circle cx="{mid:.1}" cy="{y:.1}" r="2.5" fill="{COMMON}"/>"#
                ),
                LegendMark::Centre(colour) => {
                    let dash = if colour == INK { "" } else { r#" stroke-dasharray="8 3""# };
                    write!(
                        s,
                        r#"<line x1="{x1:.1}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="{colour}" stroke-width="1.5"{dash}/>"#
                    )
                }
                LegendMark::Limit => write!(
                    s,
                    r#"<line x1="{x1:.1}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="{LIMIT}" stroke-width="1.2" stroke-dasharray="6 4"/>"#
                ),
                LegendMark::Target => {
                    write!(s, r#"<line x1="{x1:.1}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}" stroke="{TARGET}" stroke-width="1.5"/>"#)
                }
                LegendMark::Signal(kind) => {
                    marker(s, kind, mid, y, 1.0);
                    Ok(())
                }
            };
            let _ = write!(s, r#"<text x="{:.1}" y="{:.1}" fill="{INK}">{label}</text>"#, x + 26.0, y + 4.0);
        }
    }
}

/// For each point, the kind and rule of the signal it is drawn as: the
/// highest-precedence rule among the signals that hold it. Crossings signals
/// are shown on the centre line instead, as they concern the whole segment.
fn highlights(analysis: &Analysis) -> Vec<Option<(SignalKind, Rule)>> {
    let mut out: Vec<Option<(SignalKind, Rule)>> = vec![None; analysis.points.len()];
    for signal in analysis.signals.iter().filter(|s| s.rule != Rule::Crossings) {
        for &i in &signal.points {
            if let Some(slot) = out.get_mut(i)
                && slot.is_none_or(|(_, rule)| signal.rule.precedence() < rule.precedence())
            {
                *slot = Some((signal.kind, signal.rule));
            }
        }
    }
    out
}

/// Indices of the segments with a crossings signal.
fn crossing_segments(analysis: &Analysis) -> Vec<usize> {
    analysis
        .signals
        .iter()
        .filter(|s| s.rule == Rule::Crossings)
        .filter_map(|s| {
            let first = *s.points.first()?;
            analysis.segments.iter().position(|seg| seg.from_index <= first && first <= seg.to_index)
        })
        .collect()
}

/// The chart in words, for `<desc>`: what it shows, the centre and limits,
/// the signals and the verdict.
fn describe(analysis: &Analysis, meta: &ChartMeta) -> String {
    let mut d = String::new();
    let chart = match analysis.chart {
        Chart::Run => "Run chart",
        Chart::Xmr => "XmR chart",
    };
    let measure = meta.measure_name.trim();
    let _ = write!(d, "{chart}");
    if !measure.is_empty() {
        let _ = write!(d, " of {measure}");
    }
    if !meta.unit.trim().is_empty() {
        let _ = write!(d, " ({})", meta.unit.trim());
    }
    let (Some(first), Some(last)) = (analysis.points.first(), analysis.points.last()) else {
        d.push_str(": no points.");
        return d;
    };
    let _ = write!(d, ": {} points from {} to {}. ", analysis.points.len(), iso(first.date), iso(last.date));

    let centre = if analysis.chart == Chart::Run { "median" } else { "mean" };
    let segment_words = |seg: &crate::model::Segment| {
        let mut w = format!("{centre} {}", format_value(seg.centre));
        if let (Some(lo), Some(hi)) = (seg.lower_limit, seg.upper_limit) {
            let _ = write!(w, ", process limits {} to {}", format_value(lo), format_value(hi));
        }
        w
    };
    match analysis.segments.as_slice() {
        [] => {}
        [only] => {
            let words = segment_words(only);
            let _ = write!(d, "{}{}. ", words[..1].to_uppercase(), &words[1..]);
        }
        segments => {
            let _ = write!(d, "{} segments, recalculated at break points: ", segments.len());
            for (n, seg) in segments.iter().enumerate() {
                let from = analysis.points.get(seg.from_index).map_or_else(String::new, |p| iso(p.date));
                let _ = write!(d, "{}from {from}, {}", if n > 0 { "; " } else { "" }, segment_words(seg));
            }
            d.push_str(". ");
        }
    }
    if let Some(target) = meta.target.filter(|t| t.is_finite()) {
        let _ = write!(d, "Target {}. ", format_value(target));
    }

    // Only run charts have these numbers (of the last segment).
    if let (Some(run), Some(run_max), Some(crossings), Some(min)) =
        (analysis.longest_run, analysis.longest_run_max, analysis.crossings, analysis.crossings_min)
    {
        let _ = write!(d, "Longest run {run} (a shift when over {run_max}); {crossings} crossings (too few when under {min}). ");
    }
    if !analysis.not_evaluated.is_empty() {
        d.push_str("Too few points to apply: ");
        let list: Vec<String> =
            analysis.not_evaluated.iter().map(|n| format!("{} (needs {})", rule_name(n.rule), n.needs_points)).collect();
        d.push_str(&list.join(", "));
        d.push_str(". ");
    }

    if analysis.signals.is_empty() {
        d.push_str("No signals. ");
    } else {
        let _ = write!(d, "{} signal{}: ", analysis.signals.len(), if analysis.signals.len() == 1 { "" } else { "s" });
        let words: Vec<String> = analysis.signals.iter().take(DESCRIBED_SIGNALS).map(|s| signal_words(analysis, s)).collect();
        d.push_str(&words.join("; "));
        if analysis.signals.len() > DESCRIBED_SIGNALS {
            let _ = write!(d, "; and {} more", analysis.signals.len() - DESCRIBED_SIGNALS);
        }
        d.push_str(". ");
    }

    match analysis.variation {
        Some(Variation::CommonCause) => d.push_str("Latest point: common cause variation."),
        Some(Variation::SpecialCauseImprovement) => d.push_str("Latest point: special cause variation, improvement."),
        Some(Variation::SpecialCauseConcern) => d.push_str("Latest point: special cause variation, concern."),
        Some(Variation::SpecialCauseNeither) => d.push_str("Latest point: special cause variation, neither."),
        None if analysis.signals.is_empty() => d.push_str("Verdict: random variation."),
        None => d.push_str("Verdict: non-random variation."),
    }
    match analysis.assurance {
        Some(Assurance::ConsistentlyMet) => d.push_str(" Assurance: the target is consistently met."),
        Some(Assurance::ConsistentlyMissed) => d.push_str(" Assurance: the target is consistently missed."),
        Some(Assurance::Inconsistent) => d.push_str(" Assurance: the target is met inconsistently."),
        None => {}
    }
    d
}

fn signal_words(analysis: &Analysis, signal: &Signal) -> String {
    let date = |i: usize| analysis.points.get(i).map_or_else(|| format!("point {i}"), |p| iso(p.date));
    let (Some(&first), Some(&last)) = (signal.points.first(), signal.points.last()) else {
        return rule_name(signal.rule).to_owned();
    };
    let count = signal.points.len();
    let what = match signal.rule {
        Rule::Astronomical => "a point beyond a process limit".to_owned(),
        Rule::Shift if analysis.chart == Chart::Run => format!("a shift, a run of {count} points on one side of the median"),
        Rule::Shift => format!("a shift, {count} points on one side of the mean"),
        Rule::Trend => {
            let rising = match (analysis.points.get(first), analysis.points.get(first + 1)) {
                (Some(a), Some(b)) => b.value > a.value,
                _ => true,
            };
            format!("a trend, {count} points {}", if rising { "rising" } else { "falling" })
        }
        Rule::TwoInThree => "two of three points close to a process limit".to_owned(),
        Rule::Crossings => "too few crossings of the median".to_owned(),
    };
    let when = if first == last { format!("at {}", date(first)) } else { format!("from {} to {}", date(first), date(last)) };
    format!("{what} ({}) {when}", kind_words(signal.kind))
}

fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::Astronomical => "astronomical point",
        Rule::Trend => "trend",
        Rule::TwoInThree => "two in three",
        Rule::Shift => "shift",
        Rule::Crossings => "crossings",
    }
}

fn kind_words(kind: SignalKind) -> &'static str {
    match kind {
        SignalKind::Improvement => "improvement",
        SignalKind::Concern => "concern",
        SignalKind::Neither => "neither improvement nor concern",
    }
}

fn iso(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// A value for people: up to 4 significant figures below 1,000, whole
/// numbers above, without trailing zeros.
fn format_value(v: f64) -> String {
    let magnitude = v.abs();
    let decimals = if magnitude >= 1000.0 {
        0
    } else if magnitude >= 100.0 {
        1
    } else if magnitude >= 10.0 {
        2
    } else if magnitude >= 1.0 {
        3
    } else {
        4
    };
    let text = format_fixed(v, decimals);
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
}

/// `v` with `decimals` decimals, never `-0`.
fn format_fixed(v: f64, decimals: usize) -> String {
    let text = format!("{v:.decimals$}");
    if text.starts_with('-') && text[1..].chars().all(|c| c == '0' || c == '.') { text[1..].to_owned() } else { text }
}

/// At most `max` characters, with an ellipsis when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// Appends `text` with `& < > " '` escaped and the characters XML 1.0 does
/// not allow dropped (control characters other than tab, newline and
/// carriage return, and U+FFFE, U+FFFF).
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

/// A short hash of what is drawn, so that two charts inlined in one page do
/// not share element ids (FNV-1a).
fn fingerprint(analysis: &Analysis, title: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u32::from(b);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    };
    feed(title.as_bytes());
    for p in &analysis.points {
        feed(&p.date.to_julian_day().to_le_bytes());
        feed(&p.value.to_bits().to_le_bytes());
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        let mut out = String::new();
        escape_into(&mut out, "a<b>&\"c'\u{0}\u{7}\td\u{FFFF}é");
        assert_eq!(out, "a&lt;b&gt;&amp;&quot;c&apos;\tdé");
    }

    #[test]
    fn values_are_formatted_for_people() {
        assert_eq!(format_value(12.5), "12.5");
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(1234.56), "1235");
        assert_eq!(format_value(0.12345), "0.1235");
        assert_eq!(format_value(-0.00001), "0");
        assert_eq!(format_fixed(-0.0, 1), "0.0");
    }

    #[test]
    fn nice_steps_are_one_two_or_five() {
        assert_eq!(nice_step(0.9), 1.0);
        assert_eq!(nice_step(1.3), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert!((nice_step(0.03) - 0.05).abs() < 1e-12);
    }

    #[test]
    fn truncates_on_characters_not_bytes() {
        assert_eq!(truncate("ééééé", 3), "éé…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
