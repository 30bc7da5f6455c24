//! "For you": the member's own lines (a welcome, a quiet project of theirs,
//! how often their work was read), from the engagement feature. A member who
//! gets a digest this week finds them here; everyone else gets them in the
//! weekly "Your week in Qnet" email instead, never both.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::digest::sections::SECTION_CACHE;
use crate::digest::{DigestItem, DigestSection};
use crate::engagement::QuietProject;
use crate::{App, AppResult};

/// One issue's quiet projects: (issue id, when read, the projects).
type QuietCache = Option<(String, Instant, Arc<Vec<QuietProject>>)>;

/// The digest's "For you" section.
pub struct PersonalSection {
    web_base_url: String,
    /// The quiet projects of one issue, read once for all its members.
    quiet: Mutex<QuietCache>,
}

impl PersonalSection {
    pub fn new(web_base_url: &str) -> PersonalSection {
        PersonalSection { web_base_url: web_base_url.trim_end_matches('/').into(), quiet: Mutex::new(None) }
    }

    async fn quiet(&self, app: &App, period: &qnet_domain::digest::Period) -> AppResult<Arc<Vec<QuietProject>>> {
        if let Some((id, at, q)) = &*self.quiet.lock().expect("lock")
            && *id == period.id
            && at.elapsed() < SECTION_CACHE
        {
            return Ok(q.clone());
        }
        let q = Arc::new(app.quiet_projects().await?);
        *self.quiet.lock().expect("lock") = Some((period.id.clone(), Instant::now(), q.clone()));
        Ok(q)
    }
}

#[async_trait::async_trait]
impl DigestSection for PersonalSection {
    fn key(&self) -> &'static str {
        "personal"
    }
    fn heading(&self) -> &'static str {
        "For you"
    }
    fn nouns(&self) -> (&'static str, &'static str) {
        ("thing for you", "things for you")
    }
    fn list_url(&self, _web_base_url: &str) -> String {
        format!("{}/settings", self.web_base_url)
    }
    async fn items(
        &self,
        app: &App,
        member: &qnet_domain::member::Member,
        period: &qnet_domain::digest::Period,
    ) -> AppResult<Vec<DigestItem>> {
        let quiet = self.quiet(app, period).await?;
        app.personal_items_with(member, period, &quiet).await
    }
    async fn delivered(
        &self,
        app: &App,
        member: &qnet_domain::member::Member,
        period: &qnet_domain::digest::Period,
        items: &[DigestItem],
    ) -> AppResult<()> {
        let quiet = self.quiet(app, period).await?;
        app.personal_items_delivered(member, period, &quiet, items).await
    }
}
