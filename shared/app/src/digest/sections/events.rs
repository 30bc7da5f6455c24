//! Coming events: scheduled events starting within four weeks.

use crate::digest::sections::london_day;
use crate::digest::{DigestItem, DigestSection, PeriodCache};
use crate::events::EventSummary;
use crate::{App, AppResult, decode, keys};
use qnet_ports::{Cursor, Index, Query};

/// How far ahead the digest looks for events.
pub const DIGEST_EVENTS_AHEAD: time::Duration = time::Duration::days(28);

/// The digest's "Upcoming events" section: scheduled events starting in the
/// next four weeks that still have places (go-and-see visits, which hosts
/// accept one by one, while they have room), soonest first, on the member's
/// digest topics (all when they chose none).
pub struct EventsSection {
    web_base_url: String,
    cache: PeriodCache,
}

impl EventsSection {
    pub fn new(web_base_url: &str) -> EventsSection {
        EventsSection { web_base_url: web_base_url.trim_end_matches('/').into(), cache: Default::default() }
    }

    pub(crate) async fn upcoming(&self, app: &App) -> AppResult<Vec<DigestItem>> {
        let now = app.now();
        let (from, until) = (qnet_domain::timestamp(now), qnet_domain::timestamp(now + DIGEST_EVENTS_AHEAD));
        let names = app.organisation_names().await?;
        let mut items = Vec::new();
        let mut cursor: Option<Cursor> = None;
        'pages: loop {
            let page =
                app.records.query(Query::new(Index::Primary, keys::event_list(None)).limit(100).after(cursor.take())).await?;
            for item in &page.items {
                let s: EventSummary = decode(item)?;
                if s.starts_at < from {
                    continue;
                }
                if s.starts_at > until {
                    break 'pages;
                }
                let left = s.capacity.saturating_sub(app.confirmed_count(&s.id).await?);
                if left == 0 {
                    continue;
                }
                let place =
                    if s.online && s.location.is_none() { "Online".to_string() } else { s.location.clone().unwrap_or_default() };
                let places = if left == 1 { "1 place left".to_string() } else { format!("{left} places left") };
                items.push(DigestItem {
                    kind: "event".into(),
                    url: format!("{}/events/{}", self.web_base_url, s.id),
                    title: s.title,
                    summary: [s.starts_local, place, places]
                        .into_iter()
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>()
                        .join(" · "),
                    organisation_name: names.get(&s.host_organisation_id).cloned(),
                    topics: s.topics,
                    date: london_day(&s.starts_at),
                });
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(items)
    }
}

#[async_trait::async_trait]
impl DigestSection for EventsSection {
    fn key(&self) -> &'static str {
        "events"
    }
    fn heading(&self) -> &'static str {
        "Upcoming events with places"
    }
    fn nouns(&self) -> (&'static str, &'static str) {
        ("upcoming event", "upcoming events")
    }
    fn list_url(&self, web_base_url: &str) -> String {
        format!("{web_base_url}/events")
    }
    async fn items(
        &self,
        app: &App,
        member: &qnet_domain::member::Member,
        period: &qnet_domain::digest::Period,
    ) -> AppResult<Vec<DigestItem>> {
        let all = self.cache.get_or_load(period, async || self.upcoming(app).await).await?;
        Ok(all.iter().filter(|i| member.digest.wants(&i.topics)).cloned().collect())
    }
}
