//! Files in the message: decoded, named, screened and de-duplicated by name.

use mail_parser::{Encoding, Message, MessagePart, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use crate::{Attachment, Dropped, Limits};

/// Inline images with a Content-ID smaller than this are taken for signature logos
/// and social-media icons, which nobody means to submit.
const SIGNATURE_IMAGE_MAX: usize = 32 * 1024;

pub(crate) struct Collected {
    pub kept: Vec<Attachment>,
    pub dropped: Vec<Dropped>,
    pub warnings: Vec<String>,
}

/// A file before screening.
struct Candidate {
    name: Option<String>,
    content_type: String,
    bytes: Vec<u8>,
}

/// The files of the message, then the images that were pasted into its HTML as
/// `data:` URIs (named `pasted-image-N`), all under the same rules; small pasted
/// images are taken for signature logos, as small inline parts are.
pub(crate) fn collect(message: &Message<'_>, raw: &[u8], limits: &Limits, pasted: Vec<crate::html::DataImage>) -> Collected {
    let mut out = Collected { kept: Vec::new(), dropped: Vec::new(), warnings: Vec::new() };
    let mut candidates = Vec::new();
    for &id in &message.attachments {
        let Some(part) = message.parts.get(id as usize) else { continue };
        let content_type = content_type_of(part);
        if matches!(
            content_type.as_str(),
            "application/pgp-signature" | "application/pkcs7-signature" | "application/x-pkcs7-signature"
        ) {
            continue; // a signature over the message, not something a person attached
        }
        let name = part.attachment_name().map(clean_name).filter(|n| !n.is_empty());
        let bytes = match &part.body {
            PartType::Multipart(_) => continue,
            PartType::Message(m) => {
                if part.encoding == Encoding::None {
                    slice(raw, part.offset_body, part.offset_end).to_vec()
                } else {
                    m.raw_message.to_vec()
                }
            }
            PartType::Text(_) | PartType::Html(_) => {
                let (b, damaged) = decode_transfer(part, raw);
                if damaged {
                    out.warnings.push(format!(
                        "An attachment ({}) was damaged; kept what could be read.",
                        name.as_deref().unwrap_or("unnamed")
                    ));
                }
                b
            }
            PartType::Binary(b) | PartType::InlineBinary(b) => {
                if part.is_encoding_problem {
                    let (b, _) = decode_transfer(part, raw);
                    out.warnings.push(format!(
                        "An attachment ({}) was damaged; kept what could be read.",
                        name.as_deref().unwrap_or("unnamed")
                    ));
                    b
                } else {
                    b.to_vec()
                }
            }
        };
        let inline = part.content_disposition().is_none_or(|d| !d.is_attachment());
        if content_type.starts_with("image/") && inline && part.content_id().is_some() && bytes.len() < SIGNATURE_IMAGE_MAX {
            continue; // a signature logo
        }
        let is_tnef = content_type == "application/ms-tnef"
            || content_type == "application/vnd.ms-tnef"
            || name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case("winmail.dat"));
        if is_tnef {
            match crate::tnef::unpack(&bytes) {
                Some(files) => {
                    for f in files.into_iter().filter(|f| !f.data.is_empty()) {
                        let name = Some(clean_name(&f.name)).filter(|n| !n.is_empty());
                        let ct =
                            f.mime.map(|m| m.to_ascii_lowercase()).unwrap_or_else(|| guess_type(name.as_deref()).to_string());
                        candidates.push(Candidate { name, content_type: ct, bytes: f.data });
                    }
                }
                None => {
                    out.warnings.push("An Outlook winmail.dat could not be unpacked; it is kept as it is.".into());
                    candidates.push(Candidate { name, content_type, bytes });
                }
            }
            continue;
        }
        let name = match (&part.body, name) {
            (PartType::Message(m), None) => m.subject().map(clean_name).filter(|s| !s.is_empty()).map(|s| format!("{s}.eml")),
            (_, n) => n,
        };
        candidates.push(Candidate { name, content_type, bytes });
    }
    for (i, image) in pasted.into_iter().filter(|p| p.bytes.len() >= SIGNATURE_IMAGE_MAX).enumerate() {
        let name = format!("pasted-image-{}.{}", i + 1, extension_for(&image.content_type));
        candidates.push(Candidate { name: Some(name), content_type: image.content_type, bytes: image.bytes });
    }
    // A winmail.dat can carry thousands of tiny files; past the part limit they are
    // listed as dropped rather than kept, which also bounds the name de-duplication.
    for (i, c) in candidates.into_iter().enumerate() {
        if i >= limits.max_parts {
            let name = c.name.unwrap_or_else(|| format!("attachment-{}", i + 1));
            out.dropped
                .push(Dropped { filename: name, reason: format!("the message carries more than {} files", limits.max_parts) });
            continue;
        }
        screen(c, limits, &mut out);
    }
    out
}

/// Names, checks size and type, and keeps or drops one file.
fn screen(c: Candidate, limits: &Limits, out: &mut Collected) {
    let n = out.kept.len() + out.dropped.len() + 1;
    let name = c.name.unwrap_or_else(|| format!("attachment-{n}.{}", extension_for(&c.content_type)));
    let refused = if c.bytes.len() > limits.max_attachment {
        Some(format!("the file is larger than {} MB", limits.max_attachment / (1024 * 1024)))
    } else {
        qnet_domain::attachment::refused_filename(&name)
            .or_else(|| qnet_domain::attachment::refused_content_type(&c.content_type))
            .or_else(|| qnet_domain::attachment::refused_content(&c.bytes))
    };
    if let Some(reason) = refused {
        out.dropped.push(Dropped { filename: name, reason });
        return;
    }
    let filename = unique(&name, &out.kept);
    out.kept.push(make(filename, c.content_type, c.bytes));
}

pub(crate) fn make(filename: String, content_type: String, bytes: Vec<u8>) -> Attachment {
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Attachment { filename, content_type, size: bytes.len() as u64, sha256, bytes }
}

/// "report.pdf", then "report (2).pdf", "report (3).pdf": two files of the same name
/// must both survive, and the store keys them by name.
fn unique(name: &str, kept: &[Attachment]) -> String {
    let taken = |n: &str| kept.iter().any(|a| a.filename.eq_ignore_ascii_case(n));
    if !taken(name) {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    (2..).map(|i| format!("{stem} ({i}){ext}")).find(|n| !taken(n)).unwrap_or_else(|| name.to_string())
}

/// A file name safe to store and show: no folders, no control characters, at most 255 bytes.
pub(crate) fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    let mut out = String::new();
    for c in cleaned.chars() {
        if out.len() + c.len_utf8() > 255 {
            break;
        }
        out.push(c);
    }
    out
}

fn content_type_of(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None => match part.body {
            PartType::Message(_) => "message/rfc822".into(),
            PartType::Text(_) => "text/plain".into(),
            _ => "application/octet-stream".into(),
        },
    }
}

fn extension_for(ct: &str) -> &'static str {
    match ct {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/heic" => "heic",
        "image/svg+xml" => "svg",
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        "text/csv" => "csv",
        "text/html" => "html",
        "text/calendar" => "ics",
        "text/vcard" | "text/x-vcard" => "vcf",
        "message/rfc822" | "message/global" => "eml",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/vnd.ms-powerpoint" => "ppt",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "pptx",
        "application/vnd.oasis.opendocument.text" => "odt",
        "application/rtf" | "text/rtf" => "rtf",
        "application/zip" => "zip",
        _ => "bin",
    }
}

fn guess_type(name: Option<&str>) -> &'static str {
    let ext = name.and_then(|n| n.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ => "application/octet-stream",
    }
}

fn slice(raw: &[u8], start: u32, end: u32) -> &[u8] {
    let (s, e) = (start as usize, end as usize);
    if s <= e { raw.get(s..e).unwrap_or_default() } else { &[] }
}

/// The part's bytes with only the transfer encoding undone (no charset conversion),
/// so a text attachment's hash is that of the file the person attached. Returns
/// whether the encoding was damaged.
pub(crate) fn decode_transfer(part: &MessagePart<'_>, raw: &[u8]) -> (Vec<u8>, bool) {
    let body = slice(raw, part.offset_body, part.offset_end);
    let cte = part.content_transfer_encoding().map(|c| c.trim().to_ascii_lowercase()).unwrap_or_default();
    match cte.as_str() {
        "base64" => lenient_base64(body),
        "quoted-printable" => (quoted_printable(body), false),
        _ => (body.to_vec(), false),
    }
}

/// Base64 that skips what is not base64 instead of giving up, and says so: one bad
/// line in a photo should not lose the photo, nor a body its text.
///
/// Most encodings are clean, and the `base64` crate decodes those several
/// times faster than a byte at a time (a pasted screenshot was a tenth of the
/// ingest step's time): it is tried first on the text without its line
/// breaks, with the same rules as the lenient reader where both accept the
/// input (padding optional, trailing bits dropped). Anything it refuses (a
/// stray character, `-`/`_`, padding in the middle of concatenated encodings)
/// goes through the lenient reader, which answers the same bytes either way.
pub(crate) fn lenient_base64(input: &[u8]) -> (Vec<u8>, bool) {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const CLEAN: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let mut compact = Vec::with_capacity(input.len());
    for line in input.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let start = line.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(line.len());
        let end = line.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(start, |e| e + 1);
        compact.extend_from_slice(&line[start..end.max(start)]);
    }
    match CLEAN.decode(&compact) {
        Ok(bytes) => (bytes, false),
        Err(_) => lenient_base64_slow(input),
    }
}

/// The lenient reader, a byte at a time.
fn lenient_base64_slow(input: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut quad = [0u8; 4];
    let mut n = 0;
    let mut damaged = false;
    for &b in input {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                // Padding ends this group; another group may follow (concatenated encodings).
                flush(&quad, n, &mut out);
                n = 0;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => {
                damaged = true;
                continue;
            }
        };
        quad[n] = v;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(quad[0] << 2) | (quad[1] >> 4), (quad[1] << 4) | (quad[2] >> 2), (quad[2] << 6) | quad[3]]);
            n = 0;
        }
    }
    if n == 1 {
        damaged = true;
    }
    flush(&quad, n, &mut out);
    (out, damaged)
}

fn flush(quad: &[u8; 4], n: usize, out: &mut Vec<u8>) {
    if n >= 2 {
        out.push((quad[0] << 2) | (quad[1] >> 4));
    }
    if n >= 3 {
        out.push((quad[1] << 4) | (quad[2] >> 2));
    }
}

fn quoted_printable(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'=' {
            match (input.get(i + 1), input.get(i + 2)) {
                (Some(b'\r'), Some(b'\n')) => i += 3,
                (Some(b'\n'), _) => i += 2,
                (Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                    out.push((hex(h).unwrap_or(0) << 4) | hex(l).unwrap_or(0));
                    i += 3;
                }
                _ => {
                    out.push(b);
                    i += 1;
                }
            }
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_names_are_numbered() {
        let kept = vec![make("report.pdf".into(), "application/pdf".into(), vec![1])];
        assert_eq!(unique("report.pdf", &kept), "report (2).pdf");
        assert_eq!(unique("other.pdf", &kept), "other.pdf");
    }

    #[test]
    fn the_fast_base64_path_answers_what_the_lenient_reader_does() {
        let cases: &[&[u8]] = &[
            b"aGVsbG8=",
            b"aGVsbG8",
            b"aGVsbG8=\r\n",
            b"aGVs\r\nbG8g\r\nd29y\r\nbGQ=\r\n",
            b"  aGVs bG8=  ",
            b"aGVsbG9=",
            b"aGVsbA=",
            b"aGVs\x0cbG8=",
            b"\x0caGVsbG8=\x0c",
            b"aGVsbA==aGVsbA==",
            b"aGVsbG8-_w==",
            b"aGVs!!bG8=",
            b"a",
            b"aGVsb",
            b"",
            b"\r\n\r\n",
        ];
        for case in cases {
            assert_eq!(lenient_base64(case), lenient_base64_slow(case), "{}", String::from_utf8_lossy(case));
        }
        let long: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        use base64::Engine as _;
        let mut wrapped = Vec::new();
        for line in base64::engine::general_purpose::STANDARD.encode(&long).as_bytes().chunks(76) {
            wrapped.extend_from_slice(line);
            wrapped.extend_from_slice(b"\r\n");
        }
        assert_eq!(lenient_base64(&wrapped), (long, false));
        assert_eq!(lenient_base64(&wrapped), lenient_base64_slow(&wrapped));
    }

    #[test]
    fn base64_keeps_what_it_can() {
        assert_eq!(lenient_base64(b"aGVsbG8="), (b"hello".to_vec(), false));
        let (b, damaged) = lenient_base64(b"aGVs!!bG8=");
        assert_eq!(b, b"hello");
        assert!(damaged);
    }

    #[test]
    fn names_lose_folders() {
        assert_eq!(clean_name("C:\\Users\\jane\\report.pdf"), "report.pdf");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
    }
}
