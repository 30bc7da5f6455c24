//! Question and answer emails: a question goes to the item's author(s), an
//! answer to the asker and the author(s), never to whoever wrote it. Each
//! (question or answer, recipient) email is claimed with a conditional write,
//! together with its reply token, before it is sent, so a retried request or
//! delivery never sends it twice; a failure that may pass releases the claim.
//! These are engagement emails of kind [`EmailKind::Questions`]: skipped for a
//! member who turned them off, and each carries a one-click opt-out (RFC 8058).

use qnet_domain::member::Member;
use qnet_ports::{Condition, Item, MailError, MailSender, OutgoingMail, Write};

use crate::engagement::EmailKind;
use crate::members::suppression::{Delivery, DeliveryError};
use crate::questions::store::{CLAIM_RETENTION_SECONDS, ClaimState, NotificationClaim, Target};
use crate::{App, AppError, AppResult, encode, keys, mail};
use qnet_domain::question::{Answer, Question};

pub(crate) fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d.trim_end_matches('>')).unwrap_or("qnet.localhost")
}

/// What one question or answer email says and where replies go.
pub(crate) struct QuestionEmail<'a> {
    pub from: &'a str,
    pub to_name: &'a str,
    pub to_email: &'a str,
    pub target: &'a Target,
    pub question_url: &'a str,
    pub question: &'a Question,
    /// The answer this email is about; `None` for a new question.
    pub answer: Option<&'a Answer>,
    /// The opaque token of `reply+TOKEN@<domain of from>`.
    pub reply_token: &'a str,
    /// The one-click opt-out headers (`List-Unsubscribe`, `List-Unsubscribe-Post`).
    pub unsubscribe: &'a [(&'static str, String)],
}

pub(crate) fn question_email(e: &QuestionEmail<'_>) -> Result<OutgoingMail, String> {
    let title = &e.target.title;
    let (template, subject, message_id) = match e.answer {
        None => ("email/question-asked", format!("{} asked about “{title}”", e.question.author_name), e.question.id.clone()),
        Some(a) => ("email/question-answered", format!("{} answered a question about “{title}”", a.author_name), a.id.clone()),
    };
    let mut ctx = tera::Context::new();
    ctx.insert("subject", &subject);
    ctx.insert("name", e.to_name);
    ctx.insert("target_title", title);
    ctx.insert("target_noun", e.target.noun());
    ctx.insert("question_url", e.question_url);
    ctx.insert("asker", &e.question.author_name);
    ctx.insert("question", &e.question.body);
    if let Some(a) = e.answer {
        ctx.insert("answerer", &a.author_name);
        ctx.insert("answer", &a.body);
    }
    let domain = domain_of(e.from);
    let token = e.reply_token.to_ascii_lowercase();
    let mut h = mail::Headers::new(("Qnet questions", e.from), (e.to_name, e.to_email), subject);
    h.reply_to = Some(format!("reply+{token}@{domain}"));
    h.message_id = Some(format!("question-{}-{token}@{domain}", message_id.to_ascii_lowercase()));
    h.in_reply_to = e.answer.map(|_| format!("question-{}@{domain}", e.question.id.to_ascii_lowercase()));
    h.extra.extend(e.unsubscribe.iter().cloned());
    mail::compose(template, &ctx, h).map(|c| c.mail).map_err(|e| e.0)
}

impl App {
    /// Sends the emails of a new question (`answer_id: None`) or answer that
    /// were not sent yet. Called after the commit: a failure is logged, and a
    /// retried request (same idempotency key) or delivery sends what is left.
    pub(crate) async fn send_question_emails(&self, question_id: &str, answer_id: Option<&str>) {
        if let Err(e) = self.try_question_emails(question_id, answer_id).await {
            tracing::warn!(question = %question_id, error = %e, "question emails not all sent; a retry sends the rest");
        }
    }

    pub(crate) async fn try_question_emails(&self, question_id: &str, answer_id: Option<&str>) -> AppResult<usize> {
        let Some(p) = self.question_pointer(question_id).await? else { return Ok(0) };
        let Some(target) = self.question_target(p.target_kind, &p.target_id).await? else { return Ok(0) };
        if !target.published {
            // Nothing about an item that is not published leaves by email.
            return Ok(0);
        }
        let Some((q, answers)) = self.load_thread(&p, question_id).await? else { return Ok(0) };
        let (answer, writer, mut recipients) = match answer_id {
            None => (None, q.author_id.clone(), target.author_ids.clone()),
            Some(aid) => {
                let Some(a) = answers.iter().find(|a| a.id == aid) else { return Ok(0) };
                let mut r = vec![q.author_id.clone()];
                r.extend(target.author_ids.iter().cloned());
                (Some(a), a.author_id.clone(), r)
            }
        };
        recipients.retain(|r| !r.is_empty() && *r != writer);
        recipients.dedup();
        let message_id = answer.map(|a| a.id.clone()).unwrap_or_else(|| q.id.clone());
        let question_url = format!("{}/questions/{}", self.web_base_url, q.id);
        let mut sent = 0;
        let mut seen = vec![];
        for member_id in recipients {
            if seen.contains(&member_id) {
                continue;
            }
            seen.push(member_id.clone());
            let Some(member) = self.member_by_id(&member_id).await? else { continue };
            if self.notify_question_member(&q, answer, &target, &question_url, &message_id, &member).await? {
                sent += 1;
            }
        }
        if sent > 0 {
            tracing::info!(question = %q.id, message = %message_id, sent, "question emails sent");
        }
        Ok(sent)
    }

    /// One claimed email to one member; true when it was sent now.
    async fn notify_question_member(
        &self,
        q: &Question,
        answer: Option<&Answer>,
        target: &Target,
        question_url: &str,
        message_id: &str,
        member: &Member,
    ) -> AppResult<bool> {
        if !EmailKind::Questions.allowed(member) {
            return Ok(false);
        }
        let (cpk, csk) = keys::question_notification(&q.id, message_id, &member.id);
        if self.records.get(&cpk, &csk).await?.is_some() {
            return Ok(false);
        }
        let (token, token_write) = self.question_reply_write(&member.id, &q.id);
        let (opt_out_write, unsubscribe) = self.opt_out_headers(&member.id, EmailKind::Questions);
        let claim = NotificationClaim { state: ClaimState::Sending, claimed_at: self.now_text() };
        let expires = self.now().unix_timestamp() + CLAIM_RETENTION_SECONDS;
        let claim_item =
            |c: &NotificationClaim, v: u64| Item::new(cpk.clone(), csk.clone(), encode(c)).with_version(v).expiring_at(expires);
        match self
            .records
            .transact(vec![
                Write::Put { item: claim_item(&claim, 1), condition: Condition::NotExists },
                token_write,
                opt_out_write,
            ])
            .await
        {
            Ok(()) => {}
            Err(e) if e.is_conflict() => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        let mail = question_email(&QuestionEmail {
            from: &self.mail_from,
            to_name: &member.name,
            to_email: &member.email,
            target,
            question_url,
            question: q,
            answer,
            reply_token: &token.text,
            unsubscribe: &unsubscribe,
        })
        .map_err(|e| AppError::Unavailable(format!("the question email could not be built: {e}")))?;
        let mailer: &dyn MailSender = self.mailer.as_ref();
        let (state, sent) = match self.deliver(mailer, &mail).await {
            Ok(Delivery::Sent { .. }) => (ClaimState::Sent, true),
            Ok(Delivery::Suppressed(_)) | Err(DeliveryError::Mail(MailError::Refused(_))) => (ClaimState::NotSent, false),
            Err(e) => {
                // Not sent, and it may pass: let a retry claim it again.
                let _ = self.records.delete(&cpk, &csk, Condition::VersionIs(1)).await;
                return Err(AppError::Unavailable(format!("a question email could not be sent: {e}")));
            }
        };
        let done = NotificationClaim { state, ..claim };
        self.records.put(claim_item(&done, 2), Condition::VersionIs(1)).await?;
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnet_domain::question::{AnswerSource, TargetKind};

    #[test]
    fn the_email_carries_the_reply_address_the_link_and_escapes_the_text() {
        let q = Question {
            id: "01J00000000000000000000000".into(),
            target_kind: TargetKind::CaseStudy,
            target_id: "01J00000000000000000000001".into(),
            author_id: "a".into(),
            author_name: "Ann".into(),
            body: "<b>How</b> long did it take?".into(),
            created_at: "2026-12-01T09:00:00.000Z".into(),
            answered: true,
            experts_asked: false,
            version: 2,
        };
        let a = Answer {
            id: "01J00000000000000000000002".into(),
            question_id: q.id.clone(),
            author_id: "b".into(),
            author_name: "Bob".into(),
            body: "Six weeks".into(),
            source: AnswerSource::Web,
            created_at: "2026-12-01T10:00:00.000Z".into(),
        };
        let t = Target {
            kind: TargetKind::CaseStudy,
            id: q.target_id.clone(),
            title: "Fewer falls".into(),
            published: true,
            author_ids: vec!["b".into()],
            topics: vec![],
        };
        let unsubscribe = crate::engagement::list_unsubscribe("https://api.qnet.example", "qnet.example", "TOKEN");
        let e = |answer| QuestionEmail {
            from: "questions@qnet.example",
            to_name: "Cat",
            to_email: "cat@x.nhs.uk",
            target: &t,
            question_url: "https://qnet.example/questions/01J00000000000000000000000",
            question: &q,
            answer,
            reply_token: "ABCDEF",
            unsubscribe: &unsubscribe,
        };
        let text = String::from_utf8(question_email(&e(None)).unwrap().raw).unwrap().replace("=\r\n", "");
        assert!(text.contains("Reply-To: <reply+abcdef@qnet.example>"), "{text}");
        assert!(text.contains("https://qnet.example/questions/01J00000000000000000000000"), "{text}");
        assert!(text.contains("&lt;b&gt;How&lt;/b&gt;"), "the HTML part escapes the question");
        assert!(text.contains("List-Unsubscribe: <https://api.qnet.example/unsubscribe/TOKEN>"), "{text}");
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{text}");
        let text = String::from_utf8(question_email(&e(Some(&a))).unwrap().raw).unwrap().replace("=\r\n", "");
        assert!(text.contains("Six weeks"), "{text}");
        assert!(text.contains("In-Reply-To: <question-01j00000000000000000000000@qnet.example>"), "{text}");
    }
}
