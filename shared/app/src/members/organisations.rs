//! Organisations and the directory that resolves their names for every answer.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use qnet_domain::organisation::{Organisation, OrganisationInput, email_domain};
use qnet_ports::{Condition, Index, Item, Query, StoreError, Write};

use crate::idempotency::{Created, Creation, IdempotencyKey};
use crate::views::{OrganisationList, OrganisationWithCount};
use crate::{App, AppError, AppResult, Claims, PageRequest, decode, encode, keys};

/// How long a container trusts its copy of the organisation list when its store
/// has no change mark (DynamoDB). Organisations change rarely; every write
/// through this container clears it at once.
const DIRECTORY_TTL: Duration = Duration::from_secs(30);

#[derive(Default)]
pub(crate) struct Directory {
    cache: RwLock<Option<Arc<Cached>>>,
}

struct Cached {
    at: Instant,
    /// The store's change mark read before the list was: where the store has
    /// one, the copy is current exactly while the mark has not moved (a write
    /// by another process included), which the published lists' kept pages
    /// rely on for the names they join in (decision 0024).
    mark: Option<u64>,
    list: Arc<Vec<Organisation>>,
    names: Arc<HashMap<String, String>>,
}

fn org_item(o: &Organisation) -> Item {
    let (pk, sk) = keys::org(&o.id);
    Item::new(pk, sk, encode(o)).with_gsi1(keys::ORG_LIST, format!("{}#{}", o.name.to_lowercase(), o.id)).with_version(o.version)
}

impl App {
    /// All organisations, sorted by name (cached briefly per container).
    pub async fn organisations(&self) -> AppResult<Arc<Vec<Organisation>>> {
        Ok(self.directory().await?.list.clone())
    }

    /// The organisation list and names, from the copy while it is current.
    async fn directory(&self) -> AppResult<Arc<Cached>> {
        // Without a mark (or if it cannot be read) the copy lasts its TTL.
        let mark = self.records.change_mark().await.ok().flatten();
        if let Some(c) = self.orgs.cache.read().expect("lock").as_ref() {
            let current = match mark {
                Some(m) => c.mark == Some(m),
                None => c.at.elapsed() < DIRECTORY_TTL,
            };
            if current {
                return Ok(c.clone());
            }
        }
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.records.query(Query::new(Index::Gsi1, keys::ORG_LIST).limit(100).after(cursor)).await?;
            for item in &page.items {
                all.push(decode::<Organisation>(item)?);
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let list = Arc::new(all);
        let names = Arc::new(list.iter().map(|o| (o.id.clone(), o.name.clone())).collect());
        let cached = Arc::new(Cached { at: Instant::now(), mark, list, names });
        *self.orgs.cache.write().expect("lock") = Some(cached.clone());
        Ok(cached)
    }

    fn forget_organisations(&self) {
        *self.orgs.cache.write().expect("lock") = None;
    }

    /// The names of organisations by id, for answers (cached with the list, and
    /// from the same copy, so never older than the mark read for it).
    pub async fn organisation_names(&self) -> AppResult<Arc<HashMap<String, String>>> {
        Ok(self.directory().await?.names.clone())
    }

    pub async fn organisation(&self, id: &str) -> AppResult<Option<Organisation>> {
        if let Some(o) = self.organisations().await?.iter().find(|o| o.id == id) {
            return Ok(Some(o.clone()));
        }
        // Created by another container moments ago: read through.
        Ok(self.get_record::<Organisation>(keys::org(id)).await?.map(|(o, _)| o))
    }

    /// Finds an organisation by id or (case-insensitive) name.
    pub async fn find_organisation(&self, id_or_name: &str) -> AppResult<Option<Organisation>> {
        if let Some(o) = self.organisation(id_or_name).await? {
            return Ok(Some(o));
        }
        let want = id_or_name.trim().to_lowercase();
        Ok(self.organisations().await?.iter().find(|o| o.name.to_lowercase() == want).cloned())
    }

    /// Organisations that list the email address's domain.
    pub async fn organisations_for_email(&self, email: &str) -> AppResult<Vec<String>> {
        let Some(domain) = email_domain(email) else { return Ok(vec![]) };
        let page = self.records.query(Query::new(Index::Primary, keys::org_domain_partition(&domain)).limit(100)).await?;
        Ok(page.items.iter().filter_map(|i| i.data.get("organisation_id")?.as_str().map(String::from)).collect())
    }

    /// `GET /organisations`: a page by name, each with its member count, read
    /// fresh (one Query for all counters; see [`crate::members::directory`]).
    pub async fn list_organisations(&self, page: &PageRequest) -> AppResult<OrganisationList> {
        let (found, next_cursor) = self.list_page(Query::new(Index::Gsi1, keys::ORG_LIST), page).await?;
        let counts = self.organisation_member_counts().await?;
        let items = found
            .iter()
            .map(|item| {
                let o: Organisation = decode(item)?;
                Ok(OrganisationWithCount { member_count: counts.get(&o.id).copied().unwrap_or(0), organisation: o })
            })
            .collect::<AppResult<_>>()?;
        Ok(OrganisationList { items, next_cursor })
    }

    pub async fn create_organisation(
        &self,
        claims: &Claims,
        input: OrganisationInput,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<Creation> {
        require_admin(claims)?;
        let now = self.now_text();
        let org = Organisation {
            id: self.new_id(),
            name: input.name.unwrap_or_default(),
            kind: input.kind.expect("type is required on create"),
            ods_code: input.ods_code.flatten(),
            email_domains: input.email_domains.unwrap_or_default(),
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        let mut writes = vec![Write::Put { item: org_item(&org), condition: Condition::NotExists }, name_claim(&org)];
        writes.extend(domain_writes(&org.id, &[], &org.email_domains));
        let response = Created::new(org.id.clone(), &org);
        let out = self.commit(writes, response, idem).await;
        self.forget_organisations();
        out.map_err(|e| name_taken(e, &org.name))
    }

    pub async fn update_organisation(
        &self,
        claims: &Claims,
        id: &str,
        input: OrganisationInput,
        if_match: Option<u64>,
    ) -> AppResult<Organisation> {
        require_admin(claims)?;
        let (mut org, _) = self.get_record::<Organisation>(keys::org(id)).await?.ok_or(AppError::NotFound("organisation"))?;
        if let Some(v) = if_match
            && v != org.version
        {
            return Err(AppError::VersionMismatch { current: org.version });
        }
        let before = org.email_domains.clone();
        let old_name = org.name.clone();
        let old_version = org.version;
        if let Some(n) = input.name {
            org.name = n;
        }
        if let Some(k) = input.kind {
            org.kind = k;
        }
        if let Some(c) = input.ods_code {
            org.ods_code = c;
        }
        if let Some(d) = input.email_domains {
            org.email_domains = d;
        }
        org.version += 1;
        org.updated_at = self.now_text();
        let mut writes = vec![Write::Put { item: org_item(&org), condition: Condition::VersionIs(old_version) }];
        let renamed = keys::org_name(&old_name) != keys::org_name(&org.name);
        if renamed {
            let (pk, sk) = keys::org_name(&old_name);
            writes.push(Write::Delete { pk, sk, condition: Condition::None });
            writes.push(name_claim(&org));
        }
        writes.extend(domain_writes(&org.id, &before, &org.email_domains));
        let result = self.records.transact(writes).await;
        self.forget_organisations();
        match result {
            Ok(()) => Ok(org),
            // Write 0 is the version check; a later one is the name claim.
            Err(StoreError::TransactionConflict { index: Some(i) }) if i > 0 && renamed => Err(name_taken_error(&org.name)),
            Err(e) if e.is_conflict() => Err(AppError::VersionMismatch { current: old_version + 1 }),
            Err(e) => Err(e.into()),
        }
    }
}

/// Claims the organisation's name (case-insensitive), so two admins can never
/// create the same organisation twice.
fn name_claim(org: &Organisation) -> Write {
    let (pk, sk) = keys::org_name(&org.name);
    Write::Put { item: Item::new(pk, sk, serde_json::json!({"organisation_id": org.id})), condition: Condition::NotExists }
}

fn name_taken_error(name: &str) -> AppError {
    AppError::Conflict(format!("an organisation called {name} already exists"))
}

fn name_taken(e: AppError, name: &str) -> AppError {
    match e {
        AppError::Conflict(_) => name_taken_error(name),
        other => other,
    }
}

fn domain_writes(org_id: &str, before: &[String], after: &[String]) -> Vec<Write> {
    let mut w = Vec::new();
    for d in after.iter().filter(|d| !before.contains(d)) {
        let (pk, sk) = keys::org_domain(d, org_id);
        w.push(Write::Put {
            item: Item::new(pk, sk, serde_json::json!({"organisation_id": org_id, "domain": d})),
            condition: Condition::None,
        });
    }
    for d in before.iter().filter(|d| !after.contains(d)) {
        let (pk, sk) = keys::org_domain(d, org_id);
        w.push(Write::Delete { pk, sk, condition: Condition::None });
    }
    w
}

/// Refuses anyone but an admin. The admin routes call it before they
/// parse a body, so a refusal wins over invalid fields.
pub fn require_admin(claims: &Claims) -> AppResult<()> {
    if claims.has(qnet_domain::Role::Admin) { Ok(()) } else { Err(AppError::Forbidden("only an admin may do this")) }
}
