//! Published lists, the one way: a listed record (case study, resource, event,
//! project) keeps one summary entry in each list partition it belongs to, under
//! one sort key, so each filter is one Query; a client pages a list with a
//! bounded limit and an opaque cursor that only that list accepts. The
//! moderation mechanism (`moderation.rs`) decides what is published; this
//! module writes and reads the lists.

use qnet_ports::{Condition, Cursor, Item, Write};

use crate::{AppError, AppResult};

/// The most items a page of any list holds.
pub const MAX_PAGE: u32 = 100;

/// A page size a client asked for, from 1 to [`MAX_PAGE`].
pub(crate) fn page_limit(limit: u32) -> AppResult<u32> {
    if (1..=MAX_PAGE).contains(&limit) { Ok(limit) } else { Err(AppError::invalid("limit", "must be from 1 to 100")) }
}

/// The store position a client's cursor names; anything else is a bad cursor.
/// With `partition`, a cursor of another list is refused too (the stores also
/// refuse a cursor from another partition or key range).
pub(crate) fn parse_cursor(cursor: Option<&str>, partition: Option<&str>) -> AppResult<Option<Cursor>> {
    let cursor = cursor.map(Cursor::decode).transpose().map_err(|_| AppError::BadCursor)?;
    match (&cursor, partition) {
        (Some(c), Some(p)) if c.pk != p => Err(AppError::BadCursor),
        _ => Ok(cursor),
    }
}

/// Where a record's list entries are: its partitions and its sort key.
pub(crate) struct ListEntries {
    pub(crate) partitions: Vec<String>,
    pub(crate) sort_key: String,
}

/// The writes that move a record's list entries from `before` (none for a new
/// record) to `after`: puts of `summary` for every list it is in now (expiring
/// at `expires`, epoch seconds, when given), deletes for the entries it leaves
/// (an entry whose key stays is overwritten, not deleted).
pub(crate) fn list_entry_writes(
    before: Option<&ListEntries>,
    after: &ListEntries,
    summary: &serde_json::Value,
    expires: Option<i64>,
) -> Vec<Write> {
    let mut w: Vec<Write> = after
        .partitions
        .iter()
        .map(|p| {
            let mut item = Item::new(p.clone(), after.sort_key.clone(), summary.clone());
            if let Some(at) = expires {
                item = item.expiring_at(at);
            }
            Write::Put { item, condition: Condition::None }
        })
        .collect();
    if let Some(before) = before {
        let same_key = before.sort_key == after.sort_key;
        for p in before.partitions.iter().filter(|p| !(same_key && after.partitions.contains(p))) {
            w.push(Write::Delete { pk: p.clone(), sk: before.sort_key.clone(), condition: Condition::None });
        }
    }
    w
}
