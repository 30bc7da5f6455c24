//! `GET /search`: published case studies (and, as they arrive, resources and
//! events) by relevance, with highlights from each record's current text.

use axum::extract::State;
use qnet_app::search::SearchResults;

use crate::ApiState;
use crate::extract::{Query, query};
use crate::problem::ApiResult;
use serde::Deserialize;
use utoipa::IntoParams;

/// The words, filters and page of `GET /search`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words to find
    #[serde(default, deserialize_with = "query::text")]
    #[param(required = true, min_length = 1, max_length = 200)]
    pub q: Option<String>,
    /// case_study, resource or event (never project)
    #[serde(default, deserialize_with = "query::text", rename = "type")]
    pub kind: Option<String>,
    /// A topic id (see GET /topics)
    #[serde(default, deserialize_with = "query::text")]
    pub topic: Option<String>,
    /// Page size (default 20)
    #[serde(default, deserialize_with = "query::limit")]
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
    /// next_cursor from the previous page
    #[serde(default, deserialize_with = "query::text")]
    pub cursor: Option<String>,
}

/// Full-text search over what is published: relevance-ranked, tolerant of a
/// typo per word, filtered by type and topic. Anyone may search. QI projects
/// are never answered here, signed in or not (`type=project` is refused): they
/// are for signed-in members, who find them with `GET /projects` and, while
/// drafting, `POST /similar`.
#[utoipa::path(get, path = "/search", tag = "search",
    params(SearchQuery),
    responses((status = 200, description = "A page of matches, best first", body = SearchResults)))]
pub async fn search(State(s): State<ApiState>, Query(q): Query<SearchQuery>) -> ApiResult<axum::Json<SearchResults>> {
    let limit = q.limit.unwrap_or(qnet_app::case_studies::DEFAULT_PAGE);
    let text = q.q.unwrap_or_default();
    Ok(axum::Json(s.app.search(&text, q.kind.as_deref(), q.topic.as_deref(), q.cursor.as_deref(), limit).await?))
}
