//! The audit log: who read which CONTROLLED or STEWARD fields of which dataset, when, vouched for
//! by which issuer, and whether a grant was used.
//!
//! Reads are noted during a request in an [`AuditCollector`] (the gateway puts one in each
//! request's data) and appended once at the end ([`AuditLog::append`]): one JSON line per dataset
//! read, the batch flushed and fsynced before the response leaves. The file is append-only; a torn
//! last line (a crash mid-write) is skipped with a warning when the log is opened, and the next
//! batch starts on a fresh line. Entries are addressed by line number, so positions (and cursors)
//! stay valid across restarts.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};

use crate::access::Principal;

/// One read noted during a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub dataset: Option<String>,
    pub field: String,
    pub grant_used: bool,
}

/// The reads of one request, collected as fields resolve. Cheap to clone (shared inside).
#[derive(Debug, Clone, Default)]
pub struct AuditCollector(Arc<Mutex<Vec<Read>>>);

impl AuditCollector {
    pub fn new() -> AuditCollector {
        AuditCollector::default()
    }

    pub(crate) fn note(&self, dataset: Option<&str>, field: &str, grant_used: bool) {
        self.0.lock().expect("audit collector lock").push(Read { dataset: dataset.map(str::to_owned), field: field.to_owned(), grant_used });
    }

    /// The reads so far, leaving the collector empty.
    pub fn take(&self) -> Vec<Read> {
        std::mem::take(&mut *self.0.lock().expect("audit collector lock"))
    }
}

/// One line of the log, and the `AuditRecord` GraphQL shows stewards: a caller's reads of
/// CONTROLLED or STEWARD fields of one dataset in one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "AuditRecord")]
pub struct AuditEntry {
    /// The line number in the log (1-based): the entry's stable position across restarts. Not
    /// stored.
    #[serde(skip)]
    pub position: u64,
    /// When (xsd:dateTime, UTC).
    pub at: String,
    pub subject: Option<String>,
    /// The token issuer (or `api-key`) that vouched for the caller.
    pub issuer: Option<String>,
    /// The caller's tier at the time.
    pub tier: String,
    /// The dataset read, or none for fields outside a dataset.
    pub dataset: Option<String>,
    /// The fields read (GraphQL names), each once.
    pub fields: Vec<String>,
    /// Whether a CONTROLLED field was read under a grant for the dataset.
    pub grant_used: bool,
    /// For a process step (not a read): what was done, e.g. `accessRequest.approve` (see
    /// [`crate::process`]). Absent on reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The access request, grant or outcome the step was on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// The transition's id in the store: how the log is reconciled with the store at start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<String>,
    /// Why (the reviewer's comment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("audit log {path}: {message}")]
pub struct AuditError {
    pub path: String,
    pub message: String,
}

/// The append-only log; in memory only when it has no file (tests, tools).
#[derive(Debug)]
pub struct AuditLog {
    path: Option<PathBuf>,
    file: Mutex<Option<File>>,
    entries: RwLock<Vec<AuditEntry>>,
    /// The next line number.
    next_line: Mutex<u64>,
}

impl AuditLog {
    pub fn in_memory() -> AuditLog {
        AuditLog { path: None, file: Mutex::new(None), entries: RwLock::new(Vec::new()), next_line: Mutex::new(1) }
    }

    /// Opens (or creates) the log at `path`. Returns the warnings about lines it skipped (a torn
    /// last line after a crash, or a line that is not an entry).
    pub fn open(path: &Path) -> Result<(AuditLog, Vec<String>), AuditError> {
        let err = |e: std::io::Error| AuditError { path: path.display().to_string(), message: e.to_string() };
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path).map_err(err)?;
        let mut text = Vec::new();
        file.read_to_end(&mut text).map_err(err)?;
        let mut warnings = Vec::new();
        let mut entries = Vec::new();
        let torn = !text.is_empty() && !text.ends_with(b"\n");
        let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
        let count = if text.is_empty() { 0 } else if torn { lines.len() } else { lines.len() - 1 };
        for (i, line) in lines.iter().take(count).enumerate() {
            let number = i as u64 + 1;
            if torn && i + 1 == count {
                warnings.push(format!("{}:{number}: torn last line (an interrupted write) skipped", path.display()));
                continue;
            }
            match serde_json::from_slice::<AuditEntry>(line) {
                Ok(mut entry) => {
                    entry.position = number;
                    entries.push(entry);
                }
                Err(e) => warnings.push(format!("{}:{number}: not an audit entry ({e}); skipped", path.display())),
            }
        }
        if torn {
            // The next batch starts on its own line; the torn bytes stay, skipped on every read.
            file.write_all(b"\n").and_then(|()| file.sync_data()).map_err(err)?;
        }
        file.seek(SeekFrom::End(0)).map_err(err)?;
        let log = AuditLog {
            path: Some(path.to_owned()),
            file: Mutex::new(Some(file)),
            entries: RwLock::new(entries),
            next_line: Mutex::new(count as u64 + 1),
        };
        Ok((log, warnings))
    }

    /// Appends one request's reads for `principal` (one entry per dataset) and syncs them to disk
    /// before returning. Nothing to append, nothing written.
    pub fn append(&self, principal: &Principal, reads: Vec<Read>) -> Result<(), AuditError> {
        if reads.is_empty() {
            return Ok(());
        }
        let at = musubi_ontology::now().to_string();
        let mut by_dataset: BTreeMap<Option<String>, (Vec<String>, bool)> = BTreeMap::new();
        for read in reads {
            let (fields, grant) = by_dataset.entry(read.dataset).or_default();
            if !fields.contains(&read.field) {
                fields.push(read.field);
            }
            *grant |= read.grant_used;
        }
        let mut next_line = self.next_line.lock().expect("audit line lock");
        let mut batch = Vec::new();
        let mut new_entries = Vec::new();
        for (i, (dataset, (mut fields, grant_used))) in by_dataset.into_iter().enumerate() {
            fields.sort();
            let entry = AuditEntry {
                position: *next_line + i as u64,
                at: at.clone(),
                subject: principal.subject.clone(),
                issuer: principal.issuer.clone(),
                tier: principal.tier.name().to_owned(),
                dataset,
                fields,
                grant_used,
                action: None,
                record: None,
                transition: None,
                comment: None,
            };
            serde_json::to_writer(&mut batch, &entry).expect("audit entries serialise");
            batch.push(b'\n');
            new_entries.push(entry);
        }
        self.write_batch(&mut next_line, batch, new_entries)
    }

    /// Appends entries made elsewhere (process steps, see [`crate::process`]), synced to disk
    /// before returning. Their positions are assigned here.
    pub fn append_entries(&self, entries: Vec<AuditEntry>) -> Result<(), AuditError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut next_line = self.next_line.lock().expect("audit line lock");
        let mut batch = Vec::new();
        let mut new_entries = Vec::new();
        for (i, mut entry) in entries.into_iter().enumerate() {
            entry.position = *next_line + i as u64;
            serde_json::to_writer(&mut batch, &entry).expect("audit entries serialise");
            batch.push(b'\n');
            new_entries.push(entry);
        }
        self.write_batch(&mut next_line, batch, new_entries)
    }

    fn write_batch(&self, next_line: &mut u64, batch: Vec<u8>, new_entries: Vec<AuditEntry>) -> Result<(), AuditError> {
        if let Some(file) = self.file.lock().expect("audit file lock").as_mut() {
            let path = self.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
            file.write_all(&batch)
                .and_then(|()| file.sync_data())
                .map_err(|e| AuditError { path, message: format!("cannot append: {e}") })?;
        }
        *next_line += new_entries.len() as u64;
        self.entries.write().expect("audit entries lock").extend(new_entries);
        Ok(())
    }

    /// The transition ids the log already records (for reconciling with the store at start).
    pub fn transitions(&self) -> std::collections::HashSet<String> {
        self.entries.read().expect("audit entries lock").iter().filter_map(|e| e.transition.clone()).collect()
    }

    /// Entries after position `after` that `keep` accepts, in log order: at most `first`, and how
    /// many match in all.
    pub fn page(&self, after: u64, first: usize, keep: impl Fn(&AuditEntry) -> bool) -> (Vec<AuditEntry>, usize, bool) {
        let entries = self.entries.read().expect("audit entries lock");
        let matching: Vec<&AuditEntry> = entries.iter().filter(|e| keep(e)).collect();
        let start = matching.partition_point(|e| e.position <= after);
        let page: Vec<AuditEntry> = matching[start..].iter().take(first).map(|e| (*e).clone()).collect();
        let has_next = start + page.len() < matching.len();
        (page, matching.len(), has_next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use musubi_ontology::tier::Tier;

    fn steward() -> Principal {
        Principal {
            tier: Tier::Steward,
            grants: Default::default(),
            subject: Some("dac-member-1".to_owned()),
            issuer: Some("https://idp.example".to_owned()),
        }
    }

    fn read(dataset: &str, field: &str) -> Read {
        Read { dataset: Some(dataset.to_owned()), field: field.to_owned(), grant_used: false }
    }

    #[test]
    fn entries_survive_reopening_and_a_torn_last_line_is_skipped_with_a_warning() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        let (log, warnings) = AuditLog::open(&path).expect("opens");
        assert!(warnings.is_empty());
        log.append(&steward(), vec![read("JGAD000001", "sampleAttributes"), read("JGAD000001", "downloadUrls"), read("JGAD000002", "internalIds")])
            .expect("appends");
        drop(log);

        // A crash in the middle of the next write.
        let mut file = OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(br#"{"at":"2026-11-25T10:00:00Z","subject":"x","#).expect("write");
        drop(file);

        let (log, warnings) = AuditLog::open(&path).expect("reopens");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("audit.jsonl:3") && warnings[0].contains("torn"), "{warnings:?}");
        let (entries, total, _) = log.page(0, 10, |_| true);
        assert_eq!(total, 2);
        assert_eq!(entries[0].dataset.as_deref(), Some("JGAD000001"));
        assert_eq!(entries[0].fields, ["downloadUrls", "sampleAttributes"]);
        assert_eq!(entries[0].subject.as_deref(), Some("dac-member-1"));
        assert_eq!(entries[0].issuer.as_deref(), Some("https://idp.example"));

        // Appending after the torn line starts a fresh line; positions go on from there.
        log.append(&steward(), vec![read("JGAD000003", "draft")]).expect("appends");
        drop(log);
        let (log, warnings) = AuditLog::open(&path).expect("reopens");
        assert_eq!(warnings.len(), 1, "the torn line is still skipped, nothing else: {warnings:?}");
        let (entries, total, _) = log.page(2, 10, |_| true);
        assert_eq!((total, entries.len()), (3, 1));
        assert_eq!((entries[0].position, entries[0].dataset.as_deref()), (4, Some("JGAD000003")));
    }
}
