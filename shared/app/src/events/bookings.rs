//! Bookings: a place while any remain, else the waitlist; freed places go to the
//! first in line.

use crate::events::store::{
    back_off, booking_item, booking_ref_item, event_unchanged, failed_write, free_place, take_place, waitlist_item,
};
use crate::events::views::{BookingList, BookingOutcome, MyBooking, MyBookingList, summary};
use crate::{App, AppError, AppResult, Claims, PageRequest, decode, keys};
use qnet_domain::event::{Booking, BookingStatus, Event, EventStatus};
use qnet_domain::event::{EventKind, london_local};
use qnet_ports::{Condition, Index, Query, Write};

/// How often a booking transaction is tried again when the store reports
/// contention (DynamoDB cancels transactions that touch an item another
/// transaction holds) or the event changed in between.
pub(crate) const ATTEMPTS: u32 = 30;

impl App {
    /// Why a booking cannot be made or changed now, if it cannot.
    pub(crate) fn bookable(&self, e: &Event) -> AppResult<()> {
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

    /// The insights tally of one place (`places_booked`, `places_attended` or
    /// both: one write per scope, as a transaction may touch an item once),
    /// by the member's organisation, in the month the event starts (UTC).
    pub(crate) async fn place_tallies(&self, b: &Booking, fields: &[&str], by: i64) -> AppResult<Vec<Write>> {
        let orgs: Vec<String> = self.member_by_id(&b.member_id).await?.and_then(|m| m.organisation_id).into_iter().collect();
        let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        self.event_tallies(&b.event_starts_at, &orgs, &fields, by).await
    }

    /// What a confirmed booking counts for: its place, and its attendance once marked.
    pub(crate) fn place_fields(b: &Booking) -> &'static [&'static str] {
        if b.attended == Some(true) { &["places_booked", "places_attended"] } else { &["places_booked"] }
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
                writes.extend(self.place_tallies(&b, &["places_booked"], 1).await?);
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
            let mut writes = vec![
                take_place(&e),
                Write::Delete { pk: keys::waitlist(event_id), sk: entry_sk, condition: Condition::Exists },
                Write::Put { item: booking_item(&b), condition: Condition::VersionIs(item.version) },
                event_unchanged(&e),
            ];
            writes.extend(self.place_tallies(&b, &["places_booked"], 1).await?);
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
                (BookingStatus::Confirmed, _) => {
                    writes.push(free_place(event_id));
                    // A place of a cancelled event stays counted as booked (it was).
                    if e.status != EventStatus::Cancelled {
                        writes.extend(self.place_tallies(&b, Self::place_fields(&b), -1).await?);
                    }
                }
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
}
