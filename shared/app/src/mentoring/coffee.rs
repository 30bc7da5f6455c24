//! Randomised coffee: each ISO week (Europe/London) is a round. The first run in
//! a week freezes the pool (members who opted in) and the groups in one record,
//! written create-if-absent, so every later run of that week reads the stored
//! round. Each group is introduced by one email, at most once (a claim per group).

use qnet_domain::digest::{Cadence, Period};
use qnet_matching::{COFFEE_HISTORY_ROUNDS, CoffeeMember};
use qnet_ports::{Condition, Index, Item, OutgoingMail, Query, Write};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{App, AppError, AppResult, decode, encode, keys};

/// A stored round: its frozen pool and its groups.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRound {
    pub round: String,
    pub pool: Vec<CoffeeMember>,
    /// Pairs, and one trio when the pool is odd.
    pub groups: Vec<Vec<String>>,
    pub created_at: String,
}

/// What `qnet coffee-round` prints.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CoffeeReport {
    pub round: String,
    pub pairs: Vec<Vec<String>>,
    /// Introductions sent by this run (0 when the round was already sent).
    #[serde(skip)]
    pub sent: usize,
}

/// Tally writes per transaction of a round's count (with its claim, under
/// the store's 100 writes per transaction).
const COFFEE_TALLY_CHUNK: usize = 90;

fn round_id(t: OffsetDateTime) -> AppResult<String> {
    let p = Period::containing(Cadence::Weekly, t).ok_or_else(|| AppError::Unavailable("no week contains this time".into()))?;
    Ok(p.id.trim_start_matches("weekly-").to_string())
}

impl App {
    async fn stored_round(&self, round: &str) -> AppResult<Option<StoredRound>> {
        Ok(self.get_record::<StoredRound>(keys::coffee_round(round)).await?.map(|(r, _)| r))
    }

    /// The members who opted in now, with their organisations.
    async fn coffee_pool(&self) -> AppResult<Vec<CoffeeMember>> {
        let mut pool = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.records.query(Query::new(Index::Gsi2, keys::COFFEE_POOL).limit(100).after(cursor)).await?;
            for item in &page.items {
                let m: qnet_domain::member::Member = decode(item)?;
                if m.coffee.opt_in {
                    pool.push(CoffeeMember { id: m.id, organisation_id: m.organisation_id.unwrap_or_default() });
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(pool),
            }
        }
    }

    /// The round of the week holding `now`: created (pool frozen, groups drawn)
    /// on the first run, read back on every later one; then each group's
    /// introduction is sent unless it already was. `dry_run` writes and sends
    /// nothing.
    pub async fn coffee_round(&self, now: OffsetDateTime, dry_run: bool) -> AppResult<CoffeeReport> {
        let round = round_id(now)?;
        let stored = match self.stored_round(&round).await? {
            Some(r) => r,
            None => {
                let pool = self.coffee_pool().await?;
                let mut history = Vec::new();
                for back in 1..=COFFEE_HISTORY_ROUNDS as i64 {
                    if let Some(r) = self.stored_round(&round_id(now - time::Duration::weeks(back))?).await? {
                        history.push(
                            qnet_matching::CoffeeRound { groups: r.groups, unpaired: None, repeats: 0, same_organisation: 0 }
                                .pairs(),
                        );
                    }
                }
                let drawn = qnet_matching::coffee_round(&round, &pool, &history)
                    .map_err(|e| AppError::Unavailable(format!("coffee round refused its pool: {e}")))?;
                let r = StoredRound { round: round.clone(), pool, groups: drawn.groups, created_at: self.now_text() };
                if dry_run {
                    return Ok(CoffeeReport { round, pairs: r.groups, sent: 0 });
                }
                let (pk, sk) = keys::coffee_round(&round);
                match self.records.put(Item::new(pk, sk, encode(&r)), Condition::NotExists).await {
                    Ok(()) => r,
                    // Another run created the round first: its groups are the round's.
                    Err(e) if e.is_conflict() => self.stored_round(&round).await?.ok_or(AppError::NotFound("coffee round"))?,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let mut sent = 0;
        if !dry_run {
            for (i, group) in stored.groups.iter().enumerate() {
                if self.introduce_coffee_group(&stored.round, i, group).await? {
                    sent += 1;
                }
            }
        }
        if !dry_run {
            // After the introductions, so a busy count never holds them up; a
            // failure here fails the run, whose retry counts what is left.
            self.tally_coffee_round(&stored).await?;
        }
        tracing::info!(round = %stored.round, groups = stored.groups.len(), sent, "coffee round");
        Ok(CoffeeReport { round: stored.round, pairs: stored.groups, sent })
    }

    /// Counts the round's groups in the insights (coffee pairs, and which
    /// organisation types met), in the month the round was drawn. A round may
    /// touch more tallies than one transaction holds, so they are written in
    /// chunks, each with a claim in the same transaction: a rerun writes only
    /// the chunks not written yet, and no chunk twice.
    async fn tally_coffee_round(&self, r: &StoredRound) -> AppResult<()> {
        let orgs = self.organisations().await?;
        let org_of = |member: &str| r.pool.iter().find(|m| m.id == member).map(|m| m.organisation_id.clone());
        let mut t = crate::tally::Tallies::new();
        let pk = crate::tally::month_partition(crate::tally::month_of(&r.created_at));
        for group in &r.groups {
            let group_orgs: Vec<String> = group.iter().filter_map(|m| org_of(m)).filter(|o| !o.is_empty()).collect();
            let mut fields = vec!["coffee_pairs".to_owned()];
            for o in &group_orgs {
                if let Some(org) = orgs.iter().find(|x| x.id == *o) {
                    let f = format!("coffee_with:{}", org.kind.as_str());
                    if !fields.contains(&f) {
                        fields.push(f);
                    }
                }
            }
            t.add(&pk, &self.tally_scopes(&group_orgs).await?, &fields, 1);
        }
        for (i, chunk) in t.into_writes().chunks(COFFEE_TALLY_CHUNK).enumerate() {
            let (cpk, _) = keys::coffee_round(&r.round);
            let csk = format!("TALLY#{i:05}");
            let claim = Item::new(cpk.clone(), csk.clone(), serde_json::json!({"at": self.now_text()}));
            let mut writes = vec![Write::Put { item: claim, condition: Condition::NotExists }];
            writes.extend(chunk.iter().cloned());
            match self.records.transact(writes).await {
                Ok(()) => {}
                // Counted by an earlier run (its claim stands), or refused by a
                // concurrent transaction (no claim): the job's retry counts it.
                Err(e) if e.is_conflict() => {
                    if self.records.get(&cpk, &csk).await?.is_none() {
                        return Err(AppError::Conflict("the coffee round's counts are busy; try again".into()));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Sends one group's introduction unless its claim is taken; true when sent.
    async fn introduce_coffee_group(&self, round: &str, index: usize, group: &[String]) -> AppResult<bool> {
        let (pk, sk) = keys::coffee_claim(round, index);
        match self
            .records
            .put(Item::new(pk.clone(), sk.clone(), serde_json::json!({"at": self.now_text()})), Condition::NotExists)
            .await
        {
            Ok(()) => {}
            Err(e) if e.is_conflict() => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        let release = |e: AppError| async move {
            let _ = self.records.delete(&pk, &sk, Condition::None).await;
            e
        };
        let mail = match self.coffee_mail(round, group).await {
            Ok(Some(m)) => m,
            // Members have left since the round was drawn: nobody to introduce.
            Ok(None) => return Ok(false),
            Err(e) => return Err(release(e).await),
        };
        if let Err(e) = self.deliver(&*self.mailer, &mail).await {
            return Err(release(AppError::Unavailable(e.to_string())).await);
        }
        Ok(true)
    }

    async fn coffee_mail(&self, round: &str, group: &[String]) -> AppResult<Option<OutgoingMail>> {
        let names = self.organisation_names().await?;
        let mut people = Vec::new();
        for id in group {
            // Someone erased since the round was drawn is left out of the email.
            if let Some(m) = self.member_by_id(id).await? {
                people.push(m);
            }
        }
        if people.len() < 2 {
            return Ok(None);
        }
        let mut ctx = tera::Context::new();
        ctx.insert("round", round);
        ctx.insert("names", &people.iter().map(|m| m.name.clone()).collect::<Vec<_>>());
        ctx.insert(
            "people",
            &people
                .iter()
                .map(|m| {
                    serde_json::json!({"name": m.name, "email": m.email,
                        "organisation": m.organisation_id.as_ref().and_then(|o| names.get(o)).cloned().unwrap_or_default()})
                })
                .collect::<Vec<_>>(),
        );
        let mut h = crate::mail::Headers::new(
            ("Qnet coffee", &*self.mail_from),
            (people[0].name.as_str(), people[0].email.as_str()),
            format!("Your Qnet coffee this week ({round})"),
        );
        h.to = people.iter().map(|m| (m.name.as_str(), m.email.as_str())).collect();
        Ok(Some(crate::mail::compose("email/coffee-introduction", &ctx, h)?.mail))
    }
}
