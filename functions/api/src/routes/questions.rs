//! Questions on published case studies and resources, their answers, reports
//! to moderators, and readers' thanks ("This helped me"). Reading is open to
//! anyone who may read the item; everything else needs a signed-in member.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qnet_app::questions::{Answer, Question, QuestionList, ReportList, ReportReceived, TargetKind, Thanks};
use qnet_domain::question::wire::{QuestionBodyInput, ReportInput, ThanksInput};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Location, MatchedRoute, answer, idempotency};
use crate::ApiState;
use crate::auth::{Auth, MaybeAuth};
use crate::extract::{IdempotencyHeader, JsonBody, Query, query};
use crate::problem::ApiResult;

/// The page of a question list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuestionPageQuery {
    /// Questions per page (default 50)
    #[serde(default, deserialize_with = "query::limit")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next` from the previous page
    #[serde(default, deserialize_with = "query::text")]
    pub cursor: Option<String>,
}

impl QuestionPageQuery {
    fn page(self) -> qnet_app::PageRequest {
        qnet_app::PageRequest { limit: self.limit.unwrap_or(qnet_app::questions::DEFAULT_PAGE), cursor: self.cursor }
    }
}

async fn list(
    s: ApiState,
    c: Option<&qnet_app::Claims>,
    kind: TargetKind,
    id: &str,
    q: QuestionPageQuery,
) -> ApiResult<axum::Json<QuestionList>> {
    Ok(axum::Json(s.app.list_questions(c, kind, id, &q.page()).await?))
}

async fn ask(
    s: ApiState,
    c: &qnet_app::Claims,
    kind: TargetKind,
    id: &str,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    let at = Location::Under("/questions");
    let idem = idempotency(c, key, &route, Location::Under("/questions"), &body)?;
    Ok(answer(s.app.ask_question(c, kind, id, &body.value, idem.as_ref()).await?, &route, &at))
}

/// Questions on a case study with their answers, oldest first.
#[utoipa::path(get, path = "/case-studies/{id}/questions", tag = "questions", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Case study id"), QuestionPageQuery),
    responses((status = 200, description = "A page of questions", body = QuestionList)))]
pub async fn list_on_case_study(
    State(s): State<ApiState>,
    MaybeAuth(c): MaybeAuth,
    Path(id): Path<String>,
    Query(q): Query<QuestionPageQuery>,
) -> ApiResult<axum::Json<QuestionList>> {
    list(s, c.as_deref(), TargetKind::CaseStudy, &id, q).await
}

/// Asks a question on a published case study; its author is emailed and can answer by replying.
#[utoipa::path(post, path = "/case-studies/{id}/questions", tag = "questions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Case study id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed and unsent emails are sent")),
    request_body = QuestionBodyInput,
    responses((status = 201, description = "Asked", body = Question,
               headers(("Location" = String, description = "/questions/{id}")))))]
pub async fn ask_on_case_study(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    ask(s, &c, TargetKind::CaseStudy, &id, route, key, body).await
}

/// Questions on a resource with their answers, oldest first.
#[utoipa::path(get, path = "/resources/{id}/questions", tag = "questions", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Resource id"), QuestionPageQuery),
    responses((status = 200, description = "A page of questions", body = QuestionList)))]
pub async fn list_on_resource(
    State(s): State<ApiState>,
    MaybeAuth(c): MaybeAuth,
    Path(id): Path<String>,
    Query(q): Query<QuestionPageQuery>,
) -> ApiResult<axum::Json<QuestionList>> {
    list(s, c.as_deref(), TargetKind::Resource, &id, q).await
}

/// Asks a question on a published resource; its author is emailed and can answer by replying.
#[utoipa::path(post, path = "/resources/{id}/questions", tag = "questions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Resource id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed and unsent emails are sent")),
    request_body = QuestionBodyInput,
    responses((status = 201, description = "Asked", body = Question,
               headers(("Location" = String, description = "/questions/{id}")))))]
pub async fn ask_on_resource(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    ask(s, &c, TargetKind::Resource, &id, route, key, body).await
}

/// One question with its answers.
#[utoipa::path(get, path = "/questions/{id}", tag = "questions", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Question id")),
    responses((status = 200, description = "The question", body = Question)))]
pub async fn get_question(
    State(s): State<ApiState>,
    MaybeAuth(c): MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Question>> {
    Ok(axum::Json(s.app.get_question(c.as_deref(), &id).await?))
}

/// Removes a question with its answers: its author or a moderator. The text leaves the store.
#[utoipa::path(delete, path = "/questions/{id}", tag = "questions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Question id")),
    responses((status = 204, description = "Removed, with its answers")))]
pub async fn remove_question(State(s): State<ApiState>, Auth(c): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.remove_question(&c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Answers a question; the asker and the item's author are emailed.
#[utoipa::path(post, path = "/questions/{id}/answers", tag = "questions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Question id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed and unsent emails are sent")),
    request_body = QuestionBodyInput,
    responses((status = 201, description = "Answered", body = Answer,
               headers(("Location" = String, description = "/questions/{id}")))))]
pub async fn create_answer(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    let at = Location::At(format!("/questions/{id}"));
    let idem = idempotency(&c, key, &route, Location::At(format!("/questions/{id}")), &body)?;
    Ok(answer(s.app.answer_question(&c, &id, &body.value, idem.as_ref()).await?, &route, &at))
}

/// Removes an answer: its author or a moderator.
#[utoipa::path(delete, path = "/questions/{id}/answers/{answer_id}", tag = "questions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Question id"), ("answer_id" = String, Path, description = "Answer id")),
    responses((status = 204, description = "Removed")))]
pub async fn remove_answer(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, answer_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.remove_answer(&c, &id, &answer_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn received(r: ReportReceived) -> Response {
    (StatusCode::ACCEPTED, axum::Json(r)).into_response()
}

/// Reports a question to moderators; once per member (a repeat changes nothing).
#[utoipa::path(post, path = "/questions/{id}/reports", tag = "questions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Question id")),
    request_body = ReportInput,
    responses((status = 202, description = "Received", body = ReportReceived)))]
pub async fn report_question(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    body: JsonBody,
) -> ApiResult<Response> {
    Ok(received(s.app.report_question(&c, &id, None, &body.value).await?))
}

/// Reports an answer to moderators; once per member (a repeat changes nothing).
#[utoipa::path(post, path = "/questions/{id}/answers/{answer_id}/reports", tag = "questions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Question id"), ("answer_id" = String, Path, description = "Answer id")),
    request_body = ReportInput,
    responses((status = 202, description = "Received", body = ReportReceived)))]
pub async fn report_answer(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, answer_id)): Path<(String, String)>,
    body: JsonBody,
) -> ApiResult<Response> {
    Ok(received(s.app.report_question(&c, &id, Some(&answer_id), &body.value).await?))
}

/// Open reports of questions, answers and adoption notes, newest first (moderator).
#[utoipa::path(get, path = "/moderation/reports", tag = "questions", security(("bearer" = [])),
    responses((status = 200, description = "Open reports (at most 100)", body = ReportList)))]
pub async fn moderation_reports(State(s): State<ApiState>, Auth(c): Auth) -> ApiResult<axum::Json<ReportList>> {
    Ok(axum::Json(s.app.moderation_reports(&c).await?))
}

/// Closes a report; the reported text stays (moderator).
#[utoipa::path(post, path = "/moderation/reports/{id}/dismiss", tag = "questions", security(("bearer" = [])),
    params(("id" = String, Path, description = "Report id (the reported question's, answer's or adoption's id)")),
    responses((status = 204, description = "Dismissed")))]
pub async fn dismiss_report(State(s): State<ApiState>, Auth(c): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.app.dismiss_report(&c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// "This helped me" on a published case study: once per reader; again only changes `named`.
#[utoipa::path(post, path = "/case-studies/{id}/thanks", tag = "thanks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Case study id")),
    request_body = ThanksInput,
    responses((status = 200, description = "Thanked", body = Thanks)))]
pub async fn thank_case_study(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    body: JsonBody,
) -> ApiResult<axum::Json<Thanks>> {
    Ok(axum::Json(s.app.thank(&c, TargetKind::CaseStudy, &id, &body.value).await?))
}

/// The thanks of a case study; names only for its author and moderators.
#[utoipa::path(get, path = "/case-studies/{id}/thanks", tag = "thanks", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Case study id")),
    responses((status = 200, description = "The thanks", body = Thanks)))]
pub async fn case_study_thanks(
    State(s): State<ApiState>,
    MaybeAuth(c): MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Thanks>> {
    Ok(axum::Json(s.app.thanks_summary(c.as_deref(), TargetKind::CaseStudy, &id).await?))
}

/// "This helped me" on a published resource: once per reader; again only changes `named`.
#[utoipa::path(post, path = "/resources/{id}/thanks", tag = "thanks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Resource id")),
    request_body = ThanksInput,
    responses((status = 200, description = "Thanked", body = Thanks)))]
pub async fn thank_resource(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    body: JsonBody,
) -> ApiResult<axum::Json<Thanks>> {
    Ok(axum::Json(s.app.thank(&c, TargetKind::Resource, &id, &body.value).await?))
}

/// The thanks of a resource; names only for its author and moderators.
#[utoipa::path(get, path = "/resources/{id}/thanks", tag = "thanks", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Resource id")),
    responses((status = 200, description = "The thanks", body = Thanks)))]
pub async fn resource_thanks(
    State(s): State<ApiState>,
    MaybeAuth(c): MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Thanks>> {
    Ok(axum::Json(s.app.thanks_summary(c.as_deref(), TargetKind::Resource, &id).await?))
}
