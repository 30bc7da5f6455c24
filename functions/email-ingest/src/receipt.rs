//! The SES receipt event, read with a type of our own.
//!
//! `aws_lambda_events`' `SimpleEmailEvent` requires `commonHeaders.from` (and other
//! fields) to be present, but SES leaves a field of `commonHeaders` out when the
//! message lacks that header; a message without From then failed to deserialise and
//! Lambda retried an event that could never succeed. Here every header field is
//! optional and every part the ingest does not need defaults when absent: the message
//! itself is then judged by the ingest step (a message with no From is a rejection
//! with a reason, not an error). Only `Records` is required, so that a file which is
//! not a receipt event at all is still refused.

use serde::{Deserialize, Serialize};

/// An SES receipt rule's Lambda event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SesEvent {
    #[serde(rename = "Records")]
    pub records: Vec<SesRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesRecord {
    #[serde(default)]
    pub event_source: Option<String>,
    #[serde(default)]
    pub event_version: Option<String>,
    #[serde(default)]
    pub ses: SesMessage,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SesMessage {
    #[serde(default)]
    pub mail: SesMail,
    #[serde(default)]
    pub receipt: SesReceipt,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesMail {
    /// SES's id of the received message: the delivery id, and the object key's tail.
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub destination: Vec<String>,
    #[serde(default)]
    pub headers_truncated: Option<bool>,
    #[serde(default)]
    pub common_headers: CommonHeaders,
}

/// The headers SES extracts; each is absent when the message lacks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommonHeaders {
    #[serde(default)]
    pub from: Option<Vec<String>>,
    #[serde(default)]
    pub to: Option<Vec<String>>,
    #[serde(default)]
    pub cc: Option<Vec<String>>,
    #[serde(default)]
    pub bcc: Option<Vec<String>>,
    #[serde(default)]
    pub sender: Option<Vec<String>>,
    #[serde(default)]
    pub reply_to: Option<Vec<String>>,
    #[serde(default)]
    pub return_path: Option<String>,
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesReceipt {
    #[serde(default)]
    pub recipients: Vec<String>,
    #[serde(default)]
    pub spam_verdict: VerdictStatus,
    #[serde(default)]
    pub virus_verdict: VerdictStatus,
    #[serde(default)]
    pub spf_verdict: VerdictStatus,
    #[serde(default)]
    pub dkim_verdict: VerdictStatus,
    #[serde(default)]
    pub dmarc_verdict: VerdictStatus,
    #[serde(default)]
    pub action: ReceiptAction,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictStatus {
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptAction {
    #[serde(default, rename = "type")]
    pub action_type: Option<String>,
    #[serde(default)]
    pub bucket_name: Option<String>,
    #[serde(default)]
    pub object_key: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_without_from_reads_and_a_non_event_does_not() {
        let e: SesEvent = serde_json::from_str(
            r#"{"Records":[{"ses":{"mail":{"messageId":"m1","commonHeaders":{"to":["a@b.org"]}},"receipt":{"spamVerdict":{"status":"PASS"}}}}]}"#,
        )
        .unwrap();
        assert_eq!(e.records[0].ses.mail.message_id.as_deref(), Some("m1"));
        assert_eq!(e.records[0].ses.mail.common_headers.from, None);
        assert_eq!(e.records[0].ses.receipt.spam_verdict.status.as_deref(), Some("PASS"));
        assert!(serde_json::from_str::<SesEvent>("{}").is_err());
        assert!(serde_json::from_str::<SesEvent>(r#"{"Records":{}}"#).is_err());
    }
}
