//! What the API answers about adoptions.

use qnet_domain::adoption::{Adoption, AdoptionKind};
use qnet_domain::organisation::{Organisation, OrganisationType};
use serde::Serialize;
use utoipa::ToSchema;

use crate::Claims;

/// Where a case study has spread.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdoptionsView {
    /// Members who recorded that they are trying it.
    pub count: usize,
    /// The organisations they belong to, each once.
    pub organisations: Vec<SpreadOrganisation>,
    /// The QI projects that carry the idea, each once (for signed-in members; empty otherwise).
    pub projects: Vec<SpreadProject>,
    /// Each adoption with who recorded it: for signed-in members only (empty otherwise).
    pub items: Vec<AdoptionView>,
    /// Whether the caller has recorded one (their own is among `items`).
    pub adopted_by_me: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SpreadOrganisation {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: OrganisationType,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SpreadProject {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdoptionView {
    pub id: String,
    pub member_id: String,
    pub member_name: String,
    pub organisation_name: Option<String>,
    pub kind: AdoptionKind,
    pub project: Option<SpreadProject>,
    pub note: Option<String>,
    pub created_at: String,
    /// The caller recorded it, or is a moderator.
    pub can_remove: bool,
}

pub(crate) fn adoptions_view(
    viewer: Option<&Claims>,
    list: &[Adoption],
    organisations: Vec<Organisation>,
    projects: Vec<(String, String)>,
) -> AdoptionsView {
    let project = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| projects.iter().find(|(p, _)| p == id))
            .map(|(id, title)| SpreadProject { id: id.clone(), title: title.clone() })
    };
    let items = match viewer {
        None => vec![],
        Some(c) => list
            .iter()
            .map(|a| AdoptionView {
                id: a.id.clone(),
                member_id: a.member_id.clone(),
                member_name: a.member_name.clone(),
                organisation_name: a
                    .organisation_id
                    .as_ref()
                    .and_then(|o| organisations.iter().find(|org| &org.id == o))
                    .map(|o| o.name.clone()),
                kind: a.kind,
                project: project(&a.project_id),
                note: a.note.clone(),
                created_at: a.created_at.clone(),
                can_remove: a.member_id == c.sub || c.is_moderator(),
            })
            .collect(),
    };
    AdoptionsView {
        count: list.len(),
        adopted_by_me: viewer.is_some_and(|c| list.iter().any(|a| a.member_id == c.sub)),
        organisations: organisations
            .iter()
            .map(|o| SpreadOrganisation { id: o.id.clone(), name: o.name.clone(), kind: o.kind })
            .collect(),
        // Projects are for members: visitors see the count and the organisations.
        projects: match viewer {
            Some(_) => projects.into_iter().map(|(id, title)| SpreadProject { id, title }).collect(),
            None => vec![],
        },
        items,
    }
}
