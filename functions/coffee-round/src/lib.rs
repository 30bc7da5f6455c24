//! The weekly coffee round: an EventBridge Scheduler schedule invokes it on
//! Monday mornings (Europe/London). The round is the ISO week holding the
//! schedule's `now`; the first run of a week freezes its pool and pairs, later
//! runs read them back, and each pair or trio is introduced by email once
//! (`App::coffee_round`). A retried or repeated run sends nothing twice.

use qnet_app::App;
use qnet_app::coffee::CoffeeReport;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    #[error("the event's `now` is not an RFC 3339 time: {0}")]
    BadNow(String),
    #[error(transparent)]
    App(#[from] qnet_app::AppError),
}

/// A moment in the round's week: the event's `now`, else the clock.
pub fn round_time(app: &App, event: &Value) -> Result<OffsetDateTime, RoundError> {
    match event.get("now") {
        None | Some(Value::Null) => Ok(app.clock().now()),
        Some(Value::String(s)) => OffsetDateTime::parse(s, &Rfc3339).map_err(|e| RoundError::BadNow(format!("{s:?}: {e}"))),
        Some(other) => Err(RoundError::BadNow(other.to_string())),
    }
}

/// The Lambda handler: the event is the schedule's input. An error fails the
/// invocation, so Lambda retries it (groups already introduced are not again).
pub async fn handle(app: &App, event: Value) -> Result<CoffeeReport, RoundError> {
    let now = round_time(app, &event)?;
    let field = |name: &str| event.get(name).and_then(Value::as_str).unwrap_or("").to_string();
    tracing::info!(now = %now.format(&Rfc3339).unwrap_or_default(), execution = field("execution_id"), "coffee round");
    // The whole run happens at the schedule's moment, its store included.
    let app = &app.at(now);
    Ok(app.coffee_round(now, false).await?)
}
