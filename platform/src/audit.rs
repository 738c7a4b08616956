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
use std::io::{BufRead, BufReader, Read as _, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};

use crate::principal::Principal;

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

    /// A read of `field` of `dataset`, which a grant opened or not.
    pub fn note(&self, dataset: Option<&str>, field: &str, grant_used: bool) {
        self.0.lock().expect("audit collector lock").push(Read { dataset: dataset.map(str::to_owned), field: field.to_owned(), grant_used });
    }

    /// A read of a field of no dataset (so no grant opened it): the hub's own, such as `auditLog`.
    pub fn note_hub_field(&self, field: &str) {
        self.note(None, field, false);
    }

    /// The reads so far, leaving the collector empty.
    pub fn take(&self) -> Vec<Read> {
        std::mem::take(&mut *self.0.lock().expect("audit collector lock"))
    }
}

/// One line of the log (GraphQL shows it to stewards as `AuditRecord`): a caller's reads of
/// CONTROLLED or STEWARD fields of one dataset in one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    /// [`crate::ledger`]). Absent on reads.
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

/// The append-only log. With a file, entries are read from it when asked (a page at a time):
/// memory holds only a checkpoint every [`CHECKPOINT`] lines, the counts, and the transition ids
/// of process steps; without a file (tests, tools), entries are kept in memory.
#[derive(Debug)]
pub struct AuditLog {
    path: Option<PathBuf>,
    state: Mutex<LogState>,
    /// The entries of a log without a file.
    memory: RwLock<Vec<AuditEntry>>,
}

/// Lines between two checkpoints: a page read skips at most this many lines before its first.
const CHECKPOINT: u64 = 1024;

#[derive(Debug)]
struct LogState {
    file: Option<File>,
    /// The next line number.
    next_line: u64,
    /// The byte offset of lines 1, 1 + CHECKPOINT, 1 + 2·CHECKPOINT, …
    checkpoints: Vec<u64>,
    /// The end of the last whole line: what readers may read.
    len: u64,
    /// How many lines are entries (the unfiltered total).
    entries: u64,
    /// The transition ids the log records (process steps: few).
    transitions: std::collections::HashSet<String>,
}

impl LogState {
    fn new(file: Option<File>) -> LogState {
        LogState { file, next_line: 1, checkpoints: Vec::new(), len: 0, entries: 0, transitions: Default::default() }
    }

    /// A line of `bytes` (its newline included) begins at the end; `entry`: what it holds.
    fn line(&mut self, bytes: u64, entry: Option<&AuditEntry>) {
        if (self.next_line - 1).is_multiple_of(CHECKPOINT) {
            self.checkpoints.push(self.len);
        }
        self.len += bytes;
        self.next_line += 1;
        if let Some(e) = entry {
            self.entries += 1;
            if let Some(t) = &e.transition {
                self.transitions.insert(t.clone());
            }
        }
    }
}

/// Which entries a steward asks for (`auditLog(filter:)`).
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub subject: Option<String>,
    pub dataset: Option<String>,
    pub since: Option<musubi_ontology::xsd::DateTime>,
    pub until: Option<musubi_ontology::xsd::DateTime>,
}

impl EntryFilter {
    fn is_empty(&self) -> bool {
        self.subject.is_none() && self.dataset.is_none() && self.since.is_none() && self.until.is_none()
    }

    pub fn keeps(&self, e: &AuditEntry) -> bool {
        let at: Option<musubi_ontology::xsd::DateTime> = e.at.parse().ok();
        self.subject.as_ref().is_none_or(|s| e.subject.as_ref() == Some(s))
            && self.dataset.as_ref().is_none_or(|d| e.dataset.as_ref() == Some(d))
            && self.since.is_none_or(|s| at.is_some_and(|a| a >= s))
            && self.until.is_none_or(|u| at.is_some_and(|a| a < u))
    }

    /// The JSON strings a kept entry's line must hold (as the log writes them), to skip the rest
    /// of the lines without parsing them.
    fn needles(&self) -> Vec<Vec<u8>> {
        [&self.subject, &self.dataset].into_iter().flatten().map(|s| serde_json::to_vec(s).expect("strings serialise")).collect()
    }
}

impl AuditLog {
    pub fn in_memory() -> AuditLog {
        AuditLog { path: None, state: Mutex::new(LogState::new(None)), memory: RwLock::new(Vec::new()) }
    }

    /// Opens (or creates) the log at `path`, reading it through once (line by line: it is not
    /// held in memory). Returns the warnings about lines it skipped (a torn last line after a
    /// crash, or a line that is not an entry).
    pub fn open(path: &Path) -> Result<(AuditLog, Vec<String>), AuditError> {
        let err = |e: std::io::Error| AuditError { path: path.display().to_string(), message: e.to_string() };
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path).map_err(err)?;
        let mut state = LogState::new(None);
        let mut warnings = Vec::new();
        let mut reader = BufReader::with_capacity(1 << 16, &file);
        let mut line = Vec::new();
        let mut torn = false;
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(err)?;
            if n == 0 {
                break;
            }
            let number = state.next_line;
            if !line.ends_with(b"\n") {
                warnings.push(format!("{}:{number}: torn last line (an interrupted write) skipped", path.display()));
                torn = true;
                // The newline written below ends it.
                state.line(n as u64 + 1, None);
                break;
            }
            match serde_json::from_slice::<AuditEntry>(&line) {
                Ok(entry) => state.line(n as u64, Some(&entry)),
                Err(e) => {
                    warnings.push(format!("{}:{number}: not an audit entry ({e}); skipped", path.display()));
                    state.line(n as u64, None);
                }
            }
        }
        drop(reader);
        if torn {
            // The next batch starts on its own line; the torn bytes stay, skipped on every read.
            file.write_all(b"\n").and_then(|()| file.sync_data()).map_err(err)?;
        }
        file.seek(SeekFrom::End(0)).map_err(err)?;
        state.file = Some(file);
        Ok((AuditLog { path: Some(path.to_owned()), state: Mutex::new(state), memory: RwLock::new(Vec::new()) }, warnings))
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
        let mut state = self.state.lock().expect("audit log lock");
        let mut new_entries = Vec::new();
        for (i, (dataset, (mut fields, grant_used))) in by_dataset.into_iter().enumerate() {
            fields.sort();
            new_entries.push(AuditEntry {
                position: state.next_line + i as u64,
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
            });
        }
        self.write_batch(&mut state, new_entries)
    }

    /// Appends entries made elsewhere (process steps, see [`crate::ledger`]), synced to disk
    /// before returning. Their positions are assigned here.
    pub fn append_entries(&self, entries: Vec<AuditEntry>) -> Result<(), AuditError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut state = self.state.lock().expect("audit log lock");
        let first = state.next_line;
        let entries = entries.into_iter().enumerate().map(|(i, entry)| AuditEntry { position: first + i as u64, ..entry }).collect();
        self.write_batch(&mut state, entries)
    }

    fn write_batch(&self, state: &mut LogState, new_entries: Vec<AuditEntry>) -> Result<(), AuditError> {
        let mut batch = Vec::new();
        let mut ends = Vec::with_capacity(new_entries.len());
        for entry in &new_entries {
            serde_json::to_writer(&mut batch, entry).expect("audit entries serialise");
            batch.push(b'\n');
            ends.push(batch.len());
        }
        if let Some(file) = state.file.as_mut() {
            let path = self.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
            file.write_all(&batch)
                .and_then(|()| file.sync_data())
                .map_err(|e| AuditError { path, message: format!("cannot append: {e}") })?;
        }
        let mut start = 0;
        for (entry, end) in new_entries.iter().zip(ends) {
            state.line((end - start) as u64, Some(entry));
            start = end;
        }
        if state.file.is_none() {
            self.memory.write().expect("audit entries lock").extend(new_entries);
        }
        Ok(())
    }

    /// The transition ids the log already records (for reconciling with the store at start).
    pub fn transitions(&self) -> std::collections::HashSet<String> {
        self.state.lock().expect("audit log lock").transitions.clone()
    }

    /// Entries after position `after` that `filter` keeps, in log order: at most `first`, how
    /// many it keeps in all, and whether more follow the page. Read from the file: an unfiltered
    /// page reads from the checkpoint before `after` on; a filtered one reads the whole log,
    /// parsing only lines that hold the subject and dataset asked for.
    pub fn page(&self, after: u64, first: usize, filter: &EntryFilter) -> Result<(Vec<AuditEntry>, usize, bool), AuditError> {
        let (len, checkpoints, entries, next_line) = {
            let state = self.state.lock().expect("audit log lock");
            if state.file.is_none() {
                drop(state);
                let memory = self.memory.read().expect("audit entries lock");
                let matching: Vec<&AuditEntry> = memory.iter().filter(|e| filter.keeps(e)).collect();
                let start = matching.partition_point(|e| e.position <= after);
                let page: Vec<AuditEntry> = matching[start..].iter().take(first).map(|e| (*e).clone()).collect();
                let has_next = start + page.len() < matching.len();
                return Ok((page, matching.len(), has_next));
            }
            (state.len, state.checkpoints.clone(), state.entries, state.next_line)
        };
        let path = self.path.as_ref().expect("a log with a file has a path");
        let err = |e: std::io::Error| AuditError { path: path.display().to_string(), message: format!("cannot read: {e}") };
        let unfiltered = filter.is_empty();
        // Unfiltered, the total is known and reading starts near the page.
        let first_line = if unfiltered { after.min(next_line.saturating_sub(1)) + 1 } else { 1 };
        let checkpoint = ((first_line - 1) / CHECKPOINT) as usize;
        let Some(&offset) = checkpoints.get(checkpoint) else { return Ok((Vec::new(), if unfiltered { entries as usize } else { 0 }, false)) };
        let mut file = File::open(path).map_err(err)?;
        file.seek(SeekFrom::Start(offset)).map_err(err)?;
        let mut reader = BufReader::with_capacity(1 << 16, file.take(len - offset));
        let needles = filter.needles();
        let mut number = checkpoint as u64 * CHECKPOINT + 1;
        let (mut page, mut kept, mut has_next) = (Vec::new(), 0usize, false);
        let mut line = Vec::new();
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).map_err(err)? == 0 {
                break;
            }
            let position = number;
            number += 1;
            if unfiltered && position <= after {
                continue;
            }
            if !needles.iter().all(|n| memchr::memmem::find(&line, n).is_some()) {
                continue;
            }
            let Ok(mut entry) = serde_json::from_slice::<AuditEntry>(&line) else { continue };
            if !filter.keeps(&entry) {
                continue;
            }
            kept += 1;
            if position <= after {
                continue;
            }
            if page.len() < first {
                entry.position = position;
                page.push(entry);
            } else {
                has_next = true;
                if unfiltered {
                    break;
                }
            }
        }
        let total = if unfiltered { entries as usize } else { kept };
        Ok((page, total, has_next))
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
        let (entries, total, _) = log.page(0, 10, &EntryFilter::default()).expect("reads");
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
        let (entries, total, _) = log.page(2, 10, &EntryFilter::default()).expect("reads");
        assert_eq!((total, entries.len()), (3, 1));
        assert_eq!((entries[0].position, entries[0].dataset.as_deref()), (4, Some("JGAD000003")));
    }

    #[test]
    fn pages_are_read_from_the_file_past_its_checkpoints_and_filters_count_what_they_keep() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        let (log, _) = AuditLog::open(&path).expect("opens");
        let lines = 3 * CHECKPOINT + 7;
        let entry = |i: u64| AuditEntry {
            position: 0,
            at: "2026-12-07T00:00:00Z".to_owned(),
            subject: Some("dac-member-1".to_owned()),
            issuer: None,
            tier: "STEWARD".to_owned(),
            dataset: Some(if i.is_multiple_of(10) { "JGAD000010".to_owned() } else { format!("JGAD{:06}", 100_000 + i) }),
            fields: vec!["downloadUrls".to_owned()],
            grant_used: false,
            action: None,
            record: None,
            transition: None,
            comment: None,
        };
        log.append_entries((0..lines - 1).map(entry).collect()).expect("appends");
        log.append_entries(vec![entry(lines - 1)]).expect("appends");
        // What was appended and what a reopened log reads are the same.
        for log in [log, AuditLog::open(&path).expect("reopens").0] {
            let all = EntryFilter::default();
            let (page, total, has_next) = log.page(2 * CHECKPOINT + 5, 3, &all).expect("reads");
            assert_eq!(total as u64, lines);
            assert!(has_next);
            let positions: Vec<u64> = page.iter().map(|e| e.position).collect();
            assert_eq!(positions, [2 * CHECKPOINT + 6, 2 * CHECKPOINT + 7, 2 * CHECKPOINT + 8]);
            assert_eq!(page[0].dataset.as_deref(), Some(format!("JGAD{:06}", 100_000 + 2 * CHECKPOINT + 5).as_str()));
            let (page, _, has_next) = log.page(lines - 1, 3, &all).expect("reads");
            assert_eq!((page.len(), page[0].position, has_next), (1, lines, false));

            let one = EntryFilter { dataset: Some("JGAD000010".to_owned()), ..EntryFilter::default() };
            let (page, total, has_next) = log.page(1500, 2, &one).expect("reads");
            assert_eq!(total as u64, lines.div_ceil(10), "the filter counts every entry it keeps");
            assert_eq!(page.iter().map(|e| e.position).collect::<Vec<_>>(), [1501, 1511]);
            assert!(has_next);
            let nobody = EntryFilter { subject: Some("someone-else".to_owned()), ..EntryFilter::default() };
            assert_eq!(log.page(0, 10, &nobody).expect("reads").1, 0);
        }
    }
}
