//! The system-wide view (`GET /insights`, `GET /insights.csv`): what the
//! running counts of [`crate::tally`] say, across the system, per
//! organisation type and per organisation, for a period of whole months.
//!
//! Nothing here reads a record that is counted: one query of
//! `INSIGHTS#state` and one per month of the period, plus the (cached)
//! organisations, whatever the number of projects.
//!
//! Disclosure control, so nobody can be picked out: in every row (the
//! system's, each organisation type's, each organisation's), a count of 1 to
//! 4 is shown as "fewer than 5" (no number), and every other count is rounded
//! to the nearest 5 (half up: 5 to 7 show as 5, 8 to 12 as 10). Suppression
//! alone could be undone by subtraction (a type's row less its other
//! organisations' rows, the system's less the other types', or one period
//! less a shorter one); with every count rounded, a difference is only known
//! to within the rounding of each term, which spans the whole suppressed
//! range. The system row is protected too: when only one organisation has
//! done something, the system's count is that organisation's. A median time
//! to first answer is suppressed with the count of answers it comes from.
//! Zero is shown: it tells nothing about a person.

use std::collections::{BTreeMap, HashMap};

use qnet_domain::FieldErrors;
use qnet_domain::organisation::{Organisation, OrganisationType};
use qnet_domain::project::{Classification, ProjectStatus};
use qnet_domain::topics::TOPICS;
use qnet_ports::{Index, Query};

use crate::tally::{ALL, DELAY_BUCKETS_HOURS, STATE, month_partition, org_scope, type_scope};
use crate::{App, AppError, AppResult};

mod rebuild;
mod views;
pub use rebuild::RebuildReport;
pub use views::{InsightsCell, InsightsColumn, InsightsRow, InsightsTable, InsightsView};

/// Counts below this, in a row that could point at few people, are suppressed.
pub const SUPPRESSION_THRESHOLD: i64 = 5;
/// Counts in such rows are rounded to the nearest multiple of this.
pub const ROUNDING_BASE: i64 = 5;
/// The longest period one request may cover.
pub const MAX_PERIOD_MONTHS: i32 = 36;
/// The period when none is given: the last 12 months, this one included.
pub const DEFAULT_PERIOD_MONTHS: i32 = 12;
/// The tables, in the order they are shown; `GET /insights.csv?table=` takes these names.
pub const TABLES: [&str; 8] = [
    "projects_by_status",
    "projects_by_classification",
    "projects_by_topic",
    "progress_scores",
    "case_studies_published",
    "activity",
    "people",
    "coffee_by_organisation_type",
];

/// A month as a count of months since year 0, for arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month(i32);

impl Month {
    pub fn parse(s: &str) -> Option<Month> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (y, m): (i32, i32) = (y.parse().ok()?, m.parse().ok()?);
        (1..=12).contains(&m).then_some(Month(y * 12 + m - 1))
    }
    pub fn of(time: &str) -> Option<Month> {
        Month::parse(time.get(..7)?)
    }
    pub fn text(self) -> String {
        format!("{:04}-{:02}", self.0.div_euclid(12), self.0.rem_euclid(12) + 1)
    }
    fn plus(self, n: i32) -> Month {
        Month(self.0 + n)
    }
}

/// What `GET /insights` was asked for, checked.
#[derive(Debug, Clone)]
pub struct InsightsFilter {
    pub from: Month,
    pub to: Month,
    pub organisation: Option<String>,
    pub organisation_type: Option<OrganisationType>,
}

impl InsightsFilter {
    /// Every field error at once; `now` (RFC 3339) gives the default period.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        organisation: Option<&str>,
        organisation_type: Option<&str>,
        now: &str,
    ) -> Result<InsightsFilter, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut month = |field: &str, v: Option<&str>| match v {
            None => None,
            Some(s) => {
                let m = Month::parse(s);
                if m.is_none() {
                    errors.push(field, "must be a month, YYYY-MM");
                }
                m
            }
        };
        let (from_m, to_m) = (month("from", from), month("to", to));
        let this_month = Month::of(now).unwrap_or(Month(0));
        let to_m = to_m.unwrap_or(this_month);
        let from_m = from_m.unwrap_or(to_m.plus(1 - DEFAULT_PERIOD_MONTHS));
        if from_m > to_m && from.is_some() {
            errors.push("from", "must not be after to");
        } else if to_m.0 - from_m.0 >= MAX_PERIOD_MONTHS {
            errors.push("from", format!("the period is at most {MAX_PERIOD_MONTHS} months"));
        }
        let kind = organisation_type.and_then(|t| {
            let k = OrganisationType::parse(t);
            if k.is_none() {
                errors.push("organisation_type", "is not an organisation type");
            }
            k
        });
        if let Some(o) = organisation
            && (o.is_empty() || o.len() > 64)
        {
            errors.push("organisation", "is not an organisation id");
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(InsightsFilter { from: from_m, to: to_m, organisation: organisation.map(String::from), organisation_type: kind })
    }

    fn months(&self) -> impl Iterator<Item = Month> {
        (self.from.0..=self.to.0).map(Month)
    }
}

/// The counts of one scope: field → count.
type Counts = HashMap<String, i64>;

/// A row's scope, for labels and suppression.
struct Scope {
    kind: &'static str,
    id: Option<String>,
    label: String,
    key: String,
    suppressible: bool,
}

fn cell(n: i64, suppressible: bool) -> InsightsCell {
    // A count moved by changes the tallies could not follow exactly (a member
    // who changed organisation between booking and cancelling) never shows below zero.
    let n = n.max(0);
    if !suppressible {
        return InsightsCell { value: Some(n), suppressed: false, rounded: false, text: n.to_string() };
    }
    if (1..SUPPRESSION_THRESHOLD).contains(&n) {
        return InsightsCell { value: None, suppressed: true, rounded: false, text: "fewer than 5".into() };
    }
    let r = round_to_base(n);
    InsightsCell { value: Some(r), suppressed: false, rounded: true, text: r.to_string() }
}

/// `n` to the nearest multiple of [`ROUNDING_BASE`], half up (0 stays 0).
fn round_to_base(n: i64) -> i64 {
    (n + ROUNDING_BASE / 2).div_euclid(ROUNDING_BASE) * ROUNDING_BASE
}

/// The median delay to a first answer, from the bucketed counts: the bucket
/// holding the middle answer, shown as its upper bound.
fn median_cell(counts: &Counts, suppressible: bool) -> InsightsCell {
    let n = get(counts, "questions_answered");
    if n == 0 {
        return InsightsCell { value: None, suppressed: false, rounded: false, text: "no answers".into() };
    }
    if suppressible && n < SUPPRESSION_THRESHOLD {
        return InsightsCell { value: None, suppressed: true, rounded: false, text: "fewer than 5".into() };
    }
    let middle = (n + 1) / 2;
    let mut seen = 0;
    for b in DELAY_BUCKETS_HOURS {
        seen += get(counts, &format!("answer_delay:{b}"));
        if seen >= middle {
            return InsightsCell { value: Some(b), suppressed: false, rounded: false, text: format!("up to {b} hours") };
        }
    }
    InsightsCell { value: None, suppressed: false, rounded: false, text: format!("over {} hours", DELAY_BUCKETS_HOURS[9]) }
}

fn get(c: &Counts, field: &str) -> i64 {
    c.get(field).copied().unwrap_or(0)
}

fn add_into(into: &mut Counts, from: &Counts) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

fn col(key: impl Into<String>, label: impl Into<String>) -> InsightsColumn {
    InsightsColumn { key: key.into(), label: label.into() }
}

fn type_label(kind: OrganisationType) -> &'static str {
    match kind {
        OrganisationType::Nhs => "NHS organisations",
        OrganisationType::LocalAuthority => "Local authorities",
        OrganisationType::Voluntary => "Voluntary organisations",
        OrganisationType::Education => "Education",
        OrganisationType::Other => "Other organisations",
    }
}

fn classification_label(c: Classification) -> &'static str {
    match c {
        Classification::QualityImprovement => "Quality improvement",
        Classification::Audit => "Audit",
        Classification::ServiceEvaluation => "Service evaluation",
        Classification::Research => "Research",
    }
}

fn status_label(s: ProjectStatus) -> &'static str {
    match s {
        ProjectStatus::Idea => "Idea",
        ProjectStatus::Active => "Active",
        ProjectStatus::Sustaining => "Sustaining",
        ProjectStatus::Completed => "Completed",
        ProjectStatus::Stopped => "Stopped",
    }
}

/// The IHI progress scores (0.5 to 5.0) and "not scored".
fn score_columns() -> Vec<InsightsColumn> {
    let mut c: Vec<InsightsColumn> = (1..=10).map(|n| format!("{:.1}", f64::from(n) / 2.0)).map(|s| col(s.clone(), s)).collect();
    c.push(col("none", "Not scored"));
    c
}

impl App {
    async fn partition_counts(&self, pk: String) -> AppResult<HashMap<String, Counts>> {
        let mut out: HashMap<String, Counts> = HashMap::new();
        let mut cursor = None;
        loop {
            let page = self.records.query(Query::new(Index::Primary, pk.clone()).limit(1000).after(cursor)).await?;
            for item in page.items {
                let counts = out.entry(item.sk).or_default();
                if let Some(map) = item.data.as_object() {
                    for (k, v) in map {
                        *counts.entry(k.clone()).or_default() += v.as_i64().unwrap_or(0);
                    }
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// The filter of `GET /insights` read against this moment's month.
    pub fn insights_filter(
        &self,
        from: Option<&str>,
        to: Option<&str>,
        organisation: Option<&str>,
        organisation_type: Option<&str>,
    ) -> AppResult<InsightsFilter> {
        InsightsFilter::parse(from, to, organisation, organisation_type, &self.now_text()).map_err(AppError::Invalid)
    }

    /// `GET /insights`: the tables for the period and scope asked.
    pub async fn insights(&self, filter: &InsightsFilter) -> AppResult<InsightsView> {
        let orgs = self.organisations().await?;
        let chosen: Option<&Organisation> = match &filter.organisation {
            Some(id) => Some(
                orgs.iter()
                    .find(|o| o.id == *id)
                    .ok_or_else(|| AppError::invalid("organisation", "is not a known organisation"))?,
            ),
            None => None,
        };
        let scopes = scopes(&orgs, filter, chosen);
        let state = self.partition_counts(STATE.to_owned()).await?;
        let mut months: Vec<(Month, HashMap<String, Counts>)> = Vec::new();
        for m in filter.months() {
            months.push((m, self.partition_counts(month_partition(&m.text())).await?));
        }
        let empty = Counts::new();
        let state_of = |s: &Scope| state.get(&s.key).unwrap_or(&empty);
        let period_of = |s: &Scope| {
            let mut c = Counts::new();
            for (_, by_scope) in &months {
                if let Some(x) = by_scope.get(&s.key) {
                    add_into(&mut c, x);
                }
            }
            c
        };
        let table = |name: &str,
                     caption: &str,
                     description: &str,
                     columns: Vec<InsightsColumn>,
                     value: &dyn Fn(&Scope, &str) -> InsightsCell| {
            InsightsTable {
                name: name.into(),
                caption: caption.into(),
                description: description.into(),
                rows: scopes
                    .iter()
                    .map(|s| InsightsRow {
                        scope: s.kind.into(),
                        id: s.id.clone(),
                        label: s.label.clone(),
                        cells: columns.iter().map(|c| value(s, &c.key)).collect(),
                    })
                    .collect(),
                columns,
            }
        };
        let mut tables = Vec::new();
        let mut status_cols = vec![col("projects", "All projects")];
        status_cols.extend(ProjectStatus::ALL.iter().map(|s| col(s.as_str(), status_label(*s))));
        tables.push(table(
            "projects_by_status",
            "Projects by status",
            "Projects registered now, by where they are in their life (not limited to the period).",
            status_cols,
            &|s, k| {
                let f = if k == "projects" { "projects".to_owned() } else { format!("status:{k}") };
                cell(get(state_of(s), &f), s.suppressible)
            },
        ));
        let mut class_cols: Vec<InsightsColumn> =
            Classification::ALL.iter().map(|c| col(c.as_str(), classification_label(*c))).collect();
        class_cols.push(col("none", "Not classified"));
        tables.push(table(
            "projects_by_classification",
            "Projects by classification",
            "Projects registered now, by kind of work (not limited to the period).",
            class_cols,
            &|s, k| cell(get(state_of(s), &format!("classification:{k}")), s.suppressible),
        ));
        tables.push(table(
            "projects_by_topic",
            "Projects by topic",
            "Projects registered now, by topic; a project with several topics counts once in each.",
            TOPICS.iter().map(|t| col(t.id, t.name)).collect(),
            &|s, k| cell(get(state_of(s), &format!("topic:{k}")), s.suppressible),
        ));
        tables.push(table(
            "progress_scores",
            "IHI progress scores",
            "Projects registered now, by their IHI progress score (0.5 to 5).",
            score_columns(),
            &|s, k| cell(get(state_of(s), &format!("score:{k}")), s.suppressible),
        ));
        let month_cols: Vec<InsightsColumn> = filter.months().map(|m| col(m.text(), m.text())).collect();
        tables.push(table(
            "case_studies_published",
            "Case studies published per month",
            "Case studies first published in each month (UTC), by the organisation named on them.",
            month_cols,
            &|s, k| {
                let n = months
                    .iter()
                    .find(|(m, _)| m.text() == k)
                    .and_then(|(_, by)| by.get(&s.key))
                    .map(|c| get(c, "case_studies_published"))
                    .unwrap_or(0);
                cell(n, s.suppressible)
            },
        ));
        let period: HashMap<String, Counts> = scopes.iter().map(|s| (s.key.clone(), period_of(s))).collect();
        tables.push(table(
            "activity",
            "Activity in the period",
            "Case studies published; adoptions recorded (\"We are trying this\"), by the adopter's organisation; \
             questions asked and first answered, by the asker's organisation; the median time to a first answer, \
             known to within its bucket (1, 2, 4, 8, 24, 48, 72, 168, 336 or 720 hours).",
            vec![
                col("case_studies_published", "Case studies published"),
                col("adoptions", "Adoptions"),
                col("questions_asked", "Questions asked"),
                col("questions_answered", "Questions answered"),
                col("median_hours_to_first_answer", "Median time to first answer"),
            ],
            &|s, k| {
                let c = period.get(&s.key).unwrap_or(&empty);
                if k == "median_hours_to_first_answer" { median_cell(c, s.suppressible) } else { cell(get(c, k), s.suppressible) }
            },
        ));
        tables.push(table(
            "people",
            "People working together in the period",
            "Mentoring pairs started and closed, by the mentee's and the mentor's organisations; event places \
             booked (net of cancellations) and attended, on events starting in the period, by the member's \
             organisation; coffee pairs (a trio when the pool is odd) drawn in the period, by each member's organisation.",
            vec![
                col("mentoring_started", "Mentoring pairs started"),
                col("mentoring_closed", "Mentoring pairs closed"),
                col("places_booked", "Event places booked"),
                col("places_attended", "Event places attended"),
                col("coffee_pairs", "Coffee pairs"),
            ],
            &|s, k| cell(get(period.get(&s.key).unwrap_or(&empty), k), s.suppressible),
        ));
        tables.push(table(
            "coffee_by_organisation_type",
            "Coffee pairs across types of organisation",
            "Coffee pairs drawn in the period that included someone from each type of organisation: \
             how often people met across the walls.",
            OrganisationType::ALL.iter().map(|(_, t)| col(t.as_str(), type_label(*t))).collect(),
            &|s, k| cell(get(period.get(&s.key).unwrap_or(&empty), &format!("coffee_with:{k}")), s.suppressible),
        ));
        Ok(InsightsView {
            from: filter.from.text(),
            to: filter.to.text(),
            organisation: filter.organisation.clone(),
            organisation_type: filter.organisation_type.map(|t| t.as_str().to_owned()),
            suppression_threshold: SUPPRESSION_THRESHOLD,
            rounding_base: ROUNDING_BASE,
            tables,
        })
    }

    /// `GET /insights.csv?table=`: one table as CSV (RFC 4180, UTF-8 with a
    /// byte order mark), every cell neutralised against formula injection;
    /// suppressed cells read "fewer than 5".
    pub async fn insights_csv(&self, filter: &InsightsFilter, table: &str) -> AppResult<String> {
        if !TABLES.contains(&table) {
            let mut e = FieldErrors::new();
            e.push("table", format!("is not a table: one of {}", TABLES.join(", ")));
            return Err(AppError::Invalid(e));
        }
        let view = self.insights(filter).await?;
        let t = view.tables.iter().find(|t| t.name == table).ok_or(AppError::NotFound("table"))?;
        Ok(table_csv(t))
    }
}

/// A table as CSV: the row's label and kind, then a cell per column.
pub fn table_csv(t: &InsightsTable) -> String {
    use crate::events::attendance::csv_cell;
    let line = |cells: Vec<&str>| {
        let mut l = cells.into_iter().map(csv_cell).collect::<Vec<_>>().join(",");
        l.push_str("\r\n");
        l
    };
    let mut out = String::from("\u{feff}");
    let mut header = vec!["Organisation", "Scope"];
    header.extend(t.columns.iter().map(|c| c.label.as_str()));
    out.push_str(&line(header));
    for r in &t.rows {
        let mut cells = vec![r.label.as_str(), r.scope.as_str()];
        cells.extend(r.cells.iter().map(|c| c.text.as_str()));
        out.push_str(&line(cells));
    }
    out
}

/// The rows: the system, then each organisation type with organisations,
/// then each organisation (A to Z), narrowed by the filter.
fn scopes(orgs: &[Organisation], filter: &InsightsFilter, chosen: Option<&Organisation>) -> Vec<Scope> {
    let mut per_type: BTreeMap<&'static str, (OrganisationType, usize)> = BTreeMap::new();
    for o in orgs {
        per_type.entry(o.kind.as_str()).or_insert((o.kind, 0)).1 += 1;
    }
    let want_type = chosen.map(|o| o.kind).or(filter.organisation_type);
    let mut out =
        vec![Scope { kind: "system", id: None, label: "All organisations".into(), key: ALL.into(), suppressible: true }];
    for (name, (kind, _)) in &per_type {
        if want_type.is_some_and(|w| w != *kind) {
            continue;
        }
        out.push(Scope {
            kind: "organisation_type",
            id: Some((*name).into()),
            label: type_label(*kind).into(),
            key: type_scope(name),
            suppressible: true,
        });
    }
    let mut listed: Vec<&Organisation> =
        orgs.iter().filter(|o| want_type.is_none_or(|w| w == o.kind)).filter(|o| chosen.is_none_or(|c| c.id == o.id)).collect();
    listed.sort_by_key(|o| o.name.to_lowercase());
    out.extend(listed.into_iter().map(|o| Scope {
        kind: "organisation",
        id: Some(o.id.clone()),
        label: o.name.clone(),
        key: org_scope(&o.id),
        suppressible: true,
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_and_print() {
        assert_eq!(Month::parse("2026-01").map(Month::text).as_deref(), Some("2026-01"));
        assert_eq!(Month::parse("2026-13"), None);
        assert_eq!(Month::parse("2026-1"), None);
        assert_eq!(Month::parse("2026-01").unwrap().plus(-1).text(), "2025-12");
    }

    #[test]
    fn the_period_is_bounded_and_defaults_to_twelve_months() {
        let f = InsightsFilter::parse(None, None, None, None, "2026-12-07T10:00:00Z").unwrap();
        assert_eq!((f.from.text(), f.to.text()), ("2026-01".into(), "2026-12".into()));
        assert!(InsightsFilter::parse(Some("2023-01"), Some("2026-01"), None, None, "2026-12-07T10:00:00Z").is_err());
        assert!(InsightsFilter::parse(Some("2023-02"), Some("2026-01"), None, None, "2026-12-07T10:00:00Z").is_ok());
        assert!(InsightsFilter::parse(Some("2026-05"), Some("2026-01"), None, None, "2026-12-07T10:00:00Z").is_err());
        let e = InsightsFilter::parse(Some("x"), None, None, Some("nope"), "2026-12-07T10:00:00Z").unwrap_err();
        assert_eq!(e.0.len(), 2, "every field error at once");
    }

    #[test]
    fn small_counts_are_suppressed_and_others_rounded_where_they_could_point_at_someone() {
        assert!(cell(4, true).suppressed);
        assert_eq!(cell(4, true).text, "fewer than 5");
        assert_eq!(cell(0, true).value, Some(0));
        let shown: Vec<Option<i64>> = [5, 7, 8, 12, 13].into_iter().map(|n| cell(n, true).value).collect();
        assert_eq!(shown, [Some(5), Some(5), Some(10), Some(10), Some(15)]);
        assert!(cell(6, true).rounded);
        assert_eq!((cell(1, false).value, cell(6, false).rounded), (Some(1), false), "unprotected, a count is exact");
        assert_eq!(cell(-1, true).value, Some(0), "never below zero");
    }

    #[test]
    fn the_median_is_the_bucket_of_the_middle_answer() {
        let counts: Counts = [("questions_answered", 5), ("answer_delay:1", 2), ("answer_delay:24", 3)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(median_cell(&counts, true).value, Some(24));
        let few: Counts = [("questions_answered".to_owned(), 3)].into_iter().collect();
        assert!(median_cell(&few, true).suppressed);
    }
}
