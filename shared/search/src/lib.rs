//! Full-text search over what the network publishes (case studies, resources,
//! events): a tantivy index, relevance-ranked (BM25), tolerant of one typo per
//! word ("frialty" finds "frailty"), with English stemming ("delays" finds
//! "delay"), filtered by kind and topic, paged by offset.
//!
//! The index is disposable: it is built from the table and can be rebuilt at
//! any time. In AWS a function builds it and stores a [`SearchIndex::snapshot`]
//! in S3, and the API loads the newest snapshot ([`SearchIndex::from_snapshot`]);
//! locally the same index lives on disk under the data directory. Answers carry
//! ids only: callers re-read each record, drop anything no longer published, and
//! take highlights from the current text ([`highlights`]), so a stale index can
//! never show withdrawn or edited-out text.

mod similar;
#[doc(hidden)]
pub mod synthetic;
pub use similar::{SimilarQuery, Weights};

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, doc};

/// Writer memory budget: small, as the corpus is (tens of thousands of documents).
const WRITER_BYTES: usize = 30_000_000;
/// Query words considered; the rest are ignored.
const MAX_QUERY_WORDS: usize = 12;

/// One searchable record, and a search: the application's own types.
pub use qnet_ports::{IndexDocument as SearchDoc, IndexQuery as SearchQuery};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub id: String,
    pub kind: String,
    pub score: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hits {
    pub hits: Vec<Hit>,
    /// Matching documents in all.
    pub total: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the search index failed: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("the search index could not be read or written: {0}")]
    Io(#[from] std::io::Error),
    #[error("the snapshot is not a search index: {0}")]
    BadSnapshot(String),
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    kind: Field,
    title: Field,
    body: Field,
    topic: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer("en_stem").set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        title: b.add_text_field("title", text.clone()),
        body: b.add_text_field("body", text),
        topic: b.add_text_field("topic", STRING),
    };
    (b.build(), fields)
}

/// The index, its reader and its (single) writer.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    dir: PathBuf,
}

impl SearchIndex {
    fn wrap(index: Index, dir: &Path) -> Result<SearchIndex, SearchError> {
        let (_, fields) = schema();
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer = index.writer(WRITER_BYTES)?;
        Ok(SearchIndex { index, reader, writer: Mutex::new(writer), fields, dir: dir.to_path_buf() })
    }

    /// The index in `dir`, created when absent.
    pub fn open_dir(dir: &Path) -> Result<SearchIndex, SearchError> {
        std::fs::create_dir_all(dir)?;
        let directory = MmapDirectory::open(dir).map_err(|e| SearchError::Io(std::io::Error::other(e.to_string())))?;
        SearchIndex::wrap(Index::open_or_create(directory, schema().0)?, dir)
    }

    /// Adds or replaces documents (by id) and makes them searchable.
    pub fn upsert(&self, docs: &[SearchDoc]) -> Result<(), SearchError> {
        let f = self.fields;
        let mut w = self.writer.lock().expect("the index writer lock");
        for d in docs {
            w.delete_term(Term::from_field_text(f.id, &d.id));
            let mut doc =
                doc!(f.id => d.id.as_str(), f.kind => d.kind.as_str(), f.title => d.title.as_str(), f.body => d.body.as_str());
            for t in &d.topics {
                doc.add_text(f.topic, t);
            }
            w.add_document(doc)?;
        }
        w.commit()?;
        // Made visible before the lock goes, so whoever takes it next reads
        // every commit made so far (`remove` relies on it).
        self.reader.reload()?;
        drop(w);
        Ok(())
    }

    /// Removes documents by id (withdrawn, rejected, erased).
    pub fn remove(&self, ids: &[&str]) -> Result<(), SearchError> {
        let mut w = self.writer.lock().expect("the index writer lock");
        // Most calls remove what was never indexed (a case study submitted,
        // held or rejected before it was ever published): those need no
        // commit, which would write segment files. Under the lock the reader
        // shows every commit (each reloads before letting go), so an upsert
        // racing this removal is seen; a deleted document not merged away
        // yet still counts, which costs at most a needless commit.
        let searcher = self.reader.searcher();
        let indexed = |id: &&str| searcher.doc_freq(&Term::from_field_text(self.fields.id, id)).map_or(true, |n| n > 0);
        let ids: Vec<&str> = ids.iter().copied().filter(indexed).collect();
        if ids.is_empty() {
            return Ok(());
        }
        for id in ids {
            w.delete_term(Term::from_field_text(self.fields.id, id));
        }
        w.commit()?;
        self.reader.reload()?;
        drop(w);
        Ok(())
    }

    /// Replaces the whole index with `docs` (a rebuild from the table).
    pub fn rebuild(&self, docs: &[SearchDoc]) -> Result<(), SearchError> {
        {
            let mut w = self.writer.lock().expect("the index writer lock");
            w.delete_all_documents()?;
            w.commit()?;
            self.reader.reload()?;
        }
        self.upsert(docs)
    }

    /// Documents in the index.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The words of `text` as the index stores them (lower case, stemmed).
    fn terms(&self, field: Field, text: &str) -> Vec<String> {
        let mut tokenizer = self.index.tokenizer_for_field(field).expect("text fields have a tokenizer");
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token().text.clone();
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out.truncate(MAX_QUERY_WORDS);
        out
    }

    /// Ranked matches. Every word counts (OR), exact matches outrank fuzzy
    /// ones, and title matches outrank body matches.
    pub fn search(&self, q: &SearchQuery) -> Result<Hits, SearchError> {
        let f = self.fields;
        let words = self.terms(f.title, &q.text);
        if words.is_empty() {
            return Ok(Hits { hits: vec![], total: 0 });
        }
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in &words {
            for (field, boost) in [(f.title, 3.0f32), (f.body, 1.0f32)] {
                let term = Term::from_field_text(field, w);
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)), boost * 2.0)),
                ));
                // One edit (a transposition counts as one) for words of four
                // letters or more; shorter words must match exactly.
                if w.chars().count() >= 4 {
                    let distance = if w.chars().count() >= 8 { 2 } else { 1 };
                    should.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(FuzzyTermQuery::new(term, distance, true)), boost)),
                    ));
                }
            }
        }
        let mut must: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        if let Some(kind) = &q.kind {
            must.push((Occur::Must, Box::new(TermQuery::new(Term::from_field_text(f.kind, kind), IndexRecordOption::Basic))));
        } else {
            for kind in &q.exclude_kinds {
                must.push((
                    Occur::MustNot,
                    Box::new(TermQuery::new(Term::from_field_text(f.kind, kind), IndexRecordOption::Basic)),
                ));
            }
        }
        if let Some(topic) = &q.topic {
            must.push((Occur::Must, Box::new(TermQuery::new(Term::from_field_text(f.topic, topic), IndexRecordOption::Basic))));
        }
        let query = BooleanQuery::new(must);
        let searcher = self.reader.searcher();
        let limit = q.limit.clamp(1, 100);
        let (top, total) =
            searcher.search(&query, &(TopDocs::with_limit(limit).and_offset(q.offset.get()).order_by_score(), Count))?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let d: TantivyDocument = searcher.doc(address)?;
            let text = |field: Field| d.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            hits.push(Hit { id: text(f.id), kind: text(f.kind), score });
        }
        Ok(Hits { hits, total })
    }

    /// The index's files as one tar archive (what AWS stores in S3). Holds the
    /// writer lock, so no commit lands halfway through.
    pub fn snapshot(&self) -> Result<Vec<u8>, SearchError> {
        let mut w = self.writer.lock().expect("the index writer lock");
        w.commit()?;
        let mut archive = tar::Builder::new(Vec::new());
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)?.filter_map(|e| e.ok()).collect();
        names.sort_by_key(|e| e.file_name());
        for entry in names {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // Lock files belong to this process, not to the index.
            if name.starts_with(".tantivy") || !entry.file_type()?.is_file() {
                continue;
            }
            archive.append_path_with_name(entry.path(), name.as_ref())?;
        }
        drop(w);
        Ok(archive.into_inner()?)
    }

    /// An index read from a [`snapshot`](SearchIndex::snapshot), unpacked into `dir`.
    pub fn from_snapshot(bytes: &[u8], dir: &Path) -> Result<SearchIndex, SearchError> {
        std::fs::create_dir_all(dir)?;
        let mut archive = tar::Archive::new(bytes);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let path = entry.path()?.into_owned();
            if path.components().any(|c| !matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir)) {
                return Err(SearchError::BadSnapshot(format!("unsafe path {}", path.display())));
            }
            if entry.header().entry_type().is_file() {
                let mut data = Vec::new();
                entry.read_to_end(&mut data)?;
                std::fs::write(dir.join(&path), data)?;
            }
        }
        let directory = MmapDirectory::open(dir).map_err(|e| SearchError::Io(std::io::Error::other(e.to_string())))?;
        let index = Index::open(directory).map_err(|e| SearchError::BadSnapshot(e.to_string()))?;
        SearchIndex::wrap(index, dir)
    }
}

/// Characters of context on each side of a highlighted word.
const CONTEXT: usize = 60;
/// Snippets per field.
const MAX_SNIPPETS: usize = 3;
/// How much of a text highlighting reads at most.
const HIGHLIGHT_SCAN_BYTES: usize = 20_000;

impl SearchIndex {
    /// Snippets of `text` around the words that match `query` (as the search
    /// matches them: stemmed, one or two typos allowed), HTML-escaped, with each
    /// matching word in `<mark>…</mark>`. Callers pass the record's current
    /// text, so highlights never show text that has been edited out.
    pub fn highlights(&self, text: &str, query: &str) -> Vec<String> {
        self.highlight_all(&[text], query).pop().unwrap_or_default()
    }

    /// [`highlights`](SearchIndex::highlights) for every text of one answer:
    /// the query is read once, and each distinct word of the texts is compared
    /// with it once (prose repeats its words, so most are a map lookup).
    pub fn highlight_all(&self, texts: &[&str], query: &str) -> Vec<Vec<String>> {
        let words = self.query_words(query);
        if words.is_empty() {
            return texts.iter().map(|_| Vec::new()).collect();
        }
        let mut seen: Seen = Seen::default();
        let mut lower = String::new();
        texts.iter().map(|text| snippets(text, &words, &mut seen, &mut lower)).collect()
    }

    /// The query's words as the index stores them (stemmed), and raw (lower
    /// case): a typo in a word the stemmer changes ("frialty" → "frialti") is
    /// then still one edit from the text's word.
    fn query_words(&self, query: &str) -> Vec<QueryWord> {
        let mut words = self.terms(self.fields.title, query);
        if words.is_empty() {
            return vec![];
        }
        for raw in query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(MAX_QUERY_WORDS) {
            let raw = raw.to_lowercase();
            if !words.contains(&raw) {
                words.push(raw);
            }
        }
        words.into_iter().map(QueryWord::new).collect()
    }
}

/// Whether each distinct word of an answer's texts matches the query. foldhash:
/// seeded per process, and several times cheaper than SipHash on short words.
type Seen<'t> = foldhash::HashMap<&'t str, bool>;

/// A query word with its length and typo allowance worked out once.
struct QueryWord {
    text: String,
    chars: usize,
    allowed: usize,
}

impl QueryWord {
    fn new(text: String) -> QueryWord {
        let chars = text.chars().count();
        let allowed = if chars >= 8 {
            2
        } else if chars >= 4 {
            1
        } else {
            0
        };
        QueryWord { text, chars, allowed }
    }

    /// A text word (lower case) matches: equal, the stem as a prefix ("delay"
    /// in "delays"), or within the typo allowance, as the fuzzy query does.
    fn matches(&self, word: &str, word_chars: usize) -> bool {
        word == self.text
            || (self.chars >= 4 && word.starts_with(self.text.as_str()))
            || (self.allowed > 0
                && word_chars.abs_diff(self.chars) <= self.allowed
                && edit_distance_capped(word, &self.text, self.allowed) <= self.allowed)
    }
}

/// The snippets of one text. The text's words are compared raw (lower case)
/// with the query words, which is cheaper than stemming the text and marks the
/// same words; `seen` remembers each distinct word's answer. Only the first
/// part of a long text is read, and only until there are enough matches for
/// the snippets shown.
fn snippets<'t>(text: &'t str, words: &[QueryWord], seen: &mut Seen<'t>, lower: &mut String) -> Vec<String> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let limit = floor_char(text, text.len().min(HIGHLIGHT_SCAN_BYTES));
    let mut start: Option<usize> = None;
    for (i, c) in text[..limit].char_indices().chain(std::iter::once((limit, ' '))) {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
            continue;
        }
        let Some(from) = start.take() else { continue };
        let word = &text[from..i];
        let hit = match seen.get(word) {
            Some(&hit) => hit,
            None => {
                lower.clear();
                if word.is_ascii() {
                    lower.push_str(word);
                    lower.make_ascii_lowercase();
                } else {
                    lower.extend(word.chars().flat_map(char::to_lowercase));
                }
                let chars = lower.chars().count();
                let hit = words.iter().any(|w| w.matches(lower, chars));
                seen.insert(word, hit);
                hit
            }
        };
        if hit {
            spans.push((from, i));
            if spans.len() >= MAX_SNIPPETS * 4 {
                break;
            }
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < spans.len() && out.len() < MAX_SNIPPETS {
        let start = floor_char(text, spans[i].0.saturating_sub(CONTEXT));
        let mut end = ceil_char(text, (spans[i].1 + CONTEXT).min(text.len()));
        let mut j = i;
        // Later matches inside this window join the same snippet.
        while j + 1 < spans.len() && spans[j + 1].0 < end {
            j += 1;
            end = ceil_char(text, (spans[j].1 + CONTEXT).min(text.len()).max(end));
        }
        let mut s = String::new();
        if start > 0 {
            s.push('…');
        }
        let mut at = start;
        for &(a, b) in &spans[i..=j] {
            push_escaped(&mut s, &text[at..a]);
            s.push_str("<mark>");
            push_escaped(&mut s, &text[a..b]);
            s.push_str("</mark>");
            at = b;
        }
        push_escaped(&mut s, &text[at..end]);
        if end < text.len() {
            s.push('…');
        }
        s.truncate(s.trim_end().len());
        out.push(s);
        i = j + 1;
    }
    out
}

/// HTML-escapes `text` onto `out`, with every run of white space as one space.
fn push_escaped(out: &mut String, text: &str) {
    let mut space = out.ends_with(' ') || out.is_empty();
    for c in text.chars() {
        if c.is_whitespace() {
            if !space {
                out.push(' ');
                space = true;
            }
            continue;
        }
        space = false;
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// A stored word matches a query word as the fuzzy query does: exactly, or
/// within one edit for words of 4+ letters, two for 8+ (a transposition is one).
#[cfg(test)]
fn matches_word(word: &str, query: &str) -> bool {
    if word == query {
        return true;
    }
    let n = query.chars().count();
    let allowed = if n >= 8 {
        2
    } else if n >= 4 {
        1
    } else {
        0
    };
    allowed > 0 && edit_distance_capped(word, query, allowed) <= allowed
}

/// Optimal string alignment distance (Levenshtein plus adjacent
/// transpositions), capped: anything above `cap` answers `cap + 1`. Three rows
/// on the stack for the short words of prose; no allocation.
fn edit_distance_capped(a: &str, b: &str, cap: usize) -> usize {
    const MAX: usize = 48;
    let (mut ab, mut bb) = ([0u32; MAX], [0u32; MAX]);
    let (mut n, mut m) = (0, 0);
    for c in a.chars() {
        if n == MAX {
            return cap + 1;
        }
        ab[n] = c as u32;
        n += 1;
    }
    for c in b.chars() {
        if m == MAX {
            return cap + 1;
        }
        bb[m] = c as u32;
        m += 1;
    }
    if n.abs_diff(m) > cap {
        return cap + 1;
    }
    let (mut prev2, mut prev, mut cur) = ([0usize; MAX + 1], [0usize; MAX + 1], [0usize; MAX + 1]);
    for (j, p) in prev.iter_mut().enumerate().take(m + 1) {
        *p = j;
    }
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = usize::from(ab[i - 1] != bb[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && ab[i - 1] == bb[j - 2] && ab[i - 2] == bb[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > cap {
            return cap + 1;
        }
        prev2 = prev;
        prev = cur;
    }
    prev[m]
}

#[cfg(test)]
fn edit_distance(a: &str, b: &str) -> usize {
    edit_distance_capped(a, b, 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, kind: &str, title: &str, body: &str, topics: &[&str]) -> SearchDoc {
        SearchDoc {
            id: id.into(),
            kind: kind.into(),
            title: title.into(),
            body: body.into(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn corpus(dir: &Path) -> SearchIndex {
        let ix = SearchIndex::open_dir(dir).unwrap();
        ix.upsert(&[
            doc(
                "cs1",
                "case_study",
                "Frailty assessment in the emergency department",
                "We screened every patient over 75 for frailty.",
                &["frailty"],
            ),
            doc("cs2", "case_study", "Discharge before noon", "Delays on the ward fell after a morning board round.", &["flow"]),
            doc(
                "r1",
                "resource",
                "Run chart template",
                "A spreadsheet that draws a run chart and marks shifts.",
                &["measurement"],
            ),
            doc("e1", "event", "Frailty network workshop", "A half-day workshop on frailty pathways.", &["frailty"]),
        ])
        .unwrap();
        ix
    }

    fn ids(h: &Hits) -> Vec<&str> {
        h.hits.iter().map(|h| h.id.as_str()).collect()
    }

    fn q(text: &str) -> SearchQuery {
        SearchQuery { text: text.into(), limit: 10, ..Default::default() }
    }

    #[test]
    fn excluded_kinds_are_left_out_of_unfiltered_searches_only() {
        let dir = tempfile::tempdir().unwrap();
        let ix = corpus(dir.path());
        ix.upsert(&[doc("p1", "project", "Frailty at the front door", "Screen for frailty in ED.", &["frailty"])]).unwrap();
        assert!(ids(&ix.search(&q("frailty")).unwrap()).contains(&"p1"));
        let public = SearchQuery { exclude_kinds: vec!["project".into()], ..q("frailty") };
        let h = ix.search(&public).unwrap();
        assert!(!ids(&h).contains(&"p1") && h.total == 2, "{:?}", ids(&h));
        // The similar-work port answers ids and kinds, best first.
        let draft = qnet_ports::SimilarWorkQuery {
            title: "Frailty screening at the front door".into(),
            kinds: vec!["project".into()],
            limit: 5,
            ..Default::default()
        };
        let found = qnet_ports::TextSearch::similar(&ix, &draft).unwrap();
        assert_eq!(found, [("p1".to_string(), "project".to_string())]);
    }

    #[test]
    fn ranks_by_relevance_with_typos_and_stems() {
        let dir = tempfile::tempdir().unwrap();
        let ix = corpus(dir.path());
        assert_eq!(ix.len(), 4);
        let h = ix.search(&q("frailty")).unwrap();
        assert_eq!(h.total, 2);
        assert!(ids(&h).contains(&"cs1") && ids(&h).contains(&"e1"));
        assert_eq!(ix.search(&q("frialty")).unwrap().total, 2, "a transposition is one typo");
        assert_eq!(ids(&ix.search(&q("delay")).unwrap()), ["cs2"], "stemmed: delays");
        assert_eq!(ids(&ix.search(&q("run charts")).unwrap())[0], "r1");
        assert_eq!(ix.search(&q("astrology")).unwrap().total, 0);
        assert_eq!(ix.search(&q("  ")).unwrap().total, 0);
        // A title match outranks a body-only match.
        ix.upsert(&[doc("cs3", "case_study", "Ward rounds", "Notes on discharge.", &[])]).unwrap();
        assert_eq!(ids(&ix.search(&q("discharge")).unwrap())[0], "cs2");
    }

    #[test]
    fn filters_pages_replaces_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let ix = corpus(dir.path());
        let by_kind = ix.search(&SearchQuery { kind: Some("event".into()), ..q("frailty") }).unwrap();
        assert_eq!(ids(&by_kind), ["e1"]);
        let by_topic = ix.search(&SearchQuery { topic: Some("flow".into()), ..q("frailty discharge") }).unwrap();
        assert_eq!(ids(&by_topic), ["cs2"]);
        let first = ix.search(&SearchQuery { limit: 1, ..q("frailty") }).unwrap();
        let second =
            ix.search(&SearchQuery { limit: 1, offset: qnet_ports::SearchOffset::new(1).unwrap(), ..q("frailty") }).unwrap();
        assert_eq!(first.total, 2);
        assert_ne!(ids(&first), ids(&second));
        ix.upsert(&[doc("cs1", "case_study", "Falls prevention", "Hourly rounding.", &[])]).unwrap();
        assert_eq!(ix.len(), 4, "an upsert replaces");
        assert_eq!(ids(&ix.search(&q("frailty")).unwrap()), ["e1"]);
        ix.remove(&["e1"]).unwrap();
        assert_eq!(ix.search(&q("frailty")).unwrap().total, 0);
        ix.remove(&["never-indexed"]).unwrap();
        assert_eq!(ix.len(), 3, "removing what is not there changes nothing");
        ix.remove(&["never-indexed", "cs2"]).unwrap();
        assert_eq!(ix.len(), 2, "the indexed one of several goes");
        assert_eq!(ix.search(&q("discharge")).unwrap().total, 0);
        ix.rebuild(&[doc("x", "resource", "Frailty toolkit", "", &[])]).unwrap();
        assert_eq!(ix.len(), 1);
    }

    #[test]
    fn a_snapshot_restores_the_same_index() {
        let dir = tempfile::tempdir().unwrap();
        let ix = corpus(&dir.path().join("a"));
        let bytes = ix.snapshot().unwrap();
        let copy = SearchIndex::from_snapshot(&bytes, &dir.path().join("b")).unwrap();
        assert_eq!(copy.len(), 4);
        assert_eq!(copy.search(&q("frialty")).unwrap().total, 2);
        assert!(SearchIndex::from_snapshot(b"not a tar archive at all", &dir.path().join("c")).is_err());
    }

    #[test]
    fn highlights_mark_matches_in_the_current_text() {
        let dir = tempfile::tempdir().unwrap();
        let ix = corpus(dir.path());
        let text =
            "Before the project, <b>frailty</b> screening was patchy. After it, every patient over 75 had a Frailty score.";
        let h = ix.highlights(text, "frialty");
        assert_eq!(h.len(), 2, "{h:?}");
        assert!(h[0].contains("<mark>frailty</mark>") && h[1].contains("<mark>Frailty</mark>"), "{h:?}");
        let near = ix.highlights("frailty and frailty again", "frailty");
        assert_eq!(near, ["<mark>frailty</mark> and <mark>frailty</mark> again"], "close matches share a snippet");
        assert!(h[0].contains("&lt;b&gt;"), "the rest is escaped: {h:?}");
        assert!(ix.highlights("Nothing relevant here.", "frailty").is_empty());
        let long = format!("{} frailty {}", "x ".repeat(200), "y ".repeat(200));
        let h = ix.highlights(&long, "frailty");
        assert!(h[0].starts_with('…') && h[0].ends_with('…') && h[0].len() < 200, "{h:?}");
        assert!(!ix.highlights("Délais réduits à l'hôpital, frailty é", "frailty")[0].is_empty(), "multibyte text");
    }

    #[test]
    fn highlight_all_answers_each_text_as_alone() {
        let dir = tempfile::tempdir().unwrap();
        let ix = corpus(dir.path());
        let texts = [
            "  Frailty\n\tscreening   in the ED.  ",
            "Nothing relevant here.",
            "Screenings for FRAILTY and delays; frailty again.",
        ];
        let all = ix.highlight_all(&texts, "frialty screening");
        assert_eq!(all.len(), 3);
        for (text, h) in texts.iter().zip(&all) {
            assert_eq!(&ix.highlights(text, "frialty screening"), h, "{text}");
        }
        assert_eq!(all[0], ["<mark>Frailty</mark> <mark>screening</mark> in the ED."], "white space collapsed and trimmed");
        assert!(all[1].is_empty());
        assert_eq!(all[2], ["<mark>Screenings</mark> for <mark>FRAILTY</mark> and delays; <mark>frailty</mark> again."]);
    }

    #[test]
    fn edit_distance_counts_transpositions_as_one() {
        assert_eq!(edit_distance("frailty", "frialty"), 1);
        assert_eq!(edit_distance("flow", "flwo"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert!(!matches_word("run", "ran"), "short words must match exactly");
        assert!(matches_word("pathway", "pathwya"));
    }
}

/// The application's view of the index.
impl qnet_ports::TextSearch for SearchIndex {
    fn upsert(&self, docs: &[SearchDoc]) -> Result<(), String> {
        SearchIndex::upsert(self, docs).map_err(|e| e.to_string())
    }
    fn remove(&self, ids: &[&str]) -> Result<(), String> {
        SearchIndex::remove(self, ids).map_err(|e| e.to_string())
    }
    fn search(&self, q: &SearchQuery) -> Result<(Vec<(String, String)>, usize), String> {
        let hits = SearchIndex::search(self, q).map_err(|e| e.to_string())?;
        Ok((hits.hits.into_iter().map(|h| (h.id, h.kind)).collect(), hits.total))
    }
    fn similar(&self, q: &qnet_ports::SimilarWorkQuery) -> Result<Vec<(String, String)>, String> {
        let q = SimilarQuery {
            title: q.title.clone(),
            text: q.text.clone(),
            topics: q.topics.clone(),
            kinds: q.kinds.clone(),
            exclude_id: q.exclude_id.clone(),
            limit: q.limit,
            weights: Weights::default(),
        };
        let hits = SearchIndex::similar(self, &q).map_err(|e| e.to_string())?;
        Ok(hits.into_iter().map(|h| (h.id, h.kind)).collect())
    }
    fn highlights(&self, text: &str, query: &str) -> Vec<String> {
        SearchIndex::highlights(self, text, query)
    }
    fn highlight_all(&self, texts: &[&str], query: &str) -> Vec<Vec<String>> {
        SearchIndex::highlight_all(self, texts, query)
    }
}

mod serving;

pub use serving::{LazySearch, SnapshotPointer, SwappableIndex, build_and_publish, load_latest, spawn_refresher, startup_index};
