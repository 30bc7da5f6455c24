//! Running counts for the insights (`GET /insights`), kept in the same
//! transaction as the change they count: each use case that changes something
//! counted adds [`Write::Tally`] writes to its own batch, so a refused or
//! failed change moves nothing and no request ever scans the records.
//!
//! Items: `INSIGHTS#state` holds what is true now (projects by status,
//! classification, topic and IHI progress score); `INSIGHTS#<yyyy-mm>` (UTC
//! month) holds what happened in that month (case studies published,
//! adoptions, questions asked and answered, the delay to a first answer).
//! In each, one item per scope: `ORG#<organisation id>`, `TYPE#<organisation
//! type>` and `ALL`. A thing of several organisations counts once in each of
//! them, once in each of their types and once in `ALL`, so the type and
//! system rows are never sums of organisation rows that count it twice.
//! The organisation type is the one at the time of the change;
//! `qnet insights rebuild` recounts everything from the records.
//!
//! Every change to a counted thing touches `ALL`: on DynamoDB two such
//! transactions at the same instant conflict and one is refused (retry).

use std::collections::BTreeMap;

use qnet_domain::project::Project;
use qnet_ports::Write;

use crate::{App, AppResult};

/// The partition of what is true now.
pub const STATE: &str = "INSIGHTS#state";
/// The scope of the whole system.
pub const ALL: &str = "ALL";

/// The partition of what happened in `month` (`yyyy-mm`).
pub fn month_partition(month: &str) -> String {
    format!("INSIGHTS#{month}")
}

/// The month (`yyyy-mm`, UTC) of a stored RFC 3339 time.
pub fn month_of(time: &str) -> &str {
    time.get(..7).unwrap_or(time)
}

pub fn org_scope(id: &str) -> String {
    format!("ORG#{id}")
}

pub fn type_scope(kind: &str) -> String {
    format!("TYPE#{kind}")
}

/// Upper bounds (hours) of the answer-delay buckets; a delay past the last is
/// counted in `answer_delay:over`. The median is known to within its bucket.
pub const DELAY_BUCKETS_HOURS: [i64; 10] = [1, 2, 4, 8, 24, 48, 72, 168, 336, 720];

/// The answer-delay field for a delay of `seconds`.
pub fn delay_field(seconds: i64) -> String {
    let s = seconds.max(0);
    let hours_ceiling = ((s + 3599) / 3600).max(1);
    match DELAY_BUCKETS_HOURS.iter().find(|b| hours_ceiling <= **b) {
        Some(b) => format!("answer_delay:{b}"),
        None => "answer_delay:over".to_owned(),
    }
}

/// The IHI progress score's bucket (`0.5` … `5.0`), or `none`.
pub fn score_bucket(score: Option<f64>) -> String {
    match score {
        Some(s) => format!("{s:.1}"),
        None => "none".to_owned(),
    }
}

/// What a project counts for in [`STATE`]: one each.
pub fn project_fields(p: &Project) -> Vec<String> {
    let mut f = vec![
        "projects".to_owned(),
        format!("status:{}", p.status.as_str()),
        format!("classification:{}", p.classification.map(|c| c.as_str()).unwrap_or("none")),
        format!("score:{}", score_bucket(p.progress_score)),
    ];
    let mut topics = p.topics.clone();
    topics.sort();
    topics.dedup();
    f.extend(topics.into_iter().map(|t| format!("topic:{t}")));
    f
}

/// Additions by scope, merged, ready to become one tally write per scope.
#[derive(Debug, Default)]
pub struct Tallies {
    by_scope: BTreeMap<(String, String), BTreeMap<String, i64>>,
}

impl Tallies {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `by` to each field in each scope of partition `pk`.
    pub fn add(&mut self, pk: &str, scopes: &[String], fields: &[String], by: i64) {
        for s in scopes {
            let entry = self.by_scope.entry((pk.to_owned(), s.clone())).or_default();
            for f in fields {
                *entry.entry(f.clone()).or_default() += by;
            }
        }
    }

    /// The merged counts, by (partition, scope).
    pub fn into_counts(self) -> BTreeMap<(String, String), BTreeMap<String, i64>> {
        self.by_scope
    }

    /// One write per scope with anything left after merging (a change that
    /// moves nothing writes nothing).
    pub fn into_writes(self) -> Vec<Write> {
        self.by_scope
            .into_iter()
            .filter_map(|((pk, sk), fields)| {
                let adds: Vec<(String, i64)> = fields.into_iter().filter(|(_, n)| *n != 0).collect();
                (!adds.is_empty()).then_some(Write::Tally { pk, sk, adds })
            })
            .collect()
    }
}

impl App {
    /// The scopes a thing of these organisations counts in: each organisation,
    /// each of their types (once), and the system. An organisation no longer
    /// known counts in the system only.
    pub async fn tally_scopes(&self, organisation_ids: &[String]) -> AppResult<Vec<String>> {
        let orgs = self.organisations().await?;
        let mut scopes = Vec::new();
        let mut types = Vec::new();
        for id in organisation_ids {
            let scope = org_scope(id);
            if scopes.contains(&scope) {
                continue;
            }
            if let Some(o) = orgs.iter().find(|o| o.id == *id) {
                scopes.push(scope);
                let t = type_scope(o.kind.as_str());
                if !types.contains(&t) {
                    types.push(t);
                }
            } else if let Some(o) = self.organisation(id).await? {
                scopes.push(scope);
                let t = type_scope(o.kind.as_str());
                if !types.contains(&t) {
                    types.push(t);
                }
            }
        }
        scopes.extend(types);
        scopes.push(ALL.to_owned());
        Ok(scopes)
    }

    /// The tally writes for a project going from `old` to `new` (either may be
    /// absent: created, or gone).
    pub(crate) async fn project_tallies(&self, old: Option<&Project>, new: Option<&Project>) -> AppResult<Vec<Write>> {
        let mut t = Tallies::new();
        if let Some(o) = old {
            t.add(STATE, &self.tally_scopes(&o.organisation_ids).await?, &project_fields(o), -1);
        }
        if let Some(n) = new {
            t.add(STATE, &self.tally_scopes(&n.organisation_ids).await?, &project_fields(n), 1);
        }
        Ok(t.into_writes())
    }

    /// The tally writes for one event of `field` in the month of `at`, by the
    /// organisations given (the system alone when none).
    pub(crate) async fn event_tallies(
        &self,
        at: &str,
        organisation_ids: &[String],
        fields: &[String],
        by: i64,
    ) -> AppResult<Vec<Write>> {
        let mut t = Tallies::new();
        t.add(&month_partition(month_of(at)), &self.tally_scopes(organisation_ids).await?, fields, by);
        Ok(t.into_writes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_fall_in_their_buckets() {
        assert_eq!(delay_field(0), "answer_delay:1");
        assert_eq!(delay_field(3600), "answer_delay:1");
        assert_eq!(delay_field(3601), "answer_delay:2");
        assert_eq!(delay_field(25 * 3600), "answer_delay:48");
        assert_eq!(delay_field(720 * 3600), "answer_delay:720");
        assert_eq!(delay_field(721 * 3600), "answer_delay:over");
    }

    #[test]
    fn opposite_changes_cancel_and_write_nothing() {
        let mut t = Tallies::new();
        let scopes = vec![ALL.to_owned()];
        t.add(STATE, &scopes, &["status:active".to_owned(), "projects".to_owned()], -1);
        t.add(STATE, &scopes, &["status:active".to_owned(), "projects".to_owned()], 1);
        assert!(t.into_writes().is_empty());
        let mut t = Tallies::new();
        t.add(STATE, &scopes, &["status:idea".to_owned()], -1);
        t.add(STATE, &scopes, &["status:active".to_owned()], 1);
        let w = t.into_writes();
        assert_eq!(w.len(), 1);
        let Write::Tally { adds, .. } = &w[0] else { panic!("a tally") };
        assert_eq!(adds, &vec![("status:active".to_owned(), 1), ("status:idea".to_owned(), -1)]);
    }
}
