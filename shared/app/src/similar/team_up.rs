//! "Ask the lead to team up": a member who found a similar project writes to
//! its lead, who answers them directly (Reply-To the asker). Once a week per
//! member and project: a retry or a repeat within seven days sends nothing more.

use qnet_domain::project::Project;
use qnet_domain::similar::TeamUpRequest;
use qnet_ports::{Condition, Item};

use crate::engagement::EmailKind;
use crate::limits::Action;
use crate::{App, AppError, AppResult, Claims, keys};

/// How long one request to team up stands before the same member may send another.
pub const TEAM_UP_DAYS: i64 = 7;

impl App {
    /// `POST /projects/{id}/team-up`: emails the project's lead (the team when
    /// the lead has erased their profile) the caller's message, naming the
    /// caller, their organisation and their email address. Refused for a
    /// member already in the team.
    pub async fn team_up(&self, claims: &Claims, project_id: &str, body: &serde_json::Value) -> AppResult<()> {
        let (p, _) = self.load_project(project_id).await?;
        if p.team.contains(&claims.sub) {
            return Err(AppError::Conflict("you are already in this project's team".into()));
        }
        let request = TeamUpRequest::parse(body)?;
        let asker = self.member(claims).await?;
        let (pk, sk) = keys::team_up_claim(&p.id, &asker.id);
        // Asked within the week: already sent (or being sent), nothing more.
        if self.records.get(&pk, &sk).await?.is_some() {
            return Ok(());
        }
        self.take_allowance(&asker.id, Action::TeamUp).await?;
        let expires = self.now().unix_timestamp() + TEAM_UP_DAYS * 24 * 60 * 60;
        let claim = Item::new(pk.clone(), sk.clone(), serde_json::json!({"claimed_at": self.now_text()})).expiring_at(expires);
        match self.records.put(claim, Condition::NotExists).await {
            Ok(()) => {}
            Err(e) if e.is_conflict() => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        match self.send_team_up(&p, &asker, request.message.as_str()).await {
            Ok(()) => {
                tracing::info!(project = %p.id, "a request to team up was sent");
                Ok(())
            }
            Err(e) => {
                // Nothing went out: free the claim so that trying again sends it.
                let _ = self.records.delete(&pk, &sk, Condition::None).await;
                Err(e)
            }
        }
    }

    /// Who hears of a request to team up: the lead, else the team; only
    /// those who take emails about questions on their work (the same switch,
    /// and its one-click opt-out, as questions on their case studies).
    async fn team_up_recipients(&self, p: &Project, asker_id: &str) -> AppResult<Vec<qnet_domain::member::Member>> {
        let mut out = Vec::new();
        if let Some(lead) = self.member_by_id(&p.lead_id).await? {
            out.push(lead);
        } else {
            for id in p.team.iter().filter(|m| *m != asker_id) {
                if let Some(m) = self.member_by_id(id).await? {
                    out.push(m);
                }
            }
        }
        out.retain(|m| EmailKind::Questions.allowed(m));
        Ok(out)
    }

    async fn send_team_up(&self, p: &Project, asker: &qnet_domain::member::Member, message: &str) -> AppResult<()> {
        let organisation = match &asker.organisation_id {
            Some(o) => self.organisation(o).await?.map(|o| o.name),
            None => None,
        };
        let recipients = self.team_up_recipients(p, &asker.id).await?;
        if recipients.is_empty() {
            return Err(AppError::Conflict(
                "this project's team does not take requests by email: follow the project to hear of its progress".into(),
            ));
        }
        let mut sent = 0;
        let mut failure = None;
        for to in &recipients {
            let mut ctx = tera::Context::new();
            ctx.insert("name", &to.name);
            ctx.insert("asker", &asker.name);
            ctx.insert("organisation", &organisation);
            ctx.insert("email", &asker.email);
            ctx.insert("title", &p.title);
            ctx.insert("message", message);
            ctx.insert("project_url", &format!("{}/projects/{}", self.web_base_url, p.id));
            ctx.insert("settings_url", &format!("{}/settings", self.web_base_url.trim_end_matches('/')));
            let mut h = crate::mail::Headers::new(
                ("Qnet", &*self.mail_from),
                (to.name.as_str(), to.email.as_str()),
                format!("{} would like to team up on \"{}\"", asker.name, p.title),
            );
            h.reply_to = Some(asker.email.clone());
            let (token_write, headers) = self.opt_out_headers(&to.id, EmailKind::Questions);
            h.extra.extend(headers);
            self.records.transact(vec![token_write]).await?;
            let mail = crate::mail::compose("email/team-up", &ctx, h)?.mail;
            // A suppressed address counts as done: it never gets email.
            match self.deliver(&*self.mailer, &mail).await {
                Ok(_) => sent += 1,
                Err(e) => {
                    tracing::warn!(project = %p.id, error = %e, "a request to team up was not sent");
                    failure = Some(e);
                }
            }
        }
        match failure {
            Some(e) if sent == 0 => Err(AppError::Unavailable(e.to_string())),
            _ => Ok(()),
        }
    }
}
