//! A mentor's side of mentoring (`GET /me/mentees`): the requests offered to
//! them and waiting for their answer, and their current mentees. Both are
//! bounded by the mentor's capacity (at most 20 places, each held by an offer
//! or a mentee), so the answer is one page.
//!
//! Active requests sit in a GSI1 partition per mentor (written by
//! `mentoring::request_item`); offers are the mentor's share of the partition
//! of live proposals, which the expiry pass already reads.

use qnet_ports::{Index, Query};
use serde::Serialize;
use utoipa::ToSchema;

use super::{MentoringRequest, MentoringRequestView, RequestState};
use crate::{App, AppResult, Claims, decode, keys};

/// A request as its mentor sees it: the request and who asked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MenteeView {
    pub request: MentoringRequestView,
    /// The mentee's name (null once they have left Qnet).
    pub mentee_name: Option<String>,
    /// The mentee's organisation's name.
    pub mentee_organisation: Option<String>,
}

/// `GET /me/mentees`: offers waiting for the mentor's answer (answered from
/// the link in the offer email) and current mentees, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyMentees {
    pub offered: Vec<MenteeView>,
    pub current: Vec<MenteeView>,
}

impl App {
    async fn mentee_view(&self, r: MentoringRequest) -> AppResult<MenteeView> {
        let names = self.organisation_names().await?;
        let mentee = self.member_by_id(&r.member_id).await?;
        let mentee_organisation = names.get(&r.organisation_id).cloned();
        Ok(MenteeView { mentee_name: mentee.map(|m| m.name), mentee_organisation, request: self.request_view(r).await? })
    }

    /// The signed-in member's offers and mentees as a mentor (empty lists for
    /// someone who is not a mentor).
    pub async fn my_mentees(&self, claims: &Claims) -> AppResult<MyMentees> {
        let mut offered = Vec::new();
        let mut cursor = None;
        loop {
            let page =
                self.records.query(Query::new(Index::Gsi1, keys::PROPOSED_MENTORING_REQUESTS).limit(100).after(cursor)).await?;
            for item in &page.items {
                let r: MentoringRequest = decode(item)?;
                if r.state == RequestState::Proposed && r.proposal.as_ref().is_some_and(|p| p.mentor_id == claims.sub) {
                    offered.push(self.mentee_view(r).await?);
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let mut current = Vec::new();
        let mut cursor = None;
        loop {
            let page =
                self.records.query(Query::new(Index::Gsi1, keys::mentor_pairings(&claims.sub)).limit(100).after(cursor)).await?;
            for item in &page.items {
                let r: MentoringRequest = decode(item)?;
                if r.state == RequestState::Active && r.pairing.as_ref().is_some_and(|p| p.mentor_id == claims.sub) {
                    current.push(self.mentee_view(r).await?);
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(MyMentees { offered, current })
    }
}
