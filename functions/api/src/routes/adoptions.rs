//! "We are trying this" (issue 22): adoptions of a published case study, and
//! where it has spread.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qnet_app::adoptions::AdoptionsView;
use qnet_app::questions::ReportReceived;
use qnet_domain::adoption::NewAdoption;
use qnet_domain::adoption::wire::AdoptionInput;
use qnet_domain::question::wire::ReportInput;

use crate::ApiState;
use crate::auth::{Auth, MaybeAuth};
use crate::extract::JsonBody;
use crate::problem::{ApiResult, Problem};

/// Where a published case study has spread: how many members are trying it,
/// their organisations (with their types) and the QI projects that carry it.
/// Who recorded each adoption is shown to signed-in members only.
#[utoipa::path(get, path = "/case-studies/{id}/adoptions", tag = "adoptions", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Case study id")),
    responses((status = 200, description = "Where it has spread", body = AdoptionsView)))]
pub async fn list_adoptions(
    State(s): State<ApiState>,
    MaybeAuth(c): MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AdoptionsView>> {
    Ok(axum::Json(s.app.adoptions(c.as_deref(), &id).await?))
}

/// "We are trying this": records that the caller's team is adopting or
/// adapting a published case study, optionally naming one of their QI projects
/// (which then links back to it). Recording again changes it. The author is
/// told the first time. Not on your own case study (409).
#[utoipa::path(post, path = "/case-studies/{id}/adoptions", tag = "adoptions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Case study id")),
    request_body = AdoptionInput,
    responses(
        (status = 201, description = "Recorded", body = AdoptionsView),
        (status = 200, description = "Changed (it was recorded before)", body = AdoptionsView)))]
pub async fn adopt_case_study(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    body: JsonBody,
) -> ApiResult<Response> {
    let input = NewAdoption::parse(&body.value).map_err(Problem::from)?;
    let (view, created) = s.app.adopt_case_study(&c, &id, input).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(view)).into_response())
}

/// Removes an adoption: the member who recorded it, or a moderator.
#[utoipa::path(delete, path = "/case-studies/{id}/adoptions/{member_id}", tag = "adoptions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Case study id"),
           ("member_id" = String, Path, description = "The member who recorded it")),
    responses((status = 204, description = "Removed")))]
pub async fn remove_adoption(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, member_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.remove_adoption(&c, &id, &member_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reports an adoption's note to moderators; once per member (a repeat
/// changes nothing). A moderator removes the adoption or dismisses the report.
#[utoipa::path(post, path = "/case-studies/{id}/adoptions/{member_id}/reports", tag = "adoptions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Case study id"),
           ("member_id" = String, Path, description = "The member who recorded it")),
    request_body = ReportInput,
    responses((status = 202, description = "Received", body = ReportReceived)))]
pub async fn report_adoption(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, member_id)): Path<(String, String)>,
    body: JsonBody,
) -> ApiResult<Response> {
    let received = s.app.report_adoption(&c, &id, &member_id, &body.value).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(received)).into_response())
}
