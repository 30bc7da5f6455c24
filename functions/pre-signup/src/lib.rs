//! The Cognito pre-sign-up trigger: only staff of a known organisation may join,
//! recognised by their email domain. Accounts an operator creates through the
//! user pool's admin API (`AdminCreateUser`, as `qnet admin invite-admin` does for
//! the first admin of an empty system) are admitted whatever their domain: only
//! an IAM principal allowed `cognito-idp:AdminCreateUser` can make one.

use aws_lambda_events::event::cognito::{CognitoEventUserPoolsPreSignup, CognitoEventUserPoolsPreSignupTriggerSource};
use qnet_app::App;

#[derive(Debug, thiserror::Error)]
pub enum SignUpRefused {
    #[error("Qnet is open to staff of the organisations in this integrated care system; sign up with your work email address")]
    UnknownDomain,
    #[error("sign-up could not be checked just now; try again shortly")]
    Unavailable,
}

/// Admits the sign-up (returning the event unchanged, as Cognito expects) when the
/// email's domain belongs to a known organisation; refuses it otherwise.
pub async fn handle(app: &App, event: CognitoEventUserPoolsPreSignup) -> Result<CognitoEventUserPoolsPreSignup, SignUpRefused> {
    if event.cognito_event_user_pools_header.trigger_source == Some(CognitoEventUserPoolsPreSignupTriggerSource::AdminCreateUser)
    {
        tracing::info!(outcome = "admitted", reason = "created by an operator", "pre-sign-up");
        return Ok(event);
    }
    let email = event.request.user_attributes.get("email").map(String::as_str).unwrap_or("");
    match app.organisations_for_email(email).await {
        Ok(orgs) if !orgs.is_empty() => {
            tracing::info!(outcome = "admitted", "pre-sign-up");
            Ok(event)
        }
        Ok(_) => {
            let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
            tracing::info!(outcome = "refused", domain = %domain, "pre-sign-up");
            Err(SignUpRefused::UnknownDomain)
        }
        Err(e) => {
            tracing::error!(error = %e, "pre-sign-up could not read organisations");
            Err(SignUpRefused::Unavailable)
        }
    }
}
