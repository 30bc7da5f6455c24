//! The system-wide view: counts of QI activity across the system, per
//! organisation type and per organisation (`qnet_app::insights`).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use qnet_app::insights::InsightsView;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::ApiState;
use crate::auth::Auth;
use crate::extract::{Query, query};
use crate::problem::ApiResult;

/// The period and scope of the insights.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InsightsQuery {
    /// First month, YYYY-MM (default: eleven months before `to`); at most 36 months to `to`; empty is the same as absent
    #[serde(default, deserialize_with = "query::exact")]
    #[param(pattern = r"^(\d{4}-\d{2})?$")]
    pub from: Option<String>,
    /// Last month, YYYY-MM, included (default: this month, UTC); empty is the same as absent
    #[serde(default, deserialize_with = "query::exact")]
    #[param(pattern = r"^(\d{4}-\d{2})?$")]
    pub to: Option<String>,
    /// Only this organisation (with the system and its type for comparison)
    #[serde(default, deserialize_with = "query::text")]
    pub organisation: Option<String>,
    /// Only this organisation type and its organisations: nhs, local_authority, voluntary, education or other
    #[serde(default, deserialize_with = "query::text")]
    pub organisation_type: Option<String>,
}

/// The same, and which table to download.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InsightsCsvQuery {
    /// projects_by_status, projects_by_classification, projects_by_topic, progress_scores, case_studies_published, activity, people or coffee_by_organisation_type
    #[serde(default, deserialize_with = "query::text")]
    #[param(required = true)]
    pub table: Option<String>,
    /// First month, YYYY-MM
    #[serde(default, deserialize_with = "query::exact")]
    #[param(pattern = r"^(\d{4}-\d{2})?$")]
    pub from: Option<String>,
    /// Last month, YYYY-MM, included
    #[serde(default, deserialize_with = "query::exact")]
    #[param(pattern = r"^(\d{4}-\d{2})?$")]
    pub to: Option<String>,
    /// Only this organisation
    #[serde(default, deserialize_with = "query::text")]
    pub organisation: Option<String>,
    /// Only this organisation type
    #[serde(default, deserialize_with = "query::text")]
    pub organisation_type: Option<String>,
}

/// QI activity across the system, per organisation type and per
/// organisation: projects by status, classification, topic and IHI progress
/// score (now), case studies published per month, adoptions, questions asked
/// and answered with the median time to a first answer (in the period).
/// Counts of 1 to 4 in an organisation's row (or a type with one
/// organisation) are "fewer than 5". Any signed-in member.
#[utoipa::path(get, path = "/insights", tag = "insights", security(("bearer" = [])),
    params(InsightsQuery),
    responses((status = 200, description = "The tables", body = InsightsView)))]
pub async fn show(
    State(s): State<ApiState>,
    Auth(_c): Auth,
    Query(q): Query<InsightsQuery>,
) -> ApiResult<axum::Json<InsightsView>> {
    let filter =
        s.app.insights_filter(q.from.as_deref(), q.to.as_deref(), q.organisation.as_deref(), q.organisation_type.as_deref())?;
    Ok(axum::Json(s.app.insights(&filter).await?))
}

/// One table of the insights as CSV (RFC 4180, UTF-8 with a byte order
/// mark): a row per scope, a cell per column; suppressed cells read "fewer
/// than 5"; cells a spreadsheet would run as a formula start with `'`.
#[utoipa::path(get, path = "/insights.csv", tag = "insights", security(("bearer" = [])),
    params(InsightsCsvQuery),
    responses((status = 200, description = "The table as CSV", content_type = "text/csv", body = String)))]
pub async fn csv(State(s): State<ApiState>, Auth(_c): Auth, Query(q): Query<InsightsCsvQuery>) -> ApiResult<Response> {
    let filter =
        s.app.insights_filter(q.from.as_deref(), q.to.as_deref(), q.organisation.as_deref(), q.organisation_type.as_deref())?;
    let table = q.table.unwrap_or_default();
    let body = s.app.insights_csv(&filter, &table).await?;
    let name = format!("attachment; filename=\"insights-{table}-{}-{}.csv\"", filter.from.text(), filter.to.text());
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&name).unwrap_or(HeaderValue::from_static("attachment; filename=\"insights.csv\"")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
