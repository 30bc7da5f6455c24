//! `/admin/roles`: admins grant and revoke organiser, moderator and admin for an
//! email address. A grant takes effect on the holder's next request (their
//! token need not change) and a revocation likewise.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qnet_app::roles::{RoleGrant, RoleGrantList};
use qnet_domain::role::wire::RoleGrantInput;

use crate::ApiState;
use crate::auth::Auth;
use crate::extract::{JsonBody, PageQuery, Query, query};
use crate::problem::{ApiResult, Problem};
use serde::Deserialize;
use utoipa::IntoParams;

/// Every role granted through the API, by address (admins).
#[utoipa::path(get, path = "/admin/roles", tag = "admin", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of grants", body = RoleGrantList)))]
pub async fn list(State(s): State<ApiState>, Auth(c): Auth, Query(q): Query<PageQuery>) -> ApiResult<axum::Json<RoleGrantList>> {
    Ok(axum::Json(s.app.list_role_grants(&c, q.limit(), q.cursor.as_deref()).await?))
}

/// Grants a role to an address (admins); granting it again changes nothing.
#[utoipa::path(put, path = "/admin/roles", tag = "admin", security(("bearer" = [])),
    request_body = RoleGrantInput,
    responses((status = 200, description = "The grant", body = RoleGrant)))]
pub async fn grant(State(s): State<ApiState>, Auth(c): Auth, body: JsonBody) -> ApiResult<axum::Json<RoleGrant>> {
    let field = |name: &str| body.value.get(name).and_then(|v| v.as_str()).unwrap_or("").to_string();
    Ok(axum::Json(s.app.grant_role(&c, &field("email"), &field("role")).await?))
}

/// The grant `DELETE /admin/roles` revokes; both are required.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevokeQuery {
    /// The address
    #[serde(default, deserialize_with = "query::text")]
    #[param(required = true)]
    pub email: Option<String>,
    /// organiser, moderator or admin
    #[serde(default, deserialize_with = "query::text")]
    #[param(required = true)]
    pub role: Option<String>,
}

/// Revokes a role from an address (admins).
#[utoipa::path(delete, path = "/admin/roles", tag = "admin", security(("bearer" = [])),
    params(RevokeQuery),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke(State(s): State<ApiState>, Auth(c): Auth, Query(q): Query<RevokeQuery>) -> ApiResult<Response> {
    let email = q.email.ok_or_else(|| Problem::invalid("email", "is required"))?;
    let role = q.role.ok_or_else(|| Problem::invalid("role", "is required"))?;
    s.app.revoke_role(&c, &email, &role).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
