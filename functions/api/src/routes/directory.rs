//! `GET /members`: the member directory. A staff directory, so signed-in
//! members only: anonymous callers get 401. Members appear only once they chose
//! to (`PATCH /me` `listed: true`), and never with their email address.

use axum::extract::State;
use qnet_app::directory::{DirectoryPage, DirectoryRequest};

use crate::ApiState;
use crate::auth::Auth;
use crate::extract::QueryParams;
use crate::problem::ApiResult;

/// Members who chose to be listed, by name: organisation, job title, topics and
/// a mentor badge (never email addresses). Filters combine.
#[utoipa::path(get, path = "/members", tag = "members", security(("bearer" = [])),
    params(("topic" = Option<String>, Query, description = "Only members interested in this topic (an id from GET /topics)"),
           ("organisation" = Option<String>, Query, description = "Only members of this organisation (its id)"),
           ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size (default 20)"),
           ("cursor" = Option<String>, Query, description = "next_cursor from the previous page")),
    responses((status = 200, description = "A page of listed members", body = DirectoryPage)))]
pub async fn list(State(s): State<ApiState>, _caller: Auth, q: QueryParams) -> ApiResult<axum::Json<DirectoryPage>> {
    let req = DirectoryRequest {
        topic: q.text("topic"),
        organisation_id: q.text("organisation"),
        limit: q.limit()?,
        cursor: q.text("cursor"),
    };
    Ok(axum::Json(s.app.member_directory(&req).await?))
}
