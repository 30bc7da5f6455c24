//! The Qnet domain: types and rules, no I/O.
//!
//! Values are parsed at the edge ("parse, don't validate"): the constructors here
//! reject bad input with field-level errors, so handlers never see invalid data.

pub mod attachment;
pub mod case_study;
pub mod errors;
pub mod member;
pub mod organisation;
pub mod patient_data;
pub mod role;
pub mod text;
pub mod topics;

pub use errors::{FieldError, FieldErrors};
pub use role::Role;

/// RFC 3339 UTC timestamp text, as every record answers it.
pub fn timestamp(t: time::OffsetDateTime) -> String {
    use time::format_description::well_known::Rfc3339;
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(t)
        .format(&Rfc3339)
        .expect("a UTC time formats as RFC 3339")
}
