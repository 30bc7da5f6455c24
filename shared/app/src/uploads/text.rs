//! The text inside an uploaded file, found from what its bytes are rather than
//! the type its uploader declared, so that the patient data guard can read it.
//!
//! Read: text-like bytes (UTF-8 or UTF-16 with few control characters, CSV
//! included), the XML parts of DOCX, XLSX and PPTX, and the text of PDFs. Not
//! read: images, audio, video and other binary formats. Every reader is bounded
//! (see the constants) so that a hostile file cannot exhaust memory or time.

use std::io::{Cursor, Read};

/// A zip with more entries than this is not read.
pub const MAX_ZIP_ENTRIES: usize = 2_000;
/// One zip entry may expand to at most this many bytes.
pub const MAX_ZIP_ENTRY_BYTES: u64 = 20 * 1024 * 1024;
/// All entries of one zip together may expand to at most this many bytes.
pub const MAX_ZIP_TOTAL_BYTES: u64 = 100 * 1024 * 1024;
/// An entry may expand to at most this many times its compressed size.
pub const MAX_ZIP_RATIO: u64 = 100;
/// A PDF with more pages than this is not read (and is held for a moderator).
pub const MAX_PDF_PAGES: usize = 200;
/// Each PDF stream (and each page's content) may expand to at most this many bytes.
pub const MAX_PDF_STREAM_BYTES: usize = 20 * 1024 * 1024;
/// All of one PDF's page contents together may expand to at most this many bytes.
pub const MAX_PDF_TOTAL_BYTES: usize = 100 * 1024 * 1024;
/// Reading one PDF may take at most this long (the caller enforces it).
pub const PDF_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// What could be read of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadText {
    /// The text found, for the guard.
    Text(String),
    /// A kind the check does not read (images, audio, other binaries).
    NotRead,
    /// A PDF that could not be read within the bounds: a moderator must look.
    Unreadable(String),
    /// A file refused outright: a zip that expands beyond the bounds.
    Refused(String),
}

/// The text of `bytes`, by what they are. `declared` is only a fallback for text
/// in a legacy single-byte encoding declared as `text/*`, which is read lossily.
/// CPU-bound and, for PDFs, possibly slow: run it off the async runtime.
pub fn extract(declared: &str, bytes: &[u8]) -> UploadText {
    if bytes.starts_with(b"%PDF-") || infer::get(bytes).is_some_and(|k| k.mime_type() == "application/pdf") {
        return pdf_text(bytes);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return office_text(bytes);
    }
    if infer::get(bytes).is_some_and(|k| k.matcher_type() != infer::MatcherType::Text) {
        return UploadText::NotRead;
    }
    if let Some(text) = text_like(bytes) {
        return UploadText::Text(text);
    }
    let essence = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence.starts_with("text/") || essence == "application/csv" {
        return UploadText::Text(String::from_utf8_lossy(bytes).into_owned());
    }
    UploadText::NotRead
}

/// The bytes as text when they are valid UTF-8 or UTF-16 with few control
/// characters (at most one in a hundred, besides tab, line breaks and form feed).
fn text_like(bytes: &[u8]) -> Option<String> {
    let few_controls = |text: &String| {
        let total = text.chars().count().max(1);
        let controls = text.chars().filter(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c')).count();
        controls * 100 <= total
    };
    if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf") {
        return std::str::from_utf8(rest).ok().map(str::to_string).filter(few_controls);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        return utf16(rest, u16::from_le_bytes).filter(few_controls);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        return utf16(rest, u16::from_be_bytes).filter(few_controls);
    }
    // UTF-16 without a byte order mark is also valid UTF-8 when it is ASCII
    // (with a zero in every other byte), so each reading must pass the test.
    std::str::from_utf8(bytes).ok().map(str::to_string).filter(few_controls).or_else(|| {
        let half = bytes.len() / 2;
        let zeros_at = |parity: usize| bytes.iter().skip(parity).step_by(2).filter(|b| **b == 0).count();
        let word: fn([u8; 2]) -> u16 = if zeros_at(1) * 10 >= half * 9 {
            u16::from_le_bytes
        } else if zeros_at(0) * 10 >= half * 9 {
            u16::from_be_bytes
        } else {
            return None;
        };
        utf16(bytes, word).filter(few_controls)
    })
}

fn utf16(bytes: &[u8], word: fn([u8; 2]) -> u16) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let words: Vec<u16> = bytes.chunks_exact(2).map(|c| word([c[0], c[1]])).collect();
    String::from_utf16(&words).ok()
}

/// Whether a zip entry holds text people wrote in an Office document.
fn office_part(name: &str) -> bool {
    let xml_in = |dir: &str| name.strip_prefix(dir).is_some_and(|f| !f.contains('/') && f.ends_with(".xml"));
    xml_in("word/")
        || name == "xl/sharedStrings.xml"
        || xml_in("xl/worksheets/")
        || name.starts_with("xl/comments") && name.ends_with(".xml")
        || xml_in("ppt/slides/")
        || xml_in("ppt/notesSlides/")
}

/// The text of the Office parts of a zip, after checking every entry against
/// the bounds (a zip bomb is refused before anything is inflated).
fn office_text(bytes: &[u8]) -> UploadText {
    let refuse = |why: String| UploadText::Refused(format!("the file is a compressed archive that {why}; it was not read"));
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else { return UploadText::NotRead };
    if archive.len() > MAX_ZIP_ENTRIES {
        return refuse(format!("holds {} entries (at most {MAX_ZIP_ENTRIES} are read)", archive.len()));
    }
    let mut declared_total = 0u64;
    let mut wanted = Vec::new();
    for i in 0..archive.len() {
        let Ok(entry) = archive.by_index_raw(i) else { return UploadText::NotRead };
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        if size > MAX_ZIP_ENTRY_BYTES {
            return refuse(format!("has an entry that expands to {size} bytes (at most {MAX_ZIP_ENTRY_BYTES})"));
        }
        if size / packed > MAX_ZIP_RATIO {
            return refuse(format!("has an entry that expands {}:1 (at most {MAX_ZIP_RATIO}:1)", size / packed));
        }
        declared_total += size;
        if declared_total > MAX_ZIP_TOTAL_BYTES {
            return refuse(format!("expands to more than {MAX_ZIP_TOTAL_BYTES} bytes"));
        }
        if entry.name().is_ok_and(|n| office_part(&n)) {
            wanted.push((i, packed));
        }
    }
    let mut text = String::new();
    for (i, packed) in wanted {
        let Ok(entry) = archive.by_index(i) else { return UploadText::NotRead };
        // The sizes in the archive may lie: never inflate past what they allowed.
        let limit = MAX_ZIP_ENTRY_BYTES.min(packed.saturating_mul(MAX_ZIP_RATIO));
        let mut xml = Vec::new();
        if entry.take(limit + 1).read_to_end(&mut xml).is_err() {
            return UploadText::NotRead;
        }
        if xml.len() as u64 > limit {
            return refuse("expands beyond the size it declares".into());
        }
        text.push_str(&xml_text(&String::from_utf8_lossy(&xml)));
        text.push('\n');
    }
    UploadText::Text(text)
}

/// The text of an Office XML part: tags removed, entities decoded. Runs within a
/// paragraph are joined (Word splits one sentence into many runs), and
/// paragraphs, table and sheet cells, line breaks and tabs become separators, so
/// that neighbouring cells never join into one number.
pub fn xml_text(xml: &str) -> String {
    const SEPARATORS: &[&str] = &["p", "br", "cr", "tab", "tc", "tr", "c", "si", "row", "is", "comment", "txBody"];
    let mut out = String::with_capacity(xml.len() / 4);
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..open]));
        let Some(close) = rest[open..].find('>') else { break };
        let tag = &rest[open + 1..open + close];
        let name = tag.trim_start_matches('/').split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("");
        let local = name.rsplit(':').next().unwrap_or(name);
        let ends = tag.starts_with('/') || tag.ends_with('/');
        if ends && SEPARATORS.contains(&local) {
            out.push(if matches!(local, "tab" | "c" | "tc") { '\t' } else { '\n' });
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(&decode_entities(rest));
    out
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let Some(semi) = after.find(';').filter(|n| *n <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let entity = &after[..semi];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of a PDF's pages, bounded in pages and in decompressed bytes.
fn pdf_text(bytes: &[u8]) -> UploadText {
    let unreadable = |why: &str| {
        UploadText::Unreadable(format!(
            "the PDF could not be checked for patient data ({why}); a moderator must check it before it is published"
        ))
    };
    let options = lopdf::LoadOptions::with_max_decompressed_size(MAX_PDF_STREAM_BYTES);
    let doc = match lopdf::Document::load_mem_with_options(bytes, options) {
        Ok(doc) => doc,
        Err(_) => return unreadable("it could not be parsed"),
    };
    if doc.is_encrypted() {
        return unreadable("it is encrypted");
    }
    let pages = doc.get_pages();
    if pages.len() > MAX_PDF_PAGES {
        return unreadable(&format!("it has {} pages; at most {MAX_PDF_PAGES} are read", pages.len()));
    }
    let mut text = String::new();
    let mut budget = MAX_PDF_TOTAL_BYTES;
    for (number, page_id) in pages {
        let size = match doc.get_page_content_with_limit(page_id, MAX_PDF_STREAM_BYTES.min(budget)) {
            Ok(content) => content.len(),
            Err(_) => return unreadable("its pages expand beyond the size that is read"),
        };
        budget = budget.saturating_sub(size);
        match doc.extract_text_with_limit(&[number], MAX_PDF_STREAM_BYTES) {
            Ok(t) => {
                text.push_str(&t);
                text.push('\n');
            }
            Err(_) => return unreadable(&format!("the text of page {number} could not be read")),
        }
    }
    UploadText::Text(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_runs_join_within_a_paragraph_and_cells_stay_apart() {
        let docx = r#"<w:body><w:p><w:r><w:t>NHS 943 </w:t></w:r><w:r><w:t xml:space="preserve">476 5919</w:t></w:r></w:p><w:p><w:r><w:t>next &amp; last</w:t></w:r></w:p></w:body>"#;
        assert_eq!(xml_text(docx), "NHS 943 476 5919\nnext & last\n");
        let sheet = r#"<row r="1"><c r="A1"><v>943</v></c><c r="B1"><v>4765919</v></c></row>"#;
        assert_eq!(xml_text(sheet), "943\t4765919\t\n");
    }

    #[test]
    fn text_is_recognised_by_its_bytes() {
        assert!(matches!(extract("application/octet-stream", b"a,b\n1,2\n"), UploadText::Text(_)));
        let utf16: Vec<u8> = "a,b\n".encode_utf16().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(extract("application/octet-stream", &utf16), UploadText::Text("a,b\n".into()));
        assert_eq!(extract("application/octet-stream", &[0x89, b'P', b'N', b'G', 0, 1, 2, 3]), UploadText::NotRead);
        assert_eq!(extract("application/octet-stream", &[0u8, 1, 2, 3, 4, 5, 6, 7, 200]), UploadText::NotRead);
    }
}
