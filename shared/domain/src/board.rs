//! A project's discussion board: posts and replies, as stored.

use serde::{Deserialize, Serialize};

/// Where a board message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PostSource {
    Web,
    Email,
}

/// A post or a reply on a project's board.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardMessage {
    pub id: String,
    pub project_id: String,
    /// The post a reply answers; null for a post.
    pub reply_to: Option<String>,
    pub author_id: String,
    pub author_name: String,
    pub body: String,
    pub source: PostSource,
    pub created_at: String,
}

impl BoardMessage {
    pub fn thread_id(&self) -> &str {
        self.reply_to.as_deref().unwrap_or(&self.id)
    }
}
