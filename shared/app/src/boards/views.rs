//! What the boards API answers.

use qnet_domain::board::BoardMessage;
use serde::Serialize;
use utoipa::ToSchema;

/// A post with its replies, oldest reply first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoardThread {
    pub post: BoardMessage,
    pub replies: Vec<BoardMessage>,
}

/// `GET /projects/{id}/posts`: threads, newest post first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Board {
    pub threads: Vec<BoardThread>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// `POST`/`DELETE /projects/{id}/follow`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowState {
    pub project_id: String,
    pub following: bool,
}
