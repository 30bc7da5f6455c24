//! `qnet`: the local runner. Runs the very same handlers as the Lambda functions,
//! on the embedded store by default (SQLite and files under a data directory), or
//! on the AWS adapters with `QNET_BACKEND=aws`.

use qnet::backend;

/// mimalloc: the lists and writes allocate many small strings and JSON values,
/// which it serves faster than the system allocator (decision 0023).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use qnet_app::Claims;
use qnet_domain::Role;
use qnet_ports::{Clock, FixedClock, SystemClock};

#[derive(Parser)]
#[command(name = "qnet", version, about = "Qnet, the quality-improvement network, on one machine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the whole HTTP API (and the local-only dev routes) and the web app,
    /// each on its own loopback origin.
    Serve {
        /// Where the API listens (loopback only).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Where the web app (the built `--web-dir`) listens (loopback only).
        #[arg(long, default_value = "127.0.0.1:8081")]
        web_addr: SocketAddr,
        /// The built web app.
        #[arg(long, default_value = "web/dist")]
        web_dir: PathBuf,
        /// The API's public origin when a proxy stands in front (links in emails
        /// start here); default http://ADDR.
        #[arg(long, env = "QNET_PUBLIC_API_URL")]
        public_api_url: Option<String>,
        /// The web app's public origin when a proxy stands in front; default http://WEB_ADDR.
        #[arg(long, env = "QNET_WEB_BASE_URL")]
        public_web_url: Option<String>,
        #[arg(long, default_value = "./qnet-data")]
        data_dir: PathBuf,
        /// Also accept case studies by SMTP on this loopback address (e.g. 127.0.0.1:2525).
        #[arg(long)]
        smtp: Option<SocketAddr>,
    },
    /// Process one raw email as the ingest Lambda would, and print what became of it as JSON.
    Ingest {
        #[arg(long, default_value = "./qnet-data")]
        data_dir: PathBuf,
        /// Write nothing and send nothing.
        #[arg(long)]
        dry_run: bool,
        /// An SES receipt event (JSON) giving the verdicts and message id; without it every verdict counts as PASS.
        #[arg(long)]
        ses_event: Option<PathBuf>,
        /// The raw message (.eml).
        message: PathBuf,
    },
    /// Plan and send the digests due at `--now` (default: now) into the outbox,
    /// through the same code as the deployed planner and sender. Prints one JSON
    /// object: issues, due, sent, skipped, failed. Running it again for the same
    /// period sends nothing twice.
    Digest {
        #[arg(long, default_value = "./qnet-data")]
        data_dir: PathBuf,
        /// The moment to plan for, RFC 3339 (e.g. 2026-03-09T07:00:00Z).
        #[arg(long)]
        now: Option<String>,
        /// Decide and compose, but claim and send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write one member's next digest as .eml and .html instead (needs --email);
        /// sends and records nothing.
        #[arg(long, requires = "email")]
        preview: bool,
        /// The member to preview.
        #[arg(long, requires = "preview")]
        email: Option<String>,
        /// Where --preview writes its files (default: DATA_DIR/previews).
        #[arg(long, requires = "preview")]
        out: Option<PathBuf>,
    },
    /// Feed an SES bounce or complaint notification (an SNS event, an EventBridge
    /// event or the bare SES event JSON) through the same handler as the deployed
    /// ses-events function.
    SesEvent {
        #[arg(long, default_value = "./qnet-data")]
        data_dir: PathBuf,
        file: PathBuf,
    },
    /// Expire lapsed mentoring offers (proposing the next candidate) and assign
    /// every open mentoring request at once, as functions/mentoring does. Prints
    /// one JSON object: assignments and unmatched.
    Match {
        #[arg(long, default_value = "./qnet-data")]
        data_dir: PathBuf,
        /// The moment to run at, RFC 3339 (default: now).
        #[arg(long)]
        now: Option<String>,
        /// Decide, but write and send nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Pair the members who opted in to randomised coffee for the week holding
    /// `--now`, and email each pair or trio once, as functions/coffee-round does.
    /// A week that already has a round prints it again and sends nothing new.
    CoffeeRound {
        #[arg(long, default_value = "./qnet-data")]
        data_dir: PathBuf,
        /// A moment in the round's week, RFC 3339 (default: now).
        #[arg(long)]
        now: Option<String>,
        /// Draw the pairs, but store and send nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Email everyone with a confirmed place on an event starting tomorrow
    /// (the Europe/London date after `--now`'s), once each, as
    /// functions/event-reminders does. Prints one JSON object: date, events,
    /// sent, skipped, failed, failures; exits non-zero when any failed.
    /// Running it again sends nothing twice (and retries the failures).
    Reminders {
        #[arg(long, default_value = "./qnet-data")]
        data_dir: PathBuf,
        /// The moment to run at, RFC 3339 (default: now).
        #[arg(long)]
        now: Option<String>,
    },
    /// The engagement pass at `--now`, as functions/engagement does: experts are
    /// asked about questions unanswered for three days; on Mondays (London) the
    /// weekly nudges go to members whose digest is not due. Prints one JSON
    /// report. Running it again sends nothing twice.
    Engagement {
        #[arg(long, default_value = "./qnet-data")]
        data_dir: PathBuf,
        /// The moment to run at, RFC 3339 (default: now).
        #[arg(long)]
        now: Option<String>,
        /// Decide and count, but write and send nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The insights' running counts: `qnet insights rebuild` recounts them from
    /// the records (for records stored before the counts were kept, or to
    /// repair them) and prints a JSON report; running it again changes nothing.
    /// Works on the embedded store or (QNET_BACKEND=aws) the deployed table.
    Insights {
        #[arg(long, default_value = "./qnet-data", global = true)]
        data_dir: PathBuf,
        #[command(subcommand)]
        command: InsightsCommand,
    },
    /// Operator commands, on the embedded store or (QNET_BACKEND=aws) the deployed
    /// table and user pool: organisations, granted roles, the first admin.
    Admin {
        #[arg(long, default_value = "./qnet-data", global = true)]
        data_dir: PathBuf,
        #[command(subcommand)]
        command: qnet::admin::AdminCommand,
    },
    /// Print a bearer token that `qnet serve` accepts (stands in for Cognito).
    Token {
        #[arg(long)]
        email: String,
        /// member, organiser, moderator or admin; repeat for several.
        #[arg(long = "role", default_value = "member")]
        roles: Vec<String>,
        #[arg(long)]
        name: Option<String>,
        /// An organisation's id or name.
        #[arg(long)]
        organisation: Option<String>,
        #[arg(long, default_value = "./qnet-data")]
        data_dir: PathBuf,
        /// Hours until the token expires.
        #[arg(long, default_value_t = 12)]
        hours: u64,
    },
}

#[derive(clap::Subcommand)]
enum InsightsCommand {
    /// Recount every insights tally from the records; idempotent.
    Rebuild,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime starts");
    let result = rt.block_on(async {
        match cli.command {
            Command::Serve { addr, web_addr, web_dir, public_api_url, public_web_url, data_dir, smtp } => {
                let listen = Listen { addr, web_addr, web_dir, public_api_url, public_web_url };
                serve(listen, data_dir, smtp).await
            }
            Command::Ingest { data_dir, dry_run, ses_event, message } => ingest(data_dir, dry_run, ses_event, message).await,
            Command::Digest { data_dir, now, dry_run, preview, email, out } => {
                digest(data_dir, now, dry_run, preview, email, out).await
            }
            Command::SesEvent { data_dir, file } => ses_event(data_dir, file).await,
            Command::Match { data_dir, now, dry_run } => {
                println!("{}", qnet::community::run_match(&data_dir, clock_at(now)?, dry_run).await?);
                Ok(())
            }
            Command::CoffeeRound { data_dir, now, dry_run } => {
                println!("{}", qnet::community::run_coffee_round(&data_dir, clock_at(now)?, dry_run).await?);
                Ok(())
            }
            Command::Reminders { data_dir, now } => {
                let report = qnet::reminders::run_reminders(&data_dir, clock_at(now)?).await?;
                println!("{}", serde_json::to_string_pretty(&report)?);
                if report.failed > 0 {
                    anyhow::bail!("{} reminder(s) failed (listed in failures); running again retries them", report.failed);
                }
                Ok(())
            }
            Command::Engagement { data_dir, now, dry_run } => {
                println!("{}", qnet::community::run_engagement(&data_dir, clock_at(now)?, dry_run).await?);
                Ok(())
            }
            Command::Insights { data_dir, command: InsightsCommand::Rebuild } => {
                let backend = backend::Backend::open(&data_dir, "http://127.0.0.1", Arc::new(SystemClock)).await?;
                let report = backend.app.rebuild_insights().await?;
                println!("{}", serde_json::to_string_pretty(&report)?);
                Ok(())
            }
            Command::Admin { data_dir, command } => {
                let backend = backend::Backend::open(&data_dir, "http://127.0.0.1", Arc::new(SystemClock)).await?;
                let invited = match &command {
                    qnet::admin::AdminCommand::InviteAdmin { email } => Some(email.clone()),
                    _ => None,
                };
                let mut out = qnet::admin::run(&backend.app, command).await?;
                if let Some(email) = invited
                    && backend.kind == "aws"
                {
                    out["cognito"] = qnet::admin::invite_in_user_pool(&email).await?;
                }
                println!("{}", serde_json::to_string_pretty(&out)?);
                Ok(())
            }
            Command::Token { email, roles, name, organisation, data_dir, hours } => {
                token(email, roles, name, organisation, data_dir, hours).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qnet: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Where `qnet serve` listens and the origins it writes in links.
struct Listen {
    addr: SocketAddr,
    web_addr: SocketAddr,
    web_dir: PathBuf,
    public_api_url: Option<String>,
    public_web_url: Option<String>,
}

/// A configured public origin: an absolute http(s) URL, without a trailing slash.
fn public_url(flag: &str, value: Option<String>, default: String) -> anyhow::Result<String> {
    let Some(v) = value.filter(|v| !v.trim().is_empty()) else { return Ok(default) };
    let v = v.trim().trim_end_matches('/').to_string();
    let rest = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !r.contains(['@', ' ', '?', '#']) => Ok(v),
        _ => anyhow::bail!("{flag} {v} is not an absolute http(s) URL such as https://qnet.example.nhs.uk"),
    }
}

async fn serve(listen: Listen, data_dir: PathBuf, smtp: Option<SocketAddr>) -> anyhow::Result<()> {
    for (flag, a) in [("--addr", listen.addr), ("--web-addr", listen.web_addr)] {
        if !a.ip().is_loopback() {
            anyhow::bail!("{flag} must be a loopback address ({a} is not): the dev routes must never face a network");
        }
    }
    qnet_app::logging::init(&std::env::var("QNET_LOG_LEVEL").unwrap_or_else(|_| "info".into()));
    let bind = |a: SocketAddr| async move {
        tokio::net::TcpListener::bind(a).await.map_err(|e| anyhow::anyhow!("cannot listen on {a}: {e}"))
    };
    let listener = bind(listen.addr).await?;
    let web_listener = bind(listen.web_addr).await?;
    // Links are only ever built from these configured origins, never from a
    // request's Host.
    let api_url = public_url("--public-api-url", listen.public_api_url, format!("http://{}", listener.local_addr()?))?;
    let web_url = public_url("--public-web-url", listen.public_web_url, format!("http://{}", web_listener.local_addr()?))?;
    let mut backend = backend::Backend::open(&data_dir, &api_url, Arc::new(SystemClock)).await?;
    backend.app = backend.app.with_web_base_url(&web_url);
    if backend.kind == "embedded" {
        backend = backend.with_search(&data_dir)?;
    }
    println!("Qnet is listening on {api_url} ({} backend, data in {})", backend.kind, data_dir.display());
    println!("Open the web app at {web_url}");
    let backend = std::sync::Arc::new(backend);
    if let Some(smtp) = smtp {
        qnet::smtp::start(smtp, backend.clone())?;
    }
    let config = qnet::web::local_config(&api_url);
    let web = qnet::web::router(&listen.web_dir, backend.allowed_hosts(), config);
    let web = axum::serve(web_listener, web).with_graceful_shutdown(shutdown());
    // The peer address lets local sign-in answer this machine only.
    let api = qnet::router(&backend).into_make_service_with_connect_info::<SocketAddr>();
    let api = axum::serve(listener, api).with_graceful_shutdown(shutdown());
    let (a, w) = tokio::join!(api, web);
    a?;
    w?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

async fn ingest(data_dir: PathBuf, dry_run: bool, ses_event: Option<PathBuf>, message: PathBuf) -> anyhow::Result<()> {
    use qnet_app::ingest::IngestOptions;
    let raw = std::fs::read(&message).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", message.display()))?;
    // The delivery (id and verdicts) is made as the ingest function makes it.
    let inbound = match &ses_event {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            let event: qnet_email_ingest::SesEvent = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{} is not an SES receipt event: {e}", path.display()))?;
            qnet_email_ingest::local_delivery(raw, Some(&event)).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => qnet_email_ingest::local_delivery(raw, None)?,
    };
    // A dry run against a data directory that does not exist yet must not create one.
    let scratch;
    let dir = if dry_run && !data_dir.exists() {
        scratch = tempfile_dir()?;
        scratch.clone()
    } else {
        data_dir.clone()
    };
    let backend = backend::Backend::open(&dir, "http://127.0.0.1", Arc::new(SystemClock)).await?;
    let opts = IngestOptions { dry_run, mail_from: backend.mail_from.clone() };
    let report = qnet_email_ingest::ingest_delivery(&backend.app, backend.mailer.as_ref(), &inbound, &opts).await?;
    // A reply to a board email queues its follower emails: send them before exiting.
    backend.jobs.finish().await;
    if dir != data_dir {
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// The clock of a command: stopped at `--now` when given (the whole run, its
/// store included, believes it is then), else the real one.
fn clock_at(now: Option<String>) -> anyhow::Result<Arc<dyn Clock>> {
    match now {
        None => Ok(Arc::new(SystemClock)),
        Some(t) => time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
            .map(|at| Arc::new(FixedClock(at)) as Arc<dyn Clock>)
            .map_err(|e| anyhow::anyhow!("--now {t} is not an RFC 3339 time such as 2026-03-09T07:00:00Z: {e}")),
    }
}

async fn digest(
    data_dir: PathBuf,
    now: Option<String>,
    dry_run: bool,
    preview: bool,
    email: Option<String>,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let clock = clock_at(now)?;
    let now = clock.now();
    let backend = backend::Backend::open(&data_dir, "http://127.0.0.1", clock).await?;
    let digest = qnet_app::digest::Digest::new(backend.digest_settings());
    if preview {
        let email = email.expect("clap requires --email with --preview");
        let email = qnet_domain::member::normalise_email(&email).map_err(|m| anyhow::anyhow!("--email {m}"))?;
        let id =
            backend.app.member_id_for_email(&email).await?.ok_or_else(|| anyhow::anyhow!("no member has the address {email}"))?;
        let member = backend.app.member_by_id(&id).await?.ok_or_else(|| anyhow::anyhow!("no member has the address {email}"))?;
        let composed = digest.preview(&backend.app, &member, now).await?;
        let dir = out.unwrap_or_else(|| data_dir.join("previews"));
        std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        let stem = format!("digest-preview-{}", member.id.to_ascii_lowercase());
        let eml = dir.join(format!("{stem}.eml"));
        let html = dir.join(format!("{stem}.html"));
        std::fs::write(&eml, &composed.mail.raw).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", eml.display()))?;
        std::fs::write(&html, &composed.html).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", html.display()))?;
        println!("{}", serde_json::json!({"subject": composed.subject, "eml": eml, "html": html}));
        return Ok(());
    }
    let report = digest.run_local(&backend.app, backend.mailer.as_ref(), now, dry_run).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if report.failed > 0 {
        anyhow::bail!("{} digest(s) failed (listed in failures); running again retries those that can be", report.failed);
    }
    Ok(())
}

async fn ses_event(data_dir: PathBuf, file: PathBuf) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", file.display()))?;
    let notices = qnet_app::suppression::parse_ses_notifications(&value)
        .map_err(|e| anyhow::anyhow!("{} is not an SES bounce or complaint notification: {e}", file.display()))?;
    let backend = backend::Backend::open(&data_dir, "http://127.0.0.1", Arc::new(SystemClock)).await?;
    let report = backend.app.apply_ses_notices(&notices).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// A fresh private directory under the system temp dir.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("qnet-dry-run-{}", ulid::Ulid::generate()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

async fn token(
    email: String,
    roles: Vec<String>,
    name: Option<String>,
    organisation: Option<String>,
    data_dir: PathBuf,
    hours: u64,
) -> anyhow::Result<()> {
    let email = qnet_domain::member::normalise_email(&email).map_err(|m| anyhow::anyhow!("--email {m}"))?;
    let mut groups = Vec::new();
    for r in &roles {
        groups
            .push(Role::parse(r).ok_or_else(|| anyhow::anyhow!("--role {r} is not one of member, organiser, moderator, admin"))?);
    }
    if !(1..=24 * 30).contains(&hours) {
        anyhow::bail!("--hours must be from 1 to 720");
    }
    let backend = backend::Backend::open(&data_dir, "http://127.0.0.1", Arc::new(SystemClock)).await?;
    let app = &backend.app;
    let org = match &organisation {
        Some(o) => Some(
            app.find_organisation(o)
                .await?
                .ok_or_else(|| anyhow::anyhow!("--organisation {o}: no organisation has that id or name"))?,
        ),
        None => None,
    };
    let sub = app.member_id_for_email(&email).await?.unwrap_or_else(|| ulid::Ulid::generate().to_string());
    let display = name.unwrap_or_else(|| email.split('@').next().unwrap_or("").to_string());
    let claims = Claims::new(sub, email, display, groups);
    // Sign-in creates the profile; the token command is a sign-in.
    let member = app.member(&claims).await?;
    if let Some(o) = org
        && member.organisation_id.as_deref() != Some(o.id.as_str())
    {
        app.set_member_organisation(&claims, &o.id).await?;
    }
    // A token's lifetime is judged by the API with the real time (as Cognito's
    // are), so it is signed with the app's clock, which is the real one here.
    let now = app.clock().now().unix_timestamp() as u64;
    println!("{}", backend.tokens.sign(&claims, now, hours * 3600));
    Ok(())
}
