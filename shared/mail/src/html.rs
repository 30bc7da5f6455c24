//! HTML-only mail (Outlook's Word HTML, Gmail, Outlook mobile) to plain text.
//!
//! The DOM is cleaned before conversion because the clients mark their quoted
//! chains and signatures in the markup (`gmail_quote`, `divRplyFwdMsg`, Outlook's
//! border-top separator) and that knowledge is gone once the HTML is text.
//! html2text then renders in raw mode: every table cell on its own line, no box
//! drawing, so a template typed as a table keeps "Aim" apart from its text.

use html2text::{Element, Handle};

/// Text of an HTML body. `keep_quotes` is set for forwards, whose "quoted" part is
/// the case study itself.
pub(crate) fn to_text(html: &str, keep_quotes: bool) -> Option<String> {
    if nesting(html) > MAX_NESTING {
        return Some(strip_tags(html));
    }
    let config = html2text::config::plain_no_decorate().raw_mode(true).link_footnotes(false).no_link_wrapping();
    let html = break_after_bold_headings(html);
    let dom = config.parse_html(html.as_bytes()).ok()?;
    clean(&dom.document, keep_quotes);
    let tree = config.dom_to_render_tree(&dom).ok()?;
    config.render_to_string(tree, 10_000).ok()
}

/// An image pasted into HTML as a `data:` URI (Outlook for Mac, Gmail and phones
/// paste screenshots this way): its media type and decoded bytes.
pub(crate) struct DataImage {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Takes the `data:image/…` URIs out of HTML: images are not text, so they must
/// neither count toward the text limit nor go through the HTML parser. Returns
/// `None` when there are none (the usual case, no copy made); otherwise the HTML
/// with each URI emptied and the images decoded.
pub(crate) fn take_data_images(html: &str) -> Option<(String, Vec<DataImage>)> {
    static MARK: std::sync::LazyLock<regex::bytes::Regex> =
        std::sync::LazyLock::new(|| regex::bytes::Regex::new(r"(?i-u)data:image/").expect("valid regex"));
    let b = html.as_bytes();
    let found = |from: usize| MARK.find_at(b, from).map(|m| m.start());
    let mut at = found(0)?;
    let mut out = String::with_capacity(html.len() / 2);
    let mut images = Vec::new();
    let mut copied = 0;
    loop {
        // The URI ends at a quote, a bracket or white space (entities are not used in base64).
        let end = b[at..]
            .iter()
            .position(|&c| matches!(c, b'"' | b'\'' | b')' | b'>' | b'<') || c.is_ascii_whitespace())
            .map_or(b.len(), |e| at + e);
        let uri = &html[at..end];
        if let Some((meta, data)) = uri["data:".len()..].split_once(',') {
            let mut params = meta.split(';');
            let content_type = params.next().unwrap_or_default().trim().to_ascii_lowercase();
            let bytes = if params.any(|p| p.trim().eq_ignore_ascii_case("base64")) {
                crate::attachments::lenient_base64(data.as_bytes()).0
            } else {
                data.as_bytes().to_vec()
            };
            images.push(DataImage { content_type, bytes });
        }
        out.push_str(&html[copied..at]);
        copied = end;
        match found(end) {
            Some(next) => at = next,
            None => break,
        }
    }
    out.push_str(&html[copied..]);
    Some((out, images))
}

/// Word and Outlook users make template headings bold or underlined rather than
/// following them with a colon: `<b>Aim</b> Reduce falls…` renders as one line
/// "Aim Reduce falls…", which no heading rule can tell from a sentence. A line
/// break is put after each bold or underlined run whose whole text is a heading.
fn break_after_bold_headings(html: &str) -> std::borrow::Cow<'_, str> {
    let lower = html.to_ascii_lowercase();
    let mut breaks = Vec::new();
    for (open, close) in [("<b", "</b>"), ("<strong", "</strong>"), ("<u", "</u>")] {
        let mut from = 0;
        while let Some(c) = lower[from..].find(close).map(|i| from + i) {
            from = c + close.len();
            // The nearest opening tag of the same name, within 400 bytes before the
            // close (so that many closes without opens stay linear).
            let bytes = lower.as_bytes();
            let lo = c.saturating_sub(400);
            let Some(o) = (lo..c).rev().find(|&i| {
                bytes[i..].starts_with(open.as_bytes())
                    && matches!(bytes.get(i + open.len()), Some(b'>' | b' ' | b'\t' | b'\r' | b'\n'))
            }) else {
                continue;
            };
            let Some(start) = lower[o..c].find('>').map(|g| o + g + 1) else { continue };
            if c - start > 400 {
                continue;
            }
            let text = strip_tags(&html[start..c]);
            if crate::sections::heading_of(&text).is_some_and(|(_, rest)| rest.is_empty()) && starts_block(&lower[..o]) {
                breaks.push(from);
            }
        }
    }
    if breaks.is_empty() {
        return std::borrow::Cow::Borrowed(html);
    }
    breaks.sort_unstable();
    let mut out = String::with_capacity(html.len() + breaks.len() * 4);
    let mut copied = 0;
    for b in breaks {
        out.push_str(&html[copied..b]);
        out.push_str("<br>");
        copied = b;
    }
    out.push_str(&html[copied..]);
    std::borrow::Cow::Owned(out)
}

/// Whether what comes before a tag ends with the start of a block (a paragraph,
/// cell, list item, heading or line break), inline tags and white space aside: a
/// bold word in the middle of a sentence is emphasis, not a heading.
fn starts_block(before: &str) -> bool {
    let mut rest = before;
    for _ in 0..20 {
        rest = rest.trim_end();
        if let Some(r) = rest.strip_suffix("&nbsp;") {
            rest = r;
            continue;
        }
        if !rest.ends_with('>') {
            return rest.is_empty();
        }
        let Some(lt) = rest.rfind('<') else { return false };
        let name: String = rest[lt + 1..].trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        if matches!(
            name.as_str(),
            "p" | "div"
                | "br"
                | "li"
                | "td"
                | "th"
                | "tr"
                | "body"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "table"
                | "ul"
                | "ol"
        ) {
            return true;
        }
        rest = &rest[..lt];
    }
    false
}

/// html5ever's tree building slows down with the square of the nesting (20,000
/// nested divs take seconds), so deeper markup is read by stripping tags instead.
const MAX_NESTING: usize = 1_000;

const VOID: &[&str] =
    &["br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source", "param", "embed", "track"];

/// An upper estimate of element nesting: opening tags minus closing tags, at the deepest.
fn nesting(html: &str) -> usize {
    let b = html.as_bytes();
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut i = 0;
    while let Some(off) = b.get(i..).and_then(|rest| rest.iter().position(|&c| c == b'<')) {
        i += off + 1;
        match b.get(i) {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() => {
                let end = b[i..].iter().position(|c| !c.is_ascii_alphanumeric() && *c != b':').map_or(b.len(), |e| i + e);
                let name = html.get(i..end).unwrap_or("").to_ascii_lowercase();
                let close = b[i..].iter().position(|&c| c == b'>').map_or(b.len(), |e| i + e);
                let self_closing = close > 0 && b.get(close - 1) == Some(&b'/');
                if !VOID.contains(&name.as_str()) && !self_closing {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
            }
            _ => {}
        }
    }
    deepest
}

/// Crude text for markup too deep to parse: tags dropped, block ends made line breaks.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after.find('>').map_or(after.len(), |e| e + 1);
        let tag = after[..end].to_ascii_lowercase();
        if ["</p", "<br", "</div", "</tr", "</td", "</li", "</h", "</table"].iter().any(|t| tag.starts_with(t)) {
            out.push('\n');
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

enum Mark {
    /// Remove just this element (a signature block, a style sheet).
    Remove,
    /// Remove this element and everything after it: the quoted chain starts here.
    CutRest,
}

fn mark(node: &Handle, keep_quotes: bool) -> Option<Mark> {
    let Element { name, attrs, .. } = &node.data else {
        return None;
    };
    let tag: &str = &name.local;
    if matches!(tag, "style" | "script" | "head" | "title") {
        return Some(Mark::Remove);
    }
    let attrs = attrs.borrow();
    let attr = |n: &str| attrs.iter().find(|a| &*a.name.local == n).map(|a| a.value.to_string()).unwrap_or_default();
    let class = attr("class").to_ascii_lowercase();
    let id = attr("id").to_ascii_lowercase();
    let name_attr = attr("name").to_ascii_lowercase();
    let classes: Vec<&str> = class.split_whitespace().collect();
    if classes.iter().any(|c| matches!(*c, "gmail_signature" | "moz-signature" | "x_gmail_signature"))
        || id == "signature"
        || attr("data-smartmail") == "gmail_signature"
    {
        return Some(Mark::Remove);
    }
    if keep_quotes {
        return None;
    }
    let style = attr("style").to_ascii_lowercase().replace(' ', "");
    let outlook_separator = tag == "div" && style.contains("border:none") && style.contains("border-top:solid");
    let cut = classes.iter().any(|c| matches!(*c, "gmail_quote" | "gmail_quote_container" | "moz-cite-prefix" | "yahoo_quoted"))
        || (tag == "blockquote" && attr("type").eq_ignore_ascii_case("cite"))
        || matches!(id.as_str(), "divrplyfwdmsg" | "x_divrplyfwdmsg" | "appendonsend" | "stopspelling")
        || name_attr == "messagereplysection"
        || outlook_separator;
    cut.then_some(Mark::CutRest)
}

/// Walks the DOM in document order without recursion (mail HTML can nest deeply)
/// and applies the first cut and every removal.
fn clean(root: &Handle, keep_quotes: bool) {
    let mut stack = vec![root.clone()];
    while let Some(node) = stack.pop() {
        match mark(&node, keep_quotes) {
            Some(Mark::Remove) => {
                detach(&node, false);
                continue;
            }
            Some(Mark::CutRest) => {
                detach(&node, true);
                // Everything after this node in document order is gone; what is left on
                // the stack was after it, so stop.
                return;
            }
            None => {}
        }
        let children = node.children.borrow();
        for child in children.iter().rev() {
            stack.push(child.clone());
        }
    }
}

/// Removes `node` from its parent; with `rest`, also every later sibling of it and of
/// each of its ancestors.
fn detach(node: &Handle, rest: bool) {
    let mut current = node.clone();
    let mut first = true;
    while let Some(parent) = current.get_parent() {
        {
            let mut children = parent.children.borrow_mut();
            if let Some(i) = children.iter().position(|c| std::rc::Rc::ptr_eq(c, &current)) {
                if rest {
                    children.truncate(if first { i } else { i + 1 });
                } else {
                    children.remove(i);
                }
            }
        }
        if !rest {
            return;
        }
        first = false;
        current = parent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_images_are_taken_out() {
        assert!(take_data_images("<p>No images</p>").is_none());
        let (html, images) =
            take_data_images("<p>A</p><img src=\"data:image/png;base64,iVBORw0K\"><img src='DATA:image/gif;base64,R0lGOD'>")
                .unwrap();
        assert_eq!(html, "<p>A</p><img src=\"\"><img src=''>");
        assert_eq!(images.len(), 2);
        assert_eq!(images[0].content_type, "image/png");
        assert_eq!(images[0].bytes[..4], *b"\x89PNG");
        assert_eq!(images[1].content_type, "image/gif");
    }

    #[test]
    fn bold_and_underlined_headings_get_their_own_line() {
        let t = to_text(
            "<p class=MsoNormal><b><span style='color:#1F4E79'>Aim<o:p></o:p></span></b> Reduce falls.</p><p><u>What we did</u> Rounding. <b>Results</b> were good.</p>",
            false,
        )
        .unwrap();
        let lines: Vec<&str> = t.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        assert_eq!(lines, ["Aim", "Reduce falls.", "What we did", "Rounding. Results were good."]);
        assert!(matches!(break_after_bold_headings("<b>Note</b> this"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn table_cells_stay_apart_without_boxes() {
        let t = to_text(
            "<table><tr><td><b>Aim</b></td><td>Fewer falls</td></tr><tr><td>Results</td><td>30% fewer</td></tr></table>",
            false,
        )
        .unwrap();
        let lines: Vec<&str> = t.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        assert_eq!(lines, ["Aim", "Fewer falls", "Results", "30% fewer"]);
    }

    #[test]
    fn quoted_chain_and_signature_are_cut() {
        let t = to_text(
            r#"<div>Mine</div><div class="gmail_signature">Sig</div><div class="gmail_quote">On Mon wrote:<blockquote>old</blockquote></div>"#,
            false,
        )
        .unwrap();
        assert_eq!(t.trim(), "Mine");
        let t = to_text(r#"<p>Mine</p><!--[if gte mso 9]><xml>junk</xml><![endif]--><div style="border:none;border-top:solid #E1E1E1 1.0pt"><p>From: x</p></div><p>old</p>"#, false).unwrap();
        assert_eq!(t.trim(), "Mine");
    }
}
