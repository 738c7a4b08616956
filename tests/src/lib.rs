//! Test support: a partner database on loopback that serves the real fixture files, and a
//! GraphQL client.
//!
//! The partner speaks the shapes real partner APIs use: an offset-paged JSON API (NBDC research
//! and research versions, JGA's dataset-policy relations), a next-link-paged JSON API (NBDC
//! datasets), plain files (RDF dumps,
//! JGA's XML), and a SPARQL endpoint that ignores OFFSET. It can be told to fail (HTTP 500,
//! garbage, a truncated body) or be stopped (down), to test what the hub does when a partner misbehaves.
//!
//! It is as strict as a careful partner: an OAuth2 token endpoint (`/oauth/token`, client
//! credentials by `client_secret_basic` or `client_secret_post`, expiring bearer tokens) guards
//! every route again under `/protected/`; every GET answer carries an `ETag` and a
//! `Last-Modified` and is answered `304 Not Modified` when the client's validators match; and it
//! keeps a log of the requests it saw (path, status, arrival) and the most it had in flight at
//! once, so that tests can check what the hub asked for.
//!
//! [`SparqlServer`] is a real SPARQL 1.1 endpoint: the `oxigraph` server, loaded with fixtures.


use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

/// The fixture files shipped with the tests (real public records; see fixtures/SOURCES.md).
pub fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"))
}

/// The mappings shipped in the repository.
pub fn mappings() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../connectors/mappings"))
}

/// The `[check]` section (the fields left unmapped on purpose) of a shipped demo manifest, and
/// what follows it (its `[guards]`), so that the tests' manifests judge the shipped mappings as
/// the demo does.
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

/// Every DCAT dataset in a folder of Turtle fixtures: (identifier, titles).
pub fn dcat_datasets(folder: &str) -> Vec<(String, Vec<String>)> {
    use musubi_ontology::rdf::{NamedNodeRef, Term};
    use musubi_ontology::vocab;
    let mut found = Vec::new();
    for path in fixture_files(folder) {
        let triples = turtle_fixture(&path);
        for t in &triples {
            if t.predicate.as_ref() == vocab::RDF_TYPE && t.object == Term::from(vocab::DCAT_DATASET.into_owned()) {
                let values = |p: NamedNodeRef<'_>| -> Vec<String> {
                    let mut v: Vec<String> = triples
                        .iter()
                        .filter(|x| x.subject == t.subject && x.predicate.as_ref() == p)
                        .filter_map(|x| match &x.object {
                            Term::Literal(l) => Some(l.value().to_owned()),
                            _ => None,
                        })
                        .collect();
                    v.sort();
                    v
                };
                found.push((values(vocab::DCT_IDENTIFIER).remove(0), values(vocab::DCT_TITLE)));
            }
        }
    }
    found
}

/// The files of a fixture folder, sorted by name.
pub fn fixture_files(folder: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join(folder)).expect("fixture folder").map(|e| e.expect("entry").path()).collect();
    files.sort();
    files
}

/// A Turtle fixture's triples.
pub fn turtle_fixture(path: &std::path::Path) -> Vec<musubi_ontology::rdf::Triple> {
    musubi_ontology::parse_triples(&std::fs::read(path).expect("read"), musubi_ontology::RdfFormat::Turtle, "http://base/").expect("fixture parses")
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
    /// Files are cut off after their first half: an export that broke off mid-document.
    Truncated,
    /// The next n requests are answered, every later one gets HTTP 500: a partner that broke
    /// down mid-harvest.
    BreaksAfter(u32),
}

/// A partner database on loopback.
#[derive(Debug)]
pub struct Partner {
    pub addr: SocketAddr,
    behaviour: Arc<Mutex<Behaviour>>,
    oauth: Arc<OAuth>,
    traffic: Arc<Traffic>,
    task: tokio::task::JoinHandle<()>,
}

/// The OAuth2 client the partner knows (client credentials grant).
pub const OAUTH_CLIENT_ID: &str = "musubi-hub";
pub const OAUTH_CLIENT_SECRET: &str = "s3cret-client-9c1d";
/// How long the partner's tokens live, as it tells clients (`expires_in`).
pub const TOKEN_LIFETIME_SECS: u64 = 3600;

/// The partner's authorisation server.
#[derive(Debug, Default)]
struct OAuth {
    /// Tokens issued and still valid.
    tokens: Mutex<HashSet<String>>,
    /// Every token request that got a token: how the client authenticated, and the scope asked.
    issued: Mutex<Vec<TokenRequest>>,
    refused: AtomicUsize,
}

/// A token request the partner granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// `"client_secret_basic"` or `"client_secret_post"`.
    pub client_auth: &'static str,
    pub scope: Option<String>,
}

/// Which validators the partner sends with its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validators {
    /// `ETag` and `Last-Modified`.
    Both,
    /// Only `Last-Modified` (the client must ask with `If-Modified-Since`).
    LastModified,
    /// Neither: every answer is a full one.
    None,
}

/// What the partner saw.
#[derive(Debug)]
struct Traffic {
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Requests for pages after the first (`offset` > 0) are held until this many requests
    /// are in flight (0: not held), so that a test sees every page the hub has in flight at once.
    hold: AtomicUsize,
    released: AtomicUsize,
    validators: Mutex<Validators>,
}

/// One request the partner saw.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Path and query.
    pub uri: String,
    pub status: u16,
    /// When it arrived.
    pub at: Instant,
    /// The credentials it carried: its `Authorization` and `X-API-Key` headers, and whether its
    /// body named a client secret (a token request's form).
    pub authorization: Option<String>,
    pub api_key: Option<String>,
}

/// The `Last-Modified` of every answer: the fixtures do not change while a partner runs.
pub const LAST_MODIFIED: &str = "Tue, 25 Nov 2025 09:00:00 GMT";

/// Records per page of the partner's paged APIs (small, so that paging really happens).
pub const PAGE_SIZE: usize = 2;

impl Partner {
    pub async fn start() -> Partner {
        let behaviour = Arc::new(Mutex::new(Behaviour::Healthy));
        let oauth = Arc::new(OAuth::default());
        let traffic = Arc::new(Traffic {
            seen: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            hold: AtomicUsize::new(0),
            released: AtomicUsize::new(0),
            validators: Mutex::new(Validators::Both),
        });
        let api = Router::new()
            .route("/api/research", get(research))
            .route("/api/research-versions", get(research_versions))
            .route("/api/datasets", get(datasets))
            .route("/api/jga/dataset-policy", get(jga_dataset_policy))
            .route("/files/{*path}", get(file))
            .route("/secure/files/{*path}", get(secure_file))
            .route("/sparql-ignoring-offset", axum::routing::post(sparql_ignoring_offset))
            .route("/redirect", axum::routing::any(redirect))
            .with_state(behaviour.clone());
        let protected = api.clone().layer(middleware::from_fn_with_state(oauth.clone(), require_bearer));
        let app = api
            .nest("/protected", protected)
            .route("/oauth/token", post(token).with_state(oauth.clone()))
            .layer(middleware::from_fn_with_state(traffic.clone(), conditional))
            .layer(middleware::from_fn_with_state(traffic.clone(), count));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("partner server");
        });
        Partner { addr, behaviour, oauth, traffic, task }
    }

    /// Every request seen so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.traffic.seen.lock().expect("lock").clone()
    }

    /// Forgets the requests seen (and the most in flight).
    pub fn forget_seen(&self) {
        self.traffic.seen.lock().expect("lock").clear();
        self.traffic.max_in_flight.store(0, Ordering::SeqCst);
    }

    /// The most requests the partner was answering at once.
    pub fn max_in_flight(&self) -> usize {
        self.traffic.max_in_flight.load(Ordering::SeqCst)
    }

    /// Holds requests for pages after the first until `n` requests are in flight, and 50 ms
    /// more (see [`Traffic::hold`]); a request held longer than a few seconds goes on anyway.
    pub fn hold_pages_until(&self, n: usize) {
        self.traffic.hold.store(n, Ordering::SeqCst);
    }

    pub fn send_validators(&self, v: Validators) {
        *self.traffic.validators.lock().expect("lock") = v;
    }

    /// The token requests granted so far.
    pub fn tokens_issued(&self) -> Vec<TokenRequest> {
        self.oauth.issued.lock().expect("lock").clone()
    }

    /// Token requests refused (bad client credentials).
    pub fn tokens_refused(&self) -> usize {
        self.oauth.refused.load(Ordering::SeqCst)
    }

    /// Revokes every token issued, as if they had expired early: the next request with one
    /// gets 401.
    pub fn revoke_tokens(&self) {
        self.oauth.tokens.lock().expect("lock").clear();
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
        Behaviour::BreaksAfter(n) => {
            *behaviour = Behaviour::BreaksAfter(n.saturating_sub(1));
            (n == 0).then(|| (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response())
        }
        Behaviour::Healthy | Behaviour::Truncated => None,
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

/// Offset paging over JGA's dataset → policy relation table, one JSON object per CSV row (the
/// file has no quoted fields).
async fn jga_dataset_policy(State(state): State<Arc<Mutex<Behaviour>>>, Query(q): Query<std::collections::HashMap<String, usize>>) -> Response {
    let text = std::fs::read_to_string(fixtures().join("jga/dataset-policy-relation.csv")).expect("fixture");
    let mut lines = text.lines();
    let columns: Vec<&str> = lines.next().expect("header").split(',').collect();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| Value::Object(columns.iter().zip(l.split(',')).map(|(c, v)| ((*c).to_owned(), Value::from(v))).collect()))
        .collect();
    offset_page(&state, &q, rows)
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
        Ok(mut bytes) => {
            if *state.lock().expect("lock") == Behaviour::Truncated {
                bytes.truncate(bytes.len() / 2);
            }
            let media = match path.rsplit('.').next() {
                Some("ttl") => "text/turtle",
                Some("xml") => "application/xml",
                _ => "application/json",
            };
            ([(header::CONTENT_TYPE, media)], bytes).into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A SPARQL endpoint that answers every query with the same page (a FAIR Data Point's Turtle),
/// whatever its LIMIT and OFFSET say.
async fn sparql_ignoring_offset() -> Response {
    let bytes = std::fs::read(fixtures().join("fair-data-point/disgenet.ttl")).expect("fixture");
    ([(header::CONTENT_TYPE, "text/turtle")], bytes).into_response()
}

/// The API key the partner's `/secure/` routes want in `X-API-Key`.
pub const API_KEY: &str = "partner-secret-7f3a";

/// Fixture files behind an API key: 401 without the right `X-API-Key`.
/// `/redirect?to=URL[&status=307]`: a redirect (302 unless said) to anywhere, another partner's
/// files included, as a partner moving its data to a CDN would answer.
async fn redirect(axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>) -> Response {
    let to = query.get("to").cloned().unwrap_or_default();
    let status = query.get("status").and_then(|s| s.parse::<u16>().ok()).and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::FOUND);
    (status, [(header::LOCATION, to)]).into_response()
}

async fn secure_file(State(state): State<Arc<Mutex<Behaviour>>>, headers: axum::http::HeaderMap, path: Path<String>) -> Response {
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(API_KEY) {
        return (StatusCode::UNAUTHORIZED, "missing or wrong API key").into_response();
    }
    file(State(state), path).await
}

/// The token endpoint (RFC 6749 §4.4): client credentials in an HTTP basic header or in the
/// form, never both; a bearer token that lives [`TOKEN_LIFETIME_SECS`].
async fn token(State(oauth): State<Arc<OAuth>>, headers: HeaderMap, axum::Form(form): axum::Form<HashMap<String, String>>) -> Response {
    let error = |status: StatusCode, code: &str, description: &str| {
        (status, axum::Json(json!({ "error": code, "error_description": description }))).into_response()
    };
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "only client_credentials is granted here");
    }
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Basic ")).map(|b64| {
        let decoded = base64::engine::general_purpose::STANDARD.decode(b64).unwrap_or_default();
        let decoded = String::from_utf8_lossy(&decoded).into_owned();
        let (id, secret) = decoded.split_once(':').unwrap_or((&decoded, ""));
        (id.to_owned(), secret.to_owned())
    });
    let post = form.get("client_secret").map(|secret| (form.get("client_id").cloned().unwrap_or_default(), secret.clone()));
    let (client_auth, (id, secret)) = match (basic, post) {
        (Some(b), None) => ("client_secret_basic", b),
        (None, Some(p)) => ("client_secret_post", p),
        (Some(_), Some(_)) => return error(StatusCode::BAD_REQUEST, "invalid_request", "use one client authentication method"),
        (None, None) => return error(StatusCode::UNAUTHORIZED, "invalid_client", "no client authentication"),
    };
    if id != OAUTH_CLIENT_ID || secret != OAUTH_CLIENT_SECRET {
        oauth.refused.fetch_add(1, Ordering::SeqCst);
        return error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
    }
    let mut issued = oauth.issued.lock().expect("lock");
    issued.push(TokenRequest { client_auth, scope: form.get("scope").cloned() });
    let value = format!("partner-token-{}", issued.len());
    oauth.tokens.lock().expect("lock").insert(value.clone());
    axum::Json(json!({ "access_token": value, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECS })).into_response()
}

/// The `/protected/` routes want a bearer token the token endpoint issued.
async fn require_bearer(State(oauth): State<Arc<OAuth>>, request: Request, next: Next) -> Response {
    let token = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if token.is_some_and(|t| oauth.tokens.lock().expect("lock").contains(t)) {
        return next.run(request).await;
    }
    (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")], "a valid bearer token is needed").into_response()
}

/// Validators on every successful GET, and 304 when the client's match (`If-None-Match` first,
/// `If-Modified-Since` only without it, as RFC 9110 §13.2.2 orders).
async fn conditional(State(traffic): State<Arc<Traffic>>, request: Request, next: Next) -> Response {
    let validators = *traffic.validators.lock().expect("lock");
    let if_none_match = header_text(request.headers(), header::IF_NONE_MATCH);
    let if_modified_since = header_text(request.headers(), header::IF_MODIFIED_SINCE);
    if request.method() != axum::http::Method::GET || validators == Validators::None {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("in-memory body");
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3));
    let etag = format!("\"{hash:016x}\"");
    let unchanged = match (validators, &if_none_match) {
        (Validators::Both, Some(tags)) => tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"),
        _ => if_modified_since.as_deref() == Some(LAST_MODIFIED),
    };
    if validators == Validators::Both {
        parts.headers.insert(header::ETAG, etag.parse().expect("header value"));
    }
    parts.headers.insert(header::LAST_MODIFIED, LAST_MODIFIED.parse().expect("header value"));
    if unchanged {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, axum::body::Body::empty());
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Logs each request and counts those in flight (held first if asked, see [`Traffic::hold`]).
async fn count(State(traffic): State<Arc<Traffic>>, request: Request, next: Next) -> Response {
    let at = Instant::now();
    let uri = request.uri().to_string();
    let authorization = header_text(request.headers(), header::AUTHORIZATION);
    let api_key = request.headers().get("x-api-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let now = traffic.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    traffic.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let later_page = request.uri().query().is_some_and(|q| q.split('&').any(|p| p.starts_with("offset=") && p != "offset=0"));
    let hold = traffic.hold.load(Ordering::SeqCst);
    if later_page && hold > 0 {
        // Every request waiting when the count is reached goes on: each bumps `released` when it
        // sees the count, and a waiter goes on once `released` has moved since it came.
        let came = traffic.released.load(Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if traffic.in_flight.load(Ordering::SeqCst) >= hold {
                traffic.released.fetch_add(1, Ordering::SeqCst);
                break;
            }
            if traffic.released.load(Ordering::SeqCst) != came || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // A while longer, so that a request beyond the count, if the hub sends one, is seen in
        // flight with them.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let response = next.run(request).await;
    traffic.in_flight.fetch_sub(1, Ordering::SeqCst);
    traffic.seen.lock().expect("lock").push(Seen { uri, status: response.status().as_u16(), at, authorization, api_key });
    response
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
            "togoid-jga-nbdc.toml",
            format!(
                "id = \"togoid-jga-nbdc\"\nkind = \"csv\"\nendpoint = \"{}\"\nmapping = \"{}\"\n\
                 columns = [\"jga_study\", \"nbdc_human_db\"]\n[record]\nid = \"jga_study\"\n",
                fixtures().join("togoid/jga_study-nbdc_human_db.tsv").display(),
                mappings.join("togoid-jga-study-nbdc-human-db.rml.ttl").display()
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

/// The JGA sources as shipped (the XML record sets, and the date tables beside them), served
/// by `partner` as files; each takes its `[check]` section from its demo manifest.
pub fn jga_manifests(partner: &Partner) -> Vec<(&'static str, String)> {
    let mappings = mappings();
    let files = |names: &[&str]| names.iter().map(|n| partner.url(&format!("/files/jga/{n}"))).collect::<Vec<_>>();
    vec![
        (
            "jga.toml",
            format!(
                "id = \"jga\"\nkind = \"xml\"\nendpoint = {:?}\nmapping = \"{}\"\n\
                 [paging]\nrecords = \"/STUDY_SET/STUDY | /DATASETS/DATASET | /POLICY_SET/POLICY | /DAC_SET/DAC\"\n\
                 [record]\nid = \"@accession\"\n{}",
                files(&["jga-study.xml", "jga-dataset.xml", "jga-policy.xml", "jga-dac.xml"]),
                mappings.join("jga.rml.ttl").display(),
                shipped_check("jga.toml"),
            ),
        ),
        (
            "jga-dates.toml",
            format!(
                "id = \"jga-dates\"\nkind = \"csv\"\nendpoint = {:?}\nmapping = \"{}\"\n[record]\nid = \"accession\"\n{}",
                files(&["dataset.date.csv", "study.date.csv", "policy.date.csv", "dac.date.csv"]),
                mappings.join("jga-dates.rml.ttl").display(),
                shipped_check("jga-dates.toml"),
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

/// The `oxigraph` release the SPARQL tests run (also in `.ci/run` and README).
pub const OXIGRAPH_PIP: &str = "pip install oxigraph==0.5.13";
const OXIGRAPH_VERSION: &str = "0.5.13";

/// A peer program the tests need (a SPARQL server, an npm package) that cannot be had, and why.
#[derive(Debug, Clone)]
pub struct PeerUnavailable(pub String);

impl std::fmt::Display for PeerUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PeerUnavailable {}

/// The `oxigraph` server CLI, installed from PyPI on first use when it is missing (so that
/// `cargo test --workspace` is the whole test set-up): its path, or why it cannot be had.
pub fn oxigraph_cli() -> Result<PathBuf, PeerUnavailable> {
    static CLI: std::sync::OnceLock<Result<PathBuf, PeerUnavailable>> = std::sync::OnceLock::new();
    CLI.get_or_init(|| {
        use std::process::Command;
        let works = |cli: &std::path::Path| {
            Command::new(cli).arg("--version").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(OXIGRAPH_VERSION))
        };
        let user_bin = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/bin/oxigraph"));
        let candidates: Vec<PathBuf> = std::iter::once(PathBuf::from("oxigraph")).chain(user_bin).collect();
        if let Some(found) = candidates.iter().find(|c| works(c)) {
            return Ok(found.clone());
        }
        let package = format!("oxigraph=={OXIGRAPH_VERSION}");
        for extra in [&[][..], &["--user"][..], &["--user", "--break-system-packages"][..]] {
            let installed = Command::new("python3").args(["-m", "pip", "install", "--quiet"]).args(extra).arg(&package).status();
            if installed.is_ok_and(|s| s.success())
                && let Some(found) = candidates.iter().find(|c| works(c))
            {
                return Ok(found.clone());
            }
        }
        Err(PeerUnavailable(format!(
            "the SPARQL tests need a real SPARQL server, the `oxigraph` CLI {OXIGRAPH_VERSION}, and installing it failed; install it with `{OXIGRAPH_PIP}`"
        )))
    })
    .clone()
}

/// The folder of an npm peer under `tests/interop/` with its packages installed (`npm ci` from
/// its lockfile on first use), or why they cannot be.
pub fn npm_peer(folder: &str, package: &str) -> Result<PathBuf, PeerUnavailable> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/interop")).join(folder);
    if !dir.join("node_modules").join(package).is_dir() {
        let status = std::process::Command::new("npm")
            .current_dir(&dir)
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .status()
            .map_err(|e| PeerUnavailable(format!("cannot run npm to install {package} in {}: {e}", dir.display())))?;
        if !status.success() || !dir.join("node_modules").join(package).is_dir() {
            return Err(PeerUnavailable(format!("`npm ci` in {} did not install {package} ({status})", dir.display())));
        }
    }
    Ok(dir)
}

/// A real SPARQL 1.1 endpoint on loopback: the `oxigraph` server (from `pip install oxigraph`)
/// over an on-disk store loaded with fixture files. Stopped when dropped.
#[derive(Debug)]
pub struct SparqlServer {
    /// The SPARQL query endpoint.
    pub url: String,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl SparqlServer {
    /// Loads `files` (Turtle) into a new store and serves it. Panics, saying how to install it,
    /// when `oxigraph` is not on PATH: the SPARQL tests must not pass without a server.
    pub fn start(files: &[PathBuf]) -> SparqlServer {
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("db");
        let cli = oxigraph_cli().unwrap_or_else(|e| panic!("{e}"));
        let missing = |e: std::io::Error| -> ! {
            panic!("the SPARQL tests need a real SPARQL server, the `oxigraph` CLI, and it cannot be run ({e}); install it with `{OXIGRAPH_PIP}`")
        };
        for file in files {
            let out = Command::new(&cli).arg("load").arg("--location").arg(&db).arg("--file").arg(file).output().unwrap_or_else(|e| missing(e));
            assert!(out.status.success(), "oxigraph load {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
        }
        // The server cannot say which port it got for :0, so take a free one (and try again
        // should another process take it first).
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
            let mut child = Command::new(&cli)
                .arg("serve")
                .arg("--location")
                .arg(&db)
                .arg("--bind")
                .arg(format!("127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| missing(e));
            for _ in 0..200 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return SparqlServer { url: format!("http://127.0.0.1:{port}/query"), child, _dir: dir };
                }
                if child.try_wait().expect("wait").is_some() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("the oxigraph server did not start");
    }
}

impl Drop for SparqlServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Posts a GraphQL request with `variables`, as the holder of API key `key` (anonymous with none),
/// and returns the JSON response.
pub async fn graphql_as(addr: SocketAddr, key: Option<&str>, query: &str, variables: Value) -> Value {
    graphql_status_as(addr, key, query, variables).await.1
}

/// [`graphql_as`], with the HTTP status too (limits and request errors are 4xx).
pub async fn graphql_status_as(addr: SocketAddr, key: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .header("content-type", "application/json")
        .body(json!({ "query": query, "variables": variables }).to_string());
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.expect("musubi answers");
    let status = response.status().as_u16();
    (status, response.json::<Value>().await.map_err(|e| e.to_string()).expect("JSON response"))
}
