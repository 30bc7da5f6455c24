//! The digest planner: an EventBridge Scheduler schedule invokes it on Monday
//! mornings (Europe/London). It works out the issues due (last week's weekly
//! issue; last month's monthly issue during a month's first week) and puts one
//! job per member of each on the digest queue, where the digest sender takes
//! them. Planning twice is harmless: the sender claims each (member, issue) once.

use qnet_app::App;
use qnet_app::digest::{Digest, PlanReport};
use qnet_ports::JobQueue;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the event's `now` is not an RFC 3339 time: {0}")]
    BadNow(String),
    #[error(transparent)]
    App(#[from] qnet_app::AppError),
}

/// The moment to plan for: the event's `now` when it has one, else the clock.
///
/// The schedule's input sets `now` to its scheduled time, so a retried or late
/// invocation plans the issues of the moment it was meant for; an operator
/// replays a missed run by invoking the function with that run's `now`.
pub fn planning_time(app: &App, event: &Value) -> Result<OffsetDateTime, PlanError> {
    match event.get("now") {
        None | Some(Value::Null) => Ok(app.clock().now()),
        Some(Value::String(s)) => OffsetDateTime::parse(s, &Rfc3339).map_err(|e| PlanError::BadNow(format!("{s:?}: {e}"))),
        Some(other) => Err(PlanError::BadNow(other.to_string())),
    }
}

/// The Lambda handler: the event is the schedule's input, passed verbatim.
/// An error fails the invocation, so Lambda retries it.
pub async fn handle(app: &App, digest: &Digest, queue: &dyn JobQueue, event: Value) -> Result<PlanReport, PlanError> {
    let now = planning_time(app, &event)?;
    let field = |name: &str| event.get(name).and_then(Value::as_str).unwrap_or("").to_string();
    let (execution, attempt) = (field("execution_id"), field("attempt"));
    tracing::info!(now = %now.format(&Rfc3339).unwrap_or_default(), execution, attempt, "planning digests");
    // The whole run happens at the schedule's moment, its store included.
    let app = &app.at(now);
    Ok(digest.plan(app, now, queue).await?)
}
