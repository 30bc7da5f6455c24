//! RFC 9457 problem details: every error answer, mapped in one place.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qnet_app::AppError;
use qnet_domain::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field (or header, or query parameter) at fault, e.g. `title` or `sections.aim`.
    pub field: String,
    pub message: String,
}

/// An error answer (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem; stable, for programs.
    #[serde(rename = "type", serialize_with = "problem_type")]
    #[schema(value_type = String)]
    pub kind: &'static str,
    /// A short summary of the kind of problem, for people.
    #[schema(value_type = String)]
    pub title: &'static str,
    pub status: u16,
    /// What went wrong this time, for people.
    pub detail: String,
    /// Every bad field at once (validation problems only; otherwise empty).
    pub errors: Vec<ProblemField>,
    #[serde(skip)]
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &'static str, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem { kind, title, status: status.as_u16(), detail: detail.into(), errors: vec![], headers: vec![] }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Problem {
        self.errors = errors.into_iter().map(|e| ProblemField { field: e.field, message: e.message }).collect();
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "malformed-request", "The request could not be read", detail)
    }

    pub fn invalid(field: &str, message: &str) -> Problem {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-fields",
            "Some fields are not valid",
            format!("{field} {message}"),
        )
        .with_errors(vec![FieldError { field: field.into(), message: message.into() }])
    }

    pub fn unauthenticated(detail: &str) -> Problem {
        let mut p = Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Sign in to do this", detail);
        p.headers.push((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        p
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn method_not_allowed() -> Problem {
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            "this path does not answer that method",
        )
    }

    pub fn internal() -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side",
            "the error has been logged; try again",
        )
    }
}

/// Problem types are URI references under `/problems/`.
fn problem_type<S: serde::Serializer>(kind: &&'static str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("/problems/{kind}"))
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).expect("problems serialise");
        let mut r = (status, [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))], body).into_response();
        for (k, v) in self.headers {
            r.headers_mut().insert(k, v);
        }
        r
    }
}

/// A body the domain's parser refused answers as the use case's own
/// refusal did: 422 with the field errors.
impl From<qnet_domain::FieldErrors> for Problem {
    fn from(e: qnet_domain::FieldErrors) -> Problem {
        AppError::Invalid(e).into()
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Problem {
        match e {
            AppError::Invalid(errors) => {
                let detail = errors.to_string();
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-fields", "Some fields are not valid", detail)
                    .with_errors(errors.0)
            }
            AppError::Unauthenticated => Problem::unauthenticated("send a valid bearer token"),
            AppError::Forbidden(why) => Problem::new(StatusCode::FORBIDDEN, "forbidden", "You may not do this", why),
            AppError::NotFound(what) => Problem::not_found(format!("no such {what}, or you may not see it")),
            AppError::Conflict(why) => {
                Problem::new(StatusCode::CONFLICT, "conflict", "This conflicts with the current state", why)
            }
            AppError::VersionMismatch { current } => {
                let mut p = Problem::new(
                    StatusCode::PRECONDITION_FAILED,
                    "stale-version",
                    "The record has changed since you read it",
                    format!("re-read it (the current version is {current}) and apply your change again"),
                );
                if let Ok(v) = HeaderValue::from_str(&format!("\"{current}\"")) {
                    p.headers.push((header::ETAG, v));
                }
                p
            }
            AppError::VersionRequired => Problem::new(
                StatusCode::PRECONDITION_REQUIRED,
                "version-required",
                "Say which version you are changing",
                "send If-Match with the version from the ETag you read",
            ),
            AppError::BadCursor => Problem::new(
                StatusCode::BAD_REQUEST,
                "bad-cursor",
                "The cursor is not valid",
                "use next_cursor exactly as a list answer gave it",
            )
            .with_errors(vec![FieldError { field: "cursor".into(), message: "is not a cursor for this list".into() }]),
            AppError::IdempotencyMismatch => Problem::new(
                StatusCode::CONFLICT,
                "idempotency-key-reused",
                "The Idempotency-Key was used for a different request",
                "use a new key for a new request",
            ),
            AppError::TooLarge => Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Too large to store",
                "shorten the text or move it to an attachment",
            ),
            AppError::TooManyRequests { detail, retry_after } => {
                let mut p = Problem::new(StatusCode::TOO_MANY_REQUESTS, "too-many-requests", "Too many at once", detail);
                p.headers.push((header::RETRY_AFTER, HeaderValue::from(retry_after)));
                p
            }
            AppError::Unavailable(why) => {
                tracing::error!(error = %why, "storage failure");
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "The service is unavailable", "try again shortly")
            }
        }
    }
}

pub type ApiResult<T> = Result<T, Problem>;
