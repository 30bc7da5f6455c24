//! `qnet insights rebuild`: recounts every tally from the records, for what
//! was stored before the counts were kept (and to repair them). It reads the
//! records once, reads the tallies, and adds only the difference, so running
//! it twice writes nothing the second time.
//!
//! Run it while the network is quiet: a change committed between its read of
//! the records and its write of a difference is counted twice (or not at all);
//! running it again then puts it right.
//!
//! Mentoring pairs, event places and coffee pairs are not recounted (see
//! [`recounted`]); their counts are kept as they happen from the day counting began.

use std::collections::BTreeMap;

use qnet_domain::adoption::Adoption;
use qnet_domain::case_study::CaseStudy;
use qnet_domain::project::Project;
use qnet_domain::question::{Answer, Question};
use qnet_ports::{Index, Item, Query, Write};
use serde::Serialize;

use crate::tally::{STATE, Tallies, delay_field, month_of, month_partition, project_fields};
use crate::{App, AppResult, decode, keys};

use super::Month;

/// What a rebuild counted and changed.
#[derive(Debug, Default, Serialize)]
pub struct RebuildReport {
    pub projects: usize,
    pub case_studies_published: usize,
    pub adoptions: usize,
    pub questions: usize,
    /// Tally items whose counts were corrected.
    pub tallies_corrected: usize,
    /// The months whose tallies were compared.
    pub from: String,
    pub to: String,
}

/// Whether the rebuild recounts this field: everything that is true now, and
/// of what happened, the case studies, adoptions and questions. Mentoring
/// pairs, event places and coffee pairs are counted only as they happen (their
/// records have no system-wide list to recount from): the rebuild leaves them as they are.
fn recounted(pk: &str, field: &str) -> bool {
    pk == STATE
        || matches!(field, "case_studies_published" | "adoptions" | "questions_asked" | "questions_answered")
        || field.starts_with("answer_delay:")
}

/// The first month whose tallies are compared even when no record is older.
const EARLIEST: &str = "2020-01";

impl App {
    async fn all_items(&self, pk: String) -> AppResult<Vec<Item>> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.records.query(Query::new(Index::Primary, pk.clone()).limit(1000).after(cursor)).await?;
            out.extend(page.items);
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// The ids in a list partition (each entry's `data.id`).
    async fn listed_ids(&self, pk: String) -> AppResult<Vec<String>> {
        let mut ids: Vec<String> =
            self.all_items(pk).await?.iter().filter_map(|i| i.data.get("id")?.as_str().map(String::from)).collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    async fn question_tallies(&self, kind: &str, target: &str, t: &mut Tallies, report: &mut RebuildReport) -> AppResult<()> {
        let items = self.all_items(keys::question_thread_partition(kind, target)).await?;
        let mut questions: BTreeMap<String, Question> = BTreeMap::new();
        let mut first: BTreeMap<String, String> = BTreeMap::new();
        for item in items.iter().filter(|i| i.sk.starts_with(keys::QUESTION_PREFIX)) {
            if item.sk.contains("#A#") {
                let a: Answer = decode(item)?;
                let e = first.entry(a.question_id.clone()).or_insert_with(|| a.created_at.clone());
                if a.created_at < *e {
                    *e = a.created_at.clone();
                }
            } else {
                let q: Question = decode(item)?;
                questions.insert(q.id.clone(), q);
            }
        }
        for q in questions.values() {
            report.questions += 1;
            let orgs: Vec<String> = self.member_by_id(&q.author_id).await?.and_then(|m| m.organisation_id).into_iter().collect();
            let scopes = self.tally_scopes(&orgs).await?;
            t.add(&month_partition(month_of(&q.created_at)), &scopes, &["questions_asked".to_owned()], 1);
            if let Some(at) = first.get(&q.id) {
                let rfc = &time::format_description::well_known::Rfc3339;
                let delay = match (time::OffsetDateTime::parse(&q.created_at, rfc), time::OffsetDateTime::parse(at, rfc)) {
                    (Ok(a), Ok(b)) => (b - a).whole_seconds(),
                    _ => 0,
                };
                t.add(&month_partition(month_of(at)), &scopes, &["questions_answered".to_owned(), delay_field(delay)], 1);
            }
        }
        Ok(())
    }

    /// Recounts every tally from the records and corrects those that differ.
    pub async fn rebuild_insights(&self) -> AppResult<RebuildReport> {
        let mut report = RebuildReport::default();
        let mut want = Tallies::new();
        for id in self.listed_ids(keys::project_list(None)).await? {
            if let Some((p, _)) = self.get_record::<Project>(keys::project(&id)).await? {
                report.projects += 1;
                want.add(STATE, &self.tally_scopes(&p.organisation_ids).await?, &project_fields(&p), 1);
            }
        }
        for id in self.listed_ids(keys::published_list(None, None)).await? {
            let Some((cs, _)) = self.get_record::<CaseStudy>(keys::case_study(&id)).await? else { continue };
            let orgs: Vec<String> = cs.organisation_id.iter().cloned().collect();
            if let Some(at) = &cs.published_at {
                report.case_studies_published += 1;
                want.add(
                    &month_partition(month_of(at)),
                    &self.tally_scopes(&orgs).await?,
                    &["case_studies_published".to_owned()],
                    1,
                );
            }
            let (pk, _) = keys::case_study(&id);
            for item in self.all_items(pk).await?.iter().filter(|i| i.sk.starts_with(keys::ADOPTION_PREFIX)) {
                let a: Adoption = decode(item)?;
                report.adoptions += 1;
                let orgs: Vec<String> = a.organisation_id.iter().cloned().collect();
                want.add(
                    &month_partition(month_of(&a.created_at)),
                    &self.tally_scopes(&orgs).await?,
                    &["adoptions".to_owned()],
                    1,
                );
            }
            self.question_tallies("cs", &id, &mut want, &mut report).await?;
        }
        for id in self.listed_ids(keys::resource_list(None, None, None)).await? {
            self.question_tallies("res", &id, &mut want, &mut report).await?;
        }
        let want = want.into_counts();
        // Compare with every tally partition that may hold counts.
        let now = self.now_text();
        let last = Month::of(&now).unwrap_or(Month(0));
        let earliest = want
            .keys()
            .filter_map(|(pk, _)| pk.strip_prefix("INSIGHTS#").and_then(Month::parse))
            .chain(Month::parse(EARLIEST))
            .min()
            .unwrap_or(last);
        report.from = earliest.text();
        report.to = last.text();
        let mut have: BTreeMap<(String, String), BTreeMap<String, i64>> = BTreeMap::new();
        let mut partitions = vec![STATE.to_owned()];
        partitions.extend((earliest.0..=last.0).map(|m| month_partition(&Month(m).text())));
        for pk in partitions {
            for item in self.all_items(pk).await? {
                let counts = item.data.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(0))).collect());
                have.insert((item.pk, item.sk), counts.unwrap_or_default());
            }
        }
        let mut keys_all: Vec<&(String, String)> = want.keys().chain(have.keys()).collect();
        keys_all.sort();
        keys_all.dedup();
        let empty = BTreeMap::new();
        for key in keys_all {
            let (w, h) = (want.get(key).unwrap_or(&empty), have.get(key).unwrap_or(&empty));
            let mut fields: Vec<&String> = w.keys().chain(h.keys()).filter(|f| recounted(&key.0, f)).collect();
            fields.sort();
            fields.dedup();
            let adds: Vec<(String, i64)> = fields
                .into_iter()
                .map(|f| (f.clone(), w.get(f).copied().unwrap_or(0) - h.get(f).copied().unwrap_or(0)))
                .filter(|(_, n)| *n != 0)
                .collect();
            if adds.is_empty() {
                continue;
            }
            report.tallies_corrected += 1;
            for chunk in adds.chunks(qnet_ports::MAX_TALLY_FIELDS) {
                self.records.transact(vec![Write::Tally { pk: key.0.clone(), sk: key.1.clone(), adds: chunk.to_vec() }]).await?;
            }
        }
        Ok(report)
    }
}
