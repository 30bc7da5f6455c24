//! Go-and-see visits: the host accepts or declines a request, in the app or
//! through a signed link in the email.

use crate::events::bookings::ATTEMPTS;
use crate::events::is_ulid;
use crate::events::notices::Notice;
use crate::events::store::{back_off, booking_item, event_unchanged, failed_write, take_place, waitlist_item};
use crate::events::views::{BookingView, VisitLinkStatus};
use crate::{App, AppError, AppResult, Claims, keys};
use qnet_domain::event::london_local;
use qnet_domain::event::{Booking, BookingStatus, Event, EventStatus};
use qnet_ports::{Condition, Item, Write};

/// The purpose signed into a host's visit-request links.
pub(crate) const VISIT_PURPOSE: &str = "visit-request";

/// How long after the visit's start (or now) a host's emailed link stays valid.
pub(crate) const VISIT_LINK_GRACE: time::Duration = time::Duration::days(90);

impl App {
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

    pub(crate) async fn decide_visit(&self, e: &Event, mut b: Booking, accept: bool) -> AppResult<Booking> {
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
                let mut writes = vec![
                    Write::Put { item: booking_item(&next), condition: Condition::VersionIs(version) },
                    take_place(e),
                    event_unchanged(e),
                ];
                writes.extend(self.place_tallies(&next, &["places_booked"], 1).await?);
                let r = self.records.transact(writes).await;
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

    pub(crate) fn visit_token(&self, e: &Event, b: &Booking) -> String {
        // Valid well past the start, so moving the event later keeps the host's
        // links working; `bookable` refuses answers once the visit has started.
        let expires = e.starts().max(self.now()) + VISIT_LINK_GRACE;
        self.links.sign(VISIT_PURPOSE, &format!("{}|{}", e.id, b.id), expires.unix_timestamp())
    }

    pub(crate) fn visit_subject(&self, token: &str) -> Result<(String, String), VisitLinkStatus> {
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
}
