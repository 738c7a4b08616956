//! `musubi-bench soak`: the hub served for minutes on end, under a steady mixed load, while its sources
//! are harvested on schedule — errors, latency and memory over time, every part a real process.
//!
//! ```sh
//! cargo build --release -p musubi-gateway -p musubi-bench
//! target/release/musubi-bench soak --datasets 10000 --minutes 10 --idle-minutes 30
//! ```
//!
//! 1. `musubi-bench gen` writes a catalogue of three sources (NBDC JSON, JGA XML, DCAT Turtle), which
//!    `musubi harvest` loads into a data folder once;
//! 2. **steady**: `musubi serve` on it, manifests without a schedule, and the mixed load for
//!    `--minutes`;
//! 3. **harvests**: the same folder served again, each source harvested every `--every` seconds
//!    (60), the same load for `--minutes`;
//! 4. **idle**: served again with no load, each source harvested every `--idle-every` seconds
//!    (15), for `--idle-minutes`: resident memory after each harvest interval.
//!
//! A harvest that reads what the standing graph was made from lands nothing. With `--changing`,
//! one record of each source changes every harvest interval (a word of its description written
//! `the` / `THE` in turn), so that every harvest lands what a partner's edit makes it land.
//!
//! The load is open-loop: `--rate` requests a second (40) sent on a fixed clock whatever the
//! answers do, each timed from when it was due — a stall shows as the latency of every request
//! due during it (no coordinated omission). A request's mix: searches with varied keywords,
//! filters and facets (40 %), dataset pages of many fields (25 %), dataset lists by filter
//! (15 %), audited reads of CONTROLLED fields by a steward's API key (10 %) and the sources'
//! status (10 %). An error is any answer but 200 with data and no `errors`.
//!
//! Printed: per phase requests, errors, p50/p99/p99.9/max, harvests landed, resident memory after
//! the first minute, at the end and at most; per minute the p99 and the memory. Nothing here
//! asserts a time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::processes::{Server, cpu_model, memory_mib, musubi, run, serve_sources};
use serde_json::{Value, json};

/// `musubi-bench soak`'s options.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// How many datasets the catalogue holds.
    #[arg(long, default_value_t = 10_000)]
    datasets: u64,
    /// The catalogue's seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where the catalogue and the data folder are kept.
    #[arg(long, default_value_os_t = std::env::temp_dir().join("musubi-soak"))]
    work: PathBuf,
    /// Minutes of load in the steady and harvests phases.
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Seconds between harvests in the harvests phase.
    #[arg(long, default_value_t = 60)]
    every: u64,
    /// Minutes of the idle phase.
    #[arg(long, default_value_t = 30.0)]
    idle_minutes: f64,
    /// Seconds between harvests in the idle phase.
    #[arg(long, default_value_t = 15)]
    idle_every: u64,
    /// Requests a second, sent on a fixed clock.
    #[arg(long, default_value_t = 40.0)]
    rate: f64,
    /// The phases to run, in order.
    #[arg(long, value_delimiter = ',', default_value = "steady,harvests,idle", value_parser = ["steady", "harvests", "idle"])]
    phases: Vec<String>,
    /// One record of each source changes every harvest interval, so every harvest lands.
    #[arg(long)]
    changing: bool,
}

/// Runs the soak's phases; figures are printed as they come.
pub fn soak(options: &Options) -> Result<(), crate::Failed> {
    let musubi = musubi()?;
    std::fs::create_dir_all(&options.work).map_err(|e| e.to_string())?;
    println!("musubi-soak: {} datasets (seed {}), work folder {}", options.datasets, options.seed, options.work.display());
    println!("machine: {} cores, {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), cpu_model());

    // 1. The catalogue, harvested once.
    let catalogue = options.work.join(format!("gen-{}-{}", options.datasets, options.seed));
    if !catalogue.join("sources").exists() {
        crate::generate::generate(&crate::generate::GenOptions { datasets: options.datasets, out: catalogue.clone(), seed: options.seed }, |_| {})
            .map_err(|e| format!("gen {}: {e}", catalogue.display()))?;
    }
    let data = options.work.join("data");
    let _ = std::fs::remove_dir_all(&data);
    let t = Instant::now();
    run(Command::new(&musubi).arg("--data").arg(&data).arg("--sources").arg(catalogue.join("sources")).arg("harvest"), "musubi harvest")?;
    println!("first harvest: {:.1} s", t.elapsed().as_secs_f64());
    let key = run(Command::new(&musubi).arg("--data").arg(&data).args(["apikey", "create", "--name", "soak", "--tier", "STEWARD"]), "musubi apikey")?;
    let key = key.lines().nth(1).ok_or("musubi apikey printed no key")?.trim().to_owned();

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for phase in &options.phases {
        let (every, minutes, load) = match phase.as_str() {
            "steady" => (None, options.minutes, true),
            "harvests" => (Some(options.every), options.minutes, true),
            _ => (Some(options.idle_every), options.idle_minutes, false),
        };
        let sources = scheduled_manifests(&catalogue, &options.work.join(format!("sources-{phase}")), every)?;
        let (server, _) = serve_sources(&musubi, &data, Some(&sources))?;
        let changes = every.filter(|_| options.changing).map(|every| Changes::start(&catalogue, every));
        let changing = if changes.is_some() { ", each changed before every harvest" } else { "" };
        let figures = runtime.block_on(run_phase(&server, &key, minutes, load.then_some(options.rate)))?;
        drop(changes);
        let log = std::fs::read_to_string(data.join("serve.err")).unwrap_or_default();
        let landed = log.matches("scheduled harvest landed").count();
        let failed = log.matches("scheduled harvest failed").count();
        let unchanged = log.matches("scheduled harvest: unchanged").count();
        drop(server);
        println!("\n## {phase}: {minutes} min, {}{changing}", every.map_or("no scheduled harvests".to_owned(), |e| format!("3 sources harvested every {e} s")));
        figures.print_minutes();
        rows.push((phase.clone(), figures, landed, failed, unchanged));
    }
    println!("\n| phase | requests | errors | p50 ms | p99 ms | p99.9 ms | max ms | harvests landed (failed, unchanged) | RSS after 1 min | RSS at end | RSS max |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (phase, f, landed, failed, unchanged) in &rows {
        println!("{}", f.row(phase, *landed, *failed, *unchanged));
    }
    Ok(())
}

/// A thread that changes one record of each source every `every` seconds (half an interval out of
/// step with the schedule), until dropped: the first ` the ` of each source's first file (a word of
/// a description) is written ` THE ` and back in turn, so every harvest reads one record changed.
struct Changes {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Changes {
    fn start(catalogue: &Path, every: u64) -> Changes {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        // Each file and where its word is (found in its lower case, whichever case it was left in).
        let words: Vec<(PathBuf, usize)> = ["humandbs", "jga", "dcat"]
            .iter()
            .filter_map(|dir| {
                let mut files: Vec<PathBuf> = std::fs::read_dir(catalogue.join(dir)).ok()?.filter_map(|e| Some(e.ok()?.path())).collect();
                files.sort();
                let file = files.into_iter().next()?;
                let bytes = std::fs::read(&file).ok()?.to_ascii_lowercase();
                let at = bytes.windows(5).position(|w| w == b" the ")? + 1;
                Some((file, at))
            })
            .collect();
        if words.len() < 3 {
            eprintln!("musubi-soak: only {} of the 3 sources have a \" the \" to change in their first file", words.len());
        }
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut next = Instant::now() + Duration::from_secs(every) / 2;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if Instant::now() >= next {
                        for (file, at) in &words {
                            if let Err(e) = toggle_case(file, *at) {
                                eprintln!("musubi-soak: cannot change {}: {e}", file.display());
                            }
                        }
                        next += Duration::from_secs(every);
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        };
        Changes { stop, thread: Some(thread) }
    }
}

/// Writes the three letters at `at` in the other case (`the` ↔ `THE`), in place.
fn toggle_case(file: &Path, at: usize) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().read(true).write(true).open(file)?;
    let mut word = [0u8; 3];
    f.seek(SeekFrom::Start(at as u64))?;
    f.read_exact(&mut word)?;
    let other = if word[0].is_ascii_lowercase() { word.to_ascii_uppercase() } else { word.to_ascii_lowercase() };
    f.seek(SeekFrom::Start(at as u64))?;
    f.write_all(&other)
}

impl Drop for Changes {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The catalogue's manifests, each with `schedule` set (or none), in `dir`; mappings and data
/// are the catalogue's own (its relative paths kept by writing beside its `sources/`).
fn scheduled_manifests(catalogue: &Path, dir: &Path, every: Option<u64>) -> Result<PathBuf, String> {
    let dir = catalogue.join(dir.file_name().ok_or("no folder name")?);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(catalogue.join("sources")).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        // Top-level keys come before the first table.
        let (head, tables) = text.split_at(text.find("\n[").map_or(text.len(), |i| i + 1));
        let schedule = every.map_or(String::new(), |s| format!("schedule = \"{s}s\"\n"));
        std::fs::write(dir.join(path.file_name().ok_or("no file name")?), format!("{head}{schedule}\n{tables}")).map_err(|e| e.to_string())?;
    }
    Ok(dir)
}

/// One request's outcome: seconds since the phase began (when it was due), latency from when it
/// was due, and whether it was answered well.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Which part of the mix it was (see [`Mix::request`]).
    kind: &'static str,
    due: f64,
    latency_ms: f64,
    ok: bool,
}

#[derive(Debug, Default)]
struct Figures {
    samples: Vec<Sample>,
    /// (seconds since the phase began, resident MiB)
    memory: Vec<(f64, f64)>,
    first_error: Option<String>,
}

impl Figures {
    fn percentile(latencies: &[f64], p: f64) -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        latencies[((latencies.len() as f64 - 1.0) * p).round() as usize]
    }

    fn latencies(&self, from: f64, to: f64) -> Vec<f64> {
        self.latencies_of(|s| s.due >= from && s.due < to)
    }

    /// The latencies of the samples `keep` keeps, sorted.
    fn latencies_of(&self, keep: impl Fn(&Sample) -> bool) -> Vec<f64> {
        let mut l: Vec<f64> = self.samples.iter().filter(|s| keep(s)).map(|s| s.latency_ms).collect();
        l.sort_by(f64::total_cmp);
        l
    }

    fn rss_at(&self, t: f64) -> f64 {
        self.memory.iter().find(|(at, _)| *at >= t).or(self.memory.last()).map_or(0.0, |m| m.1)
    }

    fn print_minutes(&self) {
        let end = self.memory.last().map_or(0.0, |m| m.0);
        let mut minute = 0.0;
        while minute < end {
            let l = self.latencies(minute, minute + 60.0);
            let errors = self.samples.iter().filter(|s| s.due >= minute && s.due < minute + 60.0 && !s.ok).count();
            let load = if l.is_empty() {
                String::new()
            } else {
                format!("{} requests, {errors} errors, p99 {:.1} ms, max {:.1} ms; ", l.len(), Self::percentile(&l, 0.99), l[l.len() - 1])
            };
            println!("minute {:>2}: {load}RSS {:.0} MiB", (minute / 60.0) as u64 + 1, self.rss_at(minute + 60.0));
            minute += 60.0;
        }
        let mut kinds: Vec<&str> = self.samples.iter().map(|s| s.kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in kinds {
            let l = self.latencies_of(|s| s.kind == kind);
            println!("{kind}: {} requests, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms", l.len(), Self::percentile(&l, 0.5), Self::percentile(&l, 0.99), l[l.len() - 1]);
        }
        if let Some(e) = &self.first_error {
            println!("first error: {e}");
        }
    }

    fn row(&self, phase: &str, landed: usize, failed: usize, unchanged: usize) -> String {
        let l = self.latencies(0.0, f64::MAX);
        let errors = self.samples.iter().filter(|s| !s.ok).count();
        let max_rss = self.memory.iter().map(|m| m.1).fold(0.0, f64::max);
        let end = self.memory.last().map_or(0.0, |m| m.1);
        format!(
            "| {phase} | {} | {errors} | {:.1} | {:.1} | {:.1} | {:.1} | {landed} ({failed}, {unchanged}) | {:.0} MiB | {end:.0} MiB | {max_rss:.0} MiB |",
            l.len(),
            Self::percentile(&l, 0.5),
            Self::percentile(&l, 0.99),
            Self::percentile(&l, 0.999),
            l.last().copied().unwrap_or(0.0),
            self.rss_at(60.0),
        )
    }
}

/// The requests of the mix, drawn from the catalogue's own accessions and words.
struct Mix {
    accessions: Vec<String>,
    key: String,
}

const WORDS: &[&str] = &[
    "cancer", "genome", "cohort", "diabetes", "sequencing", "japanese", "tumor", "rna", "exome", "brain", "liver", "blood", "immune",
    "protein", "variant", "がん", "ゲノム", "疾患", "患者", "解析", "症例", "遺伝子", "肝臓", "免疫", "study", "clinical", "methylation",
];
const ASSAYS: &[&str] = &["WGS", "WES", "RNA-seq", "ChIP-seq", "SNP array"];

const DATASET_PAGE: &str = "query Page($id: String!) { dataset(id: $id) { id accession title { value lang } description { value lang } \
    accessLevel releaseDate subjectCount assays platforms referenceGenomes keywords sources versionReleaseDate \
    study { accession title { value lang } } } }";
const SEARCH: &str = "query Search($q: String, $filter: SearchFilter) { search(query: $q, filter: $filter, facets: [ASSAYS, REFERENCE_GENOMES], first: 20) { \
    totalCount facets { field values { value count } } nodes { ... on Dataset { accession title { value lang } accessLevel assays } \
    ... on Study { accession title { value lang } } } } }";
const LIST: &str = "query List($filter: DatasetFilter) { datasets(first: 20, filter: $filter) { totalCount nodes { accession title { value lang } accessLevel releaseDate } } }";
const AUDITED: &str = "query Audited($id: String!) { dataset(id: $id) { accession dataRecords downloadUrls } }";
const SOURCES: &str = "{ sources { id recordCount lastHarvest lastError warnings } }";

impl Mix {
    /// The `i`th request: its kind, its body and whether it carries the steward's key.
    fn request(&self, i: u64) -> (&'static str, Value, bool) {
        let r = splitmix(i);
        let pick = |n: usize, salt: u64| (splitmix(r ^ salt) % n as u64) as usize;
        let accession = &self.accessions[pick(self.accessions.len(), 1)];
        match r % 100 {
            0..40 => {
                let mut filter = serde_json::Map::new();
                if pick(2, 2) == 0 {
                    filter.insert("assays".into(), json!([ASSAYS[pick(ASSAYS.len(), 3)]]));
                }
                if pick(3, 4) == 0 {
                    filter.insert("kind".into(), json!(["DATASET"]));
                }
                ("search", json!({ "query": SEARCH, "variables": { "q": WORDS[pick(WORDS.len(), 5)], "filter": filter } }), false)
            }
            40..65 => ("dataset page", json!({ "query": DATASET_PAGE, "variables": { "id": accession } }), false),
            65..80 => {
                let filter = match pick(3, 6) {
                    0 => json!({ "text": WORDS[pick(WORDS.len(), 7)] }),
                    1 => json!({ "accessLevel": ["CONTROLLED"] }),
                    _ => json!({}),
                };
                ("list", json!({ "query": LIST, "variables": { "filter": filter } }), false)
            }
            80..90 => ("audited read", json!({ "query": AUDITED, "variables": { "id": accession } }), true),
            _ => ("sources", json!({ "query": SOURCES }), false),
        }
    }
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Up to 2,000 dataset accessions, paged from the hub.
async fn accessions(client: &reqwest::Client, url: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    while out.len() < 2_000 {
        let body = json!({ "query": "query($after: String) { datasets(first: 100, after: $after) { edges { cursor node { accession } } pageInfo { hasNextPage } } }", "variables": { "after": after } });
        let answer: Value = client.post(url).json(&body).send().await.map_err(|e| e.to_string())?.json().await.map_err(|e| e.to_string())?;
        let edges = answer["data"]["datasets"]["edges"].as_array().ok_or_else(|| format!("no datasets: {answer}"))?;
        out.extend(edges.iter().filter_map(|e| e["node"]["accession"].as_str().map(str::to_owned)));
        match edges.last() {
            Some(last) if answer["data"]["datasets"]["pageInfo"]["hasNextPage"] == true => after = last["cursor"].clone(),
            _ => break,
        }
    }
    if out.is_empty() {
        return Err("the hub has no datasets".into());
    }
    Ok(out)
}

/// Sends the mix at `rate` requests a second (none: no load) for `minutes`, sampling the
/// server's memory every 5 s.
async fn run_phase(server: &Server, key: &str, minutes: f64, rate: Option<f64>) -> Result<Figures, String> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().map_err(|e| e.to_string())?;
    let url = server.url.clone();
    let mix = Arc::new(Mix { accessions: accessions(&client, &url).await?, key: key.to_owned() });
    let figures = Arc::new(Mutex::new(Figures::default()));
    let pid = server.child.id();
    let started = tokio::time::Instant::now();
    let end = started + Duration::from_secs_f64(minutes * 60.0);

    let memory = {
        let figures = figures.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                if let Some((_, rss)) = memory_mib(pid) {
                    figures.lock().expect("figures").memory.push((started.elapsed().as_secs_f64(), rss));
                }
            }
        })
    };
    let mut tasks = tokio::task::JoinSet::new();
    if let Some(rate) = rate {
        let period = Duration::from_secs_f64(1.0 / rate);
        let mut i = 0u64;
        loop {
            let due = started + period.mul_f64(i as f64);
            if due >= end {
                break;
            }
            tokio::time::sleep_until(due).await;
            let (kind, body, steward) = mix.request(i);
            let (client, url, mix, figures) = (client.clone(), url.clone(), mix.clone(), figures.clone());
            tasks.spawn(async move {
                let mut request = client.post(&url).json(&body);
                if steward {
                    request = request.header("x-api-key", &mix.key);
                }
                let outcome = match request.send().await {
                    Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                        Ok(v) if v.get("errors").is_none() && v.get("data").is_some() => Ok(()),
                        Ok(v) => Err(format!("{body}: {v}")),
                        Err(e) => Err(format!("{body}: {e}")),
                    },
                    Ok(r) => Err(format!("{body}: HTTP {}", r.status())),
                    Err(e) => Err(format!("{body}: {e}")),
                };
                let sample = Sample { kind, due: (due - started).as_secs_f64(), latency_ms: due.elapsed().as_secs_f64() * 1e3, ok: outcome.is_ok() };
                let mut f = figures.lock().expect("figures");
                f.samples.push(sample);
                if let Err(e) = outcome {
                    f.first_error.get_or_insert(e);
                }
            });
            // Answers already in are collected as the load goes.
            while tasks.try_join_next().is_some() {}
            i += 1;
        }
    } else {
        tokio::time::sleep_until(end).await;
    }
    while tasks.join_next().await.is_some() {}
    if let Some((_, rss)) = memory_mib(pid) {
        figures.lock().expect("figures").memory.push((started.elapsed().as_secs_f64(), rss));
    }
    memory.abort();
    let figures = std::mem::take(&mut *figures.lock().expect("figures"));
    Ok(figures)
}
