//! "My QI portfolio" (`GET /me/portfolio`, `…/portfolio.csv`): the signed-in
//! member's own record of quality-improvement activity, with dates, for
//! appraisal and revalidation. Read only, and only through indexes kept per
//! member (never a scan of the table):
//!
//! | section | read from |
//! |---|---|
//! | projects and role | GSI2 `MEMBER#<id>#PROJECTS` (team places, `keys::project_team_member`) |
//! | PDSA cycles | the PDSA items of those projects (`PROJECT#<id>`, `PDSA#`) |
//! | case studies, resources | GSI2 `MEMBER#<id>#CS`, `MEMBER#<id>#RES` |
//! | mentoring given | GSI1 `MREQ#mentor#<id>` (active) and `MREQ#mentored#<id>` (closed) |
//! | mentoring received | GSI2 `MEMBER#<id>#MREQ` |
//! | events attended | GSI2 `MEMBER#<id>#BOOKINGS` (bookings marked attended) |
//! | questions answered | GSI2 `MEMBER#<id>#QA` (the answers) |
//! | thanks received | `THANKS#<kind>#<id>` of the member's published case studies and resources |
//!
//! Every index read stops after [`READ_CAP`] items and every section shows at
//! most [`SECTION_CAP`]; a section says `truncated` when either was reached.

mod views;

pub use views::{Portfolio, PortfolioItem, PortfolioSection};

use qnet_domain::FieldErrors;
use qnet_domain::case_study::{CaseStudy, Status};
use qnet_domain::event::{Booking, Event};
use qnet_domain::mentoring::{MentoringRequest, RequestState};
use qnet_domain::project::{Pdsa, Project, ProjectStatus};
use qnet_domain::question::{Answer, Question, ThanksRecord};
use qnet_domain::resource::Resource;
use qnet_ports::{Condition, Cursor, Index, Item, Query, Write};
use time::Date;
use time::format_description::well_known::Rfc3339;

use crate::{App, AppError, AppResult, Claims, decode, keys};

/// At most this many items in each section (newest first); also at most this
/// many projects, and published items, whose PDSA cycles or thanks are read.
pub const SECTION_CAP: usize = 100;
/// At most this many items read from any one index.
pub const READ_CAP: usize = 200;
/// At most this many PDSA cycles, or thanks, read per project or item.
const PER_ITEM_CAP: usize = 50;
/// Keys read per `get_many` call (the DynamoDB adapter reads them at once).
const BATCH: usize = 25;
/// At most this many partition reads (PDSA cycles, thanks) in flight at once.
const CONCURRENCY: usize = 8;

/// The period asked for: both ends inclusive, either may be open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortfolioPeriod {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

impl PortfolioPeriod {
    /// `from` and `to` as `YYYY-MM-DD`, each optional; `from` may not be after `to`.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<PortfolioPeriod, FieldErrors> {
        let mut errors = FieldErrors::new();
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        let mut one = |name: &str, v: Option<&str>| match v {
            None => None,
            Some(s) => match Date::parse(s, &fmt) {
                Ok(d) if (2000..=2100).contains(&d.year()) => Some(d),
                Ok(_) => {
                    errors.push(name, "must be a date between 2000-01-01 and 2100-12-31");
                    None
                }
                Err(_) => {
                    errors.push(name, "must be a date as YYYY-MM-DD");
                    None
                }
            },
        };
        let from = one("from", from);
        let to = one("to", to);
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            errors.push("to", "must not be before from");
        }
        if errors.is_empty() { Ok(PortfolioPeriod { from, to }) } else { Err(errors) }
    }

    fn contains(&self, day: &str) -> bool {
        self.overlaps(day, day)
    }

    /// Whether work from `start` to `end` (both `YYYY-MM-DD`, inclusive; for
    /// ongoing work `end` is today) overlaps the period.
    fn overlaps(&self, start: &str, end: &str) -> bool {
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        let Ok(s) = Date::parse(start, &fmt) else { return false };
        let e = Date::parse(end, &fmt).unwrap_or(s).max(s);
        self.from.is_none_or(|f| e >= f) && self.to.is_none_or(|t| s <= t)
    }
}

/// A timestamp's day in London (`2026-03-02T23:30:00Z` → `2026-03-02`); a bare
/// date stays as it is.
fn day(ts: &str) -> String {
    if ts.len() == 10 {
        return ts.to_string();
    }
    time::OffsetDateTime::parse(ts, &Rfc3339)
        .ok()
        .and_then(|t| jiff::Timestamp::from_second(t.unix_timestamp()).ok())
        .map(|j| j.to_zoned_datetime(qnet_domain::digest::london().clone()).date().to_string())
        .unwrap_or_else(|| ts.chars().take(10).collect())
}

/// The first `n` characters of a text, with an ellipsis when cut.
fn clip(text: &str, n: usize) -> String {
    let t = text.trim();
    if t.chars().count() <= n { t.to_string() } else { format!("{}…", t.chars().take(n).collect::<String>().trim_end()) }
}

/// One section being built: its items and whether a cap was reached.
struct Builder {
    id: &'static str,
    title: &'static str,
    items: Vec<PortfolioItem>,
    truncated: bool,
}

impl Builder {
    fn new(id: &'static str, title: &'static str) -> Builder {
        Builder { id, title, items: Vec::new(), truncated: false }
    }
    fn push(&mut self, period: &PortfolioPeriod, date: String, title: String, detail: String, link: String) {
        let end = date.clone();
        self.push_span(period, date, &end, title, detail, link)
    }
    /// Work from `date` to `end` (ongoing work: to today), shown when it
    /// overlaps the period, dated by its start.
    fn push_span(&mut self, period: &PortfolioPeriod, date: String, end: &str, title: String, detail: String, link: String) {
        if period.overlaps(&date, end) {
            self.items.push(PortfolioItem { date, title, detail, link });
        }
    }
    fn finish(mut self) -> PortfolioSection {
        self.items.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.title.cmp(&b.title)));
        if self.items.len() > SECTION_CAP {
            self.items.truncate(SECTION_CAP);
            self.truncated = true;
        }
        PortfolioSection { id: self.id.into(), title: self.title.into(), items: self.items, truncated: self.truncated }
    }
}

impl App {
    /// Up to `cap` items of one partition, newest (highest sort key) first, and
    /// whether more were left unread.
    async fn read_bounded(&self, index: Index, pk: String, prefix: Option<&str>, cap: usize) -> AppResult<(Vec<Item>, bool)> {
        let mut out = Vec::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let want = (cap - out.len()).min(100) as u32;
            let mut q = Query::new(index, pk.clone()).descending().limit(want).after(cursor.take());
            if let Some(p) = prefix {
                q = q.prefix(p);
            }
            let page = self.records.query(q).await?;
            out.extend(page.items);
            match page.next {
                Some(c) if out.len() < cap => cursor = Some(c),
                Some(_) => return Ok((out, true)),
                None => return Ok((out, false)),
            }
        }
    }

    /// Items by key, `BATCH` keys per `get_many` call, in the order asked.
    async fn get_batched(&self, keys: Vec<(String, String)>) -> AppResult<Vec<Option<Item>>> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH) {
            out.extend(self.records.get_many(chunk).await?);
        }
        Ok(out)
    }

    /// Up to `PER_ITEM_CAP` items of each partition under `prefix`, at most
    /// `CONCURRENCY` partitions read at once, in the order asked.
    async fn read_each(&self, partitions: Vec<String>, prefix: &'static str) -> AppResult<Vec<(Vec<Item>, bool)>> {
        use futures::StreamExt;
        futures::stream::iter(partitions.into_iter().map(|pk| self.read_bounded(Index::Primary, pk, Some(prefix), PER_ITEM_CAP)))
            .buffered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }

    /// `GET /me/portfolio`: the signed-in member's own QI activity in `period`.
    /// Limited per member ([`crate::limits::Action::Portfolio`]): each one reads
    /// a few hundred items.
    pub async fn portfolio(&self, claims: &Claims, period: &PortfolioPeriod) -> AppResult<Portfolio> {
        let member = self.member(claims).await?;
        self.take_allowance(&member.id, crate::limits::Action::Portfolio).await?;
        let me = member.id.as_str();
        let names = self.organisation_names().await?;
        let organisation_name = member.organisation_id.as_ref().and_then(|o| names.get(o).cloned());
        let today = day(&self.now_text());

        // Projects and their PDSA cycles: a project is ongoing (to today) until
        // it is completed or stopped (then to its last change).
        let mut projects = Builder::new("projects", "Projects and roles");
        let mut pdsa = Builder::new("pdsa_cycles", "PDSA cycles");
        let (places, more) = self.read_bounded(Index::Gsi2, keys::members_projects(me), None, READ_CAP).await?;
        projects.truncated |= more;
        if places.len() > SECTION_CAP {
            projects.truncated = true;
            pdsa.truncated = true;
        }
        let places: Vec<(&Item, &str)> =
            places.iter().take(SECTION_CAP).filter_map(|pl| pl.data["project_id"].as_str().map(|id| (pl, id))).collect();
        let found = self.get_batched(places.iter().map(|(_, id)| keys::project(id)).collect()).await?;
        let mut mine: Vec<(Project, String)> = Vec::new();
        for ((place, _), item) in places.iter().zip(found) {
            let Some(item) = item else { continue };
            let p: Project = decode(&item)?;
            if !p.team.iter().any(|m| m == me) {
                continue;
            }
            let joined = day(place.data["joined_at"].as_str().unwrap_or(&p.created_at));
            mine.push((p, joined));
        }
        let cycles =
            self.read_each(mine.iter().map(|(p, _)| keys::project_partition(&p.id)).collect(), keys::PDSA_PREFIX).await?;
        for ((p, joined), (cycles, more)) in mine.into_iter().zip(cycles) {
            let role = if p.lead_id == me { "Lead" } else { "Team member" };
            let detail = format!("{role} (project {})", p.status.as_str().replace('_', " "));
            let end = match p.status {
                ProjectStatus::Completed | ProjectStatus::Stopped => day(&p.updated_at),
                _ => today.clone(),
            };
            projects.push_span(period, joined, &end, p.title.clone(), detail, format!("/projects/{}", p.id));
            pdsa.truncated |= more;
            for item in &cycles {
                let c: Pdsa = decode(item)?;
                let date = c.started_on.clone().unwrap_or_else(|| day(&c.created_at));
                let end = c.ended_on.clone().unwrap_or_else(|| today.clone());
                let title = c.title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| clip(&c.plan, 80));
                let detail = if c.created_by == me {
                    format!("Recorded by you on “{}”", p.title)
                } else {
                    format!("On your project “{}”", p.title)
                };
                pdsa.push_span(period, date, &end, title, detail, format!("/projects/{}", p.id));
            }
        }

        // Case studies and resources, and the thanks they received.
        let mut case_studies = Builder::new("case_studies", "Case studies");
        let mut resources = Builder::new("resources", "Resources shared");
        let mut thanks = Builder::new("thanks", "Thanks received");
        let mut thanked: Vec<(&'static str, String, String, String)> = Vec::new();
        let (items, more) = self.read_bounded(Index::Gsi2, keys::members_case_studies(me), None, READ_CAP).await?;
        case_studies.truncated |= more;
        for item in &items {
            let cs: CaseStudy = decode(item)?;
            let link = format!("/case-studies/{}", cs.id);
            match cs.status {
                Status::Published => {
                    let date = day(cs.published_at.as_deref().unwrap_or(&cs.created_at));
                    case_studies.push(period, date, cs.title.clone(), "Published".into(), link.clone());
                    thanked.push(("cs", cs.id, cs.title, link));
                }
                Status::Pending => {
                    case_studies.push(period, day(&cs.created_at), cs.title, "Submitted, awaiting review".into(), link)
                }
                Status::Rejected => {}
            }
        }
        let (items, more) = self.read_bounded(Index::Gsi2, keys::members_resources(me), None, READ_CAP).await?;
        resources.truncated |= more;
        for item in &items {
            let r: Resource = decode(item)?;
            let link = format!("/resources/{}", r.id);
            match r.status {
                Status::Published => {
                    let date = day(r.published_at.as_deref().unwrap_or(&r.created_at));
                    let detail = format!("Published ({})", r.kind.as_str());
                    resources.push(period, date, r.title.clone(), detail, link.clone());
                    thanked.push(("res", r.id, r.title, link));
                }
                Status::Pending => resources.push(period, day(&r.created_at), r.title, "Shared, awaiting review".into(), link),
                Status::Rejected => {}
            }
        }
        if thanked.len() > SECTION_CAP {
            thanks.truncated = true;
            thanked.truncate(SECTION_CAP);
        }
        let read = self
            .read_each(thanked.iter().map(|(kind, id, _, _)| keys::thanks_partition(kind, id)).collect(), keys::THANKS_PREFIX)
            .await?;
        for ((_, _, title, link), (items, more)) in thanked.iter().zip(read) {
            thanks.truncated |= more;
            for item in &items {
                let t: ThanksRecord = decode(item)?;
                if t.member_id == me {
                    continue;
                }
                let detail = if t.named { format!("From {}", t.name) } else { "From a reader".into() };
                thanks.push(period, day(&t.thanked_at), title.clone(), detail, link.clone());
            }
        }

        // Mentoring given (as mentor) and received (as mentee): a pairing runs
        // from its start to its close (withdrawn while active counts as closed),
        // or to today while active.
        let mut given = Builder::new("mentoring_given", "Mentoring and coaching given");
        for partition in [keys::mentor_pairings(me), keys::mentor_closed_pairings(me)] {
            let (items, more) = self.read_bounded(Index::Gsi1, partition, None, READ_CAP).await?;
            given.truncated |= more;
            for item in &items {
                let r: MentoringRequest = decode(item)?;
                let Some(p) = r.pairing.as_ref().filter(|p| p.mentor_id == me) else { continue };
                let (title, detail) = mentoring_words(&r, "Mentor");
                let end = p.closed_at.as_deref().map(day).unwrap_or_else(|| today.clone());
                given.push_span(period, day(&p.started_at), &end, title, detail, "/mentoring".into());
            }
        }
        let mut received = Builder::new("mentoring_received", "Mentoring and coaching received");
        let (items, more) = self.read_bounded(Index::Gsi2, keys::members_mentoring_requests(me), None, READ_CAP).await?;
        received.truncated |= more;
        for item in &items {
            let r: MentoringRequest = decode(item)?;
            if r.member_id != me || !matches!(r.state, RequestState::Active | RequestState::Closed | RequestState::Withdrawn) {
                continue;
            }
            let Some(p) = r.pairing.as_ref() else { continue };
            let (title, detail) = mentoring_words(&r, "Mentee");
            let end = p.closed_at.as_deref().map(day).unwrap_or_else(|| today.clone());
            received.push_span(period, day(&p.started_at), &end, title, detail, format!("/mentoring/requests/{}", r.id));
        }

        // Events attended (marked by the organiser).
        let mut events = Builder::new("events_attended", "Events attended");
        let (items, more) = self.read_bounded(Index::Gsi2, keys::members_bookings(me), None, READ_CAP).await?;
        events.truncated |= more;
        let mut attended = Vec::new();
        for item in &items {
            let b: Booking = decode(item)?;
            if b.attended == Some(true) && period.contains(&day(&b.event_starts_at)) {
                attended.push(keys::event(&b.event_id));
            }
        }
        for item in self.get_batched(attended).await?.into_iter().flatten() {
            let e: Event = decode(&item)?;
            let detail = format!("Attended ({})", e.kind.as_str().replace('_', " "));
            events.push(period, day(&e.starts_at), e.title, detail, format!("/events/{}", e.id));
        }

        // Questions answered.
        let mut answered = Builder::new("questions_answered", "Questions answered");
        let (items, more) = self.read_bounded(Index::Gsi2, keys::members_questions(me), None, READ_CAP).await?;
        answered.truncated |= more;
        let mut answers = Vec::new();
        for item in items.iter().filter(|i| i.sk.contains("#A#")) {
            let a: Answer = decode(item)?;
            if a.author_id == me && period.contains(&day(&a.created_at)) {
                let question_sk = format!("{}{}", keys::QUESTION_PREFIX, a.question_id);
                answers.push((a, (item.pk.clone(), question_sk)));
            }
        }
        let questions = self.get_batched(answers.iter().map(|(_, k)| k.clone()).collect()).await?;
        for ((a, _), q) in answers.into_iter().zip(questions) {
            let Some(q) = q else { continue };
            let q: Question = decode(&q)?;
            let title = clip(&q.body, 120);
            let detail = if a.source == qnet_domain::question::AnswerSource::Email { "Answered by email" } else { "Answered" };
            answered.push(period, day(&a.created_at), title, detail.into(), format!("/questions/{}", q.id));
        }

        let period_words = match (period.from, period.to) {
            (None, None) => "All time".to_string(),
            (Some(f), None) => format!("From {f}"),
            (None, Some(t)) => format!("Up to {t}"),
            (Some(f), Some(t)) => format!("{f} to {t}"),
        };
        Ok(Portfolio {
            member_name: member.name,
            organisation_name,
            from: period.from.map(|d| d.to_string()),
            to: period.to.map(|d| d.to_string()),
            period: period_words,
            generated_on: today,
            section_cap: SECTION_CAP as u32,
            sections: vec![
                projects.finish(),
                pdsa.finish(),
                case_studies.finish(),
                resources.finish(),
                given.finish(),
                received.finish(),
                events.finish(),
                answered.finish(),
                thanks.finish(),
            ],
        })
    }

    /// `GET /me/portfolio.csv`: one row per activity (section, date, title,
    /// role or detail, link as an absolute URL on the configured web origin),
    /// every cell a spreadsheet would run as a formula neutralised.
    pub async fn portfolio_csv(&self, claims: &Claims, period: &PortfolioPeriod) -> AppResult<String> {
        let p = self.portfolio(claims, period).await?;
        let web = self.web_base_url.trim_end_matches('/').to_string();
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
        let fail = |e: csv::Error| AppError::Unavailable(format!("writing the portfolio CSV: {e}"));
        w.write_record(["Section", "Date", "Title", "Role or detail", "Link"]).map_err(fail)?;
        for s in &p.sections {
            for i in &s.items {
                let link = format!("{web}{}", i.link);
                let row = [&s.title, &i.date, &i.title, &i.detail, &link].map(|c| neutralise(c));
                w.write_record(&row).map_err(fail)?;
            }
        }
        let bytes = w.into_inner().map_err(|e| AppError::Unavailable(format!("writing the portfolio CSV: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| AppError::Unavailable(format!("the portfolio CSV is not UTF-8: {e}")))?;
        // A byte order mark, so spreadsheet programs read the names as UTF-8.
        Ok(format!("\u{feff}{text}"))
    }

    /// Writes the portfolio's team index for projects stored before it
    /// existed: every team member of every project gets their place (joined
    /// when the project was created, the best date known), except members
    /// with no profile (erased: erasure took their places and they stay
    /// gone). Idempotent (a place already written is kept). Closed mentoring
    /// pairings (and active ones withdrawn) stored before the mentor's
    /// closed-pairing index are rewritten (version-checked) by the same run.
    /// Returns how many items it wrote.
    pub async fn backfill_portfolio_indexes(&self) -> AppResult<usize> {
        let mut written = 0;
        let mut cursor: Option<Cursor> = None;
        loop {
            let page =
                self.records.query(Query::new(Index::Primary, keys::project_list(None)).limit(100).after(cursor.take())).await?;
            for entry in &page.items {
                let Some(id) = entry.data["id"].as_str() else { continue };
                let Some((p, _)) = self.get_record::<Project>(keys::project(id)).await? else { continue };
                for m in &p.team {
                    let (pk, sk) = keys::project_team_member(&p.id, m);
                    if self.records.get(&pk, &sk).await?.is_some() || self.member_by_id(m).await?.is_none() {
                        continue;
                    }
                    if let Write::Put { item, .. } = crate::projects::team_member_write(&p.id, m, &p.created_at) {
                        match self.records.put(item, Condition::NotExists).await {
                            Ok(()) => written += 1,
                            Err(e) if e.is_conflict() => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        written += self.backfill_closed_pairings().await?;
        Ok(written)
    }

    /// Rewrites ended pairings (closed, or withdrawn while active) not yet in
    /// their mentor's closed-pairing index, found through every member's
    /// requests (members by digest cadence).
    async fn backfill_closed_pairings(&self) -> AppResult<usize> {
        use qnet_domain::digest::Cadence;
        let mut written = 0;
        for cadence in [Cadence::Weekly, Cadence::Monthly, Cadence::Off] {
            let mut cursor: Option<Cursor> = None;
            loop {
                let page = self
                    .records
                    .query(Query::new(Index::Gsi1, keys::digest_subscribers(cadence)).limit(100).after(cursor.take()))
                    .await?;
                for m in &page.items {
                    let Some(member_id) = m.pk.strip_prefix("MEMBER#") else { continue };
                    let mut c2: Option<Cursor> = None;
                    loop {
                        let q = Query::new(Index::Gsi2, keys::members_mentoring_requests(member_id)).limit(100).after(c2.take());
                        let reqs = self.records.query(q).await?;
                        for item in &reqs.items {
                            written += self.reindex_ended_pairing(item).await?;
                        }
                        match reqs.next {
                            Some(c) => c2 = Some(c),
                            None => break,
                        }
                    }
                }
                match page.next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        Ok(written)
    }

    /// Rewrites one request item if it is an ended pairing (closed, or
    /// withdrawn while active) not yet under its mentor; 1 if it wrote.
    async fn reindex_ended_pairing(&self, item: &Item) -> AppResult<usize> {
        let r: MentoringRequest = decode(item)?;
        let ended = matches!(r.state, RequestState::Closed | RequestState::Withdrawn);
        let indexed = item.gsi1.as_ref().is_some_and(|g| g.pk.starts_with("MREQ#mentored#"));
        if !ended || r.pairing.is_none() || indexed {
            return Ok(0);
        }
        match self.records.put(crate::mentoring::request_index_item(&r), Condition::VersionIs(item.version)).await {
            Ok(()) => Ok(1),
            Err(e) if e.is_conflict() => Ok(0),
            Err(e) => Err(e.into()),
        }
    }
}

/// "Mentoring: quality improvement, PDSA" and "Mentor, since 2026-03-02" or
/// "Mentor, 2026-03-02 to 2026-06-01".
fn mentoring_words(r: &MentoringRequest, role: &str) -> (String, String) {
    let kind = if r.kind == "coaching" { "Coaching" } else { "Mentoring" };
    let topics = r.topics.iter().map(|t| t.replace('-', " ")).collect::<Vec<_>>().join(", ");
    let title = if topics.is_empty() { kind.to_string() } else { format!("{kind}: {topics}") };
    let started = r.pairing.as_ref().map(|p| day(&p.started_at)).unwrap_or_default();
    let detail = match r.pairing.as_ref().and_then(|p| p.closed_at.as_deref()) {
        Some(closed) => format!("{role}, {started} to {}", day(closed)),
        None => format!("{role}, since {started}"),
    };
    (title, detail)
}

/// A cell a spreadsheet would read as a formula (a leading `=`, `+`, `-`,
/// `@`, tab or carriage return, also after leading spaces, which spreadsheets
/// skip) gets a leading apostrophe (OWASP's advice); the `csv` writer does the
/// quoting.
pub fn neutralise(cell: &str) -> String {
    let formula = |c: Option<char>| matches!(c, Some('=' | '+' | '-' | '@' | '\t' | '\r'));
    if formula(cell.chars().next()) || formula(cell.trim_start().chars().next()) { format!("'{cell}") } else { cell.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_get_an_apostrophe() {
        for lead in ["=", "+", "-", "@", "\t", "\r"] {
            assert_eq!(neutralise(&format!("{lead}SUM(A1)")), format!("'{lead}SUM(A1)"));
        }
        for lead in [" =", "  +", "\u{a0}@", "\n-", " \t="] {
            assert_eq!(neutralise(&format!("{lead}SUM(A1)")), format!("'{lead}SUM(A1)"), "{lead:?}");
        }
        assert_eq!(neutralise(" Fewer falls"), " Fewer falls");
        assert_eq!(neutralise("Fewer falls"), "Fewer falls");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn the_period_is_checked_and_inclusive() {
        let p = PortfolioPeriod::parse(Some("2026-01-01"), Some("2026-03-31")).unwrap();
        assert!(p.contains("2026-01-01") && p.contains("2026-03-31"));
        assert!(!p.contains("2025-12-31") && !p.contains("2026-04-01"));
        assert!(PortfolioPeriod::parse(None, None).unwrap().contains("1999-01-01"));
        assert!(PortfolioPeriod::parse(Some("2026-04-01"), Some("2026-03-31")).is_err());
        assert!(PortfolioPeriod::parse(Some("yesterday"), None).is_err());
        assert!(PortfolioPeriod::parse(None, Some("1066-10-14")).is_err());
    }

    #[test]
    fn days_are_london_days() {
        assert_eq!(day("2026-06-30T23:30:00Z"), "2026-07-01");
        assert_eq!(day("2026-01-31T23:30:00Z"), "2026-01-31");
        assert_eq!(day("2026-02-03"), "2026-02-03");
    }
}
