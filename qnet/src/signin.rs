//! Local sign-in for the web app (`POST /_local/sign-in`): a development
//! convenience that stands in for Cognito's managed login when `qnet serve`
//! runs on loopback with the embedded store. It never exists with
//! `QNET_BACKEND=aws` or in Lambda.
//!
//! It answers only a peer on a loopback address (the Host check in front of
//! every route does the rest), applies the pre-sign-up trigger's domain rule (an
//! address whose domain no organisation lists is refused, except while no
//! organisation exists, so that the first admin can start), and signs a token
//! with the chosen role plus any role an admin granted to the address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use qnet_app::{App, Claims, LocalTokens};
use qnet_domain::Role;
use serde::Deserialize;

/// How long a local sign-in lasts.
const HOURS: u64 = 8;

#[derive(Clone)]
struct SignIn {
    app: App,
    tokens: LocalTokens,
}

#[derive(Deserialize)]
struct SignInInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: Option<String>,
}

/// The route, for the embedded backend only.
pub fn router(app: App, tokens: LocalTokens) -> Router {
    Router::new().route("/_local/sign-in", post(sign_in)).with_state(SignIn { app, tokens })
}

fn problem(status: StatusCode, kind: &str, title: &str, detail: &str, field: Option<&str>) -> Response {
    let errors: Vec<serde_json::Value> =
        field.map(|f| vec![serde_json::json!({"field": f, "message": detail})]).unwrap_or_default();
    let body = serde_json::json!({"type": format!("/problems/{kind}"), "title": title, "status": status.as_u16(),
        "detail": detail, "errors": errors});
    (status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response()
}

async fn sign_in(
    State(s): State<SignIn>,
    peer: Result<ConnectInfo<SocketAddr>, axum::extract::rejection::ExtensionRejection>,
    body: Result<Json<SignInInput>, axum::extract::rejection::JsonRejection>,
) -> Response {
    // Fail closed: without a known loopback peer there is no local sign-in.
    if !peer.is_ok_and(|ConnectInfo(a)| a.ip().is_loopback()) {
        return problem(StatusCode::FORBIDDEN, "forbidden", "Forbidden", "local sign-in answers only this machine", None);
    }
    let Ok(Json(input)) = body else {
        return problem(StatusCode::BAD_REQUEST, "bad-request", "Bad request", "send JSON: {\"email\", \"role\"}", None);
    };
    let email = match qnet_domain::member::normalise_email(&input.email) {
        Ok(e) => e,
        Err(m) => return problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "Some fields are not valid", &m, Some("email")),
    };
    let role = match input.role.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => Role::Member,
        Some(r) => match Role::parse(r) {
            Some(r) => r,
            None => {
                let m = "must be member, organiser, moderator or admin";
                return problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "Some fields are not valid", m, Some("role"));
            }
        },
    };
    let unavailable = |e: qnet_app::AppError| {
        tracing::error!(error = %e, "local sign-in could not read the store");
        problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "The service is unavailable", "try again shortly", None)
    };
    // The pre-sign-up trigger's rule, with the first admin's exception.
    let any_organisation = match s.app.organisations().await {
        Ok(list) => !list.is_empty(),
        Err(e) => return unavailable(e),
    };
    if any_organisation {
        match s.app.organisations_for_email(&email).await {
            Ok(orgs) if !orgs.is_empty() => {}
            Ok(_) => {
                let m = "no organisation in Qnet lists this address's domain; ask an admin to add it";
                return problem(StatusCode::FORBIDDEN, "unknown-domain", "This address cannot sign in", m, Some("email"));
            }
            Err(e) => return unavailable(e),
        }
    }
    let sub = match s.app.member_id_for_email(&email).await {
        Ok(id) => id.unwrap_or_else(|| ulid::Ulid::generate().to_string()),
        Err(e) => return unavailable(e),
    };
    let name = email.split('@').next().unwrap_or("").replace(['.', '_'], " ");
    let claims = Claims::new(sub, email, name, vec![role]);
    let claims = match s.app.with_granted_roles(claims).await {
        Ok(c) => c,
        Err(e) => return unavailable(e),
    };
    // Sign-in creates the profile, as Cognito's first sign-in does.
    if let Err(e) = s.app.member(&claims).await {
        return unavailable(e);
    }
    let now = s.app.clock().now().unix_timestamp().max(0) as u64;
    let token = s.tokens.sign(&claims, now, HOURS * 3600);
    let body = serde_json::json!({"token": token, "expires_at": now + HOURS * 3600});
    (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}
