//! Mentoring emails (offers to mentors, introductions), each claimed before it is sent.

use crate::mentoring::matching::topic_names;
use crate::{App, AppError, AppResult, keys};
use qnet_domain::mentoring::{MentoringRequest, Proposal};
use qnet_ports::{Condition, Item, OutgoingMail};

impl App {
    /// Claims an email about a request; true when this caller is to send it.
    pub(crate) async fn claim_mail(&self, request_id: &str, what: &str) -> AppResult<bool> {
        let (pk, sk) = keys::mentoring_mail_claim(request_id, what);
        let item = Item::new(pk, sk, serde_json::json!({"claimed_at": self.now_text()}));
        match self.records.put(item, Condition::NotExists).await {
            Ok(()) => Ok(true),
            Err(e) if e.is_conflict() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn release_mail_claim(&self, request_id: &str, what: &str) {
        let (pk, sk) = keys::mentoring_mail_claim(request_id, what);
        if let Err(e) = self.records.delete(&pk, &sk, Condition::None).await {
            tracing::error!(request = %request_id, error = %e, "mail claim not released");
        }
    }

    /// Sends a claimed email; when sending fails the claim is released so that a
    /// later pass can try again.
    pub(crate) async fn send_claimed(&self, request_id: &str, what: &str, mail: AppResult<OutgoingMail>) -> AppResult<()> {
        let mail = match mail {
            Ok(m) => m,
            Err(e) => {
                self.release_mail_claim(request_id, what).await;
                return Err(e);
            }
        };
        match self.deliver(&*self.mailer, &mail).await {
            Ok(_) => Ok(()),
            Err(e) => {
                self.release_mail_claim(request_id, what).await;
                Err(AppError::Unavailable(e.to_string()))
            }
        }
    }

    /// The offer email to the proposed mentor, at most once per proposal.
    pub(crate) async fn send_offer(&self, r: &MentoringRequest, links_base: &str) -> AppResult<()> {
        let Some(p) = r.proposal.as_ref() else { return Ok(()) };
        let what = format!("offer-{}", p.seq);
        if !self.claim_mail(&r.id, &what).await? {
            return Ok(());
        }
        let mail = self.offer_mail(r, p, links_base).await;
        self.send_claimed(&r.id, &what, mail).await
    }

    pub(crate) async fn offer_mail(&self, r: &MentoringRequest, p: &Proposal, links_base: &str) -> AppResult<OutgoingMail> {
        let mentor = self.member_by_id(&p.mentor_id).await?.ok_or(AppError::NotFound("mentor"))?;
        let mentee = self.member_by_id(&r.member_id).await?.ok_or(AppError::NotFound("member"))?;
        let names = self.organisation_names().await?;
        let mut ctx = tera::Context::new();
        ctx.insert("mentor_name", &mentor.name);
        ctx.insert("mentee_name", &mentee.name);
        ctx.insert("mentee_organisation", &names.get(&r.organisation_id).cloned().unwrap_or_default());
        ctx.insert("kind", &r.kind);
        ctx.insert("topics", &topic_names(&r.topics).into_iter().collect::<Vec<_>>());
        ctx.insert("goals", &r.goals);
        ctx.insert("reasons", &p.reasons);
        ctx.insert("expires", &p.expires_at[..10]);
        ctx.insert("offer_url", &format!("{}/mentoring/offers/{}", links_base.trim_end_matches('/'), self.offer_token(r, p)));
        let h = crate::mail::Headers::new(
            ("Qnet mentoring", &*self.mail_from),
            (mentor.name.as_str(), mentor.email.as_str()),
            format!("Would you take on {} for {}?", mentee.name, r.kind),
        );
        Ok(crate::mail::compose("email/mentoring-offer", &ctx, h)?.mail)
    }

    /// One email introducing mentee and mentor, at most once per pairing.
    pub(crate) async fn send_introduction(&self, r: &MentoringRequest) -> AppResult<()> {
        let Some(pairing) = r.pairing.as_ref() else { return Ok(()) };
        if !self.claim_mail(&r.id, "introduction").await? {
            return Ok(());
        }
        let mail = async {
            let mentor = self.member_by_id(&pairing.mentor_id).await?.ok_or(AppError::NotFound("mentor"))?;
            let mentee = self.member_by_id(&r.member_id).await?.ok_or(AppError::NotFound("member"))?;
            let names = self.organisation_names().await?;
            let mut ctx = tera::Context::new();
            ctx.insert("mentor_name", &mentor.name);
            ctx.insert("mentor_email", &mentor.email);
            ctx.insert(
                "mentor_organisation",
                &mentor.organisation_id.as_ref().and_then(|o| names.get(o)).cloned().unwrap_or_default(),
            );
            ctx.insert("mentee_name", &mentee.name);
            ctx.insert("mentee_email", &mentee.email);
            ctx.insert("mentee_organisation", &names.get(&r.organisation_id).cloned().unwrap_or_default());
            ctx.insert("kind", &r.kind);
            ctx.insert("topics", &topic_names(&r.topics).into_iter().collect::<Vec<_>>());
            ctx.insert("goals", &r.goals);
            ctx.insert("request_id", &r.id);
            let mut h = crate::mail::Headers::new(
                ("Qnet mentoring", &*self.mail_from),
                (mentee.name.as_str(), mentee.email.as_str()),
                format!("Qnet {}: introducing {} and {}", r.kind, mentee.name, mentor.name),
            );
            h.to.push((mentor.name.as_str(), mentor.email.as_str()));
            Ok(crate::mail::compose("email/mentoring-introduction", &ctx, h)?.mail)
        }
        .await;
        self.send_claimed(&r.id, "introduction", mail).await
    }
}
