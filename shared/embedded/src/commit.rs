//! Group commit (issue 24): one thread owns the write connection, takes every
//! write waiting for it, runs each inside its own savepoint of one `BEGIN
//! IMMEDIATE` transaction, and commits them together: one `fsync` for all of
//! them instead of one each, with `synchronous = FULL` kept (a committed write
//! survives power loss, not only a crash).
//!
//! Each write keeps its own outcome: one whose condition fails is rolled back
//! to its savepoint and answered with its error, and the others still commit.
//! No write is answered before the transaction holding it is committed, so
//! nothing acknowledged can be lost when the process is killed; when the
//! commit itself fails, every write of the batch is answered with that failure
//! (none of them happened).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

use qnet_ports::StoreError;
use rusqlite::Connection;

/// The most writes one transaction carries: enough to share an fsync among
/// every request a busy server has in flight, few enough that one commit
/// never holds the database's write lock for long.
const MAX_BATCH: usize = 64;

/// A write: runs inside its own savepoint; `Ok(n)` keeps it (n is what it
/// reports, e.g. rows purged), `Err` rolls it back.
pub(crate) type Job = Box<dyn FnOnce(&Connection) -> Result<usize, StoreError> + Send>;
/// Receives the write's outcome once its transaction is committed (or not).
pub(crate) type Done = Box<dyn FnOnce(Result<usize, StoreError>) + Send>;

/// The queue to the committing thread; the thread ends (and closes its
/// connection) when the last handle is dropped.
pub(crate) struct Committer {
    queue: mpsc::Sender<(Job, Done)>,
    /// Transactions committed so far (what the tests count).
    #[cfg_attr(not(test), allow(dead_code))]
    commits: Arc<AtomicU64>,
}

impl Committer {
    pub(crate) fn start(conn: Connection) -> std::io::Result<Committer> {
        let (queue, jobs) = mpsc::channel::<(Job, Done)>();
        let commits = Arc::new(AtomicU64::new(0));
        let counted = commits.clone();
        std::thread::Builder::new().name("qnet-store-writer".into()).spawn(move || {
            while let Ok(first) = jobs.recv() {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match jobs.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                commit_batch(&conn, batch, &counted);
            }
        })?;
        Ok(Committer { queue, commits })
    }

    /// How many transactions were committed.
    #[cfg(test)]
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Queues a write; `done` is called from the committing thread.
    pub(crate) fn submit(&self, job: Job, done: Done) {
        if let Err(mpsc::SendError((_, done))) = self.queue.send((job, done)) {
            done(Err(StoreError::Unavailable("the store's writer has stopped".into())));
        }
    }
}

fn sql_error(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {e}"))
}

/// Runs and commits one batch, counts the commit, then answers every write.
fn commit_batch(conn: &Connection, batch: Vec<(Job, Done)>, commits: &AtomicU64) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let message = sql_error(e).to_string();
        for (_, done) in batch {
            done(Err(StoreError::Unavailable(message.clone())));
        }
        return;
    }
    let mut outcomes = Vec::with_capacity(batch.len());
    // A savepoint statement that fails leaves the transaction in a state no
    // later write should build on: the whole batch is then rolled back.
    let mut broken: Option<String> = None;
    for (job, done) in batch {
        if broken.is_some() {
            outcomes.push((Err(StoreError::Unavailable("not written: an earlier write of its batch failed".into())), done));
            continue;
        }
        if let Err(e) = conn.execute_batch("SAVEPOINT write") {
            broken = Some(sql_error(e).to_string());
            outcomes.push((Err(StoreError::Unavailable("not written: the savepoint failed".into())), done));
            continue;
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| job(conn)))
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the write panicked".into())));
        let end = if outcome.is_ok() { "RELEASE write" } else { "ROLLBACK TO write; RELEASE write" };
        if let Err(e) = conn.execute_batch(end) {
            broken = Some(sql_error(e).to_string());
        }
        outcomes.push((outcome, done));
    }
    let failure = match broken {
        Some(why) => Some(why),
        None => conn.execute_batch("COMMIT").err().map(|e| sql_error(e).to_string()),
    };
    if let Some(why) = failure {
        if !conn.is_autocommit() {
            // Best effort: a failed COMMIT may already have rolled back.
            let _ = conn.execute_batch("ROLLBACK");
        }
        tracing::error!(error = %why, writes = outcomes.len(), "a group commit failed; none of its writes happened");
        for (outcome, done) in outcomes {
            done(match outcome {
                Ok(_) => Err(StoreError::Unavailable(format!("not committed: {why}"))),
                Err(e) => Err(e),
            });
        }
        return;
    }
    commits.fetch_add(1, Ordering::Relaxed);
    for (outcome, done) in outcomes {
        done(outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::mpsc::{Receiver, channel};

    fn committer() -> (Committer, tempfile_dir::Dir) {
        let dir = tempfile_dir::Dir::new();
        let conn = Connection::open(dir.0.join("t.sqlite3")).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY);").unwrap();
        (Committer::start(conn).unwrap(), dir)
    }

    fn insert(k: &'static str) -> Job {
        Box::new(move |c| c.execute("INSERT INTO t (k) VALUES (?1)", [k]).map_err(sql_error))
    }

    fn answer() -> (Done, Receiver<Result<usize, StoreError>>) {
        let (tx, rx) = channel();
        (
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
            rx,
        )
    }

    /// Writes queued while a commit is under way go in the next one together,
    /// each keeping its own outcome; none is answered before its commit.
    #[test]
    fn queued_writes_share_one_transaction_and_keep_their_own_outcomes() {
        let (c, _dir) = committer();
        // The first write holds the writer until ten more are queued.
        let (release, hold) = channel::<()>();
        let hold = Arc::new(Mutex::new(hold));
        let transactions = Arc::new(Mutex::new(Vec::<u64>::new()));
        let (done, first) = answer();
        let h = hold.clone();
        let (started, running) = channel::<()>();
        c.submit(
            Box::new(move |conn| {
                started.send(()).unwrap();
                h.lock().unwrap().recv().unwrap();
                conn.execute("INSERT INTO t (k) VALUES ('first')", []).map_err(sql_error)
            }),
            done,
        );
        running.recv().unwrap();
        let mut answers = Vec::new();
        for k in ["a", "b", "dup", "dup", "c"] {
            let (done, rx) = answer();
            c.submit(insert(k), done);
            answers.push(rx);
        }
        // Readers queued behind them count the rows they see: in the same
        // batch as the inserts they see those inserts before any commit.
        for _ in 0..5 {
            let t = transactions.clone();
            let (done, rx) = answer();
            c.submit(
                Box::new(move |conn| {
                    let seen: i64 = conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).map_err(sql_error)?;
                    t.lock().unwrap().push(seen as u64);
                    Ok(0)
                }),
                done,
            );
            answers.push(rx);
        }
        assert!(first.try_recv().is_err(), "not answered before its commit");
        release.send(()).unwrap();
        assert_eq!(first.recv().unwrap().unwrap(), 1);
        let outcomes: Vec<_> = answers.iter().map(|rx| rx.recv().unwrap().map_err(|e| e.to_string())).collect();
        assert_eq!(outcomes[0], Ok(1));
        assert_eq!(outcomes[1], Ok(1));
        assert_eq!(outcomes[2], Ok(1));
        assert!(outcomes[3].as_ref().unwrap_err().contains("UNIQUE"), "{:?}", outcomes[3]);
        assert_eq!(outcomes[4], Ok(1));
        // The readers ran behind the inserts (first, a, b, one dup, c), and
        // the ten writes queued behind the first shared one commit.
        assert_eq!(*transactions.lock().unwrap(), vec![5, 5, 5, 5, 5]);
        assert_eq!(c.commits(), 2);
    }

    /// A panicking write is answered with an error and rolled back; the writer
    /// goes on.
    #[test]
    fn a_panicking_write_fails_alone() {
        let (c, _dir) = committer();
        let (done, rx) = answer();
        c.submit(
            Box::new(|conn| {
                conn.execute("INSERT INTO t (k) VALUES ('half')", []).map_err(sql_error)?;
                panic!("boom")
            }),
            done,
        );
        assert!(rx.recv().unwrap().is_err());
        let (done, rx) = answer();
        c.submit(
            Box::new(|conn| {
                conn.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)).map(|n| n as usize).map_err(sql_error)
            }),
            done,
        );
        assert_eq!(rx.recv().unwrap().unwrap(), 0, "the panicking write was rolled back");
    }

    /// A temporary directory, removed on drop (no dev-dependency for one use).
    mod tempfile_dir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let p = std::env::temp_dir().join(format!("qnet-commit-{}-{n}", std::process::id()));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }
}
