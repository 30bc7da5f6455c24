//! The published lists' pages, kept as the JSON they were answered with.
//!
//! Why: a page of the public list is read far more often than the lists
//! change, and most of a list request's work was reading twenty entries and
//! writing them out as JSON again (issue 24). A page is kept with the store's
//! change mark ([`qnet_ports::RecordStore::change_mark`]) from before it was
//! read; any commit since (a publication, an edit, an organisation renamed,
//! by this process or another) moves the mark, and the first request to see
//! the new mark empties the cache. A store without a mark (DynamoDB) keeps
//! nothing here, so a Lambda container never answers from an old page.
//!
//! The published lists' entries never expire (no TTL), so a page's contents
//! depend on the stored items alone, not on the clock. The organisation names
//! joined into a page come from the directory's copy, which is itself current
//! exactly while the mark has not moved (`members/organisations.rs`).

use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use lru::LruCache;

/// At most this many pages, least recently used first out.
const MAX_PAGES: usize = 2048;
/// And at most this many bytes of JSON (a page of 20 is about 12 KB, of 100
/// about 60 KB).
const MAX_BYTES: usize = 32 << 20;

#[derive(Debug)]
pub(crate) struct PageCache {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    mark: Option<u64>,
    bytes: usize,
    pages: LruCache<String, Bytes>,
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache {
            inner: Mutex::new(Inner {
                mark: None,
                bytes: 0,
                pages: LruCache::new(NonZeroUsize::new(MAX_PAGES).expect("non-zero")),
            }),
        }
    }
}

impl PageCache {
    /// The page kept under `key` at the store's `mark`, if any. A new mark
    /// empties the cache first: everything in it was read before that commit.
    pub(crate) fn get(&self, mark: u64, key: &str) -> Option<Bytes> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.mark != Some(mark) {
            inner.pages.clear();
            inner.bytes = 0;
            inner.mark = Some(mark);
            return None;
        }
        inner.pages.get(key).cloned()
    }

    /// Keeps `page`, read after the store showed `mark`, unless the cache has
    /// moved on to another mark meanwhile (another request saw a later commit).
    /// A page read across a commit is kept under the mark from before it,
    /// which is safe: it holds at least everything committed before that mark.
    pub(crate) fn put(&self, mark: u64, key: String, page: Bytes) {
        if page.len() > MAX_BYTES / 8 {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.mark != Some(mark) {
            return;
        }
        inner.bytes += page.len();
        if let Some((_, old)) = inner.pages.push(key, page) {
            inner.bytes -= old.len();
        }
        while inner.bytes > MAX_BYTES {
            match inner.pages.pop_lru() {
                Some((_, old)) => inner.bytes -= old.len(),
                None => break,
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().unwrap().pages.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_kept_until_the_mark_moves() {
        let cache = PageCache::default();
        assert_eq!(cache.get(1, "a"), None);
        cache.put(1, "a".into(), Bytes::from_static(b"[1]"));
        assert_eq!(cache.get(1, "a"), Some(Bytes::from_static(b"[1]")));
        assert_eq!(cache.get(2, "a"), None, "a commit since empties the cache");
        assert_eq!(cache.len(), 0);
        // A page read before the store moved on is not kept as current.
        cache.put(1, "a".into(), Bytes::from_static(b"[1]"));
        assert_eq!(cache.get(2, "a"), None);
    }

    #[test]
    fn it_keeps_to_its_byte_budget() {
        let cache = PageCache::default();
        cache.get(7, "");
        let page = Bytes::from(vec![b' '; MAX_BYTES / 16]);
        for n in 0..40 {
            cache.put(7, format!("p{n}"), page.clone());
        }
        assert_eq!(cache.len(), 16);
        assert_eq!(cache.get(7, "p0"), None, "the least recently used went first");
        assert!(cache.get(7, "p39").is_some());
        cache.put(7, "p39".into(), page.clone());
        assert_eq!(cache.inner.lock().unwrap().bytes, 16 * page.len(), "a replaced page is not counted twice");
    }
}
