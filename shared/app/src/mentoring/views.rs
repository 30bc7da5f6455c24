//! What the mentoring API answers.

use crate::{App, AppResult};
use qnet_domain::mentoring::Availability;
use qnet_domain::mentoring::{MentorProfile, MentoringRequest, RequestState};
use qnet_domain::organisation::OrganisationType;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

impl App {
    pub(crate) async fn mentor_view(&self, p: MentorProfile) -> AppResult<MentorView> {
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
}
