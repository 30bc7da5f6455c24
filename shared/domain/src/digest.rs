//! Digest newsletters: a member's preferences and the periods an issue covers.
//!
//! A weekly issue covers one ISO week and a monthly issue one calendar month,
//! both in Europe/London (so a week starts at local midnight on Monday, whatever
//! the clocks did). Issue ids name the period: `weekly-2026-W10`,
//! `monthly-2026-03`.

use std::sync::LazyLock;

use jiff::civil::{Date, ISOWeekDate, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::text::Input;
use crate::topics;

/// How often a member receives the digest. New members start on `weekly`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Cadence {
    #[default]
    Weekly,
    Monthly,
    Off,
}

impl Cadence {
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Weekly => "weekly",
            Cadence::Monthly => "monthly",
            Cadence::Off => "off",
        }
    }
    pub fn parse(s: &str) -> Option<Cadence> {
        match s {
            "weekly" => Some(Cadence::Weekly),
            "monthly" => Some(Cadence::Monthly),
            "off" => Some(Cadence::Off),
            _ => None,
        }
    }
}

/// A member's digest preferences.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DigestPrefs {
    pub cadence: Cadence,
    /// Only items on these topics; empty means every topic.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Set when the member unsubscribed through a link in a digest; cleared when
    /// they choose a cadence again. Distinct from address suppression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribed_at: Option<String>,
}

impl DigestPrefs {
    /// True when digests of this cadence go to the member.
    pub fn receives(&self) -> bool {
        self.cadence != Cadence::Off && self.unsubscribed_at.is_none()
    }

    /// True when an item with these topics belongs in the member's digest.
    pub fn wants(&self, item_topics: &[String]) -> bool {
        self.topics.is_empty() || item_topics.iter().any(|t| self.topics.contains(t))
    }
}

/// A change to the digest preferences (`PATCH /me` `digest`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestPatch {
    pub cadence: Option<Cadence>,
    pub topics: Option<Vec<String>>,
}

impl DigestPatch {
    /// Parses the `digest` member of a `PATCH /me` body.
    pub fn parse_in(i: &mut Input<'_>) -> Option<DigestPatch> {
        i.object("digest", &["cadence", "topics"], |o| {
            let mut p = DigestPatch::default();
            if o.has("cadence") {
                p.cadence = o.choice("cadence", &["weekly", "monthly", "off"]).and_then(|c| Cadence::parse(&c));
            }
            p.topics = o.id_list("topics", 20, |t| if topics::is_known(t) { Ok(()) } else { Err("unknown topic".into()) });
            p
        })
    }

    pub fn apply(self, d: &mut DigestPrefs) {
        if let Some(c) = self.cadence {
            d.cadence = c;
            // Choosing a cadence again is how a member comes back after unsubscribing.
            d.unsubscribed_at = None;
        }
        if let Some(t) = self.topics {
            d.topics = t;
        }
    }
}

static LONDON: LazyLock<TimeZone> =
    LazyLock::new(|| TimeZone::get("Europe/London").expect("the bundled tz database has Europe/London"));

/// The network's time zone.
pub fn london() -> &'static TimeZone {
    &LONDON
}

const MONTHS: [&str; 12] =
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/// The period one digest issue covers: `[start, end)` in UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub cadence: Cadence,
    /// `weekly-2026-W10` or `monthly-2026-03`.
    pub id: String,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    first_day: Date,
    last_day: Date,
}

fn to_jiff(t: OffsetDateTime) -> jiff::Timestamp {
    jiff::Timestamp::from_second(t.unix_timestamp()).expect("times in range")
}

fn london_midnight(d: Date) -> OffsetDateTime {
    let z = d.to_zoned_datetime(london().clone()).expect("every London date has a start");
    OffsetDateTime::from_unix_timestamp(z.timestamp().as_second()).expect("times in range")
}

fn london_date(t: OffsetDateTime) -> Date {
    to_jiff(t).to_zoned_datetime(london().clone()).date()
}

impl Period {
    fn week(year: i16, week: i8) -> Option<Period> {
        let monday = ISOWeekDate::new(year, week, Weekday::Monday).ok()?.date();
        let next = monday.checked_add(jiff::Span::new().days(7)).ok()?;
        Some(Period {
            cadence: Cadence::Weekly,
            id: format!("weekly-{year:04}-W{week:02}"),
            start: london_midnight(monday),
            end: london_midnight(next),
            first_day: monday,
            last_day: next.yesterday().ok()?,
        })
    }

    fn month(year: i16, month: i8) -> Option<Period> {
        let first = Date::new(year, month, 1).ok()?;
        let next = first.checked_add(jiff::Span::new().months(1)).ok()?;
        Some(Period {
            cadence: Cadence::Monthly,
            id: format!("monthly-{year:04}-{month:02}"),
            start: london_midnight(first),
            end: london_midnight(next),
            first_day: first,
            last_day: next.yesterday().ok()?,
        })
    }

    /// The period of this cadence that contains `t`.
    pub fn containing(cadence: Cadence, t: OffsetDateTime) -> Option<Period> {
        let d = london_date(t);
        match cadence {
            Cadence::Weekly => {
                let w = d.iso_week_date();
                Period::week(w.year(), w.week())
            }
            Cadence::Monthly => Period::month(d.year(), d.month()),
            Cadence::Off => None,
        }
    }

    /// The latest period of this cadence that has ended by `t`.
    pub fn latest_complete(cadence: Cadence, t: OffsetDateTime) -> Option<Period> {
        let current = Period::containing(cadence, t)?;
        Period::containing(cadence, current.start - time::Duration::seconds(1))
    }

    /// Reads an issue id back into its period.
    pub fn parse(id: &str) -> Option<Period> {
        if let Some(rest) = id.strip_prefix("weekly-") {
            let (y, w) = rest.split_once("-W")?;
            if y.len() != 4 || w.len() != 2 {
                return None;
            }
            return Period::week(y.parse().ok()?, w.parse().ok()?);
        }
        let rest = id.strip_prefix("monthly-")?;
        let (y, m) = rest.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        Period::month(y.parse().ok()?, m.parse().ok()?)
    }

    /// How the period reads in a subject line: "2–8 March", "30 March–5 April",
    /// "29 December 2025–4 January 2026", "March 2026".
    pub fn label(&self) -> String {
        let (a, b) = (self.first_day, self.last_day);
        let month = |d: Date| MONTHS[(d.month() - 1) as usize];
        match self.cadence {
            Cadence::Monthly | Cadence::Off => format!("{} {}", month(a), a.year()),
            Cadence::Weekly if a.year() != b.year() => {
                format!("{} {} {}–{} {} {}", a.day(), month(a), a.year(), b.day(), month(b), b.year())
            }
            Cadence::Weekly if a.month() != b.month() => format!("{} {}–{} {}", a.day(), month(a), b.day(), month(b)),
            Cadence::Weekly => format!("{}–{} {}", a.day(), b.day(), month(b)),
        }
    }
}

/// The issues due at `now`: last week's weekly issue, and last month's monthly
/// issue during the first seven days of a month (so a planner run on any day of
/// the first week, such as the first Monday, sends it; and later runs do not
/// plan it again).
pub fn issues_due(now: OffsetDateTime) -> Vec<Period> {
    let mut out = Vec::new();
    if let Some(w) = Period::latest_complete(Cadence::Weekly, now) {
        out.push(w);
    }
    if let Some(m) = Period::latest_complete(Cadence::Monthly, now)
        && now - m.end < time::Duration::days(7)
    {
        out.push(m);
    }
    out
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

    /// Digest preferences: how often, and on which topics (empty: all). Choosing a
    /// cadence again ends an unsubscribe.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct DigestPatchInput {
        pub cadence: Option<crate::digest::Cadence>,
        #[schema(max_items = 20)]
        pub topics: Option<Vec<String>>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn weeks_are_iso_weeks_in_london_time() {
        // Summer time starts on Sunday 29 March 2026: the week of 23 March starts
        // at 00:00 GMT and the next at 00:00 BST (23:00 UTC on the Sunday).
        let p = Period::containing(Cadence::Weekly, datetime!(2026-03-25 12:00 UTC)).unwrap();
        assert_eq!(p.id, "weekly-2026-W13");
        assert_eq!(p.start, datetime!(2026-03-23 00:00 UTC));
        assert_eq!(p.end, datetime!(2026-03-29 23:00 UTC));
        assert_eq!(p.label(), "23–29 March");
        // 23:30 UTC on Sunday 29 March is already Monday in London.
        assert_eq!(Period::containing(Cadence::Weekly, datetime!(2026-03-29 23:30 UTC)).unwrap().id, "weekly-2026-W14");
    }

    #[test]
    fn labels_cross_months_and_years() {
        assert_eq!(Period::parse("weekly-2026-W10").unwrap().label(), "2–8 March");
        assert_eq!(Period::parse("weekly-2026-W14").unwrap().label(), "30 March–5 April");
        assert_eq!(Period::parse("weekly-2026-W01").unwrap().label(), "29 December 2025–4 January 2026");
        assert_eq!(Period::parse("monthly-2026-03").unwrap().label(), "March 2026");
    }

    #[test]
    fn months_follow_the_clocks() {
        let p = Period::parse("monthly-2026-10").unwrap();
        assert_eq!(p.start, datetime!(2026-09-30 23:00 UTC));
        assert_eq!(p.end, datetime!(2026-11-01 00:00 UTC));
    }

    #[test]
    fn issue_ids_round_trip_and_bad_ones_are_refused() {
        for id in ["weekly-2026-W53", "weekly-2020-W53", "monthly-2026-12", "weekly-2027-W01"] {
            assert_eq!(Period::parse(id).unwrap().id, id);
        }
        // 2026 starts on a Thursday, so it has 53 ISO weeks; 2027 has 52.
        assert!(Period::parse("weekly-2027-W53").is_none());
        for bad in ["weekly-2026-W1", "monthly-2026-13", "daily-2026-01-01", "weekly-26-W10", ""] {
            assert!(Period::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn due_issues_are_last_week_and_last_month_in_its_first_week() {
        let ids = |t| issues_due(t).into_iter().map(|p| p.id).collect::<Vec<_>>();
        // Monday 2 March 2026 is the first Monday of the month.
        assert_eq!(ids(datetime!(2026-03-02 07:00 UTC)), ["weekly-2026-W09", "monthly-2026-02"]);
        assert_eq!(ids(datetime!(2026-03-09 07:00 UTC)), ["weekly-2026-W10"]);
        // 1 March 2026 is a Sunday: the monthly issue is due from the first moment of March.
        assert_eq!(ids(datetime!(2026-03-01 00:00 UTC)), ["weekly-2026-W08", "monthly-2026-02"]);
    }

    #[test]
    fn a_new_member_is_weekly_and_choosing_a_cadence_clears_unsubscribe() {
        let mut d = DigestPrefs::default();
        assert_eq!(d.cadence, Cadence::Weekly);
        assert!(d.receives());
        d.unsubscribed_at = Some("2026-01-01T00:00:00.000Z".into());
        assert!(!d.receives());
        DigestPatch { topics: Some(vec!["flow".into()]), ..Default::default() }.apply(&mut d);
        assert!(!d.receives(), "changing topics alone does not resubscribe");
        DigestPatch { cadence: Some(Cadence::Monthly), ..Default::default() }.apply(&mut d);
        assert!(d.receives());
        assert!(d.wants(&["flow".into(), "frailty".into()]));
        assert!(!d.wants(&["frailty".into()]));
    }
}
