//! "My QI portfolio": the signed-in member's own record of QI activity, as
//! JSON for the page and as CSV for appraisal (`qnet_app::portfolio`). There is
//! no route to anyone else's.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use qnet_app::portfolio::{Portfolio, PortfolioPeriod};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::ApiState;
use crate::auth::Auth;
use crate::extract::{Query, query};
use crate::problem::ApiResult;

/// The period of the portfolio: both ends inclusive, each optional. Work that
/// runs over time (projects, PDSA cycles, mentoring) counts when it overlaps
/// the period (ongoing work runs to today), and is dated by its start.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PortfolioQuery {
    /// Only activity on or after this date (YYYY-MM-DD, 2000-01-01 to 2100-12-31; empty is the same as absent)
    #[serde(default, deserialize_with = "query::exact")]
    #[param(pattern = r"^(\d{4}-\d{2}-\d{2})?$")]
    pub from: Option<String>,
    /// Only activity on or before this date (YYYY-MM-DD, not before `from`; empty is the same as absent)
    #[serde(default, deserialize_with = "query::exact")]
    #[param(pattern = r"^(\d{4}-\d{2}-\d{2})?$")]
    pub to: Option<String>,
}

impl PortfolioQuery {
    fn period(&self) -> ApiResult<PortfolioPeriod> {
        Ok(PortfolioPeriod::parse(self.from.as_deref(), self.to.as_deref())?)
    }
}

/// The signed-in member's QI activity with dates: projects and their role,
/// PDSA cycles, case studies (published, and submitted ones awaiting review),
/// resources shared, mentoring given and received, events attended, questions
/// answered and thanks received. Each section shows at most `section_cap`
/// items, newest first, and says `truncated` when there was more. A member may
/// read their portfolio (JSON and CSV together) 60 times an hour.
#[utoipa::path(get, path = "/me/portfolio", tag = "members", security(("bearer" = [])),
    params(PortfolioQuery),
    responses((status = 200, description = "The member's portfolio", body = Portfolio),
        (status = 429, description = "Too many portfolio reads this hour (Retry-After)")))]
pub async fn portfolio(
    State(s): State<ApiState>,
    Auth(c): Auth,
    Query(q): Query<PortfolioQuery>,
) -> ApiResult<axum::Json<Portfolio>> {
    let period = q.period()?;
    Ok(axum::Json(s.app.portfolio(&c, &period).await?))
}

/// The same portfolio as CSV, one row per activity: section, date, title, role
/// or detail, and an absolute link on the web app's configured address. Cells
/// that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`,
/// tab or carriage return, also after leading spaces) start with `'`. The
/// file starts with a UTF-8 byte order mark.
#[utoipa::path(get, path = "/me/portfolio.csv", tag = "members", security(("bearer" = [])),
    params(PortfolioQuery),
    responses((status = 200, description = "RFC 4180 CSV, UTF-8 with a byte order mark", content_type = "text/csv", body = String),
        (status = 429, description = "Too many portfolio reads this hour (Retry-After)")))]
pub async fn portfolio_csv(State(s): State<ApiState>, Auth(c): Auth, Query(q): Query<PortfolioQuery>) -> ApiResult<Response> {
    let period = q.period()?;
    let csv = s.app.portfolio_csv(&c, &period).await?;
    let mut resp = csv.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"qi-portfolio.csv\""));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
