//! The patient data guard: free text that looks like it identifies a patient is
//! held for a moderator. It errs on the side of holding: a false alarm costs a
//! moderator a minute, a leaked NHS number cannot be taken back.
//!
//! Reasons never quote the matched text, so the reason itself can be shown and
//! logged without repeating the personal data.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

const MONTHS: &str = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?";

fn date_pattern() -> String {
    format!(r"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:19|20)?\d{{2}}|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTHS})\.?,?\s+(?:19|20)\d{{2}})")
}

/// The weaker signals, compiled once into one automaton (one pass over the
/// text whichever matches):
/// - "DOB", "D.O.B.", "date of birth", "born (on)" followed closely by a date;
/// - a titled name ("Mrs Jane Smith", "Mr. Patel") with a date within a few words;
/// - "Jane Smith (12/03/1956)" or "Jane Smith, 12 March 1956": a full name
///   directly followed by a date.
static NAME_BESIDE_DATE: LazyLock<Regex> = LazyLock::new(|| {
    let date = date_pattern();
    let dob = format!(r"(?i:\b(?:d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|born(?:\s+on)?)[\s:,\-–()]{{0,6}}{date})");
    let titled =
        format!(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Master|Dr)\.?\s+[A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+)?[\s,()\-–:;a-z]{{0,24}}(?i:{date})");
    let name_then = format!(r"\b[A-Z][a-z'’-]+\s+[A-Z][a-z'’-]+\s*[,(]\s*(?i:{date})");
    Regex::new(&format!("{dob}|{titled}|{name_then}")).expect("valid regex")
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

/// What the guard found in one text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    /// A ten-digit candidate in an NHS number's shape that passes Modulus 11:
    /// unmoderated text is refused, moderated text is held.
    NhsNumber,
    /// A weaker signal (a date of birth, a titled name beside a date): moderated
    /// text is held as before; unmoderated text only warns, it is never refused.
    NameBesideDate,
}

/// Characters that render as nothing; removed so they cannot split a number.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// A separator allowed, singly, between the digit groups of a candidate. NFKC has
/// already turned no-break, figure, thin and narrow spaces into a plain space.
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '\t' | '.' | '/' | '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2212}')
}

/// The text the guard reads: Unicode NFKC (full-width digits become ASCII, odd
/// spaces become plain ones) without invisible characters.
pub fn normalise(text: &str) -> String {
    normalised(text).into_owned()
}

/// [`normalise`], borrowing ASCII text as it is: ASCII is already in NFKC
/// and holds no invisible character, and most text people write is ASCII.
fn normalised(text: &str) -> Cow<'_, str> {
    if text.is_ascii() { Cow::Borrowed(text) } else { Cow::Owned(text.nfkc().filter(|c| !is_invisible(*c)).collect()) }
}

/// Every run of ASCII digit groups joined by single separators, as the digit
/// counts of its groups and its digits. A run is maximal: it is never part of a
/// longer run, so "3 4 5 6 7 8 9 10 11 12" is one run of ten groups and "12, 15"
/// two runs (a comma and a space are two characters).
fn digit_runs(text: &str) -> Vec<(Vec<usize>, Vec<u8>)> {
    // Read as bytes: digits are ASCII, so a digit's byte is its character (no
    // byte of a longer character is one), and the character after a digit
    // starts at the next byte. The text is never copied into characters.
    let b = text.as_bytes();
    let mut runs = vec![];
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let mut groups = vec![];
        let mut digits = vec![];
        loop {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                digits.push(b[i] - b'0');
                i += 1;
            }
            groups.push(i - start);
            match text[i..].chars().next() {
                Some(c) if is_separator(c) && b.get(i + c.len_utf8()).is_some_and(u8::is_ascii_digit) => i += c.len_utf8(),
                _ => break,
            }
        }
        runs.push((groups, digits));
    }
    runs
}

/// Whether `text` holds an NHS number: after [`normalise`], a group of exactly
/// ten digits, or a whole run of groups of 3, 3 and 4 digits joined by single
/// separators, that passes the Modulus 11 check.
pub fn contains_nhs_number(text: &str) -> bool {
    nhs_number_in(&normalised(text))
}

/// [`contains_nhs_number`] of text already normalised.
fn nhs_number_in(t: &str) -> bool {
    // Fewer than ten digits cannot hold one.
    if t.bytes().filter(u8::is_ascii_digit).nth(9).is_none() {
        return false;
    }
    digit_runs(t).into_iter().any(|(groups, digits)| {
        if groups == [3, 3, 4] {
            return is_valid_nhs_number(&digits.try_into().expect("ten digits"));
        }
        let mut at = 0;
        groups.iter().any(|&n| {
            let group = &digits[at..at + n];
            at += n;
            n == 10 && is_valid_nhs_number(group.try_into().expect("ten digits"))
        })
    })
}

/// Whether `text` carries a weaker signal: a date of birth, or a name beside a date.
pub fn has_name_beside_date(text: &str) -> bool {
    name_beside_date_in(&normalised(text))
}

/// [`has_name_beside_date`] of text already normalised.
fn name_beside_date_in(t: &str) -> bool {
    // Every pattern ends in a date, and every date holds a digit (`\d` is any
    // Unicode decimal digit, which `is_numeric` covers).
    let digit = if t.is_ascii() { t.bytes().any(|b| b.is_ascii_digit()) } else { t.chars().any(char::is_numeric) };
    digit && NAME_BESIDE_DATE.is_match(t)
}

/// The strongest finding in `text`, if any (the text normalised once).
pub fn inspect(text: &str) -> Option<Finding> {
    let t = normalised(text);
    if nhs_number_in(&t) {
        Some(Finding::NhsNumber)
    } else if name_beside_date_in(&t) {
        Some(Finding::NameBesideDate)
    } else {
        None
    }
}

/// Why moderated texts (case studies, resources) must be held, or `None` when
/// nothing looks like patient data. Uses the same detector as [`crate::text::FreeText`].
pub fn scan(texts: &[&str]) -> Option<String> {
    let texts: Vec<Cow<'_, str>> = texts.iter().map(|t| normalised(t)).collect();
    if texts.iter().any(|t| nhs_number_in(t)) {
        return Some(
            "The text contains what looks like an NHS number (10 digits passing the Modulus 11 check). Remove it before publishing."
                .into(),
        );
    }
    if texts.iter().any(|t| name_beside_date_in(t)) {
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
        assert!(scan(&["943  476 5919"]).is_none());
        // Separators may differ from group to group.
        assert!(scan(&["943 476-5919"]).is_some());
    }

    #[test]
    fn normalised_forms_are_caught() {
        for t in [
            "ref 943.476.5919 seen",
            "NHS no. 943/476/5919",
            "NHS no: ９４３ ４７６ ５９１９",
            "NHS no: ９４３４７６５９１９",
            "943\u{a0}476\u{a0}5919",
            "943\u{202f}476\u{2007}5919",
            "943\t476\t5919",
            "NHS9434765919",
            "seen 9434765919 1 time",
            "943\u{200b}476\u{200b}5919",
            "943\u{2011}476\u{2011}5919",
        ] {
            assert_eq!(inspect(t), Some(Finding::NhsNumber), "{t:?}");
        }
    }

    #[test]
    fn lists_of_numbers_do_not_join() {
        for t in [
            "Falls per month: 12, 15, 9, 11, 943, 476, 5919",
            "Cycles 3 4 5 6 7 8 9 10 11 12 were run",
            "943 476 5919 2",
            "1 943 476 5919",
            "943.476.5919.1",
            "Beds 943 - 476 - 5919",
        ] {
            assert_eq!(inspect(t), None, "{t:?}");
        }
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
    fn digit_runs_read_as_bytes_answer_as_characters_would() {
        // The runs as they were found a character at a time.
        let by_char = |text: &str| {
            let chars: Vec<char> = text.chars().collect();
            let mut runs = vec![];
            let mut i = 0;
            while i < chars.len() {
                if !chars[i].is_ascii_digit() {
                    i += 1;
                    continue;
                }
                let (mut groups, mut digits) = (vec![], vec![]);
                loop {
                    let start = i;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        digits.push(chars[i] as u8 - b'0');
                        i += 1;
                    }
                    groups.push(i - start);
                    if i + 1 < chars.len() && is_separator(chars[i]) && chars[i + 1].is_ascii_digit() {
                        i += 1;
                    } else {
                        break;
                    }
                }
                runs.push((groups, digits));
            }
            runs
        };
        for text in [
            "",
            "no digits at all",
            "943 476 5919",
            "943\u{2013}476\u{2212}5919 and 12/03/1956",
            "£12.50 – 3 4 5 6 7 8 9 10 11 12, 15",
            "é1é22\u{2011}333é",
            "9\u{2010}",
            "1-2--3 4  5",
            "end 7",
        ] {
            assert_eq!(digit_runs(text), by_char(text), "{text:?}");
        }
    }

    #[test]
    fn modulus_11() {
        assert!(is_valid_nhs_number(&[9, 4, 3, 4, 7, 6, 5, 9, 1, 9]));
        assert!(!is_valid_nhs_number(&[9, 4, 3, 4, 7, 6, 5, 9, 1, 8]));
    }
}
