//! AWS adapters: the record store on DynamoDB, the blob store on S3, the mail
//! sender on SES and the job queue on SQS.
//!
//! The SDK crates are re-exported so that the binaries and tests build clients
//! against exactly the versions these adapters use.

mod dynamo;
pub mod from_env;
mod s3;
mod secrets;
mod ses;
mod sqs;

pub use dynamo::{DynamoRecordStore, GSI1, GSI2};
pub use s3::S3BlobStore;
pub use secrets::SecretValue;
pub use ses::SesMailSender;
pub use sqs::SqsJobQueue;

pub use aws_config;
pub use aws_sdk_dynamodb;
pub use aws_sdk_s3;
pub use aws_sdk_secretsmanager;
pub use aws_sdk_sesv2;
pub use aws_sdk_sqs;

/// IAM actions [`DynamoRecordStore`] calls, for the functions' policies (grant
/// them on the table and `table/index/*`).
///
/// `TransactWriteItems` has no IAM action of its own: DynamoDB checks the
/// action of each write inside it (PutItem, DeleteItem, ConditionCheckItem,
/// and UpdateItem for `Write::Increment`).
/// A unit test reads the adapter's source so this list cannot drift.
pub const RECORD_STORE_IAM_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:UpdateItem",
];

/// IAM actions [`S3BlobStore`] calls (objects: `bucket/*`; `s3:ListBucket`:
/// the bucket itself).
///
/// HeadObject and presigned URLs have no actions of their own: they use
/// `s3:GetObject` / `s3:PutObject` of the signer. `s3:ListBucket` is there
/// because without it S3 answers 403 instead of 404 for a missing key, and the
/// store could not tell "no such blob" from "forbidden".
pub const BLOB_STORE_IAM_ACTIONS: &[&str] = &["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:ListBucket"];

/// IAM actions [`SesMailSender`] calls (SES v2 `SendEmail`, raw content).
pub const MAIL_SENDER_IAM_ACTIONS: &[&str] = &["ses:SendEmail"];

/// IAM actions [`SqsJobQueue`] calls (on the queue). `SendMessageBatch` has no
/// IAM action of its own: it is authorised as `sqs:SendMessage`.
pub const JOB_QUEUE_IAM_ACTIONS: &[&str] = &["sqs:SendMessage"];

/// IAM actions [`SecretValue`] calls (on the one secret: the link-signing key).
pub const SECRET_VALUE_IAM_ACTIONS: &[&str] = &["secretsmanager:GetSecretValue"];

#[cfg(test)]
mod iam_tests {
    use std::collections::BTreeSet;

    /// The IAM actions each SDK operation needs. An operation the adapters call
    /// that is missing here fails the test: add it here and to the list above.
    const NEEDS: &[(&str, &[&str])] = &[
        ("get_item", &["dynamodb:GetItem"]),
        ("put_item", &["dynamodb:PutItem"]),
        ("delete_item", &["dynamodb:DeleteItem"]),
        ("update_item", &["dynamodb:UpdateItem"]),
        ("query", &["dynamodb:Query"]),
        (
            "transact_write_items",
            &["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:UpdateItem"],
        ),
        ("put_object", &["s3:PutObject"]),
        ("get_object", &["s3:GetObject", "s3:ListBucket"]),
        ("head_object", &["s3:GetObject", "s3:ListBucket"]),
        ("copy_object", &["s3:GetObject", "s3:PutObject"]),
        ("delete_object", &["s3:DeleteObject"]),
        ("send_email", &["ses:SendEmail"]),
        ("send_message", &["sqs:SendMessage"]),
        ("send_message_batch", &["sqs:SendMessage"]),
        ("get_secret_value", &["secretsmanager:GetSecretValue"]),
    ];

    /// Every `client.<operation>(` in `source`, whitespace (line breaks) allowed
    /// around the dot, as rustfmt lays out builder chains.
    fn operations(source: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut rest = source;
        while let Some(at) = rest.find("client") {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + "client".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let Some(after_dot) = rest.trim_start().strip_prefix('.') else {
                continue;
            };
            let after_dot = after_dot.trim_start();
            let name: String = after_dot.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if after_dot[name.len()..].starts_with('(') && name != "config" {
                found.push(name);
            }
        }
        found
    }

    fn check(source: &str, listed: &[&str], min_calls: usize) {
        let calls = operations(source);
        assert!(calls.len() >= min_calls, "found only {calls:?}: is the scanner still right?");
        let mut needed = BTreeSet::new();
        for call in &calls {
            let (_, actions) = NEEDS
                .iter()
                .find(|(op, _)| op == call)
                .unwrap_or_else(|| panic!("the adapter calls `{call}`: add its IAM actions to NEEDS and the list"));
            needed.extend(actions.iter().copied());
        }
        let listed: BTreeSet<&str> = listed.iter().copied().collect();
        assert_eq!(needed, listed, "IAM actions needed by the calls vs the published list");
    }

    #[test]
    fn record_store_actions_match_its_calls() {
        check(include_str!("dynamo.rs"), super::RECORD_STORE_IAM_ACTIONS, 5);
    }

    #[test]
    fn blob_store_actions_match_its_calls() {
        check(include_str!("s3.rs"), super::BLOB_STORE_IAM_ACTIONS, 7);
    }

    #[test]
    fn mail_sender_actions_match_its_calls() {
        check(include_str!("ses.rs"), super::MAIL_SENDER_IAM_ACTIONS, 1);
    }

    #[test]
    fn job_queue_actions_match_its_calls() {
        check(include_str!("sqs.rs"), super::JOB_QUEUE_IAM_ACTIONS, 1);
    }

    #[test]
    fn secret_value_actions_match_its_calls() {
        check(include_str!("secrets.rs"), super::SECRET_VALUE_IAM_ACTIONS, 1);
    }

    #[test]
    fn scanner_sees_split_chains() {
        let src = "self.client\n    .put_item()\n; self.client.query().x(); dynamo_client.scan(); client.config()";
        assert_eq!(operations(src), ["put_item", "query"]);
    }
}
