//! The resources library: guides, tools, templates, slides, videos, datasets and
//! links, shared by members and moderated by the same mechanism as case studies
//! ([`crate::moderation`]). A resource is a checked file (declared with
//! `POST /resources/{id}/file`, uploaded under a presigned URL and checked like
//! a case study's attachment) or an external `https` link.

mod store;
mod views;

pub(crate) use store::LoadedResource;
pub use views::{ResourceList, ResourceListRequest, ResourceSummary, ResourceView};

use qnet_domain::attachment::{AttachmentStatus, NewAttachment};
use qnet_domain::case_study::{Status, SubmittedBy};
use qnet_domain::resource::{NewResource, Resource, ResourceKind, ResourcePatch};
use qnet_domain::topics;
use qnet_ports::{Condition, Index, Item, PresignedUrl, Query, Write};

use crate::idempotency::{Created, Creation, IdempotencyKey};
use crate::moderation::{
    Moderated, check_version, next_version, require_editor, require_moderator, require_own_organisation, unpublish_while_held,
};
use crate::reads::ReadKind;
use crate::resources::store::{DOWNLOADS, change_writes, resource_item};
use crate::resources::views::named;
use crate::uploads::{DOWNLOAD_URL_TTL, UploadOwner};
use crate::{App, AppError, AppResult, Claims, decode, keys};

pub const SUMMARY_CHARS: usize = 280;

use crate::listing::{page_limit, parse_cursor};

impl App {
    /// Holds a resource for moderation (its file failed the attachment check).
    pub(crate) async fn hold_resource(&self, id: &str, why: &str) -> AppResult<()> {
        self.hold_item::<LoadedResource>(id, why).await
    }

    pub async fn get_resource(&self, viewer: Option<&Claims>, id: &str) -> AppResult<ResourceView> {
        let r: LoadedResource = self.visible(viewer, id).await?;
        if r.resource.status == Status::Published {
            let author: Vec<&str> = r.resource.submitted_by.member_id.as_deref().into_iter().collect();
            self.count_read(ReadKind::Resource, &r.resource.id, viewer.map(|c| c.sub.as_str()), &author).await;
        }
        self.view_resource(viewer, r).await
    }

    async fn known_organisation(&self, id: &str) -> AppResult<()> {
        if self.organisation(id).await?.is_some() {
            Ok(())
        } else {
            Err(AppError::invalid("organisation_id", "is not a known organisation"))
        }
    }

    pub async fn create_resource(
        &self,
        claims: &Claims,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<Creation> {
        let parsed = NewResource::parse(body);
        let member = self.member(claims).await?;
        let input = parsed?;
        if let Some(o) = &input.organisation_id {
            require_own_organisation(claims, member.organisation_id.as_deref(), None, o)?;
        }
        let organisation_id = match input.organisation_id.or(member.organisation_id.clone()) {
            Some(o) => {
                self.known_organisation(&o).await?;
                o
            }
            None => {
                return Err(AppError::invalid(
                    "organisation_id",
                    "is required: your profile has no organisation yet (set it with PATCH /me)",
                ));
            }
        };
        let now = self.now_text();
        let mut r = Resource {
            id: self.new_id(),
            title: input.title,
            description: input.description,
            kind: input.kind,
            topics: input.topics,
            organisation_id,
            url: input.url,
            file_id: None,
            status: Status::Pending,
            rejection_reason: None,
            hold: None,
            submitted_by: SubmittedBy {
                member_id: Some(member.id),
                name: Some(member.name),
                email: Some(member.email),
                job_title: None,
            },
            created_at: now.clone(),
            updated_at: now,
            published_at: None,
            version: 1,
        };
        r.apply_guard();
        let view = self.view_resource(Some(claims), LoadedResource { resource: r.clone(), file: None }).await?;
        let response = Created::new(r.id.clone(), &view);
        let (dpk, dsk) = keys::resource_downloads(&r.id);
        let mut writes = vec![
            Write::Put { item: resource_item(&r), condition: Condition::NotExists },
            Write::Put { item: Item::new(dpk, dsk, serde_json::json!({ DOWNLOADS: 0 })), condition: Condition::NotExists },
        ];
        if let Some(k) = idem {
            let (pk, sk) = keys::resource_idempotency_ref(&r.id);
            writes.push(Write::Put {
                item: Item::new(pk, sk, serde_json::json!({"pk": k.pk, "sk": k.sk})),
                condition: Condition::NotExists,
            });
        }
        self.commit(writes, response, idem).await
    }

    pub async fn update_resource(
        &self,
        claims: &Claims,
        id: &str,
        body: &serde_json::Value,
        if_match: Option<u64>,
    ) -> AppResult<ResourceView> {
        let old: LoadedResource = self.visible(Some(claims), id).await?;
        require_editor(&old, claims)?;
        check_version(old.resource.version, if_match, true)?;
        let patch = ResourcePatch::parse(body)?;
        if let Some(o) = &patch.organisation_id {
            self.known_organisation(o).await?;
            let own = if claims.is_moderator() { None } else { self.member(claims).await?.organisation_id };
            require_own_organisation(claims, own.as_deref(), Some(&old.resource.organisation_id), o)?;
        }
        if let Some(Some(_)) = &patch.url
            && old.resource.file_id.is_some()
        {
            return Err(AppError::invalid("url", "this resource is a file: it cannot also link elsewhere"));
        }
        let mut new = next_version(&old, &self.now_text());
        patch.apply(&mut new.resource);
        if new.resource.kind == ResourceKind::Link && new.resource.url.is_none() {
            return Err(AppError::invalid("url", "is required for a link"));
        }
        if new.resource.url.is_none() && new.resource.file_id.is_none() && new.resource.status == Status::Published {
            return Err(AppError::invalid("url", "a published resource needs its link until a file replaces it"));
        }
        new.resource.apply_guard();
        unpublish_while_held(&mut new);
        let keep_history = old.resource.hold.is_none() && new.resource.hold.is_none();
        LoadedResource::save(self, &old, &new, keep_history).await?;
        self.view_resource(Some(claims), new).await
    }

    pub async fn publish_resource(&self, claims: &Claims, id: &str, if_match: Option<u64>) -> AppResult<ResourceView> {
        let new = self.publish_item::<LoadedResource>(claims, id, if_match).await?;
        self.view_resource(Some(claims), new).await
    }

    pub async fn reject_resource(
        &self,
        claims: &Claims,
        id: &str,
        body: &serde_json::Value,
        if_match: Option<u64>,
    ) -> AppResult<ResourceView> {
        let new = self.reject_item::<LoadedResource>(claims, id, body, if_match).await?;
        self.view_resource(Some(claims), new).await
    }

    pub async fn release_resource_hold(&self, claims: &Claims, id: &str, if_match: Option<u64>) -> AppResult<ResourceView> {
        let new = self.release_item_hold::<LoadedResource>(claims, id, if_match).await?;
        self.view_resource(Some(claims), new).await
    }

    /// Declares the resource's file (replacing any earlier one) and answers the
    /// presigned upload; the file is served once the check has passed it.
    pub async fn create_resource_file(
        &self,
        claims: &Claims,
        id: &str,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<Creation> {
        let old: LoadedResource = self.visible(Some(claims), id).await?;
        require_editor(&old, claims)?;
        let input = NewAttachment::parse(body)?;
        if old.resource.url.is_some() {
            return Err(AppError::Conflict(
                "this resource links to a url; remove the url (PATCH with \"url\": null) before adding a file".into(),
            ));
        }
        if old.resource.status == Status::Published && old.file.as_ref().is_some_and(|f| f.status == AttachmentStatus::Ready) {
            return Err(AppError::Conflict(
                "this resource is published with a checked file; a moderator can replace it after unpublishing".into(),
            ));
        }
        let owner = UploadOwner::Resource(old.resource.id.clone());
        let (created, file_write) = self.declare_upload(&owner, input).await?;
        let mut new = next_version(&old, &self.now_text());
        new.resource.file_id = Some(created.attachment.id.clone());
        let mut writes = change_writes(&old.resource, &new.resource, false);
        writes.push(file_write);
        self.commit(writes, Created::new(created.attachment.id.clone(), &created), idem).await
    }

    /// Where `GET /resources/{id}/download` sends the reader: a short-lived URL
    /// for the checked file, or the link. Counts the download.
    pub async fn resource_download(&self, viewer: Option<&Claims>, id: &str) -> AppResult<String> {
        let r: LoadedResource = self.visible(viewer, id).await?;
        let target = match (&r.resource.url, &r.file) {
            (Some(url), _) => url.clone(),
            (None, Some(f)) if f.status == AttachmentStatus::Ready => {
                let owner = UploadOwner::Resource(r.resource.id.clone());
                let PresignedUrl { url, .. } =
                    self.blobs.presign_get(&owner.ready_blob(&f.id), &f.filename, DOWNLOAD_URL_TTL).await?;
                url
            }
            _ => return Err(AppError::NotFound("file")),
        };
        // Counted only for published resources: a moderator's check is not a download.
        if r.resource.status == Status::Published {
            self.count_download(id).await?;
        }
        Ok(target)
    }

    /// Published resources, newest first, by topic, kind and organisation.
    pub async fn list_resources(&self, req: &ResourceListRequest) -> AppResult<ResourceList> {
        let limit = page_limit(req.limit)?;
        let mut errors = qnet_domain::FieldErrors::new();
        if let Some(t) = &req.topic
            && !topics::is_known(t)
        {
            errors.push("topic", "is not a known topic (see GET /topics)");
        }
        if let Some(k) = &req.kind
            && ResourceKind::parse(k).is_none()
        {
            errors.push("kind", format!("must be one of {}", ResourceKind::NAMES.join(", ")));
        }
        if let Some(o) = &req.organisation
            && self.organisation(o).await?.is_none()
        {
            errors.push("organisation", "is not a known organisation");
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let cursor = parse_cursor(req.cursor.as_deref(), None)?;
        let partition = keys::resource_list(req.topic.as_deref(), req.kind.as_deref(), req.organisation.as_deref());
        let page = self.records.query(Query::new(Index::Primary, partition).descending().limit(limit).after(cursor)).await?;
        let names = self.organisation_names().await?;
        let items =
            page.items.iter().map(|i| decode::<ResourceSummary>(i).map(|s| named(s, &names))).collect::<AppResult<_>>()?;
        Ok(ResourceList { items, next_cursor: page.next.map(|c| c.encode()) })
    }

    /// Pending resources, oldest first (moderator).
    pub async fn resource_queue(&self, claims: &Claims, limit: u32, cursor: Option<&str>) -> AppResult<ResourceList> {
        require_moderator(claims)?;
        let limit = page_limit(limit)?;
        let cursor = parse_cursor(cursor, None)?;
        let q = Query::new(Index::Gsi1, keys::RESOURCE_QUEUE).limit(limit).after(cursor);
        let page = self.records.query(q).await?;
        let names = self.organisation_names().await?;
        let items = page
            .items
            .iter()
            .map(|i| decode::<Resource>(i).map(|r| named(ResourceSummary::new(&r), &names)))
            .collect::<AppResult<_>>()?;
        Ok(ResourceList { items, next_cursor: page.next.map(|c| c.encode()) })
    }
}

/// Erasure: the member's resources stay, anonymous; earlier versions, which
/// carry their name, are purged.
pub(crate) async fn erase(app: &App, member_id: &str) -> AppResult<()> {
    loop {
        let page = app.records.query(Query::new(Index::Gsi2, keys::members_resources(member_id)).limit(25)).await?;
        if page.items.is_empty() {
            return Ok(());
        }
        for item in page.items {
            let r: Resource = decode(&item)?;
            app.purge_resource_versions(&r.id).await?;
            app.change_item_with_retry::<LoadedResource>(&r.id, |l| {
                let anonymous = SubmittedBy { member_id: None, name: None, email: None, job_title: None };
                if l.resource.submitted_by == anonymous {
                    return false;
                }
                l.resource.submitted_by = anonymous;
                true
            })
            .await?;
        }
    }
}
