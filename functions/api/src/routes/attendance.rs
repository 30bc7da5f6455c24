//! The register of an event: its organiser and moderators mark who attended
//! and export the bookings as CSV (`qnet_app::events::attendance`).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use qnet_app::events::BookingView;
use qnet_domain::event::wire::AttendanceInput;

use crate::ApiState;
use crate::auth::Auth;
use crate::extract::JsonBody;
use crate::problem::{ApiResult, Problem};

/// Marks whether a member with a confirmed place attended: the event's
/// organiser and moderators, from an hour before the start onwards. Marking
/// again with the same answer changes nothing.
#[utoipa::path(put, path = "/events/{id}/bookings/{booking_id}/attendance", tag = "bookings", security(("bearer" = [])),
    params(("id" = String, Path, description = "Event id"), ("booking_id" = String, Path, description = "Booking id")),
    request_body = AttendanceInput,
    responses((status = 200, description = "The booking with its attendance", body = BookingView)))]
pub async fn mark(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, booking_id)): Path<(String, String)>,
    body: JsonBody,
) -> ApiResult<axum::Json<BookingView>> {
    let obj = body.value.as_object().ok_or_else(|| Problem::invalid("attended", "is required (true or false)"))?;
    if let Some(unknown) = obj.keys().find(|k| *k != "attended") {
        return Err(Problem::invalid(unknown, "is not a field of this request"));
    }
    let attended = obj
        .get("attended")
        .and_then(serde_json::Value::as_bool)
        .ok_or_else(|| Problem::invalid("attended", "is required (true or false)"))?;
    Ok(axum::Json(s.app.mark_attendance(&c, &id, &booking_id, attended).await?))
}

/// The event's bookings as CSV (name, email, organisation, status, waiting
/// list position, attended, booked): its organiser and moderators. Cells that
/// a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab
/// or carriage return) start with `'`.
#[utoipa::path(get, path = "/events/{id}/bookings.csv", tag = "bookings", security(("bearer" = [])),
    params(("id" = String, Path, description = "Event id")),
    responses((status = 200, description = "RFC 4180 CSV, UTF-8 with a byte order mark", content_type = "text/csv", body = String)))]
pub async fn export(State(s): State<ApiState>, Auth(c): Auth, Path(id): Path<String>) -> ApiResult<Response> {
    let csv = s.app.bookings_csv(&c, &id).await?;
    let disposition = format!("attachment; filename=\"attendees-{id}.csv\"");
    let mut resp = csv.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment; filename=\"attendees.csv\"")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
