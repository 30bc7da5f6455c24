//! Sharing successes outward (issue 22): highlights, public Atom feeds of
//! published case studies, and the share page that gives a shared link its
//! preview in Teams, Slack and LinkedIn.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qnet_app::AppError;
use qnet_app::views::CaseStudyList;

use super::digest::message_page;
use super::html;
use crate::ApiState;
use crate::auth::{Auth, MaybeAuth};
use crate::extract::{Query, query};
use crate::problem::ApiResult;

/// The page of `GET /case-studies/highlights`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HighlightsQuery {
    /// How many (default 6)
    #[serde(default, deserialize_with = "query::limit")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// The highlights moderators chose, most recently highlighted first; only
/// what is still published. Readable without signing in.
#[utoipa::path(get, path = "/case-studies/highlights", tag = "case studies", security((), ("bearer" = [])),
    params(HighlightsQuery),
    responses((status = 200, description = "The highlights", body = CaseStudyList)))]
pub async fn list_highlights(
    State(s): State<ApiState>,
    _caller: MaybeAuth,
    Query(q): Query<HighlightsQuery>,
) -> ApiResult<axum::Json<CaseStudyList>> {
    Ok(axum::Json(s.app.highlights(q.limit.unwrap_or(6)).await?))
}

/// Marks a published case study as a highlight (moderators): it leads the
/// home page and opens the next digests.
#[utoipa::path(put, path = "/case-studies/{id}/highlight", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Case study id")),
    responses((status = 204, description = "It is a highlight")))]
pub async fn highlight_case_study(State(s): State<ApiState>, Auth(c): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.highlight_case_study(&c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops a case study being a highlight (moderators).
#[utoipa::path(delete, path = "/case-studies/{id}/highlight", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "Case study id")),
    responses((status = 204, description = "No longer a highlight")))]
pub async fn unhighlight_case_study(State(s): State<ApiState>, Auth(c): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.unhighlight_case_study(&c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn atom(body: String) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/atom+xml; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    r
}

/// The Atom feed of published case studies, newest first (50). No login;
/// pending, held or rejected work never appears.
#[utoipa::path(get, path = "/feeds/case-studies.atom", tag = "feeds",
    responses((status = 200, description = "An Atom feed", content_type = "application/atom+xml", body = String)))]
pub async fn case_study_feed(State(s): State<ApiState>) -> ApiResult<Response> {
    Ok(atom(s.app.case_study_feed(None).await?))
}

/// The Atom feed of published case studies on one topic (an id from GET /topics).
#[utoipa::path(get, path = "/feeds/topics/{topic}/case-studies.atom", tag = "feeds",
    params(("topic" = String, Path, description = "A topic id from GET /topics")),
    responses((status = 200, description = "An Atom feed", content_type = "application/atom+xml", body = String)))]
pub async fn topic_case_study_feed(State(s): State<ApiState>, Path(topic): Path<String>) -> ApiResult<Response> {
    Ok(atom(s.app.case_study_feed(Some(&topic)).await?))
}

/// The link to share a published case study: its title, summary and
/// organisation as Open Graph and Twitter card metadata for link previews
/// (Teams, Slack and LinkedIn run no JavaScript), and people are sent on to
/// the case study's page. No names or contact details.
#[utoipa::path(get, path = "/share/case-studies/{id}", tag = "feeds",
    params(("id" = String, Path, description = "Case study id")),
    responses(
        (status = 200, description = "The share page", content_type = "text/html", body = String),
        (status = 404, description = "Not a published case study", content_type = "text/html", body = String)))]
pub async fn share_case_study(State(s): State<ApiState>, Path(id): Path<String>) -> ApiResult<Response> {
    match s.app.share_page(&id).await {
        Ok(page) => {
            let mut r = html(StatusCode::OK, page);
            // Crawlers may cache the preview a little; it holds nothing private.
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
            Ok(r)
        }
        Err(AppError::NotFound(_)) => Ok(message_page(
            &s.app.web_base_url,
            StatusCode::NOT_FOUND,
            "This case study cannot be shared",
            "It is not published on Qnet, or it was removed. Search Qnet for other case studies.",
        )),
        Err(e) => Err(e.into()),
    }
}
