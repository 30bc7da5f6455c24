//! How the API serves search in AWS: the indexer function publishes snapshots
//! to the blob store, and the API loads the newest one on its first search
//! (not during init), then swaps in newer ones as they appear.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{SearchDoc, SearchError, SearchIndex, SearchQuery};

/// An index that can be replaced while it serves: the API swaps in a newer
/// snapshot without a restart. It starts unloaded when made with
/// [`SwappableIndex::unloaded`]: writes are then skipped (the snapshot or
/// rebuild that follows reads them from the table) and searches answer an error.
pub struct SwappableIndex {
    current: std::sync::RwLock<Option<Arc<SearchIndex>>>,
    /// The snapshot key the current index came from, if any.
    source: std::sync::RwLock<Option<String>>,
}

impl SwappableIndex {
    pub fn new(index: SearchIndex, source: Option<String>) -> SwappableIndex {
        SwappableIndex { current: std::sync::RwLock::new(Some(Arc::new(index))), source: std::sync::RwLock::new(source) }
    }

    /// No index yet: see [`LazySearch`].
    pub fn unloaded() -> SwappableIndex {
        SwappableIndex { current: std::sync::RwLock::new(None), source: std::sync::RwLock::new(None) }
    }

    fn get(&self) -> Option<Arc<SearchIndex>> {
        self.current.read().expect("the index lock").clone()
    }

    pub fn is_loaded(&self) -> bool {
        self.get().is_some()
    }

    pub fn source(&self) -> Option<String> {
        self.source.read().expect("the index lock").clone()
    }

    pub fn swap(&self, index: SearchIndex, source: String) {
        self.set(Arc::new(index), Some(source));
    }

    fn set(&self, index: Arc<SearchIndex>, source: Option<String>) {
        *self.current.write().expect("the index lock") = Some(index);
        *self.source.write().expect("the index lock") = source;
    }
}

const NOT_LOADED: &str = "the search index is not loaded yet; try again shortly";

impl qnet_ports::TextSearch for SwappableIndex {
    fn upsert(&self, docs: &[SearchDoc]) -> Result<(), String> {
        match self.get() {
            Some(index) => qnet_ports::TextSearch::upsert(index.as_ref(), docs),
            None => Ok(()),
        }
    }
    fn remove(&self, ids: &[&str]) -> Result<(), String> {
        match self.get() {
            Some(index) => qnet_ports::TextSearch::remove(index.as_ref(), ids),
            None => Ok(()),
        }
    }
    fn search(&self, q: &SearchQuery) -> Result<(Vec<(String, String)>, usize), String> {
        qnet_ports::TextSearch::search(self.get().ok_or(NOT_LOADED)?.as_ref(), q)
    }
    fn similar(&self, q: &qnet_ports::SimilarWorkQuery) -> Result<Vec<(String, String)>, String> {
        qnet_ports::TextSearch::similar(self.get().ok_or(NOT_LOADED)?.as_ref(), q)
    }
    fn highlights(&self, text: &str, query: &str) -> Vec<String> {
        self.get().map(|index| index.highlights(text, query)).unwrap_or_default()
    }
    fn highlight_all(&self, texts: &[&str], query: &str) -> Vec<Vec<String>> {
        match self.get() {
            Some(index) => index.highlight_all(texts, query),
            None => texts.iter().map(|_| Vec::new()).collect(),
        }
    }
}

/// What [`build_and_publish`] stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotPointer {
    /// The snapshot's blob key.
    pub key: String,
    pub built_at: String,
    pub documents: usize,
}

fn fresh_dir(parent: &Path) -> Result<PathBuf, SearchError> {
    // The real time only makes the directory's name unique; nothing reads it as a date.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let dir = parent.join(format!("index-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Builds a fresh index of everything published (in a new directory under
/// `workdir`), stores its snapshot in the blob store, then moves the
/// `search/latest.json` pointer to it. Readers see the old snapshot or the new
/// one, never half of one.
pub async fn build_and_publish(app: &qnet_app::App, workdir: &Path) -> Result<SnapshotPointer, SearchError> {
    let dir = fresh_dir(workdir)?;
    let result = async {
        let index = Arc::new(SearchIndex::open_dir(&dir)?);
        let builder = app.clone().with_search(index.clone());
        let documents = builder.rebuild_search_index().await.map_err(|e| SearchError::BadSnapshot(e.to_string()))?;
        let bytes = index.snapshot()?;
        let id = format!("{}-{}", snapshot_id(), std::process::id());
        let pointer = SnapshotPointer {
            key: qnet_app::keys::search_snapshot_blob(&id),
            built_at: qnet_domain::timestamp(app.clock().now()),
            documents,
        };
        let store = |e: qnet_ports::BlobError| SearchError::Io(std::io::Error::other(e.to_string()));
        app.blobs.put(&pointer.key, bytes, "application/x-tar").await.map_err(store)?;
        let json = serde_json::to_vec(&pointer).expect("pointers serialise");
        app.blobs.put(qnet_app::keys::SEARCH_LATEST_BLOB, json, "application/json").await.map_err(store)?;
        Ok(pointer)
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn snapshot_id() -> String {
    // The real time only orders and names snapshot files (the pointer says which
    // is current); it is never compared with the app's clock.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{nanos:024}")
}

/// The newest published snapshot, unpacked under `workdir`, unless it is the
/// one `current` names. `None` when there is none or it is the same.
pub async fn load_latest(
    app: &qnet_app::App,
    workdir: &Path,
    current: Option<&str>,
) -> Result<Option<(String, SearchIndex)>, SearchError> {
    let store = |e: qnet_ports::BlobError| SearchError::Io(std::io::Error::other(e.to_string()));
    if app.blobs.head(qnet_app::keys::SEARCH_LATEST_BLOB).await.map_err(store)?.is_none() {
        return Ok(None);
    }
    let pointer: SnapshotPointer =
        serde_json::from_slice(&app.blobs.get(qnet_app::keys::SEARCH_LATEST_BLOB).await.map_err(store)?)
            .map_err(|e| SearchError::BadSnapshot(e.to_string()))?;
    if current == Some(pointer.key.as_str()) {
        return Ok(None);
    }
    let bytes = app.blobs.get(&pointer.key).await.map_err(store)?;
    let dir = fresh_dir(workdir)?;
    let index = SearchIndex::from_snapshot(&bytes, &dir)?;
    Ok(Some((pointer.key, index)))
}

/// Fills `index` with the newest snapshot when there is one, otherwise with
/// one built here from the table (a new deployment before the indexer's first
/// run).
async fn load_into(app: &qnet_app::App, workdir: &Path, index: &SwappableIndex) -> Result<(), SearchError> {
    if let Some((key, fresh)) = load_latest(app, workdir, None).await? {
        index.swap(fresh, key);
        return Ok(());
    }
    let built = Arc::new(SearchIndex::open_dir(&fresh_dir(workdir)?)?);
    app.clone().with_search(built.clone()).rebuild_search_index().await.map_err(|e| SearchError::BadSnapshot(e.to_string()))?;
    index.set(built, None);
    Ok(())
}

/// An index loaded now, as [`LazySearch`] loads it on first need.
pub async fn startup_index(app: &qnet_app::App, workdir: &Path) -> Result<Arc<SwappableIndex>, SearchError> {
    let index = Arc::new(SwappableIndex::unloaded());
    load_into(app, workdir, &index).await?;
    Ok(index)
}

/// Checks for a newer snapshot every `period` and swaps it in.
pub fn spawn_refresher(
    app: qnet_app::App,
    index: Arc<SwappableIndex>,
    workdir: PathBuf,
    period: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            let current = index.source();
            match load_latest(&app, &workdir, current.as_deref()).await {
                Ok(Some((key, fresh))) => {
                    index.swap(fresh, key);
                    tracing::info!("a newer search index is in use");
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "the search index could not be refreshed"),
            }
        }
    })
}

/// The API's search, loaded when it is first needed rather than during init:
/// a Lambda's init is capped at 10 seconds and paid by every cold start, and a
/// rebuild from a large table (no snapshot yet) could take longer. The first
/// request that calls [`LazySearch::ensure_loaded`] pays the load (the newest
/// snapshot: two blob reads and an unpack; or the rebuild); later ones pay
/// nothing, and a refresher then swaps in newer snapshots every `period`. If
/// nothing can be loaded, searches answer 503 and the refresher keeps trying.
#[derive(Clone)]
pub struct LazySearch {
    app: qnet_app::App,
    index: Arc<SwappableIndex>,
    workdir: PathBuf,
    period: Duration,
    loaded: Arc<tokio::sync::OnceCell<()>>,
}

impl LazySearch {
    /// `app` is the app the index is read from (without search of its own).
    pub fn new(app: &qnet_app::App, workdir: PathBuf, period: Duration) -> LazySearch {
        LazySearch {
            app: app.clone(),
            index: Arc::new(SwappableIndex::unloaded()),
            workdir,
            period,
            loaded: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// The index to give the app (`App::with_search`); unloaded until
    /// [`LazySearch::ensure_loaded`] first runs.
    pub fn index(&self) -> Arc<SwappableIndex> {
        self.index.clone()
    }

    /// Loads the index once; concurrent callers wait for the same load.
    pub async fn ensure_loaded(&self) {
        self.loaded
            .get_or_init(|| async {
                if let Err(e) = load_into(&self.app, &self.workdir, &self.index).await {
                    tracing::error!(error = %e, "no search index yet: GET /search answers 503 until a snapshot loads");
                }
                spawn_refresher(self.app.clone(), self.index.clone(), self.workdir.clone(), self.period);
            })
            .await;
    }
}
