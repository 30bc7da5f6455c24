//! `qnet serve` answers only requests addressed to itself: a `Host` that is a
//! loopback name (`localhost`, `127.0.0.1`, `[::1]`) or the host of one of its
//! configured public URLs. This stops DNS-rebinding pages (a hostile site whose
//! name resolves to 127.0.0.1) from reading `/_local/outbox` or driving the API
//! with a visitor's browser. Nothing in Qnet builds a URL from `Host`; the
//! check is a second wall, not the first.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The host names a listener answers to.
#[derive(Debug, Clone)]
pub struct AllowedHosts(Arc<BTreeSet<String>>);

impl AllowedHosts {
    /// Loopback names and the hosts of `urls` (the configured public origins).
    pub fn new<'a>(urls: impl IntoIterator<Item = &'a str>) -> AllowedHosts {
        let mut names: BTreeSet<String> = ["localhost", "127.0.0.1", "[::1]"].into_iter().map(String::from).collect();
        for u in urls {
            if let Some(h) = url_host(u) {
                names.insert(h);
            }
        }
        AllowedHosts(Arc::new(names))
    }

    /// True when `host` (a `Host` header: name, optional port) is one of ours.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let name = match host.strip_prefix('[') {
            Some(v6) => v6.split_once(']').map(|(a, _)| format!("[{a}]")),
            None => Some(
                host.rsplit_once(':')
                    .map_or(host.as_str(), |(n, port)| if port.chars().all(|c| c.is_ascii_digit()) { n } else { "" })
                    .to_string(),
            ),
        };
        name.is_some_and(|n| !n.is_empty() && self.0.contains(&n))
    }
}

/// The host of an absolute http(s) URL, lower-cased, without its port.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a).to_ascii_lowercase();
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split_once(']').map(|(a, _)| format!("[{a}]"));
    }
    let name = authority.split(':').next()?;
    (!name.is_empty()).then(|| name.to_string())
}

/// Middleware: refuses a request whose `Host` is not one of ours (400,
/// problem+json) before anything else sees it.
pub async fn check(State(allowed): State<AllowedHosts>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if allowed.allows(host) {
        return next.run(req).await;
    }
    let body = serde_json::json!({
        "type": "/problems/unknown-host",
        "title": "Unknown host",
        "status": 400,
        "detail": "this server answers only requests addressed to itself (a loopback name or its configured address)",
    });
    (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_configured_hosts_only() {
        let a = AllowedHosts::new(["http://127.0.0.1:8080", "https://qnet.example.nhs.uk/app"]);
        for ok in
            ["127.0.0.1:8080", "localhost:8081", "LOCALHOST", "[::1]:8080", "qnet.example.nhs.uk", "qnet.example.nhs.uk:443"]
        {
            assert!(a.allows(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example",
            "evil.example:8080",
            "127.0.0.1.evil.example",
            "localhost.evil.example:8080",
            "localhost:80x",
            "[::2]:8080",
            "qnet.example.nhs.uk.evil",
        ] {
            assert!(!a.allows(bad), "{bad}");
        }
    }
}
