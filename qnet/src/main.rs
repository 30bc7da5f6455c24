//! `qnet`: the local runner. Runs the very same handlers as the Lambda functions,
//! on the embedded store by default (SQLite and files under a data directory), or
//! on the AWS adapters with `QNET_BACKEND=aws`.

use qnet::backend;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use qnet_app::Claims;
use qnet_domain::Role;

#[derive(Parser)]
#[command(name = "qnet", version, about = "Qnet, the quality-improvement network, on one machine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the whole HTTP API (and the local-only dev routes) on loopback.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        #[arg(long, default_value = "./qnet-data")]
        data_dir: PathBuf,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime starts");
    let result = rt.block_on(async {
        match cli.command {
            Command::Serve { addr, data_dir } => serve(addr, data_dir).await,
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

async fn serve(addr: SocketAddr, data_dir: PathBuf) -> anyhow::Result<()> {
    if !addr.ip().is_loopback() {
        anyhow::bail!("--addr must be a loopback address ({addr} is not): the dev routes must never face a network");
    }
    qnet_app::logging::init(&std::env::var("QNET_LOG_LEVEL").unwrap_or_else(|_| "info".into()));
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let backend = backend::Backend::open(&data_dir, &base_url).await?;
    println!("Qnet is listening on {base_url} ({} backend, data in {})", backend.kind, data_dir.display());
    axum::serve(listener, qnet::router(&backend)).with_graceful_shutdown(shutdown()).await?;
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
    let backend = backend::Backend::open(&data_dir, "http://127.0.0.1").await?;
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
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    println!("{}", backend.tokens.sign(&claims, now, hours * 3600));
    Ok(())
}
