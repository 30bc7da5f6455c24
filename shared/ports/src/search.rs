//! The full-text index port: the app writes documents to it and searches it;
//! `qnet-search` (tantivy) implements it.

/// A document as the index takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDocument {
    pub id: String,
    /// `case_study`, `resource` or `event`.
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
    pub offset: SearchOffset,
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
    /// Snippets of `text` with the words matching `query` marked.
    fn highlights(&self, text: &str, query: &str) -> Vec<String>;
    /// [`highlights`](TextSearch::highlights) of every text of one answer, in
    /// order; an index may read the query once for all of them.
    fn highlight_all(&self, texts: &[&str], query: &str) -> Vec<Vec<String>> {
        texts.iter().map(|t| self.highlights(t, query)).collect()
    }
}
