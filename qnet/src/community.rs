//! `qnet match` and `qnet coffee-round`: the scheduled mentoring pass and the
//! weekly coffee round, run locally through the same `App` functions as
//! `functions/mentoring` and `functions/coffee-round`.

use std::path::Path;
use std::sync::Arc;

use qnet_app::App;
use qnet_app::config::Reader;
use qnet_ports::Clock;
use time::OffsetDateTime;

/// The clock of a run with `--now`: proposals made in it date from that moment.
struct FixedClock(OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// The app on the data directory, at `now`, with the matching settings from the
/// environment (`QNET_MATCHING_WEIGHTS`, `QNET_MENTORING_OFFER_DAYS`).
async fn app_at(data_dir: &Path, now: OffsetDateTime) -> anyhow::Result<App> {
    let backend = crate::backend::Backend::open(data_dir, qnet_app::DEFAULT_API_BASE_URL).await?;
    let mut reader = Reader::from_env();
    let settings = reader.mentoring();
    reader.finish()?;
    let mut app = backend.app.with_mentoring(settings);
    app.clock = Arc::new(FixedClock(now));
    Ok(app)
}

/// Expires lapsed offers and assigns open requests; prints
/// `{"assignments": [...], "unmatched": [...]}`.
pub async fn run_match(data_dir: &Path, now: OffsetDateTime, dry_run: bool) -> anyhow::Result<String> {
    let app = app_at(data_dir, now).await?;
    let base = app.api_base_url.to_string();
    let report = app.run_matching(now, dry_run, &base).await?;
    Ok(serde_json::to_string_pretty(&report)?)
}

/// The coffee round of the week holding `now`; prints `{"round", "pairs"}`.
pub async fn run_coffee_round(data_dir: &Path, now: OffsetDateTime, dry_run: bool) -> anyhow::Result<String> {
    let app = app_at(data_dir, now).await?;
    let report = app.coffee_round(now, dry_run).await?;
    Ok(serde_json::to_string_pretty(&report)?)
}
