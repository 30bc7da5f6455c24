//! The resources library: guides, tools, templates, slides, videos, datasets and
//! links, shared by members and moderated by the same mechanism as case studies
//! ([`crate::moderation`]). A resource is a checked file (declared with
//! `POST /resources/{id}/file`, uploaded under a presigned URL and checked like
//! a case study's attachment) or an external `https` link.

use std::collections::HashMap;

use qnet_domain::attachment::{Attachment, AttachmentStatus, NewAttachment};
use qnet_domain::case_study::{Hold, Status, SubmittedBy};
use qnet_domain::resource::{NewResource, Resource, ResourceKind, ResourcePatch};
use qnet_domain::text::excerpt;
use qnet_domain::topics;
use qnet_ports::{Condition, Cursor, Index, Item, PresignedUrl, Query, Write};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::idempotency::{IdempotencyKey, StoredResponse};
use crate::moderation::{
    Moderated, ModerationFields, check_version, list_entry_writes, next_version, purge_copies, require_editor, require_moderator,
    require_own_organisation, unpublish_while_held,
};
use crate::uploads::{DOWNLOAD_URL_TTL, UploadOwner};
use crate::views::SubmittedByView;
use crate::{App, AppError, AppResult, Claims, decode, encode, keys};

pub const SUMMARY_CHARS: usize = 280;
/// The download counter's field (`data.downloads` of the `DOWNLOADS` item).
const DOWNLOADS: &str = "downloads";

/// A resource as the API answers it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResourceView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub kind: ResourceKind,
    pub topics: Vec<String>,
    pub organisation_id: String,
    pub organisation_name: Option<String>,
    /// The external link, for a link resource.
    pub url: Option<String>,
    /// The file, for a file resource: shown to everyone once checked (`ready`);
    /// to the submitter and moderators before.
    pub file: Option<Attachment>,
    pub status: Status,
    pub rejection_reason: Option<String>,
    pub hold: Option<Hold>,
    pub submitted_by: SubmittedByView,
    /// How many times `GET /resources/{id}/download` has been followed.
    pub download_count: u64,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
    pub version: u64,
}

/// One entry of a resource list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResourceSummary {
    pub id: String,
    pub title: String,
    /// The start of the description.
    pub summary: String,
    pub kind: ResourceKind,
    pub topics: Vec<String>,
    pub organisation_id: String,
    #[serde(default)]
    pub organisation_name: Option<String>,
    /// `file` or `link`.
    pub format: String,
    pub status: Status,
    pub published_at: Option<String>,
}

impl ResourceSummary {
    fn new(r: &Resource) -> ResourceSummary {
        ResourceSummary {
            id: r.id.clone(),
            title: r.title.clone(),
            summary: excerpt(&r.description, SUMMARY_CHARS),
            kind: r.kind,
            topics: r.topics.clone(),
            organisation_id: r.organisation_id.clone(),
            organisation_name: None,
            format: if r.url.is_some() { "link" } else { "file" }.into(),
            status: r.status,
            published_at: r.published_at.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResourceList {
    pub items: Vec<ResourceSummary>,
    pub next_cursor: Option<String>,
}

/// Which published resources to list.
#[derive(Debug, Clone, Default)]
pub struct ResourceListRequest {
    pub topic: Option<String>,
    pub kind: Option<String>,
    pub organisation: Option<String>,
    pub limit: u32,
    pub cursor: Option<String>,
}

/// A resource with its current file joined in.
#[derive(Debug, Clone)]
pub(crate) struct LoadedResource {
    pub resource: Resource,
    pub file: Option<Attachment>,
}

fn resource_item(r: &Resource) -> Item {
    let (pk, sk) = keys::resource(&r.id);
    let order = format!("{}#{}", r.created_at, r.id);
    let mut item = Item::new(pk, sk, encode(r)).with_version(r.version);
    if r.status == Status::Pending {
        item = item.with_gsi1(keys::RESOURCE_QUEUE, order.clone());
    }
    if let Some(m) = &r.submitted_by.member_id {
        item = item.with_gsi2(keys::members_resources(m), order);
    }
    item
}

/// Every published list the resource appears in: each combination of "any" or
/// one of its topics, "any" or its kind, "any" or its organisation.
fn list_partitions(r: &Resource) -> Vec<String> {
    if r.status != Status::Published {
        return vec![];
    }
    let topic_opts: Vec<Option<&str>> = std::iter::once(None).chain(r.topics.iter().map(|t| Some(t.as_str()))).collect();
    let mut v = Vec::new();
    for t in &topic_opts {
        for k in [None, Some(r.kind.as_str())] {
            for o in [None, Some(r.organisation_id.as_str())] {
                v.push(keys::resource_list(*t, k, o));
            }
        }
    }
    v
}

fn list_sort_key(r: &Resource) -> String {
    format!("{}#{}", r.published_at.as_deref().unwrap_or_default(), r.id)
}

fn change_writes(old: &Resource, new: &Resource, keep_history: bool) -> Vec<Write> {
    let mut w = vec![Write::Put { item: resource_item(new), condition: Condition::VersionIs(old.version) }];
    if keep_history {
        let (pk, sk) = keys::resource_version(&old.id, old.version);
        w.push(Write::Put { item: Item::new(pk, sk, encode(old)), condition: Condition::None });
    }
    w.extend(list_entry_writes(
        &list_partitions(old),
        &list_sort_key(old),
        &list_partitions(new),
        &list_sort_key(new),
        &encode(&ResourceSummary::new(new)),
    ));
    w
}

impl Moderated for LoadedResource {
    const NOUN: &'static str = "resource";
    const NOUNS: &'static str = "resources";

    fn status(&self) -> Status {
        self.resource.status
    }
    fn hold(&self) -> Option<&Hold> {
        self.resource.hold.as_ref()
    }
    fn version(&self) -> u64 {
        self.resource.version
    }
    fn submitter(&self) -> Option<&str> {
        self.resource.submitted_by.member_id.as_deref()
    }
    fn fields(&mut self) -> ModerationFields<'_> {
        let r = &mut self.resource;
        ModerationFields {
            status: &mut r.status,
            rejection_reason: &mut r.rejection_reason,
            hold: &mut r.hold,
            published_at: &mut r.published_at,
            version: &mut r.version,
            updated_at: &mut r.updated_at,
        }
    }
    fn unready(&self) -> Option<String> {
        if self.resource.url.is_some() {
            return None;
        }
        match &self.file {
            None => Some("this resource has neither a file nor a url yet: add one before publishing it".into()),
            Some(f) if f.status == AttachmentStatus::Ready => None,
            Some(f) if f.status == AttachmentStatus::Pending => {
                Some("this resource's file has not been uploaded and checked yet".into())
            }
            Some(_) => Some("this resource's file was refused by the check: add another before publishing it".into()),
        }
    }
    async fn load(app: &App, id: &str) -> AppResult<Option<LoadedResource>> {
        app.load_resource(id).await
    }
    async fn save(app: &App, old: &LoadedResource, new: &LoadedResource, keep_history: bool) -> AppResult<()> {
        match app.records.transact(change_writes(&old.resource, &new.resource, keep_history)).await {
            Ok(()) => {
                app.index_resource(&new.resource);
                Ok(())
            }
            Err(e) if e.is_conflict() => Err(AppError::VersionMismatch { current: old.resource.version + 1 }),
            Err(e) => Err(e.into()),
        }
    }
    async fn purge_history(app: &App, id: &str) -> AppResult<()> {
        app.purge_resource_versions(id).await
    }
}

fn page_limit(limit: u32) -> AppResult<u32> {
    if (1..=100).contains(&limit) { Ok(limit) } else { Err(AppError::invalid("limit", "must be from 1 to 100")) }
}

fn parse_cursor(c: Option<&str>) -> AppResult<Option<Cursor>> {
    c.map(|c| Cursor::decode(c).map_err(|_| AppError::BadCursor)).transpose()
}

impl App {
    /// Holds a resource for moderation (its file failed the attachment check).
    pub(crate) async fn hold_resource(&self, id: &str, why: &str) -> AppResult<()> {
        self.hold_item::<LoadedResource>(id, why).await
    }

    pub(crate) async fn load_resource(&self, id: &str) -> AppResult<Option<LoadedResource>> {
        if ulid::Ulid::from_string(id).is_err() {
            return Ok(None);
        }
        let Some((resource, _)) = self.get_record::<Resource>(keys::resource(id)).await? else { return Ok(None) };
        let file = match &resource.file_id {
            Some(f) => self.get_record::<Attachment>(keys::resource_file(id, f)).await?.map(|(a, _)| a),
            None => None,
        };
        Ok(Some(LoadedResource { resource, file }))
    }

    async fn download_count(&self, id: &str) -> AppResult<u64> {
        let (pk, sk) = keys::resource_downloads(id);
        Ok(self.records.get(&pk, &sk).await?.and_then(|i| i.data[DOWNLOADS].as_u64()).unwrap_or(0))
    }

    async fn view_resource(&self, viewer: Option<&Claims>, r: LoadedResource) -> AppResult<ResourceView> {
        let names = self.organisation_names().await?;
        let downloads = self.download_count(&r.resource.id).await?;
        Ok(resource_view(r, viewer, &names, downloads))
    }

    pub async fn get_resource(&self, viewer: Option<&Claims>, id: &str) -> AppResult<ResourceView> {
        let r: LoadedResource = self.visible(viewer, id).await?;
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
    ) -> AppResult<StoredResponse> {
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
            submitted_by: SubmittedBy { member_id: Some(member.id), name: Some(member.name), email: Some(member.email) },
            created_at: now.clone(),
            updated_at: now,
            published_at: None,
            version: 1,
        };
        r.apply_guard();
        let view = self.view_resource(Some(claims), LoadedResource { resource: r.clone(), file: None }).await?;
        let response = StoredResponse::created(format!("/resources/{}", r.id), encode(&view));
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
    ) -> AppResult<StoredResponse> {
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
        let location = format!("/resources/{}/file", old.resource.id);
        self.commit(writes, StoredResponse::created(location, encode(&created)), idem).await
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

    /// Adds one to the resource's download counter: one atomic increment in
    /// the store, so concurrent downloads all count.
    async fn count_download(&self, id: &str) -> AppResult<()> {
        let (pk, sk) = keys::resource_downloads(id);
        Ok(self.records.transact(vec![Write::increment(pk, sk, DOWNLOADS, 1)]).await?)
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
        let cursor = parse_cursor(req.cursor.as_deref())?;
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
        let cursor = parse_cursor(cursor)?;
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

    /// Deletes every earlier version and the stored first answer of the
    /// idempotent create: both may carry text since edited out.
    async fn purge_resource_versions(&self, id: &str) -> AppResult<()> {
        let (pk, _) = keys::resource(id);
        purge_copies(self, &pk, keys::RESOURCE_VERSION_PREFIX, keys::resource_idempotency_ref(id)).await
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
                let anonymous = SubmittedBy { member_id: None, name: None, email: None };
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

fn named(mut s: ResourceSummary, names: &HashMap<String, String>) -> ResourceSummary {
    s.organisation_name = names.get(&s.organisation_id).cloned();
    s
}

fn resource_view(l: LoadedResource, viewer: Option<&Claims>, names: &HashMap<String, String>, downloads: u64) -> ResourceView {
    let r = l.resource;
    let privileged = viewer.is_some_and(|c| c.is_moderator() || r.submitted_by.member_id.as_deref() == Some(&c.sub));
    ResourceView {
        organisation_name: names.get(&r.organisation_id).cloned(),
        file: l.file.filter(|f| privileged || f.status == AttachmentStatus::Ready),
        id: r.id,
        title: r.title,
        description: r.description,
        kind: r.kind,
        topics: r.topics,
        organisation_id: r.organisation_id,
        url: r.url,
        status: r.status,
        rejection_reason: if privileged { r.rejection_reason } else { None },
        hold: if privileged { r.hold } else { None },
        submitted_by: SubmittedByView {
            member_id: r.submitted_by.member_id,
            name: r.submitted_by.name,
            email: if privileged { r.submitted_by.email } else { None },
        },
        download_count: downloads,
        created_at: r.created_at,
        updated_at: r.updated_at,
        published_at: r.published_at,
        version: r.version,
    }
}
