//! A secret's value from Secrets Manager, by ARN: one `GetSecretValue` call when
//! first asked for, then kept for the life of the process (a Lambda container).

use aws_sdk_secretsmanager::error::DisplayErrorContext;
use tokio::sync::OnceCell;

pub struct SecretValue {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    value: OnceCell<String>,
}

impl SecretValue {
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> SecretValue {
        SecretValue { client, secret_id: secret_id.into(), value: OnceCell::new() }
    }

    /// The secret's string; fetched on the first call (a failed fetch is tried
    /// again on the next), then cached. Errors name the secret, never its value.
    pub async fn get(&self) -> Result<&str, String> {
        self.value
            .get_or_try_init(|| async {
                let out = self.client.get_secret_value().secret_id(&self.secret_id).send().await.map_err(|e| {
                    tracing::error!(secret = %self.secret_id, error = %DisplayErrorContext(&e), "Secrets Manager call failed");
                    format!("GetSecretValue {} failed", self.secret_id)
                })?;
                out.secret_string().map(str::to_owned).ok_or_else(|| format!("secret {} has no string value", self.secret_id))
            })
            .await
            .map(String::as_str)
    }
}
