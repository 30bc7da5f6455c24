//! `qnet reminders`: the day-before event reminders, run locally through the
//! same `App::send_event_reminders` as `functions/event-reminders`, into the
//! outbox. Running it again for the same day sends nothing twice.

use std::path::Path;
use std::sync::Arc;

use qnet_app::App;
use qnet_app::reminders::ReminderReport;
use qnet_ports::Clock;
use time::OffsetDateTime;

/// `qnet reminders`: reminds the events of the London day after the clock's now.
pub async fn run_reminders(data_dir: &Path, clock: Arc<dyn Clock>) -> anyhow::Result<ReminderReport> {
    let now = clock.now();
    let backend = crate::backend::Backend::open(data_dir, qnet_app::DEFAULT_API_BASE_URL, clock).await?;
    reminders_on(&backend.app, now).await
}

/// What `qnet reminders` does once the app is open (the tests call it on
/// theirs): the app runs at `now`, claims made in it date from that moment.
pub async fn reminders_on(app: &App, now: OffsetDateTime) -> anyhow::Result<ReminderReport> {
    Ok(app.at(now).send_event_reminders(now).await?)
}
