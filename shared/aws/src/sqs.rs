//! The job queue on SQS: bodies go out ten at a time (`SendMessageBatch`), and
//! only the entries a batch reports failed are sent again.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use qnet_ports::{JobQueue, QueueError};

/// SQS takes at most ten entries per `SendMessageBatch`.
const BATCH: usize = 10;
/// Sends of one batch, counting the first: entries SQS reports failed (for a
/// reason on its side) are retried until then.
const ATTEMPTS: u32 = 4;
/// The pause before the first retry; it doubles for each later one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
pub struct SqsJobQueue {
    client: Client,
    queue_url: String,
}

impl SqsJobQueue {
    pub fn new(client: Client, queue_url: String) -> SqsJobQueue {
        SqsJobQueue { client, queue_url }
    }

    /// Sends one batch; answers the entries SQS did not take.
    async fn send_batch(&self, entries: Vec<(String, String)>) -> Result<Vec<Rejected>, String> {
        let entries = entries
            .into_iter()
            .map(|(id, body)| SendMessageBatchRequestEntry::builder().id(id).message_body(body).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| DisplayErrorContext(&e).to_string())?;
        Ok(out
            .failed()
            .iter()
            .map(|f| Rejected { id: f.id().to_string(), sender_fault: f.sender_fault(), code: f.code().to_string() })
            .collect())
    }
}

#[async_trait]
impl JobQueue for SqsJobQueue {
    async fn enqueue(&self, bodies: Vec<String>) -> Result<(), QueueError> {
        enqueue_with(bodies, FIRST_BACKOFF, |entries| self.send_batch(entries)).await
    }
}

/// An entry of a batch that SQS did not take.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rejected {
    id: String,
    /// The entry itself is at fault (too large, bad characters): sending it
    /// again cannot help.
    sender_fault: bool,
    code: String,
}

/// Sends `bodies` in batches of [`BATCH`] through `send`, which answers the
/// entries (by id) that were not taken. A whole request that fails is not
/// retried here: the SDK's own retries have already run by then.
async fn enqueue_with<F, Fut>(bodies: Vec<String>, first_backoff: Duration, mut send: F) -> Result<(), QueueError>
where
    F: FnMut(Vec<(String, String)>) -> Fut,
    Fut: Future<Output = Result<Vec<Rejected>, String>>,
{
    for chunk in bodies.chunks(BATCH) {
        let mut pending: Vec<(String, String)> = chunk.iter().enumerate().map(|(i, b)| (i.to_string(), b.clone())).collect();
        let mut backoff = first_backoff;
        for attempt in 1..=ATTEMPTS {
            let rejected = send(pending.clone()).await.map_err(QueueError::Unavailable)?;
            if rejected.is_empty() {
                pending.clear();
                break;
            }
            if let Some(r) = rejected.iter().find(|r| r.sender_fault) {
                return Err(QueueError::Unavailable(format!("SQS refused a message: {}", r.code)));
            }
            pending.retain(|(id, _)| rejected.iter().any(|r| &r.id == id));
            tracing::warn!(attempt, failed = pending.len(), code = %rejected[0].code, "SQS did not take every message of a batch");
            if attempt < ATTEMPTS {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
        if !pending.is_empty() {
            return Err(QueueError::Unavailable(format!(
                "SQS did not take {} message(s) after {ATTEMPTS} attempts",
                pending.len()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn bodies(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("job-{i}")).collect()
    }

    fn rejected(id: &str, sender_fault: bool) -> Rejected {
        Rejected {
            id: id.into(),
            sender_fault,
            code: if sender_fault { "InvalidMessageContents" } else { "InternalError" }.into(),
        }
    }

    #[tokio::test]
    async fn sends_in_batches_of_ten_and_retries_only_the_failed_entries() {
        let calls: Mutex<Vec<Vec<String>>> = Mutex::new(Vec::new());
        let result = enqueue_with(bodies(25), Duration::ZERO, |entries| {
            let mut calls = calls.lock().unwrap();
            let n = calls.len();
            calls.push(entries.iter().map(|(_, b)| b.clone()).collect());
            // The first batch loses entries 3 and 7 once.
            let out = if n == 0 { vec![rejected("3", false), rejected("7", false)] } else { vec![] };
            async move { Ok(out) }
        })
        .await;
        assert!(result.is_ok());
        let calls = calls.into_inner().unwrap();
        let sizes: Vec<usize> = calls.iter().map(Vec::len).collect();
        assert_eq!(sizes, [10, 2, 10, 5]);
        assert_eq!(calls[1], ["job-3", "job-7"]);
        let mut sent: Vec<String> = calls.into_iter().flatten().collect();
        sent.sort();
        sent.dedup();
        assert_eq!(sent.len(), 25, "every body was sent");
    }

    #[tokio::test]
    async fn gives_up_after_a_few_attempts_and_at_once_on_a_sender_fault() {
        let mut calls = 0;
        let result = enqueue_with(bodies(3), Duration::ZERO, |_| {
            calls += 1;
            async { Ok(vec![rejected("1", false)]) }
        })
        .await;
        assert!(matches!(result, Err(QueueError::Unavailable(m)) if m.contains("after 4 attempts")));
        assert_eq!(calls, ATTEMPTS);

        let mut calls = 0;
        let result = enqueue_with(bodies(3), Duration::ZERO, |_| {
            calls += 1;
            async { Ok(vec![rejected("0", true)]) }
        })
        .await;
        assert!(matches!(result, Err(QueueError::Unavailable(m)) if m.contains("InvalidMessageContents")));
        assert_eq!(calls, 1);

        let result =
            enqueue_with(bodies(3), Duration::ZERO, |_| async { Err::<Vec<Rejected>, _>("no route to SQS".to_string()) }).await;
        assert!(matches!(result, Err(QueueError::Unavailable(m)) if m == "no route to SQS"));
        assert!(
            enqueue_with(vec![], Duration::ZERO, |_| async { Err::<Vec<Rejected>, _>("never called".to_string()) }).await.is_ok()
        );
    }
}
