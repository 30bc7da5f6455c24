//! The blob store on S3, with presigned URLs so that attachment bytes go between
//! the browser and S3 directly, never through Lambda.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::primitives::ByteStream;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use qnet_ports::{BlobError, BlobMeta, BlobStore, PresignedUrl, UploadSpec};

/// Everything but RFC 3986 unreserved characters and `/` is encoded in a copy source.
const COPY_SOURCE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');
/// For the RFC 5987 `filename*` parameter.
const FILENAME: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// S3-backed [`BlobStore`]. Build the client with [`crate::from_env::s3_client`]
/// so that presigned uploads carry only the checksum we sign.
#[derive(Clone)]
pub struct S3BlobStore {
    client: Client,
    bucket: String,
}

impl S3BlobStore {
    pub fn new(client: Client, bucket: String) -> Self {
        S3BlobStore { client, bucket }
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| sdk_error("PutObject", e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        let out = self.client.get_object().bucket(&self.bucket).key(key).send().await.map_err(|e| {
            if e.as_service_error().is_some_and(|s| s.is_no_such_key()) { BlobError::NotFound } else { sdk_error("GetObject", e) }
        })?;
        let body = out.body.collect().await.map_err(|e| BlobError::Unavailable(format!("reading an S3 object: {e}")))?;
        Ok(body.into_bytes().to_vec())
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(BlobMeta {
                size: out.content_length.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                content_type: out.content_type,
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(sdk_error("HeadObject", e)),
        }
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), BlobError> {
        let source = format!("{}/{}", self.bucket, utf8_percent_encode(from, COPY_SOURCE));
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(source)
            .send()
            .await
            .map_err(|e| if e.code() == Some("NoSuchKey") { BlobError::NotFound } else { sdk_error("CopyObject", e) })?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(|e| sdk_error("DeleteObject", e))?;
        Ok(())
    }

    /// Signs content type, length and `x-amz-checksum-sha256`: S3 then refuses an
    /// upload whose bytes differ (400 BadDigest) or whose headers differ (403).
    async fn presign_put(&self, spec: &UploadSpec) -> Result<PresignedUrl, BlobError> {
        let size = i64::try_from(spec.size).map_err(|_| BlobError::Unavailable("upload size out of range".into()))?;
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&spec.key)
            .content_type(&spec.content_type)
            .content_length(size)
            .checksum_sha256(&spec.sha256_base64)
            .presigned(presigning(spec.expires_in)?)
            .await
            .map_err(|e| sdk_error("PutObject (presign)", e))?;
        Ok(presigned_url(&presigned, spec.expires_in))
    }

    /// S3 checks its presigned URLs against the real time, so they are signed
    /// with it whatever clock the app runs on: the store is the same.
    fn at_clock(&self, _clock: std::sync::Arc<dyn qnet_ports::Clock>) -> std::sync::Arc<dyn BlobStore> {
        std::sync::Arc::new(self.clone())
    }

    async fn presign_get(&self, key: &str, filename: &str, expires_in: Duration) -> Result<PresignedUrl, BlobError> {
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(content_disposition(filename))
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|e| sdk_error("GetObject (presign)", e))?;
        Ok(presigned_url(&presigned, expires_in))
    }
}

fn presigning(expires_in: Duration) -> Result<PresigningConfig, BlobError> {
    PresigningConfig::expires_in(expires_in).map_err(|e| BlobError::Unavailable(format!("presigning: {e}")))
}

fn presigned_url(p: &PresignedRequest, expires_in: Duration) -> PresignedUrl {
    // Real time on purpose: the SDK signs with the system clock and S3 judges
    // expiry by its own, so the answer says when S3 will stop honouring it.
    let expires_at =
        time::OffsetDateTime::now_utc().unix_timestamp() + i64::try_from(expires_in.as_secs()).unwrap_or(i64::MAX / 2);
    PresignedUrl {
        url: p.uri().to_owned(),
        method: p.method().to_owned(),
        headers: p.headers().map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned())).collect(),
        expires_at,
    }
}

/// `attachment` with an ASCII fallback name and the exact name in RFC 5987 form,
/// so browsers save the file under the name the member uploaded.
pub(crate) fn content_disposition(filename: &str) -> String {
    let ascii: String =
        filename.chars().map(|c| if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' { c } else { '_' }).collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", utf8_percent_encode(filename, FILENAME))
}

fn sdk_error<E, R>(operation: &str, e: SdkError<E, R>) -> BlobError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    tracing::error!(operation, error = %DisplayErrorContext(&e), "S3 call failed");
    BlobError::Unavailable(format!("S3 {operation}: {}", e.code().or(e.message()).unwrap_or("request failed")))
}
