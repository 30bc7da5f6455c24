//! The order of work: cheap checks that can end the analysis first (verdicts, the
//! message's shape, automatic mail, the sender), then the body, sections and files.

use std::borrow::Cow;

use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};

use crate::headers::{self, RawHeaders};
use crate::{Analysis, Limits, Outcome, Route, Verdict, Verdicts, attachments, html, sections, signature, text};

pub(crate) fn run(raw: &[u8], verdicts: &Verdicts, limits: &Limits) -> Analysis {
    let mut a = Analysis::empty();

    // 1. SES's verdicts: any FAIL rejects before the message is even parsed.
    for (v, reason, detail) in [
        (verdicts.virus, "virus", "The message was found to carry a virus."),
        (verdicts.spam, "spam", "The message was judged to be spam."),
        (verdicts.dmarc, "dmarc_fail", "The sender's domain says this message did not come from it (DMARC failed)."),
        (verdicts.spf, "spf_fail", "The sending server is not allowed to send mail for the sender's domain (SPF failed)."),
        (verdicts.dkim, "dkim_fail", "The message's signature did not verify (DKIM failed)."),
    ] {
        if v == Verdict::Fail {
            a.stop(Outcome::Reject, reason, detail);
            return a;
        }
    }

    // 2. Headers. An mbox "From " line is not a header; each header field's 8-bit
    // bytes are read as UTF-8 when they are UTF-8, else in the declared single-byte
    // charset or Windows-1252, so names and subjects survive.
    let raw =
        raw.strip_prefix(b"From ").map_or(raw, |rest| rest.iter().position(|&b| b == b'\n').map_or(raw, |i| &rest[i + 1..]));
    let header_end = header_block_end(raw);
    let raw: Cow<'_, [u8]> = match std::str::from_utf8(&raw[..header_end]) {
        Ok(_) => Cow::Borrowed(raw),
        Err(_) => {
            let (text, fell_back) = headers::decode_fields(&raw[..header_end]);
            if fell_back {
                a.warnings.push(
                    "The headers held 8-bit characters that are not UTF-8; they were read as the declared charset or Windows-1252."
                        .into(),
                );
            }
            let mut fixed = text.into_bytes();
            fixed.extend_from_slice(&raw[header_end..]);
            Cow::Owned(fixed)
        }
    };
    let raw = raw.as_ref();
    let raw_headers = RawHeaders::parse(&raw[..header_block_end(raw)]);
    let Some(message) = MessageParser::default().parse(raw) else {
        a.stop(Outcome::Reject, "no_from", "The message has no headers, so there is no sender to reply to.");
        return a;
    };

    a.message_id = message.message_id().map(str::to_string);
    for value in [message.in_reply_to(), message.references()] {
        for id in ids(value) {
            if !a.in_reply_to.contains(&id) {
                a.in_reply_to.push(id);
            }
        }
    }
    a.route = route(&message, &raw_headers);
    let subject = message.subject().map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();

    // 3. The message's shape, before any decoding work beyond the parse.
    let (parts, depth) = shape(&message);
    if parts > limits.max_parts {
        a.stop(
            Outcome::Reject,
            "too_many_parts",
            format!("The message has {parts} parts, more than the {} allowed.", limits.max_parts),
        );
        return a;
    }
    if depth > limits.max_depth {
        a.stop(
            Outcome::Reject,
            "too_deep",
            format!("The message is nested {depth} levels deep, more than the {} allowed.", limits.max_depth),
        );
        return a;
    }

    // 4. Automatic, bulk and calendar mail is ignored.
    if let Some((reason, detail)) = headers::automatic(&raw_headers, &subject) {
        a.stop(Outcome::Ignore, reason, detail);
        return a;
    }
    if is_calendar_reply(&message) {
        a.stop(Outcome::Ignore, "calendar_reply", "The message is a reply to a calendar invitation.");
        return a;
    }

    // 5. The sender.
    let from = message.from().and_then(first_address).or_else(|| {
        raw_headers
            .get("from")
            .and_then(|f| headers::raw_addresses(f).into_iter().find_map(|x| headers::usable_address(&x)))
            .map(|e| (None, e))
    });
    let Some((from_name, from_email)) = from else {
        a.stop(Outcome::Reject, "no_from", "The message has no usable From address.");
        return a;
    };
    let (person, org) = headers::person(from_name.as_deref(), from_email);
    a.sender_verified = headers::domain_of(&person.email).is_some_and(|d| headers::sender_verified(verdicts, &raw_headers, &d));
    a.submitter = Some(person);
    a.organisation_hint = org;

    // 6. The body's size, before converting anything. Images pasted into the HTML
    // as data: URIs are images, not text: they are taken out first (and kept as files).
    let mut pasted = Vec::new();
    let mut html_without_images: Vec<(u32, String)> = Vec::new();
    let mut body_ids: Vec<u32> = message.text_body.iter().chain(message.html_body.iter()).copied().collect();
    body_ids.sort_unstable();
    body_ids.dedup();
    for &id in &body_ids {
        if let Some(PartType::Html(h)) = message.parts.get(id as usize).map(|p| &p.body)
            && let Some((html, images)) = html::take_data_images(h)
        {
            html_without_images.push((id, html));
            pasted.extend(images);
        }
    }
    let decoded: usize = body_ids
        .iter()
        .filter_map(|&id| {
            let p = message.parts.get(id as usize)?;
            Some(match (&p.body, html_without_images.iter().find(|(i, _)| *i == id)) {
                (_, Some((_, h))) => h.len(),
                (PartType::Text(t) | PartType::Html(t), None) => t.len(),
                _ => 0,
            })
        })
        .sum();
    if decoded > limits.max_decoded_body {
        a.stop(
            Outcome::Reject,
            "body_too_large",
            format!("The message's text is {} bytes once decoded, more than the {} allowed.", decoded, limits.max_decoded_body),
        );
        return a;
    }

    // 7. The body: text part preferred, HTML converted when it is all there is.
    let subject_forward = subject_is_forward(&subject);
    let body_text = body_text(&message, raw, subject_forward, &html_without_images, &mut a.warnings);
    if missing_closing_boundary(&message, raw) {
        a.warnings.push("The message ended without its closing MIME boundary; kept what could be read.".into());
    }
    let normalised = text::normalise(&body_text);
    let (body, forward) = match text::split_forward(&normalised, subject_forward) {
        Some(f) => {
            let note = without_signature(text::clean_keeping_footer(&f.note), &mut a);
            let original_author = f.from.clone().map(|(name, email)| headers::person(name.as_deref(), email).0);
            let original = text::clean(&text::normalise(&f.text));
            let original = match signature::find(&original, original_author.as_ref()) {
                Some(sig) => cut_at_line(&original, sig.start),
                None => original,
            };
            let body =
                [note.as_str(), original.as_str()].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join("\n\n");
            if a.organisation_hint.is_none() {
                a.organisation_hint = organisation_from_signature(&f.note);
            }
            (body, Some((f.from, f.subject)))
        }
        None => {
            let body = without_signature(text::clean_keeping_footer(&normalised), &mut a);
            if a.organisation_hint.is_none() {
                a.organisation_hint = organisation_from_signature(&normalised);
            }
            (body, None)
        }
    };
    let mut forwarded_subject = None;
    if let Some((from, subj)) = forward {
        a.forwarded_from = from.map(|(name, email)| headers::person(name.as_deref(), email).0);
        forwarded_subject = subj;
    }

    // 8. Files.
    let collected = attachments::collect(&message, raw, limits, pasted);
    a.attachments = collected.kept;
    a.dropped_attachments = collected.dropped;
    a.warnings.extend(collected.warnings);

    if body.is_empty() && a.attachments.is_empty() {
        a.stop(Outcome::Reject, "nothing_to_keep", "The message has no text and no attachment to keep.");
        return a;
    }

    // 9. Long bodies are cut for the case study and kept whole as a file.
    if body.chars().count() > limits.max_body_chars {
        let cut = text::truncate_chars(&body, limits.max_body_chars).to_string();
        let whole = attachments::make(unique_body_name(&a.attachments), "text/plain; charset=utf-8".into(), body.into_bytes());
        a.attachments.push(whole);
        a.body = cut;
        a.body_truncated = true;
    } else {
        a.body = body;
    }
    a.sections = sections::find(&a.body);
    a.title = title(&subject, forwarded_subject.as_deref(), &a);
    a
}

/// The text without the signature block under its sign-off; the block's name, job
/// title and organisation fill what the From header did not give. (The organisation
/// is only a hint: the ingest takes it only from organisations that list the
/// sender's email domain.)
fn without_signature((with_footer, text): (Option<String>, String), a: &mut Analysis) -> String {
    let cut = signature::find(&text, a.submitter.as_ref());
    // The evidence is read before the legal footer went, which may have taken the
    // block's last lines (or the whole block) with it.
    let evidence = with_footer.filter(|w| w.len() != text.len()).and_then(|w| signature::find(&w, a.submitter.as_ref()));
    let Some(sig) = evidence.or_else(|| cut.clone()) else {
        return text;
    };
    let text = match &cut {
        Some(c) => cut_at_line(&text, c.start),
        None => text,
    };
    if let Some(p) = a.submitter.as_mut() {
        if p.name.is_none() {
            p.name = sig.name;
        }
        p.job_title = sig.job_title;
    }
    if a.organisation_hint.is_none() {
        a.organisation_hint = sig.organisation;
    }
    text
}

fn cut_at_line(text: &str, line: usize) -> String {
    text::tidy(&text.split('\n').take(line).collect::<Vec<_>>().join("\n"))
}

fn unique_body_name(kept: &[crate::Attachment]) -> String {
    let taken = |n: &str| kept.iter().any(|k| k.filename.eq_ignore_ascii_case(n));
    if !taken("body.txt") {
        return "body.txt".into();
    }
    (2..).map(|i| format!("body ({i}).txt")).find(|n| !taken(n)).unwrap_or_else(|| "body.txt".into())
}

/// Where the header block ends (the blank line), or the whole input when it never does.
fn header_block_end(raw: &[u8]) -> usize {
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\n' {
            match raw.get(i + 1) {
                Some(b'\n') => return i + 1,
                Some(b'\r') if raw.get(i + 2) == Some(&b'\n') => return i + 1,
                _ => {}
            }
        }
        i += 1;
    }
    raw.len()
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.trim_matches(['<', '>', ' ']).to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.trim_matches(['<', '>', ' ']).to_string()).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect()
}

fn first_address(addr: &Address<'_>) -> Option<(Option<String>, String)> {
    addr.iter().find_map(|a| {
        let email = headers::usable_address(a.address.as_deref()?)?;
        Some((a.name.as_deref().map(str::to_string), email))
    })
}

/// The flow a token address names, looked for where the address we were sent to appears.
fn route(message: &Message<'_>, raw: &RawHeaders) -> Route {
    let mut candidates: Vec<String> = Vec::new();
    for addr in [message.to(), message.cc()].into_iter().flatten() {
        candidates.extend(addr.iter().filter_map(|a| a.address.as_deref().map(str::to_string)));
    }
    for name in ["delivered-to", "x-original-to"] {
        for v in raw.all(name) {
            candidates.extend(headers::raw_addresses(v));
        }
    }
    candidates.iter().find_map(|c| headers::route_of(c)).unwrap_or(Route::Submission)
}

/// Parts in the whole message and the deepest nesting, counted iteratively.
fn shape(message: &Message<'_>) -> (usize, usize) {
    let mut parts = 0usize;
    let mut deepest = 0usize;
    let mut messages: Vec<(&Message<'_>, usize)> = vec![(message, 1)];
    while let Some((m, base)) = messages.pop() {
        parts += m.parts.len();
        if parts > 100_000 {
            break;
        }
        let mut stack = vec![(0u32, base)];
        let mut visited = 0usize;
        while let Some((id, depth)) = stack.pop() {
            visited += 1;
            if visited > m.parts.len() {
                break;
            }
            deepest = deepest.max(depth);
            match m.parts.get(id as usize).map(|p| &p.body) {
                Some(PartType::Multipart(children)) => stack.extend(children.iter().map(|&c| (c, depth + 1))),
                Some(PartType::Message(inner)) => messages.push((inner, depth + 1)),
                _ => {}
            }
        }
    }
    (parts, deepest)
}

fn is_calendar_reply(message: &Message<'_>) -> bool {
    message.parts.iter().any(|p| {
        p.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("text")
                && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("calendar"))
                && (ct.attribute("method").is_some_and(|m| m.eq_ignore_ascii_case("reply"))
                    || matches!(&p.body, PartType::Text(t) if t.to_ascii_uppercase().contains("METHOD:REPLY")))
        })
    })
}

fn subject_is_forward(subject: &str) -> bool {
    let s = subject.trim_start().to_ascii_lowercase();
    ["fw:", "fwd:", "fw :", "fwd :", "[fwd:"].iter().any(|p| s.starts_with(p))
}

/// The text to work from: the plain parts, or the HTML ones converted when there is
/// no plain text (or it is blank).
fn body_text(
    message: &Message<'_>,
    raw: &[u8],
    forward: bool,
    without_images: &[(u32, String)],
    warnings: &mut Vec<String>,
) -> String {
    let mut plain = Vec::new();
    for &id in &message.text_body {
        let Some(part) = message.parts.get(id as usize) else { continue };
        match &part.body {
            PartType::Text(t) => {
                let mut s = t.to_string();
                let cte_base64 = part.content_transfer_encoding().is_some_and(|c| c.trim().eq_ignore_ascii_case("base64"));
                if part.is_encoding_problem && cte_base64 {
                    let (bytes, _) = attachments::lenient_base64(&raw_slice(raw, part.offset_body, part.offset_end));
                    s = decode_charset(&bytes, part.content_type().and_then(|c| c.attribute("charset")));
                    warnings.push("The text was damaged (broken base64); kept what could be read.".into());
                } else if part.is_encoding_problem {
                    warnings.push("Part of the text was damaged; kept what could be read.".into());
                }
                let ct = part.content_type();
                let flowed = ct.and_then(|c| c.attribute("format")).is_some_and(|f| f.eq_ignore_ascii_case("flowed"));
                let delsp = ct.and_then(|c| c.attribute("delsp")).is_some_and(|f| f.eq_ignore_ascii_case("yes"));
                if flowed {
                    s = text::unwrap_flowed(&s.replace("\r\n", "\n"), delsp);
                }
                plain.push(s);
            }
            PartType::Html(h) => {
                let h = html_of(without_images, id, h);
                let keep = forward || has_forward_marker(h);
                if let Some(t) = html::to_text(h, keep) {
                    plain.push(t);
                }
            }
            _ => {}
        }
    }
    let joined = plain.join("\n\n");
    if !joined.trim().is_empty() {
        return joined;
    }
    // A blank text alternative beside a real HTML one.
    let mut out = Vec::new();
    for &id in &message.html_body {
        if let Some(PartType::Html(h)) = message.parts.get(id as usize).map(|p| &p.body)
            && let h = html_of(without_images, id, h)
            && let Some(t) = html::to_text(h, forward || has_forward_marker(h))
        {
            out.push(t);
        }
    }
    out.join("\n\n")
}

/// The HTML of a body part, without its pasted images when it had any.
fn html_of<'a>(without_images: &'a [(u32, String)], id: u32, html: &'a str) -> &'a str {
    without_images.iter().find(|(i, _)| *i == id).map_or(html, |(_, h)| h.as_str())
}

fn has_forward_marker(html: &str) -> bool {
    let l = html.to_ascii_lowercase();
    l.contains("forwarded message") || l.contains("begin forwarded message")
}

fn raw_slice(raw: &[u8], start: u32, end: u32) -> Vec<u8> {
    let (s, e) = (start as usize, end as usize);
    if s <= e { raw.get(s..e).unwrap_or_default().to_vec() } else { Vec::new() }
}

fn decode_charset(bytes: &[u8], label: Option<&str>) -> String {
    match label.and_then(|l| encoding_rs::Encoding::for_label(l.trim().as_bytes())) {
        Some(enc) if std::str::from_utf8(bytes).is_err() => enc.decode_without_bom_handling(bytes).0.into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// A top-level multipart whose closing `--boundary--` never came.
fn missing_closing_boundary(message: &Message<'_>, raw: &[u8]) -> bool {
    let Some(ct) = message.parts.first().and_then(|p| p.content_type()) else { return false };
    if !ct.ctype().eq_ignore_ascii_case("multipart") {
        return false;
    }
    // RFC 2046 boundaries are at most 70 characters; longer ones are not checked,
    // which keeps this search linear.
    let Some(boundary) = ct.attribute("boundary").filter(|b| b.len() <= 200) else { return false };
    let closing = format!("--{boundary}--");
    // From the end, where a closing boundary is.
    memchr::memmem::rfind(raw, closing.as_bytes()).is_none()
}

/// The subject without reply and forward prefixes; failing that the forwarded
/// subject, the Aim, or the body's first line. Kept up to the case study's own
/// title limit, so a long (folded) subject is cut only where the record would cut it.
fn title(subject: &str, forwarded_subject: Option<&str>, a: &Analysis) -> String {
    let stripped = strip_prefixes(subject);
    let chosen = if !stripped.is_empty() {
        stripped
    } else if let Some(f) = forwarded_subject.map(strip_prefixes).filter(|s| !s.is_empty()) {
        f
    } else {
        let from_text = |t: &str| {
            t.lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && sections::heading_of(l).is_none_or(|(_, rest)| !rest.is_empty()))
                .map(|l| sections::heading_of(l).map(|(_, rest)| rest).unwrap_or_else(|| l.to_string()))
        };
        a.sections.aim.as_deref().and_then(from_text).or_else(|| from_text(&a.body)).unwrap_or_default()
    };
    shorten(&chosen, qnet_domain::case_study::TITLE_MAX)
}

fn shorten(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut = text::truncate_chars(s, max);
    let cut = cut.rsplit_once(' ').map_or(cut, |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
}

/// "Re: Fwd: RE: x" -> "x".
pub(crate) fn strip_prefixes(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let Some(p) = ["re:", "fwd:", "fw:", "re :", "fwd :", "fw :"].iter().find(|p| lower.starts_with(*p)) else { break };
        s = s[p.len()..].trim_start();
    }
    s.to_string()
}

/// An organisation named in the signature under a sign-off ("Kind regards") or a
/// "-- " line: the moderator matches it against known organisations.
fn organisation_from_signature(text: &str) -> Option<String> {
    static ORG: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)\b(NHS|Trust|Council|ICB|Integrated Care|Hospital|Hospitals|Foundation|Practice|Surgery|Healthcare|Health|CIC|Charity|Hospice|PCN|University|Partnership|Association)\b")
            .expect("valid regex")
    });
    static SIGN_OFF: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)^(kind regards|best regards|warm regards|regards|many thanks|thanks|thank you|best wishes|best|cheers|yours sincerely|sincerely|with thanks)[,.!]?$")
            .expect("valid regex")
    });
    let lines: Vec<&str> = text.split('\n').collect();
    let start = lines.iter().position(|l| {
        let t = l.trim();
        t == "--" || l.trim_end_matches('\r') == "-- " || SIGN_OFF.is_match(t)
    })?;
    lines
        .iter()
        .skip(start + 1)
        .take(8)
        .map(|l| l.trim().trim_matches(['|', '*', '_']).trim())
        .find(|l| !l.is_empty() && l.chars().count() <= 100 && !l.contains('@') && !l.contains("http") && ORG.is_match(l))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_go() {
        assert_eq!(strip_prefixes("RE: Fwd: re: Falls"), "Falls");
        assert_eq!(strip_prefixes("Regarding falls"), "Regarding falls");
    }

    #[test]
    fn signature_organisation() {
        let t = "Text\n\nKind regards\nJane Smith\nQuality Improvement Lead\nLeeds Teaching Hospitals NHS Trust\n";
        assert_eq!(organisation_from_signature(t).as_deref(), Some("Leeds Teaching Hospitals NHS Trust"));
    }
}
