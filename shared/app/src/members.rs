//! Members: created on first sign-in, with the organisation inferred from the
//! email domain; erasable on request.

use qnet_domain::digest::Cadence;
use qnet_domain::member::{Member, MemberPatch};
use qnet_ports::{Condition, Index, Item, Query, Write};

use crate::views::MemberView;
use crate::{App, AppError, AppResult, Claims, encode, keys};

/// The stored form of a member (also used by benchmarks to seed many at once).
pub fn member_item(m: &Member) -> Item {
    let (pk, sk) = keys::member(&m.id);
    let item = Item::new(pk, sk, encode(m)).with_version(m.version);
    // The digest planner finds a cadence's members through GSI1. Members who
    // unsubscribed stay listed, so the planner can count them.
    let item = match m.digest.cadence {
        Cadence::Off => item,
        c => item.with_gsi1(keys::digest_subscribers(c), m.id.clone()),
    };
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
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        let (epk, esk) = keys::member_email(&m.email);
        let writes = vec![
            Write::Put { item: member_item(&m), condition: Condition::NotExists },
            Write::Put { item: Item::new(epk, esk, serde_json::json!({"member_id": m.id})), condition: Condition::NotExists },
        ];
        match self.records.transact(writes).await {
            Ok(()) => Ok(m),
            Err(e) if e.is_conflict() => match self.get_record::<Member>(keys::member(&claims.sub)).await? {
                Some((m, _)) => Ok(m),
                None => Err(AppError::Conflict("this email address belongs to another member".into())),
            },
            Err(e) => Err(e.into()),
        }
    }

    pub async fn member_view(&self, m: Member) -> AppResult<MemberView> {
        let names = self.organisation_names().await?;
        let suppressed = self.suppression(&m.email).await?;
        let mut v = MemberView::new(m, &names);
        v.email_suppressed = suppressed.map(|s| crate::suppression::SuppressionView {
            reason: match s.reason {
                crate::suppression::SuppressionReason::HardBounce => "hard_bounce".into(),
                crate::suppression::SuppressionReason::Complaint => "complaint".into(),
            },
            since: s.since,
        });
        Ok(v)
    }

    pub async fn update_member(&self, claims: &Claims, body: &serde_json::Value, if_match: Option<u64>) -> AppResult<Member> {
        let patch = MemberPatch::parse(body)?;
        if let Some(o) = &patch.organisation_id
            && self.organisation(o).await?.is_none()
        {
            return Err(AppError::invalid("organisation_id", "is not a known organisation"));
        }
        let mut m = self.member(claims).await?;
        if let Some(v) = if_match
            && v != m.version
        {
            return Err(AppError::VersionMismatch { current: m.version });
        }
        let old = m.version;
        patch.apply(&mut m);
        m.version += 1;
        m.updated_at = self.now_text();
        match self.records.put(member_item(&m), Condition::VersionIs(old)).await {
            Ok(()) => Ok(m),
            Err(e) if e.is_conflict() => Err(AppError::VersionMismatch { current: old + 1 }),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets a member's organisation directly (the local token command's
    /// `--organisation`).
    pub async fn set_member_organisation(&self, claims: &Claims, organisation_id: &str) -> AppResult<Member> {
        self.update_member(claims, &serde_json::json!({ "organisation_id": organisation_id }), None).await
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

    /// Erases the profile and detaches the member's name and email from what they
    /// contributed (the contributions stay, anonymous). Earlier versions of those
    /// case studies, which still carry the name, are purged.
    pub async fn erase_member(&self, claims: &Claims) -> AppResult<()> {
        loop {
            let page = self.records.query(Query::new(Index::Gsi2, keys::members_case_studies(&claims.sub)).limit(25)).await?;
            if page.items.is_empty() {
                break;
            }
            for item in page.items {
                let id = item.data.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_string();
                self.detach_submitter(&id).await?;
            }
        }
        self.revoke_member_tokens(&claims.sub).await?;
        crate::boards::erase(self, &claims.sub).await?;
        crate::digest::purge_claims(self, &claims.sub).await?;
        crate::mentoring::erase(self, claims).await?;
        crate::resources::erase(self, &claims.sub).await?;
        let (pk, sk) = keys::member(&claims.sub);
        let (epk, esk) = keys::member_email(&claims.email);
        self.records
            .transact(vec![
                Write::Delete { pk, sk, condition: Condition::None },
                Write::Delete { pk: epk, sk: esk, condition: Condition::None },
            ])
            .await?;
        Ok(())
    }
}
