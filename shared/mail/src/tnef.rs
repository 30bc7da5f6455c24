//! Outlook's `winmail.dat` (TNEF, MS-OXTNEF): just enough to take out the files it carries.
//!
//! Read in Rust rather than through the `ytnef` binding the stack notes list:
//! libytnef is C with a history of memory-safety bugs on crafted input, prints its
//! parse errors with `printf` to stdout (which would corrupt `qnet ingest`'s JSON
//! answer), and its Rust wrapper does not expose an attachment's MAPI properties,
//! where the long file name lives. The `ytnef` crate is kept as a dev-dependency
//! and a test checks that both read the same files from the same bytes.

const SIGNATURE: u32 = 0x223E_9F78;
const ATT_ATTACH_RENDDATA: u32 = 0x0006_9002;
const ATT_ATTACH_TITLE: u32 = 0x0001_8010;
const ATT_ATTACH_DATA: u32 = 0x0006_800F;
const ATT_ATTACHMENT: u32 = 0x0006_9005;
const LVL_ATTACHMENT: u8 = 2;

const PR_ATTACH_LONG_FILENAME: u16 = 0x3707;
const PR_DISPLAY_NAME: u16 = 0x3001;
const PR_ATTACH_MIME_TAG: u16 = 0x370E;

/// One file carried in a TNEF stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TnefFile {
    /// Long name when the MAPI properties give one, else the 8.3 title; may be empty.
    pub name: String,
    pub mime: Option<String>,
    pub data: Vec<u8>,
}

#[derive(Default)]
struct Pending {
    title: Option<String>,
    long_name: Option<String>,
    display_name: Option<String>,
    mime: Option<String>,
    data: Option<Vec<u8>>,
}

impl Pending {
    fn finish(self) -> Option<TnefFile> {
        let data = self.data?;
        let name = self.long_name.or(self.title).or(self.display_name).unwrap_or_default();
        Some(TnefFile { name, mime: self.mime, data })
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// The files in a TNEF stream; `None` when the bytes are not TNEF at all. A stream
/// cut short yields the files read before the damage.
pub(crate) fn unpack(data: &[u8]) -> Option<Vec<TnefFile>> {
    let mut r = Reader { data, pos: 0 };
    if r.u32()? != SIGNATURE {
        return None;
    }
    r.u16()?; // legacy key
    let mut files = Vec::new();
    let mut current: Option<Pending> = None;
    while let (Some(level), Some(id), Some(len)) = (r.u8(), r.u32(), r.u32()) {
        let Some(value) = r.take(len as usize) else { break };
        if r.u16().is_none() {
            // Checksum missing: the stream ends here; keep what the attribute gave.
        }
        if level != LVL_ATTACHMENT {
            continue;
        }
        match id {
            ATT_ATTACH_RENDDATA => {
                if let Some(f) = current.take().and_then(Pending::finish) {
                    files.push(f);
                }
                current = Some(Pending::default());
            }
            ATT_ATTACH_TITLE => current.get_or_insert_with(Pending::default).title = Some(c_string(value)),
            ATT_ATTACH_DATA => current.get_or_insert_with(Pending::default).data = Some(value.to_vec()),
            ATT_ATTACHMENT => {
                let p = current.get_or_insert_with(Pending::default);
                for (prop, text) in string_props(value) {
                    match prop {
                        PR_ATTACH_LONG_FILENAME => p.long_name = Some(text),
                        PR_DISPLAY_NAME => p.display_name = Some(text),
                        PR_ATTACH_MIME_TAG => p.mime = Some(text),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(f) = current.and_then(Pending::finish) {
        files.push(f);
    }
    Some(files)
}

/// A NUL-terminated 8-bit string in the sender's code page (Windows-1252 in practice).
fn c_string(b: &[u8]) -> String {
    let b = b.split(|&c| c == 0).next().unwrap_or(b);
    crate::headers::decode_lossy(b).trim().to_string()
}

/// The single-valued string properties (PT_STRING8, PT_UNICODE) of a MAPI property
/// block. Stops quietly at a type it does not know, since nothing after it can be
/// located safely.
fn string_props(block: &[u8]) -> Vec<(u16, String)> {
    let mut out = Vec::new();
    let mut r = Reader { data: block, pos: 0 };
    let Some(count) = r.u32() else { return out };
    for _ in 0..count.min(10_000) {
        let (Some(ptype), Some(pid)) = (r.u16(), r.u16()) else { break };
        if pid >= 0x8000 {
            // Named property: GUID, kind, then an id or a name.
            if r.take(16).is_none() {
                break;
            }
            match r.u32() {
                Some(0) => {
                    if r.u32().is_none() {
                        break;
                    }
                }
                Some(1) => {
                    let Some(n) = r.u32() else { break };
                    if r.take(padded(n as usize)).is_none() {
                        break;
                    }
                }
                _ => break,
            }
        }
        let multi = ptype & 0x1000 != 0;
        let base = ptype & 0x0FFF;
        let fixed = match base {
            0x0002 | 0x0003 | 0x0004 | 0x000A | 0x000B | 0x0001 => Some(4),
            0x0005 | 0x0006 | 0x0007 | 0x0014 | 0x0040 => Some(8),
            0x0048 => Some(16),
            0x001E | 0x001F | 0x0102 | 0x000D => None,
            _ => break,
        };
        let values = if multi || fixed.is_none() {
            match r.u32() {
                Some(n) => n.min(100_000),
                None => break,
            }
        } else {
            1
        };
        let mut ok = true;
        for _ in 0..values {
            match fixed {
                Some(n) => ok &= r.take(n).is_some(),
                None => {
                    let Some(len) = r.u32() else {
                        ok = false;
                        break;
                    };
                    let Some(v) = r.take(len as usize) else {
                        ok = false;
                        break;
                    };
                    r.take(padded(len as usize) - len as usize);
                    if !multi {
                        match base {
                            0x001E => out.push((pid, c_string(v))),
                            0x001F => out.push((pid, utf16(v))),
                            _ => {}
                        }
                    }
                }
            }
            if !ok {
                break;
            }
        }
        if !ok {
            break;
        }
    }
    out
}

fn padded(n: usize) -> usize {
    n.saturating_add(3) & !3
}

fn utf16(b: &[u8]) -> String {
    let units: Vec<u16> = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|&u| u != 0).collect();
    String::from_utf16_lossy(&units).trim().to_string()
}

/// Builds a TNEF stream, for tests and for writing fixtures.
#[doc(hidden)]
pub mod build {
    /// One attribute: level, id, value, with its checksum.
    pub fn attribute(out: &mut Vec<u8>, level: u8, id: u32, value: &[u8]) {
        out.push(level);
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        out.extend_from_slice(value);
        let sum = value.iter().fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
        out.extend_from_slice(&sum.to_le_bytes());
    }

    /// A stream with the given files: (8.3 title, long name, bytes).
    pub fn stream(files: &[(&str, &str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&super::SIGNATURE.to_le_bytes());
        out.extend_from_slice(&0x0001u16.to_le_bytes());
        attribute(&mut out, 1, 0x0008_9006, &0x0001_0000u32.to_le_bytes()); // attTnefVersion
        attribute(&mut out, 1, 0x0007_8008, b"IPM.Microsoft Mail.Note\0"); // attMessageClass
        for (title, long, data) in files {
            attribute(&mut out, 2, super::ATT_ATTACH_RENDDATA, &[1, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
            let mut t = title.as_bytes().to_vec();
            t.push(0);
            attribute(&mut out, 2, super::ATT_ATTACH_TITLE, &t);
            attribute(&mut out, 2, super::ATT_ATTACH_DATA, data);
            let mut props = Vec::new();
            props.extend_from_slice(&1u32.to_le_bytes());
            props.extend_from_slice(&0x001Fu16.to_le_bytes());
            props.extend_from_slice(&super::PR_ATTACH_LONG_FILENAME.to_le_bytes());
            props.extend_from_slice(&1u32.to_le_bytes());
            let mut name: Vec<u8> = long.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect();
            props.extend_from_slice(&(name.len() as u32).to_le_bytes());
            while !name.len().is_multiple_of(4) {
                name.push(0);
            }
            props.extend_from_slice(&name);
            attribute(&mut out, 2, super::ATT_ATTACHMENT, &props);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_with_long_names() {
        let s =
            build::stream(&[("REPORT~1.PDF", "Falls audit report.pdf", b"%PDF-1.4 x"), ("DATA.CSV", "data.csv", b"a,b\n1,2\n")]);
        let files = unpack(&s).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].name, "Falls audit report.pdf");
        assert_eq!(files[0].data, b"%PDF-1.4 x");
        assert_eq!(files[1].name, "data.csv");
    }

    #[test]
    fn damaged_streams_keep_what_was_read() {
        let s = build::stream(&[("A.TXT", "a.txt", b"hello"), ("B.TXT", "b.txt", b"world")]);
        for cut in 0..s.len() {
            let _ = unpack(&s[..cut]);
        }
        assert!(unpack(b"not tnef").is_none());
    }

    #[test]
    fn agrees_with_libytnef() {
        let mut s =
            build::stream(&[("REPORT~1.PDF", "Falls audit report.pdf", b"%PDF-1.4 x"), ("DATA.CSV", "data.csv", b"a,b\n1,2\n")]);
        let mine: Vec<Vec<u8>> = unpack(&s).unwrap().into_iter().map(|f| f.data).collect();
        let theirs = ytnef::TNEFFile::from_buffer(&mut s).expect("libytnef reads it");
        let theirs: Vec<Vec<u8>> = theirs.attachments().iter().filter_map(|a| a.file_data()).collect();
        assert_eq!(mine, theirs);
    }
}
