//! Project discussion boards: posts and replies (on the web or by email),
//! followers, and the email each follower gets for a new post or reply.
//!
//! Retries never duplicate: a post carries the request's idempotency key, an
//! emailed reply its delivery id (`BOARDMAIL#<delivery id>`, written with the
//! reply), and each (message, follower) email is claimed with a conditional
//! write before it is sent, so it goes at most once. A retried request or
//! delivery finishes the emails the first one did not get to.

mod notices;
mod replies;
mod store;
mod views;

pub use notices::{BoardEmail, BoardJob, board_email};
pub use qnet_domain::board::{BoardMessage, PostSource};
use qnet_domain::project::{self};
use qnet_ports::{Condition, Cursor, Index, Item, Query, Write};
pub use views::{Board, BoardThread, FollowState};

use crate::boards::store::{message_item, message_key};
use crate::idempotency::{Created, Creation, IdempotencyKey};
use crate::{App, AppError, AppResult, Claims, PageRequest, decode, encode, keys};

impl App {
    /// A new post (`reply_to: None`) or a reply to a post. Every member may post.
    /// A retry with the same idempotency key answers the first post and sends
    /// only the follower emails that were not sent.
    pub async fn create_board_message(
        &self,
        claims: &Claims,
        project_id: &str,
        reply_to: Option<&str>,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<Creation> {
        self.load_project(project_id).await?;
        if let Some(r) = self.replay(idem).await? {
            // The first attempt may have stopped before enqueuing: enqueue again
            // (the worker's claims make a second job send nothing twice).
            if let Ok(m) = serde_json::from_value::<BoardMessage>(r.body.clone()) {
                self.enqueue_board_job(&m).await?;
            }
            return Ok(Creation::Replayed(r));
        }
        if let Some(post) = reply_to {
            self.load_post(project_id, post).await?;
        }
        let text = project::parse_post(body)?;
        let author = self.member(claims).await?;
        self.take_allowance(&author.id, crate::limits::Action::BoardMessage).await?;
        let m = BoardMessage {
            id: self.new_id(),
            project_id: project_id.to_string(),
            reply_to: reply_to.map(String::from),
            author_id: author.id.clone(),
            author_name: author.name.clone(),
            body: text.into_string(),
            source: PostSource::Web,
            created_at: self.now_text(),
        };
        let (ppk, psk) = keys::project(project_id);
        let writes = vec![
            Write::Put { item: crate::idempotency::naming_record(message_item(&m), idem), condition: Condition::NotExists },
            Write::Check { pk: ppk, sk: psk, condition: Condition::Exists },
        ];
        let r = self.commit(writes, Created::new(m.id.clone(), &m), idem).await?;
        let stored: BoardMessage = serde_json::from_value(r.view().clone()).unwrap_or(m);
        self.enqueue_board_job(&stored).await?;
        Ok(r)
    }

    /// Takes a post (with its replies) or one reply down: its author, the
    /// project's team or a moderator. The text leaves the store, with the
    /// idempotency record that kept the created body; board messages are not
    /// in the search index, and follower claims and emailed-reply records hold
    /// only ids.
    pub async fn delete_board_message(
        &self,
        claims: &Claims,
        project_id: &str,
        post_id: &str,
        reply_id: Option<&str>,
    ) -> AppResult<()> {
        let (p, _) = self.load_project(project_id).await?;
        let post = self.load_post(project_id, post_id).await?;
        let (m, item) = match reply_id {
            None => (
                post.clone(),
                self.records.get(&keys::board_post(project_id, post_id).0, &keys::board_post(project_id, post_id).1).await?,
            ),
            Some(r) => {
                if ulid::Ulid::from_string(r).is_err() {
                    return Err(AppError::NotFound("reply"));
                }
                match self.get_record::<BoardMessage>(keys::board_reply(project_id, post_id, r)).await? {
                    Some((m, item)) => (m, Some(item)),
                    None => return Err(AppError::NotFound("reply")),
                }
            }
        };
        if m.author_id != claims.sub {
            crate::projects::require_team(&p, claims)
                .map_err(|_| AppError::Forbidden("only its author, the project's team and moderators may take it down"))?;
        }
        let mut items: Vec<Item> = item.into_iter().collect();
        if m.reply_to.is_none() {
            // The replies go with their post.
            let prefix = format!("{}#REPLY#", keys::board_post(project_id, post_id).1);
            items.extend(self.query_all(keys::project_partition(project_id), &prefix).await?);
        }
        let mut writes = vec![];
        for i in &items {
            writes.push(Write::Delete { pk: i.pk.clone(), sk: i.sk.clone(), condition: Condition::None });
            writes.extend(crate::idempotency::delete_named_record(i));
        }
        for chunk in writes.chunks(50) {
            self.records.transact(chunk.to_vec()).await?;
        }
        tracing::info!(project = %project_id, message = %m.id, removed = items.len(), "board message taken down");
        Ok(())
    }

    /// `GET /projects/{id}/posts`: a page of `limit` threads, newest post
    /// first. Read backwards, a thread's replies come just before its post
    /// (`POST#<post>#REPLY#<reply>` sorts after `POST#<post>`), so a page ends
    /// on a post and the next one resumes after it: a thread is never split.
    pub async fn board(&self, project_id: &str, page: &PageRequest) -> AppResult<Board> {
        self.load_project(project_id).await?;
        if !(1..=crate::case_studies::MAX_PAGE).contains(&page.limit) {
            return Err(AppError::invalid("limit", "must be from 1 to 100"));
        }
        let partition = keys::project_partition(project_id);
        let mut cursor = page.cursor()?;
        // Only a post's key is a place a page ends.
        if cursor.as_ref().is_some_and(|c| c.pk != partition || !c.sk.starts_with(keys::POST_PREFIX) || c.sk.contains("#REPLY#"))
        {
            return Err(AppError::BadCursor);
        }
        let mut threads: Vec<BoardThread> = vec![];
        let mut replies: Vec<BoardMessage> = vec![];
        let mut last_post = None;
        let mut more = false;
        'pages: loop {
            let q = Query::new(Index::Primary, partition.clone()).prefix(keys::POST_PREFIX).descending().limit(100);
            let found = self.records.query(q.after(cursor)).await?;
            for item in &found.items {
                if threads.len() == page.limit as usize {
                    more = true;
                    break 'pages;
                }
                let m: BoardMessage = decode(item)?;
                match &m.reply_to {
                    Some(_) => replies.push(m),
                    None => {
                        replies.reverse();
                        let (mine, others): (Vec<_>, Vec<_>) =
                            replies.drain(..).partition(|r| r.reply_to.as_ref() == Some(&m.id));
                        if !others.is_empty() {
                            tracing::warn!(project = %project_id, "a board reply without its post");
                        }
                        last_post = Some(Cursor { pk: item.pk.clone(), sk: item.sk.clone(), ipk: None, isk: None });
                        threads.push(BoardThread { post: m, replies: mine });
                    }
                }
            }
            match found.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        if !replies.is_empty() {
            tracing::warn!(project = %project_id, "a board reply without its post");
        }
        let next_cursor = if more { last_post.map(|c| c.encode()) } else { None };
        Ok(Board { threads, next_cursor })
    }

    pub async fn follow_project(&self, claims: &Claims, project_id: &str, follow: bool) -> AppResult<FollowState> {
        self.load_project(project_id).await?;
        let (pk, sk) = keys::follower(project_id, &claims.sub);
        if follow {
            let member = self.member(claims).await?;
            let data = serde_json::json!({"member_id": member.id, "since": self.now_text()});
            let item = Item::new(pk, sk, data).with_gsi2(keys::members_follows(&member.id), project_id.to_string());
            match self.records.put(item, Condition::NotExists).await {
                Ok(()) => {}
                Err(e) if e.is_conflict() => {}
                Err(e) => return Err(e.into()),
            }
        } else {
            self.records.delete(&pk, &sk, Condition::None).await?;
        }
        Ok(FollowState { project_id: project_id.to_string(), following: follow })
    }
}

/// Erasure: the member's board messages stay (the discussion would not make
/// sense without them) but lose the author's name and id, and the member's
/// follows are deleted, so no email goes to them.
pub(crate) async fn erase(app: &App, member_id: &str) -> AppResult<()> {
    loop {
        let page = app
            .records
            .query(qnet_ports::Query::new(qnet_ports::Index::Gsi2, keys::members_board_messages(member_id)).limit(25))
            .await?;
        if page.items.is_empty() {
            break;
        }
        for item in page.items {
            let mut m: BoardMessage = crate::decode(&item)?;
            m.author_id = String::new();
            m.author_name = "A former member".into();
            let (pk, sk) = message_key(&m);
            // Off the author's list, so the loop ends.
            app.records.put(Item::new(pk, sk, encode(&m)), Condition::None).await?;
        }
    }
    loop {
        let page = app
            .records
            .query(qnet_ports::Query::new(qnet_ports::Index::Gsi2, keys::members_follows(member_id)).limit(100))
            .await?;
        if page.items.is_empty() {
            return Ok(());
        }
        for item in page.items {
            app.records.delete(&item.pk, &item.sk, Condition::None).await?;
        }
    }
}
