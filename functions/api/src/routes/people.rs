use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qnet_app::members::organisations::require_admin;
use qnet_app::views::{CaseStudyList, MemberView};

use super::with_etag;
use crate::ApiState;
use crate::auth::Auth;
use crate::extract::{IfMatch, JsonBody, PageQuery, Query};
use crate::problem::ApiResult;
use qnet_domain::member::MemberPatch;
use qnet_domain::member::wire::{MemberOrganisationInput, MemberPatchInput};

/// The signed-in member's profile (created on first sign-in).
#[utoipa::path(get, path = "/me", tag = "members", security(("bearer" = [])),
    responses((status = 200, description = "The profile", body = MemberView)))]
pub async fn me(State(s): State<ApiState>, Auth(c): Auth) -> ApiResult<Response> {
    let m = s.app.member(&c).await?;
    let v = s.app.member_view(m).await?;
    let version = v.version;
    Ok(with_etag(v, version))
}

/// Changes the signed-in member's profile.
#[utoipa::path(patch, path = "/me", tag = "members", security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The version you read (ETag); checked when sent")),
    request_body = MemberPatchInput,
    responses((status = 200, description = "The updated profile", body = MemberView)))]
pub async fn update_me(State(s): State<ApiState>, Auth(c): Auth, IfMatch(v): IfMatch, body: JsonBody) -> ApiResult<Response> {
    let patch = MemberPatch::parse(&body.value)?;
    let m = s.app.update_member(&c, patch, v).await?;
    let v = s.app.member_view(m).await?;
    let version = v.version;
    Ok(with_etag(v, version))
}

/// Assigns a member to an organisation (admin): the way into an organisation
/// that does not list the member's email domain, such as a small group whose
/// members use personal addresses.
#[utoipa::path(put, path = "/members/{id}/organisation", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path, description = "Member id")),
    request_body = MemberOrganisationInput,
    responses((status = 200, description = "The member's updated profile", body = MemberView)))]
pub async fn assign_organisation(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    body: JsonBody,
) -> ApiResult<Response> {
    require_admin(&c)?;
    let organisation_id = qnet_domain::member::parse_organisation_assignment(&body.value)?;
    let m = s.app.assign_member_organisation(&c, &id, organisation_id).await?;
    let v = s.app.member_view(m).await?;
    let version = v.version;
    Ok(with_etag(v, version))
}

/// Erases the signed-in member's profile and detaches their name and email from
/// what they contributed.
#[utoipa::path(delete, path = "/me", tag = "members", security(("bearer" = [])),
    responses((status = 204, description = "Erased")))]
pub async fn erase_me(State(s): State<ApiState>, Auth(c): Auth) -> ApiResult<Response> {
    s.app.erase_member(&c).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The signed-in member's case studies, any status, newest first.
#[utoipa::path(get, path = "/me/case-studies", tag = "case studies", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page", body = CaseStudyList)))]
pub async fn my_case_studies(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<CaseStudyList>> {
    Ok(axum::Json(s.app.my_case_studies(&c, q.limit(), q.cursor.as_deref()).await?))
}

/// The moderation queue: pending case studies, oldest first (moderator).
#[utoipa::path(get, path = "/moderation/case-studies", tag = "moderation", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page", body = CaseStudyList)))]
pub async fn moderation_queue(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<CaseStudyList>> {
    Ok(axum::Json(s.app.moderation_queue(&c, q.limit(), q.cursor.as_deref()).await?))
}
