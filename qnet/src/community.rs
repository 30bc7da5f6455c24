//! `qnet match`, `qnet coffee-round` and `qnet engagement`: the scheduled
//! mentoring pass, the weekly coffee round and the daily engagement pass, run
//! locally through the same `App` functions as `functions/mentoring`,
//! `functions/coffee-round` and `functions/engagement`.

use std::path::Path;
use std::sync::Arc;

use qnet_app::App;
use qnet_app::config::Reader;
use qnet_ports::Clock;
use time::OffsetDateTime;

/// The app on the data directory at `clock`, with the matching settings from
/// the environment (`QNET_MATCHING_WEIGHTS`, `QNET_MENTORING_OFFER_DAYS`).
async fn open(data_dir: &Path, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let backend = crate::backend::Backend::open(data_dir, qnet_app::DEFAULT_API_BASE_URL, clock).await?;
    let mut reader = Reader::from_env();
    let settings = reader.mentoring();
    reader.finish()?;
    Ok(backend.app.with_mentoring(settings))
}

/// `app` at `now`: what the run writes is dated from that moment.
fn at(app: &App, now: OffsetDateTime) -> App {
    app.at(now)
}

/// `qnet match`: expires lapsed offers and assigns open requests; answers the
/// JSON it prints, `{"assignments": [...], "unmatched": [...]}`.
pub async fn run_match(data_dir: &Path, clock: Arc<dyn Clock>, dry_run: bool) -> anyhow::Result<String> {
    let now = clock.now();
    match_on(&open(data_dir, clock).await?, now, dry_run).await
}

/// What `qnet match` does once the app is open (the tests call it on theirs).
pub async fn match_on(app: &App, now: OffsetDateTime, dry_run: bool) -> anyhow::Result<String> {
    let app = at(app, now);
    let base = app.api_base_url.to_string();
    let report = app.run_matching(now, dry_run, &base).await?;
    Ok(serde_json::to_string_pretty(&report)?)
}

/// `qnet coffee-round`: the round of the week holding `now`; answers the JSON it
/// prints, `{"round", "pairs"}`.
pub async fn run_coffee_round(data_dir: &Path, clock: Arc<dyn Clock>, dry_run: bool) -> anyhow::Result<String> {
    let now = clock.now();
    coffee_round_on(&open(data_dir, clock).await?, now, dry_run).await
}

/// What `qnet coffee-round` does once the app is open (the tests call it on theirs).
pub async fn coffee_round_on(app: &App, now: OffsetDateTime, dry_run: bool) -> anyhow::Result<String> {
    let report = at(app, now).coffee_round(now, dry_run).await?;
    Ok(serde_json::to_string_pretty(&report)?)
}

/// `qnet engagement`: the engagement pass at `now` (experts daily, nudges on
/// Mondays); answers the JSON report it prints.
pub async fn run_engagement(data_dir: &Path, clock: Arc<dyn Clock>, dry_run: bool) -> anyhow::Result<String> {
    let now = clock.now();
    engagement_on(&open(data_dir, clock).await?, now, dry_run).await
}

/// What `qnet engagement` does once the app is open (the tests call it on theirs).
pub async fn engagement_on(app: &App, now: OffsetDateTime, dry_run: bool) -> anyhow::Result<String> {
    let app = at(app, now);
    let report = if dry_run { app.preview_engagement(now).await? } else { app.run_engagement(now).await? };
    Ok(serde_json::to_string_pretty(&report)?)
}
