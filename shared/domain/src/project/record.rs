//! The records a project keeps: the project, its PDSA cycles, its measures and
//! the notes on a measure's chart.

use serde::{Deserialize, Serialize};

use super::{Classification, Frequency, ImprovementDirection, MeasureType, PointRef, ProjectStatus};

/// A project as stored (and, with names filled in, as answered).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Project {
    pub id: String,
    pub title: String,
    pub aim: String,
    pub problem: Option<String>,
    pub organisation_ids: Vec<String>,
    /// Member ids; the lead is always one of them.
    pub team: Vec<String>,
    /// Member ids invited to the team who have not accepted yet: not on the
    /// team, not following.
    #[serde(default)]
    pub invited: Vec<String>,
    pub lead_id: String,
    pub topics: Vec<String>,
    pub status: ProjectStatus,
    pub started_on: Option<String>,
    pub classification: Option<Classification>,
    pub progress_score: Option<f64>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// A PDSA cycle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pdsa {
    pub id: String,
    pub project_id: String,
    pub title: Option<String>,
    pub plan: String,
    pub prediction: Option<String>,
    #[serde(rename = "do")]
    pub do_: Option<String>,
    pub study: Option<String>,
    pub act: Option<String>,
    pub started_on: Option<String>,
    pub ended_on: Option<String>,
    /// The measure data points the cycle relates to.
    pub points: Vec<PointRef>,
    pub created_by: String,
    pub created_at: String,
}

/// A measure of a project.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Measure {
    pub id: String,
    pub project_id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub measure_type: MeasureType,
    pub unit: Option<String>,
    pub improvement_direction: ImprovementDirection,
    pub target: Option<f64>,
    pub frequency: Option<Frequency>,
    /// How the measure is defined (numerator, denominator, source).
    pub definition: Option<String>,
    pub point_count: usize,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// A note on a date of a measure's chart.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Annotation {
    pub id: String,
    pub measure_id: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub text: String,
    pub created_by: String,
    pub created_at: String,
}
