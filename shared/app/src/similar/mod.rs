//! Similar work, before duplicating it (issue 22): while a member registers a
//! project or writes a case study, `POST /similar` shows the projects and case
//! studies most like the draft (more-like-this over title, aim and topics in
//! the search index), each re-read so that only what the caller may see is
//! answered: published case studies, and projects (every signed-in member
//! sees every project). From there a member follows a project or asks its
//! lead to team up ([`team_up`]).

mod team_up;
pub mod views;

use qnet_domain::case_study::{CaseStudy, Status};
use qnet_domain::project::Project;
use qnet_domain::similar::{KINDS, SimilarDraft};
use qnet_ports::SimilarWorkQuery;

use crate::adoptions::views::SpreadOrganisation;
use crate::{App, AppError, AppResult, Claims, keys};
pub use views::{SimilarItem, SimilarTeamMember, SimilarWork};

/// How long a summary may be, in characters.
const SUMMARY_CHARS: usize = 280;

impl App {
    /// `POST /similar`: the projects and published case studies most like the
    /// draft, best first, at most `draft.limit`.
    pub async fn similar_work(&self, claims: &Claims, draft: SimilarDraft) -> AppResult<SimilarWork> {
        let Some(index) = &self.search else {
            return Err(AppError::Unavailable("search is not available in this deployment yet".into()));
        };
        let kinds: Vec<String> =
            if draft.kinds.is_empty() { KINDS.iter().map(|k| k.to_string()).collect() } else { draft.kinds.clone() };
        // Some hits may no longer be shown (withdrawn, held): ask for a few more.
        let q = SimilarWorkQuery {
            title: draft.title.to_string(),
            text: draft.aim.as_deref().unwrap_or_default().to_string(),
            topics: draft.topics.clone(),
            kinds,
            exclude_id: draft.exclude_id.clone(),
            limit: draft.limit * 2 + 5,
        };
        let hits = index.similar(&q).map_err(AppError::Unavailable)?;
        let mut items = Vec::with_capacity(draft.limit);
        for (id, kind) in hits {
            if items.len() >= draft.limit {
                break;
            }
            let item = match kind.as_str() {
                "project" => self.similar_project(claims, &id).await?,
                "case_study" => self.similar_case_study(&id).await?,
                _ => None,
            };
            items.extend(item);
        }
        Ok(SimilarWork { items })
    }

    async fn organisation_ref(&self, id: Option<&str>) -> AppResult<Option<SpreadOrganisation>> {
        let Some(id) = id else { return Ok(None) };
        Ok(self.organisation(id).await?.map(|o| SpreadOrganisation { id: o.id, name: o.name, kind: o.kind }))
    }

    /// A project, as every signed-in member may see it.
    async fn similar_project(&self, claims: &Claims, id: &str) -> AppResult<Option<SimilarItem>> {
        if !crate::projects::is_ulid(id) {
            return Ok(None);
        }
        let Some((p, _)) = self.get_record::<Project>(keys::project(id)).await? else { return Ok(None) };
        let mut organisation = None;
        for o in &p.organisation_ids {
            organisation = self.organisation_ref(Some(o)).await?;
            if organisation.is_some() {
                break;
            }
        }
        let mut team = Vec::new();
        for m in &p.team {
            // Erased members are no longer named.
            if let Some(member) = self.member_by_id(m).await? {
                team.push(SimilarTeamMember { id: member.id, name: member.name });
            }
        }
        let (fpk, fsk) = keys::follower(&p.id, &claims.sub);
        let following = self.records.get(&fpk, &fsk).await?.is_some();
        Ok(Some(SimilarItem {
            kind: "project".into(),
            summary: qnet_domain::text::excerpt(&p.aim, SUMMARY_CHARS),
            id: p.id,
            title: p.title,
            organisation,
            topics: p.topics,
            team,
            following,
        }))
    }

    /// A case study while it is published and not held; its author as the
    /// case study's own page names them.
    async fn similar_case_study(&self, id: &str) -> AppResult<Option<SimilarItem>> {
        let Some((cs, _)) = self.get_record::<CaseStudy>(keys::case_study(id)).await? else { return Ok(None) };
        if cs.status != Status::Published || cs.hold.is_some() {
            return Ok(None);
        }
        let organisation = self.organisation_ref(cs.organisation_id.as_deref()).await?;
        let team = match (&cs.submitted_by.member_id, &cs.submitted_by.name) {
            (Some(id), Some(name)) => vec![SimilarTeamMember { id: id.clone(), name: name.clone() }],
            _ => vec![],
        };
        let summary = if cs.summary.trim().is_empty() { &cs.body } else { &cs.summary };
        Ok(Some(SimilarItem {
            kind: "case_study".into(),
            summary: qnet_domain::text::excerpt(summary, SUMMARY_CHARS),
            id: cs.id,
            title: cs.title,
            organisation,
            topics: cs.topics,
            team,
            following: false,
        }))
    }
}
