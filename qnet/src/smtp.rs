//! SMTP on loopback (`qnet serve --smtp 127.0.0.1:2525`), so a person can send a
//! case study from a real mail client or `swaks`. Each message goes through the
//! ingest function's own step (`qnet_email_ingest`), as SES mail does; the
//! envelope sender becomes `Return-Path`, as an MTA would record it.

use std::net::SocketAddr;
use std::sync::Arc;

use mailin_embedded::{Handler, Response, Server, SslConfig, response};
use qnet_app::ingest::IngestOptions;

use crate::backend::Backend;

/// Largest message accepted over SMTP (SES's own limit for receiving is 40 MB).
const MAX_MESSAGE: usize = 40 * 1024 * 1024;

#[derive(Clone)]
struct Receiver {
    backend: Arc<Backend>,
    runtime: tokio::runtime::Handle,
    envelope_from: String,
    data: Vec<u8>,
    too_big: bool,
}

impl Handler for Receiver {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, _to: &[String]) -> Response {
        self.envelope_from = from.to_string();
        self.data = format!("Return-Path: <{from}>\r\n").into_bytes();
        self.too_big = false;
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if self.data.len() + buf.len() > MAX_MESSAGE {
            self.too_big = true;
        } else {
            self.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if self.too_big {
            return response::NO_STORAGE;
        }
        let raw = std::mem::take(&mut self.data);
        let backend = self.backend.clone();
        let opts = IngestOptions { dry_run: false, mail_from: backend.mail_from.clone() };
        let result = self.runtime.block_on(async move {
            let inbound = qnet_email_ingest::local_delivery(raw, None)?;
            qnet_email_ingest::ingest_delivery(&backend.app, backend.mailer.as_ref(), &inbound, &opts).await
        });
        match result {
            Ok(report) => {
                tracing::info!(outcome = %report.outcome, reason = report.reason.as_deref().unwrap_or(""), "message received over SMTP");
                response::OK
            }
            Err(e) => {
                tracing::error!(error = %e, "SMTP ingest failed");
                response::INTERNAL_ERROR
            }
        }
    }
}

/// Starts the SMTP receiver on its own threads (mailin-embedded is blocking).
pub fn start(addr: SocketAddr, backend: Arc<Backend>) -> anyhow::Result<()> {
    if !addr.ip().is_loopback() {
        anyhow::bail!("--smtp must be a loopback address ({addr} is not)");
    }
    let listener = std::net::TcpListener::bind(addr).map_err(|e| anyhow::anyhow!("cannot listen for SMTP on {addr}: {e}"))?;
    let receiver = Receiver {
        backend,
        runtime: tokio::runtime::Handle::current(),
        envelope_from: String::new(),
        data: Vec::new(),
        too_big: false,
    };
    let mut server = Server::new(receiver);
    server
        .with_name("qnet.localhost")
        .with_ssl(SslConfig::None)
        .map_err(|e| anyhow::anyhow!("SMTP setup: {e}"))?
        .with_tcp_listener(listener);
    std::thread::Builder::new()
        .name("qnet-smtp".into())
        .spawn(move || {
            if let Err(e) = server.serve() {
                tracing::error!(error = %e, "the SMTP receiver stopped");
            }
        })
        .map_err(|e| anyhow::anyhow!("cannot start the SMTP thread: {e}"))?;
    println!("SMTP for case studies on {addr} (try: swaks --server {addr} --to case-studies@qnet.localhost)");
    Ok(())
}
