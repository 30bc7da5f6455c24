//! The wire shape of each project request body, for the OpenAPI document only:
//! the parsers in `super` read the `serde_json::Value` (reporting every field error
//! at once) and these types describe the same contract to clients. utoipa takes
//! only literal numbers for limits, so `super::tests::schema_matches_parser` checks
//! each literal against the constant the parser uses.

use serde::Deserialize;
use utoipa::ToSchema;

/// A new project. The creator joins the team as its lead and follows the board.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectInput {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    /// What, by how much, by when.
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub aim: String,
    #[schema(max_length = 10000)]
    pub problem: Option<String>,
    /// One or more organisation ids: cross-organisation projects are normal.
    #[schema(min_items = 1, max_items = 10)]
    pub organisation_ids: Vec<String>,
    /// Member ids of the rest of the team.
    #[schema(max_items = 30)]
    pub team: Option<Vec<String>>,
    #[schema(max_items = 10)]
    pub topics: Option<Vec<String>>,
    /// `idea` (default), `active`, `sustaining`, `completed`, `stopped`.
    pub status: Option<crate::project::ProjectStatus>,
    /// `YYYY-MM-DD`, not in the future.
    #[schema(format = Date)]
    pub started_on: Option<String>,
    /// See `GET /projects/classification-questions`.
    pub classification: Option<crate::project::Classification>,
    /// The IHI progress scale: 0.5, 1, 1.5, … 5.
    #[schema(minimum = 0.5, maximum = 5, multiple_of = 0.5)]
    pub progress_score: Option<f64>,
}

/// Changes to a project; absent fields stay, null clears an optional one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatchInput {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: Option<String>,
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub aim: Option<String>,
    #[schema(max_length = 10000)]
    pub problem: Option<String>,
    #[schema(min_items = 1, max_items = 10)]
    pub organisation_ids: Option<Vec<String>>,
    /// The whole team (the lead always stays on it).
    #[schema(max_items = 30)]
    pub team: Option<Vec<String>>,
    #[schema(max_items = 10)]
    pub topics: Option<Vec<String>>,
    pub status: Option<crate::project::ProjectStatus>,
    #[schema(format = Date)]
    pub started_on: Option<String>,
    pub classification: Option<crate::project::Classification>,
    #[schema(minimum = 0.5, maximum = 5, multiple_of = 0.5)]
    pub progress_score: Option<f64>,
}

/// A PDSA cycle.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PdsaInput {
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[schema(min_length = 1, max_length = 10000, pattern = r"\S")]
    pub plan: String,
    #[schema(max_length = 10000)]
    pub prediction: Option<String>,
    #[schema(max_length = 10000)]
    #[serde(rename = "do")]
    pub do_: Option<String>,
    #[schema(max_length = 10000)]
    pub study: Option<String>,
    #[schema(max_length = 10000)]
    pub act: Option<String>,
    #[schema(format = Date)]
    pub started_on: Option<String>,
    /// Not before `started_on`, not in the future.
    #[schema(format = Date)]
    pub ended_on: Option<String>,
    /// The measure data points the cycle relates to (each must exist).
    #[schema(max_items = 500)]
    pub points: Option<Vec<crate::project::PointRef>>,
}

/// A new measure, or (PATCH) the fields to change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureInput {
    /// Required when creating.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    /// Required when creating.
    #[serde(rename = "type")]
    pub measure_type: Option<crate::project::MeasureType>,
    #[schema(max_length = 50)]
    pub unit: Option<String>,
    /// Required when creating.
    pub improvement_direction: Option<crate::project::ImprovementDirection>,
    pub target: Option<f64>,
    pub frequency: Option<crate::project::Frequency>,
    #[schema(max_length = 10000)]
    pub definition: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointInput {
    /// `YYYY-MM-DD`, not in the future, once per upload.
    #[schema(format = Date)]
    pub date: String,
    #[schema(minimum = -1e12, maximum = 1e12)]
    pub value: f64,
}

/// Points to add, or to replace the value on their dates.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointsInput {
    #[schema(min_items = 1, max_items = 10000)]
    pub points: Vec<PointInput>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnotationInput {
    #[schema(format = Date)]
    pub date: String,
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub text: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostInput {
    #[schema(min_length = 1, max_length = 10000, pattern = r"\S")]
    pub body: String,
}
