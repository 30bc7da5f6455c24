//! The record store on one DynamoDB table (single-table design).
//!
//! Item layout: `PK`, `SK`, `GSI1PK`/`GSI1SK`, `GSI2PK`/`GSI2SK` (absent when the
//! item is not in that index, which keeps the indexes sparse), `version`,
//! `expires_at` (the table's TTL attribute) and `data`, the JSON document as a
//! DynamoDB map so it stays readable in the console.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update};
use qnet_ports::{Clock, Condition, Cursor, Index, IndexKey, Item, Page, Query, RecordStore, StoreError, SystemClock, Write};
use std::sync::Arc;

const PK: &str = "PK";
const SK: &str = "SK";
const VERSION: &str = "version";
const EXPIRES_AT: &str = "expires_at";
const DATA: &str = "data";
/// The prefix of a tally item's count attributes (`Write::Tally`).
const TALLY_PREFIX: &str = "t:";

/// Index names as created by `ensure_table` and the SAM template.
pub const GSI1: &str = "GSI1";
pub const GSI2: &str = "GSI2";

type Attributes = HashMap<String, AttributeValue>;

/// DynamoDB-backed [`RecordStore`].
#[derive(Clone)]
pub struct DynamoRecordStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl DynamoRecordStore {
    pub fn new(client: Client, table: String) -> Self {
        DynamoRecordStore { client, table, clock: Arc::new(SystemClock) }
    }

    /// Judges TTLs by `clock`: DynamoDB deletes expired items lazily (up to days
    /// later), so every read and condition compares `expires_at` with "now".
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }
}

#[async_trait]
impl RecordStore for DynamoRecordStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            // Read-your-writes, as the embedded store gives.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        let now = self.now();
        match out.item {
            Some(attrs) => Ok(Some(from_attributes(attrs)?).filter(|i| !i.is_expired(now))),
            None => Ok(None),
        }
    }

    /// The reads run at once (GetItem each, so one round trip's latency and
    /// no extra IAM action), answered in the order asked.
    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Option<Item>>, StoreError> {
        let mut reads = tokio::task::JoinSet::new();
        for (i, (pk, sk)) in keys.iter().enumerate() {
            let (store, pk, sk) = (self.clone(), pk.clone(), sk.clone());
            reads.spawn(async move { (i, store.get(&pk, &sk).await) });
        }
        let mut out = vec![None; keys.len()];
        while let Some(done) = reads.join_next().await {
            let (i, item) = done.map_err(|e| StoreError::Unavailable(format!("a read stopped: {e}")))?;
            out[i] = item?;
        }
        Ok(out)
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        let cond = ConditionExpr::new(condition, self.now());
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attributes(&item)?))
            .set_condition_expression(cond.as_ref().map(|c| c.expression.clone()))
            .set_expression_attribute_names(cond.as_ref().map(|c| c.names.clone()))
            .set_expression_attribute_values(cond.as_ref().and_then(|c| c.values.clone()))
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) {
                    StoreError::ConditionFailed
                } else {
                    sdk_error("PutItem", e)
                }
            })?;
        Ok(())
    }

    async fn delete(&self, pk: &str, sk: &str, condition: Condition) -> Result<(), StoreError> {
        let cond = ConditionExpr::new(condition, self.now());
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .set_condition_expression(cond.as_ref().map(|c| c.expression.clone()))
            .set_expression_attribute_names(cond.as_ref().map(|c| c.names.clone()))
            .set_expression_attribute_values(cond.as_ref().and_then(|c| c.values.clone()))
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) {
                    StoreError::ConditionFailed
                } else {
                    sdk_error("DeleteItem", e)
                }
            })?;
        Ok(())
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let mut start_key = start_key(&query)?;
        if query.limit == 0 {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let limit = query.limit as usize;
        let now = self.now();
        let (index_name, pk_attr, sk_attr) = match query.index {
            Index::Primary => (None, PK, SK),
            Index::Gsi1 => (Some(GSI1), "GSI1PK", "GSI1SK"),
            Index::Gsi2 => (Some(GSI2), "GSI2PK", "GSI2SK"),
        };
        let mut key_condition = "#pk = :pk".to_owned();
        let mut values = HashMap::from([
            (":pk".to_owned(), AttributeValue::S(query.pk.clone())),
            (":now".to_owned(), AttributeValue::N(now.to_string())),
        ]);
        if let Some(prefix) = &query.sk_prefix {
            key_condition.push_str(" AND begins_with(#sk, :prefix)");
            values.insert(":prefix".into(), AttributeValue::S(prefix.clone()));
        }
        let mut names = HashMap::from([("#pk".to_owned(), pk_attr.to_owned()), ("#exp".to_owned(), EXPIRES_AT.to_owned())]);
        if query.sk_prefix.is_some() {
            names.insert("#sk".into(), sk_attr.into());
        }

        // Ask for one more live item than the page holds, so `next` is set only
        // when something follows (as the embedded store does). Expired items not
        // yet deleted by TTL are filtered out by DynamoDB after `Limit` is
        // applied, so a response may be short or empty while more follow: keep
        // querying from LastEvaluatedKey until the page is full or the
        // partition ends.
        let mut items = Vec::with_capacity(limit + 1);
        loop {
            let want = i32::try_from(limit + 1 - items.len()).unwrap_or(i32::MAX);
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index_name.map(str::to_owned))
                .key_condition_expression(&key_condition)
                .filter_expression("attribute_not_exists(#exp) OR #exp > :now")
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(query.ascending)
                // Secondary indexes only offer eventual consistency; the table
                // itself can read its own writes, as the embedded store does.
                .set_consistent_read(index_name.is_none().then_some(true))
                .limit(want)
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .map_err(|e| {
                    if e.code() == Some("ValidationException") && e.message().is_some_and(|m| m.contains("starting key")) {
                        StoreError::BadCursor
                    } else {
                        sdk_error("Query", e)
                    }
                })?;
            for attrs in out.items.unwrap_or_default() {
                let item = from_attributes(attrs)?;
                if !item.is_expired(now) {
                    items.push(item);
                }
            }
            if items.len() > limit {
                break;
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start_key = Some(k),
                _ => break,
            }
        }
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more { items.last().map(|last| cursor_after(query.index, last)) } else { None };
        Ok(Page { items, next })
    }

    fn at_clock(&self, clock: Arc<dyn Clock>) -> Arc<dyn RecordStore> {
        Arc::new(self.clone().with_clock(clock))
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let now = self.now();
        // A lone increment (a download count) is a plain UpdateItem: DynamoDB
        // cancels concurrent transactions on one item (TransactionConflict), while
        // concurrent updates of it all apply.
        if let [Write::Increment { .. }] = writes.as_slice() {
            let single = transact_item(&self.table, writes.into_iter().next().expect("one write"), now)?;
            let u = single.update().ok_or_else(|| StoreError::Unavailable("an increment builds an update".into()))?;
            return self
                .client
                .update_item()
                .table_name(u.table_name())
                .set_key(Some(u.key().clone()))
                .update_expression(u.update_expression())
                .set_condition_expression(u.condition_expression().map(str::to_string))
                .set_expression_attribute_names(u.expression_attribute_names().cloned())
                .set_expression_attribute_values(u.expression_attribute_values().cloned())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| match e.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(_)) => {
                        StoreError::TransactionConflict { index: Some(0) }
                    }
                    _ => sdk_error("UpdateItem", e),
                });
        }
        let mut transact_items = Vec::with_capacity(writes.len());
        for w in writes {
            transact_items.push(transact_item(&self.table, w, now)?);
        }
        // A TransactionConflict with no failed condition means another
        // transaction touched one of the items at the same moment (the shared
        // insight counts make that likely): nothing was written and every
        // condition still stands, so it is tried again after a short, varied
        // pause before it is reported as a conflict.
        for attempt in 1..=CONFLICT_ATTEMPTS {
            let sent = self.client.transact_write_items().set_transact_items(Some(transact_items.clone())).send().await;
            let Err(e) = sent else { return Ok(()) };
            let error = match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(tce)) => {
                    let codes: Vec<Option<&str>> = tce.cancellation_reasons().iter().map(|r| r.code()).collect();
                    cancellation_to_error(&codes).unwrap_or_else(|| sdk_error("TransactWriteItems", e))
                }
                _ => sdk_error("TransactWriteItems", e),
            };
            match error {
                StoreError::TransactionConflict { index: None } if attempt < CONFLICT_ATTEMPTS => {
                    tokio::time::sleep(conflict_pause(attempt)).await;
                }
                other => return Err(other),
            }
        }
        Err(StoreError::TransactionConflict { index: None })
    }
}

/// How often a transaction cancelled only by a concurrent one is sent.
const CONFLICT_ATTEMPTS: u32 = 4;

/// The pause before attempt `attempt + 1`: growing, and varied (by the
/// standard library's random hash seed) so that two writers that collided do
/// not collide again.
fn conflict_pause(attempt: u32) -> std::time::Duration {
    use std::hash::{BuildHasher, Hasher};
    let jitter = std::collections::hash_map::RandomState::new().build_hasher().finish() % 25;
    std::time::Duration::from_millis(u64::from(10 * attempt) + jitter)
}

/// Reads DynamoDB's cancellation reasons (one per write, in order): the first
/// `ConditionalCheckFailed` names the failing write; a `TransactionConflict`
/// (another transaction touched the items) is a conflict without an index.
/// Anything else (throttling, validation) is not a conflict: `None`.
fn cancellation_to_error(codes: &[Option<&str>]) -> Option<StoreError> {
    if let Some(index) = codes.iter().position(|c| *c == Some("ConditionalCheckFailed")) {
        return Some(StoreError::TransactionConflict { index: Some(index) });
    }
    if codes.contains(&Some("TransactionConflict")) {
        return Some(StoreError::TransactionConflict { index: None });
    }
    None
}

fn transact_item(table: &str, write: Write, now: i64) -> Result<TransactWriteItem, StoreError> {
    let built = match write {
        Write::Put { item, condition } => {
            let cond = ConditionExpr::new(condition, now);
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(to_attributes(&item)?))
                .set_condition_expression(cond.as_ref().map(|c| c.expression.clone()))
                .set_expression_attribute_names(cond.as_ref().map(|c| c.names.clone()))
                .set_expression_attribute_values(cond.and_then(|c| c.values))
                .build();
            put.map(|p| TransactWriteItem::builder().put(p).build())
        }
        Write::Delete { pk, sk, condition } => {
            let cond = ConditionExpr::new(condition, now);
            Delete::builder()
                .table_name(table)
                .set_key(Some(key(&pk, &sk)))
                .set_condition_expression(cond.as_ref().map(|c| c.expression.clone()))
                .set_expression_attribute_names(cond.as_ref().map(|c| c.names.clone()))
                .set_expression_attribute_values(cond.and_then(|c| c.values))
                .build()
                .map(|d| TransactWriteItem::builder().delete(d).build())
        }
        Write::Check { pk, sk, condition } => {
            // ConditionCheck needs an expression; `None` becomes one that always
            // holds, so write indexes still line up with cancellation reasons.
            let cond = ConditionExpr::new(condition, now).unwrap_or_else(ConditionExpr::always);
            ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(key(&pk, &sk)))
                .condition_expression(cond.expression)
                .set_expression_attribute_names(Some(cond.names))
                .set_expression_attribute_values(cond.values)
                .build()
                .map(|c| TransactWriteItem::builder().condition_check(c).build())
        }
        Write::Increment { pk, sk, field, by, at_least, at_most } => {
            let live = "(attribute_not_exists(#exp) OR #exp > :now)";
            // An absent field counts as 0: allowed when 0 + by is within the bounds.
            let absent_fits = at_most.is_none_or(|m| by <= m) && at_least.is_none_or(|m| by >= m);
            let mut bounds = Vec::new();
            let mut values = HashMap::from([
                (":now".to_owned(), AttributeValue::N(now.to_string())),
                (":by".to_owned(), AttributeValue::N(by.to_string())),
                (":zero".to_owned(), AttributeValue::N("0".into())),
            ]);
            // Bounds on the current value: current + by <= at_most, current + by >= at_least.
            if let Some(m) = at_most {
                bounds.push("#data.#f <= :most");
                values.insert(":most".into(), AttributeValue::N(m.saturating_sub(by).to_string()));
            }
            if let Some(m) = at_least {
                bounds.push("#data.#f >= :least");
                values.insert(":least".into(), AttributeValue::N(m.saturating_sub(by).to_string()));
            }
            let mut expression = format!("attribute_exists(#pk) AND {live}");
            if !bounds.is_empty() {
                let present = bounds.join(" AND ");
                if absent_fits {
                    expression.push_str(&format!(" AND (attribute_not_exists(#data.#f) OR ({present}))"));
                } else {
                    expression.push_str(&format!(" AND attribute_exists(#data.#f) AND {present}"));
                }
            }
            Update::builder()
                .table_name(table)
                .set_key(Some(key(&pk, &sk)))
                .update_expression("SET #data.#f = if_not_exists(#data.#f, :zero) + :by")
                .condition_expression(expression)
                .set_expression_attribute_names(Some(HashMap::from([
                    ("#pk".to_owned(), PK.to_owned()),
                    ("#exp".to_owned(), EXPIRES_AT.to_owned()),
                    ("#data".to_owned(), DATA.to_owned()),
                    ("#f".to_owned(), field),
                ])))
                .set_expression_attribute_values(Some(values))
                .build()
                .map(|u| TransactWriteItem::builder().update(u).build())
        }
        Write::Tally { pk, sk, adds } => {
            qnet_ports::check_tally(&adds)?;
            let mut names = HashMap::from([("#ver".to_owned(), VERSION.to_owned())]);
            let mut values = HashMap::from([(":one".to_owned(), AttributeValue::N("1".into()))]);
            let mut parts = Vec::with_capacity(adds.len());
            for (n, (field, by)) in adds.into_iter().enumerate() {
                names.insert(format!("#t{n}"), format!("{TALLY_PREFIX}{field}"));
                values.insert(format!(":t{n}"), AttributeValue::N(by.to_string()));
                parts.push(format!("#t{n} :t{n}"));
            }
            let mut expression = "SET #ver = if_not_exists(#ver, :one)".to_owned();
            if !parts.is_empty() {
                expression.push_str(" ADD ");
                expression.push_str(&parts.join(", "));
            }
            Update::builder()
                .table_name(table)
                .set_key(Some(key(&pk, &sk)))
                .update_expression(expression)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .build()
                .map(|u| TransactWriteItem::builder().update(u).build())
        }
    };
    built.map_err(|e| StoreError::Unavailable(format!("building a transaction: {e}")))
}

/// A write condition as a DynamoDB ConditionExpression. An expired item (TTL
/// passed, not yet deleted) counts as absent, hence the `expires_at` clauses.
struct ConditionExpr {
    expression: String,
    names: HashMap<String, String>,
    values: Option<Attributes>,
}

impl ConditionExpr {
    fn new(condition: Condition, now: i64) -> Option<Self> {
        let live = "(attribute_not_exists(#exp) OR #exp > :now)";
        let (expression, version) = match condition {
            Condition::None => return None,
            Condition::NotExists => ("attribute_not_exists(#pk) OR #exp <= :now".to_owned(), None),
            Condition::Exists => (format!("attribute_exists(#pk) AND {live}"), None),
            Condition::VersionIs(v) => (format!("attribute_exists(#pk) AND #ver = :ver AND {live}"), Some(v)),
        };
        let mut names = HashMap::from([("#pk".to_owned(), PK.to_owned()), ("#exp".to_owned(), EXPIRES_AT.to_owned())]);
        let mut values = HashMap::from([(":now".to_owned(), AttributeValue::N(now.to_string()))]);
        if let Some(v) = version {
            names.insert("#ver".into(), VERSION.into());
            values.insert(":ver".into(), AttributeValue::N(v.to_string()));
        }
        Some(ConditionExpr { expression, names, values: Some(values) })
    }

    fn always() -> Self {
        ConditionExpr {
            expression: "attribute_exists(#pk) OR attribute_not_exists(#pk)".into(),
            names: HashMap::from([("#pk".to_owned(), PK.to_owned())]),
            values: None,
        }
    }
}

fn key(pk: &str, sk: &str) -> Attributes {
    HashMap::from([(PK.to_owned(), AttributeValue::S(pk.to_owned())), (SK.to_owned(), AttributeValue::S(sk.to_owned()))])
}

/// The ExclusiveStartKey for the query's cursor: the table key plus, on an
/// index, the index key (DynamoDB needs both to resume an index query).
///
/// A cursor from another partition or outside the sort key prefix is refused
/// here, before DynamoDB sees it, with the same rule as the embedded store.
fn start_key(query: &Query) -> Result<Option<Attributes>, StoreError> {
    let Some(c) = &query.cursor else {
        return Ok(None);
    };
    let mut k = key(&c.pk, &c.sk);
    let isk = match (query.index, &c.ipk, &c.isk) {
        (Index::Primary, None, None) if c.pk == query.pk => &c.sk,
        (Index::Gsi1 | Index::Gsi2, Some(ipk), Some(isk)) if *ipk == query.pk => {
            let (pk_attr, sk_attr) = if query.index == Index::Gsi1 { ("GSI1PK", "GSI1SK") } else { ("GSI2PK", "GSI2SK") };
            k.insert(pk_attr.into(), AttributeValue::S(ipk.clone()));
            k.insert(sk_attr.into(), AttributeValue::S(isk.clone()));
            isk
        }
        _ => return Err(StoreError::BadCursor),
    };
    if let Some(prefix) = &query.sk_prefix
        && !isk.starts_with(prefix.as_str())
    {
        return Err(StoreError::BadCursor);
    }
    Ok(Some(k))
}

/// The cursor for "after this item"; the embedded store builds the same form.
fn cursor_after(index: Index, item: &Item) -> Cursor {
    let key = match index {
        Index::Primary => None,
        Index::Gsi1 => item.gsi1.as_ref(),
        Index::Gsi2 => item.gsi2.as_ref(),
    };
    Cursor { pk: item.pk.clone(), sk: item.sk.clone(), ipk: key.map(|k| k.pk.clone()), isk: key.map(|k| k.sk.clone()) }
}

pub(crate) fn to_attributes(item: &Item) -> Result<Attributes, StoreError> {
    let mut attrs = key(&item.pk, &item.sk);
    for (k, (pk_attr, sk_attr)) in [(&item.gsi1, ("GSI1PK", "GSI1SK")), (&item.gsi2, ("GSI2PK", "GSI2SK"))] {
        if let Some(k) = k {
            attrs.insert(pk_attr.into(), AttributeValue::S(k.pk.clone()));
            attrs.insert(sk_attr.into(), AttributeValue::S(k.sk.clone()));
        }
    }
    attrs.insert(VERSION.into(), AttributeValue::N(item.version.to_string()));
    if let Some(t) = item.expires_at {
        attrs.insert(EXPIRES_AT.into(), AttributeValue::N(t.to_string()));
    }
    let data = serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(&item.data)
        .map_err(|e| StoreError::Unavailable(format!("cannot encode item data: {e}")))?;
    attrs.insert(DATA.into(), data);
    Ok(attrs)
}

pub(crate) fn from_attributes(mut attrs: Attributes) -> Result<Item, StoreError> {
    let mut take_s = |name: &str| match attrs.remove(name) {
        Some(AttributeValue::S(s)) => Ok(Some(s)),
        None => Ok(None),
        Some(_) => Err(bad_item(name)),
    };
    let pk = take_s(PK)?.ok_or_else(|| bad_item(PK))?;
    let sk = take_s(SK)?.ok_or_else(|| bad_item(SK))?;
    let gsi1 = index_key(take_s("GSI1PK")?, take_s("GSI1SK")?);
    let gsi2 = index_key(take_s("GSI2PK")?, take_s("GSI2SK")?);
    let version = match attrs.remove(VERSION) {
        Some(AttributeValue::N(n)) => n.parse().map_err(|_| bad_item(VERSION))?,
        _ => return Err(bad_item(VERSION)),
    };
    let expires_at = match attrs.remove(EXPIRES_AT) {
        Some(AttributeValue::N(n)) => Some(n.parse().map_err(|_| bad_item(EXPIRES_AT))?),
        None => None,
        Some(_) => return Err(bad_item(EXPIRES_AT)),
    };
    let mut data = match attrs.remove(DATA) {
        Some(av) => serde_dynamo::aws_sdk_dynamodb_1::from_attribute_value(av)
            .map_err(|e| StoreError::Unavailable(format!("stored item data is not JSON: {e}")))?,
        None => serde_json::Value::Null,
    };
    // A tally item (`Write::Tally`) keeps its counts as top-level numbers.
    for (name, value) in attrs {
        let Some(field) = name.strip_prefix(TALLY_PREFIX) else { continue };
        let AttributeValue::N(n) = value else { return Err(bad_item(TALLY_PREFIX)) };
        let n: i64 = n.parse().map_err(|_| bad_item(TALLY_PREFIX))?;
        if data.is_null() {
            data = serde_json::json!({});
        }
        let Some(map) = data.as_object_mut() else { return Err(bad_item(DATA)) };
        map.insert(field.to_owned(), serde_json::Value::from(n));
    }
    Ok(Item { pk, sk, gsi1, gsi2, version, expires_at, data })
}

fn index_key(pk: Option<String>, sk: Option<String>) -> Option<IndexKey> {
    Some(IndexKey { pk: pk?, sk: sk? })
}

fn bad_item(attribute: &str) -> StoreError {
    StoreError::Unavailable(format!("stored item has a missing or malformed {attribute}"))
}

/// Errors that are not conflicts: too large, or the store failing. The full
/// error chain goes to the log once; callers get a short message.
fn sdk_error<E, R>(operation: &str, e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if e.code() == Some("ValidationException")
        && e.message().is_some_and(|m| m.contains("size has exceeded") || m.contains("Item size"))
    {
        return StoreError::TooLarge;
    }
    tracing::error!(operation, error = %DisplayErrorContext(&e), "DynamoDB call failed");
    StoreError::Unavailable(format!("DynamoDB {operation}: {}", e.code().or(e.message()).unwrap_or("request failed")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_round_trip_through_attributes() {
        let item = Item::new(
            "CS#1",
            "META",
            json!({
                "title": "", "n": 7, "neg": -3, "big": u64::MAX, "f": 1.5, "nil": null, "yes": true,
                "list": [1, "two", null, [], {}], "nested": {"empty": "", "deep": {"x": [false]}}
            }),
        )
        .with_gsi1("ORG#1", "2024-01-01")
        .with_version(4)
        .expiring_at(1_900_000_000);
        let back = from_attributes(to_attributes(&item).unwrap()).unwrap();
        assert_eq!(back, item);
    }

    #[test]
    fn cancellation_reasons_name_the_failing_write() {
        let conflict = cancellation_to_error(&[Some("None"), Some("ConditionalCheckFailed"), Some("None")]);
        assert!(matches!(conflict, Some(StoreError::TransactionConflict { index: Some(1) })));
        let race = cancellation_to_error(&[Some("TransactionConflict"), None]);
        assert!(matches!(race, Some(StoreError::TransactionConflict { index: None })));
        assert!(cancellation_to_error(&[Some("ThrottlingError")]).is_none());
    }
}
