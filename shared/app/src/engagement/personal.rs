//! The "For you" lines of one member for one digest issue or week: a welcome
//! with three things to do (once per member), each project of theirs that has
//! had no new data point or PDSA cycle in eight weeks (once per quiet stretch),
//! and how often their published case studies and resources were read last
//! week (numbers only, never who). The digest shows them in its "For you"
//! section when the member gets a digest that week; otherwise the weekly
//! nudges email them (`nudges.rs`).

use qnet_domain::case_study::{CaseStudy, Status};
use qnet_domain::digest::{Cadence, Period};
use qnet_domain::member::Member;
use qnet_domain::project::{Measure, Pdsa, Project, ProjectStatus};
use qnet_domain::question::TargetKind;
use qnet_domain::resource::Resource;
use qnet_ports::{Condition, Cursor, Index, Item, Query, Write};
use time::{Duration, OffsetDateTime};

use super::EmailKind;
use crate::reads::{ReadKind, iso_week};
use crate::views::DigestItem;
use crate::{App, AppResult, decode, keys};

/// A member who joined this many days ago or fewer is welcomed.
pub const WELCOME_DAYS: i64 = 14;
/// A project with no new data point or PDSA cycle for this many weeks is asked for its latest.
pub const QUIET_WEEKS: i64 = 8;
/// How long a line's claim is kept (the welcome's: for good).
const CLAIM_DAYS: i64 = 400;

/// A project that has been quiet for [`QUIET_WEEKS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietProject {
    pub id: String,
    pub title: String,
    pub team: Vec<String>,
    /// The newest of: the project's creation, a PDSA cycle, a change to a measure's data.
    pub last_activity: String,
}

/// A line and the claim that keeps it to one issue.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    /// Which setting turns it off.
    pub(crate) kind: EmailKind,
    pub(crate) item: DigestItem,
    claim: Option<(String, String)>,
}

/// `2026-03-02T09:00:00.000Z` → `2026-03-02` (London).
fn day(ts: &str) -> String {
    OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| jiff::Timestamp::from_second(t.unix_timestamp()).ok())
        .map(|j| j.to_zoned_datetime(qnet_domain::digest::london().clone()).date().to_string())
        .unwrap_or_else(|| ts.chars().take(10).collect())
}

impl App {
    /// Every project that is not completed or stopped and has had no new data
    /// point or PDSA cycle in [`QUIET_WEEKS`] (by the app's clock).
    pub async fn quiet_projects(&self) -> AppResult<Vec<QuietProject>> {
        let cutoff = qnet_domain::timestamp(self.now() - Duration::weeks(QUIET_WEEKS));
        let mut out = Vec::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let q = Query::new(Index::Primary, keys::project_list(None)).limit(100).after(cursor.take());
            let page = self.records.query(q).await?;
            for entry in &page.items {
                let Some(id) = entry.data["id"].as_str() else { continue };
                let Some((p, _)) = self.get_record::<Project>(keys::project(id)).await? else { continue };
                if matches!(p.status, ProjectStatus::Completed | ProjectStatus::Stopped) {
                    continue;
                }
                let last = self.project_last_activity(&p).await?;
                if last < cutoff {
                    out.push(QuietProject { id: p.id, title: p.title, team: p.team, last_activity: last });
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    async fn project_last_activity(&self, p: &Project) -> AppResult<String> {
        let mut last = p.created_at.clone();
        for item in self.query_all(keys::project_partition(&p.id), keys::PDSA_PREFIX).await? {
            let cycle: Pdsa = decode(&item)?;
            last = last.max(cycle.created_at);
        }
        for item in self.query_all(keys::project_partition(&p.id), keys::MEASURE_PREFIX).await? {
            let m: Measure = decode(&item)?;
            // A measure's data changed (points added or removed) when it has points.
            if m.point_count > 0 {
                last = last.max(m.updated_at);
            }
        }
        Ok(last)
    }

    /// The member's "For you" lines for `period` (the issue their digest covers,
    /// or the week of the weekly nudges). Reads only: once they have gone out,
    /// [`App::personal_items_delivered`] claims them for that period, so a
    /// later issue does not show the welcome or the same quiet stretch again,
    /// and the same one (a retried send) does.
    pub async fn personal_items(&self, member: &Member, period: &Period) -> AppResult<Vec<DigestItem>> {
        let quiet = self.quiet_projects().await?;
        self.personal_items_with(member, period, &quiet).await
    }

    /// [`App::personal_items`] with the quiet projects already read (the digest
    /// reads them once per issue, not once per member).
    pub async fn personal_items_with(
        &self,
        member: &Member,
        period: &Period,
        quiet: &[QuietProject],
    ) -> AppResult<Vec<DigestItem>> {
        Ok(self.personal_lines(member, period, quiet).await?.into_iter().map(|l| l.item).collect())
    }

    /// Claims for `period` the lines among `shown` (what a sent digest showed).
    /// Nothing is read again: the lines that carry a claim follow from the
    /// member and the quiet projects alone, and a line that was shown was open.
    pub async fn personal_items_delivered(
        &self,
        member: &Member,
        period: &Period,
        quiet: &[QuietProject],
        shown: &[DigestItem],
    ) -> AppResult<()> {
        let lines: Vec<Line> = self.claimable_lines(member, quiet).into_iter().filter(|l| shown.contains(&l.item)).collect();
        self.claim_lines(period, &lines).await
    }

    /// The lines, read only: nothing is claimed.
    pub(crate) async fn personal_lines(&self, member: &Member, period: &Period, quiet: &[QuietProject]) -> AppResult<Vec<Line>> {
        let web = self.web_base_url.trim_end_matches('/').to_string();
        let mut out = Vec::new();
        for line in self.claimable_lines(member, quiet) {
            if let Some(claim) = &line.claim
                && !self.claim_open(claim, period).await?
            {
                continue;
            }
            out.push(line);
        }
        // Reads in the last week the period holds (for a monthly issue: its last week).
        let week = iso_week(period.end - Duration::seconds(1)).filter(|_| EmailKind::AuthorUpdates.allowed(member));
        if let Some(week) = week {
            let (from, to) = (qnet_domain::timestamp(period.end - Duration::weeks(1)), qnet_domain::timestamp(period.end));
            for (kind, id, title, path) in self.published_by(&member.id).await? {
                if let Some(line) = self.thanks_line(kind, &id, &title, &format!("{web}/{path}/{id}"), (&from, &to)).await? {
                    out.push(line);
                }
                let n = self.reads(kind, &id, &week).await?;
                // Adoptions ("We are trying this", issue 22): how many teams, and how many new.
                let (adopted, new) = match kind {
                    ReadKind::CaseStudy => self.adoption_counts(&id, (&from, &to)).await?,
                    ReadKind::Resource => (0, 0),
                };
                if n == 0 && new == 0 {
                    continue;
                }
                let times = if n == 1 { "once".to_string() } else { format!("{n} times") };
                let read = if n == 0 { format!("“{title}”") } else { format!("“{title}” was read {times} last week") };
                let teams = if adopted == 1 { "1 team is".to_string() } else { format!("{adopted} teams are") };
                let title = match (n, new) {
                    (_, 0) => read,
                    (0, _) => format!("{read}: {teams} trying it ({new} new last week)"),
                    _ => format!("{read}, and {teams} trying it ({new} new)"),
                };
                out.push(Line {
                    kind: EmailKind::AuthorUpdates,
                    item: DigestItem {
                        kind: "author_update".into(),
                        title,
                        url: format!("{web}/{path}/{id}"),
                        summary: String::new(),
                        organisation_name: None,
                        topics: vec![],
                        date: String::new(),
                    },
                    claim: None,
                });
            }
        }
        Ok(out)
    }

    /// The lines that are claimed once shown (the welcome, each quiet stretch
    /// of the member's projects), whether or not already claimed: no reads.
    fn claimable_lines(&self, member: &Member, quiet: &[QuietProject]) -> Vec<Line> {
        let web = self.web_base_url.trim_end_matches('/').to_string();
        let mut out = Vec::new();
        let joined_recently = OffsetDateTime::parse(&member.created_at, &time::format_description::well_known::Rfc3339)
            .is_ok_and(|t| (Duration::ZERO..=Duration::days(WELCOME_DAYS)).contains(&(self.now() - t)));
        if joined_recently && EmailKind::Welcome.allowed(member) {
            out.push(Line {
                kind: EmailKind::Welcome,
                item: DigestItem {
                    kind: "welcome".into(),
                    title: "Welcome to Qnet: three things to do".into(),
                    url: format!("{web}/settings"),
                    summary: "1. Complete your profile, and choose the topics people can ask you about and the topics of your digest, in your settings. \
                              2. Browse the case studies and thank one that helped you. \
                              3. Start a project, or follow one."
                        .into(),
                    organisation_name: None,
                    topics: vec![],
                    date: day(&member.created_at),
                },
                claim: Some(keys::nudge_claim(&member.id, "welcome")),
            });
        }
        let reminders = EmailKind::ProjectReminders.allowed(member);
        for p in quiet.iter().filter(|p| reminders && p.team.contains(&member.id)) {
            out.push(Line {
                kind: EmailKind::ProjectReminders,
                item: DigestItem {
                    kind: "project_reminder".into(),
                    title: format!("{}: what is your latest?", p.title),
                    url: format!("{web}/projects/{}", p.id),
                    summary: format!(
                        "Nothing new since {}: add a data point or a PDSA cycle, even a small one, so others can learn from where you are.",
                        day(&p.last_activity)
                    ),
                    organisation_name: None,
                    topics: vec![],
                    date: String::new(),
                },
                claim: Some(keys::nudge_claim(&member.id, &format!("stale#{}#{}", p.id, p.last_activity))),
            });
        }
        out
    }

    /// How many members recorded that they are trying a case study, and how
    /// many of them did so in `[from, to)` (counts only, never who).
    async fn adoption_counts(&self, case_study_id: &str, (from, to): (&str, &str)) -> AppResult<(usize, usize)> {
        let (pk, _) = keys::adoption(case_study_id, "");
        let (mut all, mut new) = (0, 0);
        let mut cursor: Option<Cursor> = None;
        loop {
            let q = Query::new(Index::Primary, pk.clone()).prefix(keys::ADOPTION_PREFIX).limit(100).after(cursor.take());
            let page = self.records.query(q).await?;
            for item in &page.items {
                all += 1;
                let at = item.data["created_at"].as_str().unwrap_or_default();
                if at >= from && at < to {
                    new += 1;
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok((all, new)),
            }
        }
    }

    /// "3 people found “X” helpful last week: Ann Jones, Bob Li and 1 other":
    /// readers who thanked the item in `[from, to)`, named only when they chose
    /// to be; none when nobody did.
    async fn thanks_line(
        &self,
        kind: ReadKind,
        id: &str,
        title: &str,
        url: &str,
        (from, to): (&str, &str),
    ) -> AppResult<Option<Line>> {
        let key = match kind {
            ReadKind::CaseStudy => TargetKind::CaseStudy.key(),
            ReadKind::Resource => TargetKind::Resource.key(),
        };
        let mut thanked: Vec<(String, Option<String>)> = Vec::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let q = Query::new(Index::Primary, keys::thanks_partition(key, id))
                .prefix(keys::THANKS_PREFIX)
                .limit(100)
                .after(cursor.take());
            let page = self.records.query(q).await?;
            for item in &page.items {
                let at = item.data["thanked_at"].as_str().unwrap_or_default().to_string();
                if at.as_str() >= from && at.as_str() < to {
                    let name = item.data["name"].as_str().filter(|_| item.data["named"].as_bool() == Some(true));
                    thanked.push((at, name.map(String::from)));
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        if thanked.is_empty() {
            return Ok(None);
        }
        thanked.sort();
        let n = thanked.len();
        let names: Vec<String> = thanked.into_iter().filter_map(|(_, name)| name).take(2).collect();
        let people = if n == 1 { "1 person".to_string() } else { format!("{n} people") };
        let others = n - names.len();
        let who = match (names.len(), others) {
            (0, _) => String::new(),
            (_, 0) => format!(": {}", names.join(" and ")),
            (_, k) => format!(": {} and {k} {}", names.join(", "), if k == 1 { "other" } else { "others" }),
        };
        Ok(Some(Line {
            kind: EmailKind::AuthorUpdates,
            item: DigestItem {
                kind: "author_update".into(),
                title: format!("{people} found “{title}” helpful last week{who}"),
                url: url.to_string(),
                summary: String::new(),
                organisation_name: None,
                topics: vec![],
                date: String::new(),
            },
            claim: None,
        }))
    }

    /// The member's published case studies and resources: (kind, id, title, web path).
    async fn published_by(&self, member_id: &str) -> AppResult<Vec<(ReadKind, String, String, &'static str)>> {
        let mut out = Vec::new();
        for partition in [keys::members_case_studies(member_id), keys::members_resources(member_id)] {
            let case_studies = partition == keys::members_case_studies(member_id);
            let mut cursor: Option<Cursor> = None;
            loop {
                let page = self.records.query(Query::new(Index::Gsi2, partition.clone()).limit(100).after(cursor.take())).await?;
                for item in &page.items {
                    if case_studies {
                        let cs: CaseStudy = decode(item)?;
                        if cs.status == Status::Published {
                            out.push((ReadKind::CaseStudy, cs.id, cs.title, "case-studies"));
                        }
                    } else {
                        let r: Resource = decode(item)?;
                        if r.status == Status::Published {
                            out.push((ReadKind::Resource, r.id, r.title, "resources"));
                        }
                    }
                }
                match page.next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        Ok(out)
    }

    /// True when the line is not yet claimed, or claimed by this very period.
    async fn claim_open(&self, key: &(String, String), period: &Period) -> AppResult<bool> {
        Ok(match self.records.get(&key.0, &key.1).await? {
            None => true,
            Some(item) => item.data["period"].as_str() == Some(period.id.as_str()),
        })
    }

    /// Claims each line for `period` (create-if-absent: a line another issue
    /// claimed meanwhile stays theirs).
    pub(crate) async fn claim_lines(&self, period: &Period, lines: &[Line]) -> AppResult<()> {
        let expires = self.now().unix_timestamp() + CLAIM_DAYS * 86_400;
        for line in lines {
            let Some((pk, sk)) = &line.claim else { continue };
            let mut item = Item::new(pk.clone(), sk.clone(), serde_json::json!({"period": period.id, "at": self.now_text()}));
            if line.kind != EmailKind::Welcome {
                item = item.expiring_at(expires);
            }
            match self.records.put(item, Condition::NotExists).await {
                Err(e) if e.is_conflict() => {}
                other => other?,
            }
        }
        Ok(())
    }
}

/// The weekly period the nudges of `now` cover: last week (as the weekly digest).
pub(crate) fn nudge_period(now: OffsetDateTime) -> Option<Period> {
    Period::latest_complete(Cadence::Weekly, now)
}

/// Erasing a member: their nudge claims go.
pub(crate) async fn erase(app: &App, member_id: &str) -> AppResult<()> {
    loop {
        let q = Query::new(Index::Primary, keys::member_partition(member_id)).prefix(keys::NUDGE_PREFIX).limit(25);
        let page = app.records.query(q).await?;
        if page.items.is_empty() {
            return Ok(());
        }
        let writes =
            page.items.iter().map(|i| Write::Delete { pk: i.pk.clone(), sk: i.sk.clone(), condition: Condition::None }).collect();
        app.records.transact(writes).await?;
    }
}
