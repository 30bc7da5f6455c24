//! Engagement (issue 21): the emails that keep the network's conversations
//! going, and the rules they share.
//!
//! - Each kind of engagement email ([`EmailKind`]) can be turned off on its own,
//!   in settings (`PATCH /me` `engagement`) or with the one-click unsubscribe
//!   (RFC 8058) that every such email carries ([`App::opt_out`],
//!   [`list_unsubscribe`]). The link turns off that kind only.
//! - **One cap**: beyond the digest, a member gets at most one email a week from
//!   questions-to-experts and nudges together ([`App::claim_weekly_slot`]).
//! - "Ask me about …": members who agreed to be asked about a topic
//!   ([`App::experts_for_topics`]); a directory listing alone is not consent.
//! - "For you" lines (`personal.rs`: a welcome, quiet projects, read counts)
//!   go in the digest's "For you" section when the member gets a digest that
//!   week, else in the Monday "Your week in Qnet" email (`nudges.rs`); the
//!   daily pass (`run.rs`, `functions/engagement`) sends them.

mod experts;
mod nudges;
mod personal;
mod run;

pub use experts::{EXPERTS_PER_QUESTION, UNANSWERED_DAYS};
pub(crate) use personal::erase as erase_nudges;
pub use personal::{QUIET_WEEKS, QuietProject, WELCOME_DAYS};
pub use run::EngagementReport;

use qnet_domain::digest::{Cadence, Period};
use qnet_domain::member::Member;
use qnet_ports::{Condition, Index, Item, Query, Write};
use time::OffsetDateTime;

use crate::tokens::{OpaqueToken, TokenPurpose};
use crate::{App, AppError, AppResult, keys};

/// How long a week's email slot is kept: past the end of its week.
const SLOT_DAYS: i64 = 21;
/// Members read per topic when looking for experts, at most.
const EXPERTS_PER_TOPIC: u32 = 500;

/// A kind of engagement email, each with its own switch in
/// [`qnet_domain::member::EngagementPrefs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    /// Questions on the member's case studies and resources; answers to theirs.
    Questions,
    /// Unanswered questions in a topic of their "Ask me about".
    ExpertQuestions,
    /// A project of theirs with no new data point or PDSA cycle in 8 weeks.
    ProjectReminders,
    /// The welcome with three things to do.
    Welcome,
    /// How often their work was read, and thanks.
    AuthorUpdates,
}

impl EmailKind {
    pub const ALL: [EmailKind; 5] = [
        EmailKind::Questions,
        EmailKind::ExpertQuestions,
        EmailKind::ProjectReminders,
        EmailKind::Welcome,
        EmailKind::AuthorUpdates,
    ];

    /// The switch's name in `PATCH /me` `engagement` and in opt-out tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailKind::Questions => "questions",
            EmailKind::ExpertQuestions => "expert_questions",
            EmailKind::ProjectReminders => "project_reminders",
            EmailKind::Welcome => "welcome",
            EmailKind::AuthorUpdates => "author_updates",
        }
    }

    pub fn parse(s: &str) -> Option<EmailKind> {
        EmailKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What the member stops getting, for the unsubscribe pages.
    pub fn description(self) -> &'static str {
        match self {
            EmailKind::Questions => "emails about questions on your case studies and resources, and answers to your questions",
            EmailKind::ExpertQuestions => {
                "emails asking for your help with unanswered questions in your \u{201c}Ask me about\u{201d} topics"
            }
            EmailKind::ProjectReminders => "reminders to add your project's latest data or PDSA cycle",
            EmailKind::Welcome => "welcome and getting-started emails",
            EmailKind::AuthorUpdates => "updates on how often your case studies and resources were read, and thanks",
        }
    }

    /// Whether this member gets this kind of email.
    pub fn allowed(self, m: &Member) -> bool {
        m.engagement.get(self.as_str()).unwrap_or(false)
    }
}

/// What an unsubscribe link or address ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsubscribeTarget {
    /// The digest (the link in every digest email).
    Digest,
    /// One kind of engagement email.
    Emails(EmailKind),
}

/// The RFC 8058 headers for an engagement email whose opt-out token is `token`:
/// push both into `Headers.extra`.
pub fn list_unsubscribe(api_base_url: &str, inbound_domain: &str, token: &str) -> [(&'static str, String); 2] {
    let url = format!("{}/unsubscribe/{token}", api_base_url.trim_end_matches('/'));
    [
        ("List-Unsubscribe", format!("<{url}>, <mailto:unsubscribe+{token}@{inbound_domain}>")),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()),
    ]
}

/// The ISO week (Europe/London) that contains `t`, as a digest issue id
/// (`weekly-2026-W49`): the unit of the weekly cap.
pub fn week_of(t: OffsetDateTime) -> String {
    Period::containing(Cadence::Weekly, t).map(|p| p.id).unwrap_or_else(|| "weekly-unknown".into())
}

impl App {
    /// A new opt-out token for one kind of email to `member_id`, and the write
    /// that stores it (commit it with the email's claim). The token's text goes
    /// into the email's `List-Unsubscribe` ([`list_unsubscribe`]).
    pub fn opt_out(&self, member_id: &str, kind: EmailKind) -> (OpaqueToken, Write) {
        self.token_write(TokenPurpose::OptOut, member_id, Some(kind.as_str()))
    }

    /// The opt-out token's write and the `List-Unsubscribe` headers for one
    /// engagement email to `member_id`, with this app's API URL and mail domain:
    /// commit the write with the email's claim, push the headers into
    /// `Headers.extra`.
    pub fn opt_out_headers(&self, member_id: &str, kind: EmailKind) -> (Write, [(&'static str, String); 2]) {
        let (token, write) = self.opt_out(member_id, kind);
        let domain = self.mail_from.rsplit_once('@').map(|(_, d)| d.trim_end_matches('>')).unwrap_or("qnet.localhost");
        (write, list_unsubscribe(&self.api_base_url, domain, &token.text))
    }

    /// What the unsubscribe token `token` ends, if it is a live one.
    pub async fn unsubscribe_target(&self, token: &str) -> AppResult<Option<UnsubscribeTarget>> {
        if self.token_record(token, TokenPurpose::Unsubscribe).await?.is_some() {
            return Ok(Some(UnsubscribeTarget::Digest));
        }
        let Some(record) = self.token_record(token, TokenPurpose::OptOut).await? else { return Ok(None) };
        Ok(record.context.as_deref().and_then(EmailKind::parse).map(UnsubscribeTarget::Emails))
    }

    /// Turns off one kind of email for the member of an opt-out token. `None`
    /// when the token is not a live opt-out token; `Some(false)` when it was
    /// already off.
    pub(crate) async fn opt_out_by_token(&self, token: &str) -> AppResult<Option<(EmailKind, bool)>> {
        let Some(record) = self.token_record(token, TokenPurpose::OptOut).await? else { return Ok(None) };
        let Some(kind) = record.context.as_deref().and_then(EmailKind::parse) else { return Ok(None) };
        for _ in 0..5 {
            let Some((mut m, item)) = self.get_record::<Member>(keys::member(&record.member_id)).await? else {
                return Ok(None);
            };
            if !kind.allowed(&m) {
                return Ok(Some((kind, false)));
            }
            m.engagement.set(kind.as_str(), false);
            m.version = item.version + 1;
            m.updated_at = self.now_text();
            match self.records.put(crate::members::member_item(&m), Condition::VersionIs(item.version)).await {
                Ok(()) => {
                    tracing::info!(member = %m.id, kind = kind.as_str(), "engagement emails turned off by link");
                    return Ok(Some((kind, true)));
                }
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict("the profile kept changing; try again".into()))
    }

    /// Takes this week's one engagement email for `member_id` (expert questions
    /// and nudges share it; the digest does not count). True when it was free
    /// and is now taken; false when something already went this week.
    pub async fn claim_weekly_slot(&self, member_id: &str) -> AppResult<bool> {
        let (pk, sk) = keys::weekly_mail_slot(member_id, &week_of(self.now()));
        let expires = self.now().unix_timestamp() + SLOT_DAYS * 86_400;
        let item = Item::new(pk, sk, serde_json::json!({ "taken_at": self.now_text() })).expiring_at(expires);
        match self.records.put(item, Condition::NotExists).await {
            Ok(()) => Ok(true),
            Err(e) if e.is_conflict() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Gives back a slot taken by [`App::claim_weekly_slot`] when the email
    /// could not go after all (suppressed, refused), so another may.
    pub async fn release_weekly_slot(&self, member_id: &str) -> AppResult<()> {
        let (pk, sk) = keys::weekly_mail_slot(member_id, &week_of(self.now()));
        self.records.delete(&pk, &sk, Condition::None).await?;
        Ok(())
    }

    /// Whether this week's engagement email already went to `member_id`
    /// (reads only: dry runs and choosing experts).
    pub async fn weekly_slot_taken(&self, member_id: &str) -> AppResult<bool> {
        let (pk, sk) = keys::weekly_mail_slot(member_id, &week_of(self.now()));
        Ok(self.records.get(&pk, &sk).await?.is_some())
    }

    /// Members who agreed to be asked about any of `topics` ("Ask me about"),
    /// each once, in id order.
    pub async fn experts_for_topics(&self, topics: &[String]) -> AppResult<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for t in topics {
            let page = self.records.query(Query::new(Index::Primary, keys::experts(t)).limit(EXPERTS_PER_TOPIC)).await?;
            out.extend(page.items.into_iter().map(|i| i.sk));
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_match_the_domain_switches() {
        for k in EmailKind::ALL {
            assert_eq!(EmailKind::parse(k.as_str()), Some(k));
        }
        let names: Vec<&str> = EmailKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, qnet_domain::member::ENGAGEMENT_KINDS);
        assert_eq!(EmailKind::parse("digest"), None);
    }

    #[test]
    fn weeks_are_london_iso_weeks() {
        let sunday_night = time::macros::datetime!(2026-12-06 23:30 UTC);
        let monday = time::macros::datetime!(2026-12-07 00:30 UTC);
        assert_eq!(week_of(sunday_night), "weekly-2026-W49");
        assert_eq!(week_of(monday), "weekly-2026-W50");
    }
}
