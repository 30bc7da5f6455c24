//! Who is asking: one `Claims` type reaches the app the same way in Lambda (from
//! the API Gateway JWT authorizer, or a verified Cognito ID token) and locally
//! (from a token signed with the data directory's key).

use crate::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The member id.
    pub sub: String,
    pub email: String,
    pub name: String,
    /// Always contains `Role::Member`.
    pub groups: Vec<Role>,
}

impl Claims {
    pub fn new(sub: String, email: String, name: String, mut groups: Vec<Role>) -> Claims {
        groups.push(Role::Member);
        groups.sort();
        groups.dedup();
        Claims { sub, email: email.to_ascii_lowercase(), name, groups }
    }

    pub fn has(&self, role: Role) -> bool {
        self.groups.contains(&role)
    }

    pub fn is_moderator(&self) -> bool {
        self.has(Role::Moderator) || self.has(Role::Admin)
    }
}
