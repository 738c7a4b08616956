//! Source views kept on disk next to the graph (`<data>/views/`), so that `musubi serve` starts by
//! reading each source's view instead of projecting it from the store: decoding every term from
//! RocksDB by point lookup was half of the start-up (perf, 100,000 datasets).
//!
//! A file is a cache of the graph, never the truth. It names the store generation of the graph it
//! was projected from ([`GraphStore::generation`](crate::store::GraphStore::generation)); a file
//! of another generation (a harvest landed since, e.g. by `musubi harvest` in another process), of
//! another format version, or that does not decode, is not used, and the view is projected from
//! the graph again. Graphs stored in place (small ones) have no generation and no file.
//!
//! The format is the view as it is in memory, in order: a header (magic, version, source,
//! generation), the names the nodes refer to by number (predicates, datatypes, language tags),
//! each node (its bytes — id and properties — as [`Node`] holds them: reading a node is copying
//! them and checking them), the positions of datasets, studies and samples, and an end mark that
//! a truncated file lacks. Numbers are LEB128; strings are a length and UTF-8.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hashbrown::HashTable;

use super::node::{Names, id_hash};
use super::{Node, SourceView};
use crate::binary::{Reader, Writer};

const MAGIC: &[u8; 12] = b"musubi view\n";
const END: &[u8; 4] = b"end\n";
/// Raised whenever the layout changes: a file of another version is projected again, not read.
const VERSION: u64 = 4;
/// Nodes per chunk: chunks decode on several threads at once (this crate's tests' views are
/// small: three nodes, so that they span several chunks).
const CHUNK: usize = if cfg!(test) { 3 } else { 1 << 15 };

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

    /// `source`'s view as projected from the graph's `generation`, if a file holds exactly that;
    /// `Ok(None)` for no file, or a file of another generation or format version.
    pub fn read(&self, source: &str, generation: &str) -> Result<Option<SourceView>, ViewFileError> {
        let path = self.path(source);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ViewFileError { path: path.display().to_string(), message: e.to_string() }),
        };
        let mut decoder = Decoder { input: Reader::new(BufReader::with_capacity(1 << 20, file)) };
        decoder.view(source, generation).map_err(|message| ViewFileError {
            path: path.display().to_string(),
            message: format!("{message} (at byte {})", decoder.input.offset),
        })
    }

    /// Writes `view`, projected from the graph's `generation`, replacing the source's file as a
    /// whole (a reader sees the old file or the new one).
    pub fn write(&self, view: &SourceView, generation: &str) -> Result<(), ViewFileError> {
        let path = self.path(&view.source);
        let failed = |e: &dyn std::fmt::Display| ViewFileError { path: path.display().to_string(), message: e.to_string() };
        std::fs::create_dir_all(&self.dir).map_err(|e| failed(&e))?;
        let file = tempfile::NamedTempFile::new_in(&self.dir).map_err(|e| failed(&e))?;
        let mut encoder = Encoder { output: Writer::new(BufWriter::with_capacity(1 << 20, file)) };
        encoder.view(view, generation).map_err(|e| failed(&e))?;
        let file = encoder.output.output.into_inner().map_err(|e| failed(&e.error()))?;
        file.persist(&path).map_err(|e| failed(&e.error))?;
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
        let kept: Vec<PathBuf> = keep.iter().map(|s| self.path(s)).collect();
        for entry in entries {
            let path = entry.map_err(failed)?.path();
            if path.extension().is_some_and(|e| e == "view") && !kept.contains(&path) {
                std::fs::remove_file(&path).map_err(failed)?;
            }
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

struct Encoder<W> {
    output: Writer<W>,
}

impl<W: Write> Encoder<W> {
    fn view(&mut self, view: &SourceView, generation: &str) -> std::io::Result<()> {
        self.output.bytes(MAGIC)?;
        self.number(VERSION)?;
        self.string(&view.source)?;
        self.string(generation)?;
        for names in [&view.names.predicates, &view.names.tags] {
            self.number(names.len() as u64)?;
            for name in names {
                self.string(name)?;
            }
        }
        self.number(view.nodes.len() as u64)?;
        // Each chunk is its node count, its length in bytes and its nodes: it decodes on its own.
        for chunk in view.nodes.chunks(CHUNK) {
            let mut part = Encoder { output: Writer::new(Vec::new()) };
            for node in chunk {
                part.number(node.bytes().len() as u64)?;
                part.output.bytes(node.bytes())?;
            }
            self.number(chunk.len() as u64)?;
            self.number(part.output.output.len() as u64)?;
            self.output.bytes(&part.output.output)?;
        }
        for positions in [&view.datasets, &view.studies, &view.samples] {
            self.number(positions.len() as u64)?;
            for &p in positions {
                self.number(u64::from(p))?;
            }
        }
        self.output.bytes(END)
    }

    fn string(&mut self, s: &str) -> std::io::Result<()> {
        self.output.string(s)
    }

    fn number(&mut self, n: u64) -> std::io::Result<()> {
        self.output.number(n)
    }
}

struct Decoder<R> {
    input: Reader<R>,
}

impl<R: BufRead> Decoder<R> {
    fn view(&mut self, source: &str, generation: &str) -> Result<Option<SourceView>, String> {
        self.input.mark(MAGIC, "musubi view file header")?;
        if self.number()? != VERSION {
            return Ok(None);
        }
        let written_for = self.string()?;
        if written_for != source {
            return Err(format!("holds the view of source {written_for:?}, not {source:?}"));
        }
        let written_from = self.string()?;
        if written_from != generation {
            return Ok(None);
        }
        let mut names = Names::default();
        for list in [&mut names.predicates, &mut names.tags] {
            for _ in 0..self.count()? {
                list.push(self.string()?.into());
            }
        }
        if !names.predicates.is_sorted_by(|a, b| a < b) {
            return Err("the view's predicates are not in order".into());
        }
        let names = Arc::new(names);
        let count = self.count()?;
        let hasher = std::hash::RandomState::new();
        let chunks = self.chunks(count, &names, &hasher)?;
        let mut nodes: Vec<Node> = Vec::with_capacity(count);
        let mut index = HashTable::with_capacity(count);
        for (chunk, hashes) in chunks {
            for (node, hash) in chunk.into_iter().zip(hashes) {
                let i = nodes.len() as u32;
                index.insert_unique(hash, i, |&j: &u32| id_hash(&hasher, nodes[j as usize].id()));
                nodes.push(node);
            }
        }
        let mut typed = || -> Result<Vec<u32>, String> {
            let mut positions = Vec::with_capacity(self.count()?);
            for _ in 0..positions.capacity() {
                match u32::try_from(self.number()?) {
                    Ok(p) if (p as usize) < nodes.len() => positions.push(p),
                    _ => return Err("a position past the last node".into()),
                }
            }
            Ok(positions)
        };
        let (datasets, studies, samples) = (typed()?, typed()?, typed()?);
        self.input.mark(END, "end mark after the last node")?;
        Ok(Some(SourceView { source: source.to_owned(), nodes, names, index, hasher, datasets, studies, samples, generation: Some(written_from) }))
    }

    /// The `count` nodes, in order, with each id's hash: chunks are read here and decoded on
    /// worker threads (a few in flight, so memory holds a few chunks' bytes at most).
    fn chunks(&mut self, count: usize, names: &Arc<Names>, hasher: &std::hash::RandomState) -> Result<Vec<Chunk>, String> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from).clamp(1, 4);
        type Job = (usize, u64, Vec<u8>, usize);
        let (send, receive) = std::sync::mpsc::sync_channel::<Job>(threads * 2);
        let receive = std::sync::Mutex::new(receive);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let job = receive.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
                            let Ok((i, at, bytes, n)) = job else { return done };
                            let decoded = decode_chunk(&bytes, n, names, hasher).map_err(|(e, offset)| format!("{e} (at byte {})", at + offset));
                            done.push((i, decoded));
                        }
                    })
                })
                .collect();
            let read = (|| -> Result<(), String> {
                let (mut nodes, mut i) = (0, 0);
                while nodes < count {
                    let n = self.count()?;
                    let len = self.count()?;
                    if n == 0 || nodes + n > count {
                        return Err(format!("a chunk of {n} nodes where {} remain", count - nodes));
                    }
                    let at = self.input.offset;
                    let mut bytes = vec![0; len.min(1 << 30)];
                    self.input.exact(&mut bytes)?;
                    if len > bytes.len() {
                        return Err(format!("a chunk of {len} bytes"));
                    }
                    if send.send((i, at, bytes, n)).is_err() {
                        break;
                    }
                    (nodes, i) = (nodes + n, i + 1);
                }
                Ok(())
            })();
            drop(send);
            let mut decoded: Vec<(usize, Result<Chunk, String>)> =
                workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect();
            read?;
            decoded.sort_by_key(|(i, _)| *i);
            decoded.into_iter().map(|(_, chunk)| chunk).collect()
        })
    }

    fn count(&mut self) -> Result<usize, String> {
        self.input.count()
    }

    fn string(&mut self) -> Result<String, String> {
        self.input.string()
    }

    fn number(&mut self) -> Result<u64, String> {
        self.input.number()
    }
}

/// A decoded chunk: its nodes, and each id's hash for the view's index.
type Chunk = (Vec<Node>, Vec<u64>);

/// One chunk's `n` nodes and each id's hash; an error says at which byte of the chunk.
fn decode_chunk(bytes: &[u8], n: usize, names: &Arc<Names>, hasher: &std::hash::RandomState) -> Result<Chunk, (String, u64)> {
    let mut decoder = Decoder { input: Reader::new(bytes) };
    let mut nodes = Vec::with_capacity(n);
    let mut hashes = Vec::with_capacity(n);
    let mut one = |decoder: &mut Decoder<&[u8]>| -> Result<(), String> {
        let len = decoder.count()?;
        let mut node = vec![0; len.min(bytes.len())];
        decoder.input.exact(&mut node)?;
        if len > node.len() {
            return Err(format!("a node of {len} bytes"));
        }
        let node = Node::from_bytes(names.clone(), node.into_boxed_slice())?;
        hashes.push(id_hash(hasher, node.id()));
        nodes.push(node);
        Ok(())
    };
    for _ in 0..n {
        one(&mut decoder).map_err(|e| (e, decoder.input.offset))?;
    }
    if decoder.input.offset != bytes.len() as u64 {
        return Err(("a chunk longer than its nodes".into(), decoder.input.offset));
    }
    Ok((nodes, hashes))
}
