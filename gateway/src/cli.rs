//! The `musubi` commands.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app::{App, Config};

#[derive(Debug, Parser)]
#[command(name = "musubi", version, about = "musubi (結び): a federation hub for medical research metadata")]
pub struct Cli {
    /// The data folder: the graph and the hub's state live here.
    #[arg(long, global = true, env = "MUSUBI_DATA", default_value = "./musubi-data")]
    pub data: PathBuf,
    /// The folder of source manifests (*.toml). Default: <data>/sources.
    #[arg(long, global = true, env = "MUSUBI_SOURCES")]
    pub sources: Option<PathBuf>,
    /// A vocabulary file (Turtle) to use instead of the built-in one, e.g. with changed tiers.
    #[arg(long, global = true, env = "MUSUBI_VOCABULARY")]
    pub vocabulary: Option<PathBuf>,
    /// The identity file: trusted token issuers (see README). Default: <data>/identity.toml
    /// when it exists; without one, only API keys and anonymous callers are served.
    #[arg(long, global = true, env = "MUSUBI_IDENTITY")]
    pub identity: Option<PathBuf>,
    /// The sharing policy (months per data category, designated databases; see README).
    /// Default: <data>/sharing-policy.toml when it exists.
    #[arg(long, global = true, env = "MUSUBI_SHARING_POLICY")]
    pub sharing_policy: Option<PathBuf>,
    /// The settings file: `[limits]` on queries, the `[cache]` of responses, how a `[harvest]`
    /// stages (see README).
    /// Default: <data>/musubi.toml when it exists; built-in defaults otherwise.
    #[arg(long, global = true, env = "MUSUBI_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API over what the data folder holds.
    Serve {
        /// Where to listen.
        #[arg(long, env = "MUSUBI_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Install the bundled demo sources (NBDC, DDBJ, EGA, Data Connect, FAIR Data Point,
        /// HealthDCAT-AP) in the data folder and harvest them before serving.
        #[arg(long)]
        demo: bool,
    },
    /// Harvest registered sources (all, or the ones named) into the graph.
    Harvest {
        /// Source ids to harvest; all when none is given.
        #[arg(value_name = "SOURCE")]
        ids: Vec<String>,
        /// Land this source's harvest even if it removes more records than its guard allows, or
        /// no record states a property the last harvest stated (repeat for several sources).
        #[arg(long = "accept-shrink", value_name = "SOURCE")]
        accept_shrink: Vec<String>,
    },
    /// Rebuild the read model and the search index from the graph, and say what they hold. A
    /// running hub builds both at start and after each harvest; this checks that the graph
    /// indexes cleanly (the index lives in memory, so there is nothing stale on disk to repair).
    Reindex,
    /// Work with one connector (source manifest).
    Connector {
        #[command(subcommand)]
        command: ConnectorCommand,
    },
    /// AMED Data Management Plans: ingest, and sharing deadlines.
    Dmp {
        #[command(subcommand)]
        command: DmpCommand,
    },
    /// API keys for service accounts (stored hashed in <data>/api-keys.json).
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum DmpCommand {
    /// Validates a DMP (JSON-LD, or CSV with English or Japanese headers) and ingests it into
    /// its own graph; an invalid plan is refused whole with every problem listed (exit 1).
    Ingest {
        /// The DMP file (*.jsonld / *.json, or *.csv).
        file: PathBuf,
    },
    /// Lists sharing deadlines: due, overdue and met data items.
    Deadlines {
        /// The day to judge on (YYYY-MM-DD); default today (UTC).
        #[arg(long)]
        as_of: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Creates a key and prints it, once: it is stored only as a hash.
    Create {
        /// Who uses it (a service account's name).
        #[arg(long)]
        name: String,
        /// PUBLIC, REGISTERED, CONTROLLED or STEWARD.
        #[arg(long)]
        tier: String,
        /// A dataset the key may read CONTROLLED fields of (accession or IRI); repeatable.
        #[arg(long = "grant", value_name = "ACCESSION")]
        grants: Vec<String>,
        /// The organisation its use is metered to (fee statements).
        #[arg(long = "org", value_name = "ORGANISATION")]
        organisation: Option<String>,
        /// The user class for fees: academic, industry or public_sector (needs --org).
        #[arg(long = "class", value_name = "CLASS")]
        user_class: Option<String>,
    },
    /// Lists the keys (never the keys themselves).
    List,
    /// Revokes a key: the running hub refuses it from its next request on.
    Revoke {
        /// The key's id (from `apikey list`).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConnectorCommand {
    /// Dry run against the partner's endpoint: what would be added, changed and removed, and
    /// every vocabulary violation. Writes nothing. Exits 1 on violations or a failed fetch.
    Check {
        /// The manifest file (*.toml).
        manifest: PathBuf,
    },
}

impl Cli {
    fn config(&self) -> Result<Config, crate::app::StartError> {
        let file = self.config.clone().or_else(|| Some(self.data.join("musubi.toml")).filter(|f| f.exists()));
        let settings = match file {
            Some(file) => crate::app::Settings::load(&file)?,
            None => crate::app::Settings::default(),
        };
        Ok(Config {
            data: self.data.clone(),
            sources: self.sources.clone().unwrap_or_else(|| self.data.join("sources")),
            vocabulary: self.vocabulary.clone(),
            identity: self.identity.clone(),
            sharing_policy: self.sharing_policy.clone(),
            limits: settings.limits,
            cache: settings.cache,
            harvest: settings.harvest,
        })
    }
}

/// Runs a command. Exit codes: 0 success, 1 a source failed to harvest, 2 the hub could not
/// start (bad manifest, data folder in use, …).
pub async fn run(cli: Cli) -> ExitCode {
    let mut config = match cli.config() {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    match cli.command {
        Command::Harvest { ids, accept_shrink } => {
            let progress = std::sync::Arc::new(HarvestProgress::new());
            let app = match App::open_for_harvest(&config) {
                Ok(app) => app.with_progress(progress.clone()).accepting_shrink(accept_shrink.clone()),
                Err(e) => return fail(&e),
            };
            let unknown: Vec<&String> = ids.iter().chain(&accept_shrink).filter(|s| !app.manifests().iter().any(|m| &m.id == *s)).collect();
            if !unknown.is_empty() {
                let known: Vec<&str> = app.manifests().iter().map(|m| m.id.as_str()).collect();
                eprintln!("error: no source named {unknown:?}; registered sources: {known:?} (in {})", config.sources.display());
                return ExitCode::from(2);
            }
            if app.manifests().is_empty() {
                eprintln!("error: no sources registered: put manifests (*.toml) in {}", config.sources.display());
                return ExitCode::from(2);
            }
            let outcomes = app.harvest(&ids).await;
            progress.finish();
            let landed = print_outcomes(&outcomes);
            // What the harvests replaced (and stopped ones left) leaves the store last: the new
            // graphs have landed already; an interrupted drop is finished by the next start.
            match app.drop_replaced().await {
                Ok((0, _)) => {}
                Ok((n, took)) => println!("dropped {n} replaced generation(s) from the graph store in {:.1} s", took.as_secs_f64()),
                Err(e) => eprintln!("warning: cannot drop the replaced generations ({e}); the next start drops them"),
            }
            if landed { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }
        Command::Reindex => {
            let app = match App::open_for_reindex(&config) {
                Ok(app) => app,
                Err(e) => return fail(&e),
            };
            let started = std::time::Instant::now();
            match app.reindex() {
                Ok((datasets, studies)) => {
                    println!("indexed {datasets} datasets and {studies} studies from the graph in {} ms", started.elapsed().as_millis());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::Connector { command: ConnectorCommand::Check { manifest } } => check(&config, &manifest).await,
        Command::Apikey { command } => apikey(&config, command),
        Command::Dmp { command } => dmp(&config, command),
        Command::Serve { listen, demo } => {
            if demo {
                match crate::demo::install(&config.data) {
                    Ok(sources) => config.sources = sources,
                    Err(e) => {
                        eprintln!("error: cannot install the demo in {}: {e}", config.data.display());
                        return ExitCode::from(2);
                    }
                }
            }
            // Said first: after a stop mid-harvest, a start projects what the view files lack.
            println!("opening {} …", config.data.display());
            let app = match App::open(&config) {
                Ok(app) => app,
                Err(e) => return fail(&e),
            };
            if let Some(start) = app.start_report() {
                let index = match start.index {
                    Some(musubi_search::OnDisk::Opened) => "search index opened",
                    Some(_) => "search index built",
                    None => "search index built in memory",
                };
                let o = &start.opening;
                let records = if o.records_from_file { "merged records read" } else { "records merged" };
                println!(
                    "read model: {} source view(s) read from {}, {} projected from the graph; {records}; {index}; {:.1} s (views {:.1} s, records {:.1} s)",
                    o.from_files.len(),
                    start.views.display(),
                    o.projected.len(),
                    start.elapsed.as_secs_f64(),
                    o.views_took.as_secs_f64(),
                    o.merge_took.as_secs_f64()
                );
            }
            if demo {
                println!("harvesting the demo sources into {} …", config.data.display());
                print_outcomes(&app.harvest(&[]).await);
            }
            let (listener, addr) = match bind(listen).await {
                Ok(bound) => bound,
                Err(code) => return code,
            };
            let scheduled = app.start_scheduler();
            if !scheduled.is_empty() {
                println!("{} source(s) harvest on schedule in the background", scheduled.len());
            }
            println!("musubi is serving {} source(s) from {}", app.manifests().len(), config.data.display());
            println!("open http://{addr}/graphql");
            let served = axum::serve(listener, crate::http::router(app)).with_graceful_shutdown(shutdown_signal()).await;
            let abandoned = scheduled.stop(HARVEST_GRACE).await;
            if abandoned > 0 {
                eprintln!("stopped {abandoned} scheduled harvest(s) under way; their sources keep the graphs they had");
            }
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

/// How long a scheduled harvest under way at shutdown may take to land.
const HARVEST_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// A listener on `listen` and the address it got (port 0: a free one), or exit code 2 with why.
async fn bind(listen: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), ExitCode> {
    match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => {
            let addr = l.local_addr().map_or(listen, |a| a);
            Ok((l, addr))
        }
        Err(e) => {
            eprintln!("error: cannot listen on {listen}: {e}");
            Err(ExitCode::from(2))
        }
    }
}

fn dmp(config: &Config, command: DmpCommand) -> ExitCode {
    let app = match App::open(config) {
        Ok(app) => app,
        Err(e) => return fail(&e),
    };
    match command {
        DmpCommand::Ingest { file } => {
            let bytes = match std::fs::read(&file) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    return ExitCode::from(2);
                }
            };
            match app.ingest_dmp(&bytes, &file.display().to_string()) {
                Ok(dmp) => {
                    println!("ingested {} ({}): {} data item(s)", dmp.source_id(), dmp.project, dmp.items.len());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        DmpCommand::Deadlines { as_of } => {
            let as_of = as_of.unwrap_or_else(musubi_schema::access::today);
            let rows = musubi_schema::dmp::deadlines(app.api_state(), &as_of);
            println!("sharing deadlines as of {as_of}: {} item(s)", rows.len());
            for d in rows {
                let shared = if d.shared_as.is_empty() { String::new() } else { format!(" as {}", d.shared_as.join(", ")) };
                println!("  {:?}\t{}\t{} ({}, generated {} + {} months){shared}", d.status, d.deadline, d.item_id, d.category, d.generated_on, d.months);
            }
            ExitCode::SUCCESS
        }
    }
}

async fn check(config: &Config, manifest: &std::path::Path) -> ExitCode {
    use musubi_store::{EmbeddedStore, GraphStore};
    let manifest = match musubi_connectors::load_manifest(manifest) {
        Ok(m) => m,
        Err(e) => return fail(&e),
    };
    // Compare with the data folder's graph when there is one; else everything is new.
    let graph = config.data.join("graph");
    let store: Box<dyn GraphStore> = if graph.exists() {
        match EmbeddedStore::open(&graph) {
            Ok(s) => Box::new(s),
            Err(e) => return fail(&e),
        }
    } else {
        Box::new(EmbeddedStore::in_memory())
    };
    let vocabulary = match crate::app::load_vocabulary(config) {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    println!("connector check {} ({})", manifest.id, manifest.file.display());
    let report = match musubi_connectors::check::check(&manifest, store.as_ref(), &vocabulary, &reqwest::Client::new()).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("FAILED {}: {e}", manifest.id);
            return ExitCode::from(1);
        }
    };
    println!(
        "{} records: {} added, {} changed, {} removed, {} unchanged",
        report.records,
        report.added.len(),
        report.changed.len(),
        report.removed.len(),
        report.unchanged
    );
    for (mark, ids) in [("+", &report.added), ("~", &report.changed), ("-", &report.removed)] {
        for id in ids {
            println!("  {mark} {id}");
        }
    }
    if !report.unmapped.is_empty() {
        println!("{} source field(s) the mapping leaves unmapped (a harvest would drop them):", report.unmapped.len());
        for (field, records) in &report.unmapped {
            println!("  {field} (in {records} record(s))");
        }
    }
    if !report.ignored.is_empty() {
        println!("{} source field(s) left unmapped on purpose (the manifest's [check] ignore):", report.ignored.len());
        for i in &report.ignored {
            println!("  {} (in {} record(s)): ignored ({})", i.field, i.records, i.reason);
        }
    }
    if !report.unused_ignores.is_empty() {
        println!("{} [check] ignore entr(ies) matched no field of these records (stale, misspelt, or for fields these records lack):", report.unused_ignores.len());
        for field in &report.unused_ignores {
            println!("  {field}");
        }
    }
    if !report.unmatched_references.is_empty() {
        println!(
            "{} mapping reference(s) found no value in any of these records (misspelt, or for fields these records lack):",
            report.unmatched_references.len()
        );
        for reference in &report.unmatched_references {
            println!("  {reference}");
        }
    }
    let guarded = match &report.guards {
        Ok(warnings) => {
            for w in warnings {
                println!("a harvest now would land with a warning: {w}");
            }
            true
        }
        Err(why) => {
            println!("a harvest now would NOT land (harvest guard): {why}");
            false
        }
    };
    if report.violations.is_empty() {
        println!("no vocabulary violations");
        if guarded { ExitCode::SUCCESS } else { ExitCode::from(1) }
    } else {
        // One line per field and problem, with the records it concerns.
        let mut grouped: std::collections::BTreeMap<(&str, &str), Vec<&str>> = std::collections::BTreeMap::new();
        for v in &report.violations {
            grouped.entry((v.field.as_str(), v.message.as_str())).or_default().push(v.record.as_str());
        }
        println!("{} vocabulary violation(s):", report.violations.len());
        for ((field, message), records) in grouped {
            let shown: Vec<&str> = records.iter().take(5).copied().collect();
            let more = if records.len() > 5 { format!(", … ({} in all)", records.len()) } else { String::new() };
            println!("  field <{field}>: {message}; record(s) {}{more}", shown.join(", "));
        }
        ExitCode::from(1)
    }
}

fn apikey(config: &Config, command: ApikeyCommand) -> ExitCode {
    let keys = crate::identity::api_keys::ApiKeys::new(&config.data);
    match command {
        ApikeyCommand::Create { name, tier, grants, organisation, user_class } => {
            // Grants are normalised with the identifier schemes the hub will run with.
            let vocabulary = match crate::app::load_vocabulary(config) {
                Ok(v) => v,
                Err(e) => return fail(&e),
            };
            match keys.create_for(&name, &tier, &grants, organisation.as_deref(), user_class.as_deref(), vocabulary.identifier_schemes()) {
                Ok((key, record)) => {
                    println!("created API key {} for {:?} ({}{})", record.id, record.name, record.tier, grants_text(&record.grants));
                    println!("{key}");
                    println!("keep it now: it is not shown again. Send it as `Authorization: Bearer <key>` or `X-API-Key: <key>`.");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        ApikeyCommand::List => match keys.list() {
            Ok(list) if list.is_empty() => {
                println!("no API keys in {}", keys.path().display());
                ExitCode::SUCCESS
            }
            Ok(list) => {
                for k in list {
                    let state = k.revoked.as_ref().map_or_else(|| "active".to_owned(), |when| format!("revoked {when}"));
                    let metered = k.organisation.as_ref().map_or_else(String::new, |o| {
                        format!(", metered to {o:?} as {}", k.user_class.as_deref().unwrap_or("no class"))
                    });
                    println!("{}  {:<24} {}{}{metered}  created {}  {state}", k.id, k.name, k.tier, grants_text(&k.grants), k.created);
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        ApikeyCommand::Revoke { id } => match keys.revoke(&id) {
            Ok(k) => {
                println!("revoked API key {} ({:?})", k.id, k.name);
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
    }
}

fn grants_text(grants: &std::collections::BTreeSet<String>) -> String {
    if grants.is_empty() { String::new() } else { format!(", grants {}", grants.iter().cloned().collect::<Vec<_>>().join(" ")) }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(2)
}

/// Prints one line per source; returns whether all succeeded.
fn print_outcomes(outcomes: &[(String, Result<musubi_connectors::HarvestReport, musubi_connectors::HarvestError>)]) -> bool {
    let mut ok = true;
    for (source, outcome) in outcomes {
        match outcome {
            Ok(r) => {
                // How cheap the harvest was for the partner: pages it said were unchanged.
                let unchanged = if r.not_modified > 0 { format!(", {} unchanged (304)", r.not_modified) } else { String::new() };
                // The same documents as the graph that stands: nothing was stored.
                // Records the partner had not changed: copied from the last harvest, not mapped.
                let unchanged = if r.unchanged_records > 0 { format!("{unchanged}; {} records as they were, not mapped again", r.unchanged_records) } else { unchanged };
                let landed = match (r.unchanged, r.delta) {
                    (true, _) => "; unchanged since the last harvest, nothing landed".to_owned(),
                    (false, Some(d)) => format!("; only what changed landed: {} triples removed, {} added", d.removed, d.added),
                    (false, None) => String::new(),
                };
                println!(
                    "ok     {source}: {} records, {} triples in {:.2} s; {} requests{unchanged}{landed}",
                    r.records,
                    r.triples,
                    r.elapsed.as_secs_f64(),
                    r.requests
                );
                for w in &r.warnings {
                    println!("       warning: {w}");
                }
            }
            Err(e) => {
                ok = false;
                eprintln!("FAILED {source}: {e} (the last good graph is kept)");
            }
        }
    }
    ok
}

/// Harvest progress for the operator: a bar per source on a terminal (records, rate, ETA when
/// the source states its size), plain log lines every few seconds otherwise.
struct HarvestProgress {
    terminal: bool,
    bars: std::sync::Mutex<std::collections::HashMap<String, indicatif::ProgressBar>>,
    logged: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, std::time::Instant)>>,
}

impl HarvestProgress {
    fn new() -> HarvestProgress {
        use std::io::IsTerminal;
        HarvestProgress { terminal: std::io::stderr().is_terminal(), bars: Default::default(), logged: Default::default() }
    }

    /// Takes the bars off the terminal once the harvests are done (their outcome lines follow).
    fn finish(&self) {
        for bar in self.bars.lock().expect("progress lock").values() {
            bar.finish_and_clear();
        }
    }
}

impl musubi_connectors::Progress for HarvestProgress {
    fn records(&self, source: &str, done: usize, expected: Option<usize>) {
        if self.terminal {
            let mut bars = self.bars.lock().expect("progress lock");
            let bar = bars.entry(source.to_owned()).or_insert_with(|| {
                let style = indicatif::ProgressStyle::with_template("{prefix:>24} [{bar:30}] {pos}/{len} records {per_sec} ETA {eta}")
                    .expect("valid template")
                    .progress_chars("=> ");
                let bar = indicatif::ProgressBar::new(expected.unwrap_or(0) as u64).with_style(style);
                bar.set_prefix(source.to_owned());
                bar
            });
            match expected {
                Some(n) => bar.set_length(n as u64),
                None => bar.set_length(done as u64),
            }
            bar.set_position(done as u64);
        } else {
            let now = std::time::Instant::now();
            let mut logged = self.logged.lock().expect("progress lock");
            let (started, last) = logged.entry(source.to_owned()).or_insert((now, now));
            if now.duration_since(*last) >= std::time::Duration::from_secs(5) {
                *last = now;
                let rate = done as f64 / now.duration_since(*started).as_secs_f64().max(0.001);
                let of = expected.map(|n| format!(" of {n}")).unwrap_or_default();
                let eta = expected
                    .filter(|_| rate > 0.0)
                    .map(|n| format!(", about {:.0} s left", n.saturating_sub(done) as f64 / rate))
                    .unwrap_or_default();
                eprintln!("… {source}: {done}{of} records ({rate:.0}/s{eta})");
            }
        }
    }

    fn stored(&self, source: &str, done: usize, of: usize) {
        if self.terminal {
            if let Some(bar) = self.bars.lock().expect("progress lock").get(source) {
                let style = indicatif::ProgressStyle::with_template("{prefix:>24} [{bar:30}] {pos}/{len} triples into the store {per_sec}")
                    .expect("valid template")
                    .progress_chars("=> ");
                bar.set_style(style);
                bar.set_length(of as u64);
                bar.set_position(done as u64);
            }
        } else {
            eprintln!("… {source}: {done} of {of} triples into the store");
        }
    }
}

/// Resolves at Ctrl-C or SIGTERM: the signal servers shut down on.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
