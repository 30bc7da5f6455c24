//! Test support: start the real server (the same router `qnet serve` runs) on a
//! random loopback port with its own data directory, and talk to it over HTTP.

use std::sync::Arc;

use qnet::backend::Backend;
use qnet_app::{App, Claims};
use qnet_domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The moto server `scripts/test` starts (fake DynamoDB and S3).
pub mod moto {
    use qnet_aws::aws_config::{self, BehaviorVersion, Region, SdkConfig};
    use qnet_aws::aws_sdk_dynamodb::config::Credentials;

    pub fn endpoint() -> String {
        std::env::var("QNET_MOTO_ENDPOINT").unwrap_or_else(|_| {
            panic!(
                "QNET_MOTO_ENDPOINT is not set, so the DynamoDB/S3 adapter tests cannot run. \
                 Run the suite with `scripts/test` (it starts moto), or start moto yourself with \
                 `eval \"$(scripts/moto-up)\"` and stop it with `scripts/moto-down`."
            )
        })
    }

    /// Resets moto and answers an SDK configuration pointed at it. Tests that
    /// call this run one at a time (nextest group `moto`).
    pub async fn config() -> SdkConfig {
        let endpoint = endpoint();
        let reset = reqwest::Client::new()
            .post(format!("{endpoint}/moto-api/reset"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("moto at {endpoint} does not answer ({e}); is it running? (scripts/moto-up)"));
        assert!(reset.status().is_success(), "moto reset: {}", reset.status());
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("eu-west-2"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "qnet-tests"))
            .load()
            .await
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub app: App,
    tokens: qnet_app::LocalTokens,
    jobs: Arc<qnet_app::jobs::LocalJobs>,
    _dir: Arc<tempfile::TempDir>,
    pub data_dir: std::path::PathBuf,
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The fields a problem answer names, in order.
    pub fn problem_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or("").to_string()).collect())
            .unwrap_or_default()
    }

    pub fn assert_problem(&self, status: u16) -> &Answer {
        assert_eq!(self.status.as_u16(), status, "expected {status}, got {}: {}", self.status, self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.text);
        assert_eq!(self.body["status"].as_u64(), Some(status as u64));
        for f in ["type", "title", "detail"] {
            assert!(self.body[f].is_string(), "problem lacks {f}: {}", self.text);
        }
        self
    }
}

pub async fn spawn_app() -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let base = format!("http://{}", listener.local_addr().unwrap());
    // The embedded backend is the default; tests must not depend on the caller's env.
    let backend = Backend::open_embedded(dir.path(), &base, Arc::new(qnet_ports::SystemClock))
        .and_then(|b| b.with_search(dir.path()))
        .expect("the embedded backend opens");
    serve(backend, listener, dir, base)
}

/// The same server on the AWS adapters, pointed at moto (DynamoDB and S3).
pub async fn spawn_app_on_moto() -> TestApp {
    spawn_app_on_moto_with(|records| records).await
}

/// [`spawn_app_on_moto`] with the DynamoDB record store wrapped by `wrap`
/// (events.rs serialises calls into moto, whose DynamoDB is not thread-safe).
pub async fn spawn_app_on_moto_with(
    wrap: impl FnOnce(Arc<dyn qnet_ports::RecordStore>) -> Arc<dyn qnet_ports::RecordStore>,
) -> TestApp {
    let config = moto::config().await;
    let (table, bucket) = ("qnet-e2e", "qnet-e2e-files");
    qnet_aws::from_env::ensure_table(&qnet_aws::from_env::dynamodb_client(&config), table).await.expect("table");
    qnet_aws::from_env::ensure_bucket(&qnet_aws::from_env::s3_client(&config), bucket).await.expect("bucket");
    let dir = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = App::new(
        wrap(Arc::new(qnet_aws::from_env::record_store(&config, table))),
        Arc::new(qnet_aws::from_env::blob_store(&config, bucket)),
        Arc::new(qnet_ports::SystemClock),
    );
    let tokens = qnet_app::LocalTokens::new(&[42u8; 32]);
    let outbox = qnet_embedded::Outbox::open(dir.path()).expect("an outbox");
    let (app, jobs) =
        app.with_api_base_url(&base).with_mailer(Arc::new(outbox.clone()), "case-studies@qnet.test").with_local_jobs();
    let backend = Backend {
        kind: "aws",
        app,
        tokens,
        local_blobs: None,
        mailer: Arc::new(outbox.clone()),
        outbox: Some(outbox),
        mail_from: "case-studies@qnet.test".into(),
        jobs,
    };
    serve(backend, listener, dir, base)
}

fn serve(backend: Backend, listener: tokio::net::TcpListener, dir: Arc<tempfile::TempDir>, base: String) -> TestApp {
    let router = qnet::router(&backend).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, router).await.expect("the server runs") });
    TestApp {
        base,
        client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        app: backend.app.clone(),
        tokens: backend.tokens.clone(),
        jobs: backend.jobs.clone(),
        data_dir: dir.path().to_path_buf(),
        _dir: dir,
    }
}

pub use qnet_ports::FixedClock;

impl TestApp {
    /// The bare API router on another loopback port, as Lambda runs it: no
    /// local runner in front (so no Host check), the same app and token key.
    /// Answers its base URL.
    pub async fn bare_api(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = qnet_api::router(self.app.clone(), Arc::new(qnet_api::Authenticator::Local(self.tokens.clone())));
        tokio::spawn(async move { axum::serve(listener, router).await.expect("the server runs") });
        base
    }

    /// The bare API (as [`TestApp::bare_api`]) serving the same app stopped at
    /// `now`, as a `TestApp` to send requests to: limits' windows, expiry.
    /// Tokens are still judged by the real time.
    pub async fn api_at(&self, now: time::OffsetDateTime) -> TestApp {
        self.serving(self.app.at(now)).await
    }

    /// The bare API serving `app` (this app changed: another clock, queue or
    /// mailer), as a `TestApp` with the same data directory and token key.
    pub async fn serving(&self, app: qnet_app::App) -> TestApp {
        self.serving_with(app, |router| router).await
    }

    /// As [`TestApp::serving`], with the router wrapped as a function's
    /// `main` wraps it (for example `qnet_api::with_search_loaded`).
    pub async fn serving_with(&self, app: qnet_app::App, wrap: impl FnOnce(axum::Router) -> axum::Router) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = wrap(qnet_api::router(app.clone(), Arc::new(qnet_api::Authenticator::Local(self.tokens.clone()))));
        tokio::spawn(async move { axum::serve(listener, router).await.expect("the server runs") });
        TestApp {
            base,
            client: self.client.clone(),
            app,
            tokens: self.tokens.clone(),
            jobs: self.jobs.clone(),
            _dir: self._dir.clone(),
            data_dir: self.data_dir.clone(),
        }
    }

    /// Waits until the in-process queue has run every job enqueued so far
    /// (board follower emails are sent there, after the request answered).
    pub async fn jobs_done(&self) {
        self.jobs.finish().await
    }

    /// Every message in the outbox, raw.
    pub fn outbox_texts(&self) -> Vec<String> {
        let o = qnet_embedded::Outbox::open(&self.data_dir).expect("the outbox");
        o.list().unwrap().iter().map(|e| String::from_utf8_lossy(&o.read(&e.file_name).unwrap()).into_owned()).collect()
    }

    /// The same app (store, mailer, link key) at another moment; its store
    /// judges expiry at that moment too.
    pub fn at(&self, now: time::OffsetDateTime) -> qnet_app::App {
        self.app.at(now)
    }

    /// A token for a person; the same email always gets the same member id.
    pub async fn token(&self, email: &str, roles: &[Role]) -> String {
        let sub =
            self.app.member_id_for_email(email).await.unwrap().unwrap_or_else(|| format!("m-{}", email.replace(['@', '.'], "-")));
        let name = email.split('@').next().unwrap().replace('.', " ");
        let claims = Claims::new(sub, email.into(), name, roles.to_vec());
        // Tokens are judged by the real time (as the API does), whatever the app's clock.
        let now = qnet_ports::Clock::now(&qnet_ports::SystemClock).unix_timestamp() as u64;
        self.tokens.sign(&claims, now, 3600)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut r = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        read(r.send().await.expect("the server answers")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(Method::GET, path, token, None, &[]).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.send(Method::POST, path, token, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, token: &str, version: u64, body: Value) -> Answer {
        let v = format!("\"{version}\"");
        self.send(Method::PATCH, path, Some(token), Some(body), &[("if-match", &v)]).await
    }

    /// Creates an organisation as an admin and answers its id.
    pub async fn organisation(&self, name: &str, domains: &[&str]) -> String {
        let admin = self.token("admin@qnet.test", &[Role::Admin]).await;
        let a = self
            .post("/organisations", Some(&admin), serde_json::json!({"name": name, "type": "nhs", "email_domains": domains}))
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        a.body["id"].as_str().unwrap().to_string()
    }

    /// Submits a case study as `token` and answers it.
    pub async fn submit(&self, token: &str, body: Value) -> Value {
        let a = self.post("/case-studies", Some(token), body).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        a.body
    }

    /// Publishes as a moderator, with the version the moderator reads first.
    pub async fn publish(&self, id: &str) -> Answer {
        let m = self.token("moderator@qnet.test", &[Role::Moderator]).await;
        self.moderate(&format!("/case-studies/{id}/publish"), Some(&m), Value::Null).await
    }

    /// A moderation action (`…/{id}/publish`, `…/reject`, `…/release-hold`),
    /// which requires If-Match: reads the item as `token` and sends the version
    /// it read (no If-Match when the caller cannot read it, so the answer is
    /// the refusal that comes first: 401, 403 or 404).
    /// The token of the mentoring offer emailed to the mentor `email` (the
    /// first such email in the outbox).
    pub fn offer_token(&self, email: &str) -> String {
        let o = qnet_embedded::Outbox::open(&self.data_dir).unwrap();
        let mail = o
            .list()
            .unwrap()
            .iter()
            .map(|e| String::from_utf8(o.read(&e.file_name).unwrap()).unwrap().replace("=\r\n", "").replace("=\n", ""))
            .find(|m| m.contains("/mentoring/offers/") && m.contains(&format!("<{email}>")))
            .expect("an offer email");
        let start = mail.find("/mentoring/offers/").unwrap() + "/mentoring/offers/".len();
        mail[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect()
    }

    /// The member of `token` offers mentoring on flow, for two mentees.
    pub async fn become_mentor(&self, token: &str) {
        let body = serde_json::json!({"offers": ["mentoring"], "topics": ["flow"], "capacity": 2, "accepting": true});
        let a = self.send(Method::PUT, "/me/mentor", Some(token), Some(body), &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }

    pub async fn moderate(&self, action: &str, token: Option<&str>, body: Value) -> Answer {
        let item = action.rsplit_once('/').expect("an action path").0;
        let read = self.get(item, token).await;
        let etag = read.header("etag").map(String::from);
        let headers: Vec<(&str, &str)> = etag.as_deref().map(|v| ("if-match", v)).into_iter().collect();
        self.send(Method::POST, action, token, Some(body), &headers).await
    }
}

pub async fn read(r: reqwest::Response) -> Answer {
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer { status, headers, body, text }
}
