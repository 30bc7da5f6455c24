//! The search indexer Lambda: the table's stream (filtered to case study, resource and event records,
//! batched for up to a minute, which debounces bursts of edits) triggers a full
//! rebuild of the search index from the table, stored as a snapshot in S3 for
//! the API to load. A full rebuild of a network's few thousand documents takes
//! about a second, and it can never drift from the table.

use std::path::Path;

use qnet_app::App;
use qnet_search::SnapshotPointer;

/// Counts the stream records that triggered this run (for the log; the rebuild
/// reads the table, not the records).
pub fn changed_records(event: &serde_json::Value) -> usize {
    event.get("Records").and_then(|r| r.as_array()).map(Vec::len).unwrap_or(0)
}

pub async fn handle(app: &App, workdir: &Path, event: serde_json::Value) -> Result<SnapshotPointer, qnet_search::SearchError> {
    let changed = changed_records(&event);
    let pointer = qnet_search::build_and_publish(app, workdir).await?;
    tracing::info!(changed, documents = pointer.documents, snapshot = %pointer.key, "search index rebuilt");
    Ok(pointer)
}
