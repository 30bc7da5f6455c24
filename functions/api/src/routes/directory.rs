//! `GET /members`: the member directory. A staff directory, so signed-in
//! members only: anonymous callers get 401. Members appear only once they chose
//! to (`PATCH /me` `listed: true`), and never with their email address.

use axum::extract::State;
use qnet_app::directory::{DirectoryPage, DirectoryRequest};

use crate::ApiState;
use crate::auth::Auth;
use crate::extract::{Query, query};
use crate::problem::ApiResult;
use serde::Deserialize;
use utoipa::IntoParams;

/// The filters and page of `GET /members`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// Only members interested in this topic (an id from GET /topics)
    #[serde(default, deserialize_with = "query::text")]
    pub topic: Option<String>,
    /// Only members of this organisation (its id)
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

/// Members who chose to be listed, by name: organisation, job title, topics and
/// a mentor badge (never email addresses). Filters combine.
#[utoipa::path(get, path = "/members", tag = "members", security(("bearer" = [])),
    params(DirectoryQuery),
    responses((status = 200, description = "A page of listed members", body = DirectoryPage)))]
pub async fn list(
    State(s): State<ApiState>,
    _caller: Auth,
    Query(q): Query<DirectoryQuery>,
) -> ApiResult<axum::Json<DirectoryPage>> {
    let req = DirectoryRequest {
        topic: q.topic,
        organisation_id: q.organisation,
        limit: q.limit.unwrap_or(qnet_app::case_studies::DEFAULT_PAGE),
        cursor: q.cursor,
    };
    Ok(axum::Json(s.app.member_directory(&req).await?))
}
