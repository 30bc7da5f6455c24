//! Moderation: the one mechanism by which what members contribute for everyone
//! to read (case studies and resources) goes `pending` → `published` |
//! `rejected`, with the patient data hold rule: nothing is published while a
//! hold stands, a published item that gains a hold leaves the public lists, and
//! releasing a hold purges the earlier versions that may still carry the data.
//! Each moderated kind says how it is loaded and saved ([`Moderated`]); the
//! transitions, roles and messages live here once.

use std::future::Future;

use qnet_domain::case_study::{Hold, Status, parse_rejection};

use crate::{App, AppError, AppResult, Claims};

/// The moderation fields of a record, borrowed mutably.
pub(crate) struct ModerationFields<'a> {
    pub status: &'a mut Status,
    pub rejection_reason: &'a mut Option<String>,
    pub hold: &'a mut Option<Hold>,
    pub published_at: &'a mut Option<String>,
    pub version: &'a mut u64,
    pub updated_at: &'a mut String,
}

/// A record that moderators publish or reject.
pub(crate) trait Moderated: Clone + Send + Sync + Sized + 'static {
    /// "case study", "resource".
    const NOUN: &'static str;
    /// "case studies", "resources".
    const NOUNS: &'static str;

    fn status(&self) -> Status;
    fn hold(&self) -> Option<&Hold>;
    fn version(&self) -> u64;
    /// The member who submitted it, while they have a profile.
    fn submitter(&self) -> Option<&str>;
    fn fields(&mut self) -> ModerationFields<'_>;
    /// Why it cannot be published yet, besides a hold (a missing organisation,
    /// a file not checked yet).
    fn unready(&self) -> Option<String>;

    fn load(app: &App, id: &str) -> impl Future<Output = AppResult<Option<Self>>> + Send;
    /// Writes `new` over `old` (guarded by `old`'s version, a conflict answering
    /// [`AppError::VersionMismatch`]), keeping `old` as history when asked.
    fn save(app: &App, old: &Self, new: &Self, keep_history: bool) -> impl Future<Output = AppResult<()>> + Send;
    /// Deletes every earlier version (and anything else that copies the text).
    fn purge_history(app: &App, id: &str) -> impl Future<Output = AppResult<()>> + Send;
}

fn is_submitter<T: Moderated>(item: &T, claims: &Claims) -> bool {
    item.submitter() == Some(claims.sub.as_str())
}

/// Whether `viewer` may know the item exists.
pub(crate) fn can_see<T: Moderated>(item: &T, viewer: Option<&Claims>) -> bool {
    item.status() == Status::Published || viewer.is_some_and(|c| c.is_moderator() || is_submitter(item, c))
}

/// Submitters may change their own item while it is pending; moderators may
/// change any.
pub(crate) fn require_editor<T: Moderated>(item: &T, claims: &Claims) -> AppResult<()> {
    if claims.is_moderator() || (is_submitter(item, claims) && item.status() == Status::Pending) {
        Ok(())
    } else if is_submitter(item, claims) {
        Err(AppError::Forbidden(match T::NOUN {
            "case study" => "only a moderator can change a case study once it has been published or rejected",
            _ => "only a moderator can change a resource once it has been published or rejected",
        }))
    } else {
        Err(AppError::Forbidden(match T::NOUN {
            "case study" => "only the submitter or a moderator can change this case study",
            _ => "only the submitter or a moderator can change this resource",
        }))
    }
}

pub(crate) fn require_moderator(claims: &Claims) -> AppResult<()> {
    if claims.is_moderator() { Ok(()) } else { Err(AppError::Forbidden("only a moderator may do this")) }
}

/// A case study or resource names its submitter's organisation (`own`), or
/// the one it already has (`current`); a moderator may name any.
pub(crate) fn require_own_organisation(claims: &Claims, own: Option<&str>, current: Option<&str>, named: &str) -> AppResult<()> {
    if claims.is_moderator() || own == Some(named) || current == Some(named) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "organisation_id",
            "must be your own organisation (see GET /me); only a moderator may name another",
        ))
    }
}

pub(crate) fn check_version(current: u64, if_match: Option<u64>, required: bool) -> AppResult<()> {
    match if_match {
        None if required => Err(AppError::VersionRequired),
        Some(v) if v != current => Err(AppError::VersionMismatch { current }),
        _ => Ok(()),
    }
}

/// A published item that gains a hold leaves the published lists until a
/// moderator has dealt with it: patient data must not stay public.
pub(crate) fn unpublish_while_held<T: Moderated>(item: &mut T) {
    let f = item.fields();
    if f.hold.is_some() && *f.status == Status::Published {
        *f.status = Status::Pending;
        *f.published_at = None;
    }
}

/// The next version of `item`, stamped `now`.
pub(crate) fn next_version<T: Moderated>(item: &T, now: &str) -> T {
    let mut new = item.clone();
    let f = new.fields();
    *f.version += 1;
    *f.updated_at = now.to_string();
    new
}

impl App {
    /// The item if `viewer` may see it; 404 otherwise, so nobody learns that a
    /// pending item exists.
    pub(crate) async fn visible<T: Moderated>(&self, viewer: Option<&Claims>, id: &str) -> AppResult<T> {
        match T::load(self, id).await? {
            Some(item) if can_see(&item, viewer) => Ok(item),
            _ => Err(AppError::NotFound(T::NOUN)),
        }
    }

    /// Publishes a pending item (moderator); refused while a hold stands. Like
    /// reject and release, it needs the version the moderator reviewed
    /// (If-Match), so a submitter's later edit is never published unseen.
    pub(crate) async fn publish_item<T: Moderated>(&self, claims: &Claims, id: &str, if_match: Option<u64>) -> AppResult<T> {
        let old: T = self.visible(Some(claims), id).await?;
        require_moderator(claims)?;
        check_version(old.version(), if_match, true)?;
        if let Some(h) = old.hold() {
            return Err(AppError::Conflict(format!(
                "a hold stands on this {} ({}); edit it and release the hold first",
                T::NOUN,
                h.reason
            )));
        }
        if let Some(why) = old.unready() {
            return Err(AppError::Conflict(why));
        }
        if old.status() != Status::Pending {
            return Err(AppError::Conflict(format!(
                "only pending {} can be published; this one is {}",
                T::NOUNS,
                old.status().as_str()
            )));
        }
        let now = self.now_text();
        let mut new = next_version(&old, &now);
        let f = new.fields();
        *f.status = Status::Published;
        *f.published_at = Some(now);
        *f.rejection_reason = None;
        T::save(self, &old, &new, true).await?;
        Ok(new)
    }

    /// Rejects an item with a reason for its submitter (moderator).
    pub(crate) async fn reject_item<T: Moderated>(
        &self,
        claims: &Claims,
        id: &str,
        body: &serde_json::Value,
        if_match: Option<u64>,
    ) -> AppResult<T> {
        let old: T = self.visible(Some(claims), id).await?;
        require_moderator(claims)?;
        let reason = parse_rejection(body)?;
        check_version(old.version(), if_match, true)?;
        if old.status() == Status::Rejected {
            return Err(AppError::Conflict(format!("this {} has already been rejected", T::NOUN)));
        }
        let mut new = next_version(&old, &self.now_text());
        let f = new.fields();
        *f.status = Status::Rejected;
        *f.rejection_reason = Some(reason.into_string());
        T::save(self, &old, &new, old.hold().is_none()).await?;
        Ok(new)
    }

    /// A moderator has edited the personal data out: lift the hold and purge every
    /// earlier version, which may still hold it.
    pub(crate) async fn release_item_hold<T: Moderated>(&self, claims: &Claims, id: &str, if_match: Option<u64>) -> AppResult<T> {
        let old: T = self.visible(Some(claims), id).await?;
        require_moderator(claims)?;
        check_version(old.version(), if_match, true)?;
        if old.hold().is_none() {
            return Err(AppError::Conflict(format!("there is no hold on this {}", T::NOUN)));
        }
        T::purge_history(self, id).await?;
        let mut new = next_version(&old, &self.now_text());
        *new.fields().hold = None;
        T::save(self, &old, &new, false).await?;
        Ok(new)
    }

    /// Puts a hold on an item (patient data found somewhere other than its own
    /// text, such as a file). Retries on a concurrent edit.
    pub(crate) async fn hold_item<T: Moderated>(&self, id: &str, reason: &str) -> AppResult<()> {
        self.change_item_with_retry::<T>(id, |item| {
            if item.hold().is_some() {
                return false;
            }
            *item.fields().hold = Some(Hold { reason: reason.to_string() });
            unpublish_while_held(item);
            true
        })
        .await
    }

    /// Applies `change` to the current version of an item, without keeping
    /// history, retrying when a concurrent edit wins; `change` answers false
    /// when there is nothing to do. For changes the system makes on its own.
    pub(crate) async fn change_item_with_retry<T: Moderated>(
        &self,
        id: &str,
        change: impl Fn(&mut T) -> bool + Send,
    ) -> AppResult<()> {
        for _attempt in 0..5 {
            let Some(old) = T::load(self, id).await? else { return Ok(()) };
            let mut new = next_version(&old, &self.now_text());
            if !change(&mut new) {
                return Ok(());
            }
            match T::save(self, &old, &new, false).await {
                Err(AppError::VersionMismatch { .. }) => continue,
                other => return other,
            }
        }
        Err(AppError::Conflict(format!("the {} kept changing; try again", T::NOUN)))
    }
}

/// Deletes every earlier version of a record (the items of its partition `pk`
/// whose sort key starts with `version_prefix`), and the stored first answer of
/// its idempotent create, which the pointer at `idempotency_ref` names: both may
/// carry text that has since been edited out.
pub(crate) async fn purge_copies(app: &App, pk: &str, version_prefix: &str, idempotency_ref: (String, String)) -> AppResult<()> {
    use qnet_ports::{Condition, Index, Query};
    loop {
        let page = app.records.query(Query::new(Index::Primary, pk).prefix(version_prefix).limit(100)).await?;
        if page.items.is_empty() {
            break;
        }
        for item in &page.items {
            app.records.delete(&item.pk, &item.sk, Condition::None).await?;
        }
    }
    let (rpk, rsk) = idempotency_ref;
    if let Some(pointer) = app.records.get(&rpk, &rsk).await? {
        if let (Some(ipk), Some(isk)) = (pointer.data["pk"].as_str(), pointer.data["sk"].as_str()) {
            app.records.delete(ipk, isk, Condition::None).await?;
        }
        app.records.delete(&rpk, &rsk, Condition::None).await?;
    }
    Ok(())
}
