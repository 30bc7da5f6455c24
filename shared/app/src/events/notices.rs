//! Emails about events and bookings, each claimed before it is sent; confirmations
//! and updates carry an iCalendar invitation.

use crate::events::calendar;
use crate::events::calendar::IcsMethod;
use crate::{App, AppError, AppResult, keys};
use qnet_domain::event::london_local;
use qnet_domain::event::{Booking, BookingStatus, Event};
use qnet_ports::{Condition, Item, OutgoingMail};

pub(crate) fn mail_domain(from: &str) -> &str {
    from.rsplit_once('@').map(|(_, d)| d).unwrap_or("qnet.localhost")
}

/// The organiser named in invitations: a no-reply address on the mail domain.
/// Calendar replies to it are dropped by the inbound path
/// (`qnet_mail::Route::NoReply`).
pub fn organiser_address(mail_from: &str) -> String {
    format!("noreply@{}", mail_domain(mail_from))
}

pub(crate) fn method_of(notice: Notice, confirmed: bool) -> IcsMethod {
    match notice {
        Notice::Cancelled if confirmed => IcsMethod::Cancel,
        Notice::BookingCancelled => IcsMethod::Cancel,
        _ => IcsMethod::Request,
    }
}

/// Which email about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    Confirmed,
    Promoted,
    Updated,
    Cancelled,
    BookingCancelled,
    Declined,
    Waitlisted,
}

impl Notice {
    pub(crate) fn claim(self) -> &'static str {
        match self {
            Notice::Confirmed => "confirm",
            Notice::Promoted => "promoted",
            Notice::Updated => "updated",
            Notice::Cancelled => "cancelled",
            Notice::BookingCancelled => "booking-cancelled",
            Notice::Declined => "declined",
            Notice::Waitlisted => "visit-waitlisted",
        }
    }
}

impl App {
    /// Claims an email about an event; true when this caller is to send it.
    pub(crate) async fn claim_event_mail(&self, event_id: &str, what: &str) -> AppResult<bool> {
        let (pk, sk) = keys::event_mail_claim(event_id, what);
        let item = Item::new(pk, sk, serde_json::json!({"claimed_at": self.now_text()}));
        match self.records.put(item, Condition::NotExists).await {
            Ok(()) => Ok(true),
            Err(e) if e.is_conflict() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends a claimed email; a failure releases the claim so that a retry of
    /// the request sends it. Failures are logged without the mail service's
    /// text (it can name the address) and do not fail the request.
    pub(crate) async fn send_event_mail(&self, event_id: &str, what: &str, mail: AppResult<OutgoingMail>) {
        match self.claim_event_mail(event_id, what).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(_) => {
                tracing::error!(event = %event_id, "event email not claimed: the store failed");
                return;
            }
        }
        let sent = match mail {
            Ok(m) => self.deliver(&*self.mailer, &m).await.map(|_| ()).map_err(|_| ()),
            Err(_) => Err(()),
        };
        if sent.is_err() {
            tracing::error!(event = %event_id, "event email not sent: the mail service or the store failed");
            let (pk, sk) = keys::event_mail_claim(event_id, what);
            if self.records.delete(&pk, &sk, Condition::None).await.is_err() {
                tracing::error!(event = %event_id, "event email claim not released");
            }
        }
    }

    pub(crate) async fn send_confirmation(&self, e: &Event, b: &Booking, why: &str) {
        let notice = if why == "promoted" { Notice::Promoted } else { Notice::Confirmed };
        let mail = self.event_mail(e, b, notice, None).await;
        self.send_event_mail(&e.id, &format!("{why}-{}", b.id), mail).await;
    }

    pub(crate) async fn send_member_cancel(&self, e: &Event, b: &Booking) {
        let mail = self.event_mail(e, b, Notice::BookingCancelled, None).await;
        self.send_event_mail(&e.id, &format!("booking-cancelled-{}", b.id), mail).await;
    }

    pub(crate) async fn send_plain(&self, e: &Event, b: &Booking, notice: Notice) {
        let what = format!("{}-{}", notice.claim(), b.id);
        let mail = self.event_mail(e, b, notice, None).await;
        self.send_event_mail(&e.id, &what, mail).await;
    }

    /// The host (the event's creator) is asked to accept or decline a visit.
    pub(crate) async fn send_visit_request(&self, e: &Event, b: &Booking, links_base: &str) {
        let url = format!("{}/visit-requests/{}", links_base.trim_end_matches('/'), self.visit_token(e, b));
        let mail = async {
            let host = self.member_by_id(&e.created_by).await?.ok_or(AppError::NotFound("host"))?;
            let visitor = self.member_by_id(&b.member_id).await?.ok_or(AppError::NotFound("member"))?;
            let names = self.organisation_names().await?;
            let from =
                visitor.organisation_id.as_ref().and_then(|o| names.get(o)).map(|o| format!(" from {o}")).unwrap_or_default();
            let lines = vec![
                format!(
                    "{}{from} asks to visit. Accept or decline with the link below; nothing is decided until you do.",
                    visitor.name
                ),
                "Hosts decide who comes onto a ward or into a service: decline if the visit cannot be supported.".to_string(),
            ];
            self.build_mail(
                e,
                &host.name,
                &host.email,
                &format!("Visit request: {}", e.title),
                "A request to visit",
                &lines,
                Some(&url),
                None,
            )
        }
        .await;
        self.send_event_mail(&e.id, &format!("request-{}", b.id), mail).await;
    }

    /// Everyone booked hears of a change of time or place (confirmed members:
    /// an updated invitation) or of the cancellation (confirmed: an iCalendar
    /// CANCEL; waitlisted and requested: an email).
    pub(crate) async fn notify_bookings(&self, e: &Event, notice: Notice) -> AppResult<()> {
        for (b, _) in self.bookings(&e.id).await? {
            let what = match notice {
                Notice::Updated if b.status == BookingStatus::Confirmed => format!("updated-{}-{}", e.sequence, b.id),
                Notice::Cancelled if b.status != BookingStatus::Declined => format!("cancelled-{}", b.id),
                _ => continue,
            };
            let mail = self.event_mail(e, &b, notice, None).await;
            self.send_event_mail(&e.id, &what, mail).await;
        }
        Ok(())
    }

    pub(crate) async fn event_mail(&self, e: &Event, b: &Booking, notice: Notice, link: Option<&str>) -> AppResult<OutgoingMail> {
        let m = self.member_by_id(&b.member_id).await?.ok_or(AppError::NotFound("member"))?;
        let confirmed = b.status == BookingStatus::Confirmed;
        // The join link goes only to members with a place.
        let unconfirmed;
        let e = if confirmed {
            e
        } else {
            unconfirmed = Event { online_url: None, ..e.clone() };
            &unconfirmed
        };
        let (subject, headline, lines, ics) = match notice {
            Notice::Confirmed => (
                format!("Booked: {}", e.title),
                "Your place is booked",
                vec!["The invitation is attached: add it to your calendar.".to_string()],
                Some(IcsMethod::Request),
            ),
            Notice::Promoted => (
                format!("A place came up: {}", e.title),
                "You have a place",
                vec!["A place came free and it is yours. The invitation is attached: add it to your calendar.".to_string()],
                Some(IcsMethod::Request),
            ),
            Notice::Updated => (
                format!("Changed: {}", e.title),
                "The time or place has changed",
                vec!["The event has moved. The updated invitation is attached.".to_string()],
                Some(IcsMethod::Request),
            ),
            Notice::Cancelled => (
                format!("Cancelled: {}", e.title),
                "This event is cancelled",
                vec!["The organiser has cancelled this event. We are sorry for the change of plans.".to_string()],
                confirmed.then_some(IcsMethod::Cancel),
            ),
            Notice::BookingCancelled => (
                format!("Booking cancelled: {}", e.title),
                "Your booking is cancelled",
                vec!["You cancelled your place, and it has gone to the next person waiting.".to_string()],
                Some(IcsMethod::Cancel),
            ),
            Notice::Declined => (
                format!("Visit request declined: {}", e.title),
                "The host cannot take your visit",
                vec!["The host has declined this visit request. Other visits are listed on Qnet.".to_string()],
                None,
            ),
            Notice::Waitlisted => (
                format!("On the waitlist: {}", e.title),
                "You are on the waitlist",
                vec![
                    "The host accepted your visit, but every place is taken: you will have the next one that comes free."
                        .to_string(),
                ],
                None,
            ),
        };
        let ics = ics.map(|method| {
            calendar::event_ics(
                e,
                method,
                Some((&m.name, &m.email)),
                &organiser_address(&self.mail_from),
                &self.mail_from,
                self.now(),
            )
        });
        self.build_mail(
            e,
            &m.name,
            &m.email,
            &subject,
            headline,
            &lines,
            link,
            ics.as_deref().map(|t| (t, method_of(notice, confirmed))),
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn build_mail(
        &self,
        e: &Event,
        to_name: &str,
        to_email: &str,
        subject: &str,
        headline: &str,
        lines: &[String],
        action_url: Option<&str>,
        ics: Option<(&str, IcsMethod)>,
    ) -> AppResult<OutgoingMail> {
        let mut ctx = tera::Context::new();
        ctx.insert("name", to_name);
        ctx.insert("headline", headline);
        ctx.insert("lines", lines);
        ctx.insert("title", &e.title);
        ctx.insert("kind", e.kind.label());
        ctx.insert("when", &format!("{} to {}", london_local(e.starts()), london_local(e.ends())));
        ctx.insert("location", &e.location);
        ctx.insert("online_url", &e.online_url);
        ctx.insert("event_url", &format!("{}/events/{}", self.web_base_url, e.id));
        ctx.insert("action_url", &action_url);
        let mut h = crate::mail::Headers::new(("Qnet events", &*self.mail_from), (to_name, to_email), subject);
        h.calendar = ics.map(|(ics, method)| (ics.to_string(), method.as_str()));
        Ok(crate::mail::compose("email/event-notice", &ctx, h)?.mail)
    }
}
