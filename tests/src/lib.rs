//! Test support: a partner database on loopback that serves the real fixture files, and a
//! GraphQL client.
//!
//! The partner speaks the shapes real partner APIs use: an offset-paged JSON API (NBDC research
//! and research versions), a next-link-paged JSON API (NBDC datasets), and plain files (RDF
//! dumps). It can be told to fail (HTTP 500, garbage) or be stopped (down), to test what the hub
//! does when a partner misbehaves.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// The fixture files shipped with the tests (real public records; see fixtures/SOURCES.md).
pub fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"))
}

/// The mappings shipped in the repository.
pub fn mappings() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../connectors/mappings"))
}

/// The `[check]` section (the fields left unmapped on purpose) of a shipped demo manifest, so
/// that the tests' manifests judge the shipped mappings as the demo does.
pub fn shipped_check(demo_manifest: &str) -> String {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../gateway/demo")).join(demo_manifest);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.find("\n[check]").map_or_else(String::new, |at| text[at..].to_owned())
}

/// Reads every JSON file of a fixture folder, sorted by file name.
pub fn json_records(folder: &str) -> Vec<Value> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(fixtures().join(folder)).expect("fixture folder").map(|e| e.expect("entry").path()).collect();
    files.sort();
    files.iter().map(|f| serde_json::from_slice(&std::fs::read(f).expect("fixture")).expect("fixture JSON")).collect()
}

/// How the partner answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Healthy,
    /// Every request gets HTTP 500.
    ServerError,
    /// Every request gets 200 with a body that is not valid JSON or Turtle.
    Garbage,
    /// Every other request gets 503 with `Retry-After: 0` (the count of requests so far).
    Flaky(u32),
}

/// A partner database on loopback.
#[derive(Debug)]
pub struct Partner {
    pub addr: SocketAddr,
    behaviour: Arc<Mutex<Behaviour>>,
    task: tokio::task::JoinHandle<()>,
}

/// Records per page of the partner's paged APIs (small, so that paging really happens).
pub const PAGE_SIZE: usize = 2;

impl Partner {
    pub async fn start() -> Partner {
        let behaviour = Arc::new(Mutex::new(Behaviour::Healthy));
        let app = Router::new()
            .route("/api/research", get(research))
            .route("/api/research-versions", get(research_versions))
            .route("/api/datasets", get(datasets))
            .route("/files/{*path}", get(file))
            .route("/secure/files/{*path}", get(secure_file))
            .with_state(behaviour.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("partner server");
        });
        Partner { addr, behaviour, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn behave(&self, b: Behaviour) {
        *self.behaviour.lock().expect("lock") = b;
    }

    /// Stops the server: from now on connections are refused (a partner that is down).
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

fn misbehaviour(state: &Mutex<Behaviour>) -> Option<Response> {
    let mut behaviour = state.lock().expect("lock");
    match *behaviour {
        Behaviour::Flaky(n) => {
            *behaviour = Behaviour::Flaky(n + 1);
            (n % 2 == 0).then(|| (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "0")], "busy").into_response())
        }
        Behaviour::Healthy => None,
        Behaviour::ServerError => Some((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()),
        Behaviour::Garbage => Some(([(header::CONTENT_TYPE, "application/json")], "{\"data\": [ {\"humId\": <html>").into_response()),
    }
}

/// Offset paging: `?offset=&limit=` over research records; states `total`.
async fn research(State(state): State<Arc<Mutex<Behaviour>>>, Query(q): Query<std::collections::HashMap<String, usize>>) -> Response {
    offset_page(&state, &q, json_records("humandbs/research"))
}

/// Offset paging over research-version records.
async fn research_versions(State(state): State<Arc<Mutex<Behaviour>>>, Query(q): Query<std::collections::HashMap<String, usize>>) -> Response {
    offset_page(&state, &q, json_records("humandbs/research-version"))
}

fn offset_page(state: &Mutex<Behaviour>, q: &std::collections::HashMap<String, usize>, all: Vec<Value>) -> Response {
    if let Some(r) = misbehaviour(state) {
        return r;
    }
    let offset = q.get("offset").copied().unwrap_or(0);
    let limit = q.get("limit").copied().unwrap_or(PAGE_SIZE).min(PAGE_SIZE);
    let page: Vec<Value> = all.iter().skip(offset).take(limit).cloned().collect();
    axum::Json(json!({ "total": all.len(), "data": page })).into_response()
}

/// Next-link paging over dataset records: `{"data": [...], "next": "/api/datasets?page=2"}`.
async fn datasets(State(state): State<Arc<Mutex<Behaviour>>>, Query(q): Query<std::collections::HashMap<String, usize>>) -> Response {
    if let Some(r) = misbehaviour(&state) {
        return r;
    }
    let all = json_records("humandbs/dataset");
    let page = q.get("page").copied().unwrap_or(1).max(1);
    let records: Vec<Value> = all.iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE).cloned().collect();
    let next = (page * PAGE_SIZE < all.len()).then(|| format!("/api/datasets?page={}", page + 1));
    axum::Json(json!({ "data": records, "links": { "next": next } })).into_response()
}

/// Fixture files as they are (RDF dumps).
async fn file(State(state): State<Arc<Mutex<Behaviour>>>, Path(path): Path<String>) -> Response {
    if *state.lock().expect("lock") == Behaviour::Garbage {
        return ([(header::CONTENT_TYPE, "text/turtle")], "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n<x> a dcat:Dataset ; ;; garbage").into_response();
    }
    if let Some(r) = misbehaviour(&state) {
        return r;
    }
    if path.contains("..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match std::fs::read(fixtures().join(&path)) {
        Ok(bytes) => {
            let media = if path.ends_with(".ttl") { "text/turtle" } else { "application/json" };
            ([(header::CONTENT_TYPE, media)], bytes).into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The API key the partner's `/secure/` routes want in `X-API-Key`.
pub const API_KEY: &str = "partner-secret-7f3a";

/// Fixture files behind an API key: 401 without the right `X-API-Key`.
async fn secure_file(State(state): State<Arc<Mutex<Behaviour>>>, headers: axum::http::HeaderMap, path: Path<String>) -> Response {
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(API_KEY) {
        return (StatusCode::UNAUTHORIZED, "missing or wrong API key").into_response();
    }
    file(State(state), path).await
}

/// Posts a GraphQL query to a musubi server and returns the JSON response.
pub async fn graphql(addr: SocketAddr, query: &str) -> Value {
    reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .header("content-type", "application/json")
        .body(json!({ "query": query }).to_string())
        .send()
        .await
        .expect("musubi answers")
        .json::<Value>()
        .await
        .map_err(|e| e.to_string())
        .expect("JSON response")
}

/// Manifests for the partner's sources, as a partner would write them.
pub fn manifests(humandbs: &Partner, dcat: &Partner) -> Vec<(&'static str, String)> {
    let mappings = mappings();
    let research_mapping = mappings.join("humandbs-research.rml.ttl");
    let version_mapping = mappings.join("humandbs-research-version.rml.ttl");
    let dataset_mapping = mappings.join("humandbs-dataset.rml.ttl");
    let dcat_rq = mappings.join("dcat.rq");
    let fdp_files: Vec<String> = file_urls(dcat, "fair-data-point");
    let health_files: Vec<String> = file_urls(dcat, "healthdcat-ap");
    vec![
        (
            "nbdc-research.toml",
            format!(
                "id = \"nbdc-research\"\nname = \"NBDC research\"\nkind = \"json-api\"\nendpoint = \"{}\"\nmapping = \"{}\"\n\
                 [paging]\nstyle = \"offset\"\nrecords = \"$.data[*]\"\ntotal = \"$.total\"\npage_size = {PAGE_SIZE}\n\
                 [record]\nid = \"humId\"\nurl = \"https://humandbs.dbcls.jp/en/{{humId}}\"\n{}",
                humandbs.url("/api/research"),
                research_mapping.display(),
                shipped_check("nbdc-research.toml"),
            ),
        ),
        (
            "nbdc-research-versions.toml",
            format!(
                "id = \"nbdc-research-versions\"\nkind = \"json-api\"\nendpoint = \"{}\"\nmapping = \"{}\"\n\
                 [paging]\nstyle = \"offset\"\nrecords = \"$.data[*]\"\ntotal = \"$.total\"\npage_size = {PAGE_SIZE}\n\
                 [record]\nid = \"humVersionId\"\n{}",
                humandbs.url("/api/research-versions"),
                version_mapping.display(),
                shipped_check("nbdc-research-versions.toml"),
            ),
        ),
        (
            "nbdc-datasets.toml",
            format!(
                "id = \"nbdc-datasets\"\nname = \"NBDC datasets\"\nkind = \"json-api\"\nendpoint = \"{}\"\nmapping = \"{}\"\n\
                 [paging]\nstyle = \"next-link\"\nrecords = \"$.data[*]\"\nnext = \"$.links.next\"\n[record]\nid = \"datasetId\"\n{}",
                humandbs.url("/api/datasets"),
                dataset_mapping.display(),
                shipped_check("nbdc-datasets.toml"),
            ),
        ),
        (
            "fair-data-point.toml",
            format!(
                "id = \"fair-data-point\"\nkind = \"rdf-dump\"\nendpoint = {fdp_files:?}\nconstruct = [\"{}\"]\n{}",
                dcat_rq.display(),
                shipped_check("fair-data-point.toml"),
            ),
        ),
        (
            "healthdcat-ap.toml",
            format!(
                "id = \"healthdcat-ap\"\nkind = \"rdf-dump\"\nendpoint = {health_files:?}\nconstruct = [\"{}\"]\n{}",
                dcat_rq.display(),
                shipped_check("healthdcat-ap.toml"),
            ),
        ),
    ]
}

/// Manifests for JSON and CSV sources served as files by `partner` (EGA records, JGA relation
/// tables, a DDBJ BioProject, a GA4GH Data Connect table), written as the demo's, with the demo's `[check]` sections.
pub fn file_source_manifests(partner: &Partner) -> Vec<(&'static str, String)> {
    let mappings = mappings();
    let ega = |id: &str, file: &str, mapping: &str, construct: &str, demo: &str| {
        format!(
            "id = \"{id}\"\nkind = \"json-api\"\nendpoint = \"{}\"\nmapping = \"{}\"\n{construct}\
             [paging]\nrecords = \"$.data\"\n[record]\nid = [\"objectId.egaAccession\", \"objectId.alias\"]\n{}",
            partner.url(&format!("/files/ega/json/{file}")),
            mappings.join(mapping).display(),
            shipped_check(demo),
        )
    };
    let ega_rq = format!("construct = [\"{}\"]\n", mappings.join("ega.rq").display());
    vec![
        ("ega-datasets.toml", ega("ega-datasets", "dataset_valid-1.json", "ega-dataset.rml.ttl", "", "ega-datasets.toml")),
        ("ega-policies.toml", ega("ega-policies", "policy_valid-1.json", "ega-policy.rml.ttl", &ega_rq, "ega-policies.toml")),
        ("ega-dacs.toml", ega("ega-dacs", "DAC_valid-1.json", "ega-dac.rml.ttl", "", "ega-dacs.toml")),
        (
            "jga-dataset-policy.toml",
            format!(
                "id = \"jga-dataset-policy\"\nkind = \"csv\"\nendpoint = \"{}\"\nmapping = \"{}\"\n[record]\nid = \"entry_id\"\n{}",
                partner.url("/files/jga/dataset-policy-relation.csv"),
                mappings.join("jga-dataset-policy.rml.ttl").display(),
                shipped_check("jga-dataset-policy.toml"),
            ),
        ),
        (
            "jga-policy-dac.toml",
            format!(
                "id = \"jga-policy-dac\"\nkind = \"csv\"\nendpoint = \"{}\"\nmapping = \"{}\"\n[record]\nid = \"entry_id\"\n{}",
                partner.url("/files/jga/policy-dac-relation.csv"),
                mappings.join("jga-policy-dac.rml.ttl").display(),
                shipped_check("jga-policy-dac.toml"),
            ),
        ),
        (
            "ddbj-bioproject.toml",
            format!(
                "id = \"ddbj-bioproject\"\nkind = \"json-api\"\nendpoint = \"{}\"\nmapping = \"{}\"\n[record]\nid = \"identifier\"\n{}",
                partner.url("/files/ddbj/bioproject-jsonld/PRJNA13193.jsonld"),
                mappings.join("ddbj-bioproject.rml.ttl").display(),
                shipped_check("ddbj-bioproject.toml"),
            ),
        ),
        (
            "data-connect.toml",
            format!(
                "id = \"data-connect\"\nkind = \"json-api\"\nendpoint = [\"{}\", \"{}\"]\nmapping = \"{}\"\n[record]\nid = \"name\"\n{}",
                partner.url("/files/data-connect/table_info_one_thousand_genomes_sample.json"),
                partner.url("/files/data-connect/search_1kgenomes_filter_populationcode.json"),
                mappings.join("data-connect-1000genomes.rml.ttl").display(),
                shipped_check("data-connect.toml"),
            ),
        ),
    ]
}

fn file_urls(partner: &Partner, folder: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures().join(folder))
        .expect("fixture folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.iter().map(|n| partner.url(&format!("/files/{folder}/{n}"))).collect()
}

/// Writes manifests into a folder and returns it.
pub fn write_manifests(dir: &std::path::Path, manifests: &[(&str, String)]) -> PathBuf {
    std::fs::create_dir_all(dir).expect("manifest folder");
    for (name, text) in manifests {
        std::fs::write(dir.join(name), text).expect("write manifest");
    }
    dir.to_owned()
}
