//! The digest planner: an EventBridge Scheduler schedule invokes it on Monday
//! mornings (Europe/London). It works out the issues due (last week's weekly
//! issue; last month's monthly issue during a month's first week) and puts one
//! job per member of each on the digest queue, where the digest sender takes
//! them. Planning twice is harmless: the sender claims each (member, issue) once.

use qnet_app::App;
use qnet_app::digest::{Digest, PlanReport};
use qnet_lambda::{RunError, ScheduleInput};
use qnet_ports::JobQueue;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

/// The Lambda handler: the event is the schedule's input, passed verbatim. Its
/// `now` (the scheduled time) is the moment to plan for, else the clock; an
/// operator replays a missed run by invoking the function with that run's
/// `now`. An error fails the invocation, so Lambda retries it.
pub async fn handle(app: &App, digest: &Digest, queue: &dyn JobQueue, event: Value) -> Result<PlanReport, RunError> {
    let input = ScheduleInput::parse(&event)?;
    let now = input.now_or(app.clock().as_ref());
    let (execution, attempt) = (input.execution_id, input.attempt);
    tracing::info!(now = %now.format(&Rfc3339).unwrap_or_default(), execution, attempt, "planning digests");
    // The whole run happens at the schedule's moment, its store included.
    let app = &app.at(now);
    Ok(digest.plan(app, now, queue).await?)
}
