//! The application: repositories and use cases written once over the ports, used
//! by every function (the HTTP API, the attachment check, the pre-sign-up trigger)
//! and by the local runner.

// Cross-cutting: used by every feature.
pub mod auth;
pub mod config;
pub mod error;
pub mod idempotency;
pub mod jobs;
pub mod keys;
pub mod limits;
pub mod links;
pub mod listing;
pub mod logging;
pub mod mail;
pub mod moderation;
pub mod reads;
pub mod tally;
pub mod tokens;
pub mod views;

// Features: one folder each (use cases in `mod.rs`, item mapping in
// `store.rs`, answers in `views.rs`, emails in `notices.rs`).
pub mod adoptions;
pub mod boards;
pub mod case_studies;
pub mod digest;
pub mod engagement;
pub mod events;
pub mod ingest;
pub mod insights;
pub mod members;
pub mod mentoring;
pub mod portfolio;
pub mod projects;
pub mod questions;
pub mod resources;
pub mod search;
pub mod similar;
pub mod uploads;

// Erasure asks each feature to erase its part of a member.
mod erasure;

// The public paths these modules had before they moved into feature folders.
pub use events::{calendar, calendar_feeds, reminders};
pub use members::{directory, organisations, roles, suppression};
pub use mentoring::coffee;

use std::sync::Arc;

pub use auth::{Claims, LocalTokens, TokenError};
pub use error::{AppError, AppResult};
use qnet_ports::{BlobStore, Clock, Cursor, Item, JobQueue, MailSender, Query, RecordStore};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Where links to the web app point when no front end is configured: `qnet
/// serve`'s web listener (`--web-addr`).
pub const DEFAULT_WEB_BASE_URL: &str = "http://127.0.0.1:8081";
/// Where links to the API's own pages point by default: `qnet serve`.
pub const DEFAULT_API_BASE_URL: &str = "http://127.0.0.1:8080";

/// Everything a use case needs, built once at start-up (Lambda init or `qnet
/// serve`) and shared by reference.
#[derive(Clone)]
pub struct App {
    pub records: Arc<dyn RecordStore>,
    pub blobs: Arc<dyn BlobStore>,
    /// The one clock: the store and blob store judge expiry by it too. Private
    /// so that it only changes through [`App::with_clock`], which moves theirs.
    clock: Arc<dyn Clock>,
    /// The web front end that emails and previews link to.
    pub web_base_url: Arc<str>,
    /// The public API, which serves the pages that links in emails open.
    pub api_base_url: Arc<str>,
    /// Outbound mail for emails a request sends (SES; the outbox locally).
    /// Every send goes through [`App::deliver`], which checks suppression.
    pub mailer: Arc<dyn MailSender>,
    /// The address system emails come from (`QNET_MAIL_FROM`).
    pub mail_from: Arc<str>,
    /// Signs the one-off links in emails.
    pub links: Arc<links::LinkSigner>,
    /// Where board follower-email jobs go ([`boards::BoardJob`]): SQS in AWS,
    /// [`jobs::LocalJobs`] locally; by default nowhere ([`jobs::NoQueue`]).
    pub board_queue: Arc<dyn JobQueue>,
    /// The full-text index, where this process has one (`qnet serve`).
    pub search: Option<Arc<dyn search::TextSearch>>,
    /// Mentor matching's weights and how long offers stay open.
    pub mentoring: Arc<mentoring::MentoringSettings>,
    orgs: Arc<organisations::Directory>,
    grants: Arc<roles::GrantCache>,
    /// The published lists' pages as JSON, while the store has not changed.
    list_pages: Arc<case_studies::page_cache::PageCache>,
}

impl App {
    /// The app on `records` and `blobs`, all three judging time by `clock`.
    pub fn new(records: Arc<dyn RecordStore>, blobs: Arc<dyn BlobStore>, clock: Arc<dyn Clock>) -> App {
        App {
            records: records.at_clock(clock.clone()),
            blobs: blobs.at_clock(clock.clone()),
            clock,
            web_base_url: Arc::from(DEFAULT_WEB_BASE_URL),
            api_base_url: Arc::from(DEFAULT_API_BASE_URL),
            mailer: Arc::new(NoMail),
            mail_from: Arc::from("qnet@qnet.localhost"),
            links: Arc::new(links::LinkSigner::ephemeral()),
            board_queue: Arc::new(jobs::NoQueue),
            search: None,
            mentoring: Arc::new(mentoring::MentoringSettings::default()),
            orgs: Arc::new(organisations::Directory::default()),
            grants: Arc::new(roles::GrantCache::default()),
            list_pages: Arc::new(case_studies::page_cache::PageCache::default()),
        }
    }

    /// The same app (store, mailer, keys) at another clock: its store and blob
    /// store move with it, so nothing judges expiry by a different "now".
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> App {
        self.records = self.records.at_clock(clock.clone());
        self.blobs = self.blobs.at_clock(clock.clone());
        self.clock = clock;
        self
    }

    /// The same app stopped at `now` (a scheduled run, `qnet … --now`, tests).
    pub fn at(&self, now: time::OffsetDateTime) -> App {
        self.clone().with_clock(Arc::new(qnet_ports::FixedClock(now)))
    }

    /// The app's clock (the one every part of it reads).
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Links in emails to pages the API serves start here.
    pub fn with_api_base_url(mut self, url: &str) -> App {
        self.api_base_url = Arc::from(url.trim_end_matches('/'));
        self
    }

    /// Emails this app sends go through `mailer`, from `from`.
    pub fn with_mailer(mut self, mailer: Arc<dyn MailSender>, from: &str) -> App {
        self.mailer = mailer;
        self.mail_from = Arc::from(from);
        self
    }

    /// One-off links are signed with this key (32 bytes or more).
    pub fn with_link_key(mut self, key: &[u8]) -> App {
        self.links = Arc::new(links::LinkSigner::new(key));
        self
    }

    /// Board follower-email jobs go to `queue`.
    pub fn with_board_queue(mut self, queue: Arc<dyn JobQueue>) -> App {
        self.board_queue = queue;
        self
    }

    /// One-off links are signed by `signer` (a deferred key: [`links::LinkSigner::deferred`]).
    pub fn with_link_signer(mut self, signer: links::LinkSigner) -> App {
        self.links = Arc::new(signer);
        self
    }

    /// Mentor matching uses these weights and offer days.
    pub fn with_mentoring(mut self, settings: mentoring::MentoringSettings) -> App {
        self.mentoring = Arc::new(settings);
        self
    }

    /// Links in emails and previews point at this web front end.
    pub fn with_web_base_url(mut self, url: &str) -> App {
        self.web_base_url = Arc::from(url.trim_end_matches('/'));
        self
    }

    pub(crate) fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    pub(crate) fn now_text(&self) -> String {
        qnet_domain::timestamp(self.clock.now())
    }

    pub(crate) fn new_id(&self) -> String {
        ulid::Ulid::generate().to_string()
    }

    /// One page of a list kept in one key range: up to `limit` items after the
    /// client's cursor, and the cursor to the next page. Both stores refuse a
    /// cursor from another partition or key range ([`AppError::BadCursor`]),
    /// so a cursor from another list can neither restart nor page this one.
    pub(crate) async fn list_page(&self, query: Query, page: &PageRequest) -> AppResult<(Vec<Item>, Option<String>)> {
        let cursor = page.cursor()?;
        let limit = listing::page_limit(page.limit)?;
        let found = self.records.query(query.limit(limit).after(cursor)).await?;
        Ok((found.items, found.next.map(|c| c.encode())))
    }

    pub(crate) async fn get_record<T: DeserializeOwned>(&self, key: (String, String)) -> AppResult<Option<(T, Item)>> {
        match self.records.get(&key.0, &key.1).await? {
            Some(item) => Ok(Some((decode(&item)?, item))),
            None => Ok(None),
        }
    }
}

/// The page of a list a client asked for: at most `limit` items after `cursor`
/// (a `next_cursor` of the same list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub cursor: Option<String>,
}

impl PageRequest {
    /// The store position the cursor names; anything else is a bad cursor.
    pub(crate) fn cursor(&self) -> AppResult<Option<Cursor>> {
        listing::parse_cursor(self.cursor.as_deref(), None)
    }
}

/// Decodes a stored record; a record that no longer decodes is a server fault.
pub(crate) fn decode<T: DeserializeOwned>(item: &Item) -> AppResult<T> {
    T::deserialize(&item.data).map_err(|e| AppError::Unavailable(format!("stored record {} does not decode: {e}", item.pk)))
}

/// Decodes a stored record's JSON text (a [`qnet_ports::RawPage`] item) straight
/// into its type; one that no longer decodes is a server fault.
pub(crate) fn decode_raw<T: DeserializeOwned>(text: &str) -> AppResult<T> {
    serde_json::from_str(text).map_err(|e| AppError::Unavailable(format!("a stored list entry does not decode: {e}")))
}

pub(crate) fn encode<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("records serialise")
}

/// The blob store of a function that is given no bucket (least privilege): every
/// call fails as unavailable, so a wrong use shows at once rather than reaching
/// for a bucket the function may not touch.
pub struct NoBlobs;

#[async_trait::async_trait]
impl BlobStore for NoBlobs {
    async fn put(&self, _: &str, _: Vec<u8>, _: &str) -> Result<(), qnet_ports::BlobError> {
        Err(no_bucket())
    }
    async fn get(&self, _: &str) -> Result<Vec<u8>, qnet_ports::BlobError> {
        Err(no_bucket())
    }
    async fn head(&self, _: &str) -> Result<Option<qnet_ports::BlobMeta>, qnet_ports::BlobError> {
        Err(no_bucket())
    }
    async fn copy(&self, _: &str, _: &str) -> Result<(), qnet_ports::BlobError> {
        Err(no_bucket())
    }
    async fn delete(&self, _: &str) -> Result<(), qnet_ports::BlobError> {
        Err(no_bucket())
    }
    async fn presign_put(&self, _: &qnet_ports::UploadSpec) -> Result<qnet_ports::PresignedUrl, qnet_ports::BlobError> {
        Err(no_bucket())
    }
    async fn presign_get(
        &self,
        _: &str,
        _: &str,
        _: std::time::Duration,
    ) -> Result<qnet_ports::PresignedUrl, qnet_ports::BlobError> {
        Err(no_bucket())
    }
    fn at_clock(&self, _: Arc<dyn Clock>) -> Arc<dyn BlobStore> {
        Arc::new(NoBlobs)
    }
}

/// The mailer of a function that sends no email: every send fails as
/// unavailable, so a wrong use shows at once.
pub struct NoMail;

#[async_trait::async_trait]
impl MailSender for NoMail {
    async fn send(&self, _: &qnet_ports::OutgoingMail) -> Result<String, qnet_ports::MailError> {
        Err(qnet_ports::MailError::Unavailable("this function sends no email".into()))
    }
}

fn no_bucket() -> qnet_ports::BlobError {
    qnet_ports::BlobError::Unavailable("this function has no bucket".into())
}
