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
            let render = |name: &str| crate::mail::render(name, &ctx);
            let (Ok(text), Ok(html)) =
                (render("email/project-invitation.txt.tera"), render("email/project-invitation.html.tera"))
            else {
                tracing::error!("the project invitation templates did not render");
                continue;
            };
            let raw = mail_builder::MessageBuilder::new()
                .from(("Qnet", &*self.mail_from))
                .to((m.name.as_str(), m.email.as_str()))
                .subject(format!("Join the team of \"{}\" on Qnet?", p.title))
                .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("auto-generated"))
                .text_body(text)
                .html_body(html)
                .write_to_vec();
            let Ok(raw) = raw else { continue };
            let mail = qnet_ports::OutgoingMail { from: self.mail_from.to_string(), to: vec![m.email.clone()], raw };
            if let Err(e) = self.deliver(&*self.mailer, &mail).await {
                tracing::warn!(error = %e, project = %p.id, "a project invitation was not sent");
            }
        }
    }
}
