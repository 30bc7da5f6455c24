//! Mentoring and coaching: what a mentor offers (`PUT /me/mentor`) and what a
//! member asks for (`POST /mentoring-requests`), parsed at the edge. Words are
//! kept as the API spells them (`mentoring`, `in_person`, `prefer`); the matching
//! crate's types are built from these in `qnet-app`.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::text::{FreeText, Input, Presence};
use crate::topics;

pub const KINDS: &[&str] = &["mentoring", "coaching"];
pub const MODES: &[&str] = &["in_person", "online"];
pub const CROSS_ORGANISATION: &[&str] = &["prefer", "require", "no_preference"];
/// The most mentees one mentor may take at once.
pub const MAX_CAPACITY: u64 = 20;

/// How a mentor or member can meet, and anything else worth saying.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Availability {
    /// `in_person`, `online`; empty means not stated.
    #[serde(default)]
    pub modes: Vec<String>,
    /// Free text, e.g. "Tuesday afternoons, Leeds or Wakefield".
    #[serde(default)]
    pub note: Option<String>,
}

fn parse_availability(i: &mut Input<'_>) -> Option<Availability> {
    i.object("availability", &["modes", "note"], |o| Availability {
        modes: o
            .id_list(
                "modes",
                2,
                |m| if MODES.contains(&m) { Ok(()) } else { Err(format!("must be one of {}", MODES.join(", "))) },
            )
            .unwrap_or_default(),
        note: o.free_text("note", Presence::Optional, 1, 500).map(String::from),
    })
}

fn known_topic(t: &str) -> Result<(), String> {
    if topics::is_known(t) { Ok(()) } else { Err("unknown topic (see GET /topics)".into()) }
}

/// The fields of a mentor profile a member sets (`PUT /me/mentor`, whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentorInput {
    pub offers: Vec<String>,
    pub topics: Vec<String>,
    pub skills: Vec<String>,
    pub capacity: u32,
    pub availability: Availability,
    pub bio: Option<FreeText>,
    pub coaching_accreditation: Option<FreeText>,
    pub accepting: bool,
}

impl MentorInput {
    pub fn parse(value: &serde_json::Value) -> Result<MentorInput, FieldErrors> {
        let mut i = Input::new(
            value,
            &["offers", "topics", "skills", "capacity", "availability", "bio", "coaching_accreditation", "accepting"],
        );
        let offers =
            i.id_list(
                "offers",
                2,
                |k| {
                    if KINDS.contains(&k) { Ok(()) } else { Err(format!("must be one of {}", KINDS.join(", "))) }
                },
            );
        if !i.has("offers") {
            i.errors.push("offers", "is required");
        } else if offers.as_ref().is_some_and(Vec::is_empty) {
            i.errors.push("offers", "must name mentoring, coaching or both");
        }
        let topics = i.id_list("topics", 10, known_topic);
        if !i.has("topics") {
            i.errors.push("topics", "is required");
        } else if topics.as_ref().is_some_and(Vec::is_empty) {
            i.errors.push("topics", "must name at least one topic");
        }
        let skills = i.id_list("skills", 20, |s| FreeText::parse(s, 1, 60).map(|_| ()).map_err(|e| e.to_string()));
        let capacity = i.integer("capacity", Presence::Required, 1, MAX_CAPACITY);
        let availability = parse_availability(&mut i);
        let bio = i.free_text("bio", Presence::Optional, 1, 2000);
        let coaching_accreditation = i.free_text("coaching_accreditation", Presence::Optional, 1, 200);
        let accepting = i.boolean("accepting");
        if !i.has("accepting") {
            i.errors.push("accepting", "is required");
        }
        let input = MentorInput {
            offers: offers.unwrap_or_default(),
            topics: topics.unwrap_or_default(),
            skills: skills.unwrap_or_default().iter().map(|s| s.trim().to_string()).collect(),
            capacity: capacity.unwrap_or(1) as u32,
            availability: availability.unwrap_or_default(),
            bio,
            coaching_accreditation,
            accepting: accepting.unwrap_or(false),
        };
        i.errors.into_result(input)
    }
}

/// A mentoring or coaching request as a member sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInput {
    pub kind: String,
    pub topics: Vec<String>,
    pub goals: FreeText,
    pub cross_organisation: String,
    pub availability: Availability,
    /// A mentor the member would like to be asked first.
    pub mentor_id: Option<String>,
}

impl RequestInput {
    pub fn parse(value: &serde_json::Value) -> Result<RequestInput, FieldErrors> {
        let mut i = Input::new(value, &["kind", "topics", "goals", "cross_organisation", "availability", "mentor_id"]);
        let kind = i.choice("kind", KINDS);
        if !i.has("kind") {
            i.errors.push("kind", "is required");
        }
        let topics = i.id_list("topics", 10, known_topic);
        if !i.has("topics") {
            i.errors.push("topics", "is required");
        } else if topics.as_ref().is_some_and(Vec::is_empty) {
            i.errors.push("topics", "must name at least one topic");
        }
        let goals = i.free_text("goals", Presence::Required, 1, 4000);
        let cross = i.choice("cross_organisation", CROSS_ORGANISATION);
        let availability = parse_availability(&mut i);
        let mentor_id = i.text("mentor_id", Presence::Optional, 1, 128);
        let Some(goals) = goals else { return Err(i.errors) };
        let input = RequestInput {
            kind: kind.unwrap_or_default(),
            topics: topics.unwrap_or_default(),
            goals,
            cross_organisation: cross.unwrap_or_else(|| "no_preference".into()),
            availability: availability.unwrap_or_default(),
            mentor_id,
        };
        i.errors.into_result(input)
    }
}

/// Optional feedback when a pairing is closed.
pub fn parse_close(value: &serde_json::Value) -> Result<Option<FreeText>, FieldErrors> {
    if value.is_null() {
        return Ok(None);
    }
    let mut i = Input::new(value, &["feedback"]);
    let feedback = i.free_text("feedback", Presence::Optional, 1, 4000);
    i.errors.into_result(feedback)
}

/// The mentor a member declines (`mentor_id`), named so that a retry never
/// declines the next one.
pub fn parse_decline(value: &serde_json::Value) -> Result<String, FieldErrors> {
    let mut i = Input::new(value, &["mentor_id"]);
    let m = i.text("mentor_id", Presence::Required, 1, 128);
    Ok(i.errors.into_result(m)?.unwrap_or_default())
}

// ---- records: a mentor profile, and a request with its proposals and pairing ----

/// A mentor profile as stored, beside the member's profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MentorProfile {
    pub member_id: String,
    pub name: String,
    pub organisation_id: String,
    pub offers: Vec<String>,
    pub topics: Vec<String>,
    pub skills: Vec<String>,
    pub capacity: u32,
    /// Active mentees.
    #[serde(default)]
    pub active: u32,
    /// Places held by live proposals.
    #[serde(default)]
    pub held: u32,
    pub availability: Availability,
    pub bio: Option<String>,
    pub coaching_accreditation: Option<String>,
    pub accepting: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl MentorProfile {
    pub fn load(&self) -> u32 {
        self.active + self.held
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Open,
    Proposed,
    Active,
    Closed,
    Withdrawn,
}

/// The live (or last) proposal of a request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Proposal {
    /// 1 for the request's first proposal, 2 for the next…: offer links name it.
    pub seq: u32,
    pub mentor_id: String,
    pub score: u64,
    pub reasons: Vec<String>,
    pub proposed_at: String,
    pub expires_at: String,
    pub expires_unix: i64,
    /// `declined` or `expired` once it has ended without acceptance.
    #[serde(default)]
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Feedback {
    /// `mentor` or `mentee`.
    pub from: String,
    pub text: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pairing {
    pub mentor_id: String,
    /// The proposal that was accepted.
    pub seq: u32,
    pub started_at: String,
    pub closed_at: Option<String>,
    /// `mentor` or `mentee`.
    pub closed_by: Option<String>,
    #[serde(default)]
    pub feedback: Vec<Feedback>,
    /// The mentor's organisation when the pairing started (the insights count
    /// its close there too, even once the mentor's profile is gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentor_organisation_id: Option<String>,
}

/// A mentoring request as stored; its proposal and pairing live on it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MentoringRequest {
    pub id: String,
    pub member_id: String,
    pub organisation_id: String,
    pub kind: String,
    pub topics: Vec<String>,
    pub goals: String,
    pub cross_organisation: String,
    pub availability: Availability,
    #[serde(default)]
    pub requested_mentor: Option<String>,
    pub state: RequestState,
    #[serde(default)]
    pub proposal: Option<Proposal>,
    #[serde(default)]
    pub pairing: Option<Pairing>,
    /// Earlier proposals, with their outcomes.
    #[serde(default)]
    pub past_proposals: Vec<Proposal>,
    /// Mentors whose offer for this request was declined or lapsed.
    #[serde(default)]
    pub excluded_mentors: Vec<String>,
    /// Why nobody is proposed (while open).
    #[serde(default)]
    pub unmatched_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// The wire shape of each request body parsed above, for the OpenAPI document
/// only: the parser reads the `serde_json::Value` (reporting every field error at
/// once) and these types describe the same contract to clients. utoipa takes only
/// literal numbers for limits, so `tests::schema_matches_parser` checks each
/// literal against the constant the parser uses.
#[cfg(feature = "openapi")]
pub mod wire {
    use serde::Deserialize;
    use utoipa::ToSchema;

    /// How a mentor or member can meet.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct AvailabilityInput {
        /// `in_person`, `online`.
        #[schema(max_items = 2)]
        pub modes: Option<Vec<String>>,
        #[schema(max_length = 500)]
        pub note: Option<String>,
    }

    /// A mentor profile, whole.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct MentorInput {
        /// `mentoring`, `coaching` or both.
        #[schema(min_items = 1, max_items = 2)]
        pub offers: Vec<String>,
        /// Topic ids from GET /topics.
        #[schema(min_items = 1, max_items = 10)]
        pub topics: Vec<String>,
        #[schema(max_items = 20)]
        pub skills: Option<Vec<String>>,
        /// Mentees at once; not below the mentees and unanswered offers you have now.
        #[schema(minimum = 1, maximum = 20)]
        pub capacity: u32,
        pub availability: Option<AvailabilityInput>,
        #[schema(max_length = 2000)]
        pub bio: Option<String>,
        #[schema(max_length = 200)]
        pub coaching_accreditation: Option<String>,
        pub accepting: bool,
    }

    /// A request for mentoring or coaching.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct MentoringRequestInput {
        /// `mentoring` or `coaching`.
        pub kind: String,
        #[schema(min_items = 1, max_items = 10)]
        pub topics: Vec<String>,
        #[schema(min_length = 1, max_length = 4000)]
        pub goals: String,
        /// `prefer`, `require` or `no_preference` (default).
        pub cross_organisation: Option<String>,
        pub availability: Option<AvailabilityInput>,
        /// A mentor to ask first (they must be accepting and offer the kind).
        pub mentor_id: Option<String>,
    }

    /// Closing a pairing.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct CloseInput {
        #[schema(max_length = 4000)]
        pub feedback: Option<String>,
    }

    /// Naming the proposed mentor to decline.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct DeclineProposalInput {
        /// The mentor proposed now (so that a retry never declines the next one).
        pub mentor_id: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(e: FieldErrors) -> Vec<String> {
        e.0.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn mentor_input_names_every_bad_field() {
        let e = MentorInput::parse(&json!({"offers": ["teaching"], "topics": ["flow", "astrology"], "capacity": 0,
            "availability": {"modes": ["by_post"]}, "accepting": "yes", "extra": 1}))
        .unwrap_err();
        assert_eq!(fields(e), ["extra", "offers[0]", "topics[1]", "capacity", "availability.modes[0]", "accepting"]);
        let ok = MentorInput::parse(&json!({"offers": ["coaching"], "topics": ["flow"], "skills": [" process mapping "],
            "capacity": 2, "availability": {"modes": ["online"], "note": "Tuesdays"}, "accepting": true}))
        .unwrap();
        assert_eq!(ok.skills, ["process mapping"]);
        assert_eq!(ok.availability.modes, ["online"]);
    }

    #[test]
    fn request_input_requires_kind_topics_and_goals() {
        let e = RequestInput::parse(&json!({"topics": [], "cross_organisation": "maybe"})).unwrap_err();
        assert_eq!(fields(e), ["kind", "topics", "goals", "cross_organisation"]);
        let ok = RequestInput::parse(&json!({"kind": "mentoring", "topics": ["flow"], "goals": "Run a PDSA cycle"})).unwrap();
        assert_eq!(ok.cross_organisation, "no_preference");
        assert_eq!(parse_close(&json!({"feedback": "Very helpful"})).unwrap().as_deref(), Some("Very helpful"));
        assert!(parse_close(&json!({"rating": 5})).is_err());
    }
}
