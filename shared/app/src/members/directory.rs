//! The member directory (`GET /members`) and the member counts of `GET /organisations`.
//!
//! **Directory.** A member who chose to be listed (`PATCH /me` `listed: true`)
//! has a directory entry (a summary: name, organisation, job title, topics,
//! mentor badge; never the email address) in every list a filter reads: all,
//! each topic, their organisation, and each topic within their organisation
//! ([`keys::member_directory`]), sorted by lower-cased name. Entries are written
//! and removed in the same transaction as the profile change they follow
//! (`PATCH /me`, a mentor profile put or delete for the badge, erasure), so a
//! list never shows what the profile no longer says. Up to 20 topics make at
//! most 42 entries; a change that moves every entry is 84 writes, under the
//! 100 a transaction takes.
//!
//! **Member counts.** One counter item per organisation
//! ([`keys::org_member_count`], all in the GSI1 partition
//! [`keys::ORG_MEMBER_COUNTS`] so `GET /organisations` reads every count with one
//! Query), changed with `Condition::VersionIs` inside the transaction that
//! creates, moves or erases the profile; a conflict on the counter retries the
//! whole change. Counting by Query instead would page through every member of
//! every organisation on each `GET /organisations`; an atomic increment would
//! avoid the retries under heavy concurrent sign-ups, which a network of this
//! size does not have. Profiles stored before counters existed are not counted
//! until they change organisation.

use std::collections::HashMap;

use qnet_domain::member::Member;
use qnet_domain::topics;
use qnet_ports::{Condition, Cursor, Index, Item, Query, Write};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{App, AppError, AppResult, decode, encode, keys};

/// How often a profile change is tried again when a counter or the mentor
/// profile moved under it (many members of one organisation signing up at once
/// take turns on its counter).
pub(crate) const ATTEMPTS: usize = 25;

/// A short, jittered pause before trying a profile change again, so that
/// writers racing for one counter spread out instead of colliding again.
pub(crate) async fn back_off(attempt: usize) {
    let jitter = rand::random::<u32>() % 1000;
    let micros = 500 * (attempt.min(8) as u64 + 1) + u64::from(jitter) * 2;
    tokio::time::sleep(std::time::Duration::from_micros(micros)).await;
}

/// A directory entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    id: String,
    name: String,
    organisation_id: Option<String>,
    job_title: Option<String>,
    topics: Vec<String>,
    mentor: bool,
}

/// One member in `GET /members`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DirectoryMember {
    pub id: String,
    pub name: String,
    /// Null when the member has not chosen an organisation.
    pub organisation: Option<DirectoryOrganisation>,
    pub job_title: Option<String>,
    pub topics: Vec<String>,
    /// The member offers mentoring or coaching (has a mentor profile).
    pub mentor: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DirectoryOrganisation {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DirectoryPage {
    pub items: Vec<DirectoryMember>,
    pub next_cursor: Option<String>,
}

/// Which page of the directory to read.
#[derive(Debug, Clone, Default)]
pub struct DirectoryRequest {
    pub topic: Option<String>,
    pub organisation_id: Option<String>,
    pub limit: u32,
    pub cursor: Option<String>,
}

/// A profile as the directory sees it: the member and whether they mentor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Listing<'a> {
    pub member: &'a Member,
    pub mentor: bool,
}

fn entry(l: &Listing) -> Entry {
    let m = l.member;
    Entry {
        id: m.id.clone(),
        name: m.name.clone(),
        organisation_id: m.organisation_id.clone(),
        job_title: m.job_title.clone(),
        topics: m.topics.clone(),
        mentor: l.mentor,
    }
}

fn partitions(m: &Member) -> Vec<String> {
    if !m.listed {
        return vec![];
    }
    let org = m.organisation_id.as_deref();
    let mut p = vec![keys::member_directory(None, None)];
    p.extend(m.topics.iter().map(|t| keys::member_directory(Some(t), None)));
    if let Some(o) = org {
        p.push(keys::member_directory(None, Some(o)));
        p.extend(m.topics.iter().map(|t| keys::member_directory(Some(t), Some(o))));
    }
    p.sort();
    p.dedup();
    p
}

fn sort_key(m: &Member) -> String {
    format!("{}#{}", m.name.to_lowercase(), m.id)
}

/// The directory writes that take a profile from `old` to `new` (`None`: no
/// profile). Nothing when the entries would not change.
pub(crate) fn entry_writes(old: Option<Listing>, new: Option<Listing>) -> Vec<Write> {
    let before = old.as_ref().map(|l| (partitions(l.member), sort_key(l.member), entry(l)));
    let after = new.as_ref().map(|l| (partitions(l.member), sort_key(l.member), entry(l)));
    let mut w = Vec::new();
    if let Some((after_p, after_sk, e)) = &after {
        if before.as_ref() == Some(&(after_p.clone(), after_sk.clone(), e.clone())) {
            return w;
        }
        let data = encode(e);
        for p in after_p {
            w.push(Write::Put { item: Item::new(p.clone(), after_sk.clone(), data.clone()), condition: Condition::None });
        }
    }
    if let Some((before_p, before_sk, _)) = &before {
        for p in before_p {
            let rewritten = after.as_ref().is_some_and(|(ap, ask, _)| ask == before_sk && ap.contains(p));
            if !rewritten {
                w.push(Write::Delete { pk: p.clone(), sk: before_sk.clone(), condition: Condition::None });
            }
        }
    }
    w
}

/// The stored counter of one organisation: its count and the item's version.
async fn counter(app: &App, org: &str) -> AppResult<Option<(u64, u64)>> {
    let (pk, sk) = keys::org_member_count(org);
    Ok(app.records.get(&pk, &sk).await?.map(|i| (i.data.get("member_count").and_then(|v| v.as_u64()).unwrap_or(0), i.version)))
}

fn counter_put(org: &str, count: u64, condition: Condition, version: u64) -> Write {
    let (pk, sk) = keys::org_member_count(org);
    let data = serde_json::json!({"organisation_id": org, "member_count": count});
    Write::Put {
        item: Item::new(pk, sk, data).with_gsi1(keys::ORG_MEMBER_COUNTS, org.to_string()).with_version(version),
        condition,
    }
}

/// The counter writes for a profile that named `old` and now names `new`;
/// each is conditional on the counter read, so a concurrent change makes the
/// transaction fail and the caller tries again.
pub(crate) async fn count_writes(app: &App, old: Option<&str>, new: Option<&str>) -> AppResult<Vec<Write>> {
    let mut w = Vec::new();
    if old == new {
        return Ok(w);
    }
    if let Some(o) = old {
        match counter(app, o).await? {
            Some((n, v)) => w.push(counter_put(o, n.saturating_sub(1), Condition::VersionIs(v), v + 1)),
            // Counted before counters existed: nothing to take away, but a
            // counter created meanwhile must be seen.
            None => {
                let (pk, sk) = keys::org_member_count(o);
                w.push(unchanged(pk, sk, None));
            }
        }
    }
    if let Some(o) = new {
        match counter(app, o).await? {
            Some((n, v)) => w.push(counter_put(o, n + 1, Condition::VersionIs(v), v + 1)),
            None => w.push(counter_put(o, 1, Condition::NotExists, 1)),
        }
    }
    Ok(w)
}

/// Whether a member has a mentor profile offering mentoring or coaching, and a
/// check that it is still as read when the transaction commits.
pub(crate) async fn mentor_state(app: &App, member_id: &str) -> AppResult<(bool, Write)> {
    let (pk, sk) = keys::mentor(member_id);
    let item = app.records.get(&pk, &sk).await?;
    let mentor = item.as_ref().is_some_and(offers_mentoring);
    Ok((mentor, unchanged(pk, sk, item.as_ref())))
}

/// A write that changes nothing and fails unless the item is still as read
/// (`None`: still absent): the item written back as it was, or a delete of
/// nothing. Not a condition check, which the scheduled functions that share
/// this code are not granted (tests/tests/template.rs).
pub(crate) fn unchanged(pk: String, sk: String, read: Option<&Item>) -> Write {
    match read {
        Some(item) => Write::Put { item: item.clone(), condition: Condition::VersionIs(item.version) },
        None => Write::Delete { pk, sk, condition: Condition::NotExists },
    }
}

/// A stored mentor profile offers mentoring, coaching or both.
pub(crate) fn offers_mentoring(item: &Item) -> bool {
    item.data.get("offers").and_then(|o| o.as_array()).is_some_and(|o| !o.is_empty())
}

impl App {
    /// `GET /members`: listed members, by name; signed-in members only (the
    /// caller checks the sign-in).
    pub async fn member_directory(&self, req: &DirectoryRequest) -> AppResult<DirectoryPage> {
        let mut errors = qnet_domain::FieldErrors::new();
        if let Some(t) = &req.topic
            && !topics::is_known(t)
        {
            errors.push("topic", "is not a known topic (see GET /topics)");
        }
        if let Some(o) = &req.organisation_id
            && self.organisation(o).await?.is_none()
        {
            errors.push("organisation", "is not a known organisation");
        }
        if !(1..=crate::case_studies::MAX_PAGE).contains(&req.limit) {
            errors.push("limit", "must be from 1 to 100");
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let cursor = req.cursor.as_deref().map(Cursor::decode).transpose().map_err(|_| AppError::BadCursor)?;
        let partition = keys::member_directory(req.topic.as_deref(), req.organisation_id.as_deref());
        let page = self.records.query(Query::new(Index::Primary, partition).limit(req.limit).after(cursor)).await?;
        let names = self.organisation_names().await?;
        let mut items = Vec::with_capacity(page.items.len());
        for item in &page.items {
            let e: Entry = decode(item)?;
            items.push(DirectoryMember {
                organisation: e.organisation_id.map(|id| DirectoryOrganisation { name: names.get(&id).cloned(), id }),
                id: e.id,
                name: e.name,
                job_title: e.job_title,
                topics: e.topics,
                mentor: e.mentor,
            });
        }
        Ok(DirectoryPage { items, next_cursor: page.next.map(|c| c.encode()) })
    }

    /// How many members' profiles name each organisation (all members, listed or not).
    pub async fn organisation_member_counts(&self) -> AppResult<HashMap<String, u64>> {
        let mut counts = HashMap::new();
        let mut cursor = None;
        loop {
            let page = self.records.query(Query::new(Index::Gsi1, keys::ORG_MEMBER_COUNTS).limit(100).after(cursor)).await?;
            for item in &page.items {
                if let (Some(o), Some(n)) = (
                    item.data.get("organisation_id").and_then(|v| v.as_str()),
                    item.data.get("member_count").and_then(|v| v.as_u64()),
                ) {
                    counts.insert(o.to_string(), n);
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, org: Option<&str>, topics: &[&str], listed: bool) -> Member {
        Member {
            id: "m1".into(),
            name: name.into(),
            email: "a@b.nhs.uk".into(),
            organisation_id: org.map(String::from),
            job_title: None,
            topics: topics.iter().map(|t| t.to_string()).collect(),
            digest: Default::default(),
            coffee: Default::default(),
            listed,
            ask_me_about: vec![],
            engagement: Default::default(),
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        }
    }

    fn keys_of(w: &[Write]) -> Vec<(String, &'static str)> {
        w.iter()
            .map(|w| match w {
                Write::Put { item, .. } => (item.pk.clone(), "put"),
                Write::Delete { pk, .. } => (pk.clone(), "delete"),
                _ => unreachable!("entry writes are puts and deletes"),
            })
            .collect()
    }

    #[test]
    fn one_entry_per_filter_and_no_duplicate_keys() {
        let m = member("Ann", Some("o1"), &["frailty", "sepsis"], true);
        let w = entry_writes(None, Some(Listing { member: &m, mentor: false }));
        assert_eq!(w.len(), 6);
        // Renaming moves every entry: a put and a delete for each, never two writes on one key.
        let mut renamed = m.clone();
        renamed.name = "Bea".into();
        let w = entry_writes(Some(Listing { member: &m, mentor: false }), Some(Listing { member: &renamed, mentor: false }));
        assert_eq!(w.len(), 12);
        // A topic dropped: the rest are rewritten in place, the dropped lists lose the entry.
        let mut fewer = m.clone();
        fewer.topics = vec!["frailty".into()];
        let w = entry_writes(Some(Listing { member: &m, mentor: false }), Some(Listing { member: &fewer, mentor: true }));
        let k = keys_of(&w);
        assert_eq!(k.iter().filter(|(_, op)| *op == "put").count(), 4);
        assert!(k.contains(&("MEMBERDIR#topic#sepsis".into(), "delete")));
        assert!(k.contains(&("MEMBERDIR#topic#sepsis#org#o1".into(), "delete")));
        // Unchanged: nothing; unlisted: everything goes.
        assert!(
            entry_writes(Some(Listing { member: &m, mentor: false }), Some(Listing { member: &m, mentor: false })).is_empty()
        );
        let mut unlisted = m.clone();
        unlisted.listed = false;
        let w = entry_writes(Some(Listing { member: &m, mentor: false }), Some(Listing { member: &unlisted, mentor: false }));
        assert!(keys_of(&w).iter().all(|(_, op)| *op == "delete") && w.len() == 6);
        // Twenty topics in an organisation: 42 entries, 84 writes to move them.
        let all: Vec<String> = (0..20).map(|i| format!("topic-{i}")).collect();
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let big = member("Cy", Some("o1"), &all, true);
        let mut moved = big.clone();
        moved.name = "Di".into();
        assert_eq!(
            entry_writes(Some(Listing { member: &big, mentor: false }), Some(Listing { member: &moved, mentor: false })).len(),
            84
        );
    }
}
