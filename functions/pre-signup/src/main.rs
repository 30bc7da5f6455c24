//! The Cognito pre-sign-up Lambda.

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPreSignup;
use qnet_app::config::TableConfig;

#[tokio::main]
async fn main() -> Result<(), qnet_lambda::Error> {
    let (config, kit) = qnet_lambda::start::<TableConfig>().await?;
    // The trigger is given no bucket (least privilege): it never touches files.
    let app = kit.app(&config.table_name);
    let app = &app;
    qnet_lambda::run_event(move |event: CognitoEventUserPoolsPreSignup| async move { qnet_pre_signup::handle(app, event).await })
        .await
}
