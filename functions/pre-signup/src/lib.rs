//! The Cognito pre-sign-up trigger: only staff of a known organisation may join,
//! recognised by their email domain.

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPreSignup;
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
