//! Event reminders: the day before an event, everyone with a confirmed place is
//! emailed once.
//!
//! "The day before" is a London calendar day: a run at `now` reminds the events
//! whose `starts_at` falls on the Europe/London date after `now`'s London date,
//! i.e. from London midnight to the next London midnight (23, 24 or 25 hours
//! across a clock change). The schedule runs daily at 09:00 London time, so an
//! event at 08:00 is reminded 23 hours ahead and one at 19:00, 34 hours ahead;
//! a run on any other hour of the same day reminds the same events.
//!
//! Tomorrow's events are found without a scan: the upcoming-events list
//! `EVLIST#all` (`events.rs`) is ordered by `<starts_at>#<event id>` and holds
//! only scheduled events, so the London day is one or two Queries on UTC date
//! prefixes (a BST day starts at 23:00 UTC the day before). Each event is then
//! read itself, so its status and time are the current ones.
//!
//! Each (event, member, London date) is claimed before the email is sent, by a
//! create-if-absent put of `keys::event_reminder_claim`, so a second run, a
//! retried run or two runs at once send nothing twice. A failed send releases
//! its claim, so running again retries exactly the failures. (A process that
//! dies between claim and send leaves that one reminder unsent: at most once.)
//! The date is in the claim so that an event moved to another day after its
//! reminder went out is reminded again the day before its new date.

use std::collections::BTreeMap;

use jiff::civil::Date;
use qnet_domain::event::london_local;
use qnet_ports::{Condition, Index, Item, OutgoingMail, Query};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::events::{Booking, BookingStatus, Event, EventStatus};
use crate::members::suppression::Delivery;
use crate::{App, AppResult, decode, keys};

/// Claims are kept this long after the event ends, then expire (TTL).
const CLAIM_DAYS_AFTER: i64 = 30;

/// What a run did: `qnet reminders` prints it, `functions/event-reminders`
/// answers it. Counts of bookings, except `events` and
/// `skipped.cancelled_events`, which count events.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReminderReport {
    /// The London date reminded (`yyyy-mm-dd`).
    pub date: String,
    /// Scheduled events starting on that date.
    pub events: usize,
    /// Reminders sent by this run.
    pub sent: usize,
    /// Why bookings (or events) got no reminder from this run:
    /// `already_sent` (claimed by an earlier or concurrent run),
    /// `not_confirmed` (waitlisted, requested or declined),
    /// `suppressed` (the address bounced or complained), `member_gone`
    /// (erased since booking), `cancelled_events`.
    pub skipped: BTreeMap<String, usize>,
    /// Reminders that could not be sent; running again retries them.
    pub failed: usize,
    /// One line per failure, with ids only (no address, no mail service text).
    pub failures: Vec<ReminderFailure>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReminderFailure {
    pub event_id: String,
    pub booking_id: String,
    pub reason: String,
}

const SKIP_REASONS: [&str; 5] = ["already_sent", "cancelled_events", "member_gone", "not_confirmed", "suppressed"];

impl ReminderReport {
    fn skip(&mut self, why: &'static str) {
        *self.skipped.entry(why.to_string()).or_default() += 1;
    }
}

fn to_jiff(t: OffsetDateTime) -> jiff::Timestamp {
    jiff::Timestamp::from_second(t.unix_timestamp()).expect("times in range")
}

fn london_midnight(d: Date) -> OffsetDateTime {
    let z = d.to_zoned_datetime(qnet_domain::digest::london().clone()).expect("every London date has a start");
    OffsetDateTime::from_unix_timestamp(z.timestamp().as_second()).expect("times in range")
}

/// The London date after `now`'s, and its start and end (UTC): the events a
/// run at `now` reminds start in `start..end`.
pub fn reminder_day(now: OffsetDateTime) -> (Date, OffsetDateTime, OffsetDateTime) {
    let today = to_jiff(now).to_zoned_datetime(qnet_domain::digest::london().clone()).date();
    let tomorrow = today.tomorrow().expect("dates in range");
    let after = tomorrow.tomorrow().expect("dates in range");
    (tomorrow, london_midnight(tomorrow), london_midnight(after))
}

/// `2026-03-29`: the UTC date of a time, the prefix of its list sort keys.
fn utc_date(t: OffsetDateTime) -> String {
    qnet_domain::timestamp(t)[..10].to_string()
}

impl App {
    /// Emails every member with a confirmed place on an event starting on the
    /// London date after `now`'s, once each (see the module documentation).
    pub async fn send_event_reminders(&self, now: OffsetDateTime) -> AppResult<ReminderReport> {
        let (date, start, end) = reminder_day(now);
        let date = date.to_string();
        let mut report = ReminderReport { date: date.clone(), ..Default::default() };
        for why in SKIP_REASONS {
            report.skipped.insert(why.to_string(), 0);
        }
        for id in self.event_ids_starting_between(start, end).await? {
            let Some((e, _)) = self.get_record::<Event>(keys::event(&id)).await? else { continue };
            if e.starts() < start || e.starts() >= end {
                continue;
            }
            if e.status == EventStatus::Cancelled {
                report.skip("cancelled_events");
                continue;
            }
            report.events += 1;
            self.remind_event(&e, &date, &mut report).await?;
        }
        tracing::info!(date = %report.date, events = report.events, sent = report.sent, failed = report.failed, "event reminders");
        Ok(report)
    }

    /// The ids of scheduled events starting in `start..end`, from the
    /// upcoming-events list, soonest first.
    async fn event_ids_starting_between(&self, start: OffsetDateTime, end: OffsetDateTime) -> AppResult<Vec<String>> {
        let (from, to) = (qnet_domain::timestamp(start), qnet_domain::timestamp(end));
        let mut prefixes = vec![utc_date(start)];
        let last = utc_date(end - time::Duration::seconds(1));
        if last != prefixes[0] {
            prefixes.push(last);
        }
        let mut ids = Vec::new();
        for prefix in prefixes {
            let mut cursor = None;
            loop {
                let page = self
                    .records
                    .query(Query::new(Index::Primary, keys::event_list(None)).prefix(prefix.clone()).limit(100).after(cursor))
                    .await?;
                for item in &page.items {
                    let Some((starts_at, id)) = item.sk.split_once('#') else { continue };
                    if starts_at >= from.as_str() && starts_at < to.as_str() && !ids.iter().any(|i| i == id) {
                        ids.push(id.to_string());
                    }
                }
                match page.next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        Ok(ids)
    }

    async fn remind_event(&self, e: &Event, date: &str, report: &mut ReminderReport) -> AppResult<()> {
        let (pk, _) = keys::event(&e.id);
        let mut cursor = None;
        loop {
            let page = self
                .records
                .query(Query::new(Index::Primary, pk.clone()).prefix(keys::BOOKING_PREFIX).limit(100).after(cursor))
                .await?;
            for item in &page.items {
                let b: Booking = decode(item)?;
                if b.status != BookingStatus::Confirmed {
                    report.skip("not_confirmed");
                    continue;
                }
                self.remind_member(e, &b, date, report).await?;
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(()),
            }
        }
    }

    /// Claims, builds and sends one reminder. Only the store failing to claim
    /// stops the run; a failed email is counted and its claim released.
    async fn remind_member(&self, e: &Event, b: &Booking, date: &str, report: &mut ReminderReport) -> AppResult<()> {
        let (pk, sk) = keys::event_reminder_claim(&e.id, date, &b.member_id);
        let claim = Item::new(pk.clone(), sk.clone(), serde_json::json!({"claimed_at": self.now_text()}))
            .expiring_at(e.ends().unix_timestamp() + CLAIM_DAYS_AFTER * 86_400);
        match self.records.put(claim, Condition::NotExists).await {
            Ok(()) => {}
            Err(err) if err.is_conflict() => {
                report.skip("already_sent");
                return Ok(());
            }
            Err(err) => return Err(err.into()),
        }
        let release = || async {
            if self.records.delete(&pk, &sk, Condition::None).await.is_err() {
                tracing::error!(event = %e.id, booking = %b.id, "reminder claim not released");
            }
        };
        let member = match self.member_by_id(&b.member_id).await {
            Ok(Some(m)) => m,
            Ok(None) => {
                release().await;
                report.skip("member_gone");
                return Ok(());
            }
            Err(err) => {
                release().await;
                return Err(err);
            }
        };
        let failure = |reason: &str| ReminderFailure { event_id: e.id.clone(), booking_id: b.id.clone(), reason: reason.into() };
        let mail = match self.reminder_mail(e, &member.name, &member.email) {
            Ok(m) => m,
            Err(_) => {
                release().await;
                tracing::error!(event = %e.id, booking = %b.id, "reminder not built");
                report.failed += 1;
                report.failures.push(failure("the email could not be built"));
                return Ok(());
            }
        };
        match self.deliver(&*self.mailer, &mail).await {
            Ok(Delivery::Sent { .. }) => {
                tracing::info!(event = %e.id, booking = %b.id, "reminder sent");
                report.sent += 1;
            }
            // Kept claimed: the address is not to be written to.
            Ok(Delivery::Suppressed(_)) => report.skip("suppressed"),
            Err(_) => {
                // The mail service's text can name the address: not logged.
                release().await;
                tracing::error!(event = %e.id, booking = %b.id, "reminder not sent: the mail service or the store failed");
                report.failed += 1;
                report.failures.push(failure("the mail service or the store failed; run again to retry"));
            }
        }
        Ok(())
    }

    /// The reminder email: text and HTML from `templates/email/event-reminder.*`,
    /// times in Europe/London.
    fn reminder_mail(&self, e: &Event, to_name: &str, to_email: &str) -> AppResult<OutgoingMail> {
        let mut ctx = tera::Context::new();
        ctx.insert("name", to_name);
        ctx.insert("title", &e.title);
        ctx.insert("kind", e.kind.label());
        ctx.insert("when", &format!("{} to {}", london_local(e.starts()), london_local(e.ends())));
        ctx.insert("location", &e.location);
        ctx.insert("online_url", &e.online_url);
        ctx.insert("what_you_will_see", &e.what_you_will_see);
        ctx.insert("host", &e.host);
        ctx.insert("event_url", &format!("{}/events/{}", self.web_base_url, e.id));
        let h =
            crate::mail::Headers::new(("Qnet events", &*self.mail_from), (to_name, to_email), format!("Tomorrow: {}", e.title));
        Ok(crate::mail::compose("email/event-reminder", &ctx, h)?.mail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn day(now: OffsetDateTime) -> (String, String, String) {
        let (d, s, e) = reminder_day(now);
        (d.to_string(), qnet_domain::timestamp(s), qnet_domain::timestamp(e))
    }

    #[test]
    fn tomorrow_is_a_london_day_across_clock_changes() {
        // Winter: London is UTC.
        assert_eq!(
            day(datetime!(2026-11-23 09:00 UTC)),
            ("2026-11-24".into(), "2026-11-24T00:00:00.000Z".into(), "2026-11-25T00:00:00.000Z".into())
        );
        // Saturday before the clocks go forward: Sunday 29 March 2026 has 23 hours.
        assert_eq!(
            day(datetime!(2026-03-28 09:00 UTC)),
            ("2026-03-29".into(), "2026-03-29T00:00:00.000Z".into(), "2026-03-29T23:00:00.000Z".into())
        );
        // Summer: the London day starts at 23:00 UTC the day before.
        assert_eq!(
            day(datetime!(2026-07-01 08:00 UTC)),
            ("2026-07-02".into(), "2026-07-01T23:00:00.000Z".into(), "2026-07-02T23:00:00.000Z".into())
        );
        // 23:30 UTC on 1 July is already 2 July in London.
        assert_eq!(day(datetime!(2026-07-01 23:30 UTC)).0, "2026-07-03");
        // Saturday before the clocks go back: Sunday 25 October 2026 has 25 hours.
        assert_eq!(
            day(datetime!(2026-10-24 08:00 UTC)),
            ("2026-10-25".into(), "2026-10-24T23:00:00.000Z".into(), "2026-10-26T00:00:00.000Z".into())
        );
    }
}
