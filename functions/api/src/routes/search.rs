//! `GET /search`: published case studies (and, as they arrive, resources and
//! events) by relevance, with highlights from each record's current text.

use axum::extract::State;
use qnet_app::search::SearchResults;

use crate::ApiState;
use crate::extract::QueryParams;
use crate::problem::ApiResult;

/// Full-text search over what is published: relevance-ranked, tolerant of a
/// typo per word, filtered by type and topic. Anyone may search.
#[utoipa::path(get, path = "/search", tag = "search",
    params(("q" = String, Query, min_length = 1, max_length = 200, description = "The words to find"),
           ("type" = Option<String>, Query, description = "case_study, resource or event"),
           ("topic" = Option<String>, Query, description = "A topic id (see GET /topics)"),
           ("limit" = Option<u32>, Query, minimum = 1, maximum = 50, description = "Page size (default 20)"),
           ("cursor" = Option<String>, Query, description = "next_cursor from the previous page")),
    responses((status = 200, description = "A page of matches, best first", body = SearchResults)))]
pub async fn search(State(s): State<ApiState>, q: QueryParams) -> ApiResult<axum::Json<SearchResults>> {
    let limit = q.limit()?;
    let text = q.text("q").unwrap_or_default();
    Ok(axum::Json(
        s.app.search(&text, q.text("type").as_deref(), q.text("topic").as_deref(), q.text("cursor").as_deref(), limit).await?,
    ))
}
