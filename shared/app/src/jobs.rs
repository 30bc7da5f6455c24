//! Job queues besides SQS: none (a function that enqueues nothing) and the
//! in-process queue the local runner uses for board follower emails.

use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use qnet_ports::{JobQueue, QueueError};

use crate::App;
use crate::boards::BoardJob;

/// The queue of a function that enqueues nothing: every enqueue fails, so a
/// wrong use shows at once.
pub struct NoQueue;

#[async_trait]
impl JobQueue for NoQueue {
    async fn enqueue(&self, _: Vec<String>) -> Result<(), QueueError> {
        Err(QueueError::Unavailable("this function has no job queue".into()))
    }
}

/// How often the in-process queue tries a board job before giving up on it
/// (SQS's `maxReceiveCount` in AWS).
const LOCAL_ATTEMPTS: u32 = 3;

/// The local runner's board queue: each job runs on a task of this process,
/// after the request that enqueued it has answered, through the same
/// [`App::process_board_job`] as `functions/board-notifier`. A job that keeps
/// failing is logged and dropped (there is no dead-letter queue locally).
#[derive(Default)]
pub struct LocalJobs {
    app: OnceLock<App>,
    running: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl LocalJobs {
    /// Waits until every job enqueued so far has run (one-shot commands before
    /// they exit; tests before they read the outbox).
    pub async fn finish(&self) {
        loop {
            let running = std::mem::take(&mut *self.running.lock().expect("lock"));
            if running.is_empty() {
                return;
            }
            for task in running {
                let _ = task.await;
            }
        }
    }
}

#[async_trait]
impl JobQueue for LocalJobs {
    async fn enqueue(&self, bodies: Vec<String>) -> Result<(), QueueError> {
        let app = self.app.get().ok_or_else(|| QueueError::Unavailable("the local queue has no worker".into()))?.clone();
        let mut running = self.running.lock().expect("lock");
        running.retain(|t| !t.is_finished());
        for body in bodies {
            let app = app.clone();
            running.push(tokio::spawn(async move {
                let job: BoardJob = match serde_json::from_str(&body) {
                    Ok(j) => j,
                    Err(_) => {
                        tracing::error!("a board queue message is not a job");
                        return;
                    }
                };
                for attempt in 1..=LOCAL_ATTEMPTS {
                    match app.process_board_job(&job).await {
                        Ok(_) => return,
                        Err(e) if attempt < LOCAL_ATTEMPTS => {
                            tracing::warn!(project = %job.project_id, board_message = %job.message_id, error = %e, "board job will be retried");
                            tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt))).await;
                        }
                        Err(e) => {
                            tracing::error!(project = %job.project_id, board_message = %job.message_id, error = %e, "board job failed");
                        }
                    }
                }
            }));
        }
        Ok(())
    }
}

impl App {
    /// This app with its board jobs run in this process (the local runner).
    /// Answers the queue too, so a caller can wait for the jobs to finish.
    pub fn with_local_jobs(self) -> (App, Arc<LocalJobs>) {
        let jobs = Arc::new(LocalJobs::default());
        let app = self.with_board_queue(jobs.clone());
        let _ = jobs.app.set(app.clone());
        (app, jobs)
    }
}
