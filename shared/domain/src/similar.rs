//! Similar work, before duplicating it (issue 22): the draft a member is
//! writing (a project or a case study), to find what the network already
//! holds, and a message asking a project's lead to team up.

use crate::errors::FieldErrors;
use crate::text::{FreeText, Input, Presence};
use crate::topics;

/// The longest draft title (as a project's or a case study's).
pub const TITLE_MAX: usize = 200;
/// The longest draft aim (as a project's).
pub const AIM_MAX: usize = 2_000;
/// Topics a draft may name.
pub const MAX_TOPICS: usize = 10;
/// Items answered when no `limit` is given, and at most.
pub const DEFAULT_LIMIT: usize = 5;
pub const MAX_LIMIT: usize = 10;
/// The longest message to a project's lead.
pub const MESSAGE_MAX: usize = 1_000;
/// What similar work may be.
pub const KINDS: &[&str] = &["project", "case_study"];

/// `POST /similar`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarDraft {
    pub title: FreeText,
    pub aim: Option<FreeText>,
    pub topics: Vec<String>,
    /// Both kinds when empty.
    pub kinds: Vec<String>,
    pub exclude_id: Option<String>,
    pub limit: usize,
}

impl SimilarDraft {
    pub fn parse(value: &serde_json::Value) -> Result<SimilarDraft, FieldErrors> {
        let mut i = Input::new(value, &["title", "aim", "topics", "kinds", "exclude_id", "limit"]);
        let title = i.free_text("title", Presence::Required, 1, TITLE_MAX);
        let aim = i.free_text("aim", Presence::Optional, 1, AIM_MAX);
        let topics = i
            .id_list("topics", MAX_TOPICS, |t| if topics::is_known(t) { Ok(()) } else { Err("is not a known topic".into()) })
            .unwrap_or_default();
        let kinds = i
            .id_list("kinds", KINDS.len(), |k| {
                if KINDS.contains(&k) { Ok(()) } else { Err(format!("must be one of {}", KINDS.join(", "))) }
            })
            .unwrap_or_default();
        let exclude_id = i.text("exclude_id", Presence::Optional, 1, 64);
        let limit = i.integer("limit", Presence::Optional, 1, MAX_LIMIT as u64).map(|l| l as usize).unwrap_or(DEFAULT_LIMIT);
        match title {
            Some(title) if i.errors.is_empty() => Ok(SimilarDraft { title, aim, topics, kinds, exclude_id, limit }),
            _ => Err(i.errors),
        }
    }
}

/// `POST /projects/{id}/team-up`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamUpRequest {
    pub message: FreeText,
}

impl TeamUpRequest {
    pub fn parse(value: &serde_json::Value) -> Result<TeamUpRequest, FieldErrors> {
        let mut i = Input::new(value, &["message"]);
        let message = i.free_text("message", Presence::Required, 1, MESSAGE_MAX);
        match message {
            Some(message) if i.errors.is_empty() => Ok(TeamUpRequest { message }),
            _ => Err(i.errors),
        }
    }
}

/// The wire shapes of the bodies above, for the OpenAPI document only.
#[cfg(feature = "openapi")]
pub mod wire {
    use serde::Deserialize;
    use utoipa::ToSchema;

    /// What kind of similar work to look for.
    #[derive(Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum SimilarKind {
        Project,
        CaseStudy,
    }

    /// The draft of a project or case study (no patient identifiers).
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct SimilarInput {
        /// The draft's title.
        #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
        pub title: String,
        /// The draft's aim, or its summary.
        #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
        pub aim: Option<String>,
        /// Topic ids (see GET /topics).
        #[schema(max_items = 10)]
        pub topics: Option<Vec<String>>,
        /// Only these kinds; both when absent or empty.
        #[schema(max_items = 2)]
        pub kinds: Option<Vec<SimilarKind>>,
        /// Leave this item out (the draft itself, once saved).
        #[schema(min_length = 1, max_length = 64)]
        pub exclude_id: Option<String>,
        /// How many items at most (default 5).
        #[schema(minimum = 1, maximum = 10)]
        pub limit: Option<u32>,
    }

    /// A message to a project's lead (no patient identifiers).
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct TeamUpInput {
        #[schema(min_length = 1, max_length = 1000, pattern = r"\S")]
        pub message: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_draft_with_defaults() {
        let d = SimilarDraft::parse(&json!({"title": " Fewer falls ", "topics": ["patient-safety"]})).unwrap();
        assert_eq!(d.title, "Fewer falls");
        assert_eq!((d.aim, d.kinds.len(), d.limit), (None, 0, DEFAULT_LIMIT));
        let d = SimilarDraft::parse(&json!({"title": "Falls", "aim": "Halve them", "kinds": ["project"], "limit": 10})).unwrap();
        assert_eq!((d.kinds, d.limit), (vec!["project".to_string()], 10));
    }

    #[test]
    fn refuses_every_bad_field_at_once() {
        let e = SimilarDraft::parse(&json!({"aim": "NHS 943 476 5919", "topics": ["astrology"], "kinds": ["event"],
                                            "limit": 11, "colour": 1}))
        .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        for f in ["title", "aim", "topics[0]", "kinds[0]", "limit", "colour"] {
            assert!(fields.contains(&f), "{f}: {fields:?}");
        }
        let too_many: Vec<String> = (0..11).map(|_| "flow".to_string()).collect();
        assert!(SimilarDraft::parse(&json!({"title": "x", "topics": too_many})).is_err());
        assert!(SimilarDraft::parse(&json!({"title": "a".repeat(TITLE_MAX + 1)})).is_err());
    }

    #[test]
    fn a_message_is_guarded_and_bounded() {
        assert_eq!(TeamUpRequest::parse(&json!({"message": " Shall we? "})).unwrap().message, "Shall we?");
        for bad in
            [json!({}), json!({"message": ""}), json!({"message": "Patient 943 476 5919"}), json!({"message": "a".repeat(1001)})]
        {
            let e = TeamUpRequest::parse(&bad).unwrap_err();
            assert_eq!(e.0[0].field, "message");
        }
    }
}
