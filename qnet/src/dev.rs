//! Local-only routes, bound to loopback with `qnet serve` and absent from the
//! Lambda build and the OpenAPI document: the signed upload and download URLs of
//! the embedded blob store, and the outbox of emails Qnet would have sent.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use qnet_app::App;
use qnet_embedded::{EmbeddedBlobStore, Outbox};

use crate::backend::Backend;

#[derive(Clone)]
struct Dev {
    app: App,
    blobs: Option<EmbeddedBlobStore>,
    outbox: Option<Outbox>,
}

pub fn router(backend: &Backend) -> Router {
    Router::new()
        .route("/_local/blobs/{*key}", put(upload).get(download))
        .route("/_local/outbox", get(outbox_page))
        .route("/_local/outbox/{file}", get(outbox_message))
        .layer(DefaultBodyLimit::max(qnet_domain::attachment::MAX_BYTES as usize + 1024))
        .with_state(Dev { app: backend.app.clone(), blobs: backend.local_blobs.clone(), outbox: backend.outbox.clone() })
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

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The first value of a header in a raw message, for the listing.
fn header_of(raw: &[u8], name: &str) -> String {
    let head = String::from_utf8_lossy(&raw[..raw.len().min(16 * 1024)]);
    let prefix = format!("{}:", name.to_ascii_lowercase());
    head.lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_string())
        .unwrap_or_default()
}

/// A page listing every email Qnet has sent locally, newest first.
async fn outbox_page(State(d): State<Dev>) -> Response {
    let Some(outbox) = d.outbox else { return refusal(StatusCode::NOT_FOUND, "mail goes through SES with the aws backend") };
    let listed = tokio::task::spawn_blocking(move || {
        let entries = outbox.list()?;
        let mut rows = Vec::with_capacity(entries.len());
        for e in entries.iter().rev() {
            let raw = outbox.read(&e.file_name)?;
            rows.push((e.file_name.clone(), header_of(&raw, "To"), header_of(&raw, "Subject"), header_of(&raw, "Date")));
        }
        Ok::<_, std::io::Error>(rows)
    })
    .await;
    let Ok(Ok(rows)) = listed else { return refusal(StatusCode::INTERNAL_SERVER_ERROR, "the outbox could not be read") };
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><title>Qnet outbox</title></head>\
         <body style=\"font-family:Arial,sans-serif\"><h1>Outbox</h1><p>Emails Qnet has sent on this machine, newest first. \
         Each opens in your mail client.</p><table cellpadding=\"6\"><tr><th align=\"left\">Date</th><th align=\"left\">To</th><th align=\"left\">Subject</th></tr>",
    );
    for (file, to, subject, date) in &rows {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td><a href=\"/_local/outbox/{}\">{}</a></td></tr>",
            html_escape(date),
            html_escape(to),
            html_escape(file),
            html_escape(if subject.is_empty() { "(no subject)" } else { subject })
        ));
    }
    if rows.is_empty() {
        html.push_str("<tr><td colspan=\"3\">Nothing has been sent yet.</td></tr>");
    }
    html.push_str("</table></body></html>");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// One sent email, as `message/rfc822`.
async fn outbox_message(State(d): State<Dev>, Path(file): Path<String>) -> Response {
    let Some(outbox) = d.outbox else { return refusal(StatusCode::NOT_FOUND, "mail goes through SES with the aws backend") };
    match tokio::task::spawn_blocking(move || outbox.read(&file)).await {
        Ok(Ok(raw)) => ([(header::CONTENT_TYPE, "message/rfc822")], raw).into_response(),
        _ => refusal(StatusCode::NOT_FOUND, "no such message in the outbox"),
    }
}
