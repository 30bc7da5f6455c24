//! The digest sender: SQS hands it up to ten digest jobs at a time (from the
//! planner); for each it sends one member's digest for one issue through
//! [`Digest::process`], which claims the (member, issue) first, so no
//! redelivery sends a digest twice.
//!
//! Only the records that should be tried again are reported failed
//! (`ReportBatchItemFailures`): the others are deleted from the queue, so one
//! bad message never re-sends the rest. A record that keeps failing lands in the
//! dead-letter queue after the queue's `maxReceiveCount`.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use qnet_app::App;
use qnet_app::digest::{Digest, DigestJob, JobOutcome};
use qnet_ports::MailSender;

/// Why a record goes back on the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordFailure {
    /// The body is not a digest job. It will fail again on every delivery and
    /// end in the dead-letter queue, where an operator can look at it.
    NotAJob(String),
    /// The job may succeed later (throttling, an outage).
    RetryLater(String),
}

/// Reads the job a record carries. The error says where the JSON went wrong but
/// never repeats the body.
pub fn job(record: &SqsMessage) -> Result<DigestJob, RecordFailure> {
    let body = record.body.as_deref().unwrap_or("");
    serde_json::from_str(body)
        .map_err(|e| RecordFailure::NotAJob(format!("{:?} error at line {} column {}", e.classify(), e.line(), e.column())))
}

/// Sends one record's digest (or decides not to).
pub async fn handle_record(
    app: &App,
    digest: &Digest,
    mailer: &dyn MailSender,
    record: &SqsMessage,
) -> Result<(DigestJob, JobOutcome), RecordFailure> {
    let job = job(record)?;
    match digest.process(app, mailer, &job, false).await {
        Ok((outcome, _)) => Ok((job, outcome)),
        Err(e) => Err(RecordFailure::RetryLater(e.0)),
    }
}

/// The Lambda handler: every record of the batch, one after the other (the
/// digest paces its sends). Answers the records SQS should deliver again.
pub async fn handle(app: &App, digest: &Digest, mailer: &dyn MailSender, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let message_id = record.message_id.as_deref().unwrap_or("");
        let receives = record.attributes.get("ApproximateReceiveCount").map(String::as_str).unwrap_or("");
        match handle_record(app, digest, mailer, record).await {
            Ok((job, JobOutcome::Failed)) => {
                // Not retried (it cannot succeed as it stands), so it must be seen:
                // an error for the alarm. The reason may quote the mail service,
                // which can name the address, so it stays out.
                tracing::error!(message_id, issue = %job.issue_id, member = %job.member_id, "digest job failed and needs a person");
            }
            Ok((job, outcome)) => {
                tracing::info!(message_id, issue = %job.issue_id, member = %job.member_id, outcome = ?outcome, "digest job done");
            }
            Err(RecordFailure::NotAJob(why)) => {
                tracing::error!(message_id, receives, why = %why, "a digest queue message is not a job");
                response.add_failure(message_id);
            }
            Err(RecordFailure::RetryLater(why)) => {
                tracing::warn!(message_id, receives, why = %why, "digest job will be retried");
                response.add_failure(message_id);
            }
        }
    }
    response
}
