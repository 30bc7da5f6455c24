//! A member's randomised coffee (`GET /me/coffee`): whether they are in the
//! pool, who they are paired with this week (and the introduction that was
//! emailed), and the rounds before. Rounds are read by their week, so the
//! answer is bounded: this week and [`PAST_ROUNDS`] weeks back.

use qnet_domain::digest::{Cadence, Period};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::coffee::StoredRound;
use crate::{App, AppError, AppResult, Claims, keys};

/// How many weeks back `past` looks.
pub const PAST_ROUNDS: i64 = 12;

/// Someone a member was paired with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoffeePartner {
    pub name: String,
    /// Their organisation's name.
    pub organisation: Option<String>,
    /// The address the introduction went to (the pair reply to each other).
    pub email: String,
}

/// One round (an ISO week, Europe/London) as the member saw it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyCoffeeRound {
    /// The week, e.g. `2026-W10`.
    pub round: String,
    /// The others in the member's group (one, or two in a trio); people who
    /// have left Qnet since are not shown.
    pub partners: Vec<CoffeePartner>,
    /// When the introduction email went out; null until it has.
    pub introduced_at: Option<String>,
    /// The introduction's words as emailed (plain text); null until sent.
    pub introduction: Option<String>,
}

/// `GET /me/coffee`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyCoffee {
    /// In the pool of each new round.
    pub opt_in: bool,
    /// This week's round id.
    pub round: String,
    /// This week's pairing; null when the round has not been drawn yet or the
    /// member is not in it.
    pub this_week: Option<MyCoffeeRound>,
    /// Earlier rounds the member was in, newest first (up to 12 weeks back).
    pub past: Vec<MyCoffeeRound>,
}

fn round_id(t: OffsetDateTime) -> AppResult<String> {
    let p = Period::containing(Cadence::Weekly, t).ok_or_else(|| AppError::Unavailable("no week contains this time".into()))?;
    Ok(p.id.trim_start_matches("weekly-").to_string())
}

impl App {
    async fn my_round(&self, member_id: &str, round: &str) -> AppResult<Option<MyCoffeeRound>> {
        let Some((stored, _)) = self.get_record::<StoredRound>(keys::coffee_round(round)).await? else {
            return Ok(None);
        };
        let Some((index, group)) = stored.groups.iter().enumerate().find(|(_, g)| g.iter().any(|m| m == member_id)) else {
            return Ok(None);
        };
        let names = self.organisation_names().await?;
        let mut people = Vec::new();
        for id in group {
            if let Some(m) = self.member_by_id(id).await? {
                let organisation = m.organisation_id.as_ref().and_then(|o| names.get(o)).cloned();
                people.push((m.id.clone(), CoffeePartner { name: m.name, organisation, email: m.email }));
            }
        }
        let claim = self.get_record::<serde_json::Value>(keys::coffee_claim(round, index)).await?;
        let introduced_at = claim.and_then(|(v, _)| v["at"].as_str().map(str::to_string));
        let introduction = match &introduced_at {
            Some(_) if people.len() >= 2 => {
                let mut ctx = tera::Context::new();
                ctx.insert("round", round);
                ctx.insert("names", &people.iter().map(|(_, p)| p.name.clone()).collect::<Vec<_>>());
                ctx.insert(
                    "people",
                    &people
                        .iter()
                        .map(|(_, p)| serde_json::json!({"name": p.name, "email": p.email, "organisation": p.organisation.clone().unwrap_or_default()}))
                        .collect::<Vec<_>>(),
                );
                Some(crate::mail::text("email/coffee-introduction", &ctx)?.trim().to_string())
            }
            _ => None,
        };
        let partners = people.into_iter().filter(|(id, _)| id != member_id).map(|(_, p)| p).collect();
        Ok(Some(MyCoffeeRound { round: round.to_string(), partners, introduced_at, introduction }))
    }

    /// The signed-in member's coffee: this week and the rounds before.
    pub async fn my_coffee(&self, claims: &Claims) -> AppResult<MyCoffee> {
        let member = self.member_by_id(&claims.sub).await?;
        let now = self.clock.now();
        let round = round_id(now)?;
        let this_week = self.my_round(&claims.sub, &round).await?;
        let mut past = Vec::new();
        for back in 1..=PAST_ROUNDS {
            if let Some(r) = self.my_round(&claims.sub, &round_id(now - time::Duration::weeks(back))?).await? {
                past.push(r);
            }
        }
        Ok(MyCoffee { opt_in: member.is_some_and(|m| m.coffee.opt_in), round, this_week, past })
    }
}
