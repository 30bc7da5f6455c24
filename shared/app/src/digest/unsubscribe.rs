//! One-click unsubscribe from the digest (the link in every digest email).

use crate::tokens::TokenPurpose;
use crate::{App, AppError, AppResult, keys};
use qnet_domain::member::Member;
use qnet_ports::Condition;

/// What an unsubscribe link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsubscribed {
    /// The member is now unsubscribed from the digest.
    Now,
    /// They already were (a second POST, a scanner, a retry): nothing changed.
    Already,
}

impl App {
    /// Whether `token` is a live unsubscribe token (the confirmation page asks
    /// this; it changes nothing).
    /// Engagement emails' opt-out tokens count too (`crate::engagement`).
    pub async fn unsubscribe_token_is_valid(&self, token: &str) -> AppResult<bool> {
        Ok(self.unsubscribe_target(token).await?.is_some())
    }

    /// Unsubscribes the token's member from the digest. `None` when the token is
    /// not a live unsubscribe token (bad, tampered, revoked); nothing changes then.
    /// An engagement email's opt-out token turns off that kind of email only.
    pub async fn unsubscribe(&self, token: &str) -> AppResult<Option<Unsubscribed>> {
        let Some(record) = self.token_record(token, TokenPurpose::Unsubscribe).await? else {
            return Ok(self
                .opt_out_by_token(token)
                .await?
                .map(|(_, changed)| if changed { Unsubscribed::Now } else { Unsubscribed::Already }));
        };
        for _ in 0..5 {
            let Some((mut m, item)) = self.get_record::<Member>(keys::member(&record.member_id)).await? else {
                return Ok(None);
            };
            if m.digest.unsubscribed_at.is_some() {
                return Ok(Some(Unsubscribed::Already));
            }
            m.digest.unsubscribed_at = Some(self.now_text());
            m.version = item.version + 1;
            m.updated_at = self.now_text();
            match self.records.put(crate::members::member_item(&m), Condition::VersionIs(item.version)).await {
                Ok(()) => {
                    tracing::info!(member = %m.id, "unsubscribed from the digest");
                    return Ok(Some(Unsubscribed::Now));
                }
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict("the profile kept changing; try again".into()))
    }
}
