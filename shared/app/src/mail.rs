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

mod files {
    include!(concat!(env!("OUT_DIR"), "/templates.rs"));
}

/// The folder `templates/` loaded once: every file of `templates/email` and
/// `templates/pages` (listed by `build.rs`, compiled in).
static TEMPLATES: LazyLock<tera::Tera> = LazyLock::new(|| {
    let mut t = tera::Tera::new();
    t.autoescape_on([".html.tera"]);
    t.add_raw_templates(files::TEMPLATE_FILES.iter().copied()).expect("the email templates parse");
    t
});

/// Who an email is from and to, its subject, threading and the headers it
/// carries beyond those.
pub struct Headers<'a> {
    /// `(display name, address)`.
    pub from: (&'a str, &'a str),
    /// `(display name, address)` of each recipient; the envelope goes to each address.
    pub to: Vec<(&'a str, &'a str)>,
    pub subject: String,
    pub reply_to: Option<String>,
    /// Without angle brackets.
    pub message_id: Option<String>,
    /// The Message-ID this answers (also its `References`), without angle brackets.
    pub in_reply_to: Option<String>,
    /// `Auto-Submitted` (RFC 3834): `auto-generated` or `auto-replied`.
    pub auto_submitted: &'static str,
    /// Further headers, in order (`List-Unsubscribe`, `X-Auto-Response-Suppress`, …).
    pub extra: Vec<(&'static str, String)>,
    /// An iCalendar invitation `(text, METHOD)`: shown inline and attached as `invite.ics`.
    pub calendar: Option<(String, &'static str)>,
}

impl<'a> Headers<'a> {
    /// An automatic (`auto-generated`) email from `from` to one person.
    pub fn new(from: (&'a str, &'a str), to: (&'a str, &'a str), subject: impl Into<String>) -> Headers<'a> {
        Headers {
            from,
            to: vec![to],
            subject: subject.into(),
            reply_to: None,
            message_id: None,
            in_reply_to: None,
            auto_submitted: "auto-generated",
            extra: vec![],
            calendar: None,
        }
    }
}

/// A composed email: its rendered parts and the MIME message to send.
#[derive(Debug, Clone)]
pub struct Composed {
    pub text: String,
    /// Absent when the template has no `.html.tera` part.
    pub html: Option<String>,
    pub mail: OutgoingMail,
}

/// Why an email could not be composed (a template that does not render, or MIME that cannot be written).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ComposeError(pub String);

impl From<ComposeError> for crate::AppError {
    fn from(e: ComposeError) -> Self {
        crate::AppError::Unavailable(e.0)
    }
}

/// The one way an email is built: renders `templates/<template>.txt.tera` (and
/// `<template>.html.tera` when there is one) with `context`, and writes the MIME
/// message with `headers`. `template` is the name without its extension, e.g.
/// `email/digest`.
pub fn compose(template: &str, context: &tera::Context, headers: Headers<'_>) -> Result<Composed, ComposeError> {
    compose_with(&TEMPLATES, template, context, headers)
}

/// The plain-text part of an email [`compose`] would write, for pages that show
/// what was sent (a member's coffee introduction).
pub fn text(template: &str, context: &tera::Context) -> Result<String, ComposeError> {
    let name = format!("{template}.txt.tera");
    TEMPLATES.render(&name, context).map_err(|e| ComposeError(format!("the template {name} did not render: {e}")))
}

/// [`compose`] with other templates (the digest's tests inject broken ones).
pub fn compose_with(
    templates: &tera::Tera,
    template: &str,
    context: &tera::Context,
    h: Headers<'_>,
) -> Result<Composed, ComposeError> {
    use mail_builder::headers::content_type::ContentType;
    use mail_builder::mime::MimePart;
    let render = |name: String| {
        templates.render(&name, context).map_err(|e| ComposeError(format!("the template {name} did not render: {e}")))
    };
    let text = render(format!("{template}.txt.tera"))?;
    let html_name = format!("{template}.html.tera");
    let html = if templates.get_template_names().any(|n| n == html_name) { Some(render(html_name)?) } else { None };
    let mut m = MessageBuilder::new().from(h.from);
    m = if h.to.len() == 1 { m.to(h.to[0]) } else { m.to(h.to.clone()) };
    if let Some(r) = h.reply_to {
        m = m.reply_to(r);
    }
    m = m.subject(h.subject);
    if let Some(id) = h.message_id {
        m = m.message_id(id);
    }
    if let Some(id) = h.in_reply_to {
        m = m.in_reply_to(id.clone()).references(id);
    }
    m = m.header("Auto-Submitted", Raw::new(h.auto_submitted));
    for (name, value) in h.extra {
        m = m.header(name, Raw::new(value));
    }
    m = match (&html, h.calendar) {
        (None, None) => m.text_body(text.clone()),
        (Some(html), None) => m.text_body(text.clone()).html_body(html.clone()),
        (html, Some((ics, method))) => {
            let ct = || ContentType::new("text/calendar").attribute("method", method).attribute("charset", "utf-8");
            let mut parts = vec![MimePart::new("text/plain", text.clone())];
            if let Some(html) = html {
                parts.push(MimePart::new("text/html", html.clone()));
            }
            parts.push(MimePart::new(ct(), ics.clone()));
            m.body(MimePart::new(
                "multipart/mixed",
                vec![MimePart::new("multipart/alternative", parts), MimePart::new(ct(), ics).attachment("invite.ics")],
            ))
        }
    };
    let raw = m.write_to_vec().map_err(|e| ComposeError(format!("the MIME of {template} could not be written: {e}")))?;
    let mail = OutgoingMail { from: h.from.1.to_string(), to: h.to.iter().map(|(_, a)| a.to_string()).collect(), raw };
    Ok(Composed { text, html, mail })
}

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

pub(crate) fn render(name: &str, context: &tera::Context) -> Result<String, tera::Error> {
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
    let mut h = Headers::new(("Qnet case studies", a.from), (a.to_name, a.to_email), "We have received your case study");
    h.message_id = Some(a.message_id.to_string());
    h.in_reply_to = a.in_reply_to.map(String::from);
    // RFC 3834: an automatic reply, so that no mail loop can start.
    h.auto_submitted = "auto-replied";
    h.extra.push(("X-Auto-Response-Suppress", "All".into()));
    compose("email/case-study-received", &ctx, h).map(|c| c.mail).map_err(|e| e.0)
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
