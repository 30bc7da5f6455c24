//! Attendance: the event's organiser (or a moderator) marks who came, and
//! exports the bookings as CSV.
//!
//! Attendance is kept on the booking itself (`Booking::attended`), written with
//! the booking's version like every other change to it, so a member's
//! cancellation and an organiser's mark cannot both win. Only confirmed places
//! can be marked, from an hour before the start (people sign in at the door)
//! onwards; a cancelled event has no register.
//!
//! The CSV is opened in spreadsheets, so every cell a person typed (names,
//! organisation names) is neutralised against formula injection as OWASP
//! advises: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
//! return gets a leading `'`, and every cell is quoted.

use qnet_domain::event::london_local;
use qnet_ports::{Condition, Write};
use time::Duration;

use super::store::booking_item;
use super::{Booking, BookingStatus, BookingView, EventStatus};
use crate::{App, AppError, AppResult, Claims};

/// How long before the start the register opens.
pub const REGISTER_OPENS_BEFORE: Duration = Duration::hours(1);
/// How often a mark is tried again when the booking changed under it.
const ATTEMPTS: u32 = 5;

/// One CSV cell: neutralised when a spreadsheet would read it as a formula
/// (the one rule, [`crate::portfolio::neutralise`], leading spaces included),
/// then quoted (RFC 4180: inner quotes doubled).
pub fn csv_cell(value: &str) -> String {
    format!("\"{}\"", crate::portfolio::neutralise(value).replace('"', "\"\""))
}

fn csv_row(cells: &[&str]) -> String {
    let mut line = cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

fn status_words(b: &Booking) -> &'static str {
    match b.status {
        BookingStatus::Confirmed => "Confirmed",
        BookingStatus::Waitlisted => "Waiting list",
        BookingStatus::Requested => "Requested",
        BookingStatus::Declined => "Declined",
    }
}

impl App {
    /// `PUT /events/{id}/bookings/{booking_id}/attendance`: marks whether the
    /// member came (or, with `false`, that they did not). Marking again with
    /// the same answer changes nothing.
    pub async fn mark_attendance(
        &self,
        claims: &Claims,
        event_id: &str,
        booking_id: &str,
        attended: bool,
    ) -> AppResult<BookingView> {
        let (e, _) = self.load_event(event_id).await?;
        if !e.may_manage(claims) {
            return Err(AppError::Forbidden("only the event's organiser and moderators may mark attendance"));
        }
        if e.status == EventStatus::Cancelled {
            return Err(AppError::Conflict("the event is cancelled".into()));
        }
        let opens = e.starts() - REGISTER_OPENS_BEFORE;
        if self.now() < opens {
            return Err(AppError::Conflict(format!(
                "attendance can be marked from an hour before the start ({})",
                london_local(opens)
            )));
        }
        for _ in 0..ATTEMPTS {
            let Some((mut b, item)) = self.visit_booking(event_id, booking_id).await? else {
                return Err(AppError::NotFound("booking"));
            };
            if b.status != BookingStatus::Confirmed {
                return Err(AppError::Conflict("only members with a confirmed place can be marked as attended".into()));
            }
            if b.attended != Some(attended) {
                // Places attended (insights): only a change to or from "came" moves the count.
                let by = i64::from(attended) - i64::from(b.attended == Some(true));
                b.attended = Some(attended);
                b.version = item.version + 1;
                b.updated_at = self.now_text();
                let mut writes = vec![Write::Put { item: booking_item(&b), condition: Condition::VersionIs(item.version) }];
                writes.extend(self.place_tallies(&b, &["places_attended"], by).await?);
                match self.records.transact(writes).await {
                    Ok(()) => tracing::info!(event = %event_id, booking = %b.id, attended, "attendance marked"),
                    Err(err) if err.is_conflict() => continue,
                    Err(err) => return Err(err.into()),
                }
            }
            let m = self.member_by_id(&b.member_id).await?;
            return Ok(Self::booking_view(&b, m.as_ref().map(|m| m.name.clone()), m.map(|m| m.email), None));
        }
        Err(AppError::Conflict("the booking is busy; try again".into()))
    }

    /// `GET /events/{id}/bookings.csv`: every booking of the event (confirmed
    /// first, then the waiting list in order, then the rest) with name, email,
    /// organisation, status, attendance and when they booked (London time).
    pub async fn bookings_csv(&self, claims: &Claims, event_id: &str) -> AppResult<String> {
        let (e, _) = self.load_event(event_id).await?;
        if !e.may_manage(claims) {
            return Err(AppError::Forbidden("only the event's organiser and moderators may export its bookings"));
        }
        let line = self.waitlist(event_id, 10_000).await?;
        let orgs = self.organisation_names().await?;
        let mut rows = Vec::new();
        for (b, _) in self.bookings(event_id).await? {
            let m = self.member_by_id(&b.member_id).await?;
            let position = line.iter().position(|(_, id, _)| *id == b.id).map(|p| p as u64 + 1);
            rows.push((b, m, position));
        }
        rows.sort_by_key(|(b, _, position)| {
            (b.status != BookingStatus::Confirmed, position.unwrap_or(u64::MAX), b.created_at.clone())
        });
        // A byte order mark, so spreadsheet programs read the names as UTF-8.
        let mut out = String::from("\u{feff}");
        out.push_str(&csv_row(&["Name", "Email", "Organisation", "Status", "Waiting list position", "Attended", "Booked"]));
        for (b, m, position) in rows {
            let (name, email, org) = match &m {
                Some(m) => (
                    m.name.as_str(),
                    m.email.as_str(),
                    m.organisation_id.as_ref().and_then(|o| orgs.get(o)).map(String::as_str).unwrap_or(""),
                ),
                None => ("(account closed)", "", ""),
            };
            let position = position.map(|p| p.to_string()).unwrap_or_default();
            let attended = match b.attended {
                Some(true) => "Yes",
                Some(false) => "No",
                None => "",
            };
            let booked = qnet_domain::event::parse_time(&b.created_at).map(london_local).unwrap_or_else(|| b.created_at.clone());
            out.push_str(&csv_row(&[name, email, org, status_words(&b), &position, attended, &booked]));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_every_cell_quoted() {
        assert_eq!(csv_cell("Sam Jones"), "\"Sam Jones\"");
        assert_eq!(csv_cell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        for lead in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            let cell = csv_cell(lead);
            assert!(cell.starts_with("\"'"), "{lead:?} -> {cell}");
        }
        assert_eq!(csv_cell("O'Neil, Pat"), "\"O'Neil, Pat\"");
        assert_eq!(csv_cell(""), "\"\"");
    }

    #[test]
    fn rows_end_with_crlf() {
        assert_eq!(csv_row(&["a", "b"]), "\"a\",\"b\"\r\n");
    }
}
