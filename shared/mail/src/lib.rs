//! Inbound email to case-study submission: the pure step of issue 4.
//!
//! Raw message bytes and the SES receipt verdicts go in; an [`Analysis`] comes out
//! saying whether to accept, reject or ignore the message, and, for an accepted one,
//! the title, the text the person wrote, the template sections, the submitter and
//! the files to keep. Nothing here does I/O or reads a clock, so the Lambda, `qnet
//! ingest`, the SMTP listener, the tests and the fuzz target all run exactly the same
//! code on the same bytes.
//!
//! Staff write from Outlook on NHSmail, Exchange, Gmail, iPhones, Thunderbird and
//! webmail; each client wraps the words differently (HTML only, format=flowed,
//! quoted chains, legal footers, winmail.dat). The modules peel those wrappings off:
//! [`mod@headers`] decides routing and auto-mail, `html` turns HTML into text, `text`
//! strips quotes, signatures and footers and finds forwards, `signature` scores the
//! block under a sign-off for the submitter's details, `sections` finds the
//! template headings and `attachments` decodes, names and screens files.
//!
//! ```
//! let raw = b"From: Jane Doe <jane.doe@nhs.net>\r\nSubject: Fewer falls\r\n\r\nAim: fewer falls on ward 7.\r\n";
//! let a = qnet_mail::analyse(raw, &qnet_mail::Verdicts::default());
//! assert_eq!(a.outcome, qnet_mail::Outcome::Accept);
//! assert_eq!(a.title, "Fewer falls");
//! assert_eq!(a.sections.aim.as_deref(), Some("fewer falls on ward 7."));
//! ```

use std::panic::{AssertUnwindSafe, catch_unwind};

pub use qnet_domain::case_study::Sections;

mod attachments;
pub mod headers;
mod html;
mod pipeline;
mod sections;
mod signature;
mod text;
mod tnef;

pub use sections::heading_of;
pub use text::unwrap_flowed;

/// Writes TNEF streams, for tests and fixtures.
#[doc(hidden)]
pub use tnef::build as tnef_build;

/// One SES receipt verdict (`spamVerdict.status` and the like).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verdict {
    #[default]
    Pass,
    Fail,
    /// SES could not decide; for DMARC it means the domain publishes no policy.
    Gray,
    ProcessingFailed,
    Disabled,
}

impl Verdict {
    /// Reads SES's status string; anything unknown counts as `ProcessingFailed`, which
    /// neither rejects nor verifies, so a new status can never let mail through as verified.
    pub fn parse(status: &str) -> Verdict {
        match status.trim().to_ascii_uppercase().as_str() {
            "PASS" => Verdict::Pass,
            "FAIL" => Verdict::Fail,
            "GRAY" | "GREY" => Verdict::Gray,
            "DISABLED" => Verdict::Disabled,
            _ => Verdict::ProcessingFailed,
        }
    }
}

/// The five verdicts SES gives with each received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verdicts {
    pub spam: Verdict,
    pub virus: Verdict,
    pub spf: Verdict,
    pub dkim: Verdict,
    pub dmarc: Verdict,
}

/// Bounds that keep one message from using time or memory out of proportion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// MIME parts in the whole message, nested messages included.
    pub max_parts: usize,
    /// Nesting of multiparts and attached messages.
    pub max_depth: usize,
    /// Bytes of decoded text (plain and HTML) that are turned into the body.
    pub max_decoded_body: usize,
    /// One attachment's decoded size; larger ones are dropped, the mail still accepted.
    pub max_attachment: usize,
    /// Characters of body kept inline; the whole body is then also kept as `body.txt`.
    pub max_body_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_parts: 250,
            max_depth: 20,
            max_decoded_body: 2 * 1024 * 1024,
            max_attachment: qnet_domain::attachment::MAX_BYTES as usize,
            max_body_chars: qnet_domain::case_study::BODY_MAX,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accept,
    Reject,
    Ignore,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accept => "accept",
            Outcome::Reject => "reject",
            Outcome::Ignore => "ignore",
        }
    }
}

/// Where the message goes: most mail is a new submission; token addresses name a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Submission,
    /// `reply+TOKEN@…`: a reply to a project board; the token is upper-cased.
    Reply {
        token: String,
    },
    /// `unsubscribe+TOKEN@…`: leave a digest; the token is upper-cased.
    Unsubscribe {
        token: String,
    },
    /// `noreply@…`: the organiser named in event invitations. Calendar replies
    /// (iMIP `METHOD:REPLY`) and anything else sent there are dropped.
    NoReply,
}

/// A person named in a From header or a forwarded header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: Option<String>,
    /// Lower-cased so that the same mailbox always compares equal.
    pub email: String,
    /// From the signature block under the sign-off, when it names one.
    pub job_title: Option<String>,
}

/// A file kept from the message, with its decoded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// Lower-case hex SHA-256 of `bytes`.
    pub sha256: String,
    pub size: u64,
}

/// A file that was in the message but is not kept, and why, for the moderator and the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub filename: String,
    pub reason: String,
}

/// Everything the ingest step needs to decide and to build a case study.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub outcome: Outcome,
    /// Machine-readable code for reject and ignore (`spam`, `no_from`, `auto_reply`, …).
    pub reason: Option<&'static str>,
    /// One sentence for a person saying the same.
    pub detail: Option<String>,
    pub route: Route,
    pub message_id: Option<String>,
    /// In-Reply-To then References ids, without angle brackets, without repeats.
    pub in_reply_to: Vec<String>,
    pub title: String,
    pub body: String,
    pub body_truncated: bool,
    pub sections: Sections,
    pub submitter: Option<Person>,
    pub organisation_hint: Option<String>,
    pub forwarded_from: Option<Person>,
    pub sender_verified: bool,
    pub attachments: Vec<Attachment>,
    pub dropped_attachments: Vec<Dropped>,
    /// What was damaged and how it was read ("kept what could be read").
    pub warnings: Vec<String>,
}

impl Analysis {
    pub(crate) fn empty() -> Analysis {
        Analysis {
            outcome: Outcome::Accept,
            reason: None,
            detail: None,
            route: Route::Submission,
            message_id: None,
            in_reply_to: Vec::new(),
            title: String::new(),
            body: String::new(),
            body_truncated: false,
            sections: Sections::default(),
            submitter: None,
            organisation_hint: None,
            forwarded_from: None,
            sender_verified: false,
            attachments: Vec::new(),
            dropped_attachments: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub(crate) fn stop(&mut self, outcome: Outcome, reason: &'static str, detail: impl Into<String>) {
        self.outcome = outcome;
        self.reason = Some(reason);
        self.detail = Some(detail.into());
    }
}

/// Analyses one raw message with the default [`Limits`].
pub fn analyse(raw: &[u8], verdicts: &Verdicts) -> Analysis {
    analyse_with(raw, verdicts, &Limits::default())
}

/// Analyses one raw message. Never panics: the parsers underneath are third-party
/// code fed by strangers, so a panic anywhere is caught and the message rejected as
/// unreadable rather than taking the caller (a Lambda, `qnet serve`) down with it.
pub fn analyse_with(raw: &[u8], verdicts: &Verdicts, limits: &Limits) -> Analysis {
    match catch_unwind(AssertUnwindSafe(|| pipeline::run(raw, verdicts, limits))) {
        Ok(a) => a,
        Err(_) => {
            let mut a = Analysis::empty();
            a.stop(Outcome::Reject, "unreadable", "The message could not be read.");
            a
        }
    }
}

/// The analysis without the panic guard, for the fuzz target: there a panic must be seen, not hidden.
#[doc(hidden)]
pub fn analyse_unguarded(raw: &[u8], verdicts: &Verdicts, limits: &Limits) -> Analysis {
    pipeline::run(raw, verdicts, limits)
}
