//! A mentor's offers and mentees (`GET /me/mentees`): the signed-in member's
//! own, nobody else's.

use axum::extract::State;
use qnet_app::mentoring::mentees::MyMentees;

use crate::ApiState;
use crate::auth::Auth;
use crate::problem::ApiResult;

/// The requests offered to the signed-in mentor and waiting for their answer
/// (the offer email's link answers them), and their current mentees. Both are
/// bounded by the mentor's capacity; someone who is not a mentor gets two
/// empty lists.
#[utoipa::path(get, path = "/me/mentees", tag = "mentoring", security(("bearer" = [])),
    responses((status = 200, description = "Offers and current mentees", body = MyMentees)))]
pub async fn my_mentees(State(s): State<ApiState>, Auth(c): Auth) -> ApiResult<axum::Json<MyMentees>> {
    Ok(axum::Json(s.app.my_mentees(&c).await?))
}
