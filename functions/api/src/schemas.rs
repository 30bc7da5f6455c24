//! Request body schemas for the OpenAPI document. Parsing itself is done by the
//! domain's constructors (which collect every field error at once); these types
//! describe the same contract to clients and to the property-based tester.

#![allow(dead_code)]

use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionsInput {
    #[schema(max_length = 20000)]
    pub aim: Option<String>,
    #[schema(max_length = 20000)]
    pub background: Option<String>,
    #[schema(max_length = 20000)]
    pub what_we_did: Option<String>,
    #[schema(max_length = 20000)]
    pub measures: Option<String>,
    #[schema(max_length = 20000)]
    pub results: Option<String>,
    #[schema(max_length = 20000)]
    pub lessons_learned: Option<String>,
    #[schema(max_length = 20000)]
    pub contact: Option<String>,
}

/// A new case study. `organisation_id` defaults to the submitter's organisation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseStudyInput {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    #[schema(max_length = 1000)]
    pub summary: Option<String>,
    #[schema(min_length = 1, max_length = 100000, pattern = r"\S")]
    pub body: String,
    pub sections: Option<SectionsInput>,
    pub organisation_id: Option<String>,
    /// Topic ids from `GET /topics`.
    #[schema(max_items = 10)]
    pub topics: Option<Vec<String>>,
}

/// Changes to a case study; absent fields stay as they are, null clears an
/// optional one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseStudyPatchInput {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: Option<String>,
    #[schema(max_length = 1000)]
    pub summary: Option<String>,
    #[schema(min_length = 1, max_length = 100000, pattern = r"\S")]
    pub body: Option<String>,
    pub sections: Option<SectionsInput>,
    #[schema(min_length = 1)]
    pub organisation_id: Option<String>,
    #[schema(max_items = 10)]
    pub topics: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectionInput {
    /// Why, for the submitter.
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    #[schema(min_length = 1, max_length = 255)]
    pub filename: String,
    /// A media type such as `application/pdf`; executables and scripts are refused.
    #[schema(min_length = 3, max_length = 200)]
    pub content_type: String,
    /// Bytes; at most 10 MB.
    #[schema(minimum = 1, maximum = 10485760)]
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    #[schema(min_length = 64, max_length = 64, pattern = "^[0-9a-fA-F]{64}$")]
    pub sha256: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationInput {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: OrganisationKind,
    #[schema(min_length = 3, max_length = 10, pattern = "^[A-Za-z0-9]+$")]
    pub ods_code: Option<String>,
    pub email_domains: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatchInput {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(rename = "type")]
    #[schema(inline)]
    pub kind: Option<OrganisationKind>,
    #[schema(min_length = 3, max_length = 10, pattern = "^[A-Za-z0-9]+$")]
    pub ods_code: Option<String>,
    pub email_domains: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    Nhs,
    LocalAuthority,
    Voluntary,
    Education,
    Other,
}

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
    pub digest: Option<DigestPatchInput>,
    pub coffee: Option<CoffeePatchInput>,
    /// In the member directory (`GET /members`) for other signed-in members;
    /// profiles start unlisted.
    pub listed: Option<bool>,
}

/// Randomised coffee: `opt_in` puts the member in the pool of each new round.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoffeePatchInput {
    pub opt_in: bool,
}

/// Digest preferences: how often, and on which topics (empty: all). Choosing a
/// cadence again ends an unsubscribe.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DigestPatchInput {
    pub cadence: Option<qnet_domain::digest::Cadence>,
    #[schema(max_items = 20)]
    pub topics: Option<Vec<String>>,
}

#[derive(serde::Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}
