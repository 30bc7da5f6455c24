//! QI projects: the register, PDSA cycles, measures, points (JSON or CSV),
//! annotations, run/XmR analysis and charts, and the discussion board. Every
//! route but the classification guide needs a signed-in member.

#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qnet_app::boards::{Board, BoardMessage, FollowState};
use qnet_app::projects::{
    AnalysisRequest, Annotation, ClassificationGuide, Measure, MeasureList, Pdsa, PdsaList, PointsUploaded, ProjectList,
    ProjectListRequest, ProjectView, classification_guide,
};
use qnet_domain::project::NewProject;
use qnet_domain::project::wire::{
    AnnotationInput, MeasureInput, PdsaInput, PointsInput, PostInput, ProjectInput, ProjectPatchInput,
};
use utoipa::ToSchema;

use super::{Location, MatchedRoute, answer, create_once, idempotency, with_etag};
use crate::ApiState;
use crate::auth::Auth;
use crate::extract::{IdempotencyHeader, IfMatch, JsonBody, MAX_BODY, Query, WholePageQuery, query};
use crate::problem::{ApiResult, Problem};
use serde::Deserialize;
use utoipa::IntoParams;

// Request bodies (documentation; the domain parses them).

// The analysis answer (the JSON contract of qnet-charts, docs/charts.md).

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    Run,
    Xmr,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignalRule {
    Astronomical,
    Trend,
    TwoInThree,
    Shift,
    Crossings,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignalKindDoc {
    Improvement,
    Concern,
    Neither,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VariationDoc {
    CommonCause,
    SpecialCauseImprovement,
    SpecialCauseConcern,
    SpecialCauseNeither,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssuranceDoc {
    ConsistentlyMet,
    ConsistentlyMissed,
    Inconsistent,
}

#[derive(ToSchema)]
pub struct ChartPoint {
    #[schema(format = Date)]
    pub date: String,
    pub value: f64,
}

#[derive(ToSchema)]
pub struct ChartSegment {
    /// Inclusive.
    pub from_index: u64,
    /// Inclusive.
    pub to_index: u64,
    /// The median (run chart) or mean (XmR) of the segment's baseline.
    pub centre: f64,
    /// Null for run charts.
    pub lower_limit: Option<f64>,
    pub upper_limit: Option<f64>,
}

#[derive(ToSchema)]
pub struct ChartSignal {
    pub rule: SignalRule,
    /// 0-based indices into `points`, ascending.
    pub points: Vec<u64>,
    pub kind: SignalKindDoc,
}

#[derive(ToSchema)]
pub struct ChartNotEvaluated {
    pub rule: SignalRule,
    pub needs_points: u64,
}

/// The analysis of a measure (see docs/charts.md).
#[derive(ToSchema)]
pub struct MeasureAnalysis {
    pub chart: ChartKind,
    pub points: Vec<ChartPoint>,
    pub segments: Vec<ChartSegment>,
    pub signals: Vec<ChartSignal>,
    /// Run charts (last segment); null for XmR.
    pub useful_observations: Option<u64>,
    pub longest_run: Option<u64>,
    pub longest_run_max: Option<u64>,
    pub crossings: Option<u64>,
    pub crossings_min: Option<u64>,
    /// XmR only: the latest point's variation.
    pub variation: Option<VariationDoc>,
    /// XmR with a target and a direction only.
    pub assurance: Option<AssuranceDoc>,
    pub not_evaluated: Vec<ChartNotEvaluated>,
}

/// Points as JSON or as CSV text.
pub enum PointsBody {
    Json(JsonBody),
    Csv(String),
}

impl<S: Send + Sync> FromRequest<S> for PointsBody {
    type Rejection = Problem;
    async fn from_request(req: Request, s: &S) -> Result<Self, Problem> {
        let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if essence != "text/csv" {
            return JsonBody::from_request(req, s).await.map(PointsBody::Json);
        }
        let raw: Bytes = axum::body::to_bytes(req.into_body(), MAX_BODY).await.map_err(|_| {
            Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", "The request body is too large", "send at most 1 MB")
        })?;
        String::from_utf8(raw.to_vec()).map(PointsBody::Csv).map_err(|_| Problem::bad_request("the CSV is not UTF-8 text"))
    }
}

/// The chart, baseline and break point of a measure's analysis; the use case
/// checks each value (`qnet_app::projects::AnalysisRequest`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalysisQuery {
    /// run or xmr
    #[serde(default, deserialize_with = "query::text")]
    #[param(required = true)]
    pub chart: Option<String>,
    /// The first N points of each segment fix its lines
    #[serde(default, deserialize_with = "query::text")]
    #[param(value_type = Option<u32>, minimum = 2)]
    pub baseline: Option<String>,
    /// A break point: new lines from this date
    #[serde(default, deserialize_with = "query::text")]
    #[param(format = Date)]
    pub recalculate_from: Option<String>,
}

impl AnalysisQuery {
    fn request(self) -> AnalysisRequest {
        AnalysisRequest { chart: self.chart, baseline: self.baseline, recalculate_from: self.recalculate_from }
    }
}

/// `limit` and `cursor` of the board: threads per page.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThreadPageQuery {
    /// Threads per page (default 100)
    #[serde(default, deserialize_with = "query::limit")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// next_cursor from the previous page
    #[serde(default, deserialize_with = "query::text")]
    pub cursor: Option<String>,
}

impl ThreadPageQuery {
    fn page(self) -> qnet_app::PageRequest {
        WholePageQuery { limit: self.limit, cursor: self.cursor }.page()
    }
}

/// The filters and page of `GET /projects`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectListQuery {
    /// Only this topic (an id from GET /topics)
    #[serde(default, deserialize_with = "query::text")]
    pub topic: Option<String>,
    /// Only projects of this organisation
    #[serde(default, deserialize_with = "query::text")]
    pub organisation: Option<String>,
    /// idea, active, sustaining, completed or stopped
    #[serde(default, deserialize_with = "query::text")]
    pub status: Option<String>,
    /// quality_improvement, audit, service_evaluation or research
    #[serde(default, deserialize_with = "query::text")]
    pub classification: Option<String>,
    /// Page size (default 20)
    #[serde(default, deserialize_with = "query::limit")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// next_cursor from the previous page
    #[serde(default, deserialize_with = "query::text")]
    pub cursor: Option<String>,
}

/// The guided questions that classify a project (quality improvement, audit,
/// service evaluation or research: research needs ethics approval), and the
/// IHI progress scale.
#[utoipa::path(get, path = "/projects/classification-questions", tag = "projects",
    responses((status = 200, description = "The questions and what the answers mean", body = ClassificationGuide)))]
pub async fn classification_questions() -> axum::Json<ClassificationGuide> {
    axum::Json(classification_guide())
}

/// The projects whose team the caller is in, newest first (at most 100): the
/// choice when linking one of your projects, e.g. to a case study you adopt.
#[utoipa::path(get, path = "/me/projects", tag = "projects", security(("bearer" = [])),
    responses((status = 200, description = "Your projects", body = ProjectList)))]
pub async fn my_projects(State(s): State<ApiState>, Auth(c): Auth) -> ApiResult<axum::Json<ProjectList>> {
    Ok(axum::Json(s.app.my_projects(&c).await?))
}

/// Projects, newest first. Every member can read every project.
#[utoipa::path(get, path = "/projects", tag = "projects", security(("bearer" = [])),
    params(ProjectListQuery),
    responses((status = 200, description = "A page of projects", body = ProjectList)))]
pub async fn list(
    State(s): State<ApiState>,
    Auth(_c): Auth,
    Query(q): Query<ProjectListQuery>,
) -> ApiResult<axum::Json<ProjectList>> {
    let req = ProjectListRequest {
        topic: q.topic,
        organisation: q.organisation,
        status: q.status,
        classification: q.classification,
        limit: q.limit.unwrap_or(qnet_app::case_studies::DEFAULT_PAGE),
        cursor: q.cursor,
    };
    Ok(axum::Json(s.app.list_projects(&req).await?))
}

/// Registers a project; the creator leads its team.
#[utoipa::path(post, path = "/projects", tag = "projects", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    request_body = ProjectInput,
    responses((status = 201, description = "Created", body = ProjectView,
               headers(("Location" = String, description = "The new project")))))]
pub async fn create(
    State(s): State<ApiState>,
    Auth(c): Auth,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    create_once(&s, &c, key, route, Location::Below, &body, async |idem| {
        let input = NewProject::parse(&body.value, s.app.today())?;
        s.app.create_project(&c, input, idem.as_ref()).await
    })
    .await
}

/// One project.
#[utoipa::path(get, path = "/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id")),
    responses((status = 200, description = "The project", body = ProjectView,
               headers(("ETag" = String, description = "The version, for If-Match")))))]
pub async fn get(State(s): State<ApiState>, Auth(c): Auth, Path(id): Path<String>) -> ApiResult<Response> {
    let v = s.app.get_project(&c, &id).await?;
    let version = v.version;
    Ok(with_etag(v, version))
}

/// Changes a project: its team members and moderators only.
#[utoipa::path(patch, path = "/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"),
           ("If-Match" = String, Header, description = "The version you read (ETag); required")),
    request_body = ProjectPatchInput,
    responses((status = 200, description = "Updated", body = ProjectView)))]
pub async fn update(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    body: JsonBody,
) -> ApiResult<Response> {
    let view = s.app.update_project(&c, &id, &body.value, v).await?;
    let version = view.version;
    Ok(with_etag(view, version))
}

/// The project's PDSA cycles, oldest first, a page at a time.
#[utoipa::path(get, path = "/projects/{id}/pdsa", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), WholePageQuery),
    responses((status = 200, description = "A page of PDSA cycles", body = PdsaList)))]
pub async fn list_pdsa(
    State(s): State<ApiState>,
    Auth(_c): Auth,
    Path(id): Path<String>,
    Query(q): Query<WholePageQuery>,
) -> ApiResult<axum::Json<PdsaList>> {
    Ok(axum::Json(s.app.list_pdsa(&id, &q.page()).await?))
}

/// Records a PDSA cycle (team members and moderators).
#[utoipa::path(post, path = "/projects/{id}/pdsa", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    request_body = PdsaInput,
    responses((status = 201, description = "Created", body = Pdsa)))]
pub async fn create_pdsa(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    create_once(&s, &c, key, route, Location::Route, &body, async |idem| {
        s.app.create_pdsa(&c, &id, &body.value, idem.as_ref()).await
    })
    .await
}

/// The project's measures, a page at a time.
#[utoipa::path(get, path = "/projects/{id}/measures", tag = "measures", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), WholePageQuery),
    responses((status = 200, description = "A page of measures", body = MeasureList)))]
pub async fn list_measures(
    State(s): State<ApiState>,
    Auth(_c): Auth,
    Path(id): Path<String>,
    Query(q): Query<WholePageQuery>,
) -> ApiResult<axum::Json<MeasureList>> {
    Ok(axum::Json(s.app.list_measures(&id, &q.page()).await?))
}

/// Adds a measure (team members and moderators).
#[utoipa::path(post, path = "/projects/{id}/measures", tag = "measures", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    request_body = MeasureInput,
    responses((status = 201, description = "Created", body = Measure)))]
pub async fn create_measure(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    create_once(&s, &c, key, route, Location::Below, &body, async |idem| {
        s.app.create_measure(&c, &id, &body.value, idem.as_ref()).await
    })
    .await
}

/// One measure.
#[utoipa::path(get, path = "/projects/{id}/measures/{mid}", tag = "measures", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("mid" = String, Path, description = "Measure id")),
    responses((status = 200, description = "The measure", body = Measure,
               headers(("ETag" = String, description = "The version, for If-Match")))))]
pub async fn get_measure(
    State(s): State<ApiState>,
    Auth(_c): Auth,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let m = s.app.get_measure(&id, &mid).await?;
    let version = m.version;
    Ok(with_etag(m, version))
}

/// Changes a measure (team members and moderators).
#[utoipa::path(patch, path = "/projects/{id}/measures/{mid}", tag = "measures", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("mid" = String, Path, description = "Measure id"),
           ("If-Match" = String, Header, description = "The version you read; required")),
    request_body = MeasureInput,
    responses((status = 200, description = "Updated", body = Measure)))]
pub async fn update_measure(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, mid)): Path<(String, String)>,
    IfMatch(v): IfMatch,
    body: JsonBody,
) -> ApiResult<Response> {
    let m = s.app.update_measure(&c, &id, &mid, &body.value, v).await?;
    let version = m.version;
    Ok(with_etag(m, version))
}

/// Adds data points, replacing the value on any date the measure already has:
/// JSON `{"points": [{"date", "value"}]}` or `text/csv` with a `date,value`
/// header. Every bad point is named (CSV: by line) and nothing changes.
#[utoipa::path(post, path = "/projects/{id}/measures/{mid}/points", tag = "measures", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("mid" = String, Path, description = "Measure id")),
    request_body(content((PointsInput = "application/json"), (String = "text/csv"))),
    responses((status = 200, description = "Stored", body = PointsUploaded)))]
pub async fn upload_points(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, mid)): Path<(String, String)>,
    body: PointsBody,
) -> ApiResult<axum::Json<PointsUploaded>> {
    let r = match &body {
        PointsBody::Json(j) => s.app.upload_points(&c, &id, &mid, Some(&j.value), None).await?,
        PointsBody::Csv(t) => s.app.upload_points(&c, &id, &mid, None, Some(t)).await?,
    };
    Ok(axum::Json(r))
}

/// Notes a date on the measure's chart: a change tested, a new process.
#[utoipa::path(post, path = "/projects/{id}/measures/{mid}/annotations", tag = "measures", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("mid" = String, Path, description = "Measure id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    request_body = AnnotationInput,
    responses((status = 201, description = "Created", body = Annotation)))]
pub async fn create_annotation(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, mid)): Path<(String, String)>,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    let parent = Location::At(format!("/projects/{id}/measures/{mid}"));
    create_once(&s, &c, key, route, parent, &body, async |idem| {
        s.app.create_annotation(&c, &id, &mid, &body.value, idem.as_ref()).await
    })
    .await
}

/// The run chart (Anhøj rules) or XmR chart (Making Data Count) analysis of a
/// measure: every point, segments with centre and limits, signals, verdicts.
#[utoipa::path(get, path = "/projects/{id}/measures/{mid}/analysis", tag = "measures", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("mid" = String, Path, description = "Measure id"), AnalysisQuery),
    responses((status = 200, description = "The analysis", body = MeasureAnalysis)))]
pub async fn analysis(
    State(s): State<ApiState>,
    Auth(_c): Auth,
    Path((id, mid)): Path<(String, String)>,
    Query(q): Query<AnalysisQuery>,
) -> ApiResult<Response> {
    let a = s.app.measure_analysis(&id, &mid, &q.request()).await?;
    Ok(axum::Json(a).into_response())
}

/// The chart as an accessible SVG (title, description, axes, centre line,
/// limits, signals, annotations, target), readable at 600 px wide.
#[utoipa::path(get, path = "/projects/{id}/measures/{mid}/chart.svg", tag = "measures", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("mid" = String, Path, description = "Measure id"), AnalysisQuery),
    responses((status = 200, description = "The chart", content_type = "image/svg+xml", body = String)))]
pub async fn chart_svg(
    State(s): State<ApiState>,
    Auth(_c): Auth,
    Path((id, mid)): Path<(String, String)>,
    Query(q): Query<AnalysisQuery>,
) -> ApiResult<Response> {
    let svg = s.app.measure_chart(&id, &mid, &q.request()).await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml")),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache")),
        ],
        svg,
    )
        .into_response())
}

/// The project's discussion board: posts, newest first, each with its replies;
/// a page holds `limit` threads.
#[utoipa::path(get, path = "/projects/{id}/posts", tag = "boards", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ThreadPageQuery),
    responses((status = 200, description = "A page of the board", body = Board)))]
pub async fn board(
    State(s): State<ApiState>,
    Auth(_c): Auth,
    Path(id): Path<String>,
    Query(q): Query<ThreadPageQuery>,
) -> ApiResult<axum::Json<Board>> {
    Ok(axum::Json(s.app.board(&id, &q.page()).await?))
}

/// Posts on the board; followers (not the author) get an email they can reply to.
#[utoipa::path(post, path = "/projects/{id}/posts", tag = "boards", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed and unsent emails are sent")),
    request_body = PostInput,
    responses((status = 201, description = "Posted", body = BoardMessage)))]
pub async fn create_post(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    let idem = idempotency(&c, key, &route, Location::Route, &body)?;
    Ok(answer(s.app.create_board_message(&c, &id, None, &body.value, idem.as_ref()).await?, &route, &Location::Route))
}

/// Replies to a post on the board.
#[utoipa::path(post, path = "/projects/{id}/posts/{post_id}/replies", tag = "boards", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("post_id" = String, Path, description = "Post id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed and unsent emails are sent")),
    request_body = PostInput,
    responses((status = 201, description = "Replied", body = BoardMessage)))]
pub async fn create_reply(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, post_id)): Path<(String, String)>,
    route: MatchedRoute,
    key: IdempotencyHeader,
    body: JsonBody,
) -> ApiResult<Response> {
    let posts = Location::At(format!("/projects/{id}/posts"));
    let idem = idempotency(&c, key, &route, posts.clone(), &body)?;
    Ok(answer(s.app.create_board_message(&c, &id, Some(&post_id), &body.value, idem.as_ref()).await?, &route, &posts))
}

/// Accepts an invitation to the project's team: the caller joins the team and
/// follows its board. 404 when the caller is not invited.
#[utoipa::path(post, path = "/projects/{id}/invitation/accept", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id")),
    responses((status = 200, description = "On the team; the project as it is now", body = ProjectView)))]
pub async fn accept_invitation(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ProjectView>> {
    Ok(axum::Json(s.app.answer_invitation(&c, &id, true).await?))
}

/// Declines an invitation to the project's team. 404 when the caller is not invited.
#[utoipa::path(post, path = "/projects/{id}/invitation/decline", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id")),
    responses((status = 200, description = "Declined; the project as it is now", body = ProjectView)))]
pub async fn decline_invitation(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ProjectView>> {
    Ok(axum::Json(s.app.answer_invitation(&c, &id, false).await?))
}

/// Takes a post down, with its replies: its author, the project's team or a moderator.
#[utoipa::path(delete, path = "/projects/{id}/posts/{post_id}", tag = "boards", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("post_id" = String, Path, description = "Post id")),
    responses((status = 204, description = "Deleted, with its replies"),
        (status = 403, description = "Not its author, on the team or a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project or post", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_post(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, post_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.delete_board_message(&c, &id, &post_id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a reply down: its author, the project's team or a moderator.
#[utoipa::path(delete, path = "/projects/{id}/posts/{post_id}/replies/{reply_id}", tag = "boards", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("post_id" = String, Path, description = "Post id"),
        ("reply_id" = String, Path, description = "Reply id")),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "Not its author, on the team or a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project, post or reply", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_reply(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, post_id, reply_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.app.delete_board_message(&c, &id, &post_id, Some(&reply_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a PDSA cycle: its author, the project's team or a moderator.
#[utoipa::path(delete, path = "/projects/{id}/pdsa/{pdsa_id}", tag = "projects", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("pdsa_id" = String, Path, description = "PDSA cycle id")),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "Not its author, on the team or a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project or cycle", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_pdsa(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, pdsa_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.delete_pdsa(&c, &id, &pdsa_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes an annotation: its author, the project's team or a moderator.
#[utoipa::path(delete, path = "/projects/{id}/measures/{mid}/annotations/{annotation_id}", tag = "measures", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("mid" = String, Path, description = "Measure id"),
        ("annotation_id" = String, Path, description = "Annotation id")),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "Not its author, on the team or a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project, measure or annotation", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_annotation(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, mid, annotation_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.app.delete_annotation(&c, &id, &mid, &annotation_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a measure's point on a date: the project's team or a moderator.
#[utoipa::path(delete, path = "/projects/{id}/measures/{mid}/points/{date}", tag = "measures", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id"), ("mid" = String, Path, description = "Measure id"),
        ("date" = String, Path, description = "The point's date, YYYY-MM-DD")),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "Not on the team or a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project, measure or point", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_point(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Path((id, mid, date)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.app.delete_point(&c, &id, &mid, &date).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Follows the project's board: an email for each new post and reply.
#[utoipa::path(post, path = "/projects/{id}/follow", tag = "boards", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id")),
    responses((status = 200, description = "Following", body = FollowState)))]
pub async fn follow(State(s): State<ApiState>, Auth(c): Auth, Path(id): Path<String>) -> ApiResult<axum::Json<FollowState>> {
    Ok(axum::Json(s.app.follow_project(&c, &id, true).await?))
}

/// Stops following the project's board.
#[utoipa::path(delete, path = "/projects/{id}/follow", tag = "boards", security(("bearer" = [])),
    params(("id" = String, Path, description = "Project id")),
    responses((status = 200, description = "Not following", body = FollowState)))]
pub async fn unfollow(State(s): State<ApiState>, Auth(c): Auth, Path(id): Path<String>) -> ApiResult<axum::Json<FollowState>> {
    Ok(axum::Json(s.app.follow_project(&c, &id, false).await?))
}
