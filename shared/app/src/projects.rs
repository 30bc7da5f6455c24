//! QI projects: the register, PDSA cycles, measures with their points and
//! annotations, and the run/XmR analysis and chart of a measure.
//!
//! Every member can read every project (signed in; anonymous callers are
//! refused, see `docs/decisions/0010-measure-points-in-year-chunks.md`); the
//! project's team and moderators change it.

use std::collections::BTreeMap;

use qnet_charts::{Analysis, AnalysisError, Chart, ChartMeta, Direction, Options, Point};
use qnet_domain::project::{
    self, Classification, Frequency, ImprovementDirection, MeasureInput, MeasureType, NewPdsa, NewPoint, NewProject, PointRef,
    ProjectPatch, ProjectStatus, format_date, parse_date,
};
use qnet_domain::{FieldErrors, topics};
use qnet_ports::{Condition, Cursor, Index, Item, Query, Write};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use crate::idempotency::{IdempotencyKey, StoredResponse};
use crate::{App, AppError, AppResult, Claims, PageRequest, decode, encode, keys};

/// A project as stored (and, with names filled in, as answered).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Project {
    pub id: String,
    pub title: String,
    pub aim: String,
    pub problem: Option<String>,
    pub organisation_ids: Vec<String>,
    /// Member ids; the lead is always one of them.
    pub team: Vec<String>,
    /// Member ids invited to the team who have not accepted yet: not on the
    /// team, not following.
    #[serde(default)]
    pub invited: Vec<String>,
    pub lead_id: String,
    pub topics: Vec<String>,
    pub status: ProjectStatus,
    pub started_on: Option<String>,
    pub classification: Option<Classification>,
    pub progress_score: Option<f64>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrganisationRef {
    pub id: String,
    /// Null when the organisation is no longer in the directory.
    pub name: Option<String>,
}

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

/// A PDSA cycle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Pdsa {
    pub id: String,
    pub project_id: String,
    pub title: Option<String>,
    pub plan: String,
    pub prediction: Option<String>,
    #[serde(rename = "do")]
    pub do_: Option<String>,
    pub study: Option<String>,
    pub act: Option<String>,
    pub started_on: Option<String>,
    pub ended_on: Option<String>,
    /// The measure data points the cycle relates to.
    pub points: Vec<PointRef>,
    pub created_by: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PdsaList {
    /// Oldest first.
    pub items: Vec<Pdsa>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A measure of a project.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Measure {
    pub id: String,
    pub project_id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub measure_type: MeasureType,
    pub unit: Option<String>,
    pub improvement_direction: ImprovementDirection,
    pub target: Option<f64>,
    pub frequency: Option<Frequency>,
    /// How the measure is defined (numerator, denominator, source).
    pub definition: Option<String>,
    pub point_count: usize,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
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

/// A note on a date of a measure's chart.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Annotation {
    pub id: String,
    pub measure_id: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub text: String,
    pub created_by: String,
    pub created_at: String,
}

/// The points of one measure in one calendar year, in date order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct PointsChunk {
    points: Vec<StoredPoint>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct StoredPoint {
    #[serde(with = "project::iso_date")]
    date: Date,
    value: f64,
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

fn is_ulid(id: &str) -> bool {
    ulid::Ulid::from_string(id).is_ok()
}

fn summary(p: &Project) -> ProjectSummary {
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

fn list_partitions(p: &Project) -> Vec<String> {
    let mut v = vec![keys::project_list(None), keys::project_list(Some(("status", p.status.as_str())))];
    v.extend(p.topics.iter().map(|t| keys::project_list(Some(("topic", t)))));
    v.extend(p.organisation_ids.iter().map(|o| keys::project_list(Some(("org", o)))));
    v
}

fn list_sort_key(p: &Project) -> String {
    format!("{}#{}", p.created_at, p.id)
}

fn project_item(p: &Project) -> Item {
    let (pk, sk) = keys::project(&p.id);
    Item::new(pk, sk, encode(p)).with_version(p.version)
}

/// The list entries to write and delete when a project goes from `old` to `new`.
fn list_writes(old: Option<&Project>, new: &Project) -> Vec<Write> {
    let after = list_partitions(new);
    let s = encode(&summary(new));
    let mut w: Vec<Write> = after
        .iter()
        .map(|p| Write::Put { item: Item::new(p.clone(), list_sort_key(new), s.clone()), condition: Condition::None })
        .collect();
    if let Some(old) = old {
        for p in list_partitions(old).into_iter().filter(|p| !after.contains(p)) {
            w.push(Write::Delete { pk: p, sk: list_sort_key(old), condition: Condition::None });
        }
    }
    w
}

fn follow_write(project_id: &str, member_id: &str, at: &str) -> Write {
    let (pk, sk) = keys::follower(project_id, member_id);
    let item = Item::new(pk, sk, serde_json::json!({"member_id": member_id, "since": at}))
        .with_gsi2(keys::members_follows(member_id), project_id.to_string());
    Write::Put { item, condition: Condition::None }
}

/// Who joins the team is the lead's decision (or a moderator's): any team
/// member may edit the project, but not silently rewrite its team.
fn require_lead(p: &Project, claims: &Claims) -> AppResult<()> {
    if claims.is_moderator() || p.lead_id == claims.sub {
        Ok(())
    } else {
        Err(AppError::Forbidden("only the project lead or a moderator may change the team"))
    }
}

pub(crate) fn require_team(p: &Project, claims: &Claims) -> AppResult<()> {
    if claims.is_moderator() || p.team.contains(&claims.sub) {
        Ok(())
    } else {
        Err(AppError::Forbidden("only the project's team and moderators may change it"))
    }
}

fn check_version(current: u64, if_match: Option<u64>) -> AppResult<()> {
    match if_match {
        None => Err(AppError::VersionRequired),
        Some(v) if v != current => Err(AppError::VersionMismatch { current }),
        _ => Ok(()),
    }
}

fn direction(d: ImprovementDirection) -> Direction {
    match d {
        ImprovementDirection::Up => Direction::Up,
        ImprovementDirection::Down => Direction::Down,
        ImprovementDirection::Neither => Direction::Neither,
    }
}

fn analysis_error(e: AnalysisError) -> AppError {
    let field = match e {
        AnalysisError::BaselineTooShort { .. } => "baseline",
        AnalysisError::SegmentTooShort { .. } => "recalculate_from",
        AnalysisError::NonFiniteTarget => "target",
        _ => "points",
    };
    AppError::invalid(field, &e.to_string())
}

fn version_conflict(e: qnet_ports::StoreError, current: u64) -> AppError {
    if e.is_conflict() { AppError::VersionMismatch { current: current + 1 } } else { e.into() }
}

impl App {
    /// Today in Europe/London: points and PDSA cycles may not be dated after it.
    pub(crate) fn today(&self) -> Date {
        let t = jiff::Timestamp::from_second(self.now().unix_timestamp()).expect("times in range");
        let d = t.to_zoned_datetime(qnet_domain::digest::london().clone()).date();
        let month = time::Month::try_from(d.month() as u8).expect("months are 1 to 12");
        Date::from_calendar_date(d.year().into(), month, d.day() as u8).expect("a calendar date")
    }

    pub(crate) async fn load_project(&self, id: &str) -> AppResult<(Project, u64)> {
        if !is_ulid(id) {
            return Err(AppError::NotFound("project"));
        }
        match self.get_record::<Project>(keys::project(id)).await? {
            Some((p, item)) => Ok((p, item.version)),
            None => Err(AppError::NotFound("project")),
        }
    }

    async fn project_view(&self, claims: &Claims, p: Project) -> AppResult<ProjectView> {
        let names = self.organisation_names().await?;
        let (fpk, fsk) = keys::follower(&p.id, &claims.sub);
        let following = self.records.get(&fpk, &fsk).await?.is_some();
        Ok(ProjectView {
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

    async fn check_organisations(&self, ids: &[String], errors: &mut FieldErrors) -> AppResult<()> {
        for (n, o) in ids.iter().enumerate() {
            if self.organisation(o).await?.is_none() {
                errors.push(format!("organisation_ids[{n}]"), "is not a known organisation");
            }
        }
        Ok(())
    }

    async fn check_team(&self, ids: &[String], errors: &mut FieldErrors) -> AppResult<()> {
        for (n, m) in ids.iter().enumerate() {
            if self.member_by_id(m).await?.is_none() {
                errors.push(format!("team[{n}]"), "is not a member of the network");
            }
        }
        Ok(())
    }

    pub async fn create_project(
        &self,
        claims: &Claims,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<StoredResponse> {
        let input = NewProject::parse(body, self.today())?;
        let creator = self.member(claims).await?;
        let mut errors = FieldErrors::new();
        self.check_organisations(&input.organisation_ids, &mut errors).await?;
        self.check_team(&input.team, &mut errors).await?;
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        // The creator leads; everyone else named is invited and joins on accepting.
        let team = vec![creator.id.clone()];
        let mut invited: Vec<String> = Vec::new();
        for m in input.team.into_iter().filter(|m| *m != creator.id) {
            if !invited.contains(&m) {
                invited.push(m);
            }
        }
        let now = self.now_text();
        let p = Project {
            id: self.new_id(),
            title: input.title.into_string(),
            aim: input.aim.into_string(),
            problem: input.problem.map(String::from),
            organisation_ids: input.organisation_ids,
            lead_id: creator.id.clone(),
            team,
            invited,
            topics: input.topics,
            status: input.status,
            started_on: input.started_on.map(format_date),
            classification: input.classification,
            progress_score: input.progress_score,
            created_by: creator.id,
            created_at: now.clone(),
            updated_at: now.clone(),
            version: 1,
        };
        let mut writes = vec![Write::Put { item: project_item(&p), condition: Condition::NotExists }];
        writes.extend(list_writes(None, &p));
        // Team members follow the board automatically.
        writes.extend(p.team.iter().map(|m| follow_write(&p.id, m, &now)));
        let location = format!("/projects/{}", p.id);
        let view = self.project_view(claims, p.clone()).await?;
        let mut body = encode(&view);
        body["following"] = serde_json::Value::Bool(true);
        let stored = self.commit(writes, StoredResponse::created(location, body), idem).await?;
        self.send_invitations(&p, &creator.name, &p.invited).await;
        Ok(stored)
    }

    /// Emails each newly invited member a link to the project's page, where they
    /// accept or decline. A failure is logged (the invitation stands and shows
    /// on the page), never the reason the project was not saved.
    async fn send_invitations(&self, p: &Project, lead: &str, ids: &[String]) {
        for id in ids {
            let Ok(Some(m)) = self.member_by_id(id).await else { continue };
            let mut ctx = tera::Context::new();
            ctx.insert("name", &m.name);
            ctx.insert("lead", lead);
            ctx.insert("title", &p.title);
            ctx.insert("project_url", &format!("{}/projects/{}", self.web_base_url, p.id));
            let render = |name: &str| crate::mail::render(name, &ctx);
            let (Ok(text), Ok(html)) =
                (render("email/project-invitation.txt.tera"), render("email/project-invitation.html.tera"))
            else {
                tracing::error!("the project invitation templates did not render");
                continue;
            };
            let raw = mail_builder::MessageBuilder::new()
                .from(("Qnet", &*self.mail_from))
                .to((m.name.as_str(), m.email.as_str()))
                .subject(format!("Join the team of \"{}\" on Qnet?", p.title))
                .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("auto-generated"))
                .text_body(text)
                .html_body(html)
                .write_to_vec();
            let Ok(raw) = raw else { continue };
            let mail = qnet_ports::OutgoingMail { from: self.mail_from.to_string(), to: vec![m.email.clone()], raw };
            if let Err(e) = self.deliver(&*self.mailer, &mail).await {
                tracing::warn!(error = %e, project = %p.id, "a project invitation was not sent");
            }
        }
    }

    /// `POST /projects/{id}/invitation/accept|decline`: the invited member joins
    /// the team (and follows its board), or declines. 404 when not invited.
    pub async fn answer_invitation(&self, claims: &Claims, id: &str, accept: bool) -> AppResult<ProjectView> {
        let (old, version) = self.load_project(id).await?;
        if !old.invited.contains(&claims.sub) {
            return Err(AppError::NotFound("invitation"));
        }
        let mut new = old.clone();
        new.invited.retain(|m| *m != claims.sub);
        if accept && !new.team.contains(&claims.sub) {
            new.team.push(claims.sub.clone());
        }
        new.version = version + 1;
        new.updated_at = self.now_text();
        let mut writes = vec![Write::Put { item: project_item(&new), condition: Condition::VersionIs(version) }];
        writes.extend(list_writes(Some(&old), &new));
        if accept {
            writes.push(follow_write(&new.id, &claims.sub, &new.updated_at));
        }
        self.records.transact(writes).await.map_err(|e| version_conflict(e, version))?;
        self.project_view(claims, new).await
    }

    pub async fn get_project(&self, claims: &Claims, id: &str) -> AppResult<ProjectView> {
        let (p, _) = self.load_project(id).await?;
        self.project_view(claims, p).await
    }

    pub async fn update_project(
        &self,
        claims: &Claims,
        id: &str,
        body: &serde_json::Value,
        if_match: Option<u64>,
    ) -> AppResult<ProjectView> {
        let (old, version) = self.load_project(id).await?;
        require_team(&old, claims)?;
        check_version(version, if_match)?;
        let patch = ProjectPatch::parse(body, self.today())?;
        let mut errors = FieldErrors::new();
        if let Some(o) = &patch.organisation_ids {
            self.check_organisations(o, &mut errors).await?;
        }
        if let Some(t) = &patch.team {
            let mut asked: Vec<&String> = t.iter().filter(|m| **m != old.lead_id).collect();
            asked.sort();
            let mut now: Vec<&String> = old.team.iter().chain(&old.invited).filter(|m| **m != old.lead_id).collect();
            now.sort();
            if asked != now {
                require_lead(&old, claims)?;
            }
        }
        let added: Vec<String> = patch
            .team
            .as_ref()
            .map(|t| t.iter().filter(|m| !old.team.contains(m) && !old.invited.contains(m)).cloned().collect())
            .unwrap_or_default();
        self.check_team(&added, &mut errors).await?;
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let mut new = old.clone();
        if let Some(v) = patch.title {
            new.title = v.into_string();
        }
        if let Some(v) = patch.aim {
            new.aim = v.into_string();
        }
        if let Some(v) = patch.problem {
            new.problem = v.map(String::from);
        }
        if let Some(v) = patch.organisation_ids {
            new.organisation_ids = v;
        }
        if let Some(t) = patch.team {
            // The lead stays on the team; those already on it stay if named; the
            // rest named are invited (and join when they accept).
            new.team = std::iter::once(old.lead_id.clone())
                .chain(old.team.iter().filter(|m| **m != old.lead_id && t.contains(m)).cloned())
                .collect();
            new.invited = Vec::new();
            for m in t.into_iter().filter(|m| !new.team.contains(m)) {
                if !new.invited.contains(&m) {
                    new.invited.push(m);
                }
            }
        }
        if let Some(v) = patch.topics {
            new.topics = v;
        }
        if let Some(v) = patch.status {
            new.status = v;
        }
        if let Some(v) = patch.started_on {
            new.started_on = v.map(format_date);
        }
        if let Some(v) = patch.classification {
            new.classification = v;
        }
        if let Some(v) = patch.progress_score {
            new.progress_score = v;
        }
        new.version = version + 1;
        new.updated_at = self.now_text();
        let mut writes = vec![Write::Put { item: project_item(&new), condition: Condition::VersionIs(version) }];
        writes.extend(list_writes(Some(&old), &new));
        self.records.transact(writes).await.map_err(|e| version_conflict(e, version))?;
        let lead = self.member_by_id(&new.lead_id).await?.map(|m| m.name).unwrap_or_else(|| "The project lead".into());
        self.send_invitations(&new, &lead, &added).await;
        self.project_view(claims, new).await
    }

    pub async fn list_projects(&self, req: &ProjectListRequest) -> AppResult<ProjectList> {
        let limit = req.limit;
        let mut errors = FieldErrors::new();
        if let Some(t) = &req.topic
            && !topics::is_known(t)
        {
            errors.push("topic", "is not a known topic (see GET /topics)");
        }
        if let Some(o) = &req.organisation
            && self.organisation(o).await?.is_none()
        {
            errors.push("organisation", "is not a known organisation");
        }
        if let Some(s) = &req.status
            && ProjectStatus::parse(s).is_none()
        {
            errors.push("status", format!("must be one of {}", ProjectStatus::WORDS.join(", ")));
        }
        let classification = req.classification.as_deref().map(Classification::parse);
        if classification.is_some_and(|c| c.is_none()) {
            errors.push("classification", format!("must be one of {}", Classification::WORDS.join(", ")));
        }
        let classification = classification.flatten();
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        // The most selective list holds every match; the other filters are
        // checked on its summaries.
        let partition = match (&req.topic, &req.organisation, &req.status) {
            (Some(t), _, _) => keys::project_list(Some(("topic", t))),
            (None, Some(o), _) => keys::project_list(Some(("org", o))),
            (None, None, Some(s)) => keys::project_list(Some(("status", s))),
            _ => keys::project_list(None),
        };
        let mut cursor = req.cursor.as_deref().map(|c| Cursor::decode(c).map_err(|_| AppError::BadCursor)).transpose()?;
        if cursor.as_ref().is_some_and(|c| c.pk != partition) {
            return Err(AppError::BadCursor);
        }
        let wanted = |s: &ProjectSummary| {
            req.organisation.as_ref().is_none_or(|o| s.organisation_ids.contains(o))
                && req.status.as_ref().is_none_or(|st| s.status.as_str() == st)
                && classification.is_none_or(|c| s.classification == Some(c))
        };
        let mut found: Vec<(ProjectSummary, Cursor)> = vec![];
        'pages: loop {
            let page =
                self.records.query(Query::new(Index::Primary, partition.clone()).descending().limit(100).after(cursor)).await?;
            for item in &page.items {
                let s: ProjectSummary = decode(item)?;
                if wanted(&s) {
                    found.push((s, Cursor { pk: item.pk.clone(), sk: item.sk.clone(), ipk: None, isk: None }));
                    if found.len() > limit as usize {
                        break 'pages;
                    }
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let more = found.len() > limit as usize;
        found.truncate(limit as usize);
        let next_cursor = if more { found.last().map(|(_, c)| c.encode()) } else { None };
        Ok(ProjectList { items: found.into_iter().map(|(s, _)| s).collect(), next_cursor })
    }

    // PDSA cycles

    pub async fn create_pdsa(
        &self,
        claims: &Claims,
        project_id: &str,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<StoredResponse> {
        let (p, _) = self.load_project(project_id).await?;
        require_team(&p, claims)?;
        let input = NewPdsa::parse(body, self.today())?;
        let mut errors = FieldErrors::new();
        let mut loaded: BTreeMap<String, Option<Vec<StoredPoint>>> = BTreeMap::new();
        for (n, (mid, date)) in input.points.iter().enumerate() {
            if !loaded.contains_key(mid) {
                let points = match self.load_measure(project_id, mid).await {
                    Ok(_) => Some(self.load_points(mid).await?),
                    Err(AppError::NotFound(_)) => None,
                    Err(e) => return Err(e),
                };
                loaded.insert(mid.clone(), points);
            }
            match &loaded[mid] {
                None => errors.push(format!("points[{n}].measure_id"), "is not a measure of this project"),
                Some(points) if !points.iter().any(|p| p.date == *date) => {
                    errors.push(format!("points[{n}].date"), "the measure has no point on this date")
                }
                Some(_) => {}
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let pdsa = Pdsa {
            id: self.new_id(),
            project_id: project_id.to_string(),
            title: input.title.map(String::from),
            plan: input.plan.into_string(),
            prediction: input.prediction.map(String::from),
            do_: input.do_.map(String::from),
            study: input.study.map(String::from),
            act: input.act.map(String::from),
            started_on: input.started_on.map(format_date),
            ended_on: input.ended_on.map(format_date),
            points: input.points.iter().map(|(m, d)| PointRef { measure_id: m.clone(), date: format_date(*d) }).collect(),
            created_by: claims.sub.clone(),
            created_at: self.now_text(),
        };
        let (pk, sk) = keys::pdsa(project_id, &pdsa.id);
        let writes = vec![
            Write::Put {
                item: crate::idempotency::naming_record(Item::new(pk, sk, encode(&pdsa)), idem),
                condition: Condition::NotExists,
            },
            Write::Check { pk: keys::project(project_id).0, sk: keys::project(project_id).1, condition: Condition::Exists },
        ];
        let location = format!("/projects/{project_id}/pdsa");
        self.commit(writes, StoredResponse::created(location, encode(&pdsa)), idem).await
    }

    pub async fn list_pdsa(&self, project_id: &str, page: &PageRequest) -> AppResult<PdsaList> {
        self.load_project(project_id).await?;
        let q = Query::new(Index::Primary, keys::project_partition(project_id)).prefix(keys::PDSA_PREFIX);
        let (items, next_cursor) = self.list_page(q, page).await?;
        Ok(PdsaList { items: items.iter().map(decode).collect::<AppResult<_>>()?, next_cursor })
    }

    pub(crate) async fn query_all(&self, partition: String, prefix: &str) -> AppResult<Vec<Item>> {
        let mut out = vec![];
        let mut cursor = None;
        loop {
            let page = self.records.query(Query::new(Index::Primary, partition.clone()).prefix(prefix).after(cursor)).await?;
            out.extend(page.items);
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    // Measures

    /// A measure of this project; a measure of another project is not found.
    pub(crate) async fn load_measure(&self, project_id: &str, measure_id: &str) -> AppResult<(Measure, u64)> {
        if !is_ulid(measure_id) {
            return Err(AppError::NotFound("measure"));
        }
        match self.get_record::<Measure>(keys::measure(project_id, measure_id)).await? {
            Some((m, item)) => Ok((m, item.version)),
            None => Err(AppError::NotFound("measure")),
        }
    }

    pub async fn create_measure(
        &self,
        claims: &Claims,
        project_id: &str,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<StoredResponse> {
        let (p, _) = self.load_project(project_id).await?;
        require_team(&p, claims)?;
        let input = MeasureInput::parse(body, true)?;
        let now = self.now_text();
        let m = Measure {
            id: self.new_id(),
            project_id: project_id.to_string(),
            name: input.name.expect("required when creating").into_string(),
            measure_type: input.measure_type.expect("required when creating"),
            unit: input.unit.flatten().map(String::from),
            improvement_direction: input.improvement_direction.expect("required when creating"),
            target: input.target.flatten(),
            frequency: input.frequency.flatten(),
            definition: input.definition.flatten().map(String::from),
            point_count: 0,
            first_date: None,
            last_date: None,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        let (pk, sk) = keys::measure(project_id, &m.id);
        let (ppk, psk) = keys::project(project_id);
        let writes = vec![
            Write::Put { item: Item::new(pk, sk, encode(&m)), condition: Condition::NotExists },
            Write::Check { pk: ppk, sk: psk, condition: Condition::Exists },
        ];
        let location = format!("/projects/{project_id}/measures/{}", m.id);
        self.commit(writes, StoredResponse::created(location, encode(&m)), idem).await
    }

    pub async fn list_measures(&self, project_id: &str, page: &PageRequest) -> AppResult<MeasureList> {
        self.load_project(project_id).await?;
        let q = Query::new(Index::Primary, keys::project_partition(project_id)).prefix(keys::MEASURE_PREFIX);
        let (items, next_cursor) = self.list_page(q, page).await?;
        Ok(MeasureList { items: items.iter().map(decode).collect::<AppResult<_>>()?, next_cursor })
    }

    /// One measure of a project.
    pub async fn get_measure(&self, project_id: &str, measure_id: &str) -> AppResult<Measure> {
        self.load_project(project_id).await?;
        Ok(self.load_measure(project_id, measure_id).await?.0)
    }

    pub async fn update_measure(
        &self,
        claims: &Claims,
        project_id: &str,
        measure_id: &str,
        body: &serde_json::Value,
        if_match: Option<u64>,
    ) -> AppResult<Measure> {
        let (p, _) = self.load_project(project_id).await?;
        let (old, version) = self.load_measure(project_id, measure_id).await?;
        require_team(&p, claims)?;
        check_version(version, if_match)?;
        let input = MeasureInput::parse(body, false)?;
        let mut m = old;
        if let Some(v) = input.name {
            m.name = v.into_string();
        }
        if let Some(v) = input.measure_type {
            m.measure_type = v;
        }
        if let Some(v) = input.improvement_direction {
            m.improvement_direction = v;
        }
        if let Some(v) = input.unit {
            m.unit = v.map(String::from);
        }
        if let Some(v) = input.target {
            m.target = v;
        }
        if let Some(v) = input.frequency {
            m.frequency = v;
        }
        if let Some(v) = input.definition {
            m.definition = v.map(String::from);
        }
        m.version = version + 1;
        m.updated_at = self.now_text();
        let (pk, sk) = keys::measure(project_id, measure_id);
        self.records
            .put(Item::new(pk, sk, encode(&m)).with_version(m.version), Condition::VersionIs(version))
            .await
            .map_err(|e| version_conflict(e, version))?;
        Ok(m)
    }

    // Points

    async fn load_chunks(&self, measure_id: &str) -> AppResult<BTreeMap<i32, (PointsChunk, u64)>> {
        let items = self.query_all(keys::measure_partition(measure_id), keys::POINTS_PREFIX).await?;
        let mut out = BTreeMap::new();
        for item in items {
            let year: i32 = item
                .sk
                .trim_start_matches(keys::POINTS_PREFIX)
                .parse()
                .map_err(|_| AppError::Unavailable(format!("stored points item {} has a bad sort key", item.pk)))?;
            out.insert(year, (decode::<PointsChunk>(&item)?, item.version));
        }
        Ok(out)
    }

    async fn load_points(&self, measure_id: &str) -> AppResult<Vec<StoredPoint>> {
        Ok(self.load_chunks(measure_id).await?.into_values().flat_map(|(c, _)| c.points).collect())
    }

    /// Adds points, replacing the value of any date the measure already has.
    /// JSON (`csv: None`) or CSV text; every bad point is named and nothing changes.
    pub async fn upload_points(
        &self,
        claims: &Claims,
        project_id: &str,
        measure_id: &str,
        json: Option<&serde_json::Value>,
        csv: Option<&str>,
    ) -> AppResult<PointsUploaded> {
        let (p, _) = self.load_project(project_id).await?;
        let (mut m, version) = self.load_measure(project_id, measure_id).await?;
        require_team(&p, claims)?;
        let today = self.today();
        let points: Vec<NewPoint> = match (json, csv) {
            (_, Some(text)) => project::parse_points_csv(text, today)?,
            (Some(v), None) => project::parse_points_json(v, today)?,
            (None, None) => return Err(AppError::invalid("body", "send JSON points or a CSV")),
        };
        let mut chunks = self.load_chunks(measure_id).await?;
        let mut touched: BTreeMap<i32, Option<u64>> = BTreeMap::new();
        let (mut added, mut replaced) = (0, 0);
        for np in points {
            let year = np.date.year();
            let entry = chunks.entry(year).or_insert_with(|| (PointsChunk::default(), 0));
            touched.entry(year).or_insert(if entry.1 == 0 { None } else { Some(entry.1) });
            let list = &mut entry.0.points;
            match list.binary_search_by(|p| p.date.cmp(&np.date)) {
                Ok(i) => {
                    list[i].value = np.value;
                    replaced += 1;
                }
                Err(i) => {
                    list.insert(i, StoredPoint { date: np.date, value: np.value });
                    added += 1;
                }
            }
        }
        if touched.len() > 90 {
            return Err(AppError::invalid("points", "an upload may touch at most 90 calendar years; upload in parts"));
        }
        let all: Vec<&StoredPoint> = chunks.values().flat_map(|(c, _)| c.points.iter()).collect();
        m.point_count = all.len();
        m.first_date = all.first().map(|p| format_date(p.date));
        m.last_date = all.last().map(|p| format_date(p.date));
        m.version = version + 1;
        m.updated_at = self.now_text();
        let (mpk, msk) = keys::measure(project_id, measure_id);
        let mut writes = vec![Write::Put {
            item: Item::new(mpk, msk, encode(&m)).with_version(m.version),
            condition: Condition::VersionIs(version),
        }];
        for (year, previous) in &touched {
            let (pk, sk) = keys::measure_points(measure_id, *year);
            let chunk = &chunks[year].0;
            let condition = previous.map(Condition::VersionIs).unwrap_or(Condition::NotExists);
            let v = previous.map(|v| v + 1).unwrap_or(1);
            writes.push(Write::Put { item: Item::new(pk, sk, encode(chunk)).with_version(v), condition });
        }
        self.records.transact(writes).await.map_err(|e| {
            if e.is_conflict() {
                AppError::Conflict("the measure's points changed at the same time; send the upload again".into())
            } else {
                e.into()
            }
        })?;
        tracing::info!(measure = %measure_id, added, replaced, "points uploaded");
        Ok(PointsUploaded { added, replaced, measure: m })
    }

    // Annotations

    pub async fn create_annotation(
        &self,
        claims: &Claims,
        project_id: &str,
        measure_id: &str,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<StoredResponse> {
        let (p, _) = self.load_project(project_id).await?;
        self.load_measure(project_id, measure_id).await?;
        require_team(&p, claims)?;
        let (date, text) = project::parse_annotation(body)?;
        let a = Annotation {
            id: self.new_id(),
            measure_id: measure_id.to_string(),
            date: format_date(date),
            text: text.into_string(),
            created_by: claims.sub.clone(),
            created_at: self.now_text(),
        };
        let (pk, sk) = keys::annotation(measure_id, &a.date, &a.id);
        let (mpk, msk) = keys::measure(project_id, measure_id);
        let writes = vec![
            Write::Put {
                item: crate::idempotency::naming_record(Item::new(pk, sk, encode(&a)), idem),
                condition: Condition::NotExists,
            },
            Write::Check { pk: mpk, sk: msk, condition: Condition::Exists },
        ];
        let location = format!("/projects/{project_id}/measures/{measure_id}");
        self.commit(writes, StoredResponse::created(location, encode(&a)), idem).await
    }

    // Take-downs: the author of the record, the project's team or a moderator.

    fn require_author_or_team(p: &Project, claims: &Claims, author: &str) -> AppResult<()> {
        if author == claims.sub {
            return Ok(());
        }
        require_team(p, claims)
            .map_err(|_| AppError::Forbidden("only its author, the project's team and moderators may take it down"))
    }

    /// Deletes a PDSA cycle and the idempotency record that kept its text.
    pub async fn delete_pdsa(&self, claims: &Claims, project_id: &str, pdsa_id: &str) -> AppResult<()> {
        let (p, _) = self.load_project(project_id).await?;
        if !is_ulid(pdsa_id) {
            return Err(AppError::NotFound("PDSA cycle"));
        }
        let Some((pdsa, item)) = self.get_record::<Pdsa>(keys::pdsa(project_id, pdsa_id)).await? else {
            return Err(AppError::NotFound("PDSA cycle"));
        };
        Self::require_author_or_team(&p, claims, &pdsa.created_by)?;
        let mut writes = vec![Write::Delete { pk: item.pk.clone(), sk: item.sk.clone(), condition: Condition::None }];
        writes.extend(crate::idempotency::delete_named_record(&item));
        self.records.transact(writes).await?;
        tracing::info!(project = %project_id, pdsa = %pdsa_id, "PDSA cycle taken down");
        Ok(())
    }

    /// Deletes an annotation and the idempotency record that kept its text.
    pub async fn delete_annotation(
        &self,
        claims: &Claims,
        project_id: &str,
        measure_id: &str,
        annotation_id: &str,
    ) -> AppResult<()> {
        let (p, _) = self.load_project(project_id).await?;
        self.load_measure(project_id, measure_id).await?;
        let items = self.query_all(keys::measure_partition(measure_id), keys::ANNOTATION_PREFIX).await?;
        let Some(item) = items.into_iter().find(|i| i.sk.ends_with(&format!("#{annotation_id}")) && is_ulid(annotation_id))
        else {
            return Err(AppError::NotFound("annotation"));
        };
        let a: Annotation = decode(&item)?;
        Self::require_author_or_team(&p, claims, &a.created_by)?;
        let mut writes = vec![Write::Delete { pk: item.pk.clone(), sk: item.sk.clone(), condition: Condition::None }];
        writes.extend(crate::idempotency::delete_named_record(&item));
        self.records.transact(writes).await?;
        tracing::info!(measure = %measure_id, annotation = %annotation_id, "annotation taken down");
        Ok(())
    }

    /// Deletes a measure's point on `date` (points are the team's: the team or a moderator).
    pub async fn delete_point(&self, claims: &Claims, project_id: &str, measure_id: &str, date: &str) -> AppResult<Measure> {
        let (p, _) = self.load_project(project_id).await?;
        let (mut m, version) = self.load_measure(project_id, measure_id).await?;
        require_team(&p, claims)?;
        let Some(day) = parse_date(date) else { return Err(AppError::NotFound("point")) };
        let mut chunks = self.load_chunks(measure_id).await?;
        let year = day.year();
        let Some((chunk, chunk_version)) = chunks.get_mut(&year) else { return Err(AppError::NotFound("point")) };
        let Ok(i) = chunk.points.binary_search_by(|pt| pt.date.cmp(&day)) else { return Err(AppError::NotFound("point")) };
        chunk.points.remove(i);
        let (pk, sk) = keys::measure_points(measure_id, year);
        let chunk_write = if chunk.points.is_empty() {
            Write::Delete { pk, sk, condition: Condition::VersionIs(*chunk_version) }
        } else {
            Write::Put {
                item: Item::new(pk, sk, encode(&*chunk)).with_version(*chunk_version + 1),
                condition: Condition::VersionIs(*chunk_version),
            }
        };
        let all: Vec<&StoredPoint> = chunks.values().flat_map(|(c, _)| c.points.iter()).collect();
        m.point_count = all.len();
        m.first_date = all.first().map(|pt| format_date(pt.date));
        m.last_date = all.last().map(|pt| format_date(pt.date));
        m.version = version + 1;
        m.updated_at = self.now_text();
        let (mpk, msk) = keys::measure(project_id, measure_id);
        let writes = vec![
            Write::Put {
                item: Item::new(mpk, msk, encode(&m)).with_version(m.version),
                condition: Condition::VersionIs(version),
            },
            chunk_write,
        ];
        self.records.transact(writes).await.map_err(|e| {
            if e.is_conflict() {
                AppError::Conflict("the measure's points changed at the same time; try again".into())
            } else {
                e.into()
            }
        })?;
        tracing::info!(measure = %measure_id, "point taken down");
        Ok(m)
    }

    async fn annotations(&self, measure_id: &str) -> AppResult<Vec<Annotation>> {
        let items = self.query_all(keys::measure_partition(measure_id), keys::ANNOTATION_PREFIX).await?;
        items.iter().map(decode).collect()
    }

    // Analysis and chart

    async fn analyse_measure(
        &self,
        project_id: &str,
        measure_id: &str,
        req: &AnalysisRequest,
    ) -> AppResult<(Project, Measure, Analysis)> {
        let mut errors = FieldErrors::new();
        let chart = match req.chart.as_deref() {
            Some("run") => Some(Chart::Run),
            Some("xmr") => Some(Chart::Xmr),
            Some(_) => {
                errors.push("chart", "must be run or xmr");
                None
            }
            None => {
                errors.push("chart", "is required: run or xmr");
                None
            }
        };
        let baseline = match req.baseline.as_deref() {
            None => None,
            Some(b) => match b.trim().parse::<usize>() {
                Ok(n) if (2..=100_000).contains(&n) => Some(n),
                _ => {
                    errors.push("baseline", "must be a whole number of points, at least 2");
                    None
                }
            },
        };
        let recalculate_from = match req.recalculate_from.as_deref() {
            None => None,
            Some(d) => match parse_date(d) {
                Some(d) => Some(d),
                None => {
                    errors.push("recalculate_from", "must be a date as YYYY-MM-DD");
                    None
                }
            },
        };
        let (p, _) = self.load_project(project_id).await?;
        let (m, _) = self.load_measure(project_id, measure_id).await?;
        let Some(chart) = chart else { return Err(AppError::Invalid(errors)) };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let points: Vec<Point> = self.load_points(measure_id).await?.into_iter().map(|p| Point::new(p.date, p.value)).collect();
        let options = Options {
            chart,
            baseline,
            recalculate_from,
            improvement_direction: direction(m.improvement_direction),
            target: m.target,
        };
        let analysis = qnet_charts::analyse(&points, &options).map_err(analysis_error)?;
        Ok((p, m, analysis))
    }

    /// The run or XmR analysis of a measure (the JSON contract of `qnet-charts`).
    pub async fn measure_analysis(&self, project_id: &str, measure_id: &str, req: &AnalysisRequest) -> AppResult<Analysis> {
        Ok(self.analyse_measure(project_id, measure_id, req).await?.2)
    }

    /// The chart of a measure as an accessible SVG.
    pub async fn measure_chart(&self, project_id: &str, measure_id: &str, req: &AnalysisRequest) -> AppResult<String> {
        let (p, m, analysis) = self.analyse_measure(project_id, measure_id, req).await?;
        let annotations =
            self.annotations(measure_id).await?.into_iter().filter_map(|a| parse_date(&a.date).map(|d| (d, a.text))).collect();
        let meta = ChartMeta {
            title: format!("{}: {}", p.title, m.name),
            measure_name: m.name.clone(),
            unit: m.unit.clone().unwrap_or_default(),
            target: m.target,
            annotations,
        };
        Ok(qnet_charts::render_svg(&analysis, &meta))
    }
}
