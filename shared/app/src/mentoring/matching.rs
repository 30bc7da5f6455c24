//! Matching: proposing the best mentor for a request, and the scheduled pass that
//! expires lapsed offers and assigns open requests.

use crate::mentoring::store::{mentor_item, request_item};
use crate::mentoring::views::MatchReport;
use crate::mentoring::{ATTEMPTS, conflict};
use crate::{App, AppError, AppResult, decode, keys};
use qnet_domain::mentoring::Availability;
use qnet_domain::mentoring::{MentorProfile, MentoringRequest, Proposal, RequestState};
use qnet_matching::{CrossOrganisation, Kind, Mentor, Mode, Request};
use qnet_ports::{Condition, Index, Query, Write};
use std::collections::{BTreeSet, HashMap, HashSet};
use time::OffsetDateTime;

pub(crate) fn kind(word: &str) -> Kind {
    if word == "coaching" { Kind::Coaching } else { Kind::Mentoring }
}

pub(crate) fn modes(a: &Availability) -> BTreeSet<Mode> {
    a.modes.iter().map(|m| if m == "in_person" { Mode::InPerson } else { Mode::Online }).collect()
}

/// Topics are matched by their names, so that reasons read "Patient flow and
/// discharge" and skills can match the names' words.
pub(crate) fn topic_names(ids: &[String]) -> BTreeSet<String> {
    ids.iter().map(|t| qnet_domain::topics::find(t).map(|t| t.name.to_string()).unwrap_or_else(|| t.clone())).collect()
}

pub(crate) fn as_mentor(p: &MentorProfile) -> Mentor {
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

pub(crate) fn as_request(r: &MentoringRequest, excluded: &HashSet<String>) -> Request {
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

pub(crate) enum Proposed {
    Done,
    /// The request is no longer open: nothing to do.
    NotOpen,
    /// The request or the mentor changed (or the mentor filled up): rank again.
    Raced,
}

impl App {
    /// Mentors who declined this member: never proposed to them again.
    pub(crate) async fn member_exclusions(&self, member_id: &str) -> AppResult<HashSet<String>> {
        let mut out = HashSet::new();
        let mut cursor = None;
        loop {
            let q = Query::new(Index::Primary, keys::member_partition(member_id))
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

    pub(crate) async fn note_unmatched(&self, request_id: &str, why: &str) -> AppResult<()> {
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
    pub(crate) async fn propose_to(
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
    pub(crate) async fn expire_offer(&self, request_id: &str, seq: u32) -> AppResult<()> {
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

    pub(crate) async fn send_unsent_offers(&self, links_base: &str) -> AppResult<()> {
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
