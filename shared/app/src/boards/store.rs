//! Board messages, follower-email claims and reply tokens as items.

use crate::{App, AppError, AppResult, decode, encode, keys};
use qnet_domain::board::BoardMessage;
use qnet_ports::Item;
use serde::{Deserialize, Serialize};

/// How long a (message, follower) claim and an emailed reply's delivery record are kept.
pub(crate) const CLAIM_RETENTION_SECONDS: i64 = 30 * 24 * 60 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ClaimState {
    /// Claimed; if the sender died before recording the result it is not sent again.
    Sending,
    Sent,
    /// The mail service refused it, or the address is suppressed: never retried.
    NotSent,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NotificationClaim {
    pub(crate) state: ClaimState,
    pub(crate) claimed_at: String,
}

/// The record of an emailed reply, written with the reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BoardMail {
    pub(crate) project_id: String,
    pub(crate) reply_id: String,
}

pub(crate) fn message_key(m: &BoardMessage) -> (String, String) {
    match &m.reply_to {
        None => keys::board_post(&m.project_id, &m.id),
        Some(post) => keys::board_reply(&m.project_id, post, &m.id),
    }
}

/// The stored form of a board message: in its project's partition, and on the
/// author's GSI2 list so erasure can find it.
pub(crate) fn message_item(m: &BoardMessage) -> Item {
    let (pk, sk) = message_key(m);
    Item::new(pk, sk, encode(m)).with_gsi2(keys::members_board_messages(&m.author_id), format!("{}#{}", m.created_at, m.id))
}

impl App {
    pub(crate) async fn load_post(&self, project_id: &str, post_id: &str) -> AppResult<BoardMessage> {
        if ulid::Ulid::from_string(post_id).is_err() {
            return Err(AppError::NotFound("post"));
        }
        match self.get_record::<BoardMessage>(keys::board_post(project_id, post_id)).await? {
            Some((m, _)) => Ok(m),
            None => Err(AppError::NotFound("post")),
        }
    }

    pub(crate) async fn load_reply(&self, project_id: &str, reply_id: &str) -> AppResult<BoardMessage> {
        let items = self.query_all(keys::project_partition(project_id), keys::POST_PREFIX).await?;
        for item in &items {
            if item.sk.ends_with(&format!("#REPLY#{reply_id}")) {
                return decode(item);
            }
        }
        Err(AppError::NotFound("reply"))
    }
}
