//! Item keys: the single-table layout, in one place. `docs/data-model.md` maps
//! each access pattern to these.

pub fn org(id: &str) -> (String, String) {
    (format!("ORG#{id}"), "ORG".into())
}
pub const ORG_LIST: &str = "ORGS";
/// One item per (email domain, organisation): several organisations may share a
/// domain (every NHS body uses nhs.net), so this is a list, not a unique claim.
pub fn org_domain(domain: &str, org_id: &str) -> (String, String) {
    (org_domain_partition(domain), format!("ORG#{org_id}"))
}
pub fn org_domain_partition(domain: &str) -> String {
    format!("ORGDOMAIN#{domain}")
}
pub fn member(id: &str) -> (String, String) {
    (format!("MEMBER#{id}"), "PROFILE".into())
}
pub fn member_email(email: &str) -> (String, String) {
    (format!("MEMBEREMAIL#{email}"), "MEMBEREMAIL".into())
}
pub fn case_study(id: &str) -> (String, String) {
    (format!("CS#{id}"), "CS".into())
}
pub fn case_study_version(id: &str, version: u64) -> (String, String) {
    (format!("CS#{id}"), format!("CSV#{version:010}"))
}
pub const CASE_STUDY_VERSION_PREFIX: &str = "CSV#";
pub fn attachment(case_study_id: &str, attachment_id: &str) -> (String, String) {
    (format!("CS#{case_study_id}"), format!("ATT#{attachment_id}"))
}
pub const ATTACHMENT_PREFIX: &str = "ATT#";
/// GSI1 partition of the moderation queue (pending case studies, oldest first).
pub const MODERATION_QUEUE: &str = "CSQUEUE#pending";
/// GSI2 partition of one member's case studies.
pub fn members_case_studies(member_id: &str) -> String {
    format!("MEMBER#{member_id}#CS")
}
/// Partitions of the published lists: every published case study has one entry
/// (a summary) in each list it belongs to, so each filter is one Query.
pub fn published_list(topic: Option<&str>, organisation_id: Option<&str>) -> String {
    match (topic, organisation_id) {
        (None, None) => "CSLIST#all".into(),
        (Some(t), None) => format!("CSLIST#topic#{t}"),
        (None, Some(o)) => format!("CSLIST#org#{o}"),
        (Some(t), Some(o)) => format!("CSLIST#topic#{t}#org#{o}"),
    }
}
/// Unique organisation names, case-insensitively.
pub fn org_name(name: &str) -> (String, String) {
    (format!("ORGNAME#{}", name.trim().to_lowercase()), "ORGNAME".into())
}
/// Points from a case study to the idempotency record that holds a copy of its
/// first answer, so the copy can be purged with the case study's history.
pub fn case_study_idempotency_ref(id: &str) -> (String, String) {
    (format!("CS#{id}"), "IDEMREF".into())
}
pub fn idempotency(member_id: &str, key_hash: &str) -> (String, String) {
    (format!("IDEM#{member_id}#{key_hash}"), "IDEM".into())
}
/// Blob keys by kind.
pub fn upload_blob(case_study_id: &str, attachment_id: &str) -> String {
    format!("uploads/{case_study_id}/{attachment_id}")
}
pub fn attachment_blob(case_study_id: &str, attachment_id: &str) -> String {
    format!("attachments/{case_study_id}/{attachment_id}")
}
/// An opaque link token, by the SHA-256 of its text.
pub fn token(hash: &str) -> (String, String) {
    (format!("TOKEN#{hash}"), "TOKEN".into())
}
/// GSI2 partition of one member's tokens (to revoke them all).
pub fn member_tokens(member_id: &str) -> String {
    format!("MEMBER#{member_id}#TOKENS")
}
/// An address that no Qnet email may go to (hard bounce or complaint).
pub fn suppression(email: &str) -> (String, String) {
    (format!("SUPPRESS#{}", email.trim().to_ascii_lowercase()), "SUPPRESS".into())
}
/// GSI1 partition of the members on one digest cadence (sparse: `off` is absent).
pub fn digest_subscribers(cadence: qnet_domain::digest::Cadence) -> String {
    format!("DIGEST#{}", cadence.as_str())
}
/// The claim that one digest issue went (or is going) to one member.
pub fn digest_claim(member_id: &str, issue_id: &str) -> (String, String) {
    (format!("MEMBER#{member_id}"), format!("DIGEST#{issue_id}"))
}
