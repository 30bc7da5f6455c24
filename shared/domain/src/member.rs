//! Members: everyone who signs in. The member id is the identity provider's `sub`.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::digest::{DigestPatch, DigestPrefs};
use crate::text::{FreeText, Input, Presence};
use crate::topics;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub email: String,
    pub organisation_id: Option<String>,
    pub job_title: Option<String>,
    pub topics: Vec<String>,
    /// Digest preferences; members stored before digests existed read as weekly.
    #[serde(default)]
    pub digest: DigestPrefs,
    /// Randomised coffee: whether the member is in the next rounds' pool.
    #[serde(default)]
    pub coffee: CoffeePrefs,
    /// In the member directory (`GET /members`); profiles start unlisted.
    #[serde(default)]
    pub listed: bool,
    /// Topics the member agreed to be asked about when a question in them goes
    /// unanswered ("Ask me about …"); being in the directory is not consent.
    #[serde(default)]
    pub ask_me_about: Vec<String>,
    /// Which engagement emails the member gets; all on until turned off.
    #[serde(default)]
    pub engagement: EngagementPrefs,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberPatch {
    pub name: Option<FreeText>,
    pub organisation_id: Option<String>,
    pub job_title: Option<Option<FreeText>>,
    pub topics: Option<Vec<String>>,
    pub digest: Option<DigestPatch>,
    /// `coffee.opt_in`.
    pub coffee_opt_in: Option<bool>,
    pub listed: Option<bool>,
    pub ask_me_about: Option<Vec<String>>,
    pub engagement: Option<EngagementPatch>,
}

/// Topics one member may be asked about, at most.
pub const ASK_ME_ABOUT_MAX: usize = 10;

/// The engagement emails a member gets (`PATCH /me` `engagement`). Each kind
/// is on until the member turns it off, in settings or with the one-click
/// unsubscribe in one of those emails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EngagementPrefs {
    /// Questions on the member's case studies and resources, and answers to their questions.
    #[serde(default = "on")]
    pub questions: bool,
    /// Unanswered questions in a topic of "Ask me about".
    #[serde(default = "on")]
    pub expert_questions: bool,
    /// A project of theirs with no new data point or PDSA cycle in 8 weeks.
    #[serde(default = "on")]
    pub project_reminders: bool,
    /// The welcome with three things to do.
    #[serde(default = "on")]
    pub welcome: bool,
    /// How often their case studies and resources were read, and thanks.
    #[serde(default = "on")]
    pub author_updates: bool,
}

fn on() -> bool {
    true
}

impl Default for EngagementPrefs {
    fn default() -> EngagementPrefs {
        EngagementPrefs { questions: true, expert_questions: true, project_reminders: true, welcome: true, author_updates: true }
    }
}

/// The names of [`EngagementPrefs`]' switches, as the API and opt-out links write them.
pub const ENGAGEMENT_KINDS: [&str; 5] = ["questions", "expert_questions", "project_reminders", "welcome", "author_updates"];

impl EngagementPrefs {
    /// The switch named `kind` (one of [`ENGAGEMENT_KINDS`]).
    pub fn get(&self, kind: &str) -> Option<bool> {
        Some(match kind {
            "questions" => self.questions,
            "expert_questions" => self.expert_questions,
            "project_reminders" => self.project_reminders,
            "welcome" => self.welcome,
            "author_updates" => self.author_updates,
            _ => return None,
        })
    }

    /// Sets the switch named `kind`; false when there is no such switch.
    pub fn set(&mut self, kind: &str, value: bool) -> bool {
        let slot = match kind {
            "questions" => &mut self.questions,
            "expert_questions" => &mut self.expert_questions,
            "project_reminders" => &mut self.project_reminders,
            "welcome" => &mut self.welcome,
            "author_updates" => &mut self.author_updates,
            _ => return false,
        };
        *slot = value;
        true
    }
}

/// A partial change of [`EngagementPrefs`]: the switches named, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngagementPatch(pub Vec<(&'static str, bool)>);

/// Randomised coffee preferences (`PATCH /me` `coffee`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoffeePrefs {
    /// In the pool of each new coffee round (an ISO week, Europe/London).
    pub opt_in: bool,
}

impl MemberPatch {
    pub fn parse(value: &serde_json::Value) -> Result<MemberPatch, FieldErrors> {
        let mut i = Input::new(
            value,
            &["name", "organisation_id", "job_title", "topics", "digest", "coffee", "listed", "ask_me_about", "engagement"],
        );
        let mut p = MemberPatch::default();
        if i.has("name") {
            p.name = i.free_text("name", Presence::Required, 1, 200);
        }
        if i.has("organisation_id") {
            p.organisation_id = i.text("organisation_id", Presence::Required, 1, 64);
        }
        p.job_title = i.patch_free_text("job_title", 200);
        p.topics = i.id_list("topics", 20, |t| if topics::is_known(t) { Ok(()) } else { Err("unknown topic".into()) });
        p.digest = DigestPatch::parse_in(&mut i);
        p.coffee_opt_in = i
            .object("coffee", &["opt_in"], |o| {
                let v = o.boolean("opt_in");
                if !o.has("opt_in") {
                    o.errors.push("coffee.opt_in", "is required");
                }
                v
            })
            .flatten();
        p.listed = i.boolean("listed");
        p.ask_me_about =
            i.id_list(
                "ask_me_about",
                ASK_ME_ABOUT_MAX,
                |t| {
                    if topics::is_known(t) { Ok(()) } else { Err("unknown topic".into()) }
                },
            );
        p.engagement = i.object("engagement", &ENGAGEMENT_KINDS, |o| {
            let mut patch = EngagementPatch::default();
            for kind in ENGAGEMENT_KINDS {
                if let Some(v) = o.boolean(kind) {
                    patch.0.push((kind, v));
                }
            }
            patch
        });
        i.errors.into_result(p)
    }

    pub fn apply(self, m: &mut Member) {
        if let Some(n) = self.name {
            m.name = n.into();
        }
        if let Some(o) = self.organisation_id {
            m.organisation_id = Some(o);
        }
        if let Some(j) = self.job_title {
            m.job_title = j.map(String::from);
        }
        if let Some(t) = self.topics {
            m.topics = t;
        }
        if let Some(d) = self.digest {
            d.apply(&mut m.digest);
        }
        if let Some(c) = self.coffee_opt_in {
            m.coffee.opt_in = c;
        }
        if let Some(l) = self.listed {
            m.listed = l;
        }
        if let Some(mut t) = self.ask_me_about {
            t.sort();
            t.dedup();
            m.ask_me_about = t;
        }
        if let Some(e) = self.engagement {
            for (kind, v) in e.0 {
                m.engagement.set(kind, v);
            }
        }
    }
}

/// A plausible email address, lower-cased. Identity providers have verified it;
/// this only guards the local token command and stored keys.
/// An admin's assignment of a member to an organisation: the organisation's id.
pub fn parse_organisation_assignment(value: &serde_json::Value) -> Result<String, FieldErrors> {
    let mut i = Input::new(value, &["organisation_id"]);
    let organisation_id = i.text("organisation_id", Presence::Required, 1, 64);
    Ok(i.errors.into_result(organisation_id)?.unwrap_or_default())
}

pub fn normalise_email(e: &str) -> Result<String, String> {
    let e = e.trim().to_ascii_lowercase();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && !l.contains(char::is_whitespace) && crate::organisation::normalise_domain(d).is_ok()
        });
    if ok { Ok(e) } else { Err("must be an email address".into()) }
}

/// An email address shortened for logs: never the full address.
pub fn redact_email(e: &str) -> String {
    match e.split_once('@') {
        Some((l, d)) => format!("{}…@{d}", l.chars().next().unwrap_or('?')),
        None => "…".into(),
    }
}

/// The wire shape of each request body parsed above, for the OpenAPI document
/// only: the parser reads the `serde_json::Value` (reporting every field error at
/// once) and these types describe the same contract to clients. utoipa takes only
/// literal numbers for limits, so `tests::schema_matches_parser` checks each
/// literal against the constant the parser uses.
#[cfg(feature = "openapi")]
pub mod wire {
    use serde::Deserialize;
    use utoipa::ToSchema;

    /// An admin's assignment of a member to an organisation.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct MemberOrganisationInput {
        /// Any organisation, whether or not it lists the member's email domain.
        #[schema(min_length = 1, max_length = 64)]
        pub organisation_id: String,
    }

    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct MemberPatchInput {
        #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
        pub name: Option<String>,
        #[schema(min_length = 1)]
        pub organisation_id: Option<String>,
        #[schema(max_length = 200)]
        pub job_title: Option<String>,
        pub topics: Option<Vec<String>>,
        pub digest: Option<crate::digest::wire::DigestPatchInput>,
        pub coffee: Option<CoffeePatchInput>,
        /// In the member directory (`GET /members`) for other signed-in members;
        /// profiles start unlisted.
        pub listed: Option<bool>,
        /// Topics (ids from `GET /topics`) the member agrees to be asked about when a
        /// question in them has had no answer for 3 days; at most one such email a week.
        #[schema(max_items = 10)]
        pub ask_me_about: Option<Vec<String>>,
        /// Turns engagement emails on or off, one kind at a time.
        pub engagement: Option<EngagementPatchInput>,
    }

    /// Engagement emails, each on or off; kinds not named are left as they are.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct EngagementPatchInput {
        pub questions: Option<bool>,
        pub expert_questions: Option<bool>,
        pub project_reminders: Option<bool>,
        pub welcome: Option<bool>,
        pub author_updates: Option<bool>,
    }

    /// Randomised coffee: `opt_in` puts the member in the pool of each new round.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct CoffeePatchInput {
        pub opt_in: bool,
    }
}
