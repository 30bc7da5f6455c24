//! A member's randomised coffee (`GET /me/coffee`): their own rounds only.
//! Opting in and out is `PATCH /me` with `coffee.opt_in`.

use axum::extract::State;
use qnet_app::mentoring::my_coffee::MyCoffee;

use crate::ApiState;
use crate::auth::Auth;
use crate::problem::ApiResult;

/// The signed-in member's coffee: in the pool or not, this week's pairing
/// (who, from which organisation, and the introduction emailed to them), and
/// the rounds of the 12 weeks before.
#[utoipa::path(get, path = "/me/coffee", tag = "members", security(("bearer" = [])),
    responses((status = 200, description = "This week's pairing and past rounds", body = MyCoffee)))]
pub async fn my_coffee(State(s): State<ApiState>, Auth(c): Auth) -> ApiResult<axum::Json<MyCoffee>> {
    Ok(axum::Json(s.app.my_coffee(&c).await?))
}
