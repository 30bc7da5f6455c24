//! The case-study template's headings, found in whatever form people type them:
//! alone on a line, in bold (`*Aim*`, `**Aim**`), as `Aim: text`, numbered
//! (`1. Aim`), or as the first cell of a table row (HTML converted in raw mode puts
//! each cell on its own line; Outlook's plain alternative separates cells by tabs).

use crate::Sections;

/// Heading words and the section each names. Longer phrases first, so "lessons
/// learned" wins over "lessons".
const HEADINGS: &[(&str, &str)] = &[
    ("aim", "aim"),
    ("aims", "aim"),
    ("our aim", "aim"),
    ("aim of the project", "aim"),
    ("objective", "aim"),
    ("objectives", "aim"),
    ("purpose", "aim"),
    ("goal", "aim"),
    ("goals", "aim"),
    ("background", "background"),
    ("context", "background"),
    ("the problem", "background"),
    ("problem", "background"),
    ("why we did it", "background"),
    ("what we did", "what_we_did"),
    ("what did we do", "what_we_did"),
    ("what we changed", "what_we_did"),
    ("what we have done", "what_we_did"),
    ("the change", "what_we_did"),
    ("changes made", "what_we_did"),
    ("intervention", "what_we_did"),
    ("interventions", "what_we_did"),
    ("method", "what_we_did"),
    ("methods", "what_we_did"),
    ("methodology", "what_we_did"),
    ("approach", "what_we_did"),
    ("our approach", "what_we_did"),
    ("measures", "measures"),
    ("measure", "measures"),
    ("measurement", "measures"),
    ("measurements", "measures"),
    ("how we measured", "measures"),
    ("how we measured it", "measures"),
    ("metrics", "measures"),
    ("results", "results"),
    ("result", "results"),
    ("outcomes", "results"),
    ("outcome", "results"),
    ("impact", "results"),
    ("findings", "results"),
    ("what happened", "results"),
    ("results and impact", "results"),
    ("lessons learned", "lessons_learned"),
    ("lessons learnt", "lessons_learned"),
    ("lessons", "lessons_learned"),
    ("learning", "lessons_learned"),
    ("key learning", "lessons_learned"),
    ("key learning points", "lessons_learned"),
    ("key lessons", "lessons_learned"),
    ("what we learned", "lessons_learned"),
    ("what we learnt", "lessons_learned"),
    ("learning points", "lessons_learned"),
    ("reflections", "lessons_learned"),
    ("contact", "contact"),
    ("contacts", "contact"),
    ("contact details", "contact"),
    ("contact information", "contact"),
    ("contact us", "contact"),
    ("for more information", "contact"),
    ("further information", "contact"),
    ("what we've done", "what_we_did"),
    ("what we've changed", "what_we_did"),
    ("what we've learned", "lessons_learned"),
    ("what we've learnt", "lessons_learned"),
    ("what did we learn", "lessons_learned"),
    ("what did we find", "results"),
    ("why did we do it", "background"),
    ("how did we measure it", "measures"),
    // Welsh, as the template's bilingual version gives them.
    ("nod", "aim"),
    ("nodau", "aim"),
    ("amcan", "aim"),
    ("amcanion", "aim"),
    ("cefndir", "background"),
    ("beth wnaethom", "what_we_did"),
    ("beth wnaethom ni", "what_we_did"),
    ("beth wnaethon ni", "what_we_did"),
    ("mesurau", "measures"),
    ("mesur", "measures"),
    ("canlyniadau", "results"),
    ("canlyniad", "results"),
    ("gwersi", "lessons_learned"),
    ("gwersi a ddysgwyd", "lessons_learned"),
    ("cyswllt", "contact"),
    ("manylion cyswllt", "contact"),
];

/// The section a heading line names, and any text after it on the same line.
///
/// `None` for ordinary lines: a heading must be the whole line (once decoration is
/// removed), or end in a colon, or be the first of tab-separated cells, so that a
/// sentence starting "Results were…" is never taken for a heading.
pub fn heading_of(line: &str) -> Option<(&'static str, String)> {
    let t = line.trim();
    if t.is_empty() || t.len() > 200 {
        return None;
    }
    // Tab-separated table cells: first cell names the section.
    if let Some((cell, rest)) = t.split_once('\t')
        && let Some(key) = lookup(cell)
    {
        return Some((key, rest.trim().to_string()));
    }
    // Whole line is the heading, maybe followed by a colon.
    if let Some(key) = lookup(t) {
        return Some((key, String::new()));
    }
    // "Heading: text", "*Heading:* text", "**Heading**: text".
    if let Some(colon) = t.find(':') {
        let (head, rest) = t.split_at(colon);
        let rest = rest[1..].trim_start_matches(['*', '_']).trim();
        if let Some(key) = lookup(head) {
            return Some((key, rest.to_string()));
        }
    }
    // "Heading – text", as typed where a colon would go (a dash with spaces round it).
    let (head, rest) = [" – ", " — ", " - "].iter().find_map(|d| t.split_once(d))?;
    lookup(head).map(|key| (key, rest.trim().to_string()))
}

fn lookup(candidate: &str) -> Option<&'static str> {
    const DECORATION: [char; 8] = ['*', '_', '"', '\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}', '\''];
    let mut c = candidate.trim().trim_start_matches('#').trim();
    c = c.trim_matches(DECORATION).trim();
    c = c.trim_end_matches([':', '?']).trim().trim_matches(DECORATION).trim();
    // "1. Aim", "2) Background", "A. Results", "(3) Method", "4 Results"
    let unbracketed = c.strip_prefix('(').unwrap_or(c);
    if let Some((num, rest)) = unbracketed.split_once(['.', ')', ' '])
        && !num.is_empty()
        && num.len() <= 2
        && num.chars().all(|ch| ch.is_ascii_alphanumeric())
    {
        let rest = rest.trim_start_matches(['.', ')']).trim();
        let digits = num.chars().all(|ch| ch.is_ascii_digit());
        let letter = num.len() == 1 && !unbracketed[num.len()..].starts_with(' ');
        if !rest.is_empty() && (digits || letter) {
            c = rest;
        }
    }
    if c.len() > 40 {
        return None;
    }
    let lower: String = c.to_lowercase().replace('\u{2019}', "'").split_whitespace().collect::<Vec<_>>().join(" ");
    HEADINGS.iter().find(|(h, _)| *h == lower).map(|(_, k)| *k)
}

/// Splits the body at its headings. Text before the first heading is left to the body alone.
pub(crate) fn find(body: &str) -> Sections {
    let mut sections = Sections::default();
    let mut current: Option<(&'static str, Vec<String>)> = None;
    let flush = |sections: &mut Sections, cur: Option<(&'static str, Vec<String>)>| {
        if let Some((key, lines)) = cur {
            let text = crate::text::tidy(&lines.join("\n"));
            if text.is_empty() {
                return;
            }
            let slot = slot(sections, key);
            match slot {
                Some(existing) => {
                    existing.push_str("\n\n");
                    existing.push_str(&text);
                }
                None => *slot = Some(text),
            }
        }
    };
    for line in body.split('\n') {
        if let Some((key, rest)) = heading_of(line) {
            flush(&mut sections, current.take());
            current = Some((key, if rest.is_empty() { Vec::new() } else { vec![rest] }));
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(line.to_string());
        }
    }
    flush(&mut sections, current);
    sections
}

fn slot<'a>(s: &'a mut Sections, key: &str) -> &'a mut Option<String> {
    match key {
        "aim" => &mut s.aim,
        "background" => &mut s.background,
        "what_we_did" => &mut s.what_we_did,
        "measures" => &mut s.measures,
        "results" => &mut s.results,
        "lessons_learned" => &mut s.lessons_learned,
        _ => &mut s.contact,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_in_their_forms() {
        assert_eq!(heading_of("Aim"), Some(("aim", String::new())));
        assert_eq!(heading_of("*Aim*"), Some(("aim", String::new())));
        assert_eq!(heading_of("**What we changed**"), Some(("what_we_did", String::new())));
        assert_eq!(heading_of("Results: 30% fewer falls"), Some(("results", "30% fewer falls".into())));
        assert_eq!(heading_of("**Key learning:** start small"), Some(("lessons_learned", "start small".into())));
        assert_eq!(heading_of("*Outcomes*: better"), Some(("results", "better".into())));
        assert_eq!(heading_of("3. Method"), Some(("what_we_did", String::new())));
        assert_eq!(heading_of("Contact details\tJane, jane@nhs.net"), Some(("contact", "Jane, jane@nhs.net".into())));
        assert_eq!(heading_of("## Lessons learnt"), Some(("lessons_learned", String::new())));
        assert_eq!(heading_of("Results were better than we hoped"), None);
        assert_eq!(heading_of("(2) Background"), Some(("background", String::new())));
        assert_eq!(heading_of("4 Results"), Some(("results", String::new())));
        assert_eq!(heading_of("What we\u{2019}ve learnt?"), Some(("lessons_learned", String::new())));
        assert_eq!(heading_of("\u{201c}Aim\u{201d} \u{2013} fewer falls"), Some(("aim", "fewer falls".into())));
        assert_eq!(heading_of("Canlyniadau: llai o gwympiadau"), Some(("results", "llai o gwympiadau".into())));
        assert_eq!(heading_of("Beth wnaethom ni"), Some(("what_we_did", String::new())));
        assert_eq!(heading_of("A few results - none bad"), None);
        assert_eq!(heading_of("Our aim was simple: fewer falls"), None);
    }

    #[test]
    fn sections_split_the_body() {
        let s = find("Intro line\n\nAim: fewer falls\n\nWhat we did\nHourly rounding.\nBed alarms.\n\n**Results**\n30% fewer");
        assert_eq!(s.aim.as_deref(), Some("fewer falls"));
        assert_eq!(s.what_we_did.as_deref(), Some("Hourly rounding.\nBed alarms."));
        assert_eq!(s.results.as_deref(), Some("30% fewer"));
        assert_eq!(s.background, None);
    }
}
