//! Plain-text clean-up: format=flowed, forwards, quoted reply chains, signatures and
//! legal footers. Everything works line by line on `\n`-separated text, so the same
//! rules serve text parts and HTML converted to text.

use std::sync::LazyLock;

use regex::Regex;

/// Joins the soft line breaks of RFC 3676 `format=flowed` text, which mail-parser
/// leaves in place: iPhone and Thunderbird wrap every paragraph at 72 characters, and
/// unjoined lines would break headings and phrases apart.
///
/// A line ending in a space continues on the next line of the same quote depth;
/// space-stuffing (one leading space added by the sender) is removed; with
/// `DelSp=yes` the trailing space is removed before joining. The signature
/// separator `-- ` is never flowed.
pub fn unwrap_flowed(text: &str, delsp: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut open: Option<(usize, String)> = None;
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let depth = line.bytes().take_while(|&b| b == b'>').count();
        let mut content = &line[depth..];
        if let Some(rest) = content.strip_prefix(' ') {
            content = rest;
        }
        let is_sig = content == "-- ";
        let flowed = !is_sig && content.ends_with(' ');
        let piece = if flowed && delsp { &content[..content.len() - 1] } else { content };
        match open.take() {
            Some((d, mut acc)) if d == depth && !is_sig => {
                acc.push_str(piece);
                if flowed {
                    open = Some((d, acc));
                } else {
                    push_line(&mut out, d, &acc);
                }
            }
            prev => {
                if let Some((d, acc)) = prev {
                    push_line(&mut out, d, &acc);
                }
                if flowed {
                    open = Some((depth, piece.to_string()));
                } else {
                    push_line(&mut out, depth, piece);
                }
            }
        }
    }
    if let Some((d, acc)) = open {
        push_line(&mut out, d, &acc);
    }
    if out.ends_with('\n') && !text.ends_with('\n') {
        out.pop();
    }
    out
}

fn push_line(out: &mut String, depth: usize, content: &str) {
    if depth > 0 {
        out.push_str(&">".repeat(depth));
        out.push(' ');
    }
    out.push_str(content);
    out.push('\n');
}

static ON_WROTE_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^(?:>\s*)?(on|le|am|el|il|op|em|den|på)\s.{2,}").expect("valid regex"));
static WROTE_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(wrote|a écrit|schrieb|escribió|ha scritto|schreef|escreveu|skrev)\s*:\s*$").expect("valid regex")
});
static ORIGINAL_MESSAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original)\s*-{2,}\s*$")
        .expect("valid regex")
});
static FORWARD_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(-{2,}\s*forwarded message\s*-{2,}|begin forwarded message:?|-{2,}\s*original message\s*-{2,})\s*$")
        .expect("valid regex")
});
static HEADER_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*\*?(from|sent|date|to|cc|bcc|subject|reply-to|importance)\*?\s*:").expect("valid regex")
});
static MOBILE_SIGNATURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(sent from my \S.*|sent from (outlook|mail|yahoo mail|samsung|proton mail|gmail)\b.*|get outlook for (ios|android).*|sent via .{0,40}(smartphone|iphone|android|mobile).*|sent from outlook for (ios|android).*)$",
    )
    .expect("valid regex")
});
static DISCLAIMER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(if you are not the intended recipient|may contain confidential|contains? confidential information|is confidential and (may be|is) (legally )?privileged|intended (solely|only) for the (use of the )?(addressee|individual|person)|nhsmail is the secure email|this (e-?mail|message) (and any|has been) (attachments|scanned)|received this (e-?mail|message) in error|for more information and to find out how you can switch|views expressed in this (e-?mail|message)|registered in england( and wales)?|registered (charity|office) (no|number|in)|this e-?mail and any files transmitted with it|e-?bost hwn yn gyfrinachol)",
    )
    .expect("valid regex")
});

/// Normalises line ends to `\n` and removes the BOM, zero-width and no-break
/// characters that HTML conversion and Outlook leave behind.
pub(crate) fn normalise(text: &str) -> String {
    let t = if text.contains('\r') { text.replace("\r\n", "\n").replace('\r', "\n") } else { text.to_owned() };
    // The invisible characters are all outside ASCII; the text between them is
    // copied in runs, not a character at a time.
    if t.is_ascii() {
        return t;
    }
    let mut out = String::with_capacity(t.len());
    let mut copied = 0;
    for (i, c) in t.match_indices(['\u{feff}', '\u{200b}', '\u{200c}', '\u{200d}', '\u{ad}', '\u{a0}']) {
        out.push_str(&t[copied..i]);
        if c == "\u{a0}" {
            out.push(' ');
        }
        copied = i + c.len();
    }
    out.push_str(&t[copied..]);
    out
}

/// The original message inside a forward: its header block's author and subject,
/// the forwarder's note above it, and the forwarded text below.
pub(crate) struct Forward {
    pub note: String,
    pub from: Option<(Option<String>, String)>,
    pub subject: Option<String>,
    pub text: String,
}

/// Finds a forward: Gmail's "---------- Forwarded message ---------", Apple's "Begin
/// forwarded message:", Outlook's "-----Original Message-----", or (when the subject
/// says Fw:) a bare "From: … Subject: …" header block.
pub(crate) fn split_forward(text: &str, subject_says_forward: bool) -> Option<Forward> {
    let lines: Vec<&str> = text.split('\n').collect();
    let marker =
        lines.iter().position(|l| FORWARD_MARKER.is_match(l) && (subject_says_forward || !l.to_lowercase().contains("original")));
    let (note_end, block_start) = match marker {
        Some(i) => (i, i + 1),
        None if subject_says_forward => {
            let i = header_block_at_any(&lines)?;
            (i, i)
        }
        None => return None,
    };
    // Skip blank lines and underscores between the marker and the header block.
    let mut i = block_start;
    while i < lines.len() && (lines[i].trim().is_empty() || lines[i].trim().chars().all(|c| c == '_')) {
        i += 1;
    }
    let mut from = None;
    let mut subject = None;
    let mut seen_header = false;
    while i < lines.len() {
        let l = lines[i].trim();
        if l.is_empty() {
            if seen_header {
                break;
            }
            i += 1;
            continue;
        }
        if !HEADER_LINE.is_match(l) {
            // A folded header value (long To: lists wrap).
            if seen_header && i + 1 < lines.len() && HEADER_LINE.is_match(lines[i + 1].trim()) {
                i += 1;
                continue;
            }
            break;
        }
        seen_header = true;
        let (name, value) = l.split_once(':').unwrap_or((l, ""));
        let name = name.trim().trim_matches('*').to_ascii_lowercase();
        let value = value.trim().trim_matches('*').trim();
        match name.as_str() {
            "from" => from = parse_person_line(value),
            "subject" => subject = Some(value.to_string()),
            _ => {}
        }
        i += 1;
    }
    let text = lines.get(i..).map(|l| l.join("\n")).unwrap_or_default();
    let note = lines[..note_end].join("\n");
    Some(Forward { note, from, subject, text })
}

fn header_block_at_any(lines: &[&str]) -> Option<usize> {
    (0..lines.len()).find(|&i| is_header_block(lines, i))
}

/// An Outlook-style header block: "From:" followed within a few lines by at least two
/// of Sent/Date/To/Subject.
fn is_header_block(lines: &[&str], i: usize) -> bool {
    // Called for every line: the prefixes are compared in place, not on a
    // lower-cased copy of each line.
    let starts = |l: &str, p: &str| l.as_bytes().get(..p.len()).is_some_and(|b| b.eq_ignore_ascii_case(p.as_bytes()));
    let first = lines[i].trim_start_matches(['>', ' ', '*']);
    if !starts(first, "from:") {
        return false;
    }
    let others = lines
        .iter()
        .skip(i + 1)
        .take(6)
        .filter(|l| {
            let l = l.trim_start_matches(['>', ' ', '*']);
            ["sent:", "date:", "to:", "subject:", "cc:"].iter().any(|p| starts(l, p))
        })
        .count();
    others >= 2
}

/// "Jane Doe <jane@x.org>", "Jane Doe [mailto:jane@x.org]", "jane@x.org", "DOE, Jane (ORG) <jane@nhs.net>".
pub(crate) fn parse_person_line(value: &str) -> Option<(Option<String>, String)> {
    let v = value.trim();
    let (name, addr) = if let Some(open) = v.find(['<', '[']) {
        let inner = &v[open + 1..];
        let close = inner.find(['>', ']']).unwrap_or(inner.len());
        let addr = inner[..close].trim().trim_start_matches("mailto:");
        (v[..open].trim().trim_matches('"').trim(), addr)
    } else if v.contains('@') {
        ("", v.split_whitespace().find(|w| w.contains('@')).unwrap_or(v))
    } else {
        return None;
    };
    let addr = crate::headers::usable_address(addr)?;
    Some(((!name.is_empty()).then(|| name.to_string()), addr))
}

/// Removes what is not the person's own words: the quoted chain below a reply
/// ("On … wrote:", Outlook's header block, "-----Original Message-----", `>` lines),
/// signatures ("-- ", "Sent from my iPhone") and legal footers.
pub(crate) fn clean(text: &str) -> String {
    clean_keeping_footer(text).1
}

/// [`clean`]'s result, preceded by the same text with its legal footers still in
/// place: a signature block that shares a paragraph with a charity's registration
/// line is cut with the footer, but its lines are still evidence of who wrote.
/// The first is `None` when no footer went (the two would be the same text).
pub(crate) fn clean_keeping_footer(text: &str) -> (Option<String>, String) {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut end = lines.len();
    for i in 0..lines.len() {
        let l = lines[i];
        let t = l.trim();
        // Each pattern is tried only on a line that could match it (a rule of
        // dashes; a first letter that folds to s or g), which most lines of a
        // long body cannot.
        let could_be_mobile = t.chars().next().is_some_and(|c| !c.is_ascii() || matches!(c, 's' | 'S' | 'g' | 'G'));
        if (l.contains("--") && ORIGINAL_MESSAGE.is_match(l))
            || is_header_block(&lines, i)
            || is_on_wrote(&lines, i)
            || (could_be_mobile && MOBILE_SIGNATURE.is_match(t))
        {
            end = i;
            break;
        }
        // Outlook's separator line above its header block.
        if t.len() >= 10
            && t.chars().all(|c| c == '_')
            && lines.get(i + 1).is_some_and(|n| n.trim().to_lowercase().starts_with("from:"))
        {
            end = i;
            break;
        }
        if l == "-- " || l == "--" || t == "-- " {
            end = i;
            break;
        }
    }
    let before_cut: Vec<&str> = lines[..end].iter().copied().filter(|l| !l.trim_start().starts_with('>')).collect();
    let mut kept = cut_disclaimer(&before_cut);
    // Rules left above a cut (Outlook's underscores, a row of dashes) are not words.
    while kept.last().is_some_and(|l| {
        l.trim().is_empty() || (l.trim().len() >= 3 && l.trim().chars().all(|c| matches!(c, '_' | '-' | '*' | '=')))
    }) {
        kept.pop();
    }
    let cleaned = tidy_lines(kept.iter().copied(), text.len());
    // `kept` is `before_cut` less some lines: the same length, the same text.
    let with_footer = (kept.len() != before_cut.len()).then(|| tidy_lines(before_cut.iter().copied(), text.len()));
    (with_footer, cleaned)
}

/// "On <date>, <name> wrote:" on one line or spread over up to three (Gmail wraps
/// the address onto its own line).
fn is_on_wrote(lines: &[&str], i: usize) -> bool {
    let l = lines[i].trim();
    // Tried for every line: only one whose first letter could start the
    // pattern (a quote mark, or a first letter of one of its words) is matched.
    let could_start = l.chars().next().is_some_and(|c| !c.is_ascii() || "> oleaidpOLEAIDP".contains(c));
    if !could_start || !ON_WROTE_START.is_match(l) {
        return false;
    }
    let mut joined = String::new();
    for l in lines.iter().skip(i).take(3) {
        if l.trim().is_empty() {
            break;
        }
        joined.push_str(l.trim());
        joined.push(' ');
        if WROTE_END.is_match(joined.trim_end()) {
            return true;
        }
    }
    false
}

/// Cuts from the first paragraph that reads like a legal disclaimer or mail-service
/// footer to the end, together with a rule of asterisks or dashes just above it.
fn cut_disclaimer<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    // A disclaimer paragraph in the first half (a banner above the words) goes on
    // its own; one in the second half takes the rest of the message with it.
    // Each line is matched at most once: the lines above a removed paragraph held
    // no hit, so the search goes on from where the paragraph was.
    let mut lines = lines.to_vec();
    let first_hit = |lines: &[&str], from: usize| lines[from..].iter().position(|l| DISCLAIMER.is_match(l)).map(|p| from + p);
    let mut from = 0;
    let hit = loop {
        match first_hit(&lines, from) {
            Some(hit) if hit < lines.len() / 2 => {
                let mut start = hit;
                while start > 0 && !lines[start - 1].trim().is_empty() {
                    start -= 1;
                }
                let end = lines[hit..].iter().position(|l| l.trim().is_empty()).map_or(lines.len(), |e| hit + e);
                lines.drain(start..end);
                from = start;
            }
            other => break other,
        }
    };
    let Some(hit) = hit else {
        return lines;
    };
    // Back to the start of that paragraph.
    let mut start = hit;
    while start > 0 && !lines[start - 1].trim().is_empty() {
        start -= 1;
    }
    // And past rules and blank lines above it.
    while start > 0 && {
        let t = lines[start - 1].trim();
        t.is_empty() || (t.len() >= 3 && t.chars().all(|c| matches!(c, '*' | '-' | '_' | '=' | '~')))
    } {
        start -= 1;
    }
    lines.truncate(start);
    lines
}

/// Trims each line's end, collapses runs of blank lines to one, trims the whole.
pub(crate) fn tidy(text: &str) -> String {
    tidy_lines(text.split('\n'), text.len())
}

/// [`tidy`] of lines (without `\n`) as if joined by `\n`, without joining them first.
fn tidy_lines<'a>(lines: impl IntoIterator<Item = &'a str>, capacity: usize) -> String {
    let mut out = String::with_capacity(capacity);
    let mut blank = 0;
    for line in lines {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

/// A prefix of at most `max` characters, cut on a character boundary.
pub(crate) fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_in_runs_answers_as_a_character_at_a_time() {
        let by_char = |text: &str| -> String {
            let t = text.replace("\r\n", "\n").replace('\r', "\n");
            t.chars()
                .filter(|c| !matches!(c, '\u{feff}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{ad}'))
                .map(|c| if c == '\u{a0}' { ' ' } else { c })
                .collect()
        };
        for text in [
            "",
            "plain ASCII\r\nwith CRLF\rand CR\n",
            "\u{feff}Aim:\u{a0}halve falls\u{200b} by\u{ad}June\u{200c}\u{200d}",
            "Llywodraeth Cymru \u{2014} ‘quotes’ ☕\u{a0}\u{a0}end\u{feff}",
            "\u{a0}",
            "caf\u{e9}\r\n\u{200b}",
        ] {
            assert_eq!(normalise(text), by_char(text), "{text:?}");
        }
    }

    #[test]
    fn flowed_lines_join_and_stuffing_goes() {
        let t = "This is a long \nparagraph that \nflows.\n From the start\n>quoted \n>more\n-- \nJane";
        assert_eq!(unwrap_flowed(t, false), "This is a long paragraph that flows.\nFrom the start\n> quoted more\n-- \nJane");
    }

    #[test]
    fn flowed_delsp_removes_the_space() {
        assert_eq!(unwrap_flowed("abc \ndef", true), "abcdef");
        assert_eq!(unwrap_flowed("abc \ndef", false), "abc def");
    }

    #[test]
    fn quotes_and_chains_are_stripped() {
        let t = "Here is our work.\n\nOn Mon, 1 Jan 2024 at 10:00, Bob <bob@x.org>\nwrote:\n> old text\n";
        assert_eq!(clean(t), "Here is our work.");
        let t = "Top text\n\n-----Original Message-----\nFrom: x\nold";
        assert_eq!(clean(t), "Top text");
        let t = "Top\n\n________________________________\nFrom: Bob <b@x.org>\nSent: Monday\nTo: Jane\nSubject: hi\n\nold";
        assert_eq!(clean(t), "Top");
        let t = "Top\n> quoted\nmore of mine\n-- \nJane\nQI lead";
        assert_eq!(clean(t), "Top\nmore of mine");
    }

    #[test]
    fn disclaimers_and_mobile_signatures_go() {
        let t = "Our story.\n\nSent from my iPhone";
        assert_eq!(clean(t), "Our story.");
        let t = "Our story.\n\n********************\n\nThis message may contain confidential information. If you are not the intended recipient please inform the sender.";
        assert_eq!(clean(t), "Our story.");
    }

    #[test]
    fn forwards_are_found() {
        let t = "Please look.\n\n---------- Forwarded message ---------\nFrom: Ann Lee <ann@x.org>\nDate: Mon\nSubject: Falls\nTo: me\n\nOriginal words.";
        let f = split_forward(t, true).expect("forward");
        assert_eq!(f.note.trim(), "Please look.");
        assert_eq!(f.from, Some((Some("Ann Lee".into()), "ann@x.org".into())));
        assert_eq!(f.subject.as_deref(), Some("Falls"));
        assert_eq!(f.text.trim(), "Original words.");
    }
}
