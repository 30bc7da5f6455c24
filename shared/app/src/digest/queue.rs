//! Digest jobs on the queue, what became of each, and send pacing.

use async_trait::async_trait;
use qnet_ports::JobQueue;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::Duration;

/// One member's digest for one issue, on the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestJob {
    pub issue_id: String,
    pub member_id: String,
}

/// What became of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobOutcome {
    Sent,
    NoContent,
    /// The member unsubscribed, changed cadence or left since the job was planned.
    Unsubscribed,
    Suppressed,
    AlreadySent,
    /// Will never succeed as it stands (no valid address, the mail service refused
    /// the message, an unknown issue): reported, not retried.
    Failed,
}

/// A job that should be tried again later (the queue redelivers it; after the
/// queue's limit it lands in the dead-letter queue, where it is reported).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RetryLater(pub String);

/// Spaces sends to at most `max_per_second` from this process.
pub(crate) struct Pacer {
    pub(crate) interval: Option<Duration>,
    pub(crate) next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Pacer {
    pub(crate) fn new(max_per_second: Option<f64>) -> Pacer {
        let interval = max_per_second.filter(|r| *r > 0.0).map(|r| Duration::from_secs_f64(1.0 / r));
        Pacer { interval, next: tokio::sync::Mutex::new(tokio::time::Instant::now()) }
    }

    pub(crate) async fn wait(&self) {
        let Some(interval) = self.interval else { return };
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(tokio::time::Instant::now());
            *next = at + interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// An in-process queue: the local runner's stand-in for SQS.
#[derive(Default)]
pub struct MemoryQueue {
    pub(crate) bodies: Mutex<Vec<String>>,
}

impl MemoryQueue {
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.bodies.lock().expect("lock"))
    }
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn enqueue(&self, bodies: Vec<String>) -> Result<(), qnet_ports::QueueError> {
        self.bodies.lock().expect("lock").extend(bodies);
        Ok(())
    }
}
