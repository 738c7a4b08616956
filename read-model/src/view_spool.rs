//! A large harvest's view, made from the triples it stages — not read back out of the store.
//!
//! A harvest that spools its staged triples to disk (a national source: millions of records)
//! appends each piece here too ([`ViewSpool::append`]). Each triple goes to one of [`BUCKETS`]
//! spool files by its subject's hash, so that every node's triples are in one file. Once the graph is
//! loaded, [`ViewSpool::write_next`] makes the view one bucket at a time and writes each node to
//! the view's file as it is finished: memory holds one bucket's triples and ~20 bytes a node
//! whatever the source's size, where projecting the view from the store held every triple
//! (12 GB for a million datasets) and read each term back from RocksDB.
//!
//! The view is the one [`SourceView::load`] projects from the stored graph: the same nodes,
//! properties and values (each value once, in the same order), the same classes by accession.
//! Only where nodes stand in the file differs (by bucket), which no reader sees: nodes are found
//! by id and classes list theirs by accession (two nodes of one class with one accession in the
//! order of their ids).

use std::collections::{BTreeMap, HashSet};
use std::io::{BufReader, BufWriter, Seek, Write};
use std::path::Path;
use std::sync::Arc;

use oxigraph::model::{BlankNodeRef, NamedNodeRef, NamedOrBlankNodeRef, TermRef, Triple};

use musubi_ontology::vocab;
use musubi_store::{GraphSpool, StoreError};

use crate::file::Layout;
use crate::node::{Encoder, IdHasher, Node, id_hash};
use crate::view::SourceViewBuilder;
use crate::{SourceView, ViewFileError, ViewFiles};

/// How many files a spool spreads its triples over: 40 million triples (a million datasets) are
/// ~160,000 a bucket. Each is a [`GraphSpool`] (so a harvest killed midway leaves nothing that
/// the next start's [`GraphSpool::remove_stale`] does not remove) with a 64 KiB buffer.
pub const BUCKETS: usize = 256;

/// The staged triples of one harvest, spread by subject, until its view is written.
#[derive(Debug)]
pub struct ViewSpool {
    buckets: Vec<GraphSpool>,
    /// Decides each subject's bucket (random keys: a partner cannot choose ids that all land in
    /// one bucket).
    spread: IdHasher,
    /// Every predicate met: the view's names, numbered in order before the first node is encoded.
    predicates: HashSet<Arc<str>>,
}

impl ViewSpool {
    /// A new, empty spool in `staging` (created if missing).
    pub fn new(staging: &Path) -> Result<ViewSpool, StoreError> {
        let buckets = (0..BUCKETS).map(|_| GraphSpool::with_buffer(staging, 1 << 16)).collect::<Result<_, _>>()?;
        Ok(ViewSpool { buckets, spread: IdHasher::random(), predicates: HashSet::new() })
    }

    /// Appends staged triples (as they are written to the graph's spool: prepared).
    pub fn append(&mut self, triples: &[Triple]) -> Result<(), StoreError> {
        for t in triples {
            if !self.predicates.contains(t.predicate.as_str()) {
                self.predicates.insert(t.predicate.as_str().into());
            }
            let bucket = (id_hash(&self.spread, t.subject.as_ref()) % BUCKETS as u64) as usize;
            self.buckets[bucket].append(std::slice::from_ref(t))?;
        }
        Ok(())
    }

    /// A spool of every line of the N-Triples file `triples` (a harvest's graph spool, for a
    /// harvest that fed no view spool as it staged: it copied records from the last one, and
    /// lands whole after all).
    pub fn of_file(staging: &Path, triples: &Path) -> Result<ViewSpool, StoreError> {
        use std::io::BufRead;
        let failed = |e: std::io::Error| StoreError::Spool { path: triples.display().to_string(), message: e.to_string() };
        let mut spool = ViewSpool::new(staging)?;
        let mut reader = BufReader::with_capacity(1 << 20, std::fs::File::open(triples).map_err(failed)?);
        let mut line = Vec::with_capacity(256);
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).map_err(failed)? == 0 {
                return Ok(spool);
            }
            if line.last() != Some(&b'\n') {
                line.push(b'\n');
            }
            spool.append_lines(&line)?;
        }
    }

    /// Appends staged triples as N-Triples lines (each ending in a newline), as a harvest copies
    /// an unchanged record's lines from its memo: each line goes to its subject's bucket as is.
    pub fn append_lines(&mut self, lines: &[u8]) -> Result<(), StoreError> {
        for line in lines.split_inclusive(|b| *b == b'\n') {
            let text = std::str::from_utf8(line).map_err(|e| unreadable(line, &e))?;
            let (subject, rest) = subject_of(text).ok_or_else(|| unreadable(line, &"no subject"))?;
            let predicate = rest.strip_prefix('<').and_then(|r| r.split_once('>')).map(|(p, _)| p).ok_or_else(|| unreadable(line, &"no predicate"))?;
            if !self.predicates.contains(predicate) {
                self.predicates.insert(predicate.into());
            }
            let bucket = (id_hash(&self.spread, subject) % BUCKETS as u64) as usize;
            self.buckets[bucket].append_lines(line)?;
        }
        Ok(())
    }

    /// Writes the view of the graph's `generation` where a harvest writes it before its graph
    /// lands ([`ViewFiles::write_next`]), and returns it read from that file. The spool's files
    /// are removed, written or not.
    pub fn write_next(self, files: &ViewFiles, source: &str, generation: &str) -> Result<SourceView, ViewFileError> {
        let ViewSpool { buckets, predicates, .. } = self;
        let failed = |e: &dyn std::fmt::Display| ViewFileError { path: files.next_path(source).display().to_string(), message: format!("cannot make the view: {e}") };
        let mut encoder = Encoder::new(predicates);
        let hasher = IdHasher::random();
        // The nodes' bytes, in the order they are made, until the file's head is known (a
        // temporary file beside the views, removed when closed).
        std::fs::create_dir_all(files.dir()).map_err(|e| failed(&e))?;
        let mut bytes = BufWriter::with_capacity(1 << 20, tempfile::tempfile_in(files.dir()).map_err(|e| failed(&e))?);
        let (mut lengths, mut hashes) = (Vec::new(), Vec::new());
        // Per class, (accession, id, position) of its nodes.
        let mut classes: BTreeMap<Box<str>, Vec<(Box<str>, Box<str>, u32)>> = BTreeMap::new();
        for bucket in buckets {
            let mut builder = SourceViewBuilder::default();
            for triple in bucket.into_triples().map_err(|e| failed(&e))? {
                builder.add(triple.map_err(|e| failed(&e))?);
            }
            let encoded: Vec<(Vec<u8>, Option<Box<str>>, Vec<Box<str>>)> = builder
                .into_nodes()
                .into_iter()
                .map(|(id, props)| {
                    let classes: Vec<Box<str>> = props
                        .iter()
                        .filter(|(p, _)| **p == *vocab::RDF_TYPE.as_str())
                        .flat_map(|(_, values)| values.iter())
                        .filter_map(|v| match v.as_ref() {
                            TermRef::NamedNode(class) => Some(class.as_str().into()),
                            _ => None,
                        })
                        .collect();
                    let bytes = encoder.node(&id, &props);
                    let id_text = (!classes.is_empty()).then(|| id_text(id.as_ref()));
                    (bytes, id_text, classes)
                })
                .collect();
            // The names as the bucket's nodes use them, to read each typed node's accession.
            let names = Arc::new(encoder.names().clone());
            for (node_bytes, id, node_classes) in encoded {
                let position = u32::try_from(lengths.len()).map_err(|_| failed(&format!("more than {} nodes in one view", u32::MAX)))?;
                if let Some(id) = id {
                    let node = Node::encoded(names.clone(), node_bytes.clone());
                    let accession: Box<str> = node.accession_ref().into();
                    for class in node_classes {
                        classes.entry(class).or_default().push((accession.clone(), id.clone(), position));
                    }
                }
                let node = Node::encoded(names.clone(), node_bytes);
                hashes.push(id_hash(&hasher, node.id()));
                lengths.push(node.bytes().len() as u64);
                bytes.write_all(node.bytes()).map_err(|e| failed(&e))?;
            }
        }
        let mut bytes = bytes.into_inner().map_err(|e| failed(&e.error()))?;
        bytes.rewind().map_err(|e| failed(&e))?;
        let types: BTreeMap<Box<str>, Vec<u32>> = classes
            .into_iter()
            .map(|(class, mut nodes)| {
                nodes.sort_unstable_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
                (class, nodes.into_iter().map(|(_, _, p)| p).collect())
            })
            .collect();
        let names = encoder.finish();
        let layout = Layout { source, generation, names: &names, hasher: &hasher, count: lengths.len(), types: &types };
        files.write_with(&files.next_path(source), |out| {
            layout.write(out, lengths.into_iter(), hashes.into_iter(), |out| {
                std::io::copy(&mut BufReader::with_capacity(1 << 20, &mut bytes), &mut out.output).map(drop)
            })
        })?;
        match files.read_next(source, generation)? {
            Some(view) => Ok(view),
            None => Err(ViewFileError { path: files.next_path(source).display().to_string(), message: "the view just written reads as another generation".into() }),
        }
    }

}

/// A line's subject as the N-Triples writer wrote it (an IRI, which holds neither `>` nor a
/// space, or a blank node's label), and what follows it.
fn subject_of(line: &str) -> Option<(NamedOrBlankNodeRef<'_>, &str)> {
    if let Some(rest) = line.strip_prefix('<') {
        let (iri, rest) = rest.split_once("> ")?;
        Some((NamedNodeRef::new_unchecked(iri).into(), rest))
    } else {
        let (label, rest) = line.strip_prefix("_:")?.split_once(' ')?;
        Some((BlankNodeRef::new_unchecked(label).into(), rest))
    }
}

fn unreadable(line: &[u8], e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Spool { path: "a record's lines".into(), message: format!("{e}: {:?}", String::from_utf8_lossy(line)) }
}

/// A node's id as text, to order two nodes of one class with one accession.
fn id_text(id: NamedOrBlankNodeRef<'_>) -> Box<str> {
    match id {
        NamedOrBlankNodeRef::NamedNode(n) => n.as_str().into(),
        NamedOrBlankNodeRef::BlankNode(b) => format!("_:{}", b.as_str()).into(),
    }
}
