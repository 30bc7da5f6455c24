//! Events and training, with bookings, a waitlist and go-and-see visit requests.
//!
//! Capacity holds under any concurrency without retries on a version: each
//! confirmed booking is written in one transaction with a
//! [`Write::Increment`] of the event's places counter bounded by the capacity,
//! so the store itself refuses the booking that would be one too many, and that
//! booking goes on the waitlist instead. Freed places go to the first in line
//! by the same bounded increment ([`App::fill_places`]), so no place is given
//! twice. See `docs/decisions/0013-event-bookings.md`.
//!
//! Emails about an event are claimed (`keys::event_mail_claim`) before they are
//! sent, so a retried request never sends one twice; confirmation and update
//! emails carry an iCalendar invitation (`calendar.rs`).

use std::time::Duration;

use qnet_domain::event::{EventFields, EventKind, EventPatch, london_local, parse_time};
use qnet_domain::{FieldErrors, topics};
use qnet_ports::{Condition, Cursor, Index, Item, OutgoingMail, Query, StoreError, Write};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::calendar::{self, IcsMethod};
use crate::idempotency::{IdempotencyKey, StoredResponse};
use crate::projects::OrganisationRef;
use crate::{App, AppError, AppResult, Claims, PageRequest, decode, encode, keys};

/// The purpose signed into a host's visit-request links.
const VISIT_PURPOSE: &str = "visit-request";
/// How often a booking transaction is tried again when the store reports
/// contention (DynamoDB cancels transactions that touch an item another
/// transaction holds) or the event changed in between.
const ATTEMPTS: u32 = 30;

/// Whether the event still takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    Scheduled,
    Cancelled,
}

/// A booking's state: `confirmed` (a place), `waitlisted` (in line for one),
/// `requested` (a go-and-see visit waiting for the host), `declined` (the host
/// said no).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Confirmed,
    Waitlisted,
    Requested,
    Declined,
}

/// An event as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub kind: EventKind,
    pub title: String,
    pub description: String,
    /// UTC, `qnet_domain::timestamp` form.
    pub starts_at: String,
    pub ends_at: String,
    pub location: Option<String>,
    pub online_url: Option<String>,
    pub capacity: u64,
    pub host_organisation_id: String,
    pub topics: Vec<String>,
    pub booking_closes_at: String,
    pub what_you_will_see: Option<String>,
    pub host: Option<String>,
    pub status: EventStatus,
    /// The iCalendar SEQUENCE: bumped each time the time or place changes and
    /// when the event is cancelled.
    pub sequence: u32,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl Event {
    fn fields(&self) -> EventFields {
        let t = |s: &str| parse_time(s).expect("stored times parse");
        EventFields {
            kind: self.kind,
            title: self.title.clone(),
            description: self.description.clone(),
            starts_at: t(&self.starts_at),
            ends_at: t(&self.ends_at),
            location: self.location.clone(),
            online_url: self.online_url.clone(),
            capacity: self.capacity,
            host_organisation_id: self.host_organisation_id.clone(),
            topics: self.topics.clone(),
            booking_closes_at: t(&self.booking_closes_at),
            what_you_will_see: self.what_you_will_see.clone(),
            host: self.host.clone(),
        }
    }

    fn set_fields(&mut self, f: EventFields) {
        self.title = f.title;
        self.description = f.description;
        self.starts_at = qnet_domain::timestamp(f.starts_at);
        self.ends_at = qnet_domain::timestamp(f.ends_at);
        self.location = f.location;
        self.online_url = f.online_url;
        self.capacity = f.capacity;
        self.host_organisation_id = f.host_organisation_id;
        self.topics = f.topics;
        self.booking_closes_at = qnet_domain::timestamp(f.booking_closes_at);
        self.what_you_will_see = f.what_you_will_see;
        self.host = f.host;
    }

    pub fn starts(&self) -> OffsetDateTime {
        parse_time(&self.starts_at).expect("stored times parse")
    }

    pub fn ends(&self) -> OffsetDateTime {
        parse_time(&self.ends_at).expect("stored times parse")
    }

    fn closes(&self) -> OffsetDateTime {
        parse_time(&self.booking_closes_at).expect("stored times parse")
    }

    /// Who may change it: its creator and moderators.
    pub(crate) fn may_manage(&self, claims: &Claims) -> bool {
        claims.is_moderator() || self.created_by == claims.sub
    }
}

/// Places taken and left.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Places {
    pub capacity: u64,
    pub confirmed: u64,
    pub left: u64,
}

/// An event, as `GET /events/{id}` answers it. `*_local` fields are the same
/// times in Europe/London (GMT or BST as in force on the day).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    pub kind: EventKind,
    pub title: String,
    pub description: String,
    /// UTC, RFC 3339.
    pub starts_at: String,
    pub ends_at: String,
    /// e.g. `Thu 1 Jul 2027, 10:00 BST`.
    pub starts_local: String,
    pub ends_local: String,
    pub location: Option<String>,
    /// Whether it can be joined online.
    pub online: bool,
    /// The join link: only for the organiser, moderators and members with a
    /// confirmed place; null for everyone else.
    pub online_url: Option<String>,
    pub capacity: u64,
    pub places: Places,
    pub host_organisation: OrganisationRef,
    pub topics: Vec<String>,
    pub booking_closes_at: String,
    pub booking_closes_local: String,
    /// Go-and-see visits: what visitors will see.
    pub what_you_will_see: Option<String>,
    /// Go-and-see visits: who hosts.
    pub host: Option<String>,
    pub status: EventStatus,
    /// Member id of the organiser who created it.
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// An event in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventSummary {
    pub id: String,
    pub kind: EventKind,
    pub title: String,
    pub starts_at: String,
    pub ends_at: String,
    pub starts_local: String,
    pub location: Option<String>,
    /// Whether it can be joined online.
    pub online: bool,
    pub capacity: u64,
    pub host_organisation_id: String,
    pub topics: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventList {
    pub items: Vec<EventSummary>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct EventListRequest {
    pub topic: Option<String>,
    pub kind: Option<String>,
    pub organisation: Option<String>,
    pub limit: u32,
    pub cursor: Option<String>,
}

/// A booking as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Booking {
    pub id: String,
    pub event_id: String,
    pub member_id: String,
    pub status: BookingStatus,
    /// Set while waitlisted: the waitlist entry's time.
    pub waitlisted_at: Option<String>,
    /// The event's start, copied for the member's list (GSI2 sort key).
    pub event_starts_at: String,
    /// Whether the member came, once the organiser marked it (`attendance.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attended: Option<bool>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// A booking, as the member and the event's organisers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookingView {
    pub id: String,
    pub event_id: String,
    pub member_id: String,
    /// The member's name (organisers' list; the member's own answers too).
    pub name: Option<String>,
    /// Only in the organisers' list, and only for the event's creator and
    /// moderators (who may need to reach attendees); never in public answers.
    pub email: Option<String>,
    pub status: BookingStatus,
    /// Place in the waitlist (1 = next), while waitlisted.
    pub waitlist_position: Option<u64>,
    /// Whether the member came: null until the organiser marks it.
    pub attended: Option<bool>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookingList {
    pub items: Vec<BookingView>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A member's booking with the event it is for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyBooking {
    pub booking: BookingView,
    pub event: EventSummary,
    pub event_status: EventStatus,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyBookingList {
    pub items: Vec<MyBooking>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The answer to `POST /events/{id}/bookings`: the booking, and whether it was
/// made by this request (`false`: the member had booked already).
#[derive(Debug, Clone)]
pub struct BookingOutcome {
    pub booking: BookingView,
    pub created: bool,
}

/// What a host's visit-request link finds.
#[derive(Debug, Clone, PartialEq)]
pub enum VisitLinkStatus {
    Invalid,
    Expired,
    /// The request is no longer waiting (cancelled by the member, or answered).
    Gone,
    Open {
        summary: String,
    },
    Accepted,
    Declined,
}

fn summary(e: &Event) -> EventSummary {
    EventSummary {
        id: e.id.clone(),
        kind: e.kind,
        title: e.title.clone(),
        starts_at: e.starts_at.clone(),
        ends_at: e.ends_at.clone(),
        starts_local: london_local(e.starts()),
        location: e.location.clone(),
        online: e.online_url.is_some(),
        capacity: e.capacity,
        host_organisation_id: e.host_organisation_id.clone(),
        topics: e.topics.clone(),
    }
}

fn list_partitions(e: &Event) -> Vec<String> {
    let mut v = vec![keys::event_list(None), keys::event_list(Some(("kind", e.kind.as_str())))];
    v.extend(e.topics.iter().map(|t| keys::event_list(Some(("topic", t)))));
    v.push(keys::event_list(Some(("org", &e.host_organisation_id))));
    v
}

fn list_sort_key(e: &Event) -> String {
    format!("{}#{}", e.starts_at, e.id)
}

/// The list entries to write and delete when an event goes from `old` to
/// `new`: a cancelled event leaves every list, and entries expire when the
/// event ends.
fn list_writes(old: Option<&Event>, new: &Event) -> Vec<Write> {
    let after = if new.status == EventStatus::Scheduled { list_partitions(new) } else { Vec::new() };
    let s = encode(&summary(new));
    let expires = new.ends().unix_timestamp();
    let mut w: Vec<Write> = after
        .iter()
        .map(|p| Write::Put {
            item: Item::new(p.clone(), list_sort_key(new), s.clone()).expiring_at(expires),
            condition: Condition::None,
        })
        .collect();
    if let Some(old) = old {
        for p in list_partitions(old) {
            if !after.contains(&p) || list_sort_key(old) != list_sort_key(new) {
                w.push(Write::Delete { pk: p, sk: list_sort_key(old), condition: Condition::None });
            }
        }
    }
    w
}

fn event_item(e: &Event) -> Item {
    let (pk, sk) = keys::event(&e.id);
    Item::new(pk, sk, encode(e)).with_version(e.version)
}

pub(crate) fn booking_item(b: &Booking) -> Item {
    let (pk, sk) = keys::booking(&b.event_id, &b.member_id);
    Item::new(pk, sk, encode(b))
        .with_version(b.version)
        .with_gsi2(keys::members_bookings(&b.member_id), keys::members_booking_sort_key(&b.event_starts_at, &b.event_id))
}

fn booking_ref_item(b: &Booking) -> Item {
    let (pk, sk) = keys::booking_ref(&b.event_id, &b.id);
    Item::new(pk, sk, serde_json::json!({"member_id": b.member_id}))
}

fn waitlist_item(b: &Booking, at: &str) -> Item {
    let (pk, sk) = keys::waitlist_entry(&b.event_id, at, &b.id);
    Item::new(pk, sk, serde_json::json!({"member_id": b.member_id, "booking_id": b.id}))
}

fn is_ulid(id: &str) -> bool {
    id.len() == 26 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn take_place(event: &Event) -> Write {
    let (pk, sk) = keys::event_places(&event.id);
    Write::Increment { pk, sk, field: "confirmed".into(), by: 1, at_least: None, at_most: Some(event.capacity as i64) }
}

fn free_place(event_id: &str) -> Write {
    let (pk, sk) = keys::event_places(event_id);
    Write::Increment { pk, sk, field: "confirmed".into(), by: -1, at_least: Some(0), at_most: None }
}

fn event_unchanged(event: &Event) -> Write {
    let (pk, sk) = keys::event(&event.id);
    Write::Check { pk, sk, condition: Condition::VersionIs(event.version) }
}

/// Which write of a transaction failed its condition, when the store said.
fn failed_write(e: &StoreError) -> Option<Option<usize>> {
    match e {
        StoreError::TransactionConflict { index } => Some(*index),
        StoreError::ConditionFailed => Some(None),
        _ => None,
    }
}

/// A short pause before trying a contended transaction again, growing with
/// each attempt and spread so that racing requests do not meet again.
async fn back_off(attempt: u32) {
    let ms = 5 * u64::from(attempt.min(10)) + rand::random::<u64>() % 20;
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

fn version_conflict(e: StoreError, current: u64) -> AppError {
    if e.is_conflict() { AppError::VersionMismatch { current: current + 1 } } else { e.into() }
}

/// The domain of the address system emails come from.
const NOT_YOUR_ORGANISATION: &str = "must be your own organisation (see GET /me); only a moderator may name another host";

/// An event's host is its organiser's organisation (or the one it already
/// has); a moderator may name any.
fn may_host(claims: &Claims, organiser: &qnet_domain::member::Member, current: Option<&str>, named: &str) -> bool {
    claims.is_moderator() || organiser.organisation_id.as_deref() == Some(named) || current == Some(named)
}

fn mail_domain(from: &str) -> &str {
    from.rsplit_once('@').map(|(_, d)| d).unwrap_or("qnet.localhost")
}

/// The organiser named in invitations: a no-reply address on the mail domain.
/// Calendar replies to it are dropped by the inbound path
/// (`qnet_mail::Route::NoReply`).
pub fn organiser_address(mail_from: &str) -> String {
    format!("noreply@{}", mail_domain(mail_from))
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

    async fn confirmed_count(&self, event_id: &str) -> AppResult<u64> {
        let (pk, sk) = keys::event_places(event_id);
        Ok(self.records.get(&pk, &sk).await?.and_then(|i| i.data["confirmed"].as_u64()).unwrap_or(0))
    }

    async fn event_view(&self, e: Event) -> AppResult<EventView> {
        let names = self.organisation_names().await?;
        let confirmed = self.confirmed_count(&e.id).await?;
        Ok(EventView {
            starts_local: london_local(e.starts()),
            ends_local: london_local(e.ends()),
            booking_closes_local: london_local(e.closes()),
            places: Places { capacity: e.capacity, confirmed, left: e.capacity.saturating_sub(confirmed) },
            host_organisation: OrganisationRef {
                id: e.host_organisation_id.clone(),
                name: names.get(&e.host_organisation_id).cloned(),
            },
            id: e.id,
            kind: e.kind,
            title: e.title,
            description: e.description,
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            location: e.location,
            online: e.online_url.is_some(),
            online_url: e.online_url,
            capacity: e.capacity,
            topics: e.topics,
            booking_closes_at: e.booking_closes_at,
            what_you_will_see: e.what_you_will_see,
            host: e.host,
            status: e.status,
            created_by: e.created_by,
            created_at: e.created_at,
            updated_at: e.updated_at,
            version: e.version,
        })
    }

    fn require_organiser(claims: &Claims) -> AppResult<()> {
        if claims.is_moderator() || claims.has(qnet_domain::Role::Organiser) {
            Ok(())
        } else {
            Err(AppError::Forbidden("only organisers and moderators may create events"))
        }
    }

    /// `POST /events`: organisers and moderators.
    pub async fn create_event(
        &self,
        claims: &Claims,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<StoredResponse> {
        Self::require_organiser(claims)?;
        let fields = EventFields::parse_new(body, self.now());
        let mut errors = match &fields {
            Ok(_) => FieldErrors::new(),
            Err(e) => e.clone(),
        };
        let creator = self.member(claims).await?;
        if let Some(org) = body.get("host_organisation_id").and_then(|v| v.as_str())
            && !errors.0.iter().any(|e| e.field == "host_organisation_id")
        {
            if self.organisation(org).await?.is_none() {
                errors.push("host_organisation_id", "is not a known organisation");
            } else if !may_host(claims, &creator, None, org) {
                errors.push("host_organisation_id", NOT_YOUR_ORGANISATION);
            }
        }
        let fields = match fields {
            Ok(f) if errors.is_empty() => f,
            _ => return Err(AppError::Invalid(errors)),
        };
        let now = self.now_text();
        let mut e = Event {
            id: self.new_id(),
            kind: fields.kind,
            title: String::new(),
            description: String::new(),
            starts_at: String::new(),
            ends_at: String::new(),
            location: None,
            online_url: None,
            capacity: 0,
            host_organisation_id: String::new(),
            topics: vec![],
            booking_closes_at: String::new(),
            what_you_will_see: None,
            host: None,
            status: EventStatus::Scheduled,
            sequence: 0,
            created_by: creator.id,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        e.set_fields(fields);
        let (ppk, psk) = keys::event_places(&e.id);
        let mut writes = vec![
            Write::Put { item: event_item(&e), condition: Condition::NotExists },
            Write::Put { item: Item::new(ppk, psk, serde_json::json!({"confirmed": 0})), condition: Condition::NotExists },
        ];
        writes.extend(list_writes(None, &e));
        let location = format!("/events/{}", e.id);
        tracing::info!(event = %e.id, kind = e.kind.as_str(), "event created");
        let view = self.event_view(e.clone()).await?;
        let answer = self.commit(writes, StoredResponse::created(location, encode(&view)), idem).await?;
        self.index_event(&e);
        Ok(answer)
    }

    /// Whether `viewer` may have the event's join link: its organiser
    /// (creator), moderators and members with a confirmed place. Everyone
    /// else, signed in or not, sees only that it can be joined online.
    async fn may_join_online(&self, e: &Event, viewer: Option<&Claims>) -> AppResult<bool> {
        let Some(c) = viewer else { return Ok(false) };
        if e.may_manage(c) {
            return Ok(true);
        }
        let booking = self.get_record::<Booking>(keys::booking(&e.id, &c.sub)).await?;
        Ok(booking.is_some_and(|(b, _)| b.status == BookingStatus::Confirmed))
    }

    /// `GET /events/{id}`: public; the join link only for those who may join.
    pub async fn get_event(&self, viewer: Option<&Claims>, id: &str) -> AppResult<EventView> {
        let (e, _) = self.load_event(id).await?;
        let shown = self.may_join_online(&e, viewer).await?;
        let mut v = self.event_view(e).await?;
        if !shown {
            v.online_url = None;
        }
        Ok(v)
    }

    /// `GET /events/{id}/calendar.ics`: the event as a published iCalendar,
    /// for anyone: never with the join link (confirmed attendees have it in
    /// their invitation and their calendar feed).
    pub async fn event_calendar(&self, id: &str) -> AppResult<String> {
        let (mut e, _) = self.load_event(id).await?;
        e.online_url = None;
        Ok(calendar::event_ics(&e, IcsMethod::Publish, None, &organiser_address(&self.mail_from), &self.mail_from, self.now()))
    }

    /// `GET /events`: upcoming and in-progress events, soonest first. The most
    /// selective list is read (topic, then organisation, then kind) and the
    /// other filters are checked on its summaries.
    pub async fn list_events(&self, req: &EventListRequest) -> AppResult<EventList> {
        let mut errors = FieldErrors::new();
        if let Some(t) = &req.topic
            && !topics::is_known(t)
        {
            errors.push("topic", "is not a known topic (see GET /topics)");
        }
        if let Some(k) = &req.kind
            && EventKind::parse(k).is_none()
        {
            errors.push("kind", format!("must be one of {}", EventKind::WORDS.join(", ")));
        }
        if let Some(o) = &req.organisation
            && self.organisation(o).await?.is_none()
        {
            errors.push("organisation", "is not a known organisation");
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let partition = match (&req.topic, &req.organisation, &req.kind) {
            (Some(t), _, _) => keys::event_list(Some(("topic", t))),
            (None, Some(o), _) => keys::event_list(Some(("org", o))),
            (None, None, Some(k)) => keys::event_list(Some(("kind", k))),
            _ => keys::event_list(None),
        };
        let mut cursor = req.cursor.as_deref().map(|c| Cursor::decode(c).map_err(|_| AppError::BadCursor)).transpose()?;
        if cursor.as_ref().is_some_and(|c| c.pk != partition) {
            return Err(AppError::BadCursor);
        }
        let wanted = |s: &EventSummary| {
            req.organisation.as_ref().is_none_or(|o| s.host_organisation_id == *o)
                && req.kind.as_ref().is_none_or(|k| s.kind.as_str() == k)
        };
        let limit = req.limit as usize;
        let mut found: Vec<(EventSummary, Cursor)> = vec![];
        'pages: loop {
            let page = self.records.query(Query::new(Index::Primary, partition.clone()).limit(100).after(cursor)).await?;
            for item in &page.items {
                let s: EventSummary = decode(item)?;
                if wanted(&s) {
                    found.push((s, Cursor { pk: item.pk.clone(), sk: item.sk.clone(), ipk: None, isk: None }));
                    if found.len() > limit {
                        break 'pages;
                    }
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let more = found.len() > limit;
        found.truncate(limit);
        let next_cursor = if more { found.last().map(|(_, c)| c.encode()) } else { None };
        Ok(EventList { items: found.into_iter().map(|(s, _)| s).collect(), next_cursor })
    }

    /// `PATCH /events/{id}`: the creator or a moderator, with If-Match. A change
    /// of time or place sends confirmed members an updated invitation.
    pub async fn update_event(
        &self,
        claims: &Claims,
        id: &str,
        body: &serde_json::Value,
        if_match: Option<u64>,
    ) -> AppResult<EventView> {
        let (old, version) = self.load_event(id).await?;
        if !old.may_manage(claims) {
            return Err(AppError::Forbidden("only the event's organiser and moderators may change it"));
        }
        match if_match {
            None => return Err(AppError::VersionRequired),
            Some(v) if v != version => return Err(AppError::VersionMismatch { current: version }),
            _ => {}
        }
        if old.status == EventStatus::Cancelled {
            return Err(AppError::Conflict("the event is cancelled".into()));
        }
        let patch = EventPatch::parse(body)?;
        let old_fields = old.fields();
        let moved = patch.starts_at.is_some() || patch.ends_at.is_some() || patch.booking_closes_at.is_some();
        let new_fields = patch.clone().apply(&old_fields);
        let mut errors = FieldErrors::new();
        new_fields.check(self.now(), moved, &mut errors);
        if let Some(o) = &patch.host_organisation_id {
            if self.organisation(o).await?.is_none() {
                errors.push("host_organisation_id", "is not a known organisation");
            } else if !may_host(claims, &self.member(claims).await?, Some(&old.host_organisation_id), o) {
                errors.push("host_organisation_id", NOT_YOUR_ORGANISATION);
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let reschedule = patch.changes_schedule(&old_fields, &new_fields);
        let mut new = old.clone();
        new.set_fields(new_fields);
        new.version = version + 1;
        new.updated_at = self.now_text();
        if reschedule {
            new.sequence += 1;
        }
        let mut writes = vec![Write::Put { item: event_item(&new), condition: Condition::VersionIs(version) }];
        writes.extend(list_writes(Some(&old), &new));
        self.records.transact(writes).await.map_err(|e| version_conflict(e, version))?;
        tracing::info!(event = %new.id, version = new.version, reschedule, "event updated");
        self.index_event(&new);
        // The change is stored: what follows must not fail the request (a retry
        // with the old If-Match could not redo it), so failures are logged.
        if reschedule && let Err(err) = self.notify_bookings(&new, Notice::Updated).await {
            tracing::error!(event = %new.id, error = %err, "updated invitations not all sent");
        }
        if new.starts_at != old.starts_at
            && let Err(err) = self.rekey_bookings(&new).await
        {
            tracing::error!(event = %new.id, error = %err, "members' booking lists not re-sorted");
        }
        if new.capacity > old.capacity
            && let Err(err) = self.fill_places(&new.id).await
        {
            tracing::error!(event = %new.id, error = %err, "places not refilled after a capacity rise");
        }
        self.event_view(new).await
    }

    /// `POST /events/{id}/cancel`: the creator or a moderator. Everyone booked
    /// is told once (confirmed members get an iCalendar CANCEL); cancelling
    /// again sends only what a failed attempt left unsent.
    pub async fn cancel_event(&self, claims: &Claims, id: &str) -> AppResult<EventView> {
        let (old, version) = self.load_event(id).await?;
        if !old.may_manage(claims) {
            return Err(AppError::Forbidden("only the event's organiser and moderators may cancel it"));
        }
        let e = if old.status == EventStatus::Cancelled {
            old
        } else {
            let mut new = old.clone();
            new.status = EventStatus::Cancelled;
            new.sequence += 1;
            new.version = version + 1;
            new.updated_at = self.now_text();
            let mut writes = vec![Write::Put { item: event_item(&new), condition: Condition::VersionIs(version) }];
            writes.extend(list_writes(Some(&old), &new));
            self.records.transact(writes).await.map_err(|e| version_conflict(e, version))?;
            tracing::info!(event = %new.id, "event cancelled");
            self.index_event(&new);
            new
        };
        self.notify_bookings(&e, Notice::Cancelled).await?;
        self.event_view(e).await
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
    async fn rekey_bookings(&self, e: &Event) -> AppResult<()> {
        for (mut b, _) in self.bookings(&e.id).await? {
            for attempt in 0..ATTEMPTS {
                if b.event_starts_at == e.starts_at {
                    break;
                }
                let version = b.version;
                b.event_starts_at = e.starts_at.clone();
                b.version += 1;
                match self.records.put(booking_item(&b), Condition::VersionIs(version)).await {
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

    /// Why a booking cannot be made or changed now, if it cannot.
    fn bookable(&self, e: &Event) -> AppResult<()> {
        let now = self.now();
        if e.status == EventStatus::Cancelled {
            return Err(AppError::Conflict("the event is cancelled".into()));
        }
        if e.starts() <= now {
            return Err(AppError::Conflict("the event has started or is over".into()));
        }
        if e.closes() <= now {
            return Err(AppError::Conflict(format!("booking closed at {}", london_local(e.closes()))));
        }
        Ok(())
    }

    pub(crate) fn booking_view(b: &Booking, name: Option<String>, email: Option<String>, position: Option<u64>) -> BookingView {
        BookingView {
            id: b.id.clone(),
            event_id: b.event_id.clone(),
            member_id: b.member_id.clone(),
            name,
            email,
            status: b.status,
            waitlist_position: position,
            attended: b.attended,
            created_at: b.created_at.clone(),
            updated_at: b.updated_at.clone(),
        }
    }

    async fn own_booking_view(&self, b: &Booking, name: &str) -> AppResult<BookingView> {
        let position = if b.status == BookingStatus::Waitlisted {
            let line = self.waitlist(&b.event_id, 10_000).await?;
            line.iter().position(|(_, id, _)| *id == b.id).map(|p| p as u64 + 1)
        } else {
            None
        };
        Ok(Self::booking_view(b, Some(name.to_string()), None, position))
    }

    /// `POST /events/{id}/bookings`: a place while any remain, else the
    /// waitlist; a go-and-see visit is a request to the host. Booking again
    /// answers the booking the member has.
    pub async fn book(&self, claims: &Claims, event_id: &str, links_base: &str) -> AppResult<BookingOutcome> {
        let member = self.member(claims).await?;
        for attempt in 0..ATTEMPTS {
            let (e, _) = self.load_event(event_id).await?;
            if let Some((b, _)) = self.get_record::<Booking>(keys::booking(event_id, &member.id)).await? {
                return Ok(BookingOutcome { booking: self.own_booking_view(&b, &member.name).await?, created: false });
            }
            self.bookable(&e)?;
            if attempt == 0 {
                self.take_allowance(&member.id, crate::limits::Action::Booking).await?;
            }
            let now = self.now_text();
            let mut b = Booking {
                id: self.new_id(),
                event_id: e.id.clone(),
                member_id: member.id.clone(),
                status: if e.kind == EventKind::GoAndSee { BookingStatus::Requested } else { BookingStatus::Confirmed },
                waitlisted_at: None,
                event_starts_at: e.starts_at.clone(),
                attended: None,
                created_at: now.clone(),
                updated_at: now.clone(),
                version: 1,
            };
            let mut writes = vec![
                Write::Put { item: booking_item(&b), condition: Condition::NotExists },
                Write::Put { item: booking_ref_item(&b), condition: Condition::NotExists },
                event_unchanged(&e),
            ];
            if b.status == BookingStatus::Confirmed {
                writes.push(take_place(&e));
            }
            match self.records.transact(writes).await {
                Ok(()) => {
                    tracing::info!(event = %e.id, booking = %b.id, status = ?b.status, "booked");
                    if b.status == BookingStatus::Requested {
                        self.send_visit_request(&e, &b, links_base).await;
                    } else {
                        self.send_confirmation(&e, &b, "confirm").await;
                    }
                    return Ok(BookingOutcome { booking: self.own_booking_view(&b, &member.name).await?, created: true });
                }
                // Full: this booking goes on the waitlist instead.
                Err(err) if failed_write(&err) == Some(Some(3)) => {
                    b.status = BookingStatus::Waitlisted;
                    b.waitlisted_at = Some(now.clone());
                    let writes = vec![
                        Write::Put { item: booking_item(&b), condition: Condition::NotExists },
                        Write::Put { item: booking_ref_item(&b), condition: Condition::NotExists },
                        event_unchanged(&e),
                        Write::Put { item: waitlist_item(&b, &now), condition: Condition::NotExists },
                    ];
                    match self.records.transact(writes).await {
                        Ok(()) => {
                            tracing::info!(event = %e.id, booking = %b.id, "waitlisted");
                            // A place may have been freed since the count was full.
                            self.fill_places(&e.id).await?;
                            let b = match self.get_record::<Booking>(keys::booking(&e.id, &member.id)).await? {
                                Some((fresh, _)) => fresh,
                                None => b,
                            };
                            return Ok(BookingOutcome { booking: self.own_booking_view(&b, &member.name).await?, created: true });
                        }
                        Err(err) if failed_write(&err).is_some() => back_off(attempt).await,
                        Err(err) => return Err(err.into()),
                    }
                }
                // The member booked meanwhile (write 0), the event changed
                // (write 2) or the store saw contention: read again.
                Err(err) if failed_write(&err).is_some() => back_off(attempt).await,
                Err(err) => return Err(err.into()),
            }
        }
        Err(AppError::Conflict("too many bookings at once; try again".into()))
    }

    /// Gives freed places to the first in line, one bounded increment each, so
    /// no place is given twice however many requests run this at once.
    pub(crate) async fn fill_places(&self, event_id: &str) -> AppResult<()> {
        let mut attempts = 0;
        loop {
            let (e, _) = self.load_event(event_id).await?;
            if e.status == EventStatus::Cancelled || e.starts() <= self.now() {
                return Ok(());
            }
            let Some((entry_sk, booking_id, member_id)) = self.waitlist(event_id, 1).await?.into_iter().next() else {
                return Ok(());
            };
            let Some((mut b, item)) = self.get_record::<Booking>(keys::booking(event_id, &member_id)).await? else {
                // A stale entry (its booking is gone): remove it.
                self.records.delete(&keys::waitlist(event_id), &entry_sk, Condition::None).await?;
                continue;
            };
            if b.id != booking_id || b.status != BookingStatus::Waitlisted {
                self.records.delete(&keys::waitlist(event_id), &entry_sk, Condition::None).await?;
                continue;
            }
            b.status = BookingStatus::Confirmed;
            b.waitlisted_at = None;
            b.version = item.version + 1;
            b.updated_at = self.now_text();
            let writes = vec![
                take_place(&e),
                Write::Delete { pk: keys::waitlist(event_id), sk: entry_sk, condition: Condition::Exists },
                Write::Put { item: booking_item(&b), condition: Condition::VersionIs(item.version) },
                event_unchanged(&e),
            ];
            match self.records.transact(writes).await {
                Ok(()) => {
                    tracing::info!(event = %event_id, booking = %b.id, "promoted from the waitlist");
                    self.send_confirmation(&e, &b, "promoted").await;
                }
                // No place left.
                Err(err) if failed_write(&err) == Some(Some(0)) => return Ok(()),
                Err(err) if failed_write(&err).is_some() => {
                    attempts += 1;
                    if attempts >= ATTEMPTS {
                        return Err(AppError::Conflict("the waitlist is busy; try again".into()));
                    }
                    back_off(attempts).await;
                }
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// `DELETE /events/{id}/bookings/me`: frees the member's place (the first
    /// on the waitlist gets it) or leaves the waitlist or withdraws a visit request.
    pub async fn cancel_booking(&self, claims: &Claims, event_id: &str) -> AppResult<()> {
        for attempt in 0..ATTEMPTS {
            let (e, _) = self.load_event(event_id).await?;
            let Some((b, item)) = self.get_record::<Booking>(keys::booking(event_id, &claims.sub)).await? else {
                return Err(AppError::NotFound("booking"));
            };
            if e.status == EventStatus::Scheduled && e.starts() <= self.now() {
                return Err(AppError::Conflict("the event has started or is over".into()));
            }
            let (pk, sk) = keys::booking(event_id, &claims.sub);
            let (rpk, rsk) = keys::booking_ref(event_id, &b.id);
            let mut writes = vec![
                Write::Delete { pk, sk, condition: Condition::VersionIs(item.version) },
                Write::Delete { pk: rpk, sk: rsk, condition: Condition::None },
            ];
            match (b.status, &b.waitlisted_at) {
                (BookingStatus::Confirmed, _) => writes.push(free_place(event_id)),
                (BookingStatus::Waitlisted, Some(at)) => {
                    let (wpk, wsk) = keys::waitlist_entry(event_id, at, &b.id);
                    writes.push(Write::Delete { pk: wpk, sk: wsk, condition: Condition::None });
                }
                _ => {}
            }
            match self.records.transact(writes).await {
                Ok(()) => {
                    tracing::info!(event = %event_id, booking = %b.id, "booking cancelled by the member");
                    if b.status == BookingStatus::Confirmed {
                        if e.status == EventStatus::Scheduled {
                            self.send_member_cancel(&e, &b).await;
                        }
                        if let Err(err) = self.fill_places(event_id).await {
                            tracing::error!(event = %event_id, error = %err, "the freed place was not passed on yet");
                        }
                    }
                    return Ok(());
                }
                Err(err) if failed_write(&err).is_some() => back_off(attempt).await,
                Err(err) => return Err(err.into()),
            }
        }
        Err(AppError::Conflict("the booking is busy; try again".into()))
    }

    /// `GET /events/{id}/bookings`: the creator and moderators (with emails),
    /// other organisers are refused. Pages follow the stored order (by member
    /// id), which is the only order a page can resume in; within a page,
    /// confirmed first, then the waitlist in order, then the rest.
    pub async fn event_bookings(&self, claims: &Claims, event_id: &str, page: &PageRequest) -> AppResult<BookingList> {
        let (e, _) = self.load_event(event_id).await?;
        if !e.may_manage(claims) {
            return Err(AppError::Forbidden("only the event's organiser and moderators may see its bookings"));
        }
        let q = Query::new(Index::Primary, keys::event(event_id).0).prefix(keys::BOOKING_PREFIX);
        let (found, next_cursor) = self.list_page(q, page).await?;
        let line = self.waitlist(event_id, 10_000).await?;
        let mut items = Vec::new();
        for item in &found {
            let b: Booking = decode(item)?;
            let m = self.member_by_id(&b.member_id).await?;
            let position = line.iter().position(|(_, id, _)| *id == b.id).map(|p| p as u64 + 1);
            items.push(Self::booking_view(&b, m.as_ref().map(|m| m.name.clone()), m.map(|m| m.email), position));
        }
        items.sort_by_key(|v| {
            (v.status != BookingStatus::Confirmed, v.waitlist_position.unwrap_or(u64::MAX), v.created_at.clone())
        });
        Ok(BookingList { items, next_cursor })
    }

    /// `GET /me/bookings`: the member's bookings, soonest event first, a page
    /// at a time (a booking whose event is gone is left out).
    pub async fn my_bookings(&self, claims: &Claims, page: &PageRequest) -> AppResult<MyBookingList> {
        let q = Query::new(Index::Gsi2, keys::members_bookings(&claims.sub));
        let (found, next_cursor) = self.list_page(q, page).await?;
        let mut items = Vec::new();
        for item in &found {
            let b: Booking = decode(item)?;
            let Ok((e, _)) = self.load_event(&b.event_id).await else { continue };
            items.push(MyBooking {
                booking: self.own_booking_view(&b, &claims.name).await?,
                event: summary(&e),
                event_status: e.status,
            });
        }
        Ok(MyBookingList { items, next_cursor })
    }

    pub(crate) async fn visit_booking(&self, event_id: &str, booking_id: &str) -> AppResult<Option<(Booking, Item)>> {
        if !is_ulid(booking_id) {
            return Ok(None);
        }
        let (pk, sk) = keys::booking_ref(event_id, booking_id);
        let Some(r) = self.records.get(&pk, &sk).await? else { return Ok(None) };
        let member_id = r.data["member_id"].as_str().unwrap_or_default().to_string();
        Ok(self.get_record::<Booking>(keys::booking(event_id, &member_id)).await?.filter(|(b, _)| b.id == booking_id))
    }

    /// `POST /events/{id}/bookings/{booking_id}/accept` and `/decline`: the
    /// host (the event's creator) or a moderator answers a visit request.
    /// Accepting takes a place (or the waitlist when none is left); answering
    /// again with the same answer changes nothing.
    pub async fn answer_visit(&self, claims: &Claims, event_id: &str, booking_id: &str, accept: bool) -> AppResult<BookingView> {
        let (e, _) = self.load_event(event_id).await?;
        if !e.may_manage(claims) {
            return Err(AppError::Forbidden("only the visit's host and moderators may answer requests"));
        }
        let Some((b, _)) = self.visit_booking(event_id, booking_id).await? else {
            return Err(AppError::NotFound("booking"));
        };
        let b = self.decide_visit(&e, b, accept).await?;
        let m = self.member_by_id(&b.member_id).await?;
        Ok(Self::booking_view(&b, m.as_ref().map(|m| m.name.clone()), m.map(|m| m.email), None))
    }

    async fn decide_visit(&self, e: &Event, mut b: Booking, accept: bool) -> AppResult<Booking> {
        for attempt in 0..ATTEMPTS {
            match (b.status, accept) {
                (BookingStatus::Requested, _) => {}
                (BookingStatus::Confirmed | BookingStatus::Waitlisted, true) | (BookingStatus::Declined, false) => return Ok(b),
                _ => return Err(AppError::Conflict(format!("the request was already answered ({:?})", b.status).to_lowercase())),
            }
            self.bookable(e)?;
            let version = b.version;
            let now = self.now_text();
            let mut next = b.clone();
            next.version = version + 1;
            next.updated_at = now.clone();
            let result = if accept {
                next.status = BookingStatus::Confirmed;
                let r = self
                    .records
                    .transact(vec![
                        Write::Put { item: booking_item(&next), condition: Condition::VersionIs(version) },
                        take_place(e),
                        event_unchanged(e),
                    ])
                    .await;
                match r {
                    Err(err) if failed_write(&err) == Some(Some(1)) => {
                        // Full: the visitor waits for a place like anyone else.
                        next.status = BookingStatus::Waitlisted;
                        next.waitlisted_at = Some(now.clone());
                        self.records
                            .transact(vec![
                                Write::Put { item: booking_item(&next), condition: Condition::VersionIs(version) },
                                Write::Put { item: waitlist_item(&next, &now), condition: Condition::NotExists },
                                event_unchanged(e),
                            ])
                            .await
                    }
                    other => other,
                }
            } else {
                next.status = BookingStatus::Declined;
                self.records.put(booking_item(&next), Condition::VersionIs(version)).await
            };
            match result {
                Ok(()) => {
                    tracing::info!(event = %e.id, booking = %next.id, status = ?next.status, "visit request answered");
                    match next.status {
                        BookingStatus::Confirmed => self.send_confirmation(e, &next, "confirm").await,
                        BookingStatus::Declined => self.send_plain(e, &next, Notice::Declined).await,
                        _ => {
                            // A place may have been freed since the count was full:
                            // the first in line (perhaps this visitor) gets it.
                            if let Err(err) = self.fill_places(&e.id).await {
                                tracing::error!(event = %e.id, error = %err, "places not refilled after a visit was waitlisted");
                            }
                            if let Some((fresh, _)) = self.get_record::<Booking>(keys::booking(&e.id, &next.member_id)).await?
                                && fresh.id == next.id
                            {
                                next = fresh;
                            }
                            if next.status == BookingStatus::Waitlisted {
                                self.send_plain(e, &next, Notice::Waitlisted).await;
                            }
                        }
                    }
                    return Ok(next);
                }
                Err(err) if failed_write(&err).is_some() => {
                    back_off(attempt).await;
                    let (fresh, _) = self.load_event(&e.id).await?;
                    if fresh.version != e.version {
                        return Box::pin(self.decide_visit(&fresh, b, accept)).await;
                    }
                    match self.get_record::<Booking>(keys::booking(&e.id, &b.member_id)).await? {
                        Some((fresh, _)) if fresh.id == b.id => b = fresh,
                        _ => return Err(AppError::NotFound("booking")),
                    }
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(AppError::Conflict("the request is busy; try again".into()))
    }

    // ---- the host's emailed links ----

    fn visit_token(&self, e: &Event, b: &Booking) -> String {
        // Valid well past the start, so moving the event later keeps the host's
        // links working; `bookable` refuses answers once the visit has started.
        let expires = e.starts().max(self.now()) + VISIT_LINK_GRACE;
        self.links.sign(VISIT_PURPOSE, &format!("{}|{}", e.id, b.id), expires.unix_timestamp())
    }

    fn visit_subject(&self, token: &str) -> Result<(String, String), VisitLinkStatus> {
        match self.links.verify(VISIT_PURPOSE, token, self.now().unix_timestamp()) {
            Ok(subject) => match subject.split_once('|') {
                Some((e, b)) => Ok((e.to_string(), b.to_string())),
                None => Err(VisitLinkStatus::Invalid),
            },
            Err(crate::links::LinkError::Expired) => Err(VisitLinkStatus::Expired),
            Err(_) => Err(VisitLinkStatus::Invalid),
        }
    }

    /// What a host's visit-request link shows; changes nothing.
    pub async fn visit_link(&self, token: &str) -> AppResult<VisitLinkStatus> {
        let (event_id, booking_id) = match self.visit_subject(token) {
            Ok(s) => s,
            Err(status) => return Ok(status),
        };
        let Ok((e, _)) = self.load_event(&event_id).await else { return Ok(VisitLinkStatus::Gone) };
        let Some((b, _)) = self.visit_booking(&event_id, &booking_id).await? else { return Ok(VisitLinkStatus::Gone) };
        Ok(match b.status {
            BookingStatus::Requested if e.status == EventStatus::Scheduled => {
                let visitor = self.member_by_id(&b.member_id).await?;
                let names = self.organisation_names().await?;
                let (name, org) = match visitor {
                    Some(v) => (v.name, v.organisation_id.and_then(|o| names.get(&o).cloned())),
                    None => ("A member".to_string(), None),
                };
                let from = org.map(|o| format!(" from {o}")).unwrap_or_default();
                VisitLinkStatus::Open {
                    summary: format!("{name}{from} asks to visit \"{}\" on {}.", e.title, london_local(e.starts())),
                }
            }
            BookingStatus::Confirmed | BookingStatus::Waitlisted => VisitLinkStatus::Accepted,
            BookingStatus::Declined => VisitLinkStatus::Declined,
            _ => VisitLinkStatus::Gone,
        })
    }

    /// The host's Accept or Decline button (a POST).
    pub async fn answer_visit_link(&self, token: &str, accept: bool) -> AppResult<VisitLinkStatus> {
        let (event_id, booking_id) = match self.visit_subject(token) {
            Ok(s) => s,
            Err(status) => return Ok(status),
        };
        let Ok((e, _)) = self.load_event(&event_id).await else { return Ok(VisitLinkStatus::Gone) };
        let Some((b, _)) = self.visit_booking(&event_id, &booking_id).await? else { return Ok(VisitLinkStatus::Gone) };
        match self.decide_visit(&e, b, accept).await {
            Ok(b) if b.status == BookingStatus::Declined => Ok(VisitLinkStatus::Declined),
            Ok(_) => Ok(VisitLinkStatus::Accepted),
            Err(AppError::Conflict(_)) => Ok(VisitLinkStatus::Gone),
            Err(err) => Err(err),
        }
    }

    // ---- emails ----

    /// Claims an email about an event; true when this caller is to send it.
    async fn claim_event_mail(&self, event_id: &str, what: &str) -> AppResult<bool> {
        let (pk, sk) = keys::event_mail_claim(event_id, what);
        let item = Item::new(pk, sk, serde_json::json!({"claimed_at": self.now_text()}));
        match self.records.put(item, Condition::NotExists).await {
            Ok(()) => Ok(true),
            Err(e) if e.is_conflict() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends a claimed email; a failure releases the claim so that a retry of
    /// the request sends it. Failures are logged without the mail service's
    /// text (it can name the address) and do not fail the request.
    async fn send_event_mail(&self, event_id: &str, what: &str, mail: AppResult<OutgoingMail>) {
        match self.claim_event_mail(event_id, what).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(_) => {
                tracing::error!(event = %event_id, "event email not claimed: the store failed");
                return;
            }
        }
        let sent = match mail {
            Ok(m) => self.deliver(&*self.mailer, &m).await.map(|_| ()).map_err(|_| ()),
            Err(_) => Err(()),
        };
        if sent.is_err() {
            tracing::error!(event = %event_id, "event email not sent: the mail service or the store failed");
            let (pk, sk) = keys::event_mail_claim(event_id, what);
            if self.records.delete(&pk, &sk, Condition::None).await.is_err() {
                tracing::error!(event = %event_id, "event email claim not released");
            }
        }
    }

    async fn send_confirmation(&self, e: &Event, b: &Booking, why: &str) {
        let notice = if why == "promoted" { Notice::Promoted } else { Notice::Confirmed };
        let mail = self.event_mail(e, b, notice, None).await;
        self.send_event_mail(&e.id, &format!("{why}-{}", b.id), mail).await;
    }

    async fn send_member_cancel(&self, e: &Event, b: &Booking) {
        let mail = self.event_mail(e, b, Notice::BookingCancelled, None).await;
        self.send_event_mail(&e.id, &format!("booking-cancelled-{}", b.id), mail).await;
    }

    async fn send_plain(&self, e: &Event, b: &Booking, notice: Notice) {
        let what = format!("{}-{}", notice.claim(), b.id);
        let mail = self.event_mail(e, b, notice, None).await;
        self.send_event_mail(&e.id, &what, mail).await;
    }

    /// The host (the event's creator) is asked to accept or decline a visit.
    async fn send_visit_request(&self, e: &Event, b: &Booking, links_base: &str) {
        let url = format!("{}/visit-requests/{}", links_base.trim_end_matches('/'), self.visit_token(e, b));
        let mail = async {
            let host = self.member_by_id(&e.created_by).await?.ok_or(AppError::NotFound("host"))?;
            let visitor = self.member_by_id(&b.member_id).await?.ok_or(AppError::NotFound("member"))?;
            let names = self.organisation_names().await?;
            let from =
                visitor.organisation_id.as_ref().and_then(|o| names.get(o)).map(|o| format!(" from {o}")).unwrap_or_default();
            let lines = vec![
                format!(
                    "{}{from} asks to visit. Accept or decline with the link below; nothing is decided until you do.",
                    visitor.name
                ),
                "Hosts decide who comes onto a ward or into a service: decline if the visit cannot be supported.".to_string(),
            ];
            self.build_mail(
                e,
                &host.name,
                &host.email,
                &format!("Visit request: {}", e.title),
                "A request to visit",
                &lines,
                Some(&url),
                None,
            )
        }
        .await;
        self.send_event_mail(&e.id, &format!("request-{}", b.id), mail).await;
    }

    /// Everyone booked hears of a change of time or place (confirmed members:
    /// an updated invitation) or of the cancellation (confirmed: an iCalendar
    /// CANCEL; waitlisted and requested: an email).
    async fn notify_bookings(&self, e: &Event, notice: Notice) -> AppResult<()> {
        for (b, _) in self.bookings(&e.id).await? {
            let what = match notice {
                Notice::Updated if b.status == BookingStatus::Confirmed => format!("updated-{}-{}", e.sequence, b.id),
                Notice::Cancelled if b.status != BookingStatus::Declined => format!("cancelled-{}", b.id),
                _ => continue,
            };
            let mail = self.event_mail(e, &b, notice, None).await;
            self.send_event_mail(&e.id, &what, mail).await;
        }
        Ok(())
    }

    async fn event_mail(&self, e: &Event, b: &Booking, notice: Notice, link: Option<&str>) -> AppResult<OutgoingMail> {
        let m = self.member_by_id(&b.member_id).await?.ok_or(AppError::NotFound("member"))?;
        let confirmed = b.status == BookingStatus::Confirmed;
        // The join link goes only to members with a place.
        let unconfirmed;
        let e = if confirmed {
            e
        } else {
            unconfirmed = Event { online_url: None, ..e.clone() };
            &unconfirmed
        };
        let (subject, headline, lines, ics) = match notice {
            Notice::Confirmed => (
                format!("Booked: {}", e.title),
                "Your place is booked",
                vec!["The invitation is attached: add it to your calendar.".to_string()],
                Some(IcsMethod::Request),
            ),
            Notice::Promoted => (
                format!("A place came up: {}", e.title),
                "You have a place",
                vec!["A place came free and it is yours. The invitation is attached: add it to your calendar.".to_string()],
                Some(IcsMethod::Request),
            ),
            Notice::Updated => (
                format!("Changed: {}", e.title),
                "The time or place has changed",
                vec!["The event has moved. The updated invitation is attached.".to_string()],
                Some(IcsMethod::Request),
            ),
            Notice::Cancelled => (
                format!("Cancelled: {}", e.title),
                "This event is cancelled",
                vec!["The organiser has cancelled this event. We are sorry for the change of plans.".to_string()],
                confirmed.then_some(IcsMethod::Cancel),
            ),
            Notice::BookingCancelled => (
                format!("Booking cancelled: {}", e.title),
                "Your booking is cancelled",
                vec!["You cancelled your place, and it has gone to the next person waiting.".to_string()],
                Some(IcsMethod::Cancel),
            ),
            Notice::Declined => (
                format!("Visit request declined: {}", e.title),
                "The host cannot take your visit",
                vec!["The host has declined this visit request. Other visits are listed on Qnet.".to_string()],
                None,
            ),
            Notice::Waitlisted => (
                format!("On the waitlist: {}", e.title),
                "You are on the waitlist",
                vec![
                    "The host accepted your visit, but every place is taken: you will have the next one that comes free."
                        .to_string(),
                ],
                None,
            ),
        };
        let ics = ics.map(|method| {
            calendar::event_ics(
                e,
                method,
                Some((&m.name, &m.email)),
                &organiser_address(&self.mail_from),
                &self.mail_from,
                self.now(),
            )
        });
        self.build_mail(
            e,
            &m.name,
            &m.email,
            &subject,
            headline,
            &lines,
            link,
            ics.as_deref().map(|t| (t, method_of(notice, confirmed))),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build_mail(
        &self,
        e: &Event,
        to_name: &str,
        to_email: &str,
        subject: &str,
        headline: &str,
        lines: &[String],
        action_url: Option<&str>,
        ics: Option<(&str, IcsMethod)>,
    ) -> AppResult<OutgoingMail> {
        use mail_builder::mime::MimePart;
        let mut ctx = tera::Context::new();
        ctx.insert("name", to_name);
        ctx.insert("headline", headline);
        ctx.insert("lines", lines);
        ctx.insert("title", &e.title);
        ctx.insert("kind", e.kind.label());
        ctx.insert("when", &format!("{} to {}", london_local(e.starts()), london_local(e.ends())));
        ctx.insert("location", &e.location);
        ctx.insert("online_url", &e.online_url);
        ctx.insert("event_url", &format!("{}/events/{}", self.web_base_url, e.id));
        ctx.insert("action_url", &action_url);
        let text = render("email/event-notice.txt.tera", &ctx)?;
        let html = render("email/event-notice.html.tera", &ctx)?;
        let mut parts = vec![MimePart::new("text/plain", text), MimePart::new("text/html", html)];
        let body = match ics {
            Some((ics, method)) => {
                let ct = |m: IcsMethod| {
                    mail_builder::headers::content_type::ContentType::new("text/calendar")
                        .attribute("method", m.as_str())
                        .attribute("charset", "utf-8")
                };
                parts.push(MimePart::new(ct(method), ics.to_string()));
                MimePart::new(
                    "multipart/mixed",
                    vec![
                        MimePart::new("multipart/alternative", parts),
                        MimePart::new(ct(method), ics.to_string()).attachment("invite.ics"),
                    ],
                )
            }
            None => MimePart::new("multipart/alternative", parts),
        };
        let raw = mail_builder::MessageBuilder::new()
            .from(("Qnet events", &*self.mail_from))
            .to((to_name, to_email))
            .subject(subject)
            .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("auto-generated"))
            .body(body)
            .write_to_vec()
            .map_err(|e| AppError::Unavailable(e.to_string()))?;
        Ok(OutgoingMail { from: self.mail_from.to_string(), to: vec![to_email.to_string()], raw })
    }
}

fn method_of(notice: Notice, confirmed: bool) -> IcsMethod {
    match notice {
        Notice::Cancelled if confirmed => IcsMethod::Cancel,
        Notice::BookingCancelled => IcsMethod::Cancel,
        _ => IcsMethod::Request,
    }
}

/// Which email about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notice {
    Confirmed,
    Promoted,
    Updated,
    Cancelled,
    BookingCancelled,
    Declined,
    Waitlisted,
}

impl Notice {
    fn claim(self) -> &'static str {
        match self {
            Notice::Confirmed => "confirm",
            Notice::Promoted => "promoted",
            Notice::Updated => "updated",
            Notice::Cancelled => "cancelled",
            Notice::BookingCancelled => "booking-cancelled",
            Notice::Declined => "declined",
            Notice::Waitlisted => "visit-waitlisted",
        }
    }
}

fn render(name: &str, ctx: &tera::Context) -> AppResult<String> {
    crate::mail::render(name, ctx).map_err(|e| AppError::Unavailable(format!("template {name}: {e}")))
}

/// How long after the visit's start (or now) a host's emailed link stays valid.
const VISIT_LINK_GRACE: time::Duration = time::Duration::days(90);

/// How far ahead the digest looks for events.
pub const DIGEST_EVENTS_AHEAD: time::Duration = time::Duration::days(28);

/// The digest's "Upcoming events" section: scheduled events starting in the
/// next four weeks that still have places (go-and-see visits, which hosts
/// accept one by one, while they have room), soonest first, on the member's
/// digest topics (all when they chose none).
pub struct EventsSection {
    web_base_url: String,
    cache: crate::digest::PeriodCache,
}

impl EventsSection {
    pub fn new(web_base_url: &str) -> EventsSection {
        EventsSection { web_base_url: web_base_url.trim_end_matches('/').into(), cache: Default::default() }
    }

    async fn upcoming(&self, app: &App) -> AppResult<Vec<crate::digest::DigestItem>> {
        let now = app.now();
        let (from, until) = (qnet_domain::timestamp(now), qnet_domain::timestamp(now + DIGEST_EVENTS_AHEAD));
        let names = app.organisation_names().await?;
        let mut items = Vec::new();
        let mut cursor: Option<Cursor> = None;
        'pages: loop {
            let page =
                app.records.query(Query::new(Index::Primary, keys::event_list(None)).limit(100).after(cursor.take())).await?;
            for item in &page.items {
                let s: EventSummary = decode(item)?;
                if s.starts_at < from {
                    continue;
                }
                if s.starts_at > until {
                    break 'pages;
                }
                let left = s.capacity.saturating_sub(app.confirmed_count(&s.id).await?);
                if left == 0 {
                    continue;
                }
                let place =
                    if s.online && s.location.is_none() { "Online".to_string() } else { s.location.clone().unwrap_or_default() };
                let places = if left == 1 { "1 place left".to_string() } else { format!("{left} places left") };
                items.push(crate::digest::DigestItem {
                    kind: "event".into(),
                    url: format!("{}/events/{}", self.web_base_url, s.id),
                    title: s.title,
                    summary: [s.starts_local, place, places]
                        .into_iter()
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>()
                        .join(" · "),
                    organisation_name: names.get(&s.host_organisation_id).cloned(),
                    topics: s.topics,
                    date: crate::digest::london_day(&s.starts_at),
                });
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(items)
    }
}

#[async_trait::async_trait]
impl crate::digest::DigestSection for EventsSection {
    fn key(&self) -> &'static str {
        "events"
    }
    fn heading(&self) -> &'static str {
        "Upcoming events with places"
    }
    fn nouns(&self) -> (&'static str, &'static str) {
        ("upcoming event", "upcoming events")
    }
    fn list_url(&self, web_base_url: &str) -> String {
        format!("{web_base_url}/events")
    }
    async fn items(
        &self,
        app: &App,
        member: &qnet_domain::member::Member,
        period: &qnet_domain::digest::Period,
    ) -> AppResult<Vec<crate::digest::DigestItem>> {
        let all = self.cache.get_or_load(period, async || self.upcoming(app).await).await?;
        Ok(all.iter().filter(|i| member.digest.wants(&i.topics)).cloned().collect())
    }
}

/// Erasure: the member's bookings go. A booking of an event still to come is
/// cancelled as the member would (the place goes to the first in line); one of
/// an event that has started, ended or gone is simply deleted.
pub(crate) async fn erase(app: &App, claims: &Claims) -> AppResult<()> {
    loop {
        let page = app.records.query(Query::new(Index::Gsi2, keys::members_bookings(&claims.sub)).limit(25)).await?;
        if page.items.is_empty() {
            return Ok(());
        }
        for item in &page.items {
            let b: Booking = decode(item)?;
            let upcoming = match app.load_event(&b.event_id).await {
                Ok((e, _)) => e.status == EventStatus::Scheduled && e.starts() > app.now(),
                Err(AppError::NotFound(_)) => false,
                Err(e) => return Err(e),
            };
            if upcoming {
                // Cancelled as the member would: the place goes to the first in
                // line. A busy event fails the erasure, which can be retried.
                match app.cancel_booking(claims, &b.event_id).await {
                    Ok(()) | Err(AppError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
                continue;
            }
            // Started, over, cancelled or gone: no place to pass on.
            let (pk, sk) = keys::booking(&b.event_id, &b.member_id);
            let (rpk, rsk) = keys::booking_ref(&b.event_id, &b.id);
            let mut writes = vec![
                Write::Delete { pk, sk, condition: Condition::None },
                Write::Delete { pk: rpk, sk: rsk, condition: Condition::None },
            ];
            if let Some(at) = &b.waitlisted_at {
                let (wpk, wsk) = keys::waitlist_entry(&b.event_id, at, &b.id);
                writes.push(Write::Delete { pk: wpk, sk: wsk, condition: Condition::None });
            }
            app.records.transact(writes).await?;
        }
    }
}
