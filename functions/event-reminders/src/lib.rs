//! The day-before event reminders: an EventBridge Scheduler schedule invokes
//! this daily at 09:00 Europe/London. Everyone with a confirmed place on an
//! event starting on the London date after the schedule's `now` is emailed once
//! (`App::send_event_reminders`): each reminder is claimed before it is sent,
//! so a retried or repeated run sends nothing twice.

use qnet_app::App;
use qnet_app::reminders::ReminderReport;
use qnet_lambda::{ScheduleError, ScheduleInput};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, thiserror::Error)]
pub enum ReminderError {
    #[error(transparent)]
    Input(#[from] ScheduleError),
    /// Some reminders were not sent; their claims were released, so Lambda's
    /// retry of the invocation sends exactly those.
    #[error("{failed} reminder(s) for {date} failed; the retry sends them")]
    Failed { date: String, failed: usize },
    #[error(transparent)]
    App(#[from] qnet_app::AppError),
}

/// The Lambda handler: the event is the schedule's input, whose `now` (the
/// schedule's time) overrides the clock. An error fails the invocation, so
/// Lambda retries it; reminders already sent are not sent again.
pub async fn handle(app: &App, event: Value) -> Result<ReminderReport, ReminderError> {
    let input = ScheduleInput::parse(&event)?;
    let now = input.now_or(app.clock().as_ref());
    tracing::info!(now = %now.format(&Rfc3339).unwrap_or_default(), execution = input.execution_id, "event reminders");
    // The whole run happens at the schedule's moment, its store included.
    let app = &app.at(now);
    let report = app.send_event_reminders(now).await?;
    if report.failed > 0 {
        return Err(ReminderError::Failed { date: report.date, failed: report.failed });
    }
    Ok(report)
}
