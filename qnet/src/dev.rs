//! Local-only routes, bound to loopback with `qnet serve` and absent from the
//! Lambda build and the OpenAPI document: the signed upload and download URLs of
//! the embedded blob store.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use qnet_app::App;
use qnet_embedded::EmbeddedBlobStore;

use crate::backend::Backend;

#[derive(Clone)]
struct Dev {
    app: App,
    blobs: Option<EmbeddedBlobStore>,
}

pub fn router(backend: &Backend) -> Router {
    Router::new()
        .route("/_local/blobs/{*key}", put(upload).get(download))
        .layer(DefaultBodyLimit::max(qnet_domain::attachment::MAX_BYTES as usize + 1024))
        .with_state(Dev { app: backend.app.clone(), blobs: backend.local_blobs.clone() })
}

fn refusal(status: StatusCode, reason: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{reason}\n")).into_response()
}

/// PUT to a signed upload URL, then the same check S3's event would trigger.
async fn upload(
    State(d): State<Dev>,
    Path(key): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(blobs) = &d.blobs else { return refusal(StatusCode::NOT_FOUND, "uploads go to S3 with the aws backend") };
    let (store, k, len) = (blobs.clone(), key.clone(), body.len() as u64);
    // File writes with fsync: off the async workers.
    let accepted =
        tokio::task::spawn_blocking(move || store.accept_upload(&k, q.as_deref().unwrap_or(""), &headers, &body)).await;
    match accepted {
        Ok(Ok(())) => {}
        Ok(Err(r)) => return refusal(r.status, &r.reason),
        Err(_) => return refusal(StatusCode::INTERNAL_SERVER_ERROR, "the upload could not be stored"),
    }
    let event = qnet_attachment_check::object_created_event("local", &key, len);
    match qnet_attachment_check::handle(&d.app, event).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "attachment check failed");
            refusal(StatusCode::SERVICE_UNAVAILABLE, "the upload was stored but could not be checked; try again")
        }
    }
}

/// GET from a signed download URL.
async fn download(State(d): State<Dev>, Path(key): Path<String>, RawQuery(q): RawQuery) -> Response {
    let Some(blobs) = &d.blobs else { return refusal(StatusCode::NOT_FOUND, "downloads come from S3 with the aws backend") };
    let store = blobs.clone();
    let opened = tokio::task::spawn_blocking(move || store.open_download(&key, q.as_deref().unwrap_or(""))).await;
    let Ok(opened) = opened else { return refusal(StatusCode::INTERNAL_SERVER_ERROR, "the file could not be read") };
    match opened {
        Ok(dl) => {
            let mut r = dl.bytes.clone().into_response();
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&dl.content_type) {
                h.insert(header::CONTENT_TYPE, v);
            }
            if let Ok(v) = HeaderValue::from_str(&dl.content_disposition()) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
            r
        }
        Err(r) => refusal(r.status, &r.reason),
    }
}
