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

pub mod attendance;
pub mod calendar;
pub mod calendar_feeds;
pub mod reminders;

mod bookings;
mod notices;
mod store;
mod views;
mod visits;

pub use notices::organiser_address;
pub use views::{
    BookingList, BookingOutcome, BookingView, EventList, EventListRequest, EventSummary, EventView, MyBooking, MyBookingList,
    Places, VisitLinkStatus,
};

pub use qnet_domain::event::{Booking, BookingStatus, Event, EventStatus};
use qnet_domain::event::{EventFields, EventKind, EventPatch};
use qnet_domain::{FieldErrors, topics};
use qnet_ports::{Condition, Cursor, Index, Item, Query, Write};

use crate::events::calendar::IcsMethod;
use crate::events::notices::Notice;
use crate::events::store::{event_item, list_writes, version_conflict};
use crate::idempotency::{Created, Creation, IdempotencyKey};
use crate::{App, AppError, AppResult, Claims, decode, keys};

fn is_ulid(id: &str) -> bool {
    id.len() == 26 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The domain of the address system emails come from.
const NOT_YOUR_ORGANISATION: &str = "must be your own organisation (see GET /me); only a moderator may name another host";

/// An event's host is its organiser's organisation (or the one it already
/// has); a moderator may name any.
fn may_host(claims: &Claims, organiser: &qnet_domain::member::Member, current: Option<&str>, named: &str) -> bool {
    claims.is_moderator() || organiser.organisation_id.as_deref() == Some(named) || current == Some(named)
}

impl App {
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
    ) -> AppResult<Creation> {
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
        tracing::info!(event = %e.id, kind = e.kind.as_str(), "event created");
        let view = self.event_view(e.clone()).await?;
        let answer = self.commit(writes, Created::new(e.id.clone(), &view), idem).await?;
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
        let mut cursor = crate::listing::parse_cursor(req.cursor.as_deref(), Some(&partition))?;
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

    // ---- the host's emailed links ----

    // ---- emails ----
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
