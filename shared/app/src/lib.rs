//! The application: repositories and use cases written once over the ports, used
//! by every function (the HTTP API, the attachment check, the pre-sign-up trigger)
//! and by the local runner.

pub mod auth;
pub mod case_studies;
pub mod config;
pub mod error;
pub mod idempotency;
pub mod keys;
pub mod members;
pub mod organisations;
pub mod uploads;
pub mod views;

use std::sync::Arc;

pub use auth::{Claims, LocalTokens, TokenError};
pub use error::{AppError, AppResult};
use qnet_ports::{BlobStore, Clock, Item, RecordStore};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Everything a use case needs, built once at start-up (Lambda init or `qnet
/// serve`) and shared by reference.
#[derive(Clone)]
pub struct App {
    pub records: Arc<dyn RecordStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    orgs: Arc<organisations::Directory>,
}

impl App {
    pub fn new(records: Arc<dyn RecordStore>, blobs: Arc<dyn BlobStore>, clock: Arc<dyn Clock>) -> App {
        App { records, blobs, clock, orgs: Arc::new(organisations::Directory::default()) }
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

    pub(crate) async fn get_record<T: DeserializeOwned>(&self, key: (String, String)) -> AppResult<Option<(T, Item)>> {
        match self.records.get(&key.0, &key.1).await? {
            Some(item) => Ok(Some((decode(&item)?, item))),
            None => Ok(None),
        }
    }
}

/// Decodes a stored record; a record that no longer decodes is a server fault.
pub(crate) fn decode<T: DeserializeOwned>(item: &Item) -> AppResult<T> {
    serde_json::from_value(item.data.clone())
        .map_err(|e| AppError::Unavailable(format!("stored record {} does not decode: {e}", item.pk)))
}

pub(crate) fn encode<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("records serialise")
}
