//! QI projects: the register, PDSA cycles, measures with their points and
//! annotations, and the run/XmR analysis and chart of a measure.
//!
//! Every member can read every project (signed in; anonymous callers are
//! refused, see `docs/decisions/0010-measure-points-in-year-chunks.md`); the
//! project's team and moderators change it.

mod analysis;
mod measures;
mod notices;
mod pdsa;
mod store;
pub(crate) use store::team_member_write;
mod views;

pub use crate::views::OrganisationRef;
pub use qnet_domain::project::{Annotation, Measure, Pdsa, Project};
use qnet_domain::project::{Classification, NewProject, ProjectPatch, ProjectStatus, format_date};
use qnet_domain::{FieldErrors, topics};
use qnet_ports::{Condition, Cursor, Index, Query, Write};
use time::Date;
pub use views::{
    AnalysisRequest, ClassificationGuide, ClassificationOutcome, ClassificationQuestionView, MeasureList, PdsaList,
    PointsUploaded, ProgressLevel, ProjectList, ProjectListRequest, ProjectSummary, ProjectView, classification_guide,
};

use crate::idempotency::{Created, Creation, IdempotencyKey};
use crate::projects::store::{follow_write, list_writes, project_item, team_member_delete, version_conflict};
use crate::{App, AppError, AppResult, Claims, decode, encode, keys};

pub(crate) fn is_ulid(id: &str) -> bool {
    ulid::Ulid::from_string(id).is_ok()
}

/// Who joins the team is the lead's decision (or a moderator's): any team
/// member may edit the project, but not silently rewrite its team.
pub(crate) fn require_lead(p: &Project, claims: &Claims) -> AppResult<()> {
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

pub(crate) fn check_version(current: u64, if_match: Option<u64>) -> AppResult<()> {
    match if_match {
        None => Err(AppError::VersionRequired),
        Some(v) if v != current => Err(AppError::VersionMismatch { current }),
        _ => Ok(()),
    }
}

impl App {
    /// Today in Europe/London: points and PDSA cycles may not be dated after it.
    pub fn today(&self) -> Date {
        let t = jiff::Timestamp::from_second(self.now().unix_timestamp()).expect("times in range");
        let d = t.to_zoned_datetime(qnet_domain::digest::london().clone()).date();
        let month = time::Month::try_from(d.month() as u8).expect("months are 1 to 12");
        Date::from_calendar_date(d.year().into(), month, d.day() as u8).expect("a calendar date")
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

    pub async fn create_project(&self, claims: &Claims, input: NewProject, idem: Option<&IdempotencyKey>) -> AppResult<Creation> {
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
        writes.extend(p.team.iter().map(|m| team_member_write(&p.id, m, &now)));
        writes.extend(self.project_tallies(None, Some(&p)).await?);
        let view = self.project_view(claims, p.clone()).await?;
        let mut body = encode(&view);
        body["following"] = serde_json::Value::Bool(true);
        let stored = self.commit(writes, Created { id: p.id.clone(), view: body }, idem).await?;
        self.index_project(&p);
        self.send_invitations(&p, &creator.name, &p.invited).await;
        Ok(stored)
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
            writes.push(team_member_write(&new.id, &claims.sub, &new.updated_at));
        }
        self.records.transact(writes).await.map_err(|e| version_conflict(e, version))?;
        self.index_project(&new);
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
        writes.extend(old.team.iter().filter(|m| !new.team.contains(m)).map(|m| team_member_delete(&new.id, m)));
        writes.extend(self.project_tallies(Some(&old), Some(&new)).await?);
        self.records.transact(writes).await.map_err(|e| version_conflict(e, version))?;
        self.index_project(&new);
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
        let mut cursor = crate::listing::parse_cursor(req.cursor.as_deref(), Some(&partition))?;
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

    // Measures

    // Points

    // Annotations

    // Take-downs: the author of the record, the project's team or a moderator.

    // Analysis and chart
}

/// Erasure: the member's places in the portfolio's team index go (the
/// projects keep their team lists as they are).
pub(crate) async fn erase(app: &App, member_id: &str) -> AppResult<()> {
    loop {
        let q = qnet_ports::Query::new(qnet_ports::Index::Gsi2, keys::members_projects(member_id)).limit(100);
        let page = app.records.query(q).await?;
        if page.items.is_empty() {
            return Ok(());
        }
        for item in page.items {
            app.records.delete(&item.pk, &item.sk, Condition::None).await?;
        }
    }
}
