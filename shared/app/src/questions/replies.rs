//! Replies by email to a question or answer email (`reply+TOKEN@`, purpose
//! `question_reply`), routed here by the ingest: the reply becomes an answer,
//! as board replies do (verified sender = the token's member, quotes and
//! signature stripped, once per delivery).

use qnet_domain::member::Member;
use qnet_domain::question::{self as domain, AnswerSource, answer_from_email};
use qnet_mail::{Analysis, Outcome};
use qnet_ports::{Condition, Item, MailError, MailSender};

use crate::ingest::{DroppedView, Inbound, IngestOptions, IngestReport};
use crate::members::suppression::DeliveryError;
use crate::questions::store::{CLAIM_RETENTION_SECONDS, QuestionMail};
use crate::tokens::TokenPurpose;
use crate::{App, AppError, AppResult, encode, keys, mail};

fn refused_answer_email(
    from: &str,
    to_name: &str,
    to_email: &str,
    target_title: &str,
) -> Result<qnet_ports::OutgoingMail, String> {
    let mut ctx = tera::Context::new();
    ctx.insert("name", to_name);
    ctx.insert("target_title", target_title);
    let mut h =
        mail::Headers::new(("Qnet questions", from), (to_name, to_email), format!("Your answer was not added: {target_title}"));
    h.auto_submitted = "auto-replied";
    mail::compose("email/question-reply-refused", &ctx, h).map(|c| c.mail).map_err(|e| e.0)
}

impl App {
    /// Whether `token` is a live question reply token (the ingest router asks).
    pub(crate) async fn is_question_reply_token(&self, token: &str) -> AppResult<bool> {
        Ok(self.token_record(token, TokenPurpose::QuestionReply).await?.is_some())
    }

    /// A reply by email to a question or answer email: the token names the
    /// recipient and the question; the sender must be that member, verified.
    pub(crate) async fn ingest_question_reply(
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
        let added = |question_id: &str| {
            let mut r = report(Outcome::Accept, "question_answer", "The reply was added as an answer to the question.");
            r.updates = Some(question_id.to_string());
            r
        };
        if !opts.dry_run
            && let Some((done, _)) = self.get_record::<QuestionMail>(keys::question_mail(&inbound.delivery_id)).await?
        {
            // The same delivery again: finish the emails, add nothing.
            self.send_question_emails(&done.question_id, Some(&done.answer_id)).await;
            return Ok(added(&done.question_id));
        }
        let unknown = || {
            report(
                Outcome::Ignore,
                "unknown_token",
                "The message was sent to a reply address that does not belong to anything here.",
            )
        };
        let Some(record) = self.token_record(token, TokenPurpose::QuestionReply).await? else { return Ok(unknown()) };
        let Some(question_id) = record.context.as_deref() else { return Ok(unknown()) };
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
        let Some(p) = self.question_pointer(question_id).await? else { return Ok(unknown()) };
        let Some(target) = self.question_target(p.target_kind, &p.target_id).await? else { return Ok(unknown()) };
        if self.load_question(question_id).await?.is_none() {
            return Ok(unknown());
        }
        // As on the web: no answers to a question on something no longer
        // published (held, rejected, withdrawn).
        if !target.published {
            return Ok(report(
                Outcome::Reject,
                "not_available",
                "The question is on a case study or resource that is not published now, so the reply was not added.",
            ));
        }
        let body = match answer_from_email(&a.body) {
            Ok(Some(body)) => body.into_string(),
            Ok(None) => return Ok(report(Outcome::Reject, "nothing_to_keep", "The reply has no text of its own to add.")),
            Err(_) => {
                let refused = report(
                    Outcome::Reject,
                    "patient_identifier",
                    "The reply contains what looks like an NHS number, so it was not added; the sender was told why.",
                );
                if !opts.dry_run {
                    self.explain_refused_answer(&inbound.delivery_id, &member, &target.title, mailer, &opts.mail_from).await?;
                }
                return Ok(refused);
            }
        };
        if opts.dry_run {
            return Ok(added(question_id));
        }
        let answer = domain::Answer {
            id: self.new_id(),
            question_id: question_id.to_string(),
            author_id: member.id.clone(),
            author_name: member.name.clone(),
            body,
            source: AnswerSource::Email,
            created_at: self.now_text(),
        };
        let (dpk, dsk) = keys::question_mail(&inbound.delivery_id);
        let done = QuestionMail { question_id: question_id.to_string(), answer_id: answer.id.clone() };
        let expires = self.now().unix_timestamp() + CLAIM_RETENTION_SECONDS;
        let delivery = Item::new(dpk, dsk, encode(&done)).expiring_at(expires);
        // The delivery record rides in the answer's transaction: a second
        // invocation with the same delivery fails it and adds nothing.
        match self.add_answer_with(&p, &answer, delivery).await {
            Ok(()) => {}
            Err(AppError::Conflict(_)) | Err(AppError::Unavailable(_))
                if self.get_record::<QuestionMail>(keys::question_mail(&inbound.delivery_id)).await?.is_some() =>
            {
                return Ok(added(question_id));
            }
            Err(e) => return Err(e),
        }
        tracing::info!(question = %question_id, answer = %answer.id, "answer by email added");
        self.send_question_emails(question_id, Some(&answer.id)).await;
        Ok(added(question_id))
    }

    /// [`App::add_answer`] with an extra create-if-absent item (the delivery
    /// record) in the same transaction.
    async fn add_answer_with(
        &self,
        p: &crate::questions::store::QuestionPointer,
        answer: &domain::Answer,
        extra: Item,
    ) -> AppResult<()> {
        for _ in 0..5 {
            if self.get_record::<QuestionMail>((extra.pk.clone(), extra.sk.clone())).await?.is_some() {
                return Err(AppError::Conflict("this delivery was taken".into()));
            }
            let Some(q) = self.load_question(&answer.question_id).await? else { return Err(AppError::NotFound("question")) };
            let mut writes = crate::questions::answer_writes(p, &q, answer, |i| i);
            writes.extend(self.first_answer_tallies(&q, answer).await?);
            writes.push(qnet_ports::Write::Put { item: extra.clone(), condition: Condition::NotExists });
            match self.records.transact(writes).await {
                Ok(()) => return Ok(()),
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Unavailable("the question kept changing while it was answered".into()))
    }

    /// Tells the sender, once per delivery, why their emailed answer was not
    /// added. Claimed before sending, so a retried delivery never sends it twice.
    async fn explain_refused_answer(
        &self,
        delivery_id: &str,
        member: &Member,
        target_title: &str,
        mailer: &dyn MailSender,
        from: &str,
    ) -> AppResult<()> {
        let (pk, sk) = keys::question_refused_reply(delivery_id);
        let expires = self.now().unix_timestamp() + CLAIM_RETENTION_SECONDS;
        let claim = Item::new(pk.clone(), sk.clone(), serde_json::json!({"claimed_at": self.now_text()})).expiring_at(expires);
        match self.records.put(claim, Condition::NotExists).await {
            Ok(()) => {}
            Err(e) if e.is_conflict() => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        let mail = refused_answer_email(from, &member.name, &member.email, target_title)
            .map_err(|e| AppError::Unavailable(format!("the explanation email could not be built: {e}")))?;
        match self.deliver(mailer, &mail).await {
            Ok(_) | Err(DeliveryError::Mail(MailError::Refused(_))) => {}
            Err(e) => {
                let _ = self.records.delete(&pk, &sk, Condition::None).await;
                return Err(AppError::Unavailable(format!("the explanation email could not be sent: {e}")));
            }
        }
        tracing::info!("answer by email refused by the patient data guard; sender told");
        Ok(())
    }
}
