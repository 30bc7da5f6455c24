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

use std::collections::{BTreeSet, HashMap, HashSet};

use qnet_domain::member::Member;
use qnet_domain::mentoring::{Availability, MentorInput, RequestInput};
use qnet_domain::organisation::OrganisationType;
use qnet_matching::{CrossOrganisation, Kind, Mentor, Mode, Request, Weights};
use qnet_ports::{Condition, Index, Item, OutgoingMail, Query, Write};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::idempotency::{IdempotencyKey, StoredResponse};
use crate::{App, AppError, AppResult, Claims, PageRequest, decode, encode, keys};

/// The purpose signed into offer links.
pub const OFFER_PURPOSE: &str = "mentoring-offer";
/// Days a mentor has to answer an offer when configuration says nothing.
pub const DEFAULT_OFFER_DAYS: u32 = 7;
/// How many times a state change is retried when another change won the race.
const ATTEMPTS: usize = 8;

/// How many mentoring requests one member may hold at once (open, proposed or
/// active): 3 is usual in mentoring tools, and it stops one member holding
/// every mentor's places. Withdrawing or closing one frees its slot. Counted
/// on `MEMBER#<id>/MREQCOUNT`, moved in the same transaction as the request.
pub const MAX_OPEN_MENTORING_REQUESTS: i64 = 3;

/// A request in one of these states takes one of its member's slots.
fn holds_a_slot(state: RequestState) -> bool {
    matches!(state, RequestState::Open | RequestState::Proposed | RequestState::Active)
}

/// The write that frees the slot a request held.
fn free_slot(member_id: &str) -> Write {
    let (pk, sk) = keys::open_mentoring_requests(member_id);
    Write::Increment { pk, sk, field: "open".into(), by: -1, at_least: Some(0), at_most: None }
}

/// Matching configuration: the score's weights (`QNET_MATCHING_WEIGHTS`, the
/// JSON of `qnet_matching::Weights`; a missing field takes its default) and the
/// days a mentor has to answer (`QNET_MENTORING_OFFER_DAYS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MentoringSettings {
    pub weights: Weights,
    pub offer_days: u32,
}

impl Default for MentoringSettings {
    fn default() -> Self {
        MentoringSettings { weights: Weights::default(), offer_days: DEFAULT_OFFER_DAYS }
    }
}

impl MentoringSettings {
    /// From the variables' values (absent: defaults); the error names the variable.
    pub fn parse(weights: Option<&str>, offer_days: Option<&str>) -> Result<MentoringSettings, String> {
        let mut s = MentoringSettings::default();
        if let Some(w) = weights {
            s.weights = serde_json::from_str(w)
                .map_err(|e| format!("{} is not the JSON of the matching weights: {e}", crate::config::vars::MATCHING_WEIGHTS))?;
        }
        if let Some(d) = offer_days {
            s.offer_days = d.parse().ok().filter(|d| (1..=60).contains(d)).ok_or_else(|| {
                format!("{} must be a whole number of days from 1 to 60", crate::config::vars::MENTORING_OFFER_DAYS)
            })?;
        }
        Ok(s)
    }
}

/// A mentor profile as stored, beside the member's profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MentorProfile {
    pub member_id: String,
    pub name: String,
    pub organisation_id: String,
    pub offers: Vec<String>,
    pub topics: Vec<String>,
    pub skills: Vec<String>,
    pub capacity: u32,
    /// Active mentees.
    #[serde(default)]
    pub active: u32,
    /// Places held by live proposals.
    #[serde(default)]
    pub held: u32,
    pub availability: Availability,
    pub bio: Option<String>,
    pub coaching_accreditation: Option<String>,
    pub accepting: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl MentorProfile {
    pub fn load(&self) -> u32 {
        self.active + self.held
    }
}

fn mentor_item(p: &MentorProfile) -> Item {
    let (pk, sk) = keys::mentor(&p.member_id);
    Item::new(pk, sk, encode(p)).with_version(p.version).with_gsi1(keys::MENTORS, p.member_id.clone())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Open,
    Proposed,
    Active,
    Closed,
    Withdrawn,
}

/// The live (or last) proposal of a request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Proposal {
    /// 1 for the request's first proposal, 2 for the next…: offer links name it.
    pub seq: u32,
    pub mentor_id: String,
    pub score: u64,
    pub reasons: Vec<String>,
    pub proposed_at: String,
    pub expires_at: String,
    pub expires_unix: i64,
    /// `declined` or `expired` once it has ended without acceptance.
    #[serde(default)]
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Feedback {
    /// `mentor` or `mentee`.
    pub from: String,
    pub text: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pairing {
    pub mentor_id: String,
    /// The proposal that was accepted.
    pub seq: u32,
    pub started_at: String,
    pub closed_at: Option<String>,
    /// `mentor` or `mentee`.
    pub closed_by: Option<String>,
    #[serde(default)]
    pub feedback: Vec<Feedback>,
}

/// A mentoring request as stored; its proposal and pairing live on it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MentoringRequest {
    pub id: String,
    pub member_id: String,
    pub organisation_id: String,
    pub kind: String,
    pub topics: Vec<String>,
    pub goals: String,
    pub cross_organisation: String,
    pub availability: Availability,
    #[serde(default)]
    pub requested_mentor: Option<String>,
    pub state: RequestState,
    #[serde(default)]
    pub proposal: Option<Proposal>,
    #[serde(default)]
    pub pairing: Option<Pairing>,
    /// Earlier proposals, with their outcomes.
    #[serde(default)]
    pub past_proposals: Vec<Proposal>,
    /// Mentors whose offer for this request was declined or lapsed.
    #[serde(default)]
    pub excluded_mentors: Vec<String>,
    /// Why nobody is proposed (while open).
    #[serde(default)]
    pub unmatched_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

fn request_item(r: &MentoringRequest) -> Item {
    let (pk, sk) = keys::mentoring_request(&r.id);
    let mut item = Item::new(pk, sk, encode(r))
        .with_version(r.version)
        .with_gsi2(keys::members_mentoring_requests(&r.member_id), format!("{}#{}", r.created_at, r.id));
    match (r.state, &r.proposal) {
        (RequestState::Open, _) => item = item.with_gsi1(keys::OPEN_MENTORING_REQUESTS, format!("{}#{}", r.created_at, r.id)),
        (RequestState::Proposed, Some(p)) => {
            item = item.with_gsi1(keys::PROPOSED_MENTORING_REQUESTS, format!("{}#{}", p.expires_at, r.id))
        }
        (RequestState::Active, _) => {
            if let Some(p) = &r.pairing {
                item = item.with_gsi1(crate::my_mentoring::mentor_pairings(&p.mentor_id), format!("{}#{}", p.started_at, r.id))
            }
        }
        _ => {}
    }
    item
}

// ---- answers ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganisationRef {
    pub id: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    #[schema(value_type = Option<String>)]
    pub kind: Option<OrganisationType>,
}

/// A mentor profile (`GET /me/mentor`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MentorView {
    pub member_id: String,
    pub name: String,
    pub organisation: OrganisationRef,
    pub offers: Vec<String>,
    pub topics: Vec<String>,
    pub skills: Vec<String>,
    pub capacity: u32,
    /// Active mentees plus places held by offers not yet answered.
    pub load: u32,
    pub free_places: u32,
    #[schema(value_type = Object)]
    pub availability: Availability,
    pub bio: Option<String>,
    pub coaching_accreditation: Option<String>,
    pub accepting: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProposalView {
    pub mentor_id: String,
    pub mentor_name: Option<String>,
    pub score: u64,
    pub reasons: Vec<String>,
    pub proposed_at: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PairingView {
    /// The pairing's id (the request's id): `POST /mentoring-pairings/{id}/close`.
    pub id: String,
    pub mentor_id: String,
    pub mentor_name: Option<String>,
    pub started_at: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
}

/// A mentoring request (`GET /mentoring-requests/{id}`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MentoringRequestView {
    pub id: String,
    pub member_id: String,
    pub organisation_id: String,
    pub kind: String,
    pub topics: Vec<String>,
    pub goals: String,
    pub cross_organisation: String,
    #[schema(value_type = Object)]
    pub availability: Availability,
    pub state: RequestState,
    /// The live proposal (while `proposed`).
    pub proposal: Option<ProposalView>,
    pub pairing: Option<PairingView>,
    /// Why nobody is proposed yet (while `open`).
    pub unmatched_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MentoringRequestList {
    pub items: Vec<MentoringRequestView>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// One suitable mentor for a request, with why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchView {
    pub mentor_id: String,
    pub name: String,
    /// The mentor's organisation's name.
    pub organisation: Option<String>,
    pub score: u64,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchList {
    pub items: Vec<MatchView>,
}

/// What an offer link finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferStatus {
    /// The link was changed, is incomplete, or names no offer.
    Invalid,
    Expired,
    /// Waiting for the mentor's answer.
    Open {
        summary: String,
    },
    Accepted,
    Declined,
    /// The request was withdrawn, or the offer ended otherwise.
    Gone,
}

/// What the scheduled pass did (`qnet match`, `functions/mentoring`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MatchReport {
    pub assignments: Vec<qnet_matching::Match>,
    pub unmatched: Vec<qnet_matching::Unmatched>,
}

// ---- conversions to the matching crate ----

fn kind(word: &str) -> Kind {
    if word == "coaching" { Kind::Coaching } else { Kind::Mentoring }
}

fn modes(a: &Availability) -> BTreeSet<Mode> {
    a.modes.iter().map(|m| if m == "in_person" { Mode::InPerson } else { Mode::Online }).collect()
}

/// Topics are matched by their names, so that reasons read "Patient flow and
/// discharge" and skills can match the names' words.
fn topic_names(ids: &[String]) -> BTreeSet<String> {
    ids.iter().map(|t| qnet_domain::topics::find(t).map(|t| t.name.to_string()).unwrap_or_else(|| t.clone())).collect()
}

fn as_mentor(p: &MentorProfile) -> Mentor {
    Mentor {
        id: p.member_id.clone(),
        name: p.name.clone(),
        organisation_id: p.organisation_id.clone(),
        organisation_type: None,
        offers: p.offers.iter().map(|k| kind(k)).collect(),
        topics: topic_names(&p.topics),
        skills: p.skills.iter().cloned().collect(),
        capacity: p.capacity,
        load: p.load(),
        availability: modes(&p.availability),
        accepting: p.accepting,
    }
}

fn as_request(r: &MentoringRequest, excluded: &HashSet<String>) -> Request {
    Request {
        id: r.id.clone(),
        member_id: r.member_id.clone(),
        member_organisation_id: r.organisation_id.clone(),
        kind: kind(&r.kind),
        topics: topic_names(&r.topics),
        goals: r.goals.clone(),
        cross_organisation: match r.cross_organisation.as_str() {
            "prefer" => CrossOrganisation::Prefer,
            "require" => CrossOrganisation::Require,
            _ => CrossOrganisation::NoPreference,
        },
        availability: modes(&r.availability),
        excluded_mentors: excluded.iter().cloned().chain(r.excluded_mentors.iter().cloned()).collect(),
    }
}

fn conflict(why: &str) -> AppError {
    AppError::Conflict(why.to_string())
}

fn render(name: &str, ctx: &tera::Context) -> AppResult<String> {
    crate::mail::render(name, ctx).map_err(|e| AppError::Unavailable(format!("template {name}: {e}")))
}

impl App {
    pub fn mentoring_settings(&self) -> MentoringSettings {
        *self.mentoring
    }

    async fn mentor_record(&self, member_id: &str) -> AppResult<Option<(MentorProfile, Item)>> {
        self.get_record(keys::mentor(member_id)).await
    }

    async fn request_record(&self, id: &str) -> AppResult<Option<(MentoringRequest, Item)>> {
        self.get_record(keys::mentoring_request(id)).await
    }

    async fn mentor_view(&self, p: MentorProfile) -> AppResult<MentorView> {
        let org = self.organisation(&p.organisation_id).await?;
        Ok(MentorView {
            organisation: OrganisationRef {
                id: p.organisation_id.clone(),
                name: org.as_ref().map(|o| o.name.clone()),
                kind: org.map(|o| o.kind),
            },
            load: p.load(),
            free_places: p.capacity.saturating_sub(p.load()),
            member_id: p.member_id,
            name: p.name,
            offers: p.offers,
            topics: p.topics,
            skills: p.skills,
            capacity: p.capacity,
            availability: p.availability,
            bio: p.bio,
            coaching_accreditation: p.coaching_accreditation,
            accepting: p.accepting,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        })
    }

    /// The signed-in member's mentor profile.
    pub async fn my_mentor_profile(&self, claims: &Claims) -> AppResult<MentorView> {
        match self.mentor_record(&claims.sub).await? {
            Some((p, _)) => self.mentor_view(p).await,
            None => Err(AppError::NotFound("mentor profile")),
        }
    }

    /// Creates or replaces the signed-in member's mentor profile. Capacity may
    /// not go below the mentees and unanswered offers the mentor has now.
    pub async fn put_mentor_profile(&self, claims: &Claims, body: &serde_json::Value) -> AppResult<MentorView> {
        let input = MentorInput::parse(body)?;
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
            let badge_before = existing.as_ref().is_some_and(|(_, item)| crate::directory::offers_mentoring(item));
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
        writes.extend(badge_writes(&member, crate::directory::offers_mentoring(&item), false));
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

    /// Mentors who declined this member: never proposed to them again.
    async fn member_exclusions(&self, member_id: &str) -> AppResult<HashSet<String>> {
        let mut out = HashSet::new();
        let mut cursor = None;
        loop {
            let q = Query::new(Index::Primary, format!("MEMBER#{member_id}"))
                .prefix(keys::MENTORING_EXCLUSION_PREFIX)
                .limit(100)
                .after(cursor);
            let page = self.records.query(q).await?;
            for item in &page.items {
                if let Some(m) = item.sk.strip_prefix(keys::MENTORING_EXCLUSION_PREFIX) {
                    out.insert(m.to_string());
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    pub(crate) async fn request_view(&self, r: MentoringRequest) -> AppResult<MentoringRequestView> {
        let name_of = |id: String| async move { self.member_by_id(&id).await.map(|m| m.map(|m| m.name)) };
        let proposal = match (&r.state, &r.proposal) {
            (RequestState::Proposed, Some(p)) => Some(ProposalView {
                mentor_id: p.mentor_id.clone(),
                mentor_name: name_of(p.mentor_id.clone()).await?,
                score: p.score,
                reasons: p.reasons.clone(),
                proposed_at: p.proposed_at.clone(),
                expires_at: p.expires_at.clone(),
            }),
            _ => None,
        };
        let pairing = match &r.pairing {
            Some(p) => Some(PairingView {
                id: r.id.clone(),
                mentor_id: p.mentor_id.clone(),
                mentor_name: name_of(p.mentor_id.clone()).await?,
                started_at: p.started_at.clone(),
                closed_at: p.closed_at.clone(),
                closed_by: p.closed_by.clone(),
            }),
            None => None,
        };
        Ok(MentoringRequestView {
            id: r.id,
            member_id: r.member_id,
            organisation_id: r.organisation_id,
            kind: r.kind,
            topics: r.topics,
            goals: r.goals,
            cross_organisation: r.cross_organisation,
            availability: r.availability,
            unmatched_reason: if r.state == RequestState::Open { r.unmatched_reason } else { None },
            state: r.state,
            proposal,
            pairing,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }

    /// Creates a mentoring request and proposes it to the best candidate at once.
    /// `links_base` is where offer links point (the API's public origin).
    pub async fn create_mentoring_request(
        &self,
        claims: &Claims,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
        links_base: &str,
    ) -> AppResult<StoredResponse> {
        let input = RequestInput::parse(body)?;
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
            return self.current_answer(answer).await;
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
        let stored = StoredResponse::created(format!("/mentoring-requests/{}", r.id), body);
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
        let id = answer.body["id"].as_str().unwrap_or(&r.id).to_string();
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
    pub async fn current_answer(&self, mut answer: StoredResponse) -> AppResult<StoredResponse> {
        if let Some(id) = answer.body["id"].as_str()
            && let Some((r, _)) = self.request_record(id).await?
        {
            answer.body = serde_json::to_value(self.request_view(r).await?).expect("views serialise");
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
                    if let Some(p) = r.pairing.as_mut() {
                        p.closed_at = Some(self.now_text());
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

    /// Closes an active pairing (either side), with optional feedback. Closing
    /// again only adds the other side's feedback.
    pub async fn close_pairing(&self, claims: &Claims, id: &str, body: &serde_json::Value) -> AppResult<MentoringRequestView> {
        let feedback = qnet_domain::mentoring::parse_close(body)?;
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
        body: &serde_json::Value,
        links_base: &str,
    ) -> AppResult<MentoringRequestView> {
        let mentor_id = {
            let mut i = qnet_domain::text::Input::new(body, &["mentor_id"]);
            let m = i.text("mentor_id", qnet_domain::text::Presence::Required, 1, 128);
            i.errors.into_result(m)?.unwrap_or_default()
        };
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

    /// Proposes an open request to its best candidate now (the requested mentor
    /// first, when they suit). Nothing happens unless the request is open.
    /// Answers the mentor proposed, if any.
    pub async fn propose_best(&self, request_id: &str, links_base: &str) -> AppResult<Option<String>> {
        for _ in 0..ATTEMPTS {
            let Some((r, _)) = self.request_record(request_id).await? else { return Ok(None) };
            if r.state != RequestState::Open {
                return Ok(None);
            }
            let mentors = self.all_mentors().await?;
            let excluded = self.member_exclusions(&r.member_id).await?;
            let pool: Vec<Mentor> = mentors.iter().map(as_mentor).collect();
            let request = as_request(&r, &excluded);
            let mut ranked = qnet_matching::rank(&request, &pool, &self.mentoring.weights);
            if r.proposal.is_none()
                && let Some(wanted) = &r.requested_mentor
                && let Some(i) = ranked.iter().position(|c| &c.mentor_id == wanted)
            {
                let c = ranked.remove(i);
                ranked.insert(0, c);
            }
            let Some(best) = ranked.into_iter().next() else {
                let why = qnet_matching::assign(&[request], &pool, &self.mentoring.weights, qnet_matching::DEFAULT_TOP_K)
                    .ok()
                    .and_then(|a| a.unmatched.into_iter().next())
                    .map(|u| u.reason)
                    .unwrap_or_else(|| "no mentor suits this request at the moment".into());
                self.note_unmatched(request_id, &why).await?;
                return Ok(None);
            };
            match self.propose_to(request_id, &best.mentor_id, best.score, best.reasons, links_base, self.now()).await? {
                Proposed::Done => return Ok(Some(best.mentor_id)),
                Proposed::NotOpen => return Ok(None),
                Proposed::Raced => continue,
            }
        }
        tracing::warn!(request = %request_id, "no proposal: too many concurrent changes; the scheduled pass will retry");
        Ok(None)
    }

    async fn note_unmatched(&self, request_id: &str, why: &str) -> AppResult<()> {
        let Some((mut r, item)) = self.request_record(request_id).await? else { return Ok(()) };
        if r.state != RequestState::Open || r.unmatched_reason.as_deref() == Some(why) {
            return Ok(());
        }
        r.unmatched_reason = Some(why.to_string());
        r.version += 1;
        match self.records.put(request_item(&r), Condition::VersionIs(item.version)).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_conflict() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Proposes an open request to one mentor: the request becomes `proposed` and
    /// the mentor's place is held, in one transaction conditional on both
    /// versions (and on the mentor having a free place); then the offer email.
    async fn propose_to(
        &self,
        request_id: &str,
        mentor_id: &str,
        score: u64,
        reasons: Vec<String>,
        links_base: &str,
        now: OffsetDateTime,
    ) -> AppResult<Proposed> {
        let Some((mut r, item)) = self.request_record(request_id).await? else { return Ok(Proposed::NotOpen) };
        if r.state != RequestState::Open {
            return Ok(Proposed::NotOpen);
        }
        let Some((mut m, mitem)) = self.mentor_record(mentor_id).await? else { return Ok(Proposed::Raced) };
        if !m.accepting || m.load() >= m.capacity {
            return Ok(Proposed::Raced);
        }
        let expires = now + time::Duration::days(i64::from(self.mentoring.offer_days));
        let seq = r.proposal.as_ref().map_or(1, |p| p.seq + 1);
        if let Some(old) = r.proposal.take() {
            r.past_proposals.push(old);
        }
        r.proposal = Some(Proposal {
            seq,
            mentor_id: mentor_id.to_string(),
            score,
            reasons,
            proposed_at: qnet_domain::timestamp(now),
            expires_at: qnet_domain::timestamp(expires),
            expires_unix: expires.unix_timestamp(),
            outcome: None,
        });
        r.state = RequestState::Proposed;
        r.unmatched_reason = None;
        r.version += 1;
        r.updated_at = qnet_domain::timestamp(now);
        m.held += 1;
        m.version += 1;
        let writes = vec![
            Write::Put { item: request_item(&r), condition: Condition::VersionIs(item.version) },
            Write::Put { item: mentor_item(&m), condition: Condition::VersionIs(mitem.version) },
        ];
        match self.records.transact(writes).await {
            Ok(()) => {}
            Err(e) if e.is_conflict() => return Ok(Proposed::Raced),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(request = %r.id, seq, "mentoring request proposed");
        if self.send_offer(&r, links_base).await.is_err() {
            // The proposal stands; the scheduled pass sends offers still unsent.
            // The mail service's text can name the address: not logged.
            tracing::error!(request = %r.id, "offer email not sent: the mail service or the store failed");
        }
        Ok(Proposed::Done)
    }

    fn offer_token(&self, r: &MentoringRequest, p: &Proposal) -> String {
        self.links.sign(OFFER_PURPOSE, &format!("{}|{}|{}", r.id, p.seq, p.mentor_id), p.expires_unix)
    }

    /// Claims an email about a request; true when this caller is to send it.
    async fn claim_mail(&self, request_id: &str, what: &str) -> AppResult<bool> {
        let (pk, sk) = keys::mentoring_mail_claim(request_id, what);
        let item = Item::new(pk, sk, serde_json::json!({"claimed_at": self.now_text()}));
        match self.records.put(item, Condition::NotExists).await {
            Ok(()) => Ok(true),
            Err(e) if e.is_conflict() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn release_mail_claim(&self, request_id: &str, what: &str) {
        let (pk, sk) = keys::mentoring_mail_claim(request_id, what);
        if let Err(e) = self.records.delete(&pk, &sk, Condition::None).await {
            tracing::error!(request = %request_id, error = %e, "mail claim not released");
        }
    }

    /// Sends a claimed email; when sending fails the claim is released so that a
    /// later pass can try again.
    async fn send_claimed(&self, request_id: &str, what: &str, mail: AppResult<OutgoingMail>) -> AppResult<()> {
        let mail = match mail {
            Ok(m) => m,
            Err(e) => {
                self.release_mail_claim(request_id, what).await;
                return Err(e);
            }
        };
        match self.deliver(&*self.mailer, &mail).await {
            Ok(_) => Ok(()),
            Err(e) => {
                self.release_mail_claim(request_id, what).await;
                Err(AppError::Unavailable(e.to_string()))
            }
        }
    }

    /// The offer email to the proposed mentor, at most once per proposal.
    async fn send_offer(&self, r: &MentoringRequest, links_base: &str) -> AppResult<()> {
        let Some(p) = r.proposal.as_ref() else { return Ok(()) };
        let what = format!("offer-{}", p.seq);
        if !self.claim_mail(&r.id, &what).await? {
            return Ok(());
        }
        let mail = self.offer_mail(r, p, links_base).await;
        self.send_claimed(&r.id, &what, mail).await
    }

    async fn offer_mail(&self, r: &MentoringRequest, p: &Proposal, links_base: &str) -> AppResult<OutgoingMail> {
        let mentor = self.member_by_id(&p.mentor_id).await?.ok_or(AppError::NotFound("mentor"))?;
        let mentee = self.member_by_id(&r.member_id).await?.ok_or(AppError::NotFound("member"))?;
        let names = self.organisation_names().await?;
        let mut ctx = tera::Context::new();
        ctx.insert("mentor_name", &mentor.name);
        ctx.insert("mentee_name", &mentee.name);
        ctx.insert("mentee_organisation", &names.get(&r.organisation_id).cloned().unwrap_or_default());
        ctx.insert("kind", &r.kind);
        ctx.insert("topics", &topic_names(&r.topics).into_iter().collect::<Vec<_>>());
        ctx.insert("goals", &r.goals);
        ctx.insert("reasons", &p.reasons);
        ctx.insert("expires", &p.expires_at[..10]);
        ctx.insert("offer_url", &format!("{}/mentoring/offers/{}", links_base.trim_end_matches('/'), self.offer_token(r, p)));
        let raw = mail_builder::MessageBuilder::new()
            .from(("Qnet mentoring", &*self.mail_from))
            .to((mentor.name.as_str(), mentor.email.as_str()))
            .subject(format!("Would you take on {} for {}?", mentee.name, r.kind))
            .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("auto-generated"))
            .text_body(render("email/mentoring-offer.txt.tera", &ctx)?)
            .html_body(render("email/mentoring-offer.html.tera", &ctx)?)
            .write_to_vec()
            .map_err(|e| AppError::Unavailable(e.to_string()))?;
        Ok(OutgoingMail { from: self.mail_from.to_string(), to: vec![mentor.email], raw })
    }

    /// One email introducing mentee and mentor, at most once per pairing.
    async fn send_introduction(&self, r: &MentoringRequest) -> AppResult<()> {
        let Some(pairing) = r.pairing.as_ref() else { return Ok(()) };
        if !self.claim_mail(&r.id, "introduction").await? {
            return Ok(());
        }
        let mail = async {
            let mentor = self.member_by_id(&pairing.mentor_id).await?.ok_or(AppError::NotFound("mentor"))?;
            let mentee = self.member_by_id(&r.member_id).await?.ok_or(AppError::NotFound("member"))?;
            let names = self.organisation_names().await?;
            let mut ctx = tera::Context::new();
            ctx.insert("mentor_name", &mentor.name);
            ctx.insert("mentor_email", &mentor.email);
            ctx.insert(
                "mentor_organisation",
                &mentor.organisation_id.as_ref().and_then(|o| names.get(o)).cloned().unwrap_or_default(),
            );
            ctx.insert("mentee_name", &mentee.name);
            ctx.insert("mentee_email", &mentee.email);
            ctx.insert("mentee_organisation", &names.get(&r.organisation_id).cloned().unwrap_or_default());
            ctx.insert("kind", &r.kind);
            ctx.insert("topics", &topic_names(&r.topics).into_iter().collect::<Vec<_>>());
            ctx.insert("goals", &r.goals);
            ctx.insert("request_id", &r.id);
            let raw = mail_builder::MessageBuilder::new()
                .from(("Qnet mentoring", &*self.mail_from))
                .to(vec![(mentee.name.as_str(), mentee.email.as_str()), (mentor.name.as_str(), mentor.email.as_str())])
                .subject(format!("Qnet {}: introducing {} and {}", r.kind, mentee.name, mentor.name))
                .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("auto-generated"))
                .text_body(render("email/mentoring-introduction.txt.tera", &ctx)?)
                .html_body(render("email/mentoring-introduction.html.tera", &ctx)?)
                .write_to_vec()
                .map_err(|e| AppError::Unavailable(e.to_string()))?;
            Ok(OutgoingMail { from: self.mail_from.to_string(), to: vec![mentee.email, mentor.email], raw })
        }
        .await;
        self.send_claimed(&r.id, "introduction", mail).await
    }

    // ---- offers ----

    fn offer_subject(&self, token: &str) -> Result<(String, u32, String), OfferStatus> {
        match self.links.verify(OFFER_PURPOSE, token, self.now().unix_timestamp()) {
            Ok(subject) => {
                let mut parts = subject.splitn(3, '|');
                match (parts.next(), parts.next().and_then(|s| s.parse().ok()), parts.next()) {
                    (Some(r), Some(seq), Some(m)) => Ok((r.to_string(), seq, m.to_string())),
                    _ => Err(OfferStatus::Invalid),
                }
            }
            Err(crate::links::LinkError::Expired) => Err(OfferStatus::Expired),
            Err(crate::links::LinkError::Invalid) => Err(OfferStatus::Invalid),
        }
    }

    fn offer_status(r: &MentoringRequest, seq: u32, mentor_id: &str) -> OfferStatus {
        if r.pairing.as_ref().is_some_and(|p| p.seq == seq && p.mentor_id == mentor_id) {
            return OfferStatus::Accepted;
        }
        match &r.proposal {
            Some(p) if p.seq == seq && p.mentor_id == mentor_id => match (r.state, p.outcome.as_deref()) {
                (RequestState::Proposed, None) => OfferStatus::Open {
                    summary: format!(
                        "A member asks for {} on {}. Their goals: {}",
                        r.kind,
                        topic_names(&r.topics).into_iter().collect::<Vec<_>>().join(", "),
                        r.goals
                    ),
                },
                (_, Some("declined")) => OfferStatus::Declined,
                (_, Some("expired")) => OfferStatus::Expired,
                _ => OfferStatus::Gone,
            },
            Some(p) if p.seq > seq => match r.past_proposals.iter().find(|p| p.seq == seq && p.mentor_id == mentor_id) {
                Some(old) if old.outcome.as_deref() == Some("declined") => OfferStatus::Declined,
                Some(old) if old.outcome.as_deref() == Some("expired") => OfferStatus::Expired,
                Some(_) => OfferStatus::Gone,
                None => OfferStatus::Invalid,
            },
            // A seq from the future or another mentor: the link was not ours.
            _ => OfferStatus::Invalid,
        }
    }

    /// What an offer link finds now. Changes nothing (the page a GET shows).
    pub async fn offer(&self, token: &str) -> AppResult<OfferStatus> {
        let (request_id, seq, mentor_id) = match self.offer_subject(token) {
            Ok(s) => s,
            Err(status) => return Ok(status),
        };
        match self.request_record(&request_id).await? {
            Some((r, _)) => Ok(Self::offer_status(&r, seq, &mentor_id)),
            None => Ok(OfferStatus::Invalid),
        }
    }

    /// Accepts or declines an offer. Accepting makes the pairing active and moves
    /// the held place to an active mentee in one transaction conditional on the
    /// request's and the mentor's versions, so of two answers racing only one
    /// wins; declining releases the place and proposes the next candidate.
    /// Answering again gives the first answer's outcome.
    pub async fn answer_offer(&self, token: &str, accept: bool, links_base: &str) -> AppResult<OfferStatus> {
        let (request_id, seq, mentor_id) = match self.offer_subject(token) {
            Ok(s) => s,
            Err(status) => return Ok(status),
        };
        for _ in 0..ATTEMPTS {
            let Some((mut r, item)) = self.request_record(&request_id).await? else { return Ok(OfferStatus::Invalid) };
            let status = Self::offer_status(&r, seq, &mentor_id);
            if !matches!(status, OfferStatus::Open { .. }) {
                if status == OfferStatus::Accepted && accept {
                    // A retry of the acceptance: make sure the introduction went.
                    self.send_introduction(&r).await?;
                }
                return Ok(status);
            }
            let Some((mut m, mitem)) = self.mentor_record(&mentor_id).await? else { return Ok(OfferStatus::Gone) };
            let now = self.now_text();
            m.held = m.held.saturating_sub(1);
            let mut writes = Vec::new();
            if accept {
                m.active += 1;
                r.state = RequestState::Active;
                r.pairing = Some(Pairing {
                    mentor_id: mentor_id.clone(),
                    seq,
                    started_at: now.clone(),
                    closed_at: None,
                    closed_by: None,
                    feedback: vec![],
                });
            } else {
                r.state = RequestState::Open;
                if let Some(p) = r.proposal.as_mut() {
                    p.outcome = Some("declined".into());
                }
                if !r.excluded_mentors.contains(&mentor_id) {
                    r.excluded_mentors.push(mentor_id.clone());
                }
                let (pk, sk) = keys::mentoring_exclusion(&r.member_id, &mentor_id);
                writes.push(Write::Put {
                    item: Item::new(pk, sk, serde_json::json!({"request_id": r.id, "at": now})),
                    condition: Condition::None,
                });
            }
            r.version += 1;
            r.updated_at = now.clone();
            m.version += 1;
            m.updated_at = now;
            writes.push(Write::Put { item: request_item(&r), condition: Condition::VersionIs(item.version) });
            writes.push(Write::Put { item: mentor_item(&m), condition: Condition::VersionIs(mitem.version) });
            match self.records.transact(writes).await {
                Ok(()) => {}
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
            if accept {
                tracing::info!(request = %r.id, seq, "mentoring offer accepted");
                self.send_introduction(&r).await?;
                return Ok(OfferStatus::Accepted);
            }
            tracing::info!(request = %r.id, seq, "mentoring offer declined");
            self.propose_best(&r.id, links_base).await?;
            return Ok(OfferStatus::Declined);
        }
        Err(conflict("this offer is changing at this moment; try again"))
    }

    // ---- the scheduled pass ----

    /// Expires lapsed offers (the mentor is not proposed for that request again),
    /// then assigns every open request at once (`qnet_matching::assign`) and
    /// proposes each assignment; live proposals are left alone. With `dry_run`
    /// nothing is written or sent: the report says what would be proposed.
    pub async fn run_matching(&self, now: OffsetDateTime, dry_run: bool, links_base: &str) -> AppResult<MatchReport> {
        let mut mentors: HashMap<String, MentorProfile> =
            self.all_mentors().await?.into_iter().map(|m| (m.member_id.clone(), m)).collect();
        let mut open: Vec<MentoringRequest> = Vec::new();

        // Lapsed offers: `expires_at` before now, oldest first.
        let cutoff = qnet_domain::timestamp(now);
        let mut cursor = None;
        loop {
            let page =
                self.records.query(Query::new(Index::Gsi1, keys::PROPOSED_MENTORING_REQUESTS).limit(100).after(cursor)).await?;
            let mut done = false;
            for item in &page.items {
                let r: MentoringRequest = decode(item)?;
                let Some(p) = r.proposal.clone() else { continue };
                if p.expires_at > cutoff {
                    done = true;
                    break;
                }
                if dry_run {
                    let mut r = r;
                    r.state = RequestState::Open;
                    r.excluded_mentors.push(p.mentor_id.clone());
                    if let Some(m) = mentors.get_mut(&p.mentor_id) {
                        m.held = m.held.saturating_sub(1);
                    }
                    open.push(r);
                } else {
                    self.expire_offer(&r.id, p.seq).await?;
                }
            }
            match page.next {
                Some(c) if !done => cursor = Some(c),
                _ => break,
            }
        }
        if !dry_run {
            mentors = self.all_mentors().await?.into_iter().map(|m| (m.member_id.clone(), m)).collect();
            // Offers whose email did not go (a failure after the proposal): send now.
            self.send_unsent_offers(links_base).await?;
        }

        let mut cursor = None;
        loop {
            let page =
                self.records.query(Query::new(Index::Gsi1, keys::OPEN_MENTORING_REQUESTS).limit(100).after(cursor)).await?;
            for item in &page.items {
                let r: MentoringRequest = decode(item)?;
                if r.state == RequestState::Open && !open.iter().any(|o| o.id == r.id) {
                    open.push(r);
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }

        let mut exclusions: HashMap<String, HashSet<String>> = HashMap::new();
        for r in &open {
            if !exclusions.contains_key(&r.member_id) {
                exclusions.insert(r.member_id.clone(), self.member_exclusions(&r.member_id).await?);
            }
        }
        let requests: Vec<Request> = open.iter().map(|r| as_request(r, &exclusions[&r.member_id])).collect();
        let pool: Vec<Mentor> = mentors.values().map(as_mentor).collect();
        let assignment = qnet_matching::assign(&requests, &pool, &self.mentoring.weights, qnet_matching::DEFAULT_TOP_K)
            .map_err(|e| AppError::Unavailable(format!("matching refused its input: {e}")))?;
        let mut report = MatchReport { assignments: vec![], unmatched: assignment.unmatched };
        if dry_run {
            report.assignments = assignment.assignments;
            return Ok(report);
        }
        for m in assignment.assignments {
            // Dated at the pass's moment, so that a replayed run's offers do not lapse at once.
            match self.propose_to(&m.request_id, &m.mentor_id, m.score, m.reasons.clone(), links_base, now).await? {
                Proposed::Done => report.assignments.push(m),
                Proposed::NotOpen => {}
                Proposed::Raced => report.unmatched.push(qnet_matching::Unmatched {
                    request_id: m.request_id,
                    reason: "the request or the mentor changed while the pass ran; the next pass tries again".into(),
                }),
            }
        }
        for u in &report.unmatched {
            self.note_unmatched(&u.request_id, &u.reason).await?;
        }
        report.unmatched.sort_by(|a, b| a.request_id.cmp(&b.request_id));
        tracing::info!(proposed = report.assignments.len(), unmatched = report.unmatched.len(), "matching pass done");
        Ok(report)
    }

    /// Ends a lapsed offer: the request is open again (without that mentor) and
    /// the mentor's place is released.
    async fn expire_offer(&self, request_id: &str, seq: u32) -> AppResult<()> {
        for _ in 0..ATTEMPTS {
            let Some((mut r, item)) = self.request_record(request_id).await? else { return Ok(()) };
            let Some(p) = r.proposal.clone() else { return Ok(()) };
            if r.state != RequestState::Proposed || p.seq != seq {
                return Ok(());
            }
            let mut writes = Vec::new();
            if let Some((mut m, mitem)) = self.mentor_record(&p.mentor_id).await? {
                m.held = m.held.saturating_sub(1);
                m.version += 1;
                writes.push(Write::Put { item: mentor_item(&m), condition: Condition::VersionIs(mitem.version) });
            }
            r.state = RequestState::Open;
            if let Some(p) = r.proposal.as_mut() {
                p.outcome = Some("expired".into());
            }
            r.excluded_mentors.push(p.mentor_id.clone());
            r.version += 1;
            r.updated_at = self.now_text();
            writes.push(Write::Put { item: request_item(&r), condition: Condition::VersionIs(item.version) });
            match self.records.transact(writes).await {
                Ok(()) => {
                    tracing::info!(request = %request_id, seq, "mentoring offer expired");
                    return Ok(());
                }
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(conflict("a lapsed offer kept changing; the next pass tries again"))
    }

    async fn send_unsent_offers(&self, links_base: &str) -> AppResult<()> {
        let mut cursor = None;
        loop {
            let page =
                self.records.query(Query::new(Index::Gsi1, keys::PROPOSED_MENTORING_REQUESTS).limit(100).after(cursor)).await?;
            for item in &page.items {
                let r: MentoringRequest = decode(item)?;
                if self.send_offer(&r, links_base).await.is_err() {
                    // The mail service's text can name the address: not logged.
                    tracing::error!(request = %r.id, "offer email not sent: the mail service or the store failed");
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(()),
            }
        }
    }
}

/// The directory entries of a listed member whose mentor badge changes, on
/// condition that the profile they were built from is still current.
fn badge_writes(member: &Member, before: bool, after: bool) -> Vec<Write> {
    use crate::directory::{Listing, entry_writes};
    let mut w = entry_writes(Some(Listing { member, mentor: before }), Some(Listing { member, mentor: after }));
    if !w.is_empty() {
        // The profile written back unchanged: the entries were built from it.
        w.push(Write::Put { item: crate::members::member_item(member), condition: Condition::VersionIs(member.version) });
    }
    w
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
            let page = app.records.query(Query::new(Index::Primary, format!("MREQ#{}", r.id)).limit(100)).await?;
            for item in page.items {
                app.records.delete(&item.pk, &item.sk, Condition::None).await?;
            }
        }
        match requests.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    let exclusions = Query::new(Index::Primary, format!("MEMBER#{}", claims.sub)).prefix(keys::MENTORING_EXCLUSION_PREFIX);
    for item in app.records.query(exclusions.limit(100)).await?.items {
        app.records.delete(&item.pk, &item.sk, Condition::None).await?;
    }
    let (pk, sk) = keys::mentor(&claims.sub);
    app.records.delete(&pk, &sk, Condition::None).await?;
    Ok(())
}

enum Proposed {
    Done,
    /// The request is no longer open: nothing to do.
    NotOpen,
    /// The request or the mentor changed (or the mentor filled up): rank again.
    Raced,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_and_refuse_misspelt_weights() {
        assert_eq!(MentoringSettings::parse(None, None).unwrap(), MentoringSettings::default());
        let s = MentoringSettings::parse(Some(r#"{"topic_overlap": 80}"#), Some("3")).unwrap();
        assert_eq!((s.weights.topic_overlap, s.weights.skill_overlap, s.offer_days), (80, 30, 3));
        assert!(MentoringSettings::parse(Some(r#"{"topik_overlap": 80}"#), None).unwrap_err().contains("QNET_MATCHING_WEIGHTS"));
        assert!(MentoringSettings::parse(None, Some("0")).unwrap_err().contains("QNET_MENTORING_OFFER_DAYS"));
    }
}
