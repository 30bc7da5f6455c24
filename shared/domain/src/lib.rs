//! The Qnet domain: types and rules, no I/O.
//!
//! Values are parsed at the edge ("parse, don't validate"): the constructors here
//! reject bad input with field-level errors, so handlers never see invalid data.

pub mod adoption;
pub mod attachment;
pub mod board;
pub mod case_study;
pub mod claims;
pub mod digest;
pub mod errors;
pub mod event;
pub mod member;
pub mod mentoring;
pub mod organisation;
pub mod patient_data;
pub mod project;
pub mod question;
pub mod resource;
pub mod role;
pub mod similar;
pub mod text;
pub mod topics;

pub use claims::Claims;
pub use errors::{FieldError, FieldErrors};
pub use role::Role;

/// RFC 3339 UTC timestamp text with millisecond precision, as every record
/// answers it. Fixed width, so the text sorts in time order (sort keys rely on it).
pub fn timestamp(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.to_offset(time::UtcOffset::UTC).format(&f).expect("a UTC time formats")
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_fixed_width_utc() {
        let t = time::macros::datetime!(2026-11-23 10:00:00 +01:00);
        assert_eq!(super::timestamp(t), "2026-11-23T09:00:00.000Z");
    }
}
