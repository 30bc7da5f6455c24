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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use qnet_domain::digest::{Cadence, Period, issues_due};
use qnet_domain::member::{Member, normalise_email, redact_email};
use qnet_domain::topics;
use qnet_ports::{Condition, Cursor, Index, Item, JobQueue, MailError, MailSender, OutgoingMail, Query, Write};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::members::suppression::{Delivery, DeliveryError};
use crate::tokens::TokenPurpose;
use crate::views::CaseStudySummary;
use crate::{App, AppError, AppResult, decode, encode, keys, mail};

/// How long a claim is kept: long after its issue can be due again.
const CLAIM_DAYS: i64 = 90;
/// How long a section's items for one period are reused by a warm sender.
const SECTION_CACHE: Duration = Duration::from_secs(60);
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

/// One line of a digest.
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
}

/// Case studies published in the period, newest first, on the member's digest
/// topics (all when they chose none).
pub struct CaseStudiesSection {
    web_base_url: String,
    cache: PeriodCache,
}

/// A period's items and when they were read.
type CachedItems = (Instant, Arc<Vec<DigestItem>>);

/// Each period's items for one section, kept for [`SECTION_CACHE`] in a warm
/// sender: every member of an issue shares them, filtered by their topics.
#[derive(Default)]
pub struct PeriodCache(Mutex<HashMap<String, CachedItems>>);

impl PeriodCache {
    pub async fn get_or_load(
        &self,
        period: &Period,
        load: impl AsyncFnOnce() -> AppResult<Vec<DigestItem>>,
    ) -> AppResult<Arc<Vec<DigestItem>>> {
        if let Some((at, items)) = self.0.lock().expect("lock").get(&period.id)
            && at.elapsed() < SECTION_CACHE
        {
            return Ok(items.clone());
        }
        let items = Arc::new(load().await?);
        let mut cache = self.0.lock().expect("lock");
        cache.retain(|_, (at, _)| at.elapsed() < SECTION_CACHE);
        cache.insert(period.id.clone(), (Instant::now(), items.clone()));
        Ok(items)
    }
}

/// Walks a published list (summary items sorted by publication time, newest
/// first) and answers, newest first, the entries published within the period
/// with their London publication day.
pub(crate) async fn published_in_period<S: serde::de::DeserializeOwned>(
    app: &App,
    partition: String,
    period: &Period,
    published_at: impl Fn(&S) -> Option<&str>,
) -> AppResult<Vec<(S, String)>> {
    let start = qnet_domain::timestamp(period.start);
    let end = qnet_domain::timestamp(period.end);
    let mut out = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let q = Query::new(Index::Primary, partition.clone()).descending().limit(100).after(cursor.take());
        let page = app.records.query(q).await?;
        for item in &page.items {
            let s: S = decode(item)?;
            let Some(published) = published_at(&s).map(str::to_string) else { continue };
            if published >= end {
                continue;
            }
            if published < start {
                return Ok(out);
            }
            out.push((s, london_day(&published)));
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

impl CaseStudiesSection {
    pub fn new(web_base_url: &str) -> CaseStudiesSection {
        CaseStudiesSection { web_base_url: web_base_url.trim_end_matches('/').into(), cache: PeriodCache::default() }
    }

    async fn period_items(&self, app: &App, period: &Period) -> AppResult<Arc<Vec<DigestItem>>> {
        self.cache
            .get_or_load(period, async || {
                let names = app.organisation_names().await?;
                let published = published_in_period(app, keys::published_list(None, None), period, |s: &CaseStudySummary| {
                    s.published_at.as_deref()
                })
                .await?;
                Ok(published
                    .into_iter()
                    .map(|(s, date)| DigestItem {
                        kind: "case_study".into(),
                        url: format!("{}/case-studies/{}", self.web_base_url, s.id),
                        title: s.title,
                        summary: qnet_domain::text::excerpt(&s.summary, 180),
                        organisation_name: s.organisation_id.as_ref().and_then(|o| names.get(o).cloned()),
                        topics: s.topics,
                        date,
                    })
                    .collect())
            })
            .await
    }
}

#[async_trait]
impl DigestSection for CaseStudiesSection {
    fn key(&self) -> &'static str {
        "case_studies"
    }
    fn heading(&self) -> &'static str {
        "New case studies"
    }
    fn nouns(&self) -> (&'static str, &'static str) {
        ("new case study", "new case studies")
    }
    fn list_url(&self, web_base_url: &str) -> String {
        format!("{web_base_url}/case-studies")
    }
    async fn items(&self, app: &App, member: &Member, period: &Period) -> AppResult<Vec<DigestItem>> {
        let all = self.period_items(app, period).await?;
        Ok(all.iter().filter(|i| member.digest.wants(&i.topics)).cloned().collect())
    }
}

/// `2026-03-02T09:00:00.000Z` → the London date `2026-03-02`.
pub(crate) fn london_day(ts: &str) -> String {
    let parsed = OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339);
    match parsed {
        Ok(t) => {
            let z = jiff::Timestamp::from_second(t.unix_timestamp())
                .map(|j| j.to_zoned_datetime(qnet_domain::digest::london().clone()).date().to_string());
            z.unwrap_or_else(|_| ts.chars().take(10).collect())
        }
        Err(_) => ts.chars().take(10).collect(),
    }
}

/// `2026-03-02` → `2 March`.
fn day_label(date: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let mut parts = date.split('-');
    let (_, m, d) = (parts.next(), parts.next(), parts.next());
    match (m.and_then(|m| m.parse::<usize>().ok()), d.and_then(|d| d.parse::<u32>().ok())) {
        (Some(m @ 1..=12), Some(d)) => format!("{d} {}", MONTHS[m - 1]),
        _ => date.to_string(),
    }
}

/// One member's digest for one issue, on the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestJob {
    pub issue_id: String,
    pub member_id: String,
}

/// What became of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobOutcome {
    Sent,
    NoContent,
    /// The member unsubscribed, changed cadence or left since the job was planned.
    Unsubscribed,
    Suppressed,
    AlreadySent,
    /// Will never succeed as it stands (no valid address, the mail service refused
    /// the message, an unknown issue): reported, not retried.
    Failed,
}

/// A job that should be tried again later (the queue redelivers it; after the
/// queue's limit it lands in the dead-letter queue, where it is reported).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RetryLater(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ClaimState {
    /// Claimed by one sender; if it died after sending, the digest is not sent again.
    Sending,
    Sent,
    /// Sending failed in a way that may pass (throttling, an outage): may be claimed again.
    Failed,
    /// The mail service refused the message: not retried.
    Refused,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DigestClaim {
    state: ClaimState,
    attempts: u32,
    claimed_at: String,
    message_id: String,
    #[serde(default)]
    sent_at: Option<String>,
    #[serde(default)]
    failure: Option<String>,
}

/// A composed digest: the email and its parts (the HTML is also the preview).
#[derive(Debug, Clone)]
pub struct Composed {
    pub subject: String,
    pub html: String,
    pub text: String,
    pub message_id: String,
    pub mail: OutgoingMail,
}

/// The planner's answer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlanReport {
    /// The issue ids due, e.g. `weekly-2026-W10`.
    pub issues: Vec<String>,
    /// Jobs put on the queue: one per (issue, member of its cadence).
    pub due: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub no_content: usize,
    pub unsubscribed: usize,
    pub suppressed: usize,
    pub already_sent: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobFailure {
    pub issue_id: String,
    pub member_id: String,
    pub reason: String,
}

/// `qnet digest`'s answer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DigestRunReport {
    pub issues: Vec<String>,
    pub due: usize,
    pub sent: usize,
    pub skipped: Skipped,
    /// Jobs that failed: each is named in `failures` and will be tried again by
    /// the next run (retryable) or needs a person (refused, no valid address).
    pub failed: usize,
    pub failures: Vec<JobFailure>,
    pub dry_run: bool,
}

impl DigestRunReport {
    fn count(&mut self, job: &DigestJob, result: Result<(JobOutcome, Option<String>), RetryLater>) {
        match result {
            Ok((JobOutcome::Sent, _)) => self.sent += 1,
            Ok((JobOutcome::NoContent, _)) => self.skipped.no_content += 1,
            Ok((JobOutcome::Unsubscribed, _)) => self.skipped.unsubscribed += 1,
            Ok((JobOutcome::Suppressed, _)) => self.skipped.suppressed += 1,
            Ok((JobOutcome::AlreadySent, _)) => self.skipped.already_sent += 1,
            Ok((JobOutcome::Failed, reason)) => self.fail(job, reason.unwrap_or_else(|| "failed".into())),
            Err(RetryLater(reason)) => self.fail(job, format!("will be retried: {reason}")),
        }
    }

    fn fail(&mut self, job: &DigestJob, reason: String) {
        self.failed += 1;
        self.failures.push(JobFailure { issue_id: job.issue_id.clone(), member_id: job.member_id.clone(), reason });
    }
}

/// Spaces sends to at most `max_per_second` from this process.
struct Pacer {
    interval: Option<Duration>,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Pacer {
    fn new(max_per_second: Option<f64>) -> Pacer {
        let interval = max_per_second.filter(|r| *r > 0.0).map(|r| Duration::from_secs_f64(1.0 / r));
        Pacer { interval, next: tokio::sync::Mutex::new(tokio::time::Instant::now()) }
    }

    async fn wait(&self) {
        let Some(interval) = self.interval else { return };
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(tokio::time::Instant::now());
            *next = at + interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// An in-process queue: the local runner's stand-in for SQS.
#[derive(Default)]
pub struct MemoryQueue {
    bodies: Mutex<Vec<String>>,
}

impl MemoryQueue {
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.bodies.lock().expect("lock"))
    }
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn enqueue(&self, bodies: Vec<String>) -> Result<(), qnet_ports::QueueError> {
        self.bodies.lock().expect("lock").extend(bodies);
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
            Arc::new(CaseStudiesSection::new(&settings.web_base_url)),
            Arc::new(crate::resources::ResourcesSection::new(&settings.web_base_url)),
            Arc::new(crate::events::EventsSection::new(&settings.web_base_url)),
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

    fn render(&self, name: &str, ctx: &tera::Context) -> Result<String, tera::Error> {
        match &self.templates {
            Some(t) => t.render(name, ctx),
            None => mail::render(name, ctx),
        }
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

    /// The subject: "Qnet digest, 2–8 March: 5 new case studies".
    pub fn subject(period: &Period, sections: &[(Arc<dyn DigestSection>, Vec<DigestItem>)]) -> String {
        let counts: Vec<String> = sections
            .iter()
            .map(|(s, items)| {
                let (one, many) = s.nouns();
                format!("{} {}", items.len(), if items.len() == 1 { one } else { many })
            })
            .collect();
        let counted = match counts.len() {
            0 => "nothing new yet".to_string(),
            1 => counts[0].clone(),
            n => format!("{} and {}", counts[..n - 1].join(", "), counts[n - 1]),
        };
        format!("Qnet digest, {}: {counted}", period.label())
    }

    /// Composes one member's digest. `unsubscribe` is the token for the
    /// List-Unsubscribe links; a preview has none.
    pub fn compose(
        &self,
        member: &Member,
        period: &Period,
        sections: &[(Arc<dyn DigestSection>, Vec<DigestItem>)],
        unsubscribe: Option<&str>,
    ) -> Result<Composed, String> {
        let subject = Digest::subject(period, sections);
        let s = &self.settings;
        let unsubscribe_url = unsubscribe.map(|t| format!("{}/unsubscribe/{t}", s.api_base_url));
        let mut ctx = tera::Context::new();
        ctx.insert("name", &member.name);
        ctx.insert("subject", &subject);
        ctx.insert("period_label", &period.label());
        ctx.insert("cadence", period.cadence.as_str());
        ctx.insert("settings_url", &format!("{}/settings/digest", s.web_base_url));
        ctx.insert("unsubscribe_url", &unsubscribe_url);
        let view: Vec<serde_json::Value> = sections
            .iter()
            .map(|(sec, items)| {
                let shown: Vec<serde_json::Value> = items
                    .iter()
                    .take(ITEMS_SHOWN_PER_SECTION)
                    .map(|i| {
                        let names: Vec<&str> =
                            i.topics.iter().map(|t| topics::find(t).map(|x| x.name).unwrap_or(t.as_str())).collect();
                        serde_json::json!({
                            "title": i.title, "url": i.url, "summary": i.summary,
                            "organisation_name": i.organisation_name, "topics": i.topics,
                            "topic_names": names, "date": day_label(&i.date),
                        })
                    })
                    .collect();
                let more = items.len().saturating_sub(ITEMS_SHOWN_PER_SECTION);
                let (_, plural) = sec.nouns();
                serde_json::json!({"key": sec.key(), "heading": sec.heading(), "items": shown, "more": more,
                    "more_label": format!("See all {} {plural}", items.len()), "more_url": sec.list_url(&s.web_base_url)})
            })
            .collect();
        ctx.insert("sections", &view);
        ctx.insert("empty", &sections.is_empty());
        // Until the member has chosen, say how the digest works (new members
        // start on weekly).
        ctx.insert("first", &(member.created_at == member.updated_at));
        let text = self.render("email/digest.txt.tera", &ctx).map_err(|e| format!("the digest text did not render: {e}"))?;
        let html = self.render("email/digest.html.tera", &ctx).map_err(|e| format!("the digest HTML did not render: {e}"))?;
        let domain = s.domain();
        // Stable for (issue, member): a resend after a crash would carry the same id.
        let message_id = format!("digest.{}.{}@{domain}", period.id, member.id.to_ascii_lowercase());
        let mut m = MessageBuilder::new()
            .from(("Qnet digest", s.from.as_str()))
            .to((member.name.as_str(), member.email.as_str()))
            .subject(subject.as_str())
            .message_id(message_id.clone())
            .header("List-Id", Raw::new(format!("Qnet digest <digest.{domain}>")))
            // RFC 3834: no out-of-office replies to a newsletter.
            .header("Auto-Submitted", Raw::new("auto-generated"))
            .header("X-Auto-Response-Suppress", Raw::new("All"))
            .text_body(text.clone())
            .html_body(html.clone());
        if let (Some(url), Some(token)) = (&unsubscribe_url, unsubscribe) {
            m = m
                .header("List-Unsubscribe", Raw::new(format!("<{url}>, <mailto:unsubscribe+{token}@{}>", s.inbound_domain)))
                .header("List-Unsubscribe-Post", Raw::new("List-Unsubscribe=One-Click"));
        }
        let raw = m.write_to_vec().map_err(|e| format!("the digest MIME could not be built: {e}"))?;
        Ok(Composed {
            subject,
            html,
            text,
            message_id,
            mail: OutgoingMail { from: s.from.clone(), to: vec![member.email.clone()], raw },
        })
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

/// A `sending` claim older than this is reported as never confirmed.
const CLAIM_STALE: time::Duration = time::Duration::minutes(15);

fn is_stale(claimed_at: &str, now: OffsetDateTime) -> bool {
    OffsetDateTime::parse(claimed_at, &time::format_description::well_known::Rfc3339).is_ok_and(|t| now - t > CLAIM_STALE)
}

/// Every member id with a digest claim, purged with the member.
pub(crate) async fn purge_claims(app: &App, member_id: &str) -> AppResult<()> {
    let (pk, _) = keys::digest_claim(member_id, "");
    loop {
        let page = app.records.query(Query::new(Index::Primary, pk.clone()).prefix("DIGEST#").limit(100)).await?;
        if page.items.is_empty() {
            return Ok(());
        }
        for item in page.items {
            app.records.delete(&item.pk, &item.sk, Condition::None).await?;
        }
    }
}

/// What an unsubscribe link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsubscribed {
    /// The member is now unsubscribed from the digest.
    Now,
    /// They already were (a second POST, a scanner, a retry): nothing changed.
    Already,
}

impl App {
    /// Whether `token` is a live unsubscribe token (the confirmation page asks
    /// this; it changes nothing).
    pub async fn unsubscribe_token_is_valid(&self, token: &str) -> AppResult<bool> {
        Ok(self.token_record(token, TokenPurpose::Unsubscribe).await?.is_some())
    }

    /// Unsubscribes the token's member from the digest. `None` when the token is
    /// not a live unsubscribe token (bad, tampered, revoked); nothing changes then.
    pub async fn unsubscribe(&self, token: &str) -> AppResult<Option<Unsubscribed>> {
        let Some(record) = self.token_record(token, TokenPurpose::Unsubscribe).await? else { return Ok(None) };
        for _ in 0..5 {
            let Some((mut m, item)) = self.get_record::<Member>(keys::member(&record.member_id)).await? else {
                return Ok(None);
            };
            if m.digest.unsubscribed_at.is_some() {
                return Ok(Some(Unsubscribed::Already));
            }
            m.digest.unsubscribed_at = Some(self.now_text());
            m.version = item.version + 1;
            m.updated_at = self.now_text();
            match self.records.put(crate::members::member_item(&m), Condition::VersionIs(item.version)).await {
                Ok(()) => {
                    tracing::info!(member = %m.id, "unsubscribed from the digest");
                    return Ok(Some(Unsubscribed::Now));
                }
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict("the profile kept changing; try again".into()))
    }
}
