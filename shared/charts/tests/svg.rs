//! The SVG: well-formed, accessible, escaped, and readable at 600 px.

mod common;

use common::*;
use qnet_charts::{Analysis, Chart, ChartMeta, Direction, Options, analyse, render_svg};
use time::Duration;

fn meta(title: &str) -> ChartMeta {
    ChartMeta {
        title: title.to_owned(),
        measure_name: "Patients seen within 4 hours".to_owned(),
        unit: "%".to_owned(),
        target: None,
        annotations: Vec::new(),
    }
}

/// An XmR chart with an improvement (a point above the limit) and a concern
/// (a point below it).
fn xmr_with_signals(direction: Direction) -> Analysis {
    let mut values = alternating(12, 12.0, 10.0);
    values.extend([17.0, 11.5, 5.0, 12.0, 17.5]);
    analyse_values(&values, &Options { baseline: Some(12), ..options(Chart::Xmr, direction) }).unwrap()
}

/// The text of every element whose start tag contains `marker`.
fn texts_of<'a>(svg: &'a str, marker: &str) -> Vec<&'a str> {
    svg.match_indices(marker)
        .filter_map(|(at, _)| {
            let start = svg[at..].find('>')? + at + 1;
            let end = svg[start..].find('<')? + start;
            Some(&svg[start..end])
        })
        .collect()
}

fn attribute<'a>(svg: &'a str, name: &str) -> &'a str {
    let at = svg.find(&format!(" {name}=\"")).unwrap_or_else(|| panic!("no {name}")) + name.len() + 3;
    &svg[at..at + svg[at..].find('"').unwrap()]
}

#[test]
fn the_checker_rejects_what_it_should() {
    assert!(check_well_formed(r#"<a x="1"><b/>t &amp; u</a>"#).is_ok());
    assert!(check_well_formed("<a><b></a></b>").is_err());
    assert!(check_well_formed("<a>x & y</a>").is_err());
    assert!(check_well_formed(r#"<a x="<"/>"#).is_err());
    assert!(check_well_formed(r#"<a x=1/>"#).is_err());
    assert!(check_well_formed(r#"<a x="1" x="2"/>"#).is_err());
    assert!(check_well_formed("<a></a><b></b>").is_err());
    assert!(check_well_formed("<a>").is_err());
}

#[test]
fn an_xmr_chart_is_well_formed_and_labelled_for_screen_readers() {
    let svg = render_svg(&xmr_with_signals(Direction::Up), &meta("A&E: 4-hour performance"));
    check_well_formed(&svg).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_eq!(attribute(&svg, "width"), "600");
    assert!(attribute(&svg, "viewBox").starts_with("0 0 600 "));
    assert_eq!(attribute(&svg, "role"), "img");
    let labelled_by: Vec<&str> = attribute(&svg, "aria-labelledby").split(' ').collect();
    assert_eq!(labelled_by.len(), 2);
    assert!(svg.contains(&format!(r#"<title id="{}">A&amp;E: 4-hour performance</title>"#, labelled_by[0])));
    assert!(svg.contains(&format!(r#"<desc id="{}">"#, labelled_by[1])));
    assert!(svg.contains(">Date</text>"), "x-axis title");
    assert!(svg.contains(">Patients seen within 4 hours (%)</text>"), "y-axis title");
}

#[test]
fn the_description_says_what_the_chart_shows() {
    let mut m = meta("Four hours");
    m.target = Some(20.0);
    let analysis = analyse_values(
        &[alternating(12, 12.0, 10.0), vec![17.0, 11.5, 5.0, 12.0, 17.5]].concat(),
        &Options { baseline: Some(12), target: Some(20.0), ..options(Chart::Xmr, Direction::Up) },
    )
    .unwrap();
    let svg = render_svg(&analysis, &m);
    let desc = texts_of(&svg, "<desc")[0];
    for expected in [
        "XmR chart of Patients seen within 4 hours (%): 17 points from 2024-01-01 to 2024-04-22.",
        "Mean 11, process limits 5.68 to 16.32.",
        "Target 20.",
        "3 signals: a point beyond a process limit (improvement) at 2024-03-25",
        "a point beyond a process limit (concern) at 2024-04-08",
        "Latest point: special cause variation, improvement.",
        "Assurance: the target is consistently missed.",
    ] {
        assert!(desc.contains(expected), "{expected:?} not in {desc:?}");
    }
}

#[test]
fn hostile_text_is_escaped_everywhere() {
    let hostile = ChartMeta {
        title: r#"<script>alert("x")</script> & 'q'"#.to_owned(),
        measure_name: "]]><!-- <b>".to_owned(),
        unit: "\"><g onload=\"x".to_owned(),
        target: Some(15.0),
        annotations: vec![(day(3), "</text><svg onload=alert(1)>\u{0}".to_owned())],
    };
    let svg = render_svg(&xmr_with_signals(Direction::Up), &hostile);
    check_well_formed(&svg).unwrap();
    assert!(!svg.contains("<script"));
    assert!(!svg.contains("<svg onload"));
    assert!(!svg.contains("<!--"));
    assert!(!svg.contains("<g onload"));
    assert!(!svg.contains('\u{0}'));
    assert!(svg.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;q&apos;"));
    assert!(svg.contains("&lt;/text&gt;&lt;svg onload=alert(1)&gt;"));
}

#[test]
fn a_thousand_points_render_with_thinned_date_labels() {
    let values: Vec<f64> = (0..1000).map(|i| 50.0 + ((i * 37) % 11) as f64 - 5.0).collect();
    let analysis = analyse_values(&values, &options(Chart::Xmr, Direction::Up)).unwrap();
    let svg = render_svg(&analysis, &meta("Daily admissions"));
    check_well_formed(&svg).unwrap();
    assert_eq!(attribute(&svg, "points").split(' ').count(), 1000, "every point is on the line");
    assert!(svg.len() < 250_000, "{} bytes", svg.len());

    let labels: Vec<&str> = texts_of(&svg, r#"font-size="10""#);
    assert!((3..=8).contains(&labels.len()), "{labels:?}");
    assert!(labels.iter().all(|l| l.len() == 10 && l.starts_with("20")), "{labels:?}");
    // Labels are at least a label's width apart.
    let xs: Vec<f64> = svg
        .match_indices(r#"text-anchor="middle" font-size="10""#)
        .map(|(at, _)| {
            let start = svg[..at].rfind("<text x=\"").unwrap() + 9;
            svg[start..start + svg[start..].find('"').unwrap()].parse().unwrap()
        })
        .collect();
    assert!(xs.windows(2).all(|w| w[1] - w[0] >= 60.0), "{xs:?}");
}

#[test]
fn equal_values_render_without_nan() {
    for chart in [Chart::Run, Chart::Xmr] {
        let analysis = analyse_values(&[7.0; 15], &options(chart, Direction::Up)).unwrap();
        let svg = render_svg(&analysis, &meta("Flat"));
        check_well_formed(&svg).unwrap();
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{chart:?}");
        assert!(svg.contains("<polyline"));
    }
}

#[test]
fn a_run_chart_has_a_median_and_no_limits() {
    let values: Vec<f64> = (1..=10).map(f64::from).collect();
    let analysis = analyse_values(&values, &options(Chart::Run, Direction::Up)).unwrap();
    let svg = render_svg(&analysis, &meta("Run"));
    check_well_formed(&svg).unwrap();
    assert!(!svg.contains(r#"stroke-dasharray="6 4""#), "no limit lines");
    assert!(!svg.contains("Process limits"));
    assert!(svg.contains(">Median</text>"));
    assert!(svg.contains(">Too few crossings</text>"), "the crossings signal is in the legend");
    let desc = texts_of(&svg, "<desc")[0];
    assert!(desc.contains("Run chart of Patients seen within 4 hours (%): 10 points"), "{desc}");
    assert!(desc.contains("Median 5.5."), "{desc}");
    assert!(desc.contains("Longest run 5 (a shift when over 6); 1 crossings (too few when under 2)."), "{desc}");
    assert!(desc.contains("Verdict: non-random variation."), "{desc}");
}

#[test]
fn signals_are_drawn_in_making_data_count_colours_with_a_legend() {
    let svg = render_svg(&xmr_with_signals(Direction::Up), &meta("Signals"));
    assert!(svg.contains(r##"fill="#289de0""##), "improvement blue");
    assert!(svg.contains(r##"<rect x="##) && svg.contains(r##"fill="#fab428""##), "concern orange square");
    assert!(svg.contains(">Improvement</text>") && svg.contains(">Concern</text>"));
    assert!(!svg.contains("Special cause, neither"));

    let svg = render_svg(&xmr_with_signals(Direction::Neither), &meta("Signals"));
    assert!(svg.contains(r##"<polygon points="##) && svg.contains(r##"fill="#361475""##), "neither purple diamond");
    assert!(svg.contains(">Special cause, neither</text>"));
    assert!(!svg.contains(">Improvement</text>"));
}

#[test]
fn limits_target_and_break_points_are_drawn_per_segment() {
    let mut values = alternating(12, 9.0, 11.0);
    values.extend(alternating(12, 19.0, 21.0));
    let options = Options { recalculate_from: Some(day(12)), ..options(Chart::Xmr, Direction::Up) };
    let analysis = analyse_values(&values, &options).unwrap();
    let mut m = meta("Segments");
    m.target = Some(18.0);
    let svg = render_svg(&analysis, &m);
    check_well_formed(&svg).unwrap();
    assert_eq!(svg.matches(r#"stroke-dasharray="6 4""#).count(), 2 * 2 + 1, "two limits per segment and the legend");
    assert_eq!(svg.matches(r#"stroke-dasharray="1 3""#).count(), 1, "one break marker");
    assert!(svg.contains(">Target 18</text>") && svg.contains(">Target</text>"));
    assert!(texts_of(&svg, "<desc")[0].contains("2 segments, recalculated at break points: from 2024-01-01, mean 10"));
}

#[test]
fn annotations_are_numbered_markers_with_their_text_listed() {
    let mut m = meta("Annotated");
    m.annotations =
        vec![(day(4) + Duration::days(2), "New triage process".to_owned()), (day(400), "Outside the dates".to_owned())];
    let svg = render_svg(&xmr_with_signals(Direction::Up), &m);
    check_well_formed(&svg).unwrap();
    assert!(svg.contains("1</tspan> 2024-01-31: New triage process</text>"));
    assert!(svg.contains("2</tspan> 2031-09-01: Outside the dates</text>"));
    assert_eq!(svg.matches(r#"r="7""#).count(), 1, "a marker only for the annotation within the dates");
}

#[test]
fn an_empty_hand_built_analysis_still_renders() {
    let mut analysis = xmr_with_signals(Direction::Up);
    analysis.points.clear();
    analysis.segments.clear();
    analysis.signals.clear();
    let svg = render_svg(&analysis, &ChartMeta::default());
    check_well_formed(&svg).unwrap();
    assert!(svg.contains(">No data</text>"));
}

#[test]
fn two_charts_on_one_page_do_not_share_ids() {
    let a = render_svg(&xmr_with_signals(Direction::Up), &meta("One"));
    let b = render_svg(&analyse(&series(&[1.0, 2.0, 3.0]), &Options::new(Chart::Run)).unwrap(), &meta("Two"));
    assert_ne!(attribute(&a, "aria-labelledby"), attribute(&b, "aria-labelledby"));
}

#[test]
fn extreme_values_do_not_break_the_scale() {
    for values in [[1e300, -1e300, 0.0], [1e15, 1e15 + 1.0, 1e15], [1e-12, 2e-12, 1.5e-12]] {
        let analysis = analyse_values(&values, &options(Chart::Xmr, Direction::Up)).unwrap();
        let svg = render_svg(&analysis, &meta("Extreme"));
        check_well_formed(&svg).unwrap();
        assert!(svg.matches("<line").count() < 100, "{values:?}");
    }
}
