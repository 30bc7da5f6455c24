//! The digest's web side: the member's preview, and the one-click unsubscribe
//! links (RFC 8058) that every digest carries. Unsubscribe needs no login: the
//! opaque token is the authority. A GET only shows a page with a button (mail
//! scanners such as Safe Links fetch every link); the POST unsubscribes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qnet_app::digest::{Digest, DigestSettings};
use qnet_app::engagement::UnsubscribeTarget;
use qnet_app::mail::{Page, page};

use super::html;
use crate::ApiState;
use crate::auth::Auth;
use crate::problem::ApiResult;

/// The fields a one-click unsubscribe POST carries (RFC 8058). The body is not
/// required: the token in the path is what counts.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct UnsubscribeForm {
    /// `One-Click`
    #[serde(rename = "List-Unsubscribe")]
    #[schema(rename = "List-Unsubscribe")]
    pub list_unsubscribe: Option<String>,
}

/// A page with a message and no action.
pub(crate) fn message_page(site: &str, status: StatusCode, title: &str, message: &str) -> Response {
    html(status, page(&Page { title, message, actions: &[], field: None, site }))
}

fn bad_link(site: &str) -> Response {
    message_page(
        site,
        StatusCode::BAD_REQUEST,
        "This unsubscribe link does not work",
        "The link is incomplete, was changed, or has been withdrawn, so nothing was changed. \
         Copy the whole link from the email, or change your digest settings on the Qnet website.",
    )
}

/// The page an unsubscribe link opens: a button that unsubscribes. Changes nothing.
#[utoipa::path(get, path = "/unsubscribe/{token}", tag = "digest",
    params(("token" = String, Path, description = "The opaque token from the digest's link")),
    responses(
        (status = 200, description = "A page with a button that unsubscribes", content_type = "text/html", body = String),
        (status = 400, description = "The link is bad, changed or withdrawn; nothing changed", content_type = "text/html", body = String)))]
pub async fn unsubscribe_page(State(s): State<ApiState>, Path(token): Path<String>) -> ApiResult<Response> {
    let Some(target) = s.app.unsubscribe_target(&token).await? else {
        return Ok(bad_link(&s.app.web_base_url));
    };
    let (title, message) = match target {
        UnsubscribeTarget::Digest => (
            "Unsubscribe from the Qnet digest?".to_string(),
            "You will stop receiving the digest email. Other emails about your own case studies, bookings \
             and mentoring still come. You can subscribe again at any time in your digest settings."
                .to_string(),
        ),
        UnsubscribeTarget::Emails(kind) => (
            "Stop these Qnet emails?".to_string(),
            format!(
                "You will stop receiving {}. Other Qnet emails, such as the digest, still come. \
                 You can turn them on again at any time in your settings.",
                kind.description()
            ),
        ),
    };
    Ok(html(
        StatusCode::OK,
        page(&Page {
            title: &title,
            message: &message,
            // Back to this page's own URL, whatever stage or base path serves it.
            actions: &[("", "Unsubscribe")],
            field: Some(("List-Unsubscribe", "One-Click")),
            site: &s.app.web_base_url,
        }),
    ))
}

/// One-click unsubscribe (RFC 8058): mail clients POST `List-Unsubscribe=One-Click`
/// as `application/x-www-form-urlencoded` or `multipart/form-data`. No login. A
/// second POST is harmless.
#[utoipa::path(post, path = "/unsubscribe/{token}", tag = "digest",
    params(("token" = String, Path, description = "The opaque token from the digest's List-Unsubscribe header")),
    request_body(content(
        (UnsubscribeForm = "application/x-www-form-urlencoded"),
        (UnsubscribeForm = "multipart/form-data"))),
    responses(
        (status = 200, description = "Unsubscribed (or already were)", content_type = "text/html", body = String),
        (status = 400, description = "The link is bad, changed or withdrawn; nothing changed", content_type = "text/html", body = String)))]
pub async fn unsubscribe(State(s): State<ApiState>, Path(token): Path<String>) -> ApiResult<Response> {
    let target = s.app.unsubscribe_target(&token).await?;
    match (target, s.app.unsubscribe(&token).await?) {
        (Some(UnsubscribeTarget::Digest), Some(_)) => Ok(message_page(
            &s.app.web_base_url,
            StatusCode::OK,
            "You have unsubscribed",
            "You will not receive the Qnet digest any more. To start again, choose how often you want it \
             in your digest settings on the Qnet website.",
        )),
        (Some(UnsubscribeTarget::Emails(kind)), Some(_)) => Ok(message_page(
            &s.app.web_base_url,
            StatusCode::OK,
            "You have unsubscribed",
            &format!(
                "You will not receive {} any more. To start again, turn them on in your settings on the Qnet website.",
                kind.description()
            ),
        )),
        _ => Ok(bad_link(&s.app.web_base_url)),
    }
}

/// The signed-in member's next digest as it stands (the current week or month
/// so far), as HTML, without sending or recording anything.
#[utoipa::path(get, path = "/me/digest/preview", tag = "digest", security(("bearer" = [])),
    responses((status = 200, description = "The digest's HTML part", content_type = "text/html", body = String)))]
pub async fn preview(State(s): State<ApiState>, Auth(c): Auth) -> ApiResult<Response> {
    let m = s.app.member(&c).await?;
    let digest = Digest::new(DigestSettings::local(&s.app.web_base_url));
    let composed = digest.preview(&s.app, &m, s.app.clock().now()).await?;
    Ok(html(StatusCode::OK, composed.html))
}

/// Where a confirmation link was sent.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ConfirmationSent {
    pub sent_to: String,
}

/// Asks for a link that lifts the suppression of the signed-in member's address
/// (after a hard bounce or a complaint): the link goes to that address, so
/// following it proves the address works again.
#[utoipa::path(post, path = "/me/email/confirm", tag = "digest", security(("bearer" = [])),
    responses((status = 202, description = "The confirmation link is on its way", body = ConfirmationSent)))]
pub async fn request_confirmation(State(s): State<ApiState>, Auth(c): Auth) -> ApiResult<Response> {
    let sent_to = s.app.request_address_confirmation(&c, &s.app.api_base_url).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(ConfirmationSent { sent_to })).into_response())
}

fn bad_confirmation(site: &str) -> Response {
    message_page(
        site,
        StatusCode::BAD_REQUEST,
        "This confirmation link does not work",
        "The link is incomplete, was changed, or is more than 24 hours old, so nothing was changed. \
         Ask for a new one from your profile on the Qnet website.",
    )
}

/// The page a confirmation link opens: a button that confirms. Changes nothing.
#[utoipa::path(get, path = "/email-confirmations/{token}", tag = "digest",
    params(("token" = String, Path, description = "The signed token from the confirmation email")),
    responses(
        (status = 200, description = "A page with a button that confirms the address", content_type = "text/html", body = String),
        (status = 400, description = "The link is bad, changed or expired; nothing changed", content_type = "text/html", body = String)))]
pub async fn confirmation_page(State(s): State<ApiState>, Path(token): Path<String>) -> ApiResult<Response> {
    if !s.app.address_confirmation_is_valid(&token) {
        return Ok(bad_confirmation(&s.app.web_base_url));
    }
    Ok(html(
        StatusCode::OK,
        page(&Page {
            title: "Confirm your email address",
            message: "Press the button to confirm that this address works, so that Qnet emails reach you again.",
            actions: &[("", "Confirm my address")],
            field: None,
            site: &s.app.web_base_url,
        }),
    ))
}

/// Confirms the address: its suppression is lifted. No login: the signed link is
/// the authority. A second POST is harmless.
#[utoipa::path(post, path = "/email-confirmations/{token}", tag = "digest",
    params(("token" = String, Path, description = "The signed token from the confirmation email")),
    responses(
        (status = 200, description = "The address is confirmed", content_type = "text/html", body = String),
        (status = 400, description = "The link is bad, changed or expired; nothing changed", content_type = "text/html", body = String)))]
pub async fn confirm(State(s): State<ApiState>, Path(token): Path<String>) -> ApiResult<Response> {
    match s.app.confirm_address(&token).await? {
        None => Ok(bad_confirmation(&s.app.web_base_url)),
        Some(()) => Ok(message_page(
            &s.app.web_base_url,
            StatusCode::OK,
            "Your address is confirmed",
            "Qnet emails will reach you again.",
        )),
    }
}
