//! The local runner as a library: the binary `qnet` and the end-to-end tests build
//! the same server from it.

pub mod backend;
pub mod community;
pub mod dev;
pub mod hosts;
pub mod reminders;
pub mod smtp;
pub mod web;

use std::sync::Arc;

/// The API router with the local-only dev routes in front of it, answering only
/// requests addressed to this server (see [`hosts`]).
pub fn router(backend: &backend::Backend) -> axum::Router {
    let api = qnet_api::router(backend.app.clone(), Arc::new(qnet_api::Authenticator::Local(backend.tokens.clone())));
    dev::router(backend).fallback_service(api).layer(axum::middleware::from_fn_with_state(backend.allowed_hosts(), hosts::check))
}
