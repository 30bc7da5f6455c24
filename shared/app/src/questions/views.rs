//! What the questions and thanks API answers. Who may remove what, and who
//! sees the names of those who thanked, is decided here, once.

use qnet_domain::question::{AnswerSource, ReportKind, TargetKind};
use serde::Serialize;
use utoipa::ToSchema;

/// Who wrote a question or an answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionAuthor {
    pub id: String,
    pub name: String,
}

/// The case study or resource a question is asked on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionTarget {
    pub kind: TargetKind,
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Answer {
    pub id: String,
    pub author: QuestionAuthor,
    pub body: String,
    pub created_at: String,
    pub source: AnswerSource,
    /// Whether the caller may remove it (its author or a moderator).
    pub can_remove: bool,
}

/// A question with its answers, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Question {
    pub id: String,
    pub target: QuestionTarget,
    pub author: QuestionAuthor,
    pub body: String,
    pub created_at: String,
    pub answered: bool,
    pub answers: Vec<Answer>,
    /// Whether the caller may remove it (its author or a moderator).
    pub can_remove: bool,
    /// Whether the caller may answer it (any signed-in member).
    pub can_answer: bool,
}

/// `GET /case-studies/{id}/questions`, `GET /resources/{id}/questions`: oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionList {
    pub items: Vec<Question>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The open reports of one question, answer or adoption note, for moderators.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    /// The reported question's, answer's or adoption's id.
    pub id: String,
    pub kind: ReportKind,
    /// The question (or the answer's question); absent for an adoption.
    pub question_id: Option<String>,
    pub answer_id: Option<String>,
    /// The case study an adoption is of (adoptions only).
    pub case_study_id: Option<String>,
    /// Who recorded the adoption (adoptions only): the path
    /// `/case-studies/{case_study_id}/adoptions/{adopter_id}` removes it.
    pub adopter_id: Option<String>,
    /// The reported text.
    pub text: String,
    /// Who wrote the reported text.
    pub author: QuestionAuthor,
    /// Each reporter's reason (reporters are not named).
    pub reasons: Vec<String>,
    /// When it was last reported.
    pub reported_at: String,
    pub report_count: u64,
    /// The title of the case study or resource the question or adoption is on.
    pub target_title: String,
}

/// `GET /moderation/reports`: open reports, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportList {
    pub items: Vec<Report>,
}

/// `202` to a report: received (a repeat by the same member changes nothing).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportReceived {
    /// Always `received`.
    pub status: String,
}

/// "This helped me" on a case study or resource.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Thanks {
    /// How many readers thanked the author.
    pub count: u64,
    /// Whether the caller thanked (false when not signed in).
    pub thanked: bool,
    /// Whether the caller chose to be named; null when they have not thanked.
    pub named: Option<bool>,
    /// Names of those who chose to be named: only for the item's author and
    /// moderators, else empty.
    pub names: Vec<String>,
}
