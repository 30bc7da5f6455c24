//! Questions, answers, reports and thanks as items, and the case study or
//! resource a question is asked on.

use qnet_domain::case_study::{CaseStudy, Status};
use qnet_domain::question::{Answer, Question, ReportRecord, TargetKind};
use qnet_ports::{Condition, Item};
use serde::{Deserialize, Serialize};

use crate::moderation::Moderated;
use crate::resources::LoadedResource;
use crate::{App, AppError, AppResult, Claims, encode, keys};

/// How long a (message, recipient) email claim and an emailed answer's delivery record are kept.
pub(crate) const CLAIM_RETENTION_SECONDS: i64 = 30 * 24 * 60 * 60;

/// The case study or resource a question is on, as far as questions need it.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) kind: TargetKind,
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) published: bool,
    /// Its author(s): the submitter while they have a profile.
    pub(crate) author_ids: Vec<String>,
    pub(crate) topics: Vec<String>,
}

impl Target {
    fn of_case_study(cs: &CaseStudy) -> Target {
        Target {
            kind: TargetKind::CaseStudy,
            id: cs.id.clone(),
            title: cs.title.clone(),
            published: cs.status == Status::Published,
            author_ids: cs.submitted_by.member_id.iter().cloned().collect(),
            topics: cs.topics.clone(),
        }
    }

    fn of_resource(r: &LoadedResource) -> Target {
        let r = &r.resource;
        Target {
            kind: TargetKind::Resource,
            id: r.id.clone(),
            title: r.title.clone(),
            published: r.status == Status::Published,
            author_ids: r.submitted_by.member_id.iter().cloned().collect(),
            topics: r.topics.clone(),
        }
    }

    pub(crate) fn is_author(&self, member_id: &str) -> bool {
        self.author_ids.iter().any(|a| a == member_id)
    }

    pub(crate) fn noun(&self) -> &'static str {
        match self.kind {
            TargetKind::CaseStudy => "case study",
            TargetKind::Resource => "resource",
        }
    }
}

/// Where a question is: written with it, read by `GET /questions/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct QuestionPointer {
    pub(crate) target_kind: TargetKind,
    pub(crate) target_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ClaimState {
    /// Claimed; if the sender died before recording the result it is not sent again.
    Sending,
    Sent,
    /// The mail service refused it, the address is suppressed or the member
    /// turned these emails off: never retried.
    NotSent,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NotificationClaim {
    pub(crate) state: ClaimState,
    pub(crate) claimed_at: String,
}

/// The record of an emailed answer, written with the answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct QuestionMail {
    pub(crate) question_id: String,
    pub(crate) answer_id: String,
}

pub(crate) fn question_key(q: &Question) -> (String, String) {
    keys::question(q.target_kind.key(), &q.target_id, &q.id)
}

/// The stored question: in its target's partition; on the unanswered index
/// while it has no answer and its experts were not asked; on its author's
/// list for erasure.
pub(crate) fn question_item(q: &Question) -> Item {
    let (pk, sk) = question_key(q);
    let order = format!("{}#{}", q.created_at, q.id);
    let mut item =
        Item::new(pk, sk, encode(q)).with_version(q.version).with_gsi2(keys::members_questions(&q.author_id), order.clone());
    if !q.answered && !q.experts_asked {
        item = item.with_gsi1(keys::UNANSWERED_QUESTIONS, order);
    }
    item
}

pub(crate) fn answer_item(kind: TargetKind, target_id: &str, a: &Answer) -> Item {
    let (pk, sk) = keys::answer(kind.key(), target_id, &a.question_id, &a.id);
    Item::new(pk, sk, encode(a)).with_gsi2(keys::members_questions(&a.author_id), format!("{}#{}", a.created_at, a.id))
}

pub(crate) fn pointer_item(q: &Question) -> Item {
    let (pk, sk) = keys::question_pointer(&q.id);
    Item::new(pk, sk, encode(&QuestionPointer { target_kind: q.target_kind, target_id: q.target_id.clone() }))
}

/// The report record: on the open-reports index while open.
pub(crate) fn report_item(r: &ReportRecord) -> Item {
    let (pk, sk) = keys::report(&r.id);
    let mut item = Item::new(pk, sk, encode(r)).with_version(r.version);
    if r.open {
        item = item.with_gsi1(keys::OPEN_REPORTS, format!("{}#{}", r.reported_at, r.id));
    }
    item
}

/// Whether an item of a question's thread is an answer (else the question).
pub(crate) fn is_answer_key(sk: &str) -> bool {
    sk.contains("#A#")
}

pub(crate) fn is_ulid(id: &str) -> bool {
    ulid::Ulid::from_string(id).is_ok()
}

impl App {
    /// The target whoever asks, if it exists.
    pub(crate) async fn question_target(&self, kind: TargetKind, id: &str) -> AppResult<Option<Target>> {
        Ok(match kind {
            TargetKind::CaseStudy => CaseStudy::load(self, id).await?.as_ref().map(Target::of_case_study),
            TargetKind::Resource => LoadedResource::load(self, id).await?.as_ref().map(Target::of_resource),
        })
    }

    /// The target if `viewer` may read it; 404 otherwise.
    pub(crate) async fn readable_target(&self, viewer: Option<&Claims>, kind: TargetKind, id: &str) -> AppResult<Target> {
        match kind {
            TargetKind::CaseStudy => Ok(Target::of_case_study(&self.visible::<CaseStudy>(viewer, id).await?)),
            TargetKind::Resource => Ok(Target::of_resource(&self.visible::<LoadedResource>(viewer, id).await?)),
        }
    }

    /// The target if it is published (questions and thanks are only for those); 404 otherwise.
    /// The published item `viewer` acts on. An item they may see that is not
    /// published (their own pending work, or any to a moderator) is 409: it
    /// exists, but is not open to questions or thanks yet; to anyone else it
    /// is 404, as if it did not exist.
    pub(crate) async fn published_target(&self, viewer: &Claims, kind: TargetKind, id: &str) -> AppResult<Target> {
        match self.question_target(kind, id).await? {
            Some(t) if t.published => Ok(t),
            Some(_) if self.readable_target(Some(viewer), kind, id).await.is_ok() => Err(AppError::Conflict(format!(
                "this {} is not published yet: questions and thanks open once it is",
                match kind {
                    TargetKind::CaseStudy => "case study",
                    TargetKind::Resource => "resource",
                }
            ))),
            _ => Err(AppError::NotFound(match kind {
                TargetKind::CaseStudy => "case study",
                TargetKind::Resource => "resource",
            })),
        }
    }

    pub(crate) async fn question_pointer(&self, question_id: &str) -> AppResult<Option<QuestionPointer>> {
        if !is_ulid(question_id) {
            return Ok(None);
        }
        Ok(self.get_record::<QuestionPointer>(keys::question_pointer(question_id)).await?.map(|(p, _)| p))
    }

    /// The stored question and its item version; `None` when it is not there.
    pub(crate) async fn load_question(&self, question_id: &str) -> AppResult<Option<Question>> {
        let Some(p) = self.question_pointer(question_id).await? else { return Ok(None) };
        Ok(self.get_record::<Question>(keys::question(p.target_kind.key(), &p.target_id, question_id)).await?.map(
            |(mut q, item)| {
                q.version = item.version;
                q
            },
        ))
    }

    /// A question and its answers, oldest first.
    pub(crate) async fn load_thread(&self, p: &QuestionPointer, question_id: &str) -> AppResult<Option<(Question, Vec<Answer>)>> {
        let partition = keys::question_thread_partition(p.target_kind.key(), &p.target_id);
        let items = self.query_all(partition, &format!("{}{question_id}", keys::QUESTION_PREFIX)).await?;
        let mut question = None;
        let mut answers = vec![];
        for item in &items {
            if is_answer_key(&item.sk) {
                answers.push(crate::decode::<Answer>(item)?);
            } else {
                let mut q: Question = crate::decode(item)?;
                q.version = item.version;
                question = Some(q);
            }
        }
        Ok(question.map(|q| (q, answers)))
    }

    /// Creates the count item of a target's thanks at 0 if it is not there, so
    /// that increments have something to add to.
    pub(crate) async fn ensure_thanks_count(&self, kind: TargetKind, id: &str) -> AppResult<()> {
        let (pk, sk) = keys::thanks_count(kind.key(), id);
        match self.records.put(Item::new(pk, sk, serde_json::json!({"count": 0})), Condition::NotExists).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_conflict() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
