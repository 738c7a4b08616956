//! Source views kept on disk next to the graph (`<data>/views/`), so that `musubi serve` starts by
//! reading each source's view instead of projecting it from the store: decoding every term from
//! RocksDB by point lookup was half of the start-up (perf, 100,000 datasets).
//!
//! A file is a cache of the graph, never the truth. It names the store generation of the graph it
//! was projected from ([`GraphStore::generation`](musubi_store::GraphStore::generation)); a file
//! of another generation (a harvest landed since, e.g. by `musubi harvest` in another process), of
//! another format version, or that does not decode, is not used, and the view is projected from
//! the graph again. Graphs stored in place (small ones) have no generation and no file.
//!
//! A view on disk is not read whole: a start reads the header, the names, each node's length and
//! id hash, and the positions of each class, and keeps the file open; a node's bytes are read
//! from it when asked ([`NodeFile`]), so memory holds ~20 bytes a node instead of the node
//! (a view of a million datasets is ~2 GB of node bytes). The open file stays valid when a
//! harvest replaces it (files are replaced by renaming), so a view reads the file it was made
//! from until it is swapped out.
//!
//! A harvest writes its view beside the source's file (`<source>.view.next`, [`ViewFiles::write_next`])
//! before the graph is pointed at its new generation, and the file takes the old one's place once
//! the harvest lands. A hub stopped between the two (a kill) finds the view of the graph's current
//! generation in the `.next` file at its next start, and moves it into place instead of projecting
//! the graph again; a `.next` file of a harvest that never landed is removed.
//!
//! The format, in order: a header (magic, version, source, generation), the names the nodes refer
//! to by number (predicates, datatypes, language tags), the keys of the id hashes, the node count,
//! the positions of each class's nodes, each node's length, each node's id hash (8 bytes, little
//! endian), a mark, the nodes' bytes ([`Node`]'s layout) one after another, and an end mark that
//! a truncated file lacks. Numbers are LEB128; strings are a length and UTF-8. A node's bytes are
//! checked when it is read; a damaged one is said in the log and reads as absent.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hashbrown::HashTable;

use super::node::{IdHasher, Names, id_hash};
use crate::node_file::NodeFile;
use crate::view::Nodes;
use crate::SourceView;
use crate::binary::{Reader, Writer};

const MAGIC: &[u8; 12] = b"musubi view\n";
const NODES: &[u8; 6] = b"nodes\n";
const END: &[u8; 4] = b"end\n";
/// Raised whenever the layout changes: a file of another version is projected again, not read.
const VERSION: u64 = 5;
/// The most a start reserves from a count read off a file before the items arrive (a damaged
/// count then fails at the file's end, not by reserving gigabytes).
const RESERVE: usize = 1 << 16;

/// The folder of persisted source views.
#[derive(Debug, Clone)]
pub struct ViewFiles {
    dir: PathBuf,
}

/// A view file that could not be written, or that is damaged (where, and what was wrong).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ViewFileError {
    pub path: String,
    pub message: String,
}

impl ViewFiles {
    pub fn new(dir: impl Into<PathBuf>) -> ViewFiles {
        ViewFiles { dir: dir.into() }
    }

    /// The file of `source`'s view. Source ids are `[a-z0-9_-]`, but graphs the hub writes
    /// (`dmp-<key>`) may carry more: anything else is written `%XX`.
    pub fn path(&self, source: &str) -> PathBuf {
        let mut name = String::with_capacity(source.len() + 5);
        for b in source.bytes() {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                name.push(b as char);
            } else {
                name.push_str(&format!("%{b:02X}"));
            }
        }
        name.push_str(".view");
        self.dir.join(name)
    }

    /// Where a harvest writes `source`'s view before its graph lands (see the module's notes).
    pub fn next_path(&self, source: &str) -> PathBuf {
        let mut path = self.path(source).into_os_string();
        path.push(".next");
        PathBuf::from(path)
    }

    /// `source`'s view as projected from the graph's `generation`, if a file holds exactly that;
    /// `Ok(None)` for no file, or a file of another generation or format version. The view reads
    /// its nodes from the file as they are asked for. A view a harvest wrote before its graph
    /// landed ([`ViewFiles::write_next`]) is moved into place when it is of `generation`, and
    /// removed when it is not (that harvest never landed).
    pub fn read(&self, source: &str, generation: &str) -> Result<Option<SourceView>, ViewFileError> {
        let (path, next) = (self.path(source), self.next_path(source));
        let current = self.read_at(&path, source, generation);
        if let Ok(Some(view)) = current {
            let _ = std::fs::remove_file(&next);
            return Ok(Some(view));
        }
        match self.read_at(&next, source, generation) {
            Ok(Some(_)) => {
                std::fs::rename(&next, &path).map_err(|e| ViewFileError { path: next.display().to_string(), message: e.to_string() })?;
                // Every landing harvest comes here once its graph landed (and a hub stopped in
                // between, at its next start): the normal course, not news.
                tracing::debug!(source, "the view the harvest wrote before it landed is in place");
                self.read_at(&path, source, generation)
            }
            _ => {
                let _ = std::fs::remove_file(&next);
                current
            }
        }
    }

    /// `source`'s view in its place, if it is of `generation` (nothing else is looked at or
    /// moved: for a harvest about to write the next one).
    pub fn read_kept(&self, source: &str, generation: &str) -> Result<Option<SourceView>, ViewFileError> {
        self.read_at(&self.path(source), source, generation)
    }

    /// The view a harvest wrote before its graph lands ([`ViewFiles::write_next`]), if it is of
    /// `generation`.
    pub fn read_next(&self, source: &str, generation: &str) -> Result<Option<SourceView>, ViewFileError> {
        self.read_at(&self.next_path(source), source, generation)
    }

    fn read_at(&self, path: &Path, source: &str, generation: &str) -> Result<Option<SourceView>, ViewFileError> {
        let path = path.to_owned();
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ViewFileError { path: path.display().to_string(), message: e.to_string() }),
        };
        let mut input = Reader::new(BufReader::with_capacity(1 << 20, &file));
        let header = decode(&mut input, source, generation).map_err(|message| ViewFileError {
            path: path.display().to_string(),
            message: format!("{message} (at byte {})", input.offset),
        })?;
        let Some(mut header) = header else { return Ok(None) };
        let start = input.offset;
        drop(input);
        let failed = |message: String| ViewFileError { path: path.display().to_string(), message };
        let len = file.metadata().map_err(|e| failed(e.to_string()))?.len();
        let nodes_end = start + header.ends.last().copied().unwrap_or(0);
        if len < nodes_end + END.len() as u64 {
            return Err(failed(format!("the file ends early: {len} bytes where its nodes end at byte {nodes_end}")));
        }
        let mut end = [0u8; END.len()];
        file.read_exact_at(&mut end, nodes_end).map_err(|e| failed(e.to_string()))?;
        if end != *END || len != nodes_end + END.len() as u64 {
            return Err(failed(format!("no end mark where its nodes end (at byte {nodes_end})")));
        }
        header.view.nodes = Nodes::File(NodeFile::new(file, path, start, header.ends));
        Ok(Some(header.view))
    }

    /// Writes `view`, projected from the graph's `generation`, replacing the source's file as a
    /// whole (a reader sees the old file or the new one).
    pub fn write(&self, view: &SourceView, generation: &str) -> Result<(), ViewFileError> {
        self.write_at(&self.path(&view.source), view, generation)
    }

    /// Writes `view` of the graph's new `generation` beside the source's file, before the graph
    /// is pointed at it: [`ViewFiles::keep`] (the harvest landed) or [`ViewFiles::read`] (at the
    /// next start, if the hub stopped first) moves it into place.
    pub fn write_next(&self, view: &SourceView, generation: &str) -> Result<(), ViewFileError> {
        self.write_at(&self.next_path(&view.source), view, generation)
    }

    fn write_at(&self, path: &Path, view: &SourceView, generation: &str) -> Result<(), ViewFileError> {
        self.write_with(path, |out| encode(out, view, generation))
    }

    /// Writes a file at `path` with `content`, replacing any as a whole (a temporary file in the
    /// folder, renamed into place).
    pub(crate) fn write_with(&self, path: &Path, content: impl FnOnce(&mut Writer<BufWriter<tempfile::NamedTempFile>>) -> std::io::Result<()>) -> Result<(), ViewFileError> {
        let failed = |e: &dyn std::fmt::Display| ViewFileError { path: path.display().to_string(), message: e.to_string() };
        std::fs::create_dir_all(&self.dir).map_err(|e| failed(&e))?;
        let file = tempfile::NamedTempFile::new_in(&self.dir).map_err(|e| failed(&e))?;
        let mut output = Writer::new(BufWriter::with_capacity(1 << 20, file));
        content(&mut output).map_err(|e| failed(&e))?;
        let file = output.output.into_inner().map_err(|e| failed(&e.error()))?;
        file.persist(path).map_err(|e| failed(&e.error))?;
        Ok(())
    }

    /// Writes `view` (see [`ViewFiles::write`]) and makes it the view read back from its file:
    /// its nodes leave memory, and it is marked as projected from `generation`. A file of that
    /// generation already written (by the harvest, [`ViewFiles::write_next`]) is moved into place
    /// instead. On an error the view is as it was.
    pub fn keep(&self, view: &mut SourceView, generation: &str) -> Result<(), ViewFileError> {
        if let Ok(Some(kept)) = self.read(&view.source, generation) {
            *view = kept;
            return Ok(());
        }
        self.write(view, generation)?;
        match self.read(&view.source, generation)? {
            Some(kept) => *view = kept,
            None => {
                let path = self.path(&view.source).display().to_string();
                return Err(ViewFileError { path, message: "the file just written reads as another generation".into() });
            }
        }
        Ok(())
    }

    /// Removes the files of sources that are not among `keep` (a source removed from the store,
    /// or now stored in place), so that the folder holds only what can be read.
    pub fn retain(&self, keep: &[&str]) -> Result<(), ViewFileError> {
        let failed = |e: std::io::Error| ViewFileError { path: self.dir.display().to_string(), message: e.to_string() };
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(failed(e)),
        };
        let kept: Vec<PathBuf> = keep.iter().flat_map(|s| [self.path(s), self.next_path(s)]).collect();
        for entry in entries {
            let path = entry.map_err(failed)?.path();
            let view_file = path.extension().is_some_and(|e| e == "view") || path.to_string_lossy().ends_with(".view.next");
            if view_file && !kept.contains(&path) {
                std::fs::remove_file(&path).map_err(failed)?;
            }
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn encode<W: Write>(out: &mut Writer<W>, view: &SourceView, generation: &str) -> std::io::Result<()> {
    let layout = Layout { source: &view.source, generation, names: &view.names, hasher: &view.hasher, count: view.len(), types: &view.types };
    // Two passes over the nodes (lengths and hashes, then bytes): a view being written may
    // itself be read from a file.
    let lengths = view.nodes().map(|node| node.bytes().len() as u64);
    let hashes = view.nodes().map(|node| id_hash(&view.hasher, node.id()));
    layout.write(out, lengths, hashes, |out| view.nodes().try_for_each(|node| out.bytes(node.bytes())))
}

/// What a view's file says before its nodes' bytes.
pub(crate) struct Layout<'a> {
    pub(crate) source: &'a str,
    pub(crate) generation: &'a str,
    pub(crate) names: &'a Names,
    pub(crate) hasher: &'a IdHasher,
    pub(crate) count: usize,
    pub(crate) types: &'a std::collections::BTreeMap<Box<str>, Vec<u32>>,
}

impl Layout<'_> {
    /// The whole file: this, each node's length and id hash (`count` of each), then the nodes'
    /// bytes as `nodes` writes them, and the end mark.
    pub(crate) fn write<W: Write>(
        &self,
        out: &mut Writer<W>,
        lengths: impl Iterator<Item = u64>,
        hashes: impl Iterator<Item = u64>,
        nodes: impl FnOnce(&mut Writer<W>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        out.bytes(MAGIC)?;
        out.number(VERSION)?;
        out.string(self.source)?;
        out.string(self.generation)?;
        for names in [&self.names.predicates, &self.names.tags] {
            out.number(names.len() as u64)?;
            for name in names {
                out.string(name)?;
            }
        }
        out.number(self.hasher.keys.0)?;
        out.number(self.hasher.keys.1)?;
        out.number(self.count as u64)?;
        out.number(self.types.len() as u64)?;
        for (class, positions) in self.types {
            out.string(class)?;
            out.number(positions.len() as u64)?;
            for &p in positions {
                out.number(u64::from(p))?;
            }
        }
        for length in lengths {
            out.number(length)?;
        }
        for hash in hashes {
            out.bytes(&hash.to_le_bytes())?;
        }
        out.bytes(NODES)?;
        nodes(out)?;
        out.bytes(END)
    }
}

/// What a start reads of a view file: the view without its nodes, and where each node ends.
struct Header {
    view: SourceView,
    ends: Vec<u64>,
}

fn decode<R: BufRead>(input: &mut Reader<R>, source: &str, generation: &str) -> Result<Option<Header>, String> {
    input.mark(MAGIC, "musubi view file header")?;
    if input.number()? != VERSION {
        return Ok(None);
    }
    let written_for = input.string()?;
    if written_for != source {
        return Err(format!("holds the view of source {written_for:?}, not {source:?}"));
    }
    let written_from = input.string()?;
    if written_from != generation {
        return Ok(None);
    }
    let mut names = Names::default();
    for list in [&mut names.predicates, &mut names.tags] {
        for _ in 0..input.count()? {
            list.push(input.string()?.into());
        }
    }
    if !names.predicates.is_sorted_by(|a, b| a < b) {
        return Err("the view's predicates are not in order".into());
    }
    let hasher = IdHasher { keys: (input.number()?, input.number()?) };
    let count = input.count()?;
    if count > u32::MAX as usize {
        return Err(format!("{count} nodes (at most {} in a view)", u32::MAX));
    }
    let mut types = std::collections::BTreeMap::new();
    for _ in 0..input.count()? {
        let class = input.string()?;
        let n = input.count()?;
        let mut positions = Vec::with_capacity(n.min(RESERVE));
        for _ in 0..n {
            match u32::try_from(input.number()?) {
                Ok(p) if (p as usize) < count => positions.push(p),
                _ => return Err(format!("a node of class {class} past the last node")),
            }
        }
        types.insert(class.into_boxed_str(), positions);
    }
    let mut ends = Vec::with_capacity(count.min(RESERVE) + 1);
    let mut end = 0u64;
    for _ in 0..count {
        end = end.checked_add(input.number()?).ok_or("node lengths past any file's size")?;
        ends.push(end);
    }
    let mut index = HashTable::with_capacity(count.min(RESERVE));
    let mut hashes = Vec::with_capacity(count.min(RESERVE));
    let mut hash = [0u8; 8];
    for i in 0..count {
        input.exact(&mut hash)?;
        let h = u64::from_le_bytes(hash);
        hashes.push(h);
        index.insert_unique(h, i as u32, |&j: &u32| hashes[j as usize]);
    }
    input.mark(NODES, "mark before the nodes")?;
    let view = SourceView { source: source.to_owned(), names: Arc::new(names), index, hasher, types, generation: Some(written_from), ..SourceView::default() };
    Ok(Some(Header { view, ends }))
}
