//! Questions that get answers, and "This helped me": members ask a question on
//! a published case study or resource; its author(s) are emailed and answer on
//! the web or by replying to the email (`replies.rs`); an answer is emailed to
//! the asker and the author(s). Anyone signed in may report a question or an
//! answer to moderators (once per member per item); its author or a moderator
//! removes it, and the text leaves the store. Readers thank an author once per
//! item, choosing each time whether to be named; only the author(s) and
//! moderators see the names.
//!
//! Retries never duplicate: a question or answer carries the request's
//! idempotency key, an emailed answer its delivery id, and each (question or
//! answer, recipient) email is claimed before it is sent (`notices.rs`).
//!
//! Questions without an answer whose experts were not yet asked stay on the
//! GSI1 partition `QUESTIONS#unanswered` (oldest first), so the experts pass
//! finds them with one Query ([`App::unanswered_questions`]).

mod notices;
mod replies;
mod store;
mod views;

pub use qnet_domain::question::{
    Answer as AnswerRecord, AnswerSource, Question as QuestionRecord, ReportKind, ReportRecord, TargetKind,
};
pub use views::{Answer, Question, QuestionAuthor, QuestionList, QuestionTarget, Report, ReportList, ReportReceived, Thanks};

use qnet_domain::question::{self as domain, ReportReason, ThanksRecord};
use qnet_ports::{Condition, Index, Item, Query, Write};

use crate::idempotency::{Created, Creation, IdempotencyKey};
use crate::moderation::require_moderator;
use crate::questions::store::{
    QuestionPointer, Target, answer_item, is_answer_key, is_ulid, pointer_item, question_item, report_item,
};
use crate::tokens::{OpaqueToken, TokenPurpose};
use crate::{App, AppError, AppResult, Claims, PageRequest, decode, encode, keys};

/// What a report is about, as [`App::file_report`] records it.
pub(crate) struct ReportSubject {
    /// The reported item's id (the question's, the answer's or the adoption's).
    pub id: String,
    pub kind: ReportKind,
    pub question_id: Option<String>,
    pub answer_id: Option<String>,
    pub case_study_id: Option<String>,
    pub adopter_id: Option<String>,
}

/// How many questions a page holds when the client does not say.
pub const DEFAULT_PAGE: u32 = 50;
/// How many open reports `GET /moderation/reports` answers at most.
pub const MAX_REPORTS: u32 = 100;

fn answer_view(a: &domain::Answer, viewer: Option<&Claims>) -> Answer {
    Answer {
        id: a.id.clone(),
        author: QuestionAuthor { id: a.author_id.clone(), name: a.author_name.clone() },
        body: a.body.clone(),
        created_at: a.created_at.clone(),
        source: a.source,
        can_remove: viewer.is_some_and(|c| c.is_moderator() || c.sub == a.author_id),
    }
}

fn question_view(q: &domain::Question, answers: &[domain::Answer], target: &Target, viewer: Option<&Claims>) -> Question {
    Question {
        id: q.id.clone(),
        target: QuestionTarget { kind: target.kind, id: target.id.clone(), title: target.title.clone() },
        author: QuestionAuthor { id: q.author_id.clone(), name: q.author_name.clone() },
        body: q.body.clone(),
        created_at: q.created_at.clone(),
        answered: !answers.is_empty(),
        answers: answers.iter().map(|a| answer_view(a, viewer)).collect(),
        can_remove: viewer.is_some_and(|c| c.is_moderator() || c.sub == q.author_id),
        can_answer: viewer.is_some(),
    }
}

/// An answer's put and its question's change (answered, off the unanswered
/// index; or just a check that it is still there), for one transaction.
pub(crate) fn answer_writes(
    p: &QuestionPointer,
    q: &domain::Question,
    a: &domain::Answer,
    name: impl Fn(Item) -> Item,
) -> Vec<Write> {
    let mut writes =
        vec![Write::Put { item: name(answer_item(p.target_kind, &p.target_id, a)), condition: Condition::NotExists }];
    if q.answered {
        let (pk, sk) = store::question_key(q);
        writes.push(Write::Check { pk, sk, condition: Condition::VersionIs(q.version) });
    } else {
        let new = domain::Question { answered: true, version: q.version + 1, ..q.clone() };
        writes.push(Write::Put { item: question_item(&new), condition: Condition::VersionIs(q.version) });
    }
    writes
}

/// A question on an item the caller may not read is a question they cannot
/// know exists: 404 for the question; other failures stay what they are.
fn as_question_not_found(e: AppError) -> AppError {
    match e {
        AppError::NotFound(_) => AppError::NotFound("question"),
        other => other,
    }
}

fn deletes(items: &[Item]) -> Vec<Write> {
    let mut w = vec![];
    for i in items {
        w.push(Write::Delete { pk: i.pk.clone(), sk: i.sk.clone(), condition: Condition::None });
        w.extend(crate::idempotency::delete_named_record(i));
    }
    w
}

impl App {
    /// The insights' counts of a question's first answer (none for a later
    /// one): answered, and the delay's bucket, in the answer's month, by the
    /// asker's organisation.
    pub(crate) async fn first_answer_tallies(&self, q: &domain::Question, a: &domain::Answer) -> AppResult<Vec<Write>> {
        if q.answered {
            return Ok(vec![]);
        }
        let rfc = &time::format_description::well_known::Rfc3339;
        let delay = match (time::OffsetDateTime::parse(&q.created_at, rfc), time::OffsetDateTime::parse(&a.created_at, rfc)) {
            (Ok(asked), Ok(answered)) => (answered - asked).whole_seconds(),
            _ => 0,
        };
        let orgs: Vec<String> = self.member_by_id(&q.author_id).await?.and_then(|m| m.organisation_id).into_iter().collect();
        let fields = ["questions_answered".to_owned(), crate::tally::delay_field(delay)];
        self.event_tallies(&a.created_at, &orgs, &fields, 1).await
    }

    /// `POST /case-studies/{id}/questions`, `POST /resources/{id}/questions`:
    /// a question on a published item; its author(s) are emailed. A retry
    /// with the same idempotency key answers the first question and sends
    /// only the emails that were not sent.
    pub async fn ask_question(
        &self,
        claims: &Claims,
        kind: TargetKind,
        target_id: &str,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<Creation> {
        let target = self.published_target(claims, kind, target_id).await?;
        if let Some(r) = self.replay(idem).await? {
            if let Some(id) = r.body.get("id").and_then(|v| v.as_str()) {
                self.send_question_emails(id, None).await;
            }
            return Ok(Creation::Replayed(r));
        }
        let text = domain::parse_body(body)?;
        let author = self.member(claims).await?;
        self.take_allowance(&author.id, crate::limits::Action::QuestionOrAnswer).await?;
        let q = domain::Question {
            id: self.new_id(),
            target_kind: kind,
            target_id: target.id.clone(),
            author_id: author.id.clone(),
            author_name: author.name.clone(),
            body: text.into_string(),
            created_at: self.now_text(),
            answered: false,
            experts_asked: false,
            version: 1,
        };
        let mut writes = vec![
            Write::Put { item: crate::idempotency::naming_record(question_item(&q), idem), condition: Condition::NotExists },
            Write::Put { item: pointer_item(&q), condition: Condition::NotExists },
        ];
        let orgs: Vec<String> = author.organisation_id.iter().cloned().collect();
        writes.extend(self.event_tallies(&q.created_at, &orgs, &["questions_asked".to_owned()], 1).await?);
        let view = question_view(&q, &[], &target, Some(claims));
        let r = self.commit(writes, Created::new(q.id.clone(), &view), idem).await?;
        let id = r.view().get("id").and_then(|v| v.as_str()).unwrap_or(&q.id).to_string();
        tracing::info!(question = %id, target = %target.id, "question asked");
        self.send_question_emails(&id, None).await;
        Ok(r)
    }

    /// `GET /case-studies/{id}/questions`, `GET /resources/{id}/questions`: a
    /// page of `limit` questions with their answers, oldest first. Read in key
    /// order, a question's answers come right after it, so a page ends after
    /// a question's last answer and the next one resumes there.
    pub async fn list_questions(
        &self,
        viewer: Option<&Claims>,
        kind: TargetKind,
        target_id: &str,
        page: &PageRequest,
    ) -> AppResult<QuestionList> {
        let target = self.readable_target(viewer, kind, target_id).await?;
        let limit = crate::listing::page_limit(page.limit)?;
        let partition = keys::question_thread_partition(kind.key(), &target.id);
        let mut cursor = page.cursor()?;
        if cursor.as_ref().is_some_and(|c| c.pk != partition || !c.sk.starts_with(keys::QUESTION_PREFIX)) {
            return Err(AppError::BadCursor);
        }
        let mut threads: Vec<(domain::Question, Vec<domain::Answer>)> = vec![];
        let mut last = None;
        let mut more = false;
        'pages: loop {
            let q = Query::new(Index::Primary, partition.clone()).prefix(keys::QUESTION_PREFIX).limit(100);
            let found = self.records.query(q.after(cursor)).await?;
            for item in &found.items {
                if is_answer_key(&item.sk) {
                    let a: domain::Answer = decode(item)?;
                    match threads.last_mut() {
                        Some((q, answers)) if q.id == a.question_id => answers.push(a),
                        _ => tracing::warn!(question = %a.question_id, "an answer without its question"),
                    }
                } else {
                    if threads.len() == limit as usize {
                        more = true;
                        break 'pages;
                    }
                    threads.push((decode(item)?, vec![]));
                }
                last = Some(qnet_ports::Cursor { pk: item.pk.clone(), sk: item.sk.clone(), ipk: None, isk: None });
            }
            match found.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let items = threads.iter().map(|(q, a)| question_view(q, a, &target, viewer)).collect();
        Ok(QuestionList { items, next_cursor: if more { last.map(|c| c.encode()) } else { None } })
    }

    /// `GET /questions/{id}`: the question with its answers, if the caller
    /// may read what it is asked on.
    pub async fn get_question(&self, viewer: Option<&Claims>, question_id: &str) -> AppResult<Question> {
        let Some(p) = self.question_pointer(question_id).await? else { return Err(AppError::NotFound("question")) };
        let target = self.readable_target(viewer, p.target_kind, &p.target_id).await.map_err(as_question_not_found)?;
        let Some((q, answers)) = self.load_thread(&p, question_id).await? else { return Err(AppError::NotFound("question")) };
        Ok(question_view(&q, &answers, &target, viewer))
    }

    /// `POST /questions/{id}/answers`: any signed-in member who may read the
    /// item answers; the asker and the item's author(s) are emailed.
    pub async fn answer_question(
        &self,
        claims: &Claims,
        question_id: &str,
        body: &serde_json::Value,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<Creation> {
        let Some(p) = self.question_pointer(question_id).await? else { return Err(AppError::NotFound("question")) };
        self.readable_target(Some(claims), p.target_kind, &p.target_id).await.map_err(as_question_not_found)?;
        if let Some(r) = self.replay(idem).await? {
            if let Some(id) = r.body.get("id").and_then(|v| v.as_str()) {
                self.send_question_emails(question_id, Some(id)).await;
            }
            return Ok(Creation::Replayed(r));
        }
        let text = domain::parse_body(body)?;
        let author = self.member(claims).await?;
        self.take_allowance(&author.id, crate::limits::Action::QuestionOrAnswer).await?;
        let a = domain::Answer {
            id: self.new_id(),
            question_id: question_id.to_string(),
            author_id: author.id.clone(),
            author_name: author.name.clone(),
            body: text.into_string(),
            source: domain::AnswerSource::Web,
            created_at: self.now_text(),
        };
        let view = answer_view(&a, Some(claims));
        let r = self
            .add_answer(&p, &a, |item| crate::idempotency::naming_record(item, idem), Created::new(a.id.clone(), &view), idem)
            .await?;
        let id = r.view().get("id").and_then(|v| v.as_str()).unwrap_or(&a.id).to_string();
        tracing::info!(question = %question_id, answer = %id, "question answered");
        self.send_question_emails(question_id, Some(&id)).await;
        Ok(r)
    }

    /// Stores an answer and marks its question answered (off the unanswered
    /// index) in one transaction, retried when the question changed between
    /// the read and the write.
    pub(crate) async fn add_answer(
        &self,
        p: &QuestionPointer,
        a: &domain::Answer,
        name: impl Fn(Item) -> Item,
        created: Created,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<Creation> {
        for _ in 0..5 {
            let Some(q) = self.load_question(&a.question_id).await? else { return Err(AppError::NotFound("question")) };
            let mut writes = answer_writes(p, &q, a, &name);
            writes.extend(self.first_answer_tallies(&q, a).await?);
            match self.commit(writes, created.clone(), idem).await {
                Ok(r) => return Ok(r),
                Err(AppError::Conflict(_)) => {
                    // The question changed (another answer, the experts pass) or went: read again.
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        Err(AppError::Unavailable("the question kept changing while it was answered".into()))
    }

    /// `DELETE /questions/{id}`: its author or a moderator. The question, its
    /// answers, their reports and email claims leave the store.
    pub async fn remove_question(&self, claims: &Claims, question_id: &str) -> AppResult<()> {
        let Some(q) = self.load_question(question_id).await? else { return Err(AppError::NotFound("question")) };
        if q.author_id != claims.sub && !claims.is_moderator() {
            return Err(AppError::Forbidden("only its author or a moderator may remove a question"));
        }
        self.purge_question(&q).await?;
        tracing::info!(question = %q.id, "question removed");
        Ok(())
    }

    pub(crate) async fn purge_question(&self, q: &domain::Question) -> AppResult<()> {
        let partition = keys::question_thread_partition(q.target_kind.key(), &q.target_id);
        let thread = self.query_all(partition, &format!("{}{}", keys::QUESTION_PREFIX, q.id)).await?;
        let mut items = thread.clone();
        items.extend(self.query_all(keys::question_partition(&q.id), "").await?);
        for i in &thread {
            let id = if is_answer_key(&i.sk) { decode::<domain::Answer>(i)?.id } else { q.id.clone() };
            items.extend(self.query_all(keys::report_partition(&id), "").await?);
        }
        for chunk in deletes(&items).chunks(50) {
            self.records.transact(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// Every report of one item, and each reporter's reason, leave the store.
    pub(crate) async fn purge_reports(&self, item_id: &str) -> AppResult<()> {
        let items = self.query_all(keys::report_partition(item_id), "").await?;
        for chunk in deletes(&items).chunks(50) {
            self.records.transact(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// `DELETE /questions/{id}/answers/{answer_id}`: its author or a moderator.
    /// A question left with no answer is unanswered again.
    pub async fn remove_answer(&self, claims: &Claims, question_id: &str, answer_id: &str) -> AppResult<()> {
        let Some(p) = self.question_pointer(question_id).await? else { return Err(AppError::NotFound("question")) };
        if !is_ulid(answer_id) {
            return Err(AppError::NotFound("answer"));
        }
        let key = keys::answer(p.target_kind.key(), &p.target_id, question_id, answer_id);
        let Some((a, item)) = self.get_record::<domain::Answer>(key).await? else { return Err(AppError::NotFound("answer")) };
        if a.author_id != claims.sub && !claims.is_moderator() {
            return Err(AppError::Forbidden("only its author or a moderator may remove an answer"));
        }
        self.purge_answer(&p, &a, &item).await?;
        tracing::info!(question = %question_id, answer = %answer_id, "answer removed");
        Ok(())
    }

    pub(crate) async fn purge_answer(&self, p: &QuestionPointer, a: &domain::Answer, item: &Item) -> AppResult<()> {
        let mut items = vec![item.clone()];
        items.extend(self.query_all(keys::report_partition(&a.id), "").await?);
        for chunk in deletes(&items).chunks(50) {
            self.records.transact(chunk.to_vec()).await?;
        }
        // Unanswered again when it was the last answer.
        for _ in 0..5 {
            let Some((q, answers)) = self.load_thread(p, &a.question_id).await? else { return Ok(()) };
            if !answers.is_empty() || !q.answered {
                return Ok(());
            }
            let new = domain::Question { answered: false, version: q.version + 1, ..q.clone() };
            match self.records.put(question_item(&new), Condition::VersionIs(q.version)).await {
                Ok(()) => return Ok(()),
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// `POST /questions/{id}/reports` and `…/answers/{answer_id}/reports`:
    /// once per member per item (a repeat changes nothing); the item's report
    /// opens (again) for moderators.
    pub async fn report_question(
        &self,
        claims: &Claims,
        question_id: &str,
        answer_id: Option<&str>,
        body: &serde_json::Value,
    ) -> AppResult<ReportReceived> {
        let Some(p) = self.question_pointer(question_id).await? else { return Err(AppError::NotFound("question")) };
        self.readable_target(Some(claims), p.target_kind, &p.target_id).await.map_err(as_question_not_found)?;
        let item_id = match answer_id {
            None => {
                if self.load_question(question_id).await?.is_none() {
                    return Err(AppError::NotFound("question"));
                }
                question_id.to_string()
            }
            Some(aid) => {
                let key = keys::answer(p.target_kind.key(), &p.target_id, question_id, aid);
                if !is_ulid(aid) || self.records.get(&key.0, &key.1).await?.is_none() {
                    return Err(AppError::NotFound("answer"));
                }
                aid.to_string()
            }
        };
        let kind = if answer_id.is_some() { ReportKind::Answer } else { ReportKind::Question };
        let subject = ReportSubject {
            id: item_id,
            kind,
            question_id: Some(question_id.to_string()),
            answer_id: answer_id.map(String::from),
            case_study_id: None,
            adopter_id: None,
        };
        self.file_report(claims, subject, body).await
    }

    /// Records one member's report of one item (once per member per item: a
    /// repeat changes nothing), and opens the item's report (again) for
    /// moderators, in one transaction.
    pub(crate) async fn file_report(
        &self,
        claims: &Claims,
        subject: ReportSubject,
        body: &serde_json::Value,
    ) -> AppResult<ReportReceived> {
        let reason = domain::parse_report(body)?;
        let received = ReportReceived { status: "received".into() };
        let item_id = subject.id.clone();
        let (rpk, rsk) = keys::report_reason(&item_id, &claims.sub);
        let now = self.now_text();
        let reason = ReportReason { member_id: claims.sub.clone(), reason: reason.into_string(), reported_at: now.clone() };
        let reason_item = Item::new(rpk.clone(), rsk.clone(), encode(&reason))
            .with_gsi2(keys::members_reports(&claims.sub), format!("{now}#{item_id}"));
        for _ in 0..5 {
            if self.records.get(&rpk, &rsk).await?.is_some() {
                return Ok(received);
            }
            let (pk, sk) = keys::report(&item_id);
            let (record, condition) = match self.get_record::<ReportRecord>((pk, sk)).await? {
                Some((r, item)) => (
                    ReportRecord {
                        open: true,
                        reported_at: now.clone(),
                        report_count: r.report_count + 1,
                        version: item.version + 1,
                        ..r
                    },
                    Condition::VersionIs(item.version),
                ),
                None => (
                    ReportRecord {
                        id: item_id.clone(),
                        kind: subject.kind,
                        question_id: subject.question_id.clone(),
                        answer_id: subject.answer_id.clone(),
                        case_study_id: subject.case_study_id.clone(),
                        adopter_id: subject.adopter_id.clone(),
                        open: true,
                        reported_at: now.clone(),
                        report_count: 1,
                        version: 1,
                    },
                    Condition::NotExists,
                ),
            };
            let writes = vec![
                Write::Put { item: reason_item.clone(), condition: Condition::NotExists },
                Write::Put { item: report_item(&record), condition },
            ];
            match self.records.transact(writes).await {
                Ok(()) => {
                    tracing::info!(item = %item_id, kind = ?subject.kind, "reported to moderators");
                    return Ok(received);
                }
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Unavailable("the report kept changing while it was written".into()))
    }

    /// `GET /moderation/reports`: open reports, newest first, with the
    /// reported text and every reason.
    pub async fn moderation_reports(&self, claims: &Claims) -> AppResult<ReportList> {
        require_moderator(claims)?;
        let found = self.records.query(Query::new(Index::Gsi1, keys::OPEN_REPORTS).descending().limit(MAX_REPORTS)).await?;
        let mut items = vec![];
        for item in &found.items {
            let r: ReportRecord = decode(item)?;
            let Some((text, author, target_title)) = self.reported_text(&r).await? else { continue };
            let reasons = self
                .query_all(keys::report_partition(&r.id), keys::REPORT_REASON_PREFIX)
                .await?
                .iter()
                .map(|i| decode::<ReportReason>(i).map(|x| x.reason))
                .collect::<AppResult<Vec<_>>>()?;
            items.push(Report {
                id: r.id,
                kind: r.kind,
                question_id: r.question_id,
                answer_id: r.answer_id,
                case_study_id: r.case_study_id,
                adopter_id: r.adopter_id,
                text,
                author,
                reasons,
                reported_at: r.reported_at,
                report_count: r.report_count,
                target_title,
            });
        }
        Ok(ReportList { items })
    }

    /// The reported text, its author and the title of what it is on; `None`
    /// when the item has gone since.
    async fn reported_text(&self, r: &ReportRecord) -> AppResult<Option<(String, QuestionAuthor, String)>> {
        if r.kind == ReportKind::Adoption {
            let (Some(cs_id), Some(adopter)) = (&r.case_study_id, &r.adopter_id) else { return Ok(None) };
            let Some(a) = self.adoption_record(cs_id, adopter).await? else { return Ok(None) };
            let title = self.question_target(TargetKind::CaseStudy, cs_id).await?.map(|t| t.title).unwrap_or_default();
            let author = QuestionAuthor { id: a.member_id, name: a.member_name };
            return Ok(Some((a.note.unwrap_or_default(), author, title)));
        }
        let Some(question_id) = &r.question_id else { return Ok(None) };
        let Some(p) = self.question_pointer(question_id).await? else { return Ok(None) };
        let (text, author) = match &r.answer_id {
            None => match self.load_question(question_id).await? {
                Some(q) => (q.body, QuestionAuthor { id: q.author_id, name: q.author_name }),
                None => return Ok(None),
            },
            Some(aid) => {
                match self.get_record::<domain::Answer>(keys::answer(p.target_kind.key(), &p.target_id, question_id, aid)).await?
                {
                    Some((a, _)) => (a.body, QuestionAuthor { id: a.author_id, name: a.author_name }),
                    None => return Ok(None),
                }
            }
        };
        let target_title = self.question_target(p.target_kind, &p.target_id).await?.map(|t| t.title).unwrap_or_default();
        Ok(Some((text, author, target_title)))
    }

    /// `POST /moderation/reports/{id}/dismiss`: the report closes; the text stays.
    pub async fn dismiss_report(&self, claims: &Claims, report_id: &str) -> AppResult<()> {
        require_moderator(claims)?;
        if !is_ulid(report_id) {
            return Err(AppError::NotFound("report"));
        }
        for _ in 0..5 {
            let Some((r, item)) = self.get_record::<ReportRecord>(keys::report(report_id)).await? else {
                return Err(AppError::NotFound("report"));
            };
            if !r.open {
                return Ok(());
            }
            let closed = ReportRecord { open: false, version: item.version + 1, ..r };
            match self.records.put(report_item(&closed), Condition::VersionIs(item.version)).await {
                Ok(()) => {
                    tracing::info!(report = %report_id, "report dismissed");
                    return Ok(());
                }
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Unavailable("the report kept changing while it was dismissed".into()))
    }

    /// `POST /case-studies/{id}/thanks`, `POST /resources/{id}/thanks`: once
    /// per reader per published item (a second thanks only changes `named`);
    /// never one's own item.
    pub async fn thank(&self, claims: &Claims, kind: TargetKind, target_id: &str, body: &serde_json::Value) -> AppResult<Thanks> {
        let target = self.published_target(claims, kind, target_id).await?;
        let named = domain::parse_thanks(body)?;
        if target.is_author(&claims.sub) {
            return Err(AppError::Conflict(format!("you cannot thank yourself for your own {}", target.noun())));
        }
        let member = self.member(claims).await?;
        self.ensure_thanks_count(kind, &target.id).await?;
        let (pk, sk) = keys::thanks(kind.key(), &target.id, &member.id);
        for _ in 0..5 {
            let existing = self.get_record::<ThanksRecord>((pk.clone(), sk.clone())).await?;
            let record = ThanksRecord {
                member_id: member.id.clone(),
                name: member.name.clone(),
                named,
                thanked_at: existing.as_ref().map(|(t, _)| t.thanked_at.clone()).unwrap_or_else(|| self.now_text()),
            };
            let item = Item::new(pk.clone(), sk.clone(), encode(&record))
                .with_gsi2(keys::members_thanks(&member.id), format!("{}#{}", kind.key(), target.id));
            let writes = match existing {
                Some(_) => vec![Write::Put { item, condition: Condition::Exists }],
                None => {
                    let (cpk, csk) = keys::thanks_count(kind.key(), &target.id);
                    vec![Write::Put { item, condition: Condition::NotExists }, Write::increment(cpk, csk, "count", 1)]
                }
            };
            match self.records.transact(writes).await {
                Ok(()) => return self.thanks_summary(Some(claims), kind, &target.id).await,
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Unavailable("the thanks kept changing while it was written".into()))
    }

    /// `GET /case-studies/{id}/thanks`, `GET /resources/{id}/thanks`: the count,
    /// the caller's own thanks, and (for the author(s) and moderators only)
    /// the names of those who chose to be named.
    pub async fn thanks_summary(&self, viewer: Option<&Claims>, kind: TargetKind, target_id: &str) -> AppResult<Thanks> {
        let target = self.readable_target(viewer, kind, target_id).await?;
        let (cpk, csk) = keys::thanks_count(kind.key(), &target.id);
        let count = self.records.get(&cpk, &csk).await?.and_then(|i| i.data["count"].as_u64()).unwrap_or(0);
        let mine = match viewer {
            Some(c) => self.get_record::<ThanksRecord>(keys::thanks(kind.key(), &target.id, &c.sub)).await?.map(|(t, _)| t),
            None => None,
        };
        let mut names = vec![];
        if viewer.is_some_and(|c| c.is_moderator() || target.is_author(&c.sub)) {
            let mut all = self
                .query_all(keys::thanks_partition(kind.key(), &target.id), keys::THANKS_PREFIX)
                .await?
                .iter()
                .map(decode::<ThanksRecord>)
                .collect::<AppResult<Vec<_>>>()?;
            all.sort_by(|a, b| a.thanked_at.cmp(&b.thanked_at));
            names = all.into_iter().filter(|t| t.named).map(|t| t.name).collect();
        }
        Ok(Thanks { count, thanked: mine.is_some(), named: mine.map(|t| t.named), names })
    }

    /// For the experts pass: questions asked before `cutoff` (a timestamp as
    /// records hold them) that have no answer and whose experts were not yet
    /// asked, oldest first, at most `limit`.
    pub async fn unanswered_questions(&self, cutoff: &str, limit: u32) -> AppResult<Vec<domain::Question>> {
        let mut out = vec![];
        let mut cursor = None;
        loop {
            let page = self
                .records
                .query(Query::new(Index::Gsi1, keys::UNANSWERED_QUESTIONS).limit(limit.clamp(1, 100)).after(cursor))
                .await?;
            for item in &page.items {
                let mut q: domain::Question = decode(item)?;
                if q.created_at.as_str() >= cutoff || out.len() >= limit as usize {
                    return Ok(out);
                }
                q.version = item.version;
                if !q.answered && !q.experts_asked {
                    out.push(q);
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Marks a question's experts as asked (it leaves the unanswered index):
    /// true only for the call that changed it, so experts are asked once.
    pub async fn mark_experts_asked(&self, question_id: &str) -> AppResult<bool> {
        for _ in 0..5 {
            let Some(q) = self.load_question(question_id).await? else { return Ok(false) };
            if q.experts_asked {
                return Ok(false);
            }
            let new = domain::Question { experts_asked: true, version: q.version + 1, ..q.clone() };
            match self.records.put(question_item(&new), Condition::VersionIs(q.version)).await {
                Ok(()) => return Ok(true),
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Unavailable("the question kept changing while it was marked".into()))
    }

    /// The topics of the case study or resource a question is on (none when it is gone).
    pub async fn question_target_topics(&self, q: &domain::Question) -> AppResult<Vec<String>> {
        Ok(self.question_target(q.target_kind, &q.target_id).await?.map(|t| t.topics).unwrap_or_default())
    }

    /// The author(s) of the case study or resource a question is on.
    pub async fn question_target_author_ids(&self, q: &domain::Question) -> AppResult<Vec<String>> {
        Ok(self.question_target(q.target_kind, &q.target_id).await?.map(|t| t.author_ids).unwrap_or_default())
    }

    /// A reply-by-email token for `member_id` on a question (`reply+TOKEN@`):
    /// write it in the same transaction as the email's claim.
    pub fn question_reply_write(&self, member_id: &str, question_id: &str) -> (OpaqueToken, Write) {
        self.token_write(TokenPurpose::QuestionReply, member_id, Some(question_id))
    }
}

/// Erasure: the member's questions (with their answers) and answers leave the
/// store, as do their reports and thanks (the count goes down).
pub(crate) async fn erase(app: &App, member_id: &str) -> AppResult<()> {
    loop {
        let page = app.records.query(Query::new(Index::Gsi2, keys::members_questions(member_id)).limit(25)).await?;
        if page.items.is_empty() {
            break;
        }
        for item in page.items {
            if is_answer_key(&item.sk) {
                let a: domain::Answer = decode(&item)?;
                let Some(p) = app.question_pointer(&a.question_id).await? else {
                    app.records.delete(&item.pk, &item.sk, Condition::None).await?;
                    continue;
                };
                app.purge_answer(&p, &a, &item).await?;
            } else {
                let q: domain::Question = decode(&item)?;
                app.purge_question(&q).await?;
                // A pointer-less leftover must still leave the list.
                app.records.delete(&item.pk, &item.sk, Condition::None).await?;
            }
        }
    }
    loop {
        let page = app.records.query(Query::new(Index::Gsi2, keys::members_reports(member_id)).limit(100)).await?;
        if page.items.is_empty() {
            break;
        }
        for item in page.items {
            app.records.delete(&item.pk, &item.sk, Condition::None).await?;
        }
    }
    loop {
        let page = app.records.query(Query::new(Index::Gsi2, keys::members_thanks(member_id)).limit(50)).await?;
        if page.items.is_empty() {
            return Ok(());
        }
        for item in page.items {
            let count_key = (item.pk.clone(), "COUNT".to_string());
            let writes = vec![
                Write::Delete { pk: item.pk.clone(), sk: item.sk.clone(), condition: Condition::Exists },
                Write::Increment {
                    pk: count_key.0,
                    sk: count_key.1,
                    field: "count".into(),
                    by: -1,
                    at_least: Some(0),
                    at_most: None,
                },
            ];
            match app.records.transact(writes).await {
                Ok(()) => {}
                Err(e) if e.is_conflict() => {
                    app.records.delete(&item.pk, &item.sk, Condition::None).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_author_and_moderators_may_remove() {
        let q = domain::Question {
            id: "Q".into(),
            target_kind: TargetKind::CaseStudy,
            target_id: "T".into(),
            author_id: "ann".into(),
            author_name: "Ann".into(),
            body: "How?".into(),
            created_at: "2026-12-01T09:00:00.000Z".into(),
            answered: false,
            experts_asked: false,
            version: 1,
        };
        let t = Target {
            kind: TargetKind::CaseStudy,
            id: "T".into(),
            title: "Falls".into(),
            published: true,
            author_ids: vec!["bob".into()],
            topics: vec![],
        };
        let ann = Claims::new("ann".into(), "ann@x.nhs.uk".into(), "Ann".into(), vec![]);
        let bob = Claims::new("bob".into(), "bob@x.nhs.uk".into(), "Bob".into(), vec![]);
        assert!(question_view(&q, &[], &t, Some(&ann)).can_remove);
        assert!(!question_view(&q, &[], &t, Some(&bob)).can_remove);
        assert!(question_view(&q, &[], &t, Some(&bob)).can_answer);
        assert!(!question_view(&q, &[], &t, None).can_answer);
        let item = question_item(&q);
        assert!(item.gsi1.is_some(), "an unanswered question is on the index");
        let done = question_item(&domain::Question { answered: true, ..q });
        assert!(done.gsi1.is_none(), "an answered one is not");
    }
}
