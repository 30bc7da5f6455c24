//! Building the AWS clients and stores from the environment, and creating the
//! table, bucket and queue in development (moto) where no SAM stack made them.

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

use crate::{DynamoRecordStore, S3BlobStore, SqsJobQueue};

/// Loads the standard AWS configuration: credentials, region and
/// `AWS_ENDPOINT_URL` (moto in development) from the usual environment
/// variables and profiles. In Lambda this picks up the function's role.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

pub fn dynamodb_client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// The S3 client the blob store needs.
///
/// - Checksums only when an operation requires them: by default the SDK adds a
///   CRC32 checksum to uploads, and for presigned PUTs that would sign a
///   checksum of an empty body, so the browser's real upload would be refused.
///   We sign our own `x-amz-checksum-sha256` instead.
/// - Path-style addressing when an endpoint is configured (moto, MinIO), where
///   `bucket.host` names do not resolve.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let s3_config = aws_sdk_s3::config::Builder::from(config)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .force_path_style(config.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

pub fn record_store(config: &SdkConfig, table: impl Into<String>) -> DynamoRecordStore {
    DynamoRecordStore::new(dynamodb_client(config), table.into())
}

pub fn blob_store(config: &SdkConfig, bucket: impl Into<String>) -> S3BlobStore {
    S3BlobStore::new(s3_client(config), bucket.into())
}

pub fn sqs_client(config: &SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}

/// The job queue at `queue_url` (the template's `QNET_DIGEST_QUEUE_URL`).
pub fn job_queue(config: &SdkConfig, queue_url: impl Into<String>) -> SqsJobQueue {
    SqsJobQueue::new(sqs_client(config), queue_url.into())
}

/// Why a development table or bucket could not be created.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EnsureError(String);

/// Creates the table as the SAM template declares it (on-demand, `PK`/`SK`,
/// `GSI1` and `GSI2` projecting everything, TTL on `expires_at`) unless it
/// exists. Development and tests only: in AWS the stack owns the table, and the
/// functions' roles may not call these operations.
pub async fn ensure_table(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), EnsureError> {
    let fail = |what: &str, e: String| EnsureError(format!("{what} for table {name}: {e}"));
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| fail("attribute definition", e.to_string()))
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder().attribute_name(n).key_type(t).build().map_err(|e| fail("key schema", e.to_string()))
    };
    let gsi = |index: &str, pk: &str, sk: &str| -> Result<GlobalSecondaryIndex, EnsureError> {
        GlobalSecondaryIndex::builder()
            .index_name(index)
            .key_schema(key(pk, KeyType::Hash)?)
            .key_schema(key(sk, KeyType::Range)?)
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .map_err(|e| fail("index", e.to_string()))
    };

    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(
            ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"].into_iter().map(attr).collect::<Result<_, _>>()?,
        ))
        .key_schema(key("PK", KeyType::Hash)?)
        .key_schema(key("SK", KeyType::Range)?)
        .global_secondary_indexes(gsi(crate::dynamo::GSI1, "GSI1PK", "GSI1SK")?)
        .global_secondary_indexes(gsi(crate::dynamo::GSI2, "GSI2PK", "GSI2SK")?)
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceInUseException") => return Ok(()),
        Err(e) => return Err(fail("CreateTable", DisplayErrorContext(&e).to_string())),
    }

    for _ in 0..120 {
        let described = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| fail("DescribeTable", DisplayErrorContext(&e).to_string()))?;
        if described.table.and_then(|t| t.table_status) == Some(TableStatus::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let ttl = TimeToLiveSpecification::builder()
        .attribute_name("expires_at")
        .enabled(true)
        .build()
        .map_err(|e| fail("TTL specification", e.to_string()))?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(|e| fail("UpdateTimeToLive", DisplayErrorContext(&e).to_string()))?;
    Ok(())
}

/// Creates the bucket in the client's region unless it exists. Development and
/// tests only.
pub async fn ensure_bucket(client: &aws_sdk_s3::Client, name: &str) -> Result<(), EnsureError> {
    let region = client.config().region().map(|r| r.as_ref().to_owned());
    let mut request = client.create_bucket().bucket(name);
    // us-east-1 is the one region that refuses an explicit location constraint.
    if let Some(region) = region.filter(|r| r != "us-east-1") {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region.as_str())).build(),
        );
    }
    match request.send().await {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.code(), Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")) => Ok(()),
        Err(e) => Err(EnsureError(format!("CreateBucket {name}: {}", DisplayErrorContext(&e)))),
    }
}

/// Creates a standard queue unless it exists, and answers its URL. Development
/// and tests only: in AWS the stack owns the queue (with its dead-letter queue).
pub async fn ensure_queue(client: &aws_sdk_sqs::Client, name: &str) -> Result<String, EnsureError> {
    // CreateQueue answers the existing queue's URL when the attributes agree.
    let out = client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| EnsureError(format!("CreateQueue {name}: {}", aws_sdk_sqs::error::DisplayErrorContext(&e))))?;
    out.queue_url.ok_or_else(|| EnsureError(format!("CreateQueue {name} answered no queue URL")))
}

/// Fetches a key on first need (the shape of `qnet_app::links::KeyLoader`).
pub type KeyLoader = std::sync::Arc<
    dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<u8>, String>> + Send>> + Send + Sync,
>;

/// The link-signing key: the Secrets Manager secret `arn` (the template's
/// `QNET_LINK_SIGNING_KEY_ARN`), as a loader for `qnet_app::links::LinkSigner::deferred`:
/// fetched on first need, then kept.
pub fn link_key_loader(config: &SdkConfig, arn: impl Into<String>) -> KeyLoader {
    let secret = std::sync::Arc::new(crate::SecretValue::new(aws_sdk_secretsmanager::Client::new(config), arn));
    std::sync::Arc::new(move || {
        let secret = secret.clone();
        Box::pin(async move { secret.get().await.map(|v| v.as_bytes().to_vec()) })
    })
}
