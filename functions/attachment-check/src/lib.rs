//! The attachment check: S3 tells us an upload landed under `uploads/`; we check
//! its size, hash and type by content and mark the attachment ready or rejected.
//! The local runner calls this same handler with the same event type after a
//! local upload.

use aws_lambda_events::event::s3::S3Event;
use qnet_app::App;
use qnet_app::uploads::CheckOutcome;

/// Handles every record of the event. A failure on one record fails the
/// invocation so that S3's retry covers it; checks already done are skipped on
/// the retry, so nothing is done twice.
pub async fn handle(app: &App, event: S3Event) -> Result<Vec<CheckOutcome>, qnet_app::AppError> {
    let mut outcomes = Vec::with_capacity(event.records.len());
    for record in event.records {
        let Some(raw) = record.s3.object.key.as_deref() else { continue };
        let key = decode_key(raw);
        let outcome = app.check_upload(&key).await?;
        match &outcome {
            CheckOutcome::Ready => tracing::info!(key = %key, outcome = "ready", "attachment checked"),
            CheckOutcome::Rejected(reason) => {
                tracing::info!(key = %key, outcome = "rejected", reason = %reason, "attachment checked")
            }
            CheckOutcome::Held(reason) => {
                tracing::info!(key = %key, outcome = "held", reason = %reason, "attachment checked")
            }
            CheckOutcome::Ignored(why) => tracing::info!(key = %key, outcome = "ignored", why, "attachment checked"),
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// S3 event keys are URL-encoded with `+` for spaces.
pub fn decode_key(raw: &str) -> String {
    let plus = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&plus).decode_utf8_lossy().into_owned()
}

/// An `ObjectCreated:Put` event for one key, as S3 sends it; the local runner
/// uses it to call [`handle`] exactly as Lambda would.
pub fn object_created_event(bucket: &str, key: &str, size: u64) -> S3Event {
    let encoded: String =
        percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC).to_string().replace("%2F", "/");
    let json = serde_json::json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "local",
            "eventTime": "1970-01-01T00:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "local"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "attachment-check",
                "bucket": {"name": bucket, "ownerIdentity": {"principalId": "local"}, "arn": format!("arn:aws:s3:::{bucket}")},
                "object": {"key": encoded, "size": size, "eTag": "", "sequencer": "0"}
            }
        }]
    });
    serde_json::from_value(json).expect("a well-formed S3 event")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_event_encoding() {
        assert_eq!(decode_key("uploads/A/B+c%2Bd"), "uploads/A/B c+d");
        let e = object_created_event("b", "uploads/01A/01B", 3);
        assert_eq!(decode_key(e.records[0].s3.object.key.as_deref().unwrap()), "uploads/01A/01B");
    }
}
