//! What the API answers with. Visibility rules (who sees a submitter's email) are
//! applied here, once.

use std::collections::{BTreeMap, HashMap};

use qnet_domain::attachment::{Attachment, AttachmentStatus};
use qnet_domain::case_study::{CaseStudy, Hold, Sections, Source, Status};
use qnet_domain::member::Member;
use qnet_domain::organisation::Organisation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Claims;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganisationList {
    pub items: Vec<OrganisationWithCount>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// An organisation in `GET /organisations`, with how many members' profiles name it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganisationWithCount {
    #[serde(flatten)]
    pub organisation: Organisation,
    /// Every member whose profile names this organisation, listed in the directory or not.
    pub member_count: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub organisation_id: Option<String>,
    pub organisation_name: Option<String>,
    pub job_title: Option<String>,
    pub topics: Vec<String>,
    /// Digest preferences (new members start on `weekly`).
    pub digest: qnet_domain::digest::DigestPrefs,
    /// Randomised coffee: `opt_in` puts the member in the next rounds' pool.
    pub coffee: qnet_domain::member::CoffeePrefs,
    /// In the member directory (`GET /members`).
    pub listed: bool,
    /// Set when no email can go to this address (a hard bounce or a complaint).
    pub email_suppressed: Option<crate::members::suppression::SuppressionView>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl MemberView {
    pub fn new(m: Member, names: &HashMap<String, String>) -> MemberView {
        MemberView {
            organisation_name: m.organisation_id.as_ref().and_then(|o| names.get(o).cloned()),
            id: m.id,
            name: m.name,
            email: m.email,
            organisation_id: m.organisation_id,
            job_title: m.job_title,
            topics: m.topics,
            digest: m.digest,
            coffee: m.coffee,
            listed: m.listed,
            email_suppressed: None,
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubmittedByView {
    /// Null once the member has erased their profile.
    pub member_id: Option<String>,
    pub name: Option<String>,
    /// Emailed submissions: the job title the sender's signature gave, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    /// Shown only to the submitter and moderators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseStudyView {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub sections: Sections,
    /// Null only for an emailed submission whose organisation was not recognised.
    pub organisation_id: Option<String>,
    pub organisation_name: Option<String>,
    pub topics: Vec<String>,
    pub status: Status,
    pub rejection_reason: Option<String>,
    pub hold: Option<Hold>,
    pub submitted_by: SubmittedByView,
    pub source: Source,
    /// Emailed submissions only: whether the sender's address was authenticated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_verified: Option<bool>,
    pub attachments: Vec<Attachment>,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
    pub version: u64,
}

impl CaseStudyView {
    /// `viewer` decides what is shown: the submitter's email and attachments that
    /// are not ready yet only to the submitter and moderators.
    pub fn new(cs: CaseStudy, viewer: Option<&Claims>, names: &HashMap<String, String>) -> CaseStudyView {
        let privileged = viewer.is_some_and(|c| c.is_moderator() || cs.submitted_by.member_id.as_deref() == Some(&c.sub));
        let attachments = cs.attachments.into_iter().filter(|a| privileged || a.status == AttachmentStatus::Ready).collect();
        CaseStudyView {
            organisation_name: cs.organisation_id.as_ref().and_then(|o| names.get(o).cloned()),
            id: cs.id,
            title: cs.title,
            summary: cs.summary,
            body: cs.body,
            sections: cs.sections,
            organisation_id: cs.organisation_id,
            topics: cs.topics,
            status: cs.status,
            rejection_reason: cs.rejection_reason,
            hold: cs.hold,
            submitted_by: SubmittedByView {
                member_id: cs.submitted_by.member_id,
                name: cs.submitted_by.name,
                job_title: cs.submitted_by.job_title,
                email: if privileged { cs.submitted_by.email } else { None },
            },
            source: cs.source,
            sender_verified: cs.sender_verified,
            attachments,
            created_at: cs.created_at,
            updated_at: cs.updated_at,
            published_at: cs.published_at,
            version: cs.version,
        }
    }
}

/// A case study in a list: no body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseStudySummary {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub organisation_id: Option<String>,
    #[serde(default)]
    pub organisation_name: Option<String>,
    pub topics: Vec<String>,
    pub published_at: Option<String>,
    /// In the submitter's and moderators' lists only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Hold>,
}

impl CaseStudySummary {
    pub fn public(cs: &CaseStudy) -> CaseStudySummary {
        CaseStudySummary {
            id: cs.id.clone(),
            title: cs.title.clone(),
            summary: cs.summary.clone(),
            organisation_id: cs.organisation_id.clone(),
            organisation_name: None,
            topics: cs.topics.clone(),
            published_at: cs.published_at.clone(),
            status: None,
            created_at: None,
            hold: None,
        }
    }

    pub fn private(cs: &CaseStudy) -> CaseStudySummary {
        CaseStudySummary {
            status: Some(cs.status),
            created_at: Some(cs.created_at.clone()),
            hold: cs.hold.clone(),
            ..CaseStudySummary::public(cs)
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseStudyList {
    pub items: Vec<CaseStudySummary>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopicView {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopicList {
    pub items: Vec<TopicView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentCreated {
    pub attachment: Attachment,
    /// PUT the file's bytes here, with exactly `upload_headers`.
    pub upload_url: String,
    pub upload_headers: BTreeMap<String, String>,
    /// RFC 3339 UTC.
    pub expires_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrganisationRef {
    pub id: String,
    /// Null when the organisation is no longer in the directory.
    pub name: Option<String>,
}
