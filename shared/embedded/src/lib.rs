//! Embedded adapters for the local runner: the record store on SQLite and the blob
//! store on plain files, both under one data directory.
//!
//! They reproduce the production semantics (DynamoDB conditions, TTL and
//! pagination; S3 presigned uploads that refuse other bytes) so that what works
//! locally works in AWS. The shared behaviour suite in `tests/` runs the same
//! checks against these and the AWS adapters.

mod blobs;
mod commit;
mod outbox;
mod records;
mod secret;

pub use blobs::{Download, DownloadRefusal, EmbeddedBlobStore, UploadRefusal};
pub use outbox::{Outbox, OutboxEntry};
pub use records::{EmbeddedRecordStore, OpenError};
pub use secret::load_or_create_secret;

/// Unix seconds from a port clock; both stores judge TTLs and URL expiry by it.
fn unix_now(clock: &dyn qnet_ports::Clock) -> i64 {
    clock.now().unix_timestamp()
}
