//! The record store on SQLite: one table with the DynamoDB key layout.
//!
//! Why this shape: the app is written against DynamoDB single-table semantics, so
//! the table keeps the same keys (`pk`, `sk`, two sparse secondary indexes) and
//! every list query is a range scan on one SQLite index with `LIMIT`, as a
//! DynamoDB `Query` is. A second process (`qnet token`) may write while
//! `qnet serve` runs, hence WAL, a busy timeout and `BEGIN IMMEDIATE` for every
//! conditional write (the condition is checked and the write done under the
//! database's write lock, never a process-local one alone).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use qnet_ports::{
    Clock, Condition, Cursor, Index, IndexKey, Item, Page, Query, RawPage, RecordStore, StoreError, SystemClock, Write,
};
use rusqlite::config::DbConfig;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::commit::Committer;

/// Reader connections: reads run in parallel up to this many (and as many as
/// the runtime has worker threads, since each runs on its caller's thread).
const READERS: usize = 4;
/// How much of the database file each reader maps (SQLite's `mmap_size`); the
/// rest, if the file grows past it, is read as before.
const READER_MMAP_BYTES: u64 = 1 << 30;
/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// DynamoDB's TransactWriteItems limit, enforced here so local code cannot exceed it.
const MAX_TRANSACTION_WRITES: usize = 100;
/// DynamoDB's item size limit (400 KB). Measured here on the JSON text plus keys,
/// which is close to DynamoDB's own accounting for the documents we store.
const MAX_ITEM_BYTES: usize = 400 * 1024;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk         TEXT NOT NULL,
    sk         TEXT NOT NULL,
    gsi1pk     TEXT,
    gsi1sk     TEXT,
    gsi2pk     TEXT,
    gsi2sk     TEXT,
    version    INTEGER NOT NULL,
    expires_at INTEGER,
    data       TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
);
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2 ON items (gsi2pk, gsi2sk, pk, sk) WHERE gsi2pk IS NOT NULL;
";

const COLUMNS: &str = "pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, version, expires_at, data";

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create the data directory {path}: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot open the database {path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error("cannot start the writer of {path}: {source}")]
    Writer { path: PathBuf, source: std::io::Error },
}

/// SQLite-backed [`RecordStore`] at `<data_dir>/qnet.sqlite3`.
#[derive(Clone)]
pub struct EmbeddedRecordStore {
    db: Arc<Db>,
    clock: Arc<dyn Clock>,
}

struct Db {
    /// One writer: SQLite allows one write transaction at a time anyway. Its
    /// thread commits every write waiting for it together (group commit).
    writer: Committer,
    readers: ReaderPool,
    read_permits: tokio::sync::Semaphore,
    /// A read-only connection that never reads a row: its `PRAGMA
    /// data_version` moves with every commit by any other connection (the
    /// writer, or another process such as `qnet token`), which makes it the
    /// store's change mark.
    watch: Mutex<Connection>,
}

impl EmbeddedRecordStore {
    /// Opens (creating if needed) the database in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, OpenError> {
        std::fs::create_dir_all(data_dir).map_err(|source| OpenError::CreateDir { path: data_dir.to_owned(), source })?;
        let path = data_dir.join("qnet.sqlite3");
        let sqlite = |source| OpenError::Sqlite { path: path.clone(), source };

        let writer = Connection::open(&path).map_err(sqlite)?;
        writer.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
        // journal_mode answers with a row, so it is read rather than executed.
        let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(sqlite)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, "SQLite refused WAL mode; readers will block on writers");
        }
        writer.execute_batch("PRAGMA synchronous = FULL;").map_err(sqlite)?;
        // Without the query planner stability guarantee this SQLite re-prepares a
        // cached statement each time a parameter is bound (13-15% of read CPU).
        writer.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(sqlite)?;
        writer.execute_batch(SCHEMA).map_err(sqlite)?;

        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let conn = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(sqlite)?;
            conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
            conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(sqlite)?;
            // Pages are read from the mapped file rather than copied by a read()
            // each (a list's rows came through the kernel's page copy).
            conn.execute_batch(&format!("PRAGMA mmap_size = {READER_MMAP_BYTES};")).map_err(sqlite)?;
            readers.push(conn);
        }

        let watch = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(sqlite)?;
        // Briefly: a mark that cannot be read just now only means a page is read
        // rather than taken from the cache.
        watch.busy_timeout(Duration::from_millis(100)).map_err(sqlite)?;

        let writer = Committer::start(writer).map_err(|e| OpenError::Writer { path: path.clone(), source: e })?;
        Ok(EmbeddedRecordStore {
            db: Arc::new(Db {
                writer,
                readers: ReaderPool::new(readers),
                read_permits: tokio::sync::Semaphore::new(READERS),
                watch: Mutex::new(watch),
            }),
            clock: Arc::new(SystemClock),
        })
    }

    /// Judges TTLs by `clock` instead of the system clock, so tests that move time
    /// see items expire.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn now(&self) -> i64 {
        crate::unix_now(self.clock.as_ref())
    }

    /// Deletes the items whose TTL has passed by this store's clock. DynamoDB's
    /// TTL deletes expired items in the background; here they are hidden from
    /// reads at once and removed by this, which the runner calls once it has
    /// set the clock (so `qnet … --now` in the past never deletes what that
    /// moment still sees). Answers how many items went.
    pub fn purge_expired(&self) -> Result<usize, StoreError> {
        let now = self.now();
        let (done, outcome) = std::sync::mpsc::channel();
        self.db.writer.submit(
            Box::new(move |conn| {
                conn.execute("DELETE FROM items WHERE expires_at IS NOT NULL AND expires_at <= ?1", [now]).map_err(db_error)
            }),
            Box::new(move |r| {
                let _ = done.send(r);
            }),
        );
        outcome.recv().map_err(|_| StoreError::Unavailable("the store's writer has stopped".into()))?
    }

    async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        // A read runs on the calling task's thread. Each one is bounded (a key,
        // a few keys, or a page of at most `limit` entries: 20 for a list page,
        // up to 1,000 for the insights rebuild) and most take tens of
        // microseconds from memory-mapped pages: less than handing them to a
        // blocking thread and back, which was more than a quarter of a list
        // request's CPU in a profile (decision 0023). A permit per connection
        // means the pool always has one idle for the holder.
        let _permit = self.db.read_permits.acquire().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        self.db.readers.with(f)
    }

    /// Runs `f` in the writer's next transaction (inside a savepoint of its
    /// own) and answers once that transaction is committed.
    async fn write<F>(&self, f: F) -> Result<(), StoreError>
    where
        F: FnOnce(&Connection) -> Result<(), StoreError> + Send + 'static,
    {
        let (done, outcome) = tokio::sync::oneshot::channel();
        self.db.writer.submit(
            Box::new(move |conn| f(conn).map(|()| 0)),
            Box::new(move |r| {
                let _ = done.send(r);
            }),
        );
        outcome.await.map_err(|_| StoreError::Unavailable("the store's writer has stopped".into()))?.map(|_| ())
    }
}

#[async_trait]
impl RecordStore for EmbeddedRecordStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let (pk, sk, now) = (pk.to_owned(), sk.to_owned(), self.now());
        self.read(move |conn| {
            let sql = format!(
                "SELECT {COLUMNS} FROM items WHERE pk = ?1 AND sk = ?2 \
                 AND (expires_at IS NULL OR expires_at > ?3)"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db_error)?;
            stmt.query_row(params![pk, sk, now], row_to_raw).optional().map_err(db_error)?.map(RawRow::into_item).transpose()
        })
        .await
    }

    /// One reader connection and one prepared statement for all the keys:
    /// a search answer's twenty records are read in one go.
    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Option<Item>>, StoreError> {
        let (keys, now) = (keys.to_vec(), self.now());
        self.read(move |conn| {
            let sql = format!(
                "SELECT {COLUMNS} FROM items WHERE pk = ?1 AND sk = ?2 \
                 AND (expires_at IS NULL OR expires_at > ?3)"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db_error)?;
            keys.iter()
                .map(|(pk, sk)| {
                    stmt.query_row(params![pk, sk, now], row_to_raw)
                        .optional()
                        .map_err(db_error)?
                        .map(RawRow::into_item)
                        .transpose()
                })
                .collect()
        })
        .await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        let row = EncodedItem::encode(item)?;
        let now = self.now();
        self.write(move |conn| {
            if !condition_holds(conn, &row.pk, &row.sk, condition, now)? {
                return Err(StoreError::ConditionFailed);
            }
            row.upsert(conn)
        })
        .await
    }

    async fn delete(&self, pk: &str, sk: &str, condition: Condition) -> Result<(), StoreError> {
        let (pk, sk, now) = (pk.to_owned(), sk.to_owned(), self.now());
        self.write(move |conn| {
            if !condition_holds(conn, &pk, &sk, condition, now)? {
                return Err(StoreError::ConditionFailed);
            }
            delete_row(conn, &pk, &sk)
        })
        .await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let start = cursor_position(&query)?;
        if query.limit == 0 {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let now = self.now();
        self.read(move |conn| run_query(conn, &query, start, now)).await
    }

    /// The stored JSON text as it is: no `serde_json::Value` in between.
    async fn query_raw(&self, query: Query) -> Result<RawPage, StoreError> {
        let start = cursor_position(&query)?;
        if query.limit == 0 {
            return Ok(RawPage { items: Vec::new(), next: None });
        }
        let now = self.now();
        self.read(move |conn| run_query_raw(conn, &query, start, now)).await
    }

    /// SQLite's `data_version` on the watch connection: a few microseconds
    /// (a read transaction that looks at the write-ahead log's shared header
    /// and the database header, no table).
    async fn change_mark(&self) -> Result<Option<u64>, StoreError> {
        let watch = self.db.watch.lock().unwrap_or_else(PoisonError::into_inner);
        let mut stmt = watch.prepare_cached("PRAGMA data_version").map_err(db_error)?;
        let version: i64 = stmt.query_row([], |r| r.get(0)).map_err(db_error)?;
        Ok(Some(version as u64))
    }

    fn at_clock(&self, clock: Arc<dyn Clock>) -> Arc<dyn RecordStore> {
        Arc::new(self.clone().with_clock(clock))
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        if writes.len() > MAX_TRANSACTION_WRITES {
            return Err(StoreError::Unavailable(format!(
                "a transaction holds at most {MAX_TRANSACTION_WRITES} writes, got {}",
                writes.len()
            )));
        }
        // DynamoDB refuses a transaction that touches one item twice; so do we, so
        // that such code fails locally rather than in production.
        let mut seen = HashSet::new();
        for w in &writes {
            let (pk, sk) = write_key(w);
            if !seen.insert((pk.to_owned(), sk.to_owned())) {
                return Err(StoreError::Unavailable("a transaction cannot touch the same item twice".into()));
            }
        }
        let writes = writes
            .into_iter()
            .map(|w| match w {
                Write::Put { item, condition } => Ok(Prepared::Put(EncodedItem::encode(item)?, condition)),
                Write::Delete { pk, sk, condition } => Ok(Prepared::Delete(pk, sk, condition)),
                Write::Check { pk, sk, condition } => Ok(Prepared::Check(pk, sk, condition)),
                Write::Increment { pk, sk, field, by, at_least, at_most } => {
                    Ok(Prepared::Increment(Increment { pk, sk, field, by, at_least, at_most }))
                }
                Write::Tally { pk, sk, adds } => {
                    qnet_ports::check_tally(&adds)?;
                    Ok(Prepared::Tally(pk, sk, adds))
                }
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let now = self.now();
        self.write(move |tx| {
            // Check every condition before the first write, as DynamoDB does; the
            // write's savepoint is rolled back on any early return.
            let mut counted = Vec::new();
            for (index, w) in writes.iter().enumerate() {
                let (pk, sk, condition) = match w {
                    Prepared::Put(row, c) => (&row.pk, &row.sk, *c),
                    Prepared::Delete(pk, sk, c) | Prepared::Check(pk, sk, c) => (pk, sk, *c),
                    Prepared::Tally(..) => continue,
                    Prepared::Increment(inc) => match inc.prepare(tx, now)? {
                        Some(data) => {
                            counted.push(data);
                            continue;
                        }
                        None => return Err(StoreError::TransactionConflict { index: Some(index) }),
                    },
                };
                if !condition_holds(tx, pk, sk, condition, now)? {
                    return Err(StoreError::TransactionConflict { index: Some(index) });
                }
            }
            let mut counted = counted.into_iter();
            for w in &writes {
                match w {
                    Prepared::Put(row, _) => row.upsert(tx)?,
                    Prepared::Delete(pk, sk, _) => delete_row(tx, pk, sk)?,
                    Prepared::Check(..) => {}
                    Prepared::Tally(pk, sk, adds) => apply_tally(tx, pk, sk, adds, now)?,
                    Prepared::Increment(inc) => {
                        let data = counted.next().expect("one prepared document per increment");
                        inc.apply(tx, &data)?;
                    }
                }
            }
            Ok(())
        })
        .await
    }
}

enum Prepared {
    Put(EncodedItem, Condition),
    Delete(String, String, Condition),
    Check(String, String, Condition),
    Increment(Increment),
    Tally(String, String, Vec<(String, i64)>),
}

/// A [`Write::Tally`]: adds to the live item's fields, or starts a new item
/// (version 1) when there is none (an expired one is replaced).
fn apply_tally(conn: &Connection, pk: &str, sk: &str, adds: &[(String, i64)], now: i64) -> Result<(), StoreError> {
    let data: Option<String> = conn
        .prepare_cached(
            "SELECT data FROM items WHERE pk = ?1 AND sk = ?2 \
             AND (expires_at IS NULL OR expires_at > ?3)",
        )
        .map_err(db_error)?
        .query_row(params![pk, sk, now], |r| r.get(0))
        .optional()
        .map_err(db_error)?;
    let mut doc = match &data {
        Some(d) => serde_json::from_str::<serde_json::Value>(d)
            .map_err(|e| StoreError::Unavailable(format!("stored item does not decode: {e}")))?,
        None => serde_json::json!({}),
    };
    let Some(map) = doc.as_object_mut() else {
        return Err(StoreError::Unavailable("a tally needs an item whose data is an object".into()));
    };
    for (field, by) in adds {
        let current = map.get(field).and_then(serde_json::Value::as_i64).unwrap_or(0);
        map.insert(field.clone(), serde_json::Value::from(current.saturating_add(*by)));
    }
    let encoded = serde_json::to_string(&doc).map_err(|e| StoreError::Unavailable(format!("cannot encode item: {e}")))?;
    if data.is_some() {
        conn.prepare_cached("UPDATE items SET data = ?3 WHERE pk = ?1 AND sk = ?2")
            .map_err(db_error)?
            .execute(params![pk, sk, encoded])
            .map_err(db_error)?;
    } else {
        delete_row(conn, pk, sk)?;
        EncodedItem::encode(Item { data: doc, ..Item::new(pk, sk, serde_json::Value::Null) })?.upsert(conn)?;
    }
    Ok(())
}

fn write_key(w: &Write) -> (&str, &str) {
    w.key()
}

/// A [`Write::Increment`]: the counter is read, checked and rewritten under the
/// writer's lock, inside the transaction, so two increments can never both
/// pass a bound that only one of them fits under.
struct Increment {
    pk: String,
    sk: String,
    field: String,
    by: i64,
    at_least: Option<i64>,
    at_most: Option<i64>,
}

impl Increment {
    /// The item's new document, or `None` when the item is absent (or expired)
    /// or the result would leave the bounds.
    fn prepare(&self, conn: &Connection, now: i64) -> Result<Option<String>, StoreError> {
        let data: Option<String> = conn
            .prepare_cached(
                "SELECT data FROM items WHERE pk = ?1 AND sk = ?2 \
                 AND (expires_at IS NULL OR expires_at > ?3)",
            )
            .map_err(db_error)?
            .query_row(params![self.pk, self.sk, now], |r| r.get(0))
            .optional()
            .map_err(db_error)?;
        let Some(data) = data else { return Ok(None) };
        let mut doc: serde_json::Value =
            serde_json::from_str(&data).map_err(|e| StoreError::Unavailable(format!("stored item does not decode: {e}")))?;
        let Some(map) = doc.as_object_mut() else {
            return Err(StoreError::Unavailable("an increment needs an item whose data is an object".into()));
        };
        let current = match map.get(&self.field) {
            None | Some(serde_json::Value::Null) => 0,
            Some(v) => v.as_i64().ok_or_else(|| StoreError::Unavailable(format!("{} is not a whole number", self.field)))?,
        };
        let Some(next) = current.checked_add(self.by) else { return Ok(None) };
        if self.at_most.is_some_and(|m| next > m) || self.at_least.is_some_and(|m| next < m) {
            return Ok(None);
        }
        map.insert(self.field.clone(), serde_json::Value::from(next));
        serde_json::to_string(&doc).map(Some).map_err(|e| StoreError::Unavailable(format!("cannot encode item: {e}")))
    }

    fn apply(&self, conn: &Connection, data: &str) -> Result<(), StoreError> {
        conn.prepare_cached("UPDATE items SET data = ?3 WHERE pk = ?1 AND sk = ?2")
            .map_err(db_error)?
            .execute(params![self.pk, self.sk, data])
            .map_err(db_error)?;
        Ok(())
    }
}

/// Whether `condition` holds for the item at (pk, sk); an expired item counts as absent.
fn condition_holds(conn: &Connection, pk: &str, sk: &str, condition: Condition, now: i64) -> Result<bool, StoreError> {
    if condition == Condition::None {
        return Ok(true);
    }
    let live: Option<i64> = conn
        .prepare_cached(
            "SELECT version FROM items WHERE pk = ?1 AND sk = ?2 \
             AND (expires_at IS NULL OR expires_at > ?3)",
        )
        .map_err(db_error)?
        .query_row(params![pk, sk, now], |r| r.get(0))
        .optional()
        .map_err(db_error)?;
    Ok(match condition {
        Condition::None => true,
        Condition::NotExists => live.is_none(),
        Condition::Exists => live.is_some(),
        Condition::VersionIs(v) => live.is_some_and(|have| u64::try_from(have) == Ok(v)),
    })
}

fn delete_row(conn: &Connection, pk: &str, sk: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
        .map_err(db_error)?
        .execute(params![pk, sk])
        .map_err(db_error)?;
    Ok(())
}

/// An item ready for SQLite: JSON serialised once, outside the writer lock.
struct EncodedItem {
    pk: String,
    sk: String,
    gsi1: Option<IndexKey>,
    gsi2: Option<IndexKey>,
    version: i64,
    expires_at: Option<i64>,
    data: String,
}

impl EncodedItem {
    fn encode(mut item: Item) -> Result<Self, StoreError> {
        normalise_numbers(&mut item.data);
        let data = serde_json::to_string(&item.data).map_err(|e| StoreError::Unavailable(format!("cannot encode item: {e}")))?;
        let keys = [Some(&item.pk), Some(&item.sk)]
            .into_iter()
            .chain(
                [&item.gsi1, &item.gsi2]
                    .into_iter()
                    .flat_map(|k| k.as_ref().map(|k| [Some(&k.pk), Some(&k.sk)]).unwrap_or([None, None])),
            )
            .flatten()
            .map(String::len)
            .sum::<usize>();
        if data.len() + keys > MAX_ITEM_BYTES {
            return Err(StoreError::TooLarge);
        }
        let version = i64::try_from(item.version).map_err(|_| StoreError::Unavailable("version out of range".into()))?;
        Ok(EncodedItem { pk: item.pk, sk: item.sk, gsi1: item.gsi1, gsi2: item.gsi2, version, expires_at: item.expires_at, data })
    }

    fn upsert(&self, conn: &Connection) -> Result<(), StoreError> {
        let (g1pk, g1sk) = split_key(&self.gsi1);
        let (g2pk, g2sk) = split_key(&self.gsi2);
        conn.prepare_cached(
            "INSERT INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, version, expires_at, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (pk, sk) DO UPDATE SET
                gsi1pk = excluded.gsi1pk, gsi1sk = excluded.gsi1sk,
                gsi2pk = excluded.gsi2pk, gsi2sk = excluded.gsi2sk,
                version = excluded.version, expires_at = excluded.expires_at,
                data = excluded.data",
        )
        .map_err(db_error)?
        .execute(params![self.pk, self.sk, g1pk, g1sk, g2pk, g2sk, self.version, self.expires_at, self.data])
        .map_err(db_error)?;
        Ok(())
    }
}

fn split_key(key: &Option<IndexKey>) -> (Option<&str>, Option<&str>) {
    match key {
        Some(k) => (Some(&k.pk), Some(&k.sk)),
        None => (None, None),
    }
}

/// Makes numbers come back as they do from DynamoDB, so both stores answer alike.
///
/// DynamoDB keeps numbers as decimals and trims trailing zeros, so a float with
/// an integral value (`2.0`) is read back as the integer `2`. The AWS adapter
/// gets that from serde_dynamo (float → `f64::to_string` → parsed as i64, then
/// u64, then f64); this applies the same rule before storing.
fn normalise_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64() {
                let text = f.to_string();
                if let Ok(i) = text.parse::<i64>() {
                    *value = Value::from(i);
                } else if let Ok(u) = text.parse::<u64>() {
                    *value = Value::from(u);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalise_numbers),
        Value::Object(map) => map.values_mut().for_each(normalise_numbers),
        _ => {}
    }
}

/// The (index sort key, pk, sk) after which a page starts, from the query's cursor.
///
/// A cursor from another partition, or one outside the sort key prefix, is
/// refused: DynamoDB refuses such an `ExclusiveStartKey` too.
pub(crate) fn cursor_position(query: &Query) -> Result<Option<(String, String, String)>, StoreError> {
    let Some(c) = &query.cursor else {
        return Ok(None);
    };
    let isk = match (query.index, &c.ipk, &c.isk) {
        (Index::Primary, None, None) if c.pk == query.pk => c.sk.clone(),
        (Index::Gsi1 | Index::Gsi2, Some(ipk), Some(isk)) if *ipk == query.pk => isk.clone(),
        _ => return Err(StoreError::BadCursor),
    };
    if let Some(prefix) = &query.sk_prefix
        && !isk.starts_with(prefix.as_str())
    {
        return Err(StoreError::BadCursor);
    }
    Ok(Some((isk, c.pk.clone(), c.sk.clone())))
}

fn run_query(conn: &Connection, query: &Query, start: Option<(String, String, String)>, now: i64) -> Result<Page, StoreError> {
    let (sql, args) = build_query(query, start, now);
    let mut stmt = conn.prepare_cached(&sql).map_err(db_error)?;
    let mut rows = stmt
        .query_map(rusqlite::params_from_iter(args), row_to_raw)
        .map_err(db_error)?
        .map(|r| r.map_err(db_error).and_then(RawRow::into_item))
        .collect::<Result<Vec<_>, _>>()?;
    let more = rows.len() > query.limit as usize;
    rows.truncate(query.limit as usize);
    let next = if more { rows.last().map(|last| cursor_after(query.index, last)) } else { None };
    Ok(Page { items: rows, next })
}

/// [`run_query`] with each item's data left as its stored text.
fn run_query_raw(
    conn: &Connection,
    query: &Query,
    start: Option<(String, String, String)>,
    now: i64,
) -> Result<RawPage, StoreError> {
    let (sql, args) = build_query(query, start, now);
    let mut stmt = conn.prepare_cached(&sql).map_err(db_error)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), row_to_raw).map_err(db_error)?;
    let mut items = Vec::with_capacity(query.limit as usize);
    let mut last: Option<RawRow> = None;
    let mut more = false;
    for row in rows {
        let mut row = row.map_err(db_error)?;
        if items.len() == query.limit as usize {
            more = true;
            break;
        }
        items.push(std::mem::take(&mut row.data));
        last = Some(row);
    }
    let next = match (more, last) {
        (true, Some(row)) => Some(cursor_after(query.index, &row.into_keys()?)),
        _ => None,
    };
    Ok(RawPage { items, next })
}

/// The SQL (and its arguments) for one page: a range on one index, `LIMIT`ed.
fn build_query(query: &Query, start: Option<(String, String, String)>, now: i64) -> (String, Vec<SqlValue>) {
    let (ipk, isk) = match query.index {
        Index::Primary => ("pk", "sk"),
        Index::Gsi1 => ("gsi1pk", "gsi1sk"),
        Index::Gsi2 => ("gsi2pk", "gsi2sk"),
    };
    let (cmp, dir) = if query.ascending { (">", "ASC") } else { ("<", "DESC") };
    let mut sql = format!("SELECT {COLUMNS} FROM items WHERE {ipk} = ?");
    let mut args: Vec<SqlValue> = vec![query.pk.clone().into()];
    if let Some(prefix) = &query.sk_prefix {
        sql.push_str(&format!(" AND {isk} >= ?"));
        args.push(prefix.clone().into());
        if let Some(upper) = prefix_upper_bound(prefix) {
            sql.push_str(&format!(" AND {isk} < ?"));
            args.push(upper.into());
        }
    }
    if let Some((after_isk, after_pk, after_sk)) = start {
        if query.index == Index::Primary {
            sql.push_str(&format!(" AND sk {cmp} ?"));
            args.push(after_sk.into());
        } else {
            // Row values let SQLite seek the (isk, pk, sk) index directly.
            sql.push_str(&format!(" AND ({isk}, pk, sk) {cmp} (?, ?, ?)"));
            args.extend([after_isk.into(), after_pk.into(), after_sk.into()]);
        }
    }
    sql.push_str(" AND (expires_at IS NULL OR expires_at > ?)");
    args.push(now.into());
    if query.index == Index::Primary {
        sql.push_str(&format!(" ORDER BY sk {dir}"));
    } else {
        sql.push_str(&format!(" ORDER BY {isk} {dir}, pk {dir}, sk {dir}"));
    }
    // One more than asked tells whether another page exists, so `next` is only
    // set when there is something after it.
    sql.push_str(" LIMIT ?");
    args.push((i64::from(query.limit) + 1).into());
    (sql, args)
}

/// The cursor for "after this item" on `index`; the AWS adapter builds the same.
pub(crate) fn cursor_after(index: Index, item: &Item) -> Cursor {
    let key = match index {
        Index::Primary => None,
        Index::Gsi1 => item.gsi1.as_ref(),
        Index::Gsi2 => item.gsi2.as_ref(),
    };
    Cursor { pk: item.pk.clone(), sk: item.sk.clone(), ipk: key.map(|k| k.pk.clone()), isk: key.map(|k| k.sk.clone()) }
}

/// The smallest string greater than every string starting with `prefix`, so a
/// prefix becomes an index range (`>= prefix AND < upper`). UTF-8 byte order is
/// code point order, so bumping the last character that can be bumped works.
/// `None` when no such string exists (the prefix is all U+10FFFF).
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

struct RawRow {
    pk: String,
    sk: String,
    gsi1: (Option<String>, Option<String>),
    gsi2: (Option<String>, Option<String>),
    version: i64,
    expires_at: Option<i64>,
    data: String,
}

fn row_to_raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        pk: r.get(0)?,
        sk: r.get(1)?,
        gsi1: (r.get(2)?, r.get(3)?),
        gsi2: (r.get(4)?, r.get(5)?),
        version: r.get(6)?,
        expires_at: r.get(7)?,
        data: r.get(8)?,
    })
}

impl RawRow {
    /// The item's keys and metadata, its data left out (`Null`): enough for a cursor.
    fn into_keys(mut self) -> Result<Item, StoreError> {
        self.data = "null".into();
        self.into_item()
    }

    fn into_item(self) -> Result<Item, StoreError> {
        let key = |k: (Option<String>, Option<String>)| match k {
            (Some(pk), Some(sk)) => Some(IndexKey { pk, sk }),
            _ => None,
        };
        Ok(Item {
            data: serde_json::from_str(&self.data)
                .map_err(|e| StoreError::Unavailable(format!("stored item {}/{} is not JSON: {e}", self.pk, self.sk)))?,
            gsi1: key(self.gsi1),
            gsi2: key(self.gsi2),
            version: u64::try_from(self.version).map_err(|_| StoreError::Unavailable("negative version in store".into()))?,
            expires_at: self.expires_at,
            pk: self.pk,
            sk: self.sk,
        })
    }
}

fn db_error(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {e}"))
}

/// A fixed set of read-only connections handed out one at a time.
struct ReaderPool {
    idle: Mutex<Vec<Connection>>,
    returned: Condvar,
}

impl ReaderPool {
    fn new(conns: Vec<Connection>) -> Self {
        ReaderPool { idle: Mutex::new(conns), returned: Condvar::new() }
    }

    /// Runs `f` on an idle connection, waiting for one if all are busy. The
    /// store's reads hold a permit per connection first, so they never wait here.
    fn with<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        let conn = {
            let mut idle = self.lock();
            loop {
                if let Some(c) = idle.pop() {
                    break c;
                }
                idle = self.returned.wait(idle).unwrap_or_else(PoisonError::into_inner);
            }
        };
        // Give the connection back even if `f` panics.
        struct Return<'a> {
            pool: &'a ReaderPool,
            conn: Option<Connection>,
        }
        impl Drop for Return<'_> {
            fn drop(&mut self) {
                if let Some(c) = self.conn.take() {
                    self.pool.lock().push(c);
                    self.pool.returned.notify_one();
                }
            }
        }
        let guard = Return { pool: self, conn: Some(conn) };
        f(guard.conn.as_ref().expect("connection held until drop"))
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_upper_bound_covers_exactly_the_prefix() {
        assert_eq!(prefix_upper_bound("CS#").as_deref(), Some("CS$"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
        assert_eq!(prefix_upper_bound(""), None);
    }

    #[test]
    fn numbers_normalise_like_dynamodb() {
        let mut v = serde_json::json!({"a": 2.0, "b": [1.5, -0.0, 1e20], "c": 7, "d": u64::MAX});
        normalise_numbers(&mut v);
        assert_eq!(v, serde_json::json!({"a": 2, "b": [1.5, 0, 1e20], "c": 7, "d": u64::MAX}));
    }

    #[tokio::test]
    async fn the_change_mark_moves_with_every_commit_from_any_connection() {
        let dir = std::env::temp_dir().join(format!("qnet-mark-{}", std::process::id()));
        let store = EmbeddedRecordStore::open(&dir).unwrap();
        let first = store.change_mark().await.unwrap().expect("the embedded store has a mark");
        let item = |n: u64| Item {
            pk: "P".into(),
            sk: "S".into(),
            gsi1: None,
            gsi2: None,
            version: n,
            expires_at: None,
            data: serde_json::json!({"n": n}),
        };
        // Reads leave it where it is.
        store.get("P", "S").await.unwrap();
        assert_eq!(store.change_mark().await.unwrap(), Some(first));
        store.put(item(1), Condition::None).await.unwrap();
        let second = store.change_mark().await.unwrap().unwrap();
        assert_ne!(second, first, "a write through the store moves the mark");
        // Another process writing to the same file (as `qnet token` does).
        let other = Connection::open(dir.join("qnet.sqlite3")).unwrap();
        other.execute("UPDATE items SET version = 2 WHERE pk = 'P'", []).unwrap();
        let third = store.change_mark().await.unwrap().unwrap();
        assert_ne!(third, second, "a write by another connection moves the mark");
        assert_eq!(store.change_mark().await.unwrap(), Some(third));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn list_queries_use_an_index() {
        let dir = std::env::temp_dir().join(format!("qnet-plan-{}", std::process::id()));
        let _store = EmbeddedRecordStore::open(&dir).unwrap();
        let conn = Connection::open(dir.join("qnet.sqlite3")).unwrap();
        for (index, used) in
            [(Index::Gsi1, "items_gsi1"), (Index::Gsi2, "items_gsi2"), (Index::Primary, "sqlite_autoindex_items_1")]
        {
            let q = Query::new(index, "P").prefix("X#").after(Some(Cursor {
                pk: "P".into(),
                sk: "X#1".into(),
                ipk: (index != Index::Primary).then(|| "P".into()),
                isk: (index != Index::Primary).then(|| "X#1".into()),
            }));
            let (sql, args) = build_query(&q, cursor_position(&q).unwrap(), 0);
            let plan = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect::<Vec<_>>()
                .join("; ");
            assert!(plan.contains(used), "{index:?}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{index:?} sorts: {plan}");
        }
        drop(conn);
        std::fs::remove_dir_all(&dir).ok();
    }
}
