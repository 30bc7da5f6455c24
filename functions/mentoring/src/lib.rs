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
use qnet_lambda::{RunError, ScheduleInput};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

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
            .filter_map(|r| {
                let key = |k: &str| r.pointer(&format!("/dynamodb/Keys/{k}/S")).and_then(Value::as_str);
                qnet_app::keys::parse_mentoring_request(key("PK")?, key("SK")?).map(String::from)
            })
            .collect(),
    )
}

/// A new request arrived (the table's stream): propose it to its best mentor
/// now. The API normally has already (in the request path); then the request
/// is no longer open and nothing happens, so this is the safety net for a
/// proposal the API could not make (a burst of concurrent changes).
pub async fn propose_new(app: &App, public_api_url: &str, ids: &[String]) -> Result<usize, RunError> {
    let mut proposed = 0;
    for id in ids {
        if app.propose_best(id, public_api_url).await?.is_some() {
            proposed += 1;
        }
    }
    tracing::info!(requests = ids.len(), proposed, "new mentoring requests");
    Ok(proposed)
}

/// The Lambda handler: the event is the schedule's input, whose `now` (the
/// schedule's scheduled time) is the moment of the pass, else the clock; or a
/// stream event of new requests. Offer links in the emails point at
/// `public_api_url`. An error fails the invocation, so Lambda retries it.
pub async fn handle(app: &App, public_api_url: &str, event: Value) -> Result<MatchReport, RunError> {
    if let Some(ids) = new_requests(&event) {
        propose_new(app, public_api_url, &ids).await?;
        return Ok(MatchReport { assignments: vec![], unmatched: vec![] });
    }
    let input = ScheduleInput::parse(&event)?;
    let now = input.now_or(app.clock().as_ref());
    tracing::info!(now = %now.format(&Rfc3339).unwrap_or_default(), execution = input.execution_id, "mentoring pass");
    // The whole run happens at the schedule's moment, its store included.
    let app = &app.at(now);
    Ok(app.run_matching(now, false, public_api_url).await?)
}
