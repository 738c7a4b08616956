//! `musubi-bench`: see `musubi-bench --help` and BENCHMARKS.md.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use musubi_bench::{Failed, generate, mapping, peers, run, soak};
use musubi_gateway::app::{App, Config};

/// The `musubi` binary's allocator (see bench/Cargo.toml): what runs in this process is timed as
/// the hub runs it.
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Measures the hub: synthetic catalogues, the end-to-end benchmark, the soak, and the peers the
/// hub is compared with. Figures are printed; nothing asserts a time.
#[derive(Debug, Parser)]
#[command(name = "musubi-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes a realistic synthetic catalogue (NBDC JSON, JGA XML, DCAT Turtle) and the manifests
    /// that harvest it: `musubi --data D --sources OUT/sources harvest`.
    Gen {
        /// How many datasets.
        #[arg(long)]
        datasets: u64,
        /// The folder to write (its humandbs/, jga/, dcat/, mappings/ and sources/ are replaced).
        #[arg(long)]
        out: PathBuf,
        /// The same seed gives the same catalogue.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The end-to-end benchmark: gen, harvest, serve, wrk at each connection count, the peers.
    Run(run::Options),
    /// Minutes of mixed load on a served hub while its sources are harvested on schedule.
    Soak(soak::Options),
    /// The RML engine's records/s on JSON, CSV and XML, and morph-kgc's on the same mapping and
    /// files with `--morph-kgc`.
    Mapping(mapping::Options),
    /// The portal query (keyword, datasets with assay WGS and reference genome GRCh38, facets on
    /// both, 20 results) answered by the search index in this process, as `search` asks it for
    /// an anonymous caller: requests/s, p50 and p99 per thread count, index only and with the 12
    /// fields of each hit read from the read model. No `musubi serve` may hold the folder.
    Index {
        /// The data folder `musubi harvest` wrote.
        #[arg(long)]
        data: PathBuf,
        /// Concurrent threads, one run each.
        #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
        threads: Vec<usize>,
        /// How long each run lasts.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// The portal query's text.
        #[arg(long, default_value = "cancer")]
        keyword: String,
    },
    /// A naive GraphQL server over the same graph store: one SPARQL SELECT finds the matches, a
    /// GROUP BY counts each facet, and every field of every result is a SPARQL query of its own.
    /// Prints `open <url>` once it listens; POST the portal query to it.
    NaiveSparql {
        /// The data folder `musubi harvest` wrote.
        #[arg(long)]
        data: PathBuf,
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: SocketAddr,
    },
}

fn main() -> ExitCode {
    // The drivers (`run`, `soak`) start processes and make their own runtimes where they need one.
    let outcome = match Cli::parse().command {
        Command::Gen { datasets, out, seed } => write_catalogue(datasets, out, seed),
        Command::Run(options) => run::run_all(&options),
        Command::Soak(options) => soak::soak(&options),
        Command::Mapping(options) => mapping::run(&options),
        Command::Index { data, threads, seconds, keyword } => runtime().and_then(|rt| {
            // The hub opens in a runtime (as `musubi serve` does); the measured threads are plain.
            let _in = rt.enter();
            let app = App::open(&Config::of_data(data)).map_err(|e| Failed(e.to_string()))?;
            peers::index(&app, &keyword, &threads, seconds)
        }),
        Command::NaiveSparql { data, listen } => runtime().and_then(|rt| rt.block_on(naive_sparql(data, listen))),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("musubi-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failed> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| Failed(format!("cannot start a tokio runtime: {e}")))
}

fn write_catalogue(datasets: u64, out: PathBuf, seed: u64) -> Result<(), Failed> {
    let started = std::time::Instant::now();
    let bar = indicatif::ProgressBar::new(datasets);
    let summary = generate::generate(&generate::GenOptions { datasets, out: out.clone(), seed }, |done| bar.set_position(done))
        .map_err(|e| Failed(format!("cannot write the catalogue in {}: {e}", out.display())))?;
    bar.finish_and_clear();
    println!(
        "wrote {datasets} datasets to {} in {:.1} s: {} NBDC records, {} JGA records, {} DCAT records; {} files, {:.1} MB",
        out.display(),
        started.elapsed().as_secs_f64(),
        summary.humandbs_records,
        summary.jga_records,
        summary.dcat_records,
        summary.files,
        summary.bytes as f64 / 1e6
    );
    println!("harvest it with: musubi --data DATA --sources {} harvest", out.join("sources").display());
    Ok(())
}

async fn naive_sparql(data: PathBuf, listen: SocketAddr) -> Result<(), Failed> {
    let config = Config::of_data(data);
    let store = musubi_gateway::app::open_store(&config).map_err(|e| Failed(e.to_string()))?;
    let router = peers::naive_router(store.oxigraph().clone())?;
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| Failed(format!("cannot listen on {listen}: {e}")))?;
    let addr = listener.local_addr().map_err(|e| Failed(e.to_string()))?;
    println!("naive SPARQL-per-field peer over {}", config.data.join("graph").display());
    println!("open http://{addr}/graphql");
    axum::serve(listener, router).with_graceful_shutdown(musubi_gateway::cli::shutdown_signal()).await.map_err(|e| Failed(e.to_string()))
}
