//! SES events: the mail configuration set publishes bounces and complaints to an
//! SNS topic, which invokes this function. A hard bounce or a complaint puts the
//! address on the suppression list, which every Qnet email checks
//! ([`App::deliver`]).

use qnet_app::App;
use qnet_app::suppression::{SesEventReport, parse_ses_notifications};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum SesEventsError {
    #[error("not an SES notification: {0}")]
    Malformed(String),
    #[error(transparent)]
    App(#[from] qnet_app::AppError),
}

/// The Lambda handler. A malformed event is an error, not a silent no-op:
/// Lambda retries it and then keeps it in the function's dead-letter queue.
/// Applying a notification twice changes nothing.
pub async fn handle(app: &App, event: Value) -> Result<SesEventReport, SesEventsError> {
    let notices = parse_ses_notifications(&event).map_err(SesEventsError::Malformed)?;
    let report = app.apply_ses_notices(&notices).await?;
    tracing::info!(suppressed = report.suppressed, ignored = report.ignored, "SES notifications applied");
    Ok(report)
}
