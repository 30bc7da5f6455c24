//! The daily engagement pass: an EventBridge Scheduler schedule invokes it each
//! morning (07:30 Europe/London). Every day it asks experts about questions
//! left unanswered for three days; on Mondays it also sends the weekly nudges
//! ("Your week in Qnet") to members whose digest is not due that week
//! (`App::run_engagement`). Every email is claimed before it is sent and takes
//! the member's one weekly slot, so a retried or repeated run sends nothing twice.

use qnet_app::App;
use qnet_app::engagement::EngagementReport;
use qnet_lambda::{RunError, ScheduleInput};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

/// The Lambda handler: the event is the schedule's input, whose `now` overrides
/// the clock. An error fails the invocation, so Lambda retries it (emails
/// already sent are not sent again).
pub async fn handle(app: &App, event: Value) -> Result<EngagementReport, RunError> {
    let input = ScheduleInput::parse(&event)?;
    let now = input.now_or(app.clock().as_ref());
    tracing::info!(now = %now.format(&Rfc3339).unwrap_or_default(), execution = input.execution_id, "engagement pass");
    // The whole run happens at the schedule's moment, its store included.
    let app = &app.at(now);
    Ok(app.run_engagement(now).await?)
}
