pub mod adoptions;
pub mod attendance;
pub mod calendar_feeds;
pub mod case_studies;
pub mod digest;
pub mod directory;
pub mod events;
pub mod insights;
pub mod mentoring;
pub mod meta;
pub mod my_coffee;
pub mod my_mentees;
pub mod organisations;
pub mod outward;
pub mod people;
pub mod portfolio;
pub mod projects;
pub mod questions;
pub mod resources;
pub mod roles;
pub mod search;
pub mod similar;

use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qnet_app::Claims;
use qnet_app::idempotency::{Created, Creation, IdempotencyKey};

use crate::extract::{IdempotencyHeader, JsonBody};
use crate::problem::Problem;

/// The route a request matched: its method and its path, the route's template
/// with the request's parameters in it (`/case-studies/{id}/attachments` for
/// `/case-studies/01J…/attachments`). Idempotency records are keyed by it.
pub struct MatchedRoute {
    method: Method,
    path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for MatchedRoute {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Problem> {
        let template = MatchedPath::from_request_parts(parts, s).await.map_err(|_| Problem::internal())?;
        let params = RawPathParams::from_request_parts(parts, s).await.map_err(|_| Problem::internal())?;
        let mut path = template.as_str().to_string();
        for (name, value) in &params {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        Ok(MatchedRoute { method: parts.method.clone(), path })
    }
}

/// Where a created record is: below the route (`POST /events` → `/events/{id}`),
/// the route itself (a project's PDSA list), or elsewhere.
#[derive(Clone)]
pub(crate) enum Location {
    Below,
    Route,
    At(String),
    /// Below another path: `Under("/questions")` → `/questions/{id}`.
    Under(&'static str),
}

impl Location {
    fn of(&self, route: &str, id: &str) -> String {
        match self {
            Location::Below => format!("{route}/{id}"),
            Location::Route => route.to_string(),
            Location::At(path) => path.clone(),
            Location::Under(prefix) => format!("{prefix}/{id}"),
        }
    }
}

/// The answer to a creating request: 201 with the Location, or the stored
/// answer of a replay (marked as one).
pub(crate) fn answer(creation: Creation, route: &MatchedRoute, location: &Location) -> Response {
    match creation {
        Creation::Created(Created { id, view }) => respond(StatusCode::CREATED, Some(location.of(&route.path, &id)), view, false),
        Creation::Replayed(r) => respond(StatusCode::from_u16(r.status).unwrap_or(StatusCode::CREATED), r.location, r.body, true),
    }
}

fn respond(status: StatusCode, location: Option<String>, body: serde_json::Value, replayed: bool) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    if let Some(loc) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    if replayed {
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

/// The member's idempotency key for this request: the method, the matched
/// route and the body bytes identify the request; the key keeps how this
/// route answers (201 and its Location) so that a replay answers the same.
pub(crate) fn idempotency(
    claims: &Claims,
    header: IdempotencyHeader,
    route: &MatchedRoute,
    location: Location,
    body: &JsonBody,
) -> Result<Option<IdempotencyKey>, Problem> {
    let Some(key) = header.0 else { return Ok(None) };
    let path = route.path.clone();
    let envelope = Arc::new(move |id: &str| (StatusCode::CREATED.as_u16(), Some(location.of(&path, id))));
    IdempotencyKey::new(&claims.sub, &key, &[route.method.as_str().as_bytes(), route.path.as_bytes(), &body.raw], envelope)
        .map(Some)
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
    route: MatchedRoute,
    location: Location,
    body: &JsonBody,
    create: F,
) -> Result<Response, Problem>
where
    F: FnOnce(Option<IdempotencyKey>) -> Fut,
    Fut: std::future::Future<Output = qnet_app::AppResult<Creation>>,
{
    let shown = location.clone();
    let idem = idempotency(claims, key, &route, location, body)?;
    if let Some(r) = s.app.replay(idem.as_ref()).await? {
        return Ok(answer(Creation::Replayed(r), &route, &shown));
    }
    Ok(answer(create(idem).await?, &route, &shown))
}
