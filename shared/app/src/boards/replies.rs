//! Replies by email to a board email (`reply+TOKEN@`), routed here by the ingest.

use crate::boards::store::{BoardMail, CLAIM_RETENTION_SECONDS, message_item};
use crate::ingest::{DroppedView, Inbound, IngestOptions, IngestReport};
use crate::tokens::TokenPurpose;
use crate::{App, AppError, AppResult, encode, keys};
use qnet_domain::board::{BoardMessage, PostSource};
use qnet_domain::member::Member;
use qnet_domain::project::post_from_email;
use qnet_mail::{Analysis, Outcome};
use qnet_ports::{Condition, Item, MailSender, Write};

impl App {
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
            && let Some((done, _)) = self.get_record::<BoardMail>(keys::board_mail(&inbound.delivery_id)).await?
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
        let (dpk, dsk) = keys::board_mail(&inbound.delivery_id);
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
                if self.get_record::<BoardMail>(keys::board_mail(&inbound.delivery_id)).await?.is_some() {
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
}
