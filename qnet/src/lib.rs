//! The local runner as a library: the binary `qnet` and the end-to-end tests build
//! the same server from it.

pub mod admin;
pub mod backend;
pub mod community;
pub mod dev;
pub mod hosts;
pub mod reminders;
pub mod signin;
pub mod smtp;
pub mod web;

use std::sync::Arc;

/// The API router with the local-only dev routes in front of it, answering only
/// requests addressed to this server (see [`hosts`]).
pub fn router(backend: &backend::Backend) -> axum::Router {
    let api = qnet_api::router(backend.app.clone(), Arc::new(qnet_api::Authenticator::Local(backend.tokens.clone())));
    let mut local = dev::router(backend);
    if backend.kind == "embedded" {
        local = local.merge(signin::router(backend.app.clone(), backend.tokens.clone()));
    }
    local
        .fallback_service(api)
        .layer(cors(&backend.app.web_base_url))
        .layer(axum::middleware::from_fn_with_state(backend.allowed_hosts(), hosts::check))
}

/// What API Gateway's CORS configuration does in AWS: the web app's origin (and
/// only it) may call the API from a browser, with the headers the app sends,
/// and read the ones it needs back. Uploads to the local blob URLs too.
fn cors(web_base_url: &str) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    let origin = web_base_url.split('/').take(3).collect::<Vec<_>>().join("/");
    let origin = HeaderValue::from_str(&origin).unwrap_or_else(|_| HeaderValue::from_static("http://127.0.0.1:8081"));
    tower_http::cors::CorsLayer::new()
        .allow_origin(origin)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-amz-checksum-sha256"),
        ])
        .expose_headers([header::ETAG, header::LOCATION, header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
        .max_age(std::time::Duration::from_secs(600))
}
