//! Projects, measures, points and annotations as items: list entries, follows, and
//! a measure's points kept in one chunk per calendar year.

use crate::listing::{ListEntries, list_entry_writes};
use crate::projects::is_ulid;
use crate::projects::views::summary;
use crate::{App, AppError, AppResult, decode, encode, keys};
use qnet_domain::project::{self};
use qnet_domain::project::{Annotation, Measure, Project};
use qnet_ports::{Condition, Index, Item, Query, Write};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Date;

/// The points of one measure in one calendar year, in date order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct PointsChunk {
    pub(crate) points: Vec<StoredPoint>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct StoredPoint {
    #[serde(with = "project::iso_date")]
    pub(crate) date: Date,
    pub(crate) value: f64,
}

pub(crate) fn list_partitions(p: &Project) -> Vec<String> {
    let mut v = vec![keys::project_list(None), keys::project_list(Some(("status", p.status.as_str())))];
    v.extend(p.topics.iter().map(|t| keys::project_list(Some(("topic", t)))));
    v.extend(p.organisation_ids.iter().map(|o| keys::project_list(Some(("org", o)))));
    v
}

pub(crate) fn list_sort_key(p: &Project) -> String {
    format!("{}#{}", p.created_at, p.id)
}

pub(crate) fn project_item(p: &Project) -> Item {
    let (pk, sk) = keys::project(&p.id);
    Item::new(pk, sk, encode(p)).with_version(p.version)
}

/// The list entries to write and delete when a project goes from `old` to `new`.
pub(crate) fn list_writes(old: Option<&Project>, new: &Project) -> Vec<Write> {
    let entries = |p: &Project| ListEntries { partitions: list_partitions(p), sort_key: list_sort_key(p) };
    list_entry_writes(old.map(entries).as_ref(), &entries(new), &encode(&summary(new)), None)
}

pub(crate) fn follow_write(project_id: &str, member_id: &str, at: &str) -> Write {
    let (pk, sk) = keys::follower(project_id, member_id);
    let item = Item::new(pk, sk, serde_json::json!({"member_id": member_id, "since": at}))
        .with_gsi2(keys::members_follows(member_id), project_id.to_string());
    Write::Put { item, condition: Condition::None }
}

/// A member's place on the team, in the member's portfolio index.
pub(crate) fn team_member_write(project_id: &str, member_id: &str, joined_at: &str) -> Write {
    let (pk, sk) = keys::project_team_member(project_id, member_id);
    let item = Item::new(pk, sk, serde_json::json!({"project_id": project_id, "member_id": member_id, "joined_at": joined_at}))
        .with_gsi2(keys::members_projects(member_id), format!("{joined_at}#{project_id}"));
    Write::Put { item, condition: Condition::None }
}

/// Leaving the team takes the project out of the member's portfolio index.
pub(crate) fn team_member_delete(project_id: &str, member_id: &str) -> Write {
    let (pk, sk) = keys::project_team_member(project_id, member_id);
    Write::Delete { pk, sk, condition: Condition::None }
}

pub(crate) fn version_conflict(e: qnet_ports::StoreError, current: u64) -> AppError {
    if e.is_conflict() { AppError::VersionMismatch { current: current + 1 } } else { e.into() }
}

impl App {
    pub(crate) async fn load_project(&self, id: &str) -> AppResult<(Project, u64)> {
        if !is_ulid(id) {
            return Err(AppError::NotFound("project"));
        }
        match self.get_record::<Project>(keys::project(id)).await? {
            Some((p, item)) => Ok((p, item.version)),
            None => Err(AppError::NotFound("project")),
        }
    }

    pub(crate) async fn query_all(&self, partition: String, prefix: &str) -> AppResult<Vec<Item>> {
        let mut out = vec![];
        let mut cursor = None;
        loop {
            let page = self.records.query(Query::new(Index::Primary, partition.clone()).prefix(prefix).after(cursor)).await?;
            out.extend(page.items);
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// A measure of this project; a measure of another project is not found.
    pub(crate) async fn load_measure(&self, project_id: &str, measure_id: &str) -> AppResult<(Measure, u64)> {
        if !is_ulid(measure_id) {
            return Err(AppError::NotFound("measure"));
        }
        match self.get_record::<Measure>(keys::measure(project_id, measure_id)).await? {
            Some((m, item)) => Ok((m, item.version)),
            None => Err(AppError::NotFound("measure")),
        }
    }

    pub(crate) async fn load_chunks(&self, measure_id: &str) -> AppResult<BTreeMap<i32, (PointsChunk, u64)>> {
        let items = self.query_all(keys::measure_partition(measure_id), keys::POINTS_PREFIX).await?;
        let mut out = BTreeMap::new();
        for item in items {
            let year: i32 = item
                .sk
                .trim_start_matches(keys::POINTS_PREFIX)
                .parse()
                .map_err(|_| AppError::Unavailable(format!("stored points item {} has a bad sort key", item.pk)))?;
            out.insert(year, (decode::<PointsChunk>(&item)?, item.version));
        }
        Ok(out)
    }

    pub(crate) async fn load_points(&self, measure_id: &str) -> AppResult<Vec<StoredPoint>> {
        Ok(self.load_chunks(measure_id).await?.into_values().flat_map(|(c, _)| c.points).collect())
    }

    pub(crate) async fn annotations(&self, measure_id: &str) -> AppResult<Vec<Annotation>> {
        let items = self.query_all(keys::measure_partition(measure_id), keys::ANNOTATION_PREFIX).await?;
        items.iter().map(decode).collect()
    }
}
