//! The digest's sections, in the email's order. Each section belongs to the
//! digest and reads its feature through that feature's public API.

mod case_studies;
mod events;
mod highlights;
mod personal;
mod resources;

pub use case_studies::CaseStudiesSection;
pub use events::{DIGEST_EVENTS_AHEAD, EventsSection};
pub use highlights::HighlightsSection;
pub use personal::PersonalSection;
pub use resources::ResourcesSection;

use crate::digest::DigestItem;
use crate::{App, AppResult, decode};
use qnet_domain::digest::Period;
use qnet_ports::{Cursor, Index, Query};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// A period's items and when they were read.
pub(crate) type CachedItems = (Instant, Arc<Vec<DigestItem>>);

/// How long a section's items for one period are reused by a warm sender.
pub(crate) const SECTION_CACHE: Duration = Duration::from_secs(60);

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
