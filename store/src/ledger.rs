//! A graph's last content, kept beside the store so that the next replace writes only what
//! changed: the N-Triples file it was loaded from (the harvest's spool, kept instead of removed)
//! and a 128-bit hash of each of its lines, sorted, with the line's place in the file.
//!
//! A ledger names the content it describes by the key [`GraphStore::generation`] gives for it
//! (the generation, and the revision of each delta applied to it since). A ledger whose key is not
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

/// One line of a graph's N-Triples: its hash and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Line {
    pub(crate) hash: u128,
    pub(crate) offset: u64,
}

/// Where the ledgers of a store's graphs are kept (a folder of the data folder).
#[derive(Debug, Clone)]
pub(crate) struct Ledgers {
    dir: PathBuf,
}

/// A graph's ledger as read: its lines, and the file they are lines of.
pub(crate) struct Ledger {
    pub(crate) lines: Vec<Line>,
    pub(crate) triples: PathBuf,
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
            lines.push(Line { hash: h.finish128().as_u128(), offset });
        }
        offset += read as u64;
    }
    lines.sort_unstable();
    lines.dedup_by_key(|l| l.hash);
    Ok(lines)
}

/// What differs between two sorted line lists: the old lines gone (their offsets in the old
/// file) and the new lines added (their offsets in the new file).
pub(crate) fn diff(old: &[Line], new: &[Line]) -> (Vec<u64>, Vec<u64>) {
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(o), Some(n)) if o.hash == n.hash => {
                i += 1;
                j += 1;
            }
            (Some(o), Some(n)) if o.hash < n.hash => {
                removed.push(o.offset);
                i += 1;
            }
            (Some(_), Some(n)) | (None, Some(n)) => {
                added.push(n.offset);
                j += 1;
            }
            (Some(o), None) => {
                removed.push(o.offset);
                i += 1;
            }
            (None, None) => unreachable!(),
        }
    }
    (removed, added)
}

/// The triples on the lines starting at `offsets` of an N-Triples file (read in file order).
pub(crate) fn triples_at(path: &Path, offsets: &mut [u64]) -> Result<Vec<Triple>, StoreError> {
    offsets.sort_unstable();
    let file = std::fs::File::open(path).map_err(|e| error(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut out = Vec::with_capacity(offsets.len());
    let mut line = Vec::with_capacity(256);
    for &offset in offsets.iter() {
        reader.seek(SeekFrom::Start(offset)).map_err(|e| error(path, e))?;
        line.clear();
        reader.read_until(b'\n', &mut line).map_err(|e| error(path, e))?;
        let triple = RdfParser::from_format(RdfFormat::NTriples)
            .for_reader(line.as_slice())
            .next()
            .ok_or_else(|| error(path, format!("no triple at byte {offset}")))?
            .map_err(|e| error(path, format!("byte {offset}: {e}")))?;
        out.push(triple.into());
    }
    Ok(out)
}

impl Ledgers {
    pub(crate) fn new(dir: PathBuf) -> Ledgers {
        Ledgers { dir }
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
        let mut bytes = Vec::new();
        match std::fs::File::open(&lines_path) {
            Ok(mut f) => f.read_to_end(&mut bytes).map_err(|e| error(&lines_path, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(error(&lines_path, e)),
        };
        let Some(rest) = bytes.strip_prefix(MAGIC) else { return Ok(None) };
        let Some(end) = rest.iter().position(|b| *b == b'\n') else { return Ok(None) };
        if &rest[..end] != key.as_bytes() || !triples.is_file() {
            return Ok(None);
        }
        let body = &rest[end + 1..];
        if body.len() % 24 != 0 {
            return Ok(None);
        }
        let lines = body
            .chunks_exact(24)
            .map(|c| Line {
                hash: u128::from_le_bytes(c[..16].try_into().expect("16 bytes")),
                offset: u64::from_le_bytes(c[16..].try_into().expect("8 bytes")),
            })
            .collect();
        Ok(Some(Ledger { lines, triples }))
    }

    /// Keeps `spool` (the N-Triples file `graph`'s content named `key` was loaded from) and its
    /// `lines` as `graph`'s ledger. The lines are written aside and renamed into place last.
    pub(crate) fn write(&self, graph: NamedNodeRef<'_>, key: &str, spool: tempfile::NamedTempFile, lines: &[Line]) -> Result<(), StoreError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| error(&self.dir, e))?;
        let (triples, lines_path) = self.paths(graph);
        // The old lines go first: lines that name another file's offsets must never stand.
        match std::fs::remove_file(&lines_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(error(&lines_path, e)),
        }
        spool.persist(&triples).map_err(|e| error(&triples, e))?;
        let next = lines_path.with_extension("lines.next");
        let mut out = BufWriter::new(std::fs::File::create(&next).map_err(|e| error(&next, e))?);
        let written = (|| {
            out.write_all(MAGIC)?;
            out.write_all(key.as_bytes())?;
            out.write_all(b"\n")?;
            for l in lines {
                out.write_all(&l.hash.to_le_bytes())?;
                out.write_all(&l.offset.to_le_bytes())?;
            }
            out.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()
        })();
        written.map_err(|e| error(&next, e))?;
        std::fs::rename(&next, &lines_path).map_err(|e| error(&lines_path, e))
    }

    /// Forgets `graph`'s ledger (its content changed some other way).
    pub(crate) fn forget(&self, graph: NamedNodeRef<'_>) {
        let (triples, lines) = self.paths(graph);
        let _ = std::fs::remove_file(lines);
        let _ = std::fs::remove_file(triples);
    }
}
