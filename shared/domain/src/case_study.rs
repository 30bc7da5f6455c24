//! Case studies: what a team did to improve a service, and what it learned.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::attachment::Attachment;
use crate::patient_data;
use crate::text::{FreeText, Input, Presence, excerpt};
use crate::topics;

pub const TITLE_MAX: usize = 200;
pub const SUMMARY_MAX: usize = 1_000;
pub const BODY_MAX: usize = 100_000;
pub const SECTION_MAX: usize = 20_000;
pub const REASON_MAX: usize = 2_000;
pub const TOPICS_MAX: usize = 10;
/// Summaries made from the body when none is given are this long at most.
pub const DERIVED_SUMMARY_CHARS: usize = 280;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Published,
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Published => "published",
            Status::Rejected => "rejected",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Web,
    Email,
}

/// The case-study template's sections; each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sections {
    pub aim: Option<String>,
    pub background: Option<String>,
    pub what_we_did: Option<String>,
    pub measures: Option<String>,
    pub results: Option<String>,
    pub lessons_learned: Option<String>,
    pub contact: Option<String>,
}

impl Sections {
    pub const FIELDS: [&'static str; 7] =
        ["aim", "background", "what_we_did", "measures", "results", "lessons_learned", "contact"];

    fn slot(&mut self, name: &str) -> &mut Option<String> {
        match name {
            "aim" => &mut self.aim,
            "background" => &mut self.background,
            "what_we_did" => &mut self.what_we_did,
            "measures" => &mut self.measures,
            "results" => &mut self.results,
            "lessons_learned" => &mut self.lessons_learned,
            _ => &mut self.contact,
        }
    }

    pub fn texts(&self) -> impl Iterator<Item = &str> {
        [&self.aim, &self.background, &self.what_we_did, &self.measures, &self.results, &self.lessons_learned, &self.contact]
            .into_iter()
            .filter_map(|s| s.as_deref())
    }
}

/// A moderator must resolve a hold before the case study can be published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hold {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmittedBy {
    /// Absent once the member has erased their profile.
    pub member_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Emailed submissions: the job title in the sender's signature, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
}

/// The stored case study. Attachments live in their own items and are joined in
/// when answering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseStudy {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub sections: Sections,
    /// Null only for an emailed submission whose organisation could not be
    /// recognised: a moderator sets it before publishing.
    pub organisation_id: Option<String>,
    pub topics: Vec<String>,
    pub status: Status,
    pub rejection_reason: Option<String>,
    pub hold: Option<Hold>,
    pub submitted_by: SubmittedBy,
    pub source: Source,
    /// Emailed submissions: whether the sender's address was authenticated
    /// (DMARC, or SPF/DKIM for the From domain). Absent for web submissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_verified: Option<bool>,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
    pub version: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl CaseStudy {
    /// Every free text of the case study, for the patient data guard.
    pub fn texts(&self) -> Vec<&str> {
        let mut v = vec![self.title.as_str(), self.summary.as_str(), self.body.as_str()];
        v.extend(self.sections.texts());
        v
    }

    /// Re-runs the patient data guard; an existing hold stays until a moderator
    /// releases it.
    pub fn apply_guard(&mut self) {
        if self.hold.is_none()
            && let Some(reason) = patient_data::scan(&self.texts())
        {
            self.hold = Some(Hold { reason });
        }
    }
}

/// The content fields a client sends when creating a case study.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCaseStudy {
    pub title: String,
    pub summary: Option<String>,
    pub body: String,
    pub sections: Sections,
    pub organisation_id: Option<String>,
    pub topics: Vec<String>,
}

/// Changes a client sends with PATCH; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseStudyPatch {
    pub title: Option<String>,
    /// `Some(None)` clears the summary (it is then made from the body again).
    pub summary: Option<Option<String>>,
    pub body: Option<String>,
    /// Per-section changes: `Some(None)` clears that section.
    pub sections: Vec<(String, Option<String>)>,
    pub organisation_id: Option<String>,
    pub topics: Option<Vec<String>>,
}

pub(crate) fn topic_ok(id: &str) -> Result<(), String> {
    if topics::is_known(id) { Ok(()) } else { Err(format!("unknown topic `{}`", crate::text::excerpt(id, 40))) }
}

fn org_id_ok(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 64 { Err("is not an organisation id".into()) } else { Ok(()) }
}

const FIELDS: [&str; 6] = ["title", "summary", "body", "sections", "organisation_id", "topics"];

fn parse_sections(i: &mut Input<'_>, field: &str) -> Option<Vec<(String, Option<String>)>> {
    i.object(field, &Sections::FIELDS, |o| {
        let mut out = Vec::new();
        for name in Sections::FIELDS {
            if o.has(name) {
                let v = o.patch_text(name, SECTION_MAX);
                if let Some(v) = v {
                    out.push((name.to_string(), v));
                }
            }
        }
        out
    })
}

impl NewCaseStudy {
    pub fn parse(value: &serde_json::Value) -> Result<NewCaseStudy, FieldErrors> {
        let mut i = Input::new(value, &FIELDS);
        let title = i.text("title", Presence::Required, 1, TITLE_MAX);
        let summary = i.text("summary", Presence::Optional, 1, SUMMARY_MAX);
        let body = i.text("body", Presence::Required, 1, BODY_MAX);
        let sections = parse_sections(&mut i, "sections").unwrap_or_default();
        let organisation_id = org_text(&mut i);
        let topics = i.id_list("topics", TOPICS_MAX, topic_ok).unwrap_or_default();
        let mut s = Sections::default();
        for (name, v) in sections {
            *s.slot(&name) = v;
        }
        let errors = i.errors;
        if let (true, Some(title), Some(body)) = (errors.is_empty(), title, body) {
            Ok(NewCaseStudy { title, summary, body, sections: s, organisation_id, topics })
        } else {
            Err(errors)
        }
    }
}

pub(crate) fn org_text(i: &mut Input<'_>) -> Option<String> {
    let v = i.text("organisation_id", Presence::Optional, 1, 64)?;
    match org_id_ok(&v) {
        Ok(()) => Some(v),
        Err(m) => {
            i.errors.push("organisation_id", m);
            None
        }
    }
}

impl CaseStudyPatch {
    pub fn parse(value: &serde_json::Value) -> Result<CaseStudyPatch, FieldErrors> {
        let mut i = Input::new(value, &FIELDS);
        let mut p = CaseStudyPatch::default();
        if i.has("title") {
            p.title = i.text("title", Presence::Required, 1, TITLE_MAX);
        }
        p.summary = i.patch_text("summary", SUMMARY_MAX);
        if i.has("body") {
            p.body = i.text("body", Presence::Required, 1, BODY_MAX);
        }
        p.sections = parse_sections(&mut i, "sections").unwrap_or_default();
        if i.has("organisation_id") {
            p.organisation_id = org_text(&mut i);
            if p.organisation_id.is_none() && !i.errors.0.iter().any(|e| e.field == "organisation_id") {
                i.errors.push("organisation_id", "must not be empty");
            }
        }
        p.topics = i.id_list("topics", TOPICS_MAX, topic_ok);
        i.errors.into_result(p)
    }

    /// Applies the patch; the caller has already checked permissions and versions.
    pub fn apply(self, cs: &mut CaseStudy) {
        let had_own_summary = cs.summary != derive_summary(&cs.body);
        if let Some(t) = self.title {
            cs.title = t;
        }
        if let Some(b) = self.body {
            cs.body = b;
            if !had_own_summary {
                cs.summary = derive_summary(&cs.body);
            }
        }
        match self.summary {
            Some(Some(s)) => cs.summary = s,
            Some(None) => cs.summary = derive_summary(&cs.body),
            None => {}
        }
        for (name, v) in self.sections {
            *cs.sections.slot(&name) = v;
        }
        if let Some(o) = self.organisation_id {
            cs.organisation_id = Some(o);
        }
        if let Some(t) = self.topics {
            cs.topics = t;
        }
    }
}

/// The summary shown in lists when the submitter gave none.
pub fn derive_summary(body: &str) -> String {
    excerpt(body, DERIVED_SUMMARY_CHARS)
}

/// A moderator's reason for rejecting a case study.
pub fn parse_rejection(value: &serde_json::Value) -> Result<FreeText, FieldErrors> {
    let mut i = Input::new(value, &["reason"]);
    let r = i.free_text("reason", Presence::Required, 1, REASON_MAX);
    let errors = i.errors;
    match r {
        Some(r) if errors.is_empty() => Ok(r),
        _ => Err(errors),
    }
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

    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct SectionsInput {
        #[schema(max_length = 20000)]
        pub aim: Option<String>,
        #[schema(max_length = 20000)]
        pub background: Option<String>,
        #[schema(max_length = 20000)]
        pub what_we_did: Option<String>,
        #[schema(max_length = 20000)]
        pub measures: Option<String>,
        #[schema(max_length = 20000)]
        pub results: Option<String>,
        #[schema(max_length = 20000)]
        pub lessons_learned: Option<String>,
        #[schema(max_length = 20000)]
        pub contact: Option<String>,
    }

    /// A new case study. `organisation_id` defaults to the submitter's organisation.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct CaseStudyInput {
        #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
        pub title: String,
        #[schema(max_length = 1000)]
        pub summary: Option<String>,
        #[schema(min_length = 1, max_length = 100000, pattern = r"\S")]
        pub body: String,
        pub sections: Option<SectionsInput>,
        pub organisation_id: Option<String>,
        /// Topic ids from `GET /topics`.
        #[schema(max_items = 10)]
        pub topics: Option<Vec<String>>,
    }

    /// Changes to a case study; absent fields stay as they are, null clears an
    /// optional one.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct CaseStudyPatchInput {
        #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
        pub title: Option<String>,
        #[schema(max_length = 1000)]
        pub summary: Option<String>,
        #[schema(min_length = 1, max_length = 100000, pattern = r"\S")]
        pub body: Option<String>,
        pub sections: Option<SectionsInput>,
        #[schema(min_length = 1)]
        pub organisation_id: Option<String>,
        #[schema(max_items = 10)]
        pub topics: Option<Vec<String>>,
    }

    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct RejectionInput {
        /// Why, for the submitter.
        #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
        pub reason: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_full_submission() {
        let v = json!({"title": " Fewer falls ", "body": "We tested hourly rounding.", "topics": ["patient-safety"],
                       "sections": {"aim": "Halve falls", "results": null}});
        let n = NewCaseStudy::parse(&v).unwrap();
        assert_eq!(n.title, "Fewer falls");
        assert_eq!(n.sections.aim.as_deref(), Some("Halve falls"));
        assert_eq!(n.topics, vec!["patient-safety"]);
    }

    #[test]
    fn names_every_bad_field() {
        let long = "x".repeat(BODY_MAX + 1);
        let v = json!({"title": "", "body": long, "topics": ["nope"], "colour": "red", "sections": {"aims": "x"}});
        let e = NewCaseStudy::parse(&v).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|e| e.field.as_str()).collect();
        for f in ["colour", "title", "body", "topics[0]", "sections.aims"] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn patch_keeps_a_given_summary_and_refreshes_a_derived_one() {
        let n = NewCaseStudy::parse(&json!({"title": "t", "body": "first body"})).unwrap();
        let mut cs = CaseStudy {
            id: "x".into(),
            title: n.title,
            summary: derive_summary(&n.body),
            body: n.body,
            sections: n.sections,
            organisation_id: Some("o".into()),
            topics: vec![],
            status: Status::Pending,
            rejection_reason: None,
            hold: None,
            submitted_by: SubmittedBy { member_id: None, name: None, email: None, job_title: None },
            source: Source::Web,
            sender_verified: None,
            created_at: String::new(),
            updated_at: String::new(),
            published_at: None,
            version: 1,
            attachments: vec![],
        };
        CaseStudyPatch::parse(&json!({"body": "second body"})).unwrap().apply(&mut cs);
        assert_eq!(cs.summary, "second body");
        CaseStudyPatch::parse(&json!({"summary": "mine"})).unwrap().apply(&mut cs);
        CaseStudyPatch::parse(&json!({"body": "third body", "sections": {"aim": "a"}})).unwrap().apply(&mut cs);
        assert_eq!(cs.summary, "mine");
        assert_eq!(cs.sections.aim.as_deref(), Some("a"));
        assert!(CaseStudyPatch::parse(&json!({"title": ""})).is_err());
        assert!(CaseStudyPatch::parse(&json!({"organisation_id": ""})).is_err());
    }
}
