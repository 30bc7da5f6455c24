use serde::{Deserialize, Serialize};

/// What a signed-in person may do. Every signed-in person is a member; the other
/// roles are Cognito groups assigned by operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Organiser,
    Moderator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Member, Role::Organiser, Role::Moderator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Organiser => "organiser",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim().to_ascii_lowercase())
    }
}

/// Parses the groups claim in either form API Gateway may hand over: a JSON array
/// (`["moderator","admin"]`) or the bracketed, space-separated string it makes of
/// a Cognito list claim (`[moderator admin]`). Unknown groups are ignored.
pub fn parse_groups(raw: &str) -> Vec<Role> {
    let raw = raw.trim();
    let names: Vec<String> = match serde_json::from_str::<Vec<String>>(raw) {
        Ok(v) => v,
        Err(_) => raw
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(|c: char| c.is_whitespace() || c == ',')
            .map(|s| s.trim_matches('"').to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    };
    let mut roles: Vec<Role> = names.iter().filter_map(|n| Role::parse(n)).collect();
    roles.sort();
    roles.dedup();
    roles
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

    /// A role to grant.
    #[derive(Deserialize, ToSchema)]
    pub struct RoleGrantInput {
        /// The address to grant it to.
        #[schema(example = "sam.moderator@leedsth.nhs.uk")]
        pub email: String,
        /// organiser, moderator or admin.
        #[schema(example = "moderator")]
        pub role: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_from_both_forms() {
        assert_eq!(parse_groups("[member moderator]"), vec![Role::Member, Role::Moderator]);
        assert_eq!(parse_groups(r#"["admin","moderator"]"#), vec![Role::Moderator, Role::Admin]);
        assert_eq!(parse_groups("[]"), vec![]);
        assert_eq!(parse_groups("[staff admin]"), vec![Role::Admin]);
    }
}
