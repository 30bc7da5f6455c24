//! What `GET /insights` answers: tables of counts, each row a scope (the
//! system, an organisation type, an organisation), each cell a count or
//! "fewer than 5".

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InsightsView {
    /// First month of the period (`YYYY-MM`, UTC).
    #[schema(example = "2026-01")]
    pub from: String,
    /// Last month of the period, included.
    #[schema(example = "2026-12")]
    pub to: String,
    /// The organisation asked for, if any.
    pub organisation: Option<String>,
    /// The organisation type asked for (or the chosen organisation's), if any.
    pub organisation_type: Option<String>,
    /// Counts from 1 to one less than this are suppressed in every row (the
    /// system's, each organisation type's and each organisation's), so that
    /// no count points at a few people.
    pub suppression_threshold: i64,
    /// Every other count is rounded to the nearest multiple of this (half
    /// up), so that no suppressed count can be found by subtraction.
    pub rounding_base: i64,
    /// The tables, each downloadable from `GET /insights.csv?table=<name>`.
    pub tables: Vec<InsightsTable>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InsightsTable {
    /// `projects_by_status`, `projects_by_classification`, `projects_by_topic`,
    /// `progress_scores`, `case_studies_published`, `activity`, `people` or
    /// `coffee_by_organisation_type`.
    pub name: String,
    pub caption: String,
    /// What is counted and how.
    pub description: String,
    pub columns: Vec<InsightsColumn>,
    pub rows: Vec<InsightsRow>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InsightsColumn {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InsightsRow {
    /// `system`, `organisation_type` or `organisation`.
    pub scope: String,
    /// The organisation type or organisation id (none for the system).
    pub id: Option<String>,
    pub label: String,
    /// One per column, in the columns' order.
    pub cells: Vec<InsightsCell>,
}

/// A count, or a suppressed one (`value` null, `suppressed` true, `text`
/// "fewer than 5"). `text` is what to show: the number, "fewer than 5", or
/// for a median "up to 24 hours", "over 720 hours", "no answers".
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InsightsCell {
    pub value: Option<i64>,
    pub suppressed: bool,
    /// The count is rounded to the nearest `rounding_base` (every count but zero and the suppressed).
    pub rounded: bool,
    pub text: String,
}
