//! Roles granted through the API (`/admin/roles`): an admin grants or revokes
//! organiser, moderator or admin for an email address. A grant is a record in
//! the table (the same on DynamoDB and the embedded store) and is added to the
//! caller's claims on every request (`App::with_granted_roles`), on top of any
//! Cognito group an operator assigned. So a revocation takes effect at once,
//! not when an ID token with the group in it expires (decision 0016).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use qnet_domain::Role;
use qnet_ports::{Condition, Cursor, Index, Item, Query};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::members::organisations::require_admin;
use crate::{App, AppError, AppResult, Claims, decode, encode, keys};

/// How long one process trusts what it read of an address's grants. Grants and
/// revocations made by this process clear it at once; another Lambda instance
/// sees them within this time.
const CACHE_FOR: Duration = Duration::from_secs(10);

/// One granted role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoleGrant {
    /// The address the role belongs to (lower case).
    pub email: String,
    /// organiser, moderator or admin.
    #[schema(value_type = String, example = "moderator")]
    pub role: Role,
    /// When it was granted (RFC 3339).
    pub granted_at: String,
    /// The admin who granted it (their member id).
    pub granted_by: String,
}

/// A page of grants, by address.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoleGrantList {
    pub items: Vec<RoleGrant>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// What one process remembers of addresses' grants.
#[derive(Default)]
pub(crate) struct GrantCache(Mutex<HashMap<String, (Instant, Vec<Role>)>>);

impl GrantCache {
    fn get(&self, email: &str) -> Option<Vec<Role>> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(email).filter(|(at, _)| at.elapsed() < CACHE_FOR).map(|(_, r)| r.clone())
    }
    fn put(&self, email: &str, roles: Vec<Role>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert(email.to_string(), (Instant::now(), roles));
    }
    fn forget(&self, email: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(email);
    }
}

fn parse_email(raw: &str) -> AppResult<String> {
    qnet_domain::member::normalise_email(raw).map_err(|m| AppError::invalid("email", &m))
}

fn parse_role(raw: &str) -> AppResult<Role> {
    match Role::parse(raw) {
        Some(Role::Member) => Err(AppError::invalid("role", "every signed-in person is a member already")),
        Some(r) => Ok(r),
        None => Err(AppError::invalid("role", "must be organiser, moderator or admin")),
    }
}

impl App {
    /// `GET /admin/roles`: every grant, by address (admins).
    pub async fn list_role_grants(&self, claims: &Claims, limit: u32, cursor: Option<&str>) -> AppResult<RoleGrantList> {
        require_admin(claims)?;
        let cursor = cursor.map(|c| Cursor::decode(c).map_err(|_| AppError::BadCursor)).transpose()?;
        let page = self.records.query(Query::new(Index::Gsi1, keys::ROLE_GRANTS).limit(limit).after(cursor)).await?;
        let items = page.items.iter().map(decode).collect::<AppResult<Vec<RoleGrant>>>()?;
        Ok(RoleGrantList { items, next_cursor: page.next.map(|c| c.encode()) })
    }

    /// `PUT /admin/roles`: grants `role` to `email` (admins). Granting what is
    /// already granted answers the existing grant and changes nothing.
    pub async fn grant_role(&self, claims: &Claims, email: &str, role: &str) -> AppResult<RoleGrant> {
        require_admin(claims)?;
        let (email, role) = match (parse_email(email), parse_role(role)) {
            (Ok(e), Ok(r)) => (e, r),
            (Err(AppError::Invalid(mut a)), Err(AppError::Invalid(b))) => {
                a.0.extend(b.0);
                return Err(AppError::Invalid(a));
            }
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        let grant = RoleGrant { email: email.clone(), role, granted_at: self.now_text(), granted_by: claims.sub.clone() };
        let (pk, sk) = keys::role_grant(&email, role.as_str());
        let item =
            Item::new(pk.clone(), sk.clone(), encode(&grant)).with_gsi1(keys::ROLE_GRANTS, format!("{email}#{}", role.as_str()));
        self.grants.forget(&email);
        match self.records.put(item, Condition::NotExists).await {
            Ok(()) => {
                tracing::info!(role = role.as_str(), outcome = "granted", "role grant");
                Ok(grant)
            }
            Err(e) if e.is_conflict() => match self.records.get(&pk, &sk).await? {
                Some(existing) => decode(&existing),
                None => Err(AppError::Conflict("the grant changed at the same time; try again".into())),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// `DELETE /admin/roles`: revokes `role` from `email` (admins). Revoking
    /// what is not granted is 404. An admin may not revoke their own admin role
    /// (so the system always keeps one).
    pub async fn revoke_role(&self, claims: &Claims, email: &str, role: &str) -> AppResult<()> {
        require_admin(claims)?;
        let email = parse_email(email)?;
        let role = parse_role(role)?;
        if role == Role::Admin && email == claims.email {
            return Err(AppError::Conflict("you cannot revoke your own admin role; ask another admin".into()));
        }
        let (pk, sk) = keys::role_grant(&email, role.as_str());
        self.grants.forget(&email);
        match self.records.delete(&pk, &sk, Condition::Exists).await {
            Ok(()) => {
                tracing::info!(role = role.as_str(), outcome = "revoked", "role grant");
                Ok(())
            }
            Err(e) if e.is_conflict() => Err(AppError::NotFound("role grant")),
            Err(e) => Err(e.into()),
        }
    }

    /// The roles granted to `email` through the API.
    pub async fn granted_roles(&self, email: &str) -> AppResult<Vec<Role>> {
        if let Some(r) = self.grants.get(email) {
            return Ok(r);
        }
        let (pk, _) = keys::role_grant(email, "");
        let page = self.records.query(Query::new(Index::Primary, pk).limit(10)).await?;
        let roles: Vec<Role> = page.items.iter().filter_map(|i| decode::<RoleGrant>(i).ok()).map(|g| g.role).collect();
        self.grants.put(email, roles.clone());
        Ok(roles)
    }

    /// `claims` with the roles granted to its address added.
    pub async fn with_granted_roles(&self, claims: Claims) -> AppResult<Claims> {
        let granted = self.granted_roles(&claims.email).await?;
        if granted.iter().all(|r| claims.has(*r)) {
            return Ok(claims);
        }
        let mut groups = claims.groups.clone();
        groups.extend(granted);
        Ok(Claims::new(claims.sub, claims.email, claims.name, groups))
    }
}
