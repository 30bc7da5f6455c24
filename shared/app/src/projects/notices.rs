//! Emails a project sends: invitations to join its team.

use crate::App;
use qnet_domain::project::Project;

impl App {
    /// Emails each newly invited member a link to the project's page, where they
    /// accept or decline. A failure is logged (the invitation stands and shows
    /// on the page), never the reason the project was not saved.
    pub(crate) async fn send_invitations(&self, p: &Project, lead: &str, ids: &[String]) {
        for id in ids {
            let Ok(Some(m)) = self.member_by_id(id).await else { continue };
            let mut ctx = tera::Context::new();
            ctx.insert("name", &m.name);
            ctx.insert("lead", lead);
            ctx.insert("title", &p.title);
            ctx.insert("project_url", &format!("{}/projects/{}", self.web_base_url, p.id));
            let h = crate::mail::Headers::new(
                ("Qnet", &*self.mail_from),
                (m.name.as_str(), m.email.as_str()),
                format!("Join the team of \"{}\" on Qnet?", p.title),
            );
            let mail = match crate::mail::compose("email/project-invitation", &ctx, h) {
                Ok(c) => c.mail,
                Err(e) => {
                    tracing::error!(error = %e, "the project invitation did not compose");
                    continue;
                }
            };
            if let Err(e) = self.deliver(&*self.mailer, &mail).await {
                tracing::warn!(error = %e, project = %p.id, "a project invitation was not sent");
            }
        }
    }
}
