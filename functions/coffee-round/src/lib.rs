//! The weekly coffee round: an EventBridge Scheduler schedule invokes it on
//! Monday mornings (Europe/London). The round is the ISO week holding the
//! schedule's `now`; the first run of a week freezes its pool and pairs, later
//! runs read them back, and each pair or trio is introduced by email once
//! (`App::coffee_round`). A retried or repeated run sends nothing twice.

use qnet_app::App;
use qnet_app::coffee::CoffeeReport;
use qnet_lambda::{RunError, ScheduleInput};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

/// The Lambda handler: the event is the schedule's input, whose `now` (a
/// moment in the round's week) overrides the clock. An error fails the
/// invocation, so Lambda retries it (groups already introduced are not again).
pub async fn handle(app: &App, event: Value) -> Result<CoffeeReport, RunError> {
    let input = ScheduleInput::parse(&event)?;
    let now = input.now_or(app.clock().as_ref());
    tracing::info!(now = %now.format(&Rfc3339).unwrap_or_default(), execution = input.execution_id, "coffee round");
    // The whole run happens at the schedule's moment, its store included.
    let app = &app.at(now);
    Ok(app.coffee_round(now, false).await?)
}
