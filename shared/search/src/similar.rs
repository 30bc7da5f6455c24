//! Similar work (issue 22): more-like-this over a new project's or case
//! study's title, aim and topics, so that people see what the network already
//! holds before they duplicate it. The words of the draft (stop words left
//! out, stemmed as the index stems them) are one OR query: title matches count
//! double, rarer words count more (BM25), and each shared topic adds a little.
//! No fuzzy matching: a draft is long enough that near-misses add noise.
//!
//! People name the same problem in different words ("bed sores", "pressure
//! ulcers"; "water infections", "UTI"), so the draft is also expanded with a
//! vocabulary of equivalent terms ([`vocabulary.txt`](vocabulary.txt), decision
//! 0022): when a term of a group is in the draft, the group's other terms are
//! sought too (phrases as phrases), at a lower weight than the draft's own words
//! and counted once per group.

use std::collections::HashMap;
use std::sync::OnceLock;

use tantivy::collector::TopDocs;
use tantivy::postings::Postings;
use tantivy::query::{BooleanQuery, BoostQuery, DisjunctionMaxQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::tokenizer::{Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer};
use tantivy::{DocAddress, DocId, DocSet, Searcher, TantivyDocument, Term};

use crate::{Hit, SearchError, SearchIndex};

/// Words of a draft considered at most.
const MAX_DRAFT_WORDS: usize = 60;
/// How much a title match counts against a body match.
pub const TITLE_BOOST: f32 = 1.0;
/// How much one shared topic adds.
pub const TOPIC_BOOST: f32 = 2.5;
/// How much more a word of the draft's own title weighs.
pub const DRAFT_TITLE_BOOST: f32 = 1.5;
/// How much a vocabulary group matched by the draft counts (at most once per
/// group), against 1.0 for the draft's own words.
pub const SYNONYM_BOOST: f32 = 0.75;
/// Pseudo-relevance feedback (decision 0022): how much the terms taken from
/// the first pass's best items count (the strongest at this weight, the others
/// in proportion), against 1.0 for the draft's own words; 0 leaves it out.
pub const FEEDBACK_BOOST: f32 = 0.0;
/// Feedback: items of the first pass read.
pub const FEEDBACK_DOCS: usize = 3;
/// Feedback: terms taken from them.
pub const FEEDBACK_TERMS: usize = 10;
/// Groups of equivalent terms, one a line (decision 0022).
const VOCABULARY: &str = include_str!("vocabulary.txt");

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
    /// Equivalent terms from the vocabulary; 0 leaves the vocabulary out.
    pub synonym: f32,
    /// Pseudo-relevance feedback: the weight of the strongest added term; 0
    /// leaves feedback out.
    pub feedback: f32,
    /// Feedback: the first pass's top items read (k).
    pub feedback_docs: usize,
    /// Feedback: terms added (n).
    pub feedback_terms: usize,
}

impl Default for Weights {
    fn default() -> Weights {
        Weights {
            title: TITLE_BOOST,
            topic: TOPIC_BOOST,
            draft_title: DRAFT_TITLE_BOOST,
            synonym: SYNONYM_BOOST,
            feedback: FEEDBACK_BOOST,
            feedback_docs: FEEDBACK_DOCS,
            feedback_terms: FEEDBACK_TERMS,
        }
    }
}

impl Weights {
    /// The ranking as it was before the vocabulary and feedback (decision
    /// 0022's baseline).
    pub fn baseline() -> Weights {
        Weights { synonym: 0.0, feedback: 0.0, ..Weights::default() }
    }
}

fn analyzer() -> TextAnalyzer {
    let mut b = TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).dynamic();
    if let Some(stop) = StopWordFilter::new(Language::English) {
        b = b.filter_dynamic(stop);
    }
    b.filter_dynamic(Stemmer::new(Language::English)).build()
}

/// The index's own analysis of title and body (tantivy's `en_stem`): every
/// word, lower case, stemmed, stop words kept, so that positions line up with
/// the index's for phrases.
fn en_stem() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The stems of `text` as the index sees them, in order.
fn stems(text: &str) -> Vec<String> {
    let mut a = en_stem();
    let mut stream = a.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// One term of the vocabulary: its stems, in order.
type VocabularyTerm = Vec<String>;

/// The vocabulary parsed: groups of terms. Refuses (naming every line at
/// fault) a group with fewer than two terms, an empty term and a term (after
/// analysis) listed twice.
fn parse_vocabulary(text: &str) -> Result<Vec<Vec<VocabularyTerm>>, String> {
    let mut groups: Vec<Vec<VocabularyTerm>> = Vec::new();
    let mut seen: HashMap<VocabularyTerm, usize> = HashMap::new();
    let mut faults: Vec<String> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut group = Vec::new();
        for raw in line.split('|') {
            let term = stems(raw);
            if term.is_empty() {
                faults.push(format!("line {}: an empty term", i + 1));
            } else if let Some(other) = seen.insert(term.clone(), i + 1) {
                faults.push(format!("line {}: \"{}\" is already on line {other}", i + 1, raw.trim()));
            } else {
                group.push(term);
            }
        }
        if group.len() < 2 {
            faults.push(format!("line {}: a group needs two terms or more", i + 1));
        }
        groups.push(group);
    }
    if faults.is_empty() { Ok(groups) } else { Err(faults.join("; ")) }
}

fn vocabulary() -> &'static [Vec<VocabularyTerm>] {
    static PARSED: OnceLock<Vec<Vec<VocabularyTerm>>> = OnceLock::new();
    PARSED.get_or_init(|| parse_vocabulary(VOCABULARY).expect("the vocabulary parses (a unit test holds it)"))
}

/// Whether `term` occurs in `text` as consecutive stems.
fn contains(text: &[String], term: &[String]) -> bool {
    !term.is_empty() && text.windows(term.len()).any(|w| w == term)
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
        // A term found in a field: one word, or a phrase at consecutive positions.
        let found = |field, term: &[String]| -> Box<dyn Query> {
            if let [one] = term {
                Box::new(TermQuery::new(Term::from_field_text(field, one), IndexRecordOption::WithFreqs))
            } else {
                Box::new(PhraseQuery::new(term.iter().map(|t| Term::from_field_text(field, t)).collect()))
            }
        };
        let in_fields = |term: &[String], title: f32| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(vec![
                (Occur::Should, Box::new(BoostQuery::new(found(f.title, term), title)) as Box<dyn Query>),
                (Occur::Should, found(f.body, term)),
            ]))
        };
        if q.weights.synonym > 0.0 {
            let (title, text) = (stems(&q.title), stems(&q.text));
            for group in vocabulary() {
                let in_title = group.iter().any(|t| contains(&title, t));
                if !in_title && !group.iter().any(|t| contains(&text, t)) {
                    continue;
                }
                // The group's other terms, counted once however many an item has.
                let others: Vec<Box<dyn Query>> = group
                    .iter()
                    .filter(|t| !contains(&title, t) && !contains(&text, t))
                    .map(|t| in_fields(t, q.weights.title))
                    .collect();
                if others.is_empty() {
                    continue;
                }
                let weight = if in_title { q.weights.synonym * q.weights.draft_title } else { q.weights.synonym };
                should.push((Occur::Should, Box::new(BoostQuery::new(Box::new(DisjunctionMaxQuery::new(others)), weight))));
            }
        }
        for t in &q.topics {
            let term = Term::from_field_text(f.topic, t);
            should.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(TermQuery::new(term, IndexRecordOption::Basic)), q.weights.topic)),
            ));
        }
        // The draft's query, restricted to the kinds asked for and without the draft itself.
        let restricted = |should: Vec<(Occur, Box<dyn Query>)>| -> BooleanQuery {
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
            BooleanQuery::new(must)
        };
        let searcher = self.reader.searcher();
        let w = q.weights;
        if w.feedback > 0.0 && w.feedback_docs > 0 && w.feedback_terms > 0 {
            // Pseudo-relevance feedback: the first pass's best items lend the
            // query their most telling words, and the second pass ranks.
            let first_pass = restricted(should.iter().map(|(o, c)| (*o, c.box_clone())).collect());
            let top = searcher.search(&first_pass, &TopDocs::with_limit(w.feedback_docs.min(50)).order_by_score())?;
            let addresses: Vec<DocAddress> = top.into_iter().map(|(_, a)| a).collect();
            let own = words(&format!("{} {}", q.title, q.text));
            let terms = self.feedback_terms(&searcher, &addresses, &own, w.feedback_terms)?;
            if let Some(&(_, strongest)) = terms.first() {
                for (term, score) in terms {
                    let weight = w.feedback * score / strongest;
                    should.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(in_fields(std::slice::from_ref(&term), w.title), weight)),
                    ));
                }
            }
        }
        let limit = q.limit.clamp(1, 50);
        let top = searcher.search(&restricted(should), &TopDocs::with_limit(limit).order_by_score())?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let d: TantivyDocument = searcher.doc(address)?;
            let text = |field| d.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            hits.push(Hit { id: text(f.id), kind: text(f.kind), score });
        }
        Ok(hits)
    }

    /// The `n` words that best tell the items at `top` apart (feedback): for
    /// each stemmed word of their title and body (stop words, numbers, single
    /// letters and the draft's own words left out), the sum over those items of
    /// its share of the item's words, times its idf over the whole index
    /// (ln(N / df), df the larger of its title and body document frequencies).
    /// Strongest first, with its score. Reads the term dictionary of title and
    /// body once per segment holding one of `top`.
    fn feedback_terms(
        &self,
        searcher: &Searcher,
        top: &[DocAddress],
        own: &[String],
        n: usize,
    ) -> Result<Vec<(String, f32)>, SearchError> {
        let f = self.fields;
        let mut stop = stop_words();
        let mut candidate = |text: &str| -> bool {
            text.chars().count() > 1 && !text.chars().all(|c| c.is_ascii_digit()) && !own.iter().any(|o| o == text) && {
                let mut stream = stop.token_stream(text);
                stream.advance()
            }
        };
        let mut share: HashMap<String, f32> = HashMap::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let mut docs: Vec<DocId> = top.iter().filter(|a| a.segment_ord as usize == ord).map(|a| a.doc_id).collect();
            if docs.is_empty() {
                continue;
            }
            docs.sort_unstable();
            let (title_norms, body_norms) = (segment.get_fieldnorms_reader(f.title)?, segment.get_fieldnorms_reader(f.body)?);
            let lengths: Vec<f32> =
                docs.iter().map(|&d| (title_norms.fieldnorm(d) + body_norms.fieldnorm(d)).max(1) as f32).collect();
            for field in [f.title, f.body] {
                let inverted = segment.inverted_index(field)?;
                let mut stream = inverted.terms().stream()?;
                while stream.advance() {
                    let Ok(text) = std::str::from_utf8(stream.key()) else { continue };
                    if !candidate(text) {
                        continue;
                    }
                    let mut postings = inverted.read_postings_from_terminfo(stream.value(), IndexRecordOption::WithFreqs)?;
                    for (&d, &length) in docs.iter().zip(&lengths) {
                        if postings.doc() < d {
                            postings.seek(d);
                        }
                        if postings.doc() == d {
                            *share.entry(text.to_string()).or_default() += postings.term_freq() as f32 / length;
                        }
                    }
                }
            }
        }
        let all = searcher.num_docs().max(1) as f32;
        let mut scored: Vec<(String, f32)> = Vec::with_capacity(share.len());
        for (term, s) in share {
            let df = searcher
                .doc_freq(&Term::from_field_text(f.title, &term))?
                .max(searcher.doc_freq(&Term::from_field_text(f.body, &term))?)
                .max(1) as f32;
            let score = s * (all / df).ln();
            if score > 0.0 {
                scored.push((term, score));
            }
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        scored.truncate(n);
        Ok(scored)
    }
}

/// Passes a (stemmed) word through unless it is an English stop word.
fn stop_words() -> TextAnalyzer {
    let b = TextAnalyzer::builder(SimpleTokenizer::default()).dynamic();
    match StopWordFilter::new(Language::English) {
        Some(stop) => b.filter_dynamic(stop).build(),
        None => b.build(),
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

    #[test]
    fn the_vocabulary_parses_with_many_groups_and_refuses_duplicates_and_lone_terms() {
        let groups = parse_vocabulary(VOCABULARY).unwrap();
        assert!(groups.len() >= 150, "{} groups", groups.len());
        assert!(groups.iter().all(|g| g.len() >= 2 && g.iter().all(|t| !t.is_empty())));
        // "falls" and "fall" are one term after analysis.
        let err = parse_vocabulary("falls | found on the floor\nfall | tumble").unwrap_err();
        assert!(err.contains("line 2") && err.contains("line 1"), "{err}");
        assert!(parse_vocabulary("sepsis | blood poisoning\n# a comment\n\nfrailty").unwrap_err().contains("line 4"));
        assert!(parse_vocabulary("sepsis | | septicaemia").unwrap_err().contains("empty"));
        // Phrases keep their words in order, stemmed as the index stems them.
        let pressure = groups.iter().find(|g| g.contains(&stems("pressure ulcers"))).unwrap();
        assert!(pressure.contains(&vec!["bed".to_string(), "sore".to_string()]), "{pressure:?}");
    }

    #[test]
    fn the_vocabulary_is_analysed_as_the_index_analyses_titles() {
        let dir = tempfile::tempdir().unwrap();
        let ix = SearchIndex::open_dir(dir.path()).unwrap();
        let mut tokenizer = ix.index.tokenizer_for_field(ix.fields.title).unwrap();
        for line in VOCABULARY.lines().filter(|l| !l.starts_with('#')) {
            let mut stream = tokenizer.token_stream(line);
            let mut theirs = Vec::new();
            while stream.advance() {
                theirs.push(stream.token().text.clone());
            }
            assert_eq!(stems(line), theirs, "{line}");
        }
    }

    fn pressure_corpus() -> (tempfile::TempDir, SearchIndex) {
        let dir = tempfile::tempdir().unwrap();
        let ix = SearchIndex::open_dir(dir.path()).unwrap();
        ix.upsert(&[
            doc(
                "ulcers",
                "case_study",
                "Pressure ulcers halved on the stroke unit",
                "Skin inspection and repositioning every two hours; grade 2 pressure ulcers halved in a year.",
                &["patient-safety"],
            ),
            doc(
                "bp",
                "case_study",
                "Blood pressure checks on the ward",
                "Lying and standing blood pressure for every patient over 65 on admission to the ward.",
                &["patient-safety"],
            ),
            doc("beds", "project", "Bed occupancy and winter pressures", "Free up beds before winter on every ward.", &["flow"]),
            doc(
                "sepsis",
                "case_study",
                "Sepsis screening in the emergency department",
                "Antibiotics within the hour.",
                &["patient-safety"],
            ),
            doc("dna", "project", "Fewer missed appointments", "Text reminders for outpatient clinics.", &["waiting-times"]),
        ])
        .unwrap();
        (dir, ix)
    }

    fn ranked(ix: &SearchIndex, title: &str, text: &str, weights: Weights) -> Vec<String> {
        let q = SimilarQuery {
            title: title.into(),
            text: text.into(),
            topics: vec!["patient-safety".into()],
            limit: 3,
            weights,
            ..Default::default()
        };
        ix.similar(&q).unwrap().into_iter().map(|h| h.id).collect()
    }

    #[test]
    fn a_bed_sores_draft_finds_pressure_ulcers_through_the_vocabulary() {
        let (_dir, ix) = pressure_corpus();
        let (title, text) = ("Stopping bed sores", "Stop bed sores for people looked after by district nurses");
        let with = ranked(&ix, title, text, Weights::default());
        assert_eq!(with.first().map(String::as_str), Some("ulcers"), "{with:?}");
        // Without the vocabulary only the shared word "bed" (and the topic) count.
        let without = ranked(&ix, title, text, Weights::baseline());
        assert_ne!(without.first().map(String::as_str), Some("ulcers"), "{without:?}");
    }

    fn falls_corpus() -> (tempfile::TempDir, SearchIndex) {
        let dir = tempfile::tempdir().unwrap();
        let ix = SearchIndex::open_dir(dir.path()).unwrap();
        ix.upsert(&[
            doc(
                "falls",
                "case_study",
                "Inpatient falls halved with hourly rounding",
                "Hourly rounding, low beds and bed rails on older people's wards: inpatient falls halved.",
                &["patient-safety"],
            ),
            doc(
                "floor",
                "project",
                "Fewer patients found on the floor",
                "Hourly rounding and low beds for older people on two wards.",
                &["patient-safety"],
            ),
            doc("bp", "case_study", "Blood pressure checks", "Blood pressure for older people in barbershops.", &["prevention"]),
            doc("dna", "project", "Fewer missed appointments", "Text reminders for outpatient clinics.", &["waiting-times"]),
        ])
        .unwrap();
        (dir, ix)
    }

    #[test]
    fn feedback_takes_the_telling_words_of_the_top_items_and_not_the_drafts_own() {
        let (_dir, ix) = falls_corpus();
        let searcher = ix.reader.searcher();
        let top: Vec<DocAddress> = searcher
            .search(
                &TermQuery::new(Term::from_field_text(ix.fields.id, "falls"), IndexRecordOption::Basic),
                &TopDocs::with_limit(1).order_by_score(),
            )
            .unwrap()
            .into_iter()
            .map(|(_, a)| a)
            .collect();
        let own = words("Cut inpatient falls");
        let terms = ix.feedback_terms(&searcher, &top, &own, 4).unwrap();
        let names: Vec<&str> = terms.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(names.len(), 4, "{terms:?}");
        // Strongest first: "halved" (twice, in this item only) before words the
        // item shares with another ("hourly", "rounding", "beds"); nothing of the
        // draft's own, no stop word, nothing every item holds.
        assert!(terms.windows(2).all(|p| p[0].1 >= p[1].1), "{terms:?}");
        assert_eq!(names[0], "halv", "{terms:?}");
        assert!(names.iter().all(|n| ["halv", "hour", "round", "bed", "rail"].contains(n)), "{terms:?}");
        let all = ix.feedback_terms(&searcher, &top, &own, 100).unwrap();
        let score = |w: &str| all.iter().find(|(t, _)| t == w).map(|(_, s)| *s);
        assert!(score("halv") > score("older"), "{all:?}");
    }

    #[test]
    fn feedback_finds_an_item_that_shares_no_word_with_the_draft() {
        let (_dir, ix) = falls_corpus();
        let q = |weights| SimilarQuery { title: "Cut inpatient falls".into(), limit: 3, weights, ..Default::default() };
        let ids = |weights| -> Vec<String> { ix.similar(&q(weights)).unwrap().into_iter().map(|h| h.id).collect() };
        // Only "falls" holds a word of the draft; with feedback, the item on
        // patients found on the floor (hourly rounding, low beds) follows it,
        // above the one that shares only "older people".
        assert_eq!(ids(Weights::baseline()), ["falls"]);
        let feedback = Weights { feedback: 0.5, feedback_docs: 1, feedback_terms: 10, ..Weights::baseline() };
        assert_eq!(ids(feedback), ["falls", "floor", "bp"]);
        // Weight 0 is no feedback at all.
        assert_eq!(ids(Weights { feedback: 0.0, ..feedback }), ["falls"]);
        // Off by default: it did not help on the tuning half (decision 0022).
        assert_eq!(Weights::default().feedback, 0.0);
    }
}
