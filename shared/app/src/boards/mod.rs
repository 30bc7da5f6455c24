//! Project discussion boards: posts and replies (on the web or by email),
//! followers, and the email each follower gets for a new post or reply.
//!
//! Retries never duplicate: a post carries the request's idempotency key, an
//! emailed reply its delivery id (`BOARDMAIL#<delivery id>`, written with the
//! reply), and each (message, follower) email is claimed with a conditional
//! write before it is sent, so it goes at most once. A retried request or
//! delivery finishes the emails the first one did not get to.

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
pub use qnet_domain::board::{BoardMessage, PostSource};
use qnet_domain::member::Member;
use qnet_domain::project::{self, post_from_email};
use qnet_mail::{Analysis, Outcome};
use qnet_ports::{Condition, Cursor, Index, Item, MailError, MailSender, OutgoingMail, Query, Write};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::idempotency::{IdempotencyKey, StoredResponse};
use crate::ingest::{DroppedView, Inbound, IngestOptions, IngestReport};
use crate::members::suppression::{Delivery, DeliveryError};
use crate::projects::Project;
use crate::tokens::TokenPurpose;
use crate::{App, AppError, AppResult, Claims, PageRequest, decode, encode, keys};

/// How long a (message, follower) claim and an emailed reply's delivery record are kept.
const CLAIM_RETENTION_SECONDS: i64 = 30 * 24 * 60 * 60;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ClaimState {
    /// Claimed; if the sender died before recording the result it is not sent again.
    Sending,
    Sent,
    /// The mail service refused it, or the address is suppressed: never retried.
    NotSent,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct NotificationClaim {
    state: ClaimState,
    claimed_at: String,
}

/// One board message whose followers are to be emailed: a board queue
/// message's body (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardJob {
    pub project_id: String,
    pub message_id: String,
    /// The post a reply answers; absent for a post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// The record of an emailed reply, written with the reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BoardMail {
    project_id: String,
    reply_id: String,
}

fn board_mail_key(delivery_id: &str) -> (String, String) {
    (format!("BOARDMAIL#{delivery_id}"), "BOARDMAIL".into())
}

/// One explanation per refused delivery.
fn refused_reply_key(delivery_id: &str) -> (String, String) {
    (format!("BOARDREFUSED#{delivery_id}"), "BOARDREFUSED".into())
}

/// The plain explanation sent to the author of a refused emailed reply. It
/// never quotes the reply (which holds what looks like an NHS number).
fn refused_reply_email(from: &str, to_name: &str, to_email: &str, project_title: &str) -> Result<OutgoingMail, String> {
    let subject = format!("Your reply was not posted: {project_title}");
    let text = format!(
        "Hello {to_name},\n\nYour emailed reply to the board of \"{project_title}\" was not posted, because it contains \
what looks like an NHS number. Qnet does not store NHS numbers or other patient identifiers.\n\n\
Please remove it and reply again.\n\nQnet\n"
    );
    let raw = MessageBuilder::new()
        .from(("Qnet projects", from))
        .to((to_name, to_email))
        .subject(subject)
        .header("Auto-Submitted", Raw::new("auto-replied"))
        .text_body(text)
        .write_to_vec()
        .map_err(|er| er.to_string())?;
    Ok(OutgoingMail { from: from.to_string(), to: vec![to_email.to_string()], raw })
}

fn message_key(m: &BoardMessage) -> (String, String) {
    match &m.reply_to {
        None => keys::board_post(&m.project_id, &m.id),
        Some(post) => keys::board_reply(&m.project_id, post, &m.id),
    }
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d.trim_end_matches('>')).unwrap_or("qnet.localhost")
}

/// What a follower's email says and where replies go.
pub struct BoardEmail<'a> {
    pub from: &'a str,
    pub to_name: &'a str,
    pub to_email: &'a str,
    pub project_title: &'a str,
    pub project_url: &'a str,
    pub message: &'a BoardMessage,
    /// The opaque token of `reply+TOKEN@<domain of from>`.
    pub reply_token: &'a str,
}

pub fn board_email(e: &BoardEmail<'_>) -> Result<OutgoingMail, String> {
    let is_reply = e.message.reply_to.is_some();
    let subject = if is_reply {
        format!("{} replied: {}", e.message.author_name, e.project_title)
    } else {
        format!("{} posted: {}", e.message.author_name, e.project_title)
    };
    let mut ctx = tera::Context::new();
    ctx.insert("subject", &subject);
    ctx.insert("project_title", e.project_title);
    ctx.insert("project_url", e.project_url);
    ctx.insert("author", &e.message.author_name);
    ctx.insert("body", &e.message.body);
    ctx.insert("is_reply", &is_reply);
    let text = crate::mail::render("email/board-post.txt.tera", &ctx).map_err(|er| er.to_string())?;
    let html = crate::mail::render("email/board-post.html.tera", &ctx).map_err(|er| er.to_string())?;
    let domain = domain_of(e.from);
    let thread = format!("board-{}@{domain}", e.message.thread_id().to_ascii_lowercase());
    let reply_to = format!("reply+{}@{domain}", e.reply_token.to_ascii_lowercase());
    let mut m = MessageBuilder::new()
        .from(("Qnet projects", e.from))
        .to((e.to_name, e.to_email))
        .reply_to(reply_to)
        .subject(subject)
        .message_id(format!("board-{}-{}@{domain}", e.message.id.to_ascii_lowercase(), e.reply_token.to_ascii_lowercase()))
        .header("Auto-Submitted", Raw::new("auto-generated"))
        .text_body(text)
        .html_body(html);
    if is_reply {
        m = m.in_reply_to(thread.clone()).references(thread);
    }
    let raw = m.write_to_vec().map_err(|er| er.to_string())?;
    Ok(OutgoingMail { from: e.from.to_string(), to: vec![e.to_email.to_string()], raw })
}

impl App {
    async fn load_post(&self, project_id: &str, post_id: &str) -> AppResult<BoardMessage> {
        if ulid::Ulid::from_string(post_id).is_err() {
            return Err(AppError::NotFound("post"));
        }
        match self.get_record::<BoardMessage>(keys::board_post(project_id, post_id)).await? {
            Some((m, _)) => Ok(m),
            None => Err(AppError::NotFound("post")),
        }
    }

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
    ) -> AppResult<StoredResponse> {
        self.load_project(project_id).await?;
        if let Some(r) = self.replay(idem).await? {
            // The first attempt may have stopped before enqueuing: enqueue again
            // (the worker's claims make a second job send nothing twice).
            if let Ok(m) = serde_json::from_value::<BoardMessage>(r.body.clone()) {
                self.enqueue_board_job(&m).await?;
            }
            return Ok(r);
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
        let location = format!("/projects/{project_id}/posts");
        let r = self.commit(writes, StoredResponse::created(location, encode(&m)), idem).await?;
        let stored: BoardMessage = serde_json::from_value(r.body.clone()).unwrap_or(m);
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

    /// Puts the job that emails `m`'s followers on the board queue: the
    /// request never sends them itself (a post with many followers would be
    /// slow, and one member could make it send many emails at once).
    async fn enqueue_board_job(&self, m: &BoardMessage) -> AppResult<()> {
        let job = BoardJob { project_id: m.project_id.clone(), message_id: m.id.clone(), reply_to: m.reply_to.clone() };
        let body = serde_json::to_string(&job).expect("jobs serialise");
        self.board_queue.enqueue(vec![body]).await.map_err(|e| AppError::Unavailable(e.to_string()))
    }

    /// The board worker's part (`functions/board-notifier`, or the in-process
    /// queue locally): emails the followers of one message, each at most once,
    /// from this app's mail address. A message or project deleted since is
    /// nothing to do. An error is one that may pass: retry the job.
    pub async fn process_board_job(&self, job: &BoardJob) -> AppResult<usize> {
        let p = match self.load_project(&job.project_id).await {
            Ok((p, _)) => p,
            Err(AppError::NotFound(_)) => return Ok(0),
            Err(e) => return Err(e),
        };
        let key = match &job.reply_to {
            None => keys::board_post(&job.project_id, &job.message_id),
            Some(post) => keys::board_reply(&job.project_id, post, &job.message_id),
        };
        let Some((m, _)) = self.get_record::<BoardMessage>(key).await? else { return Ok(0) };
        self.notify_followers(&p, &m, self.mailer.as_ref(), &self.mail_from).await
    }

    /// Emails every follower but the author about `m`, each at most once.
    /// A failure that may pass (throttling, an outage) releases that
    /// follower's claim and is returned, so a retry sends what is left.
    pub(crate) async fn notify_followers(
        &self,
        p: &Project,
        m: &BoardMessage,
        mailer: &dyn MailSender,
        from: &str,
    ) -> AppResult<usize> {
        let followers = self.query_all(keys::project_partition(&p.id), keys::FOLLOWER_PREFIX).await?;
        let project_url = format!("{}/projects/{}", self.web_base_url, p.id);
        let mut sent = 0;
        for item in followers {
            let member_id = item.sk.trim_start_matches(keys::FOLLOWER_PREFIX).to_string();
            if member_id == m.author_id {
                continue;
            }
            let (cpk, csk) = keys::board_notification(&p.id, &m.id, &member_id);
            if self.records.get(&cpk, &csk).await?.is_some() {
                continue;
            }
            let Some(member) = self.member_by_id(&member_id).await? else { continue };
            let context = format!("{}/{}", p.id, m.thread_id());
            let (token, token_write) = self.token_write(TokenPurpose::BoardReply, &member.id, Some(&context));
            let claim = NotificationClaim { state: ClaimState::Sending, claimed_at: self.now_text() };
            let expires = self.now().unix_timestamp() + CLAIM_RETENTION_SECONDS;
            let claim_item = |c: &NotificationClaim, v: u64| {
                Item::new(cpk.clone(), csk.clone(), encode(c)).with_version(v).expiring_at(expires)
            };
            match self
                .records
                .transact(vec![Write::Put { item: claim_item(&claim, 1), condition: Condition::NotExists }, token_write])
                .await
            {
                Ok(()) => {}
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
            let mail = board_email(&BoardEmail {
                from,
                to_name: &member.name,
                to_email: &member.email,
                project_title: &p.title,
                project_url: &project_url,
                message: m,
                reply_token: &token.text,
            })
            .map_err(|e| AppError::Unavailable(format!("the board email could not be built: {e}")))?;
            let state = match self.deliver(mailer, &mail).await {
                Ok(Delivery::Sent { .. }) => {
                    sent += 1;
                    ClaimState::Sent
                }
                Ok(Delivery::Suppressed(_)) | Err(DeliveryError::Mail(MailError::Refused(_))) => ClaimState::NotSent,
                Err(e) => {
                    // Not sent, and it may pass: let a retry claim it again.
                    let _ = self.records.delete(&cpk, &csk, Condition::VersionIs(1)).await;
                    return Err(AppError::Unavailable(format!("a board email could not be sent: {e}")));
                }
            };
            let done = NotificationClaim { state, ..claim };
            self.records.put(claim_item(&done, 2), Condition::VersionIs(1)).await?;
        }
        if sent > 0 {
            tracing::info!(project = %p.id, board_message = %m.id, sent, "board emails sent");
        }
        Ok(sent)
    }

    /// A reply by email to a board email (`reply+TOKEN@`): the token names the
    /// follower and the post; the sender must be that follower, verified.
    pub(crate) async fn ingest_board_reply(
        &self,
        inbound: &Inbound,
        a: &Analysis,
        token: &str,
        opts: &IngestOptions,
        mailer: &dyn MailSender,
    ) -> AppResult<IngestReport> {
        let report = |outcome: Outcome, reason: &str, detail: &str| IngestReport {
            outcome: outcome.as_str().into(),
            reason: Some(reason.into()),
            detail: Some(detail.into()),
            updates: None,
            case_study: None,
            dropped_attachments: a
                .dropped_attachments
                .iter()
                .map(|d| DroppedView { filename: d.filename.clone(), reason: d.reason.clone() })
                .collect(),
        };
        let added = |project_id: &str| {
            let mut r = report(Outcome::Accept, "board_reply", "The reply was added to the project's board.");
            r.updates = Some(project_id.to_string());
            r
        };
        if !opts.dry_run
            && let Some((done, _)) = self.get_record::<BoardMail>(board_mail_key(&inbound.delivery_id)).await?
        {
            // The same delivery again: finish the emails, add nothing.
            let (p, _) = self.load_project(&done.project_id).await?;
            let m = self.load_reply(&p.id, &done.reply_id).await?;
            self.enqueue_board_job(&m).await?;
            return Ok(added(&p.id));
        }
        let unknown = || {
            report(
                Outcome::Ignore,
                "unknown_token",
                "The message was sent to a reply address that does not belong to anything here.",
            )
        };
        let Some(record) = self.token_record(token, TokenPurpose::BoardReply).await? else { return Ok(unknown()) };
        let Some((project_id, post_id)) = record.context.as_deref().and_then(|c| c.split_once('/')) else {
            return Ok(unknown());
        };
        let Some(member): Option<Member> = self.member_by_id(&record.member_id).await? else { return Ok(unknown()) };
        let from_member = a.submitter.as_ref().is_some_and(|s| s.email.eq_ignore_ascii_case(&member.email));
        if !from_member {
            return Ok(report(
                Outcome::Reject,
                "sender_mismatch",
                "The reply address was sent to someone else: only the person it was sent to can reply through it.",
            ));
        }
        if !a.sender_verified {
            return Ok(report(
                Outcome::Reject,
                "unverified_sender",
                "The sender's address could not be verified (DMARC), so the reply was not added.",
            ));
        }
        let (p, post) = match (self.load_project(project_id).await, self.load_post(project_id, post_id).await) {
            (Ok((p, _)), Ok(post)) => (p, post),
            (Err(AppError::NotFound(_)), _) | (_, Err(AppError::NotFound(_))) => return Ok(unknown()),
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        let body = match post_from_email(&a.body) {
            Ok(Some(body)) => body.into_string(),
            Ok(None) => return Ok(report(Outcome::Reject, "nothing_to_keep", "The reply has no text of its own to add.")),
            Err(_) => {
                let refused = report(
                    Outcome::Reject,
                    "patient_identifier",
                    "The reply contains what looks like an NHS number, so it was not added; the sender was told why.",
                );
                if !opts.dry_run {
                    self.explain_refused_reply(&inbound.delivery_id, &member, &p.title, mailer, &opts.mail_from).await?;
                }
                return Ok(refused);
            }
        };
        if opts.dry_run {
            return Ok(added(&p.id));
        }
        let m = BoardMessage {
            id: self.new_id(),
            project_id: p.id.clone(),
            reply_to: Some(post.id.clone()),
            author_id: member.id.clone(),
            author_name: member.name.clone(),
            body,
            source: PostSource::Email,
            created_at: self.now_text(),
        };
        let (dpk, dsk) = board_mail_key(&inbound.delivery_id);
        let done = BoardMail { project_id: p.id.clone(), reply_id: m.id.clone() };
        let expires = self.now().unix_timestamp() + CLAIM_RETENTION_SECONDS;
        let writes = vec![
            Write::Put { item: Item::new(dpk, dsk, encode(&done)).expiring_at(expires), condition: Condition::NotExists },
            Write::Put { item: message_item(&m), condition: Condition::NotExists },
        ];
        match self.records.transact(writes).await {
            Ok(()) => {}
            Err(e) if e.is_conflict() => {
                // Another invocation took this delivery first.
                if self.get_record::<BoardMail>(board_mail_key(&inbound.delivery_id)).await?.is_some() {
                    return Ok(added(&p.id));
                }
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(project = %p.id, reply = %m.id, "board reply by email added");
        self.enqueue_board_job(&m).await?;
        Ok(added(&p.id))
    }

    /// Tells the sender, once per delivery, why their emailed reply was not
    /// posted. Claimed before sending (as the follower emails are), so a retried
    /// delivery never sends it twice; released if the send fails and may pass.
    async fn explain_refused_reply(
        &self,
        delivery_id: &str,
        member: &Member,
        project_title: &str,
        mailer: &dyn MailSender,
        from: &str,
    ) -> AppResult<()> {
        let (pk, sk) = refused_reply_key(delivery_id);
        let expires = self.now().unix_timestamp() + CLAIM_RETENTION_SECONDS;
        let claim = Item::new(pk.clone(), sk.clone(), serde_json::json!({"claimed_at": self.now_text()})).expiring_at(expires);
        match self.records.put(claim, Condition::NotExists).await {
            Ok(()) => {}
            Err(e) if e.is_conflict() => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        let mail = refused_reply_email(from, &member.name, &member.email, project_title)
            .map_err(|e| AppError::Unavailable(format!("the explanation email could not be built: {e}")))?;
        match self.deliver(mailer, &mail).await {
            Ok(_) | Err(DeliveryError::Mail(MailError::Refused(_))) => {}
            Err(e) => {
                let _ = self.records.delete(&pk, &sk, Condition::None).await;
                return Err(AppError::Unavailable(format!("the explanation email could not be sent: {e}")));
            }
        }
        tracing::info!("board reply by email refused by the patient data guard; sender told");
        Ok(())
    }

    async fn load_reply(&self, project_id: &str, reply_id: &str) -> AppResult<BoardMessage> {
        let items = self.query_all(keys::project_partition(project_id), keys::POST_PREFIX).await?;
        for item in &items {
            if item.sk.ends_with(&format!("#REPLY#{reply_id}")) {
                return decode(item);
            }
        }
        Err(AppError::NotFound("reply"))
    }
}

/// The stored form of a board message: in its project's partition, and on the
/// author's GSI2 list so erasure can find it.
fn message_item(m: &BoardMessage) -> Item {
    let (pk, sk) = message_key(m);
    Item::new(pk, sk, encode(m)).with_gsi2(keys::members_board_messages(&m.author_id), format!("{}#{}", m.created_at, m.id))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_carries_the_reply_address_and_escapes_the_text() {
        let m = BoardMessage {
            id: "01J00000000000000000000000".into(),
            project_id: "01J00000000000000000000001".into(),
            reply_to: Some("01J00000000000000000000002".into()),
            author_id: "a".into(),
            author_name: "Ann".into(),
            body: "<b>We tried</b> hourly rounding".into(),
            source: PostSource::Web,
            created_at: "2026-11-23T09:00:00.000Z".into(),
        };
        let mail = board_email(&BoardEmail {
            from: "digest@qnet.example",
            to_name: "Bob",
            to_email: "bob@x.nhs.uk",
            project_title: "Fewer falls",
            project_url: "https://qnet.example/projects/1",
            message: &m,
            reply_token: "ABCDEF",
        })
        .unwrap();
        let text = String::from_utf8(mail.raw).unwrap();
        assert!(text.contains("Reply-To: <reply+abcdef@qnet.example>"), "{text}");
        assert!(text.contains("In-Reply-To: <board-01j00000000000000000000002@qnet.example>"), "{text}");
        assert!(text.contains("&lt;b&gt;We tried&lt;/b&gt;"), "the HTML part escapes the post");
        assert!(text.contains("multipart/alternative"));
        assert_eq!(mail.to, vec!["bob@x.nhs.uk"]);
    }
}
