//! Similar work (issue 22): more-like-this over a new project's or case
//! study's title, aim and topics, so that people see what the network already
//! holds before they duplicate it. The words of the draft (stop words left
//! out, stemmed as the index stems them) are one OR query: title matches count
//! double, rarer words count more (BM25), and each shared topic adds a little.
//! No fuzzy matching: a draft is long enough that near-misses add noise.

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::tokenizer::{Language, LowerCaser, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer};
use tantivy::{TantivyDocument, Term};

use crate::{Hit, SearchError, SearchIndex};

/// Words of a draft considered at most.
const MAX_DRAFT_WORDS: usize = 60;
/// How much a title match counts against a body match.
pub const TITLE_BOOST: f32 = 1.0;
/// How much one shared topic adds.
pub const TOPIC_BOOST: f32 = 2.5;
/// How much more a word of the draft's own title weighs.
pub const DRAFT_TITLE_BOOST: f32 = 1.5;

/// A draft to find similar work for.
#[derive(Debug, Clone, Default)]
pub struct SimilarQuery {
    pub title: String,
    /// The aim, and any summary or problem statement.
    pub text: String,
    pub topics: Vec<String>,
    /// Only these kinds (`case_study`, `project`, …); all when empty.
    pub kinds: Vec<String>,
    /// Leave this document out (the draft itself, once saved).
    pub exclude_id: Option<String>,
    pub limit: usize,
    /// The weights (`Weights::default()` in the service; the bench tries others).
    pub weights: Weights,
}

/// The ranking's weights.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    pub title: f32,
    pub topic: f32,
    pub draft_title: f32,
}

impl Default for Weights {
    fn default() -> Weights {
        Weights { title: TITLE_BOOST, topic: TOPIC_BOOST, draft_title: DRAFT_TITLE_BOOST }
    }
}

fn analyzer() -> TextAnalyzer {
    let mut b = TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).dynamic();
    if let Some(stop) = StopWordFilter::new(Language::English) {
        b = b.filter_dynamic(stop);
    }
    b.filter_dynamic(Stemmer::new(Language::English)).build()
}

/// The distinct stemmed words of `text`, stop words left out, in order.
fn words(text: &str) -> Vec<String> {
    let mut a = analyzer();
    let mut stream = a.token_stream(text);
    let mut out: Vec<String> = Vec::new();
    while stream.advance() {
        let t = stream.token().text.clone();
        if t.chars().count() > 1 && !t.chars().all(|c| c.is_ascii_digit()) && !out.contains(&t) {
            out.push(t);
        }
    }
    out.truncate(MAX_DRAFT_WORDS);
    out
}

impl SearchIndex {
    /// The documents most like the draft, best first.
    pub fn similar(&self, q: &SimilarQuery) -> Result<Vec<Hit>, SearchError> {
        let f = self.fields;
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let title_words = words(&q.title);
        for w in words(&format!("{} {}", q.title, q.text)) {
            let in_title = title_words.contains(&w);
            for (field, boost) in [(f.title, q.weights.title), (f.body, 1.0)] {
                let term = Term::from_field_text(field, &w);
                // A word of the draft's own title weighs more wherever it is found.
                let weight = if in_title { boost * q.weights.draft_title } else { boost };
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)), weight)),
                ));
            }
        }
        if should.is_empty() {
            return Ok(vec![]);
        }
        for t in &q.topics {
            let term = Term::from_field_text(f.topic, t);
            should.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(TermQuery::new(term, IndexRecordOption::Basic)), q.weights.topic)),
            ));
        }
        let mut must: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        if !q.kinds.is_empty() {
            let kinds: Vec<(Occur, Box<dyn Query>)> = q
                .kinds
                .iter()
                .map(|k| -> (Occur, Box<dyn Query>) {
                    (Occur::Should, Box::new(TermQuery::new(Term::from_field_text(f.kind, k), IndexRecordOption::Basic)))
                })
                .collect();
            must.push((Occur::Must, Box::new(BooleanQuery::new(kinds))));
        }
        if let Some(id) = &q.exclude_id {
            must.push((Occur::MustNot, Box::new(TermQuery::new(Term::from_field_text(f.id, id), IndexRecordOption::Basic))));
        }
        let searcher = self.reader.searcher();
        let limit = q.limit.clamp(1, 50);
        let top = searcher.search(&BooleanQuery::new(must), &TopDocs::with_limit(limit).order_by_score())?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let d: TantivyDocument = searcher.doc(address)?;
            let text = |field| d.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            hits.push(Hit { id: text(f.id), kind: text(f.kind), score });
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SearchDoc;

    fn doc(id: &str, kind: &str, title: &str, body: &str, topics: &[&str]) -> SearchDoc {
        SearchDoc {
            id: id.into(),
            kind: kind.into(),
            title: title.into(),
            body: body.into(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn the_same_problem_ranks_first_and_kinds_and_the_draft_itself_are_respected() {
        let dir = tempfile::tempdir().unwrap();
        let ix = SearchIndex::open_dir(dir.path()).unwrap();
        ix.upsert(&[
            doc(
                "c1",
                "case_study",
                "Fewer inpatient falls with hourly rounding",
                "Falls on two wards halved.",
                &["patient-safety"],
            ),
            doc("p1", "project", "Reducing falls in care homes", "Halve falls by March.", &["patient-safety", "community-care"]),
            doc("c2", "case_study", "Blood pressure checks in barbershops", "Hypertension case-finding.", &["prevention"]),
            doc("r1", "resource", "Falls toolkit", "Falls prevention resources.", &["patient-safety"]),
        ])
        .unwrap();
        let q = SimilarQuery {
            title: "Preventing falls on our older people's wards".into(),
            text: "Reduce falls by a third in six months".into(),
            topics: vec!["patient-safety".into()],
            kinds: vec!["case_study".into(), "project".into()],
            exclude_id: Some("p1".into()),
            limit: 3,
            weights: Weights::default(),
        };
        let hits = ix.similar(&q).unwrap();
        let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids.first(), Some(&"c1"), "{ids:?}");
        assert!(!ids.contains(&"p1") && !ids.contains(&"r1"), "{ids:?}");
        assert!(ix.similar(&SimilarQuery { title: "the and of".into(), limit: 3, ..Default::default() }).unwrap().is_empty());
    }

    #[test]
    fn drafts_lose_stop_words_and_numbers_and_keep_stems() {
        assert_eq!(words("Reducing the falls of 2026 on wards"), ["reduc", "fall", "ward"]);
    }
}
