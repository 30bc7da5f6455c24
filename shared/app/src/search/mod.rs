//! `GET /search`: full-text search over what is published. The index (a
//! [`TextSearch`], tantivy in `qnet-search`) answers ids in relevance order;
//! each is then re-read and kept only if it is still published, and its title
//! and highlights come from the current record, so a stale index never shows
//! anything withdrawn or edited out. Locally the index lives under the data
//! directory and is updated as case studies and resources change
//! ([`App::index_case_study`], [`App::index_resource`]).

use std::sync::Arc;

mod index;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use index::{case_study_document, event_document, project_document, resource_document};
use qnet_domain::case_study::{CaseStudy, Status};
use qnet_domain::event::{Event, EventStatus};
use qnet_domain::resource::Resource;
use qnet_ports::Item;
pub use qnet_ports::{IndexDocument, IndexQuery, MAX_SEARCH_OFFSET, SearchOffset, TextSearch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{App, AppError, AppResult, decode, keys};

/// One answer of `GET /search`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchItem {
    pub id: String,
    /// `case_study`, `resource` or `event`.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: String,
    pub title: String,
    /// Snippets of the current title and text, HTML-escaped, each matching word
    /// in `<mark>…</mark>`.
    pub highlights: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResults {
    pub items: Vec<SearchItem>,
    pub next_cursor: Option<String>,
}

/// Where the next page of one search starts. `search` names the search it
/// belongs to (a digest of its words and filters), so a cursor from another
/// search or another list is refused rather than paging something else.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchCursor {
    offset: u64,
    search: String,
}

/// A short digest of what was searched for, to bind a cursor to its search.
fn search_fingerprint(text: &str, kind: Option<&str>, topic: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [text, kind.unwrap_or(""), topic.unwrap_or("")] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..8])
}

/// A cursor as a client sent it: an offset within bounds, for this search.
fn decode_search_cursor(text: &str, fingerprint: &str) -> AppResult<SearchOffset> {
    if text.len() > 256 {
        return Err(AppError::BadCursor);
    }
    let bytes = B64.decode(text).map_err(|_| AppError::BadCursor)?;
    let c = serde_json::from_slice::<SearchCursor>(&bytes).map_err(|_| AppError::BadCursor)?;
    if c.search != fingerprint {
        return Err(AppError::BadCursor);
    }
    usize::try_from(c.offset).ok().and_then(SearchOffset::new).ok_or(AppError::BadCursor)
}

pub const SEARCH_KINDS: &[&str] = &["case_study", "resource", "event"];

/// A record that may be shown in search answers.
struct Searchable {
    /// Title and text, for the highlights.
    text: String,
    document: IndexDocument,
}

/// Where the record behind a hit of this kind lives.
fn search_key(kind: &str, id: &str) -> Option<(String, String)> {
    match kind {
        "case_study" => Some(keys::case_study(id)),
        "resource" => Some(keys::resource(id)),
        "event" => Some(keys::event(id)),
        _ => None,
    }
}

/// [`App::searchable`] from the record's stored item.
fn searchable_item(kind: &str, item: &Item, now: time::OffsetDateTime) -> AppResult<Option<Searchable>> {
    Ok(match kind {
        "case_study" => {
            Some(decode::<CaseStudy>(item)?).filter(|cs| cs.status == Status::Published && cs.hold.is_none()).map(|cs| {
                Searchable { text: format!("{}\n{}\n{}", cs.title, cs.summary, cs.body), document: case_study_document(&cs) }
            })
        }
        "resource" => Some(decode::<Resource>(item)?)
            .filter(|r| r.status == Status::Published && r.hold.is_none())
            .map(|r| Searchable { text: format!("{}\n{}", r.title, r.description), document: resource_document(&r) }),
        // Events are found while they are scheduled and not over.
        "event" => {
            Some(decode::<Event>(item)?).filter(|e| e.status == EventStatus::Scheduled && e.ends() > now).map(|e| Searchable {
                text: format!("{}\n{}\n{}", e.title, e.description, e.what_you_will_see.as_deref().unwrap_or_default()),
                document: event_document(&e),
            })
        }
        _ => None,
    })
}

impl App {
    /// Uses this index for `GET /search` and keeps it up to date.
    pub fn with_search(mut self, index: Arc<dyn TextSearch>) -> App {
        self.search = Some(index);
        self
    }

    /// Adds every published case study, resource and scheduled event, and
    /// every project, to the index (a fresh index, or one from
    /// before a change it missed). Adding only, never clearing, so it is safe
    /// beside concurrent changes: an entry for something since withdrawn is
    /// dropped by the re-check at search time.
    pub async fn rebuild_search_index(&self) -> AppResult<usize> {
        let Some(index) = &self.search else { return Ok(0) };
        let mut docs = Vec::new();
        for (kind, list) in [
            ("case_study", keys::published_list(None, None)),
            ("resource", keys::resource_list(None, None, None)),
            ("event", keys::event_list(None)),
        ] {
            let mut cursor = None;
            loop {
                let page = self
                    .records
                    .query(qnet_ports::Query::new(qnet_ports::Index::Primary, list.clone()).limit(100).after(cursor))
                    .await?;
                for item in &page.items {
                    if let Some(id) = item.data.get("id").and_then(|v| v.as_str())
                        && let Some(current) = self.searchable(kind, id).await?
                    {
                        docs.push(current.document);
                    }
                }
                match page.next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        // Every project (members find them through similar work).
        let mut cursor = None;
        loop {
            let page = self
                .records
                .query(qnet_ports::Query::new(qnet_ports::Index::Primary, keys::project_list(None)).limit(100).after(cursor))
                .await?;
            for item in &page.items {
                if let Some(id) = item.data.get("id").and_then(|v| v.as_str())
                    && let Some((p, _)) = self.get_record::<qnet_domain::project::Project>(keys::project(id)).await?
                {
                    docs.push(project_document(&p));
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        index.upsert(&docs).map_err(AppError::Unavailable)?;
        Ok(docs.len())
    }

    /// The current, published and unheld record behind a search hit, as the
    /// index takes it and as highlights read it; `None` when it may not be shown.
    async fn searchable(&self, kind: &str, id: &str) -> AppResult<Option<Searchable>> {
        let Some((pk, sk)) = search_key(kind, id) else { return Ok(None) };
        match self.records.get(&pk, &sk).await? {
            Some(item) => searchable_item(kind, &item, self.now()),
            None => Ok(None),
        }
    }

    /// `GET /search`.
    pub async fn search(
        &self,
        text: &str,
        kind: Option<&str>,
        topic: Option<&str>,
        cursor: Option<&str>,
        limit: u32,
    ) -> AppResult<SearchResults> {
        let mut errors = qnet_domain::FieldErrors::new();
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 200 {
            errors.push("q", "must be 1 to 200 characters");
        }
        if let Some(k) = kind
            && !SEARCH_KINDS.contains(&k)
        {
            errors.push("type", "must be one of case_study, resource, event");
        }
        if let Some(t) = topic
            && !qnet_domain::topics::is_known(t)
        {
            errors.push("topic", "is not a known topic (see GET /topics)");
        }
        if !(1..=50).contains(&limit) {
            errors.push("limit", "must be from 1 to 50");
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let fingerprint = search_fingerprint(text, kind, topic);
        let offset = match cursor {
            None => SearchOffset::default(),
            Some(c) => decode_search_cursor(c, &fingerprint)?,
        };
        let Some(index) = &self.search else {
            return Err(AppError::Unavailable("search is not available in this deployment yet".into()));
        };
        let q = IndexQuery {
            text: text.to_string(),
            kind: kind.map(String::from),
            // Projects are in the index for members' similar work; the public
            // search never answers them.
            exclude_kinds: vec!["project".into()],
            topic: topic.map(String::from),
            offset,
            limit: limit as usize,
        };
        let (hits, total) = index.search(&q).map_err(AppError::Unavailable)?;
        // Re-checked against the current records, read together in one go:
        // nothing withdrawn, held or edited out surfaces from a stale index.
        let wanted: Vec<(usize, (String, String))> =
            hits.iter().enumerate().filter_map(|(i, (id, kind))| search_key(kind, id).map(|k| (i, k))).collect();
        let keys: Vec<(String, String)> = wanted.iter().map(|(_, k)| k.clone()).collect();
        let records = self.records.get_many(&keys).await?;
        let mut shown = Vec::with_capacity(records.len());
        let now = self.now();
        for ((i, _), item) in wanted.iter().zip(records) {
            if let Some(item) = item
                && let Some(current) = searchable_item(&hits[*i].1, &item, now)?
            {
                shown.push((*i, current));
            }
        }
        // Title first, then the text: one pass over each current record, the
        // query read once for all of them.
        let texts: Vec<&str> = shown.iter().map(|(_, c)| c.text.as_str()).collect();
        let highlights = index.highlight_all(&texts, text);
        let items = shown
            .into_iter()
            .zip(highlights)
            .map(|((i, current), highlights)| SearchItem {
                id: hits[i].0.clone(),
                kind: hits[i].1.clone(),
                title: current.document.title,
                highlights,
            })
            .collect();
        // No cursor past the ceiling: the last page is the one that reaches it.
        let next = offset.get() + hits.len();
        let next_cursor = (next < total && !hits.is_empty() && next <= MAX_SEARCH_OFFSET).then(|| {
            B64.encode(serde_json::to_vec(&SearchCursor { offset: next as u64, search: fingerprint }).expect("cursors serialise"))
        });
        Ok(SearchResults { items, next_cursor })
    }
}
