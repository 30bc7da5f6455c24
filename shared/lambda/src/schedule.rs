//! The input every EventBridge Scheduler schedule in the template sends:
//! `{"now": "<aws.scheduler.scheduled-time>", "execution_id": …, "attempt": …}`.
//!
//! `now` is the scheduled time, so a retried or late invocation works for the
//! moment it was meant for, and an operator replays a missed run by invoking
//! the function with that run's `now`. Without `now` (a manual invocation with
//! `{}`) the clock decides.

use qnet_ports::Clock;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A schedule's input, read once by [`ScheduleInput::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScheduleInput {
    /// The moment the run is for: the schedule's time, when the input has one.
    pub now: Option<OffsetDateTime>,
    /// The scheduler's execution id, for the log (empty when absent).
    pub execution_id: String,
    /// The scheduler's attempt number, for the log (empty when absent).
    pub attempt: String,
}

/// The one way a schedule's input is refused: a `now` that is not a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event's `now` is not an RFC 3339 time: {0}")]
pub struct ScheduleError(String);

impl ScheduleInput {
    /// Reads the input. A missing or `null` `now` is no override; any other
    /// value must be an RFC 3339 time. Other fields are ignored.
    ///
    /// ```
    /// use qnet_lambda::ScheduleInput;
    /// let input = ScheduleInput::parse(&serde_json::json!({"now": "2026-03-09T07:00:00Z", "execution_id": "e-1"})).unwrap();
    /// assert_eq!(input.now, Some(time::macros::datetime!(2026-03-09 07:00 UTC)));
    /// assert_eq!(input.execution_id, "e-1");
    /// assert!(ScheduleInput::parse(&serde_json::json!({"now": "<aws.scheduler.scheduled-time>"})).is_err());
    /// ```
    pub fn parse(event: &Value) -> Result<ScheduleInput, ScheduleError> {
        let now = match event.get("now") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(OffsetDateTime::parse(s, &Rfc3339).map_err(|e| ScheduleError(format!("{s:?}: {e}")))?),
            Some(other) => return Err(ScheduleError(other.to_string())),
        };
        let field = |name: &str| event.get(name).and_then(Value::as_str).unwrap_or("").to_string();
        Ok(ScheduleInput { now, execution_id: field("execution_id"), attempt: field("attempt") })
    }

    /// The moment of the run: the input's `now`, else the clock's.
    pub fn now_or(&self, clock: &dyn Clock) -> OffsetDateTime {
        self.now.unwrap_or_else(|| clock.now())
    }
}

/// The error of a scheduled run that has no failures of its own: a bad input
/// or the application's error. An error fails the invocation, so Lambda
/// retries it.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Input(#[from] ScheduleError),
    #[error(transparent)]
    App(#[from] qnet_app::AppError),
}

#[cfg(test)]
mod tests {
    use qnet_ports::FixedClock;
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn now_overrides_the_clock() {
        let clock = FixedClock(datetime!(2026-01-01 00:00 UTC));
        let input =
            ScheduleInput::parse(&json!({"now": "2026-03-16T07:00:00+00:00", "execution_id": "x", "attempt": "2"})).unwrap();
        assert_eq!(input.now_or(&clock), datetime!(2026-03-16 07:00 UTC));
        assert_eq!((input.execution_id.as_str(), input.attempt.as_str()), ("x", "2"));
        // An offset is kept as given: the same instant.
        let london = ScheduleInput::parse(&json!({"now": "2026-07-06T08:00:00+01:00"})).unwrap();
        assert_eq!(london.now_or(&clock), datetime!(2026-07-06 07:00 UTC));
    }

    #[test]
    fn without_now_the_clock_decides() {
        let clock = FixedClock(datetime!(2026-01-01 00:00 UTC));
        for event in [json!({}), json!({"now": null}), json!({"execution_id": "x"})] {
            let input = ScheduleInput::parse(&event).unwrap();
            assert_eq!(input.now, None, "{event}");
            assert_eq!(input.now_or(&clock), datetime!(2026-01-01 00:00 UTC));
        }
        assert_eq!(ScheduleInput::parse(&json!({})).unwrap(), ScheduleInput::default());
    }

    #[test]
    fn a_now_that_is_no_time_is_refused_with_what_it_was() {
        let cases = [
            (json!({"now": "<aws.scheduler.scheduled-time>"}), "\"<aws.scheduler.scheduled-time>\": "),
            (json!({"now": "2026-03-16"}), "\"2026-03-16\": "),
            (json!({"now": 1773644400}), "1773644400"),
            (json!({"now": {"at": "2026-03-16T07:00:00Z"}}), "{\"at\":\"2026-03-16T07:00:00Z\"}"),
        ];
        for (event, shown) in cases {
            let message = ScheduleInput::parse(&event).unwrap_err().to_string();
            assert!(message.starts_with("the event's `now` is not an RFC 3339 time: "), "{message}");
            assert!(message.contains(shown), "{message} names {shown}");
        }
    }
}
