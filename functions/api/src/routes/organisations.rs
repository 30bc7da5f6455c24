use axum::extract::{Path, State};
use axum::response::Response;
use qnet_app::members::organisations::require_admin;
use qnet_app::views::OrganisationList;
use qnet_domain::organisation::Organisation;

use super::{Location, MatchedRoute, create_once, with_etag};
use crate::ApiState;
use crate::auth::Auth;
use crate::extract::{IdempotencyHeader, IfMatch, JsonBody, Query, WholePageQuery};
use crate::problem::ApiResult;
use qnet_domain::organisation::wire::{OrganisationInput, OrganisationPatchInput};

/// Every organisation in the system, by name, a page at a time.
#[utoipa::path(get, path = "/organisations", tag = "organisations",
    params(WholePageQuery),
    responses((status = 200, description = "A page of organisations", body = OrganisationList)))]
pub async fn list(State(s): State<ApiState>, Query(q): Query<WholePageQuery>) -> ApiResult<axum::Json<OrganisationList>> {
    Ok(axum::Json(s.app.list_organisations(&q.page()).await?))
}

/// Adds an organisation (admin).
#[utoipa::path(post, path = "/organisations", tag = "organisations", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    request_body = OrganisationInput,
    responses((status = 201, description = "Created", body = Organisation)))]
pub async fn create(
    State(s): State<ApiState>,
    Auth(c): Auth,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    create_once(&s, &c, key, route, Location::Below, &body, async |idem| {
        require_admin(&c)?;
        let input = qnet_domain::organisation::OrganisationInput::parse(&body.value, true)?;
        s.app.create_organisation(&c, input, idem.as_ref()).await
    })
    .await
}

/// Changes an organisation (admin).
#[utoipa::path(patch, path = "/organisations/{id}", tag = "organisations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Organisation id"),
           ("If-Match" = Option<String>, Header, description = "The version you read (ETag); checked when sent")),
    request_body = OrganisationPatchInput,
    responses((status = 200, description = "Updated", body = Organisation)))]
pub async fn update(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    body: JsonBody,
) -> ApiResult<Response> {
    require_admin(&c)?;
    let input = qnet_domain::organisation::OrganisationInput::parse(&body.value, false)?;
    let org = s.app.update_organisation(&c, &id, input, v).await?;
    let version = org.version;
    Ok(with_etag(org, version))
}
