//! Digest newsletters, from the schedule to the inbox.
//!
//! - The **planner** ([`Digest::plan`]) decides the issues due at a moment (last
//!   week's weekly issue; last month's monthly issue during a month's first week)
//!   and puts one [`DigestJob`] per member of that cadence on a queue.
//! - The **sender** ([`Digest::process`]) takes one job: checks the member still
//!   wants this issue and that the address is not suppressed, gathers the
//!   member's items from every [`DigestSection`] in a fixed order, composes the
//!   email (tera templates, mail-builder MIME, RFC 8058 one-click unsubscribe),
//!   **claims** (member, issue) with a conditional write, sends, and records the
//!   result. A claim is never taken twice, so no retry, re-run or duplicate queue
//!   message sends a digest twice; a claim found mid-send (the sender died after
//!   claiming) is not sent again (at most once, logged).
//! - Locally, [`Digest::run_local`] plans into memory and sends every job through
//!   the same code into the outbox.
//!
//! Sections are the extension point: each capability (case studies now;
//! resources, events, mentoring and coffee later) implements [`DigestSection`]
//! and is added to [`Digest::sections`] in the order the email shows them.

mod notices;
mod queue;
pub mod sections;
mod store;
mod unsubscribe;
mod views;

use queue::Pacer;
pub use queue::{DigestJob, JobOutcome, MemoryQueue, RetryLater};
pub use sections::{CaseStudiesSection, EventsSection, HighlightsSection, PeriodCache, PersonalSection, ResourcesSection};
pub(crate) use store::purge_claims;
use store::{ClaimState, DigestClaim, is_stale};
pub use unsubscribe::Unsubscribed;
pub use views::{Composed, DigestRunReport, JobFailure, PlanReport, Skipped};

use std::sync::Arc;

use async_trait::async_trait;
use qnet_domain::digest::{Cadence, Period, issues_due};
use qnet_domain::member::{Member, normalise_email, redact_email};
use qnet_ports::{Condition, Index, Item, JobQueue, MailError, MailSender, Query, Write};
use time::OffsetDateTime;

use crate::members::suppression::{Delivery, DeliveryError};
use crate::tokens::TokenPurpose;
use crate::{App, AppError, AppResult, encode, keys};

/// How long a claim is kept: long after its issue can be due again.
const CLAIM_DAYS: i64 = 90;
/// Items shown per section; the rest are counted with a link to the full list,
/// so a busy week still gives a short email (and the subject counts them all).
pub const ITEMS_SHOWN_PER_SECTION: usize = 8;
/// Members read per planner page.
const PLAN_PAGE: u32 = 500;

/// Where digest emails point and come from.
#[derive(Debug, Clone)]
pub struct DigestSettings {
    /// The digest's From address, e.g. `digest@qnet.example.nhs.uk`.
    pub from: String,
    /// The web front end: item pages and the preferences page.
    pub web_base_url: String,
    /// The public API, which serves `/unsubscribe/{token}`.
    pub api_base_url: String,
    /// The domain that receives mail, for `mailto:unsubscribe+TOKEN@…`.
    pub inbound_domain: String,
    /// The most messages per second this sender may send (the SES quota's share).
    pub max_per_second: Option<f64>,
}

impl DigestSettings {
    /// The local runner's settings: links to `base_url`, mail in the outbox.
    pub fn local(base_url: &str) -> DigestSettings {
        DigestSettings {
            from: "digest@qnet.localhost".into(),
            web_base_url: base_url.trim_end_matches('/').into(),
            api_base_url: base_url.trim_end_matches('/').into(),
            inbound_domain: "qnet.localhost".into(),
            max_per_second: None,
        }
    }

    fn domain(&self) -> &str {
        self.from.rsplit_once('@').map(|(_, d)| d.trim_end_matches('>')).unwrap_or("qnet.localhost")
    }
}

/// One line of a digest (kept in `views.rs`, so the features that contribute
/// lines, such as the engagement nudges, need not reach into the digest).
pub use crate::views::DigestItem;

/// A part of the digest that one capability contributes.
#[async_trait]
pub trait DigestSection: Send + Sync {
    /// A stable name, e.g. `case_studies`.
    fn key(&self) -> &'static str;
    /// The section's heading in the email.
    fn heading(&self) -> &'static str;
    /// How the subject counts its items: ("new case study", "new case studies").
    fn nouns(&self) -> (&'static str, &'static str);
    /// The web page listing everything of this kind (the "see all" link).
    fn list_url(&self, web_base_url: &str) -> String;
    /// The items to show this member for this period, in display order.
    async fn items(&self, app: &App, member: &Member, period: &Period) -> AppResult<Vec<DigestItem>>;
    /// Called once the member's digest showing `items` was sent (never for a
    /// preview or a dry run): a section whose lines go out once records it.
    async fn delivered(&self, _app: &App, _member: &Member, _period: &Period, _items: &[DigestItem]) -> AppResult<()> {
        Ok(())
    }
}

/// The digest: its sections in order, its settings and its templates.
pub struct Digest {
    pub sections: Vec<Arc<dyn DigestSection>>,
    pub settings: DigestSettings,
    templates: Option<Arc<tera::Tera>>,
    pacer: Pacer,
}

impl Digest {
    /// The digest with every section this build has, in the email's order.
    pub fn new(settings: DigestSettings) -> Digest {
        let sections: Vec<Arc<dyn DigestSection>> = vec![
            Arc::new(HighlightsSection::new(&settings.web_base_url)),
            Arc::new(CaseStudiesSection::new(&settings.web_base_url)),
            Arc::new(ResourcesSection::new(&settings.web_base_url)),
            Arc::new(EventsSection::new(&settings.web_base_url)),
            Arc::new(PersonalSection::new(&settings.web_base_url)),
        ];
        Digest { sections, pacer: Pacer::new(settings.max_per_second), settings, templates: None }
    }

    /// The digest as the planner function uses it: [`Digest::plan`] reads no
    /// settings (it sends nothing and links nowhere), so none are configured.
    pub fn planner() -> Digest {
        Digest::new(DigestSettings::local("http://localhost"))
    }

    /// Renders with these templates instead of the built-in ones (tests inject a
    /// broken one).
    pub fn with_templates(mut self, templates: tera::Tera) -> Digest {
        self.templates = Some(Arc::new(templates));
        self
    }

    /// Puts one job per member due on the queue.
    pub async fn plan(&self, app: &App, now: OffsetDateTime, queue: &dyn JobQueue) -> AppResult<PlanReport> {
        let mut report = PlanReport::default();
        for period in issues_due(now) {
            report.issues.push(period.id.clone());
            let mut cursor = None;
            loop {
                let q = Query::new(Index::Gsi1, keys::digest_subscribers(period.cadence)).limit(PLAN_PAGE).after(cursor);
                let page = app.records.query(q).await?;
                let bodies: Vec<String> = page
                    .items
                    .iter()
                    .filter_map(|i| i.gsi1.as_ref())
                    .map(|k| {
                        serde_json::to_string(&DigestJob { issue_id: period.id.clone(), member_id: k.sk.clone() })
                            .expect("jobs serialise")
                    })
                    .collect();
                report.due += bodies.len();
                if !bodies.is_empty() {
                    queue.enqueue(bodies).await.map_err(|e| AppError::Unavailable(e.to_string()))?;
                }
                match page.next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        tracing::info!(issues = ?report.issues, due = report.due, "digest planned");
        Ok(report)
    }

    /// Plans and sends every digest due at `now` through the same code as the
    /// deployed functions (the local runner's `qnet digest`).
    pub async fn run_local(
        &self,
        app: &App,
        mailer: &dyn MailSender,
        now: OffsetDateTime,
        dry_run: bool,
    ) -> AppResult<DigestRunReport> {
        let queue = MemoryQueue::default();
        let plan = self.plan(app, now, &queue).await?;
        let mut report = DigestRunReport { issues: plan.issues, due: plan.due, dry_run, ..Default::default() };
        for body in queue.take() {
            let job: DigestJob = serde_json::from_str(&body).expect("the planner wrote this job");
            let result = self.process(app, mailer, &job, dry_run).await;
            report.count(&job, result);
        }
        Ok(report)
    }

    /// Gathers a member's items from every section, leaving out empty sections.
    pub async fn gather(
        &self,
        app: &App,
        member: &Member,
        period: &Period,
    ) -> AppResult<Vec<(Arc<dyn DigestSection>, Vec<DigestItem>)>> {
        let mut out = Vec::new();
        for s in &self.sections {
            let items = s.items(app, member, period).await?;
            if !items.is_empty() {
                out.push((s.clone(), items));
            }
        }
        Ok(out)
    }

    /// The member's next digest (the current period so far), composed without
    /// recording or sending anything.
    pub async fn preview(&self, app: &App, member: &Member, now: OffsetDateTime) -> AppResult<Composed> {
        let cadence = if member.digest.cadence == Cadence::Off { Cadence::Weekly } else { member.digest.cadence };
        let period = Period::containing(cadence, now).ok_or_else(|| AppError::Unavailable("no period".into()))?;
        let sections = self.gather(app, member, &period).await?;
        self.compose(member, &period, &sections, None).map_err(AppError::Unavailable)
    }

    /// Sends one member's digest for one issue, at most once whatever is retried.
    /// With `dry_run`, decides and composes but claims and sends nothing.
    pub async fn process(
        &self,
        app: &App,
        mailer: &dyn MailSender,
        job: &DigestJob,
        dry_run: bool,
    ) -> Result<(JobOutcome, Option<String>), RetryLater> {
        let retry = |e: AppError| RetryLater(e.to_string());
        let Some(period) = Period::parse(&job.issue_id) else {
            return Ok((JobOutcome::Failed, Some(format!("{} is not a digest issue", job.issue_id))));
        };
        let Some((member, _)) = app.get_record::<Member>(keys::member(&job.member_id)).await.map_err(retry)? else {
            return Ok((JobOutcome::Unsubscribed, None));
        };
        if member.digest.cadence != period.cadence || member.digest.unsubscribed_at.is_some() {
            return Ok((JobOutcome::Unsubscribed, None));
        }
        let claim_key = keys::digest_claim(&member.id, &period.id);
        let existing = app.get_record::<DigestClaim>(claim_key.clone()).await.map_err(retry)?;
        let previous_version = match &existing {
            None => None,
            Some((c, item)) if c.state == ClaimState::Failed => Some((c.attempts, item.version)),
            Some((c, _)) if c.state == ClaimState::Refused => {
                return Ok((JobOutcome::Failed, Some("the mail service refused this digest earlier".into())));
            }
            Some((c, _)) => {
                // A claim still `sending` long after it was taken: the sender died
                // or lost the answer between claim and record. It may have been
                // sent, so it is not sent again, but it is reported, not hidden.
                if c.state == ClaimState::Sending && is_stale(&c.claimed_at, app.now()) {
                    tracing::error!(issue = %period.id, member = %member.id, "digest claimed but never confirmed sent; not sending again");
                    return Ok((
                        JobOutcome::Failed,
                        Some(format!("claimed at {} but never confirmed sent; not resent, to avoid a duplicate", c.claimed_at)),
                    ));
                }
                return Ok((JobOutcome::AlreadySent, None));
            }
        };
        if app.suppression(&member.email).await.map_err(retry)?.is_some() {
            return Ok((JobOutcome::Suppressed, None));
        }
        if normalise_email(&member.email).is_err() {
            return Ok((JobOutcome::Failed, Some("the member has no valid email address".into())));
        }
        let sections = self.gather(app, &member, &period).await.map_err(retry)?;
        if sections.is_empty() {
            return Ok((JobOutcome::NoContent, None));
        }
        let (token, token_write) = app.token_write(TokenPurpose::Unsubscribe, &member.id, Some(&period.id));
        let composed = self.compose(&member, &period, &sections, Some(&token.text)).map_err(RetryLater)?;
        if dry_run {
            return Ok((JobOutcome::Sent, None));
        }
        let (attempts, condition) = match previous_version {
            None => (1, Condition::NotExists),
            Some((attempts, v)) => (attempts + 1, Condition::VersionIs(v)),
        };
        let claim_version = previous_version.map(|(_, v)| v + 1).unwrap_or(1);
        let claim = DigestClaim {
            state: ClaimState::Sending,
            attempts,
            claimed_at: app.now_text(),
            message_id: composed.message_id.clone(),
            sent_at: None,
            failure: None,
        };
        let expires = app.now().unix_timestamp() + CLAIM_DAYS * 86_400;
        let claim_item = |c: &DigestClaim, version: u64| {
            Item::new(claim_key.0.clone(), claim_key.1.clone(), encode(c)).with_version(version).expiring_at(expires)
        };
        // Wait for a sending slot before claiming, so a slow pace never leaves a
        // claim that a timed-out invocation did not get to send.
        self.pacer.wait().await;
        match app.records.transact(vec![Write::Put { item: claim_item(&claim, claim_version), condition }, token_write]).await {
            Ok(()) => {}
            Err(e) if e.is_conflict() => {
                // Someone else claimed it, or a transaction clashed: look again.
                return match app.get_record::<DigestClaim>(claim_key.clone()).await.map_err(retry)? {
                    Some((c, _)) if matches!(c.state, ClaimState::Sending | ClaimState::Sent) => {
                        Ok((JobOutcome::AlreadySent, None))
                    }
                    _ => Err(RetryLater("the claim clashed with another write".into())),
                };
            }
            Err(e) => return Err(RetryLater(e.to_string())),
        }
        let (token_pk, token_sk) = keys::token(&token.hash);
        let release = |c: DigestClaim| {
            vec![
                Write::Put { item: claim_item(&c, claim_version + 1), condition: Condition::VersionIs(claim_version) },
                Write::Delete { pk: token_pk.clone(), sk: token_sk.clone(), condition: Condition::None },
            ]
        };
        match app.deliver(mailer, &composed.mail).await {
            Ok(Delivery::Sent { .. }) => {
                let done = DigestClaim { state: ClaimState::Sent, sent_at: Some(app.now_text()), ..claim };
                if let Err(e) = app.records.put(claim_item(&done, claim_version + 1), Condition::VersionIs(claim_version)).await {
                    // Sent; the claim stays `sending`, which no retry sends again.
                    tracing::error!(issue = %period.id, member = %member.id, error = %e, "digest sent but not recorded as sent");
                }
                for (section, items) in &sections {
                    if let Err(e) = section.delivered(app, &member, &period, items).await {
                        tracing::warn!(issue = %period.id, member = %member.id, section = section.key(), error = %e, "a sent section was not recorded");
                    }
                }
                tracing::info!(issue = %period.id, member = %member.id, "digest sent");
                Ok((JobOutcome::Sent, None))
            }
            Ok(Delivery::Suppressed(_)) => {
                // Suppressed between the check and the send: free the claim.
                let _ = app
                    .records
                    .transact(vec![
                        Write::Delete { pk: claim_key.0.clone(), sk: claim_key.1.clone(), condition: Condition::None },
                        Write::Delete { pk: token_pk.clone(), sk: token_sk.clone(), condition: Condition::None },
                    ])
                    .await;
                Ok((JobOutcome::Suppressed, None))
            }
            Err(DeliveryError::Mail(MailError::Refused(why))) => {
                tracing::warn!(issue = %period.id, member = %member.id, address = %redact_email(&member.email), "digest refused by the mail service");
                let refused = DigestClaim { state: ClaimState::Refused, failure: Some(why.clone()), ..claim };
                app.records.transact(release(refused)).await.map_err(|e| RetryLater(e.to_string()))?;
                Ok((JobOutcome::Failed, Some(format!("the mail service refused the digest: {why}"))))
            }
            Err(e) => {
                let why = e.to_string();
                let failed = DigestClaim { state: ClaimState::Failed, failure: Some(why.clone()), ..claim };
                if let Err(store) = app.records.transact(release(failed)).await {
                    tracing::error!(issue = %period.id, member = %member.id, error = %store, "a failed digest could not be released; it will not be retried");
                }
                Err(RetryLater(why))
            }
        }
    }
}
