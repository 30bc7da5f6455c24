//! The case-study ingest: an accepted message from a sender becomes a pending
//! case study (or adds to the one its thread answers), with one acknowledgement.
//!
//! The same delivery processed twice creates nothing new and sends nothing new:
//! an `INGEST#<delivery id>` record is written in the same transaction as the
//! case study, and the acknowledgement is claimed (a version-checked write)
//! before it is sent.

use std::collections::HashMap;

use qnet_domain::attachment::{Attachment, AttachmentStatus};
use qnet_domain::case_study::{CaseStudy, Hold, Source, Status, SubmittedBy, derive_summary};
use qnet_domain::member::Member;
use qnet_domain::organisation::email_domain;
use qnet_domain::{patient_data, text::excerpt};
use qnet_mail::{Analysis, Outcome, Person};
use qnet_ports::{Condition, Item, MailSender, Write};
use serde::{Deserialize, Serialize};

use super::{Inbound, IngestOptions, IngestReport, IngestedAttachment, IngestedCaseStudy, SubmitterView, dropped};
use crate::case_studies::case_study_item;
use crate::mail::{Acknowledgement, acknowledgement};
use crate::{App, AppError, AppResult, encode, keys};

/// The state of a delivery's acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AckState {
    /// No acknowledgement is due (unverified sender).
    None,
    Pending,
    /// Claimed by one invocation; never sent twice even if it died after sending.
    Sending,
    Sent,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct IngestRecord {
    report: IngestReport,
    ack: AckState,
    /// Facts the acknowledgement needs, kept so a retry can finish the job.
    ack_to: Option<SubmitterView>,
    ack_in_reply_to: Option<String>,
    attachment_count: usize,
    held: bool,
}

/// How long a delivery is remembered: far longer than SES and Lambda retry an
/// event (hours), short enough that the record is not a second copy of anyone's
/// details for long.
const INGEST_RETENTION_SECONDS: i64 = 7 * 24 * 60 * 60;

/// The report as remembered for a retried delivery: outcome and ids only. The
/// text and the sender's details live in the case study, where holds, purges
/// and erasure reach them.
fn without_text(r: &IngestReport) -> IngestReport {
    let mut slim = r.clone();
    if let Some(cs) = slim.case_study.as_mut() {
        cs.title.clear();
        cs.summary.clear();
        cs.body.clear();
        cs.sections = Default::default();
        cs.submitted_by = SubmitterView { name: None, email: String::new(), job_title: None };
        cs.hold = cs.hold.as_ref().map(|_| Hold { reason: "held".into() });
    }
    slim
}

/// Text attachments the patient data guard can read (borrowed when already UTF-8).
fn readable(att: &qnet_mail::Attachment) -> Option<std::borrow::Cow<'_, str>> {
    let ct = att.content_type.to_ascii_lowercase();
    (ct.starts_with("text/") || ct.starts_with("application/csv")).then(|| String::from_utf8_lossy(&att.bytes))
}

/// What the patient data guard finds in each attachment, in order: read once
/// for both the hold and each file's status.
fn attachment_findings(a: &Analysis) -> Vec<Option<String>> {
    a.attachments.iter().map(|att| readable(att).and_then(|t| patient_data::scan(&[&t]))).collect()
}

/// "Forename Surname <email>" for the contact section of a forward.
fn contact_line(p: &Person) -> String {
    match &p.name {
        Some(n) => format!("{n} <{}>", p.email),
        None => p.email.clone(),
    }
}
impl App {
    /// A retried delivery of a case study: finishes what the first one started
    /// (its acknowledgement), creates nothing, and answers the first report.
    pub(super) async fn case_study_redelivery(
        &self,
        inbound: &Inbound,
        opts: &IngestOptions,
        mailer: &dyn MailSender,
    ) -> AppResult<Option<IngestReport>> {
        let Some((rec, item)) = self.get_record::<IngestRecord>(keys::ingest(&inbound.delivery_id)).await? else {
            return Ok(None);
        };
        if rec.ack == AckState::Pending {
            self.send_acknowledgement(&inbound.delivery_id, rec.clone(), item.version, opts, mailer).await?;
        }
        Ok(Some(rec.report))
    }

    /// An accepted message the router found to be a case study.
    pub(super) async fn ingest_case_study(
        &self,
        inbound: &Inbound,
        a: &Analysis,
        opts: &IngestOptions,
        mailer: &dyn MailSender,
    ) -> AppResult<IngestReport> {
        let Some(sender) = a.submitter.clone() else {
            return Ok(IngestReport::without_record(
                a,
                Outcome::Reject,
                Some("no_from"),
                Some("The message has no usable From address.".into()),
            ));
        };
        let member = if a.sender_verified { self.member_by_email(&sender.email).await? } else { None };
        let names = self.organisation_names().await?;

        // A reply from the same verified sender adds to the case study it answers.
        if a.sender_verified
            && let Some(cs) = self.thread_target(a, &sender.email).await?
        {
            return self.add_to_case_study(inbound, a, cs, &sender, opts, mailer, &names).await;
        }

        let organisation_id = self.recognise_organisation(a, &sender, member.as_ref()).await?;
        let now = self.now_text();
        let id = self.new_id();
        let mut sections = a.sections.clone();
        if let Some(original) = &a.forwarded_from
            && sections.contact.is_none()
        {
            sections.contact = Some(contact_line(original));
        }
        let summary = if a.body.trim().is_empty() {
            sections.aim.as_deref().map(derive_summary).unwrap_or_default()
        } else {
            derive_summary(&a.body)
        };
        let title = if a.title.trim().is_empty() {
            format!("Case study from {}", sender.name.as_deref().unwrap_or(&sender.email))
        } else {
            excerpt(&a.title, 200)
        };
        let mut cs = CaseStudy {
            id: id.clone(),
            title,
            summary,
            body: a.body.clone(),
            sections,
            organisation_id: organisation_id.clone(),
            topics: vec![],
            status: Status::Pending,
            rejection_reason: None,
            hold: None,
            submitted_by: SubmittedBy {
                // An unverified sender is never linked to a member.
                member_id: member.as_ref().map(|m| m.id.clone()),
                name: sender.name.clone(),
                email: Some(sender.email.clone()),
                job_title: sender.job_title.clone(),
            },
            source: Source::Email,
            sender_verified: Some(a.sender_verified),
            created_at: now.clone(),
            updated_at: now,
            published_at: None,
            version: 1,
            attachments: vec![],
        };
        let findings = attachment_findings(a);
        self.guard_email(&mut cs, a, &findings);
        let attachments = self.store_attachments(&id, a, &findings, opts.dry_run).await?;
        let writes_attachments: Vec<Write> = attachments
            .iter()
            .map(|att| {
                let (pk, sk) = keys::attachment(&id, &att.id);
                Write::Put { item: Item::new(pk, sk, encode(att)), condition: Condition::NotExists }
            })
            .collect();
        let report = IngestReport {
            outcome: "accept".into(),
            reason: None,
            detail: None,
            updates: None,
            case_study: Some(IngestedCaseStudy {
                id: id.clone(),
                title: cs.title.clone(),
                summary: cs.summary.clone(),
                body: cs.body.clone(),
                sections: cs.sections.clone(),
                organisation: organisation_id.as_ref().and_then(|o| names.get(o).cloned()),
                submitted_by: SubmitterView {
                    name: sender.name.clone(),
                    email: sender.email.clone(),
                    job_title: sender.job_title.clone(),
                },
                attachments: attachments.iter().map(IngestedAttachment::from).collect(),
                sender_verified: a.sender_verified,
                hold: cs.hold.clone(),
            }),
            dropped_attachments: dropped(a),
        };
        if opts.dry_run {
            return Ok(report);
        }
        let record = IngestRecord {
            report: without_text(&report),
            ack: if a.sender_verified { AckState::Pending } else { AckState::None },
            ack_to: Some(SubmitterView { name: sender.name.clone(), email: sender.email.clone(), job_title: None }),
            ack_in_reply_to: a.message_id.clone(),
            attachment_count: attachments.len(),
            held: cs.hold.is_some(),
        };
        let (ipk, isk) = keys::ingest(&inbound.delivery_id);
        let mut writes = vec![
            Write::Put {
                item: Item::new(ipk, isk, encode(&record)).expiring_at(self.ingest_expiry()),
                condition: Condition::NotExists,
            },
            Write::Put { item: case_study_item(&cs), condition: Condition::NotExists },
        ];
        writes.extend(writes_attachments);
        if let Some(mid) = &a.message_id {
            let (pk, sk) = keys::message_id(mid);
            writes.push(Write::Put {
                item: Item::new(pk, sk, serde_json::json!({"case_study_id": id})),
                condition: Condition::None,
            });
        }
        match self.records.transact(writes).await {
            Ok(()) => {}
            Err(e) if e.is_conflict() => {
                // Another invocation took this delivery first: answer what it did.
                if let Some((rec, _)) = self.get_record::<IngestRecord>(keys::ingest(&inbound.delivery_id)).await? {
                    return Ok(rec.report);
                }
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(case_study = %id, verified = a.sender_verified, attachments = attachments.len(), held = cs.hold.is_some(), "emailed case study accepted");
        if record.ack == AckState::Pending {
            self.send_acknowledgement(&inbound.delivery_id, record, 1, opts, mailer).await?;
        }
        Ok(report)
    }

    fn ingest_expiry(&self) -> i64 {
        self.now().unix_timestamp() + INGEST_RETENTION_SECONDS
    }

    async fn member_by_email(&self, email: &str) -> AppResult<Option<Member>> {
        let Some(id) = self.member_id_for_email(email).await? else { return Ok(None) };
        Ok(self.get_record::<Member>(keys::member(&id)).await?.map(|(m, _)| m))
    }

    /// The member's organisation; else one named in the display name or
    /// signature; else the only organisation listing the address's domain. A
    /// sender only ever gets an organisation that lists their domain (as on
    /// `PATCH /me`): naming another in a signature claims nothing.
    async fn recognise_organisation(&self, a: &Analysis, sender: &Person, member: Option<&Member>) -> AppResult<Option<String>> {
        if let Some(o) = member.and_then(|m| m.organisation_id.clone()) {
            return Ok(Some(o));
        }
        let Some(domain) = email_domain(&sender.email) else { return Ok(None) };
        let all = self.organisations().await?;
        let orgs: Vec<_> = all.iter().filter(|o| o.email_domains.contains(&domain)).collect();
        if let Some(hint) = &a.organisation_hint {
            let h = hint.trim().to_lowercase();
            let found = orgs.iter().find(|o| o.name.to_lowercase() == h).or_else(|| {
                orgs.iter().find(|o| {
                    let n = o.name.to_lowercase();
                    h.len() >= 4 && (n.contains(&h) || h.contains(&n))
                        || o.ods_code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&h))
                })
            });
            if let Some(o) = found {
                return Ok(Some(o.id.clone()));
            }
        }
        let by_domain = self.organisations_for_email(&sender.email).await?;
        if by_domain.len() == 1 {
            return Ok(by_domain.into_iter().next());
        }
        Ok(None)
    }

    /// Holds for patient data in the body, sections and readable attachments, and
    /// for a body too long to keep whole.
    fn guard_email(&self, cs: &mut CaseStudy, a: &Analysis, findings: &[Option<String>]) {
        cs.apply_guard();
        if cs.hold.is_none()
            && let Some((att, Some(reason))) = a.attachments.iter().zip(findings).find(|(_, f)| f.is_some())
        {
            cs.hold = Some(Hold { reason: format!("Attachment {}: {reason}", att.filename) });
        }
        if cs.hold.is_none() && a.body_truncated {
            cs.hold = Some(Hold {
                reason: "The email's text was over 100,000 characters: it was cut short here and kept whole as an attachment."
                    .into(),
            });
        }
    }

    async fn store_attachments(
        &self,
        case_study_id: &str,
        a: &Analysis,
        findings: &[Option<String>],
        dry_run: bool,
    ) -> AppResult<Vec<Attachment>> {
        let mut out = Vec::with_capacity(a.attachments.len());
        for (att, flagged) in a.attachments.iter().zip(findings) {
            // A file that carries patient data is kept for the moderator but never served.
            let flagged = flagged.clone();
            let stored = Attachment {
                id: self.new_id(),
                filename: att.filename.clone(),
                content_type: att.content_type.clone(),
                size: att.size,
                sha256: att.sha256.clone(),
                status: if flagged.is_some() { AttachmentStatus::Rejected } else { AttachmentStatus::Ready },
                rejection_reason: flagged,
            };
            if !dry_run {
                self.blobs.put(&keys::attachment_blob(case_study_id, &stored.id), att.bytes.clone(), &att.content_type).await?;
            }
            out.push(stored);
        }
        Ok(out)
    }

    /// The earlier case study this message replies to, when it was submitted by
    /// the same address.
    async fn thread_target(&self, a: &Analysis, sender_email: &str) -> AppResult<Option<CaseStudy>> {
        for mid in &a.in_reply_to {
            let (pk, sk) = keys::message_id(mid);
            let Some(item) = self.records.get(&pk, &sk).await? else { continue };
            let Some(id) = item.data.get("case_study_id").and_then(|v| v.as_str()) else { continue };
            // Only while pending: a published case study changes through a moderator.
            if let Some(cs) = self.load_case_study(id).await?
                && cs.status == Status::Pending
                && cs.submitted_by.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(sender_email))
            {
                return Ok(Some(cs));
            }
        }
        Ok(None)
    }

    #[allow(clippy::too_many_arguments)]
    async fn add_to_case_study(
        &self,
        inbound: &Inbound,
        a: &Analysis,
        old: CaseStudy,
        sender: &Person,
        opts: &IngestOptions,
        mailer: &dyn MailSender,
        names: &HashMap<String, String>,
    ) -> AppResult<IngestReport> {
        let mut new = old.clone();
        new.attachments.clear();
        if !a.body.trim().is_empty() {
            new.body = if new.body.trim().is_empty() { a.body.clone() } else { format!("{}\n\n{}", new.body.trim_end(), a.body) };
            if new.body.chars().count() > qnet_domain::case_study::BODY_MAX {
                new.body = new.body.chars().take(qnet_domain::case_study::BODY_MAX).collect();
                new.hold.get_or_insert(Hold {
                    reason: "The added text took the case study over 100,000 characters: it was cut short.".into(),
                });
            }
        }
        for (slot, add) in [
            (&mut new.sections.aim, &a.sections.aim),
            (&mut new.sections.background, &a.sections.background),
            (&mut new.sections.what_we_did, &a.sections.what_we_did),
            (&mut new.sections.measures, &a.sections.measures),
            (&mut new.sections.results, &a.sections.results),
            (&mut new.sections.lessons_learned, &a.sections.lessons_learned),
            (&mut new.sections.contact, &a.sections.contact),
        ] {
            if let Some(text) = add {
                *slot = Some(text.clone());
            }
        }
        let findings = attachment_findings(a);
        self.guard_email(&mut new, a, &findings);
        crate::moderation::unpublish_while_held(&mut new);
        new.version += 1;
        new.updated_at = self.now_text();
        let attachments = self.store_attachments(&old.id, a, &findings, opts.dry_run).await?;
        let report = IngestReport {
            outcome: "accept".into(),
            reason: None,
            detail: None,
            updates: Some(old.id.clone()),
            case_study: Some(IngestedCaseStudy {
                id: old.id.clone(),
                title: new.title.clone(),
                summary: new.summary.clone(),
                body: new.body.clone(),
                sections: new.sections.clone(),
                organisation: new.organisation_id.as_ref().and_then(|o| names.get(o).cloned()),
                submitted_by: SubmitterView {
                    name: sender.name.clone(),
                    email: sender.email.clone(),
                    job_title: sender.job_title.clone(),
                },
                attachments: attachments.iter().map(IngestedAttachment::from).collect(),
                sender_verified: true,
                hold: new.hold.clone(),
            }),
            dropped_attachments: dropped(a),
        };
        if opts.dry_run {
            return Ok(report);
        }
        let record = IngestRecord {
            report: without_text(&report),
            ack: AckState::Pending,
            ack_to: Some(SubmitterView { name: sender.name.clone(), email: sender.email.clone(), job_title: None }),
            ack_in_reply_to: a.message_id.clone(),
            attachment_count: attachments.len(),
            held: new.hold.is_some(),
        };
        let (ipk, isk) = keys::ingest(&inbound.delivery_id);
        let mut writes = vec![Write::Put {
            item: Item::new(ipk, isk, encode(&record)).expiring_at(self.ingest_expiry()),
            condition: Condition::NotExists,
        }];
        writes.extend(crate::case_studies::change_writes(&old, &new, old.hold.is_none() && new.hold.is_none()));
        for att in &attachments {
            let (pk, sk) = keys::attachment(&old.id, &att.id);
            writes.push(Write::Put { item: Item::new(pk, sk, encode(att)), condition: Condition::NotExists });
        }
        if let Some(mid) = &a.message_id {
            let (pk, sk) = keys::message_id(mid);
            writes.push(Write::Put {
                item: Item::new(pk, sk, serde_json::json!({"case_study_id": old.id})),
                condition: Condition::None,
            });
        }
        match self.records.transact(writes).await {
            Ok(()) => {}
            Err(e) if e.is_conflict() => {
                if let Some((rec, _)) = self.get_record::<IngestRecord>(keys::ingest(&inbound.delivery_id)).await? {
                    return Ok(rec.report);
                }
                return Err(AppError::Conflict(
                    "the case study changed while the reply was added; the delivery will be retried".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        self.send_acknowledgement(&inbound.delivery_id, record, 1, opts, mailer).await?;
        Ok(report)
    }

    /// Claims the acknowledgement (so no retry ever sends it twice), sends it, and
    /// records its Message-ID in the thread.
    async fn send_acknowledgement(
        &self,
        delivery_id: &str,
        mut record: IngestRecord,
        version: u64,
        opts: &IngestOptions,
        mailer: &dyn MailSender,
    ) -> AppResult<()> {
        let (Some(to), Some(cs)) = (record.ack_to.clone(), record.report.case_study.clone()) else { return Ok(()) };
        let (pk, sk) = keys::ingest(delivery_id);
        record.ack = AckState::Sending;
        match self
            .records
            .put(Item::new(pk.clone(), sk.clone(), encode(&record)).with_version(version + 1), Condition::VersionIs(version))
            .await
        {
            Ok(()) => {}
            Err(e) if e.is_conflict() => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        let domain = opts.mail_from.rsplit_once('@').map(|(_, d)| d.trim_end_matches('>')).unwrap_or("qnet.local");
        let message_id = format!("{}@{domain}", self.new_id().to_ascii_lowercase());
        let mail = acknowledgement(&Acknowledgement {
            from: &opts.mail_from,
            to_name: to.name.as_deref().unwrap_or(&to.email),
            to_email: &to.email,
            case_study_id: &cs.id,
            attachment_count: record.attachment_count,
            held: record.held,
            in_reply_to: record.ack_in_reply_to.as_deref(),
            message_id: &message_id,
        })
        .map_err(|e| AppError::Unavailable(format!("the acknowledgement could not be built: {e}")))?;
        let delivery = self.deliver(mailer, &mail).await.map_err(|e| AppError::Unavailable(e.to_string()))?;
        if let crate::members::suppression::Delivery::Suppressed(_) = delivery {
            // Nothing goes to a suppressed address; the acknowledgement is done.
            tracing::info!(case_study = %cs.id, "acknowledgement not sent: the address is suppressed");
        }
        record.ack = AckState::Sent;
        record.ack_to = None;
        let (mpk, msk) = keys::message_id(&message_id);
        self.records
            .transact(vec![
                Write::Put {
                    item: Item::new(pk, sk, encode(&record)).with_version(version + 2),
                    condition: Condition::VersionIs(version + 1),
                },
                Write::Put { item: Item::new(mpk, msk, serde_json::json!({"case_study_id": cs.id})), condition: Condition::None },
            ])
            .await?;
        tracing::info!(case_study = %cs.id, "acknowledgement sent");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::keys;

    #[test]
    fn message_keys_ignore_brackets_and_case() {
        assert_eq!(keys::message_id("<ABC@Mail.nhs.net>"), keys::message_id("abc@mail.nhs.net"));
    }
}
