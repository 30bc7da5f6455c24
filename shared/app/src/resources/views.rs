//! What the resources API answers.

use crate::resources::SUMMARY_CHARS;
use crate::resources::store::LoadedResource;
use crate::views::SubmittedByView;
use crate::{App, AppResult, Claims};
use qnet_domain::attachment::{Attachment, AttachmentStatus};
use qnet_domain::case_study::{Hold, Status};
use qnet_domain::resource::{Resource, ResourceKind};
use qnet_domain::text::excerpt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// A resource as the API answers it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResourceView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub kind: ResourceKind,
    pub topics: Vec<String>,
    pub organisation_id: String,
    pub organisation_name: Option<String>,
    /// The external link, for a link resource.
    pub url: Option<String>,
    /// The file, for a file resource: shown to everyone once checked (`ready`);
    /// to the submitter and moderators before.
    pub file: Option<Attachment>,
    pub status: Status,
    pub rejection_reason: Option<String>,
    pub hold: Option<Hold>,
    pub submitted_by: SubmittedByView,
    /// How many times `GET /resources/{id}/download` has been followed.
    pub download_count: u64,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
    pub version: u64,
}

/// One entry of a resource list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResourceSummary {
    pub id: String,
    pub title: String,
    /// The start of the description.
    pub summary: String,
    pub kind: ResourceKind,
    pub topics: Vec<String>,
    pub organisation_id: String,
    #[serde(default)]
    pub organisation_name: Option<String>,
    /// `file` or `link`.
    pub format: String,
    pub status: Status,
    pub published_at: Option<String>,
}

impl ResourceSummary {
    pub(crate) fn new(r: &Resource) -> ResourceSummary {
        ResourceSummary {
            id: r.id.clone(),
            title: r.title.clone(),
            summary: excerpt(&r.description, SUMMARY_CHARS),
            kind: r.kind,
            topics: r.topics.clone(),
            organisation_id: r.organisation_id.clone(),
            organisation_name: None,
            format: if r.url.is_some() { "link" } else { "file" }.into(),
            status: r.status,
            published_at: r.published_at.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResourceList {
    pub items: Vec<ResourceSummary>,
    pub next_cursor: Option<String>,
}

/// Which published resources to list.
#[derive(Debug, Clone, Default)]
pub struct ResourceListRequest {
    pub topic: Option<String>,
    pub kind: Option<String>,
    pub organisation: Option<String>,
    pub limit: u32,
    pub cursor: Option<String>,
}

pub(crate) fn named(mut s: ResourceSummary, names: &HashMap<String, String>) -> ResourceSummary {
    s.organisation_name = names.get(&s.organisation_id).cloned();
    s
}

pub(crate) fn resource_view(
    l: LoadedResource,
    viewer: Option<&Claims>,
    names: &HashMap<String, String>,
    downloads: u64,
) -> ResourceView {
    let r = l.resource;
    let privileged = viewer.is_some_and(|c| c.is_moderator() || r.submitted_by.member_id.as_deref() == Some(&c.sub));
    ResourceView {
        organisation_name: names.get(&r.organisation_id).cloned(),
        file: l.file.filter(|f| privileged || f.status == AttachmentStatus::Ready),
        id: r.id,
        title: r.title,
        description: r.description,
        kind: r.kind,
        topics: r.topics,
        organisation_id: r.organisation_id,
        url: r.url,
        status: r.status,
        rejection_reason: if privileged { r.rejection_reason } else { None },
        hold: if privileged { r.hold } else { None },
        submitted_by: SubmittedByView {
            member_id: r.submitted_by.member_id,
            name: r.submitted_by.name,
            job_title: r.submitted_by.job_title,
            email: if privileged { r.submitted_by.email } else { None },
        },
        download_count: downloads,
        created_at: r.created_at,
        updated_at: r.updated_at,
        published_at: r.published_at,
        version: r.version,
    }
}

impl App {
    pub(crate) async fn view_resource(&self, viewer: Option<&Claims>, r: LoadedResource) -> AppResult<ResourceView> {
        let names = self.organisation_names().await?;
        let downloads = self.download_count(&r.resource.id).await?;
        Ok(resource_view(r, viewer, &names, downloads))
    }
}
