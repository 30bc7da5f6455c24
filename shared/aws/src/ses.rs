//! Outbound mail through SES v2, sent raw so that every header (threading,
//! `Auto-Submitted`, `List-Unsubscribe`) is the application's.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use qnet_ports::{MailError, MailSender, OutgoingMail};

#[derive(Debug, Clone)]
pub struct SesMailSender {
    client: Client,
    /// Bounces and complaints feed the suppression list through this set.
    configuration_set: Option<String>,
}

impl SesMailSender {
    pub fn new(client: Client, configuration_set: Option<String>) -> SesMailSender {
        SesMailSender { client, configuration_set }
    }
}

#[async_trait]
impl MailSender for SesMailSender {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError> {
        let raw =
            RawMessage::builder().data(Blob::new(mail.raw.clone())).build().map_err(|e| MailError::Refused(e.to_string()))?;
        let out = self
            .client
            .send_email()
            .from_email_address(&mail.from)
            .destination(Destination::builder().set_to_addresses(Some(mail.to.clone())).build())
            .content(EmailContent::builder().raw(raw).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|e| {
                use aws_sdk_sesv2::operation::send_email::SendEmailError as E;
                match e.as_service_error() {
                    // Over the sending rate or the daily quota: the message was not taken.
                    Some(E::TooManyRequestsException(_) | E::LimitExceededException(_)) => MailError::Throttled(e.to_string()),
                    // Paused sending or a suspended account is an operator's matter;
                    // the message is kept for a later retry.
                    Some(E::SendingPausedException(_) | E::AccountSuspendedException(_)) => MailError::Unavailable(e.to_string()),
                    // This message can never be sent as it stands.
                    Some(
                        s @ (E::MessageRejected(_)
                        | E::MailFromDomainNotVerifiedException(_)
                        | E::BadRequestException(_)
                        | E::NotFoundException(_)),
                    ) => MailError::Refused(s.to_string()),
                    // Anything else (an internal failure, a new error code) may pass.
                    Some(s) => MailError::Unavailable(s.to_string()),
                    None => MailError::Unavailable(aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string()),
                }
            })?;
        Ok(out.message_id.unwrap_or_default())
    }
}
