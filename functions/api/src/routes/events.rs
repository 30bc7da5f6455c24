//! Events and training: the public calendar, organisers' changes, bookings
//! with a waitlist, and go-and-see visit requests with the host's emailed
//! links. Reading events needs no login; booking does.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qnet_app::events::{BookingList, BookingView, EventList, EventListRequest, EventView, MyBookingList, VisitLinkStatus};
use qnet_app::mail::{Page, page};
use qnet_domain::event::wire::{EventInput, EventPatchInput};

use super::{Location, MatchedRoute, create_once, html, with_etag};
use crate::ApiState;
use crate::auth::{Auth, MaybeAuth};
use crate::extract::{IdempotencyHeader, IfMatch, JsonBody, Query, WholePageQuery, query};
use crate::problem::ApiResult;
use serde::Deserialize;
use utoipa::IntoParams;

/// The filters and page of `GET /events`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventListQuery {
    /// Only this topic (an id from GET /topics)
    #[serde(default, deserialize_with = "query::text")]
    pub topic: Option<String>,
    /// training, workshop, focus_group, meeting or go_and_see
    #[serde(default, deserialize_with = "query::text")]
    pub kind: Option<String>,
    /// Only events this organisation hosts
    #[serde(default, deserialize_with = "query::text")]
    pub organisation: Option<String>,
    /// Page size (default 20)
    #[serde(default, deserialize_with = "query::limit")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// next_cursor from the previous page
    #[serde(default, deserialize_with = "query::text")]
    pub cursor: Option<String>,
}

/// Upcoming and in-progress events, soonest first. Cancelled and finished
/// events are not listed.
#[utoipa::path(get, path = "/events", tag = "events",
    params(EventListQuery),
    responses((status = 200, description = "A page of events", body = EventList)))]
pub async fn list(State(s): State<ApiState>, Query(q): Query<EventListQuery>) -> ApiResult<axum::Json<EventList>> {
    let req = EventListRequest {
        topic: q.topic,
        kind: q.kind,
        organisation: q.organisation,
        limit: q.limit.unwrap_or(qnet_app::case_studies::DEFAULT_PAGE),
        cursor: q.cursor,
    };
    Ok(axum::Json(s.app.list_events(&req).await?))
}

/// Creates an event: organisers and moderators.
#[utoipa::path(post, path = "/events", tag = "events", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    request_body = EventInput,
    responses((status = 201, description = "Created", body = EventView,
               headers(("Location" = String, description = "The new event")))))]
pub async fn create(
    State(s): State<ApiState>,
    Auth(c): Auth,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    create_once(&s, &c, key, route, Location::Below, &body, async |idem| s.app.create_event(&c, &body.value, idem.as_ref()).await)
        .await
}

/// One event, with the places left. `online_url` (the join link) is shown
/// only to the organiser, moderators and members with a confirmed place.
#[utoipa::path(get, path = "/events/{id}", tag = "events", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Event id")),
    responses((status = 200, description = "The event", body = EventView,
               headers(("ETag" = String, description = "The version, for If-Match")))))]
pub async fn get(State(s): State<ApiState>, MaybeAuth(c): MaybeAuth, Path(id): Path<String>) -> ApiResult<Response> {
    let v = s.app.get_event(c.as_deref(), &id).await?;
    let version = v.version;
    Ok(with_etag(v, version))
}

/// Changes an event: its organiser (creator) and moderators.
#[utoipa::path(patch, path = "/events/{id}", tag = "events", security(("bearer" = [])),
    params(("id" = String, Path, description = "Event id"),
           ("If-Match" = String, Header, description = "The version you read (ETag); required")),
    request_body = EventPatchInput,
    responses((status = 200, description = "Updated", body = EventView)))]
pub async fn update(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    body: JsonBody,
) -> ApiResult<Response> {
    let view = s.app.update_event(&c, &id, &body.value, v).await?;
    let version = view.version;
    Ok(with_etag(view, version))
}

/// Cancels an event: its organiser and moderators. Everyone booked is told
/// once, however often this is retried.
#[utoipa::path(post, path = "/events/{id}/cancel", tag = "events", security(("bearer" = [])),
    params(("id" = String, Path, description = "Event id")),
    responses((status = 200, description = "Cancelled", body = EventView)))]
pub async fn cancel(State(s): State<ApiState>, Auth(c): Auth, Path(id): Path<String>) -> ApiResult<axum::Json<EventView>> {
    Ok(axum::Json(s.app.cancel_event(&c, &id).await?))
}

/// The event as iCalendar (`METHOD:PUBLISH`), to add to a calendar; without
/// the join link, which confirmed attendees get in their invitation.
#[utoipa::path(get, path = "/events/{id}/calendar.ics", tag = "events",
    params(("id" = String, Path, description = "Event id")),
    responses((status = 200, description = "RFC 5545 iCalendar", content_type = "text/calendar", body = String)))]
pub async fn calendar(State(s): State<ApiState>, Path(id): Path<String>) -> ApiResult<Response> {
    let ics = s.app.event_calendar(&id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"event.ics\"")),
        ],
        ics,
    )
        .into_response())
}

/// Books a place: `confirmed` while places remain, else `waitlisted`; a
/// go-and-see visit is `requested` until the host answers. Booking again
/// answers the existing booking (200) and changes nothing.
#[utoipa::path(post, path = "/events/{id}/bookings", tag = "bookings", security(("bearer" = [])),
    params(("id" = String, Path, description = "Event id")),
    responses((status = 201, description = "Booked", body = BookingView),
              (status = 200, description = "Already booked: the existing booking", body = BookingView)))]
pub async fn book(State(s): State<ApiState>, Auth(c): Auth, Path(id): Path<String>) -> ApiResult<Response> {
    let outcome = s.app.book(&c, &id, &s.app.api_base_url).await?;
    let status = if outcome.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(outcome.booking)).into_response())
}

/// The event's bookings, a page at a time (by member; within a page confirmed
/// first, then the waitlist in order): its organiser and moderators only, with names and email addresses (to reach
/// attendees). Other members, and other organisers, are refused.
#[utoipa::path(get, path = "/events/{id}/bookings", tag = "bookings", security(("bearer" = [])),
    params(("id" = String, Path, description = "Event id"), WholePageQuery),
    responses((status = 200, description = "A page of the bookings", body = BookingList)))]
pub async fn bookings(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    Query(q): Query<WholePageQuery>,
) -> ApiResult<axum::Json<BookingList>> {
    Ok(axum::Json(s.app.event_bookings(&c, &id, &q.page()).await?))
}

/// Cancels the caller's booking: a confirmed place goes to the first on the
/// waitlist, who is emailed.
#[utoipa::path(delete, path = "/events/{id}/bookings/me", tag = "bookings", security(("bearer" = [])),
    params(("id" = String, Path, description = "Event id")),
    responses((status = 204, description = "Cancelled")))]
pub async fn cancel_booking(State(s): State<ApiState>, Auth(c): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.cancel_booking(&c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The host accepts a visit request: a place (or the waitlist when none is
/// left); the visitor is emailed the invitation.
#[utoipa::path(post, path = "/events/{id}/bookings/{booking_id}/accept", tag = "bookings", security(("bearer" = [])),
    params(("id" = String, Path, description = "Event id"), ("booking_id" = String, Path, description = "Booking id")),
    responses((status = 200, description = "Accepted", body = BookingView)))]
pub async fn accept(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, booking_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<BookingView>> {
    Ok(axum::Json(s.app.answer_visit(&c, &id, &booking_id, true).await?))
}

/// The host declines a visit request; the visitor is emailed.
#[utoipa::path(post, path = "/events/{id}/bookings/{booking_id}/decline", tag = "bookings", security(("bearer" = [])),
    params(("id" = String, Path, description = "Event id"), ("booking_id" = String, Path, description = "Booking id")),
    responses((status = 200, description = "Declined", body = BookingView)))]
pub async fn decline(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, booking_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<BookingView>> {
    Ok(axum::Json(s.app.answer_visit(&c, &id, &booking_id, false).await?))
}

/// The caller's bookings, soonest event first, a page at a time.
#[utoipa::path(get, path = "/me/bookings", tag = "bookings", security(("bearer" = [])),
    params(WholePageQuery),
    responses((status = 200, description = "A page of the caller's bookings", body = MyBookingList)))]
pub async fn my_bookings(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Query(q): Query<WholePageQuery>,
) -> ApiResult<axum::Json<MyBookingList>> {
    Ok(axum::Json(s.app.my_bookings(&c, &q.page()).await?))
}

fn visit_page(site: &str, status: &VisitLinkStatus, token: &str) -> Response {
    let accept = format!("{token}/accept");
    let decline = format!("{token}/decline");
    let (code, title, message, buttons): (StatusCode, &str, String, bool) = match status {
        VisitLinkStatus::Invalid => (
            StatusCode::BAD_REQUEST,
            "This link does not work",
            "The link is incomplete or was changed, so nothing was changed. Open it again from the email.".into(),
            false,
        ),
        VisitLinkStatus::Expired => (
            StatusCode::BAD_REQUEST,
            "This link has expired",
            "The visit has started or is over, so nothing was changed.".into(),
            false,
        ),
        VisitLinkStatus::Gone => (
            StatusCode::OK,
            "This request is no longer open",
            "The member withdrew it or the visit was cancelled. Nothing was changed.".into(),
            false,
        ),
        VisitLinkStatus::Accepted => {
            (StatusCode::OK, "You have accepted", "Thank you. We have emailed the visitor an invitation.".into(), false)
        }
        VisitLinkStatus::Declined => {
            (StatusCode::OK, "You have declined", "Thank you. We have let the member know.".into(), false)
        }
        VisitLinkStatus::Open { summary } => (StatusCode::OK, "A request to visit", summary.clone(), true),
    };
    let actions: Vec<(&str, &str)> =
        if buttons { vec![(accept.as_str(), "Accept"), (decline.as_str(), "Decline")] } else { vec![] };
    html(code, page(&Page { title, message: &message, actions: &actions, field: None, site }))
}

/// The page a host's visit-request link opens: the request and Accept /
/// Decline buttons. Changes nothing (mail scanners fetch links).
#[utoipa::path(get, path = "/visit-requests/{token}", tag = "bookings",
    params(("token" = String, Path, description = "The signed token from the host's email")),
    responses(
        (status = 200, description = "A page with Accept and Decline buttons, or the request's outcome", content_type = "text/html", body = String),
        (status = 400, description = "The link is bad, changed or expired; nothing changed", content_type = "text/html", body = String)))]
pub async fn visit_request(State(s): State<ApiState>, Path(token): Path<String>) -> ApiResult<Response> {
    let status = s.app.visit_link(&token).await?;
    Ok(visit_page(&s.app.web_base_url, &status, &token))
}

/// Accepts the visit request; accepting again changes nothing.
#[utoipa::path(post, path = "/visit-requests/{token}/accept", tag = "bookings",
    params(("token" = String, Path, description = "The signed token from the host's email")),
    responses(
        (status = 200, description = "Accepted (or the request's outcome if it has one)", content_type = "text/html", body = String),
        (status = 400, description = "The link is bad, changed or expired; nothing changed", content_type = "text/html", body = String)))]
pub async fn accept_visit(State(s): State<ApiState>, Path(token): Path<String>) -> ApiResult<Response> {
    let status = s.app.answer_visit_link(&token, true).await?;
    Ok(visit_page(&s.app.web_base_url, &status, &token))
}

/// Declines the visit request; declining again changes nothing.
#[utoipa::path(post, path = "/visit-requests/{token}/decline", tag = "bookings",
    params(("token" = String, Path, description = "The signed token from the host's email")),
    responses(
        (status = 200, description = "Declined (or the request's outcome if it has one)", content_type = "text/html", body = String),
        (status = 400, description = "The link is bad, changed or expired; nothing changed", content_type = "text/html", body = String)))]
pub async fn decline_visit(State(s): State<ApiState>, Path(token): Path<String>) -> ApiResult<Response> {
    let status = s.app.answer_visit_link(&token, false).await?;
    Ok(visit_page(&s.app.web_base_url, &status, &token))
}
