//! What each operation really costs in AWS terms, measured: `scripts/cost-model`
//! runs this (release build) and applies a month's workload and prices to it.
//!
//! The app runs on the embedded store with every port wrapped in a meter (the
//! record store, the blob store, the mailer and the job queue): each DynamoDB
//! call it would make is counted with the size of every item read or written,
//! so read and write request units follow DynamoDB's on-demand rules (reads:
//! strongly consistent, 4 KB units, a query's items summed; writes: 1 KB
//! units, doubled inside a transaction; a condition check is a transactional
//! read). The operations go through HTTP (the same router as `qnet serve` and
//! the API Lambda), email ingest and digests through the same use cases as
//! their functions. CPU time is the process's (every thread, from
//! /proc/self/task/*/schedstat) less the same number of `GET /health` calls,
//! so HTTP framing and the client are not counted.
//!
//! With `QNET_BACKEND=aws` and `AWS_ENDPOINT_URL` (`scripts/cost-model
//! --moto`) the same flows run on the DynamoDB and S3 adapters against moto:
//! they must complete there too, and the CPU time is then the AWS SDK's work
//! (requests serialised, signed and sent) rather than SQLite's.
//!
//! Prints one JSON object: `{"operations": {name: {calls, per_call: {...}}}}`.
//!
//!   cost_model [repeats per operation (default 30)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use qnet_app::Claims;
use qnet_domain::Role;
use qnet_ports::{
    BlobError, BlobMeta, BlobStore, Clock, Item, JobQueue, MailError, MailSender, OutgoingMail, Page, PresignedUrl, Query,
    QueueError, RecordStore, StoreError, UploadSpec, Write,
};
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, Default, Clone, Serialize)]
struct Counts {
    dynamodb_reads: f64,
    dynamodb_writes: f64,
    read_units: f64,
    write_units: f64,
    items_read: f64,
    s3_get: f64,
    s3_put: f64,
    s3_other: f64,
    ses: f64,
    sqs: f64,
    cpu_ms: f64,
}

type Meter = Arc<Mutex<Counts>>;

fn size(item: &Item) -> usize {
    // Attribute names and values, roughly as DynamoDB sizes them (the index keys included).
    let index = |k: &Option<qnet_ports::IndexKey>| k.as_ref().map_or(0, |k| k.pk.len() + k.sk.len() + 20);
    item.pk.len()
        + item.sk.len()
        + serde_json::to_vec(&item.data).map(|v| v.len()).unwrap_or(0)
        + 40
        + index(&item.gsi1)
        + index(&item.gsi2)
}

/// Write units of putting `item`: the table's, and as much again for each
/// global secondary index it is in (both project every attribute).
fn put_units(item: &Item) -> f64 {
    let indexes = usize::from(item.gsi1.is_some()) + usize::from(item.gsi2.is_some());
    units(size(item), 1024) * (1 + indexes) as f64
}
fn units(bytes: usize, unit: usize) -> f64 {
    bytes.div_ceil(unit).max(1) as f64
}

struct MeteredRecords(Arc<dyn RecordStore>, Meter);

#[async_trait]
impl RecordStore for MeteredRecords {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let r = self.0.get(pk, sk).await?;
        let mut m = self.1.lock().unwrap();
        m.dynamodb_reads += 1.0;
        m.read_units += units(r.as_ref().map(size).unwrap_or(0), 4096);
        m.items_read += f64::from(u8::from(r.is_some()));
        Ok(r)
    }
    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Option<Item>>, StoreError> {
        let r = self.0.get_many(keys).await?;
        let mut m = self.1.lock().unwrap();
        // The adapter sends one GetItem per key (at once), each item its own units.
        m.dynamodb_reads += keys.len() as f64;
        for i in &r {
            m.read_units += units(i.as_ref().map(size).unwrap_or(0), 4096);
            m.items_read += f64::from(u8::from(i.is_some()));
        }
        Ok(r)
    }
    async fn put(&self, item: Item, condition: qnet_ports::Condition) -> Result<(), StoreError> {
        let u = put_units(&item);
        let r = self.0.put(item, condition).await;
        let mut m = self.1.lock().unwrap();
        m.dynamodb_writes += 1.0;
        m.write_units += u;
        r
    }
    async fn delete(&self, pk: &str, sk: &str, condition: qnet_ports::Condition) -> Result<(), StoreError> {
        let r = self.0.delete(pk, sk, condition).await;
        let mut m = self.1.lock().unwrap();
        m.dynamodb_writes += 1.0;
        m.write_units += 1.0;
        r
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        // The adapter reads the global secondary indexes eventually consistent: half the units.
        let factor = if query.index == qnet_ports::Index::Primary { 1.0 } else { 0.5 };
        let r = self.0.query(query).await?;
        let mut m = self.1.lock().unwrap();
        m.dynamodb_reads += 1.0;
        m.read_units += units(r.items.iter().map(size).sum(), 4096) * factor;
        m.items_read += r.items.len() as f64;
        Ok(r)
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let (mut wu, mut ru) = (0.0, 0.0);
        // The adapter sends a lone increment as a plain UpdateItem; everything
        // else goes through TransactWriteItems (twice the units).
        let single = matches!(writes.as_slice(), [Write::Increment { .. }]);
        for w in &writes {
            match w {
                Write::Put { item, .. } => wu += put_units(item),
                Write::Check { .. } => ru += 2.0,
                _ => wu += 1.0,
            }
        }
        let r = self.0.transact(writes).await;
        let mut m = self.1.lock().unwrap();
        m.dynamodb_writes += 1.0;
        m.write_units += if single { wu } else { 2.0 * wu };
        m.read_units += ru;
        r
    }
    // No `change_mark`: DynamoDB has none, so nothing read is cached here
    // either (the published lists' page cache is the local runner's alone).
    fn at_clock(&self, clock: Arc<dyn Clock>) -> Arc<dyn RecordStore> {
        Arc::new(MeteredRecords(self.0.at_clock(clock), self.1.clone()))
    }
}

struct MeteredBlobs(Arc<dyn BlobStore>, Meter);

#[async_trait]
impl BlobStore for MeteredBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        self.1.lock().unwrap().s3_put += 1.0;
        self.0.put(key, bytes, content_type).await
    }
    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        self.1.lock().unwrap().s3_get += 1.0;
        self.0.get(key).await
    }
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        self.1.lock().unwrap().s3_get += 1.0;
        self.0.head(key).await
    }
    async fn copy(&self, from: &str, to: &str) -> Result<(), BlobError> {
        self.1.lock().unwrap().s3_put += 1.0;
        self.0.copy(from, to).await
    }
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.1.lock().unwrap().s3_other += 1.0;
        self.0.delete(key).await
    }
    async fn presign_put(&self, spec: &UploadSpec) -> Result<PresignedUrl, BlobError> {
        self.0.presign_put(spec).await
    }
    async fn presign_get(&self, key: &str, filename: &str, expires_in: std::time::Duration) -> Result<PresignedUrl, BlobError> {
        self.0.presign_get(key, filename, expires_in).await
    }
    fn at_clock(&self, clock: Arc<dyn Clock>) -> Arc<dyn BlobStore> {
        Arc::new(MeteredBlobs(self.0.at_clock(clock), self.1.clone()))
    }
}

struct MeteredMail(Arc<dyn MailSender>, Meter);

#[async_trait]
impl MailSender for MeteredMail {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError> {
        self.1.lock().unwrap().ses += 1.0;
        self.0.send(mail).await
    }
}

struct MeteredQueue(Arc<dyn JobQueue>, Meter);

#[async_trait]
impl JobQueue for MeteredQueue {
    async fn enqueue(&self, bodies: Vec<String>) -> Result<(), QueueError> {
        // SendMessageBatch: ten bodies a request.
        self.1.lock().unwrap().sqs += bodies.len().div_ceil(10) as f64;
        self.0.enqueue(bodies).await
    }
}

/// CPU time of every thread of this process, in milliseconds.
fn cpu_ms() -> f64 {
    let mut ns = 0u64;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
                ns += s.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            }
        }
    }
    ns as f64 / 1e6
}

struct Harness {
    base: String,
    client: reqwest::Client,
    tokens: qnet_app::LocalTokens,
    meter: Meter,
    health_cpu_ms: f64,
}

impl Harness {
    fn token(&self, sub: &str, email: &str, roles: &[Role]) -> String {
        let claims = Claims::new(sub.into(), email.into(), email.split('@').next().unwrap().into(), roles.to_vec());
        let now = qnet_ports::SystemClock.now().unix_timestamp() as u64;
        self.tokens.sign(&claims, now, 3600)
    }

    async fn call(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
        let mut r = self.client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.header("idempotency-key", ulid::Ulid::generate().to_string()).json(&b);
        }
        let a = r.send().await.expect("the server answers");
        let status = a.status();
        let text = a.text().await.unwrap_or_default();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A moderator's action on `item`: read its ETag, then POST with If-Match.
    async fn moderate(&self, item: &str, action: &str, token: &str) {
        let read = self.client.get(format!("{}{item}", self.base)).bearer_auth(token).send().await.expect("the server answers");
        let etag = read.headers().get("etag").expect("an ETag").to_str().unwrap().to_owned();
        let a = self
            .client
            .post(format!("{}{item}/{action}", self.base))
            .bearer_auth(token)
            .header("if-match", etag)
            .json(&json!({}))
            .send()
            .await
            .expect("the server answers");
        assert!(a.status().is_success(), "{item}/{action}: {}", a.status());
    }

    fn reset(&self) -> f64 {
        *self.meter.lock().unwrap() = Counts::default();
        cpu_ms()
    }

    /// The counts since `reset`, per call, less the health baseline's CPU.
    fn per_call(&self, started_cpu: f64, calls: usize, http: bool) -> Counts {
        let mut c = self.meter.lock().unwrap().clone();
        let n = calls as f64;
        let overhead = if http { self.health_cpu_ms } else { 0.0 };
        c.cpu_ms = ((cpu_ms() - started_cpu) / n - overhead).max(0.0);
        for v in [
            &mut c.dynamodb_reads,
            &mut c.dynamodb_writes,
            &mut c.read_units,
            &mut c.write_units,
            &mut c.items_read,
            &mut c.s3_get,
            &mut c.s3_put,
            &mut c.s3_other,
            &mut c.ses,
            &mut c.sqs,
        ] {
            *v /= n;
        }
        c
    }
}

fn main() {
    // Blocking-pool threads are kept for the whole run: a thread that ended
    // during a measurement would take its CPU time out of `cpu_ms`.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_keep_alive(std::time::Duration::from_secs(24 * 3600))
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(run());
}

async fn run() {
    let repeats: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let dir = std::env::temp_dir().join(format!("qnet-cost-model-{}", ulid::Ulid::generate()));
    std::fs::create_dir_all(&dir).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // QNET_BACKEND=aws (scripts/cost-model --moto): DynamoDB and S3 on moto.
    // The counts are the ports' either way; the CPU is then the AWS SDK's
    // (serialising, signing, HTTP), as in a Lambda, rather than SQLite's.
    let on_aws = std::env::var("QNET_BACKEND").is_ok_and(|b| b == "aws");
    // This seeds organisations and case studies: never into a real table.
    assert!(
        !on_aws || std::env::var("AWS_ENDPOINT_URL").is_ok_and(|e| !e.is_empty()),
        "cost_model on QNET_BACKEND=aws needs AWS_ENDPOINT_URL (moto): run it through scripts/cost-model --moto"
    );
    let mut backend = qnet::backend::Backend::open(&dir, &base, Arc::new(qnet_ports::SystemClock))
        .await
        .and_then(|b| b.with_search(&dir))
        .expect("the backend");
    if on_aws {
        // moto's SES refuses unverified senders; the messages are counted at
        // the mailer port, so they go to an outbox here.
        let outbox: Arc<dyn MailSender> = Arc::new(qnet_embedded::Outbox::open(&dir).expect("an outbox"));
        backend.app.mailer = outbox.clone();
        backend.mailer = outbox;
    }
    eprintln!("cost_model: on the {} backend", backend.kind);
    let meter: Meter = Arc::default();
    let app = &mut backend.app;
    app.records = Arc::new(MeteredRecords(app.records.clone(), meter.clone()));
    app.blobs = Arc::new(MeteredBlobs(app.blobs.clone(), meter.clone()));
    app.mailer = Arc::new(MeteredMail(app.mailer.clone(), meter.clone()));
    app.board_queue = Arc::new(MeteredQueue(app.board_queue.clone(), meter.clone()));
    let mailer: Arc<dyn MailSender> = Arc::new(MeteredMail(backend.mailer.clone(), meter.clone()));
    backend.mailer = mailer.clone();
    let router = qnet::router(&backend).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, router).await.expect("the server runs") });
    let mut h = Harness {
        base,
        client: reqwest::Client::new(),
        tokens: backend.tokens.clone(),
        meter: meter.clone(),
        health_cpu_ms: 0.0,
    };
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    // The world: two organisations, 60 published case studies, a project, an event.
    let admin = h.token("admin", "admin@leedsth.nhs.uk", &[Role::Admin]);
    let moderator = h.token("moderator", "mod@leedsth.nhs.uk", &[Role::Moderator]);
    let organiser = h.token("organiser", "olu@leedsth.nhs.uk", &[Role::Organiser]);
    let member = h.token("member", "ann@leedsth.nhs.uk", &[]);
    let leeds = h
        .call(
            post.clone(),
            "/organisations",
            Some(&admin),
            Some(json!({"name": "Leeds Teaching Hospitals", "type": "nhs", "email_domains": ["leedsth.nhs.uk"]})),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    h.call(
        post.clone(),
        "/organisations",
        Some(&admin),
        Some(json!({"name": "Bradford Council", "type": "local_authority", "email_domains": ["bradford.gov.uk"]})),
    )
    .await;
    let case_study = |i: usize| {
        json!({"title": format!("Falls in care homes {i}: hourly rounding"),
               "body": "We ran four PDSA cycles on the morning board round and measured falls per 1,000 bed days. ".repeat(12),
               "topics": ["patient-safety"],
               "sections": {"aim": "Halve falls by June", "results": "From 9 to 4 falls a month in twelve weeks."}})
    };
    let mut ids = Vec::new();
    for i in 0..60 {
        let c = h.call(post.clone(), "/case-studies", Some(&member), Some(case_study(i))).await;
        let id = c["id"].as_str().unwrap().to_string();
        h.moderate(&format!("/case-studies/{id}"), "publish", &moderator).await;
        ids.push(id);
    }
    let project = h
        .call(
            post.clone(),
            "/projects",
            Some(&member),
            Some(json!({"title": "Falls in care homes", "aim": "Halve falls in our care homes by June 2027",
            "organisation_ids": [leeds], "team": [], "topics": ["patient-safety"], "status": "active",
            "classification": "quality_improvement", "progress_score": 2.5})),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let now = qnet_ports::Clock::now(backend.app.clock().as_ref());
    let starts = now + time::Duration::days(20);
    let rfc = &time::format_description::well_known::Rfc3339;
    let event = h
        .call(
            post.clone(),
            "/events",
            Some(&organiser),
            Some(json!({"kind": "workshop", "title": "Run charts for beginners",
            "description": "Bring your data.", "starts_at": starts.format(rfc).unwrap(),
            "ends_at": (starts + time::Duration::hours(3)).format(rfc).unwrap(), "location": "Room 2, St James's, Leeds",
            "capacity": 1000, "host_organisation_id": leeds, "topics": ["measurement"]})),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..20 {
        h.call(get.clone(), "/case-studies?limit=20", Some(&member), None).await;
    }

    // The baseline: what an HTTP round trip costs without the app's work.
    let start = h.reset();
    for _ in 0..repeats * 4 {
        h.call(get.clone(), "/health", None, None).await;
    }
    h.health_cpu_ms = h.per_call(start, repeats * 4, false).cpu_ms;

    let mut out = serde_json::Map::new();
    let mut record = |name: &str, c: Counts| {
        out.insert(name.to_owned(), serde_json::to_value(c).unwrap());
    };
    macro_rules! measure {
        ($name:expr, $i:ident, $body:expr) => {{
            let start = h.reset();
            for $i in 0..repeats {
                $body;
            }
            record($name, h.per_call(start, repeats, true));
        }};
    }
    measure!(
        "list_case_studies",
        i,
        h.call(
            get.clone(),
            &format!("/case-studies?limit=20{}", if i % 2 == 0 { "" } else { "&topic=patient-safety" }),
            Some(&member),
            None
        )
        .await
    );
    measure!(
        "read_case_study",
        i,
        h.call(get.clone(), &format!("/case-studies/{}", ids[i % ids.len()]), Some(&member), None).await
    );
    measure!(
        "search",
        i,
        h.call(get.clone(), &format!("/search?q={}&limit=20", ["falls", "rounding", "board round"][i % 3]), Some(&member), None)
            .await
    );
    measure!("submit_case_study", i, h.call(post.clone(), "/case-studies", Some(&member), Some(case_study(1000 + i))).await);
    measure!("list_projects", _i, h.call(get.clone(), "/projects?limit=20", Some(&member), None).await);
    measure!("read_project", _i, h.call(get.clone(), &format!("/projects/{project}"), Some(&member), None).await);
    measure!("me", _i, h.call(get.clone(), "/me", Some(&member), None).await);
    measure!("insights", _i, h.call(get.clone(), "/insights", Some(&member), None).await);
    measure!("book_event", i, {
        let who = h.token(&format!("booker{i}"), &format!("booker{i}@bradford.gov.uk"), &[]);
        h.call(post.clone(), &format!("/events/{event}/bookings"), Some(&who), Some(json!({}))).await
    });
    measure!(
        "ask_question",
        i,
        h.call(
            post.clone(),
            &format!("/case-studies/{}/questions", ids[i % ids.len()]),
            Some(&member),
            Some(json!({"body": "How long did the huddles take each morning?"}))
        )
        .await
    );

    // Email ingest, per message, through the same use case as the function.
    let fixtures: Vec<Vec<u8>> = {
        let mut v: Vec<_> = std::fs::read_dir("tests/fixtures/email")
            .expect("run from the repository root")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        v.sort();
        v.into_iter().take(repeats).map(|p| std::fs::read(p).unwrap()).collect()
    };
    let opts = qnet_app::ingest::IngestOptions { dry_run: false, mail_from: "case-studies@qnet.localhost".into() };
    let start = h.reset();
    for raw in &fixtures {
        let inbound = qnet_app::ingest::Inbound::local(raw.clone(), qnet_mail::Verdicts::default());
        backend.app.ingest(&inbound, &opts, mailer.as_ref()).await.expect("ingest");
    }
    let mut c = h.per_call(start, fixtures.len(), false);
    // In AWS the message arrives in S3 (SES receipt rule): one GET to read it.
    c.s3_get += 1.0;
    record("ingest_email", c);

    // A weekly digest, per member sent (the planner's share included).
    for i in 0..repeats {
        let t = h.token(&format!("reader{i}"), &format!("reader{i}@leedsth.nhs.uk"), &[]);
        h.call(get.clone(), "/me", Some(&t), None).await;
    }
    let digest = qnet_app::digest::Digest::new(qnet_app::digest::DigestSettings::local(&h.base));
    let start = h.reset();
    let report = digest.run_local(&backend.app, mailer.as_ref(), now + time::Duration::days(7), false).await.expect("digest");
    let sent = (h.meter.lock().unwrap().ses as usize).max(1);
    let mut c = h.per_call(start, sent, false);
    c.sqs += 1.0 / 10.0; // the planner's SendMessageBatch, ten jobs a request
    record("digest_email", c);
    eprintln!("cost_model: digests {report:?}");

    println!(
        "{}",
        json!({"backend": backend.kind, "repeats": repeats, "health_cpu_ms_per_call": h.health_cpu_ms, "operations": out})
    );
    let _ = std::fs::remove_dir_all(&dir);
}
