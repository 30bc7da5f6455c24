//! The resources library: `/resources` and the resource moderation queue.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qnet_app::resources::{ResourceList, ResourceListRequest, ResourceView};
use qnet_app::views::AttachmentCreated;

use super::{Location, MatchedRoute, create_once, with_etag};
use crate::ApiState;
use crate::auth::{Auth, MaybeAuth};
use crate::extract::{IdempotencyHeader, IfMatch, JsonBody, OptionalJsonBody, PageQuery, Query, query};
use crate::problem::ApiResult;
use qnet_domain::attachment::wire::AttachmentInput;
use qnet_domain::case_study::wire::RejectionInput;
use qnet_domain::resource::wire::{ResourceInput, ResourcePatchInput};
use serde::Deserialize;
use utoipa::IntoParams;

fn view(v: ResourceView) -> Response {
    let version = v.version;
    with_etag(v, version)
}

/// The filters and page of `GET /resources`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResourceListQuery {
    /// Only this topic (an id from GET /topics)
    #[serde(default, deserialize_with = "query::text")]
    pub topic: Option<String>,
    /// Only this kind: guide, tool, template, slides, video, dataset or link
    #[serde(default, deserialize_with = "query::text")]
    pub kind: Option<String>,
    /// Only this organisation's (an organisation id)
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

/// Published resources, newest first. Readable without signing in.
#[utoipa::path(get, path = "/resources", tag = "resources", security((), ("bearer" = [])),
    params(ResourceListQuery),
    responses((status = 200, description = "A page of summaries", body = ResourceList)))]
pub async fn list(
    State(s): State<ApiState>,
    _caller: MaybeAuth,
    Query(q): Query<ResourceListQuery>,
) -> ApiResult<axum::Json<ResourceList>> {
    let req = ResourceListRequest {
        topic: q.topic,
        kind: q.kind,
        organisation: q.organisation,
        limit: q.limit.unwrap_or(qnet_app::case_studies::DEFAULT_PAGE),
        cursor: q.cursor,
    };
    Ok(axum::Json(s.app.list_resources(&req).await?))
}

/// Shares a resource; it waits, pending, for a moderator.
#[utoipa::path(post, path = "/resources", tag = "resources", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    request_body = ResourceInput,
    responses((status = 201, description = "Created, pending", body = ResourceView,
               headers(("Location" = String, description = "The new resource")))))]
pub async fn create(
    State(s): State<ApiState>,
    Auth(c): Auth,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    create_once(&s, &c, key, route, Location::Below, &body, async |idem| {
        s.app.create_resource(&c, &body.value, idem.as_ref()).await
    })
    .await
}

/// One resource: published ones for anyone; pending and rejected ones for their
/// submitter and moderators.
#[utoipa::path(get, path = "/resources/{id}", tag = "resources", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Resource id")),
    responses((status = 200, description = "The resource", body = ResourceView,
               headers(("ETag" = String, description = "The version, for If-Match")))))]
pub async fn get(State(s): State<ApiState>, MaybeAuth(c): MaybeAuth, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(view(s.app.get_resource(c.as_deref(), &id).await?))
}

/// Changes a resource: its submitter while pending, or a moderator.
#[utoipa::path(patch, path = "/resources/{id}", tag = "resources", security(("bearer" = [])),
    params(("id" = String, Path, description = "Resource id"),
           ("If-Match" = String, Header, description = "The version you read (ETag); required")),
    request_body = ResourcePatchInput,
    responses((status = 200, description = "Updated", body = ResourceView)))]
pub async fn update(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    body: JsonBody,
) -> ApiResult<Response> {
    Ok(view(s.app.update_resource(&c, &id, &body.value, v).await?))
}

/// Publishes a pending resource (moderator); refused while a hold stands or
/// before its file has passed the check.
#[utoipa::path(post, path = "/resources/{id}/publish", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Resource id"),
           ("If-Match" = String, Header, description = "The version you reviewed (ETag); required")),
    responses((status = 200, description = "Published", body = ResourceView)))]
pub async fn publish(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    _body: OptionalJsonBody,
) -> ApiResult<Response> {
    Ok(view(s.app.publish_resource(&c, &id, v).await?))
}

/// Rejects a resource with a reason for the submitter (moderator).
#[utoipa::path(post, path = "/resources/{id}/reject", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Resource id"),
           ("If-Match" = String, Header, description = "The version you reviewed (ETag); required")),
    request_body = RejectionInput,
    responses((status = 200, description = "Rejected", body = ResourceView)))]
pub async fn reject(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    body: JsonBody,
) -> ApiResult<Response> {
    Ok(view(s.app.reject_resource(&c, &id, &body.value, v).await?))
}

/// Lifts a patient data hold once a moderator has edited the data out; earlier
/// versions are purged.
#[utoipa::path(post, path = "/resources/{id}/release-hold", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Resource id"),
           ("If-Match" = String, Header, description = "The version you reviewed (ETag); required")),
    responses((status = 200, description = "Hold released", body = ResourceView)))]
pub async fn release_hold(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    _body: OptionalJsonBody,
) -> ApiResult<Response> {
    Ok(view(s.app.release_resource_hold(&c, &id, v).await?))
}

/// Declares the resource's file (replacing an earlier one) and answers a
/// presigned URL to upload its bytes to; the same size, type and content checks
/// as case-study attachments apply, and it is served once `ready`.
#[utoipa::path(post, path = "/resources/{id}/file", tag = "resources", security(("bearer" = [])),
    params(("id" = String, Path, description = "Resource id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    request_body = AttachmentInput,
    responses((status = 201, description = "Declared; upload the bytes next", body = AttachmentCreated)))]
pub async fn add_file(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    create_once(&s, &c, key, route, Location::Route, &body, async |idem| {
        s.app.create_resource_file(&c, &id, &body.value, idem.as_ref()).await
    })
    .await
}

/// Redirects to the resource: a short-lived download URL for its checked file,
/// or its link. Each download of a published resource is counted.
#[utoipa::path(get, path = "/resources/{id}/download", tag = "resources", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Resource id")),
    responses((status = 302, description = "Found: follow Location",
               headers(("Location" = String, description = "A presigned download URL or the resource's link")))))]
pub async fn download(State(s): State<ApiState>, MaybeAuth(c): MaybeAuth, Path(id): Path<String>) -> ApiResult<Response> {
    let url = s.app.resource_download(c.as_deref(), &id).await?;
    let loc = HeaderValue::from_str(&url).map_err(|_| crate::problem::Problem::internal())?;
    Ok((StatusCode::FOUND, [(header::LOCATION, loc), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))])
        .into_response())
}

/// The resource moderation queue: pending resources, oldest first (moderator).
#[utoipa::path(get, path = "/moderation/resources", tag = "moderation", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page", body = ResourceList)))]
pub async fn moderation_queue(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<ResourceList>> {
    Ok(axum::Json(s.app.resource_queue(&c, q.limit(), q.cursor.as_deref()).await?))
}
