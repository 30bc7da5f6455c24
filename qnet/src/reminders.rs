//! `qnet reminders`: the day-before event reminders, run locally through the
//! same `App::send_event_reminders` as `functions/event-reminders`, into the
//! outbox. Running it again for the same day sends nothing twice.

use std::path::Path;
use std::sync::Arc;

use qnet_app::App;
use qnet_app::reminders::ReminderReport;
use qnet_ports::Clock;
use time::OffsetDateTime;

/// The clock of a run with `--now`: claims made in it date from that moment.
struct FixedClock(OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// `qnet reminders`: reminds the events of the London day after `now`.
pub async fn run_reminders(data_dir: &Path, now: OffsetDateTime) -> anyhow::Result<ReminderReport> {
    let backend = crate::backend::Backend::open(data_dir, qnet_app::DEFAULT_API_BASE_URL).await?;
    reminders_on(&backend.app, now).await
}

/// What `qnet reminders` does once the app is open (the tests call it on theirs).
pub async fn reminders_on(app: &App, now: OffsetDateTime) -> anyhow::Result<ReminderReport> {
    let mut app = app.clone();
    app.clock = Arc::new(FixedClock(now));
    Ok(app.send_event_reminders(now).await?)
}
