//! Helpers shared by the test files: series from plain values, and a small
//! XML well-formedness check (no XML crate in the workspace).

#![allow(dead_code)] // each test file uses a different part

use qnet_charts::{Analysis, AnalysisError, Chart, Direction, Options, Point, Rule, Signal, SignalKind, analyse};
use time::{Date, Duration, macros::date};

/// The date of point `i`: weekly from Monday 1 January 2024.
pub fn day(i: usize) -> Date {
    date!(2024 - 01 - 01) + Duration::weeks(i as i64)
}

pub fn series(values: &[f64]) -> Vec<Point> {
    values.iter().enumerate().map(|(i, &v)| Point::new(day(i), v)).collect()
}

pub fn options(chart: Chart, direction: Direction) -> Options {
    Options { improvement_direction: direction, ..Options::new(chart) }
}

pub fn analyse_values(values: &[f64], options: &Options) -> Result<Analysis, AnalysisError> {
    analyse(&series(values), options)
}

pub fn signal(rule: Rule, points: impl IntoIterator<Item = usize>, kind: SignalKind) -> Signal {
    Signal { rule, points: points.into_iter().collect(), kind }
}

/// `n` values alternating `first`, `second`, `first`, …
pub fn alternating(n: usize, first: f64, second: f64) -> Vec<f64> {
    (0..n).map(|i| if i % 2 == 0 { first } else { second }).collect()
}

/// The signals of one rule.
pub fn of_rule(analysis: &Analysis, rule: Rule) -> Vec<Signal> {
    analysis.signals.iter().filter(|s| s.rule == rule).cloned().collect()
}

/// Checks that `xml` is one well-formed element: tags nest and match,
/// attributes are quoted and unique, `<` never appears in text or attribute
/// values, and every `&` starts a predefined or numeric entity.
pub fn check_well_formed(xml: &str) -> Result<(), String> {
    let bytes = xml.as_bytes();
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            let end = xml[i..].find('<').map_or(xml.len(), |e| i + e);
            let text = &xml[i..end];
            check_entities(text).map_err(|e| format!("text at {i}: {e}"))?;
            if stack.is_empty() && !text.trim().is_empty() {
                return Err(format!("text outside the root element at {i}"));
            }
            i = end;
            continue;
        }
        if xml[i..].starts_with("<!--") {
            let end = xml[i..].find("-->").ok_or("unclosed comment")?;
            i += end + 3;
            continue;
        }
        if xml[i..].starts_with("</") {
            let end = xml[i..].find('>').ok_or("unclosed end tag")? + i;
            let name = xml[i + 2..end].trim_end();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("end tag </{name}> at {i} closes {other:?}")),
            }
            i = end + 1;
            continue;
        }
        // A start tag.
        let mut j = i + 1;
        let name_end = xml[j..].find(|c: char| c.is_whitespace() || c == '>' || c == '/').ok_or("unclosed tag")? + j;
        let name = &xml[j..name_end];
        if !is_name(name) {
            return Err(format!("bad element name {name:?} at {i}"));
        }
        j = name_end;
        let mut attributes: Vec<&str> = Vec::new();
        let self_closing;
        loop {
            while j < bytes.len() && (bytes[j] as char).is_whitespace() {
                j += 1;
            }
            if j >= bytes.len() {
                return Err(format!("unclosed tag <{name}>"));
            }
            if xml[j..].starts_with("/>") {
                self_closing = true;
                j += 2;
                break;
            }
            if bytes[j] == b'>' {
                self_closing = false;
                j += 1;
                break;
            }
            let eq = xml[j..].find('=').ok_or_else(|| format!("attribute without value in <{name}>"))? + j;
            let attribute = xml[j..eq].trim();
            if !is_name(attribute) {
                return Err(format!("bad attribute name {attribute:?} in <{name}>"));
            }
            if attributes.contains(&attribute) {
                return Err(format!("duplicate attribute {attribute} in <{name}>"));
            }
            attributes.push(attribute);
            let quote = *bytes.get(eq + 1).ok_or("attribute value missing")?;
            if quote != b'"' && quote != b'\'' {
                return Err(format!("unquoted attribute {attribute} in <{name}>"));
            }
            let close = xml[eq + 2..].find(quote as char).ok_or("unclosed attribute value")? + eq + 2;
            let value = &xml[eq + 2..close];
            if value.contains('<') {
                return Err(format!("'<' in attribute {attribute} of <{name}>"));
            }
            check_entities(value).map_err(|e| format!("attribute {attribute} of <{name}>: {e}"))?;
            j = close + 1;
        }
        if stack.is_empty() {
            roots += 1;
        }
        if !self_closing {
            stack.push(name);
        }
        i = j;
    }
    if let Some(open) = stack.pop() {
        return Err(format!("<{open}> is never closed"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(())
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.'))
}

fn check_entities(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        let after = &rest[at + 1..];
        let end = after.find(';').ok_or("'&' without ';'")?;
        let entity = &after[..end];
        let ok = matches!(entity, "amp" | "lt" | "gt" | "quot" | "apos")
            || entity.strip_prefix("#x").is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
            || entity.strip_prefix('#').is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            return Err(format!("unknown entity &{entity};"));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}
