//! Measures of a project, their data points and the notes on their charts.

use crate::idempotency::{Created, Creation, IdempotencyKey};
use crate::projects::store::{PointsChunk, StoredPoint, version_conflict};
use crate::projects::views::{MeasureList, PointsUploaded};
use crate::projects::{check_version, is_ulid, require_team};
use crate::{App, AppError, AppResult, Claims, PageRequest, decode, encode, keys};
use qnet_domain::project::{self, MeasureInput, NewPoint, format_date, parse_date};
use qnet_domain::project::{Annotation, Measure, Project};
use qnet_ports::{Condition, Index, Item, Query, Write};
use std::collections::BTreeMap;

impl App {
    pub async fn create_measure(
        &self,
        claims: &Claims,
        project_id: &str,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<Creation> {
        let (p, _) = self.load_project(project_id).await?;
        require_team(&p, claims)?;
        let input = MeasureInput::parse(body, true)?;
        let now = self.now_text();
        let m = Measure {
            id: self.new_id(),
            project_id: project_id.to_string(),
            name: input.name.expect("required when creating").into_string(),
            measure_type: input.measure_type.expect("required when creating"),
            unit: input.unit.flatten().map(String::from),
            improvement_direction: input.improvement_direction.expect("required when creating"),
            target: input.target.flatten(),
            frequency: input.frequency.flatten(),
            definition: input.definition.flatten().map(String::from),
            point_count: 0,
            first_date: None,
            last_date: None,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        let (pk, sk) = keys::measure(project_id, &m.id);
        let (ppk, psk) = keys::project(project_id);
        let writes = vec![
            Write::Put { item: Item::new(pk, sk, encode(&m)), condition: Condition::NotExists },
            Write::Check { pk: ppk, sk: psk, condition: Condition::Exists },
        ];
        self.commit(writes, Created::new(m.id.clone(), &m), idem).await
    }

    pub async fn list_measures(&self, project_id: &str, page: &PageRequest) -> AppResult<MeasureList> {
        self.load_project(project_id).await?;
        let q = Query::new(Index::Primary, keys::project_partition(project_id)).prefix(keys::MEASURE_PREFIX);
        let (items, next_cursor) = self.list_page(q, page).await?;
        Ok(MeasureList { items: items.iter().map(decode).collect::<AppResult<_>>()?, next_cursor })
    }

    /// One measure of a project.
    pub async fn get_measure(&self, project_id: &str, measure_id: &str) -> AppResult<Measure> {
        self.load_project(project_id).await?;
        Ok(self.load_measure(project_id, measure_id).await?.0)
    }

    pub async fn update_measure(
        &self,
        claims: &Claims,
        project_id: &str,
        measure_id: &str,
        body: &serde_json::Value,
        if_match: Option<u64>,
    ) -> AppResult<Measure> {
        let (p, _) = self.load_project(project_id).await?;
        let (old, version) = self.load_measure(project_id, measure_id).await?;
        require_team(&p, claims)?;
        check_version(version, if_match)?;
        let input = MeasureInput::parse(body, false)?;
        let mut m = old;
        if let Some(v) = input.name {
            m.name = v.into_string();
        }
        if let Some(v) = input.measure_type {
            m.measure_type = v;
        }
        if let Some(v) = input.improvement_direction {
            m.improvement_direction = v;
        }
        if let Some(v) = input.unit {
            m.unit = v.map(String::from);
        }
        if let Some(v) = input.target {
            m.target = v;
        }
        if let Some(v) = input.frequency {
            m.frequency = v;
        }
        if let Some(v) = input.definition {
            m.definition = v.map(String::from);
        }
        m.version = version + 1;
        m.updated_at = self.now_text();
        let (pk, sk) = keys::measure(project_id, measure_id);
        self.records
            .put(Item::new(pk, sk, encode(&m)).with_version(m.version), Condition::VersionIs(version))
            .await
            .map_err(|e| version_conflict(e, version))?;
        Ok(m)
    }

    /// Adds points, replacing the value of any date the measure already has.
    /// JSON (`csv: None`) or CSV text; every bad point is named and nothing changes.
    pub async fn upload_points(
        &self,
        claims: &Claims,
        project_id: &str,
        measure_id: &str,
        json: Option<&serde_json::Value>,
        csv: Option<&str>,
    ) -> AppResult<PointsUploaded> {
        let (p, _) = self.load_project(project_id).await?;
        let (mut m, version) = self.load_measure(project_id, measure_id).await?;
        require_team(&p, claims)?;
        let today = self.today();
        let points: Vec<NewPoint> = match (json, csv) {
            (_, Some(text)) => project::parse_points_csv(text, today)?,
            (Some(v), None) => project::parse_points_json(v, today)?,
            (None, None) => return Err(AppError::invalid("body", "send JSON points or a CSV")),
        };
        let mut chunks = self.load_chunks(measure_id).await?;
        let mut touched: BTreeMap<i32, Option<u64>> = BTreeMap::new();
        let (mut added, mut replaced) = (0, 0);
        for np in points {
            let year = np.date.year();
            let entry = chunks.entry(year).or_insert_with(|| (PointsChunk::default(), 0));
            touched.entry(year).or_insert(if entry.1 == 0 { None } else { Some(entry.1) });
            let list = &mut entry.0.points;
            match list.binary_search_by(|p| p.date.cmp(&np.date)) {
                Ok(i) => {
                    list[i].value = np.value;
                    replaced += 1;
                }
                Err(i) => {
                    list.insert(i, StoredPoint { date: np.date, value: np.value });
                    added += 1;
                }
            }
        }
        if touched.len() > 90 {
            return Err(AppError::invalid("points", "an upload may touch at most 90 calendar years; upload in parts"));
        }
        let all: Vec<&StoredPoint> = chunks.values().flat_map(|(c, _)| c.points.iter()).collect();
        m.point_count = all.len();
        m.first_date = all.first().map(|p| format_date(p.date));
        m.last_date = all.last().map(|p| format_date(p.date));
        m.version = version + 1;
        m.updated_at = self.now_text();
        let (mpk, msk) = keys::measure(project_id, measure_id);
        let mut writes = vec![Write::Put {
            item: Item::new(mpk, msk, encode(&m)).with_version(m.version),
            condition: Condition::VersionIs(version),
        }];
        for (year, previous) in &touched {
            let (pk, sk) = keys::measure_points(measure_id, *year);
            let chunk = &chunks[year].0;
            let condition = previous.map(Condition::VersionIs).unwrap_or(Condition::NotExists);
            let v = previous.map(|v| v + 1).unwrap_or(1);
            writes.push(Write::Put { item: Item::new(pk, sk, encode(chunk)).with_version(v), condition });
        }
        self.records.transact(writes).await.map_err(|e| {
            if e.is_conflict() {
                AppError::Conflict("the measure's points changed at the same time; send the upload again".into())
            } else {
                e.into()
            }
        })?;
        tracing::info!(measure = %measure_id, added, replaced, "points uploaded");
        Ok(PointsUploaded { added, replaced, measure: m })
    }

    pub async fn create_annotation(
        &self,
        claims: &Claims,
        project_id: &str,
        measure_id: &str,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<Creation> {
        let (p, _) = self.load_project(project_id).await?;
        self.load_measure(project_id, measure_id).await?;
        require_team(&p, claims)?;
        let (date, text) = project::parse_annotation(body)?;
        let a = Annotation {
            id: self.new_id(),
            measure_id: measure_id.to_string(),
            date: format_date(date),
            text: text.into_string(),
            created_by: claims.sub.clone(),
            created_at: self.now_text(),
        };
        let (pk, sk) = keys::annotation(measure_id, &a.date, &a.id);
        let (mpk, msk) = keys::measure(project_id, measure_id);
        let writes = vec![
            Write::Put {
                item: crate::idempotency::naming_record(Item::new(pk, sk, encode(&a)), idem),
                condition: Condition::NotExists,
            },
            Write::Check { pk: mpk, sk: msk, condition: Condition::Exists },
        ];
        self.commit(writes, Created::new(a.id.clone(), &a), idem).await
    }

    pub(crate) fn require_author_or_team(p: &Project, claims: &Claims, author: &str) -> AppResult<()> {
        if author == claims.sub {
            return Ok(());
        }
        require_team(p, claims)
            .map_err(|_| AppError::Forbidden("only its author, the project's team and moderators may take it down"))
    }

    /// Deletes an annotation and the idempotency record that kept its text.
    pub async fn delete_annotation(
        &self,
        claims: &Claims,
        project_id: &str,
        measure_id: &str,
        annotation_id: &str,
    ) -> AppResult<()> {
        let (p, _) = self.load_project(project_id).await?;
        self.load_measure(project_id, measure_id).await?;
        let items = self.query_all(keys::measure_partition(measure_id), keys::ANNOTATION_PREFIX).await?;
        let Some(item) = items.into_iter().find(|i| i.sk.ends_with(&format!("#{annotation_id}")) && is_ulid(annotation_id))
        else {
            return Err(AppError::NotFound("annotation"));
        };
        let a: Annotation = decode(&item)?;
        Self::require_author_or_team(&p, claims, &a.created_by)?;
        let mut writes = vec![Write::Delete { pk: item.pk.clone(), sk: item.sk.clone(), condition: Condition::None }];
        writes.extend(crate::idempotency::delete_named_record(&item));
        self.records.transact(writes).await?;
        tracing::info!(measure = %measure_id, annotation = %annotation_id, "annotation taken down");
        Ok(())
    }

    /// Deletes a measure's point on `date` (points are the team's: the team or a moderator).
    pub async fn delete_point(&self, claims: &Claims, project_id: &str, measure_id: &str, date: &str) -> AppResult<Measure> {
        let (p, _) = self.load_project(project_id).await?;
        let (mut m, version) = self.load_measure(project_id, measure_id).await?;
        require_team(&p, claims)?;
        let Some(day) = parse_date(date) else { return Err(AppError::NotFound("point")) };
        let mut chunks = self.load_chunks(measure_id).await?;
        let year = day.year();
        let Some((chunk, chunk_version)) = chunks.get_mut(&year) else { return Err(AppError::NotFound("point")) };
        let Ok(i) = chunk.points.binary_search_by(|pt| pt.date.cmp(&day)) else { return Err(AppError::NotFound("point")) };
        chunk.points.remove(i);
        let (pk, sk) = keys::measure_points(measure_id, year);
        let chunk_write = if chunk.points.is_empty() {
            Write::Delete { pk, sk, condition: Condition::VersionIs(*chunk_version) }
        } else {
            Write::Put {
                item: Item::new(pk, sk, encode(&*chunk)).with_version(*chunk_version + 1),
                condition: Condition::VersionIs(*chunk_version),
            }
        };
        let all: Vec<&StoredPoint> = chunks.values().flat_map(|(c, _)| c.points.iter()).collect();
        m.point_count = all.len();
        m.first_date = all.first().map(|pt| format_date(pt.date));
        m.last_date = all.last().map(|pt| format_date(pt.date));
        m.version = version + 1;
        m.updated_at = self.now_text();
        let (mpk, msk) = keys::measure(project_id, measure_id);
        let writes = vec![
            Write::Put {
                item: Item::new(mpk, msk, encode(&m)).with_version(m.version),
                condition: Condition::VersionIs(version),
            },
            chunk_write,
        ];
        self.records.transact(writes).await.map_err(|e| {
            if e.is_conflict() {
                AppError::Conflict("the measure's points changed at the same time; try again".into())
            } else {
                e.into()
            }
        })?;
        tracing::info!(measure = %measure_id, "point taken down");
        Ok(m)
    }
}
