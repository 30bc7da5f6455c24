//! Attachments: declared, uploaded straight to the blob store under a presigned
//! URL that pins size, type and hash, then checked by content before anyone can
//! download them.

pub mod text;

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use qnet_domain::attachment::{Attachment, AttachmentStatus, MAX_BYTES, NewAttachment, refused_content};
use qnet_domain::patient_data;
use qnet_ports::{Condition, Item, PresignedUrl, UploadSpec, Write};
use sha2::{Digest, Sha256};

use crate::idempotency::{Created, Creation, IdempotencyKey};
use crate::moderation::require_editor;
use crate::views::AttachmentCreated;
use crate::{App, AppError, AppResult, Claims, decode, encode, keys};
use text::{PDF_TIME_LIMIT, UploadText};

pub const UPLOAD_URL_TTL: Duration = Duration::from_secs(15 * 60);
pub const DOWNLOAD_URL_TTL: Duration = Duration::from_secs(5 * 60);
pub const MAX_ATTACHMENTS: usize = 20;

/// What the check made of one uploaded object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    Ready,
    Rejected(String),
    /// Kept, but its case study or resource is held: the file could not be read
    /// within the bounds, so a moderator must check it.
    Held(String),
    /// Not an upload we know of, or already checked (a retried event).
    Ignored(&'static str),
}

/// What an uploaded file belongs to: a case study's attachment or a resource's
/// file. Both go through the same declaration, presigned upload and check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UploadOwner {
    CaseStudy(String),
    Resource(String),
}

impl UploadOwner {
    /// The owner and file id an upload's blob key names.
    fn from_upload_key(key: &str) -> Option<(UploadOwner, String)> {
        let parts: Vec<&str> = key.split('/').collect();
        match parts.as_slice() {
            ["uploads", "resources", r, f] => Some((UploadOwner::Resource(r.to_string()), f.to_string())),
            ["uploads", cs, a] if *cs != "resources" => Some((UploadOwner::CaseStudy(cs.to_string()), a.to_string())),
            _ => None,
        }
    }
    fn record_key(&self, file_id: &str) -> (String, String) {
        match self {
            UploadOwner::CaseStudy(id) => keys::attachment(id, file_id),
            UploadOwner::Resource(id) => keys::resource_file(id, file_id),
        }
    }
    fn upload_blob(&self, file_id: &str) -> String {
        match self {
            UploadOwner::CaseStudy(id) => keys::upload_blob(id, file_id),
            UploadOwner::Resource(id) => keys::resource_upload_blob(id, file_id),
        }
    }
    pub(crate) fn ready_blob(&self, file_id: &str) -> String {
        match self {
            UploadOwner::CaseStudy(id) => keys::attachment_blob(id, file_id),
            UploadOwner::Resource(id) => keys::resource_file_blob(id, file_id),
        }
    }
}

fn attachment_item(owner: &UploadOwner, a: &Attachment, version: u64) -> Item {
    let (pk, sk) = owner.record_key(&a.id);
    Item::new(pk, sk, encode(a)).with_version(version)
}

/// Media types the check can confirm by content; a declared type among these must
/// match what the bytes are.
const SNIFFABLE: &[&str] = &["image/", "application/pdf", "video/", "audio/"];

fn content_mismatch(declared: &str, bytes: &[u8]) -> Option<String> {
    let declared = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let detected = infer::get(bytes)?.mime_type();
    let sniffable = |t: &str| SNIFFABLE.iter().any(|p| t.starts_with(p));
    (sniffable(&declared) && sniffable(detected) && declared != detected)
        .then(|| format!("the file was declared as {declared} but its content is {detected}"))
}

impl App {
    async fn hold_owner(&self, owner: &UploadOwner, why: &str) -> AppResult<()> {
        match owner {
            UploadOwner::CaseStudy(id) => self.hold_item::<qnet_domain::case_study::CaseStudy>(id, why).await,
            UploadOwner::Resource(id) => self.hold_resource(id, why).await,
        }
    }

    pub async fn create_attachment(
        &self,
        claims: &Claims,
        case_study_id: &str,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<Creation> {
        let cs = self.visible_case_study(Some(claims), case_study_id).await?;
        require_editor(&cs, claims)?;
        let input = NewAttachment::parse(body)?;
        if cs.attachments.len() >= MAX_ATTACHMENTS {
            return Err(AppError::Conflict(format!("a case study can have at most {MAX_ATTACHMENTS} attachments")));
        }
        let owner = UploadOwner::CaseStudy(cs.id.clone());
        let (created, write) = self.declare_upload(&owner, input).await?;
        self.commit(vec![write], Created::new(created.attachment.id.clone(), &created), idem).await
    }

    /// A new pending file for `owner`: its record's write and the presigned URL
    /// that pins its size, type and hash.
    pub(crate) async fn declare_upload(
        &self,
        owner: &UploadOwner,
        input: NewAttachment,
    ) -> AppResult<(AttachmentCreated, Write)> {
        let a = Attachment {
            id: self.new_id(),
            filename: input.filename,
            content_type: input.content_type,
            size: input.size,
            sha256: input.sha256,
            status: AttachmentStatus::Pending,
            rejection_reason: None,
        };
        let sha_bytes = hex::decode(&a.sha256).map_err(|_| AppError::invalid("sha256", "must be hexadecimal"))?;
        let url = self
            .blobs
            .presign_put(&UploadSpec {
                key: owner.upload_blob(&a.id),
                content_type: a.content_type.clone(),
                size: a.size,
                sha256_base64: base64::engine::general_purpose::STANDARD.encode(sha_bytes),
                expires_in: UPLOAD_URL_TTL,
            })
            .await?;
        let write = Write::Put { item: attachment_item(owner, &a, 1), condition: Condition::NotExists };
        let created = AttachmentCreated {
            attachment: a,
            upload_url: url.url,
            upload_headers: url.headers.into_iter().collect::<BTreeMap<_, _>>(),
            expires_at: expires_text(url.expires_at),
        };
        Ok((created, write))
    }

    /// A short-lived download URL for a ready attachment the viewer may see.
    pub async fn attachment_download(
        &self,
        viewer: Option<&Claims>,
        case_study_id: &str,
        attachment_id: &str,
    ) -> AppResult<PresignedUrl> {
        let cs = self.visible_case_study(viewer, case_study_id).await?;
        let a = cs
            .attachments
            .iter()
            .find(|a| a.id == attachment_id && a.status == AttachmentStatus::Ready)
            .ok_or(AppError::NotFound("attachment"))?;
        Ok(self.blobs.presign_get(&keys::attachment_blob(&cs.id, &a.id), &a.filename, DOWNLOAD_URL_TTL).await?)
    }

    /// Checks an uploaded object (the S3 event in AWS; the local upload endpoint in
    /// the runner): size, hash and type by content. Safe to run twice.
    pub async fn check_upload(&self, key: &str) -> AppResult<CheckOutcome> {
        let Some((owner, att_id)) = UploadOwner::from_upload_key(key) else {
            return Ok(CheckOutcome::Ignored("not an attachment upload"));
        };
        let (pk, sk) = owner.record_key(&att_id);
        let Some(item) = self.records.get(&pk, &sk).await? else { return Ok(CheckOutcome::Ignored("no such attachment")) };
        let mut a: Attachment = decode(&item)?;
        if a.status != AttachmentStatus::Pending {
            return Ok(CheckOutcome::Ignored("already checked"));
        }
        let Some(meta) = self.blobs.head(key).await? else { return Ok(CheckOutcome::Ignored("the upload is gone")) };
        let verdict = if meta.size != a.size || meta.size > MAX_BYTES {
            Err(format!("the upload is {} bytes but {} were declared", meta.size, a.size))
        } else {
            let bytes = self.blobs.get(key).await?;
            let sha = hex::encode(Sha256::digest(&bytes));
            if sha != a.sha256 {
                Err("the upload's SHA-256 does not match the declared one".to_string())
            } else if let Some(r) = refused_content(&bytes).or_else(|| content_mismatch(&a.content_type, &bytes)) {
                Err(r)
            } else {
                Ok(bytes)
            }
        };
        let outcome = match verdict {
            Ok(bytes) => match read_upload(a.content_type.clone(), bytes).await {
                UploadText::Text(text) => match patient_data::scan(&[&text]) {
                    Some(reason) => {
                        // Never served (the moderator sees why); its owner is held too.
                        self.hold_owner(&owner, &format!("Attachment {}: {reason}", a.filename)).await?;
                        a.status = AttachmentStatus::Rejected;
                        a.rejection_reason = Some(reason.clone());
                        CheckOutcome::Rejected(reason)
                    }
                    None => {
                        self.blobs.copy(key, &owner.ready_blob(&att_id)).await?;
                        a.status = AttachmentStatus::Ready;
                        CheckOutcome::Ready
                    }
                },
                UploadText::NotRead => {
                    self.blobs.copy(key, &owner.ready_blob(&att_id)).await?;
                    a.status = AttachmentStatus::Ready;
                    CheckOutcome::Ready
                }
                UploadText::Unreadable(why) => {
                    // Kept for the moderator to open, but nobody else sees it until
                    // they release the hold on its owner.
                    self.hold_owner(&owner, &format!("Attachment {}: {why}", a.filename)).await?;
                    self.blobs.copy(key, &owner.ready_blob(&att_id)).await?;
                    a.status = AttachmentStatus::Ready;
                    CheckOutcome::Held(why)
                }
                UploadText::Refused(reason) => {
                    a.status = AttachmentStatus::Rejected;
                    a.rejection_reason = Some(reason.clone());
                    CheckOutcome::Rejected(reason)
                }
            },
            Err(reason) => {
                a.status = AttachmentStatus::Rejected;
                a.rejection_reason = Some(reason.clone());
                CheckOutcome::Rejected(reason)
            }
        };
        match self.records.put(attachment_item(&owner, &a, item.version + 1), Condition::VersionIs(item.version)).await {
            Ok(()) => {}
            Err(e) if e.is_conflict() => return Ok(CheckOutcome::Ignored("checked concurrently")),
            Err(e) => return Err(e.into()),
        }
        self.blobs.delete(key).await?;
        Ok(outcome)
    }
}

/// The text of an upload by what its bytes are, read off the async runtime
/// and within [`PDF_TIME_LIMIT`]; a file not read in time is unreadable (held).
async fn read_upload(declared: String, bytes: Vec<u8>) -> UploadText {
    let read = tokio::task::spawn_blocking(move || text::extract(&declared, &bytes));
    match tokio::time::timeout(PDF_TIME_LIMIT, read).await {
        Ok(Ok(text)) => text,
        Ok(Err(_panicked)) => UploadText::Unreadable("the file could not be read".into()),
        Err(_elapsed) => UploadText::Unreadable(format!(
            "the file could not be read within {} seconds, so it was not checked for patient data; a moderator must check it",
            PDF_TIME_LIMIT.as_secs()
        )),
    }
}

fn expires_text(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix).map(qnet_domain::timestamp).unwrap_or_default()
}
