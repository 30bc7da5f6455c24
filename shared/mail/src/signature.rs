//! Signatures under a sign-off, without a `-- ` line: the usual shape of NHS,
//! council and charity mail.
//!
//! ```text
//! Kind regards                       <- valediction
//! Jane                               <- a first name
//! Jane Smith MRPharmS (she/her)      <- name, post-nominals, pronouns
//! Lead Pharmacist, Medicines Safety  <- job title
//! Leeds Teaching Hospitals NHS Trust <- organisation
//! Tel: 0113 206 0000 | Bleep 4412    <- numbers
//! My working days are Monday to Thursday
//! ```
//!
//! The block is found as talon and email_reply_parser find one: each line after
//! the sign-off is scored on features of signature lines (short, no sentence,
//! telephone, extension, bleep, mobile or Teams details, the sender's own name or
//! address, job-title words, post-nominals and pronouns, organisation words,
//! working-days notes, addresses, disclaimers), and the block counts as a signature
//! when it is near the end, holds no template heading, and at most one of its lines
//! reads like prose. The sign-off may also be missing when the block starts with the
//! sender's own name. The lines then give evidence for the submitter: name, job
//! title and organisation.

use std::sync::LazyLock;

use regex::Regex;

use crate::Person;

/// A signature found at the end of a text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Signature {
    /// The line (0-based, in `\n`-separated text) where the sign-off or block starts.
    pub start: usize,
    pub name: Option<String>,
    pub job_title: Option<String>,
    pub organisation: Option<String>,
}

/// How far from the end a sign-off may be: signatures are rarely longer than this.
const MAX_BLOCK_LINES: usize = 25;

static VALEDICTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(kind(est)? regards|best regards|warm(est)? regards|regards|many thanks|thanks( again| very much)?|thank you( very much)?|best wishes|all the best|best|cheers|yours sincerely|sincerely|yours faithfully|yours|with (many )?thanks|with best wishes|take care|diolch( yn fawr)?|cofion( cynnes| gorau)?|diolch,? cofion)\b[,.!]*\s*(?P<rest>.*)$",
    )
    .expect("valid regex")
});

static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(\b(tel|telephone|phone|mob|mobile|m|t|ext|extn|extension|bleep|pager|fax|switchboard|direct line|dd|teams)\b\.?\s*(no\.?|number)?\s*[:.]?\s*[+(]?\d)|((\+44\s?\(0\)\s?|\+44\s?|\b0)\d{2,4}[\s-]?\d{3,4}[\s-]?\d{3,4}\b)",
    )
    .expect("valid regex")
});

static JOB_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(manager|lead|nurse|sister|matron|consultant|director|officer|co-?ordinator|practitioner|pharmacist|technician|therapist|physiotherapist|assistant|administrator|head of|specialist|adviser|advisor|midwife|doctor|registrar|gp|paramedic|analyst|fellow|chair|chief|deputy|senior|team leader|supervisor|worker|receptionist|secretary|volunteer|executive|associate|educator|facilitator|champion|commissioner|partner|surgeon|physician|psychologist|dietitian|counsellor|chaplain|engineer|project|programme)\b",
    )
    .expect("valid regex")
});

static POST_NOMINAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(\b(RGN|RMN|RNLD|RSCN|RN|RM|MRPharmS|FRPharmS|MBBS|MBChB|BMBS|FRCP|MRCP|FRCS|MRCS|MRCGP|FRCGP|FRCN|PhD|MSc|BSc|BA|MA|MBA|MPH|DipHE|PGCert|PGDip|FHEA|SFHEA|MCSP|HCPC|NMP|QN|CQI|OBE|MBE|CBE)\b)|(\((she|he|they)/(her|him|them|hers|his|theirs)\))|(\b(she|he|they)/(her|him|them)\b)",
    )
    .expect("valid regex")
});

static ORGANISATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(NHS|Trust|Council|ICB|Integrated Care|Hospital|Hospitals|Foundation|Practice|Surgery|Healthcare|Health|CIC|Charity|Hospice|PCN|University|Partnership|Association|Ambulance Service|Cyngor|Bwrdd Iechyd|Ymddiriedolaeth)\b",
    )
    .expect("valid regex")
});

static NOTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(working days|working hours|not in the office|not working on|i work (part[- ]time|monday|tuesday|wednesday|thursday|friday)|out of office on|office hours|days of work|rydw i'n gweithio|registered (in england|office|charity)|charity (no|number)|company (no|number)|registered number|www\.|https?://|@)",
    )
    .expect("valid regex")
});

static POSTCODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b").expect("valid regex"));

/// The signature at the end of `text`, if there is one, for a message from `sender`.
pub(crate) fn find(text: &str, sender: Option<&Person>) -> Option<Signature> {
    // Only the tail is looked at: from the start of the MAX_BLOCK_LINES-th non-empty
    // line from the end; `base` is the number of lines above it.
    let (mut seen, mut end) = (0, text.len());
    let tail = loop {
        let line_start = text[..end].rfind('\n').map_or(0, |p| p + 1);
        if !text[line_start..end].trim().is_empty() {
            seen += 1;
        }
        if seen == MAX_BLOCK_LINES || line_start == 0 {
            break line_start;
        }
        end = line_start - 1;
    };
    let base = text.as_bytes()[..tail].iter().filter(|&&b| b == b'\n').count();
    let lines: Vec<&str> = text[tail..].split('\n').collect();
    let names = name_words(sender);
    let window: Vec<usize> = (0..lines.len()).filter(|&i| !lines[i].trim().is_empty()).collect();
    // The last sign-off in the window; failing that, a line that is the sender's name.
    let by_sign_off = window.iter().rev().find_map(|&i| sign_off(lines[i]).map(|rest| (i, i + 1, rest)));
    let by_name = || window.iter().find(|&&i| base + i > 0 && is_own_name_line(lines[i], &names)).map(|&i| (i, i, String::new()));
    let sig = by_sign_off.and_then(|c| judge(&lines, c, &names)).or_else(|| by_name().and_then(|c| judge(&lines, c, &names)))?;
    Some(Signature { start: base + sig.start, ..sig })
}

/// Whether the lines from a candidate start to the end are a signature block.
fn judge(
    lines: &[&str],
    (start, first_block_line, sign_off_rest): (usize, usize, String),
    names: &[String],
) -> Option<Signature> {
    let block: Vec<&str> = lines[first_block_line..].iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect();
    if block.iter().any(|l| crate::sections::heading_of(l).is_some()) {
        return None;
    }
    let (mut prose, mut features) = (0, 0);
    for l in &block {
        if is_prose(l) {
            prose += 1;
        } else if is_feature_line(l, names) {
            features += 1;
        }
    }
    let without_sign_off = first_block_line == start;
    if prose > 1 || (without_sign_off && features < 2) || (prose == 1 && features < 3) {
        return None;
    }
    Some(evidence(start, &sign_off_rest, &block, names))
}

/// The valediction on a whole line ("Kind regards,", "Diolch") or followed by a
/// short name ("Thanks, Jo"); what follows it, if anything.
fn sign_off(line: &str) -> Option<String> {
    let t = line.trim().trim_matches(['*', '_']).trim();
    if t.chars().count() > 40 {
        return None;
    }
    let c = VALEDICTION.captures(t)?;
    let rest = c.name("rest").map_or("", |m| m.as_str()).trim();
    // Bilingual sign-offs: "Diolch / Thanks", "Cofion / Regards".
    if let Some(other) = rest.strip_prefix('/') {
        return sign_off(other);
    }
    if rest.is_empty() {
        return Some(String::new());
    }
    // "Thanks, Jo" or "Best wishes Jo Bloggs": at most three capitalised words.
    let words: Vec<&str> = rest.split_whitespace().collect();
    (words.len() <= 3 && words.iter().all(|w| w.chars().next().is_some_and(char::is_uppercase))).then(|| rest.to_string())
}

/// The sender's name words, lower-cased, from the display name or the address's local part.
fn name_words(sender: Option<&Person>) -> Vec<String> {
    let Some(p) = sender else { return Vec::new() };
    let from_name = p.name.as_deref().unwrap_or_default();
    let local = p.email.split('@').next().unwrap_or_default();
    from_name
        .split(|c: char| !c.is_alphabetic() && c != '\'' && c != '-')
        .chain(local.split(['.', '_', '-']))
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 2 && w.chars().all(char::is_alphabetic))
        .collect()
}

fn mentions_name(line: &str, names: &[String]) -> bool {
    line.split(|c: char| !c.is_alphabetic() && c != '\'' && c != '-').any(|w| names.iter().any(|n| n.eq_ignore_ascii_case(w)))
}

/// A short line that is mostly the sender's name (and maybe post-nominals).
fn is_own_name_line(line: &str, names: &[String]) -> bool {
    let t = line.trim();
    let words: Vec<&str> = t.split_whitespace().collect();
    !words.is_empty() && words.len() <= 6 && t.chars().count() <= 60 && !t.ends_with(['.', '?', ':']) && mentions_name(t, names)
}

/// A line that reads like a sentence of the message rather than a signature line.
fn is_prose(line: &str) -> bool {
    if NOTE.is_match(line) || PHONE.is_match(line) {
        return false;
    }
    let words = line.split_whitespace().count();
    line.chars().count() > 80 || (words >= 8 && line.ends_with(['.', '?', '!']))
}

/// Whether a line that is not prose scores 2 or more on the features of signature
/// lines: 1 for being short (at most 60 characters), 1 for not ending a sentence, 2
/// for each of telephone details, job-title words, post-nominals or pronouns,
/// organisation words, a working-days note or address, a postcode, and the sender's
/// name. (The regexes run only when the first two do not already make 2.)
fn is_feature_line(line: &str, names: &[String]) -> bool {
    (line.chars().count() <= 60 && !line.ends_with(['.', '?', '!']))
        || mentions_name(line, names)
        || PHONE.is_match(line)
        || JOB_WORDS.is_match(line)
        || POST_NOMINAL.is_match(line)
        || ORGANISATION.is_match(line)
        || NOTE.is_match(line)
        || POSTCODE.is_match(line)
}

/// The name, job title and organisation the block gives.
fn evidence(start: usize, sign_off_rest: &str, block: &[&str], names: &[String]) -> Signature {
    let mut sig = Signature { start, ..Signature::default() };
    let clean = |l: &str| -> String {
        let l = l.trim_matches(['|', '*', '_', ' ', ',']);
        // "Jane Smith MRPharmS (she/her)" -> "Jane Smith"; "Lead Nurse | Ward 7" keeps both.
        let cut = POST_NOMINAL.find(l).map_or(l, |m| &l[..m.start()]);
        cut.trim().trim_end_matches([',', '|', '-', '–']).trim().to_string()
    };
    let mut name_line = None;
    for (i, l) in block.iter().enumerate() {
        if NOTE.is_match(l) || PHONE.is_match(l) || is_prose(l) {
            continue;
        }
        let c = clean(l);
        if c.is_empty() {
            continue;
        }
        let words = c.split_whitespace().count();
        if sig.name.is_none() && (2..=5).contains(&words) && mentions_name(&c, names) && !ORGANISATION.is_match(&c) {
            sig.name = Some(c);
            name_line = Some(i);
            continue;
        }
        if sig.job_title.is_none()
            && name_line.is_some_and(|n| i > n)
            && JOB_WORDS.is_match(&c)
            && !ORGANISATION.is_match(&c)
            && c.chars().count() <= 100
        {
            sig.job_title = Some(c);
            continue;
        }
        if sig.organisation.is_none() && ORGANISATION.is_match(&c) && c.chars().count() <= 100 {
            // "Lead Nurse, Northfield NHS Trust": the title before the organisation.
            if sig.job_title.is_none()
                && let Some((title, org)) = c.split_once([',', '|'])
                && JOB_WORDS.is_match(title)
                && ORGANISATION.is_match(org)
            {
                sig.job_title = Some(title.trim().to_string());
                sig.organisation = Some(org.trim().to_string());
            } else {
                sig.organisation = Some(c);
            }
        }
    }
    if sig.name.is_none() && sign_off_rest.split_whitespace().count() >= 2 && mentions_name(sign_off_rest, names) {
        sig.name = Some(sign_off_rest.to_string());
    }
    sig
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jane() -> Person {
        Person { name: Some("Jane Smith".into()), email: "jane.smith12@nhs.net".into(), job_title: None }
    }

    #[test]
    fn a_block_under_a_sign_off_is_found_with_its_evidence() {
        let t = "We cut falls by a third.\n\nKind regards\nJane\n\nJane Smith MRPharmS (she/her)\nLead Pharmacist, Medicines Safety\nLeeds Teaching Hospitals NHS Trust\nTel: 0113 206 0000 | Bleep 4412\nMy working days are Monday to Thursday";
        let s = find(t, Some(&jane())).expect("signature");
        assert_eq!(s.start, 2);
        assert_eq!(s.name.as_deref(), Some("Jane Smith"));
        assert_eq!(s.job_title.as_deref(), Some("Lead Pharmacist, Medicines Safety"));
        assert_eq!(s.organisation.as_deref(), Some("Leeds Teaching Hospitals NHS Trust"));
    }

    #[test]
    fn prose_after_thanks_is_not_a_signature() {
        let t = "Thanks\nWe then ran the audit again in June and the results were much better than we had expected.\nThe team presented them at the board in July, and the approach has since spread to two other wards.";
        assert_eq!(find(t, Some(&jane())), None);
        let t = "Results\nThanks to the night staff.\n\nBest wishes\n\nLessons learned\nStart small.";
        assert_eq!(find(t, Some(&jane())), None, "a template heading after the sign-off");
    }

    #[test]
    fn welsh_sign_offs_and_a_name_without_one() {
        let t =
            "Text.\n\nDiolch\nJane Smith\nArweinydd Gwella Ansawdd / Quality Improvement Lead\nBwrdd Iechyd Prifysgol Example";
        let s = find(t, Some(&jane())).expect("signature");
        assert_eq!(s.start, 2);
        let t = "Text of the message.\n\nJane Smith\nQuality Improvement Lead\nEmail: jane.smith12@nhs.net\nMob: 07700 900123";
        let s = find(t, Some(&jane())).expect("signature");
        assert_eq!((s.start, s.job_title.as_deref()), (2, Some("Quality Improvement Lead")));
        assert_eq!(find("Jane Smith wrote this alone.", Some(&jane())), None);
    }
}
