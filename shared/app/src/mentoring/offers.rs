//! Offers: the signed link a proposed mentor opens, and their answer.

use crate::mentoring::matching::topic_names;
use crate::mentoring::store::{mentor_item, request_item};
use crate::mentoring::views::OfferStatus;
use crate::mentoring::{ATTEMPTS, OFFER_PURPOSE, conflict};
use crate::{App, AppResult, keys};
use qnet_domain::mentoring::{MentoringRequest, Pairing, Proposal, RequestState};
use qnet_ports::{Condition, Item, Write};

impl App {
    pub(crate) fn offer_token(&self, r: &MentoringRequest, p: &Proposal) -> String {
        self.links.sign(OFFER_PURPOSE, &format!("{}|{}|{}", r.id, p.seq, p.mentor_id), p.expires_unix)
    }

    pub(crate) fn offer_subject(&self, token: &str) -> Result<(String, u32, String), OfferStatus> {
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

    pub(crate) fn offer_status(r: &MentoringRequest, seq: u32, mentor_id: &str) -> OfferStatus {
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
                    mentor_organisation_id: Some(m.organisation_id.clone()),
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
            if accept {
                // Mentoring pairs started, by the mentee's and the mentor's organisations (insights).
                let orgs = [r.organisation_id.clone(), m.organisation_id.clone()];
                writes.extend(self.event_tallies(&r.updated_at, &orgs, &["mentoring_started".to_owned()], 1).await?);
            }
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
}
