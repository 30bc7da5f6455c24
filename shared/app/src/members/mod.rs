//! Members: created on first sign-in, with the organisation inferred from the
//! email domain; erasable on request.

pub mod directory;
pub mod organisations;
pub mod roles;
pub mod suppression;
pub mod views;

use qnet_domain::member::{Member, MemberPatch};
use qnet_ports::{Condition, Item, Write};

use crate::views::MemberView;
use crate::{App, AppError, AppResult, Claims, encode, keys};

/// The stored form of a member (also used by benchmarks to seed many at once).
pub fn member_item(m: &Member) -> Item {
    let (pk, sk) = keys::member(&m.id);
    let item = Item::new(pk, sk, encode(m)).with_version(m.version);
    // The digest planner finds a cadence's members through GSI1. Members who
    // unsubscribed stay listed, so the planner can count them; members on `off`
    // are listed under `DIGEST#off`, which the planner never reads and the
    // weekly nudges do (every member is under exactly one cadence).
    let item = item.with_gsi1(keys::digest_subscribers(m.digest.cadence), m.id.clone());
    // Coffee rounds find their pool through GSI2 (sparse: only members who opted in).
    if m.coffee.opt_in { item.with_gsi2(keys::COFFEE_POOL, m.id.clone()) } else { item }
}

impl App {
    /// The signed-in member's profile, created on first sign-in.
    pub async fn member(&self, claims: &Claims) -> AppResult<Member> {
        if let Some((m, item)) = self.get_record::<Member>(keys::member(&claims.sub)).await? {
            // Profiles stored before digests existed are not in the digest
            // index yet: they join it on their next sign-in.
            let fresh = member_item(&m);
            if item.gsi1.is_none() && fresh.gsi1.is_some() {
                let _ = self.records.put(fresh, Condition::VersionIs(item.version)).await;
            }
            return Ok(m);
        }
        let orgs = self.organisations_for_email(&claims.email).await?;
        let now = self.now_text();
        let m = Member {
            id: claims.sub.clone(),
            name: if claims.name.trim().is_empty() { claims.email.clone() } else { claims.name.clone() },
            email: claims.email.clone(),
            // A domain shared by several organisations (nhs.net) decides nothing:
            // the member picks theirs.
            organisation_id: if orgs.len() == 1 { orgs.into_iter().next() } else { None },
            job_title: None,
            topics: vec![],
            digest: Default::default(),
            coffee: Default::default(),
            listed: false,
            ask_me_about: vec![],
            engagement: Default::default(),
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        let (epk, esk) = keys::member_email(&m.email);
        for attempt in 0..directory::ATTEMPTS {
            let mut writes = vec![
                Write::Put { item: member_item(&m), condition: Condition::NotExists },
                Write::Put {
                    item: Item::new(epk.clone(), esk.clone(), serde_json::json!({"member_id": m.id})),
                    condition: Condition::NotExists,
                },
            ];
            // Joining counts towards the organisation's members at once.
            writes.extend(directory::count_writes(self, None, m.organisation_id.as_deref()).await?);
            match self.records.transact(writes).await {
                Ok(()) => return Ok(m),
                Err(e) if e.is_conflict() => {
                    if let Some((m, _)) = self.get_record::<Member>(keys::member(&claims.sub)).await? {
                        return Ok(m);
                    }
                    if self.records.get(&epk, &esk).await?.is_some() {
                        return Err(AppError::Conflict("this email address belongs to another member".into()));
                    }
                    // The organisation's counter moved: count again.
                    directory::back_off(attempt).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict("your profile is being created at this moment; try again".into()))
    }

    pub async fn member_view(&self, m: Member) -> AppResult<MemberView> {
        let names = self.organisation_names().await?;
        let suppressed = self.suppression(&m.email).await?;
        let mut v = MemberView::new(m, &names);
        v.email_suppressed = suppressed.map(|s| crate::members::suppression::SuppressionView {
            reason: match s.reason {
                crate::members::suppression::SuppressionReason::HardBounce => "hard_bounce".into(),
                crate::members::suppression::SuppressionReason::Complaint => "complaint".into(),
            },
            since: s.since,
        });
        Ok(v)
    }

    /// `PATCH /me`. A member joins an organisation that lists their email
    /// domain (decision 0003); any other, such as a group that lists no domain,
    /// only by an admin's assignment ([`App::assign_member_organisation`]).
    pub async fn update_member(&self, claims: &Claims, patch: MemberPatch, if_match: Option<u64>) -> AppResult<Member> {
        self.change_member(Some(claims), &claims.sub, patch, if_match, false).await
    }

    /// Applies `patch` to the member `id` (created on first sign-in when
    /// `claims` are the member's own). `assigned`: an admin or the operator
    /// sets the organisation, so it need not list the member's email domain.
    async fn change_member(
        &self,
        claims: Option<&Claims>,
        id: &str,
        patch: MemberPatch,
        if_match: Option<u64>,
        assigned: bool,
    ) -> AppResult<Member> {
        let org = match &patch.organisation_id {
            Some(o) => Some(
                self.organisation(o).await?.ok_or_else(|| AppError::invalid("organisation_id", "is not a known organisation"))?,
            ),
            None => None,
        };
        let mut expected = if_match;
        for attempt in 0..directory::ATTEMPTS {
            let old = match claims {
                Some(c) => self.member(c).await?,
                None => self.member_by_id(id).await?.ok_or(AppError::NotFound("member"))?,
            };
            if let Some(v) = expected
                && v != old.version
            {
                return Err(AppError::VersionMismatch { current: old.version });
            }
            if let Some(o) = &org
                && !assigned
                && old.organisation_id.as_deref() != Some(o.id.as_str())
                && !qnet_domain::organisation::email_domain(&old.email).is_some_and(|d| o.email_domains.contains(&d))
            {
                return Err(AppError::invalid(
                    "organisation_id",
                    "does not list your email domain: choose an organisation that does, or ask an admin to assign you to this one",
                ));
            }
            let mut m = old.clone();
            patch.clone().apply(&mut m);
            m.version += 1;
            m.updated_at = self.now_text();
            // The directory entries and the organisation's count change with the
            // profile, in one transaction.
            let mut writes = vec![Write::Put { item: member_item(&m), condition: Condition::VersionIs(old.version) }];
            writes.extend(expert_writes(&m.id, &old.ask_me_about, &m.ask_me_about));
            if old.listed || m.listed {
                let (mentor, check) = directory::mentor_state(self, &m.id).await?;
                let entries = directory::entry_writes(
                    Some(directory::Listing { member: &old, mentor }),
                    Some(directory::Listing { member: &m, mentor }),
                );
                if !entries.is_empty() {
                    writes.extend(entries);
                    writes.push(check);
                }
            }
            writes.extend(directory::count_writes(self, old.organisation_id.as_deref(), m.organisation_id.as_deref()).await?);
            match self.records.transact(writes).await {
                Ok(()) => return Ok(m),
                // Someone else changed the profile: the caller decides again.
                // Otherwise a counter or the mentor profile moved: try again.
                Err(e) if e.is_conflict() => {
                    expected = Some(old.version);
                    directory::back_off(attempt).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict("your profile is changing at this moment; try again".into()))
    }

    /// Sets a member's organisation directly (the local token command's
    /// `--organisation`, an operator's command): an assignment, like an admin's.
    pub async fn set_member_organisation(&self, claims: &Claims, organisation_id: &str) -> AppResult<Member> {
        let patch = MemberPatch { organisation_id: Some(organisation_id.to_string()), ..Default::default() };
        self.change_member(Some(claims), &claims.sub, patch, None, true).await
    }

    /// `PUT /members/{id}/organisation` (admin): assigns a member to any
    /// organisation, whatever domains it lists (small groups often use
    /// personal addresses).
    pub async fn assign_member_organisation(
        &self,
        claims: &Claims,
        member_id: &str,
        organisation_id: String,
    ) -> AppResult<Member> {
        crate::members::organisations::require_admin(claims)?;
        let patch = MemberPatch { organisation_id: Some(organisation_id), ..Default::default() };
        self.change_member(None, member_id, patch, None, true).await
    }

    /// A member by id, if there is one.
    pub async fn member_by_id(&self, id: &str) -> AppResult<Option<Member>> {
        Ok(self.get_record::<Member>(keys::member(id)).await?.map(|(m, _)| m))
    }

    /// The member id already used by this email address, if any.
    pub async fn member_id_for_email(&self, email: &str) -> AppResult<Option<String>> {
        let (pk, sk) = keys::member_email(&email.to_ascii_lowercase());
        Ok(self.records.get(&pk, &sk).await?.and_then(|i| i.data.get("member_id")?.as_str().map(String::from)))
    }
}

/// The writes that keep the "Ask me about" index in step with a profile change.
pub(crate) fn expert_writes(member_id: &str, old: &[String], new: &[String]) -> Vec<Write> {
    let mut writes = Vec::new();
    for t in old.iter().filter(|t| !new.contains(t)) {
        let (pk, sk) = keys::expert(t, member_id);
        writes.push(Write::Delete { pk, sk, condition: Condition::None });
    }
    for t in new.iter().filter(|t| !old.contains(t)) {
        let (pk, sk) = keys::expert(t, member_id);
        writes.push(Write::Put { item: Item::new(pk, sk, serde_json::json!({})), condition: Condition::None });
    }
    writes
}

/// Erasure's part here: the profile, its email claim, its directory entries
/// and its organisation's count go (see `crate::erasure`).
pub(crate) async fn erase(app: &App, claims: &Claims) -> AppResult<()> {
    let (pk, sk) = keys::member(&claims.sub);
    let (epk, esk) = keys::member_email(&claims.email);
    for attempt in 0..directory::ATTEMPTS {
        let mut writes = vec![Write::Delete { pk: epk.clone(), sk: esk.clone(), condition: Condition::None }];
        match app.get_record::<Member>((pk.clone(), sk.clone())).await? {
            Some((m, item)) => {
                // The directory entries and the organisation's count go with the profile.
                writes.push(Write::Delete { pk: pk.clone(), sk: sk.clone(), condition: Condition::VersionIs(item.version) });
                writes.extend(expert_writes(&m.id, &m.ask_me_about, &[]));
                writes.extend(directory::entry_writes(Some(directory::Listing { member: &m, mentor: false }), None));
                writes.extend(directory::count_writes(app, m.organisation_id.as_deref(), None).await?);
            }
            None => writes.push(Write::Delete { pk: pk.clone(), sk: sk.clone(), condition: Condition::None }),
        }
        match app.records.transact(writes).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_conflict() => directory::back_off(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict("your profile is changing at this moment; try again".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_follows_the_topics() {
        let w = expert_writes("m1", &["a".into(), "b".into()], &["b".into(), "c".into()]);
        let described: Vec<String> = w
            .iter()
            .map(|w| match w {
                Write::Delete { pk, .. } => format!("-{pk}"),
                Write::Put { item, .. } => format!("+{}", item.pk),
                _ => "?".into(),
            })
            .collect();
        assert_eq!(described, ["-EXPERTS#a", "+EXPERTS#c"]);
    }
}
