//! The scheduled mentoring pass: an EventBridge Scheduler schedule invokes it
//! every morning. It expires lapsed offers (the request goes back to open,
//! without that mentor) and assigns every open request at once to maximise the
//! total score under mentors' free places (`App::run_matching`, which calls
//! `qnet_matching::assign`), then emails each proposed mentor. Live proposals are
//! never moved.
//!
//! New requests do not wait for this: the API proposes a request to its best
//! candidate in the request path (and the next one when an offer is declined), so
//! the pass only picks up what is left: requests nobody suited when they arrived,
//! lapsed offers, and offer emails that failed to send. Running it twice is
//! harmless: proposals are conditional writes and each offer email is claimed once.

use qnet_app::App;
use qnet_app::mentoring::MatchReport;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, thiserror::Error)]
pub enum PassError {
    #[error("the event's `now` is not an RFC 3339 time: {0}")]
    BadNow(String),
    #[error(transparent)]
    App(#[from] qnet_app::AppError),
}

/// The moment of the pass: the event's `now` (the schedule's scheduled time)
/// when it has one, else the clock.
pub fn pass_time(app: &App, event: &Value) -> Result<OffsetDateTime, PassError> {
    match event.get("now") {
        None | Some(Value::Null) => Ok(app.clock().now()),
        Some(Value::String(s)) => OffsetDateTime::parse(s, &Rfc3339).map_err(|e| PassError::BadNow(format!("{s:?}: {e}"))),
        Some(other) => Err(PassError::BadNow(other.to_string())),
    }
}

/// The request ids of new mentoring requests in a DynamoDB stream event (keys
/// only), in order; `None` when the event is not a stream event.
pub fn new_requests(event: &Value) -> Option<Vec<String>> {
    let records = event.get("Records")?.as_array()?;
    if !records.iter().all(|r| r.get("eventSource").and_then(Value::as_str) == Some("aws:dynamodb")) {
        return None;
    }
    Some(
        records
            .iter()
            .filter(|r| r.get("eventName").and_then(Value::as_str) == Some("INSERT"))
            .filter(|r| r.pointer("/dynamodb/Keys/SK/S").and_then(Value::as_str) == Some("MREQ"))
            .filter_map(|r| r.pointer("/dynamodb/Keys/PK/S").and_then(Value::as_str)?.strip_prefix("MREQ#").map(String::from))
            .collect(),
    )
}

/// A new request arrived (the table's stream): propose it to its best mentor
/// now. The API normally has already (in the request path); then the request
/// is no longer open and nothing happens, so this is the safety net for a
/// proposal the API could not make (a burst of concurrent changes).
pub async fn propose_new(app: &App, public_api_url: &str, ids: &[String]) -> Result<usize, PassError> {
    let mut proposed = 0;
    for id in ids {
        if app.propose_best(id, public_api_url).await?.is_some() {
            proposed += 1;
        }
    }
    tracing::info!(requests = ids.len(), proposed, "new mentoring requests");
    Ok(proposed)
}

/// The Lambda handler: the event is the schedule's input. Offer links in the
/// emails point at `public_api_url`. An error fails the invocation, so Lambda
/// retries it.
pub async fn handle(app: &App, public_api_url: &str, event: Value) -> Result<MatchReport, PassError> {
    if let Some(ids) = new_requests(&event) {
        propose_new(app, public_api_url, &ids).await?;
        return Ok(MatchReport { assignments: vec![], unmatched: vec![] });
    }
    let now = pass_time(app, &event)?;
    let field = |name: &str| event.get(name).and_then(Value::as_str).unwrap_or("").to_string();
    tracing::info!(now = %now.format(&Rfc3339).unwrap_or_default(), execution = field("execution_id"), "mentoring pass");
    // The whole run happens at the schedule's moment, its store included.
    let app = &app.at(now);
    Ok(app.run_matching(now, false, public_api_url).await?)
}
