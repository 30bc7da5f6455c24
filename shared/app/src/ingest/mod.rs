//! Inbound mail: one raw message in (from SES via S3, `qnet ingest`, or SMTP on
//! loopback), and a report of what became of it. `router.rs` decides what the
//! message is and hands it on (unsubscribe, no-reply, board reply, case study);
//! `case_study.rs` is the case-study ingest. This file holds the types both
//! share: the delivery, the options and the report.

mod case_study;
mod router;

use qnet_domain::attachment::Attachment;
use qnet_domain::case_study::Hold;
use qnet_mail::{Analysis, Outcome, Verdicts};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One delivery of one message.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// Unique per delivery: the SES message id, or locally the SHA-256 of the bytes.
    pub delivery_id: String,
    pub raw: Vec<u8>,
    pub verdicts: Verdicts,
}

impl Inbound {
    /// A local delivery: its id is the hash of its bytes, so the same file or
    /// SMTP message twice is the same delivery.
    pub fn local(raw: Vec<u8>, verdicts: Verdicts) -> Inbound {
        Inbound { delivery_id: hex::encode(Sha256::digest(&raw)), raw, verdicts }
    }
}

/// Settings of the ingest step.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Write nothing and send nothing.
    pub dry_run: bool,
    /// The address acknowledgements come from (the case study address).
    pub mail_from: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmitterView {
    pub name: Option<String>,
    pub email: String,
    /// From the signature block under the sign-off, when it names one.
    #[serde(default)]
    pub job_title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestedAttachment {
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

impl From<&Attachment> for IngestedAttachment {
    fn from(a: &Attachment) -> Self {
        IngestedAttachment {
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestedCaseStudy {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub sections: qnet_domain::case_study::Sections,
    /// The organisation's name, when it was recognised.
    pub organisation: Option<String>,
    pub submitted_by: SubmitterView,
    pub attachments: Vec<IngestedAttachment>,
    pub sender_verified: bool,
    pub hold: Option<Hold>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedView {
    pub filename: String,
    pub reason: String,
}

/// What became of one message (printed by `qnet ingest`, logged by the Lambda).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestReport {
    pub outcome: String,
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub updates: Option<String>,
    pub case_study: Option<IngestedCaseStudy>,
    pub dropped_attachments: Vec<DroppedView>,
}

impl IngestReport {
    fn without_record(a: &Analysis, outcome: Outcome, reason: Option<&str>, detail: Option<String>) -> IngestReport {
        IngestReport {
            outcome: outcome.as_str().into(),
            reason: reason.map(String::from),
            detail,
            updates: None,
            case_study: None,
            dropped_attachments: dropped(a),
        }
    }
}

fn dropped(a: &Analysis) -> Vec<DroppedView> {
    a.dropped_attachments.iter().map(|d| DroppedView { filename: d.filename.clone(), reason: d.reason.clone() }).collect()
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_deliveries_are_identified_by_their_bytes() {
        let a = Inbound::local(b"x".to_vec(), Verdicts::default());
        let b = Inbound::local(b"x".to_vec(), Verdicts::default());
        assert_eq!(a.delivery_id, b.delivery_id);
        assert_ne!(a.delivery_id, Inbound::local(b"y".to_vec(), Verdicts::default()).delivery_id);
    }
}
