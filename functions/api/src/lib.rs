//! The HTTP API: one axum router, served by `lambda_http` in Lambda and by hyper
//! in `qnet serve`, so both run identical code.

pub mod auth;
pub mod extract;
pub mod problem;
pub mod routes;

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use qnet_app::App;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::{Authenticator, CognitoVerifier};
use problem::Problem;

/// Dependencies of every handler, built once.
#[derive(Clone)]
pub struct ApiState {
    pub app: App,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Qnet API",
        version = "1.0.0",
        description = "Case studies, organisations and members of the Qnet quality-improvement network. Errors are RFC 9457 problem details."
    ),
    components(schemas(problem::Problem, problem::ProblemField))
)]
struct ApiDoc;

/// Every documented route. The router is built from this and nothing else, so the
/// document and the router cannot disagree.
fn api_routes() -> OpenApiRouter<ApiState> {
    use routes::{case_studies as cs, digest, mentoring, meta, organisations as orgs, people};
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(meta::health))
        .routes(routes!(meta::topics))
        .routes(routes!(routes::insights::show))
        .routes(routes!(routes::insights::csv))
        .routes(routes!(meta::openapi_document))
        .routes(routes!(orgs::list, orgs::create))
        .routes(routes!(orgs::update))
        .routes(routes!(routes::roles::list, routes::roles::grant, routes::roles::revoke))
        .routes(routes!(cs::list, cs::create))
        .routes(routes!(cs::template))
        .routes(routes!(routes::outward::list_highlights))
        .routes(routes!(routes::outward::highlight_case_study, routes::outward::unhighlight_case_study))
        .routes(routes!(routes::outward::case_study_feed))
        .routes(routes!(routes::outward::topic_case_study_feed))
        .routes(routes!(routes::outward::share_case_study))
        .routes(routes!(cs::get, cs::update))
        .routes(routes!(cs::publish))
        .routes(routes!(cs::reject))
        .routes(routes!(cs::release_hold))
        .routes(routes!(cs::add_attachment))
        .routes(routes!(cs::download_attachment))
        .routes(routes!(routes::adoptions::list_adoptions, routes::adoptions::adopt_case_study))
        .routes(routes!(routes::adoptions::remove_adoption))
        .routes(routes!(routes::adoptions::report_adoption))
        .routes(routes!(routes::projects::classification_questions))
        .routes(routes!(routes::projects::list, routes::projects::create))
        .routes(routes!(routes::projects::my_projects))
        .routes(routes!(routes::projects::get, routes::projects::update))
        .routes(routes!(routes::projects::list_pdsa, routes::projects::create_pdsa))
        .routes(routes!(routes::projects::list_measures, routes::projects::create_measure))
        .routes(routes!(routes::projects::get_measure, routes::projects::update_measure))
        .routes(routes!(routes::projects::upload_points))
        .routes(routes!(routes::projects::create_annotation))
        .routes(routes!(routes::projects::analysis))
        .routes(routes!(routes::projects::chart_svg))
        .routes(routes!(routes::projects::board, routes::projects::create_post))
        .routes(routes!(routes::projects::create_reply))
        .routes(routes!(routes::projects::delete_post))
        .routes(routes!(routes::projects::delete_reply))
        .routes(routes!(routes::projects::delete_pdsa))
        .routes(routes!(routes::projects::delete_annotation))
        .routes(routes!(routes::projects::delete_point))
        .routes(routes!(routes::projects::follow, routes::projects::unfollow))
        .routes(routes!(routes::similar::ask_to_team_up))
        .routes(routes!(routes::similar::find_similar_work))
        .routes(routes!(routes::projects::accept_invitation))
        .routes(routes!(routes::projects::decline_invitation))
        .routes(routes!(people::me, people::update_me, people::erase_me))
        .routes(routes!(people::my_case_studies))
        .routes(routes!(people::moderation_queue))
        .routes(routes!(routes::directory::list))
        .routes(routes!(people::assign_organisation))
        .routes(routes!(digest::preview))
        .routes(routes!(routes::search::search))
        .routes(routes!(routes::resources::list, routes::resources::create))
        .routes(routes!(routes::resources::get, routes::resources::update))
        .routes(routes!(routes::resources::publish))
        .routes(routes!(routes::resources::reject))
        .routes(routes!(routes::resources::release_hold))
        .routes(routes!(routes::resources::add_file))
        .routes(routes!(routes::resources::download))
        .routes(routes!(routes::resources::moderation_queue))
        .routes(routes!(digest::unsubscribe_page, digest::unsubscribe))
        .routes(routes!(digest::request_confirmation))
        .routes(routes!(digest::confirmation_page, digest::confirm))
        .routes(routes!(mentoring::my_mentor, mentoring::put_mentor, mentoring::delete_mentor))
        .routes(routes!(mentoring::create_request))
        .routes(routes!(mentoring::my_requests))
        .routes(routes!(mentoring::get_request, mentoring::withdraw_request))
        .routes(routes!(mentoring::matches))
        .routes(routes!(mentoring::decline_proposal))
        .routes(routes!(mentoring::close_pairing))
        .routes(routes!(routes::my_mentees::my_mentees))
        .routes(routes!(routes::my_coffee::my_coffee))
        .routes(routes!(routes::portfolio::portfolio))
        .routes(routes!(routes::portfolio::portfolio_csv))
        .routes(routes!(mentoring::offer))
        .routes(routes!(mentoring::accept))
        .routes(routes!(mentoring::decline))
        .routes(routes!(routes::events::list, routes::events::create))
        .routes(routes!(routes::events::get, routes::events::update))
        .routes(routes!(routes::events::cancel))
        .routes(routes!(routes::events::calendar))
        .routes(routes!(routes::events::book, routes::events::bookings))
        .routes(routes!(routes::events::cancel_booking))
        .routes(routes!(routes::events::accept))
        .routes(routes!(routes::events::decline))
        .routes(routes!(routes::attendance::mark))
        .routes(routes!(routes::attendance::export))
        .routes(routes!(routes::events::my_bookings))
        .routes(routes!(routes::events::visit_request))
        .routes(routes!(routes::events::accept_visit))
        .routes(routes!(routes::events::decline_visit))
        .routes(routes!(routes::calendar_feeds::status, routes::calendar_feeds::create, routes::calendar_feeds::revoke))
        .routes(routes!(routes::calendar_feeds::feed))
        .routes(routes!(routes::questions::list_on_case_study, routes::questions::ask_on_case_study))
        .routes(routes!(routes::questions::list_on_resource, routes::questions::ask_on_resource))
        .routes(routes!(routes::questions::get_question, routes::questions::remove_question))
        .routes(routes!(routes::questions::create_answer))
        .routes(routes!(routes::questions::remove_answer))
        .routes(routes!(routes::questions::report_question))
        .routes(routes!(routes::questions::report_answer))
        .routes(routes!(routes::questions::moderation_reports))
        .routes(routes!(routes::questions::dismiss_report))
        .routes(routes!(routes::questions::case_study_thanks, routes::questions::thank_case_study))
        .routes(routes!(routes::questions::resource_thanks, routes::questions::thank_resource))
}

/// The OpenAPI document, with the error answers every operation can give.
pub fn openapi() -> utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, mut doc) = api_routes().split_for_parts();
        complete(&mut doc);
        doc
    })
    .clone()
}

pub fn openapi_json() -> serde_json::Value {
    static JSON: OnceLock<serde_json::Value> = OnceLock::new();
    JSON.get_or_init(|| serde_json::to_value(openapi()).expect("the document serialises")).clone()
}

/// Adds the bearer scheme and the problem answers to every operation.
/// The operations that take a per-member allowance (`App::take_allowance`) and so
/// may answer 429.
const RATE_LIMITED_POSTS: &[&str] = &[
    "/me/calendar-feed",
    "/me/email/confirm",
    "/events/{id}/bookings",
    "/mentoring-requests",
    "/projects/{id}/posts",
    "/projects/{id}/posts/{post_id}/replies",
    "/case-studies/{id}/questions",
    "/resources/{id}/questions",
    "/questions/{id}/answers",
    "/projects/{id}/team-up",
];

/// utoipa names each operation after its handler, and handlers in different
/// modules share names (`list`, `get`, …). Links and clients name operations
/// by `operationId`, so every id the document would use twice becomes
/// `<method>_<path>` (`get_case_studies_id_adoptions`); unique ones stay.
fn unique_operation_ids(doc: &mut utoipa::openapi::OpenApi) {
    use std::collections::HashMap;
    let mut uses: HashMap<String, usize> = HashMap::new();
    for item in doc.paths.paths.values() {
        for op in [&item.get, &item.post, &item.patch, &item.delete, &item.put].into_iter().flatten() {
            if let Some(id) = &op.operation_id {
                *uses.entry(id.clone()).or_default() += 1;
            }
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let slug: String = path
            .chars()
            .filter(|c| !matches!(c, '{' | '}'))
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>()
            .split('_')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        let ops = [
            ("get", item.get.as_mut()),
            ("post", item.post.as_mut()),
            ("patch", item.patch.as_mut()),
            ("delete", item.delete.as_mut()),
            ("put", item.put.as_mut()),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            if op.operation_id.as_ref().is_none_or(|id| uses.get(id).copied().unwrap_or(0) > 1) {
                op.operation_id = Some(format!("{method}_{slug}"));
            }
        }
    }
}

fn complete(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("A Cognito ID token in AWS; `qnet token` prints one locally."))
                .build(),
        ),
    );
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(problem::PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
            .build()
    };
    unique_operation_ids(doc);
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            ("get", item.get.as_mut()),
            ("post", item.post.as_mut()),
            ("patch", item.patch.as_mut()),
            ("delete", item.delete.as_mut()),
            ("put", item.put.as_mut()),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let needs_login = op.security.as_ref().is_some_and(|s| {
                !s.is_empty() && !serde_json::to_value(s).map(|v| v.to_string().contains("{}")).unwrap_or(false)
            });
            let has_body = op.request_body.is_some();
            let has_id = path.contains('{');
            let r = &mut op.responses.responses;
            let mut add = |code: &str, text: &str| {
                r.entry(code.to_string()).or_insert_with(|| problem(text).into());
            };
            add("400", "The request could not be read (malformed JSON, header or cursor)");
            if needs_login || op.security.is_some() {
                add("401", "No valid bearer token (missing, invalid or expired)");
            }
            if needs_login {
                add("403", "The caller's role may not do this");
            }
            if has_id || needs_login {
                add("404", "No such record, or the caller may not know it exists");
            }
            if method != "get" || path.contains("case-studies") || path == "/organisations" {
                add("409", "Conflicts with the current state");
            }
            if method == "patch" || path.ends_with("/publish") || path.ends_with("/reject") || path.ends_with("/release-hold") {
                add("412", "The record changed since the version sent in If-Match");
                add("428", "If-Match is required");
            }
            if has_body || method == "post" {
                add("413", "The request body is over 1 MB");
                add("415", "The body is not JSON");
            }
            add("422", "Some fields are not valid; `errors` names each");
            // The per-member allowances of `qnet_app::limits` (Retry-After says when).
            if method == "post" && RATE_LIMITED_POSTS.contains(&path.as_str()) {
                add("429", "Too many at once for this member; try again after Retry-After seconds");
            }
            add("500", "Something went wrong on our side");
            add("503", "Storage is unavailable");
        }
    }
}

/// The whole API, ready to serve.
pub fn router(app: App, auth: Arc<Authenticator>) -> Router {
    let (router, _) = api_routes().split_for_parts();
    let app_for_auth = app.clone();
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(ApiState { app })
        .layer(middleware::from_fn_with_state((auth, app_for_auth), auth::identify))
        .layer(middleware::from_fn(request_log))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            Problem::internal().into_response()
        }))
}

/// `router` for a deferred link-signing key (AWS: a Secrets Manager secret):
/// the first request a process serves waits for the key's one fetch, so no
/// handler ever meets an unloaded key; if the fetch fails that request is
/// answered 503 and the next one tries again.
pub fn with_link_key_loaded(router: Router, links: Arc<qnet_app::links::LinkSigner>) -> Router {
    router.layer(middleware::from_fn(move |req: Request, next: Next| {
        let links = links.clone();
        async move {
            match links.ensure_loaded().await {
                Ok(()) => next.run(req).await,
                Err(e) => {
                    tracing::error!(error = %e, "no link signing key");
                    Problem::new(
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "The service is unavailable",
                        "try again shortly",
                    )
                    .into_response()
                }
            }
        }
    }))
}

/// Loads the search index before the first `GET /search` (see
/// [`qnet_search::LazySearch`]): init pays nothing for search, the first search
/// pays the load, and no other route waits for it.
pub fn with_search_loaded(router: Router, search: qnet_search::LazySearch) -> Router {
    router.layer(middleware::from_fn(move |req: Request, next: Next| {
        let search = search.clone();
        async move {
            if matches!(req.uri().path(), "/search" | "/similar") {
                search.ensure_loaded().await;
            }
            next.run(req).await
        }
    }))
}

async fn not_found() -> Problem {
    Problem::new(
        axum::http::StatusCode::NOT_FOUND,
        "no-such-route",
        "Not found",
        "there is nothing at this path; see /openapi.json",
    )
}

async fn method_not_allowed() -> Problem {
    Problem::method_not_allowed()
}

/// One log line per request: id, method, route template (never the query or
/// body), status and time. Never tokens or personal data.
async fn request_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = lambda_request_id(&req)
        .or_else(|| req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).filter(|v| v.len() <= 128).map(String::from))
        .unwrap_or_else(|| ulid::Ulid::generate().to_string());
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let mut resp = next.run(req).await;
    let status = resp.status();
    let outcome = if status.is_server_error() {
        "error"
    } else if status.is_client_error() {
        "refused"
    } else {
        "ok"
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if status.is_server_error() {
        tracing::error!(request_id = %request_id, method = %method, route = %route, status = status.as_u16(), outcome, ms, "request");
    } else {
        tracing::info!(request_id = %request_id, method = %method, route = %route, status = status.as_u16(), outcome, ms, "request");
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

fn lambda_request_id(req: &Request) -> Option<String> {
    use lambda_http::request::RequestContext;
    match req.extensions().get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.request_id.clone(),
        _ => None,
    }
}
