//! Questions on a published case study or resource, their answers, reports of
//! either to moderators, and readers' thanks ("This helped me"), as stored.
//! Every text here is unmoderated: it passes the patient data guard
//! ([`FreeText`]) before it is stored or sent.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::FieldErrors;
use crate::text::{FreeText, FreeTextError, Input, Presence, check_text};

/// The longest question or answer, in characters.
pub const BODY_MAX: usize = 2000;
/// The longest reason a member gives when reporting a question or an answer.
pub const REASON_MAX: usize = 500;

/// What a question is asked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    CaseStudy,
    Resource,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::CaseStudy => "case_study",
            TargetKind::Resource => "resource",
        }
    }

    /// The short form in storage keys.
    pub fn key(self) -> &'static str {
        match self {
            TargetKind::CaseStudy => "cs",
            TargetKind::Resource => "res",
        }
    }
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AnswerSource {
    Web,
    Email,
}

/// A question as stored (its answers are items of their own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub target_kind: TargetKind,
    pub target_id: String,
    pub author_id: String,
    pub author_name: String,
    pub body: String,
    pub created_at: String,
    /// Whether it has at least one answer.
    pub answered: bool,
    /// Whether the experts of its topics were emailed (at most once).
    #[serde(default)]
    pub experts_asked: bool,
    pub version: u64,
}

/// An answer to a question, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub id: String,
    pub question_id: String,
    pub author_id: String,
    pub author_name: String,
    pub body: String,
    pub source: AnswerSource,
    pub created_at: String,
}

/// What a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    Question,
    Answer,
    /// The note of an adoption ("We are trying this", issue 22).
    Adoption,
}

/// The reports of one question, answer or adoption, as stored: its id is the
/// reported item's id; each member's reason is an item of its own
/// ([`ReportReason`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRecord {
    pub id: String,
    pub kind: ReportKind,
    /// The question reported, or the question of the answer reported.
    #[serde(default)]
    pub question_id: Option<String>,
    pub answer_id: Option<String>,
    /// The case study of the adoption reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_study_id: Option<String>,
    /// Who recorded the adoption reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopter_id: Option<String>,
    /// Open until a moderator dismisses it (or removes the item).
    pub open: bool,
    /// When it was last reported.
    pub reported_at: String,
    pub report_count: u64,
    pub version: u64,
}

/// One member's report of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportReason {
    pub member_id: String,
    pub reason: String,
    pub reported_at: String,
}

/// One reader's thanks for one case study or resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThanksRecord {
    pub member_id: String,
    /// Shown to the item's author only when `named`.
    pub name: String,
    pub named: bool,
    pub thanked_at: String,
}

fn one<T>(i: Input<'_>, v: Option<T>) -> Result<T, FieldErrors> {
    match v {
        Some(v) if i.errors.is_empty() => Ok(v),
        _ => Err(i.errors),
    }
}

/// `{ "body": … }` of a question or an answer: 1 to [`BODY_MAX`] characters, guarded.
pub fn parse_body(v: &Value) -> Result<FreeText, FieldErrors> {
    let mut i = Input::new(v, &["body"]);
    let body = i.free_text("body", Presence::Required, 1, BODY_MAX);
    one(i, body)
}

/// `{ "reason": … }` of a report: 1 to [`REASON_MAX`] characters, guarded.
pub fn parse_report(v: &Value) -> Result<FreeText, FieldErrors> {
    let mut i = Input::new(v, &["reason"]);
    let reason = i.free_text("reason", Presence::Required, 1, REASON_MAX);
    one(i, reason)
}

/// `{ "named": bool }` of a thanks: whether the reader's name is shown to the author.
pub fn parse_thanks(v: &Value) -> Result<bool, FieldErrors> {
    let mut i = Input::new(v, &["named"]);
    let named = i.boolean("named");
    if named.is_none() && i.errors.is_empty() {
        i.errors.push("named", "is required");
    }
    one(i, named)
}

/// An answer that came by email: cut to the longest an answer may be, then
/// guarded. `Ok(None)`: nothing to keep; `Err`: the patient data guard refused it.
pub fn answer_from_email(body: &str) -> Result<Option<FreeText>, FreeTextError> {
    let cut: String = body.trim().chars().take(BODY_MAX).collect();
    if check_text(&cut, 1, BODY_MAX).is_err() {
        return Ok(None);
    }
    FreeText::parse(&cut, 1, BODY_MAX).map(Some)
}

/// The wire shape of each request body parsed above, for the OpenAPI document
/// only: the parsers read the `serde_json::Value` (reporting every field error at
/// once) and these types describe the same contract to clients;
/// `tests/tests/body_limits.rs` checks each literal limit against the parser's.
#[cfg(feature = "openapi")]
pub mod wire {
    use serde::Deserialize;
    use utoipa::ToSchema;

    /// A question, or an answer to one.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct QuestionBodyInput {
        /// Never an NHS number or other patient identifier.
        #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
        pub body: String,
    }

    /// Why a question or an answer should be looked at by a moderator.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ReportInput {
        #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
        pub reason: String,
    }

    /// "This helped me": whether the author may see the reader's name.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ThanksInput {
        pub named: bool,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(e: &FieldErrors) -> Vec<&str> {
        e.0.iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn a_body_is_bounded_and_guarded() {
        assert_eq!(parse_body(&json!({"body": "  How long did it take?  "})).unwrap(), "How long did it take?");
        assert_eq!(fields(&parse_body(&json!({"body": ""})).unwrap_err()), ["body"]);
        assert_eq!(fields(&parse_body(&json!({"body": "x".repeat(BODY_MAX + 1)})).unwrap_err()), ["body"]);
        assert!(parse_body(&json!({"body": "x".repeat(BODY_MAX)})).is_ok());
        let e = parse_body(&json!({"body": "Patient 943 476 5919 was seen", "x": 1})).unwrap_err();
        assert_eq!(fields(&e), ["x", "body"]);
        assert!(e.0[1].message.contains("NHS number"));
    }

    #[test]
    fn a_report_needs_a_reason_and_thanks_a_choice() {
        assert_eq!(parse_report(&json!({"reason": "rude"})).unwrap(), "rude");
        assert_eq!(fields(&parse_report(&json!({"reason": "x".repeat(REASON_MAX + 1)})).unwrap_err()), ["reason"]);
        assert_eq!(fields(&parse_report(&json!({})).unwrap_err()), ["reason"]);
        assert!(parse_thanks(&json!({"named": true})).unwrap());
        assert!(!parse_thanks(&json!({"named": false})).unwrap());
        assert_eq!(fields(&parse_thanks(&json!({})).unwrap_err()), ["named"]);
        assert_eq!(fields(&parse_thanks(&json!({"named": "yes"})).unwrap_err()), ["named"]);
    }

    #[test]
    fn an_emailed_answer_is_cut_then_guarded() {
        assert_eq!(answer_from_email("   ").unwrap(), None);
        assert_eq!(answer_from_email(&"y".repeat(BODY_MAX + 50)).unwrap().unwrap().len(), BODY_MAX);
        assert_eq!(answer_from_email("NHS 943 476 5919"), Err(FreeTextError::PatientIdentifier));
    }
}
