//! Resources as items: the record with its file, list entries, the download counter.

use crate::listing::{ListEntries, list_entry_writes};
use crate::moderation::{Moderated, ModerationFields, purge_copies};
use crate::resources::views::ResourceSummary;
use crate::{App, AppError, AppResult, encode, keys};
use qnet_domain::attachment::{Attachment, AttachmentStatus};
use qnet_domain::case_study::{Hold, Status};
use qnet_domain::resource::Resource;
use qnet_ports::{Condition, Item, Write};

/// The download counter's field (`data.downloads` of the `DOWNLOADS` item).
pub(crate) const DOWNLOADS: &str = "downloads";

/// A resource with its current file joined in.
#[derive(Debug, Clone)]
pub(crate) struct LoadedResource {
    pub resource: Resource,
    pub file: Option<Attachment>,
}

pub(crate) fn resource_item(r: &Resource) -> Item {
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
pub(crate) fn list_partitions(r: &Resource) -> Vec<String> {
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

fn list_entries(r: &Resource) -> ListEntries {
    ListEntries { partitions: list_partitions(r), sort_key: list_sort_key(r) }
}

pub(crate) fn list_sort_key(r: &Resource) -> String {
    format!("{}#{}", r.published_at.as_deref().unwrap_or_default(), r.id)
}

pub(crate) fn change_writes(old: &Resource, new: &Resource, keep_history: bool) -> Vec<Write> {
    let mut w = vec![Write::Put { item: resource_item(new), condition: Condition::VersionIs(old.version) }];
    if keep_history {
        let (pk, sk) = keys::resource_version(&old.id, old.version);
        w.push(Write::Put { item: Item::new(pk, sk, encode(old)), condition: Condition::None });
    }
    w.extend(list_entry_writes(Some(&list_entries(old)), &list_entries(new), &encode(&ResourceSummary::new(new)), None));
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

impl App {
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

    pub(crate) async fn download_count(&self, id: &str) -> AppResult<u64> {
        let (pk, sk) = keys::resource_downloads(id);
        Ok(self.records.get(&pk, &sk).await?.and_then(|i| i.data[DOWNLOADS].as_u64()).unwrap_or(0))
    }

    /// Adds one to the resource's download counter: one atomic increment in
    /// the store, so concurrent downloads all count.
    pub(crate) async fn count_download(&self, id: &str) -> AppResult<()> {
        let (pk, sk) = keys::resource_downloads(id);
        Ok(self.records.transact(vec![Write::increment(pk, sk, DOWNLOADS, 1)]).await?)
    }

    /// Deletes every earlier version and the stored first answer of the
    /// idempotent create: both may carry text since edited out.
    pub(crate) async fn purge_resource_versions(&self, id: &str) -> AppResult<()> {
        let (pk, _) = keys::resource(id);
        purge_copies(self, &pk, keys::RESOURCE_VERSION_PREFIX, keys::resource_idempotency_ref(id)).await
    }
}
