//! The inbound router: what one delivered message is, and which feature takes
//! it. An unsubscribe (`unsubscribe+TOKEN@`) ends a digest subscription; mail
//! to the no-reply organiser of invitations is ignored; a reply to a board
//! email (`reply+TOKEN@`) goes to the boards feature, one to a question or
//! answer email to the questions feature; anything else the guard
//! accepts is a case study (`case_study.rs`).

use qnet_mail::{Outcome, Route};
use qnet_ports::MailSender;

use super::{Inbound, IngestOptions, IngestReport};
use crate::{App, AppError, AppResult};

/// Messages up to this size are analysed on the calling task (see `ingest`).
const INLINE_ANALYSIS_BYTES: usize = 256 * 1024;

impl App {
    /// Processes one message end to end: decides what it is (an unsubscribe,
    /// mail to the no-reply address, a reply to a board email, or a case study)
    /// and hands it to the feature it belongs to. With `dry_run`, writes nothing
    /// and sends nothing but reports exactly what would happen.
    pub async fn ingest(&self, inbound: &Inbound, opts: &IngestOptions, mailer: &dyn MailSender) -> AppResult<IngestReport> {
        if !opts.dry_run
            && let Some(report) = self.case_study_redelivery(inbound, opts, mailer).await?
        {
            return Ok(report);
        }
        // The analysis is pure CPU work: a typical message takes well under a
        // millisecond, so it runs here (a hand-off to the blocking pool would
        // cost as much as the work); a large one goes to the blocking pool so
        // that it never holds up the other tasks of a shared runtime.
        let analysis = if inbound.raw.len() <= INLINE_ANALYSIS_BYTES {
            qnet_mail::analyse(&inbound.raw, &inbound.verdicts)
        } else {
            let raw = inbound.raw.clone();
            let verdicts = inbound.verdicts;
            tokio::task::spawn_blocking(move || qnet_mail::analyse(&raw, &verdicts))
                .await
                .map_err(|e| AppError::Unavailable(format!("the email analysis failed: {e}")))?
        };
        let a = &analysis;
        // The token is the authority for an unsubscribe (it is secret and only
        // ever in that member's digests), so even a message the guard would
        // refuse (empty, no text) unsubscribes.
        if let Route::Unsubscribe { token } = &a.route {
            let target = self.unsubscribe_target(token).await?;
            let valid = if opts.dry_run { target.is_some() } else { self.unsubscribe(token).await?.is_some() };
            let detail = match target {
                Some(crate::engagement::UnsubscribeTarget::Emails(kind)) => {
                    format!("The link's member no longer gets {}.", kind.description())
                }
                _ => "The digest subscription of the link's member has ended.".into(),
            };
            return Ok(if valid {
                IngestReport::without_record(a, Outcome::Accept, Some("unsubscribed"), Some(detail))
            } else {
                IngestReport::without_record(
                    a,
                    Outcome::Ignore,
                    Some("unknown_token"),
                    Some("The message was sent to an unsubscribe address that does not belong to anything here.".into()),
                )
            });
        }
        // The no-reply organiser of event invitations: calendar apps send their
        // accept/decline replies there. Nothing is created and nothing answered.
        if a.route == Route::NoReply {
            return Ok(IngestReport::without_record(
                a,
                Outcome::Ignore,
                Some("no_reply_address"),
                Some("The message was sent to the no-reply address of event invitations; it is not read.".into()),
            ));
        }
        if a.outcome != Outcome::Accept {
            return Ok(IngestReport::without_record(a, a.outcome, a.reason, a.detail.clone()));
        }
        // A reply to a project board email (the token names the follower and
        // the post: `boards/replies.rs`) or to a question or answer email (the
        // token names the recipient and the question: `questions/replies.rs`),
        // told apart by the token's purpose.
        if let Route::Reply { token } = &a.route {
            if self.is_question_reply_token(token).await? {
                return self.ingest_question_reply(inbound, a, token, opts, mailer).await;
            }
            return self.ingest_board_reply(inbound, a, token, opts, mailer).await;
        }
        self.ingest_case_study(inbound, a, opts, mailer).await
    }
}
