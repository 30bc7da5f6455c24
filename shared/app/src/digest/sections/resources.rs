//! New resources: those published in the period, newest first.

use crate::digest::sections::published_in_period;
use crate::digest::{DigestItem, DigestSection, PeriodCache};
use crate::resources::ResourceSummary;
use crate::{App, AppResult, keys};
use qnet_domain::text::excerpt;

/// The digest's "New resources" section: resources published in the period,
/// newest first, on the member's digest topics (all when they chose none).
pub struct ResourcesSection {
    web_base_url: String,
    cache: PeriodCache,
}

impl ResourcesSection {
    pub fn new(web_base_url: &str) -> ResourcesSection {
        ResourcesSection { web_base_url: web_base_url.trim_end_matches('/').into(), cache: Default::default() }
    }
}

#[async_trait::async_trait]
impl DigestSection for ResourcesSection {
    fn key(&self) -> &'static str {
        "resources"
    }
    fn heading(&self) -> &'static str {
        "New resources"
    }
    fn nouns(&self) -> (&'static str, &'static str) {
        ("new resource", "new resources")
    }
    fn list_url(&self, web_base_url: &str) -> String {
        format!("{web_base_url}/resources")
    }
    async fn items(
        &self,
        app: &App,
        member: &qnet_domain::member::Member,
        period: &qnet_domain::digest::Period,
    ) -> AppResult<Vec<DigestItem>> {
        let all = self
            .cache
            .get_or_load(period, async || {
                let names = app.organisation_names().await?;
                let list = keys::resource_list(None, None, None);
                let published = published_in_period(app, list, period, |s: &ResourceSummary| s.published_at.as_deref()).await?;
                Ok(published
                    .into_iter()
                    .map(|(s, date)| DigestItem {
                        kind: "resource".into(),
                        url: format!("{}/resources/{}", self.web_base_url, s.id),
                        title: format!("{} ({})", s.title, s.kind.as_str()),
                        summary: excerpt(&s.summary, 180),
                        organisation_name: names.get(&s.organisation_id).cloned(),
                        topics: s.topics,
                        date,
                    })
                    .collect())
            })
            .await?;
        Ok(all.iter().filter(|i| member.digest.wants(&i.topics)).cloned().collect())
    }
}
