//! Attachments: files added to a case study. Uploads go straight to the blob store
//! under a presigned URL; a check then confirms size, hash and type by content.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::text::{Input, Presence};

pub const MAX_BYTES: u64 = 10 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttachmentStatus {
    /// Waiting for the upload and its check.
    Pending,
    Ready,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub status: AttachmentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
}

/// What a client declares before uploading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

const BLOCKED_EXTENSIONS: &[&str] = &[
    "exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "dll", "cpl", "jar", "js", "jse", "vbs", "vbe", "wsf", "wsh", "ps1",
    "psm1", "sh", "bash", "zsh", "py", "pl", "rb", "php", "hta", "lnk", "reg", "app", "dmg", "apk", "elf", "bin", "so", "dylib",
    "iso", "ade", "adp", "chm", "ins", "isp", "msc", "sct", "shb", "vb", "ws", "gadget", "inf", "cab",
];

const BLOCKED_TYPES: &[&str] = &[
    "application/x-msdownload",
    "application/x-ms-installer",
    "application/x-msdos-program",
    "application/x-executable",
    "application/x-elf",
    "application/x-mach-binary",
    "application/x-sh",
    "application/x-shellscript",
    "application/x-bat",
    "application/x-msi",
    "application/java-archive",
    "application/javascript",
    "text/javascript",
    "application/x-javascript",
    "application/vbscript",
    "text/vbscript",
    "application/x-python-code",
    "text/x-python",
    "application/x-perl",
    "application/x-php",
    "application/hta",
    "application/x-dosexec",
];

/// Why a file name is refused, if it is.
pub fn refused_filename(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e.trim()).unwrap_or("");
    if BLOCKED_EXTENSIONS.contains(&ext) {
        return Some(format!("files ending .{ext} are executables or scripts and are not accepted"));
    }
    None
}

/// Why a declared content type is refused, if it is.
pub fn refused_content_type(ct: &str) -> Option<String> {
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if BLOCKED_TYPES.contains(&essence.as_str()) {
        return Some(format!("{essence} is an executable or script type and is not accepted"));
    }
    None
}

/// Why these bytes are refused by their content, if they are: executables and
/// scripts are recognised by their first bytes whatever the name says.
pub fn refused_content(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(4)];
    let exe = head.starts_with(b"MZ")
        || head.starts_with(b"\x7fELF")
        || head == [0xfe, 0xed, 0xfa, 0xce]
        || head == [0xfe, 0xed, 0xfa, 0xcf]
        || head == [0xcf, 0xfa, 0xed, 0xfe]
        || head == [0xce, 0xfa, 0xed, 0xfe]
        || head == [0xca, 0xfe, 0xba, 0xbe];
    if exe {
        return Some("the file is an executable program".into());
    }
    if bytes.starts_with(b"#!") {
        return Some("the file is a script".into());
    }
    None
}

fn valid_content_type(ct: &str) -> bool {
    let essence = ct.split(';').next().unwrap_or("");
    let mut parts = essence.split('/');
    let ok = |s: Option<&str>| {
        s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b)))
    };
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none() && ct.len() <= 200 && !ct.contains(['\r', '\n'])
}

impl NewAttachment {
    pub fn parse(value: &serde_json::Value) -> Result<NewAttachment, FieldErrors> {
        let mut i = Input::new(value, &["filename", "content_type", "size", "sha256"]);
        let filename = i.text("filename", Presence::Required, 1, 255);
        if let Some(f) = &filename {
            if f.contains(['/', '\\']) || f.starts_with('.') {
                i.errors.push("filename", "must be a plain file name without folders");
            } else if let Some(r) = refused_filename(f) {
                i.errors.push("filename", r);
            }
        }
        let content_type = i.text("content_type", Presence::Required, 3, 200);
        if let Some(ct) = &content_type {
            if !valid_content_type(ct) {
                i.errors.push("content_type", "must be a media type such as application/pdf");
            } else if let Some(r) = refused_content_type(ct) {
                i.errors.push("content_type", r);
            }
        }
        let size = i.integer("size", Presence::Required, 1, MAX_BYTES);
        let sha256 = i.text("sha256", Presence::Required, 64, 64);
        if let Some(h) = &sha256
            && !h.bytes().all(|b| b.is_ascii_hexdigit())
        {
            i.errors.push("sha256", "must be 64 hexadecimal characters");
        }
        let errors = i.errors;
        match (errors.is_empty(), filename, content_type, size, sha256) {
            (true, Some(filename), Some(content_type), Some(size), Some(sha256)) => {
                Ok(NewAttachment { filename, content_type, size, sha256: sha256.to_ascii_lowercase() })
            }
            _ => Err(errors),
        }
    }
}

/// The wire shape of each request body parsed above, for the OpenAPI document
/// only: the parser reads the `serde_json::Value` (reporting every field error at
/// once) and these types describe the same contract to clients. utoipa takes only
/// literal numbers for limits, so `tests::schema_matches_parser` checks each
/// literal against the constant the parser uses.
#[cfg(feature = "openapi")]
pub mod wire {
    use serde::Deserialize;
    use utoipa::ToSchema;

    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct AttachmentInput {
        #[schema(min_length = 1, max_length = 255)]
        pub filename: String,
        /// A media type such as `application/pdf`; executables and scripts are refused.
        #[schema(min_length = 3, max_length = 200)]
        pub content_type: String,
        /// Bytes; at most 10 MB.
        #[schema(minimum = 1, maximum = 10485760)]
        pub size: u64,
        /// Lower-case hex SHA-256 of the bytes.
        #[schema(min_length = 64, max_length = 64, pattern = "^[0-9a-fA-F]{64}$")]
        pub sha256: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refuses_executables_by_name_type_and_content() {
        let sha = "a".repeat(64);
        let e = NewAttachment::parse(
            &json!({"filename": "run.EXE", "content_type": "application/x-msdownload", "size": 10, "sha256": sha}),
        )
        .unwrap_err();
        assert_eq!(e.0.len(), 2);
        assert!(
            NewAttachment::parse(
                &json!({"filename": "a.pdf", "content_type": "application/pdf", "size": MAX_BYTES + 1, "sha256": sha})
            )
            .is_err()
        );
        assert!(
            NewAttachment::parse(&json!({"filename": "a.pdf", "content_type": "application/pdf", "size": 10, "sha256": sha}))
                .is_ok()
        );
        assert!(refused_content(b"MZ\x90\x00").is_some());
        assert!(refused_content(b"#!/bin/sh\n").is_some());
        assert!(refused_content(b"%PDF-1.7").is_none());
    }
}
