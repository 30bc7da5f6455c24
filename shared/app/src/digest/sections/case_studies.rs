//! New case studies: those published in the period, newest first.

use crate::digest::sections::published_in_period;
use crate::digest::{DigestItem, DigestSection, PeriodCache};
use crate::views::CaseStudySummary;
use crate::{App, AppResult, keys};
use async_trait::async_trait;
use qnet_domain::digest::Period;
use qnet_domain::member::Member;
use std::sync::Arc;

/// Case studies published in the period, newest first, on the member's digest
/// topics (all when they chose none).
pub struct CaseStudiesSection {
    web_base_url: String,
    cache: PeriodCache,
}

impl CaseStudiesSection {
    pub fn new(web_base_url: &str) -> CaseStudiesSection {
        CaseStudiesSection { web_base_url: web_base_url.trim_end_matches('/').into(), cache: PeriodCache::default() }
    }

    pub(crate) async fn period_items(&self, app: &App, period: &Period) -> AppResult<Arc<Vec<DigestItem>>> {
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
