//! What the projects API answers, and the classification guide.

use crate::views::OrganisationRef;
use crate::{App, AppResult, Claims, keys};
use qnet_domain::project::{self, Classification, ProjectStatus};
use qnet_domain::project::{Measure, Pdsa, Project};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A project, as `GET /projects/{id}` answers it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectView {
    pub id: String,
    pub title: String,
    /// What, by how much, by when.
    pub aim: String,
    pub problem: Option<String>,
    pub organisations: Vec<OrganisationRef>,
    /// Member ids of the team; `lead_id` is one of them.
    pub team: Vec<String>,
    /// Member ids invited to the team who have not accepted yet.
    pub invited: Vec<String>,
    pub lead_id: String,
    pub topics: Vec<String>,
    pub status: ProjectStatus,
    /// `YYYY-MM-DD`.
    pub started_on: Option<String>,
    pub classification: Option<Classification>,
    /// True for research, which needs ethics approval (HRA) before it starts.
    pub ethics_approval_required: bool,
    /// The IHI progress scale, 0.5 to 5.
    pub progress_score: Option<f64>,
    pub progress_label: Option<String>,
    /// Whether the caller follows the project's board.
    pub following: bool,
    /// The case studies the project took its idea from ("We are trying this").
    pub inspired_by: Vec<InspiredBy>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// A project in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectSummary {
    pub id: String,
    pub title: String,
    pub aim: String,
    pub organisation_ids: Vec<String>,
    pub topics: Vec<String>,
    pub status: ProjectStatus,
    pub classification: Option<Classification>,
    pub progress_score: Option<f64>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectList {
    pub items: Vec<ProjectSummary>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Which projects to list.
#[derive(Debug, Clone, Default)]
pub struct ProjectListRequest {
    pub topic: Option<String>,
    pub organisation: Option<String>,
    pub status: Option<String>,
    /// `quality_improvement`, `audit`, `service_evaluation` or `research`.
    pub classification: Option<String>,
    pub limit: u32,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PdsaList {
    /// Oldest first.
    pub items: Vec<Pdsa>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeasureList {
    pub items: Vec<Measure>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// What an upload of points did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PointsUploaded {
    /// Points on dates the measure had no point for.
    pub added: usize,
    /// Points that replaced the value on a date.
    pub replaced: usize,
    pub measure: Measure,
}

/// What the analysis of a measure is asked for (`…/analysis` and `…/chart.svg`).
#[derive(Debug, Clone)]
pub struct AnalysisRequest {
    pub chart: Option<String>,
    pub baseline: Option<String>,
    pub recalculate_from: Option<String>,
}

/// One question of the guided classification.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassificationQuestionView {
    pub id: String,
    pub text: String,
    pub help: String,
    /// The classification a "yes" decides; a "no" goes on to the next question.
    pub if_yes: Classification,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassificationOutcome {
    pub classification: Classification,
    pub needs_ethics_approval: bool,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgressLevel {
    pub score: f64,
    pub label: String,
}

/// `GET /projects/classification-questions`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassificationGuide {
    /// Ask in order; the first "yes" decides.
    pub questions: Vec<ClassificationQuestionView>,
    /// What it is when every answer is "no".
    pub if_all_no: Classification,
    pub outcomes: Vec<ClassificationOutcome>,
    /// The IHI progress scale `progress_score` uses.
    pub progress_scale: Vec<ProgressLevel>,
}

pub fn classification_guide() -> ClassificationGuide {
    let note = |c: Classification| match c {
        Classification::QualityImprovement => {
            "Quality improvement: no research ethics approval; follow your organisation's QI registration."
        }
        Classification::Audit => "Clinical audit: no research ethics approval; register it with your organisation's audit team.",
        Classification::ServiceEvaluation => "Service evaluation: no research ethics approval; follow local governance.",
        Classification::Research => {
            "Research: needs approval from a Research Ethics Committee (and HRA approval in England) before it starts."
        }
    };
    ClassificationGuide {
        questions: project::CLASSIFICATION_QUESTIONS
            .iter()
            .map(|q| ClassificationQuestionView { id: q.id.into(), text: q.text.into(), help: q.help.into(), if_yes: q.if_yes })
            .collect(),
        if_all_no: project::CLASSIFICATION_DEFAULT,
        outcomes: Classification::ALL
            .iter()
            .map(|c| ClassificationOutcome {
                classification: *c,
                needs_ethics_approval: c.needs_ethics_approval(),
                note: note(*c).into(),
            })
            .collect(),
        progress_scale: project::PROGRESS_SCALE.iter().map(|(s, l)| ProgressLevel { score: *s, label: (*l).into() }).collect(),
    }
}

/// A case study a project took its idea from.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct InspiredBy {
    pub case_study_id: String,
    pub title: String,
}

pub(crate) fn summary(p: &Project) -> ProjectSummary {
    ProjectSummary {
        id: p.id.clone(),
        title: p.title.clone(),
        aim: p.aim.clone(),
        organisation_ids: p.organisation_ids.clone(),
        topics: p.topics.clone(),
        status: p.status,
        classification: p.classification,
        progress_score: p.progress_score,
        created_at: p.created_at.clone(),
    }
}

impl App {
    /// `GET /me/projects`: the projects whose team the caller is in (found
    /// through the projects they follow: joining a team follows its board),
    /// newest first, at most 100.
    pub async fn my_projects(&self, claims: &Claims) -> AppResult<ProjectList> {
        let q = qnet_ports::Query::new(qnet_ports::Index::Gsi2, keys::members_follows(&claims.sub)).limit(100);
        let page = self.records.query(q).await?;
        let mut items = Vec::new();
        for item in page.items {
            let Some(pid) = item.gsi2.as_ref().map(|k| k.sk.clone()) else { continue };
            if let Some((p, _)) = self.get_record::<Project>(keys::project(&pid)).await?
                && p.team.contains(&claims.sub)
            {
                items.push(summary(&p));
            }
        }
        items.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        Ok(ProjectList { items, next_cursor: None })
    }

    /// The case studies a project took its idea from (the project page's link back).
    pub async fn inspired_by(&self, project_id: &str) -> AppResult<Vec<InspiredBy>> {
        let q = qnet_ports::Query::new(qnet_ports::Index::Primary, keys::project_partition(project_id))
            .prefix(keys::INSPIRED_PREFIX)
            .limit(100);
        let page = self.records.query(q).await?;
        let mut out: Vec<InspiredBy> = Vec::new();
        for item in page.items {
            let i: InspiredBy = crate::decode(&item)?;
            if out.iter().any(|o| o.case_study_id == i.case_study_id) {
                continue;
            }
            // Only while the case study is published, with its current title.
            let cs = self.get_record::<qnet_domain::case_study::CaseStudy>(keys::case_study(&i.case_study_id)).await?;
            if let Some((cs, _)) = cs
                && cs.status == qnet_domain::case_study::Status::Published
                && cs.hold.is_none()
            {
                out.push(InspiredBy { case_study_id: cs.id, title: cs.title });
            }
        }
        Ok(out)
    }

    pub(crate) async fn project_view(&self, claims: &Claims, p: Project) -> AppResult<ProjectView> {
        let names = self.organisation_names().await?;
        let (fpk, fsk) = keys::follower(&p.id, &claims.sub);
        let following = self.records.get(&fpk, &fsk).await?.is_some();
        let inspired_by = self.inspired_by(&p.id).await?;
        Ok(ProjectView {
            inspired_by,
            organisations: p
                .organisation_ids
                .iter()
                .map(|o| OrganisationRef { id: o.clone(), name: names.get(o).cloned() })
                .collect(),
            ethics_approval_required: p.classification.is_some_and(Classification::needs_ethics_approval),
            progress_label: p.progress_score.and_then(project::progress_label).map(String::from),
            following,
            id: p.id,
            title: p.title,
            aim: p.aim,
            problem: p.problem,
            team: p.team,
            invited: p.invited,
            lead_id: p.lead_id,
            topics: p.topics,
            status: p.status,
            started_on: p.started_on,
            classification: p.classification,
            progress_score: p.progress_score,
            created_by: p.created_by,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        })
    }
}
