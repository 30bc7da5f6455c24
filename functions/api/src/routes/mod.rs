pub mod attendance;
pub mod calendar_feeds;
pub mod case_studies;
pub mod digest;
pub mod directory;
pub mod events;
pub mod mentoring;
pub mod meta;
pub mod my_coffee;
pub mod my_mentees;
pub mod organisations;
pub mod people;
pub mod projects;
pub mod resources;
pub mod roles;
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

/// An HTML page answering a link in an email. Pages carrying a token are never
/// cached, and their URL is never sent on as a referrer.
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut resp = (status, axum::response::Html(body)).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut().insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    resp
}

/// A creating POST, once per Idempotency-Key: a retry gets the first answer
/// replayed, and `create` runs only for a new key (or none).
pub(crate) async fn create_once<F, Fut>(
    s: &crate::ApiState,
    claims: &Claims,
    key: IdempotencyHeader,
    path: &str,
    body: &JsonBody,
    create: F,
) -> Result<Response, Problem>
where
    F: FnOnce(Option<IdempotencyKey>) -> Fut,
    Fut: std::future::Future<Output = qnet_app::AppResult<StoredResponse>>,
{
    let idem = idempotency(claims, key, path, body)?;
    if let Some(r) = s.app.replay(idem.as_ref()).await? {
        return Ok(created(r));
    }
    Ok(created(create(idem).await?))
}
