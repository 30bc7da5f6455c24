//! The patient data guard: free text that looks like it identifies a patient is
//! held for a moderator. It errs on the side of holding: a false alarm costs a
//! moderator a minute, a leaked NHS number cannot be taken back.
//!
//! Reasons never quote the matched text, so the reason itself can be shown and
//! logged without repeating the personal data.

use std::sync::LazyLock;

use regex::Regex;

const MONTHS: &str = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?";

static NHS_NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d{3}[ -]?\d{3}[ -]?\d{4}").expect("valid regex"));

fn date_pattern() -> String {
    format!(r"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:19|20)?\d{{2}}|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTHS})\.?,?\s+(?:19|20)\d{{2}})")
}

/// "DOB", "D.O.B.", "date of birth", "born (on)" followed closely by a date.
static DOB_KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)\b(?:d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|born(?:\s+on)?)[\s:,\-–()]{{0,6}}{}", date_pattern()))
        .expect("valid regex")
});

/// A titled name ("Mrs Jane Smith", "Mr. Patel") with a date within a few words.
static TITLED_NAME_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"\b(?:Mr|Mrs|Ms|Miss|Mx|Master|Dr)\.?\s+[A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+)?[\s,()\-–:;a-z]{{0,24}}(?i:{})",
        date_pattern()
    ))
    .expect("valid regex")
});

/// "Jane Smith (12/03/1956)" or "Jane Smith, 12 March 1956": a full name directly
/// followed by a date.
static NAME_THEN_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"\b[A-Z][a-z'’-]+\s+[A-Z][a-z'’-]+\s*[,(]\s*(?i:{})", date_pattern())).expect("valid regex")
});

/// Modulus 11 check of a 10-digit NHS number.
pub fn is_valid_nhs_number(digits: &[u8; 10]) -> bool {
    let sum: u32 = digits[..9].iter().enumerate().map(|(i, d)| u32::from(*d) * (10 - i as u32)).sum();
    let check = match 11 - (sum % 11) {
        11 => 0,
        10 => return false,
        c => c,
    };
    check == u32::from(digits[9])
}

fn contains_nhs_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    NHS_NUMBER.find_iter(text).any(|m| {
        let before = m.start().checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(m.end()).copied();
        if before.is_some_and(|b| b.is_ascii_digit()) || after.is_some_and(|b| b.is_ascii_digit()) {
            return false;
        }
        let s = m.as_str();
        // Spaced forms must be 3-3-4 exactly, with one kind of separator.
        let seps: Vec<char> = s.chars().filter(|c| !c.is_ascii_digit()).collect();
        if !(seps.is_empty() || (seps.len() == 2 && seps[0] == seps[1])) {
            return false;
        }
        let mut d = [0u8; 10];
        for (slot, c) in d.iter_mut().zip(s.bytes().filter(u8::is_ascii_digit)) {
            *slot = c - b'0';
        }
        is_valid_nhs_number(&d)
    })
}

/// Returns why the texts must be held, or `None` when nothing looks like patient data.
pub fn scan(texts: &[&str]) -> Option<String> {
    if texts.iter().any(|t| contains_nhs_number(t)) {
        return Some(
            "The text contains what looks like an NHS number (10 digits passing the Modulus 11 check). Remove it before publishing."
                .into(),
        );
    }
    if texts.iter().any(|t| DOB_KEYWORD.is_match(t) || TITLED_NAME_DATE.is_match(t) || NAME_THEN_DATE.is_match(t)) {
        return Some("The text contains what looks like a date of birth next to a name. Remove it before publishing.".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers_with_and_without_spaces() {
        // 943 476 5919 is the NHS's own published example of a valid number.
        assert!(scan(&["Patient 943 476 5919 was seen"]).is_some());
        assert!(scan(&["ref 9434765919."]).is_some());
        assert!(scan(&["ref 943-476-5919"]).is_some());
        // Fails the check digit.
        assert!(scan(&["ref 9434765918"]).is_none());
        // Part of a longer number (a phone number or an order id).
        assert!(scan(&["call 09434765919"]).is_none());
        assert!(scan(&["943 4765 919"]).is_none());
        assert!(scan(&["943 476-5919"]).is_none());
    }

    #[test]
    fn dates_of_birth_next_to_names() {
        assert!(scan(&["Mrs Jane Smith, born 12/03/1946, fell twice"]).is_some());
        assert!(scan(&["DOB: 3 March 1950"]).is_some());
        assert!(scan(&["d.o.b. 03-03-50"]).is_some());
        assert!(scan(&["Referral for Mr Ahmed Khan, 12 March 1946, to the falls clinic"]).is_some());
        assert!(scan(&["John Smith (12/03/1956) was admitted"]).is_some());
    }

    #[test]
    fn ordinary_improvement_text_passes() {
        assert!(scan(&["Falls fell from 12 to 4 per 1,000 bed days between 01/04/2023 and 31/03/2024."]).is_none());
        assert!(scan(&["Quality Improvement Week runs 12 March 2024."]).is_none());
        assert!(scan(&["Contact the QI team on 0113 206 4000."]).is_none());
    }

    #[test]
    fn modulus_11() {
        assert!(is_valid_nhs_number(&[9, 4, 3, 4, 7, 6, 5, 9, 1, 9]));
        assert!(!is_valid_nhs_number(&[9, 4, 3, 4, 7, 6, 5, 9, 1, 8]));
    }
}
