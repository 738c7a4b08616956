//! A graph's last content, kept beside the store so that the next replace writes only what
//! changed: the N-Triples file it was loaded from (the harvest's spool, kept instead of removed)
//! and a 128-bit hash of each of its lines, sorted, with the line's place in the file.
//!
//! A ledger names the content it describes by the key [`GraphStore::generation`] gives for it
//! (the generation, and the token of the last delta applied to it). A ledger whose key is not
//! the store's for its graph — a harvest killed between the store's commit and the ledger's
//! rename, a graph replaced some other way — is not used: the next replace loads a fresh
//! generation and writes a new ledger.
//!
//! [`GraphStore::generation`]: crate::GraphStore::generation

use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use oxigraph::io::{RdfFormat, RdfParser};
use oxigraph::model::{NamedNodeRef, Triple};

use crate::StoreError;

const MAGIC: &[u8] = b"musubi-ledger 1\n";
const RECORDS_MAGIC: &[u8] = b"musubi-records 2\n";
/// A record's entry in its file: hash (16 bytes), offset (8), length (4).
const ENTRY: usize = 28;

/// The 128-bit hash a harvest names a record's input by (fixed keys: the next process, and the
/// next build, must find it again).
#[derive(Debug, Clone)]
pub struct RecordHasher(siphasher::sip128::SipHasher13);

impl Default for RecordHasher {
    fn default() -> RecordHasher {
        RecordHasher(siphasher::sip128::SipHasher13::new_with_keys(0x7265_636f_7264_7331, 0x6d75_7375_6269_2d72))
    }
}

impl RecordHasher {
    pub fn finish128(&self) -> u128 {
        use siphasher::sip128::Hasher128;
        self.0.finish128().as_u128()
    }
}

impl std::hash::Hasher for RecordHasher {
    fn write(&mut self, bytes: &[u8]) {
        std::hash::Hasher::write(&mut self.0, bytes);
    }

    fn finish(&self) -> u64 {
        std::hash::Hasher::finish(&self.0)
    }
}

/// Where a spool's records are: each record's hash and its lines' place in the spool.
#[derive(Debug)]
pub(crate) struct SpoolRecords {
    salt: String,
    pub(crate) note: String,
    entries: Vec<RecordEntry>,
    /// The spool's triples (set as it is kept).
    pub(crate) triples: usize,
}

#[derive(Debug, Clone, Copy)]
struct RecordEntry {
    hash: u128,
    offset: u64,
    len: u32,
}

impl SpoolRecords {
    pub(crate) fn new(salt: &str) -> SpoolRecords {
        SpoolRecords { salt: salt.replace(['\n', '\r'], " "), note: String::new(), entries: Vec::new(), triples: 0 }
    }

    /// A record's lines, `len` bytes from `offset` (a record of more than 4 GiB is not noted:
    /// the next harvest maps it again).
    pub(crate) fn push(&mut self, hash: u128, offset: u64, len: u64) {
        if let Ok(len) = u32::try_from(len) {
            self.entries.push(RecordEntry { hash, offset, len });
        }
    }
}

/// The records of a graph's last harvest, each record's lines by the hash of its input: a
/// harvest copies an unchanged record's lines from here instead of mapping it again. Read from
/// the ledger's N-Triples file when asked (the index of hashes is held: 28 bytes a record).
#[derive(Debug)]
pub struct RecordMemo {
    triples: PathBuf,
    file: std::fs::File,
    entries: Vec<RecordEntry>,
    note: String,
    triples_count: usize,
}

impl RecordMemo {
    /// How many records it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many triples the spool they were kept from held (counting any twice).
    pub fn triples(&self) -> usize {
        self.triples_count
    }

    /// Whether a record's input hashed to `hash`.
    pub fn contains(&self, hash: u128) -> bool {
        self.entries.binary_search_by_key(&hash, |e| e.hash).is_ok()
    }

    /// The line of text the harvest kept with its records ([`crate::GraphSpool::set_note`]).
    pub fn note(&self) -> &str {
        &self.note
    }

    /// The lines of the record whose input hashed to `hash`, appended to `out` (N-Triples, each
    /// line ending in a newline); `false` if no record had that hash.
    pub fn get(&self, hash: u128, out: &mut Vec<u8>) -> Result<bool, StoreError> {
        use std::os::unix::fs::FileExt;
        let Ok(i) = self.entries.binary_search_by_key(&hash, |e| e.hash) else { return Ok(false) };
        let e = self.entries[i];
        let start = out.len();
        out.resize(start + e.len as usize, 0);
        self.file.read_exact_at(&mut out[start..], e.offset).map_err(|err| error(&self.triples, err))?;
        if out.last().is_some_and(|b| *b != b'\n') {
            return Err(error(&self.triples, format!("the record at byte {} does not end a line", e.offset)));
        }
        Ok(true)
    }
}

/// One line of a graph's N-Triples: its 128-bit hash (high half first, so that arrays order as
/// the number does; two `u64`s keep a line at 24 bytes) and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Line {
    pub(crate) hash: [u64; 2],
    pub(crate) offset: u64,
}

fn split(hash: u128) -> [u64; 2] {
    [(hash >> 64) as u64, hash as u64]
}

/// Where the ledgers of a store's graphs are kept (a folder of the data folder).
#[derive(Debug, Clone)]
pub(crate) struct Ledgers {
    dir: PathBuf,
}

/// A graph's ledger, its header read: its lines are read from the file as they are compared.
pub(crate) struct Ledger {
    lines: PathBuf,
    /// Where the lines start in their file, after the header.
    body: u64,
    /// How many lines it holds.
    pub(crate) count: usize,
    /// The N-Triples file they are lines of.
    pub(crate) triples: PathBuf,
}

impl Ledger {
    /// Its lines, in hash order, read from the file.
    fn lines(&self) -> Result<impl Iterator<Item = Result<Line, StoreError>> + '_, StoreError> {
        let mut file = std::fs::File::open(&self.lines).map_err(|e| error(&self.lines, e))?;
        file.seek(SeekFrom::Start(self.body)).map_err(|e| error(&self.lines, e))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut record = [0u8; 24];
        Ok((0..self.count).map(move |_| {
            reader.read_exact(&mut record).map_err(|e| error(&self.lines, e))?;
            Ok(Line {
                hash: split(u128::from_le_bytes(record[..16].try_into().expect("16 bytes"))),
                offset: u64::from_le_bytes(record[16..].try_into().expect("8 bytes")),
            })
        }))
    }
}

fn error(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Spool { path: path.display().to_string(), message: e.to_string() }
}

fn hasher() -> siphasher::sip128::SipHasher13 {
    // Fixed keys: a ledger's hashes must be the same in the next process, and the next build.
    siphasher::sip128::SipHasher13::new_with_keys(0x6d75_7375_6269_6c65, 0x6467_6572_2d76_3031)
}

/// Each distinct line of an N-Triples file, by hash (a line found twice is kept once).
pub(crate) fn lines_of(path: &Path) -> Result<Vec<Line>, StoreError> {
    use siphasher::sip128::Hasher128;
    use std::hash::Hasher;
    let file = std::fs::File::open(path).map_err(|e| error(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut lines = Vec::new();
    let mut line = Vec::with_capacity(256);
    let mut offset = 0u64;
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line).map_err(|e| error(path, e))?;
        if read == 0 {
            break;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if !text.is_empty() {
            let mut h = hasher();
            h.write(text);
            lines.push(Line { hash: split(h.finish128().as_u128()), offset });
        }
        offset += read as u64;
    }
    lines.sort_unstable();
    lines.dedup_by_key(|l| l.hash);
    Ok(lines)
}

/// What differs between a ledger's lines and a new sorted line list: the old lines gone (their
/// offsets in the old file) and the new lines added (their offsets in the new file). `None` as
/// soon as more than `most` differ. The old lines are read from their file, never held.
pub(crate) fn diff(old: &Ledger, new: &[Line], most: usize) -> Result<Option<(Vec<u64>, Vec<u64>)>, StoreError> {
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    let mut old_lines = old.lines()?;
    let mut o = old_lines.next().transpose()?;
    let mut j = 0;
    loop {
        if removed.len() + added.len() > most {
            return Ok(None);
        }
        match (o, new.get(j)) {
            (Some(a), Some(n)) if a.hash == n.hash => {
                o = old_lines.next().transpose()?;
                j += 1;
            }
            (Some(a), Some(n)) if a.hash < n.hash => {
                removed.push(a.offset);
                o = old_lines.next().transpose()?;
            }
            (Some(_), Some(n)) | (None, Some(n)) => {
                added.push(n.offset);
                j += 1;
            }
            (Some(a), None) => {
                removed.push(a.offset);
                o = old_lines.next().transpose()?;
            }
            (None, None) => return Ok(Some((removed, added))),
        }
    }
}

/// The triples on the lines starting at `offsets` of an N-Triples file (read in file order,
/// forward: the reader's buffer is kept across lines near each other).
pub(crate) fn triples_at(path: &Path, offsets: &mut [u64]) -> Result<Vec<Triple>, StoreError> {
    offsets.sort_unstable();
    let file = std::fs::File::open(path).map_err(|e| error(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut out = Vec::with_capacity(offsets.len());
    let mut line = Vec::with_capacity(256);
    let mut at = 0u64;
    for &offset in offsets.iter() {
        reader.seek_relative((offset - at) as i64).map_err(|e| error(path, e))?;
        line.clear();
        let read = reader.read_until(b'\n', &mut line).map_err(|e| error(path, e))?;
        at = offset + read as u64;
        out.push(parse(path, offset, &line)?);
    }
    Ok(out)
}

fn parse(path: &Path, offset: u64, line: &[u8]) -> Result<Triple, StoreError> {
    let triple = RdfParser::from_format(RdfFormat::NTriples)
        .for_reader(line)
        .next()
        .ok_or_else(|| error(path, format!("no triple at byte {offset}")))?
        .map_err(|e| error(path, format!("byte {offset}: {e}")))?;
    Ok(triple.into())
}

/// The triples of an N-Triples file with the subject and predicate of one of `removed`: the
/// store keeps a typed literal by its value, so a line that stays ("1.5"^^xsd:decimal) can be
/// the very triple a removed line ("1.50"^^xsd:decimal) was; these are written again after the
/// removals.
/// Only typed literals can be written two ways (IRIs, blank nodes, strings and language-tagged
/// text are kept as written): without such a removal, the file is not read.
pub(crate) fn sharing_subject_and_predicate(path: &Path, removed: &[Triple]) -> Result<Vec<Triple>, StoreError> {
    let by_value = |t: &&Triple| match &t.object {
        oxigraph::model::Term::Literal(l) => l.language().is_none() && l.datatype() != oxigraph::model::vocab::xsd::STRING,
        _ => false,
    };
    let prefixes: std::collections::HashSet<String> = removed.iter().filter(by_value).map(|t| format!("{} {} ", t.subject, t.predicate)).collect();
    if prefixes.is_empty() {
        return Ok(Vec::new());
    }
    let file = std::fs::File::open(path).map_err(|e| error(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let (mut out, mut line, mut offset) = (Vec::new(), Vec::with_capacity(256), 0u64);
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line).map_err(|e| error(path, e))?;
        if read == 0 {
            return Ok(out);
        }
        // Subject and predicate hold no space in N-Triples: the prefix ends at the second one.
        let second = line.iter().enumerate().filter(|(_, b)| **b == b' ').nth(1).map(|(i, _)| i);
        if let Some(end) = second
            && std::str::from_utf8(&line[..=end]).is_ok_and(|p| prefixes.contains(p))
        {
            out.push(parse(path, offset, &line)?);
        }
        offset += read as u64;
    }
}

impl Ledgers {
    pub(crate) fn new(dir: PathBuf) -> Ledgers {
        Ledgers { dir }
    }

    /// Where `graph`'s records are kept, beside its ledger.
    fn records_path(&self, graph: NamedNodeRef<'_>) -> PathBuf {
        self.paths(graph).1.with_extension("records")
    }

    /// `graph`'s records, if they describe the content named `key` and were noted with `salt`.
    pub(crate) fn record_memo(&self, graph: NamedNodeRef<'_>, key: &str, salt: &str) -> Result<Option<RecordMemo>, StoreError> {
        let (triples, _) = self.paths(graph);
        let path = self.records_path(graph);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(error(&path, e)),
        };
        // Six lines: the format, the key, the N-Triples file's length, the salt, the note, the
        // spool's triples.
        let mut header = bytes.splitn(7, |b| *b == b'\n');
        let mut line = || header.next().and_then(|l| std::str::from_utf8(l).ok());
        let (magic, k, size, s, note) = (line(), line(), line(), line(), line().map(str::to_owned));
        let Some(triples_count) = line().and_then(|n| n.parse().ok()) else { return Ok(None) };
        let body = header.next().unwrap_or_default();
        let file = match std::fs::File::open(&triples) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(error(&triples, e)),
        };
        let actual = file.metadata().map_err(|e| error(&triples, e))?.len().to_string();
        let magic_line = std::str::from_utf8(RECORDS_MAGIC).expect("ASCII").trim_end();
        if magic != Some(magic_line) || k != Some(key) || size != Some(actual.as_str()) || s != Some(salt) || body.len() % ENTRY != 0 {
            return Ok(None);
        }
        let entries = body
            .chunks_exact(ENTRY)
            .map(|c| RecordEntry {
                hash: u128::from_le_bytes(c[..16].try_into().expect("16 bytes")),
                offset: u64::from_le_bytes(c[16..24].try_into().expect("8 bytes")),
                len: u32::from_le_bytes(c[24..].try_into().expect("4 bytes")),
            })
            .collect();
        Ok(Some(RecordMemo { triples, file, entries, note: note.unwrap_or_default(), triples_count }))
    }

    /// The files of `graph`'s ledger: its triples and its lines.
    fn paths(&self, graph: NamedNodeRef<'_>) -> (PathBuf, PathBuf) {
        use siphasher::sip128::Hasher128;
        use std::hash::Hasher;
        let mut h = hasher();
        h.write(graph.as_str().as_bytes());
        let name = format!("{:032x}", h.finish128().as_u128());
        (self.dir.join(format!("{name}.nt")), self.dir.join(format!("{name}.lines")))
    }

    /// `graph`'s ledger, if it describes the content named `key` (else `None`: not to be used).
    pub(crate) fn read(&self, graph: NamedNodeRef<'_>, key: &str) -> Result<Option<Ledger>, StoreError> {
        let (triples, lines_path) = self.paths(graph);
        let file = match std::fs::File::open(&lines_path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(error(&lines_path, e)),
        };
        let len = file.metadata().map_err(|e| error(&lines_path, e))?.len();
        let mut header = Vec::new();
        let mut reader = BufReader::new(file).take(MAGIC.len() as u64 + key.len() as u64 + 32);
        // Three lines: the format, the key, the N-Triples file's length.
        for _ in 0..3 {
            reader.read_until(b'\n', &mut header).map_err(|e| error(&lines_path, e))?;
        }
        let body = header.len() as u64;
        // The key names the content; the N-Triples file's length, that it is the file the lines
        // were made of (a crash can leave one renamed and not the other).
        let size = std::fs::metadata(&triples).map(|m| m.len()).ok();
        let expected = size.map(|size| format!("{}{key}\n{size}\n", std::str::from_utf8(MAGIC).expect("ASCII")));
        if expected.is_none_or(|e| header != e.as_bytes()) || (len - body) % 24 != 0 {
            return Ok(None);
        }
        Ok(Some(Ledger { lines: lines_path, body, count: ((len - body) / 24) as usize, triples }))
    }

    /// Keeps `spool` (the N-Triples file `graph`'s content named `key` was loaded from) and its
    /// `lines` as `graph`'s ledger. The lines are written aside and renamed into place last.
    /// With `records`, the spool's records too (see [`RecordMemo`]).
    pub(crate) fn write(
        &self,
        graph: NamedNodeRef<'_>,
        key: &str,
        spool: tempfile::NamedTempFile,
        lines: &[Line],
        records: Option<&SpoolRecords>,
    ) -> Result<(), StoreError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| error(&self.dir, e))?;
        let (triples, lines_path) = self.paths(graph);
        let records_path = self.records_path(graph);
        // The old lines and records go first: what names another file's offsets must never stand.
        for old in [&lines_path, &records_path] {
            match std::fs::remove_file(old) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(error(old, e)),
            }
        }
        let kept = spool.persist(&triples).map_err(|e| error(&triples, e))?;
        kept.sync_all().map_err(|e| error(&triples, e))?;
        let size = kept.metadata().map_err(|e| error(&triples, e))?.len();
        let next = lines_path.with_extension("lines.next");
        let mut out = BufWriter::new(std::fs::File::create(&next).map_err(|e| error(&next, e))?);
        let written = (|| {
            out.write_all(MAGIC)?;
            out.write_all(format!("{key}\n{size}\n").as_bytes())?;
            for l in lines {
                out.write_all(&((u128::from(l.hash[0]) << 64) | u128::from(l.hash[1])).to_le_bytes())?;
                out.write_all(&l.offset.to_le_bytes())?;
            }
            out.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()
        })();
        written.map_err(|e| error(&next, e))?;
        std::fs::rename(&next, &lines_path).map_err(|e| error(&lines_path, e))?;
        if let Some(records) = records {
            let mut entries = records.entries.clone();
            // One entry a hash: two records with one input have one output.
            entries.sort_unstable_by_key(|e| e.hash);
            entries.dedup_by_key(|e| e.hash);
            let next = records_path.with_extension("records.next");
            let mut out = BufWriter::new(std::fs::File::create(&next).map_err(|e| error(&next, e))?);
            let written = (|| {
                out.write_all(RECORDS_MAGIC)?;
                out.write_all(format!("{key}\n{size}\n{}\n{}\n{}\n", records.salt, records.note, records.triples).as_bytes())?;
                for e in &entries {
                    out.write_all(&e.hash.to_le_bytes())?;
                    out.write_all(&e.offset.to_le_bytes())?;
                    out.write_all(&e.len.to_le_bytes())?;
                }
                out.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()
            })();
            written.map_err(|e| error(&next, e))?;
            std::fs::rename(&next, &records_path).map_err(|e| error(&records_path, e))?;
        }
        Ok(())
    }

    /// Forgets `graph`'s ledger (its content changed some other way).
    pub(crate) fn forget(&self, graph: NamedNodeRef<'_>) {
        let _ = std::fs::remove_file(self.records_path(graph));
        let (triples, lines) = self.paths(graph);
        let _ = std::fs::remove_file(lines);
        let _ = std::fs::remove_file(triples);
    }
}
