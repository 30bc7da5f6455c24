//! Mentoring and coaching: mentor profiles, requests and their matches, the
//! offer pages that the mentor's email links to, and closing a pairing. A new
//! request is proposed to its best candidate in the request path (so it works
//! locally with no queue or schedule); `functions/mentoring` re-optimises open
//! requests on a schedule. The offer pages need no login: the signed, expiring
//! token is the authority. A GET shows the buttons and changes nothing.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qnet_app::mail::{Page, page};
use qnet_app::mentoring::{MatchList, MentorView, MentoringRequestList, MentoringRequestView, OfferStatus};
use qnet_domain::mentoring::RequestInput;
use qnet_domain::mentoring::wire::{CloseInput, DeclineProposalInput, MentorInput, MentoringRequestInput};

use qnet_app::idempotency::Creation;

use super::{Location, MatchedRoute, answer, html, idempotency, with_etag};
use crate::ApiState;
use crate::auth::Auth;
use crate::extract::{IdempotencyHeader, JsonBody, OptionalJsonBody, Query, WholePageQuery};
use crate::problem::ApiResult;

/// The signed-in member's mentor profile.
#[utoipa::path(get, path = "/me/mentor", tag = "mentoring", security(("bearer" = [])),
    responses((status = 200, description = "The mentor profile", body = MentorView)))]
pub async fn my_mentor(State(s): State<ApiState>, Auth(c): Auth) -> ApiResult<Response> {
    let v = s.app.my_mentor_profile(&c).await?;
    let version = v.version;
    Ok(with_etag(v, version))
}

/// Creates or replaces the signed-in member's mentor profile. The organisation
/// comes from the member's profile.
#[utoipa::path(put, path = "/me/mentor", tag = "mentoring", security(("bearer" = [])),
    request_body = MentorInput,
    responses((status = 200, description = "The mentor profile", body = MentorView)))]
pub async fn put_mentor(State(s): State<ApiState>, Auth(c): Auth, body: JsonBody) -> ApiResult<Response> {
    let input = qnet_domain::mentoring::MentorInput::parse(&body.value)?;
    let v = s.app.put_mentor_profile(&c, input).await?;
    let version = v.version;
    Ok(with_etag(v, version))
}

/// Removes the signed-in member's mentor profile (refused while they have
/// mentees or unanswered offers).
#[utoipa::path(delete, path = "/me/mentor", tag = "mentoring", security(("bearer" = [])),
    responses((status = 204, description = "Removed (or there was none)")))]
pub async fn delete_mentor(State(s): State<ApiState>, Auth(c): Auth) -> ApiResult<Response> {
    s.app.delete_mentor_profile(&c).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Asks for mentoring or coaching. The best suited mentor is proposed at once
/// and emailed an offer.
#[utoipa::path(post, path = "/mentoring-requests", tag = "mentoring", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same request is answered")),
    request_body = MentoringRequestInput,
    responses((status = 201, description = "Created (and proposed when someone suits)", body = MentoringRequestView,
               headers(("Location" = String, description = "The new request")))))]
pub async fn create_request(
    State(s): State<ApiState>,
    Auth(c): Auth,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    let idem = idempotency(&c, key, &route, Location::Below, &body)?;
    if let Some(r) = s.app.replay(idem.as_ref()).await? {
        return Ok(answer(s.app.current_answer(Creation::Replayed(r)).await?, &route, &Location::Below));
    }
    let base = s.app.api_base_url.to_string();
    let input = RequestInput::parse(&body.value)?;
    let created = s.app.create_mentoring_request(&c, input, idem.as_ref(), &base).await?;
    Ok(answer(created, &route, &Location::Below))
}

/// The signed-in member's mentoring requests, newest first, a page at a time.
#[utoipa::path(get, path = "/me/mentoring-requests", tag = "mentoring", security(("bearer" = [])),
    params(WholePageQuery),
    responses((status = 200, description = "A page of the member's requests", body = MentoringRequestList)))]
pub async fn my_requests(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Query(q): Query<WholePageQuery>,
) -> ApiResult<axum::Json<MentoringRequestList>> {
    Ok(axum::Json(s.app.my_mentoring_requests(&c, &q.page()).await?))
}

/// One request: for its member, the mentor it is proposed to or paired with,
/// and moderators.
#[utoipa::path(get, path = "/mentoring-requests/{id}", tag = "mentoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Mentoring request id")),
    responses((status = 200, description = "The request", body = MentoringRequestView)))]
pub async fn get_request(State(s): State<ApiState>, Auth(c): Auth, Path(id): Path<String>) -> ApiResult<Response> {
    let v = s.app.mentoring_request(&c, &id).await?;
    let version = v.version;
    Ok(with_etag(v, version))
}

/// Withdraws a request (its member only, before it is closed), releasing any
/// place it holds. Withdrawing again changes nothing.
#[utoipa::path(delete, path = "/mentoring-requests/{id}", tag = "mentoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Mentoring request id")),
    responses((status = 204, description = "Withdrawn")))]
pub async fn withdraw_request(State(s): State<ApiState>, Auth(c): Auth, Path(id): Path<String>) -> ApiResult<Response> {
    s.app.withdraw_mentoring_request(&c, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The mentors who suit a request now, best first, each with a score and the
/// reasons (its member and moderators).
#[utoipa::path(get, path = "/mentoring-requests/{id}/matches", tag = "mentoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Mentoring request id")),
    responses((status = 200, description = "Suitable mentors, best first", body = MatchList)))]
pub async fn matches(State(s): State<ApiState>, Auth(c): Auth, Path(id): Path<String>) -> ApiResult<axum::Json<MatchList>> {
    Ok(axum::Json(s.app.mentoring_matches(&c, &id).await?))
}

/// The member declines the mentor proposed to them: that mentor is never proposed
/// to them again, and the next candidate is proposed. Declining again changes
/// nothing.
#[utoipa::path(post, path = "/mentoring-requests/{id}/decline-proposal", tag = "mentoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Mentoring request id")),
    request_body = DeclineProposalInput,
    responses((status = 200, description = "Declined; the request as it is now", body = MentoringRequestView)))]
pub async fn decline_proposal(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    body: JsonBody,
) -> ApiResult<axum::Json<MentoringRequestView>> {
    let base = s.app.api_base_url.to_string();
    let mentor_id = qnet_domain::mentoring::parse_decline(&body.value)?;
    Ok(axum::Json(s.app.decline_proposal(&c, &id, mentor_id, &base).await?))
}

/// Closes an active pairing (the mentee or the mentor), with optional feedback.
/// Closing again only adds the other side's feedback.
#[utoipa::path(post, path = "/mentoring-pairings/{id}/close", tag = "mentoring", security(("bearer" = [])),
    params(("id" = String, Path, description = "Pairing id (the request's id)")),
    request_body = CloseInput,
    responses((status = 200, description = "Closed", body = MentoringRequestView)))]
pub async fn close_pairing(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    body: OptionalJsonBody,
) -> ApiResult<axum::Json<MentoringRequestView>> {
    let value = body.0.map(|b| b.value).unwrap_or(serde_json::Value::Null);
    let feedback = qnet_domain::mentoring::parse_close(&value)?;
    Ok(axum::Json(s.app.close_pairing(&c, &id, feedback).await?))
}

/// The page for each state an offer link can find.
fn offer_page(site: &str, status: &OfferStatus, token: &str) -> Response {
    let accept = format!("{token}/accept");
    let decline = format!("{token}/decline");
    let (code, title, message, form): (StatusCode, &str, String, Option<(&str, &str)>) = match status {
        OfferStatus::Invalid => (
            StatusCode::BAD_REQUEST,
            "This offer link does not work",
            "The link is incomplete or was changed, so nothing was changed. Open it again from the email, copying the \
             whole link."
                .into(),
            None,
        ),
        OfferStatus::Expired => (
            StatusCode::BAD_REQUEST,
            "This offer has expired",
            "The time to answer has passed, so the request has gone to someone else. Nothing was changed. Thank you \
             for offering your time."
                .into(),
            None,
        ),
        OfferStatus::Gone => (
            StatusCode::OK,
            "This offer is no longer open",
            "The member withdrew the request, or it has moved on. Nothing was changed.".into(),
            None,
        ),
        OfferStatus::Accepted => (
            StatusCode::OK,
            "You have accepted",
            "Thank you. We have sent one email introducing you both: reply to it to arrange your first conversation.".into(),
            None,
        ),
        OfferStatus::Declined => (
            StatusCode::OK,
            "You have declined",
            "Thank you for letting us know. We will propose someone else, and will not ask you for this member again.".into(),
            None,
        ),
        OfferStatus::Open { summary } => {
            (StatusCode::OK, "Will you take on this mentee?", summary.clone(), Some((accept.as_str(), "Accept")))
        }
    };
    let actions: Vec<(&str, &str)> = match form {
        Some(accept) => vec![accept, (decline.as_str(), "Decline")],
        None => vec![],
    };
    html(code, page(&Page { title, message: &message, actions: &actions, field: None, site }))
}

/// The page an offer link opens: the request and Accept / Decline buttons.
/// Changes nothing (mail scanners fetch links).
#[utoipa::path(get, path = "/mentoring/offers/{token}", tag = "mentoring",
    params(("token" = String, Path, description = "The signed token from the offer email")),
    responses(
        (status = 200, description = "A page with Accept and Decline buttons, or the offer's outcome", content_type = "text/html", body = String),
        (status = 400, description = "The link is bad, changed or expired; nothing changed", content_type = "text/html", body = String)))]
pub async fn offer(State(s): State<ApiState>, Path(token): Path<String>) -> ApiResult<Response> {
    let status = s.app.offer(&token).await?;
    Ok(offer_page(&s.app.web_base_url, &status, &token))
}

/// Accepts the offer: the pairing becomes active and one email introduces both.
/// Accepting again changes nothing.
#[utoipa::path(post, path = "/mentoring/offers/{token}/accept", tag = "mentoring",
    params(("token" = String, Path, description = "The signed token from the offer email")),
    responses(
        (status = 200, description = "Accepted (or the offer's outcome if it has one)", content_type = "text/html", body = String),
        (status = 400, description = "The link is bad, changed or expired; nothing changed", content_type = "text/html", body = String)))]
pub async fn accept(State(s): State<ApiState>, Path(token): Path<String>) -> ApiResult<Response> {
    let status = s.app.answer_offer(&token, true, &s.app.api_base_url).await?;
    Ok(offer_page(&s.app.web_base_url, &status, &token))
}

/// Declines the offer: the next candidate is proposed. Declining again changes
/// nothing.
#[utoipa::path(post, path = "/mentoring/offers/{token}/decline", tag = "mentoring",
    params(("token" = String, Path, description = "The signed token from the offer email")),
    responses(
        (status = 200, description = "Declined (or the offer's outcome if it has one)", content_type = "text/html", body = String),
        (status = 400, description = "The link is bad, changed or expired; nothing changed", content_type = "text/html", body = String)))]
pub async fn decline(State(s): State<ApiState>, Path(token): Path<String>) -> ApiResult<Response> {
    let status = s.app.answer_offer(&token, false, &s.app.api_base_url).await?;
    Ok(offer_page(&s.app.web_base_url, &status, &token))
}
