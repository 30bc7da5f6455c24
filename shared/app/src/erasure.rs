//! Erasing a member: each feature erases its own part, in this order, through
//! the `erase` function in its folder. Features never call back into this
//! module.

use crate::{App, AppResult, Claims};

impl App {
    /// Erases the profile and detaches the member's name and email from what they
    /// contributed (the contributions stay, anonymous). Earlier versions of those
    /// case studies, which still carry the name, are purged.
    pub async fn erase_member(&self, claims: &Claims) -> AppResult<()> {
        crate::case_studies::erase(self, &claims.sub).await?;
        self.revoke_member_tokens(&claims.sub).await?;
        crate::events::calendar_feeds::erase(self, &claims.sub).await?;
        crate::boards::erase(self, &claims.sub).await?;
        crate::projects::erase(self, &claims.sub).await?;
        crate::questions::erase(self, &claims.sub).await?;
        crate::adoptions::erase(self, &claims.sub).await?;
        crate::digest::purge_claims(self, &claims.sub).await?;
        crate::engagement::erase_nudges(self, &claims.sub).await?;
        crate::mentoring::erase(self, claims).await?;
        crate::resources::erase(self, &claims.sub).await?;
        crate::events::erase(self, claims).await?;
        crate::members::erase(self, claims).await
    }
}
