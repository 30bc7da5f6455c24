//! Idempotency keys for creating requests: the first answer is stored beside the
//! record it created, in the same transaction, and replayed for a retry; the same
//! key with a different request gets a conflict. Records expire after a day.

use qnet_ports::{Condition, Item, Write};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{App, AppError, AppResult, decode, encode, keys};

pub const RETENTION_SECONDS: i64 = 24 * 60 * 60;

/// A client's Idempotency-Key, scoped to the member who sent it.
#[derive(Clone)]
pub struct IdempotencyKey {
    pub(crate) pk: String,
    pub(crate) sk: String,
    request_hash: String,
    envelope: Envelope,
}

impl std::fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotencyKey").field("pk", &self.pk).field("sk", &self.sk).finish_non_exhaustive()
    }
}

/// A create's idempotency record keeps the created body (its text) for a day;
/// the created item names that record so that a take-down removes it too.
pub(crate) fn naming_record(mut item: Item, idem: Option<&IdempotencyKey>) -> Item {
    if let (Some(k), Some(data)) = (idem, item.data.as_object_mut()) {
        data.insert("idempotency_record".into(), serde_json::json!([k.pk, k.sk]));
    }
    item
}

/// The delete of the idempotency record an item names, if it names one.
pub(crate) fn delete_named_record(item: &Item) -> Option<Write> {
    let key = item.data.get("idempotency_record")?.as_array()?;
    let (pk, sk) = (key.first()?.as_str()?, key.get(1)?.as_str()?);
    Some(Write::Delete { pk: pk.to_string(), sk: sk.to_string(), condition: Condition::None })
}

impl IdempotencyKey {
    /// `request` identifies the request (the API passes the method, the matched
    /// route with its parameters, and the body bytes); `envelope` is how the
    /// API answers a create, kept beside the body so that a replay answers the
    /// same bytes.
    pub fn new(member_id: &str, key: &str, request: &[&[u8]], envelope: Envelope) -> Result<IdempotencyKey, AppError> {
        if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::invalid("Idempotency-Key", "must be 1 to 200 visible ASCII characters"));
        }
        let (pk, sk) = keys::idempotency(member_id, &hex::encode(Sha256::digest(key.as_bytes())));
        let mut h = Sha256::new();
        for part in request {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        Ok(IdempotencyKey { pk, sk, request_hash: hex::encode(h.finalize()), envelope })
    }
}

/// The API's answer to a create with a given id: its status and `Location`.
/// The app does not read it; it stores it with the body for a replay.
pub type Envelope = Arc<dyn Fn(&str) -> (u16, Option<String>) + Send + Sync>;

/// A record a use case created: its id and its view as answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub id: String,
    pub view: serde_json::Value,
}

impl Created {
    pub fn new(id: impl Into<String>, view: &impl Serialize) -> Created {
        Created { id: id.into(), view: encode(view) }
    }
}

/// An answer stored under an idempotency key, as the API first gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    pub status: u16,
    pub location: Option<String>,
    pub body: serde_json::Value,
}

/// What a creating use case answers: a new record, or the stored answer of an
/// earlier request with the same idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub enum Creation {
    Created(Created),
    Replayed(Replay),
}

impl Creation {
    /// The view answered (fresh or stored).
    pub fn view(&self) -> &serde_json::Value {
        match self {
            Creation::Created(c) => &c.view,
            Creation::Replayed(r) => &r.body,
        }
    }

    pub fn view_mut(&mut self) -> &mut serde_json::Value {
        match self {
            Creation::Created(c) => &mut c.view,
            Creation::Replayed(r) => &mut r.body,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Record {
    request_hash: String,
    response: Replay,
}

impl App {
    /// The stored answer for this key, if a request with it has completed.
    pub async fn replay(&self, idem: Option<&IdempotencyKey>) -> AppResult<Option<Replay>> {
        let Some(k) = idem else { return Ok(None) };
        let Some(item) = self.records.get(&k.pk, &k.sk).await? else { return Ok(None) };
        let rec: Record = decode(&item)?;
        if rec.request_hash != k.request_hash {
            return Err(AppError::IdempotencyMismatch);
        }
        Ok(Some(rec.response))
    }

    /// Applies `writes` and the idempotency record together. When a concurrent
    /// request with the same key won, its answer is replayed instead.
    pub(crate) async fn commit(
        &self,
        mut writes: Vec<Write>,
        created: Created,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<Creation> {
        if let Some(k) = idem {
            let (status, location) = (k.envelope)(&created.id);
            let rec = Record {
                request_hash: k.request_hash.clone(),
                response: Replay { status, location, body: created.view.clone() },
            };
            let expires = self.now().unix_timestamp() + RETENTION_SECONDS;
            writes.push(Write::Put {
                item: Item::new(k.pk.clone(), k.sk.clone(), encode(&rec)).expiring_at(expires),
                condition: Condition::NotExists,
            });
        }
        match self.records.transact(writes).await {
            Ok(()) => Ok(Creation::Created(created)),
            Err(e) if e.is_conflict() => match self.replay(idem).await? {
                Some(r) => Ok(Creation::Replayed(r)),
                None => Err(e.into()),
            },
            Err(e) => Err(e.into()),
        }
    }
}
