//! The daily engagement pass (`functions/engagement`, `qnet engagement`):
//! experts are asked about questions left unanswered for three days, every
//! day; on Mondays (Europe/London) the weekly nudges go too. Experts first, so
//! a member asked this week gets no nudge as well (one email a week).

use jiff::civil::Weekday;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{App, AppError, AppResult};

/// What one run did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementReport {
    /// The run's day, `YYYY-MM-DD` in Europe/London.
    pub day: String,
    pub dry_run: bool,
    /// Questions whose experts this run asked.
    pub questions: usize,
    /// Expert emails sent.
    pub experts_asked: usize,
    /// The week the nudges covered (`weekly-2026-W48`); null on other days.
    pub nudge_week: Option<String>,
    /// "Your week in Qnet" emails sent.
    pub nudges_sent: usize,
    /// Members whose digest is due this week (their lines go there).
    pub in_digest: usize,
    /// Emails not sent because the member's weekly email already went.
    pub capped: usize,
    /// Nudges a previous run of the week already sent.
    pub already_sent: usize,
    /// Not sent: the address is suppressed.
    pub suppressed: usize,
    /// Sends that failed; their claims were released, so a retry sends them.
    pub failed: usize,
}

/// The London date of `now`.
fn london_date(now: OffsetDateTime) -> Option<jiff::civil::Date> {
    jiff::Timestamp::from_second(now.unix_timestamp())
        .ok()
        .map(|t| t.to_zoned_datetime(qnet_domain::digest::london().clone()).date())
}

impl App {
    /// The pass at `now`: sends, then answers what it did. An error when any
    /// email failed to send (after trying the rest), so Lambda retries the run;
    /// the claims make the retry send only those.
    pub async fn run_engagement(&self, now: OffsetDateTime) -> AppResult<EngagementReport> {
        let report = self.engagement_pass(now, false).await?;
        if report.failed > 0 {
            return Err(AppError::Unavailable(format!("{} engagement email(s) failed; a retry sends just those", report.failed)));
        }
        Ok(report)
    }

    /// What [`App::run_engagement`] would send at `now`, writing and sending nothing.
    pub async fn preview_engagement(&self, now: OffsetDateTime) -> AppResult<EngagementReport> {
        self.engagement_pass(now, true).await
    }

    async fn engagement_pass(&self, now: OffsetDateTime, dry_run: bool) -> AppResult<EngagementReport> {
        let local = london_date(now).ok_or_else(|| AppError::Unavailable("the run's time is out of range".into()))?;
        let mut report = EngagementReport { day: local.to_string(), dry_run, ..Default::default() };
        self.ask_experts(now, dry_run, &mut report).await?;
        if local.weekday() == Weekday::Monday {
            self.weekly_nudges(now, dry_run, &mut report).await?;
        }
        tracing::info!(?report, "engagement pass");
        Ok(report)
    }
}
