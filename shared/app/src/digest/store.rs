//! Digest claims: one per member and issue, so an issue is sent once.

use crate::{App, AppResult, keys};
use qnet_ports::{Condition, Index, Query};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ClaimState {
    /// Claimed by one sender; if it died after sending, the digest is not sent again.
    Sending,
    Sent,
    /// Sending failed in a way that may pass (throttling, an outage): may be claimed again.
    Failed,
    /// The mail service refused the message: not retried.
    Refused,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DigestClaim {
    pub(crate) state: ClaimState,
    pub(crate) attempts: u32,
    pub(crate) claimed_at: String,
    pub(crate) message_id: String,
    #[serde(default)]
    pub(crate) sent_at: Option<String>,
    #[serde(default)]
    pub(crate) failure: Option<String>,
}

/// A `sending` claim older than this is reported as never confirmed.
pub(crate) const CLAIM_STALE: time::Duration = time::Duration::minutes(15);

pub(crate) fn is_stale(claimed_at: &str, now: OffsetDateTime) -> bool {
    OffsetDateTime::parse(claimed_at, &time::format_description::well_known::Rfc3339).is_ok_and(|t| now - t > CLAIM_STALE)
}

/// Every member id with a digest claim, purged with the member.
pub(crate) async fn purge_claims(app: &App, member_id: &str) -> AppResult<()> {
    let (pk, _) = keys::digest_claim(member_id, "");
    loop {
        let page = app.records.query(Query::new(Index::Primary, pk.clone()).prefix(keys::DIGEST_CLAIM_PREFIX).limit(100)).await?;
        if page.items.is_empty() {
            return Ok(());
        }
        for item in page.items {
            app.records.delete(&item.pk, &item.sk, Condition::None).await?;
        }
    }
}
