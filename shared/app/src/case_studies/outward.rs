//! Sharing successes outward (issue 22): public Atom feeds of published case
//! studies (all, and per topic), and the share page whose Open Graph and
//! Twitter card metadata give a link preview in Teams, Slack and LinkedIn.
//! Their crawlers run no JavaScript and the web app is static, so the API
//! serves the metadata and sends people on to the web page.

use atom_syndication::{Category, Entry, Feed, FixedDateTime, Link, Person, Text};
use qnet_domain::case_study::Status;
use qnet_domain::topics;

use super::ListRequest;
use crate::{App, AppError, AppResult};

/// Entries in a feed: the newest published case studies.
pub const FEED_ENTRIES: u32 = 50;

fn atom_time(ts: &str) -> FixedDateTime {
    FixedDateTime::parse_from_rfc3339(ts).unwrap_or_default()
}

fn link(href: String, rel: &str, mime: Option<&str>) -> Link {
    let mut l = Link::default();
    l.set_href(href);
    l.set_rel(rel);
    l.set_mime_type(mime.map(String::from));
    l
}

impl App {
    /// The Atom feed of published case studies, newest first; only the topic's
    /// when `topic` is given (an unknown topic is not found). Pending, held or
    /// rejected work never appears: it is read from the published lists.
    pub async fn case_study_feed(&self, topic: Option<&str>) -> AppResult<String> {
        let topic_name = match topic {
            Some(t) => Some(topics::find(t).ok_or(AppError::NotFound("topic"))?.name),
            None => None,
        };
        let list = self
            .list_published(&ListRequest {
                topic: topic.map(String::from),
                organisation_id: None,
                limit: FEED_ENTRIES,
                cursor: None,
            })
            .await?;
        let web = self.web_base_url.trim_end_matches('/');
        let api = self.api_base_url.trim_end_matches('/');
        let self_url = match topic {
            Some(t) => format!("{api}/feeds/topics/{t}/case-studies.atom"),
            None => format!("{api}/feeds/case-studies.atom"),
        };
        let page_url = match topic {
            Some(t) => format!("{web}/case-studies?topic={t}"),
            None => format!("{web}/case-studies"),
        };
        let entries: Vec<Entry> = list
            .items
            .iter()
            .map(|s| {
                let url = format!("{web}/case-studies/{}", s.id);
                let published = atom_time(s.published_at.as_deref().unwrap_or_default());
                let mut e = Entry::default();
                e.set_id(url.clone());
                e.set_title(Text::plain(s.title.clone()));
                e.set_summary(Some(Text::plain(s.summary.clone())));
                e.set_published(Some(published));
                e.set_updated(published);
                e.set_links(vec![link(url, "alternate", Some("text/html"))]);
                // The organisation, never a person: feeds carry no contact details.
                let mut author = Person::default();
                author.set_name(s.organisation_name.clone().unwrap_or_else(|| "Qnet member".into()));
                e.set_authors(vec![author]);
                e.set_categories(
                    s.topics
                        .iter()
                        .map(|t| {
                            let mut c = Category::default();
                            c.set_term(t.clone());
                            c.set_label(topics::find(t).map(|t| t.name.to_string()));
                            c
                        })
                        .collect::<Vec<_>>(),
                );
                e
            })
            .collect();
        let updated = entries.first().map(|e| *e.updated()).unwrap_or_else(|| atom_time(&self.now_text()));
        let mut feed = Feed::default();
        feed.set_id(self_url.clone());
        feed.set_title(Text::plain(match topic_name {
            Some(n) => format!("Qnet case studies: {n}"),
            None => "Qnet case studies".to_string(),
        }));
        feed.set_subtitle(Some(Text::plain("Quality improvement case studies published on Qnet")));
        feed.set_updated(updated);
        feed.set_links(vec![
            link(self_url, "self", Some("application/atom+xml")),
            link(page_url, "alternate", Some("text/html")),
        ]);
        feed.set_entries(entries);
        Ok(feed.to_string())
    }

    /// The share page of a published case study: its title, summary and
    /// organisation as Open Graph and Twitter card metadata (no names, no
    /// contact details), and a link and refresh on to the web page. Anything
    /// not published is not found.
    pub async fn share_page(&self, id: &str) -> AppResult<String> {
        let cs = self.visible_case_study(None, id).await?;
        if cs.status != Status::Published || cs.hold.is_some() {
            return Err(AppError::NotFound("case study"));
        }
        let organisation = match &cs.organisation_id {
            Some(o) => self.organisation(o).await?.map(|o| o.name),
            None => None,
        };
        let web = self.web_base_url.trim_end_matches('/');
        let url = format!("{web}/case-studies/{}", cs.id);
        let description = match &organisation {
            Some(o) => format!("{} From {o}.", cs.summary.trim()),
            None => cs.summary.trim().to_string(),
        };
        let mut ctx = tera::Context::new();
        ctx.insert("title", &cs.title);
        ctx.insert("description", description.trim());
        ctx.insert("url", &url);
        ctx.insert("site", web);
        ctx.insert("organisation", &organisation);
        ctx.insert("published", &cs.published_at);
        crate::mail::render("pages/share.html.tera", &ctx).map_err(|e| AppError::Unavailable(e.to_string()))
    }
}
