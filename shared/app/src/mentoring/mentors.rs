//! Mentor profiles: a member offers to mentor, changes or withdraws the offer.

use crate::mentoring::store::{badge_writes, mentor_item};
use crate::mentoring::views::MentorView;
use crate::mentoring::{ATTEMPTS, conflict};
use crate::{App, AppError, AppResult, Claims, decode, keys};
use qnet_domain::mentoring::MentorInput;
use qnet_domain::mentoring::MentorProfile;
use qnet_ports::{Condition, Index, Query, Write};

impl App {
    /// The signed-in member's mentor profile.
    pub async fn my_mentor_profile(&self, claims: &Claims) -> AppResult<MentorView> {
        match self.mentor_record(&claims.sub).await? {
            Some((p, _)) => self.mentor_view(p).await,
            None => Err(AppError::NotFound("mentor profile")),
        }
    }

    /// Creates or replaces the signed-in member's mentor profile. Capacity may
    /// not go below the mentees and unanswered offers the mentor has now.
    pub async fn put_mentor_profile(&self, claims: &Claims, input: MentorInput) -> AppResult<MentorView> {
        for _ in 0..ATTEMPTS {
            let member = self.member(claims).await?;
            let Some(organisation_id) = member.organisation_id.clone() else {
                return Err(conflict(
                    "choose your organisation first (PATCH /me organisation_id): mentors are matched across organisations",
                ));
            };
            let existing = self.mentor_record(&claims.sub).await?;
            let now = self.now_text();
            let (active, held, created_at, version, condition) = match &existing {
                Some((p, item)) => (p.active, p.held, p.created_at.clone(), p.version + 1, Condition::VersionIs(item.version)),
                None => (0, 0, now.clone(), 1, Condition::NotExists),
            };
            if input.capacity < active + held {
                return Err(AppError::invalid(
                    "capacity",
                    &format!(
                        "must be at least {}: you have {active} active mentees and {held} offers waiting for your answer",
                        active + held
                    ),
                ));
            }
            let p = MentorProfile {
                member_id: member.id.clone(),
                name: member.name.clone(),
                organisation_id: organisation_id.clone(),
                offers: input.offers.clone(),
                topics: input.topics.clone(),
                skills: input.skills.clone(),
                capacity: input.capacity,
                active,
                held,
                availability: input.availability.clone(),
                bio: input.bio.clone().map(String::from),
                coaching_accreditation: input.coaching_accreditation.clone().map(String::from),
                accepting: input.accepting,
                created_at,
                updated_at: now,
                version,
            };
            // The mentor badge in the member directory changes with the profile.
            let badge_before = existing.as_ref().is_some_and(|(_, item)| crate::members::directory::offers_mentoring(item));
            let mut writes = vec![Write::Put { item: mentor_item(&p), condition }];
            writes.extend(badge_writes(&member, badge_before, !p.offers.is_empty()));
            match self.records.transact(writes).await {
                Ok(()) => return self.mentor_view(p).await,
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(conflict("your mentor profile is changing at this moment; try again"))
    }

    /// Removes the signed-in member's mentor profile; refused while they have
    /// mentees or unanswered offers.
    pub async fn delete_mentor_profile(&self, claims: &Claims) -> AppResult<()> {
        let Some((p, item)) = self.mentor_record(&claims.sub).await? else { return Ok(()) };
        if p.load() > 0 {
            return Err(conflict(
                "you have active mentees or offers waiting for your answer: close or answer them first, or set accepting to false",
            ));
        }
        let (pk, sk) = keys::mentor(&claims.sub);
        let member = self.member(claims).await?;
        let mut writes = vec![Write::Delete { pk, sk, condition: Condition::VersionIs(item.version) }];
        writes.extend(badge_writes(&member, crate::members::directory::offers_mentoring(&item), false));
        match self.records.transact(writes).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_conflict() => Err(conflict("your mentor profile changed at this moment; try again")),
            Err(e) => Err(e.into()),
        }
    }

    /// Every mentor profile (the pool the matching reads).
    pub async fn all_mentors(&self) -> AppResult<Vec<MentorProfile>> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.records.query(Query::new(Index::Gsi1, keys::MENTORS).limit(100).after(cursor)).await?;
            for item in &page.items {
                out.push(decode::<MentorProfile>(item)?);
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }
}
