//! The board notifier: SQS hands it up to ten board jobs at a time (one per
//! post or reply, enqueued by the API and the email ingest); for each it
//! emails the message's followers through [`App::process_board_job`], which
//! claims each (message, follower) before sending, so no redelivery sends an
//! email twice.
//!
//! Only the records that should be tried again are reported failed
//! (`ReportBatchItemFailures`); a record that keeps failing lands in the
//! dead-letter queue after the queue's `maxReceiveCount`.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use qnet_app::App;
use qnet_app::boards::BoardJob;

/// Why a record goes back on the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordFailure {
    /// The body is not a board job: it fails on every delivery and ends in the
    /// dead-letter queue, where an operator can look at it.
    NotAJob(String),
    /// The job may succeed later (throttling, an outage).
    RetryLater(String),
}

/// Reads the job a record carries; the error never repeats the body.
pub fn job(record: &SqsMessage) -> Result<BoardJob, RecordFailure> {
    let body = record.body.as_deref().unwrap_or("");
    serde_json::from_str(body)
        .map_err(|e| RecordFailure::NotAJob(format!("{:?} error at line {} column {}", e.classify(), e.line(), e.column())))
}

/// Emails one record's followers; answers how many emails went.
pub async fn handle_record(app: &App, record: &SqsMessage) -> Result<(BoardJob, usize), RecordFailure> {
    let job = job(record)?;
    match app.process_board_job(&job).await {
        Ok(sent) => Ok((job, sent)),
        // The reason names the kind of failure, never the mail service's text.
        Err(qnet_app::AppError::Unavailable(why)) => Err(RecordFailure::RetryLater(why)),
        Err(e) => Err(RecordFailure::RetryLater(e.to_string())),
    }
}

/// The Lambda handler: every record of the batch, one after the other.
/// Answers the records SQS should deliver again.
pub async fn handle(app: &App, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let message_id = record.message_id.as_deref().unwrap_or("");
        let receives = record.attributes.get("ApproximateReceiveCount").map(String::as_str).unwrap_or("");
        match handle_record(app, record).await {
            Ok((job, sent)) => {
                tracing::info!(message_id, project = %job.project_id, board_message = %job.message_id, sent, "board job done");
            }
            Err(RecordFailure::NotAJob(why)) => {
                tracing::error!(message_id, receives, why = %why, "a board queue message is not a job");
                response.add_failure(message_id);
            }
            Err(RecordFailure::RetryLater(why)) => {
                tracing::warn!(message_id, receives, why = %why, "board job will be retried");
                response.add_failure(message_id);
            }
        }
    }
    response
}
