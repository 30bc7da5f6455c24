//! Personal calendar feeds: a member makes (or replaces) and revokes their
//! feed URL under `/me/calendar-feed`; calendar apps read it from
//! `/calendar-feeds/{token}` with no login (the opaque token is the
//! credential). A bad or revoked token answers 404 problem+json: the client is
//! a calendar app, not a person, so there is no HTML page. The request log
//! records the route template, never the path, so tokens never reach the logs.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qnet_app::calendar_feeds::{CalendarFeedLink, CalendarFeedStatus};

use crate::ApiState;
use crate::auth::Auth;
use crate::problem::ApiResult;

/// Whether the caller has a calendar feed. The URL itself is shown only when
/// the feed is made.
#[utoipa::path(get, path = "/me/calendar-feed", tag = "calendar feeds", security(("bearer" = [])),
    responses((status = 200, description = "Whether a feed exists", body = CalendarFeedStatus)))]
pub async fn status(State(s): State<ApiState>, Auth(c): Auth) -> ApiResult<axum::Json<CalendarFeedStatus>> {
    Ok(axum::Json(s.app.calendar_feed_status(&c).await?))
}

/// Makes the caller's calendar feed and answers its URL, this once. An
/// existing feed is replaced: its URL stops working. A retry leaves exactly
/// one working URL (the last one answered), so no Idempotency-Key is needed;
/// the URL is never stored, so it cannot be replayed either.
#[utoipa::path(post, path = "/me/calendar-feed", tag = "calendar feeds", security(("bearer" = [])),
    responses((status = 201, description = "The new feed's URL (any earlier one is revoked)", body = CalendarFeedLink,
               headers(("Location" = String, description = "/me/calendar-feed")))))]
pub async fn create(State(s): State<ApiState>, Auth(c): Auth) -> ApiResult<Response> {
    let link = s.app.create_calendar_feed(&c, &s.app.api_base_url).await?;
    let mut resp = (StatusCode::CREATED, axum::Json(link)).into_response();
    resp.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/me/calendar-feed"));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// Revokes the caller's calendar feed (if any): its URL stops working.
#[utoipa::path(delete, path = "/me/calendar-feed", tag = "calendar feeds", security(("bearer" = [])),
    responses((status = 204, description = "Revoked (or there was none)")))]
pub async fn revoke(State(s): State<ApiState>, Auth(c): Auth) -> ApiResult<StatusCode> {
    s.app.revoke_calendar_feed(&c).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A member's calendar feed (RFC 5545, `METHOD:PUBLISH`) for calendar apps to
/// subscribe to: the events they have a confirmed place on, upcoming and from
/// the last 30 days, cancelled ones as `STATUS:CANCELLED`. No login: the token
/// is the credential.
#[utoipa::path(get, path = "/calendar-feeds/{token}", tag = "calendar feeds",
    params(("token" = String, Path, description = "The token from the feed's URL")),
    responses((status = 200, description = "RFC 5545 iCalendar", content_type = "text/calendar", body = String,
               headers(("Cache-Control" = String, description = "private, max-age=300")))))]
pub async fn feed(State(s): State<ApiState>, Path(token): Path<String>) -> ApiResult<Response> {
    let ics = s.app.calendar_feed(&token).await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300")),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        ],
        ics,
    )
        .into_response())
}
