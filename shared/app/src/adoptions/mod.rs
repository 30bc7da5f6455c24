//! Adoption and spread (issue 22): "We are trying this" on a published case
//! study. A member records that their team is adopting or adapting it,
//! optionally naming one of their QI projects; the author is told once; the
//! case study shows where it has spread, and the project links back to where
//! the idea came from.

pub mod views;

use qnet_domain::adoption::{Adoption, NewAdoption};
use qnet_domain::case_study::Status;
use qnet_ports::{Condition, Index, Item, Query, Write};

use crate::engagement::EmailKind;
use crate::questions::{ReportKind, ReportReceived, ReportSubject};
use crate::{App, AppError, AppResult, Claims, decode, encode, keys};
pub use views::{AdoptionView, AdoptionsView};

/// Adoptions read per case study, at most (a page of the spread view).
pub const MAX_ADOPTIONS: u32 = 500;

fn adoption_item(a: &Adoption) -> Item {
    let (pk, sk) = keys::adoption(&a.case_study_id, &a.member_id);
    Item::new(pk, sk, encode(a)).with_gsi2(keys::member_adoptions(&a.member_id), a.case_study_id.clone())
}

/// The project's link back to the case study that inspired it; one per
/// (project, case study, adopter) so one adopter's withdrawal leaves the others'.
fn inspired_item(project_id: &str, a: &Adoption, title: &str) -> Item {
    let (pk, sk) = keys::inspired_by(project_id, &a.case_study_id, &a.member_id);
    Item::new(pk, sk, serde_json::json!({"case_study_id": a.case_study_id, "title": title}))
}

fn inspired_delete(project_id: &str, a: &Adoption) -> Write {
    let (pk, sk) = keys::inspired_by(project_id, &a.case_study_id, &a.member_id);
    Write::Delete { pk, sk, condition: Condition::None }
}

impl App {
    /// `POST /case-studies/{id}/adoptions`: records (or changes) the caller's
    /// adoption of a published case study. The author is told the first time.
    /// Answers the view and whether it was new.
    pub async fn adopt_case_study(&self, claims: &Claims, id: &str, input: NewAdoption) -> AppResult<(AdoptionsView, bool)> {
        let cs = self.visible_case_study(Some(claims), id).await?;
        if cs.status != Status::Published {
            return Err(AppError::NotFound("case study"));
        }
        if cs.submitted_by.member_id.as_deref() == Some(claims.sub.as_str()) {
            return Err(AppError::Conflict("this is your own case study: others record that they are trying it".into()));
        }
        if let Some(pid) = &input.project_id {
            let project = match self.load_project(pid).await {
                Ok((p, _)) => p,
                Err(AppError::NotFound(_)) => return Err(AppError::invalid("project_id", "is not a project")),
                Err(e) => return Err(e),
            };
            if !project.team.contains(&claims.sub) {
                return Err(AppError::invalid("project_id", "is not one of your projects: you must be in its team"));
            }
        }
        let member = self.member(claims).await?;
        let key = keys::adoption(&cs.id, &member.id);
        let old = self.get_record::<Adoption>(key.clone()).await?;
        let now = self.now_text();
        let a = Adoption {
            id: old.as_ref().map(|(o, _)| o.id.clone()).unwrap_or_else(|| self.new_id()),
            case_study_id: cs.id.clone(),
            member_id: member.id.clone(),
            member_name: member.name.clone(),
            organisation_id: member.organisation_id.clone(),
            kind: input.kind,
            project_id: input.project_id.clone(),
            note: input.note.clone(),
            created_at: old.as_ref().map(|(o, _)| o.created_at.clone()).unwrap_or_else(|| now.clone()),
            updated_at: now,
        };
        let mut writes = vec![Write::Put {
            item: adoption_item(&a),
            condition: match &old {
                Some((_, item)) => Condition::VersionIs(item.version),
                None => Condition::NotExists,
            },
        }];
        if let Some((o, _)) = &old
            && let Some(p) = &o.project_id
            && o.project_id != a.project_id
        {
            writes.push(inspired_delete(p, o));
        }
        if let Some(p) = &a.project_id {
            writes.push(Write::Put { item: inspired_item(p, &a, &cs.title), condition: Condition::None });
        }
        if old.is_none() {
            // Adoptions standing, by the month they were recorded (insights).
            let orgs: Vec<String> = a.organisation_id.iter().cloned().collect();
            writes.extend(self.event_tallies(&a.created_at, &orgs, &["adoptions".to_owned()], 1).await?);
        }
        match self.records.transact(writes).await {
            Ok(()) => {}
            Err(e) if e.is_conflict() => {
                return Err(AppError::Conflict("your adoption changed at the same moment; try again".into()));
            }
            Err(e) => return Err(e.into()),
        }
        let created = old.is_none();
        tracing::info!(case_study = %cs.id, member = %member.id, created, "adoption recorded");
        if let Some(author_id) = &cs.submitted_by.member_id {
            // The email is best effort after the commit: the record stands either
            // way. Its claim makes it once per adopter, so recording again sends
            // it only when the first attempt failed.
            if let Err(e) = self.tell_author_of_adoption(author_id, &cs.id, &cs.title, &a).await {
                tracing::warn!(case_study = %cs.id, error = %e, "the author was not told of an adoption");
            }
        }
        Ok((self.adoptions(Some(claims), &cs.id).await?, created))
    }

    /// `DELETE /case-studies/{id}/adoptions/{member_id}`: the adopter withdraws
    /// it, or a moderator removes it (its note with it).
    pub async fn remove_adoption(&self, claims: &Claims, id: &str, member_id: &str) -> AppResult<()> {
        let key = keys::adoption(id, member_id);
        let Some((a, item)) = self.get_record::<Adoption>(key.clone()).await? else {
            return Err(AppError::NotFound("adoption"));
        };
        if a.member_id != claims.sub && !claims.is_moderator() {
            return Err(AppError::Forbidden("only who recorded it, or a moderator, can remove it"));
        }
        let mut writes = vec![Write::Delete { pk: key.0, sk: key.1, condition: Condition::VersionIs(item.version) }];
        if let Some(p) = &a.project_id {
            writes.push(inspired_delete(p, &a));
        }
        let orgs: Vec<String> = a.organisation_id.iter().cloned().collect();
        writes.extend(self.event_tallies(&a.created_at, &orgs, &["adoptions".to_owned()], -1).await?);
        match self.records.transact(writes).await {
            // Its reports go with it (as a removed question's do): the note is gone.
            Ok(()) => self.purge_reports(&a.id).await,
            Err(e) if e.is_conflict() => Err(AppError::Conflict("the adoption changed at the same moment; try again".into())),
            Err(e) => Err(e.into()),
        }
    }

    /// `POST /case-studies/{id}/adoptions/{member_id}/reports`: anyone signed in
    /// reports an adoption's note to moderators (once per member; a repeat
    /// changes nothing). 404 when the case study cannot be read or the
    /// adoption does not exist.
    pub async fn report_adoption(
        &self,
        claims: &Claims,
        id: &str,
        member_id: &str,
        body: &serde_json::Value,
    ) -> AppResult<ReportReceived> {
        let cs = self.visible_case_study(Some(claims), id).await?;
        let Some(a) = self.adoption_record(&cs.id, member_id).await? else { return Err(AppError::NotFound("adoption")) };
        let subject = ReportSubject {
            id: a.id,
            kind: ReportKind::Adoption,
            question_id: None,
            answer_id: None,
            case_study_id: Some(cs.id),
            adopter_id: Some(a.member_id),
        };
        self.file_report(claims, subject, body).await
    }

    /// One member's adoption of a case study, if recorded.
    pub(crate) async fn adoption_record(&self, case_study_id: &str, member_id: &str) -> AppResult<Option<Adoption>> {
        Ok(self.get_record::<Adoption>(keys::adoption(case_study_id, member_id)).await?.map(|(a, _)| a))
    }

    /// Every adoption of a case study, oldest first.
    pub async fn adoptions_of(&self, case_study_id: &str) -> AppResult<Vec<Adoption>> {
        let (pk, _) = keys::adoption(case_study_id, "");
        let q = Query::new(Index::Primary, pk).prefix(keys::ADOPTION_PREFIX).limit(MAX_ADOPTIONS);
        let page = self.records.query(q).await?;
        let mut v: Vec<Adoption> = page.items.iter().map(decode).collect::<Result<_, _>>()?;
        v.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(v)
    }

    /// How many members recorded that they are trying a case study.
    pub async fn adoption_count(&self, case_study_id: &str) -> AppResult<usize> {
        Ok(self.adoptions_of(case_study_id).await?.len())
    }

    /// `GET /case-studies/{id}/adoptions`: where a case study has spread.
    pub async fn adoptions(&self, viewer: Option<&Claims>, id: &str) -> AppResult<AdoptionsView> {
        let cs = self.visible_case_study(viewer, id).await?;
        let list = self.adoptions_of(&cs.id).await?;
        let mut organisations = Vec::new();
        for a in &list {
            if let Some(o) = &a.organisation_id
                && !organisations.iter().any(|(id, _): &(String, _)| id == o)
                && let Some(org) = self.organisation(o).await?
            {
                organisations.push((org.id.clone(), org));
            }
        }
        let mut projects = Vec::new();
        for a in &list {
            if let Some(p) = &a.project_id
                && !projects.iter().any(|(id, _): &(String, String)| id == p)
                && let Ok((project, _)) = self.load_project(p).await
            {
                projects.push((project.id, project.title));
            }
        }
        Ok(views::adoptions_view(viewer, &list, organisations.into_iter().map(|(_, o)| o).collect(), projects))
    }

    async fn tell_author_of_adoption(&self, author_id: &str, cs_id: &str, title: &str, a: &Adoption) -> AppResult<()> {
        let Some(author) = self.member_by_id(author_id).await? else { return Ok(()) };
        if !EmailKind::AuthorUpdates.allowed(&author) {
            return Ok(());
        }
        let (cpk, csk) = keys::adoption_mail_claim(cs_id, &a.member_id);
        let claim = Item::new(cpk.clone(), csk.clone(), serde_json::json!({"claimed_at": self.now_text()}));
        let (token_write, headers) = self.opt_out_headers(&author.id, EmailKind::AuthorUpdates);
        match self.records.transact(vec![Write::Put { item: claim, condition: Condition::NotExists }, token_write]).await {
            Ok(()) => {}
            Err(e) if e.is_conflict() => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        let organisation = match &a.organisation_id {
            Some(o) => self.organisation(o).await?.map(|o| o.name),
            None => None,
        };
        let project = match &a.project_id {
            Some(p) => self.load_project(p).await.ok().map(|(p, _)| p.title),
            None => None,
        };
        let mut ctx = tera::Context::new();
        ctx.insert("name", &author.name);
        ctx.insert("adopter", &a.member_name);
        ctx.insert("organisation", &organisation);
        ctx.insert("adapting", &(a.kind == qnet_domain::adoption::AdoptionKind::Adapting));
        ctx.insert("title", title);
        ctx.insert("project", &project);
        ctx.insert("note", &a.note);
        ctx.insert("url", &format!("{}/case-studies/{cs_id}", self.web_base_url.trim_end_matches('/')));
        ctx.insert("settings_url", &format!("{}/settings", self.web_base_url.trim_end_matches('/')));
        let mut h = crate::mail::Headers::new(
            ("Qnet", &*self.mail_from),
            (author.name.as_str(), author.email.as_str()),
            format!("{} is trying your case study: {title}", a.member_name),
        );
        h.extra.extend(headers);
        let mail = match crate::mail::compose("email/adoption-recorded", &ctx, h) {
            Ok(c) => c.mail,
            Err(e) => {
                let _ = self.records.delete(&cpk, &csk, Condition::None).await;
                return Err(e.into());
            }
        };
        if let Err(e) = self.deliver(&*self.mailer, &mail).await {
            // Not sent: free the claim so that recording again can tell them.
            let _ = self.records.delete(&cpk, &csk, Condition::None).await;
            return Err(AppError::Unavailable(e.to_string()));
        }
        Ok(())
    }
}

/// Erasure's part here: the member's adoptions and their projects' links go.
pub(crate) async fn erase(app: &App, member_id: &str) -> AppResult<()> {
    loop {
        let page = app.records.query(Query::new(Index::Gsi2, keys::member_adoptions(member_id)).limit(100)).await?;
        if page.items.is_empty() {
            return Ok(());
        }
        for item in page.items {
            let a: Adoption = decode(&item)?;
            let mut writes = vec![Write::Delete { pk: item.pk.clone(), sk: item.sk.clone(), condition: Condition::None }];
            if let Some(p) = &a.project_id {
                writes.push(inspired_delete(p, &a));
            }
            // It no longer stands: its count goes with it, as on withdrawal.
            let orgs: Vec<String> = a.organisation_id.iter().cloned().collect();
            writes.extend(app.event_tallies(&a.created_at, &orgs, &["adoptions".to_owned()], -1).await?);
            app.records.transact(writes).await?;
            app.purge_reports(&a.id).await?;
        }
    }
}
