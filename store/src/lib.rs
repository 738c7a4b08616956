//! musubi-store, the graph store: where the truth lives.
//!
//! Callers see [`GraphStore`], so that a remote SPARQL 1.1 endpoint (Virtuoso, QLever, Fuseki, …)
//! can stand in for the embedded oxigraph without touching them. The embedded store keeps every
//! source in its own named graph and replaces graphs in one transaction: a reader sees the old
//! graphs or the new ones, never a mix, and a failed harvest leaves the old ones in place.
//!
//! A large graph (a source's harvest: millions of triples at national scale) is not written in
//! that transaction: one RocksDB write batch holding every triple and its indexes took most of a
//! harvest's time and several GiB. It is bulk-loaded first into a fresh *generation* graph
//! (`<graph>#musubi-generation-<n>`) that no reader names, and the transaction only points the
//! graph at it (a triple in [`GENERATIONS`]); the old generation is dropped afterwards in small
//! batches. A crash between those steps leaves an unreferenced generation, dropped at next open.

use std::io::{BufReader, BufWriter, Seek, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use oxigraph::io::{RdfFormat, RdfParser, RdfSerializer};
use oxigraph::model::{GraphNameRef, Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, Quad, QuadRef, Term, Triple};
use oxigraph::store::{Store, Transaction};

/// The graph holding `<graph> musubi:generation <physical graph>` for generation-stored graphs.
pub use musubi_ontology::vocab::GENERATIONS_GRAPH as GENERATIONS;
use musubi_ontology::vocab::MUSUBI_GENERATION as GENERATION;
use musubi_ontology::vocab::MUSUBI_GENERATION_REVISION as REVISION;

mod ledger;

pub use ledger::{RecordHasher, RecordMemo};
const GENERATION_MARK: &str = "#musubi-generation-";
/// Graphs with at least this many triples are bulk-loaded as a new generation.
pub const BULK_THRESHOLD: usize = 50_000;
/// Triples removed per transaction when an old generation is dropped.
const DROP_BATCH: usize = 50_000;

/// One graph's new content, for [`GraphStore::replace`].
#[derive(Debug, Clone, Copy)]
pub struct Replacement<'a> {
    pub graph: NamedNodeRef<'a>,
    pub triples: &'a [Triple],
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data folder {path} is in use by another musubi process (stop it, or use another --data folder)")]
    Locked { path: String },
    #[error("cannot open the graph store in {path}: {message}")]
    Open { path: String, message: String },
    #[error("this musubi was built without on-disk storage (cargo feature `rocksdb`); it can only keep the graph in memory")]
    NoDiskStorage,
    #[error("graph store: {0}")]
    Storage(String),
    #[error("cannot spool a staged graph to {path}: {message}")]
    Spool { path: String, message: String },
}

/// How spool files are named in their folder (what [`GraphSpool::remove_stale`] removes).
const SPOOL_PREFIX: &str = "graph-";
const SPOOL_SUFFIX: &str = ".nt";

/// A graph too large to hold in memory, written to a temporary N-Triples file piece by piece
/// (a harvest's mapped records, a page at a time) until [`GraphStore::replace_from_spool`] swaps
/// it in. The file is removed when the spool is dropped, swapped in or not.
#[derive(Debug)]
pub struct GraphSpool {
    file: BufWriter<tempfile::NamedTempFile>,
    triples: usize,
    /// Bytes written so far: where the next line starts.
    written: u64,
    /// Each record's lines, where the spool keeps them (see [`GraphSpool::keeping_records`]).
    records: Option<ledger::SpoolRecords>,
    /// Triples as N-Triples, before they are written.
    scratch: Vec<u8>,
}

impl GraphSpool {
    /// A new, empty spool file in `dir` (created if missing).
    pub fn new(dir: &Path) -> Result<GraphSpool, StoreError> {
        GraphSpool::with_buffer(dir, 1 << 20)
    }

    /// [`GraphSpool::new`] writing through a buffer of `bytes` (for many spools open at once).
    pub fn with_buffer(dir: &Path, bytes: usize) -> Result<GraphSpool, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Spool { path: dir.display().to_string(), message: e.to_string() })?;
        let file = tempfile::Builder::new()
            .prefix(SPOOL_PREFIX)
            .suffix(SPOOL_SUFFIX)
            .tempfile_in(dir)
            .map_err(|e| StoreError::Spool { path: dir.display().to_string(), message: e.to_string() })?;
        Ok(GraphSpool { file: BufWriter::with_capacity(bytes, file), triples: 0, written: 0, records: None, scratch: Vec::new() })
    }

    /// Notes where each record's lines are ([`GraphSpool::append_record_lines`]), for the store to keep
    /// with the graph's ledger: the next harvest copies an unchanged record's lines instead of
    /// mapping it again ([`GraphStore::record_memo`]). `salt` names what else the records' lines
    /// follow from (the mapping, the vocabulary, this build): a memo is used only with its salt.
    pub fn keeping_records(mut self, salt: &str) -> GraphSpool {
        self.records = Some(ledger::SpoolRecords::new(salt));
        self
    }

    /// A line of text kept with the records (one line: newlines become spaces), read back with
    /// the memo ([`RecordMemo::note`]).
    pub fn set_note(&mut self, note: &str) {
        if let Some(records) = &mut self.records {
            records.note = note.replace(['\n', '\r'], " ");
        }
    }

    /// Appends one record's lines — as [`GraphSpool::write_lines`] writes its triples, or as a
    /// memo gave them ([`RecordMemo::get`]): N-Triples, each line ending in a newline — noted
    /// under `hash` (its input's 128-bit hash) when the spool keeps records.
    pub fn append_record_lines(&mut self, hash: u128, lines: &[u8]) -> Result<(), StoreError> {
        let start = self.written;
        self.append_lines(lines)?;
        if let Some(records) = &mut self.records {
            records.push(hash, start, self.written - start);
        }
        Ok(())
    }

    /// Appends N-Triples lines as they are (each ending in a newline).
    pub fn append_lines(&mut self, lines: &[u8]) -> Result<(), StoreError> {
        self.file.write_all(lines).map_err(|e| self.error(&e))?;
        self.written += lines.len() as u64;
        self.triples += lines.iter().filter(|b| **b == b'\n').count();
        Ok(())
    }

    /// Removes spool files left in `dir` by a harvest that was killed (a spool removes its own
    /// file however a harvest ends, but not if the process dies). Only for the process that
    /// holds the data folder. Returns how many bytes it freed.
    pub fn remove_stale(dir: &Path) -> Result<u64, StoreError> {
        let error = |e: std::io::Error| StoreError::Spool { path: dir.display().to_string(), message: e.to_string() };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(error(e)),
        };
        let mut freed = 0;
        for entry in entries {
            let entry = entry.map_err(error)?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(SPOOL_PREFIX) && name.ends_with(SPOOL_SUFFIX) {
                freed += entry.metadata().map_or(0, |m| m.len());
                std::fs::remove_file(entry.path()).map_err(error)?;
            }
        }
        Ok(freed)
    }

    /// Appends triples (duplicates are fine: the store keeps each triple once).
    pub fn append(&mut self, triples: &[Triple]) -> Result<(), StoreError> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        GraphSpool::write_lines(triples, &mut scratch).map_err(|e| self.error(&e))?;
        self.file.write_all(&scratch).map_err(|e| self.error(&e))?;
        self.written += scratch.len() as u64;
        self.triples += triples.len();
        // A large batch's buffer is not kept for the small ones after it.
        if scratch.capacity() <= 1 << 20 {
            self.scratch = scratch;
        }
        Ok(())
    }

    /// `triples` as the spool writes them (N-Triples, a line each), after what `out` holds: for a
    /// harvest that formats records on several threads and appends their lines in order
    /// ([`GraphSpool::append_lines`]).
    pub fn write_lines(triples: &[Triple], out: &mut Vec<u8>) -> std::io::Result<()> {
        let mut serializer = RdfSerializer::from_format(RdfFormat::NTriples).for_writer(out);
        triples.iter().try_for_each(|t| serializer.serialize_triple(t))?;
        serializer.finish().map(drop)
    }

    /// How many triples were appended (counting any duplicates).
    pub fn len(&self) -> usize {
        self.triples
    }

    pub fn is_empty(&self) -> bool {
        self.triples == 0
    }

    /// The triples appended, read back in order (blank nodes keep their labels); the file is
    /// removed once the iterator is dropped.
    pub fn into_triples(mut self) -> Result<impl Iterator<Item = Result<Triple, StoreError>>, StoreError> {
        let reader = self.reader()?;
        let path = self.file.get_ref().path().display().to_string();
        // Lenient: the spool holds what this process wrote from terms it had (IRIs are not checked
        // again; re-validating every IRI was 6 % of a large harvest's time).
        let parsed = RdfParser::from_format(RdfFormat::NTriples).lenient().for_reader(reader);
        // The spool (its file) lives as long as the iterator.
        Ok(parsed.map(move |quad| {
            let _file = &self.file;
            quad.map(Triple::from).map_err(|e| StoreError::Spool { path: path.clone(), message: e.to_string() })
        }))
    }

    /// The spool's file, with everything appended written out.
    fn flushed(&mut self) -> Result<&Path, StoreError> {
        self.file.flush().map_err(|e| self.error(&e))?;
        Ok(self.file.get_ref().path())
    }

    /// The file, flushed and rewound for reading.
    fn reader(&mut self) -> Result<BufReader<std::fs::File>, StoreError> {
        self.flushed()?;
        let mut file = self.file.get_ref().reopen().map_err(|e| self.error(&e))?;
        file.rewind().map_err(|e| self.error(&e))?;
        Ok(BufReader::with_capacity(1 << 20, file))
    }

    /// What the spool noted of its records, for the ledger (taken: the spool forgets them).
    fn take_records(&mut self) -> Option<ledger::SpoolRecords> {
        let triples = self.triples;
        self.records.take().map(|mut r| {
            r.triples = triples;
            r
        })
    }

    /// The spool's file, written out, for keeping (a ledger) rather than removing.
    fn into_file(self) -> Result<tempfile::NamedTempFile, StoreError> {
        let path = self.file.get_ref().path().display().to_string();
        self.file.into_inner().map_err(|e| StoreError::Spool { path, message: e.error().to_string() })
    }

    fn error(&self, e: &dyn std::fmt::Display) -> StoreError {
        // The file's path, to say where a failure was (disk full, a write refused).
        StoreError::Spool { path: self.file.get_ref().path().display().to_string(), message: e.to_string() }
    }
}

/// Told `(graph, landing)` before any reader sees a replace's new triples for `graph`: for writing
/// what is derived from them first (a source's view); an error there leaves the old graphs. Not
/// told of graphs replaced in place (small ones).
pub type BeforeSwap<'a> = &'a mut dyn FnMut(NamedNodeRef<'_>, &Landing<'_>) -> Result<(), StoreError>;

/// What a replace from a spool wrote, where it wrote only what changed (see
/// [`EmbeddedStore::with_ledgers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delta {
    pub removed: usize,
    pub added: usize,
}

/// Where a replace's new triples for a graph are, as it is about to land (see [`BeforeSwap`]).
#[derive(Debug, Clone, Copy)]
pub struct Landing<'a> {
    /// The physical graph that holds (or, for a delta, will hold) them.
    pub physical: NamedNodeRef<'a>,
    /// What [`GraphStore::generation`] says of the graph once they land: the key of what is
    /// derived from them.
    pub key: &'a str,
    /// Whether `physical` holds them all already, readable by that name
    /// ([`GraphStore::for_each_triple`]): a fresh generation does; a delta is written only as
    /// the graph lands.
    pub loaded: bool,
    /// For a delta, what it changes: what was derived from the content it applies to can be
    /// brought up to date instead of made anew.
    pub delta: Option<LandingDelta<'a>>,
    /// For a replace from a spool, the spool's N-Triples file: every triple of the new content
    /// (a triple may be there twice), readable until the replace returns.
    pub spool: Option<&'a Path>,
}

/// What a delta changes in a graph (see [`Landing::delta`]).
#[derive(Debug, Clone, Copy)]
pub struct LandingDelta<'a> {
    /// What [`GraphStore::generation`] said of the graph before: the key of the content the
    /// delta applies to.
    pub from: &'a str,
    /// The triples it removes and adds (as the spools wrote them).
    pub removed: &'a [Triple],
    pub added: &'a [Triple],
}

/// A store of named graphs.
pub trait GraphStore: Send + Sync {
    /// Replaces each given graph with its new triples, all in one transaction.
    fn replace(&self, replacements: &[Replacement<'_>]) -> Result<(), StoreError> {
        self.replace_with(replacements, &mut |_, _| Ok(()))
    }
    /// [`GraphStore::replace`], telling `before_swap` of each graph whose new triples are held
    /// under a name of their own (a generation; see [`BeforeSwap`]).
    fn replace_with(&self, replacements: &[Replacement<'_>], before_swap: BeforeSwap<'_>) -> Result<(), StoreError>;
    /// Replaces `graph` with the spool's triples and each of `also` with its triples, all in one
    /// transaction as far as readers can tell: they see the old graphs or the new ones.
    /// `progress` is told how many triples are loaded, every million (a national source takes
    /// minutes). `before_swap`: see [`BeforeSwap`]. `Some(delta)`: only what changed was written
    /// (where the store keeps what the graph last held); a delta of nothing wrote nothing at all —
    /// not `also` either, nor was `before_swap` told — since the graph holds the spool's triples
    /// already, and the caller says what it records of that.
    fn replace_from_spool(
        &self,
        graph: NamedNodeRef<'_>,
        spool: GraphSpool,
        also: &[Replacement<'_>],
        progress: &mut dyn FnMut(usize),
        before_swap: BeforeSwap<'_>,
    ) -> Result<Option<Delta>, StoreError>;
    /// Every triple of one named graph.
    fn graph(&self, graph: NamedNodeRef<'_>) -> Result<Vec<Triple>, StoreError>;
    /// Every triple of one named graph, handed to `each` one at a time: a reader that keeps
    /// what it needs (the read model) never holds the whole graph as triples besides.
    fn for_each_triple(&self, graph: NamedNodeRef<'_>, each: &mut dyn FnMut(Triple)) -> Result<(), StoreError> {
        self.graph(graph)?.into_iter().for_each(each);
        Ok(())
    }
    /// The names of the graphs that hold something.
    fn graph_names(&self) -> Result<Vec<NamedNode>, StoreError>;
    /// A name for the current contents of `graph` that every replace changes, where the store
    /// has one (the embedded store's generation, for a bulk-loaded graph); `None` for a graph
    /// stored in place. What is derived from a graph (persisted source views) is kept by it.
    fn generation(&self, _graph: NamedNodeRef<'_>) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
    /// Where the records of `graph`'s last harvest are (each record's lines by its input's
    /// hash), when the store keeps them with the graph's ledger and they were noted with `salt`
    /// ([`GraphSpool::keeping_records`]) for the content the graph holds now; else `None`.
    fn record_memo(&self, _graph: NamedNodeRef<'_>, _salt: &str) -> Result<Option<RecordMemo>, StoreError> {
        Ok(None)
    }
}

/// oxigraph in this process: in memory, or on disk in the data folder (RocksDB).
#[derive(Clone)]
pub struct EmbeddedStore {
    store: Store,
    /// Graphs with this many triples or more are bulk-loaded as a generation (tests lower it).
    bulk_threshold: std::sync::Arc<AtomicUsize>,
    /// Generations a replace left unreferenced, kept for the caller to drop when it suits
    /// ([`Self::deferring_drops`]); `None`: each replace drops them before it returns.
    replaced: std::sync::Arc<std::sync::Mutex<Option<Vec<NamedNode>>>>,
    /// Where each spooled graph's last content is kept, to write only what changed the next time
    /// (see [`Self::with_ledgers`]).
    ledgers: Option<ledger::Ledgers>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmbeddedStore")
    }
}

impl EmbeddedStore {
    /// A store that lives as long as the process: for tests and `connector check`.
    pub fn in_memory() -> EmbeddedStore {
        EmbeddedStore::wrap(Store::new().expect("an in-memory store can always be created"))
    }

    fn wrap(store: Store) -> EmbeddedStore {
        EmbeddedStore { store, bulk_threshold: std::sync::Arc::new(AtomicUsize::new(BULK_THRESHOLD)), replaced: Default::default(), ledgers: None }
    }

    /// A replace no longer drops the generation it replaced: that is as much work as loading one
    /// (a deletion per index of every triple) and nothing reads it once the pointer moved, so the
    /// harvest lands without it and the caller drops it later ([`Self::take_replaced`],
    /// [`Self::drop_generations_now`]). Clones share the list.
    pub fn deferring_drops(self) -> EmbeddedStore {
        *self.replaced.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Vec::new());
        self
    }

    /// Keeps each graph replaced from a spool as a ledger in `dir` (its N-Triples and each line's
    /// hash), so that the next replace of that graph from a spool writes only the triples that
    /// changed into its current generation, in one transaction (a *delta*, the content named
    /// anew: `<generation>@<token>`), instead of loading a fresh generation and dropping the old one —
    /// where the changes are few enough (see [`DELTA_SHARE`]). Costs the disk the N-Triples take.
    pub fn with_ledgers(mut self, dir: std::path::PathBuf) -> EmbeddedStore {
        self.ledgers = Some(ledger::Ledgers::new(dir));
        self
    }

    /// Adds generations to drop later (e.g. those [`Self::unreferenced_generations`] names).
    pub fn defer_drop(&self, generations: Vec<NamedNode>) {
        match self.replaced.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_mut() {
            Some(later) => later.extend(generations),
            None => self.drop_generations(&generations.into_iter().map(Some).collect::<Vec<_>>()),
        }
    }

    /// The generations replaces left to drop, leaving the list empty.
    pub fn take_replaced(&self) -> Vec<NamedNode> {
        self.replaced.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Bulk-loads graphs of `triples` or more as generations (default 50,000).
    pub fn with_bulk_threshold(self, triples: usize) -> EmbeddedStore {
        self.bulk_threshold.store(triples.max(1), Ordering::Relaxed);
        self
    }

    /// The graph that holds `graph`'s triples: its current generation, or itself.
    fn physical(&self, graph: NamedNodeRef<'_>) -> Result<NamedNode, StoreError> {
        for q in self.store.quads_for_pattern(Some(graph.into()), Some(GENERATION), None, Some(GraphNameRef::NamedNode(GENERATIONS))) {
            if let Term::NamedNode(n) = q.map_err(storage)?.object {
                return Ok(n);
            }
        }
        Ok(graph.into_owned())
    }

    /// The token of the last delta applied to `graph`'s current generation (none: none was, or
    /// it is not a generation).
    fn revision(&self, graph: NamedNodeRef<'_>) -> Result<Option<String>, StoreError> {
        for q in self.store.quads_for_pattern(Some(graph.into()), Some(REVISION), None, Some(GraphNameRef::NamedNode(GENERATIONS))) {
            if let Term::Literal(l) = q.map_err(storage)?.object {
                return Ok(Some(l.value().to_owned()));
            }
        }
        Ok(None)
    }

    /// Writes only what changed between `graph`'s ledger and `spool` into its current
    /// generation, with `also`, in one transaction — if the ledger describes what the store holds
    /// and the changes are few enough. `Ok(None)`: nothing was written (the caller loads a fresh
    /// generation); else landed, with the graph's new [`GraphStore::generation`] and the new
    /// spool's lines (its ledger to be) — or, when nothing changed, with nothing written, its
    /// generation as it was and no lines (its ledger stands).
    fn replace_by_delta(
        &self,
        ledgers: &ledger::Ledgers,
        graph: NamedNodeRef<'_>,
        spool: &mut GraphSpool,
        also: &[Replacement<'_>],
        before_swap: BeforeSwap<'_>,
    ) -> Result<Option<(String, Delta, Option<Vec<ledger::Line>>)>, StoreError> {
        let physical = self.physical(graph)?;
        if physical.as_ref() == graph {
            return Ok(None);
        }
        let revision = self.revision(graph)?;
        let Some(old) = ledgers.read(graph, &generation_key(physical.as_ref(), revision.as_deref()))? else { return Ok(None) };
        let path = spool.flushed()?.to_owned();
        let planned = (|| {
            let lines = ledger::lines_of(&path)?;
            let most = ((DELTA_SHARE * (old.count + lines.len()) as f64) as usize).min(DELTA_MAX);
            let Some((mut removed, mut added)) = ledger::diff(&old, &lines, most)? else { return Ok(None) };
            let removed = ledger::triples_at(&old.triples, &mut removed)?;
            let added = ledger::triples_at(&path, &mut added)?;
            let restated = ledger::sharing_subject_and_predicate(&path, &removed)?;
            Ok::<_, StoreError>(Some((lines, removed, added, restated)))
        })();
        let (lines, removed, added, restated) = match planned {
            Ok(Some(plan)) => plan,
            Ok(None) => return Ok(None),
            Err(e) => {
                // A ledger that cannot be read as it should is set aside, never a failed harvest.
                eprintln!("warning: {e}; the ledger of {graph} is set aside and the harvest loads its whole graph");
                ledgers.forget(graph);
                return Ok(None);
            }
        };
        if removed.is_empty() && added.is_empty() {
            // The graph holds these triples already: its content keeps its name, and its ledger stands.
            return Ok(Some((generation_key(physical.as_ref(), revision.as_deref()), Delta { removed: 0, added: 0 }, None)));
        }
        // A name no earlier content had: what a failed attempt derived under it is never taken
        // for what a later one lands.
        let token = unique();
        let key = generation_key(physical.as_ref(), Some(&token));
        let from = generation_key(physical.as_ref(), revision.as_deref());
        let delta = LandingDelta { from: &from, removed: &removed, added: &added };
        before_swap(graph, &Landing { physical: physical.as_ref(), key: &key, loaded: false, delta: Some(delta), spool: Some(&path) })?;
        let mut transaction = self.store.start_transaction().map_err(storage)?;
        for t in &removed {
            transaction.remove(t.as_ref().in_graph(physical.as_ref()));
        }
        for t in added.iter().chain(&restated) {
            transaction.insert(t.as_ref().in_graph(physical.as_ref()));
        }
        clear_revision(&mut transaction, graph)?;
        let token = Literal::new_simple_literal(token);
        transaction.insert(QuadRef::new(graph, REVISION, token.as_ref(), GENERATIONS));
        for r in also {
            transaction.clear_graph(r.graph).map_err(storage)?;
            transaction.extend(r.triples.iter().map(|t| t.as_ref().in_graph(r.graph)));
        }
        transaction.commit().map_err(storage)?;
        Ok(Some((key, Delta { removed: removed.len(), added: added.len() }, Some(lines))))
    }

    /// Removes every triple of `graph`, a batch per transaction (for graphs no reader names).
    fn drop_graph(&self, graph: NamedNodeRef<'_>) -> Result<(), StoreError> {
        loop {
            let batch: Vec<Quad> = self
                .store
                .quads_for_pattern(None, None, None, Some(GraphNameRef::NamedNode(graph)))
                .take(DROP_BATCH)
                .collect::<Result<_, _>>()
                .map_err(storage)?;
            if batch.is_empty() {
                // The name too (oxigraph keeps empty named graphs), now a small transaction.
                return self.store.remove_named_graph(graph).map(|_| ()).map_err(storage);
            }
            let mut transaction = self.store.start_transaction().map_err(storage)?;
            for q in &batch {
                transaction.remove(q);
            }
            transaction.commit().map_err(storage)?;
        }
    }

    /// Bulk-loads a fresh generation of `graph` with `load`, which no reader names until
    /// [`Self::swap_in`] points at it. On failure, what was loaded is dropped.
    fn load_generation(
        &self,
        graph: NamedNodeRef<'_>,
        load: impl FnOnce(&mut oxigraph::store::BulkLoader<'_>, NamedNodeRef<'_>) -> Result<(), StoreError>,
    ) -> Result<NamedNode, StoreError> {
        let generation = NamedNode::new_unchecked(format!("{}{GENERATION_MARK}{}", graph.as_str(), unique()));
        let mut loader = self.store.bulk_loader().with_max_memory_size_in_megabytes(256);
        let loaded = load(&mut loader, generation.as_ref()).and_then(|()| loader.commit().map_err(storage));
        if let Err(e) = loaded {
            self.drop_generations(&[Some(generation)]);
            return Err(e);
        }
        Ok(generation)
    }

    fn drop_generations(&self, generations: &[Option<NamedNode>]) {
        for g in generations.iter().flatten() {
            let _ = self.drop_graph(g.as_ref());
        }
    }

    /// Steps 2 and 3 of a replace: one transaction points the large graphs at their new
    /// generations and writes the small ones in place (if it fails, the new generations are
    /// dropped and nothing changed); then the old generations, now unreferenced, are dropped.
    fn swap_in(&self, replacements: &[Replacement<'_>], generations: Vec<Option<NamedNode>>) -> Result<(), StoreError> {
        let old = match self.swap(replacements, &generations) {
            Ok(old) => old,
            Err(e) => {
                self.drop_generations(&generations);
                return Err(e);
            }
        };
        if let Some(later) = self.replaced.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_mut() {
            later.extend(old);
            return Ok(());
        }
        // The replace has landed: a failure here only leaves an unreferenced generation, which
        // the next open drops.
        for g in old {
            if let Err(e) = self.drop_graph(g.as_ref()) {
                eprintln!("warning: {e}; the unreferenced generation {g} is dropped at the next open");
            }
        }
        Ok(())
    }

    /// Points each large graph at its new generation and replaces each small one in place, in one
    /// transaction; returns the generations the graphs pointed at before.
    fn swap(&self, replacements: &[Replacement<'_>], generations: &[Option<NamedNode>]) -> Result<Vec<NamedNode>, StoreError> {
        let mut transaction = self.store.start_transaction().map_err(storage)?;
        let mut old = Vec::new();
        for (r, generation) in replacements.iter().zip(generations) {
            for pointer in pointers(&transaction, r.graph)? {
                transaction.remove(QuadRef::new(r.graph, GENERATION, pointer.as_ref(), GENERATIONS));
                old.push(pointer);
            }
            // The old ledger never outlives the content it describes.
            if let Some(ledgers) = &self.ledgers {
                ledgers.forget(r.graph);
            }
            // A fresh generation starts with no delta applied.
            clear_revision(&mut transaction, r.graph)?;
            transaction.clear_graph(r.graph).map_err(storage)?;
            match generation {
                Some(g) => transaction.insert(QuadRef::new(r.graph, GENERATION, g.as_ref(), GENERATIONS)),
                None => transaction.extend(r.triples.iter().map(|t| t.as_ref().in_graph(r.graph))),
            }
        }
        transaction.commit().map_err(storage)?;
        Ok(old)
    }

    /// The generations no graph points at: left by a harvest stopped mid-replace (a kill, a
    /// crash). No reader names them; [`Self::drop_generations_now`] removes them.
    pub fn unreferenced_generations(&self) -> Result<Vec<NamedNode>, StoreError> {
        let current: std::collections::HashSet<Term> = self
            .store
            .quads_for_pattern(None, Some(GENERATION), None, Some(GraphNameRef::NamedNode(GENERATIONS)))
            .map(|q| q.map(|q| q.object))
            .collect::<Result<_, _>>()
            .map_err(storage)?;
        let mut orphans = Vec::new();
        for g in self.store.named_graphs() {
            if let NamedOrBlankNode::NamedNode(n) = g.map_err(storage)?
                && n.as_str().contains(GENERATION_MARK)
                && !current.contains(&Term::NamedNode(n.clone()))
            {
                orphans.push(n);
            }
        }
        Ok(orphans)
    }

    /// Removes unreferenced generations (see [`Self::unreferenced_generations`]), a batch of
    /// triples per transaction.
    pub fn drop_generations_now(&self, generations: &[NamedNode]) -> Result<(), StoreError> {
        for g in generations {
            self.drop_graph(g.as_ref())?;
        }
        Ok(())
    }

    /// Writes what RocksDB holds in its memtables to its files, and frees them. Each replace's
    /// writes and each dropped generation's deletions (one per index of every triple) fill the
    /// memtables (64 MiB per column family, a dozen families), which otherwise stay in memory
    /// until full: a hub that re-harvests on a schedule grew by them.
    pub fn flush(&self) -> Result<(), StoreError> {
        // A store in memory has no memtables (and oxigraph no `flush` without RocksDB).
        #[cfg(feature = "rocksdb")]
        self.store.flush().map_err(storage)?;
        Ok(())
    }

    /// Drops every generation no graph points at.
    pub fn drop_unreferenced_generations(&self) -> Result<(), StoreError> {
        self.drop_generations_now(&self.unreferenced_generations()?)
    }

    /// Opens (or creates) the store in `path`. Only one process may hold it open. Generations a
    /// stopped harvest left are not dropped here (that can take minutes for a large source):
    /// [`Self::unreferenced_generations`] names them, for the caller to drop when it suits.
    #[cfg(feature = "rocksdb")]
    pub fn open(path: &Path) -> Result<EmbeddedStore, StoreError> {
        std::fs::create_dir_all(path)
            .map_err(|e| StoreError::Open { path: path.display().to_string(), message: e.to_string() })?;
        let store = Store::open(path).map(EmbeddedStore::wrap).map_err(|e| {
            let message = e.to_string();
            if message.contains("lock") || message.contains("LOCK") {
                StoreError::Locked { path: path.display().to_string() }
            } else {
                StoreError::Open { path: path.display().to_string(), message }
            }
        })?;
        Ok(store)
    }

    #[cfg(not(feature = "rocksdb"))]
    pub fn open(_path: &Path) -> Result<EmbeddedStore, StoreError> {
        Err(StoreError::NoDiskStorage)
    }

    /// The oxigraph store itself, for SPARQL over every graph: the naive SPARQL-per-field peer
    /// `musubi bench naive-sparql` queries it (the hub itself answers from the read model).
    pub fn oxigraph(&self) -> &Store {
        &self.store
    }

}

/// The name of a generation's content: the generation's own name, then `<generation>@<token>`
/// after each delta (a token no other content had).
fn generation_key(physical: NamedNodeRef<'_>, revision: Option<&str>) -> String {
    match revision {
        None => physical.as_str().to_owned(),
        Some(token) => format!("{}@{token}", physical.as_str()),
    }
}

/// A replace writes only what changed (a delta) when the triples removed and added are at most
/// this share of the old and new graphs' together: past it, loading a fresh generation and
/// dropping the old one costs less than a transaction of that size.
pub const DELTA_SHARE: f64 = 0.25;
/// …and at most this many (one transaction holds them all in memory, each in six indexes).
pub const DELTA_MAX: usize = 2_000_000;

/// Removes the token of `graph`'s last delta (see [`EmbeddedStore::revision`]).
fn clear_revision(transaction: &mut Transaction<'_>, graph: NamedNodeRef<'_>) -> Result<(), StoreError> {
    let tokens = transaction.quads_for_pattern(Some(graph.into()), Some(REVISION), None, Some(GraphNameRef::NamedNode(GENERATIONS)));
    for q in tokens.collect::<Result<Vec<_>, _>>().map_err(storage)? {
        transaction.remove(q.as_ref());
    }
    Ok(())
}

/// The generations `graph` points at (one, or none), as seen by `transaction`.
fn pointers(transaction: &Transaction<'_>, graph: NamedNodeRef<'_>) -> Result<Vec<NamedNode>, StoreError> {
    let mut out = Vec::new();
    for q in transaction.quads_for_pattern(Some(graph.into()), Some(GENERATION), None, Some(GraphNameRef::NamedNode(GENERATIONS))) {
        if let Term::NamedNode(n) = q.map_err(storage)?.object {
            out.push(n);
        }
    }
    Ok(out)
}

/// A generation number no earlier replace used: the clock in nanoseconds, and a counter for
/// replaces within one tick.
fn unique() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{nanos}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

fn storage(e: impl std::fmt::Display) -> StoreError {
    StoreError::Storage(e.to_string())
}

impl GraphStore for EmbeddedStore {
    fn replace_with(&self, replacements: &[Replacement<'_>], before_swap: BeforeSwap<'_>) -> Result<(), StoreError> {
        // 1. Large graphs into fresh generations, out of every reader's sight.
        let threshold = self.bulk_threshold.load(Ordering::Relaxed);
        let mut generations: Vec<Option<NamedNode>> = Vec::new();
        for r in replacements {
            let loaded = if r.triples.len() < threshold {
                Ok(None)
            } else {
                self.load_generation(r.graph, |loader, generation| {
                    loader.load_quads(r.triples.iter().map(|t| t.as_ref().in_graph(generation).into_owned())).map_err(storage)
                })
                .map(Some)
            };
            match loaded {
                Ok(g) => generations.push(g),
                Err(e) => {
                    self.drop_generations(&generations);
                    return Err(e);
                }
            }
        }
        for (r, g) in replacements.iter().zip(&generations) {
            if let Some(g) = g
                && let Err(e) = before_swap(r.graph, &Landing { physical: g.as_ref(), key: g.as_str(), loaded: true, delta: None, spool: None })
            {
                self.drop_generations(&generations);
                return Err(e);
            }
        }
        self.swap_in(replacements, generations)
    }

    fn replace_from_spool(
        &self,
        graph: NamedNodeRef<'_>,
        mut spool: GraphSpool,
        also: &[Replacement<'_>],
        progress: &mut dyn FnMut(usize),
        before_swap: BeforeSwap<'_>,
    ) -> Result<Option<Delta>, StoreError> {
        if let Some(ledgers) = &self.ledgers
            && let Some((key, delta, lines)) = self.replace_by_delta(ledgers, graph, &mut spool, also, before_swap)?
        {
            // Landed: a ledger that cannot be kept costs the next harvest a delta.
            let records = spool.take_records();
            if let Some(lines) = lines
                && let Err(e) = spool.into_file().and_then(|file| ledgers.write(graph, &key, file, &lines, records.as_ref()))
            {
                eprintln!("warning: {e}; the next harvest of {graph} loads its whole graph again");
            }
            return Ok(Some(delta));
        }
        let reader = spool.reader()?;
        let generation = self.load_generation(graph, |loader, generation| {
            // Parsed here rather than by the loader's own reader, which renames blank nodes:
            // the graph keeps the labels the mapping gave, as an in-memory replace does. Lenient
            // (IRIs not validated again): the spool is what this process wrote, and a graph small
            // enough to be replaced in memory is stored from its terms unchecked too.
            let mut unreadable = None;
            let mut read = 0;
            let quads = RdfParser::from_format(RdfFormat::NTriples).lenient().with_default_graph(generation).for_reader(reader).map_while(|q| {
                read += 1;
                if read % 1_000_000 == 0 {
                    progress(read);
                }
                q.map_err(|e| unreadable = Some(e)).ok()
            });
            loader.load_quads(quads).map_err(storage)?;
            unreadable.map_or(Ok(()), |e| Err(spool.error(&e)))
        })?;
        let spooled = spool.flushed()?.to_owned();
        if let Err(e) = before_swap(graph, &Landing { physical: generation.as_ref(), key: generation.as_str(), loaded: true, delta: None, spool: Some(&spooled) }) {
            self.drop_generations(&[Some(generation)]);
            return Err(e);
        }
        let key = generation.as_str().to_owned();
        let mut replacements = vec![Replacement { graph, triples: &[] }];
        replacements.extend_from_slice(also);
        let mut generations = vec![Some(generation)];
        generations.extend(also.iter().map(|_| None));
        self.swap_in(&replacements, generations)?;
        if let Some(ledgers) = &self.ledgers {
            // The graph has landed: a ledger that cannot be kept costs the next harvest a delta.
            // (Its lines are made now, not held through the bulk load.)
            let records = spool.take_records();
            let kept = spool.flushed().and_then(|path| ledger::lines_of(path)).and_then(|lines| Ok((spool.into_file()?, lines)));
            if let Err(e) = kept.and_then(|(file, lines)| ledgers.write(graph, &key, file, &lines, records.as_ref())) {
                eprintln!("warning: {e}; the next harvest of {graph} loads its whole graph again");
            }
        }
        Ok(None)
    }

    fn graph(&self, graph: NamedNodeRef<'_>) -> Result<Vec<Triple>, StoreError> {
        let mut triples = Vec::new();
        self.for_each_triple(graph, &mut |t| triples.push(t))?;
        Ok(triples)
    }

    fn for_each_triple(&self, graph: NamedNodeRef<'_>, each: &mut dyn FnMut(Triple)) -> Result<(), StoreError> {
        let physical = self.physical(graph)?;
        for q in self.store.quads_for_pattern(None, None, None, Some(GraphNameRef::NamedNode(physical.as_ref()))) {
            each(Triple::from(q.map_err(storage)?));
        }
        Ok(())
    }

    fn generation(&self, graph: NamedNodeRef<'_>) -> Result<Option<String>, StoreError> {
        let physical = self.physical(graph)?;
        if physical.as_ref() == graph {
            return Ok(None);
        }
        Ok(Some(generation_key(physical.as_ref(), self.revision(graph)?.as_deref())))
    }

    fn record_memo(&self, graph: NamedNodeRef<'_>, salt: &str) -> Result<Option<RecordMemo>, StoreError> {
        let (Some(ledgers), Some(key)) = (&self.ledgers, self.generation(graph)?) else { return Ok(None) };
        match ledgers.record_memo(graph, &key, salt) {
            Ok(memo) => Ok(memo),
            Err(e) => {
                // A memo that cannot be read costs this harvest its mapping, never the harvest.
                eprintln!("warning: {e}; the harvest of {graph} maps every record");
                Ok(None)
            }
        }
    }

    fn graph_names(&self) -> Result<Vec<NamedNode>, StoreError> {
        let mut names = Vec::new();
        for g in self.store.named_graphs() {
            if let NamedOrBlankNode::NamedNode(n) = g.map_err(storage)? {
                if n.as_ref() == GENERATIONS {
                    // Each graph stored as a generation, by its own name.
                    for q in self.store.quads_for_pattern(None, Some(GENERATION), None, Some(GraphNameRef::NamedNode(GENERATIONS))) {
                        if let NamedOrBlankNode::NamedNode(graph) = q.map_err(storage)?.subject {
                            names.push(graph);
                        }
                    }
                } else if !n.as_str().contains(GENERATION_MARK) {
                    names.push(n);
                }
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxigraph::model::{Literal, NamedNode};

    fn t(s: &str, o: &str) -> Triple {
        Triple::new(NamedNode::new_unchecked(s), NamedNode::new_unchecked("http://e/p"), Literal::new_simple_literal(o))
    }

    #[test]
    fn replace_swaps_a_graph_and_leaves_the_others() {
        let store = EmbeddedStore::in_memory();
        let a = NamedNode::new_unchecked("http://e/a");
        let b = NamedNode::new_unchecked("http://e/b");
        store.replace(&[Replacement { graph: a.as_ref(), triples: &[t("http://e/1", "old")] }]).unwrap();
        store.replace(&[Replacement { graph: b.as_ref(), triples: &[t("http://e/2", "b")] }]).unwrap();
        store.replace(&[Replacement { graph: a.as_ref(), triples: &[t("http://e/3", "new")] }]).unwrap();
        assert_eq!(store.graph(a.as_ref()).unwrap(), vec![t("http://e/3", "new")]);
        assert_eq!(store.graph(b.as_ref()).unwrap(), vec![t("http://e/2", "b")]);
        let mut names = store.graph_names().unwrap();
        names.sort();
        assert_eq!(names, vec![a, b]);
    }

    #[test]
    fn large_graphs_are_swapped_as_generations_and_read_by_their_own_name() {
        let store = EmbeddedStore::in_memory().with_bulk_threshold(2);
        let a = NamedNode::new_unchecked("http://e/a");
        let status = NamedNode::new_unchecked("http://e/status");
        let big = |tag: &str| vec![t("http://e/1", tag), t("http://e/2", tag)];
        // Large (a generation) and small (in place) in one replace.
        store.replace(&[Replacement { graph: a.as_ref(), triples: &big("v1") }, Replacement { graph: status.as_ref(), triples: &[t("http://e/s", "1")] }]).unwrap();
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), big("v1"));
        assert_eq!(store.graph_names().unwrap(), vec![a.clone(), status.clone()]);
        // A new generation replaces the old one, which is dropped.
        store.replace(&[Replacement { graph: a.as_ref(), triples: &big("v2") }]).unwrap();
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), big("v2"));
        let mut streamed = Vec::new();
        store.for_each_triple(a.as_ref(), &mut |t| streamed.push(t)).unwrap();
        assert_eq!(sorted(streamed), big("v2"), "streamed from the current generation too");
        let physical: Vec<_> = store.store.named_graphs().map(Result::unwrap).collect();
        assert_eq!(physical.iter().filter(|g| g.to_string().contains(GENERATION_MARK)).count(), 1, "{physical:?}");
        // Small again: stored in place, the generation dropped.
        store.replace(&[Replacement { graph: a.as_ref(), triples: &[t("http://e/3", "small")] }]).unwrap();
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), vec![t("http://e/3", "small")]);
        assert_eq!(store.graph_names().unwrap(), vec![a.clone(), status.clone()]);
        assert!(store.store.named_graphs().map(Result::unwrap).all(|g| !g.to_string().contains(GENERATION_MARK)));
        // Large again after small: the in-place triples go.
        store.replace(&[Replacement { graph: a.as_ref(), triples: &big("v3") }]).unwrap();
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), big("v3"));
    }

    #[test]
    fn a_spooled_graph_is_swapped_in_whole_with_its_status_and_its_file_removed() {
        let store = EmbeddedStore::in_memory();
        let dir = tempfile::tempdir().unwrap();
        let a = NamedNode::new_unchecked("http://e/a");
        let status = NamedNode::new_unchecked("http://e/status");
        store.replace(&[Replacement { graph: a.as_ref(), triples: &[t("http://e/0", "old")] }]).unwrap();
        // Written in pieces, with text N-Triples must escape, a language tag and a blank node.
        let mut spool = GraphSpool::new(&dir.path().join("staging")).unwrap();
        let tricky = Triple::new(
            NamedNode::new_unchecked("http://e/2"),
            NamedNode::new_unchecked("http://e/p"),
            Literal::new_language_tagged_literal_unchecked("肺がん \"quoted\"\nline", "ja"),
        );
        let blank = Triple::new(oxigraph::model::BlankNode::new_unchecked("b1"), NamedNode::new_unchecked("http://e/p"), Literal::new_simple_literal("x"));
        spool.append(&[t("http://e/1", "new")]).unwrap();
        spool.append(&[tricky.clone(), blank.clone(), t("http://e/1", "new")]).unwrap();
        assert_eq!(spool.len(), 4, "duplicates counted as appended");
        // Refused before the swap: the old graph stays, and the loaded generation goes.
        let mut refused = GraphSpool::new(&dir.path().join("staging")).unwrap();
        refused.append(&[t("http://e/9", "never")]).unwrap();
        let refuse = &mut |_: NamedNodeRef<'_>, _: &Landing<'_>| Err(StoreError::Spool { path: "view".into(), message: "cannot write".into() });
        assert!(store.replace_from_spool(a.as_ref(), refused, &[], &mut |_| (), refuse).is_err());
        assert_eq!(store.graph(a.as_ref()).unwrap(), vec![t("http://e/0", "old")]);
        assert!(store.store.named_graphs().map(Result::unwrap).all(|g| !g.to_string().contains(GENERATION_MARK)));
        let mut seen = None;
        let mut before_swap = |_: NamedNodeRef<'_>, landing: &Landing<'_>| {
            // The new triples are in, by the generation's name, while the graph is still the old one.
            assert!(landing.loaded && landing.key == landing.physical.as_str());
            seen = Some((landing.physical.into_owned(), sorted(store.graph(landing.physical)?), store.graph(a.as_ref())?.len()));
            Ok(())
        };
        store.replace_from_spool(a.as_ref(), spool, &[Replacement { graph: status.as_ref(), triples: &[t("http://e/s", "1")] }], &mut |_| (), &mut before_swap).unwrap();
        let mut expected = vec![t("http://e/1", "new"), tricky, blank];
        expected.sort_by_key(ToString::to_string);
        let (generation, new, old) = seen.expect("told before the swap");
        assert_eq!((new, old), (expected.clone(), 1));
        assert_eq!(store.generation(a.as_ref()).unwrap().as_deref(), Some(generation.as_str()), "the graph now points at it");
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), expected, "the old triples go, each new one is there once");
        assert_eq!(store.graph(status.as_ref()).unwrap(), vec![t("http://e/s", "1")]);
        assert_eq!(std::fs::read_dir(dir.path().join("staging")).unwrap().count(), 0, "the spool file is removed");
        // A later small replace in place drops the spooled generation.
        store.replace(&[Replacement { graph: a.as_ref(), triples: &[t("http://e/3", "small")] }]).unwrap();
        assert_eq!(store.graph(a.as_ref()).unwrap(), vec![t("http://e/3", "small")]);
        assert!(store.store.named_graphs().map(Result::unwrap).all(|g| !g.to_string().contains(GENERATION_MARK)));
    }

    #[test]
    fn a_replaced_generation_is_left_to_drop_later_and_never_read() {
        let store = EmbeddedStore::in_memory().with_bulk_threshold(2).deferring_drops();
        let a = NamedNode::new_unchecked("http://e/a");
        let big = |tag: &str| (0..5).map(|i| t(&format!("http://e/{i}"), tag)).collect::<Vec<_>>();
        store.replace(&[Replacement { graph: a.as_ref(), triples: &big("v1") }]).unwrap();
        store.replace(&[Replacement { graph: a.as_ref(), triples: &big("v2") }]).unwrap();
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), sorted(big("v2")), "only the current generation is read");
        assert_eq!(store.graph_names().unwrap(), vec![a.clone()]);
        let replaced = store.take_replaced();
        assert_eq!(replaced.len(), 1);
        assert_eq!(store.store.len().unwrap(), 5 + 5 + 1, "the replaced generation is still there");
        assert_eq!(store.unreferenced_generations().unwrap(), replaced, "and would be found at the next open");
        store.drop_generations_now(&replaced).unwrap();
        assert_eq!(store.store.len().unwrap(), 5 + 1);
        assert!(store.take_replaced().is_empty());
    }

    #[test]
    fn a_generation_left_by_a_crash_is_dropped_and_never_read() {
        let store = EmbeddedStore::in_memory().with_bulk_threshold(2);
        let a = NamedNode::new_unchecked("http://e/a");
        store.replace(&[Replacement { graph: a.as_ref(), triples: &[t("http://e/1", "kept"), t("http://e/2", "kept")] }]).unwrap();
        // A crash after the bulk load, before the pointer moved: a generation nothing points at.
        let orphan = NamedNode::new_unchecked(format!("http://e/a{GENERATION_MARK}0-0"));
        store.store.insert(QuadRef::new(NamedNodeRef::new_unchecked("http://e/9"), NamedNodeRef::new_unchecked("http://e/p"), NamedNodeRef::new_unchecked("http://e/x"), orphan.as_ref())).unwrap();
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), vec![t("http://e/1", "kept"), t("http://e/2", "kept")]);
        assert_eq!(store.graph_names().unwrap(), vec![a.clone()]);
        assert_eq!(store.unreferenced_generations().unwrap(), vec![orphan.clone()], "named for the hub to drop once it is up");
        store.drop_unreferenced_generations().unwrap();
        assert!(!store.store.named_graphs().map(Result::unwrap).any(|g| g == NamedOrBlankNode::NamedNode(orphan.clone())));
        assert_eq!(store.graph(a.as_ref()).unwrap().len(), 2, "the current generation stays");
    }

    #[test]
    fn a_spooled_replace_with_a_ledger_writes_only_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let ledgers = dir.path().join("ledgers");
        let store = EmbeddedStore::in_memory().with_bulk_threshold(2).with_ledgers(ledgers.clone());
        let a = NamedNode::new_unchecked("http://e/a");
        let status = NamedNode::new_unchecked("http://e/status");
        let spool_of = |triples: &[Triple]| spool_in(dir.path(), triples);
        let v1: Vec<Triple> = (0..100).map(|i| t(&format!("http://e/{i}"), "v1")).collect();
        let replace = |triples: &[Triple], stamp: &str| {
            let mut told = None;
            let before = &mut |_: NamedNodeRef<'_>, l: &Landing<'_>| {
                told = Some((l.key.to_owned(), l.loaded));
                Ok(())
            };
            store.replace_from_spool(a.as_ref(), spool_of(triples), &[Replacement { graph: status.as_ref(), triples: &[t("http://e/s", stamp)] }], &mut |_| (), before).unwrap();
            told.expect("told before it lands")
        };
        // The first: a fresh generation, and its ledger.
        let landing = replace(&v1, "1");
        let first = store.generation(a.as_ref()).unwrap().expect("a generation");
        assert_eq!(landing, (first.clone(), true));
        assert_eq!(std::fs::read_dir(&ledgers).unwrap().count(), 2, "the N-Triples and their lines");
        assert_eq!(std::fs::read_dir(dir.path().join("staging")).unwrap().count(), 0, "the spool became the ledger");

        // Three changed, one gone, one new: a delta into the same generation, its content named anew.
        let mut v2 = v1.clone();
        for t2 in v2.iter_mut().take(3) {
            *t2 = t(&t2.subject.to_string().trim_matches(['<', '>']).to_owned(), "v2");
        }
        v2.pop();
        v2.push(t("http://e/100", "v2"));
        let landing = replace(&v2, "2");
        let second = store.generation(a.as_ref()).unwrap().expect("a generation");
        assert!(second.starts_with(&format!("{first}@")), "{second}");
        assert_eq!(landing, (second.clone(), false), "a delta is not readable before it lands");
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), sorted(v2.clone()));
        assert_eq!(store.graph(status.as_ref()).unwrap(), vec![t("http://e/s", "2")], "the rest lands with it");
        assert_eq!(store.store.named_graphs().count(), 3, "one generation, the pointers, the status: nothing to drop");

        // Unchanged: a delta of nothing writes nothing — not the rest either — and is not told
        // before it lands; the content keeps its name (what is derived from it stands).
        let mut told = false;
        let also = [Replacement { graph: status.as_ref(), triples: &[t("http://e/s", "3")] }];
        let delta = store.replace_from_spool(a.as_ref(), spool_of(&v2), &also, &mut |_| (), &mut |_, _| {
            told = true;
            Ok(())
        });
        assert_eq!(delta.unwrap(), Some(Delta { removed: 0, added: 0 }));
        assert!(!told);
        assert_eq!(store.generation(a.as_ref()).unwrap().unwrap(), second);
        assert_eq!(store.graph(status.as_ref()).unwrap(), vec![t("http://e/s", "2")], "the caller says what it records");
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), sorted(v2.clone()));

        // A ledger that does not describe what the store holds (a harvest killed after the store's
        // commit, before the ledger's rename) is not used: a fresh generation, a new ledger.
        let lines = std::fs::read_dir(&ledgers).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "lines")).unwrap();
        let bytes = std::fs::read(&lines).unwrap();
        let header = bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(1).unwrap().0;
        let token = |key: &str| key.rsplit('@').next().unwrap().to_owned();
        let stale = String::from_utf8(bytes[..header].to_vec()).unwrap().replace(&token(&second), "0-0");
        std::fs::write(&lines, [stale.as_bytes(), &bytes[header..]].concat()).unwrap();
        let mut v3 = v2.clone();
        v3[10] = t("http://e/10", "v3");
        replace(&v3, "4");
        let fresh = store.generation(a.as_ref()).unwrap().unwrap();
        assert!(!fresh.contains('@') && fresh != first, "{fresh}");
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), sorted(v3.clone()));
        // Everything changed: past the delta's share, a fresh generation again.
        let v4: Vec<Triple> = (0..100).map(|i| t(&format!("http://e/{i}"), "v4")).collect();
        replace(&v4, "5");
        let fourth = store.generation(a.as_ref()).unwrap().unwrap();
        assert!(!fourth.contains('@') && fourth != fresh, "{fourth}");
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), sorted(v4));
        assert_eq!(store.store.named_graphs().count(), 3, "the replaced generations are dropped");
    }

    #[test]
    fn a_delta_keeps_a_value_another_line_still_states_and_a_damaged_ledger_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let ledgers = dir.path().join("ledgers");
        let store = EmbeddedStore::in_memory().with_bulk_threshold(2).with_ledgers(ledgers.clone());
        let a = NamedNode::new_unchecked("http://e/a");
        let replace = |triples: &[Triple]| store.replace_from_spool(a.as_ref(), spool_in(dir.path(), triples), &[], &mut |_| (), &mut |_, _| Ok(())).unwrap();
        let decimal = |v: &str| {
            let datatype = NamedNode::new_unchecked("http://www.w3.org/2001/XMLSchema#decimal");
            Triple::new(NamedNode::new_unchecked("http://e/x"), NamedNode::new_unchecked("http://e/p"), Literal::new_typed_literal(v, datatype))
        };
        let filler: Vec<Triple> = (0..100).map(|i| t(&format!("http://e/{i}"), "v1")).collect();
        // Two lines, one triple in the store (a decimal is kept by its value).
        replace(&[filler.clone(), vec![decimal("1.50"), decimal("1.5")]].concat());
        assert_eq!(store.graph(a.as_ref()).unwrap().len(), 101);
        // The partner stops stating "1.50": its line goes, and the value "1.5" still states stays.
        let delta = replace(&[filler.clone(), vec![decimal("1.5")]].concat());
        assert_eq!(delta, Some(Delta { removed: 1, added: 0 }));
        assert_eq!(store.graph(a.as_ref()).unwrap().len(), 101, "the value stays");

        // A ledger whose N-Triples were overwritten in place (same length, not triples) is set
        // aside: the harvest loads whole and lands, and a new ledger is kept.
        let nt = std::fs::read_dir(&ledgers).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "nt")).unwrap();
        let len = std::fs::metadata(&nt).unwrap().len() as usize;
        std::fs::write(&nt, "#".repeat(len)).unwrap();
        let mut changed = filler.clone();
        changed[0] = t("http://e/0", "v2");
        assert_eq!(replace(&changed), None, "loaded whole");
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), sorted(changed.clone()));
        changed[1] = t("http://e/1", "v2");
        assert_eq!(replace(&changed), Some(Delta { removed: 1, added: 1 }), "the new ledger is used");
    }

    /// A spool that keeps its records: the store keeps where each record's lines are with the
    /// ledger, for the content that landed and the salt it was noted with only; the next spool
    /// copies a record's lines from there, and its records are kept in turn.
    #[test]
    fn a_ledger_keeps_each_records_lines_for_the_next_harvest() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::in_memory().with_bulk_threshold(2).with_ledgers(dir.path().join("ledgers"));
        let a = NamedNode::new_unchecked("http://e/a");
        let record = |i: u128, tag: &str| vec![t(&format!("http://e/{i}"), tag), t(&format!("http://e/{i}"), &format!("{tag} again"))];
        let as_lines = |triples: &[Triple]| {
            let mut lines = Vec::new();
            GraphSpool::write_lines(triples, &mut lines).unwrap();
            lines
        };
        let land = |spool: GraphSpool| store.replace_from_spool(a.as_ref(), spool, &[], &mut |_| (), &mut |_, _| Ok(())).unwrap();
        assert!(store.record_memo(a.as_ref(), "salt 1").unwrap().is_none(), "nothing landed yet");

        let mut spool = GraphSpool::new(&dir.path().join("staging")).unwrap().keeping_records("salt 1");
        for i in 0..10 {
            spool.append_record_lines(i, &as_lines(&record(i, "v1"))).unwrap();
        }
        spool.set_note("what the records left\nunmatched");
        assert_eq!(land(spool), None, "loaded whole");
        assert!(store.record_memo(a.as_ref(), "salt 2").unwrap().is_none(), "another mapping: not used");
        let memo = store.record_memo(a.as_ref(), "salt 1").unwrap().expect("kept");
        assert_eq!((memo.len(), memo.note()), (10, "what the records left unmatched"));
        let mut lines = b"before\n".to_vec();
        assert!(memo.get(3, &mut lines).unwrap());
        let expected: Vec<u8> = record(3, "v1").iter().flat_map(|t| format!("{t} .\n").into_bytes()).collect();
        assert_eq!(String::from_utf8_lossy(&lines[7..]), String::from_utf8_lossy(&expected), "appended, as written");
        assert!(!memo.get(10, &mut Vec::new()).unwrap(), "no such record");

        // The next harvest: records 0..9 copied, record 9 changed, record 10 new.
        let mut spool = GraphSpool::new(&dir.path().join("staging")).unwrap().keeping_records("salt 1");
        for i in 0..9 {
            let mut copied = Vec::new();
            assert!(memo.get(i, &mut copied).unwrap());
            spool.append_record_lines(i, &copied).unwrap();
        }
        spool.append_record_lines(90, &as_lines(&record(9, "v2"))).unwrap();
        spool.append_record_lines(10, &as_lines(&record(10, "v1"))).unwrap();
        assert_eq!(spool.len(), 22, "lines copied count as triples");
        assert_eq!(land(spool), Some(Delta { removed: 2, added: 4 }));
        let mut expected: Vec<Triple> = (0..9).chain([10]).flat_map(|i| record(i, "v1")).collect();
        expected.extend(record(9, "v2"));
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), sorted(expected));
        let memo = store.record_memo(a.as_ref(), "salt 1").unwrap().expect("kept with the delta's ledger");
        assert_eq!(memo.len(), 11);
        let mut lines = Vec::new();
        assert!(memo.get(90, &mut lines).unwrap() && !memo.get(9, &mut Vec::new()).unwrap());
        assert_eq!(lines, record(9, "v2").iter().flat_map(|t| format!("{t} .\n").into_bytes()).collect::<Vec<u8>>());

        // A records file cut short (a disk that filled, a copy that stopped) is not used: the
        // next harvest maps every record, and loses nothing.
        let records = std::fs::read_dir(dir.path().join("ledgers")).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "records")).unwrap();
        let bytes = std::fs::read(&records).unwrap();
        std::fs::write(&records, &bytes[..bytes.len() - 5]).unwrap();
        assert!(store.record_memo(a.as_ref(), "salt 1").unwrap().is_none(), "a damaged memo is not read");
        std::fs::write(&records, b"not a records file").unwrap();
        assert!(store.record_memo(a.as_ref(), "salt 1").unwrap().is_none());
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()).len(), 22, "the graph stands");

        // Replaced some other way: the ledger and its records are forgotten.
        store.replace(&[Replacement { graph: a.as_ref(), triples: &[t("http://e/x", "in place")] }]).unwrap();
        assert!(store.record_memo(a.as_ref(), "salt 1").unwrap().is_none());
    }

    /// A spool in `<dir>/staging` holding `triples`.
    fn spool_in(dir: &Path, triples: &[Triple]) -> GraphSpool {
        let mut spool = GraphSpool::new(&dir.join("staging")).unwrap();
        spool.append(triples).unwrap();
        spool
    }

    fn sorted(mut triples: Vec<Triple>) -> Vec<Triple> {
        triples.sort_by_key(|t| t.to_string());
        triples
    }

    /// On disk, the generation is bulk-loaded (SST files) and survives a reopen; a replace
    /// after reopening drops the old one.
    #[cfg(feature = "rocksdb")]
    #[test]
    fn generations_persist_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let a = NamedNode::new_unchecked("http://e/a");
        let big = |tag: &str| (0..5).map(|i| t(&format!("http://e/{i}"), tag)).collect::<Vec<_>>();
        {
            let store = EmbeddedStore::open(dir.path()).unwrap().with_bulk_threshold(2);
            store.replace(&[Replacement { graph: a.as_ref(), triples: &big("v1") }]).unwrap();
        }
        let store = EmbeddedStore::open(dir.path()).unwrap().with_bulk_threshold(2);
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), sorted(big("v1")));
        store.replace(&[Replacement { graph: a.as_ref(), triples: &big("v2") }]).unwrap();
        assert_eq!(sorted(store.graph(a.as_ref()).unwrap()), sorted(big("v2")));
        assert_eq!(store.store.len().unwrap(), 5 + 1, "five triples and the generation pointer");
    }
}
