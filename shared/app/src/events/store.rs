//! Events and bookings as items: list entries, the places counter, the waitlist.

use crate::events::bookings::ATTEMPTS;
use crate::events::is_ulid;
use crate::events::views::summary;
use crate::listing::{ListEntries, list_entry_writes};
use crate::{App, AppError, AppResult, decode, encode, keys};
use qnet_domain::event::{Booking, BookingStatus, Event, EventStatus};
use qnet_ports::{Condition, Index, Item, Query, StoreError, Write};
use std::time::Duration;

pub(crate) fn list_partitions(e: &Event) -> Vec<String> {
    let mut v = vec![keys::event_list(None), keys::event_list(Some(("kind", e.kind.as_str())))];
    v.extend(e.topics.iter().map(|t| keys::event_list(Some(("topic", t)))));
    v.push(keys::event_list(Some(("org", &e.host_organisation_id))));
    v
}

pub(crate) fn list_sort_key(e: &Event) -> String {
    format!("{}#{}", e.starts_at, e.id)
}

/// The list entries to write and delete when an event goes from `old` to
/// `new`: a cancelled event leaves every list, and entries expire when the
/// event ends.
pub(crate) fn list_writes(old: Option<&Event>, new: &Event) -> Vec<Write> {
    let after = if new.status == EventStatus::Scheduled { list_partitions(new) } else { Vec::new() };
    let before = old.map(|o| ListEntries { partitions: list_partitions(o), sort_key: list_sort_key(o) });
    let after = ListEntries { partitions: after, sort_key: list_sort_key(new) };
    list_entry_writes(before.as_ref(), &after, &encode(&summary(new)), Some(new.ends().unix_timestamp()))
}

pub(crate) fn event_item(e: &Event) -> Item {
    let (pk, sk) = keys::event(&e.id);
    Item::new(pk, sk, encode(e)).with_version(e.version)
}

pub(crate) fn booking_item(b: &Booking) -> Item {
    let (pk, sk) = keys::booking(&b.event_id, &b.member_id);
    Item::new(pk, sk, encode(b))
        .with_version(b.version)
        .with_gsi2(keys::members_bookings(&b.member_id), keys::members_booking_sort_key(&b.event_starts_at, &b.event_id))
}

pub(crate) fn booking_ref_item(b: &Booking) -> Item {
    let (pk, sk) = keys::booking_ref(&b.event_id, &b.id);
    Item::new(pk, sk, serde_json::json!({"member_id": b.member_id}))
}

pub(crate) fn waitlist_item(b: &Booking, at: &str) -> Item {
    let (pk, sk) = keys::waitlist_entry(&b.event_id, at, &b.id);
    Item::new(pk, sk, serde_json::json!({"member_id": b.member_id, "booking_id": b.id}))
}

pub(crate) fn take_place(event: &Event) -> Write {
    let (pk, sk) = keys::event_places(&event.id);
    Write::Increment { pk, sk, field: "confirmed".into(), by: 1, at_least: None, at_most: Some(event.capacity as i64) }
}

pub(crate) fn free_place(event_id: &str) -> Write {
    let (pk, sk) = keys::event_places(event_id);
    Write::Increment { pk, sk, field: "confirmed".into(), by: -1, at_least: Some(0), at_most: None }
}

pub(crate) fn event_unchanged(event: &Event) -> Write {
    let (pk, sk) = keys::event(&event.id);
    Write::Check { pk, sk, condition: Condition::VersionIs(event.version) }
}

/// Which write of a transaction failed its condition, when the store said.
pub(crate) fn failed_write(e: &StoreError) -> Option<Option<usize>> {
    match e {
        StoreError::TransactionConflict { index } => Some(*index),
        StoreError::ConditionFailed => Some(None),
        _ => None,
    }
}

/// A short pause before trying a contended transaction again, growing with
/// each attempt and spread so that racing requests do not meet again.
pub(crate) async fn back_off(attempt: u32) {
    let ms = 5 * u64::from(attempt.min(10)) + rand::random::<u64>() % 20;
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

pub(crate) fn version_conflict(e: StoreError, current: u64) -> AppError {
    if e.is_conflict() { AppError::VersionMismatch { current: current + 1 } } else { e.into() }
}

impl App {
    pub(crate) async fn load_event(&self, id: &str) -> AppResult<(Event, u64)> {
        if !is_ulid(id) {
            return Err(AppError::NotFound("event"));
        }
        match self.get_record::<Event>(keys::event(id)).await? {
            Some((e, item)) => Ok((e, item.version)),
            None => Err(AppError::NotFound("event")),
        }
    }

    pub(crate) async fn confirmed_count(&self, event_id: &str) -> AppResult<u64> {
        let (pk, sk) = keys::event_places(event_id);
        Ok(self.records.get(&pk, &sk).await?.and_then(|i| i.data["confirmed"].as_u64()).unwrap_or(0))
    }

    /// Every booking of an event, in member id order.
    pub(crate) async fn bookings(&self, event_id: &str) -> AppResult<Vec<(Booking, Item)>> {
        let (pk, _) = keys::event(event_id);
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .records
                .query(Query::new(Index::Primary, pk.clone()).prefix(keys::BOOKING_PREFIX).limit(500).after(cursor))
                .await?;
            for item in page.items {
                out.push((decode(&item)?, item));
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// The waitlist, first in line first: (entry sort key, booking id, member id).
    pub(crate) async fn waitlist(&self, event_id: &str, limit: u32) -> AppResult<Vec<(String, String, String)>> {
        let page = self.records.query(Query::new(Index::Primary, keys::waitlist(event_id)).limit(limit)).await?;
        Ok(page
            .items
            .into_iter()
            .map(|i| {
                let s = |f: &str| i.data[f].as_str().unwrap_or_default().to_string();
                (i.sk.clone(), s("booking_id"), s("member_id"))
            })
            .collect())
    }

    /// After the event moves, each booking's GSI2 sort key follows it.
    pub(crate) async fn rekey_bookings(&self, e: &Event) -> AppResult<()> {
        for (mut b, _) in self.bookings(&e.id).await? {
            for attempt in 0..ATTEMPTS {
                if b.event_starts_at == e.starts_at {
                    break;
                }
                let version = b.version;
                // A confirmed place (and an attendance) counts in the month the
                // event starts: it moves with the event, in the same transaction.
                let mut writes = Vec::new();
                // Within the same month nothing moves (and one transaction may not touch a tally twice).
                let counted = b.status == BookingStatus::Confirmed
                    && crate::tally::month_of(&b.event_starts_at) != crate::tally::month_of(&e.starts_at);
                if counted {
                    writes.extend(self.place_tallies(&b, Self::place_fields(&b), -1).await?);
                }
                b.event_starts_at = e.starts_at.clone();
                b.version += 1;
                if counted {
                    writes.extend(self.place_tallies(&b, Self::place_fields(&b), 1).await?);
                }
                writes.insert(0, Write::Put { item: booking_item(&b), condition: Condition::VersionIs(version) });
                match self.records.transact(writes).await {
                    Ok(()) => break,
                    Err(err) if err.is_conflict() => {
                        back_off(attempt).await;
                        match self.get_record::<Booking>(keys::booking(&e.id, &b.member_id)).await? {
                            Some((fresh, _)) => b = fresh,
                            None => break,
                        }
                    }
                    Err(err) => return Err(err.into()),
                }
            }
        }
        Ok(())
    }
}
