//! The running hub: store, vocabulary, manifests, schema, and harvests that keep them current.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use musubi_connectors::harvest::BeforeLanding;
use musubi_connectors::{HarvestError, HarvestReport, Harvester, Manifest};
use musubi_ontology::located::{self, FileError};
use musubi_ontology::disease::DiseaseHierarchy;
use musubi_platform::dmp::SharingPolicy;
use musubi_read_model::{Opening, ReadModel, SourceView, ViewFiles};
use musubi_store::{EmbeddedStore, GraphSpool, GraphStore, StoreError};
use musubi_ontology::vocab::{Vocabulary, VocabularyError};
use musubi_platform::audit::AuditError;
use musubi_platform::fees::{Affiliation, FeeSchedule, MeteredUse};
use musubi_platform::ledger::{Ledger, LedgerError, PauseHook};
use musubi_schema::{AuditCollector, AuditLog, ApiState, ApiSchema, Limits, Prepared, Principal, SourceInfo};
use musubi_search::OnDisk;

use crate::response_cache::{CacheSettings, ResponseCache};

/// How a harvest stages what it maps. Deserialises from a `[harvest]` table.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct HarvestSettings {
    /// A harvest spools its staged triples to `<data>/staging/` each time this many are in
    /// memory (200,000: about 60 MB of triples; the bulk loader takes 128,000 per thread per
    /// batch). A source that outgrows it is kept as a generation with its ledger and, for
    /// records mapped one at a time, each record's triples, which the next harvest copies for
    /// records that did not change instead of mapping them again.
    pub spool_every: usize,
}

impl Default for HarvestSettings {
    fn default() -> HarvestSettings {
        HarvestSettings { spool_every: 200_000 }
    }
}

use crate::identity::{Identity, IdentityConfig};

/// Where the hub keeps its state and finds its sources.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data folder; the graph lives in `<data>/graph` (process records too: access requests,
    /// grants, outcomes, usage), the audit log in `<data>/audit.jsonl`, the fee schedule in
    /// `<data>/fees.toml`,
    /// ontology files (e.g. MONDO) the hub reads at start in `<data>/ontologies/`, the
    /// pages kept for conditional requests in `<data>/cache/<source>/`, a large harvest's
    /// staged triples in `<data>/staging/` until they are swapped in, the read model's source
    /// views in `<data>/views/` and the search index in `<data>/index/` (caches of the graph).
    pub data: PathBuf,
    /// The folder of source manifests (`*.toml`).
    pub sources: PathBuf,
    /// A vocabulary file to use instead of the built-in one (e.g. with changed tiers).
    pub vocabulary: Option<PathBuf>,
    /// The identity file (trusted token issuers); default `<data>/identity.toml` when it exists.
    pub identity: Option<PathBuf>,
    /// The sharing policy (periods per data category, designated databases); default
    /// `<data>/sharing-policy.toml` when it exists.
    pub sharing_policy: Option<PathBuf>,
    /// What one query may ask (depth, cost, page size, aliases, size, tokens).
    pub limits: Limits,
    /// The response cache's size and time bounds.
    pub cache: CacheSettings,
    /// How harvests stage what they map.
    pub harvest: HarvestSettings,
}

impl Config {
    /// The data folder `data` with everything else as `musubi` defaults it: manifests in
    /// `<data>/sources`, the built-in vocabulary, no identity file or sharing policy, default
    /// limits and cache.
    pub fn of_data(data: PathBuf) -> Config {
        Config {
            sources: data.join("sources"),
            data,
            vocabulary: None,
            identity: None,
            sharing_policy: None,
            limits: Limits::default(),
            cache: CacheSettings::default(),
            harvest: HarvestSettings::default(),
        }
    }
}

/// The hub's settings file (`--config`, default `<data>/musubi.toml` when it exists): a
/// `[limits]`, a `[cache]` and a `[harvest]` table, each key optional.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub limits: Limits,
    pub cache: CacheSettings,
    pub harvest: HarvestSettings,
}

impl Settings {
    /// Reads a settings file; an unknown key or a wrong value is an error naming the file, line
    /// and column.
    pub fn load(path: &Path) -> Result<Settings, FileError> {
        let text = located::read(path)?;
        let settings: Settings = located::parse_toml(path, &text)?;
        // A limit of 0 would refuse every query (or page): refused here, where it is written.
        let l = &settings.limits;
        for (key, value, default) in [
            ("depth", l.depth, Limits::default().depth),
            ("cost", l.cost, Limits::default().cost),
            ("page-size", l.page_size, Limits::default().page_size),
            ("query-bytes", l.query_bytes, Limits::default().query_bytes),
            ("tokens", l.tokens, Limits::default().tokens),
        ] {
            if value == 0 {
                return Err(FileError::at(
                    path,
                    &text,
                    key_offset(&text, key),
                    Some(key),
                    format!("[limits] {key} = 0 would refuse every query; give 1 or more (the default is {default})"),
                ));
            }
        }
        if settings.harvest.spool_every == 0 {
            return Err(FileError::at(
                path,
                &text,
                key_offset(&text, "spool-every"),
                Some("spool-every"),
                format!("[harvest] spool-every = 0 would spool every triple alone; give 1 or more (the default is {})", HarvestSettings::default().spool_every),
            ));
        }
        Ok(settings)
    }
}

/// Where `key = …` starts in a TOML `text` (the first line that assigns it).
fn key_offset(text: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('=')) {
            return Some(offset + line.len() - trimmed.len());
        }
        offset += line.len();
    }
    None
}

/// Why the hub cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{} problem(s) in the source manifests:\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Manifests(Vec<FileError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vocabulary(#[from] VocabularyError),
    /// A file the hub reads (settings, identity, fees, sharing policy, vocabulary, ontologies).
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error("process records: {0}")]
    Ledger(#[from] LedgerError),
}

/// The hub: shared by the HTTP server and the harvest runner.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn GraphStore>,
    vocabulary: Arc<Vocabulary>,
    manifests: Arc<Vec<Manifest>>,
    api: Arc<ApiState>,
    audit: Arc<AuditLog>,
    schema: ApiSchema,
    /// The HTTP client, each source's session (rate limiter, OAuth2 token) and page cache.
    harvester: Harvester,
    identity: Arc<Identity>,
    /// Answers to repeated queries, dropped when a harvest ends.
    cache: ResponseCache,
    /// Each source's view kept on disk (`<data>/views`), so that the next start reads it rather
    /// than projecting the graph again; none for a store in memory.
    views: Option<ViewFiles>,
    /// Whether this hub answers queries: `musubi harvest` does not, and only keeps the views of
    /// what lands for the next `serve` (no read model, no search index).
    answers: bool,
    /// How the read model was made at start (with view files only).
    start: Option<Arc<StartReport>>,
    /// Where harvests run: not on the runtime that answers queries.
    harvests: HarvestThread,
    /// The data folder's store, whose replaced generations are dropped after each harvest lands
    /// (none: a store given by the caller, which drops them itself).
    embedded: Option<EmbeddedStore>,
    /// Test-only: where a harvest stops for good (see [`pause_hook`]).
    pause: Option<PauseHook>,
    /// The snapshot a harvest made before its graph landed, with its source and generation:
    /// swapped in once it has (see [`App::prepare_landing`]).
    prepared: PreparedLanding,
}

/// What [`App::answer`] gives: a response run now, or a cached one.
pub(crate) enum Answer {
    Ran(async_graphql::Response),
    Cached(Arc<crate::response_cache::Entry>),
}

/// The snapshot a harvest made before its graph landed: (source, generation, snapshot).
type PreparedLanding = Arc<std::sync::Mutex<Option<(String, String, Prepared)>>>;

/// A harvest's work (fetching, mapping, storing, the new view and search index) runs on a thread
/// of its own, with its own single-threaded tokio runtime, at a lower CPU priority than the
/// threads that answer queries. Mapping, bulk loads and index builds are seconds of CPU and disk
/// work; on the query runtime they held one of its workers meanwhile, and every request queued
/// behind that worker waited for the landing (0.5–2.5 s stalls). Here a harvest takes at most one
/// core, yields it to queries when they need it, and lands by swapping one pointer.
#[derive(Clone)]
struct HarvestThread {
    jobs: tokio::sync::mpsc::UnboundedSender<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl HarvestThread {
    fn start() -> HarvestThread {
        let (jobs, mut queue) = tokio::sync::mpsc::unbounded_channel::<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>();
        std::thread::Builder::new()
            .name("musubi-harvest".to_owned())
            .spawn(move || {
                lower_priority();
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime for harvests");
                // Ends when every App (and every job, which holds one) is gone.
                runtime.block_on(async move {
                    while let Some(job) = queue.recv().await {
                        tokio::spawn(job);
                    }
                });
            })
            .expect("a thread for harvests");
        HarvestThread { jobs }
    }

    /// Runs `job` on the harvest thread, not waiting for it.
    fn detach(&self, job: impl Future<Output = ()> + Send + 'static) {
        if self.jobs.send(Box::pin(job)).is_err() {
            panic!("the harvest thread runs as long as the hub does");
        }
    }

    /// Runs `job` on the harvest thread and waits for its outcome.
    async fn run<T: Send + 'static>(&self, job: impl Future<Output = T> + Send + 'static) -> T {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = Box::pin(async move {
            let _ = tx.send(job.await);
        });
        if self.jobs.send(job).is_err() {
            panic!("the harvest thread runs as long as the hub does");
        }
        rx.await.expect("a harvest runs to its end (a panic in one is a bug)")
    }
}

/// Lowers the calling thread's CPU priority (nice 10; threads it starts inherit it), so that
/// queries come first when the cores are busy. Where it cannot, harvests run at normal priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10) {
        tracing::debug!("harvests run at normal priority: {e}");
    }
}

/// The scheduled harvests' loops, one per source with a `schedule`.
pub struct Scheduler {
    stop: tokio::sync::watch::Sender<bool>,
    loops: Vec<tokio::task::JoinHandle<()>>,
}

impl Scheduler {
    /// How many sources harvest on schedule.
    pub fn len(&self) -> usize {
        self.loops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.loops.is_empty()
    }

    /// Stops every loop: none starts another harvest; a harvest under way gets `grace` to land
    /// (or fail) and is then abandoned, which leaves the graph it would replace as it was.
    /// Returns how many harvests were abandoned.
    pub async fn stop(self, grace: std::time::Duration) -> usize {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        let mut abandoned = 0;
        for mut running in self.loops {
            if tokio::time::timeout_at(deadline, &mut running).await.is_err() {
                running.abort();
                abandoned += 1;
            }
        }
        abandoned
    }
}

/// What a hub is made of. [`Parts::new`] gives a store's hub the defaults a test or a tool wants
/// (an audit log in memory, the built-in MONDO module, no sharing periods, no fees); change a
/// field to give another (`Parts { sharing, ..Parts::new(store, manifests, vocabulary) }`).
/// [`App::open`] fills every part from a data folder.
pub struct Parts {
    pub store: Arc<dyn GraphStore>,
    pub manifests: Vec<Manifest>,
    pub vocabulary: Vocabulary,
    pub audit: Arc<AuditLog>,
    pub diseases: Arc<DiseaseHierarchy>,
    pub sharing: SharingPolicy,
    pub fees: FeeSchedule,
}

impl Parts {
    pub fn new(store: Arc<dyn GraphStore>, manifests: Vec<Manifest>, vocabulary: Vocabulary) -> Parts {
        Parts {
            store,
            manifests,
            vocabulary,
            audit: Arc::new(AuditLog::in_memory()),
            diseases: Arc::new(DiseaseHierarchy::builtin()),
            sharing: SharingPolicy::default(),
            fees: FeeSchedule::default(),
        }
    }
}

/// How a hub on a data folder made its read model at start, for the operator.
#[derive(Debug)]
pub struct StartReport {
    pub opening: Opening,
    /// The view files' folder.
    pub views: PathBuf,
    /// Whether the search index was opened from disk or built (`None`: built in memory, as the
    /// folder could not hold it).
    pub index: Option<OnDisk>,
    /// Read model and search index, from the store's opening on.
    pub elapsed: std::time::Duration,
}

/// What the read model is made from when a hub starts.
enum Projection {
    /// Nothing: `musubi harvest` answers no queries. The views of what it lands are written to
    /// `views` (a large source's made from its staged triples), for `musubi serve` to read.
    Harvest { views: ViewFiles },
    /// The store's graphs (a store in memory, tests).
    Store,
    /// The store's graphs, each source's view read from its file where it holds the graph's
    /// current generation, and the search index kept in `index` (`musubi serve` on a data
    /// folder); without `load`, nothing is read until [`App::reindex`] (`musubi reindex`).
    Files { views: ViewFiles, index: PathBuf, load: bool },
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("sources", &self.manifests.len()).finish()
    }
}

impl App {
    /// Opens the data folder's graph store, the manifests and the vocabulary, and makes the read
    /// model of what the store already holds (no harvest): the kept source views and search
    /// index where they are current, projected and built (and kept) where not.
    pub fn open(config: &Config) -> Result<App, StartError> {
        App::open_with(config, Projection::Files { views: ViewFiles::new(config.data.join("views")), index: config.data.join("index"), load: true })
    }

    /// Opens the data folder to harvest into it, not to answer queries: no read model or search
    /// index is projected (at start or after each source), which would be most of a large
    /// harvest's time and memory; `musubi serve` projects it from the graph when it starts.
    pub fn open_for_harvest(config: &Config) -> Result<App, StartError> {
        App::open_with(config, Projection::Harvest { views: ViewFiles::new(config.data.join("views")) })
    }

    /// Opens the data folder to rebuild its read model, views and index with [`App::reindex`]
    /// (nothing is read or projected before).
    pub fn open_for_reindex(config: &Config) -> Result<App, StartError> {
        App::open_with(config, Projection::Files { views: ViewFiles::new(config.data.join("views")), index: config.data.join("index"), load: false })
    }

    /// One pass down the layers: every file the hub reads (a bad one stops the start before
    /// anything is opened), then the store, the audit log, the ledger over both, and the read
    /// model, search index and schema over all of them.
    fn open_with(config: &Config, projection: Projection) -> Result<App, StartError> {
        let vocabulary = load_vocabulary(config)?;
        let identity_file = config.identity.clone().or_else(|| Some(config.data.join("identity.toml")).filter(|f| f.exists()));
        let identity_config = match identity_file {
            Some(file) => crate::identity::config::load(&file)?,
            None => IdentityConfig::default(),
        };
        let identity = Identity::new(identity_config, Some(&config.data), vocabulary.identifier_schemes().clone());
        let manifests = load_manifests(&config.sources)?;
        let diseases = load_ontologies(&config.data.join("ontologies"))?;
        let sharing = load_sharing_policy(&config.sharing_policy.clone().unwrap_or_else(|| config.data.join("sharing-policy.toml")))?;
        let fees = load_fee_schedule(&config.data.join("fees.toml"))?;
        // Generations a replace leaves unreferenced are dropped after the harvest lands, not in it.
        let store = open_store(config)?.deferring_drops();
        // A harvest stopped mid-replace left generations no graph points at: dropped with those
        // (it can take minutes; nothing reads them meanwhile).
        let orphans = store.unreferenced_generations()?;
        if !orphans.is_empty() {
            tracing::warn!("{} unfinished generation(s) a stopped harvest left in the graph store are dropped in the background", orphans.len());
        }
        store.defer_drop(orphans);
        let embedded = store.clone();
        // The store's lock is ours: no other process harvests into this folder.
        let freed = GraphSpool::remove_stale(&config.data.join("staging"))?;
        if freed > 0 {
            tracing::warn!(bytes = freed, "removed the staged graphs of a harvest that did not finish");
        }
        let (audit, warnings) = AuditLog::open(&config.data.join("audit.jsonl"))?;
        for warning in warnings {
            tracing::warn!("{warning}");
        }
        let store: Arc<dyn GraphStore> = Arc::new(store);
        let mut ledger = Ledger::open(store.clone(), &audit)?;
        if let Some(hook) = pause_hook(&config.data, "MUSUBI_TEST_PAUSE_APPROVAL") {
            ledger = ledger.with_pause(hook);
        }
        let parts = Parts { store, manifests, vocabulary, audit: Arc::new(audit), diseases: Arc::new(diseases), sharing, fees };
        let app = App::assemble(parts, ledger, projection)?
            .with_cache(config.data.join("cache"))
            .with_staging(config.data.join("staging"), config.harvest.spool_every)
            .with_identity(identity)
            .with_limits(config.limits)
            .with_response_cache(config.cache);
        let app = App { embedded: Some(embedded), pause: pause_hook(&config.data, "MUSUBI_TEST_PAUSE_HARVEST"), ..app };
        // `musubi harvest` drops them at its end (`drop_replaced`); a serving hub in the background.
        if app.views.is_some() && app.answers {
            app.drop_replaced_later();
        }
        Ok(app)
    }

    /// A hub made of `parts`, its read model projected from the store's graphs (a store in
    /// memory, tests and tools); [`App::open`] makes one of a data folder.
    pub fn new(parts: Parts) -> Result<App, StartError> {
        let ledger = Ledger::open(parts.store.clone(), &parts.audit)?;
        App::assemble(parts, ledger, Projection::Store)
    }

    fn assemble(parts: Parts, ledger: Ledger, projection: Projection) -> Result<App, StartError> {
        let Parts { store, manifests, vocabulary, audit, diseases, sharing, fees } = parts;
        let started = std::time::Instant::now();
        let queries = !matches!(projection, Projection::Harvest { .. });
        let mut harvest_views = None;
        let (model, views) = match projection {
            Projection::Harvest { views } => {
                harvest_views = Some(views);
                (ReadModel::default(), None)
            }
            Projection::Store => (ReadModel::load(store.as_ref())?, None),
            Projection::Files { views: files, index, load: true } => {
                let (model, opening) = ReadModel::open(store.as_ref(), &files)?;
                (model, Some((files, Some(opening), index)))
            }
            Projection::Files { views: files, index, load: false } => (ReadModel::default(), Some((files, None, index))),
        };
        let identity = Arc::new(Identity::new(IdentityConfig::default(), None, vocabulary.identifier_schemes().clone()));
        let vocabulary = Arc::new(vocabulary);
        let (api, index) = match &views {
            Some((_, Some(_), root)) => ApiState::with_index_on_disk(vocabulary.clone(), model, Vec::new(), root.clone()),
            Some((_, None, root)) => (ApiState::new(vocabulary.clone(), model, Vec::new()).with_index_kept_in(root.clone()), None),
            None => (ApiState::new(vocabulary.clone(), model, Vec::new()), None),
        };
        let api = Arc::new(
            api.with_audit_log(audit.clone())
                .with_diseases(diseases)
                .with_store(store.clone())
                .with_sharing_policy(sharing)
                .with_ledger(Arc::new(ledger)),
        );
        api.set_fee_schedule(fees);
        let (views, start) = match views {
            Some((files, None, _)) => (Some(files), None),
            Some((files, Some(opening), _)) => {
                for warning in &opening.warnings {
                    tracing::warn!("{warning}");
                }
                if let Some(OnDisk::Rebuilt(why)) = &index {
                    tracing::warn!("the search index on disk could not be opened ({why}); built it again");
                }
                let report = StartReport { opening, views: files.dir().to_owned(), index, elapsed: started.elapsed() };
                (Some(files), Some(Arc::new(report)))
            }
            None => (None, None),
        };
        let client = reqwest::Client::builder()
            .user_agent(concat!("musubi/", env!("CARGO_PKG_VERSION"), " (metadata harvester)"))
            .build()
            .expect("the HTTP client's TLS set-up is built in");
        let prepared = PreparedLanding::default();
        // A hub that answers no queries needs no projection of what it harvests.
        let harvester = match (queries, &views) {
            // A large source's view, and what derives from it, are written before its graph
            // lands: a hub stopped in between reads them at its next start.
            (true, Some(files)) => Harvester::new(client).with_view_files(files.clone()).before_landing(App::prepare_landing(&api, files, &prepared)),
            (true, None) => Harvester::new(client),
            (false, _) => match &harvest_views {
                Some(files) => Harvester::new(client).with_view_files(files.clone()),
                None => Harvester::new(client).without_views(),
            },
        };
        let app = App {
            store,
            vocabulary,
            manifests: Arc::new(manifests),
            schema: musubi_schema::build(api.clone()),
            api,
            harvester,
            identity,
            audit,
            cache: ResponseCache::new(CacheSettings::default()),
            views: views.or(harvest_views),
            answers: queries,
            start,
            harvests: HarvestThread::start(),
            embedded: None,
            pause: None,
            prepared,
        };
        app.refresh_sources()?;
        Ok(app)
    }

    /// The same hub, telling `progress` how its harvests advance.
    pub fn with_progress(mut self, progress: Arc<dyn musubi_connectors::Progress>) -> App {
        self.harvester = self.harvester.with_progress(progress);
        self
    }

    /// The same hub, landing these sources' harvests even where they shrink past their guard
    /// (`musubi harvest --accept-shrink ID`).
    pub fn accepting_shrink(mut self, sources: Vec<String>) -> App {
        self.harvester = self.harvester.accepting_shrink(sources);
        self
    }

    /// The same hub, keeping each source's pages in `dir` for conditional requests (`open` uses
    /// `<data>/cache`).
    pub fn with_cache(mut self, dir: PathBuf) -> App {
        self.harvester = self.harvester.with_cache(dir);
        self
    }

    /// The same hub, spooling each harvest's staged triples to files in `dir` whenever `every`
    /// are in memory, rather than holding a large source whole (`open` uses `<data>/staging`).
    pub fn with_staging(mut self, dir: PathBuf, every: usize) -> App {
        self.harvester = self.harvester.with_staging(dir, every);
        self
    }

    /// The same hub, identifying callers with `identity` (trusted issuers, API keys).
    pub fn with_identity(mut self, identity: Identity) -> App {
        self.identity = Arc::new(identity);
        self
    }

    /// The same hub, holding queries to `limits`.
    pub fn with_limits(self, limits: Limits) -> App {
        self.api.set_limits(limits);
        self
    }

    pub fn limits(&self) -> Limits {
        self.api.limits()
    }

    /// The same hub, with a response cache bounded by `settings` (a fresh, empty one).
    pub fn with_response_cache(mut self, settings: CacheSettings) -> App {
        self.cache = ResponseCache::new(settings);
        self
    }

    pub fn response_cache(&self) -> &ResponseCache {
        &self.cache
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    pub fn audit_log(&self) -> &Arc<AuditLog> {
        &self.audit
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    pub fn schema(&self) -> &ApiSchema {
        &self.schema
    }

    /// Runs one GraphQL request for `principal`, then appends the CONTROLLED and STEWARD reads it
    /// made to the audit log (synced to disk) before the response may leave. A log that cannot
    /// be written fails the request: no audited value is served unaudited. A repeated query is
    /// answered from the response cache, and the reads its first run made are appended again,
    /// for this caller.
    pub async fn execute(&self, request: async_graphql::Request, principal: Principal) -> Result<async_graphql::Response, AuditError> {
        self.execute_as(request, principal, None).await
    }

    /// [`App::execute`] for a caller whose credential states `affiliation`: the request is
    /// metered to it as a live query (fees), answered from the cache or not. Grants the hub issued
    /// to the caller (by subject and issuer) are added to the credential's own here, checked
    /// against the clock at each request: an expiry or a revocation counts from the next request
    /// on (and, being part of the cache key, never reaches a cached answer made with them).
    pub async fn execute_as(
        &self,
        request: async_graphql::Request,
        principal: Principal,
        affiliation: Option<Affiliation>,
    ) -> Result<async_graphql::Response, AuditError> {
        Ok(match self.answer(request, principal, affiliation).await? {
            Answer::Ran(response) => response,
            Answer::Cached(entry) => entry.response(),
        })
    }

    /// [`App::execute_as`], a cached answer given as the entry (HTTP sends its bytes as they are).
    pub(crate) async fn answer(&self, request: async_graphql::Request, mut principal: Principal, affiliation: Option<Affiliation>) -> Result<Answer, AuditError> {
        if let (Some(subject), Some(issuer)) = (&principal.subject, &principal.issuer) {
            let granted = self.api.ledger().active_grants(subject, issuer, &musubi_ontology::now());
            principal.grants.extend(granted);
        }
        // Metered once answered (a statement does not count the query that reads it).
        let key = self.cache.key(&request, &principal, affiliation.as_ref());
        if let Some(entry) = key.as_ref().and_then(|k| self.cache.get(k)) {
            self.audit(principal, entry.reads.clone()).await?;
            self.meter(affiliation.as_ref(), MeteredUse::LiveQuery).await;
            return Ok(Answer::Cached(entry));
        }
        let mutation = key.is_none() && crate::response_cache::is_mutation(&request);
        let (response, reads) = self.run(request, principal.clone(), affiliation.clone()).await;
        self.meter(affiliation.as_ref(), MeteredUse::LiveQuery).await;
        if mutation {
            // What the mutation changed may be in cached answers.
            self.cache.invalidate();
        }
        self.audit(principal, reads.clone()).await?;
        if let Some(key) = key {
            self.cache.insert(key, &response, reads);
        }
        Ok(Answer::Ran(response))
    }

    /// Counts one use for the caller's organisation and user class (fees). A credential with an
    /// organisation but no class cannot be priced; it is not metered. Metering never fails a
    /// request: a failure is logged.
    pub(crate) async fn meter(&self, affiliation: Option<&Affiliation>, what: MeteredUse) {
        if let Some(Affiliation { organisation, user_class: Some(class) }) = affiliation.cloned() {
            let ledger = self.api.ledger().clone();
            let metered = tokio::task::spawn_blocking(move || ledger.meter().record(&organisation, class, what)).await;
            if let Ok(Err(e)) = metered {
                tracing::error!(%e, ?what, "cannot meter a use; it was served unmetered");
            }
        }
    }

    /// Like [`App::execute`], never cached nor metered as a live query: for the hub's own queries
    /// (the export's pages, metered once per export), which would only crowd callers' answers
    /// out of the cache.
    pub async fn execute_uncached(&self, request: async_graphql::Request, mut principal: Principal) -> Result<async_graphql::Response, AuditError> {
        if let (Some(subject), Some(issuer)) = (&principal.subject, &principal.issuer) {
            let granted = self.api.ledger().active_grants(subject, issuer, &musubi_ontology::now());
            principal.grants.extend(granted);
        }
        let (response, reads) = self.run(request, principal.clone(), None).await;
        self.audit(principal, reads).await?;
        Ok(response)
    }

    async fn run(
        &self,
        request: async_graphql::Request,
        principal: Principal,
        affiliation: Option<Affiliation>,
    ) -> (async_graphql::Response, Vec<musubi_platform::audit::Read>) {
        let collector = AuditCollector::new();
        let mut request = request.data(principal).data(collector.clone());
        if let Some(a) = affiliation {
            request = request.data(a);
        }
        let response = self.schema.execute(request).await;
        (response, collector.take())
    }

    /// Appends `reads` for `principal` to the audit log, synced, off the async threads.
    async fn audit(&self, principal: Principal, reads: Vec<musubi_platform::audit::Read>) -> Result<(), AuditError> {
        if reads.is_empty() {
            return Ok(());
        }
        let audit = self.audit.clone();
        tokio::task::spawn_blocking(move || audit.append(&principal, reads))
            .await
            .map_err(|e| AuditError { path: "audit log".to_owned(), message: e.to_string() })?
    }

    /// How the read model was made at start (a hub opened on a data folder to serve).
    pub fn start_report(&self) -> Option<&StartReport> {
        self.start.as_deref()
    }

    /// The schema's hub: the read model and search index as of now.
    pub fn api_state(&self) -> &Arc<ApiState> {
        &self.api
    }

    /// Ingests an AMED DMP file (JSON-LD or CSV) into its own graph and the read model; an invalid
    /// plan is refused whole, with every problem.
    pub fn ingest_dmp(&self, content: &[u8], file: &str) -> Result<musubi_platform::dmp::Dmp, musubi_schema::dmp::IngestError> {
        musubi_schema::dmp::ingest(&self.api, content, None, file)
    }

    pub fn manifests(&self) -> &[Manifest] {
        &self.manifests
    }

    /// Rebuilds the read model and the search index from the graph (the truth), and swaps them
    /// in; on a data folder, its view files and index are written anew. Returns how many
    /// datasets and studies the index holds.
    pub fn reindex(&self) -> Result<(usize, usize), StartError> {
        // Built again, not opened: the index on disk is what a reindex may be run to replace.
        if let Some(root) = self.api.index_kept_in() {
            match std::fs::remove_dir_all(root) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(FileError::whole(root, format!("cannot remove the old index: {e}")).into());
                }
                _ => {}
            }
        }
        let model = match &self.views {
            // Every view projected again, and its file rewritten.
            Some(files) => {
                let (model, opening) = ReadModel::rebuild(self.store.as_ref(), files)?;
                opening.warnings.iter().for_each(|w| tracing::warn!("{w}"));
                model
            }
            None => ReadModel::load(self.store.as_ref())?,
        };
        self.api.replace_model(model);
        let snapshot = self.api.snapshot();
        let datasets = snapshot.index.docs().iter().filter(|d| d.kind == musubi_search::Kind::Dataset).count();
        Ok((datasets, snapshot.index.len() - datasets))
    }

    /// Harvests the named sources (all when `only` is empty), one after another. Each source
    /// that lands is swapped into the read model at once; each that fails keeps its last good
    /// graph. Returns every source's outcome.
    /// They run on the harvest thread ([`HarvestThread`]), never on the caller's.
    pub async fn harvest(&self, only: &[String]) -> Vec<(String, Result<HarvestReport, HarvestError>)> {
        let (app, only) = (self.clone(), only.to_vec());
        let outcomes = self.harvests.run(async move { app.harvest_here(&only).await }).await;
        // A hub that answers queries drops what the harvests replaced once they are served.
        if self.views.is_some() && self.answers {
            self.drop_replaced_later();
        }
        outcomes
    }

    /// Drops the generations replaced by harvests (and left by stopped ones), on the harvest
    /// thread, waiting for it: how many, and how long it took. `musubi harvest` calls it last.
    pub async fn drop_replaced(&self) -> Result<(usize, std::time::Duration), StoreError> {
        let Some(store) = self.embedded.clone() else { return Ok((0, std::time::Duration::ZERO)) };
        self.harvests
            .run(async move {
                let started = std::time::Instant::now();
                let replaced = store.take_replaced();
                store.drop_generations_now(&replaced)?;
                store.flush()?;
                Ok((replaced.len(), started.elapsed()))
            })
            .await
    }

    fn drop_replaced_later(&self) {
        let Some(store) = self.embedded.clone() else { return };
        self.harvests.detach(async move {
            let replaced = store.take_replaced();
            if !replaced.is_empty() {
                let started = std::time::Instant::now();
                match store.drop_generations_now(&replaced) {
                    Ok(()) => tracing::info!("dropped {} replaced generation(s) in {:.1} s", replaced.len(), started.elapsed().as_secs_f64()),
                    Err(e) => tracing::warn!("cannot drop {} replaced generation(s) ({e}); the next start drops them", replaced.len()),
                }
            }
            // The harvest's writes and those deletions leave the memtables for the store's files.
            if let Err(e) = store.flush() {
                tracing::warn!("cannot flush the graph store: {e}");
            }
        });
    }

    async fn harvest_here(&self, only: &[String]) -> Vec<(String, Result<HarvestReport, HarvestError>)> {
        let mut outcomes = Vec::new();
        for manifest in self.manifests.iter().filter(|m| only.is_empty() || only.contains(&m.id)) {
            let outcome = self.harvester.harvest(manifest, self.store.as_ref(), &self.vocabulary).await;
            let outcome = outcome.map(|mut report| {
                if let (Some(pause), Some(_)) = (&self.pause, &report.view) {
                    pause("after-swap");
                }
                if let Some(mut view) = report.view.take() {
                    self.keep_view(&mut view);
                    if !self.answers {
                        return report;
                    }
                    let prepared = self.prepared.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
                    // Made and kept before the graph landed, from this harvest's view.
                    let prepared = prepared.filter(|(source, generation, _)| *source == view.source && Some(generation.as_str()) == view.generation());
                    match prepared.map(|(_, _, prepared)| self.api.install(prepared)) {
                        Some(true) => {}
                        _ => {
                            self.api.replace_source(view);
                            // The records merged with the new view, for the next start to read.
                            if let Some(files) = &self.views
                                && let Err(e) = self.api.model().keep_records(files)
                            {
                                tracing::warn!("cannot keep the merged records on disk: {e}");
                            }
                        }
                    }
                }
                // Records changed; a harvest that found its source unchanged changed its status only.
                if !report.unchanged {
                    self.cache.invalidate();
                }
                report
            });
            outcomes.push((manifest.id.clone(), outcome));
        }
        if let Err(e) = self.refresh_sources() {
            tracing::error!(%e, "cannot read source status");
        }
        // Source status (last attempt, last error) changed even where nothing landed.
        self.cache.invalidate_sources();
        outcomes
    }

    /// Harvests every source that has a schedule, in the background, each when it is due: at
    /// start if its last good harvest is older than its interval (or it has none), then every
    /// interval. Queries go on meanwhile; each landing harvest swaps in its source's view.
    pub fn start_scheduler(&self) -> Scheduler {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let loops = self
            .manifests
            .iter()
            .filter_map(|m| m.schedule.map(|every| (m.id.clone(), every)))
            .map(|(id, every)| {
                let app = self.clone();
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    let last = musubi_connectors::source_status(app.store.as_ref(), &id).ok().and_then(|s| s.last_harvest);
                    let mut wait = first_wait(last.as_deref(), every);
                    loop {
                        tokio::select! {
                            () = tokio::time::sleep(wait) => {}
                            _ = stopped.wait_for(|stop| *stop) => return,
                        }
                        for (source, outcome) in app.harvest(std::slice::from_ref(&id)).await {
                            match outcome {
                                Ok(r) if r.unchanged => tracing::info!(%source, records = r.records, "scheduled harvest: unchanged, nothing landed"),
                                Ok(r) => tracing::info!(%source, records = r.records, "scheduled harvest landed"),
                                Err(e) => tracing::warn!(%source, error = %e, "scheduled harvest failed; the last good graph stays"),
                            }
                        }
                        wait = every;
                    }
                })
            })
            .collect();
        Scheduler { stop, loops }
    }

    /// What a harvest does once its view is on disk and before its graph lands: the snapshot with
    /// that view (records merged, the search index built and kept), and the merged records kept,
    /// so that a hub stopped right after the graph lands starts from files, as one stopped at
    /// any other time does. Swapped in when the harvest lands ([`ApiState::install`]).
    fn prepare_landing(api: &Arc<ApiState>, files: &ViewFiles, prepared: &PreparedLanding) -> BeforeLanding {
        let (api, files, prepared) = (api.clone(), files.clone(), prepared.clone());
        Arc::new(move |source: &str, generation: &str| {
            let view = match files.read_next(source, generation) {
                Ok(Some(view)) => view,
                Ok(None) => return,
                Err(e) => return tracing::warn!(source, "cannot read the view the harvest wrote: {e}"),
            };
            let next = api.prepare_source(view);
            if let Err(e) = next.model().keep_records(&files) {
                tracing::warn!("cannot keep the merged records on disk: {e}");
            }
            *prepared.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((source.to_owned(), generation.to_owned(), next));
        })
    }

    /// Writes a landed harvest's view to its file, so that the next start reads it (and can use
    /// the search index built from it). A failure costs only that start's projection.
    fn keep_view(&self, view: &mut SourceView) {
        let Some(files) = &self.views else { return };
        let graph = musubi_connectors::source_graph(&view.source);
        match self.store.generation(graph.as_ref()) {
            // Kept, the view reads its nodes from the file: they leave memory.
            Ok(Some(generation)) => {
                if let Err(e) = files.keep(view, &generation) {
                    tracing::warn!(source = %view.source, "cannot keep the view on disk: {e}");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(source = %view.source, "cannot keep the view on disk: {e}"),
        }
    }

    /// Re-reads each source's status from the store for the `sources` query.
    fn refresh_sources(&self) -> Result<(), StoreError> {
        let mut infos = Vec::new();
        for m in self.manifests.iter() {
            let status = musubi_connectors::source_status(self.store.as_ref(), &m.id)?;
            infos.push(SourceInfo {
                id: m.id.clone(),
                name: m.name.clone(),
                kind: m.kind.name().to_owned(),
                endpoint: m.endpoint_display(),
                last_harvest: status.last_harvest,
                last_attempt: status.last_attempt,
                last_change: status.last_change,
                record_count: status.record_count.map(|n| n as i64),
                last_error: status.last_error,
                warnings: Some(status.warnings),
            });
        }
        self.api.set_sources(infos);
        Ok(())
    }
}

/// The built-in vocabulary, or the `--vocabulary` file.
pub fn load_vocabulary(config: &Config) -> Result<Vocabulary, StartError> {
    match &config.vocabulary {
        None => Ok(Vocabulary::builtin()),
        Some(path) => Ok(Vocabulary::from_turtle(&located::read(path)?, &path.display().to_string())?),
    }
}

/// The data folder's graph store (`<data>/graph`), as `App::open` opens it: only one process may
/// hold it (a running `musubi serve` does). Each large source's last harvest is kept in
/// `<data>/ledgers`, for the next to write only what changed.
pub fn open_store(config: &Config) -> Result<EmbeddedStore, StoreError> {
    Ok(EmbeddedStore::open(&config.data.join("graph"))?.with_ledgers(config.data.join("ledgers")))
}

/// The fee schedule in `path` (TOML; see `musubi_platform::fees::FeeSchedule`); none: no fees.
pub fn load_fee_schedule(path: &Path) -> Result<FeeSchedule, FileError> {
    match located::read_optional(path)? {
        None => Ok(FeeSchedule::default()),
        Some(text) => located::parse_toml(path, &text),
    }
}

/// Test-only: with `MUSUBI_TEST_PAUSE_APPROVAL=before-commit` (or `after-commit`) an approval
/// stops at that point for good, after creating `<data>/paused-at-<point>`, so that a crash test
/// can kill the server there (`gateway/tests/crash.rs`); with `MUSUBI_TEST_PAUSE_HARVEST=after-swap`
/// a harvest that landed a view stops after its graph is swapped in and before the hub keeps the
/// view. Unset in every real deployment.
fn pause_hook(data: &Path, variable: &str) -> Option<PauseHook> {
    let point = std::env::var(variable).ok()?;
    let data = data.to_owned();
    Some(Arc::new(move |at: &str| {
        if at == point {
            let _ = std::fs::write(data.join(format!("paused-at-{at}")), at);
            loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
    }))
}

/// The built-in hierarchy plus every ontology file in `dir` (OBO Graphs `*.json`, or RDF:
/// `*.ttl`, `*.owl`/`*.rdf` as RDF/XML, `*.nt`), e.g. MONDO's own release. A missing folder is
/// fine; a file that does not parse stops the start, naming it.
pub fn load_ontologies(dir: &Path) -> Result<DiseaseHierarchy, StartError> {
    let mut diseases = DiseaseHierarchy::builtin();
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(diseases) };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    for file in files {
        let name = file.display().to_string();
        let format = match file.extension().and_then(|e| e.to_str()) {
            Some("json") => None,
            Some("ttl") => Some(musubi_ontology::RdfFormat::Turtle),
            Some("owl" | "rdf") => Some(musubi_ontology::RdfFormat::RdfXml),
            Some("nt") => Some(musubi_ontology::RdfFormat::NTriples),
            _ => continue,
        };
        let bytes = std::fs::read(&file).map_err(|e| FileError::unreadable(&file, &e))?;
        match format {
            None => diseases.add_obographs(&bytes, &name).map_err(|e| FileError::whole(&file, e.message))?,
            Some(format) => {
                let triples = musubi_ontology::parse_triples(&bytes, format, "http://purl.obolibrary.org/obo/")
                    .map_err(|e| FileError::whole(&file, e.to_string()))?;
                diseases.add_triples(&triples);
            }
        }
    }
    Ok(diseases)
}

/// The sharing policy file:
/// ```toml
/// designated = ["jga", "ddbj-bioproject"]   # source ids where a deposit counts (empty: any)
/// [periods]                                  # months from generation, per data category
/// "Genome data" = 6
/// ```
/// A missing file means no periods (no deadlines); an unreadable or bad one stops the start,
/// naming file, line and column.
pub fn load_sharing_policy(file: &Path) -> Result<SharingPolicy, FileError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        designated: Vec<String>,
        #[serde(default)]
        periods: std::collections::BTreeMap<String, u32>,
    }
    let Some(text) = located::read_optional(file)? else { return Ok(SharingPolicy::default()) };
    let parsed: File = located::parse_toml(file, &text)?;
    Ok(SharingPolicy { periods: parsed.periods.into_iter().collect(), designated: parsed.designated })
}

/// Loads the manifest folder; a missing folder means no sources yet.
pub fn load_manifests(dir: &Path) -> Result<Vec<Manifest>, StartError> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    musubi_connectors::load_manifests(dir).map_err(StartError::Manifests)
}

/// How long until a source with interval `every`, last harvested at `last` (xsd:dateTime), is due.
fn first_wait(last: Option<&str>, every: std::time::Duration) -> std::time::Duration {
    use std::str::FromStr;
    let Some(last) = last.and_then(|l| musubi_ontology::xsd::DateTime::from_str(l).ok()) else {
        return std::time::Duration::ZERO;
    };
    let elapsed = musubi_ontology::now().checked_sub(last).and_then(|d| std::time::Duration::try_from(d).ok());
    match elapsed {
        Some(elapsed) => every.saturating_sub(elapsed),
        None => std::time::Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_source_never_harvested_or_overdue_is_due_now() {
        let hour = Duration::from_secs(3600);
        assert_eq!(first_wait(None, hour), Duration::ZERO);
        assert_eq!(first_wait(Some("2001-01-01T00:00:00Z"), hour), Duration::ZERO);
        let just_now = musubi_ontology::now().to_string();
        let wait = first_wait(Some(&just_now), hour);
        assert!(wait > Duration::from_secs(3500) && wait <= hour, "{wait:?}");
    }

    /// A limit of 0 would refuse every query: refused at start, where it is written (it was
    /// accepted, and then every query failed).
    #[test]
    fn a_zero_limit_is_refused_at_its_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("musubi.toml");
        std::fs::write(&path, "[cache]\nbytes = 0\n[limits]\ncost = 100\ndepth = 0\n").expect("write");
        let err = Settings::load(&path).expect_err("depth 0").to_string();
        assert!(err.contains("musubi.toml:5") && err.contains("[limits] depth = 0 would refuse every query; give 1 or more (the default is 12)"), "{err}");
        std::fs::write(&path, "[limits]\ndepth = 3\naliases = 0\n").expect("write");
        assert_eq!(Settings::load(&path).expect("fine").limits.depth, 3, "no aliases at all is a choice");
        std::fs::write(&path, "[harvest]\n\nspool-every = 0\n").expect("write");
        let err = Settings::load(&path).expect_err("spool-every 0").to_string();
        assert!(err.contains("musubi.toml:3") && err.contains("[harvest] spool-every = 0 would spool every triple alone"), "{err}");
        std::fs::write(&path, "[harvest]\nspool-every = \"many\"\n").expect("write");
        assert!(Settings::load(&path).expect_err("not a number").to_string().contains("musubi.toml:2"));
        std::fs::write(&path, "[harvest]\nspool-evry = 10\n").expect("write");
        assert!(Settings::load(&path).expect_err("misspelt").to_string().contains("spool-evry"));
    }
}
