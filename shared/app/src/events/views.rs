//! What the events API answers: events, bookings, visit links.

use crate::views::OrganisationRef;
use crate::{App, AppResult};
use qnet_domain::event::{Booking, BookingStatus, Event, EventStatus};
use qnet_domain::event::{EventKind, london_local};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

pub(crate) fn summary(e: &Event) -> EventSummary {
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

impl App {
    pub(crate) async fn event_view(&self, e: Event) -> AppResult<EventView> {
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

    pub(crate) async fn own_booking_view(&self, b: &Booking, name: &str) -> AppResult<BookingView> {
        let position = if b.status == BookingStatus::Waitlisted {
            let line = self.waitlist(&b.event_id, 10_000).await?;
            line.iter().position(|(_, id, _)| *id == b.id).map(|p| p as u64 + 1)
        } else {
            None
        };
        Ok(Self::booking_view(b, Some(name.to_string()), None, position))
    }
}
