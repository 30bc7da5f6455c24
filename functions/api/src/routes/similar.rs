//! Similar work, before duplicating it (issue 22): what the network already
//! holds like a draft project or case study, and asking a project's lead to
//! team up.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use qnet_app::similar::SimilarWork;
use qnet_domain::similar::SimilarDraft;
use qnet_domain::similar::wire::{SimilarInput, TeamUpInput};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ApiState;
use crate::auth::Auth;
use crate::extract::{IdempotencyHeader, JsonBody};
use crate::problem::{ApiResult, Problem};

/// The projects and published case studies most like a draft (more-like-this
/// over its title, aim and topics), best first: at most 5, or `limit` (up to
/// 10). Only what the caller may see: published case studies, and projects
/// (for signed-in members only, which is why this needs a login and why the
/// public `GET /search` never answers projects). Each with its organisation,
/// its team (a case study: its author, as its page names them) and, for a
/// project, whether the caller follows it.
#[utoipa::path(post, path = "/similar", tag = "search", security(("bearer" = [])),
    request_body = SimilarInput,
    responses((status = 200, description = "Similar work, best first", body = SimilarWork)))]
pub async fn find_similar_work(State(s): State<ApiState>, Auth(c): Auth, body: JsonBody) -> ApiResult<axum::Json<SimilarWork>> {
    let draft = SimilarDraft::parse(&body.value).map_err(Problem::from)?;
    Ok(axum::Json(s.app.similar_work(&c, draft).await?))
}

/// What a request to team up answers.
#[derive(Serialize, ToSchema)]
pub struct TeamUpSent {
    /// Always `sent`.
    pub status: String,
}

/// Asks the project's lead to team up: they get the message by email, with
/// the caller's name, organisation and email address (Reply-To the caller).
/// Once a week per member and project: a retry or a repeat within seven days
/// answers 202 and sends nothing more (an `Idempotency-Key`, if sent, changes
/// nothing). Refused (409) for a member already in the team.
#[utoipa::path(post, path = "/projects/{id}/team-up", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Optional: a retry with it is answered as the first")),
    request_body = TeamUpInput,
    responses((status = 202, description = "Sent (or sent already this week)", body = TeamUpSent)))]
pub async fn ask_to_team_up(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    _key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<(StatusCode, axum::Json<TeamUpSent>)> {
    s.app.team_up(&c, &id, &body.value).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(TeamUpSent { status: "sent".into() })))
}
