//! The full-text index port: the app writes documents to it and searches it;
//! `qnet-search` (tantivy) implements it.

/// A document as the index takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDocument {
    pub id: String,
    /// `case_study`, `resource`, `event` or `project`.
    pub kind: String,
    pub title: String,
    pub body: String,
    pub topics: Vec<String>,
}

/// A search as the index takes it.
#[derive(Debug, Clone, Default)]
pub struct IndexQuery {
    pub text: String,
    pub kind: Option<String>,
    pub topic: Option<String>,
    /// Kinds left out when `kind` is `None` (`project` for the public search:
    /// projects are for signed-in members).
    pub exclude_kinds: Vec<String>,
    pub offset: SearchOffset,
    pub limit: usize,
}

/// A draft to find similar work for (`POST /similar`): more-like-this over the
/// draft's title, text and topics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimilarWorkQuery {
    pub title: String,
    /// The aim, and any summary or problem statement.
    pub text: String,
    pub topics: Vec<String>,
    /// Only these kinds (`case_study`, `project`, …); all when empty.
    pub kinds: Vec<String>,
    /// Leave this document out (the draft itself, once saved).
    pub exclude_id: Option<String>,
    pub limit: usize,
}

/// The deepest a search pages: at most this many results in. Relevance past
/// the first few hundred hits is noise (web search engines stop at about 1,000
/// too), and the index reserves memory for offset + limit hits on every query,
/// so an offset a client chose must never reach it unbounded: one cursor with
/// a huge offset made the process abort on allocation (issue 14).
pub const MAX_SEARCH_OFFSET: usize = 1_000;

/// How many hits to skip: from 0 to [`MAX_SEARCH_OFFSET`], by construction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchOffset(usize);

impl SearchOffset {
    /// `None` above [`MAX_SEARCH_OFFSET`].
    pub fn new(offset: usize) -> Option<SearchOffset> {
        (offset <= MAX_SEARCH_OFFSET).then_some(SearchOffset(offset))
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// The text index the application writes to and searches.
pub trait TextSearch: Send + Sync {
    fn upsert(&self, docs: &[IndexDocument]) -> Result<(), String>;
    fn remove(&self, ids: &[&str]) -> Result<(), String>;
    /// Ids and kinds, best first, and how many matched in all.
    fn search(&self, q: &IndexQuery) -> Result<(Vec<(String, String)>, usize), String>;
    /// Ids and kinds of the documents most like a draft, best first.
    fn similar(&self, q: &SimilarWorkQuery) -> Result<Vec<(String, String)>, String>;
    /// Snippets of `text` with the words matching `query` marked.
    fn highlights(&self, text: &str, query: &str) -> Vec<String>;
    /// [`highlights`](TextSearch::highlights) of every text of one answer, in
    /// order; an index may read the query once for all of them.
    fn highlight_all(&self, texts: &[&str], query: &str) -> Vec<Vec<String>> {
        texts.iter().map(|t| self.highlights(t, query)).collect()
    }
}
