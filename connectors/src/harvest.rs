//! The harvest runner: fetch and map a source, check the staged graph, then swap it in.
//!
//! Per source and atomic: the new graph replaces the old in one transaction, or not at all. A
//! source that fails keeps serving its last good graph; the failure is recorded in the source's
//! status (kept in the store, so it survives a restart) and returned to the caller.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use musubi_ontology::rdf::{Literal, NamedNodeRef};
use musubi_read_model::{SourceView, ViewFiles, ViewSpool};
use musubi_store::{GraphStore, Landing, Replacement};
use musubi_ontology::vocab::Vocabulary;

use crate::page_cache::PageCache;
use crate::error::HarvestError;
use crate::fetch::Sessions;
use crate::kinds::{self, Context, NoProgress, Progress};
use crate::manifest::Manifest;
use crate::status::{SourceStatus, source_status, status_triples};
use musubi_ontology::vocab::{source_graph, status_graph};

/// What a successful harvest did.
#[derive(Debug)]
pub struct HarvestReport {
    pub source: String,
    /// What it landed with even so (a shrink that was accepted).
    pub warnings: Vec<String>,
    pub records: usize,
    pub triples: usize,
    /// HTTP requests sent (pages, files, tokens, retries).
    pub requests: usize,
    /// Pages the partner said were unchanged since the last harvest (304), read from the cache.
    pub not_modified: usize,
    pub elapsed: std::time::Duration,
    /// Whether the staged triples outgrew memory and were spooled to disk (see
    /// [`Harvester::with_staging`]).
    pub spooled: bool,
    /// The source's new projection, for the read model (none from a harvester
    /// [`Harvester::without_views`], or when nothing landed).
    pub view: Option<SourceView>,
    /// The partner's documents, the manifest, its mapping and the vocabulary were those of the
    /// graph that stands (see [`content_digest`]), or the triples they made were: nothing landed,
    /// the source's graph and view stay.
    pub unchanged: bool,
    /// The graph landed as only what changed since the last harvest (triples removed, added),
    /// written into the standing graph; `None`: loaded whole.
    pub delta: Option<musubi_store::Delta>,
    /// Records whose input was the last harvest's: copied from its memo, not mapped again.
    pub unchanged_records: usize,
}

/// Harvests one source into `store`, on its own (no page cache, a fresh session). On failure
/// the store keeps the source's last good graph, and only the source's status records the error.
pub async fn harvest(
    manifest: &Manifest,
    store: &dyn GraphStore,
    vocabulary: &Vocabulary,
    client: &reqwest::Client,
) -> Result<HarvestReport, HarvestError> {
    Harvester::new(client.clone()).harvest(manifest, store, vocabulary).await
}

/// See [`Harvester::before_landing`].
pub type BeforeLanding = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// What a running hub's harvests share: the HTTP client, each source's session (rate limiter,
/// OAuth2 token) and, with a cache folder, the pages of each source's last successful harvest
/// for conditional requests. Cheap to clone; clones share all of it.
#[derive(Clone)]
pub struct Harvester {
    client: reqwest::Client,
    sessions: Sessions,
    cache: Option<PathBuf>,
    progress: Arc<dyn Progress>,
    /// Where large harvests spool their staged triples, and after how many.
    staging: Option<(PathBuf, usize)>,
    views: bool,
    /// Where a spooled harvest's view is written before its graph lands (see
    /// [`Harvester::with_view_files`]).
    view_files: Option<ViewFiles>,
    /// Told of each view written before its graph lands (see [`Harvester::before_landing`]).
    before_landing: Option<BeforeLanding>,
    /// Sources whose shrink (and lost properties) an operator accepted for this run.
    accept_shrink: std::collections::HashSet<String>,
}

impl std::fmt::Debug for Harvester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harvester").field("cache", &self.cache).finish_non_exhaustive()
    }
}

impl Harvester {
    pub fn new(client: reqwest::Client) -> Harvester {
        Harvester {
            client,
            sessions: Sessions::default(),
            cache: None,
            progress: Arc::new(NoProgress),
            staging: None,
            views: true,
            view_files: None,
            before_landing: None,
            accept_shrink: Default::default(),
        }
    }

    /// Writes the view of each spooled harvest to `files` before its graph is swapped in
    /// ([`ViewFiles::write_next`]), for the hub to keep once the harvest lands, or, if the hub
    /// stops in between, to read at its next start instead of projecting the graph again.
    pub fn with_view_files(mut self, files: ViewFiles) -> Harvester {
        self.view_files = Some(files);
        self
    }

    /// Calls `hook` with `(source, generation)` once a harvest's view is written to its files
    /// ([`Harvester::with_view_files`]) and before the graph points at the generation: what the
    /// hub derives from the view (merged records, the search index) can be made and kept first.
    pub fn before_landing(mut self, hook: BeforeLanding) -> Harvester {
        self.before_landing = Some(hook);
        self
    }

    /// Lands these sources' harvests even where they remove more records than their guard
    /// allows, or state no more a property they stated (`musubi harvest --accept-shrink ID`).
    pub fn accepting_shrink(mut self, sources: impl IntoIterator<Item = String>) -> Harvester {
        self.accept_shrink.extend(sources);
        self
    }

    /// Spools each harvest's staged triples to a file in `dir` whenever `every` of them are in
    /// memory, so that a source of millions of records is never held whole (without this, a
    /// harvest stages in memory). The spool is bulk-loaded at the swap and removed.
    pub fn with_staging(mut self, dir: PathBuf, every: usize) -> Harvester {
        self.staging = Some((dir, every.max(1)));
        self
    }

    /// Reports carry no view of the source (for a hub that answers no queries, e.g.
    /// `musubi harvest`): projecting one costs as much memory as the staged graph.
    pub fn without_views(mut self) -> Harvester {
        self.views = false;
        self
    }

    /// Keeps each source's pages in `<dir>/<source>/` to ask the partner only for what changed.
    pub fn with_cache(mut self, dir: PathBuf) -> Harvester {
        self.cache = Some(dir);
        self
    }

    /// Tells `progress` how harvests advance.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Harvester {
        self.progress = progress;
        self
    }

    /// Harvests one source into `store`. On failure the store keeps the source's last good
    /// graph (and the cache its last good pages), and only the source's status records the error.
    pub async fn harvest(&self, manifest: &Manifest, store: &dyn GraphStore, vocabulary: &Vocabulary) -> Result<HarvestReport, HarvestError> {
        let started = Instant::now();
        let now = Literal::from(musubi_ontology::now());
        // A spooled source mapped by RML keeps where each record's triples are (each XML
        // document's), by its input's hash: the next harvest copies those of unchanged records
        // instead of mapping them again. The salt is what else they follow from.
        let spools = self.staging.is_some() && manifest.construct.is_empty();
        let salt = (spools && manifest.mapping.is_some())
            .then(|| content_digest(manifest, vocabulary, &[]))
            .flatten()
            .map(|digest| format!("records {digest}"));
        let memo = match &salt {
            Some(salt) => store.record_memo(source_graph(&manifest.id).as_ref(), salt)?.filter(|m| !m.is_empty()),
            None => None,
        };
        let unmatched_before = memo.as_ref().and_then(|m| musubi_rml::Unmatched::from_line(m.note()));
        let cx = Context {
            client: &self.client,
            source: &manifest.id,
            progress: self.progress.as_ref(),
            list_unmapped: false,
            sessions: &self.sessions,
            cache: self.cache.as_ref().map(|dir| Arc::new(PageCache::begin(dir, &manifest.id))),
            stats: Arc::default(),
            spooling: self
                .staging
                .as_ref()
                .filter(|_| manifest.construct.is_empty())
                .map(|(dir, every)| kinds::Spooling {
                    dir,
                    every: *every,
                    vocabulary,
                    invalid: manifest.guards.invalid_values,
                    views: self.views && self.view_files.is_some(),
                    salt,
                    memo,
                }),
        };
        let previous = source_status(store, &manifest.id)?;
        let shrink = if self.accept_shrink.contains(&manifest.id) { crate::guards::Shrink::Accept } else { crate::guards::Shrink::Refuse };
        let staged = stage(manifest, &cx, vocabulary).await.map(|mut staged| {
            // Records copied from the memo were not looked at: they matched what they matched then.
            if staged.unchanged_records > 0 {
                match (&mut staged.census.unmatched, &unmatched_before) {
                    (Some(now), Some(before)) => now.and_before(before),
                    (now @ None, Some(before)) => *now = Some(before.clone()),
                    (_, None) => {}
                }
            }
            if let (Some(spool), Some(unmatched)) = (&mut staged.spool, &staged.census.unmatched) {
                spool.set_note(&unmatched.to_line());
            }
            staged
        });
        let digest = content_digest(manifest, vocabulary, &cx.stats.documents());
        if let Ok(staged) = &staged
            && staged.records > 0
            && ((digest.is_some() && digest == previous.content_digest) || staged.same_as_last)
        {
            let status = SourceStatus {
                last_harvest: Some(now.value().to_owned()),
                last_attempt: Some(now.value().to_owned()),
                last_error: None,
                ..previous
            };
            return self.unchanged(manifest, store, status, (staged.records, staged.len(), staged.spool.is_some(), staged.unchanged_records), cx, started);
        }
        let result = staged.and_then(|mut staged| {
            if staged.records == 0 {
                return Err(HarvestError::Empty);
            }
            // The guards judge it against the last landed harvest before anything is swapped.
            let mut in_memory = std::mem::take(&mut staged.triples);
            staged.census.observe(&mut in_memory, manifest.guards.invalid_values);
            staged.triples = in_memory;
            let warnings = crate::guards::judge(&manifest.guards, &previous, staged.records, &staged.census, shrink).map_err(HarvestError::Guard)?;
            Ok((staged, warnings))
        });
        let requests = cx.stats.requests.load(Ordering::Relaxed);
        let not_modified = cx.stats.not_modified.load(Ordering::Relaxed);

        match result {
            Ok((mut staged, warnings)) => {
                for w in &warnings {
                    tracing::warn!(source = %manifest.id, warning = %w, "harvest landed with a warning");
                }
                let landing = SourceStatus {
                    last_harvest: Some(now.value().to_owned()),
                    last_attempt: Some(now.value().to_owned()),
                    record_count: Some(staged.records as u64),
                    last_error: None,
                    warnings,
                    properties: std::mem::take(&mut staged.census.properties),
                    last_change: Some(now.value().to_owned()),
                    content_digest: digest,
                };
                let graph = source_graph(&manifest.id);
                let status_triples = status_triples(&manifest.id, &landing);
                let status_warnings = landing.warnings.clone();
                let status_graph = status_graph(&manifest.id);
                let status = Replacement { graph: status_graph.as_ref(), triples: &status_triples };
                let triples = staged.len();
                let unchanged_records = staged.unchanged_records;
                // The view is made before the graph points at its new generation, and kept on disk
                // first when there are files (see `with_view_files`): spooled, projected from the
                // generation; in memory, from the staged triples.
                let mut landed_view = None;
                let mut delta = None;
                let write_next = |view: &mut SourceView, generation: &str| {
                    view.set_generation(generation.to_owned());
                    if let Some(files) = &self.view_files {
                        match files.write_next(view, generation) {
                            Ok(()) => {
                                // Read from its file from now on: its nodes leave memory before the
                                // hub merges and indexes it.
                                if let Ok(Some(kept)) = files.read_next(&manifest.id, generation) {
                                    *view = kept;
                                }
                                if let Some(hook) = &self.before_landing {
                                    hook(&manifest.id, generation);
                                }
                            }
                            Err(e) => tracing::warn!(source = %manifest.id, "cannot write the view before the harvest lands: {e}"),
                        }
                    }
                };
                let spooled = match staged.spool.take() {
                    Some(mut spool) => {
                        let mut view_spool = staged.view.take();
                        if let Some(view_spool) = &mut view_spool {
                            view_spool.append(&staged.triples)?;
                        }
                        spool.append(&std::mem::take(&mut staged.triples))?;
                        let mut before_swap = |_: NamedNodeRef<'_>, landing: &Landing<'_>| {
                            if !self.views {
                                return Ok(());
                            }
                            // Made from the staged triples, written to its file as it is made;
                            // projected from the loaded generation only if that failed (and,
                            // for a delta not in the graph yet, from the graph once it landed).
                            // A delta: the last view with the changed nodes made anew, where
                            // the last view is on disk and names every property the delta adds.
                            let overlaid = landing.delta.zip(self.view_files.as_ref()).and_then(|(delta, files)| {
                                let last = files.read_kept(&manifest.id, delta.from).ok().flatten()?;
                                last.overlay_next(files, landing.key, delta.removed, delta.added)
                                    .inspect_err(|e| tracing::warn!(source = %manifest.id, "{e}; making the view whole"))
                                    .ok()
                                    .flatten()
                            });
                            // Else made whole: from what the harvest fed its view spool, or,
                            // where it fed none (it copied records), from the spool's file.
                            let spooled = match overlaid {
                                Some(view) => Some(Ok(view)),
                                None => view_spool
                                    .take()
                                    .or_else(|| {
                                        let (staging, spooled, _) = (self.staging.as_ref()?, landing.spool?, self.view_files.as_ref()?);
                                        ViewSpool::of_file(&staging.0, spooled)
                                            .inspect_err(|e| tracing::warn!(source = %manifest.id, "cannot spread the spool for the view ({e})"))
                                            .ok()
                                    })
                                    .zip(self.view_files.as_ref())
                                    .map(|(view_spool, files)| {
                                        view_spool.write_next(files, &manifest.id, landing.key).inspect_err(|e| {
                                            tracing::warn!(source = %manifest.id, "cannot make the view from the staged triples ({e}); projecting it from the graph");
                                        })
                                    }),
                            };
                            match spooled {
                                Some(Ok(view)) => {
                                    if let Some(hook) = &self.before_landing {
                                        hook(&manifest.id, landing.key);
                                    }
                                    landed_view = Some(view);
                                }
                                _ if landing.loaded => {
                                    let mut view = SourceView::load(store, landing.physical, &manifest.id)?;
                                    write_next(&mut view, landing.key);
                                    landed_view = Some(view);
                                }
                                _ => {}
                            }
                            Ok(())
                        };
                        let mut progress = |done| self.progress.stored(&manifest.id, done, triples);
                        delta = store.replace_from_spool(graph.as_ref(), spool, &[status], &mut progress, &mut before_swap)?;
                        true
                    }
                    None => {
                        landed_view = self.views.then(|| SourceView::from_triples(&manifest.id, staged.triples.iter().cloned()));
                        let mut before_swap = |g: NamedNodeRef<'_>, landing: &Landing<'_>| {
                            if let Some(view) = landed_view.as_mut().filter(|_| g == graph.as_ref()) {
                                write_next(view, landing.key);
                            }
                            Ok(())
                        };
                        match self.staging.as_ref().filter(|_| staged.triples.len() >= musubi_store::BULK_THRESHOLD) {
                            // A graph the store keeps as a generation goes through a spool file,
                            // which the store keeps as the graph's ledger: the next harvest then
                            // writes only what changed.
                            Some((dir, _)) => {
                                let mut spool = musubi_store::GraphSpool::new(dir)?;
                                spool.append(&staged.triples)?;
                                let mut progress = |done| self.progress.stored(&manifest.id, done, triples);
                                delta = store.replace_from_spool(graph.as_ref(), spool, &[status], &mut progress, &mut before_swap)?;
                            }
                            None => store.replace_with(&[Replacement { graph: graph.as_ref(), triples: &staged.triples }, status], &mut before_swap)?,
                        }
                        false
                    }
                };
                if delta.is_some_and(|d| d.removed == 0 && d.added == 0) {
                    // The graph holds these triples already (new bytes, the same records): nothing
                    // landed; the source's content keeps its time of change.
                    let status = SourceStatus { last_change: previous.last_change, ..landing };
                    return self.unchanged(manifest, store, status, (staged.records, triples, spooled, staged.unchanged_records), cx, started);
                }
                if let Some(cache) = cx.cache.and_then(Arc::into_inner) {
                    cache.commit();
                }
                tracing::info!(source = %manifest.id, records = staged.records, triples, spooled, requests, not_modified, "harvested");
                drop(std::mem::take(&mut staged.triples));
                let view = match (self.views, landed_view) {
                    (false, _) => None,
                    (true, Some(view)) => Some(view),
                    // A store that said nothing before the swap: read back from where it now is.
                    (true, None) => Some(SourceView::load(store, graph.as_ref(), &manifest.id)?),
                };
                Ok(HarvestReport {
                    source: manifest.id.clone(),
                    warnings: status_warnings,
                    records: staged.records,
                    triples,
                    requests,
                    not_modified,
                    elapsed: started.elapsed(),
                    spooled,
                    view,
                    unchanged: false,
                    delta,
                    unchanged_records,
                })
            }
            Err(error) => {
                let status = SourceStatus {
                    last_attempt: Some(now.value().to_owned()),
                    last_error: Some(error.to_string()),
                    ..previous
                };
                let status_triples = status_triples(&manifest.id, &status);
                store.replace(&[Replacement { graph: status_graph(&manifest.id).as_ref(), triples: &status_triples }])?;
                tracing::warn!(source = %manifest.id, %error, "harvest failed; the last good graph stays");
                Err(error)
            }
        }
    }
}

impl Harvester {
    /// A harvest whose content digest is the standing graph's, or whose triples are: only the
    /// source's `status` is written (a successful harvest now, any last error cleared); the
    /// graph, its view and its time of change stay. What was staged is let go.
    fn unchanged(
        &self,
        manifest: &Manifest,
        store: &dyn GraphStore,
        status: SourceStatus,
        (records, triples, spooled, unchanged_records): (usize, usize, bool, usize),
        cx: Context<'_>,
        started: Instant,
    ) -> Result<HarvestReport, HarvestError> {
        let status_triples = status_triples(&manifest.id, &status);
        store.replace(&[Replacement { graph: status_graph(&manifest.id).as_ref(), triples: &status_triples }])?;
        if let Some(cache) = cx.cache.and_then(Arc::into_inner) {
            cache.commit();
        }
        let (requests, not_modified) = (cx.stats.requests.load(Ordering::Relaxed), cx.stats.not_modified.load(Ordering::Relaxed));
        tracing::info!(source = %manifest.id, records, requests, not_modified, "harvested: unchanged since the last harvest that landed");
        Ok(HarvestReport {
            source: manifest.id.clone(),
            warnings: status.warnings,
            records,
            triples,
            requests,
            not_modified,
            elapsed: started.elapsed(),
            spooled,
            view: None,
            unchanged: true,
            delta: None,
            unchanged_records,
        })
    }
}

/// What a harvest's graph follows from, as a SHA-256 (hex): this build of musubi, the
/// vocabulary, the manifest (its parsed settings but its schedule; secrets are only named there) and the files it
/// names (mapping, CONSTRUCT queries), and every document the harvest read (URL and bytes, in
/// any order). Two harvests with one digest stage the same graph but for blank node labels and
/// harvest times, so the second need not land. `None` when a named file cannot be read (then
/// the harvest lands, or fails, as it would without the digest).
pub fn content_digest(manifest: &Manifest, vocabulary: &Vocabulary, documents: &[[u8; 32]]) -> Option<String> {
    use aws_lc_rs::digest::{Context, SHA256};
    let mut digest = Context::new(&SHA256);
    digest.update(concat!("musubi ", env!("CARGO_PKG_VERSION"), "\n").as_bytes());
    digest.update(&vocabulary.fingerprint().to_le_bytes());
    // When it is harvested changes nothing it stages.
    let staged_by = Manifest { schedule: None, ..manifest.clone() };
    digest.update(format!("{staged_by:?}").as_bytes());
    for file in manifest.mapping.iter().chain(&manifest.construct) {
        let bytes = std::fs::read(file).ok()?;
        digest.update(&(bytes.len() as u64).to_le_bytes());
        digest.update(&bytes);
    }
    digest.update(&(documents.len() as u64).to_le_bytes());
    for d in documents {
        digest.update(d);
    }
    Some(digest.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect())
}

/// The source's graph as a harvest would store it: fetched, mapped, identifier IRIs and access
/// levels normalised.
/// Shared by the harvest and its dry run (`connector check`).
pub(crate) async fn stage(manifest: &Manifest, cx: &Context<'_>, vocabulary: &Vocabulary) -> Result<kinds::Staged, HarvestError> {
    let mut staged = kinds::stage(manifest, cx).await?;
    staged.settle(cx.spooling.as_ref())?;
    // SPARQL CONSTRUCT post-processing, for what the mapping (or the source's RDF) cannot say
    // (such sources are never spooled: this needs the whole graph).
    kinds::post_process(manifest, &mut staged)?;
    // One IRI per record whichever database named it, so sources meet on one node; access
    // levels normalised (shared with DMP ingest).
    vocabulary.prepare_staged(&mut staged.triples);
    Ok(staged)
}
