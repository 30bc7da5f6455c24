//! Personal calendar feeds: one iCalendar URL per member that calendar apps
//! subscribe to (`GET /calendar-feeds/{token}`), listing the events the member
//! has a confirmed place on.
//!
//! The URL's token is the only credential (a calendar app cannot sign in), so it
//! is an opaque token as unsubscribe links are (`tokens.rs`, purpose
//! `calendar_feed`): random, stored only as its SHA-256, revoked by deleting
//! its record. A member has at most one live feed: a pointer beside their
//! profile (`keys::calendar_feed`) names the live token's hash, and issuing a
//! new feed puts the new token, moves the pointer (version-checked) and deletes
//! the old token in one transaction, so two requests at once cannot leave two
//! live feeds. Erasure revokes it with the member's other tokens and deletes
//! the pointer.
//!
//! The feed uses the same UID and SEQUENCE as the invitation emails
//! (`calendar::vevent`), so a calendar that holds both shows one entry.

use icalendar::Calendar;
use qnet_ports::{Condition, Index, Item, Query, Write};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::events::calendar::{IcsMethod, vevent};
use crate::events::{Booking, BookingStatus, Event, organiser_address};
use crate::tokens::TokenPurpose;
use crate::{App, AppError, AppResult, Claims, decode, encode, keys};

/// Events that ended longer ago than this drop out of the feed.
pub const FEED_PAST_DAYS: i64 = 30;
/// At most this many events in one feed (the soonest-starting last, newest kept).
pub const FEED_MAX_EVENTS: usize = 500;
/// How often issuing a feed is tried again when another request moved the pointer.
const ATTEMPTS: u32 = 10;

/// The pointer beside the profile: which token is the member's live feed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FeedPointer {
    token_hash: String,
    created_at: String,
}

/// `GET /me/calendar-feed`: whether the member has a live feed. The URL is
/// shown once, when the feed is made; it is not stored and cannot be shown again.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarFeedStatus {
    pub exists: bool,
    /// When the live feed was made (UTC), if there is one.
    pub created_at: Option<String>,
}

/// `POST /me/calendar-feed`: the new feed's URL (shown this once).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarFeedLink {
    /// Subscribe to this URL in a calendar app. Anyone holding it can read the
    /// feed: treat it like a password. Making a new feed revokes the old URL.
    pub url: String,
}

impl App {
    async fn feed_pointer(&self, member_id: &str) -> AppResult<Option<(FeedPointer, Item)>> {
        self.get_record::<FeedPointer>(keys::calendar_feed(member_id)).await
    }

    /// `POST /me/calendar-feed`: a new feed URL under `api_base`; the member's
    /// previous feed, if any, stops working in the same transaction.
    pub async fn create_calendar_feed(&self, claims: &Claims, api_base: &str) -> AppResult<CalendarFeedLink> {
        self.member(claims).await?;
        self.take_allowance(&claims.sub, crate::limits::Action::CalendarFeed).await?;
        let (pk, sk) = keys::calendar_feed(&claims.sub);
        for attempt in 0..ATTEMPTS {
            let current = self.feed_pointer(&claims.sub).await?;
            let (token, put_token) = self.token_write(TokenPurpose::CalendarFeed, &claims.sub, None);
            let pointer = encode(&FeedPointer { token_hash: token.hash.clone(), created_at: self.now_text() });
            let mut writes = vec![put_token];
            match current {
                Some((old, item)) => {
                    writes.push(Write::Put {
                        item: Item::new(pk.clone(), sk.clone(), pointer).with_version(item.version + 1),
                        condition: Condition::VersionIs(item.version),
                    });
                    let (tpk, tsk) = keys::token(&old.token_hash);
                    writes.push(Write::Delete { pk: tpk, sk: tsk, condition: Condition::None });
                }
                None => {
                    writes.push(Write::Put { item: Item::new(pk.clone(), sk.clone(), pointer), condition: Condition::NotExists })
                }
            }
            match self.records.transact(writes).await {
                Ok(()) => {
                    tracing::info!(member = %claims.sub, "calendar feed issued");
                    return Ok(CalendarFeedLink {
                        url: format!("{}/calendar-feeds/{}", api_base.trim_end_matches('/'), token.text),
                    });
                }
                Err(e) if e.is_conflict() => {
                    let ms = 5 * u64::from(attempt + 1) + rand::random::<u64>() % 20;
                    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict("your calendar feed is changing at this moment; try again".into()))
    }

    /// `DELETE /me/calendar-feed`: the feed stops working. Revoking when there
    /// is none changes nothing.
    pub async fn revoke_calendar_feed(&self, claims: &Claims) -> AppResult<()> {
        revoke(self, &claims.sub).await?;
        tracing::info!(member = %claims.sub, "calendar feed revoked");
        Ok(())
    }

    /// `GET /me/calendar-feed`.
    pub async fn calendar_feed_status(&self, claims: &Claims) -> AppResult<CalendarFeedStatus> {
        let live = match self.feed_pointer(&claims.sub).await? {
            Some((p, _)) => {
                let (pk, sk) = keys::token(&p.token_hash);
                self.records.get(&pk, &sk).await?.is_some().then_some(p.created_at)
            }
            None => None,
        };
        Ok(CalendarFeedStatus { exists: live.is_some(), created_at: live })
    }

    /// `GET /calendar-feeds/{token}`: the member's feed as an RFC 5545
    /// `METHOD:PUBLISH` calendar, or `NotFound` for a bad or revoked token
    /// (nothing is written either way).
    pub async fn calendar_feed(&self, token: &str) -> AppResult<String> {
        let Some(record) = self.token_record(token, TokenPurpose::CalendarFeed).await? else {
            return Err(AppError::NotFound("calendar feed"));
        };
        let events = self.feed_events(&record.member_id).await?;
        Ok(feed_ics(&events, &organiser_address(&self.mail_from), &self.mail_from, self.now()))
    }

    /// The events the member has a confirmed place on that end no more than
    /// [`FEED_PAST_DAYS`] ago, soonest first. A member's bookings are in GSI2
    /// ordered by the event's start, so this reads newest first and stops at
    /// the first booking of an event that started before the window.
    async fn feed_events(&self, member_id: &str) -> AppResult<Vec<Event>> {
        let cutoff = self.now() - time::Duration::days(FEED_PAST_DAYS);
        // An event can last up to 31 days: one that started that long before the
        // cutoff may still end inside the window.
        let stop = qnet_domain::timestamp(cutoff - time::Duration::days(31));
        let mut events = Vec::new();
        let mut cursor = None;
        'pages: loop {
            let page = self
                .records
                .query(Query::new(Index::Gsi2, keys::members_bookings(member_id)).descending().limit(100).after(cursor))
                .await?;
            for item in &page.items {
                if item.gsi2.as_ref().is_some_and(|k| k.sk < stop) {
                    break 'pages;
                }
                let b: Booking = decode(item)?;
                if b.status != BookingStatus::Confirmed {
                    continue;
                }
                let Some((e, _)) = self.get_record::<Event>(keys::event(&b.event_id)).await? else { continue };
                if e.ends() < cutoff {
                    continue;
                }
                events.push(e);
                if events.len() >= FEED_MAX_EVENTS {
                    break 'pages;
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        events.sort_by(|a, b| (&a.starts_at, &a.id).cmp(&(&b.starts_at, &b.id)));
        Ok(events)
    }
}

/// The feed's calendar: `METHOD:PUBLISH` (a subscription, not an invitation),
/// named "Qnet", one VEVENT per event with the invitations' UID and SEQUENCE;
/// a cancelled event is `STATUS:CANCELLED`.
pub fn feed_ics(events: &[Event], organiser: &str, mail_from: &str, now: OffsetDateTime) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//Qnet//Calendar feed//EN"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", IcsMethod::Publish.as_str()))
        .append_property(("X-WR-CALNAME", "Qnet"))
        .append_property(("X-WR-CALDESC", "Your confirmed Qnet events and training"))
        // How often to check for changes (RFC 7986 and its older spelling).
        .append_property(icalendar::Property::new("REFRESH-INTERVAL", "PT1H").add_parameter("VALUE", "DURATION").done())
        .append_property(("X-PUBLISHED-TTL", "PT1H"));
    for e in events {
        cal.push(vevent(e, IcsMethod::Publish, None, organiser, mail_from, now));
    }
    cal.to_string()
}

/// Revokes the member's feed (its token and the pointer).
async fn revoke(app: &App, member_id: &str) -> AppResult<()> {
    let (pk, sk) = keys::calendar_feed(member_id);
    for _ in 0..ATTEMPTS {
        let Some((p, item)) = app.feed_pointer(member_id).await? else { return Ok(()) };
        let (tpk, tsk) = keys::token(&p.token_hash);
        let writes = vec![
            Write::Delete { pk: tpk, sk: tsk, condition: Condition::None },
            Write::Delete { pk: pk.clone(), sk: sk.clone(), condition: Condition::VersionIs(item.version) },
        ];
        match app.records.transact(writes).await {
            Ok(()) => return Ok(()),
            // A new feed was issued meanwhile: revoke that one.
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict("your calendar feed is changing at this moment; try again".into()))
}

/// Erasure: the feed's token goes with the member's other tokens
/// (`revoke_member_tokens`); this removes the pointer too.
pub(crate) async fn erase(app: &App, member_id: &str) -> AppResult<()> {
    revoke(app, member_id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventStatus;
    use qnet_domain::event::EventKind;

    fn event(id: &str, status: EventStatus) -> Event {
        Event {
            id: id.into(),
            kind: EventKind::Training,
            title: "Measurement for improvement, an introduction with worked examples from acute care".into(),
            description: "Bring data.".into(),
            starts_at: "2027-03-29T09:00:00.000Z".into(),
            ends_at: "2027-03-29T11:00:00.000Z".into(),
            location: None,
            online_url: Some("https://meet.example.nhs.uk/qi".into()),
            capacity: 20,
            host_organisation_id: "o".into(),
            topics: vec![],
            booking_closes_at: "2027-03-29T09:00:00.000Z".into(),
            what_you_will_see: None,
            host: None,
            status,
            sequence: 3,
            created_by: "m".into(),
            created_at: "2026-11-23T09:00:00.000Z".into(),
            updated_at: "2026-11-23T09:00:00.000Z".into(),
            version: 1,
        }
    }

    #[test]
    fn a_feed_is_a_published_calendar_named_qnet() {
        let now = time::macros::datetime!(2026-11-23 10:00 UTC);
        let ics = feed_ics(
            &[event("01JA", EventStatus::Scheduled), event("01JB", EventStatus::Cancelled)],
            "noreply@qnet.test",
            "a@qnet.test",
            now,
        );
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"), "{ics}");
        assert!(ics.contains("\r\nMETHOD:PUBLISH\r\n") && !ics.contains("METHOD:REQUEST"), "{ics}");
        assert!(ics.contains("\r\nX-WR-CALNAME:Qnet\r\n"), "{ics}");
        assert!(ics.contains("\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n"), "{ics}");
        assert_eq!(ics.matches("BEGIN:VEVENT\r\n").count(), 2);
        assert!(ics.contains("UID:event-01JA@qnet.test\r\n") && ics.contains("SEQUENCE:3\r\n"));
        assert_eq!(ics.matches("STATUS:CANCELLED\r\n").count(), 1);
        assert!(!ics.contains("ATTENDEE"), "a feed names no attendee");
        assert!(ics.split("\r\n").all(|l| l.len() <= 75), "{ics}");
        let empty = feed_ics(&[], "noreply@qnet.test", "a@qnet.test", now);
        assert!(!empty.contains("BEGIN:VEVENT") && empty.contains("X-WR-CALNAME:Qnet"));
    }
}
