//! Organisations of the integrated care system: records, not free text.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::text::{Input, Presence};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrganisationType {
    Nhs,
    LocalAuthority,
    Voluntary,
    Education,
    Other,
}

impl OrganisationType {
    pub const ALL: [(&'static str, OrganisationType); 5] = [
        ("nhs", OrganisationType::Nhs),
        ("local_authority", OrganisationType::LocalAuthority),
        ("voluntary", OrganisationType::Voluntary),
        ("education", OrganisationType::Education),
        ("other", OrganisationType::Other),
    ];
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, t)| *t)
    }
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(_, t)| *t == self).map(|(n, _)| *n).unwrap_or("other")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organisation {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: OrganisationType,
    pub ods_code: Option<String>,
    pub email_domains: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// Fields of an organisation a client may set; all optional for PATCH.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganisationInput {
    pub name: Option<String>,
    pub kind: Option<OrganisationType>,
    /// `Some(None)` clears the ODS code.
    pub ods_code: Option<Option<String>>,
    pub email_domains: Option<Vec<String>>,
}

/// Lower-cases and checks an email domain (`nhs.net`, `leeds.gov.uk`).
pub fn normalise_domain(d: &str) -> Result<String, String> {
    let d = d.trim().trim_start_matches('@').to_ascii_lowercase();
    let ok = d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok { Ok(d) } else { Err("must be an email domain such as nhs.net".into()) }
}

/// The domain part of an email address, lower-cased.
pub fn email_domain(email: &str) -> Option<String> {
    let (_, d) = email.rsplit_once('@')?;
    normalise_domain(d).ok()
}

const FIELDS: [&str; 4] = ["name", "type", "ods_code", "email_domains"];

impl OrganisationInput {
    /// `create` makes name and type required.
    pub fn parse(value: &serde_json::Value, create: bool) -> Result<OrganisationInput, FieldErrors> {
        let mut i = Input::new(value, &FIELDS);
        let presence = if create { Presence::Required } else { Presence::Optional };
        let mut out = OrganisationInput::default();
        if create || i.has("name") {
            out.name = i.text("name", Presence::Required, 1, 200);
        }
        if let Some(t) = i.text("type", presence, 1, 40) {
            out.kind = OrganisationType::parse(&t);
            if out.kind.is_none() {
                i.errors.push("type", "must be one of nhs, local_authority, voluntary, education, other");
            }
        }
        if let Some(code) = i.patch_text("ods_code", 12) {
            match code {
                Some(c) if !(3..=10).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                    i.errors.push("ods_code", "must be an ODS code of 3 to 10 letters and digits");
                }
                c => out.ods_code = Some(c.map(|c| c.to_ascii_uppercase())),
            }
        }
        if i.has("email_domains") {
            let domains = i.id_list("email_domains", 50, |d| normalise_domain(d).map(|_| ()));
            out.email_domains = domains.map(|v| {
                let mut v: Vec<String> = v.iter().filter_map(|d| normalise_domain(d).ok()).collect();
                v.sort();
                v.dedup();
                v
            });
        }
        i.errors.into_result(out)
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_refuses() {
        let o = OrganisationInput::parse(
            &json!({"name": "Leeds Teaching Hospitals", "type": "nhs", "ods_code": "rr8", "email_domains": ["@NHS.net", "nhs.net"]}),
            true,
        )
        .unwrap();
        assert_eq!(o.ods_code, Some(Some("RR8".into())));
        assert_eq!(o.email_domains, Some(vec!["nhs.net".into()]));
        let e = OrganisationInput::parse(&json!({"type": "pub", "email_domains": ["not a domain"]}), true).unwrap_err();
        assert_eq!(e.0.len(), 3);
        assert_eq!(email_domain("A.B@Leeds.GOV.uk").as_deref(), Some("leeds.gov.uk"));
    }
}
