//! Source kinds, one module each, behind [`Connector`]: each turns a manifest into the source's
//! staged graph (mapped to the hub vocabulary, with provenance per record). What happens to the
//! staged graph afterwards (checks, the atomic swap) is the harvest runner's job, the same for
//! every kind.

pub mod csv;
pub mod graphql;
pub mod json_api;
pub mod rdf_dump;
pub mod sparql;
pub mod xml;

use std::future::Future;
use std::sync::Arc;

use musubi_rml::{Mapping, Record, XPath};
use musubi_ontology::rdf::{Literal, NamedNode, NamedOrBlankNode, Triple};
use musubi_read_model::ViewSpool;
use musubi_store::GraphSpool;
use musubi_ontology::vocab::{self, Vocabulary};
use serde_json::Value;
use serde_json_path::JsonPath;

use crate::page_cache::PageCache;
use crate::fetch::{FetchOptions, FetchStats, Sessions};
use crate::error::HarvestError;
use crate::manifest::{Manifest, SourceKind};

/// What a harvest gathered before it is checked and swapped in.
#[derive(Debug, Default)]
pub struct Staged {
    /// The triples mapped since the last spooling (all of them when the harvest does not spool).
    pub triples: Vec<Triple>,
    /// The triples already written to disk, prepared (see [`Spooling`]).
    pub spool: Option<GraphSpool>,
    /// The same triples spread by subject, for the source's view (see [`Spooling::views`]).
    pub view: Option<ViewSpool>,
    /// Records read from the source (JSON or XML records, CSV rows, or RDF entities with
    /// provenance).
    pub records: usize,
    /// How many records the source says it has, when it says (offset paging with a total).
    pub expected: Option<usize>,
    /// Source fields no mapping reference reads, and in how many records (when asked for).
    pub unmapped: std::collections::BTreeMap<String, usize>,
    /// What the harvest guards judge: record ids, properties, values (see [`crate::guards`]).
    pub census: crate::guards::Census,
    /// Records whose input was the last harvest's: their triples copied from its memo, not
    /// mapped again (see [`Spooling::memo`]).
    pub unchanged_records: usize,
    /// With a spool that keeps records: the records mapped since the last spooling, in order,
    /// each with its input's hash and where its triples end in `triples`.
    buffered: Vec<(Option<u128>, usize)>,
    /// The hashes of the records the memo has, whose lines are copied once every record is
    /// read (see [`Staged::settle`]).
    copies: Vec<u128>,
    copied_triples: usize,
    /// Every record was one of the last harvest's, and every one of those came again: the
    /// staged graph is the one that stands (nothing was spooled).
    pub same_as_last: bool,
}

impl Staged {
    /// Every triple staged: spooled and in memory.
    pub fn len(&self) -> usize {
        self.spool.as_ref().map_or(0, GraphSpool::len) + self.triples.len() + self.copied_triples
    }

    /// Once every record is read: what is still in memory goes to the spool, if there is one,
    /// and the lines of the records found in the memo are copied to it — unless the records are
    /// exactly the memo's (none mapped, every one of the memo's seen): then nothing is written
    /// and the harvest is [`Staged::same_as_last`].
    pub(crate) fn settle(&mut self, spooling: Option<&Spooling<'_>>) -> Result<(), HarvestError> {
        let Some(spooling) = spooling else { return Ok(()) };
        let Some(memo) = spooling.memo.as_ref().filter(|_| !self.copies.is_empty()) else {
            return if self.spool.is_some() { spooling.spool(self) } else { Ok(()) };
        };
        let mut distinct = self.copies.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if self.buffered.is_empty() && self.spool.is_none() && distinct.len() == memo.len() {
            self.same_as_last = true;
            self.copied_triples = memo.triples();
            self.copies.clear();
            return Ok(());
        }
        // A source with the last harvest's records is spooled (as it was then), however few of
        // its records were mapped this time.
        spooling.spool(self)?;
        let mut lines = Vec::new();
        for hash in std::mem::take(&mut self.copies) {
            lines.clear();
            if !memo.get(hash, &mut lines)? {
                return Err(HarvestError::Parse { url: "the last harvest's records".into(), message: "a record found there is gone".into() });
            }
            spooling.copy_record(self, hash, &lines)?;
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a harvest writes its staged triples once they outgrow memory: a national database's
/// millions of records would otherwise all be held at once until the swap. Each piece is
/// prepared (identifier IRIs, access levels: both per triple) before it is written. Not for a
/// source with SPARQL CONSTRUCT post-processing, which needs its whole graph in memory.
pub struct Spooling<'a> {
    pub dir: &'a std::path::Path,
    /// Spool once this many triples are staged in memory.
    pub every: usize,
    pub vocabulary: &'a Vocabulary,
    /// The source's guard on invalid values (noted, or dropped before they are written).
    pub invalid: crate::manifest::InvalidValues,
    /// Whether the source's view is made from what is spooled ([`ViewSpool`]): for a harvester
    /// that keeps views in files.
    pub views: bool,
    /// For a source whose records map one at a time (JSON records, rows; XML documents as a
    /// whole): what else their triples follow from (see [`GraphSpool::keeping_records`]), and the last harvest's records, if the
    /// store kept them for this salt. A record whose input hashes as one of those is not mapped
    /// again: its lines are copied.
    pub salt: Option<String>,
    pub memo: Option<musubi_store::RecordMemo>,
}

impl Spooling<'_> {
    /// Prepares the in-memory triples and moves them to the spool file (record by record, with
    /// their hashes, when the spool keeps records).
    pub(crate) fn spool(&self, staged: &mut Staged) -> Result<(), HarvestError> {
        if !staged.buffered.is_empty() {
            let buffered = std::mem::take(&mut staged.buffered);
            let mut triples = std::mem::take(&mut staged.triples).into_iter();
            let mut mapped_at = 0;
            let mut records: Vec<Vec<Triple>> = buffered
                .iter()
                .map(|&(_, end)| {
                    let record = triples.by_ref().take(end - mapped_at).collect();
                    mapped_at = end;
                    record
                })
                .collect();
            // Each record prepared and written as lines on every core; its values checked (and
            // noted) and its lines spooled in record order here.
            on_every_core(&mut records, |record| self.vocabulary.prepare_staged(record));
            for record in &mut records {
                staged.census.observe(record, self.invalid);
            }
            let lines = on_every_core(&mut records, |record| {
                let mut lines = Vec::new();
                GraphSpool::write_lines(record, &mut lines).map(|()| lines)
            });
            let (spool, mut view) = self.spools(&mut staged.spool, &mut staged.view)?;
            for ((hash, _), lines) in buffered.into_iter().zip(lines) {
                let lines = lines.map_err(|e| musubi_store::StoreError::Spool { path: "a record's lines".into(), message: e.to_string() })?;
                match hash {
                    Some(hash) => spool.append_record_lines(hash, &lines)?,
                    None => spool.append_lines(&lines)?,
                }
                if let Some(view) = view.as_deref_mut() {
                    view.append_lines(&lines)?;
                }
            }
            // Triples staged outside any record (none of the kinds that map records stage such):
            // spooled all the same, never lost.
            let rest: Vec<Triple> = triples.collect();
            if !rest.is_empty() {
                staged.triples = rest;
                return self.spool(staged);
            }
            return Ok(());
        }
        self.vocabulary.prepare_staged(&mut staged.triples);
        staged.census.observe(&mut staged.triples, self.invalid);
        let (spool, view) = self.spools(&mut staged.spool, &mut staged.view)?;
        spool.append(&staged.triples)?;
        if let Some(view) = view {
            view.append(&staged.triples)?;
        }
        staged.triples.clear();
        Ok(())
    }

    /// The staged graph's spool and its view's, made at the first piece.
    fn spools<'s>(&self, spool: &'s mut Option<GraphSpool>, view: &'s mut Option<ViewSpool>) -> Result<(&'s mut GraphSpool, Option<&'s mut ViewSpool>), HarvestError> {
        if spool.is_none() {
            let new = GraphSpool::new(self.dir)?;
            *spool = Some(match &self.salt {
                Some(salt) => new.keeping_records(salt),
                None => new,
            });
        }
        // With the last harvest's records the harvest most likely lands as a delta, whose view
        // is made from the last view: none is fed as it stages (made from the spool's file if it
        // lands whole after all).
        let feeds_view = self.views && self.memo.is_none();
        if feeds_view && view.is_none() {
            *view = Some(ViewSpool::new(self.dir)?);
        }
        Ok((spool.as_mut().expect("made above"), if feeds_view { view.as_mut() } else { None }))
    }

    /// One record whose input the last harvest had: its lines, as the memo gave them, spooled
    /// as they are (prepared and checked when they were mapped, with the same mapping and
    /// vocabulary); the census notes their properties.
    fn copy_record(&self, staged: &mut Staged, hash: u128, lines: &[u8]) -> Result<(), HarvestError> {
        staged.census.observe_lines(lines);
        let (spool, view) = self.spools(&mut staged.spool, &mut staged.view)?;
        spool.append_record_lines(hash, lines)?;
        if let Some(view) = view {
            view.append_lines(lines)?;
        }
        Ok(())
    }
}

/// The 128-bit hash of a record's input: the document it was read from (a mapping may read
/// only some files' records, and the document is the record's URL where none is given) and the
/// record's value. What else its triples follow from is the spool's salt.
fn record_hash(url: &str, record: Record<'_>) -> Option<u128> {
    use std::hash::Hasher;
    let mut h = musubi_store::RecordHasher::default();
    h.write_u64(url.len() as u64);
    h.write(url.as_bytes());
    match record {
        Record::Json(value) => hash_value(&mut h, value),
        // An XML record's XPath may read its ancestors and the namespaces in scope: its
        // document is the input (`RecordMapper::map_document`).
        Record::Xml(_) => return None,
    }
    Some(h.finish128())
}

/// Feeds a JSON value to `h`, each part tagged and each length said (two values feed two
/// streams, unless equal).
fn hash_value(h: &mut musubi_store::RecordHasher, value: &Value) {
    use std::hash::Hasher;
    match value {
        Value::Null => h.write_u8(0),
        Value::Bool(b) => h.write_u8(if *b { 2 } else { 1 }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                h.write_u8(3);
                h.write_u64(u);
            } else if let Some(i) = n.as_i64() {
                h.write_u8(4);
                h.write_i64(i);
            } else {
                h.write_u8(5);
                h.write_u64(n.as_f64().unwrap_or(f64::NAN).to_bits());
            }
        }
        Value::String(s) => {
            h.write_u8(6);
            h.write_u64(s.len() as u64);
            h.write(s.as_bytes());
        }
        Value::Array(items) => {
            h.write_u8(7);
            h.write_u64(items.len() as u64);
            items.iter().for_each(|v| hash_value(h, v));
        }
        Value::Object(fields) => {
            h.write_u8(8);
            h.write_u64(fields.len() as u64);
            for (k, v) in fields {
                h.write_u64(k.len() as u64);
                h.write(k.as_bytes());
                hash_value(h, v);
            }
        }
    }
}

/// Told how a harvest advances, e.g. to draw a progress bar.
pub trait Progress: Send + Sync {
    /// `done` records of source `source` read so far, of `expected` if known.
    fn records(&self, source: &str, done: usize, expected: Option<usize>);
    /// `done` of the `of` triples a spooled harvest staged are in the store (its bulk load).
    fn stored(&self, _source: &str, _done: usize, _of: usize) {}
}

/// Progress nobody watches.
#[derive(Debug)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn records(&self, _: &str, _: usize, _: Option<usize>) {}
}

/// Everything a connector needs besides its manifest.
pub struct Context<'a> {
    pub client: &'a reqwest::Client,
    pub source: &'a str,
    pub progress: &'a dyn Progress,
    /// Whether to list the source fields the mapping leaves unmapped (`connector check`).
    pub list_unmapped: bool,
    /// Each source's rate limiter and OAuth2 token, kept between harvests.
    pub(crate) sessions: &'a Sessions,
    /// The pages of the source's last successful harvest, for conditional requests.
    pub(crate) cache: Option<Arc<PageCache>>,
    pub(crate) stats: Arc<FetchStats>,
    /// Where staged triples go once they outgrow memory (a harvest's; a dry run keeps them).
    pub(crate) spooling: Option<Spooling<'a>>,
}

impl Context<'_> {
    /// How this harvest reads the source: its session, its page cache, its counts.
    pub(crate) fn fetch_options(&self, manifest: &Manifest) -> Result<FetchOptions, HarvestError> {
        let session = self.sessions.for_manifest(manifest).map_err(|e| HarvestError::Config(e.to_string()))?;
        Ok(FetchOptions::new(manifest, session, self.cache.clone(), self.stats.clone()))
    }

    /// After each page or file: tells the progress, and spools what outgrew memory.
    pub(crate) fn report(&self, staged: &mut Staged) -> Result<(), HarvestError> {
        self.progress.records(self.source, staged.records, staged.expected);
        match &self.spooling {
            Some(spooling) if staged.triples.len() >= spooling.every => spooling.spool(staged),
            _ => Ok(()),
        }
    }
}

/// A kind of partner source. Live-only kinds (GA4GH Beacon) will answer queries instead of
/// staging a graph; they get their own method when they come.
pub trait Connector {
    fn stage(&self, manifest: &Manifest, cx: &Context<'_>) -> impl Future<Output = Result<Staged, HarvestError>> + Send;
}

/// Stages a source with the connector of its kind.
pub async fn stage(manifest: &Manifest, cx: &Context<'_>) -> Result<Staged, HarvestError> {
    match manifest.kind {
        SourceKind::JsonApi => json_api::JsonApi.stage(manifest, cx).await,
        SourceKind::RdfDump => rdf_dump::RdfDump.stage(manifest, cx).await,
        SourceKind::Csv => csv::Csv.stage(manifest, cx).await,
        SourceKind::Graphql => graphql::Graphql.stage(manifest, cx).await,
        SourceKind::Sparql => sparql::Sparql.stage(manifest, cx).await,
        SourceKind::Xml => xml::Xml.stage(manifest, cx).await,
    }
}

/// Adds what the manifest's SPARQL CONSTRUCT post-processing files build from the staged graph:
/// for what a mapping (or a source's own RDF) cannot say. Run for every kind.
pub(crate) fn post_process(manifest: &Manifest, staged: &mut Staged) -> Result<(), HarvestError> {
    for query_file in &manifest.construct {
        let query = std::fs::read_to_string(query_file).map_err(|e| HarvestError::Config(format!("{}: cannot read: {e}", query_file.display())))?;
        let built = musubi_rml::construct(&staged.triples, &query, &query_file.display().to_string()).map_err(|e| HarvestError::Config(e.to_string()))?;
        staged.triples.extend(built);
    }
    Ok(())
}

/// Provenance of one record's entity: its id and URL at the source. The source itself is the
/// named graph the triples land in, and when it was harvested the source's status (`lastChange`):
/// not a triple per record, so that a harvest writes nothing of a record that did not change.
pub(crate) fn provenance(subject: &NamedOrBlankNode, record_id: Option<&str>, record_url: &str, out: &mut Vec<Triple>) {
    if let Some(id) = record_id {
        out.push(Triple::new(subject.clone(), vocab::MUSUBI_SOURCE_RECORD_ID, Literal::new_simple_literal(id)));
    }
    if let Ok(url) = NamedNode::new(record_url) {
        out.push(Triple::new(subject.clone(), vocab::MUSUBI_SOURCE_RECORD_URL, url));
    }
}

/// Maps records (JSON objects, CSV rows as objects, or XML elements) with the source's RML
/// mapping and gives each record's entities their provenance: shared by every kind whose records
/// are not RDF yet.
pub(crate) struct RecordMapper {
    mapping: Mapping,
    record_id: Vec<RecordPath>,
    record_url: Option<String>,
    /// Whether each record is an entity of its own (JSON, XML), so that two may not share an id;
    /// rows (CSV, SPARQL SELECT) may, several describing one entity.
    unique_ids: bool,
}

/// Where a record keeps a value (its id, a field of its URL): JSONPath, or XPath in XML records.
enum RecordPath {
    Json(JsonPath),
    Xml(XPath),
}

impl RecordPath {
    fn parse(manifest: &Manifest, field: &str, path: &str) -> Result<RecordPath, HarvestError> {
        if manifest.kind == SourceKind::Xml {
            XPath::parse(path)
                .map(RecordPath::Xml)
                .map_err(|e| HarvestError::Config(format!("{}: field `{field}`: {e}", manifest.file.display())))
        } else {
            Ok(RecordPath::Json(json_path(manifest, field, Some(path))?.expect("given")))
        }
    }

    /// The first value found in the record, as text.
    fn value(&self, record: Record<'_>) -> Option<String> {
        match (self, record) {
            (RecordPath::Json(p), Record::Json(v)) => p.query(v).first().and_then(scalar),
            (RecordPath::Xml(p), record) => {
                p.values(record).ok()?.into_iter().map(|v| v.trim().to_owned()).find(|v| !v.is_empty())
            }
            (RecordPath::Json(_), Record::Xml(_)) => None,
        }
    }
}

impl RecordMapper {
    pub(crate) fn new(manifest: &Manifest) -> Result<RecordMapper, HarvestError> {
        let mapping_path = manifest.mapping.as_ref().expect("validated: this kind's manifests have a mapping");
        let text = std::fs::read_to_string(mapping_path)
            .map_err(|e| HarvestError::Config(format!("{}: cannot read the mapping: {e}", mapping_path.display())))?;
        let mapping = Mapping::from_turtle(&text, &mapping_path.display().to_string()).map_err(|e| HarvestError::Config(e.to_string()))?;
        let record_id = manifest.record.id.iter().map(|p| RecordPath::parse(manifest, "record.id", p)).collect::<Result<_, _>>()?;
        let unique_ids = !matches!(manifest.kind, SourceKind::Csv | SourceKind::Sparql);
        Ok(RecordMapper { mapping, record_id, record_url: manifest.record.url.clone(), unique_ids })
    }

    pub(crate) fn map(&self, records: &[Record<'_>], url: &str, cx: &Context<'_>, staged: &mut Staged) -> Result<(), HarvestError> {
        self.map_noting(records, url, None, cx, staged)
    }

    /// Maps one document's records as one entry of the spool's records, under the hash of the
    /// document's URL and bytes: for records that are not their own input (an XML record's
    /// XPath may read the elements around it, and the namespaces declared there). A document
    /// the last harvest had byte for byte is not mapped again: its records are counted and their
    /// ids noted, and its lines copied.
    pub(crate) fn map_document(&self, records: &[Record<'_>], url: &str, bytes: &[u8], cx: &Context<'_>, staged: &mut Staged) -> Result<(), HarvestError> {
        let Some(spooling) = cx.spooling.as_ref().filter(|s| s.salt.is_some()) else { return self.map(records, url, cx, staged) };
        let hash = {
            use std::hash::Hasher;
            let mut h = musubi_store::RecordHasher::default();
            h.write_u64(url.len() as u64);
            h.write(url.as_bytes());
            h.write_u8(9);
            h.write_u64(bytes.len() as u64);
            h.write(bytes);
            h.finish128()
        };
        if spooling.memo.as_ref().is_some_and(|memo| memo.contains(hash)) {
            for (index, &record) in records.iter().enumerate() {
                staged.census.mapped += 1;
                if !self.record_id.is_empty() {
                    let id = self.record_id.iter().find_map(|p| p.value(record));
                    staged.census.record(id.as_deref(), format!("{url} record #{index}"), self.unique_ids);
                }
            }
            staged.copies.push(hash);
            staged.unchanged_records += records.len();
            staged.records += records.len();
            return cx.report(staged);
        }
        self.map_noting(records, url, Some(hash), cx, staged)
    }

    /// With a spool that keeps its records: each record's triples spooled apart under its
    /// input's hash, and one the last harvest had copied instead of mapped — or, given
    /// `document`, all the records' triples under that one hash.
    fn map_noting(&self, records: &[Record<'_>], url: &str, document: Option<u128>, cx: &Context<'_>, staged: &mut Staged) -> Result<(), HarvestError> {
        let by_record = cx.spooling.as_ref().filter(|s| s.salt.is_some() && document.is_none());
        let memo = by_record.and_then(|s| s.memo.as_ref());
        let mapped = self.map_each(records, url, by_record.is_some(), memo);
        for (index, (&record, mapped)) in records.iter().zip(mapped).enumerate() {
            let id = self.record_id.iter().find_map(|p| p.value(record));
            let (hash, mapped) = match mapped {
                Mapped::Copied(hash) => {
                    staged.copies.push(hash);
                    staged.census.mapped += 1;
                    if !self.record_id.is_empty() {
                        staged.census.record(id.as_deref(), format!("{url} record #{index}"), self.unique_ids);
                    }
                    staged.unchanged_records += 1;
                    staged.records += 1;
                    continue;
                }
                Mapped::New { hash, mapped } => (hash, mapped),
            };
            let (mut triples, roots) = mapped.map_err(|e| HarvestError::Mapping {
                url: url.to_owned(),
                record: id.clone().unwrap_or_else(|| format!("#{index}")),
                message: e.to_string(),
            })?;
            staged.triples.append(&mut triples);
            // Which of the mapping's references found a value (those none finds are said).
            let pending = staged.census.unmatched.get_or_insert_with(|| self.mapping.references());
            if !pending.is_empty() {
                self.mapping.matched_references(record, Some(url), pending);
                if !pending.is_empty() {
                    record.names(&mut staged.census.names, crate::guards::NAMES);
                }
            }
            staged.census.mapped += 1;
            // Each record's id, for the guards (where the manifest names one: `record.id`).
            if !self.record_id.is_empty() {
                staged.census.record(id.as_deref(), format!("{url} record #{index}"), self.unique_ids);
            }
            let record_url = self.record_url.as_deref().and_then(|t| expand_url(t, record)).unwrap_or_else(|| url.to_owned());
            for root in &roots {
                provenance(root, id.as_deref(), &record_url, &mut staged.triples);
            }
            if cx.list_unmapped {
                for field in self.mapping.unmapped_fields(record) {
                    *staged.unmapped.entry(field).or_default() += 1;
                }
            }
            if by_record.is_some() {
                staged.buffered.push((hash, staged.triples.len()));
            }
            staged.records += 1;
        }
        if document.is_some() && cx.spooling.as_ref().is_some_and(|s| s.salt.is_some()) {
            staged.buffered.push((document, staged.triples.len()));
        }
        cx.report(staged)
    }

    /// Each record's input hash (`hashed`) and, unless `memo` has it, its triples and roots —
    /// on every core for a page of many records: a record's mapping reads only the record and
    /// the mapping, so the records are split between threads and their results come back in
    /// order (what follows, the census and provenance, is done in record order by the caller).
    fn map_each(&self, records: &[Record<'_>], url: &str, hashed: bool, memo: Option<&musubi_store::RecordMemo>) -> Vec<Mapped> {
        let one = |record: Record<'_>| {
            let hash = if hashed { record_hash(url, record) } else { None };
            if let (Some(memo), Some(hash)) = (memo, hash)
                && memo.contains(hash)
            {
                return Mapped::Copied(hash);
            }
            let mut triples = Vec::new();
            let mapped = self.mapping.map_record_in(record, Some(url), &mut triples).map(|roots| (triples, roots));
            Mapped::New { hash, mapped }
        };
        let mut records = records.to_vec();
        on_every_core(&mut records, |record| one(*record))
    }
}

/// `f` of each item, in order — on every core when there are enough items: each thread takes
/// one run of them (a harvest's records: mapped, prepared, written as lines).
fn on_every_core<T: Send, R: Send>(items: &mut [T], f: impl Fn(&mut T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(1, usize::from).min(items.len() / RECORDS_PER_THREAD).max(1);
    if workers == 1 {
        return items.iter_mut().map(f).collect();
    }
    let size = items.len().div_ceil(workers);
    let f = &f;
    std::thread::scope(|scope| {
        let mut parts = items.chunks_mut(size);
        let first = parts.next().unwrap_or_default();
        let others: Vec<_> = parts.map(|part| scope.spawn(move || part.iter_mut().map(f).collect::<Vec<R>>())).collect();
        let mut all: Vec<R> = first.iter_mut().map(f).collect();
        for other in others {
            all.extend(other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        all
    })
}

/// Fewer records than this a thread are mapped on the harvest's own thread alone.
const RECORDS_PER_THREAD: usize = 32;

/// A record as [`RecordMapper::map_each`] leaves it: found in the last harvest's memo (its lines
/// are copied), or mapped (its triples and the nodes they describe, or why it could not be).
enum Mapped {
    Copied(u128),
    New { hash: Option<u128>, mapped: Result<(Vec<Triple>, Vec<NamedOrBlankNode>), musubi_rml::RecordError> },
}

/// Where a JSON page keeps its records (`paging.records`), and the container they sit in (`$.data`
/// of `$.data[*]`), which every page must have.
pub(crate) struct RecordsPath {
    pub(crate) path: JsonPath,
    text: String,
    container: Option<(JsonPath, String)>,
}

impl RecordsPath {
    pub(crate) fn of(manifest: &Manifest) -> Result<Option<RecordsPath>, HarvestError> {
        let Some(text) = manifest.paging.records.as_deref() else { return Ok(None) };
        let path = json_path(manifest, "paging.records", Some(text))?.expect("given");
        let text = if text.starts_with('$') { text.to_owned() } else { format!("$.{text}") };
        let container = text
            .strip_suffix("[*]")
            .filter(|c| *c != "$" && !c.contains(".."))
            .and_then(|c| Some((JsonPath::parse(c).ok()?, c.to_owned())));
        Ok(Some(RecordsPath { path, text, container }))
    }

    /// A page without the container is a page of another shape: an error naming what it has.
    pub(crate) fn check_shape(&self, page: &Value, url: &str) -> Result<(), HarvestError> {
        let Some((container, name)) = &self.container else { return Ok(()) };
        if !container.query(page).is_empty() {
            return Ok(());
        }
        let keys = match page {
            Value::Object(o) => format!("its keys are {}", o.keys().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ")),
            other => format!("it is {}", match other {
                Value::Array(_) => "an array",
                Value::Null => "null",
                _ => "a single value",
            }),
        };
        Err(HarvestError::Parse {
            url: url.to_owned(),
            message: format!("the page has no {name}, where paging.records ({}) looks for the records ({keys}): its shape differs from the pages before; the harvest stops rather than end early", self.text),
        })
    }
}

/// A manifest's JSONPath field (`$` may be left out), checked.
pub(crate) fn json_path(manifest: &Manifest, field: &str, path: Option<&str>) -> Result<Option<JsonPath>, HarvestError> {
    path.map(|p| {
        let p = if p.starts_with('$') { p.to_owned() } else { format!("$.{p}") };
        JsonPath::parse(&p).map_err(|e| {
            HarvestError::Config(format!("{}: field `{field}`: {p:?} is not a valid JSONPath: {e}", manifest.file.display()))
        })
    })
    .transpose()
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `{field}` placeholders filled from the record (top-level or dotted JSON paths; XPath in XML
/// records, e.g. `{@accession}`).
fn expand_url(template: &str, record: Record<'_>) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}')? + start;
        let key = &rest[start + 1..end];
        let value = match record {
            Record::Json(v) => scalar(JsonPath::parse(&format!("$.{key}")).ok()?.query(v).first()?)?,
            Record::Xml(_) => XPath::parse(key).ok()?.values(record).ok()?.into_iter().next()?,
        };
        out.push_str(&value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}
