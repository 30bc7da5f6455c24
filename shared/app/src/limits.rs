//! Limits on what one member can set in motion: how often they may post, ask
//! for mentoring, book places and make Qnet send email (fixed windows per
//! member and action), and how many mentoring requests they may hold open.
//!
//! Each window is one counter item in the store (`LIMIT#<member>` /
//! `<action>#<window start>`, expiring at the window's end), moved with a
//! bounded [`Write::Increment`], so the limit holds across Lambda instances and
//! under concurrency without read-modify-write. The numbers are chosen so that
//! a real member never meets them; they are in `docs/security.md`.

use qnet_ports::{Condition, Item, Write};

use crate::{App, AppError, AppResult, keys};

/// Board posts and replies (on the web) per member per hour.
pub const POSTS_PER_HOUR: i64 = 30;
/// Questions and answers (on the web) per member per hour, together: each
/// emails the item's author or the asker.
pub const QUESTIONS_PER_HOUR: i64 = 30;
/// Requests to team up (each emails a project's lead) per member per day.
pub const TEAM_UPS_PER_DAY: i64 = 20;
/// Mentoring requests created per member per day (open or not).
pub const MENTORING_REQUESTS_PER_DAY: i64 = 10;
/// Event bookings made per member per hour.
pub const BOOKINGS_PER_HOUR: i64 = 20;
/// Address confirmation emails (`POST /me/email/confirm`) per member per hour.
pub const CONFIRMATION_EMAILS_PER_HOUR: i64 = 5;
/// Calendar feed URLs issued (`POST /me/calendar-feed`) per member per hour.
pub const CALENDAR_FEEDS_PER_HOUR: i64 = 10;
/// Portfolios (`GET /me/portfolio`, `…/portfolio.csv`) per member per hour:
/// each reads a few hundred items.
pub const PORTFOLIOS_PER_HOUR: i64 = 60;

const HOUR: i64 = 60 * 60;
const DAY: i64 = 24 * HOUR;

/// Something a member does that is limited per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A board post or reply.
    BoardMessage,
    /// A question or an answer (on the web).
    QuestionOrAnswer,
    MentoringRequest,
    Booking,
    ConfirmationEmail,
    CalendarFeed,
    /// Asking a project's lead to team up.
    TeamUp,
    /// A portfolio read (JSON or CSV).
    Portfolio,
}

impl Action {
    /// The name in the counter's key.
    pub fn name(self) -> &'static str {
        match self {
            Action::BoardMessage => "board-message",
            Action::QuestionOrAnswer => "question",
            Action::MentoringRequest => "mentoring-request",
            Action::Booking => "booking",
            Action::ConfirmationEmail => "confirmation-email",
            Action::CalendarFeed => "calendar-feed",
            Action::TeamUp => "team-up",
            Action::Portfolio => "portfolio",
        }
    }

    /// How many in how many seconds.
    pub fn limit(self) -> (i64, i64) {
        match self {
            Action::BoardMessage => (POSTS_PER_HOUR, HOUR),
            Action::QuestionOrAnswer => (QUESTIONS_PER_HOUR, HOUR),
            Action::MentoringRequest => (MENTORING_REQUESTS_PER_DAY, DAY),
            Action::Booking => (BOOKINGS_PER_HOUR, HOUR),
            Action::ConfirmationEmail => (CONFIRMATION_EMAILS_PER_HOUR, HOUR),
            Action::CalendarFeed => (CALENDAR_FEEDS_PER_HOUR, HOUR),
            Action::TeamUp => (TEAM_UPS_PER_DAY, DAY),
            Action::Portfolio => (PORTFOLIOS_PER_HOUR, HOUR),
        }
    }

    /// What the member is told when over the limit.
    fn describe(self) -> &'static str {
        match self {
            Action::BoardMessage => "board posts and replies",
            Action::QuestionOrAnswer => "questions and answers",
            Action::MentoringRequest => "mentoring requests",
            Action::Booking => "event bookings",
            Action::ConfirmationEmail => "confirmation emails",
            Action::CalendarFeed => "new calendar feed links",
            Action::TeamUp => "requests to team up",
            Action::Portfolio => "portfolio views and downloads",
        }
    }
}

impl App {
    /// Counts one `action` by `member_id` in the current window, or refuses
    /// with [`AppError::TooManyRequests`] (and counts nothing) when the window
    /// is full. Call it after everything that answers without acting (a
    /// replay, "you already have one") and before anything is stored or sent.
    pub(crate) async fn take_allowance(&self, member_id: &str, action: Action) -> AppResult<()> {
        let (max, window) = action.limit();
        let now = self.now().unix_timestamp();
        let start = now - now.rem_euclid(window);
        let end = start + window;
        let (pk, sk) = keys::rate_limit(member_id, action.name(), start);
        for _ in 0..8 {
            let take = Write::Increment {
                pk: pk.clone(),
                sk: sk.clone(),
                field: "count".into(),
                by: 1,
                at_least: None,
                at_most: Some(max),
            };
            match self.records.transact(vec![take]).await {
                Ok(()) => return Ok(()),
                Err(e) if e.is_conflict() => {}
                Err(e) => return Err(e.into()),
            }
            // The window is full, its counter does not exist yet, or another
            // request moved or created it at the same moment (then try again).
            let full = self
                .records
                .get(&pk, &sk)
                .await?
                .map(|c| c.data.get("count").and_then(serde_json::Value::as_i64).unwrap_or(0) >= max);
            if full == Some(true) {
                tracing::warn!(member = %member_id, action = action.name(), "rate limit reached");
                return Err(AppError::TooManyRequests {
                    detail: format!(
                        "you have reached the limit of {max} {} per {}; try again later",
                        action.describe(),
                        if window == DAY { "day" } else { "hour" }
                    ),
                    retry_after: (end - now).max(1) as u64,
                });
            }
            if full.is_some() {
                continue;
            }
            let counter = Item::new(pk.clone(), sk.clone(), serde_json::json!({"count": 0})).expiring_at(end);
            match self.records.put(counter, Condition::NotExists).await {
                Ok(()) => {}
                Err(e) if e.is_conflict() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict("this is changing at this moment; try again".into()))
    }
}
