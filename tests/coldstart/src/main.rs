//! Cold start, measured (issue 19, item 2): runs each Lambda bootstrap of
//! `infra/template.yaml` as Lambda would, under an emulated Lambda Runtime API
//! (`/2018-06-01/runtime/...`), with the environment the template gives that
//! function and its fixture event, and prints per function:
//!
//! - init: process start (just before `exec`) to its first `GET /invocation/next`;
//! - first: that `next` to the first `/response` (or `/error`, flagged) for the fixture;
//! - warm: the same fixture delivered again to the same process, for comparison.
//!
//! Each function runs `--runs` times (a fresh process and a fresh `/tmp` each time);
//! the table gives the median with the range. Then one traced run per function goes
//! through a logging proxy in front of the AWS endpoint and lists the AWS calls made
//! during init, by the first request and by the second, so what a first request pays
//! is named, not guessed. `scripts/bench-coldstart` builds the bootstraps, starts
//! moto, creates the table, bucket, queues and secret, and runs this.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The fixture each function's cold start is measured with (file under
/// tests/fixtures/events/), and a label for the table. Every function of the
/// template needs a row: a new function without one fails the benchmark.
const CASES: &[(&str, &str, &str)] = &[
    ("ApiFunction", "GET /me", "apigw-v2-get-me.json"),
    ("ApiFunction", "GET /case-studies", "apigw-v2-list-case-studies-anonymous.json"),
    ("PreSignupFunction", "sign-up", "cognito-pre-signup.json"),
    ("AttachmentCheckFunction", "S3 upload", "s3-object-created.json"),
    ("EmailIngestFunction", "SES receipt", "ses-receipt-lambda-action.json"),
    ("DigestPlannerFunction", "schedule", "eventbridge-scheduler-digest.json"),
    ("DigestSenderFunction", "SQS jobs", "sqs-digest-jobs.json"),
    ("BoardNotifierFunction", "SQS job", "sqs-board-jobs.json"),
    ("SesEventsFunction", "SNS bounce", "sns-ses-bounce.json"),
    ("SearchIndexerFunction", "stream", "dynamodb-stream-case-study.json"),
    ("MentoringFunction", "schedule", "eventbridge-scheduler-mentoring.json"),
    ("CoffeeRoundFunction", "schedule", "eventbridge-scheduler-coffee.json"),
    ("EventRemindersFunction", "schedule", "eventbridge-scheduler-event-reminders.json"),
    ("EngagementFunction", "schedule", "eventbridge-scheduler-engagement.json"),
];

/// Targets on this machine (issue 19): the API's init and first response, and
/// every function's init, in milliseconds.
const API_INIT_TARGET_MS: f64 = 50.0;
const API_FIRST_TARGET_MS: f64 = 100.0;
const INIT_TARGET_MS: f64 = 100.0;

/// The longest one run may take before it counts as failed.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

const USAGE: &str = "usage: qnet-coldstart --template infra/template.yaml --bootstraps DIR --fixtures DIR \
    [--runs N] [--only FunctionId,...] [--logs DIR] [--set Name=Value]... [--env NAME=VALUE]... [--wrap 'strace -f -tt -o {log}.strace']\n\
    --set gives the value of a template !Ref/!Sub name (Table, Bucket, LinkSigningKey, AWS::Region, ...);\n\
    --env adds a variable to every function's environment (credentials, AWS_ENDPOINT_URL).";

struct Args {
    template: PathBuf,
    bootstraps: PathBuf,
    fixtures: PathBuf,
    runs: usize,
    only: Option<Vec<String>>,
    logs: PathBuf,
    sets: BTreeMap<String, String>,
    env: Vec<(String, String)>,
    /// A command to run each bootstrap under (`strace -f -tt -o {log}.strace`), split on
    /// spaces; `{log}` stands for the run's log file.
    wrap: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut template, mut bootstraps, mut fixtures) = (None, None, None);
    let (mut runs, mut only, mut logs) = (5, None, std::env::temp_dir().join("qnet-coldstart-logs"));
    let (mut sets, mut env, mut wrap) = (BTreeMap::new(), Vec::new(), Vec::new());
    let pair = |v: String| -> Result<(String, String), String> {
        v.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).ok_or(format!("{v} is not NAME=VALUE"))
    };
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--template" => template = Some(PathBuf::from(value()?)),
            "--bootstraps" => bootstraps = Some(PathBuf::from(value()?)),
            "--fixtures" => fixtures = Some(PathBuf::from(value()?)),
            "--runs" => runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--only" => only = Some(value()?.split(',').map(str::to_string).collect()),
            "--logs" => logs = PathBuf::from(value()?),
            "--set" => {
                let (k, v) = pair(value()?)?;
                sets.insert(k, v);
            }
            "--env" => env.push(pair(value()?)?),
            "--wrap" => wrap = value()?.split_whitespace().map(str::to_string).collect(),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let need = |v: Option<PathBuf>, name: &str| v.ok_or(format!("{name} is required\n{USAGE}"));
    if runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    Ok(Args {
        template: need(template, "--template")?,
        bootstraps: need(bootstraps, "--bootstraps")?,
        fixtures: need(fixtures, "--fixtures")?,
        runs,
        only,
        logs,
        sets,
        env,
        wrap,
    })
}

/// One function of the template: its binary and its environment, resolved.
struct Function {
    id: String,
    binary: String,
    memory_mb: u64,
    env: Vec<(String, String)>,
}

/// Reads every `AWS::Serverless::Function` of the template with its
/// `Environment.Variables`, resolving `!Ref` and `!Sub` through `sets`.
fn read_template(path: &Path, sets: &BTreeMap<String, String>) -> Result<Vec<Function>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let resources = yaml.get("Resources").and_then(|r| r.as_mapping()).ok_or("the template has no Resources")?;
    let mut out = Vec::new();
    for (id, resource) in resources {
        if resource.get("Type").and_then(|t| t.as_str()) != Some("AWS::Serverless::Function") {
            continue;
        }
        let id = id.as_str().ok_or("a resource id is not a string")?.to_string();
        let binary = resource
            .get("Metadata")
            .and_then(|m| m.get("BuildProperties"))
            .and_then(|b| b.get("Binary"))
            .and_then(|b| b.as_str())
            .ok_or(format!("{id} has no Metadata.BuildProperties.Binary"))?
            .to_string();
        let props = resource.get("Properties").ok_or(format!("{id} has no Properties"))?;
        let memory_mb = props.get("MemorySize").and_then(|m| m.as_u64()).unwrap_or(128);
        let mut env = Vec::new();
        if let Some(vars) = props.get("Environment").and_then(|e| e.get("Variables")).and_then(|v| v.as_mapping()) {
            for (name, value) in vars {
                let name = name.as_str().ok_or(format!("{id}: a variable name is not a string"))?;
                let value = resolve(value, sets).map_err(|e| format!("{id}.{name}: {e}"))?;
                env.push((name.to_string(), value));
            }
        }
        out.push(Function { id, binary, memory_mb, env });
    }
    Ok(out)
}

fn resolve(value: &serde_yaml::Value, sets: &BTreeMap<String, String>) -> Result<String, String> {
    use serde_yaml::Value as Y;
    let lookup = |name: &str| sets.get(name).cloned().ok_or(format!("no value for {name}: pass --set {name}=..."));
    match value {
        Y::String(s) => Ok(s.clone()),
        Y::Number(n) => Ok(n.to_string()),
        Y::Bool(b) => Ok(b.to_string()),
        Y::Tagged(t) if t.tag == "!Ref" => lookup(t.value.as_str().ok_or("!Ref of a non-string")?),
        Y::Tagged(t) if t.tag == "!Sub" => {
            let mut s = t.value.as_str().ok_or("!Sub of a non-string (the list form is not supported)")?.to_string();
            while let Some(start) = s.find("${") {
                let end = s[start..].find('}').ok_or("an unclosed ${ in !Sub")? + start;
                let value = lookup(&s[start + 2..end])?;
                s.replace_range(start..=end, &value);
            }
            Ok(s)
        }
        other => Err(format!("cannot resolve {other:?}")),
    }
}

// ---------------------------------------------------------------------------
// A minimal HTTP/1.1 reader and writer (both the runtime API and the proxy).
// ---------------------------------------------------------------------------

struct Message {
    start_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Reads one message; `None` at a clean end of stream. `body_allowed` is false
/// for the answer to a HEAD request; `until_eof` reads a body without a length
/// to the end of the stream (responses only).
fn read_message(r: &mut impl BufRead, body_allowed: bool, until_eof: bool) -> std::io::Result<Option<Message>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let start_line = line.trim_end().to_string();
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut m = Message { start_line, headers, body: Vec::new() };
    let status = m.start_line.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok());
    if !body_allowed || matches!(status, Some(100..=199 | 204 | 304)) {
        return Ok(Some(m));
    }
    if m.header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                .map_err(|e| std::io::Error::other(format!("bad chunk size {line:?}: {e}")))?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    line.clear();
                    if r.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk)?;
            m.body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = m.header("content-length") {
        let len: usize = len.parse().map_err(|e| std::io::Error::other(format!("bad content-length: {e}")))?;
        m.body = vec![0; len];
        r.read_exact(&mut m.body)?;
    } else if until_eof {
        r.read_to_end(&mut m.body)?;
    }
    Ok(Some(m))
}

fn write_response(w: &mut impl Write, status: &str, headers: &[(&str, String)], body: &[u8]) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    w.write_all(out.as_bytes())?;
    w.write_all(body)?;
    w.flush()
}

// ---------------------------------------------------------------------------
// The Lambda Runtime API emulator.
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Reply {
    Response(Vec<u8>),
    Error(Vec<u8>),
}

#[derive(Default)]
struct RuntimeState {
    /// Events not yet handed out, with their request ids.
    queue: VecDeque<(String, Vec<u8>)>,
    /// When each `GET /invocation/next` arrived.
    nexts: Vec<Instant>,
    /// Request id, when, what: one per `/response` or `/error`.
    replies: Vec<(String, Instant, Reply)>,
    init_error: Option<String>,
    shutdown: bool,
}

struct Runtime {
    state: Mutex<RuntimeState>,
    changed: Condvar,
    function_arn: String,
}

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(1);

impl Runtime {
    /// Serves the runtime API on a loopback port; answers the address.
    fn start(events: Vec<Vec<u8>>, function_arn: String) -> std::io::Result<(Arc<Runtime>, String)> {
        let queue =
            events.into_iter().map(|e| (format!("coldstart-{:08}", REQUEST_SEQ.fetch_add(1, Ordering::Relaxed)), e)).collect();
        let rt = Arc::new(Runtime {
            state: Mutex::new(RuntimeState { queue, ..Default::default() }),
            changed: Condvar::new(),
            function_arn,
        });
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let served = rt.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if served.state.lock().unwrap().shutdown {
                    break;
                }
                let rt = served.clone();
                std::thread::spawn(move || rt.serve(stream));
            }
        });
        Ok((rt, addr))
    }

    fn serve(&self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let Ok(write) = stream.try_clone() else { return };
        let mut w = write;
        let mut r = BufReader::new(stream);
        while let Ok(Some(req)) = read_message(&mut r, true, false) {
            let mut parts = req.start_line.split(' ');
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let path = path.strip_prefix("/2018-06-01/runtime").unwrap_or(path);
            let result = match (method, path.split('/').collect::<Vec<_>>().as_slice()) {
                ("GET", ["", "invocation", "next"]) => self.next(&mut w),
                ("POST", ["", "invocation", id, "response"]) => self.reply(&mut w, id, Reply::Response(req.body)),
                ("POST", ["", "invocation", id, "error"]) => self.reply(&mut w, id, Reply::Error(req.body)),
                ("POST", ["", "init", "error"]) => {
                    let mut s = self.state.lock().unwrap();
                    s.init_error = Some(String::from_utf8_lossy(&req.body).into_owned());
                    self.changed.notify_all();
                    drop(s);
                    write_response(&mut w, "202 Accepted", &[], b"{}")
                }
                _ => write_response(&mut w, "404 Not Found", &[], b"{\"errorMessage\":\"not a runtime API path\"}"),
            };
            if result.is_err() {
                return;
            }
        }
    }

    /// `GET /invocation/next`: the next event, or wait (as Lambda freezes the
    /// process) until the run is over.
    fn next(&self, w: &mut impl Write) -> std::io::Result<()> {
        let mut s = self.state.lock().unwrap();
        s.nexts.push(Instant::now());
        self.changed.notify_all();
        loop {
            if s.shutdown {
                return Err(std::io::Error::other("run over"));
            }
            if let Some((id, body)) = s.queue.pop_front() {
                drop(s);
                let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + Duration::from_secs(30);
                let headers = [
                    ("content-type", "application/json".to_string()),
                    ("lambda-runtime-aws-request-id", id.clone()),
                    ("lambda-runtime-deadline-ms", deadline.as_millis().to_string()),
                    ("lambda-runtime-invoked-function-arn", self.function_arn.clone()),
                    ("lambda-runtime-trace-id", format!("Root=1-00000000-{id:0>24};Parent=0000000000000000;Sampled=0")),
                ];
                return write_response(w, "200 OK", &headers, &body);
            }
            s = self.changed.wait(s).unwrap();
        }
    }

    fn reply(&self, w: &mut impl Write, id: &str, reply: Reply) -> std::io::Result<()> {
        let mut s = self.state.lock().unwrap();
        s.replies.push((id.to_string(), Instant::now(), reply));
        self.changed.notify_all();
        drop(s);
        write_response(w, "202 Accepted", &[], b"{\"status\":\"OK\"}")
    }

    fn shut_down(&self) {
        self.state.lock().unwrap().shutdown = true;
        self.changed.notify_all();
    }
}

// ---------------------------------------------------------------------------
// The tracing proxy in front of the AWS endpoint (moto).
// ---------------------------------------------------------------------------

struct Call {
    start: Instant,
    took: Duration,
    name: String,
}

struct Tracer {
    calls: Mutex<Vec<Call>>,
}

impl Tracer {
    /// Forwards every request to `upstream` (`host:port`), noting each call.
    fn start(upstream: String) -> std::io::Result<(Arc<Tracer>, String)> {
        let tracer = Arc::new(Tracer { calls: Mutex::new(Vec::new()) });
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let t = tracer.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (t, upstream) = (t.clone(), upstream.clone());
                std::thread::spawn(move || t.serve(stream, &upstream));
            }
        });
        Ok((tracer, addr))
    }

    fn serve(&self, stream: TcpStream, upstream: &str) {
        let _ = stream.set_nodelay(true);
        let Ok(mut w) = stream.try_clone() else { return };
        let mut r = BufReader::new(stream);
        while let Ok(Some(req)) = read_message(&mut r, true, false) {
            let start = Instant::now();
            let head = req.start_line.starts_with("HEAD ");
            let answer = (|| -> std::io::Result<Message> {
                let mut up = TcpStream::connect(upstream)?;
                up.set_nodelay(true)?;
                let mut out = format!("{}\r\n", req.start_line);
                for (k, v) in &req.headers {
                    if !["connection", "content-length", "transfer-encoding"].iter().any(|h| k.eq_ignore_ascii_case(h)) {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                }
                out.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", req.body.len()));
                up.write_all(out.as_bytes())?;
                up.write_all(&req.body)?;
                read_message(&mut BufReader::new(up), !head, true)?.ok_or_else(|| std::io::Error::other("no answer"))
            })();
            let took = start.elapsed();
            self.calls.lock().unwrap().push(Call { start, took, name: call_name(&req) });
            let Ok(answer) = answer else { return };
            let status = answer.start_line.split_once(' ').map(|(_, s)| s.to_string()).unwrap_or_default();
            let headers: Vec<(&str, String)> = answer
                .headers
                .iter()
                .filter(|(k, _)| !["connection", "content-length", "transfer-encoding"].iter().any(|h| k.eq_ignore_ascii_case(h)))
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            let sent = if head {
                // A HEAD answer keeps its length and has no body.
                let mut h = headers.clone();
                if let Some(len) = answer.header("content-length") {
                    h.push(("content-length", len.to_string()));
                }
                let mut out = format!("HTTP/1.1 {status}\r\n");
                for (k, v) in &h {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                w.write_all(out.as_bytes())
            } else {
                write_response(&mut w, &status, &headers, &answer.body)
            };
            if sent.is_err() {
                return;
            }
        }
    }
}

/// A short name for an AWS call: the JSON protocols' `X-Amz-Target`
/// (DynamoDB, Secrets Manager, SQS), SES v2's REST path, else S3's method and path.
fn call_name(req: &Message) -> String {
    if let Some(target) = req.header("x-amz-target") {
        let (service, op) = target.split_once('.').unwrap_or(("", target));
        let service = match service {
            s if s.starts_with("DynamoDB") => "DynamoDB",
            "secretsmanager" => "SecretsManager",
            "AmazonSQS" => "SQS",
            s => s,
        };
        return format!("{service} {op}");
    }
    let mut parts = req.start_line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path.starts_with("/v2/email") {
        return format!("SESv2 {method} {}", path.trim_start_matches("/v2/email"));
    }
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    let (_bucket, key) = (segments.next().unwrap_or(""), segments.next().unwrap_or(""));
    let prefix: String = key.split('/').next().unwrap_or("").chars().take(24).collect();
    let op = match (method, key.is_empty()) {
        ("GET", true) if query.contains("list-type=2") => "ListObjectsV2",
        ("GET", true) => "ListObjects",
        ("GET", false) => "GetObject",
        ("HEAD", false) => "HeadObject",
        ("PUT", false) if req.header("x-amz-copy-source").is_some() => "CopyObject",
        ("PUT", false) => "PutObject",
        ("DELETE", false) => "DeleteObject",
        _ => method,
    };
    if key.is_empty() { format!("S3 {op}") } else { format!("S3 {op} {prefix}/") }
}

// ---------------------------------------------------------------------------
// Running a bootstrap.
// ---------------------------------------------------------------------------

struct Run {
    init_ms: f64,
    first_ms: f64,
    first_error: Option<String>,
    warm_ms: Option<f64>,
    /// Absolute moments, for the trace: first `next`, first reply.
    marks: (Instant, Instant),
    /// The body of the first `/response` or `/error`.
    first_reply: Vec<u8>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs `bootstrap` once with `env`, delivering `events` one by one.
fn run_once(
    f: &Function,
    bootstrap: &Path,
    env: &[(String, String)],
    wrap: &[String],
    events: &[Vec<u8>],
    log: &Path,
) -> Result<Run, String> {
    let arn = format!("arn:aws:lambda:eu-west-2:123456789012:function:qnet-coldstart-{}", f.id);
    let (rt, addr) = Runtime::start(events.to_vec(), arn).map_err(|e| format!("runtime API: {e}"))?;
    let tmp =
        std::env::temp_dir().join(format!("qnet-coldstart-tmp-{}-{}", std::process::id(), REQUEST_SEQ.load(Ordering::Relaxed)));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err_file = log_file.try_clone().map_err(|e| e.to_string())?;

    let mut cmd = match wrap.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args.iter().map(|a| a.replace("{log}", &log.to_string_lossy()))).arg(bootstrap);
            c
        }
        None => Command::new(bootstrap),
    };
    cmd.env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(f.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", &addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", format!("qnet-coldstart-{}", f.id))
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", f.memory_mb.to_string())
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/qnet-coldstart-{}", f.id))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "coldstart")
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env("_HANDLER", "bootstrap")
        .env("LAMBDA_TASK_ROOT", bootstrap.parent().unwrap_or(Path::new("/")))
        // A fresh /tmp per run, as a new execution environment has.
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file);
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", bootstrap.display()))?;

    let outcome = {
        let mut s = rt.state.lock().unwrap();
        loop {
            if s.replies.len() >= events.len() || s.init_error.is_some() {
                break Ok(());
            }
            if started.elapsed() > RUN_TIMEOUT {
                break Err(format!("no answer within {RUN_TIMEOUT:?}"));
            }
            if let Ok(Some(status)) = child.try_wait() {
                break Err(format!("the process exited ({status}) before answering"));
            }
            s = rt.changed.wait_timeout(s, Duration::from_millis(5)).unwrap().0;
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    rt.shut_down();
    let _ = std::fs::remove_dir_all(&tmp);
    outcome.map_err(|e| format!("{e}; log: {}", log.display()))?;

    let s = rt.state.lock().unwrap();
    if let Some(e) = &s.init_error {
        return Err(format!("init error: {e}; log: {}", log.display()));
    }
    let first_next = *s.nexts.first().ok_or("no GET /invocation/next")?;
    let (_, first_at, first) = s.replies.first().ok_or("no reply")?;
    let warm_ms = match (s.nexts.get(1), s.replies.get(1)) {
        (Some(next), Some((_, at, _))) => Some(ms(at.duration_since(*next))),
        _ => None,
    };
    let (first_error, first_reply) = match first {
        Reply::Error(body) => (Some(String::from_utf8_lossy(body).chars().take(200).collect()), body.clone()),
        Reply::Response(body) => (api_failure(body), body.clone()),
    };
    Ok(Run {
        init_ms: ms(first_next.duration_since(started)),
        first_ms: ms(first_at.duration_since(first_next)),
        first_error,
        warm_ms,
        marks: (first_next, *first_at),
        first_reply,
    })
}

/// An HTTP API answer of 5xx counts as an error too (the function "worked",
/// the request did not).
fn api_failure(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let status = v.get("statusCode")?.as_u64()?;
    (status >= 500).then(|| format!("HTTP {status}: {}", v.get("body").and_then(|b| b.as_str()).unwrap_or("")))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn range(v: &[f64]) -> String {
    let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    format!("{lo:.0}-{hi:.0}")
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match bench(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("qnet-coldstart: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs every case; answers whether every run answered (targets missed are
/// marked, not failures).
fn bench(args: &Args) -> Result<bool, String> {
    let functions = read_template(&args.template, &args.sets)?;
    for f in &functions {
        if !CASES.iter().any(|(id, _, _)| *id == f.id) {
            return Err(format!("{} has no fixture in the harness's CASES", f.id));
        }
    }
    std::fs::create_dir_all(&args.logs).map_err(|e| format!("{}: {e}", args.logs.display()))?;
    let endpoint = args.env.iter().find(|(k, _)| k == "AWS_ENDPOINT_URL").map(|(_, v)| v.clone());

    struct Case<'a> {
        f: &'a Function,
        label: &'a str,
        bootstrap: PathBuf,
        event: Vec<u8>,
        runs: Vec<Run>,
        failures: Vec<String>,
    }
    let mut cases = Vec::new();
    for (id, label, fixture) in CASES {
        if args.only.as_ref().is_some_and(|o| !o.iter().any(|x| x == id)) {
            continue;
        }
        let f = functions.iter().find(|f| f.id == *id).ok_or(format!("{id} is not in the template"))?;
        let bootstrap = args.bootstraps.join(&f.binary);
        if !bootstrap.is_file() {
            return Err(format!("no bootstrap {} for {id}", bootstrap.display()));
        }
        let path = args.fixtures.join(fixture);
        let event = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        cases.push(Case { f, label, bootstrap, event, runs: Vec::new(), failures: Vec::new() });
    }

    seed(args, &functions, &cases.iter().map(|c| (c.f.id.as_str(), c.event.as_slice())).collect::<Vec<_>>())?;

    // Round-robin, so that a slow moment of this shared machine spreads over every function.
    for run in 1..=args.runs {
        eprintln!("qnet-coldstart: run {run} of {}", args.runs);
        for c in &mut cases {
            let log = args.logs.join(format!("{}-{}-{run}.log", c.f.binary, c.label.replace(['/', ' '], "_")));
            match run_once(c.f, &c.bootstrap, &args.env, &args.wrap, &[c.event.clone(), c.event.clone()], &log) {
                Ok(r) => c.runs.push(r),
                Err(e) => c.failures.push(e),
            }
        }
    }

    println!();
    println!(
        "{:<24} {:<18} {:>15} {:>17} {:>8}  targets (median of {} runs, range in brackets)",
        "function", "fixture", "init ms", "first ms", "warm ms", args.runs
    );
    let mut all_answered = true;
    for c in &cases {
        if c.runs.is_empty() {
            all_answered = false;
            println!("{:<24} {:<18} FAILED: {}", c.f.id, c.label, c.failures.first().map(String::as_str).unwrap_or(""));
            continue;
        }
        let inits: Vec<f64> = c.runs.iter().map(|r| r.init_ms).collect();
        let firsts: Vec<f64> = c.runs.iter().map(|r| r.first_ms).collect();
        let warms: Vec<f64> = c.runs.iter().filter_map(|r| r.warm_ms).collect();
        let (init, first) = (median(inits.clone()), median(firsts.clone()));
        let api = c.f.id == "ApiFunction";
        let mut marks = Vec::new();
        let init_target = if api { API_INIT_TARGET_MS } else { INIT_TARGET_MS };
        marks.push(if init < init_target { format!("init<{init_target:.0} ok") } else { format!("MISS init>={init_target:.0}") });
        if api {
            marks.push(if first < API_FIRST_TARGET_MS {
                format!("first<{API_FIRST_TARGET_MS:.0} ok")
            } else {
                format!("MISS first>={API_FIRST_TARGET_MS:.0}")
            });
        }
        if let Some(e) = c.runs.iter().find_map(|r| r.first_error.as_ref()) {
            marks.push(format!("ERROR answered: {e}"));
        }
        if !c.failures.is_empty() {
            all_answered = false;
            marks.push(format!("{} of {} runs FAILED: {}", c.failures.len(), args.runs, c.failures[0]));
        }
        println!(
            "{:<24} {:<18} {:>5.0} ({:>7}) {:>6.0} ({:>8}) {:>8}  {}",
            c.f.id,
            c.label,
            init,
            range(&inits),
            first,
            range(&firsts),
            if warms.is_empty() { "-".to_string() } else { format!("{:.0}", median(warms)) },
            marks.join(", ")
        );
    }

    // One traced run per case: the AWS calls of init, of the first request and of the second.
    let Some(endpoint) = endpoint else { return Ok(all_answered) };
    let upstream = endpoint.trim_start_matches("http://").trim_end_matches('/').to_string();
    println!();
    println!("AWS calls per phase (one traced run each, through a logging proxy; ms is the call's own time):");
    for c in &cases {
        let (tracer, proxy) = Tracer::start(upstream.clone()).map_err(|e| format!("proxy: {e}"))?;
        let env: Vec<(String, String)> = args
            .env
            .iter()
            .map(|(k, v)| if k == "AWS_ENDPOINT_URL" { (k.clone(), format!("http://{proxy}")) } else { (k.clone(), v.clone()) })
            .collect();
        let log = args.logs.join(format!("{}-{}-traced.log", c.f.binary, c.label.replace(['/', ' '], "_")));
        let run = match run_once(c.f, &c.bootstrap, &env, &args.wrap, &[c.event.clone(), c.event.clone()], &log) {
            Ok(r) => r,
            Err(e) => {
                println!("  {} {}: traced run failed: {e}", c.f.id, c.label);
                continue;
            }
        };
        let calls = tracer.calls.lock().unwrap();
        let mut phases: [Vec<&Call>; 3] = Default::default();
        for call in calls.iter() {
            let phase = if call.start < run.marks.0 {
                0
            } else if call.start < run.marks.1 {
                1
            } else {
                2
            };
            phases[phase].push(call);
        }
        println!("  {} {}:", c.f.id, c.label);
        for (name, calls) in ["init", "first", "second"].iter().zip(&phases) {
            println!("    {name:<6} {}", summarise(calls));
        }
    }
    Ok(all_answered)
}

/// "DynamoDB Query ×2 (5 ms), S3 GetObject search/ (3 ms)", in order of first use.
fn summarise(calls: &[&Call]) -> String {
    if calls.is_empty() {
        return "none".into();
    }
    let mut order: Vec<(String, usize, f64)> = Vec::new();
    for c in calls {
        match order.iter_mut().find(|(n, _, _)| *n == c.name) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 += ms(c.took);
            }
            None => order.push((c.name.clone(), 1, ms(c.took))),
        }
    }
    let total: f64 = calls.iter().map(|c| ms(c.took)).sum();
    let parts: Vec<String> = order
        .into_iter()
        .map(|(n, k, t)| if k == 1 { format!("{n} ({t:.0} ms)") } else { format!("{n} x{k} ({t:.0} ms)") })
        .collect();
    format!("{} calls, {total:.0} ms: {}", calls.len(), parts.join(", "))
}

/// Before anything is timed, what a running system would already hold, made by
/// the functions themselves (no record written by hand): the organisation the
/// sign-up fixture's domain belongs to (through the API's `POST /organisations`
/// as an admin, so the pre-sign-up trigger admits it) and a search snapshot
/// (through the indexer, so the API loads one at init as in production).
fn seed(args: &Args, functions: &[Function], cases: &[(&str, &[u8])]) -> Result<(), String> {
    let run = |id: &str, event: Vec<u8>| -> Result<(), String> {
        let f = functions.iter().find(|f| f.id == id).ok_or(format!("{id} is not in the template"))?;
        let log = args.logs.join(format!("{}-seed.log", f.binary));
        let bootstrap = args.bootstraps.join(&f.binary);
        let r = run_once(f, &bootstrap, &args.env, &args.wrap, &[event], &log)?;
        let status = serde_json::from_slice::<Value>(&r.first_reply).ok().and_then(|v| v["statusCode"].as_u64());
        if r.first_error.is_some() || status.is_some_and(|s| s >= 300 && s != 409) {
            return Err(format!(
                "seeding with {id} failed: {}; log: {}",
                String::from_utf8_lossy(&r.first_reply).chars().take(300).collect::<String>(),
                log.display()
            ));
        }
        Ok(())
    };
    if let Some((_, get_me)) = cases.iter().find(|(id, _)| *id == "ApiFunction") {
        let mut event: Value = serde_json::from_slice(get_me).map_err(|e| format!("the GET /me fixture: {e}"))?;
        event["routeKey"] = "POST /organisations".into();
        event["rawPath"] = "/organisations".into();
        event["requestContext"]["routeKey"] = "POST /organisations".into();
        event["requestContext"]["http"]["method"] = "POST".into();
        event["requestContext"]["http"]["path"] = "/organisations".into();
        event["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = "[admin]".into();
        event["headers"]["content-type"] = "application/json".into();
        event["body"] = serde_json::json!({
            "name": "Leeds Teaching Hospitals", "type": "nhs", "ods_code": "RR8", "email_domains": ["leedsth.nhs.uk"]
        })
        .to_string()
        .into();
        run("ApiFunction", event.to_string().into_bytes())?;
    }
    if let Some((_, stream)) = cases.iter().find(|(id, _)| *id == "SearchIndexerFunction") {
        run("SearchIndexerFunction", stream.to_vec())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml")
    }

    #[test]
    fn every_function_of_the_template_has_a_case_and_a_fixture() {
        let sets: BTreeMap<String, String> = BTreeMap::new();
        // Names are not needed to list the functions: resolve nothing.
        let text = std::fs::read_to_string(template()).unwrap();
        let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let ids: Vec<String> = yaml["Resources"]
            .as_mapping()
            .unwrap()
            .iter()
            .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
            .map(|(id, _)| id.as_str().unwrap().to_string())
            .collect();
        assert!(ids.len() >= 12, "the template's functions: {ids:?}");
        for id in &ids {
            assert!(CASES.iter().any(|(c, _, _)| c == id), "{id} has no case in CASES");
        }
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/events");
        for (id, _, fixture) in CASES {
            assert!(ids.contains(&id.to_string()), "CASES names {id}, which the template does not have");
            let event: Value = serde_json::from_slice(&std::fs::read(fixtures.join(fixture)).unwrap()).unwrap();
            assert!(event.is_object(), "{fixture}");
        }
        assert!(read_template(&template(), &sets).is_err(), "unresolved names are refused, not passed on");
    }

    #[test]
    fn template_names_resolve_through_the_sets() {
        let sets: BTreeMap<String, String> =
            [("Table", "t"), ("AWS::StackName", "qnet"), ("AWS::Region", "eu-west-2")].map(|(k, v)| (k.into(), v.into())).into();
        let r: serde_yaml::Value = serde_yaml::from_str("!Ref Table").unwrap();
        assert_eq!(resolve(&r, &sets).unwrap(), "t");
        let s: serde_yaml::Value = serde_yaml::from_str("!Sub \"${AWS::StackName}-files-${AWS::Region}\"").unwrap();
        assert_eq!(resolve(&s, &sets).unwrap(), "qnet-files-eu-west-2");
        let missing: serde_yaml::Value = serde_yaml::from_str("!Ref Bucket").unwrap();
        assert!(resolve(&missing, &sets).unwrap_err().contains("--set Bucket="));
    }

    #[test]
    fn messages_are_read_with_a_length_chunked_or_to_the_end() {
        let chunked = b"POST /x HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
        let m = read_message(&mut &chunked[..], true, false).unwrap().unwrap();
        assert_eq!(m.body, b"Wikipedia");
        let sized = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
        assert_eq!(read_message(&mut &sized[..], true, false).unwrap().unwrap().body, b"abc");
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n";
        assert!(read_message(&mut &head[..], false, true).unwrap().unwrap().body.is_empty());
        let eof = b"HTTP/1.1 200 OK\r\n\r\nall of it";
        assert_eq!(read_message(&mut &eof[..], true, true).unwrap().unwrap().body, b"all of it");
        assert!(read_message(&mut &b""[..], true, false).unwrap().is_none());
    }

    #[test]
    fn the_runtime_api_hands_out_events_with_lambdas_headers_and_takes_replies() {
        let (rt, addr) = Runtime::start(vec![b"{\"n\":1}".to_vec()], "arn:aws:lambda:x".into()).unwrap();
        let mut s = TcpStream::connect(&addr).unwrap();
        s.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let event = read_message(&mut r, true, false).unwrap().unwrap();
        assert_eq!(event.body, b"{\"n\":1}");
        let id = event.header("lambda-runtime-aws-request-id").unwrap().to_string();
        for h in ["lambda-runtime-deadline-ms", "lambda-runtime-invoked-function-arn", "lambda-runtime-trace-id"] {
            assert!(event.header(h).is_some(), "{h}");
        }
        s.write_all(
            format!("POST /2018-06-01/runtime/invocation/{id}/error HTTP/1.1\r\ncontent-length: 2\r\n\r\n{{}}").as_bytes(),
        )
        .unwrap();
        assert!(read_message(&mut r, true, false).unwrap().unwrap().start_line.contains("202"));
        let state = rt.state.lock().unwrap();
        assert_eq!(state.nexts.len(), 1);
        assert!(matches!(state.replies.as_slice(), [(rid, _, Reply::Error(_))] if *rid == id));
        drop(state);
        rt.shut_down();
    }
}
