//! What the API answers for case studies: the whole record (with the
//! submitter's email only for the submitter and moderators), and the summaries
//! of lists.

use std::collections::HashMap;

use qnet_domain::attachment::{Attachment, AttachmentStatus};
use qnet_domain::case_study::{CaseStudy, Hold, Sections, Source, Status};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Claims;
use crate::views::SubmittedByView;

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
