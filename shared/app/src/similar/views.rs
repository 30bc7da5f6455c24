//! What `POST /similar` answers.

use serde::Serialize;
use utoipa::ToSchema;

use crate::adoptions::views::SpreadOrganisation;

/// The work most like a draft, best first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimilarWork {
    pub items: Vec<SimilarItem>,
}

/// A project or published case study like the draft.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimilarItem {
    /// `project` or `case_study`.
    pub kind: String,
    pub id: String,
    pub title: String,
    /// The case study's summary or the project's aim, shortened.
    pub summary: String,
    /// The case study's organisation, or the project's first.
    pub organisation: Option<SpreadOrganisation>,
    pub topics: Vec<String>,
    /// A project's team; a case study's author (as its page names them).
    pub team: Vec<SimilarTeamMember>,
    /// Whether the caller follows the project's board (always false for case studies).
    pub following: bool,
}

/// Someone behind a piece of similar work.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimilarTeamMember {
    pub id: String,
    pub name: String,
}
