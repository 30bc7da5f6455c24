//! Mentor profiles and requests as items, and the open-request slots.

use crate::{App, AppResult, encode, keys};
use qnet_domain::member::Member;
use qnet_domain::mentoring::{MentorProfile, MentoringRequest, RequestState};
use qnet_ports::{Condition, Item, Write};

/// A request in one of these states takes one of its member's slots.
pub(crate) fn holds_a_slot(state: RequestState) -> bool {
    matches!(state, RequestState::Open | RequestState::Proposed | RequestState::Active)
}

/// The write that frees the slot a request held.
pub(crate) fn free_slot(member_id: &str) -> Write {
    let (pk, sk) = keys::open_mentoring_requests(member_id);
    Write::Increment { pk, sk, field: "open".into(), by: -1, at_least: Some(0), at_most: None }
}

pub(crate) fn mentor_item(p: &MentorProfile) -> Item {
    let (pk, sk) = keys::mentor(&p.member_id);
    Item::new(pk, sk, encode(p)).with_version(p.version).with_gsi1(keys::MENTORS, p.member_id.clone())
}

pub(crate) fn request_item(r: &MentoringRequest) -> Item {
    let (pk, sk) = keys::mentoring_request(&r.id);
    let mut item = Item::new(pk, sk, encode(r))
        .with_version(r.version)
        .with_gsi2(keys::members_mentoring_requests(&r.member_id), format!("{}#{}", r.created_at, r.id));
    match (r.state, &r.proposal) {
        (RequestState::Open, _) => item = item.with_gsi1(keys::OPEN_MENTORING_REQUESTS, format!("{}#{}", r.created_at, r.id)),
        (RequestState::Proposed, Some(p)) => {
            item = item.with_gsi1(keys::PROPOSED_MENTORING_REQUESTS, format!("{}#{}", p.expires_at, r.id))
        }
        // Active pairings, listed under their mentor ("my mentees").
        (RequestState::Active, _) => {
            if let Some(p) = &r.pairing {
                item = item.with_gsi1(keys::mentor_pairings(&p.mentor_id), format!("{}#{}", p.started_at, r.id))
            }
        }
        // Closed pairings (and active ones the mentee withdrew from), listed
        // under their mentor (the mentoring they gave).
        (RequestState::Closed | RequestState::Withdrawn, _) => {
            if let Some(p) = &r.pairing {
                item = item.with_gsi1(keys::mentor_closed_pairings(&p.mentor_id), format!("{}#{}", p.started_at, r.id))
            }
        }
        _ => {}
    }
    item
}

/// The directory entries of a listed member whose mentor badge changes, on
/// condition that the profile they were built from is still current.
pub(crate) fn badge_writes(member: &Member, before: bool, after: bool) -> Vec<Write> {
    use crate::members::directory::{Listing, entry_writes};
    let mut w = entry_writes(Some(Listing { member, mentor: before }), Some(Listing { member, mentor: after }));
    if !w.is_empty() {
        // The profile written back unchanged: the entries were built from it.
        w.push(Write::Put { item: crate::members::member_item(member), condition: Condition::VersionIs(member.version) });
    }
    w
}

impl App {
    pub(crate) async fn mentor_record(&self, member_id: &str) -> AppResult<Option<(MentorProfile, Item)>> {
        self.get_record(keys::mentor(member_id)).await
    }

    pub(crate) async fn request_record(&self, id: &str) -> AppResult<Option<(MentoringRequest, Item)>> {
        self.get_record(keys::mentoring_request(id)).await
    }
}
