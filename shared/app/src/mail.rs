//! Emails Qnet sends: text and HTML parts from the tera templates in
//! `templates/` (compiled into every binary, so a Lambda needs no files), built
//! as MIME with mail-builder so that threading and `Auto-Submitted` headers are
//! ours.

use std::sync::LazyLock;

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use qnet_ports::OutgoingMail;

/// The case-study template people are asked to follow (also `GET /case-studies/template`).
pub const CASE_STUDY_TEMPLATE: &str = include_str!("../../../templates/case-study-template.txt");

static TEMPLATES: LazyLock<tera::Tera> = LazyLock::new(|| {
    let mut t = tera::Tera::new();
    t.autoescape_on([".html.tera"]);
    t.add_raw_templates([
        ("email/layout.html.tera", include_str!("../../../templates/email/layout.html.tera")),
        ("email/layout.txt.tera", include_str!("../../../templates/email/layout.txt.tera")),
        ("email/case-study-received.html.tera", include_str!("../../../templates/email/case-study-received.html.tera")),
        ("email/case-study-received.txt.tera", include_str!("../../../templates/email/case-study-received.txt.tera")),
        ("email/digest.html.tera", include_str!("../../../templates/email/digest.html.tera")),
        ("email/digest.txt.tera", include_str!("../../../templates/email/digest.txt.tera")),
        ("pages/page.html.tera", include_str!("../../../templates/pages/page.html.tera")),
        ("email/confirm-address.html.tera", include_str!("../../../templates/email/confirm-address.html.tera")),
        ("email/confirm-address.txt.tera", include_str!("../../../templates/email/confirm-address.txt.tera")),
        ("email/board-post.html.tera", include_str!("../../../templates/email/board-post.html.tera")),
        ("email/project-invitation.html.tera", include_str!("../../../templates/email/project-invitation.html.tera")),
        ("email/project-invitation.txt.tera", include_str!("../../../templates/email/project-invitation.txt.tera")),
        ("email/board-post.txt.tera", include_str!("../../../templates/email/board-post.txt.tera")),
        ("email/mentoring-offer.html.tera", include_str!("../../../templates/email/mentoring-offer.html.tera")),
        ("email/mentoring-offer.txt.tera", include_str!("../../../templates/email/mentoring-offer.txt.tera")),
        ("email/mentoring-introduction.html.tera", include_str!("../../../templates/email/mentoring-introduction.html.tera")),
        ("email/mentoring-introduction.txt.tera", include_str!("../../../templates/email/mentoring-introduction.txt.tera")),
        ("email/coffee-introduction.html.tera", include_str!("../../../templates/email/coffee-introduction.html.tera")),
        ("email/coffee-introduction.txt.tera", include_str!("../../../templates/email/coffee-introduction.txt.tera")),
        ("email/event-notice.html.tera", include_str!("../../../templates/email/event-notice.html.tera")),
        ("email/event-notice.txt.tera", include_str!("../../../templates/email/event-notice.txt.tera")),
        ("email/event-reminder.html.tera", include_str!("../../../templates/email/event-reminder.html.tera")),
        ("email/event-reminder.txt.tera", include_str!("../../../templates/email/event-reminder.txt.tera")),
    ])
    .expect("the email templates parse");
    t
});

/// A small HTML page answering a link in an email: a message and, for an
/// action, a button that POSTs (a GET never acts: mail scanners fetch links).
pub struct Page<'a> {
    pub title: &'a str,
    pub message: &'a str,
    /// One form (a button) per `(action URL, button label)`, in order.
    pub actions: &'a [(&'a str, &'a str)],
    /// A hidden field the form posts, e.g. `List-Unsubscribe=One-Click`.
    pub field: Option<(&'a str, &'a str)>,
    /// The web app's origin, whose stylesheet (`/qnet.css`) gives the page the
    /// NHS.UK look of the rest of the service, and whose home the header links.
    pub site: &'a str,
}

pub fn page(p: &Page<'_>) -> String {
    let mut ctx = tera::Context::new();
    ctx.insert("title", p.title);
    ctx.insert("message", p.message);
    let actions: Vec<serde_json::Value> =
        p.actions.iter().map(|(action, button)| serde_json::json!({"action": action, "button": button})).collect();
    ctx.insert("actions", &actions);
    ctx.insert("field_name", &p.field.map(|f| f.0));
    ctx.insert("field_value", &p.field.map(|f| f.1));
    ctx.insert("site", p.site.trim_end_matches('/'));
    render("pages/page.html.tera", &ctx).expect("the page template renders with these variables")
}

/// What the acknowledgement says. It never quotes the submission's text back:
/// only counts, a reference and what happens next.
pub struct Acknowledgement<'a> {
    pub from: &'a str,
    pub to_name: &'a str,
    pub to_email: &'a str,
    pub case_study_id: &'a str,
    pub attachment_count: usize,
    pub held: bool,
    /// The Message-ID of the email being acknowledged (without angle brackets).
    pub in_reply_to: Option<&'a str>,
    /// The acknowledgement's own Message-ID (without angle brackets).
    pub message_id: &'a str,
}

pub fn render(name: &str, context: &tera::Context) -> Result<String, tera::Error> {
    TEMPLATES.render(name, context)
}

/// Builds the acknowledgement of an emailed case study.
pub fn acknowledgement(a: &Acknowledgement<'_>) -> Result<OutgoingMail, String> {
    let mut ctx = tera::Context::new();
    ctx.insert("name", a.to_name);
    ctx.insert("case_study_id", a.case_study_id);
    ctx.insert("attachment_count", &a.attachment_count);
    ctx.insert("held", &a.held);
    ctx.insert("template", CASE_STUDY_TEMPLATE.trim_end());
    let text = render("email/case-study-received.txt.tera", &ctx).map_err(|e| e.to_string())?;
    let html = render("email/case-study-received.html.tera", &ctx).map_err(|e| e.to_string())?;
    let mut m = MessageBuilder::new()
        .from(("Qnet case studies", a.from))
        .to((a.to_name, a.to_email))
        .subject("We have received your case study")
        .message_id(a.message_id.to_string())
        // RFC 3834: an automatic reply, so that no mail loop can start.
        .header("Auto-Submitted", Raw::new("auto-replied"))
        .header("X-Auto-Response-Suppress", Raw::new("All"))
        .text_body(text)
        .html_body(html);
    if let Some(id) = a.in_reply_to {
        m = m.in_reply_to(id.to_string()).references(id.to_string());
    }
    let raw = m.write_to_vec().map_err(|e| e.to_string())?;
    Ok(OutgoingMail { from: a.from.to_string(), to: vec![a.to_email.to_string()], raw })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledgement_is_threaded_automatic_and_quotes_nothing() {
        let mail = acknowledgement(&Acknowledgement {
            from: "case-studies@qnet.example",
            to_name: "Jo Bloggs",
            to_email: "jo@leedsth.nhs.uk",
            case_study_id: "01J00000000000000000000000",
            attachment_count: 2,
            held: true,
            in_reply_to: Some("abc@mail.nhs.net"),
            message_id: "ack-1@qnet.example",
        })
        .unwrap();
        let text = String::from_utf8(mail.raw).unwrap();
        assert!(text.contains("Auto-Submitted: auto-replied"));
        assert!(text.contains("In-Reply-To: <abc@mail.nhs.net>"));
        assert!(text.contains("Message-ID: <ack-1@qnet.example>"));
        assert!(text.contains("multipart/alternative"));
        assert!(text.contains("2 attached files"));
        assert!(text.contains("Lessons learned"), "the template is included");
        assert_eq!(mail.to, vec!["jo@leedsth.nhs.uk"]);
    }

    #[test]
    fn html_part_escapes_names() {
        let mail = acknowledgement(&Acknowledgement {
            from: "a@b.org",
            to_name: "<script>x</script>",
            to_email: "c@d.org",
            case_study_id: "id",
            attachment_count: 0,
            held: false,
            in_reply_to: None,
            message_id: "m@b.org",
        })
        .unwrap();
        let text = String::from_utf8_lossy(&mail.raw);
        assert!(text.contains("&lt;script&gt;x&lt;/script&gt;"), "{text}");
    }
}
