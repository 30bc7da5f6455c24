//! Mentoring and coaching: mentor profiles, requests, proposals, offers by email
//! and pairings. The rules of who suits whom are `qnet-matching`'s (`rank`,
//! `assign`); this module loads the data, keeps the states and sends the emails.
//!
//! A request is `open` → `proposed` (one live proposal, which holds one of the
//! mentor's places until it is answered or expires) → `active` → `closed`, or
//! `withdrawn` before `closed`. Every change of state is one transaction whose
//! writes carry version conditions on both the request and the mentor's profile,
//! so a place is never taken twice and a retried answer changes nothing.
//! A request is proposed to its best candidate as soon as it is created (in the
//! request path), and when an offer is declined; `run_matching` (`qnet match`,
//! `functions/mentoring`) expires lapsed offers and assigns every open request at
//! once.

pub mod coffee;
pub mod mentees;
pub mod my_coffee;

mod matching;
mod mentors;
mod notices;
mod offers;
mod settings;
mod store;
pub(crate) use store::request_item as request_index_item;
mod views;

pub use settings::MentoringSettings;
pub use views::{
    MatchList, MatchReport, MatchView, MentorView, MentoringRequestList, MentoringRequestView, OfferStatus, OrganisationRef,
    PairingView, ProposalView,
};

use std::collections::HashMap;

use qnet_domain::mentoring::RequestInput;
pub use qnet_domain::mentoring::{Feedback, MentorProfile, MentoringRequest, Pairing, Proposal, RequestState};
use qnet_domain::text::FreeText;
use qnet_matching::Mentor;
use qnet_ports::{Condition, Index, Item, Query, Write};

use crate::idempotency::{Created, Creation, IdempotencyKey};
use crate::mentoring::matching::{as_mentor, as_request};
use crate::mentoring::store::{free_slot, holds_a_slot, mentor_item, request_item};
use crate::{App, AppError, AppResult, Claims, PageRequest, decode, keys};

/// The purpose signed into offer links.
pub const OFFER_PURPOSE: &str = "mentoring-offer";
/// Days a mentor has to answer an offer when configuration says nothing.
pub const DEFAULT_OFFER_DAYS: u32 = 7;
/// How many times a state change is retried when another change won the race.
pub(crate) const ATTEMPTS: usize = 8;

/// How many mentoring requests one member may hold at once (open, proposed or
/// active): 3 is usual in mentoring tools, and it stops one member holding
/// every mentor's places. Withdrawing or closing one frees its slot. Counted
/// on `MEMBER#<id>/MREQCOUNT`, moved in the same transaction as the request.
pub const MAX_OPEN_MENTORING_REQUESTS: i64 = 3;

// ---- answers ----

// ---- conversions to the matching crate ----

pub(crate) fn conflict(why: &str) -> AppError {
    AppError::Conflict(why.to_string())
}

impl App {
    pub fn mentoring_settings(&self) -> MentoringSettings {
        *self.mentoring
    }

    /// Creates a mentoring request and proposes it to the best candidate at once.
    /// `links_base` is where offer links point (the API's public origin).
    pub async fn create_mentoring_request(
        &self,
        claims: &Claims,
        input: RequestInput,
        idem: Option<&IdempotencyKey>,
        links_base: &str,
    ) -> AppResult<Creation> {
        let member = self.member(claims).await?;
        let Some(organisation_id) = member.organisation_id.clone() else {
            return Err(conflict("choose your organisation first (PATCH /me organisation_id)"));
        };
        if let Some(m) = &input.mentor_id {
            let Some((p, _)) = self.mentor_record(m).await? else {
                return Err(AppError::invalid("mentor_id", "is not a mentor"));
            };
            if !p.accepting {
                return Err(AppError::invalid("mentor_id", "is not accepting requests at the moment"));
            }
            if m == &member.id {
                return Err(AppError::invalid("mentor_id", "is you"));
            }
            if !p.offers.contains(&input.kind) {
                return Err(AppError::invalid("mentor_id", &format!("does not offer {}", input.kind)));
            }
        }
        if let Some(answer) = self.replay(idem).await? {
            if let Some(id) = answer.body["id"].as_str() {
                self.propose_best(id, links_base).await?;
            }
            return self.current_answer(Creation::Replayed(answer)).await;
        }
        self.take_allowance(&member.id, crate::limits::Action::MentoringRequest).await?;
        self.ensure_open_request_count(&member.id).await?;
        let now = self.now_text();
        let r = MentoringRequest {
            id: self.new_id(),
            member_id: member.id.clone(),
            organisation_id,
            kind: input.kind,
            topics: input.topics,
            goals: input.goals.into_string(),
            cross_organisation: input.cross_organisation,
            availability: input.availability,
            requested_mentor: input.mentor_id,
            state: RequestState::Open,
            proposal: None,
            pairing: None,
            past_proposals: vec![],
            excluded_mentors: vec![],
            unmatched_reason: None,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        let body = serde_json::to_value(self.request_view(r.clone()).await?).expect("views serialise");
        let stored = Created { id: r.id.clone(), view: body };
        let (cpk, csk) = keys::open_mentoring_requests(&member.id);
        let take_slot = Write::Increment {
            pk: cpk.clone(),
            sk: csk.clone(),
            field: "open".into(),
            by: 1,
            at_least: None,
            at_most: Some(MAX_OPEN_MENTORING_REQUESTS),
        };
        let writes = vec![Write::Put { item: request_item(&r), condition: Condition::NotExists }, take_slot];
        let answer = match self.commit(writes, stored, idem).await {
            Ok(a) => a,
            Err(AppError::Conflict(why)) => {
                let open = self.records.get(&cpk, &csk).await?.and_then(|i| i.data["open"].as_i64()).unwrap_or(0);
                if open >= MAX_OPEN_MENTORING_REQUESTS {
                    return Err(conflict(&format!(
                        "you already have {MAX_OPEN_MENTORING_REQUESTS} open mentoring requests, the most one member may \
                         hold at once; withdraw one (DELETE /mentoring-requests/{{id}}) or close a pairing first"
                    )));
                }
                return Err(AppError::Conflict(why));
            }
            Err(e) => return Err(e),
        };
        // The first answer may be a replay of a concurrent twin; either way the
        // request exists: propose it (nothing happens unless it is still open).
        let id = answer.view()["id"].as_str().unwrap_or(&r.id).to_string();
        self.propose_best(&id, links_base).await?;
        self.current_answer(answer).await
    }

    /// Makes sure the member's count of open requests exists, counting the
    /// requests they hold when it does not (a member from before the limit).
    async fn ensure_open_request_count(&self, member_id: &str) -> AppResult<()> {
        let (pk, sk) = keys::open_mentoring_requests(member_id);
        if self.records.get(&pk, &sk).await?.is_some() {
            return Ok(());
        }
        let mut open = 0;
        let mut cursor = None;
        loop {
            let q = Query::new(Index::Gsi2, keys::members_mentoring_requests(member_id)).limit(100).after(cursor);
            let page = self.records.query(q).await?;
            for item in &page.items {
                let r: MentoringRequest = crate::decode(item)?;
                if holds_a_slot(r.state) {
                    open += 1;
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        match self.records.put(Item::new(pk, sk, serde_json::json!({"open": open})), Condition::NotExists).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_conflict() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// A creating answer with the request as it is now (after proposing), for a
    /// first answer and a replay alike.
    pub async fn current_answer(&self, mut answer: Creation) -> AppResult<Creation> {
        if let Some(id) = answer.view()["id"].as_str()
            && let Some((r, _)) = self.request_record(id).await?
        {
            *answer.view_mut() = serde_json::to_value(self.request_view(r).await?).expect("views serialise");
        }
        Ok(answer)
    }

    /// The signed-in member's requests, newest first, a page at a time.
    pub async fn my_mentoring_requests(&self, claims: &Claims, page: &PageRequest) -> AppResult<MentoringRequestList> {
        let q = Query::new(Index::Gsi2, keys::members_mentoring_requests(&claims.sub)).descending();
        let (found, next_cursor) = self.list_page(q, page).await?;
        let mut items = Vec::with_capacity(found.len());
        for item in &found {
            items.push(self.request_view(decode(item)?).await?);
        }
        Ok(MentoringRequestList { items, next_cursor })
    }

    /// Who may see a request: its member, the mentor it is proposed to or paired
    /// with, moderators. Anyone else hears that there is no such request.
    fn may_see(claims: &Claims, r: &MentoringRequest) -> bool {
        r.member_id == claims.sub
            || claims.is_moderator()
            || (r.state == RequestState::Proposed && r.proposal.as_ref().is_some_and(|p| p.mentor_id == claims.sub))
            || r.pairing.as_ref().is_some_and(|p| p.mentor_id == claims.sub)
    }

    async fn visible_request(&self, claims: &Claims, id: &str) -> AppResult<(MentoringRequest, Item)> {
        match self.request_record(id).await? {
            Some((r, item)) if Self::may_see(claims, &r) => Ok((r, item)),
            _ => Err(AppError::NotFound("mentoring request")),
        }
    }

    pub async fn mentoring_request(&self, claims: &Claims, id: &str) -> AppResult<MentoringRequestView> {
        let (r, _) = self.visible_request(claims, id).await?;
        self.request_view(r).await
    }

    /// The mentors who suit a request now, best first (its member and moderators).
    pub async fn mentoring_matches(&self, claims: &Claims, id: &str) -> AppResult<MatchList> {
        let (r, _) = self.visible_request(claims, id).await?;
        if r.member_id != claims.sub && !claims.is_moderator() {
            return Err(AppError::Forbidden("only the member who asked, and moderators, see a request's matches"));
        }
        let mentors = self.all_mentors().await?;
        let excluded = self.member_exclusions(&r.member_id).await?;
        let pool: Vec<Mentor> = mentors.iter().map(as_mentor).collect();
        let names = self.organisation_names().await?;
        let by_id: HashMap<&str, &MentorProfile> = mentors.iter().map(|m| (m.member_id.as_str(), m)).collect();
        let items = qnet_matching::rank(&as_request(&r, &excluded), &pool, &self.mentoring.weights)
            .into_iter()
            .map(|c| {
                let m = by_id[c.mentor_id.as_str()];
                MatchView {
                    mentor_id: c.mentor_id.clone(),
                    name: m.name.clone(),
                    organisation: names.get(&m.organisation_id).cloned(),
                    score: c.score,
                    reasons: c.reasons,
                }
            })
            .collect();
        Ok(MatchList { items })
    }

    /// Withdraws a request (its member only), releasing any place it holds.
    /// Withdrawing again changes nothing.
    pub async fn withdraw_mentoring_request(&self, claims: &Claims, id: &str) -> AppResult<()> {
        for _ in 0..ATTEMPTS {
            let (mut r, item) = self.visible_request(claims, id).await?;
            if r.member_id != claims.sub {
                return Err(AppError::Forbidden("only the member who asked may withdraw a request"));
            }
            let mut writes = Vec::new();
            if holds_a_slot(r.state) {
                self.ensure_open_request_count(&r.member_id).await?;
                writes.push(free_slot(&r.member_id));
            }
            match r.state {
                RequestState::Withdrawn => return Ok(()),
                RequestState::Closed => return Err(conflict("this mentoring has already closed")),
                RequestState::Open => {}
                RequestState::Proposed | RequestState::Active => {
                    let mentor_id = match r.state {
                        RequestState::Proposed => r.proposal.as_ref().map(|p| p.mentor_id.clone()),
                        _ => r.pairing.as_ref().map(|p| p.mentor_id.clone()),
                    };
                    if let Some(mentor_id) = mentor_id
                        && let Some((mut m, mitem)) = self.mentor_record(&mentor_id).await?
                    {
                        if r.state == RequestState::Proposed {
                            m.held = m.held.saturating_sub(1);
                        } else {
                            m.active = m.active.saturating_sub(1);
                        }
                        m.version += 1;
                        writes.push(Write::Put { item: mentor_item(&m), condition: Condition::VersionIs(mitem.version) });
                    }
                    let active = r.state == RequestState::Active;
                    if let Some(p) = r.pairing.as_mut()
                        && active
                    {
                        let now = self.now_text();
                        // Mentoring pairs closed (insights): an active pairing ends here.
                        let orgs = self.pairing_organisations(&r.organisation_id, p).await?;
                        writes.extend(self.event_tallies(&now, &orgs, &["mentoring_closed".to_owned()], 1).await?);
                        p.closed_at = Some(now);
                        p.closed_by = Some("mentee".into());
                    }
                    if r.state == RequestState::Proposed
                        && let Some(p) = r.proposal.as_mut()
                    {
                        p.outcome = Some("withdrawn".into());
                    }
                }
            }
            r.state = RequestState::Withdrawn;
            r.version += 1;
            r.updated_at = self.now_text();
            writes.push(Write::Put { item: request_item(&r), condition: Condition::VersionIs(item.version) });
            match self.records.transact(writes).await {
                Ok(()) => return Ok(()),
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(conflict("this request is changing at this moment; try again"))
    }

    /// The organisations a pairing counts in (insights): the mentee's, and the
    /// mentor's as it was when the pairing started (else, for a pairing begun
    /// before that was kept, the mentor's profile's while it stands).
    async fn pairing_organisations(&self, mentee_organisation: &str, p: &Pairing) -> AppResult<Vec<String>> {
        let mut orgs = vec![mentee_organisation.to_owned()];
        if let Some(o) = &p.mentor_organisation_id {
            orgs.push(o.clone());
        } else if let Some((m, _)) = self.mentor_record(&p.mentor_id).await? {
            orgs.push(m.organisation_id);
        }
        Ok(orgs)
    }

    /// Closes an active pairing (either side), with optional feedback. Closing
    /// again only adds the other side's feedback.
    pub async fn close_pairing(&self, claims: &Claims, id: &str, feedback: Option<FreeText>) -> AppResult<MentoringRequestView> {
        for _ in 0..ATTEMPTS {
            let (mut r, item) = self.visible_request(claims, id).await?;
            let Some(pairing) = r.pairing.clone() else {
                return Err(conflict("this request has no pairing: nobody has accepted it yet"));
            };
            let side = if claims.sub == r.member_id {
                "mentee"
            } else if claims.sub == pairing.mentor_id {
                "mentor"
            } else {
                return Err(AppError::Forbidden("only the mentee and the mentor may close a pairing"));
            };
            let now = self.now_text();
            let mut writes = Vec::new();
            match r.state {
                RequestState::Active => {
                    if let Some((mut m, mitem)) = self.mentor_record(&pairing.mentor_id).await? {
                        m.active = m.active.saturating_sub(1);
                        m.version += 1;
                        writes.push(Write::Put { item: mentor_item(&m), condition: Condition::VersionIs(mitem.version) });
                    }
                    self.ensure_open_request_count(&r.member_id).await?;
                    writes.push(free_slot(&r.member_id));
                    r.state = RequestState::Closed;
                    let orgs = self.pairing_organisations(&r.organisation_id, &pairing).await?;
                    writes.extend(self.event_tallies(&now, &orgs, &["mentoring_closed".to_owned()], 1).await?);
                    let p = r.pairing.as_mut().expect("checked above");
                    p.closed_at = Some(now.clone());
                    p.closed_by = Some(side.into());
                }
                RequestState::Closed | RequestState::Withdrawn => {
                    let given = pairing.feedback.iter().any(|f| f.from == side);
                    if feedback.is_none() || given {
                        return self.request_view(r).await;
                    }
                }
                _ => return Err(conflict("this pairing is not active")),
            }
            if let Some(text) = &feedback {
                let p = r.pairing.as_mut().expect("checked above");
                if !p.feedback.iter().any(|f| f.from == side) {
                    p.feedback.push(Feedback { from: side.into(), text: text.to_string(), at: now.clone() });
                }
            }
            r.version += 1;
            r.updated_at = now;
            writes.push(Write::Put { item: request_item(&r), condition: Condition::VersionIs(item.version) });
            match self.records.transact(writes).await {
                Ok(()) => {
                    tracing::info!(request = %r.id, side, "mentoring pairing closed");
                    return self.request_view(r).await;
                }
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(conflict("this pairing is changing at this moment; try again"))
    }

    /// The member declines the mentor proposed to them (`mentor_id` names whom, so
    /// that a retry never declines the next one): the place is released, the mentor
    /// is never proposed to this member again, and the next candidate is proposed.
    pub async fn decline_proposal(
        &self,
        claims: &Claims,
        id: &str,
        mentor_id: String,
        links_base: &str,
    ) -> AppResult<MentoringRequestView> {
        for _ in 0..ATTEMPTS {
            let (mut r, item) = self.visible_request(claims, id).await?;
            if r.member_id != claims.sub {
                return Err(AppError::Forbidden("only the member who asked may decline a proposed mentor"));
            }
            let declined_before = r
                .past_proposals
                .iter()
                .chain(r.proposal.iter())
                .any(|p| p.mentor_id == mentor_id && p.outcome.as_deref() == Some("declined_by_member"));
            if declined_before {
                return self.request_view(r).await;
            }
            let live = r.state == RequestState::Proposed && r.proposal.as_ref().is_some_and(|p| p.mentor_id == mentor_id);
            if !live {
                return Err(conflict("that mentor is not proposed to you at the moment"));
            }
            let now = self.now_text();
            let mut writes = Vec::new();
            if let Some((mut m, mitem)) = self.mentor_record(&mentor_id).await? {
                m.held = m.held.saturating_sub(1);
                m.version += 1;
                writes.push(Write::Put { item: mentor_item(&m), condition: Condition::VersionIs(mitem.version) });
            }
            let (pk, sk) = keys::mentoring_exclusion(&r.member_id, &mentor_id);
            writes.push(Write::Put {
                item: Item::new(pk, sk, serde_json::json!({"request_id": r.id, "at": now, "by": "member"})),
                condition: Condition::None,
            });
            r.state = RequestState::Open;
            if let Some(p) = r.proposal.as_mut() {
                p.outcome = Some("declined_by_member".into());
            }
            r.excluded_mentors.push(mentor_id.clone());
            r.version += 1;
            r.updated_at = now;
            writes.push(Write::Put { item: request_item(&r), condition: Condition::VersionIs(item.version) });
            match self.records.transact(writes).await {
                Ok(()) => {}
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
            tracing::info!(request = %r.id, "proposed mentor declined by the member");
            self.propose_best(&r.id, links_base).await?;
            return self.mentoring_request(claims, id).await;
        }
        Err(conflict("this request is changing at this moment; try again"))
    }

    // ---- proposals ----

    // ---- offers ----

    // ---- the scheduled pass ----
}

/// Erasure: the member's requests are withdrawn (releasing any mentor's place)
/// and deleted with their email claims, their mentor profile and the record of
/// who declined them go. Pairings where they are the mentor keep the request
/// (it is the mentee's); a live offer to them lapses with the next pass.
pub(crate) async fn erase(app: &App, claims: &Claims) -> AppResult<()> {
    let mut page = PageRequest { limit: crate::case_studies::MAX_PAGE, cursor: None };
    loop {
        let requests = app.my_mentoring_requests(claims, &page).await?;
        for r in requests.items {
            if !matches!(r.state, RequestState::Closed | RequestState::Withdrawn) {
                app.withdraw_mentoring_request(claims, &r.id).await?;
            }
            let page = app.records.query(Query::new(Index::Primary, keys::mentoring_request_partition(&r.id)).limit(100)).await?;
            for item in page.items {
                app.records.delete(&item.pk, &item.sk, Condition::None).await?;
            }
        }
        match requests.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    let exclusions = Query::new(Index::Primary, keys::member_partition(&claims.sub)).prefix(keys::MENTORING_EXCLUSION_PREFIX);
    for item in app.records.query(exclusions.limit(100)).await?.items {
        app.records.delete(&item.pk, &item.sk, Condition::None).await?;
    }
    let (pk, sk) = keys::mentor(&claims.sub);
    app.records.delete(&pk, &sk, Condition::None).await?;
    Ok(())
}
