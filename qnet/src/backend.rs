//! Which adapters the runner uses: embedded (default) or AWS (`QNET_BACKEND=aws`).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use qnet_app::{App, LocalTokens};
use qnet_embedded::{EmbeddedBlobStore, EmbeddedRecordStore, Outbox, load_or_create_secret};
use qnet_ports::{Clock, MailSender};

pub struct Backend {
    pub kind: &'static str,
    pub app: App,
    pub tokens: LocalTokens,
    /// The embedded blob store, whose signed URLs the dev routes serve.
    pub local_blobs: Option<EmbeddedBlobStore>,
    /// Outbound mail: the outbox folder, or SES with the aws backend.
    pub mailer: Arc<dyn MailSender>,
    /// The outbox the dev routes list (embedded backend).
    pub outbox: Option<Outbox>,
    /// The case study address acknowledgements come from.
    pub mail_from: String,
    /// The in-process board queue (board follower emails run on it).
    pub jobs: Arc<qnet_app::jobs::LocalJobs>,
}

/// The local case study address, unless `QNET_MAIL_FROM` names another.
fn mail_from() -> String {
    std::env::var("QNET_MAIL_FROM").ok().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| "case-studies@qnet.localhost".into())
}

/// The key for signed links, derived from the data directory's secret (so it is
/// never the same bytes as the token key).
fn link_key(secret: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"qnet links\0");
    h.update(secret);
    h.finalize().to_vec()
}

/// The web front end links point at: `QNET_WEB_BASE_URL`, or its dev server.
fn web_base_url() -> String {
    std::env::var("QNET_WEB_BASE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| qnet_app::DEFAULT_WEB_BASE_URL.into())
}

impl Backend {
    /// The hosts `qnet serve` answers to: loopback names and the hosts of the
    /// configured API and web origins.
    pub fn allowed_hosts(&self) -> crate::hosts::AllowedHosts {
        crate::hosts::AllowedHosts::new([&*self.app.api_base_url, &*self.app.web_base_url])
    }

    /// The digest's settings: `QNET_WEB_BASE_URL` and `QNET_PUBLIC_API_URL` for
    /// links (default: the front end's dev server and `qnet serve`'s address),
    /// mail from `digest@` the case study address's domain.
    pub fn digest_settings(&self) -> qnet_app::digest::DigestSettings {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let domain = self.mail_from.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_else(|| "qnet.localhost".into());
        qnet_app::digest::DigestSettings {
            from: format!("digest@{domain}"),
            web_base_url: self.app.web_base_url.to_string(),
            api_base_url: env("QNET_PUBLIC_API_URL")
                .unwrap_or_else(|| "http://127.0.0.1:8080".into())
                .trim_end_matches('/')
                .into(),
            inbound_domain: domain,
            max_per_second: env("QNET_SES_MAX_PER_SECOND").and_then(|v| v.parse().ok()),
        }
    }

    /// The embedded backend: SQLite for records and files for blobs, under
    /// `data_dir`, all judging time by `clock` (the real one, or a `--now`).
    /// Items whose TTL has passed by that clock are deleted on opening.
    pub fn open_embedded(data_dir: &Path, base_url: &str, clock: Arc<dyn Clock>) -> anyhow::Result<Backend> {
        let secret =
            load_or_create_secret(data_dir).with_context(|| format!("cannot use the data directory {}", data_dir.display()))?;
        let tokens = LocalTokens::new(&secret);
        let records =
            EmbeddedRecordStore::open(data_dir).with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
        let blobs = EmbeddedBlobStore::open(data_dir, secret, base_url.to_string())
            .with_context(|| format!("cannot open the file store in {}", data_dir.display()))?;
        let outbox = Outbox::open(data_dir).with_context(|| format!("cannot open the outbox in {}", data_dir.display()))?;
        let records = records.with_clock(clock.clone());
        records.purge_expired().with_context(|| format!("cannot purge expired items in {}", data_dir.display()))?;
        let app = App::new(Arc::new(records), Arc::new(blobs.clone()), clock)
            .with_web_base_url(&web_base_url())
            .with_api_base_url(base_url)
            .with_link_key(&link_key(&secret))
            .with_mailer(Arc::new(outbox.clone()), &mail_from());
        let (app, jobs) = app.with_local_jobs();
        Ok(Backend {
            kind: "embedded",
            app,
            tokens,
            local_blobs: Some(blobs),
            mailer: Arc::new(outbox.clone()),
            outbox: Some(outbox),
            mail_from: mail_from(),
            jobs,
        })
    }

    /// Opens the search index under `data_dir/search/` and keeps it current with
    /// every change this process makes. Only the server does this (the index
    /// has one writer, which holds a lock), so the other commands can run beside
    /// `qnet serve`; what they change is not searchable, and they never publish.
    /// An empty index (a store from before search, or a deleted index) is filled
    /// from the store in the background.
    pub fn with_search(mut self, data_dir: &Path) -> anyhow::Result<Backend> {
        let index = qnet_search::SearchIndex::open_dir(&data_dir.join("search")).with_context(|| {
            format!("cannot open the search index in {} (is another qnet serve using it?)", data_dir.display())
        })?;
        let empty = index.is_empty();
        self.app = self.app.with_search(Arc::new(index));
        if empty && let Ok(rt) = tokio::runtime::Handle::try_current() {
            let app = self.app.clone();
            rt.spawn(async move {
                if let Err(e) = app.rebuild_search_index().await {
                    tracing::error!(error = %e, "the search index could not be rebuilt");
                }
            });
        }
        Ok(self)
    }

    /// The backend `QNET_BACKEND` names, its app on `clock`.
    pub async fn open(data_dir: &Path, base_url: &str, clock: Arc<dyn Clock>) -> anyhow::Result<Backend> {
        let secret =
            load_or_create_secret(data_dir).with_context(|| format!("cannot use the data directory {}", data_dir.display()))?;
        let tokens = LocalTokens::new(&secret);
        match std::env::var("QNET_BACKEND").unwrap_or_else(|_| "embedded".into()).as_str() {
            "embedded" | "" => Self::open_embedded(data_dir, base_url, clock),
            "aws" => {
                let config = qnet_app::config::StorageConfig::read(qnet_app::config::Reader::from_env())?;
                let sdk = qnet_aws::from_env::sdk_config().await;
                if std::env::var("AWS_ENDPOINT_URL").is_ok() {
                    // A local AWS stand-in (moto): create what the SAM template would.
                    qnet_aws::from_env::ensure_table(&qnet_aws::from_env::dynamodb_client(&sdk), &config.table_name).await?;
                    qnet_aws::from_env::ensure_bucket(&qnet_aws::from_env::s3_client(&sdk), &config.bucket_name).await?;
                }
                let app = App::new(
                    Arc::new(qnet_aws::from_env::record_store(&sdk, config.table_name)),
                    Arc::new(qnet_aws::from_env::blob_store(&sdk, config.bucket_name)),
                    clock,
                )
                .with_web_base_url(&web_base_url())
                .with_api_base_url(base_url)
                .with_link_key(&link_key(&secret));
                let configuration_set = std::env::var("QNET_SES_CONFIGURATION_SET").ok().filter(|v| !v.is_empty());
                let mailer = qnet_aws::SesMailSender::new(qnet_aws::aws_sdk_sesv2::Client::new(&sdk), configuration_set);
                let mailer: Arc<dyn MailSender> = Arc::new(mailer);
                let (app, jobs) = app.with_mailer(mailer.clone(), &mail_from()).with_local_jobs();
                Ok(Backend { kind: "aws", app, tokens, local_blobs: None, mailer, outbox: None, mail_from: mail_from(), jobs })
            }
            other => anyhow::bail!("QNET_BACKEND={other} is not one of embedded, aws"),
        }
    }
}
