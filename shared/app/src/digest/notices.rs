//! The digest email: its subject and its text and HTML bodies.

use crate::digest::{Composed, Digest, DigestItem, DigestSection, ITEMS_SHOWN_PER_SECTION};
use crate::mail;
use qnet_domain::digest::Period;
use qnet_domain::member::Member;
use qnet_domain::topics;
use std::sync::Arc;

/// `2026-03-02` → `2 March`.
pub(crate) fn day_label(date: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let mut parts = date.split('-');
    let (_, m, d) = (parts.next(), parts.next(), parts.next());
    match (m.and_then(|m| m.parse::<usize>().ok()), d.and_then(|d| d.parse::<u32>().ok())) {
        (Some(m @ 1..=12), Some(d)) => format!("{d} {}", MONTHS[m - 1]),
        _ => date.to_string(),
    }
}

impl Digest {
    /// The subject: "Qnet digest, 2–8 March: 5 new case studies".
    pub fn subject(period: &Period, sections: &[(Arc<dyn DigestSection>, Vec<DigestItem>)]) -> String {
        let counts: Vec<String> = sections
            .iter()
            .map(|(s, items)| {
                let (one, many) = s.nouns();
                format!("{} {}", items.len(), if items.len() == 1 { one } else { many })
            })
            .collect();
        let counted = match counts.len() {
            0 => "nothing new yet".to_string(),
            1 => counts[0].clone(),
            n => format!("{} and {}", counts[..n - 1].join(", "), counts[n - 1]),
        };
        format!("Qnet digest, {}: {counted}", period.label())
    }

    /// Composes one member's digest. `unsubscribe` is the token for the
    /// List-Unsubscribe links; a preview has none.
    pub fn compose(
        &self,
        member: &Member,
        period: &Period,
        sections: &[(Arc<dyn DigestSection>, Vec<DigestItem>)],
        unsubscribe: Option<&str>,
    ) -> Result<Composed, String> {
        let subject = Digest::subject(period, sections);
        let s = &self.settings;
        let unsubscribe_url = unsubscribe.map(|t| format!("{}/unsubscribe/{t}", s.api_base_url));
        let mut ctx = tera::Context::new();
        ctx.insert("name", &member.name);
        ctx.insert("subject", &subject);
        ctx.insert("period_label", &period.label());
        ctx.insert("cadence", period.cadence.as_str());
        ctx.insert("settings_url", &format!("{}/settings/digest", s.web_base_url));
        ctx.insert("unsubscribe_url", &unsubscribe_url);
        let view: Vec<serde_json::Value> = sections
            .iter()
            .map(|(sec, items)| {
                let shown: Vec<serde_json::Value> = items
                    .iter()
                    .take(ITEMS_SHOWN_PER_SECTION)
                    .map(|i| {
                        let names: Vec<&str> =
                            i.topics.iter().map(|t| topics::find(t).map(|x| x.name).unwrap_or(t.as_str())).collect();
                        serde_json::json!({
                            "title": i.title, "url": i.url, "summary": i.summary,
                            "organisation_name": i.organisation_name, "topics": i.topics,
                            "topic_names": names, "date": day_label(&i.date),
                        })
                    })
                    .collect();
                let more = items.len().saturating_sub(ITEMS_SHOWN_PER_SECTION);
                let (_, plural) = sec.nouns();
                serde_json::json!({"key": sec.key(), "heading": sec.heading(), "items": shown, "more": more,
                    "more_label": format!("See all {} {plural}", items.len()), "more_url": sec.list_url(&s.web_base_url)})
            })
            .collect();
        ctx.insert("sections", &view);
        ctx.insert("empty", &sections.is_empty());
        // Until the member has chosen, say how the digest works (new members
        // start on weekly).
        ctx.insert("first", &(member.created_at == member.updated_at));
        let domain = s.domain();
        // Stable for (issue, member): a resend after a crash would carry the same id.
        let message_id = format!("digest.{}.{}@{domain}", period.id, member.id.to_ascii_lowercase());
        let mut h =
            mail::Headers::new(("Qnet digest", s.from.as_str()), (member.name.as_str(), member.email.as_str()), subject.as_str());
        h.message_id = Some(message_id.clone());
        h.extra.push(("List-Id", format!("Qnet digest <digest.{domain}>")));
        // RFC 3834: no out-of-office replies to a newsletter.
        h.extra.push(("X-Auto-Response-Suppress", "All".into()));
        if let (Some(url), Some(token)) = (&unsubscribe_url, unsubscribe) {
            h.extra.push(("List-Unsubscribe", format!("<{url}>, <mailto:unsubscribe+{token}@{}>", s.inbound_domain)));
            h.extra.push(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()));
        }
        let c = match &self.templates {
            Some(t) => mail::compose_with(t, "email/digest", &ctx, h),
            None => mail::compose("email/digest", &ctx, h),
        }
        .map_err(|e| e.0)?;
        Ok(Composed { subject, html: c.html.unwrap_or_default(), text: c.text, message_id, mail: c.mail })
    }
}
