//! Highlights open the digest (issue 22): case studies a moderator marked as a
//! highlight during the period, for every member whatever their topics.

use crate::digest::sections::london_day;
use crate::digest::{DigestItem, DigestSection, PeriodCache};
use crate::{App, AppResult};
use async_trait::async_trait;
use qnet_domain::digest::Period;
use qnet_domain::member::Member;

pub struct HighlightsSection {
    web_base_url: String,
    cache: PeriodCache,
}

impl HighlightsSection {
    pub fn new(web_base_url: &str) -> HighlightsSection {
        HighlightsSection { web_base_url: web_base_url.trim_end_matches('/').into(), cache: PeriodCache::default() }
    }
}

#[async_trait]
impl DigestSection for HighlightsSection {
    fn key(&self) -> &'static str {
        "highlights"
    }
    fn heading(&self) -> &'static str {
        "Highlights"
    }
    fn nouns(&self) -> (&'static str, &'static str) {
        ("highlight", "highlights")
    }
    fn list_url(&self, web_base_url: &str) -> String {
        format!("{web_base_url}/")
    }
    async fn items(&self, app: &App, _member: &Member, period: &Period) -> AppResult<Vec<DigestItem>> {
        let start = qnet_domain::timestamp(period.start);
        let end = qnet_domain::timestamp(period.end);
        let items = self
            .cache
            .get_or_load(period, async || {
                Ok(app
                    .highlights_with_dates(50)
                    .await?
                    .into_iter()
                    .filter(|(_, at)| *at >= start && *at < end)
                    .map(|(s, at)| DigestItem {
                        kind: "highlight".into(),
                        url: format!("{}/case-studies/{}", self.web_base_url, s.id),
                        title: s.title,
                        summary: qnet_domain::text::excerpt(&s.summary, 180),
                        organisation_name: s.organisation_name,
                        topics: s.topics,
                        date: london_day(&at),
                    })
                    .collect())
            })
            .await?;
        Ok(items.to_vec())
    }
}
