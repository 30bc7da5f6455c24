//! The score of one request against one mentor, and the reasons a person reads.
//!
//! Mentors are prepared once (topics and skill words turned into integer ids) and
//! each request once (its topics and words into bit sets over those ids), so that
//! the scheduled pass can score millions of pairs. [`score`] and [`rank`] go
//! through the same code, so what a member is shown is what the pass used.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::{CrossOrganisation, Kind, Mentor, Mode, Request, Weights};

/// Skills beyond this many do not add points: a mentor listing every skill should
/// not outscore one who shares the topics.
pub const SKILLS_COUNTED: u32 = 3;

/// A mentor's score for a request, with the reasons behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scored {
    /// Integer points, so that sums are exact and the optimal pass is truly optimal.
    pub score: u64,
    /// Plain sentences for the member, most important first.
    pub reasons: Vec<String>,
}

/// One eligible mentor in a ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub mentor_id: String,
    pub score: u64,
    pub reasons: Vec<String>,
}

/// Scores `mentor` for `request`, or `None` when the pair is not eligible.
///
/// Not eligible: the mentor does not offer the request's kind, is not accepting,
/// has no free place (capacity − load), is in `excluded_mentors`, is the member
/// themself, is from the member's own organisation when the member requires
/// another, or states availability modes none of which the member states (when
/// both state some).
///
/// The score adds, each capped by its weight in [`Weights`] (integer division,
/// rounding down):
///
/// - topics: `topic_overlap × shared / requested` topics (case and surrounding
///   space ignored);
/// - skills: `skill_overlap × min(matched, 3) / 3`, where a skill matches when
///   every word of it appears among the words of the request's topics and goals;
/// - kind: `kind_offered`, earned by every eligible pair;
/// - availability: `availability_overlap` when both state modes and share one;
/// - organisation: `cross_organisation` when the member prefers or requires another
///   organisation and the mentor is from one;
/// - load: `free_places × free / capacity`.
///
/// ```
/// use qnet_matching::{score, CrossOrganisation, Kind, Mentor, Mode, Request, Weights};
///
/// let mentor = Mentor {
///     id: "m1".into(),
///     name: "Ada".into(),
///     organisation_id: "trust-a".into(),
///     organisation_type: None,
///     offers: [Kind::Coaching].into(),
///     topics: ["flow".to_string(), "frailty".to_string()].into(),
///     skills: Default::default(),
///     capacity: 3,
///     load: 2,
///     availability: [Mode::Online].into(),
///     accepting: true,
/// };
/// let request = Request {
///     id: "r1".into(),
///     member_id: "p1".into(),
///     member_organisation_id: "trust-b".into(),
///     kind: Kind::Coaching,
///     topics: ["flow".to_string(), "frailty".to_string(), "sepsis".to_string()].into(),
///     goals: String::new(),
///     cross_organisation: CrossOrganisation::Prefer,
///     availability: [Mode::Online].into(),
///     excluded_mentors: Default::default(),
/// };
/// let scored = score(&request, &mentor, &Weights::default()).unwrap();
/// assert_eq!(scored.score, 40 + 10 + 10 + 20 + 6);
/// assert_eq!(
///     scored.reasons,
///     [
///         "shares 2 of your 3 topics: flow, frailty",
///         "from a different organisation, as you asked",
///         "available online, as you asked",
///         "offers coaching",
///         "has 1 of 3 places free",
///     ]
/// );
/// ```
pub fn score(request: &Request, mentor: &Mentor, weights: &Weights) -> Option<Scored> {
    let mentors = MentorPool::new(vec![mentor]);
    let prepared = mentors.prepare_request(request);
    let parts = mentors.parts(&prepared, 0)?;
    Some(Scored { score: parts.points(weights), reasons: mentors.reasons(request, 0, &parts) })
}

/// Every eligible mentor for `request`, best first; equal scores are ordered by
/// mentor id so that the same input always gives the same list.
pub fn rank(request: &Request, mentors: &[Mentor], weights: &Weights) -> Vec<Candidate> {
    let mut sorted: Vec<&Mentor> = mentors.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let pool = MentorPool::new(sorted);
    let prepared = pool.prepare_request(request);
    let mut scored: Vec<(u64, usize, Parts)> =
        (0..pool.len()).filter_map(|m| pool.parts(&prepared, m).map(|parts| (parts.points(weights), m, parts))).collect();
    // Mentors are in id order, so the index breaks ties by id.
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored
        .into_iter()
        .map(|(score, m, parts)| Candidate {
            mentor_id: pool.mentor(m).id.clone(),
            score,
            reasons: pool.reasons(request, m, &parts),
        })
        .collect()
}

/// Lower-cased, trimmed, inner runs of space made one: how topics are compared.
pub(crate) fn normalise(text: &str) -> String {
    text.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" ")
}

/// Lower-cased runs of letters and digits: how skills and goals are compared.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

fn mode_bits(modes: &std::collections::BTreeSet<Mode>) -> u8 {
    modes.iter().fold(0, |bits, mode| bits | mode.bit())
}

/// The parts of a pair's score before weighting; also what the reasons are made of.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parts {
    topics_shared: u32,
    topics_requested: u32,
    skills_matched: u32,
    different_organisation: bool,
    cross_organisation: CrossOrganisation,
    modes_shared: u8,
    kind: Kind,
    free: u32,
    capacity: u32,
}

impl Parts {
    pub(crate) fn points(&self, weights: &Weights) -> u64 {
        let share = |weight: u32, part: u32, whole: u32| -> u64 {
            if whole == 0 { 0 } else { u64::from(weight) * u64::from(part.min(whole)) / u64::from(whole) }
        };
        let topics = share(weights.topic_overlap, self.topics_shared, self.topics_requested);
        let skills = share(weights.skill_overlap, self.skills_matched, SKILLS_COUNTED);
        let kind = u64::from(weights.kind_offered);
        let availability = if self.modes_shared != 0 { u64::from(weights.availability_overlap) } else { 0 };
        let organisation = if self.cross_organisation != CrossOrganisation::NoPreference && self.different_organisation {
            u64::from(weights.cross_organisation)
        } else {
            0
        };
        let load = share(weights.free_places, self.free, self.capacity);
        topics + skills + kind + availability + organisation + load
    }
}

struct PreparedMentor {
    organisation: u32,
    offers: u8,
    modes: u8,
    accepting: bool,
    free: u32,
    capacity: u32,
    /// Sorted, deduplicated topic ids.
    topics: Vec<u32>,
    /// The word ids of all skills, one skill after another (skills without words
    /// are dropped)...
    skill_words: Vec<u32>,
    /// ...and where each skill's words end in `skill_words`.
    skill_ends: Vec<u32>,
}

/// A request in the ids of one [`MentorPool`].
pub(crate) struct PreparedRequest {
    organisation: Option<u32>,
    kind: Kind,
    cross_organisation: CrossOrganisation,
    modes: u8,
    /// The requested topics some mentor also has.
    topics: Bits,
    /// Distinct requested topics, known to a mentor or not.
    topics_requested: u32,
    /// The words of topics and goals that some mentor skill uses.
    words: Bits,
    /// Mentor indices never to propose (excluded ones and the member themself), sorted.
    excluded: Vec<u32>,
}

impl PreparedRequest {
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }
}

/// Mentors prepared for scoring, in the order given, which must be by id: ties in a
/// ranking are broken by index, and copies of an id are found next to each other.
pub(crate) struct MentorPool<'a> {
    mentors: Vec<&'a Mentor>,
    prepared: Vec<PreparedMentor>,
    /// Normalised topics and skill words to ids.
    vocabulary: HashMap<String, u32>,
    organisations: HashMap<&'a str, u32>,
    by_id: HashMap<&'a str, u32>,
}

impl<'a> MentorPool<'a> {
    pub(crate) fn new(mentors: Vec<&'a Mentor>) -> Self {
        let mut vocabulary: HashMap<String, u32> = HashMap::new();
        let mut intern = |text: String| -> u32 {
            let next = vocabulary.len() as u32;
            *vocabulary.entry(text).or_insert(next)
        };
        let mut organisations: HashMap<&'a str, u32> = HashMap::new();
        let mut by_id = HashMap::with_capacity(mentors.len());
        let mut prepared = Vec::with_capacity(mentors.len());
        for (index, mentor) in mentors.iter().enumerate() {
            by_id.entry(mentor.id.as_str()).or_insert(index as u32);
            let next = organisations.len() as u32;
            let organisation = *organisations.entry(mentor.organisation_id.as_str()).or_insert(next);
            let mut topics: Vec<u32> = mentor.topics.iter().map(|t| intern(normalise(t))).collect();
            topics.sort_unstable();
            topics.dedup();
            let (mut skill_words, mut skill_ends) = (Vec::new(), Vec::new());
            for skill in &mentor.skills {
                let mut ids: Vec<u32> = words(skill).map(&mut intern).collect();
                ids.sort_unstable();
                ids.dedup();
                if !ids.is_empty() {
                    skill_words.extend(ids);
                    skill_ends.push(skill_words.len() as u32);
                }
            }
            prepared.push(PreparedMentor {
                organisation,
                offers: mentor.offers.iter().fold(0, |bits, kind| bits | kind.bit()),
                modes: mode_bits(&mentor.availability),
                accepting: mentor.accepting,
                free: mentor.free_places(),
                capacity: mentor.capacity,
                topics,
                skill_words,
                skill_ends,
            });
        }
        MentorPool { mentors, prepared, vocabulary, organisations, by_id }
    }

    pub(crate) fn len(&self) -> usize {
        self.mentors.len()
    }

    pub(crate) fn mentor(&self, index: usize) -> &'a Mentor {
        self.mentors[index]
    }

    pub(crate) fn free(&self, index: usize) -> u32 {
        self.prepared[index].free
    }

    pub(crate) fn prepare_request(&self, request: &Request) -> PreparedRequest {
        let known = |text: &str| self.vocabulary.get(text).copied();
        let requested: std::collections::BTreeSet<String> = request.topics.iter().map(|t| normalise(t)).collect();
        let mut topics = Bits::new(self.vocabulary.len());
        for id in requested.iter().filter_map(|t| known(t)) {
            topics.insert(id);
        }
        let mut words_known = Bits::new(self.vocabulary.len());
        for id in request.topics.iter().flat_map(|t| words(t)).chain(words(&request.goals)).filter_map(|w| known(&w)) {
            words_known.insert(id);
        }
        let mut excluded: Vec<u32> = request
            .excluded_mentors
            .iter()
            .chain(std::iter::once(&request.member_id))
            .filter_map(|id| self.by_id.get(id.as_str()).map(|&first| (id, first as usize)))
            // Mentors are sorted by id, so copies of an id follow the first one.
            .flat_map(|(id, first)| (first..self.len()).take_while(move |&m| self.mentors[m].id == *id))
            .map(|m| m as u32)
            .collect();
        excluded.sort_unstable();
        excluded.dedup();
        PreparedRequest {
            organisation: self.organisations.get(request.member_organisation_id.as_str()).copied(),
            kind: request.kind,
            cross_organisation: request.cross_organisation,
            modes: mode_bits(&request.availability),
            topics,
            topics_requested: requested.len() as u32,
            words: words_known,
            excluded,
        }
    }

    /// The unweighted parts of the pair's score, or `None` when not eligible.
    pub(crate) fn parts(&self, request: &PreparedRequest, index: usize) -> Option<Parts> {
        let mentor = &self.prepared[index];
        let eligibility = self.eligibility(request, index);
        if eligibility != Eligibility::Eligible {
            return None;
        }
        let topics_shared = mentor.topics.iter().filter(|&&t| request.topics.contains(t)).count() as u32;
        let mut skills_matched = 0;
        let mut start = 0;
        for &end in &mentor.skill_ends {
            let end = end as usize;
            skills_matched += u32::from(mentor.skill_words[start..end].iter().all(|&w| request.words.contains(w)));
            start = end;
        }
        Some(Parts {
            topics_shared,
            topics_requested: request.topics_requested,
            skills_matched,
            different_organisation: request.organisation != Some(mentor.organisation),
            cross_organisation: request.cross_organisation,
            modes_shared: mentor.modes & request.modes,
            kind: request.kind,
            free: mentor.free,
            capacity: mentor.capacity,
        })
    }

    /// The first rule, in the order of [`Eligibility`], that rules the pair out.
    pub(crate) fn eligibility(&self, request: &PreparedRequest, index: usize) -> Eligibility {
        let mentor = &self.prepared[index];
        if !mentor.accepting || mentor.offers & request.kind.bit() == 0 {
            Eligibility::NotOffered
        } else if request.excluded.binary_search(&(index as u32)).is_ok() {
            Eligibility::Excluded
        } else if request.cross_organisation == CrossOrganisation::Require && request.organisation == Some(mentor.organisation) {
            Eligibility::SameOrganisation
        } else if mentor.modes != 0 && request.modes != 0 && mentor.modes & request.modes == 0 {
            Eligibility::NoCommonMode
        } else if mentor.free == 0 {
            Eligibility::Full
        } else {
            Eligibility::Eligible
        }
    }

    pub(crate) fn reasons(&self, request: &Request, index: usize, parts: &Parts) -> Vec<String> {
        let mentor = self.mentors[index];
        let prepared = &self.prepared[index];
        let mut reasons = Vec::new();

        if parts.topics_shared > 0 {
            let mut seen = Vec::new();
            let shared: Vec<&str> = request
                .topics
                .iter()
                .filter(|t| {
                    let Some(id) = self.vocabulary.get(&normalise(t)).copied() else { return false };
                    let new = prepared.topics.binary_search(&id).is_ok() && !seen.contains(&id);
                    seen.push(id);
                    new
                })
                .map(|t| t.trim())
                .collect();
            let (shared_count, requested) = (parts.topics_shared, parts.topics_requested);
            let list = shared.join(", ");
            reasons.push(if requested == 1 {
                format!("shares your topic: {list}")
            } else if shared_count == requested {
                format!("shares all {requested} of your topics: {list}")
            } else {
                format!("shares {shared_count} of your {requested} topics: {list}")
            });
        }

        if parts.skills_matched > 0 {
            let request_words: std::collections::BTreeSet<String> =
                request.topics.iter().flat_map(|t| words(t)).chain(words(&request.goals)).collect();
            let matched: Vec<&str> = mentor
                .skills
                .iter()
                .filter(|skill| {
                    let mut skill_words = words(skill).peekable();
                    skill_words.peek().is_some() && skill_words.all(|w| request_words.contains(&w))
                })
                .map(|s| s.trim())
                .collect();
            let list = matched.join(", ");
            reasons.push(if matched.len() == 1 {
                format!("has a skill you mention: {list}")
            } else {
                format!("has skills you mention: {list}")
            });
        }

        if parts.different_organisation && parts.cross_organisation != CrossOrganisation::NoPreference {
            reasons.push("from a different organisation, as you asked".to_string());
        }

        if parts.modes_shared != 0 {
            let modes: Vec<&str> = [Mode::InPerson, Mode::Online]
                .into_iter()
                .filter(|m| parts.modes_shared & m.bit() != 0)
                .map(Mode::as_str)
                .collect();
            reasons.push(format!("available {}, as you asked", modes.join(" or ")));
        }

        reasons.push(format!("offers {}", parts.kind));

        let noun = if parts.capacity == 1 { "place" } else { "places" };
        reasons.push(format!("has {} of {} {noun} free", parts.free, parts.capacity));
        reasons
    }
}

/// Why a pair is or is not eligible, in the order the rules are checked; the
/// scheduled pass uses it to tell a member why nobody was proposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Eligibility {
    NotOffered,
    Excluded,
    SameOrganisation,
    NoCommonMode,
    Full,
    Eligible,
}

/// A set of vocabulary ids: one bit each, so that checking a mentor's topics and
/// skill words against a request costs a shift and a mask per id.
struct Bits(Vec<u64>);

impl Bits {
    fn new(size: usize) -> Self {
        Bits(vec![0; size.div_ceil(64)])
    }

    fn insert(&mut self, id: u32) {
        self.0[id as usize / 64] |= 1 << (id % 64);
    }

    fn contains(&self, id: u32) -> bool {
        self.0[id as usize / 64] >> (id % 64) & 1 == 1
    }
}
