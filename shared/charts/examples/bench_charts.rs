//! Times `analyse` (run and XmR) and `render_svg` on a realistic 1,000-point
//! series and prints the mean and 99th percentile per call.
//!
//! Run in release: `cargo run --release -p qnet-charts --example bench_charts`
//! (or `scripts/bench-charts-pure`). Targets: analysis under 1 ms, SVG under
//! 10 ms per call.

use std::hint::black_box;
use std::time::Instant;

use qnet_charts::{Analysis, Chart, ChartMeta, Direction, Options, Point, analyse, render_svg};
use time::{Duration, macros::date};

const POINTS: usize = 1000;
const ANALYSIS_ITERATIONS: usize = 5000;
const SVG_ITERATIONS: usize = 1000;

/// A 64-bit linear congruential generator (Knuth's MMIX constants): seeded,
/// deterministic, and good enough for test data.
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly standard normal: the sum of 12 uniforms, less 6.
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
    }
}

/// Daily values around 60 with a weekly rhythm, an occasional outlier, and a
/// step up of 6 from day 600 (where the limits are recalculated).
fn series() -> Vec<Point> {
    let mut rng = Lcg(0x5eed_c4a7);
    (0..POINTS)
        .map(|i| {
            let weekly = 2.0 * (i as f64 * std::f64::consts::TAU / 7.0).sin();
            let step = if i >= 600 { 6.0 } else { 0.0 };
            let outlier = if rng.uniform() < 0.01 { 15.0 } else { 0.0 };
            let value = 60.0 + weekly + step + outlier + 4.0 * rng.normal();
            Point::new(date!(2022 - 01 - 01) + Duration::days(i as i64), (value * 10.0).round() / 10.0)
        })
        .collect()
}

/// Mean and 99th percentile, in milliseconds, of `iterations` timed calls.
fn time<T>(iterations: usize, mut call: impl FnMut() -> T) -> (f64, f64) {
    for _ in 0..iterations / 10 {
        black_box(call());
    }
    let mut samples: Vec<f64> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            black_box(call());
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    let p99 = samples[(samples.len() * 99).div_ceil(100) - 1];
    (mean, p99)
}

fn report(what: &str, (mean, p99): (f64, f64)) {
    println!("{what} {POINTS} points: mean {mean:.3} ms p99 {p99:.3} ms");
}

fn main() {
    let points = series();
    let options = |chart| Options {
        chart,
        baseline: None,
        recalculate_from: Some(points[600].date),
        improvement_direction: Direction::Up,
        target: Some(65.0),
    };
    let run = options(Chart::Run);
    let xmr = options(Chart::Xmr);
    let meta = ChartMeta {
        title: "Patients seen within 4 hours".to_owned(),
        measure_name: "Patients seen".to_owned(),
        unit: "per day".to_owned(),
        target: Some(65.0),
        annotations: vec![(points[600].date, "New streaming model".to_owned())],
    };

    report("analysis run", time(ANALYSIS_ITERATIONS, || analyse(black_box(&points), black_box(&run))));
    report("analysis xmr", time(ANALYSIS_ITERATIONS, || analyse(black_box(&points), black_box(&xmr))));
    let run_analysis: Analysis = analyse(&points, &run).expect("the series is valid");
    let xmr_analysis: Analysis = analyse(&points, &xmr).expect("the series is valid");
    report("svg run", time(SVG_ITERATIONS, || render_svg(black_box(&run_analysis), black_box(&meta))));
    report("svg xmr", time(SVG_ITERATIONS, || render_svg(black_box(&xmr_analysis), black_box(&meta))));
    println!(
        "({} xmr signals, {} run signals, svg {} bytes; targets: analysis < 1 ms, svg < 10 ms)",
        xmr_analysis.signals.len(),
        run_analysis.signals.len(),
        render_svg(&xmr_analysis, &meta).len()
    );
}
