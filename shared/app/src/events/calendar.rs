//! iCalendar (RFC 5545) for events: the invitations in booking emails (iTIP
//! `METHOD:REQUEST` / `METHOD:CANCEL`, RFC 5546) and the public
//! `GET /events/{id}/calendar.ics` (`METHOD:PUBLISH`).
//!
//! Built with the `icalendar` crate, which escapes text values and folds long
//! lines at 75 octets; we set DTSTAMP and UID ourselves so the output is
//! stable. Every message about one event carries the same UID
//! ([`event_uid`]) and the event's SEQUENCE, which goes up each time its time or
//! place changes and when it is cancelled, so calendar apps update the entry
//! they already have instead of adding another. Reuse [`event_ics`] (or
//! [`vevent`] for a feed of several events) rather than writing iCalendar by hand.

use icalendar::{Calendar, Component, Property};
use time::OffsetDateTime;

use crate::events::{Event, EventStatus};

/// The iTIP method of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcsMethod {
    /// An invitation, or an updated one.
    Request,
    /// The event is off for this attendee (cancelled, or they cancelled).
    Cancel,
    /// A calendar to subscribe to or import, not an invitation.
    Publish,
}

impl IcsMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            IcsMethod::Request => "REQUEST",
            IcsMethod::Cancel => "CANCEL",
            IcsMethod::Publish => "PUBLISH",
        }
    }
}

/// `20270304T093000Z`: RFC 5545 DATE-TIME in UTC.
pub fn ics_time(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    t.to_offset(time::UtcOffset::UTC).format(&f).expect("a UTC time formats")
}

/// The UID of an event in every calendar message about it:
/// `event-<id>@<mail domain>`.
pub fn event_uid(event_id: &str, mail_from: &str) -> String {
    let domain = mail_from.rsplit_once('@').map(|(_, d)| d).unwrap_or("qnet.localhost");
    format!("event-{event_id}@{domain}")
}

/// One VEVENT for `e`. `attendee` is (name, email) for an invitation.
pub fn vevent(
    e: &Event,
    method: IcsMethod,
    attendee: Option<(&str, &str)>,
    organiser: &str,
    mail_from: &str,
    now: OffsetDateTime,
) -> icalendar::Event {
    let cancelled = method == IcsMethod::Cancel || e.status == EventStatus::Cancelled;
    let mut v = icalendar::Event::new();
    v.add_property("UID", event_uid(&e.id, mail_from))
        .add_property("DTSTAMP", ics_time(now))
        .add_property("SEQUENCE", e.sequence.to_string())
        .add_property("DTSTART", ics_time(e.starts()))
        .add_property("DTEND", ics_time(e.ends()))
        .add_property("SUMMARY", &e.title)
        .add_property("STATUS", if cancelled { "CANCELLED" } else { "CONFIRMED" })
        .add_property("TRANSP", "OPAQUE");
    let mut description = e.description.clone();
    if let Some(url) = &e.online_url {
        description.push_str(&format!("\n\nJoin online: {url}"));
    }
    v.add_property("DESCRIPTION", description);
    match (&e.location, &e.online_url) {
        (Some(place), _) => {
            v.add_property("LOCATION", place);
        }
        (None, Some(url)) => {
            v.add_property("LOCATION", url);
        }
        (None, None) => {}
    }
    if let Some(url) = &e.online_url {
        v.add_property("URL", url);
    }
    let mut org = Property::new("ORGANIZER", format!("mailto:{organiser}"));
    org.add_parameter("CN", "Qnet events");
    v.append_property(org);
    if let Some((name, email)) = attendee {
        let mut a = Property::new("ATTENDEE", format!("mailto:{email}"));
        a.add_parameter("CN", name)
            .add_parameter("ROLE", "REQ-PARTICIPANT")
            .add_parameter("PARTSTAT", if cancelled { "DECLINED" } else { "ACCEPTED" })
            .add_parameter("RSVP", "FALSE");
        v.append_multi_property(a);
    }
    v
}

/// A whole iCalendar object holding one event.
pub fn event_ics(
    e: &Event,
    method: IcsMethod,
    attendee: Option<(&str, &str)>,
    organiser: &str,
    mail_from: &str,
    now: OffsetDateTime,
) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//Qnet//Events//EN"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", method.as_str()));
    cal.push(vevent(e, method, attendee, organiser, mail_from, now));
    cal.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventStatus;
    use qnet_domain::event::EventKind;

    fn event() -> Event {
        Event {
            id: "01JEVENT000000000000000000".into(),
            kind: EventKind::Workshop,
            title: "Run charts, part 1; with SPC".into(),
            description: "Bring data.\nA long line that goes on and on so that the folding of content lines at seventy five octets is needed here.".into(),
            starts_at: "2027-07-01T09:00:00.000Z".into(),
            ends_at: "2027-07-01T11:30:00.000Z".into(),
            location: Some("Room 2, St James's".into()),
            online_url: None,
            capacity: 20,
            host_organisation_id: "o".into(),
            topics: vec![],
            booking_closes_at: "2027-07-01T09:00:00.000Z".into(),
            what_you_will_see: None,
            host: None,
            status: EventStatus::Scheduled,
            sequence: 2,
            created_by: "m".into(),
            created_at: "2026-11-23T09:00:00.000Z".into(),
            updated_at: "2026-11-23T09:00:00.000Z".into(),
            version: 1,
        }
    }

    #[test]
    fn an_invitation_is_rfc_5545() {
        let now = time::macros::datetime!(2026-11-23 10:00 UTC);
        let ics =
            event_ics(&event(), IcsMethod::Request, Some(("Jo, Bloggs", "jo@nhs.net")), "noreply@qnet.test", "a@qnet.test", now);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(ics.contains("METHOD:REQUEST\r\n"));
        assert!(ics.contains("UID:event-01JEVENT000000000000000000@qnet.test\r\n"));
        assert!(ics.contains("SEQUENCE:2\r\n"));
        assert!(ics.contains("DTSTART:20270701T090000Z\r\n"));
        assert!(ics.contains("DTEND:20270701T113000Z\r\n"));
        assert!(ics.contains("DTSTAMP:20261123T100000Z\r\n"));
        assert!(ics.contains("SUMMARY:Run charts\\, part 1\\; with SPC\r\n"), "{ics}");
        assert!(ics.contains("ORGANIZER;CN=Qnet events:mailto:noreply@qnet.test\r\n"), "{ics}");
        assert!(ics.contains("ATTENDEE;"), "{ics}");
        assert!(ics.contains("mailto:jo@nhs.net"));
        // Every line is folded to at most 75 octets.
        assert!(ics.split("\r\n").all(|l| l.len() <= 75), "{ics}");
        let cancel = event_ics(&event(), IcsMethod::Cancel, Some(("Jo", "jo@nhs.net")), "noreply@qnet.test", "a@qnet.test", now);
        assert!(cancel.contains("METHOD:CANCEL\r\n") && cancel.contains("STATUS:CANCELLED\r\n"));
    }
}
