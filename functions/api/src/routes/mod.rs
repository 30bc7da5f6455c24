pub mod case_studies;
pub mod digest;
pub mod mentoring;
pub mod meta;
pub mod organisations;
pub mod people;
pub mod projects;
pub mod search;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qnet_app::Claims;
use qnet_app::idempotency::{IdempotencyKey, StoredResponse};

use crate::extract::{IdempotencyHeader, JsonBody};
use crate::problem::Problem;

/// The answer to a creating request (fresh or replayed).
pub(crate) fn created(r: StoredResponse) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::CREATED);
    let mut resp = (status, axum::Json(r.body)).into_response();
    if let Some(loc) = r.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    if r.replayed {
        resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

/// A single record with its version as the ETag.
pub(crate) fn with_etag<T: serde::Serialize>(body: T, version: u64) -> Response {
    let mut resp = axum::Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

pub(crate) fn idempotency(
    claims: &Claims,
    header: IdempotencyHeader,
    path: &str,
    body: &JsonBody,
) -> Result<Option<IdempotencyKey>, Problem> {
    header
        .0
        .map(|k| IdempotencyKey::new(&claims.sub, &k, &[b"POST", path.as_bytes(), &body.raw]))
        .transpose()
        .map_err(Problem::from)
}
