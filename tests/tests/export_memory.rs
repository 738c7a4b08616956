//! The bulk export streams: 100,000 datasets leave over HTTP while the hub's memory stays flat.
//!
//! The datasets go straight into a source's named graph (as a harvest stores them), the hub
//! serves them, and the test reads `/export/datasets.ndjson` chunk by chunk, sampling this
//! process's resident memory (`VmRSS`, and the peak `VmHWM`, from /proc/self/status) as it goes.
//! Holding the export (some 60 MB of JSON, several times that as values) would show; one page
//! at a time does not. Figures are printed; 100,000 datasets in a release build
//! (`cargo test --release -p musubi-tests --test export_memory -- --nocapture`), 10,000 in a
//! debug build (some 30 s instead of 5 min on two cores); `MUSUBI_EXPORT_DATASETS` sets another
//! count.

mod support;

use std::sync::Arc;
use std::time::Instant;

use musubi_gateway::app::{App, Parts};
use musubi_store::{EmbeddedStore, GraphStore, Replacement};
use musubi_ontology::vocab::{SOURCE_GRAPH_PREFIX, Vocabulary};
use musubi_ontology::{RdfFormat, parse_triples};

/// A memory figure from /proc/self/status, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()))
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

const WORDS_EN: [&str; 8] = ["lung", "adenocarcinoma", "exome", "germline", "Japanese", "cohort", "RNA-seq", "methylation"];
const WORDS_JA: [&str; 6] = ["肺がん", "日本人", "ゲノム", "全エクソーム", "コホート", "遺伝子発現"];

/// `n` small dataset records as N-Triples: accession, English and Japanese titles, a description,
/// keywords, a release date, an access level.
fn ntriples(n: usize) -> String {
    let mut out = String::with_capacity(n * 900);
    let dct = "http://purl.org/dc/terms/";
    for i in 0..n {
        let s = format!("<https://w3id.org/musubi/dataset/JGAD{i:07}>");
        let (a, b, c) = (WORDS_EN[i % 8], WORDS_EN[(i / 8) % 8], WORDS_JA[i % 6]);
        out.push_str(&format!(
            "{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/dcat#Dataset> .\n\
             {s} <{dct}identifier> \"JGAD{i:07}\" .\n\
             {s} <{dct}title> \"{a} {b} study {i}\"@en .\n\
             {s} <{dct}title> \"{c}の研究 {i}\"@ja .\n\
             {s} <{dct}description> \"Whole {b} data of a {a} cohort, record {i}.\"@en .\n\
             {s} <http://www.w3.org/ns/dcat#keyword> \"{a}\" .\n\
             {s} <http://www.w3.org/ns/dcat#keyword> \"{c}\" .\n\
             {s} <{dct}issued> \"20{:02}-0{}-1{}\"^^<http://www.w3.org/2001/XMLSchema#date> .\n",
            i % 25,
            1 + i % 9,
            i % 10,
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn exporting_100k_datasets_keeps_memory_flat() {
    let default = if cfg!(debug_assertions) { 10_000 } else { 100_000 };
    let n: usize = std::env::var("MUSUBI_EXPORT_DATASETS").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let started = Instant::now();
    let store = Arc::new(EmbeddedStore::in_memory());
    {
        let triples = parse_triples(ntriples(n).as_bytes(), RdfFormat::NTriples, "https://w3id.org/musubi/").expect("N-Triples");
        let graph = musubi_ontology::rdf::NamedNode::new(format!("{SOURCE_GRAPH_PREFIX}generated")).expect("IRI");
        store.replace(&[Replacement { graph: graph.as_ref(), triples: &triples }]).expect("stored");
    }
    let app = App::new(Parts::new(store, Vec::new(), Vocabulary::builtin())).expect("hub starts");
    let loaded = started.elapsed();
    let addr = support::serve(app).await;

    let (rss_before, hwm_before) = (status_kib("VmRSS:"), status_kib("VmHWM:"));
    let exporting = Instant::now();
    let mut response = reqwest::get(format!("http://{addr}/export/datasets.ndjson")).await.expect("export answers");
    assert_eq!(response.status().as_u16(), 200);
    let (mut lines, mut bytes, mut rss_peak) = (0usize, 0usize, rss_before);
    let mut partial: Vec<u8> = Vec::new();
    let mut last = String::new();
    let mut previous = String::new();
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        bytes += chunk.len();
        partial.extend_from_slice(&chunk);
        while let Some(end) = partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = partial.drain(..=end).collect();
            let record: serde_json::Value = serde_json::from_slice(&line).expect("each line is a JSON record");
            let accession = record["accession"].as_str().expect("accession").to_owned();
            assert!(accession > previous, "in order, none twice: {accession} after {previous}");
            previous.clone_from(&accession);
            last = accession;
            lines += 1;
        }
        rss_peak = rss_peak.max(status_kib("VmRSS:"));
    }
    let exported = exporting.elapsed();
    let hwm_after = status_kib("VmHWM:");
    assert!(partial.is_empty(), "the export ends with a whole line");
    assert_eq!(lines, n, "every dataset, once");
    assert_eq!(last, format!("JGAD{:07}", n - 1));

    let growth_mib = rss_peak.saturating_sub(rss_before) as f64 / 1024.0;
    let export_mib = bytes as f64 / (1024.0 * 1024.0);
    println!("export of {n} datasets: {export_mib:.1} MiB of NDJSON in {exported:.1?} ({:.0} records/s); store + read model loaded in {loaded:.1?}", n as f64 / exported.as_secs_f64());
    println!(
        "memory (this process: hub + client): RSS {:.0} MiB before, peak {:.0} MiB during (+{growth_mib:.1} MiB); VmHWM {:.0} → {:.0} MiB",
        rss_before as f64 / 1024.0,
        rss_peak as f64 / 1024.0,
        hwm_before as f64 / 1024.0,
        hwm_after as f64 / 1024.0,
    );
    // Holding the whole export would add at least its own size; a page at a time adds a few MiB.
    let bound = (export_mib / 2.0).max(24.0);
    assert!(growth_mib < bound, "memory grew {growth_mib:.1} MiB while exporting {export_mib:.1} MiB (bound {bound:.1} MiB): the export is not streaming");
}
