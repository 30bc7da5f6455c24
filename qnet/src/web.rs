//! The web app's own origin in `qnet serve` (`--web-addr`): the built single-page
//! app (`web/dist`), with every app path answered by `index.html` so that links
//! from emails (`/case-studies/{id}`, `/settings/digest`, …) open directly.
//! In AWS the same files are served by CloudFront from a private bucket.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use tower_http::services::{ServeDir, ServeFile};

use crate::hosts::{self, AllowedHosts};

/// The security headers every page of the app carries: the very file the SAM
/// template's CloudFront response headers policy is checked against, so the
/// browser tests meet production's policy.
const SECURITY_HEADERS: &str = include_str!("../../web/security-headers.json");

/// The headers with their origins filled in: `{api}` and `{uploads}` are the
/// API (local uploads go to its `/_local/blobs`), and there is no Cognito.
pub fn security_headers(api_base_url: &str) -> Vec<(HeaderName, HeaderValue)> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(SECURITY_HEADERS).expect("web/security-headers.json is a JSON object");
    let origin = api_base_url.split('/').take(3).collect::<Vec<_>>().join("/");
    map.into_iter()
        .map(|(name, value)| {
            let v = value.as_str().expect("header values are strings");
            let v = v.replace("{api}", &origin).replace("{uploads}", &origin).replace(" {cognito}", "").replace("{cognito}", "");
            let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
            (HeaderName::from_bytes(name.as_bytes()).expect("a header name"), HeaderValue::from_str(&v).expect("a header value"))
        })
        .collect()
}

/// What the app learns at start from `/config.json`: where the API is and how
/// to sign in. `scripts/deploy-web` writes the AWS one (Cognito).
pub fn local_config(api_base_url: &str) -> serde_json::Value {
    serde_json::json!({"apiBaseUrl": api_base_url, "signIn": "local"})
}

/// The web app from `dir` (its `index.html` answers every path that is not a
/// file), with `config` at `/config.json`.
pub fn router(dir: &Path, allowed: AllowedHosts, config: serde_json::Value) -> Router {
    let files = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
    let api = config["apiBaseUrl"].as_str().unwrap_or_default().to_string();
    let config = config.to_string();
    Router::new()
        .route(
            "/config.json",
            axum::routing::get(move || async move {
                ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")], config)
            }),
        )
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(dir.to_path_buf(), built))
        // As CloudFront does in AWS: the stylesheet is 245 KB raw, 26 KB gzipped.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(middleware::from_fn_with_state(Arc::new(security_headers(&api)), with_headers))
        .layer(middleware::from_fn_with_state(allowed, hosts::check))
}

async fn with_headers(State(headers): State<Arc<Vec<(HeaderName, HeaderValue)>>>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    for (name, value) in headers.iter() {
        resp.headers_mut().insert(name.clone(), value.clone());
    }
    resp
}

/// Until the app is built, every path says how to build it (and nothing else).
async fn built(State(dir): State<PathBuf>, req: Request, next: Next) -> Response {
    if dir.join("index.html").is_file() {
        return next.run(req).await;
    }
    let page = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Qnet: the web app is not built</title>\
         <h1>The web app is not built</h1><p>Build it with <code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code> \
         from the repository's root, then reload. Looked for <code>{}</code>.</p></html>",
        html_escape(&dir.join("index.html").display().to_string())
    );
    (StatusCode::SERVICE_UNAVAILABLE, [(header::CACHE_CONTROL, "no-store")], Html(page)).into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
