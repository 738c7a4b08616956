//! `musubi-bench run`: the hub measured end to end as its users meet it, every part a real process.
//!
//! ```sh
//! cargo build --release -p musubi-gateway -p musubi-bench
//! target/release/musubi-bench run --datasets 100000 --work /tmp/bench
//! ```
//!
//! 1. `musubi-bench gen` writes the catalogue (kept and reused for the same size and seed);
//! 2. `musubi harvest` loads it into an on-disk data folder: wall time, size on disk;
//! 3. `musubi serve` starts on it: time from start to the first answer of the portal query
//!    (twice: with the response cache off, then on);
//! 4. `wrk` (Debian's package, a separate process) sends the portal query at 1, 16 and 64
//!    connections: requests per second, p50, p99;
//! 5. the server's peak resident memory (VmHWM) over all of it;
//! 6. the raw index (`musubi-bench index`, no `serve` running): the same search answered by the
//!    hub's search index in that process, at 1, 16 and 64 threads, index only and with the hits'
//!    fields read from the read model — the limit the hub's layers above the index can approach;
//! 7. the naive peer (`musubi-bench naive-sparql`, skipped with `--no-naive`): a GraphQL server
//!    over the same on-disk store that runs a SPARQL query per field of every result, sent the
//!    same portal query by `wrk` (timeouts reported, not hidden);
//! 8. with `--peers`: the same query through GraphQL Mesh + Hive Gateway (npm, in
//!    `tests/interop/mesh/`) over a JSON REST server holding the same NBDC records, at the same
//!    connection counts.
//!
//! Figures are printed as a Markdown table for BENCHMARKS.md. Nothing here asserts a time.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::processes::{START_LIMIT_TICKS, cpu_model, dir_size, memory_mib, musubi, musubi_bench, run, serve, start_peer};

/// The portal's query: a keyword, two facet filters (with their counts), 20 results of 12 fields.
const PORTAL_QUERY: &str = r#"query Portal($q: String!) {
  search(query: $q, filter: { kind: [DATASET], assays: ["WGS"], referenceGenomes: ["GRCh38"] },
         facets: [ASSAYS, REFERENCE_GENOMES], first: 20) {
    totalCount
    facets { field values { value count } }
    nodes {
      ... on Dataset {
        id accession title { value lang } description { value lang } accessLevel
        releaseDate subjectCount assays platforms referenceGenomes keywords sources
      }
    }
  }
}"#;

/// `musubi-bench run`'s options.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// How many datasets the catalogue holds.
    #[arg(long, default_value_t = 100_000)]
    datasets: u64,
    /// The catalogue's seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where the catalogue and the data folder are kept (reused for the same size and seed).
    #[arg(long, default_value_os_t = std::env::temp_dir().join("musubi-bench"))]
    work: PathBuf,
    /// Seconds per wrk run.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Connection counts, one wrk run each.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    connections: Vec<u32>,
    /// A GraphQL query to send instead of the portal query (its variable `$q` is the keyword).
    #[arg(long)]
    query_file: Option<PathBuf>,
    /// The portal query's keyword.
    #[arg(long, default_value = "cancer")]
    keyword: String,
    /// Also measure GraphQL Mesh + Hive Gateway (npm) over a REST server of the same records.
    #[arg(long)]
    peers: bool,
    /// Skip the naive SPARQL-per-field peer.
    #[arg(long)]
    no_naive: bool,
}

impl Options {
    fn query(&self) -> Result<String, String> {
        match &self.query_file {
            Some(file) => std::fs::read_to_string(file).map_err(|e| format!("--query-file {}: {e}", file.display())),
            None => Ok(PORTAL_QUERY.to_owned()),
        }
    }
}

fn body(query: &str, options: &Options) -> String {
    serde_json::json!({ "query": query, "variables": { "q": options.keyword } }).to_string()
}

/// Posts the portal query until it is answered; the time since `started` is the time to first
/// answer.
fn first_answer(url: &str, body: &str, started: Instant) -> Result<(Duration, serde_json::Value), String> {
    let client = http1::Client;
    loop {
        if let Ok(answer) = client.post(url, body) {
            return Ok((started.elapsed(), answer));
        }
        if started.elapsed() > Duration::from_secs(START_LIMIT_TICKS / 100) {
            return Err(format!("no answer within {} s", START_LIMIT_TICKS / 100));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What one wrk run measured.
#[derive(Debug, Clone, Copy)]
struct Load {
    rps: f64,
    p50: f64,
    p99: f64,
    /// Failed requests: non-2xx answers, socket errors and timeouts.
    errors: u64,
    /// Of which timeouts (no answer within wrk's `--timeout`; not in the percentiles).
    timeouts: u64,
}

impl Load {
    fn row(&self, connections: u32) -> String {
        let timeouts = if self.timeouts > 0 { format!(" ({} timeouts)", self.timeouts) } else { String::new() };
        format!("| {connections} | {:.0} | {:.2} | {:.2} | {}{timeouts} |", self.rps, self.p50, self.p99, self.errors)
    }
}

/// One wrk run; a request unanswered after `timeout_s` seconds counts as a timeout.
fn wrk(url: &str, body: &str, connections: u32, seconds: u64, timeout_s: u64, work: &Path) -> Result<Load, String> {
    let script = work.join("portal.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = {}\n",
            serde_json::to_string(body).map_err(|e| e.to_string())?
        ),
    )
    .map_err(|e| e.to_string())?;
    let threads = connections.min(2);
    let out = run(
        Command::new("wrk")
            .args(["--latency", "--timeout", &format!("{timeout_s}s"), "-t", &threads.to_string(), "-c", &connections.to_string(), "-d", &format!("{seconds}s")])
            .arg("-s")
            .arg(&script)
            .arg(url),
        "wrk (apt-get install wrk)",
    )?;
    let rps = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("wrk printed no Requests/sec: {out}"))?;
    let percentile = |p: &str| -> Result<f64, String> {
        let line = out.lines().find(|l| l.trim_start().starts_with(p)).ok_or_else(|| format!("wrk printed no {p} latency: {out}"))?;
        parse_duration_ms(line.split_whitespace().nth(1).unwrap_or(""))
    };
    let non_2xx: u64 = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    // "Socket errors: connect 0, read 0, write 0, timeout 12"
    let socket: Vec<(String, u64)> = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
        .map(|v| {
            v.split(',')
                .filter_map(|part| {
                    let mut words = part.split_whitespace();
                    Some((words.next()?.to_owned(), words.next()?.parse::<u64>().ok()?))
                })
                .collect()
        })
        .unwrap_or_default();
    let timeouts = socket.iter().filter(|(what, _)| what == "timeout").map(|(_, n)| n).sum();
    let errors = non_2xx + socket.iter().map(|(_, n)| n).sum::<u64>();
    // With every request timed out wrk has no latencies to print.
    let (p50, p99) = match (percentile("50%"), percentile("99%")) {
        (Ok(p50), Ok(p99)) => (p50, p99),
        (Err(e), _) | (_, Err(e)) if timeouts == 0 => return Err(e),
        _ => (f64::NAN, f64::NAN),
    };
    Ok(Load { rps, p50, p99, errors, timeouts })
}

/// wrk's "1.23ms", "456.00us", "1.02s" in milliseconds.
fn parse_duration_ms(text: &str) -> Result<f64, String> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return Err(format!("not a wrk duration: {text:?}"));
    };
    number.parse::<f64>().map(|n| n * factor).map_err(|e| format!("{text:?}: {e}"))
}

/// A tiny HTTP/1.1 client on std only, for the first answer (no runtime to start).
mod http1 {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    #[derive(Debug)]
    pub struct Client;

    impl Client {
        pub fn post(&self, url: &str, body: &str) -> Result<serde_json::Value, crate::Failed> {
            let rest = url.strip_prefix("http://").ok_or("http URLs only")?;
            let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
            let mut stream = TcpStream::connect(host).map_err(|e| e.to_string())?;
            write!(
                stream,
                "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .map_err(|e| e.to_string())?;
            let mut response = String::new();
            stream.read_to_string(&mut response).map_err(|e| e.to_string())?;
            let (head, payload) = response.split_once("\r\n\r\n").ok_or("no HTTP head")?;
            if !head.starts_with("HTTP/1.1 200") {
                return Err(crate::Failed(head.lines().next().unwrap_or("").to_owned()));
            }
            serde_json::from_str(payload).map_err(|e| crate::Failed(format!("{e}: {payload}")))
        }
    }
}

/// Runs the whole benchmark; figures are printed as they come.
pub fn run_all(options: &Options) -> Result<(), crate::Failed> {
    let query = options.query()?;
    let musubi = musubi()?;
    std::fs::create_dir_all(&options.work).map_err(|e| e.to_string())?;
    let catalogue = options.work.join(format!("gen-{}-{}", options.datasets, options.seed));
    let data = options.work.join(format!("data-{}-{}", options.datasets, options.seed));
    println!("musubi-bench: {} datasets (seed {}), work folder {}", options.datasets, options.seed, options.work.display());
    println!("machine: {} cores, {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), cpu_model());

    // 1. The catalogue.
    if !catalogue.join("sources").exists() {
        let t = Instant::now();
        crate::generate::generate(&crate::generate::GenOptions { datasets: options.datasets, out: catalogue.clone(), seed: options.seed }, |_| {})
            .map_err(|e| format!("gen {}: {e}", catalogue.display()))?;
        println!("gen: {:.1} s, {:.1} MB", t.elapsed().as_secs_f64(), dir_size(&catalogue) as f64 / 1e6);
    }

    // 2. Harvest into an on-disk data folder (a fresh one each run).
    let _ = std::fs::remove_dir_all(&data);
    let t = Instant::now();
    let mut harvest = Command::new(&musubi);
    harvest.arg("--data").arg(&data).arg("--sources").arg(catalogue.join("sources")).arg("harvest");
    let child = harvest.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().map_err(|e| format!("musubi harvest: {e}"))?;
    let pid = child.id();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watcher = {
        let peak = peak.clone();
        std::thread::spawn(move || {
            while let Some((hwm, _)) = memory_mib(pid) {
                peak.store(hwm as u64, std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let _ = watcher.join();
    if !out.status.success() {
        return Err(format!("musubi harvest failed: {}", String::from_utf8_lossy(&out.stdout)).into());
    }
    let harvest_s = t.elapsed().as_secs_f64();
    let on_disk = dir_size(&data);
    println!("harvest: {harvest_s:.1} s, data folder {:.1} MB, peak RSS {} MiB", on_disk as f64 / 1e6, peak.load(std::sync::atomic::Ordering::Relaxed));

    // 3–5, twice: with the response cache off (every request runs: the engine's own speed),
    // then on (repeated portal queries, as a portal sends them).
    let body = body(&query, options);
    let mut hub_total = serde_json::Value::Null;
    for cache in [false, true] {
        let settings = data.join("musubi.toml");
        if cache {
            let _ = std::fs::remove_file(&settings);
        } else {
            std::fs::write(&settings, "[cache]\nbytes = 0\n").map_err(|e| e.to_string())?;
        }
        let (server, started) = serve(&musubi, &data)?;
        let url = server.url.clone();
        let (first, answer) = first_answer(&url, &body, started)?;
        if answer.get("errors").is_some() {
            return Err(format!("the portal query failed: {answer}").into());
        }
        let total = answer.pointer("/data/search/totalCount").cloned().unwrap_or_default();
        hub_total = total.clone();
        println!(
            "\nresponse cache {}: first answer {:.0} ms after start ({total} datasets match {:?})",
            if cache { "on" } else { "off" },
            first.as_secs_f64() * 1000.0,
            options.keyword
        );
        println!("\n| connections | requests/s | p50 ms | p99 ms | errors |\n| --- | --- | --- | --- | --- |");
        for connections in &options.connections {
            println!("{}", wrk(&url, &body, *connections, options.duration, 30, &options.work)?.row(*connections));
        }
        let (hwm, rss) = memory_mib(server.child.id()).unwrap_or_default();
        println!("\nserve: peak RSS {hwm:.0} MiB, RSS now {rss:.0} MiB");
    }

    // 6. The raw index, and 7. the naive SPARQL-per-field peer: each opens the data folder's
    // store, so after the last `serve` has stopped.
    if query != PORTAL_QUERY {
        println!("\n(the raw-index and naive peers answer the portal query, not the --query-file's)");
    }
    let me = musubi_bench()?;
    index_peer(&me, &data, options, &hub_total)?;
    if !options.no_naive {
        naive_peer(&me, &data, options, &hub_total)?;
    }

    // 8. The Mesh peer.
    if options.peers {
        mesh_peer(options, &catalogue)?;
    }
    Ok(())
}

/// `musubi-bench index`: the portal query against the hub's search index in that process, at the
/// same concurrency levels (threads, not connections). Its tables are printed as they come.
fn index_peer(me: &Path, data: &Path, options: &Options, hub_total: &serde_json::Value) -> Result<(), String> {
    let threads: Vec<String> = options.connections.iter().map(u32::to_string).collect();
    let out = run(
        Command::new(me)
            .arg("index")
            .arg("--data")
            .arg(data)
            .args(["--threads", &threads.join(","), "--seconds", &options.duration.to_string(), "--keyword", &options.keyword]),
        "musubi-bench index",
    )?;
    let total = out.split("totalCount ").nth(1).and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next()).unwrap_or("?");
    println!("\n{}", out.trim_end());
    println!("\n(raw index totalCount {total}; the hub said {hub_total})");
    Ok(())
}

/// `musubi-bench naive-sparql`: a SPARQL query per field of every result, over the same store,
/// sent the hub's own portal query by wrk. A slow peer is reported with its timeouts (10 s).
fn naive_peer(me: &Path, data: &Path, options: &Options, hub_total: &serde_json::Value) -> Result<(), String> {
    let log = options.work.join("naive.log");
    let _peer = start_peer(
        Command::new(me).arg("naive-sparql").arg("--data").arg(data).args(["--listen", "127.0.0.1:0"]),
        &log,
        "open http://",
    )?;
    let text = std::fs::read_to_string(&log).map_err(|e| e.to_string())?;
    let url = text.lines().find_map(|l| l.strip_prefix("open ")).ok_or("the naive peer printed no URL")?.trim().to_owned();
    let body = body(PORTAL_QUERY, options);
    let started = Instant::now();
    let (first, answer) = first_answer(&url, &body, started)?;
    if answer.get("errors").is_some() {
        return Err(format!("the naive peer's portal query failed: {answer}"));
    }
    println!(
        "\nnaive SPARQL per field on oxigraph (same store; {} datasets match, the hub said {hub_total}; first answer {:.0} ms):\n\n\
         | connections | requests/s | p50 ms | p99 ms | errors |\n| --- | --- | --- | --- | --- |",
        answer.pointer("/data/search/totalCount").cloned().unwrap_or_default(),
        first.as_secs_f64() * 1000.0
    );
    for connections in &options.connections {
        println!("{}", wrk(&url, &body, *connections, options.duration, 10, &options.work)?.row(*connections));
    }
    Ok(())
}

/// The portal query as the Mesh peer's schema spells it: the keyword, two facet filters, 20
/// results of the same 12 fields.
const MESH_QUERY: &str = r#"query Portal($q: String!) {
  datasets(q: $q, assay: "WGS", genome: "GRCh38", first: 20) {
    totalCount
    nodes { id accession title description accessLevel releaseDate subjectCount assays platforms referenceGenomes keywords sources }
  }
}"#;

/// Starts a peer process and waits until `ready` appears in its output file.
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn mesh_peer(options: &Options, catalogue: &Path) -> Result<(), String> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/interop/mesh"));
    if !dir.join("node_modules/@graphql-hive/gateway").is_dir() {
        run(Command::new("npm").current_dir(&dir).args(["ci", "--no-audit", "--no-fund", "--silent"]), "npm ci (the Mesh peer)")?;
    }
    let rest_port = free_port()?;
    let _rest = start_peer(
        Command::new("node").current_dir(&dir).arg("rest.mjs").arg(catalogue.join("humandbs")).arg(rest_port.to_string()),
        &options.work.join("rest.log"),
        "rest http://",
    )?;
    let supergraph = options.work.join("supergraph.graphql");
    run(
        Command::new("npx")
            .current_dir(&dir)
            .env("REST_URL", format!("http://127.0.0.1:{rest_port}"))
            .args(["mesh-compose", "-o"])
            .arg(&supergraph),
        "mesh-compose",
    )?;
    let gateway_port = free_port()?;
    let _gateway = start_peer(
        Command::new("npx").current_dir(&dir).args(["hive-gateway", "supergraph"]).arg(&supergraph).args(["--port", &gateway_port.to_string()]),
        &options.work.join("hive.log"),
        "Listening on",
    )?;
    let url = format!("http://127.0.0.1:{gateway_port}/graphql");
    let body = serde_json::json!({ "query": MESH_QUERY, "variables": { "q": options.keyword } }).to_string();
    let (_, answer) = first_answer(&url, &body, Instant::now())?;
    if answer.get("errors").is_some() {
        return Err(format!("the Mesh peer's portal query failed: {answer}"));
    }
    println!(
        "\nGraphQL Mesh + Hive Gateway over a JSON REST server ({} datasets match):\n\n| connections | requests/s | p50 ms | p99 ms | errors |\n| --- | --- | --- | --- | --- |",
        answer.pointer("/data/datasets/totalCount").cloned().unwrap_or_default()
    );
    for connections in &options.connections {
        println!("{}", wrk(&url, &body, *connections, options.duration, 30, &options.work)?.row(*connections));
    }
    Ok(())
}
