//! Ports: the small traits the application needs from the world.
//!
//! The record store is modelled on DynamoDB's single-table design (partition key,
//! sort key, two global secondary indexes, a TTL attribute) because that is the
//! production store; the embedded adapter reproduces the same semantics on SQLite.
//! Repositories in `qnet-app` are written once over these traits.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

mod cursor;
mod search;
pub use cursor::{Cursor, CursorError};
pub use search::{IndexDocument, IndexQuery, MAX_SEARCH_OFFSET, SearchOffset, SimilarWorkQuery, TextSearch};

/// One stored item. `data` is the record's JSON document; the key attributes are
/// kept apart so that adapters can index them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub pk: String,
    pub sk: String,
    /// First global secondary index key (sparse: absent means "not in the index").
    pub gsi1: Option<IndexKey>,
    /// Second global secondary index key (sparse).
    pub gsi2: Option<IndexKey>,
    /// Optimistic concurrency counter, starts at 1.
    pub version: u64,
    /// Unix seconds after which the item counts as gone (DynamoDB TTL).
    pub expires_at: Option<i64>,
    pub data: serde_json::Value,
}

impl Item {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>, data: serde_json::Value) -> Self {
        Item { pk: pk.into(), sk: sk.into(), gsi1: None, gsi2: None, version: 1, expires_at: None, data }
    }
    pub fn with_gsi1(mut self, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        self.gsi1 = Some(IndexKey { pk: pk.into(), sk: sk.into() });
        self
    }
    pub fn with_gsi2(mut self, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        self.gsi2 = Some(IndexKey { pk: pk.into(), sk: sk.into() });
        self
    }
    pub fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }
    pub fn expiring_at(mut self, unix_seconds: i64) -> Self {
        self.expires_at = Some(unix_seconds);
        self
    }
    /// True when the item's TTL has passed at `now` (unix seconds).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexKey {
    pub pk: String,
    pub sk: String,
}

/// Which key a query runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Index {
    Primary,
    Gsi1,
    Gsi2,
}

/// Condition attached to a write; a write whose condition fails changes nothing
/// and returns [`StoreError::ConditionFailed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Write unconditionally.
    None,
    /// The key must not hold a live (unexpired) item.
    NotExists,
    /// The key must hold a live item whose version is exactly this.
    VersionIs(u64),
    /// The key must hold a live item (any version).
    Exists,
}

/// One write in a transaction.
#[derive(Debug, Clone)]
pub enum Write {
    Put {
        item: Item,
        condition: Condition,
    },
    Delete {
        pk: String,
        sk: String,
        condition: Condition,
    },
    /// Check a condition on an item without writing it.
    Check {
        pk: String,
        sk: String,
        condition: Condition,
    },
    /// Atomically adds `by` (negative to subtract) to the whole number
    /// `data.<field>` of an existing, live item; an absent field counts as 0.
    /// Nothing else changes (not `version`, so an `If-Match` on the item stays
    /// valid: keep counters that move often on an item of their own, or accept
    /// that a version-checked put of the whole item overwrites them).
    ///
    /// The write fails its condition, like any other (a lone write answers
    /// [`StoreError::TransactionConflict`] naming it), when the item is absent or
    /// when the result would leave `at_least..=at_most`. That is what makes a
    /// counter safe under concurrency without read-modify-write retries: places
    /// taken (`by: 1, at_most: Some(capacity)`), places freed (`by: -1,
    /// at_least: Some(0)`), or an unbounded tally such as a download count.
    /// DynamoDB runs it as an `Update` with `SET data.f = data.f + :by` and a
    /// condition (IAM `dynamodb:UpdateItem`).
    Increment {
        pk: String,
        sk: String,
        field: String,
        by: i64,
        at_least: Option<i64>,
        at_most: Option<i64>,
    },
    /// Adds each `(field, by)` to a tally item, creating it (version 1, every
    /// field 0) when absent: the running counts the insights read, kept in the
    /// same transaction as the change they count. No condition; a tally never
    /// fails. The item reads back with `data` = an object of whole numbers
    /// (fields never added are absent). DynamoDB runs it as an `Update` with
    /// `ADD` on top-level number attributes `t:<field>` (IAM `dynamodb:UpdateItem`).
    /// A field name is at most 200 bytes; at most 50 fields per write.
    Tally {
        pk: String,
        sk: String,
        adds: Vec<(String, i64)>,
    },
}

/// The most fields one [`Write::Tally`] may add to.
pub const MAX_TALLY_FIELDS: usize = 50;

/// The limits of a [`Write::Tally`], the same in both adapters.
pub fn check_tally(adds: &[(String, i64)]) -> Result<(), StoreError> {
    if adds.len() > MAX_TALLY_FIELDS {
        return Err(StoreError::Unavailable(format!("a tally adds to at most {} fields, got {}", MAX_TALLY_FIELDS, adds.len())));
    }
    if adds.iter().any(|(f, _)| f.is_empty() || f.len() > 200) {
        return Err(StoreError::Unavailable("a tally field name is 1 to 200 bytes".into()));
    }
    Ok(())
}

impl Write {
    /// An increment of `data.<field>` by `by` with no bounds.
    pub fn increment(pk: impl Into<String>, sk: impl Into<String>, field: impl Into<String>, by: i64) -> Write {
        Write::Increment { pk: pk.into(), sk: sk.into(), field: field.into(), by, at_least: None, at_most: None }
    }

    /// The item this write touches.
    pub fn key(&self) -> (&str, &str) {
        match self {
            Write::Put { item, .. } => (&item.pk, &item.sk),
            Write::Delete { pk, sk, .. }
            | Write::Check { pk, sk, .. }
            | Write::Increment { pk, sk, .. }
            | Write::Tally { pk, sk, .. } => (pk, sk),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Query {
    pub index: Index,
    /// Partition key value on the chosen index.
    pub pk: String,
    /// Only sort keys starting with this prefix.
    pub sk_prefix: Option<String>,
    /// Ascending sort key order when true.
    pub ascending: bool,
    pub limit: u32,
    pub cursor: Option<Cursor>,
}

impl Query {
    pub fn new(index: Index, pk: impl Into<String>) -> Self {
        Query { index, pk: pk.into(), sk_prefix: None, ascending: true, limit: 100, cursor: None }
    }
    pub fn prefix(mut self, p: impl Into<String>) -> Self {
        self.sk_prefix = Some(p.into());
        self
    }
    pub fn descending(mut self) -> Self {
        self.ascending = false;
        self
    }
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = n;
        self
    }
    pub fn after(mut self, c: Option<Cursor>) -> Self {
        self.cursor = c;
        self
    }
}

#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when more items may follow.
    pub next: Option<Cursor>,
}

/// A page of a query with each item's data as its JSON text: for reads that
/// go straight into a view type (the published lists), with no
/// `serde_json::Value` built and dropped on the way.
#[derive(Debug, Clone)]
pub struct RawPage {
    pub items: Vec<String>,
    /// Present when more items may follow.
    pub next: Option<Cursor>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a condition on the write did not hold")]
    ConditionFailed,
    /// A transaction was cancelled; `index` names the first failing write when known.
    #[error("transaction cancelled (write {index:?} failed its condition)")]
    TransactionConflict { index: Option<usize> },
    #[error("cursor does not belong to this list")]
    BadCursor,
    #[error("item too large for the store")]
    TooLarge,
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// Both a failed single condition and a cancelled transaction mean "someone else
    /// got there first": callers usually treat them the same.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::ConditionFailed | StoreError::TransactionConflict { .. })
    }
}

/// The record store (DynamoDB in AWS, SQLite in the embedded runner).
///
/// Semantics every adapter must honour (checked by the shared behaviour suite):
/// - reads never return items whose `expires_at` has passed;
/// - a write whose condition fails changes nothing;
/// - a transaction applies all its writes or none (max 100 writes);
/// - a query returns at most `limit` items in sort key order (ties broken by the
///   primary key), and `next` resumes exactly after the last item returned.
#[async_trait]
pub trait RecordStore: Send + Sync + 'static {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError>;
    /// Several items by key, answered in the order asked (`None` for an absent
    /// key): a search answer's records in one go. An adapter may read them in
    /// one round trip; this default reads them one after another.
    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Option<Item>>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for (pk, sk) in keys {
            out.push(self.get(pk, sk).await?);
        }
        Ok(out)
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError>;
    async fn delete(&self, pk: &str, sk: &str, condition: Condition) -> Result<(), StoreError>;
    async fn query(&self, query: Query) -> Result<Page, StoreError>;
    /// [`RecordStore::query`] with each item's data as JSON text. The embedded
    /// store hands over the text it keeps; this default writes each item's data
    /// out (a DynamoDB item arrives as attributes, not text, either way).
    async fn query_raw(&self, query: Query) -> Result<RawPage, StoreError> {
        let page = self.query(query).await?;
        Ok(RawPage { items: page.items.iter().map(|i| i.data.to_string()).collect(), next: page.next })
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;
    /// A mark that differs whenever anything in the store may have changed
    /// since it was last asked (a commit by this process or any other), so a
    /// cache of what was read can tell when it has gone stale. `None` when the
    /// store cannot tell cheaply (DynamoDB): then nothing read is cached.
    async fn change_mark(&self) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }
    /// The same store (same data, shared connections) judging expiry by `clock`.
    /// `App` binds its store to its own clock through this, so the app and its
    /// store can never disagree about what "now" is.
    fn at_clock(&self, clock: Arc<dyn Clock>) -> Arc<dyn RecordStore>;
}

/// A URL that lets a client move bytes directly to or from the blob store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresignedUrl {
    pub url: String,
    pub method: String,
    /// Headers the client must send exactly as given (they are signed).
    pub headers: Vec<(String, String)>,
    /// Unix seconds.
    pub expires_at: i64,
}

/// What an upload must be: the store refuses other bytes.
#[derive(Debug, Clone)]
pub struct UploadSpec {
    pub key: String,
    pub content_type: String,
    pub size: u64,
    /// SHA-256 of the bytes, base64 (the form S3's `x-amz-checksum-sha256` takes).
    pub sha256_base64: String,
    pub expires_in: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    pub size: u64,
    pub content_type: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("no such blob")]
    NotFound,
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
}

/// The blob store (S3 in AWS, files under the data directory in the embedded runner).
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError>;
    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError>;
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError>;
    async fn copy(&self, from: &str, to: &str) -> Result<(), BlobError>;
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    async fn presign_put(&self, spec: &UploadSpec) -> Result<PresignedUrl, BlobError>;
    /// A short-lived download URL; `filename` sets the download's file name.
    async fn presign_get(&self, key: &str, filename: &str, expires_in: Duration) -> Result<PresignedUrl, BlobError>;
    /// The same store judging the expiry of its own signed URLs by `clock` (an
    /// adapter whose URLs another service checks, S3, keeps the real time).
    fn at_clock(&self, clock: Arc<dyn Clock>) -> Arc<dyn BlobStore>;
}

/// The clock, so tests can move time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> time::OffsetDateTime;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> time::OffsetDateTime {
        // The one read of the real time that every other part asks through.
        time::OffsetDateTime::now_utc()
    }
}

/// A clock stopped at one moment: a scheduled run's `now`, `qnet … --now`, tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub time::OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> time::OffsetDateTime {
        self.0
    }
}

/// An email ready to send: the whole MIME message, built by the application (so
/// headers such as `In-Reply-To`, `Auto-Submitted` and `List-Unsubscribe` are
/// under our control), and its envelope.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    pub from: String,
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

/// Why a message was not sent. The text each kind carries is the mail
/// service's own, which can quote addresses, so it is not part of `Display`:
/// logs and problem answers get the kind only; code that keeps the reason for
/// an operator (a refused digest's claim) matches on the variant.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the mail service refused the message")]
    Refused(String),
    #[error("the mail service is unavailable")]
    Unavailable(String),
    /// Over the sending rate or quota: try again later.
    #[error("the mail service is throttling")]
    Throttled(String),
}

/// Outbound mail (SES v2 in AWS; an outbox folder of `.eml` files locally).
#[async_trait]
pub trait MailSender: Send + Sync + 'static {
    /// Sends the message; answers the provider's message id.
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError>;
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("the queue is unavailable: {0}")]
    Unavailable(String),
}

/// A work queue (SQS in AWS; in-process locally): each body is one message, and
/// a consumer reports which failed so only those come back.
#[async_trait]
pub trait JobQueue: Send + Sync + 'static {
    /// Enqueues every body, or fails; a retry after a failure may enqueue some
    /// bodies twice, so consumers are idempotent.
    async fn enqueue(&self, bodies: Vec<String>) -> Result<(), QueueError>;
}
