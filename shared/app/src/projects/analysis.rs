//! A measure's analysis (run chart or XmR) and its SVG chart.

use crate::projects::views::AnalysisRequest;
use crate::{App, AppError, AppResult};
use qnet_charts::{Analysis, AnalysisError, Chart, ChartMeta, Direction, Options, Point};
use qnet_domain::FieldErrors;
use qnet_domain::project::{ImprovementDirection, parse_date};
use qnet_domain::project::{Measure, Project};

pub(crate) fn direction(d: ImprovementDirection) -> Direction {
    match d {
        ImprovementDirection::Up => Direction::Up,
        ImprovementDirection::Down => Direction::Down,
        ImprovementDirection::Neither => Direction::Neither,
    }
}

pub(crate) fn analysis_error(e: AnalysisError) -> AppError {
    let field = match e {
        AnalysisError::BaselineTooShort { .. } => "baseline",
        AnalysisError::SegmentTooShort { .. } => "recalculate_from",
        AnalysisError::NonFiniteTarget => "target",
        _ => "points",
    };
    AppError::invalid(field, &e.to_string())
}

impl App {
    pub(crate) async fn analyse_measure(
        &self,
        project_id: &str,
        measure_id: &str,
        req: &AnalysisRequest,
    ) -> AppResult<(Project, Measure, Analysis)> {
        let mut errors = FieldErrors::new();
        let chart = match req.chart.as_deref() {
            Some("run") => Some(Chart::Run),
            Some("xmr") => Some(Chart::Xmr),
            Some(_) => {
                errors.push("chart", "must be run or xmr");
                None
            }
            None => {
                errors.push("chart", "is required: run or xmr");
                None
            }
        };
        let baseline = match req.baseline.as_deref() {
            None => None,
            Some(b) => match b.trim().parse::<usize>() {
                Ok(n) if (2..=100_000).contains(&n) => Some(n),
                _ => {
                    errors.push("baseline", "must be a whole number of points, at least 2");
                    None
                }
            },
        };
        let recalculate_from = match req.recalculate_from.as_deref() {
            None => None,
            Some(d) => match parse_date(d) {
                Some(d) => Some(d),
                None => {
                    errors.push("recalculate_from", "must be a date as YYYY-MM-DD");
                    None
                }
            },
        };
        let (p, _) = self.load_project(project_id).await?;
        let (m, _) = self.load_measure(project_id, measure_id).await?;
        let Some(chart) = chart else { return Err(AppError::Invalid(errors)) };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let points: Vec<Point> = self.load_points(measure_id).await?.into_iter().map(|p| Point::new(p.date, p.value)).collect();
        let options = Options {
            chart,
            baseline,
            recalculate_from,
            improvement_direction: direction(m.improvement_direction),
            target: m.target,
        };
        let analysis = qnet_charts::analyse(&points, &options).map_err(analysis_error)?;
        Ok((p, m, analysis))
    }

    /// The run or XmR analysis of a measure (the JSON contract of `qnet-charts`).
    pub async fn measure_analysis(&self, project_id: &str, measure_id: &str, req: &AnalysisRequest) -> AppResult<Analysis> {
        Ok(self.analyse_measure(project_id, measure_id, req).await?.2)
    }

    /// The chart of a measure as an accessible SVG.
    pub async fn measure_chart(&self, project_id: &str, measure_id: &str, req: &AnalysisRequest) -> AppResult<String> {
        let (p, m, analysis) = self.analyse_measure(project_id, measure_id, req).await?;
        let annotations =
            self.annotations(measure_id).await?.into_iter().filter_map(|a| parse_date(&a.date).map(|d| (d, a.text))).collect();
        let meta = ChartMeta {
            title: format!("{}: {}", p.title, m.name),
            measure_name: m.name.clone(),
            unit: m.unit.clone().unwrap_or_default(),
            target: m.target,
            annotations,
        };
        Ok(qnet_charts::render_svg(&analysis, &meta))
    }
}
