//! What planning, sending and previewing a digest answer.

use crate::digest::{DigestJob, JobOutcome, RetryLater};
use qnet_ports::OutgoingMail;
use serde::Serialize;

/// A composed digest: the email and its parts (the HTML is also the preview).
#[derive(Debug, Clone)]
pub struct Composed {
    pub subject: String,
    pub html: String,
    pub text: String,
    pub message_id: String,
    pub mail: OutgoingMail,
}

/// The planner's answer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlanReport {
    /// The issue ids due, e.g. `weekly-2026-W10`.
    pub issues: Vec<String>,
    /// Jobs put on the queue: one per (issue, member of its cadence).
    pub due: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub no_content: usize,
    pub unsubscribed: usize,
    pub suppressed: usize,
    pub already_sent: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobFailure {
    pub issue_id: String,
    pub member_id: String,
    pub reason: String,
}

/// `qnet digest`'s answer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DigestRunReport {
    pub issues: Vec<String>,
    pub due: usize,
    pub sent: usize,
    pub skipped: Skipped,
    /// Jobs that failed: each is named in `failures` and will be tried again by
    /// the next run (retryable) or needs a person (refused, no valid address).
    pub failed: usize,
    pub failures: Vec<JobFailure>,
    pub dry_run: bool,
}

impl DigestRunReport {
    pub(crate) fn count(&mut self, job: &DigestJob, result: Result<(JobOutcome, Option<String>), RetryLater>) {
        match result {
            Ok((JobOutcome::Sent, _)) => self.sent += 1,
            Ok((JobOutcome::NoContent, _)) => self.skipped.no_content += 1,
            Ok((JobOutcome::Unsubscribed, _)) => self.skipped.unsubscribed += 1,
            Ok((JobOutcome::Suppressed, _)) => self.skipped.suppressed += 1,
            Ok((JobOutcome::AlreadySent, _)) => self.skipped.already_sent += 1,
            Ok((JobOutcome::Failed, reason)) => self.fail(job, reason.unwrap_or_else(|| "failed".into())),
            Err(RetryLater(reason)) => self.fail(job, format!("will be retried: {reason}")),
        }
    }

    pub(crate) fn fail(&mut self, job: &DigestJob, reason: String) {
        self.failed += 1;
        self.failures.push(JobFailure { issue_id: job.issue_id.clone(), member_id: job.member_id.clone(), reason });
    }
}
