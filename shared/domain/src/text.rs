//! Parsing JSON input into domain values, collecting every field error at once.

use serde_json::{Map, Value};

use crate::FieldErrors;

/// Whether a field must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Required,
    Optional,
}

/// A JSON object being parsed. Unknown fields are errors: a typo in a field name
/// must not be silently ignored.
pub struct Input<'a> {
    map: Option<&'a Map<String, Value>>,
    prefix: String,
    pub errors: FieldErrors,
}

impl<'a> Input<'a> {
    /// Starts parsing `value`, which must be an object whose keys are all in `known`.
    pub fn new(value: &'a Value, known: &[&str]) -> Input<'a> {
        Self::nested(value, known, "")
    }

    fn nested(value: &'a Value, known: &[&str], prefix: &str) -> Input<'a> {
        let mut errors = FieldErrors::new();
        let map = match value {
            Value::Object(m) => {
                for k in m.keys() {
                    if !known.contains(&k.as_str()) {
                        errors.push(join(prefix, k), "unknown field");
                    }
                }
                Some(m)
            }
            _ => {
                errors.push(if prefix.is_empty() { "body".to_string() } else { prefix.to_string() }, "must be a JSON object");
                None
            }
        };
        Input { map, prefix: prefix.to_string(), errors }
    }

    fn name(&self, field: &str) -> String {
        join(&self.prefix, field)
    }

    fn raw(&self, field: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(field))
    }

    pub fn has(&self, field: &str) -> bool {
        self.raw(field).is_some()
    }

    /// A text field: trimmed, between `min` and `max` characters.
    pub fn text(&mut self, field: &str, presence: Presence, min: usize, max: usize) -> Option<String> {
        let name = self.name(field);
        match self.raw(field) {
            None | Some(Value::Null) => {
                if presence == Presence::Required {
                    self.errors.push(name, "is required");
                }
                None
            }
            Some(Value::String(s)) => match check_text(s, min, max) {
                Ok(t) => Some(t),
                Err(m) => {
                    self.errors.push(name, m);
                    None
                }
            },
            Some(_) => {
                self.errors.push(name, "must be a string");
                None
            }
        }
    }

    /// For PATCH: `None` when absent, `Some(None)` when null or empty, else the text.
    pub fn patch_text(&mut self, field: &str, max: usize) -> Option<Option<String>> {
        match self.raw(field) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) if s.trim().is_empty() => Some(None),
            Some(_) => self.text(field, Presence::Optional, 1, max).map(Some),
        }
    }

    /// Free text that people write and others read: trimmed, bounded and passed
    /// through the patient data guard ([`FreeText::parse`]).
    pub fn free_text(&mut self, field: &str, presence: Presence, min: usize, max: usize) -> Option<FreeText> {
        let name = self.name(field);
        let t = self.text(field, presence, min, max)?;
        match FreeText::guard(t) {
            Ok(t) => Some(t),
            Err(e) => {
                self.errors.push(name, e.to_string());
                None
            }
        }
    }

    /// [`Input::patch_text`] for free text: `None` when absent, `Some(None)` when
    /// null or empty, else the guarded text.
    pub fn patch_free_text(&mut self, field: &str, max: usize) -> Option<Option<FreeText>> {
        match self.raw(field) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) if s.trim().is_empty() => Some(None),
            Some(_) => self.free_text(field, Presence::Optional, 1, max).map(Some),
        }
    }

    /// One of a fixed set of words (an enum); absent or null is `None`.
    pub fn choice(&mut self, field: &str, allowed: &[&str]) -> Option<String> {
        match self.raw(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if allowed.contains(&s.as_str()) => Some(s.clone()),
            Some(_) => {
                self.errors.push(self.name(field), format!("must be one of {}", allowed.join(", ")));
                None
            }
        }
    }

    pub fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.raw(field) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.errors.push(self.name(field), "must be true or false");
                None
            }
        }
    }

    pub fn integer(&mut self, field: &str, presence: Presence, min: u64, max: u64) -> Option<u64> {
        let name = self.name(field);
        match self.raw(field) {
            None | Some(Value::Null) => {
                if presence == Presence::Required {
                    self.errors.push(name, "is required");
                }
                None
            }
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if (min..=max).contains(&v) => Some(v),
                _ => {
                    self.errors.push(name, format!("must be a whole number from {min} to {max}"));
                    None
                }
            },
            Some(_) => {
                self.errors.push(name, "must be a number");
                None
            }
        }
    }

    /// A list of short strings (ids), each checked by `valid`; duplicates removed.
    pub fn id_list(&mut self, field: &str, max_items: usize, valid: impl Fn(&str) -> Result<(), String>) -> Option<Vec<String>> {
        let name = self.name(field);
        match self.raw(field) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                if items.len() > max_items {
                    self.errors.push(name, format!("must have at most {max_items} items"));
                    return None;
                }
                let mut out = Vec::new();
                let mut ok = true;
                for (i, v) in items.iter().enumerate() {
                    match v.as_str() {
                        Some(s) => match valid(s) {
                            Ok(()) => {
                                if !out.iter().any(|x: &String| x == s) {
                                    out.push(s.to_string());
                                }
                            }
                            Err(m) => {
                                ok = false;
                                self.errors.push(format!("{name}[{i}]"), m);
                            }
                        },
                        None => {
                            ok = false;
                            self.errors.push(format!("{name}[{i}]"), "must be a string");
                        }
                    }
                }
                ok.then_some(out)
            }
            Some(_) => {
                self.errors.push(name, "must be a list of strings");
                None
            }
        }
    }

    /// Parses a nested object with `parse`, merging its errors into this one's.
    /// Returns `None` when the field is absent or null.
    pub fn object<T>(&mut self, field: &str, known: &[&str], parse: impl FnOnce(&mut Input<'a>) -> T) -> Option<T> {
        let value = match self.raw(field) {
            None | Some(Value::Null) => return None,
            Some(v) => v,
        };
        let mut inner = Input::nested(value, known, &self.name(field));
        let out = parse(&mut inner);
        let failed = !inner.errors.is_empty() || inner.map.is_none();
        self.errors.0.extend(inner.errors.0);
        if failed { None } else { Some(out) }
    }
}

fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") }
}

/// Trims, refuses control characters other than newlines and tabs, and bounds the
/// length in characters (not bytes: Welsh and emoji count as one each).
pub fn check_text(s: &str, min: usize, max: usize) -> Result<String, String> {
    let t = s.trim();
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err("must not contain control characters".into());
    }
    let n = t.chars().count();
    if n < min {
        return Err(if min == 1 { "must not be empty".into() } else { format!("must be at least {min} characters") });
    }
    if n > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(t.to_string())
}

/// Why a text was refused by the patient data guard. Never quotes the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FreeTextError {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "must not contain an NHS number or other patient identifier (it holds 10 digits that pass the NHS number check); remove it and send again"
    )]
    PatientIdentifier,
}

/// Text that people write and Qnet stores, shows or emails to others. It cannot
/// be built without passing the patient data guard: parse, don't validate.
/// Unmoderated content takes this type; a hit is refused, never stored or sent.
/// The weaker signals (a name beside a date) are kept in [`FreeText::warns`]:
/// they never refuse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FreeText(String);

impl FreeText {
    /// Trims, bounds (`min..=max` characters) and guards `s`.
    pub fn parse(s: &str, min: usize, max: usize) -> Result<FreeText, FreeTextError> {
        Self::guard(check_text(s, min, max).map_err(FreeTextError::Invalid)?)
    }

    fn guard(s: String) -> Result<FreeText, FreeTextError> {
        if crate::patient_data::contains_nhs_number(&s) { Err(FreeTextError::PatientIdentifier) } else { Ok(FreeText(s)) }
    }

    /// Whether the text carries a weaker signal (a name beside a date): worth a
    /// warning, never a refusal.
    pub fn warns(&self) -> bool {
        crate::patient_data::has_name_beside_date(&self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::ops::Deref for FreeText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for FreeText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for FreeText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<FreeText> for String {
    fn from(t: FreeText) -> String {
        t.0
    }
}

impl PartialEq<str> for FreeText {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for FreeText {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// The first `max` characters of `text` cut at a word boundary, with an ellipsis
/// when anything was cut. Used for summaries.
pub fn excerpt(text: &str, max: usize) -> String {
    // The words joined by single spaces, but only as many as can show: a body
    // may be 100,000 characters, an excerpt a few hundred.
    let (mut flat, mut chars) = (String::new(), 0);
    for word in text.split_whitespace() {
        if chars > max {
            break;
        }
        if !flat.is_empty() {
            flat.push(' ');
            chars += 1;
        }
        flat.push_str(word);
        chars += word.chars().count();
    }
    if chars <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => &cut[..],
    };
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collects_every_error() {
        let v = json!({"title": "", "extra": 1, "n": "x", "s": {"aim": 3, "zz": "a"}});
        let mut i = Input::new(&v, &["title", "n", "s"]);
        assert_eq!(i.text("title", Presence::Required, 1, 10), None);
        assert_eq!(i.integer("n", Presence::Required, 0, 5), None);
        assert_eq!(i.text("body", Presence::Required, 1, 10), None);
        let s = i.object("s", &["aim"], |o| o.text("aim", Presence::Optional, 1, 5));
        assert_eq!(s, None);
        let fields: Vec<_> = i.errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["extra", "title", "n", "body", "s.zz", "s.aim"]);
    }

    #[test]
    fn excerpt_cuts_at_words() {
        assert_eq!(excerpt("one two three", 50), "one two three");
        assert_eq!(excerpt("alpha beta gamma delta", 12), "alpha beta…");
    }

    #[test]
    fn excerpt_reads_only_what_it_shows_and_answers_as_the_whole_text_would() {
        // The excerpt as it was made from every word of the text.
        let whole = |text: &str, max: usize| {
            let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if flat.chars().count() <= max {
                return flat;
            }
            let cut: String = flat.chars().take(max).collect();
            let cut = match cut.rfind(' ') {
                Some(i) if i > max / 2 => &cut[..i],
                _ => &cut[..],
            };
            format!("{}…", cut.trim_end_matches([',', '.', ';', ':', ' ']))
        };
        let long = "Falls fell from nine to four, a month; the ward's huddle ran at 8am. ".repeat(2_000);
        let texts = [
            "",
            "   ",
            "one",
            "  one  two\n\tthree  ",
            "exactly ten",
            "exactly ten!",
            "Ünïcödé wörds — and ‘quotes’ … ☕ everywhere, Ünïcödé again",
            "averyveryverylongwordwithoutanyspacesatallthatgoesonandon and then more",
            long.as_str(),
        ];
        for text in texts {
            for max in [0, 1, 5, 10, 11, 12, 20, 40, 160, 300] {
                assert_eq!(excerpt(text, max), whole(text, max), "{max} of {text:.40}");
            }
        }
    }
}
