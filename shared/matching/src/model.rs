//! The plain data the matching functions take: mentors, mentoring requests and the
//! weights of the score.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What a mentor offers and what a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Mentoring,
    Coaching,
}

impl Kind {
    /// The word people read: `mentoring`, `coaching`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Mentoring => "mentoring",
            Kind::Coaching => "coaching",
        }
    }

    pub(crate) fn bit(self) -> u8 {
        match self {
            Kind::Mentoring => 1,
            Kind::Coaching => 2,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a mentor and a member can meet. Serialised as `in_person` and `online`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    InPerson,
    Online,
}

impl Mode {
    /// The words people read: `in person`, `online`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::InPerson => "in person",
            Mode::Online => "online",
        }
    }

    pub(crate) fn bit(self) -> u8 {
        match self {
            Mode::InPerson => 1,
            Mode::Online => 2,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the member wants a mentor from another organisation than their own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrossOrganisation {
    /// A mentor from another organisation scores higher; one from the member's own
    /// organisation is still eligible.
    Prefer,
    /// Only mentors from another organisation are eligible.
    Require,
    #[default]
    NoPreference,
}

/// A member who offers mentoring or coaching, as the matching sees them.
///
/// `id` is the mentor's member id: a mentor is a member, and a member is never
/// matched with themself (see [`Request::member_id`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mentor {
    pub id: String,
    pub name: String,
    pub organisation_id: String,
    /// Carried for callers (display, reports); the score does not use it.
    #[serde(default)]
    pub organisation_type: Option<String>,
    pub offers: BTreeSet<Kind>,
    /// Compared with the request's topics without regard to case or surrounding space.
    #[serde(default)]
    pub topics: BTreeSet<String>,
    /// Matched against the words of the request's topics and goals (see
    /// [`crate::score`]).
    #[serde(default)]
    pub skills: BTreeSet<String>,
    /// Mentees the mentor is willing to have at once.
    pub capacity: u32,
    /// Active mentees plus places held by live proposals.
    #[serde(default)]
    pub load: u32,
    /// Empty means "not stated": such a mentor is not excluded by a request's modes.
    #[serde(default)]
    pub availability: BTreeSet<Mode>,
    pub accepting: bool,
}

impl Mentor {
    /// Places a new mentee could take now: capacity minus load, never below zero.
    pub fn free_places(&self) -> u32 {
        self.capacity.saturating_sub(self.load)
    }
}

/// An open mentoring request of one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: String,
    pub member_id: String,
    pub member_organisation_id: String,
    pub kind: Kind,
    #[serde(default)]
    pub topics: BTreeSet<String>,
    /// Free text; its words are matched against mentors' skills.
    #[serde(default)]
    pub goals: String,
    #[serde(default)]
    pub cross_organisation: CrossOrganisation,
    /// Empty means "either is fine".
    #[serde(default)]
    pub availability: BTreeSet<Mode>,
    /// Mentor ids never to propose: mentors the member declined, mentors who declined
    /// this member (the member themself is excluded anyway).
    #[serde(default)]
    pub excluded_mentors: BTreeSet<String>,
}

/// The most points each part of the score can give (see [`crate::score`] for how
/// much of it a pair gets). Loaded from configuration; a missing field takes its
/// default, an unknown field is an error so that a misspelt weight is not ignored.
///
/// The defaults add up to 150: topics dominate, then who the mentor is (another
/// organisation when asked, free places), then the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// Share of the request's topics the mentor also has. Default 60.
    pub topic_overlap: u32,
    /// Mentor skills that the request's topics and goals mention, counting up to
    /// three. Default 30.
    pub skill_overlap: u32,
    /// The mentor offers the kind asked for. Always earned by an eligible pair, so
    /// every eligible pair scores above zero as long as this is above zero. Default 10.
    pub kind_offered: u32,
    /// Both state how they can meet and have a mode in common. Default 10.
    pub availability_overlap: u32,
    /// The mentor is from another organisation and the member prefers or requires
    /// that. Default 20.
    pub cross_organisation: u32,
    /// Share of the mentor's places that are free, which spreads mentees over
    /// mentors. Default 20.
    pub free_places: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            topic_overlap: 60,
            skill_overlap: 30,
            kind_offered: 10,
            availability_overlap: 10,
            cross_organisation: 20,
            free_places: 20,
        }
    }
}
