//! The blob store on files under `<data_dir>/blobs/`, with presigned URLs that
//! behave like S3's: an upload URL names the exact content type, length and
//! SHA-256, and the local runner's dev route refuses any other bytes.
//!
//! The HTTP side lives in the local runner's router; this module gives it two
//! plain functions ([`EmbeddedBlobStore::accept_upload`],
//! [`EmbeddedBlobStore::open_download`]) so the checks are tested here once.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use http::StatusCode;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use qnet_ports::{BlobError, BlobMeta, BlobStore, Clock, PresignedUrl, SystemClock, UploadSpec};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Query values are encoded except for RFC 3986 unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Separates a blob's file from its sidecar and temp files; never valid in a key,
/// so no key can name one of them.
const MARK: char = '~';
const MAX_KEY_LEN: usize = 512;
/// Domain separation: the same secret also signs session tokens.
const SIGNING_CONTEXT: &str = "qnet-blob-url-v1";

/// File-backed [`BlobStore`] for the local runner.
#[derive(Clone)]
pub struct EmbeddedBlobStore {
    root: PathBuf,
    secret: Arc<[u8; 32]>,
    base_url: String,
    clock: Arc<dyn Clock>,
}

/// Content type kept beside each blob, as S3 keeps it as object metadata.
#[derive(Serialize, Deserialize)]
struct Sidecar {
    content_type: String,
}

/// Why an upload through a presigned URL was refused; `status` is what S3 would
/// answer (403 for a bad or expired signature, 400 for bytes that differ).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {reason}")]
pub struct UploadRefusal {
    pub status: StatusCode,
    pub reason: String,
}

/// Why a download through a presigned URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {reason}")]
pub struct DownloadRefusal {
    pub status: StatusCode,
    pub reason: String,
}

/// A blob released by a valid download URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub bytes: Vec<u8>,
    pub content_type: String,
    /// The file name the URL was signed for (not the key).
    pub filename: String,
}

impl Download {
    /// A `Content-Disposition` value that makes browsers save the file under its
    /// name: an ASCII fallback plus the RFC 5987 form for any other characters.
    pub fn content_disposition(&self) -> String {
        let ascii: String = self
            .filename
            .chars()
            .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
            .collect();
        let encoded = utf8_percent_encode(&self.filename, QUERY_VALUE);
        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
    }
}

fn refuse<T>(status: StatusCode, reason: impl Into<String>) -> Result<T, (StatusCode, String)> {
    Err((status, reason.into()))
}

impl EmbeddedBlobStore {
    /// `base_url` is where the local runner listens (e.g. `http://127.0.0.1:8080`);
    /// presigned URLs point at its `/_local/blobs/` route.
    pub fn open(data_dir: &Path, secret: [u8; 32], base_url: String) -> io::Result<Self> {
        let root = data_dir.join("blobs");
        fs::create_dir_all(&root)?;
        Ok(EmbeddedBlobStore {
            root,
            secret: Arc::new(secret),
            base_url: base_url.trim_end_matches('/').to_owned(),
            clock: Arc::new(SystemClock),
        })
    }

    /// Judges URL expiry by `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn now(&self) -> i64 {
        crate::unix_now(self.clock.as_ref())
    }

    /// Checks an upload sent to a URL from [`BlobStore::presign_put`] and stores it.
    ///
    /// `query` is the raw query string (without `?`). Like S3, it refuses a bad
    /// or expired signature (403), headers that differ from the signed ones, and
    /// a body whose length or SHA-256 differs from what was signed (400). Blocks
    /// on file I/O: call it from a blocking context.
    pub fn accept_upload(&self, key: &str, query: &str, headers: &http::HeaderMap, body: &[u8]) -> Result<(), UploadRefusal> {
        self.check_upload(key, query, headers, body).map_err(|(status, reason)| UploadRefusal { status, reason })
    }

    fn check_upload(&self, key: &str, query: &str, headers: &http::HeaderMap, body: &[u8]) -> Result<(), (StatusCode, String)> {
        let params = parse_query(query)?;
        let field =
            |name: &str| params.get(name).map(String::as_str).ok_or((StatusCode::FORBIDDEN, format!("the URL has no {name}")));
        if field("method")? != "PUT" {
            return refuse(StatusCode::FORBIDDEN, "the URL is not an upload URL");
        }
        let (exp, ct, len, sha) = (field("exp")?, field("ct")?, field("len")?, field("sha256")?);
        let message = signing_message(&["PUT", key, exp, ct, len, sha]);
        self.verify(&message, field("sig")?)?;
        self.check_expiry(exp)?;
        let path = self.path(key).map_err(|e| (StatusCode::BAD_REQUEST, e))?;

        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if header("content-type") != Some(ct) {
            return refuse(StatusCode::BAD_REQUEST, "content-type differs from the signed one");
        }
        if header("content-length").is_some_and(|sent| sent != len) {
            return refuse(StatusCode::BAD_REQUEST, "content-length differs from the signed one");
        }
        if header("x-amz-checksum-sha256") != Some(sha) {
            return refuse(StatusCode::BAD_REQUEST, "x-amz-checksum-sha256 differs from the signed one");
        }
        if body.len().to_string() != len {
            return refuse(StatusCode::BAD_REQUEST, "the body's length differs from the signed one");
        }
        if BASE64.encode(Sha256::digest(body)) != sha {
            return refuse(StatusCode::BAD_REQUEST, "the body's SHA-256 differs from the signed one");
        }
        write_blob(&path, body, ct).map_err(|e| {
            tracing::error!(key, error = %e, "storing an uploaded blob failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "could not store the upload".to_owned())
        })
    }

    /// Checks a URL from [`BlobStore::presign_get`] and reads the blob it names.
    /// Blocks on file I/O.
    pub fn open_download(&self, key: &str, query: &str) -> Result<Download, DownloadRefusal> {
        self.check_download(key, query).map_err(|(status, reason)| DownloadRefusal { status, reason })
    }

    fn check_download(&self, key: &str, query: &str) -> Result<Download, (StatusCode, String)> {
        let params = parse_query(query)?;
        let field =
            |name: &str| params.get(name).map(String::as_str).ok_or((StatusCode::FORBIDDEN, format!("the URL has no {name}")));
        if field("method")? != "GET" {
            return refuse(StatusCode::FORBIDDEN, "the URL is not a download URL");
        }
        let (exp, filename) = (field("exp")?, field("filename")?);
        self.verify(&signing_message(&["GET", key, exp, filename]), field("sig")?)?;
        self.check_expiry(exp)?;
        let path = self.path(key).map_err(|e| (StatusCode::BAD_REQUEST, e))?;
        match read_blob(&path) {
            Ok((bytes, content_type)) => Ok(Download {
                bytes,
                content_type: content_type.unwrap_or_else(|| "application/octet-stream".into()),
                filename: filename.to_owned(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => refuse(StatusCode::NOT_FOUND, "no such blob"),
            Err(e) => {
                tracing::error!(key, error = %e, "reading a blob failed");
                refuse(StatusCode::INTERNAL_SERVER_ERROR, "could not read the blob")
            }
        }
    }

    fn sign(&self, message: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(self.secret.as_slice()).expect("any key length");
        mac.update(message.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn verify(&self, message: &str, sig: &str) -> Result<(), (StatusCode, String)> {
        let sig = hex::decode(sig).map_err(|_| (StatusCode::FORBIDDEN, "malformed signature".to_owned()))?;
        let mut mac = HmacSha256::new_from_slice(self.secret.as_slice()).expect("any key length");
        mac.update(message.as_bytes());
        // verify_slice compares in constant time.
        mac.verify_slice(&sig).map_err(|_| (StatusCode::FORBIDDEN, "signature does not match".to_owned()))
    }

    fn check_expiry(&self, exp: &str) -> Result<(), (StatusCode, String)> {
        let exp: i64 = exp.parse().map_err(|_| (StatusCode::FORBIDDEN, "malformed expiry".to_owned()))?;
        if exp <= self.now() {
            return refuse(StatusCode::FORBIDDEN, "the URL has expired");
        }
        Ok(())
    }

    fn expiry(&self, expires_in: Duration) -> i64 {
        self.now() + i64::try_from(expires_in.as_secs().max(1)).unwrap_or(i64::MAX / 2)
    }

    /// The file for `key`, refusing keys that could leave the blob directory or
    /// collide with sidecar and temp files.
    fn path(&self, key: &str) -> Result<PathBuf, String> {
        let ok = !key.is_empty()
            && key.len() <= MAX_KEY_LEN
            && key.split('/').all(|seg| {
                !seg.is_empty()
                    && !seg.starts_with('.')
                    && seg.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            });
        if ok { Ok(self.root.join(key)) } else { Err(format!("refused blob key {key:?}")) }
    }

    fn blob_path(&self, key: &str) -> Result<PathBuf, BlobError> {
        self.path(key).map_err(BlobError::Unavailable)
    }
}

#[async_trait]
impl BlobStore for EmbeddedBlobStore {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        let path = self.blob_path(key)?;
        let content_type = content_type.to_owned();
        blocking(move || write_blob(&path, &bytes, &content_type)).await
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        let path = self.blob_path(key)?;
        blocking(move || read_blob(&path).map(|(bytes, _)| bytes)).await
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        let path = self.blob_path(key)?;
        let found = blocking(move || {
            let size = fs::metadata(&path)?.len();
            Ok(BlobMeta { size, content_type: read_sidecar(&path)? })
        })
        .await;
        match found {
            Ok(meta) => Ok(Some(meta)),
            Err(BlobError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), BlobError> {
        let (from, to) = (self.blob_path(from)?, self.blob_path(to)?);
        blocking(move || {
            let (bytes, content_type) = read_blob(&from)?;
            write_blob(&to, &bytes, content_type.as_deref().unwrap_or("application/octet-stream"))
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = self.blob_path(key)?;
        // Deleting a missing blob succeeds, as on S3.
        blocking(move || {
            for p in [path.clone(), sidecar_path(&path)] {
                match fs::remove_file(&p) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            Ok(())
        })
        .await
    }

    async fn presign_put(&self, spec: &UploadSpec) -> Result<PresignedUrl, BlobError> {
        self.blob_path(&spec.key)?;
        let exp = self.expiry(spec.expires_in).to_string();
        let len = spec.size.to_string();
        let sig = self.sign(&signing_message(&["PUT", &spec.key, &exp, &spec.content_type, &len, &spec.sha256_base64]));
        let url = format!(
            "{}/_local/blobs/{}?method=PUT&exp={exp}&ct={}&len={len}&sha256={}&sig={sig}",
            self.base_url,
            spec.key,
            enc(&spec.content_type),
            enc(&spec.sha256_base64),
        );
        Ok(PresignedUrl {
            url,
            method: "PUT".into(),
            headers: vec![
                ("content-type".into(), spec.content_type.clone()),
                ("content-length".into(), len),
                ("x-amz-checksum-sha256".into(), spec.sha256_base64.clone()),
            ],
            expires_at: exp.parse().expect("formatted from an i64"),
        })
    }

    fn at_clock(&self, clock: Arc<dyn Clock>) -> Arc<dyn BlobStore> {
        Arc::new(self.clone().with_clock(clock))
    }

    async fn presign_get(&self, key: &str, filename: &str, expires_in: Duration) -> Result<PresignedUrl, BlobError> {
        self.blob_path(key)?;
        let exp = self.expiry(expires_in);
        let sig = self.sign(&signing_message(&["GET", key, &exp.to_string(), filename]));
        Ok(PresignedUrl {
            url: format!("{}/_local/blobs/{key}?method=GET&exp={exp}&filename={}&sig={sig}", self.base_url, enc(filename)),
            method: "GET".into(),
            headers: Vec::new(),
            expires_at: exp,
        })
    }
}

/// Length-prefixed fields, so no choice of values can make two different URLs
/// sign the same message.
fn signing_message(fields: &[&str]) -> String {
    let mut m = String::from(SIGNING_CONTEXT);
    for f in fields {
        m.push_str(&format!("\n{}:{f}", f.len()));
    }
    m
}

fn enc(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

fn parse_query(query: &str) -> Result<HashMap<String, String>, (StatusCode, String)> {
    let mut params = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .map(|v| v.into_owned())
                .map_err(|_| (StatusCode::BAD_REQUEST, "malformed query string".to_owned()))
        };
        if params.insert(decode(name)?, decode(value)?).is_some() {
            return refuse(StatusCode::BAD_REQUEST, "a query parameter appears twice");
        }
    }
    Ok(params)
}

async fn blocking<R: Send + 'static>(f: impl FnOnce() -> io::Result<R> + Send + 'static) -> Result<R, BlobError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) if e.kind() == io::ErrorKind::NotFound => Err(BlobError::NotFound),
        Ok(Err(e)) => Err(BlobError::Unavailable(e.to_string())),
        Err(e) => Err(BlobError::Unavailable(format!("blob task failed: {e}"))),
    }
}

fn sidecar_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().expect("validated keys have a file name").to_owned();
    name.push(format!("{MARK}meta.json"));
    path.with_file_name(name)
}

/// Writes the sidecar, then the blob, each atomically: a reader that sees the
/// blob also sees its content type, and never sees half a file.
fn write_blob(path: &Path, bytes: &[u8], content_type: &str) -> io::Result<()> {
    let sidecar = serde_json::to_vec(&Sidecar { content_type: content_type.to_owned() }).map_err(io::Error::other)?;
    write_atomic(&sidecar_path(path), &sidecar)?;
    write_atomic(path, bytes)
}

fn read_blob(path: &Path) -> io::Result<(Vec<u8>, Option<String>)> {
    let bytes = fs::read(path)?;
    Ok((bytes, read_sidecar(path)?))
}

fn read_sidecar(path: &Path) -> io::Result<Option<String>> {
    match fs::read(sidecar_path(path)) {
        Ok(raw) => Ok(serde_json::from_slice::<Sidecar>(&raw).ok().map(|s| s.content_type)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Temp file, fsync, rename, fsync of the directory: after a crash the file is
/// either the old or the new content, never a torn write.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().expect("blob paths are under the root");
    fs::create_dir_all(dir)?;
    let mut tmp_name = path.file_name().expect("validated keys have a file name").to_owned();
    tmp_name.push(format!("{MARK}tmp-{:016x}", rand::random::<u64>()));
    let tmp = dir.join(tmp_name);
    let written = (|| {
        let mut file = fs::File::create_new(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(name: &str) -> (EmbeddedBlobStore, PathBuf) {
        let dir = std::env::temp_dir().join(format!("qnet-blobs-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        (EmbeddedBlobStore::open(&dir, [7; 32], "http://127.0.0.1:9/".into()).unwrap(), dir)
    }

    #[test]
    fn refuses_keys_that_escape_or_collide() {
        let (s, dir) = store("keys");
        assert!(s.path("uploads/CS1/ATT1").is_ok());
        assert!(s.path("uploads/file.pdf").is_ok());
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a//b", "a/./b", "a/.hidden", "a~meta.json", "a b", "a\\b", "é", "a/"] {
            assert!(s.path(bad).is_err(), "{bad:?} accepted");
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn upload_checks_signature_headers_and_bytes() {
        let (s, dir) = store("upload");
        let body = b"hello, world".to_vec();
        let sha = BASE64.encode(Sha256::digest(&body));
        let spec = UploadSpec {
            key: "uploads/A/B".into(),
            content_type: "text/plain; charset=utf-8".into(),
            size: body.len() as u64,
            sha256_base64: sha.clone(),
            expires_in: Duration::from_secs(60),
        };
        let url = s.presign_put(&spec).await.unwrap();
        assert!(url.url.starts_with("http://127.0.0.1:9/_local/blobs/uploads/A/B?method=PUT&"));
        let query = url.url.split_once('?').unwrap().1;
        let mut headers = http::HeaderMap::new();
        for (k, v) in &url.headers {
            headers.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }

        let tampered = query.replace("method=PUT", "method=PUT&x=1").replace("len=12", "len=13");
        let refusal = s.accept_upload("uploads/A/B", &tampered, &headers, &body).unwrap_err();
        assert_eq!(refusal.status, StatusCode::FORBIDDEN);
        let refusal = s.accept_upload("uploads/A/C", query, &headers, &body).unwrap_err();
        assert_eq!(refusal.status, StatusCode::FORBIDDEN, "a URL is for one key only");
        let refusal = s.accept_upload("uploads/A/B", query, &headers, b"hello, world!").unwrap_err();
        assert_eq!(refusal.status, StatusCode::BAD_REQUEST);
        let refusal = s.accept_upload("uploads/A/B", query, &headers, b"HELLO, WORLD").unwrap_err();
        assert_eq!(refusal.status, StatusCode::BAD_REQUEST);
        let mut wrong_type = headers.clone();
        wrong_type.insert("content-type", "text/html".parse().unwrap());
        let refusal = s.accept_upload("uploads/A/B", query, &wrong_type, &body).unwrap_err();
        assert_eq!(refusal.status, StatusCode::BAD_REQUEST);
        assert_eq!(s.head("uploads/A/B").await.unwrap(), None);

        s.accept_upload("uploads/A/B", query, &headers, &body).unwrap();
        assert_eq!(
            s.head("uploads/A/B").await.unwrap(),
            Some(BlobMeta { size: 12, content_type: Some("text/plain; charset=utf-8".into()) })
        );

        let get = s.presign_get("uploads/A/B", "report “final”.txt", Duration::from_secs(60)).await.unwrap();
        let query = get.url.split_once('?').unwrap().1;
        let download = s.open_download("uploads/A/B", query).unwrap();
        assert_eq!(download.bytes, body);
        assert_eq!(download.filename, "report “final”.txt");
        assert_eq!(
            download.content_disposition(),
            "attachment; filename=\"report _final_.txt\"; filename*=UTF-8''report%20%E2%80%9Cfinal%E2%80%9D.txt"
        );
        let forged = query.replace("filename=", "filename=x");
        assert_eq!(s.open_download("uploads/A/B", &forged).unwrap_err().status, StatusCode::FORBIDDEN);
        fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn expired_urls_are_refused() {
        struct Later(i64);
        impl Clock for Later {
            fn now(&self) -> time::OffsetDateTime {
                time::OffsetDateTime::now_utc() + time::Duration::seconds(self.0)
            }
        }
        let (s, dir) = store("expiry");
        s.put("a/b", b"x".to_vec(), "text/plain").await.unwrap();
        let get = s.presign_get("a/b", "b.txt", Duration::from_secs(60)).await.unwrap();
        let query = get.url.split_once('?').unwrap().1;
        let later = s.clone().with_clock(Arc::new(Later(61)));
        let refusal = later.open_download("a/b", query).unwrap_err();
        assert_eq!((refusal.status, refusal.reason.as_str()), (StatusCode::FORBIDDEN, "the URL has expired"));
        assert!(s.open_download("a/b", query).is_ok());
        fs::remove_dir_all(dir).unwrap();
    }
}
