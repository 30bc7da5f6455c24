use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qnet_app::case_studies::ListRequest;
use qnet_app::views::{AttachmentCreated, CaseStudyList, CaseStudyView};

use super::{Location, MatchedRoute, create_once, with_etag};
use crate::ApiState;
use crate::auth::{Auth, MaybeAuth};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::extract::{IdempotencyHeader, IfMatch, JsonBody, OptionalJsonBody, Query, query};
use crate::problem::ApiResult;
use qnet_domain::attachment::wire::AttachmentInput;
use qnet_domain::case_study::wire::{CaseStudyInput, CaseStudyPatchInput, RejectionInput};

fn view(v: CaseStudyView) -> Response {
    let version = v.version;
    with_etag(v, version)
}

/// The filters and page of `GET /case-studies`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this topic (an id from GET /topics)
    #[serde(default, deserialize_with = "query::text")]
    pub topic: Option<String>,
    /// Only this organisation
    #[serde(default, deserialize_with = "query::text")]
    pub organisation_id: Option<String>,
    /// Page size (default 20)
    #[serde(default, deserialize_with = "query::limit")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// next_cursor from the previous page
    #[serde(default, deserialize_with = "query::text")]
    pub cursor: Option<String>,
}

/// Published case studies, newest first. Readable without signing in.
#[utoipa::path(get, path = "/case-studies", tag = "case studies", security((), ("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "A page of summaries", body = CaseStudyList)))]
pub async fn list(State(s): State<ApiState>, _caller: MaybeAuth, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let req = ListRequest {
        topic: q.topic,
        organisation_id: q.organisation_id,
        limit: q.limit.unwrap_or(qnet_app::case_studies::DEFAULT_PAGE),
        cursor: q.cursor,
    };
    // The same JSON as `Json(list_published)`, kept ready while nothing changes.
    let json = s.app.list_published_json(&req).await?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], json).into_response())
}

/// Submits a case study; it waits, pending, for a moderator.
#[utoipa::path(post, path = "/case-studies", tag = "case studies", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    request_body = CaseStudyInput,
    responses((status = 201, description = "Created, pending", body = CaseStudyView,
               headers(("Location" = String, description = "The new case study")))))]
pub async fn create(
    State(s): State<ApiState>,
    Auth(c): Auth,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    create_once(&s, &c, key, route, Location::Below, &body, async |idem| {
        s.app.create_case_study(&c, &body.value, idem.as_ref()).await
    })
    .await
}

/// The case-study template: the headings staff use when they write one, on the
/// web or in an email to the case study address.
#[utoipa::path(get, path = "/case-studies/template", tag = "case studies",
    responses((status = 200, description = "The template", body = CaseStudyTemplate)))]
pub async fn template() -> axum::Json<CaseStudyTemplate> {
    axum::Json(CaseStudyTemplate {
        text: qnet_app::mail::CASE_STUDY_TEMPLATE.to_string(),
        sections: qnet_domain::case_study::Sections::FIELDS.iter().map(|f| (*f).to_string()).collect(),
    })
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CaseStudyTemplate {
    /// The template as plain text, headings and prompts.
    pub text: String,
    /// The section fields of a case study, in template order.
    pub sections: Vec<String>,
}

/// One case study: published ones for anyone; pending and rejected ones for their
/// submitter and moderators.
#[utoipa::path(get, path = "/case-studies/{id}", tag = "case studies", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Case study id")),
    responses((status = 200, description = "The case study", body = CaseStudyView,
               headers(("ETag" = String, description = "The version, for If-Match")))))]
pub async fn get(State(s): State<ApiState>, MaybeAuth(c): MaybeAuth, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(view(s.app.get_case_study(c.as_deref(), &id).await?))
}

/// Changes a case study: its submitter while pending, or a moderator.
#[utoipa::path(patch, path = "/case-studies/{id}", tag = "case studies", security(("bearer" = [])),
    params(("id" = String, Path, description = "Case study id"),
           ("If-Match" = String, Header, description = "The version you read (ETag); required")),
    request_body = CaseStudyPatchInput,
    responses((status = 200, description = "Updated", body = CaseStudyView)))]
pub async fn update(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    body: JsonBody,
) -> ApiResult<Response> {
    Ok(view(s.app.update_case_study(&c, &id, &body.value, v).await?))
}

/// Publishes a pending case study (moderator); refused while a hold stands.
#[utoipa::path(post, path = "/case-studies/{id}/publish", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Case study id"),
           ("If-Match" = String, Header, description = "The version you reviewed (ETag); required")),
    responses((status = 200, description = "Published", body = CaseStudyView)))]
pub async fn publish(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    _body: OptionalJsonBody,
) -> ApiResult<Response> {
    Ok(view(s.app.publish_case_study(&c, &id, v).await?))
}

/// Rejects a case study with a reason for the submitter (moderator).
#[utoipa::path(post, path = "/case-studies/{id}/reject", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Case study id"),
           ("If-Match" = String, Header, description = "The version you reviewed (ETag); required")),
    request_body = RejectionInput,
    responses((status = 200, description = "Rejected", body = CaseStudyView)))]
pub async fn reject(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    body: JsonBody,
) -> ApiResult<Response> {
    Ok(view(s.app.reject_case_study(&c, &id, &body.value, v).await?))
}

/// Lifts a patient data hold once a moderator has edited the data out; earlier
/// versions are purged.
#[utoipa::path(post, path = "/case-studies/{id}/release-hold", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Case study id"),
           ("If-Match" = String, Header, description = "The version you reviewed (ETag); required")),
    responses((status = 200, description = "Hold released", body = CaseStudyView)))]
pub async fn release_hold(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    _body: OptionalJsonBody,
) -> ApiResult<Response> {
    Ok(view(s.app.release_hold(&c, &id, v).await?))
}

/// Declares an attachment and answers a presigned URL to upload its bytes to; the
/// store refuses any other size, type or content.
#[utoipa::path(post, path = "/case-studies/{id}/attachments", tag = "case studies", security(("bearer" = [])),
    params(("id" = String, Path, description = "Case study id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    request_body = AttachmentInput,
    responses((status = 201, description = "Declared; upload the bytes next", body = AttachmentCreated)))]
pub async fn add_attachment(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    create_once(&s, &c, key, route, Location::Below, &body, async |idem| {
        s.app.create_attachment(&c, &id, &body.value, idem.as_ref()).await
    })
    .await
}

/// Redirects to a short-lived download URL for a checked attachment.
#[utoipa::path(get, path = "/case-studies/{id}/attachments/{attachment_id}", tag = "case studies", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Case study id"), ("attachment_id" = String, Path, description = "Attachment id")),
    responses((status = 302, description = "Found: follow Location to download",
               headers(("Location" = String, description = "A presigned download URL")))))]
pub async fn download_attachment(
    State(s): State<ApiState>,
    MaybeAuth(c): MaybeAuth,
    Path((id, attachment_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let url = s.app.attachment_download(c.as_deref(), &id, &attachment_id).await?;
    let loc = HeaderValue::from_str(&url.url).map_err(|_| crate::problem::Problem::internal())?;
    Ok((StatusCode::FOUND, [(header::LOCATION, loc), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))])
        .into_response())
}
