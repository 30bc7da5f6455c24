mod nudges;
mod personal;
mod run;

pub(crate) use personal::erase as erase_nudges;
pub use personal::{QUIET_WEEKS, QuietProject, WELCOME_DAYS};
pub use run::EngagementReport;

// ---- Until the lead's foundation (EmailKind, opt-out, weekly slot) merges:
// the same names and signatures as docs in /work/notes/c21-contract.md; the
// merge replaces everything below with the foundation's module.
use qnet_domain::member::Member;
use qnet_ports::{Condition, Item, Write};

use crate::tokens::{OpaqueToken, TokenPurpose};
use crate::{App, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    Questions,
    ExpertQuestions,
    ProjectReminders,
    Welcome,
    AuthorUpdates,
}

impl EmailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailKind::Questions => "questions",
            EmailKind::ExpertQuestions => "expert_questions",
            EmailKind::ProjectReminders => "project_reminders",
            EmailKind::Welcome => "welcome",
            EmailKind::AuthorUpdates => "author_updates",
        }
    }
    pub fn description(self) -> &'static str {
        self.as_str()
    }
    pub fn allowed(self, _m: &Member) -> bool {
        true
    }
}

pub fn list_unsubscribe(api_base_url: &str, inbound_domain: &str, token: &str) -> [(&'static str, String); 2] {
    let url = format!("{}/unsubscribe/{token}", api_base_url.trim_end_matches('/'));
    [
        ("List-Unsubscribe", format!("<{url}>, <mailto:unsubscribe+{token}@{inbound_domain}>")),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()),
    ]
}

fn slot(member_id: &str, now: time::OffsetDateTime) -> (String, String) {
    (crate::keys::member_partition(member_id), format!("WEEKMAIL#{}", crate::reads::iso_week(now).unwrap_or_default()))
}

impl App {
    pub fn opt_out(&self, member_id: &str, kind: EmailKind) -> (OpaqueToken, Write) {
        self.token_write(TokenPurpose::Unsubscribe, member_id, Some(kind.as_str()))
    }
    pub async fn claim_weekly_slot(&self, member_id: &str) -> AppResult<bool> {
        let (pk, sk) = slot(member_id, self.now());
        match self.records.put(Item::new(pk, sk, serde_json::json!({})), Condition::NotExists).await {
            Ok(()) => Ok(true),
            Err(e) if e.is_conflict() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
    pub async fn release_weekly_slot(&self, member_id: &str) -> AppResult<()> {
        let (pk, sk) = slot(member_id, self.now());
        Ok(self.records.delete(&pk, &sk, Condition::None).await?)
    }
    pub async fn weekly_slot_taken(&self, member_id: &str) -> AppResult<bool> {
        let (pk, sk) = slot(member_id, self.now());
        Ok(self.records.get(&pk, &sk).await?.is_some())
    }
}
