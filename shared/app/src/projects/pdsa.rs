//! PDSA cycles of a project.

use crate::idempotency::{Created, Creation, IdempotencyKey};
use crate::projects::store::StoredPoint;
use crate::projects::views::PdsaList;
use crate::projects::{is_ulid, require_team};
use crate::{App, AppError, AppResult, Claims, PageRequest, decode, encode, keys};
use qnet_domain::FieldErrors;
use qnet_domain::project::Pdsa;
use qnet_domain::project::{NewPdsa, PointRef, format_date};
use qnet_ports::{Condition, Index, Item, Query, Write};
use std::collections::BTreeMap;

impl App {
    pub async fn create_pdsa(
        &self,
        claims: &Claims,
        project_id: &str,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<Creation> {
        let (p, _) = self.load_project(project_id).await?;
        require_team(&p, claims)?;
        let input = NewPdsa::parse(body, self.today())?;
        let mut errors = FieldErrors::new();
        let mut loaded: BTreeMap<String, Option<Vec<StoredPoint>>> = BTreeMap::new();
        for (n, (mid, date)) in input.points.iter().enumerate() {
            if !loaded.contains_key(mid) {
                let points = match self.load_measure(project_id, mid).await {
                    Ok(_) => Some(self.load_points(mid).await?),
                    Err(AppError::NotFound(_)) => None,
                    Err(e) => return Err(e),
                };
                loaded.insert(mid.clone(), points);
            }
            match &loaded[mid] {
                None => errors.push(format!("points[{n}].measure_id"), "is not a measure of this project"),
                Some(points) if !points.iter().any(|p| p.date == *date) => {
                    errors.push(format!("points[{n}].date"), "the measure has no point on this date")
                }
                Some(_) => {}
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let pdsa = Pdsa {
            id: self.new_id(),
            project_id: project_id.to_string(),
            title: input.title.map(String::from),
            plan: input.plan.into_string(),
            prediction: input.prediction.map(String::from),
            do_: input.do_.map(String::from),
            study: input.study.map(String::from),
            act: input.act.map(String::from),
            started_on: input.started_on.map(format_date),
            ended_on: input.ended_on.map(format_date),
            points: input.points.iter().map(|(m, d)| PointRef { measure_id: m.clone(), date: format_date(*d) }).collect(),
            created_by: claims.sub.clone(),
            created_at: self.now_text(),
        };
        let (pk, sk) = keys::pdsa(project_id, &pdsa.id);
        let writes = vec![
            Write::Put {
                item: crate::idempotency::naming_record(Item::new(pk, sk, encode(&pdsa)), idem),
                condition: Condition::NotExists,
            },
            Write::Check { pk: keys::project(project_id).0, sk: keys::project(project_id).1, condition: Condition::Exists },
        ];
        self.commit(writes, Created::new(pdsa.id.clone(), &pdsa), idem).await
    }

    pub async fn list_pdsa(&self, project_id: &str, page: &PageRequest) -> AppResult<PdsaList> {
        self.load_project(project_id).await?;
        let q = Query::new(Index::Primary, keys::project_partition(project_id)).prefix(keys::PDSA_PREFIX);
        let (items, next_cursor) = self.list_page(q, page).await?;
        Ok(PdsaList { items: items.iter().map(decode).collect::<AppResult<_>>()?, next_cursor })
    }

    /// Deletes a PDSA cycle and the idempotency record that kept its text.
    pub async fn delete_pdsa(&self, claims: &Claims, project_id: &str, pdsa_id: &str) -> AppResult<()> {
        let (p, _) = self.load_project(project_id).await?;
        if !is_ulid(pdsa_id) {
            return Err(AppError::NotFound("PDSA cycle"));
        }
        let Some((pdsa, item)) = self.get_record::<Pdsa>(keys::pdsa(project_id, pdsa_id)).await? else {
            return Err(AppError::NotFound("PDSA cycle"));
        };
        Self::require_author_or_team(&p, claims, &pdsa.created_by)?;
        let mut writes = vec![Write::Delete { pk: item.pk.clone(), sk: item.sk.clone(), condition: Condition::None }];
        writes.extend(crate::idempotency::delete_named_record(&item));
        self.records.transact(writes).await?;
        tracing::info!(project = %project_id, pdsa = %pdsa_id, "PDSA cycle taken down");
        Ok(())
    }
}
