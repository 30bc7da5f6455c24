//! Questions that get answers: a question with no answer three days after it
//! was asked goes to up to five members who chose one of its item's topics in
//! "Ask me about" (a directory listing alone is not consent), least asked first,
//! never the asker or the item's authors, nobody who turned these emails off,
//! whose address is suppressed or whose weekly email already went. Each email
//! takes that member's weekly slot, links to the question and carries a
//! `Reply-To` token, so replying answers it. Once per question: the chosen
//! experts are frozen (create-if-absent), each email is claimed, and the
//! question is marked when all went.

use qnet_domain::member::Member;
use qnet_domain::question::Question;
use qnet_ports::{Condition, Item, OutgoingMail, Write};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{EmailKind, EngagementReport};
use crate::members::suppression::{Delivery, DeliveryError};
use crate::{App, AppResult, keys};
use qnet_ports::MailError;

/// A question is sent to experts this long after it was asked, unanswered.
pub const UNANSWERED_DAYS: i64 = 3;
/// At most this many experts per question.
pub const EXPERTS_PER_QUESTION: usize = 5;
/// Questions looked at per run, oldest first (the rest wait for tomorrow).
const QUESTIONS_PER_RUN: u32 = 200;
/// How long the choice and the claims are kept.
const KEEP_DAYS: i64 = 90;

/// The experts chosen for a question.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Chosen {
    members: Vec<String>,
    chosen_at: String,
}

impl App {
    /// How many times `member_id` was asked about a question.
    pub async fn times_asked(&self, member_id: &str) -> AppResult<u64> {
        let (pk, sk) = keys::experts_asked_count(member_id);
        Ok(self.records.get(&pk, &sk).await?.and_then(|i| i.data["count"].as_u64()).unwrap_or(0))
    }

    async fn count_asked(&self, member_id: &str) -> AppResult<()> {
        let (pk, sk) = keys::experts_asked_count(member_id);
        match self.records.transact(vec![Write::increment(pk.clone(), sk.clone(), "count", 1)]).await {
            Err(e) if e.is_conflict() => {}
            other => return Ok(other?),
        }
        match self.records.put(Item::new(pk.clone(), sk.clone(), serde_json::json!({"count": 1})), Condition::NotExists).await {
            Err(e) if e.is_conflict() => Ok(self.records.transact(vec![Write::increment(pk, sk, "count", 1)]).await?),
            other => Ok(other?),
        }
    }

    /// Asks experts about every question unanswered for [`UNANSWERED_DAYS`] at `now`.
    pub(crate) async fn ask_experts(&self, now: OffsetDateTime, dry_run: bool, report: &mut EngagementReport) -> AppResult<()> {
        let cutoff = qnet_domain::timestamp(now - Duration::days(UNANSWERED_DAYS));
        for q in self.unanswered_questions(&cutoff, QUESTIONS_PER_RUN).await? {
            self.ask_about(&q, dry_run, report).await?;
        }
        Ok(())
    }

    /// The members who may be asked about `q` now, least asked first (then by id).
    async fn eligible_experts(&self, q: &Question, topics: &[String], authors: &[String]) -> AppResult<Vec<Member>> {
        let mut out = Vec::new();
        for id in self.experts_for_topics(topics).await? {
            if id == q.author_id || authors.contains(&id) {
                continue;
            }
            let Some(m) = self.member_by_id(&id).await? else { continue };
            if !EmailKind::ExpertQuestions.allowed(&m)
                || self.suppression(&m.email).await?.is_some()
                || self.weekly_slot_taken(&m.id).await?
            {
                continue;
            }
            out.push((self.times_asked(&m.id).await?, m));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        Ok(out.into_iter().map(|(_, m)| m).collect())
    }

    async fn ask_about(&self, q: &Question, dry_run: bool, report: &mut EngagementReport) -> AppResult<()> {
        // A question whose item is gone or no longer published leaves the
        // unanswered index, so it never blocks the questions behind it.
        let target = self.question_target(q.target_kind, &q.target_id).await?;
        let Some(target) = target.filter(|t| t.published) else {
            if !dry_run {
                self.mark_experts_asked(&q.id).await?;
            }
            return Ok(());
        };
        let expires = self.now().unix_timestamp() + KEEP_DAYS * 86_400;
        let (cpk, csk) = keys::expert_ask(&q.id, "CHOSEN");
        let chosen: Vec<Member> = match self.get_record::<Chosen>((cpk.clone(), csk.clone())).await? {
            Some((c, _)) => {
                let mut v = Vec::new();
                for id in c.members {
                    if let Some(m) = self.member_by_id(&id).await? {
                        v.push(m);
                    }
                }
                v
            }
            None => {
                let mut v = self.eligible_experts(q, &target.topics, &target.author_ids).await?;
                v.truncate(EXPERTS_PER_QUESTION);
                if dry_run {
                    report.questions += usize::from(!v.is_empty());
                    report.experts_asked += v.len();
                    return Ok(());
                }
                let c = Chosen { members: v.iter().map(|m| m.id.clone()).collect(), chosen_at: self.now_text() };
                let item =
                    Item::new(cpk.clone(), csk.clone(), serde_json::to_value(&c).expect("serialises")).expiring_at(expires);
                match self.records.put(item, Condition::NotExists).await {
                    Ok(()) => v,
                    // Another run chose first: theirs is the choice.
                    Err(e) if e.is_conflict() => return Ok(()),
                    Err(e) => return Err(e.into()),
                }
            }
        };
        if dry_run {
            return Ok(());
        }
        let mut failed = 0;
        let mut sent = 0;
        for m in &chosen {
            let (tpk, tsk) = keys::expert_ask(&q.id, &format!("TO#{}", m.id));
            if self.records.get(&tpk, &tsk).await?.is_some() {
                continue;
            }
            if !EmailKind::ExpertQuestions.allowed(m) {
                continue;
            }
            if !self.claim_weekly_slot(&m.id).await? {
                report.capped += 1;
                continue;
            }
            let (mail, writes) = match self.expert_mail(m, q, &target.title, &target.topics) {
                Ok(x) => x,
                Err(e) => {
                    self.release_weekly_slot(&m.id).await?;
                    return Err(e);
                }
            };
            let claim = Item::new(tpk.clone(), tsk.clone(), serde_json::json!({"at": self.now_text()})).expiring_at(expires);
            let mut all = vec![Write::Put { item: claim, condition: Condition::NotExists }];
            all.extend(writes);
            if let Err(e) = self.records.transact(all).await {
                self.release_weekly_slot(&m.id).await?;
                if e.is_conflict() {
                    continue;
                }
                return Err(e.into());
            }
            let undo = async || {
                let _ = self.records.delete(&tpk, &tsk, Condition::None).await;
                let _ = self.release_weekly_slot(&m.id).await;
            };
            match self.deliver(&*self.mailer, &mail).await {
                Ok(Delivery::Sent { .. }) => {
                    sent += 1;
                    if let Err(e) = self.count_asked(&m.id).await {
                        tracing::warn!(member = %m.id, error = %e, "an expert's asked count was not raised");
                    }
                }
                Ok(Delivery::Suppressed(_)) => {
                    undo().await;
                    report.suppressed += 1;
                }
                Err(DeliveryError::Mail(MailError::Refused(why))) => {
                    // Final, like a suppressed address: retrying fails the same way.
                    tracing::warn!(question = %q.id, member = %m.id, error = %why, "expert question refused by the mail service");
                    undo().await;
                    report.suppressed += 1;
                }
                Err(e) => {
                    tracing::warn!(question = %q.id, member = %m.id, error = %e, "expert question not sent");
                    undo().await;
                    failed += 1;
                }
            }
        }
        report.experts_asked += sent;
        report.failed += failed;
        if failed == 0 {
            // Once: the question leaves the unanswered index.
            self.mark_experts_asked(&q.id).await?;
            report.questions += 1;
        }
        tracing::info!(question = %q.id, sent, failed, "experts asked");
        Ok(())
    }

    /// The email to one expert: the question, a link to it, `Reply-To` to
    /// answer by email, one-click opt-out of expert questions. Answers the
    /// writes of its two tokens.
    fn expert_mail(&self, m: &Member, q: &Question, title: &str, topics: &[String]) -> AppResult<(OutgoingMail, Vec<Write>)> {
        let web = self.web_base_url.trim_end_matches('/');
        let domain = self.mail_from.rsplit_once('@').map(|(_, d)| d.trim_end_matches('>')).unwrap_or("qnet.localhost");
        let (reply, reply_write) = self.question_reply_write(&m.id, &q.id);
        let (opt_out_write, unsubscribe) = self.opt_out_headers(&m.id, EmailKind::ExpertQuestions);
        let chosen: Vec<&str> = topics
            .iter()
            .filter(|t| m.ask_me_about.contains(t))
            .map(|t| qnet_domain::topics::find(t).map(|x| x.name).unwrap_or(t.as_str()))
            .collect();
        let mut ctx = tera::Context::new();
        ctx.insert("name", &m.name);
        ctx.insert("target_title", title);
        ctx.insert("topic_names", &chosen);
        ctx.insert("asker", &q.author_name);
        ctx.insert("question", &q.body);
        ctx.insert("question_url", &format!("{web}/questions/{}", q.id));
        ctx.insert("settings_url", &format!("{web}/settings"));
        let token = reply.text.to_ascii_lowercase();
        let mut h = crate::mail::Headers::new(
            ("Qnet questions", &*self.mail_from),
            (m.name.as_str(), m.email.as_str()),
            format!("Can you help? A question about “{title}”"),
        );
        h.reply_to = Some(format!("reply+{token}@{domain}"));
        h.message_id = Some(format!("question-{}-{token}@{domain}", q.id.to_ascii_lowercase()));
        h.extra.extend(unsubscribe);
        let mail = crate::mail::compose("email/expert-question", &ctx, h)?.mail;
        Ok((mail, vec![reply_write, opt_out_write]))
    }
}
