//! What the API answers with, where more than one feature shows it (the
//! submitter, organisations, topics, attachments). Each feature's own views live
//! in its folder (`case_studies/views.rs`, `members/views.rs`, ...) and are
//! re-exported here. Visibility rules (who sees a submitter's email) are applied
//! in the views, once.

use std::collections::BTreeMap;

use qnet_domain::attachment::Attachment;
use qnet_domain::organisation::Organisation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::case_studies::views::{CaseStudyList, CaseStudySummary, CaseStudyView};
pub use crate::members::views::MemberView;

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

/// One line of a digest, or of a "Your week in Qnet" email: the digest shows
/// every feature's lines, and the engagement nudges write them too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestItem {
    /// `case_study`, later `resource`, `event`, …
    pub kind: String,
    pub title: String,
    /// Its page on the web front end.
    pub url: String,
    /// At most two lines.
    pub summary: String,
    pub organisation_name: Option<String>,
    pub topics: Vec<String>,
    /// The day it happened (published, or when an event takes place), `YYYY-MM-DD`
    /// in Europe/London.
    pub date: String,
}
