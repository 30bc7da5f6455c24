//! Events and training: what `POST /events` and `PATCH /events/{id}` take, and
//! the rules on them. Times are RFC 3339 with any offset and are kept in UTC;
//! they are shown in Europe/London ([`london_local`]). Parsing collects every
//! field error at once; unknown fields are refused.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::FieldErrors;
use crate::text::{Input, Presence};
use crate::topics;

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const LOCATION_MAX: usize = 500;
pub const VISIT_TEXT_MAX: usize = 2_000;
pub const HOST_MAX: usize = 200;
pub const CAPACITY_MAX: u64 = 10_000;
pub const MAX_TOPICS: usize = 10;
/// No event may be set more than this far ahead (a typo in the year, not a plan).
pub const LATEST_YEARS_AHEAD: i64 = 5;

/// What sort of event it is. A `go_and_see` is a visit to another team's work:
/// bookings are requests that the host accepts or declines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Training,
    Workshop,
    FocusGroup,
    Meeting,
    GoAndSee,
}

impl EventKind {
    pub const WORDS: &'static [&'static str] = &["training", "workshop", "focus_group", "meeting", "go_and_see"];
    pub const ALL: [EventKind; 5] =
        [EventKind::Training, EventKind::Workshop, EventKind::FocusGroup, EventKind::Meeting, EventKind::GoAndSee];

    pub fn as_str(self) -> &'static str {
        Self::WORDS[Self::ALL.iter().position(|k| *k == self).expect("every kind is listed")]
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        Self::WORDS.iter().position(|w| *w == s).map(|i| Self::ALL[i])
    }

    /// How the kind reads in an email ("a workshop").
    pub fn label(self) -> &'static str {
        match self {
            EventKind::Training => "training",
            EventKind::Workshop => "workshop",
            EventKind::FocusGroup => "focus group",
            EventKind::Meeting => "meeting",
            EventKind::GoAndSee => "go-and-see visit",
        }
    }
}

/// The fields of an event, complete (a new event, or a stored one with a
/// patch applied), before the checks that span fields.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFields {
    pub kind: EventKind,
    pub title: String,
    pub description: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub location: Option<String>,
    pub online_url: Option<String>,
    pub capacity: u64,
    pub host_organisation_id: String,
    pub topics: Vec<String>,
    /// Defaults to `starts_at`.
    pub booking_closes_at: OffsetDateTime,
    /// Go-and-see visits only: what visitors will see.
    pub what_you_will_see: Option<String>,
    /// Go-and-see visits only: who hosts (a person or team).
    pub host: Option<String>,
}

const FIELDS: &[&str] = &[
    "kind",
    "title",
    "description",
    "starts_at",
    "ends_at",
    "location",
    "online_url",
    "capacity",
    "host_organisation_id",
    "topics",
    "booking_closes_at",
    "what_you_will_see",
    "host",
];

/// Fields whose change makes a new calendar invitation (time and place).
pub const SCHEDULE_FIELDS: &[&str] = &["starts_at", "ends_at", "location", "online_url"];

/// Parses an RFC 3339 time with any offset; answers it in UTC.
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok().map(|t| t.to_offset(time::UtcOffset::UTC))
}

fn time_field(i: &mut Input<'_>, raw: &Value, field: &str, presence: Presence) -> Option<OffsetDateTime> {
    match raw.get(field) {
        None | Some(Value::Null) => {
            if presence == Presence::Required {
                i.errors.push(field, "is required");
            }
            None
        }
        Some(Value::String(s)) => match parse_time(s) {
            Some(t) => Some(t),
            None => {
                i.errors.push(field, "must be an RFC 3339 date and time with an offset, e.g. 2027-03-04T09:30:00Z");
                None
            }
        },
        Some(_) => {
            i.errors.push(field, "must be a string");
            None
        }
    }
}

fn url_field(i: &mut Input<'_>) -> Option<String> {
    let v = i.text("online_url", Presence::Optional, 1, crate::resource::URL_MAX)?;
    match crate::resource::https_url(&v) {
        Ok(u) => Some(u),
        Err(m) => {
            i.errors.push("online_url", m);
            None
        }
    }
}

fn topic_list(i: &mut Input<'_>) -> Option<Vec<String>> {
    i.id_list("topics", MAX_TOPICS, |t| if topics::is_known(t) { Ok(()) } else { Err("is not a known topic".into()) })
}

fn id_field(i: &mut Input<'_>, field: &str, presence: Presence) -> Option<String> {
    let v = i.text(field, presence, 1, 100)?;
    if v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        Some(v)
    } else {
        i.errors.push(field, "is not an id");
        None
    }
}

fn kind_field(i: &mut Input<'_>) -> Option<EventKind> {
    i.choice("kind", EventKind::WORDS).and_then(|w| EventKind::parse(&w))
}

impl EventFields {
    /// A new event, as `POST /events` takes it. `now` bounds the times.
    pub fn parse_new(v: &Value, now: OffsetDateTime) -> Result<EventFields, FieldErrors> {
        let mut i = Input::new(v, FIELDS);
        let kind = kind_field(&mut i);
        if !i.has("kind") {
            i.errors.push("kind", "is required");
        }
        let title = i.free_text("title", Presence::Required, 1, TITLE_MAX).map(String::from);
        let description = i.free_text("description", Presence::Required, 1, DESCRIPTION_MAX).map(String::from);
        let starts_at = time_field(&mut i, v, "starts_at", Presence::Required);
        let ends_at = time_field(&mut i, v, "ends_at", Presence::Required);
        let location = i.free_text("location", Presence::Optional, 1, LOCATION_MAX).map(String::from);
        let online_url = url_field(&mut i);
        let capacity = i.integer("capacity", Presence::Required, 1, CAPACITY_MAX);
        let host_organisation_id = id_field(&mut i, "host_organisation_id", Presence::Required);
        let topics = topic_list(&mut i).unwrap_or_default();
        let booking_closes_at = time_field(&mut i, v, "booking_closes_at", Presence::Optional);
        let what_you_will_see = i.free_text("what_you_will_see", Presence::Optional, 1, VISIT_TEXT_MAX).map(String::from);
        let host = i.free_text("host", Presence::Optional, 1, HOST_MAX).map(String::from);
        let mut errors = i.errors;
        let (Some(kind), Some(title), Some(description), Some(starts_at), Some(ends_at), Some(capacity), Some(org)) =
            (kind, title, description, starts_at, ends_at, capacity, host_organisation_id)
        else {
            // Judge the rules that span fields on what did parse, so one answer names every problem.
            let parts = Parts {
                kind,
                starts_at,
                ends_at,
                booking_closes_at: booking_closes_at.or(starts_at),
                has_place: location.is_some()
                    || online_url.is_some()
                    || v.get("location").is_some()
                    || v.get("online_url").is_some(),
                has_what: what_you_will_see.is_some() || v.get("what_you_will_see").is_some(),
                has_host: host.is_some() || v.get("host").is_some(),
            };
            parts.check(now, true, &mut errors);
            return Err(errors);
        };
        let fields = EventFields {
            kind,
            title,
            description,
            starts_at,
            ends_at,
            location,
            online_url,
            capacity,
            host_organisation_id: org,
            topics,
            booking_closes_at: booking_closes_at.unwrap_or(starts_at),
            what_you_will_see,
            host,
        };
        fields.check(now, true, &mut errors);
        errors.into_result(fields)
    }

    /// The rules that span fields. `times_changed`: whether to refuse times in
    /// the past (a new event, or a patch that moves it).
    pub fn check(&self, now: OffsetDateTime, times_changed: bool, errors: &mut FieldErrors) {
        Parts {
            kind: Some(self.kind),
            starts_at: Some(self.starts_at),
            ends_at: Some(self.ends_at),
            booking_closes_at: Some(self.booking_closes_at),
            has_place: self.location.is_some() || self.online_url.is_some(),
            has_what: self.what_you_will_see.is_some(),
            has_host: self.host.is_some(),
        }
        .check(now, times_changed, errors);
    }
}

/// What the rules spanning fields look at; `None` where a field did not parse
/// (its own error is already reported).
struct Parts {
    kind: Option<EventKind>,
    starts_at: Option<OffsetDateTime>,
    ends_at: Option<OffsetDateTime>,
    booking_closes_at: Option<OffsetDateTime>,
    has_place: bool,
    has_what: bool,
    has_host: bool,
}

impl Parts {
    fn check(&self, now: OffsetDateTime, times_changed: bool, errors: &mut FieldErrors) {
        if let Some(starts_at) = self.starts_at {
            if times_changed && starts_at <= now {
                errors.push("starts_at", "is in the past");
            }
            if times_changed && starts_at > now + time::Duration::days(365 * LATEST_YEARS_AHEAD) {
                errors.push("starts_at", format!("must be within {LATEST_YEARS_AHEAD} years"));
            }
            if let Some(ends_at) = self.ends_at {
                if ends_at <= starts_at {
                    errors.push("ends_at", "must be after starts_at");
                } else if ends_at - starts_at > time::Duration::days(31) {
                    errors.push("ends_at", "must be within 31 days of starts_at");
                }
            }
            if self.booking_closes_at.is_some_and(|c| c > starts_at) {
                errors.push("booking_closes_at", "must not be after starts_at");
            }
        }
        if !self.has_place {
            errors.push("location", "give a location (address) or an online_url, or both");
        }
        match self.kind {
            Some(EventKind::GoAndSee) => {
                if !self.has_what {
                    errors.push("what_you_will_see", "is required for a go_and_see visit");
                }
                if !self.has_host {
                    errors.push("host", "is required for a go_and_see visit (who hosts)");
                }
            }
            Some(_) => {
                if self.has_what {
                    errors.push("what_you_will_see", "is only for go_and_see visits");
                }
                if self.has_host {
                    errors.push("host", "is only for go_and_see visits");
                }
            }
            None => {}
        }
    }
}

/// Changes to an event: absent fields stay; null clears an optional one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
    pub location: Option<Option<String>>,
    pub online_url: Option<Option<String>>,
    pub capacity: Option<u64>,
    pub host_organisation_id: Option<String>,
    pub topics: Option<Vec<String>>,
    pub booking_closes_at: Option<OffsetDateTime>,
    pub what_you_will_see: Option<Option<String>>,
    pub host: Option<Option<String>>,
}

impl EventPatch {
    /// Parses a patch; `kind` cannot change (a visit's bookings are requests).
    pub fn parse(v: &Value) -> Result<EventPatch, FieldErrors> {
        let mut i = Input::new(v, FIELDS);
        if i.has("kind") {
            i.errors.push("kind", "cannot be changed: create another event");
        }
        for required in ["title", "description", "starts_at", "ends_at", "capacity", "host_organisation_id", "booking_closes_at"]
        {
            if v.get(required).is_some_and(Value::is_null) {
                i.errors.push(required, "cannot be cleared");
            }
        }
        let mut p = EventPatch {
            title: i.free_text("title", Presence::Optional, 1, TITLE_MAX).map(String::from),
            description: i.free_text("description", Presence::Optional, 1, DESCRIPTION_MAX).map(String::from),
            starts_at: time_field(&mut i, v, "starts_at", Presence::Optional),
            ends_at: time_field(&mut i, v, "ends_at", Presence::Optional),
            ..EventPatch::default()
        };
        if i.has("location") {
            p.location = Some(i.patch_free_text("location", LOCATION_MAX).and_then(|t| t.map(String::from)));
        }
        if i.has("online_url") {
            p.online_url = Some(match v.get("online_url") {
                Some(Value::Null) => None,
                Some(Value::String(s)) if s.trim().is_empty() => None,
                _ => url_field(&mut i),
            });
        }
        p.capacity = i.integer("capacity", Presence::Optional, 1, CAPACITY_MAX);
        p.host_organisation_id = id_field(&mut i, "host_organisation_id", Presence::Optional);
        p.topics = topic_list(&mut i);
        p.booking_closes_at = time_field(&mut i, v, "booking_closes_at", Presence::Optional);
        if i.has("what_you_will_see") {
            p.what_you_will_see = Some(i.patch_free_text("what_you_will_see", VISIT_TEXT_MAX).and_then(|t| t.map(String::from)));
        }
        if i.has("host") {
            p.host = Some(i.patch_free_text("host", HOST_MAX).and_then(|t| t.map(String::from)));
        }
        i.errors.into_result(p)
    }

    /// Whether the patch moves the event in time or place (a new invitation).
    pub fn changes_schedule(&self, old: &EventFields, new: &EventFields) -> bool {
        old.starts_at != new.starts_at
            || old.ends_at != new.ends_at
            || old.location != new.location
            || old.online_url != new.online_url
    }

    /// `old` with this patch applied; the spanning rules are then checked with
    /// [`EventFields::check`]. When `starts_at` moves and `booking_closes_at`
    /// is not given, bookings close at the new start (if they closed at the old).
    pub fn apply(self, old: &EventFields) -> EventFields {
        let mut n = old.clone();
        if let Some(v) = self.title {
            n.title = v;
        }
        if let Some(v) = self.description {
            n.description = v;
        }
        if let Some(v) = self.starts_at {
            if self.booking_closes_at.is_none() && (old.booking_closes_at == old.starts_at || old.booking_closes_at > v) {
                n.booking_closes_at = v;
            }
            n.starts_at = v;
        }
        if let Some(v) = self.ends_at {
            n.ends_at = v;
        }
        if let Some(v) = self.location {
            n.location = v;
        }
        if let Some(v) = self.online_url {
            n.online_url = v;
        }
        if let Some(v) = self.capacity {
            n.capacity = v;
        }
        if let Some(v) = self.host_organisation_id {
            n.host_organisation_id = v;
        }
        if let Some(v) = self.topics {
            n.topics = v;
        }
        if let Some(v) = self.booking_closes_at {
            n.booking_closes_at = v;
        }
        if let Some(v) = self.what_you_will_see {
            n.what_you_will_see = v;
        }
        if let Some(v) = self.host {
            n.host = v;
        }
        n
    }
}

/// A UTC time as people in the network read it: Europe/London wall-clock time
/// (GMT or BST, whichever is in force on that date), e.g. `Tue 31 Mar 2026, 09:30 BST`.
pub fn london_local(t: OffsetDateTime) -> String {
    let ts = jiff::Timestamp::new(t.unix_timestamp(), 0).expect("event times are in range");
    let z = ts.to_zoned_datetime(crate::digest::london().clone());
    z.strftime("%a %-d %b %Y, %H:%M %Z").to_string()
}

/// The local time as RFC 3339 with the London offset, e.g. `2026-07-01T10:00:00+01:00`.
pub fn london_offset_text(t: OffsetDateTime) -> String {
    let ts = jiff::Timestamp::new(t.unix_timestamp(), 0).expect("event times are in range");
    let z = ts.to_zoned_datetime(crate::digest::london().clone());
    z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

// The records an event keeps: the event itself and its bookings.

/// Whether the event still takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    Scheduled,
    Cancelled,
}

/// A booking's state: `confirmed` (a place), `waitlisted` (in line for one),
/// `requested` (a go-and-see visit waiting for the host), `declined` (the host
/// said no).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// UTC, `crate::timestamp` form.
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
    pub fn fields(&self) -> EventFields {
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

    pub fn set_fields(&mut self, f: EventFields) {
        self.title = f.title;
        self.description = f.description;
        self.starts_at = crate::timestamp(f.starts_at);
        self.ends_at = crate::timestamp(f.ends_at);
        self.location = f.location;
        self.online_url = f.online_url;
        self.capacity = f.capacity;
        self.host_organisation_id = f.host_organisation_id;
        self.topics = f.topics;
        self.booking_closes_at = crate::timestamp(f.booking_closes_at);
        self.what_you_will_see = f.what_you_will_see;
        self.host = f.host;
    }

    pub fn starts(&self) -> OffsetDateTime {
        parse_time(&self.starts_at).expect("stored times parse")
    }

    pub fn ends(&self) -> OffsetDateTime {
        parse_time(&self.ends_at).expect("stored times parse")
    }

    pub fn closes(&self) -> OffsetDateTime {
        parse_time(&self.booking_closes_at).expect("stored times parse")
    }

    /// Who may change it: its creator and moderators.
    pub fn may_manage(&self, claims: &crate::Claims) -> bool {
        claims.is_moderator() || self.created_by == claims.sub
    }
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

/// The wire shape of each request body parsed above, for the OpenAPI document
/// only: the parser reads the `serde_json::Value` (reporting every field error at
/// once) and these types describe the same contract to clients. utoipa takes only
/// literal numbers for limits, so `tests::schema_matches_parser` checks each
/// literal against the constant the parser uses.
#[cfg(feature = "openapi")]
pub mod wire {
    use serde::Deserialize;
    use utoipa::ToSchema;

    /// A new event. Times are RFC 3339 with an offset (stored in UTC, shown in
    /// Europe/London). Give a `location`, an `online_url`, or both.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct EventInput {
        pub kind: crate::event::EventKind,
        #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
        pub title: String,
        #[schema(min_length = 1, max_length = 10000, pattern = r"\S")]
        pub description: String,
        /// Not in the past.
        #[schema(format = DateTime)]
        pub starts_at: String,
        /// After `starts_at` (within 31 days).
        #[schema(format = DateTime)]
        pub ends_at: String,
        /// An address.
        #[schema(max_length = 500)]
        pub location: Option<String>,
        /// `https` only.
        #[schema(max_length = 2000, pattern = "^https://")]
        pub online_url: Option<String>,
        #[schema(minimum = 1, maximum = 10000)]
        pub capacity: u64,
        pub host_organisation_id: String,
        #[schema(max_items = 10)]
        pub topics: Option<Vec<String>>,
        /// Not after `starts_at`; defaults to it.
        #[schema(format = DateTime)]
        pub booking_closes_at: Option<String>,
        /// Go-and-see visits (required there, refused elsewhere): what visitors will see.
        #[schema(max_length = 2000)]
        pub what_you_will_see: Option<String>,
        /// Go-and-see visits (required there, refused elsewhere): who hosts.
        #[schema(max_length = 200)]
        pub host: Option<String>,
    }

    /// Changes to an event; absent fields stay, null clears an optional one. The
    /// kind cannot change. A new time or place sends confirmed members an updated
    /// invitation.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct EventPatchInput {
        #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
        pub title: Option<String>,
        #[schema(min_length = 1, max_length = 10000, pattern = r"\S")]
        pub description: Option<String>,
        #[schema(format = DateTime)]
        pub starts_at: Option<String>,
        #[schema(format = DateTime)]
        pub ends_at: Option<String>,
        #[schema(max_length = 500)]
        pub location: Option<String>,
        #[schema(max_length = 2000, pattern = "^https://")]
        pub online_url: Option<String>,
        /// Lowering it below the places taken keeps everyone confirmed; new
        /// bookings then wait.
        #[schema(minimum = 1, maximum = 10000)]
        pub capacity: Option<u64>,
        pub host_organisation_id: Option<String>,
        #[schema(max_items = 10)]
        pub topics: Option<Vec<String>>,
        #[schema(format = DateTime)]
        pub booking_closes_at: Option<String>,
        #[schema(max_length = 2000)]
        pub what_you_will_see: Option<String>,
        #[schema(max_length = 200)]
        pub host: Option<String>,
    }

    /// Whether the member came.
    #[derive(Deserialize, ToSchema)]
    pub struct AttendanceInput {
        /// `true`: they came; `false`: they did not.
        pub attended: bool,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

    fn valid() -> Value {
        json!({"kind": "workshop", "title": "Run charts", "description": "Hands on.",
               "starts_at": "2027-03-04T09:30:00Z", "ends_at": "2027-03-04T12:00:00Z", "location": "Leeds",
               "capacity": 20, "host_organisation_id": "01ABC", "topics": ["measurement"]})
    }

    #[test]
    fn a_valid_event_parses_in_utc() {
        let mut v = valid();
        v["starts_at"] = json!("2027-07-01T10:00:00+01:00");
        v["ends_at"] = json!("2027-07-01T12:00:00+01:00");
        let e = EventFields::parse_new(&v, NOW).unwrap();
        assert_eq!(e.starts_at, datetime!(2027-07-01 09:00 UTC));
        assert_eq!(e.booking_closes_at, e.starts_at);
    }

    #[test]
    fn every_bad_field_is_named() {
        let v = json!({"kind": "party", "title": "", "description": 3, "starts_at": "tomorrow", "ends_at": "2020-01-01T00:00:00Z",
                       "online_url": "http://example.org", "capacity": 0, "host_organisation_id": "a b",
                       "topics": ["nope"], "extra": 1});
        let e = EventFields::parse_new(&v, NOW).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        for f in
            ["extra", "kind", "title", "description", "starts_at", "online_url", "capacity", "host_organisation_id", "topics[0]"]
        {
            assert!(fields.contains(&f), "{f} not in {fields:?}");
        }
    }

    #[test]
    fn spanning_rules() {
        let mut v = valid();
        v["starts_at"] = json!("2026-11-01T09:00:00Z");
        v["ends_at"] = json!("2026-11-01T08:00:00Z");
        v["booking_closes_at"] = json!("2026-11-02T08:00:00Z");
        v.as_object_mut().unwrap().remove("location");
        v["host"] = json!("Ward 7");
        let e = EventFields::parse_new(&v, NOW).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["starts_at", "ends_at", "booking_closes_at", "location", "host"]);
        let mut visit = valid();
        visit["kind"] = json!("go_and_see");
        let e = EventFields::parse_new(&visit, NOW).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["what_you_will_see", "host"]);
    }

    #[test]
    fn london_time_follows_summer_time() {
        assert_eq!(london_local(datetime!(2027-01-10 09:00 UTC)), "Sun 10 Jan 2027, 09:00 GMT");
        assert_eq!(london_local(datetime!(2027-07-01 09:00 UTC)), "Thu 1 Jul 2027, 10:00 BST");
        // The clocks go forward at 01:00 UTC on the last Sunday of March.
        assert_eq!(london_offset_text(datetime!(2027-03-28 00:59 UTC)), "2027-03-28T00:59:00+00:00");
        assert_eq!(london_offset_text(datetime!(2027-03-28 01:00 UTC)), "2027-03-28T02:00:00+01:00");
    }

    #[test]
    fn patches_apply_and_are_checked() {
        let old = EventFields::parse_new(&valid(), NOW).unwrap();
        let p = EventPatch::parse(&json!({"starts_at": "2027-03-05T09:30:00Z", "ends_at": "2027-03-05T12:00:00Z"})).unwrap();
        let new = p.clone().apply(&old);
        assert!(p.changes_schedule(&old, &new));
        assert_eq!(new.booking_closes_at, new.starts_at);
        let mut errors = FieldErrors::new();
        new.check(NOW, true, &mut errors);
        assert!(errors.is_empty());
        let e = EventPatch::parse(&json!({"kind": "meeting", "title": null})).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["kind", "title"]);
    }
}
