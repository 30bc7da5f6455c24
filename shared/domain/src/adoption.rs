//! "We are trying this": a member records that their team is adopting or
//! adapting a published case study, optionally naming one of their QI
//! projects (issue 22). One record per (case study, member); recording again
//! changes it.

use serde::{Deserialize, Serialize};

use crate::errors::FieldErrors;
use crate::text::{Input, Presence};

/// The longest note about how the idea is being used.
pub const NOTE_MAX: usize = 500;

/// Adopting as it is, or adapting it to local circumstances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AdoptionKind {
    Adopting,
    Adapting,
}

/// A member's adoption of a case study, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adoption {
    pub id: String,
    pub case_study_id: String,
    pub member_id: String,
    pub member_name: String,
    /// The member's organisation when they recorded it.
    pub organisation_id: Option<String>,
    pub kind: AdoptionKind,
    /// One of the member's QI projects that carries the idea.
    pub project_id: Option<String>,
    pub note: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /case-studies/{id}/adoptions`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAdoption {
    pub kind: AdoptionKind,
    pub project_id: Option<String>,
    pub note: Option<String>,
}

impl NewAdoption {
    pub fn parse(value: &serde_json::Value) -> Result<NewAdoption, FieldErrors> {
        let mut i = Input::new(value, &["kind", "project_id", "note"]);
        let kind = match i.choice("kind", &["adopting", "adapting"]).as_deref() {
            Some("adapting") => AdoptionKind::Adapting,
            _ => AdoptionKind::Adopting,
        };
        let project_id = i.text("project_id", Presence::Optional, 1, 64);
        let note = i.free_text("note", Presence::Optional, 1, NOTE_MAX).map(String::from);
        i.errors.into_result(NewAdoption { kind, project_id, note })
    }
}

/// The wire shape of the body above, for the OpenAPI document only.
#[cfg(feature = "openapi")]
pub mod wire {
    use serde::Deserialize;
    use utoipa::ToSchema;

    /// "We are trying this": how, and (optionally) which of your projects carries it.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct AdoptionInput {
        /// `adopting` (the default) or `adapting`.
        pub kind: Option<super::AdoptionKind>,
        /// One of your QI projects (you must be in its team).
        #[schema(min_length = 1, max_length = 64)]
        pub project_id: Option<String>,
        /// How you are using it (no patient identifiers).
        #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
        pub note: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_kind_project_and_note() {
        let a = NewAdoption::parse(&json!({"kind": "adapting", "project_id": "p1", "note": "On two wards"})).unwrap();
        assert_eq!(
            a,
            NewAdoption { kind: AdoptionKind::Adapting, project_id: Some("p1".into()), note: Some("On two wards".into()) }
        );
        assert_eq!(NewAdoption::parse(&json!({})).unwrap().kind, AdoptionKind::Adopting);
    }

    #[test]
    fn refuses_bad_fields_and_patient_identifiers() {
        let e = NewAdoption::parse(&json!({"kind": "copying", "note": "NHS 943 476 5919", "colour": 1})).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert!(fields.contains(&"kind") && fields.contains(&"note") && fields.contains(&"colour"), "{fields:?}");
        let long = "a".repeat(NOTE_MAX + 1);
        assert!(NewAdoption::parse(&json!({"note": long})).is_err());
    }
}
