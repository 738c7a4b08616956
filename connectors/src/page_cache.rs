//! The pages of a source's last successful harvest, with their validators (`ETag`,
//! `Last-Modified`), so that the next harvest can ask the partner "changed since?" and reuse the
//! stored body on `304 Not Modified`.
//!
//! Layout: `<cache>/<source>/<key>.meta` (JSON: URL, validators, content type, length) and
//! `<key>.body`, the key a hash of the URL. A harvest writes the pages it reads (fetched or
//! reused) into a fresh folder beside the source's, which replaces it only when the harvest
//! lands: so the cache holds exactly the last successful harvest's pages, and a failed harvest
//! leaves it as it was. The cache is only an economy: anything missing, unreadable or
//! inconsistent is no entry (a full fetch), and a write that fails is logged and skipped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// A stored page's validators and what is needed to reuse its body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Entry {
    url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: Option<String>,
    length: u64,
}

impl Entry {
    pub fn new(url: &str, etag: Option<String>, last_modified: Option<String>, content_type: Option<String>, length: usize) -> Entry {
        Entry { url: url.to_owned(), etag, last_modified, content_type, length: length as u64 }
    }
}

/// One harvest's view of a source's cache: reads from the last successful harvest's pages,
/// writes this harvest's pages aside until [`PageCache::commit`].
#[derive(Debug)]
pub(crate) struct PageCache {
    current: PathBuf,
    next: PathBuf,
    committed: bool,
}

/// Tells apart the folders of harvests running at once in one process.
static HARVESTS: AtomicU64 = AtomicU64::new(0);

impl PageCache {
    /// The cache of source `source` under `dir`.
    pub fn begin(dir: &Path, source: &str) -> PageCache {
        let unique = format!("{}-{}", std::process::id(), HARVESTS.fetch_add(1, Ordering::Relaxed));
        PageCache { current: dir.join(source), next: dir.join(format!(".{source}.harvest-{unique}")), committed: false }
    }

    /// The last successful harvest's entry for `url`, if it is whole (its body is there, at its
    /// stated length).
    pub fn lookup(&self, url: &str) -> Option<Entry> {
        let key = key(url);
        let entry: Entry = serde_json::from_slice(&std::fs::read(self.current.join(format!("{key}.meta"))).ok()?).ok()?;
        let length = std::fs::metadata(self.current.join(format!("{key}.body"))).ok()?.len();
        (entry.url == url && entry.length == length && (entry.etag.is_some() || entry.last_modified.is_some())).then_some(entry)
    }

    /// The stored body of an entry from [`PageCache::lookup`]; `None` if it went missing since.
    pub fn body(&self, entry: &Entry) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.current.join(format!("{}.body", key(&entry.url)))).ok()?;
        (bytes.len() as u64 == entry.length).then_some(bytes)
    }

    /// Keeps an unchanged page (a 304) for the next harvest.
    pub fn keep(&self, entry: &Entry) {
        let key = key(&entry.url);
        let result = self.prepare().and_then(|()| {
            for ext in ["meta", "body"] {
                let (from, to) = (self.current.join(format!("{key}.{ext}")), self.next.join(format!("{key}.{ext}")));
                if std::fs::hard_link(&from, &to).is_err() {
                    std::fs::copy(&from, &to)?;
                }
            }
            Ok(())
        });
        self.log(result, &entry.url);
    }

    /// Stores a fetched page that came with a validator.
    pub fn store(&self, entry: &Entry, body: &[u8]) {
        let key = key(&entry.url);
        let result = self.prepare().and_then(|()| {
            std::fs::write(self.next.join(format!("{key}.body")), body)?;
            std::fs::write(self.next.join(format!("{key}.meta")), serde_json::to_vec(entry)?)
        });
        self.log(result, &entry.url);
    }

    /// Makes this harvest's pages the ones the next harvest compares with.
    pub fn commit(mut self) {
        self.committed = true;
        if !self.next.is_dir() {
            // Nothing cacheable was read (no validators): forget the old pages too.
            let _ = std::fs::remove_dir_all(&self.current);
            return;
        }
        let old = self.next.with_extension("old");
        let had_current = std::fs::rename(&self.current, &old).is_ok();
        if let Err(e) = std::fs::rename(&self.next, &self.current) {
            tracing::warn!(cache = %self.current.display(), error = %e, "cannot keep this harvest's pages for conditional requests");
            let _ = std::fs::remove_dir_all(&self.next);
        }
        if had_current {
            let _ = std::fs::remove_dir_all(&old);
        }
    }

    fn prepare(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.next)
    }

    fn log(&self, result: std::io::Result<()>, url: &str) {
        if let Err(e) = result {
            tracing::warn!(%url, cache = %self.next.display(), error = %e, "cannot cache the page; the next harvest fetches it in full");
        }
    }
}

impl Drop for PageCache {
    /// A harvest that did not land leaves the last successful harvest's pages as they were.
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.next);
        }
    }
}

/// A file name for a URL: FNV-1a, 64 bits. Stable across builds (unlike std's hasher), and a
/// collision only costs a full fetch, since the entry names its URL.
fn key(url: &str) -> String {
    let hash = url.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_of_a_landed_harvest_are_found_and_a_failed_one_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let url = "https://partner.example/api?offset=0";
        let entry = Entry::new(url, Some("\"v1\"".into()), None, Some("application/json".into()), 4);
        let first = PageCache::begin(dir.path(), "s");
        assert!(first.lookup(url).is_none());
        first.store(&entry, b"page");
        first.commit();

        let failed = PageCache::begin(dir.path(), "s");
        let found = failed.lookup(url).expect("stored by the landed harvest");
        assert_eq!(failed.body(&found).as_deref(), Some(&b"page"[..]));
        failed.store(&Entry::new(url, Some("\"v2\"".into()), None, None, 5), b"other");
        drop(failed);
        assert_eq!(PageCache::begin(dir.path(), "s").lookup(url).unwrap().etag.as_deref(), Some("\"v1\""));

        // A truncated body is no entry: the next harvest fetches in full.
        std::fs::write(dir.path().join("s").join(format!("{}.body", key(url))), b"pa").unwrap();
        assert!(PageCache::begin(dir.path(), "s").lookup(url).is_none());
        std::fs::write(dir.path().join("s").join(format!("{}.meta", key(url))), b"{not json").unwrap();
        assert!(PageCache::begin(dir.path(), "s").lookup(url).is_none());
    }
}
