//! The email ingest function: an SES receipt rule has stored the raw message in
//! S3 and invokes us with the receipt event; we read the bytes and hand them,
//! with SES's verdicts, to the application's ingest step. The local runner
//! (`qnet ingest`, SMTP on loopback) calls the same [`ingest_delivery`], with
//! the delivery made by [`local_delivery`] from the bytes it was given.

use qnet_app::App;
use qnet_app::ingest::{Inbound, IngestOptions, IngestReport};
use qnet_mail::{Verdict, Verdicts};
use qnet_ports::MailSender;

mod receipt;
pub use receipt::{CommonHeaders, ReceiptAction, SesEvent, SesMail, SesMessage, SesReceipt, SesRecord, VerdictStatus};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the SES event has no message id")]
    NoMessageId,
    #[error("the SES event has no records")]
    NoRecords,
    #[error("the raw message {0} could not be read: {1}")]
    Unreadable(String, String),
    #[error(transparent)]
    App(#[from] qnet_app::AppError),
}

/// Where SES stored the raw message: the receipt action's `objectKey` when
/// present (an S3 action), else the configured prefix plus the message id (a
/// Lambda action after an S3 action). The action type is not relied on.
pub fn raw_key(record: &SesRecord, prefix: &str) -> Result<String, IngestError> {
    if let Some(key) = record.ses.receipt.action.object_key.as_deref().filter(|k| !k.is_empty()) {
        return Ok(key.to_string());
    }
    let id = record.ses.mail.message_id.as_deref().filter(|k| !k.is_empty()).ok_or(IngestError::NoMessageId)?;
    Ok(format!("{prefix}{id}"))
}

/// SES's verdicts for one message.
pub fn verdicts(record: &SesRecord) -> Verdicts {
    let r = &record.ses.receipt;
    let v = |s: &Option<String>| s.as_deref().map(Verdict::parse).unwrap_or(Verdict::Gray);
    Verdicts {
        spam: v(&r.spam_verdict.status),
        virus: v(&r.virus_verdict.status),
        spf: v(&r.spf_verdict.status),
        dkim: v(&r.dkim_verdict.status),
        dmarc: v(&r.dmarc_verdict.status),
    }
}

/// The delivery of `raw` as SES received it: the SES message id is the
/// delivery id, so a retried event creates and sends nothing new.
pub fn delivery(record: &SesRecord, raw: Vec<u8>) -> Result<Inbound, IngestError> {
    let delivery_id = record.ses.mail.message_id.clone().ok_or(IngestError::NoMessageId)?;
    Ok(Inbound { delivery_id, raw, verdicts: verdicts(record) })
}

/// A delivery on the local runner (`qnet ingest`, SMTP on loopback): with an
/// SES receipt event, its first record gives the delivery id and verdicts, as
/// in Lambda; without one the id is the hash of the bytes (the same file twice
/// is the same delivery) and every verdict counts as PASS.
pub fn local_delivery(raw: Vec<u8>, event: Option<&SesEvent>) -> Result<Inbound, IngestError> {
    match event {
        Some(event) => delivery(event.records.first().ok_or(IngestError::NoRecords)?, raw),
        None => Ok(Inbound::local(raw, Verdicts::default())),
    }
}

/// The ingest step every path shares: Lambda's [`handle_record`] and the
/// local runner.
pub async fn ingest_delivery(
    app: &App,
    mailer: &dyn MailSender,
    inbound: &Inbound,
    opts: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    Ok(app.ingest(inbound, opts, mailer).await?)
}

/// Processes one record: reads the raw message and ingests it.
pub async fn handle_record(
    app: &App,
    mailer: &dyn MailSender,
    record: &SesRecord,
    raw_prefix: &str,
    opts: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    let key = raw_key(record, raw_prefix)?;
    // No message id, no delivery: refused before the bytes are read.
    record.ses.mail.message_id.as_ref().ok_or(IngestError::NoMessageId)?;
    let raw = app.blobs.get(&key).await.map_err(|e| IngestError::Unreadable(key.clone(), e.to_string()))?;
    ingest_delivery(app, mailer, &delivery(record, raw)?, opts).await
}

/// The Lambda handler: every record of the event. An error fails the invocation
/// so that Lambda retries it; completed records are not redone on the retry.
pub async fn handle(
    app: &App,
    mailer: &dyn MailSender,
    event: SesEvent,
    raw_prefix: &str,
    opts: &IngestOptions,
) -> Result<Vec<IngestReport>, IngestError> {
    let mut out = Vec::with_capacity(event.records.len());
    for record in &event.records {
        let report = handle_record(app, mailer, record, raw_prefix, opts).await?;
        tracing::info!(
            outcome = %report.outcome,
            reason = report.reason.as_deref().unwrap_or(""),
            case_study = report.case_study.as_ref().map(|c| c.id.as_str()).unwrap_or(""),
            updates = report.updates.as_deref().unwrap_or(""),
            "email ingested"
        );
        out.push(report);
    }
    Ok(out)
}
