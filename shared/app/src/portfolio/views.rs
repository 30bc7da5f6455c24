//! The portfolio as the API answers it.

use serde::Serialize;
use utoipa::ToSchema;

/// `GET /me/portfolio`: the signed-in member's QI activity, section by
/// section, newest first in each.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Portfolio {
    /// The member's name, for the printed heading.
    pub member_name: String,
    /// Their organisation's name, when they have one.
    pub organisation_name: Option<String>,
    /// The period asked for (`YYYY-MM-DD`, inclusive); null when open.
    pub from: Option<String>,
    pub to: Option<String>,
    /// The period in words ("All time", "2026-01-01 to 2026-03-31").
    pub period: String,
    /// Today's date in London.
    pub generated_on: String,
    /// The most items any one section shows.
    pub section_cap: u32,
    /// In this order: projects, pdsa_cycles, case_studies, resources,
    /// mentoring_given, mentoring_received, events_attended,
    /// questions_answered, thanks.
    pub sections: Vec<PortfolioSection>,
}

/// One kind of activity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortfolioSection {
    /// projects, pdsa_cycles, case_studies, resources, mentoring_given,
    /// mentoring_received, events_attended, questions_answered or thanks.
    pub id: String,
    /// Its heading ("Projects and roles").
    pub title: String,
    /// Newest first.
    pub items: Vec<PortfolioItem>,
    /// True when a cap was reached: older activity is not shown.
    pub truncated: bool,
}

/// One dated piece of activity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortfolioItem {
    /// `YYYY-MM-DD` (London).
    pub date: String,
    pub title: String,
    /// The member's role or what happened ("Lead (project in progress)", "Published").
    pub detail: String,
    /// The web app's path for it (`/projects/<id>`).
    pub link: String,
}
