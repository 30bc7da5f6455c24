//! Follower emails: a job per new message on the board queue, one claimed email per
//! follower, with a reply-by-email address.

use crate::boards::store::{CLAIM_RETENTION_SECONDS, ClaimState, NotificationClaim};
use crate::members::suppression::{Delivery, DeliveryError};
use crate::projects::Project;
use crate::tokens::TokenPurpose;
use crate::{App, AppError, AppResult, encode, keys, mail};
use qnet_domain::board::BoardMessage;
use qnet_domain::member::Member;
use qnet_ports::{Condition, Item, MailError, MailSender, OutgoingMail, Write};
use serde::{Deserialize, Serialize};

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

/// The plain explanation sent to the author of a refused emailed reply. It
/// never quotes the reply (which holds what looks like an NHS number).
pub(crate) fn refused_reply_email(
    from: &str,
    to_name: &str,
    to_email: &str,
    project_title: &str,
) -> Result<OutgoingMail, String> {
    let mut ctx = tera::Context::new();
    ctx.insert("name", to_name);
    ctx.insert("project_title", project_title);
    let mut h =
        mail::Headers::new(("Qnet projects", from), (to_name, to_email), format!("Your reply was not posted: {project_title}"));
    h.auto_submitted = "auto-replied";
    mail::compose("email/board-reply-refused", &ctx, h).map(|c| c.mail).map_err(|e| e.0)
}

pub(crate) fn domain_of(address: &str) -> &str {
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
    let domain = domain_of(e.from);
    let thread = format!("board-{}@{domain}", e.message.thread_id().to_ascii_lowercase());
    let mut h = mail::Headers::new(("Qnet projects", e.from), (e.to_name, e.to_email), subject);
    h.reply_to = Some(format!("reply+{}@{domain}", e.reply_token.to_ascii_lowercase()));
    h.message_id = Some(format!("board-{}-{}@{domain}", e.message.id.to_ascii_lowercase(), e.reply_token.to_ascii_lowercase()));
    h.in_reply_to = is_reply.then_some(thread);
    mail::compose("email/board-post", &ctx, h).map(|c| c.mail).map_err(|e| e.0)
}

impl App {
    /// Puts the job that emails `m`'s followers on the board queue: the
    /// request never sends them itself (a post with many followers would be
    /// slow, and one member could make it send many emails at once).
    pub(crate) async fn enqueue_board_job(&self, m: &BoardMessage) -> AppResult<()> {
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

    /// Tells the sender, once per delivery, why their emailed reply was not
    /// posted. Claimed before sending (as the follower emails are), so a retried
    /// delivery never sends it twice; released if the send fails and may pass.
    pub(crate) async fn explain_refused_reply(
        &self,
        delivery_id: &str,
        member: &Member,
        project_title: &str,
        mailer: &dyn MailSender,
        from: &str,
    ) -> AppResult<()> {
        let (pk, sk) = keys::board_refused_reply(delivery_id);
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnet_domain::board::PostSource;

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
