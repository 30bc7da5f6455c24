//! The weekly nudges (Mondays, inside the daily pass): every member whose
//! digest is not due this week (cadence `off`, or monthly outside a month's
//! first week) and who has "For you" lines gets ONE email, "Your week in Qnet",
//! with all of them. Members who get a digest this week find the same lines in
//! its "For you" section instead. The email takes the member's weekly slot
//! (shared with expert questions), is claimed per (member, week) before it is
//! sent, carries a one-click unsubscribe for its kind and goes through
//! `App::deliver` (suppression), so no retry or re-run sends it twice.

use qnet_domain::digest::{Cadence, Period, issues_due};
use qnet_domain::member::Member;
use qnet_ports::{Condition, Cursor, Index, Item, OutgoingMail, Query, Write};
use time::OffsetDateTime;

use super::personal::{Line, QuietProject, nudge_period};
use super::{EmailKind, EngagementReport, list_unsubscribe};
use crate::members::suppression::{Delivery, DeliveryError};
use crate::{App, AppResult, decode, keys};
use qnet_ports::MailError;

/// Members read per page of a cadence.
const PAGE: u32 = 500;
/// How long a week's email claim is kept.
const CLAIM_DAYS: i64 = 90;

/// True when the member gets a digest at `now` (so their lines go there).
pub(crate) fn digest_due(m: &Member, due: &[Period]) -> bool {
    m.digest.receives() && due.iter().any(|p| p.cadence == m.digest.cadence)
}

/// The kind the email's `List-Unsubscribe` turns off: its most frequent kind.
fn header_kind(lines: &[Line]) -> EmailKind {
    [EmailKind::AuthorUpdates, EmailKind::ProjectReminders, EmailKind::Welcome]
        .into_iter()
        .find(|k| lines.iter().any(|l| l.kind == *k))
        .unwrap_or(EmailKind::Welcome)
}

impl App {
    /// Sends the weekly nudges of `now`'s week (their lines cover last week).
    pub(crate) async fn weekly_nudges(&self, now: OffsetDateTime, dry_run: bool, report: &mut EngagementReport) -> AppResult<()> {
        let Some(period) = nudge_period(now) else { return Ok(()) };
        report.nudge_week = Some(period.id.clone());
        let due = issues_due(now);
        let quiet = self.quiet_projects().await?;
        for cadence in [Cadence::Weekly, Cadence::Monthly, Cadence::Off] {
            let mut cursor: Option<Cursor> = None;
            loop {
                let q = Query::new(Index::Gsi1, keys::digest_subscribers(cadence)).limit(PAGE).after(cursor.take());
                let page = self.records.query(q).await?;
                for item in &page.items {
                    let m: Member = decode(item)?;
                    if digest_due(&m, &due) {
                        report.in_digest += 1;
                        continue;
                    }
                    self.nudge(&m, &period, &quiet, dry_run, report).await?;
                }
                match page.next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        Ok(())
    }

    async fn nudge(
        &self,
        m: &Member,
        period: &Period,
        quiet: &[QuietProject],
        dry_run: bool,
        report: &mut EngagementReport,
    ) -> AppResult<()> {
        let lines = self.personal_lines(m, period, quiet).await?;
        if lines.is_empty() {
            return Ok(());
        }
        let (pk, sk) = keys::nudge_mail_claim(&m.id, &period.id);
        if self.records.get(&pk, &sk).await?.is_some() {
            report.already_sent += 1;
            return Ok(());
        }
        if self.suppression(&m.email).await?.is_some() {
            report.suppressed += 1;
            return Ok(());
        }
        if dry_run {
            if self.weekly_slot_taken(&m.id).await? {
                report.capped += 1;
            } else {
                report.nudges_sent += 1;
            }
            return Ok(());
        }
        if !self.claim_weekly_slot(&m.id).await? {
            report.capped += 1;
            return Ok(());
        }
        let (mail, token_writes) = match self.nudge_mail(m, period, &lines) {
            Ok(x) => x,
            Err(e) => {
                self.release_weekly_slot(&m.id).await?;
                return Err(e);
            }
        };
        let expires = self.now().unix_timestamp() + CLAIM_DAYS * 86_400;
        let claim = Item::new(pk.clone(), sk.clone(), serde_json::json!({"at": self.now_text(), "lines": lines.len()}))
            .expiring_at(expires);
        let mut writes = vec![Write::Put { item: claim, condition: Condition::NotExists }];
        writes.extend(token_writes);
        match self.records.transact(writes).await {
            Ok(()) => {}
            Err(e) => {
                self.release_weekly_slot(&m.id).await?;
                if e.is_conflict() {
                    report.already_sent += 1;
                    return Ok(());
                }
                return Err(e.into());
            }
        }
        let undo = async || {
            let _ = self.records.delete(&pk, &sk, Condition::None).await;
            let _ = self.release_weekly_slot(&m.id).await;
        };
        if let Err(e) = self.claim_lines(period, &lines).await {
            undo().await;
            return Err(e);
        }
        match self.deliver(&*self.mailer, &mail).await {
            Ok(Delivery::Sent { .. }) => {
                tracing::info!(member = %m.id, week = %period.id, lines = lines.len(), "weekly nudge sent");
                report.nudges_sent += 1;
            }
            Ok(Delivery::Suppressed(_)) => {
                undo().await;
                report.suppressed += 1;
            }
            Err(DeliveryError::Mail(MailError::Refused(why))) => {
                // Final: the mail service will not take this message, so a
                // retry would fail the same way every day. Nothing is claimed.
                tracing::warn!(member = %m.id, week = %period.id, error = %why, "weekly nudge refused by the mail service");
                undo().await;
                report.suppressed += 1;
            }
            Err(e) => {
                // Claims and slot go back, so the retry Lambda makes sends it.
                tracing::warn!(member = %m.id, week = %period.id, error = %e, "weekly nudge not sent");
                undo().await;
                report.failed += 1;
            }
        }
        Ok(())
    }

    /// "Your week in Qnet": the lines, a link to turn off each kind they are
    /// of, and a `List-Unsubscribe` for the most frequent kind. Answers the
    /// writes of the opt-out tokens (commit them with the claim).
    fn nudge_mail(&self, m: &Member, period: &Period, lines: &[Line]) -> AppResult<(OutgoingMail, Vec<Write>)> {
        let api = self.api_base_url.trim_end_matches('/');
        let web = self.web_base_url.trim_end_matches('/');
        let domain = self.mail_from.rsplit_once('@').map(|(_, d)| d.trim_end_matches('>')).unwrap_or("qnet.localhost");
        let mut writes = Vec::new();
        let mut stop = Vec::new();
        let header = header_kind(lines);
        let mut header_token = None;
        for kind in [EmailKind::Welcome, EmailKind::ProjectReminders, EmailKind::AuthorUpdates] {
            if !lines.iter().any(|l| l.kind == kind) {
                continue;
            }
            let (token, write) = self.opt_out(&m.id, kind);
            writes.push(write);
            stop.push(serde_json::json!({"what": kind.description(), "url": format!("{api}/unsubscribe/{}", token.text)}));
            if kind == header {
                header_token = Some(token.text);
            }
        }
        let mut ctx = tera::Context::new();
        ctx.insert("name", &m.name);
        ctx.insert("period_label", &period.label());
        ctx.insert("items", &lines.iter().map(|l| &l.item).collect::<Vec<_>>());
        ctx.insert("stop", &stop);
        ctx.insert("settings_url", &format!("{web}/settings"));
        let mut h =
            crate::mail::Headers::new(("Qnet", &*self.mail_from), (m.name.as_str(), m.email.as_str()), "Your week in Qnet");
        if let Some(token) = header_token {
            h.extra.extend(list_unsubscribe(api, domain, &token));
        }
        Ok((crate::mail::compose("email/nudges", &ctx, h)?.mail, writes))
    }
}
