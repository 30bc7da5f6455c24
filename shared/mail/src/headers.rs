//! Header-level decisions: routing tokens, automatic and bulk mail, the submitter's
//! name, and whether SES's verdicts vouch for the From domain itself.
//!
//! These read the top-level header block directly as well as through mail-parser,
//! because several signs (`Return-Path: <>`, `DKIM-Signature: d=`) are structured
//! headers mail-parser does not expose in the form needed.

use crate::{Person, Route, Verdict, Verdicts};

/// The top-level header fields, unfolded, names lower-cased, values decoded as UTF-8
/// or, when not valid UTF-8, as Windows-1252 (what 8-bit headers almost always are).
#[derive(Debug, Default)]
pub(crate) struct RawHeaders {
    pub fields: Vec<(String, String)>,
}

impl RawHeaders {
    pub fn parse(block: &[u8]) -> RawHeaders {
        let text = decode_lossy(block);
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.starts_with([' ', '\t']) {
                if let Some((_, v)) = fields.last_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                let name = name.trim();
                if !name.is_empty() && !name.contains(' ') {
                    fields.push((name.to_ascii_lowercase(), value.trim().to_string()));
                }
            }
        }
        RawHeaders { fields }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// UTF-8 when valid, otherwise Windows-1252, which never fails.
pub(crate) fn decode_lossy(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// The header block as UTF-8, one field at a time (a field with its folded lines):
/// a field whose raw bytes are valid UTF-8 is read as UTF-8, as intranet mailers
/// that write unencoded UTF-8 mean it; any other field is read in the charset the
/// Content-Type declares when that is a single-byte one, else as Windows-1252,
/// which never fails. Returns the text and whether any field needed the fallback.
pub(crate) fn decode_fields(block: &[u8]) -> (String, bool) {
    if let Ok(s) = std::str::from_utf8(block) {
        return (s.to_string(), false);
    }
    let fallback =
        declared_charset(block).filter(|e| e.is_single_byte() && *e != encoding_rs::UTF_8).unwrap_or(encoding_rs::WINDOWS_1252);
    let mut out = String::with_capacity(block.len() + block.len() / 8);
    let mut fell_back = false;
    let mut start = 0;
    while start < block.len() {
        // A field ends before a line that does not start with white space.
        let mut end = start;
        loop {
            match block[end..].iter().position(|&b| b == b'\n') {
                Some(i) => {
                    end += i + 1;
                    if !matches!(block.get(end), Some(b' ' | b'\t')) {
                        break;
                    }
                }
                None => {
                    end = block.len();
                    break;
                }
            }
        }
        let field = &block[start..end];
        match std::str::from_utf8(field) {
            Ok(s) => out.push_str(s),
            Err(_) => {
                fell_back = true;
                out.push_str(&fallback.decode_without_bom_handling(field).0);
            }
        }
        start = end;
    }
    (out, fell_back)
}

/// The charset named by the top-level Content-Type, if encoding_rs knows it.
fn declared_charset(block: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let text = String::from_utf8_lossy(block);
    let fields = RawHeaders::parse(text.as_bytes());
    let ct = fields.get("content-type")?;
    let lower = ct.to_ascii_lowercase();
    let at = lower.find("charset=")? + "charset=".len();
    let label: String =
        lower[at..].trim_start_matches(['"', '\'']).chars().take_while(|c| !matches!(c, '"' | '\'' | ';' | ' ')).collect();
    encoding_rs::Encoding::for_label(label.as_bytes())
}

/// Why a message is automatic or bulk mail that must be ignored, as (reason code, detail).
pub(crate) fn automatic(h: &RawHeaders, subject: &str) -> Option<(&'static str, &'static str)> {
    if let Some(v) = h.get("auto-submitted")
        && !v.trim().to_ascii_lowercase().starts_with("no")
    {
        return Some(("auto_reply", "The message was sent automatically (Auto-Submitted), not written by a person."));
    }
    if h.has("x-autoreply") || h.has("x-autorespond") || h.get("precedence").is_some_and(|p| p.eq_ignore_ascii_case("auto_reply"))
    {
        return Some(("auto_reply", "The message is an automatic reply."));
    }
    if auto_reply_subject(subject) {
        return Some(("auto_reply", "The message is an automatic reply such as an out-of-office notice."));
    }
    let ct = h.get("content-type").unwrap_or("").to_ascii_lowercase();
    if ct.trim_start().starts_with("multipart/report") {
        return Some(("delivery_report", "The message is a delivery status report, not a submission."));
    }
    if h.get("return-path").is_some_and(|rp| {
        let rp = rp.trim();
        rp == "<>" || rp.is_empty() || rp.eq_ignore_ascii_case("<mailer-daemon>")
    }) {
        return Some(("delivery_report", "The message came from a mail system (null envelope sender), not a person."));
    }
    let list = ["list-id", "list-unsubscribe", "list-post", "x-mailman-version", "x-beenthere", "x-mailing-list", "mailing-list"];
    if list.iter().any(|n| h.has(n))
        || h.get("precedence").is_some_and(|p| ["bulk", "list", "junk"].contains(&p.trim().to_ascii_lowercase().as_str()))
    {
        return Some(("bulk_mail", "The message is mailing-list or bulk mail."));
    }
    None
}

/// Out-of-office subjects in the forms Outlook, Exchange, Gmail and others write them.
fn auto_reply_subject(subject: &str) -> bool {
    let s = subject.trim().to_lowercase();
    [
        "automatic reply",
        "auto reply",
        "autoreply",
        "auto-reply",
        "out of office",
        "out of the office",
        "auto response",
        "autoresponse",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}

/// The routing token in an address's local part, when it has one.
pub(crate) fn route_of(address: &str) -> Option<Route> {
    let local = address.trim().trim_matches(['<', '>']).split('@').next()?;
    if local.eq_ignore_ascii_case("noreply") {
        return Some(Route::NoReply);
    }
    let (tag, token) = local.split_once('+')?;
    let valid =
        !token.is_empty() && token.len() < 64 && token.bytes().all(|b| b.is_ascii_alphabetic() || (b'2'..=b'7').contains(&b));
    if !valid {
        return None;
    }
    let token = token.to_ascii_uppercase();
    match tag.to_ascii_lowercase().as_str() {
        "reply" => Some(Route::Reply { token }),
        "unsubscribe" => Some(Route::Unsubscribe { token }),
        _ => None,
    }
}

/// Addresses in a raw header value: bracketed ones, else bare words with an `@`.
pub(crate) fn raw_addresses(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        match after.find('>') {
            Some(end) => {
                out.push(after[..end].trim().to_string());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    if out.is_empty() {
        out.extend(value.split([',', ' ', ';']).filter(|w| w.contains('@')).map(|w| w.trim().to_string()));
    }
    out
}

/// A usable address: something@domain with no spaces and a dot in the domain or
/// "localhost"-free single label refused, because SES cannot deliver to it anyway.
pub(crate) fn usable_address(addr: &str) -> Option<String> {
    let a = addr.trim().trim_matches(['<', '>']).trim();
    let (local, domain) = a.rsplit_once('@')?;
    let ok = !local.is_empty()
        && !domain.is_empty()
        && a.len() <= 254
        && !a.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.');
    ok.then(|| a.to_lowercase())
}

/// The domain of an address, lower-cased.
pub(crate) fn domain_of(addr: &str) -> Option<String> {
    addr.rsplit_once('@').map(|(_, d)| d.trim().trim_end_matches('>').to_ascii_lowercase())
}

/// Builds the person from a display name and address, undoing NHSmail's
/// "SURNAME, Forename (ORGANISATION)" so moderators see the name people use;
/// the organisation comes back separately as a hint.
pub(crate) fn person(name: Option<&str>, email: String) -> (Person, Option<String>) {
    let mut org = None;
    let name =
        name.map(|n| n.trim().trim_matches(['"', '\'']).trim()).filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case(&email));
    let name = name.map(|n| {
        let (n, o) = split_organisation(n);
        org = o;
        match n.split_once(',') {
            Some((surname, forename)) if !surname.trim().is_empty() && !forename.trim().is_empty() && !forename.contains(',') => {
                format!("{} {}", forename.trim(), tidy_case(surname.trim()))
            }
            _ => n.to_string(),
        }
    });
    (Person { name, email, job_title: None }, org)
}

/// "Jane (LEEDS TEACHING HOSPITALS NHS TRUST)" -> ("Jane", Some(org)).
fn split_organisation(name: &str) -> (&str, Option<String>) {
    if let Some(stripped) = name.strip_suffix(')')
        && let Some(open) = stripped.rfind('(')
    {
        let org = stripped[open + 1..].trim();
        let rest = stripped[..open].trim();
        if !org.is_empty() && !rest.is_empty() {
            return (rest, Some(org.to_string()));
        }
    }
    (name, None)
}

/// SMITH -> Smith, O'BRIEN -> O'Brien, SMITH-JONES -> Smith-Jones; mixed case is left alone.
fn tidy_case(word: &str) -> String {
    if word.chars().any(|c| c.is_lowercase()) {
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len());
    let mut start = true;
    for c in word.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = !c.is_alphabetic();
    }
    out
}

/// DMARC PASS verifies; where the domain has no DMARC policy (GRAY), SPF or DKIM
/// must pass *for the From domain itself*, since a pass for some other domain says
/// nothing about who wrote the From line. SES's DKIM verdict does not say which
/// signature passed, so it counts only when every signature is the From domain's.
pub(crate) fn sender_verified(v: &Verdicts, h: &RawHeaders, from_domain: &str) -> bool {
    match v.dmarc {
        Verdict::Pass => true,
        Verdict::Gray => {
            let domains: Vec<String> = h.all("dkim-signature").map(|s| dkim_domain(s).unwrap_or_default()).collect();
            let dkim = v.dkim == Verdict::Pass && !domains.is_empty() && domains.iter().all(|d| aligned(d, from_domain));
            let spf = v.spf == Verdict::Pass
                && h.get("return-path")
                    .and_then(|rp| raw_addresses(rp).into_iter().next())
                    .and_then(|a| domain_of(&a))
                    .is_some_and(|d| aligned(&d, from_domain));
            dkim || spf
        }
        _ => false,
    }
}

fn dkim_domain(sig: &str) -> Option<String> {
    sig.split(';').find_map(|tag| {
        let (k, v) = tag.split_once('=')?;
        (k.trim() == "d").then(|| v.trim().to_ascii_lowercase())
    })
}

/// Relaxed DMARC-style alignment: the same domain, or one a subdomain of the other.
fn aligned(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_end_matches('.'), b.trim_end_matches('.'));
    !a.is_empty() && (a == b || a.ends_with(&format!(".{b}")) || b.ends_with(&format!(".{a}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhsmail_names_are_turned_round() {
        let (p, org) = person(Some("SMITH, Jane (LEEDS TEACHING HOSPITALS NHS TRUST)"), "jane.smith@nhs.net".into());
        assert_eq!(p.name.as_deref(), Some("Jane Smith"));
        assert_eq!(org.as_deref(), Some("LEEDS TEACHING HOSPITALS NHS TRUST"));
        let (p, _) = person(Some("O'BRIEN, Sean"), "s@x.org".into());
        assert_eq!(p.name.as_deref(), Some("Sean O'Brien"));
    }

    #[test]
    fn tokens_are_base32_and_case_insensitive() {
        assert_eq!(route_of("reply+abc234@qnet.example"), Some(Route::Reply { token: "ABC234".into() }));
        assert_eq!(route_of("Unsubscribe+ZZ@qnet.example"), Some(Route::Unsubscribe { token: "ZZ".into() }));
        assert_eq!(route_of("reply+4f97315cc8@bar.com"), None, "hex with 0, 1, 8, 9 is not base32");
        assert_eq!(route_of(&format!("reply+{}@x.org", "A".repeat(64))), None);
    }

    #[test]
    fn each_header_field_is_utf8_when_it_can_be() {
        let block = b"From: Ren\xc3\xa9e <r@x.org>\r\nX-Mailer: Intranet \xa9 2011\r\nSubject: Caf\xc3\xa9\r\n \xe2\x80\x93 \xc2\xa38k\r\n";
        let (text, fell_back) = decode_fields(block);
        assert!(fell_back);
        assert!(text.contains("From: Renée <r@x.org>"), "{text}");
        assert!(text.contains("X-Mailer: Intranet © 2011"), "{text}");
        assert!(text.contains("Subject: Café\r\n – £8k"), "{text}");
        let latin = b"Subject: Caf\xe9\r\nContent-Type: text/plain; charset=\"iso-8859-7\"\r\n";
        assert!(decode_fields(latin).0.contains("Subject: Caf\u{3b9}"), "the declared single-byte charset is used");
        assert_eq!(decode_fields(b"Subject: plain\r\n"), ("Subject: plain\r\n".to_string(), false));
    }

    #[test]
    fn alignment() {
        assert!(aligned("mail.nhs.net", "nhs.net"));
        assert!(aligned("nhs.net", "nhs.net"));
        assert!(!aligned("evilnhs.net", "nhs.net"));
    }
}
