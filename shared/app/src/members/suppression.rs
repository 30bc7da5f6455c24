//! Address suppression: a hard bounce or a complaint stops every Qnet email to
//! that address (not only the digest) until the member confirms a working
//! address. Every email goes out through [`App::deliver`], which checks the list.
//!
//! Bounce and complaint notifications come from the SES configuration set's
//! event destination: an SNS notification (`Records[].Sns.Message`), an
//! EventBridge event (`detail`), or the bare SES event JSON (`qnet ses-event`).

use qnet_domain::member::redact_email;
use qnet_ports::{Condition, Item, MailError, MailSender, OutgoingMail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{App, AppError, AppResult, encode, keys};

/// The purpose of address confirmation links, and how long they work.
const CONFIRM_ADDRESS: &str = "confirm-address";
const CONFIRMATION_HOURS: i64 = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    HardBounce,
    Complaint,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suppression {
    pub email: String,
    pub reason: SuppressionReason,
    pub since: String,
    /// The provider's classification (`Permanent/General`, `abuse`), never message text.
    #[serde(default)]
    pub detail: Option<String>,
}

/// Why the member's address is suppressed, as `GET /me` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SuppressionView {
    /// `hard_bounce` or `complaint`.
    pub reason: String,
    pub since: String,
}

/// What happened to a message handed to [`App::deliver`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent {
        provider_id: String,
    },
    /// Not sent: these recipients are suppressed.
    Suppressed(Vec<String>),
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Store(#[from] AppError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// One recipient's fate in an SES notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SesNotice {
    pub kind: SesNoticeKind,
    pub email: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SesNoticeKind {
    HardBounce,
    /// Mailbox full, out of office and the like: no suppression.
    SoftBounce,
    Complaint,
}

/// What a batch of notifications changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SesEventReport {
    pub suppressed: usize,
    pub ignored: usize,
}

/// Reads SES bounce and complaint notifications out of any of the three
/// envelopes. Anything else (deliveries, opens, a malformed message) is an error
/// naming what was expected, so a bad event is reported rather than ignored.
pub fn parse_ses_notifications(v: &Value) -> Result<Vec<SesNotice>, String> {
    if let Some(records) = v.get("Records").and_then(Value::as_array) {
        let mut out = Vec::new();
        for r in records {
            let message = r
                .pointer("/Sns/Message")
                .and_then(Value::as_str)
                .ok_or("an SNS record without Sns.Message (expected an SES notification over SNS)")?;
            let inner: Value = serde_json::from_str(message).map_err(|e| format!("the SNS message is not JSON: {e}"))?;
            out.extend(parse_notification(&inner)?);
        }
        return Ok(out);
    }
    if v.get("detail-type").is_some() {
        let detail = v.get("detail").ok_or("an EventBridge event without detail")?;
        return parse_notification(detail);
    }
    parse_notification(v)
}

fn parse_notification(v: &Value) -> Result<Vec<SesNotice>, String> {
    let kind = v
        .get("eventType")
        .or_else(|| v.get("notificationType"))
        .and_then(Value::as_str)
        .ok_or("not an SES notification (no eventType or notificationType)")?;
    let addresses = |list: &str, field: &str| -> Vec<String> {
        v.pointer(&format!("/{field}/{list}"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.get("emailAddress").and_then(Value::as_str))
                    .filter_map(|e| qnet_domain::member::normalise_email(bare_address(e)).ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    match kind {
        "Bounce" => {
            let bounce_type = v.pointer("/bounce/bounceType").and_then(Value::as_str).unwrap_or("Undetermined");
            let sub = v.pointer("/bounce/bounceSubType").and_then(Value::as_str).unwrap_or("");
            let kind = if bounce_type == "Permanent" { SesNoticeKind::HardBounce } else { SesNoticeKind::SoftBounce };
            let detail = Some(format!("{bounce_type}/{sub}"));
            Ok(addresses("bouncedRecipients", "bounce")
                .into_iter()
                .map(|email| SesNotice { kind, email, detail: detail.clone() })
                .collect())
        }
        "Complaint" => {
            let detail = v.pointer("/complaint/complaintFeedbackType").and_then(Value::as_str).map(String::from);
            Ok(addresses("complainedRecipients", "complaint")
                .into_iter()
                .map(|email| SesNotice { kind: SesNoticeKind::Complaint, email, detail: detail.clone() })
                .collect())
        }
        // Deliveries, sends, rejects and the like change nothing here.
        _ => Ok(vec![]),
    }
}

/// `Jo Bloggs <jo@x.org>` → `jo@x.org` (SES sometimes quotes the display form).
fn bare_address(e: &str) -> &str {
    match (e.rfind('<'), e.rfind('>')) {
        (Some(a), Some(b)) if a < b => &e[a + 1..b],
        _ => e,
    }
}

impl App {
    pub async fn suppression(&self, email: &str) -> AppResult<Option<Suppression>> {
        Ok(self.get_record::<Suppression>(keys::suppression(email)).await?.map(|(s, _)| s))
    }

    /// Applies bounce and complaint notices. Idempotent: a redelivered
    /// notification leaves the same record.
    pub async fn apply_ses_notices(&self, notices: &[SesNotice]) -> AppResult<SesEventReport> {
        let mut report = SesEventReport::default();
        for n in notices {
            let reason = match n.kind {
                SesNoticeKind::HardBounce => SuppressionReason::HardBounce,
                SesNoticeKind::Complaint => SuppressionReason::Complaint,
                SesNoticeKind::SoftBounce => {
                    report.ignored += 1;
                    continue;
                }
            };
            if self.suppression(&n.email).await?.is_none() {
                let (pk, sk) = keys::suppression(&n.email);
                let s = Suppression { email: n.email.clone(), reason, since: self.now_text(), detail: n.detail.clone() };
                match self.records.put(Item::new(pk, sk, encode(&s)), Condition::NotExists).await {
                    Ok(()) => {}
                    Err(e) if e.is_conflict() => {}
                    Err(e) => return Err(e.into()),
                }
                tracing::info!(address = %redact_email(&n.email), reason = ?reason, "address suppressed");
            }
            report.suppressed += 1;
        }
        Ok(report)
    }

    /// Lifts a suppression once the member has shown the address works.
    pub async fn clear_suppression(&self, email: &str) -> AppResult<bool> {
        let (pk, sk) = keys::suppression(email);
        let existed = self.records.get(&pk, &sk).await?.is_some();
        self.records.delete(&pk, &sk, Condition::None).await?;
        if existed {
            tracing::info!(address = %redact_email(email), "suppression lifted");
        }
        Ok(existed)
    }

    /// Sends the signed-in member a link that lifts the suppression of their
    /// address: the one email that goes to a suppressed address, because the
    /// member asked for it and it proves the address works again.
    /// `api_base_url` is where the API is reached (the request's own origin).
    pub async fn request_address_confirmation(&self, claims: &crate::Claims, api_base_url: &str) -> AppResult<String> {
        let m = self.member(claims).await?;
        if self.suppression(&m.email).await?.is_none() {
            return Err(AppError::Conflict("your address is not suppressed: there is nothing to confirm".into()));
        }
        self.take_allowance(&m.id, crate::limits::Action::ConfirmationEmail).await?;
        let expires = self.now().unix_timestamp() + CONFIRMATION_HOURS * 3600;
        let token = self.links.sign(CONFIRM_ADDRESS, &format!("{}|{}", m.id, m.email), expires);
        let mut ctx = tera::Context::new();
        ctx.insert("name", &m.name);
        ctx.insert("confirm_url", &format!("{}/email-confirmations/{token}", api_base_url.trim_end_matches('/')));
        let h = crate::mail::Headers::new(
            ("Qnet", &*self.mail_from),
            (m.name.as_str(), m.email.as_str()),
            "Confirm your email address for Qnet",
        );
        let mail = crate::mail::compose("email/confirm-address", &ctx, h)?.mail;
        self.mailer.send(&mail).await.map_err(|e| AppError::Unavailable(e.to_string()))?;
        tracing::info!(member = %m.id, "address confirmation sent");
        Ok(m.email)
    }

    /// Whether a confirmation link is valid now (the page asks; nothing changes).
    pub fn address_confirmation_is_valid(&self, token: &str) -> bool {
        self.links.verify(CONFIRM_ADDRESS, token, self.now().unix_timestamp()).is_ok()
    }

    /// Lifts the suppression a valid confirmation link names. `None` when the
    /// link is bad, tampered or expired, or the member's address has changed since.
    pub async fn confirm_address(&self, token: &str) -> AppResult<Option<()>> {
        let Ok(subject) = self.links.verify(CONFIRM_ADDRESS, token, self.now().unix_timestamp()) else { return Ok(None) };
        let Some((member_id, email)) = subject.split_once('|') else { return Ok(None) };
        match self.member_by_id(member_id).await? {
            Some(m) if m.email.eq_ignore_ascii_case(email) => {
                self.clear_suppression(email).await?;
                Ok(Some(()))
            }
            _ => Ok(None),
        }
    }

    /// Sends one email unless a recipient is suppressed. Every Qnet email goes
    /// through here.
    pub async fn deliver(&self, mailer: &dyn MailSender, mail: &OutgoingMail) -> Result<Delivery, DeliveryError> {
        let mut suppressed = Vec::new();
        for to in &mail.to {
            if self.suppression(to).await?.is_some() {
                suppressed.push(to.clone());
            }
        }
        if !suppressed.is_empty() {
            tracing::info!(recipients = suppressed.len(), "not sent: suppressed address");
            return Ok(Delivery::Suppressed(suppressed));
        }
        Ok(Delivery::Sent { provider_id: mailer.send(mail).await? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bounce(kind: &str) -> Value {
        json!({"eventType": "Bounce", "bounce": {"bounceType": kind, "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": "Jo <Jo@Example.NHS.uk>"}, {"emailAddress": "not an address"}]},
            "mail": {"messageId": "x"}})
    }

    #[test]
    fn reads_every_envelope() {
        let direct = parse_ses_notifications(&bounce("Permanent")).unwrap();
        assert_eq!(
            direct,
            vec![SesNotice {
                kind: SesNoticeKind::HardBounce,
                email: "jo@example.nhs.uk".into(),
                detail: Some("Permanent/General".into())
            }]
        );
        let sns = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": bounce("Transient").to_string()}}]});
        assert_eq!(parse_ses_notifications(&sns).unwrap()[0].kind, SesNoticeKind::SoftBounce);
        let eb = json!({"detail-type": "Email Complaint Received", "source": "aws.ses", "detail": {
            "eventType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": "a@b.org"}], "complaintFeedbackType": "abuse"}}});
        assert_eq!(parse_ses_notifications(&eb).unwrap()[0].kind, SesNoticeKind::Complaint);
        let legacy = json!({"notificationType": "Delivery", "delivery": {}});
        assert!(parse_ses_notifications(&legacy).unwrap().is_empty());
        assert!(parse_ses_notifications(&json!({"hello": 1})).is_err());
        assert!(parse_ses_notifications(&json!({"Records": [{"Sns": {"Message": "{not json"}}]})).is_err());
    }
}
