//! What the API answers for a member's own profile.

use std::collections::HashMap;

use qnet_domain::member::Member;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub organisation_id: Option<String>,
    pub organisation_name: Option<String>,
    pub job_title: Option<String>,
    pub topics: Vec<String>,
    /// Digest preferences (new members start on `weekly`).
    pub digest: qnet_domain::digest::DigestPrefs,
    /// Randomised coffee: `opt_in` puts the member in the next rounds' pool.
    pub coffee: qnet_domain::member::CoffeePrefs,
    /// In the member directory (`GET /members`).
    pub listed: bool,
    /// Topics the member agreed to be asked about ("Ask me about").
    pub ask_me_about: Vec<String>,
    /// Which engagement emails the member gets.
    pub engagement: qnet_domain::member::EngagementPrefs,
    /// Set when no email can go to this address (a hard bounce or a complaint).
    pub email_suppressed: Option<crate::members::suppression::SuppressionView>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl MemberView {
    pub fn new(m: Member, names: &HashMap<String, String>) -> MemberView {
        MemberView {
            organisation_name: m.organisation_id.as_ref().and_then(|o| names.get(o).cloned()),
            id: m.id,
            name: m.name,
            email: m.email,
            organisation_id: m.organisation_id,
            job_title: m.job_title,
            topics: m.topics,
            digest: m.digest,
            coffee: m.coffee,
            listed: m.listed,
            ask_me_about: m.ask_me_about,
            engagement: m.engagement,
            email_suppressed: None,
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        }
    }
}
