//! Case studies: submitted by members, checked by moderators, read by everyone.

pub mod highlights;
pub mod outward;
pub(crate) mod page_cache;
pub mod views;

use qnet_domain::attachment::Attachment;
use qnet_domain::case_study::{CaseStudy, CaseStudyPatch, Hold, NewCaseStudy, Source, Status, SubmittedBy, derive_summary};
use qnet_domain::topics;
use qnet_ports::{Condition, Index, Item, Query, Write};

use crate::idempotency::{Created, Creation, IdempotencyKey};
use crate::moderation::{
    Moderated, ModerationFields, check_version, next_version, purge_copies, require_editor, require_own_organisation,
    unpublish_while_held,
};
use crate::reads::ReadKind;
use crate::views::{CaseStudyList, CaseStudySummary, CaseStudyView};
use crate::{App, AppError, AppResult, Claims, decode, decode_raw, encode, keys};

pub const DEFAULT_PAGE: u32 = 20;
pub use crate::listing::MAX_PAGE;
use crate::listing::{ListEntries, list_entry_writes, page_limit, parse_cursor};

/// Which list of case studies to read.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub topic: Option<String>,
    pub organisation_id: Option<String>,
    pub limit: u32,
    pub cursor: Option<String>,
}

pub(crate) fn case_study_item(cs: &CaseStudy) -> Item {
    let (pk, sk) = keys::case_study(&cs.id);
    let mut stored = cs.clone();
    stored.attachments.clear();
    let order = format!("{}#{}", cs.created_at, cs.id);
    let mut item = Item::new(pk, sk, encode(&stored)).with_version(cs.version);
    if cs.status == Status::Pending {
        item = item.with_gsi1(keys::MODERATION_QUEUE, order.clone());
    }
    if let Some(m) = &cs.submitted_by.member_id {
        item = item.with_gsi2(keys::members_case_studies(m), order);
    }
    item
}

/// Where a case study's entries in the published lists are.
fn list_entries(cs: &CaseStudy) -> ListEntries {
    ListEntries { partitions: list_partitions(cs), sort_key: list_sort_key(cs) }
}

/// The published lists a case study appears in, by partition.
fn list_partitions(cs: &CaseStudy) -> Vec<String> {
    if cs.status != Status::Published {
        return vec![];
    }
    let org = cs.organisation_id.as_deref();
    let mut v = vec![keys::published_list(None, None)];
    if org.is_some() {
        v.push(keys::published_list(None, org));
    }
    for t in &cs.topics {
        v.push(keys::published_list(Some(t), None));
        if org.is_some() {
            v.push(keys::published_list(Some(t), org));
        }
    }
    v
}

fn list_sort_key(cs: &CaseStudy) -> String {
    format!("{}#{}", cs.published_at.as_deref().unwrap_or_default(), cs.id)
}

/// The writes that move a case study from `old` to `new`: the record itself
/// (guarded by its version), the earlier version kept as history when
/// `keep_history`, and its entries in the published lists.
pub(crate) fn change_writes(old: &CaseStudy, new: &CaseStudy, keep_history: bool) -> Vec<Write> {
    let mut w = vec![Write::Put { item: case_study_item(new), condition: Condition::VersionIs(old.version) }];
    if keep_history {
        let (pk, sk) = keys::case_study_version(&old.id, old.version);
        let mut o = old.clone();
        o.attachments.clear();
        w.push(Write::Put { item: Item::new(pk, sk, encode(&o)), condition: Condition::None });
    }
    w.extend(list_entry_writes(Some(&list_entries(old)), &list_entries(new), &encode(&CaseStudySummary::public(new)), None));
    w
}

impl Moderated for CaseStudy {
    const NOUN: &'static str = "case study";
    const NOUNS: &'static str = "case studies";

    fn status(&self) -> Status {
        self.status
    }
    fn hold(&self) -> Option<&Hold> {
        self.hold.as_ref()
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn submitter(&self) -> Option<&str> {
        self.submitted_by.member_id.as_deref()
    }
    fn fields(&mut self) -> ModerationFields<'_> {
        ModerationFields {
            status: &mut self.status,
            rejection_reason: &mut self.rejection_reason,
            hold: &mut self.hold,
            published_at: &mut self.published_at,
            version: &mut self.version,
            updated_at: &mut self.updated_at,
        }
    }
    fn unready(&self) -> Option<String> {
        self.organisation_id.is_none().then(|| "set the case study's organisation_id before publishing it".to_string())
    }
    async fn load(app: &App, id: &str) -> AppResult<Option<CaseStudy>> {
        app.load_case_study(id).await
    }
    async fn save(app: &App, old: &CaseStudy, new: &CaseStudy, keep_history: bool) -> AppResult<()> {
        app.save_change(old, new, keep_history).await
    }
    async fn purge_history(app: &App, id: &str) -> AppResult<()> {
        app.purge_versions(id).await
    }
}

impl App {
    /// The case study with its attachments, whoever asks.
    pub(crate) async fn load_case_study(&self, id: &str) -> AppResult<Option<CaseStudy>> {
        if ulid::Ulid::from_string(id).is_err() {
            return Ok(None);
        }
        let Some((mut cs, _)) = self.get_record::<CaseStudy>(keys::case_study(id)).await? else { return Ok(None) };
        let (pk, _) = keys::case_study(id);
        let mut cursor = None;
        loop {
            let page =
                self.records.query(Query::new(Index::Primary, pk.clone()).prefix(keys::ATTACHMENT_PREFIX).after(cursor)).await?;
            for item in &page.items {
                cs.attachments.push(decode::<Attachment>(item)?);
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(Some(cs))
    }

    /// The case study if `viewer` may see it; 404 otherwise, so nobody learns that
    /// a pending case study exists.
    pub(crate) async fn visible_case_study(&self, viewer: Option<&Claims>, id: &str) -> AppResult<CaseStudy> {
        self.visible(viewer, id).await
    }

    pub async fn view_case_study(&self, viewer: Option<&Claims>, cs: CaseStudy) -> AppResult<CaseStudyView> {
        let names = self.organisation_names().await?;
        Ok(CaseStudyView::new(cs, viewer, &names))
    }

    pub async fn get_case_study(&self, viewer: Option<&Claims>, id: &str) -> AppResult<CaseStudyView> {
        let cs = self.visible_case_study(viewer, id).await?;
        if cs.status == Status::Published {
            let author: Vec<&str> = cs.submitted_by.member_id.as_deref().into_iter().collect();
            self.count_read(ReadKind::CaseStudy, &cs.id, viewer.map(|c| c.sub.as_str()), &author).await;
        }
        self.view_case_study(viewer, cs).await
    }

    pub async fn create_case_study(
        &self,
        claims: &Claims,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<Creation> {
        let parsed = NewCaseStudy::parse(body);
        let member = self.member(claims).await?;
        let mut input = parsed?;
        if let Some(o) = &input.organisation_id {
            require_own_organisation(claims, member.organisation_id.as_deref(), None, o)?;
        }
        let org = input.organisation_id.take().or(member.organisation_id.clone());
        let organisation_id = match org {
            Some(o) if self.organisation(&o).await?.is_some() => o,
            Some(_) => return Err(AppError::invalid("organisation_id", "is not a known organisation")),
            None => {
                return Err(AppError::invalid(
                    "organisation_id",
                    "is required: your profile has no organisation yet (set it with PATCH /me)",
                ));
            }
        };
        let now = self.now_text();
        let mut cs = CaseStudy {
            id: self.new_id(),
            title: input.title,
            summary: input.summary.unwrap_or_else(|| derive_summary(&input.body)),
            body: input.body,
            sections: input.sections,
            organisation_id: Some(organisation_id),
            topics: input.topics,
            status: Status::Pending,
            rejection_reason: None,
            hold: None,
            submitted_by: SubmittedBy {
                member_id: Some(member.id),
                name: Some(member.name),
                email: Some(member.email),
                job_title: None,
            },
            source: Source::Web,
            sender_verified: None,
            created_at: now.clone(),
            updated_at: now,
            published_at: None,
            version: 1,
            attachments: vec![],
        };
        cs.apply_guard();
        let view = self.view_case_study(Some(claims), cs.clone()).await?;
        let response = Created::new(cs.id.clone(), &view);
        let mut writes = vec![Write::Put { item: case_study_item(&cs), condition: Condition::NotExists }];
        if let Some(k) = idem {
            // The stored answer copies the text; remember where, so a purge reaches it.
            let (pk, sk) = keys::case_study_idempotency_ref(&cs.id);
            let pointer = serde_json::json!({"pk": k.pk, "sk": k.sk});
            writes.push(Write::Put { item: Item::new(pk, sk, pointer), condition: Condition::NotExists });
        }
        self.commit(writes, response, idem).await
    }

    async fn save_change(&self, old: &CaseStudy, new: &CaseStudy, keep_history: bool) -> AppResult<()> {
        let mut writes = change_writes(old, new, keep_history);
        // Counted once, at its first publication (insights): a marker beside
        // the record says it was counted, so publishing again after a hold (which
        // clears `published_at`) counts nothing.
        if old.published_at.is_none()
            && new.status == Status::Published
            && let Some(at) = &new.published_at
        {
            let (mpk, msk) = (format!("CS#{}", new.id), "COUNTED#published".to_owned());
            if self.records.get(&mpk, &msk).await?.is_none() {
                let orgs: Vec<String> = new.organisation_id.iter().cloned().collect();
                writes.extend(self.event_tallies(at, &orgs, &["case_studies_published".to_owned()], 1).await?);
                let marker = Item::new(mpk, msk, serde_json::json!({"counted_at": at}));
                writes.push(Write::Put { item: marker, condition: Condition::NotExists });
            }
        }
        match self.records.transact(writes).await {
            Ok(()) => {
                self.index_case_study(new);
                Ok(())
            }
            Err(e) if e.is_conflict() => Err(AppError::VersionMismatch { current: old.version + 1 }),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn update_case_study(
        &self,
        claims: &Claims,
        id: &str,
        body: &serde_json::Value,
        if_match: Option<u64>,
    ) -> AppResult<CaseStudyView> {
        let old = self.visible_case_study(Some(claims), id).await?;
        require_editor(&old, claims)?;
        check_version(old.version, if_match, true)?;
        let patch = CaseStudyPatch::parse(body)?;
        if let Some(o) = &patch.organisation_id {
            if self.organisation(o).await?.is_none() {
                return Err(AppError::invalid("organisation_id", "is not a known organisation"));
            }
            let own = if claims.is_moderator() { None } else { self.member(claims).await?.organisation_id };
            require_own_organisation(claims, own.as_deref(), old.organisation_id.as_deref(), o)?;
        }
        let mut new = next_version(&old, &self.now_text());
        patch.apply(&mut new);
        new.apply_guard();
        unpublish_while_held(&mut new);
        // While a hold stands the earlier text may carry patient data: keep no
        // copy of it.
        let keep_history = old.hold.is_none() && new.hold.is_none();
        self.save_change(&old, &new, keep_history).await?;
        self.view_case_study(Some(claims), new).await
    }

    pub async fn publish_case_study(&self, claims: &Claims, id: &str, if_match: Option<u64>) -> AppResult<CaseStudyView> {
        let new = self.publish_item::<CaseStudy>(claims, id, if_match).await?;
        self.view_case_study(Some(claims), new).await
    }

    pub async fn reject_case_study(
        &self,
        claims: &Claims,
        id: &str,
        body: &serde_json::Value,
        if_match: Option<u64>,
    ) -> AppResult<CaseStudyView> {
        let new = self.reject_item::<CaseStudy>(claims, id, body, if_match).await?;
        self.view_case_study(Some(claims), new).await
    }

    pub async fn release_hold(&self, claims: &Claims, id: &str, if_match: Option<u64>) -> AppResult<CaseStudyView> {
        let new = self.release_item_hold::<CaseStudy>(claims, id, if_match).await?;
        self.view_case_study(Some(claims), new).await
    }

    /// Earlier versions kept as history, oldest first.
    pub async fn case_study_history(&self, id: &str) -> AppResult<Vec<CaseStudy>> {
        let (pk, _) = keys::case_study(id);
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .records
                .query(Query::new(Index::Primary, pk.clone()).prefix(keys::CASE_STUDY_VERSION_PREFIX).after(cursor))
                .await?;
            for item in &page.items {
                out.push(decode::<CaseStudy>(item)?);
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Deletes every earlier version, and the stored first answer of an
    /// idempotent create: both may carry text that has since been edited out.
    pub(crate) async fn purge_versions(&self, id: &str) -> AppResult<()> {
        let (pk, _) = keys::case_study(id);
        purge_copies(self, &pk, keys::CASE_STUDY_VERSION_PREFIX, keys::case_study_idempotency_ref(id)).await
    }

    /// Removes the submitter's name, email and member link from a case study and
    /// its history (used when a member erases their profile).
    pub(crate) async fn detach_submitter(&self, id: &str) -> AppResult<()> {
        self.purge_versions(id).await?;
        self.change_item_with_retry::<CaseStudy>(id, |cs| {
            if cs.submitted_by == (SubmittedBy { member_id: None, name: None, email: None, job_title: None }) {
                return false;
            }
            cs.submitted_by = SubmittedBy { member_id: None, name: None, email: None, job_title: None };
            true
        })
        .await
    }

    /// Published case studies, newest first, optionally by topic and organisation.
    pub async fn list_published(&self, req: &ListRequest) -> AppResult<CaseStudyList> {
        let (_, query) = self.published_query(req).await?;
        self.read_published(query).await
    }

    /// [`App::list_published`] as the JSON the API answers with. While the
    /// store has not changed, a page read before is answered as it was
    /// written then ([`page_cache`]); the request is checked first either way.
    pub async fn list_published_json(&self, req: &ListRequest) -> AppResult<bytes::Bytes> {
        let (partition, query) = self.published_query(req).await?;
        // No mark (DynamoDB), or none readable just now: the page is read as it is.
        let Some(mark) = self.records.change_mark().await.ok().flatten() else {
            let page = self.read_published(query).await?;
            return Ok(serde_json::to_vec(&page).expect("a list serialises").into());
        };
        let key = format!("{partition}\n{}\n{}", req.limit, req.cursor.as_deref().unwrap_or(""));
        if let Some(json) = self.list_pages.get(mark, &key) {
            return Ok(json);
        }
        let page = self.read_published(query).await?;
        let json = bytes::Bytes::from(serde_json::to_vec(&page).expect("a list serialises"));
        self.list_pages.put(mark, key, json.clone());
        Ok(json)
    }

    /// The checked request: its list's partition and the store query for its page.
    async fn published_query(&self, req: &ListRequest) -> AppResult<(String, Query)> {
        let limit = page_limit(req.limit)?;
        let mut errors = qnet_domain::FieldErrors::new();
        if let Some(t) = &req.topic
            && !topics::is_known(t)
        {
            errors.push("topic", "is not a known topic (see GET /topics)");
        }
        if let Some(o) = &req.organisation_id
            && self.organisation(o).await?.is_none()
        {
            errors.push("organisation_id", "is not a known organisation");
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let cursor = parse_cursor(req.cursor.as_deref(), None)?;
        let partition = keys::published_list(req.topic.as_deref(), req.organisation_id.as_deref());
        let query = Query::new(Index::Primary, partition.clone()).descending().limit(limit).after(cursor);
        Ok((partition, query))
    }

    async fn read_published(&self, query: Query) -> AppResult<CaseStudyList> {
        // The list entries go from their stored text straight into the summary.
        let page = self.records.query_raw(query).await?;
        let names = self.organisation_names().await?;
        let mut items = Vec::with_capacity(page.items.len());
        for text in &page.items {
            let mut s: CaseStudySummary = decode_raw(text)?;
            s.organisation_name = s.organisation_id.as_ref().and_then(|o| names.get(o).cloned());
            items.push(s);
        }
        Ok(CaseStudyList { items, next_cursor: page.next.map(|c| c.encode()) })
    }

    async fn list_index(
        &self,
        index: Index,
        partition: String,
        ascending: bool,
        limit: u32,
        cursor: Option<&str>,
    ) -> AppResult<CaseStudyList> {
        let limit = page_limit(limit)?;
        let cursor = parse_cursor(cursor, None)?;
        let mut q = Query::new(index, partition).limit(limit).after(cursor);
        if !ascending {
            q = q.descending();
        }
        let page = self.records.query(q).await?;
        let names = self.organisation_names().await?;
        let mut items = Vec::with_capacity(page.items.len());
        for item in &page.items {
            let cs: CaseStudy = decode(item)?;
            let mut s = CaseStudySummary::private(&cs);
            s.organisation_name = s.organisation_id.as_ref().and_then(|o| names.get(o).cloned());
            items.push(s);
        }
        Ok(CaseStudyList { items, next_cursor: page.next.map(|c| c.encode()) })
    }

    /// The signed-in member's case studies, any status, newest first.
    pub async fn my_case_studies(&self, claims: &Claims, limit: u32, cursor: Option<&str>) -> AppResult<CaseStudyList> {
        self.list_index(Index::Gsi2, keys::members_case_studies(&claims.sub), false, limit, cursor).await
    }

    /// The moderation queue: pending case studies, oldest first.
    pub async fn moderation_queue(&self, claims: &Claims, limit: u32, cursor: Option<&str>) -> AppResult<CaseStudyList> {
        crate::moderation::require_moderator(claims)?;
        self.list_index(Index::Gsi1, keys::MODERATION_QUEUE.to_string(), true, limit, cursor).await
    }
}

/// Erasure's part here: the member's name and email come off what they
/// submitted (the case studies stay, anonymous; earlier versions are purged).
pub(crate) async fn erase(app: &App, member_id: &str) -> AppResult<()> {
    loop {
        let page = app.records.query(Query::new(Index::Gsi2, keys::members_case_studies(member_id)).limit(25)).await?;
        if page.items.is_empty() {
            return Ok(());
        }
        for item in page.items {
            let id = item.data.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_string();
            app.detach_submitter(&id).await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnet_domain::case_study::Sections;
    use std::collections::HashSet;

    fn cs(status: Status, topics: &[&str]) -> CaseStudy {
        CaseStudy {
            id: "01J00000000000000000000000".into(),
            title: "t".into(),
            summary: "s".into(),
            body: "b".into(),
            sections: Sections::default(),
            organisation_id: Some("org".into()),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            status,
            rejection_reason: None,
            hold: None,
            submitted_by: SubmittedBy { member_id: Some("m".into()), name: None, email: None, job_title: None },
            source: Source::Web,
            sender_verified: None,
            created_at: "2026-01-01T00:00:00.000Z".into(),
            updated_at: "2026-01-01T00:00:00.000Z".into(),
            published_at: Some("2026-01-02T00:00:00.000Z".into()),
            version: 1,
            attachments: vec![],
        }
    }

    #[test]
    fn topic_changes_move_list_entries() {
        let old = cs(Status::Published, &["flow", "pdsa"]);
        let mut new = old.clone();
        new.topics = vec!["pdsa".into(), "digital".into()];
        let writes = change_writes(&old, &new, false);
        let deletes: HashSet<String> =
            writes.iter().filter_map(|w| if let Write::Delete { pk, .. } = w { Some(pk.clone()) } else { None }).collect();
        assert_eq!(deletes, HashSet::from(["CSLIST#topic#flow".to_string(), "CSLIST#topic#flow#org#org".to_string()]));
        let puts = writes.iter().filter(|w| matches!(w, Write::Put { .. })).count();
        assert_eq!(puts, 1 + 2 + 4);
        // Unpublishing removes every entry.
        let mut rejected = old.clone();
        rejected.status = Status::Rejected;
        let w = change_writes(&old, &rejected, false);
        assert_eq!(w.iter().filter(|w| matches!(w, Write::Delete { .. })).count(), 6);
    }
}
