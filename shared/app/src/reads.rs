//! How often published case studies and resources are read: one counter item
//! per item per ISO week (Europe/London), raised by one atomic increment per
//! `GET /case-studies/{id}` or `GET /resources/{id}`. Only the number is kept,
//! never who read it, and the item's own author's reads do not count. Authors
//! hear the counts in their "For you" lines (`engagement`).

use qnet_domain::digest::{Cadence, Period};
use qnet_ports::{Condition, Item, Write};
use time::OffsetDateTime;

use crate::{App, AppResult, keys};

/// The counter's field.
const READS: &str = "reads";
/// How long a week's counter is kept.
const KEEP_DAYS: i64 = 400;

/// What was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadKind {
    CaseStudy,
    Resource,
}

impl ReadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadKind::CaseStudy => "case_study",
            ReadKind::Resource => "resource",
        }
    }
}

/// The ISO week (Europe/London) holding `t`, e.g. `2026-W49`.
pub fn iso_week(t: OffsetDateTime) -> Option<String> {
    Period::containing(Cadence::Weekly, t).map(|p| p.id.trim_start_matches("weekly-").to_string())
}

impl App {
    /// Counts one read of a published item by `reader` (anonymous: `None`),
    /// unless the reader is one of its `authors`. A counter that cannot be
    /// written is logged, never an error: the reader still gets the page.
    pub(crate) async fn count_read(&self, kind: ReadKind, id: &str, reader: Option<&str>, authors: &[&str]) {
        if reader.is_some_and(|r| authors.contains(&r)) {
            return;
        }
        let Some(week) = iso_week(self.now()) else { return };
        if let Err(e) = self.add_read(kind, id, &week).await {
            tracing::warn!(kind = kind.as_str(), id, error = %e, "a read was not counted");
        }
    }

    async fn add_read(&self, kind: ReadKind, id: &str, week: &str) -> AppResult<()> {
        let (pk, sk) = keys::reads(kind.as_str(), id, week);
        // Most reads find the week's counter: one increment.
        match self.records.transact(vec![Write::increment(pk.clone(), sk.clone(), READS, 1)]).await {
            Err(e) if e.is_conflict() => {}
            other => return Ok(other?),
        }
        // The week's first read creates it; when another read created it first,
        // add to theirs.
        let expires = self.now().unix_timestamp() + KEEP_DAYS * 86_400;
        let first = Item::new(pk.clone(), sk.clone(), serde_json::json!({ READS: 1 })).expiring_at(expires);
        match self.records.put(first, Condition::NotExists).await {
            Err(e) if e.is_conflict() => Ok(self.records.transact(vec![Write::increment(pk, sk, READS, 1)]).await?),
            other => Ok(other?),
        }
    }

    /// How many times the item was read in the ISO week `week` (`2026-W49`).
    pub async fn reads(&self, kind: ReadKind, id: &str, week: &str) -> AppResult<u64> {
        let (pk, sk) = keys::reads(kind.as_str(), id, week);
        Ok(self.records.get(&pk, &sk).await?.and_then(|i| i.data[READS].as_u64()).unwrap_or(0))
    }
}
