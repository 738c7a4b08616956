//! Reading a source's bytes: over HTTP, or from a file or folder. Every read has a timeout and a
//! size cap, so a partner that is slow or sends too much cannot hold the hub.

use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::manifest::Location;

/// What went wrong reading a location; the message names the URL or path.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: the partner answered HTTP {status}")]
    Status { url: String, status: String },
    #[error("{url}: no answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("{url}: cannot connect: {message}")]
    Connect { url: String, message: String },
    #[error("{url}: the answer is larger than the cap of {cap} bytes")]
    TooLarge { url: String, cap: u64 },
    #[error("{url}: this harvest has read more than its cap of {cap} bytes in all (max_harvest_bytes)")]
    HarvestTooLarge { url: String, cap: u64 },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    /// A SPARQL endpoint that refused a query, with what it said.
    #[error("{url}: the SPARQL endpoint refused the query (HTTP {status}): {message}")]
    Refused { url: String, status: String, message: String },
}

/// One fetched document.
#[derive(Debug)]
pub struct Document {
    /// Where it came from: the URL, or `file://` + path.
    pub url: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// How every read of one source is made: limits, retries and credentials.
#[derive(Clone)]
pub struct FetchOptions {
    pub timeout: Duration,
    pub max_bytes: u64,
    /// Further attempts after a 429, a 5xx or a refused connection (not after a timeout: a slow
    /// partner is not made slower).
    pub retries: u32,
    pub credentials: Option<Credentials>,
    /// Cap on all bytes one harvest reads, and what it has read so far.
    pub max_harvest_bytes: u64,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for FetchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, even in a debug log.
        f.debug_struct("FetchOptions")
            .field("timeout", &self.timeout)
            .field("max_bytes", &self.max_bytes)
            .field("retries", &self.retries)
            .field("credentials", &self.credentials.as_ref().map(|_| "…"))
            .finish()
    }
}

/// Credentials resolved from the environment or a secrets file, sent with every HTTP request.
#[derive(Clone)]
pub enum Credentials {
    Header { name: reqwest::header::HeaderName, value: reqwest::header::HeaderValue },
    Basic { username: String, password: String },
}

impl FetchOptions {
    /// The manifest's options, with its secret read now (so a missing one fails before any request).
    pub fn for_manifest(manifest: &crate::manifest::Manifest) -> Result<FetchOptions, String> {
        use crate::manifest::Auth;
        let credentials = match &manifest.auth {
            None => None,
            Some(Auth::ApiKey { header, secret }) => {
                let value = secret.read()?;
                let name = reqwest::header::HeaderName::from_bytes(header.as_bytes())
                    .map_err(|e| format!("{}: field `auth.header`: {header:?}: {e}", manifest.file.display()))?;
                let mut value = reqwest::header::HeaderValue::from_str(&value)
                    .map_err(|_| format!("{}: the secret is not a valid header value", secret.describe()))?;
                value.set_sensitive(true);
                Some(Credentials::Header { name, value })
            }
            Some(Auth::Basic { username, secret }) => Some(Credentials::Basic { username: username.clone(), password: secret.read()? }),
        };
        Ok(FetchOptions {
            timeout: manifest.timeout,
            max_bytes: manifest.max_bytes,
            retries: manifest.retries,
            credentials,
            max_harvest_bytes: manifest.max_harvest_bytes,
            read: Default::default(),
        })
    }

    /// Counts `n` more bytes read by this harvest; fails once the harvest's cap is passed.
    fn count(&self, url: &str, n: usize) -> Result<(), FetchError> {
        let total = self.read.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed) + n as u64;
        if total > self.max_harvest_bytes {
            return Err(FetchError::HarvestTooLarge { url: url.to_owned(), cap: self.max_harvest_bytes });
        }
        Ok(())
    }
}

/// First wait before a retry; it doubles each time. A partner's Retry-After is honoured up to
/// [`MAX_RETRY_AFTER`].
const BACKOFF: Duration = Duration::from_millis(250);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The document with gzip undone, when it is gzip (by its magic bytes). The decompressed size
/// is capped too, so a small bomb cannot fill the memory.
pub fn gunzip(doc: Document, max_bytes: u64) -> Result<Document, FetchError> {
    use std::io::Read;
    if !doc.bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(doc);
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(doc.bytes.as_slice())
        .take(max_bytes + 1)
        .read_to_end(&mut out)
        .map_err(|e| FetchError::File { path: doc.url.clone(), message: format!("not valid gzip: {e}") })?;
    if out.len() as u64 > max_bytes {
        return Err(FetchError::TooLarge { url: doc.url.clone(), cap: max_bytes });
    }
    let url = doc.url.strip_suffix(".gz").map_or(doc.url.clone(), str::to_owned);
    // The content type of a .gz answer says gzip, not what is inside: the name tells.
    Ok(Document { url, content_type: None, bytes: out })
}

/// Reads a location. A folder gives one document per file, sorted by name.
pub async fn fetch_all(client: &reqwest::Client, location: &Location, limits: &FetchOptions) -> Result<Vec<Document>, FetchError> {
    match location {
        Location::Http(url) => Ok(vec![get(client, url, limits).await?]),
        Location::File(path) => read_path(path, limits),
    }
}

/// One HTTP GET, retried with backoff on 429, 5xx and refused connections.
pub async fn get(client: &reqwest::Client, url: &Url, limits: &FetchOptions) -> Result<Document, FetchError> {
    send(client, url, limits, None).await
}

/// One HTTP POST of a JSON body (a partner's GraphQL), retried like [`get`].
pub async fn post_json(client: &reqwest::Client, url: &Url, limits: &FetchOptions, body: &serde_json::Value) -> Result<Document, FetchError> {
    send(client, url, limits, Some(Body::Json(body))).await
}

/// One SPARQL query (SPARQL 1.1 protocol: an HTML-form POST, which every endpoint takes),
/// retried like [`get`]. A refusal keeps the endpoint's message ([`FetchError::Refused`]).
pub async fn post_sparql(client: &reqwest::Client, url: &Url, limits: &FetchOptions, query: &str, accept: &str) -> Result<Document, FetchError> {
    send(client, url, limits, Some(Body::Sparql { query, accept })).await
}

/// What a POST carries.
#[derive(Clone, Copy)]
enum Body<'a> {
    Json(&'a serde_json::Value),
    Sparql { query: &'a str, accept: &'a str },
}

/// How much of a refusal's body is kept for the message.
const MAX_REFUSAL_BYTES: usize = 2048;

async fn send(client: &reqwest::Client, url: &Url, limits: &FetchOptions, body: Option<Body<'_>>) -> Result<Document, FetchError> {
    let mut attempt = 0;
    loop {
        match get_once(client, url, limits, body).await {
            Err(Attempt { error, retry_after }) if attempt < limits.retries && retry_after.is_some() => {
                let wait = retry_after.flatten().unwrap_or(BACKOFF * 2u32.pow(attempt)).min(MAX_RETRY_AFTER);
                tracing::info!(%url, %error, attempt = attempt + 1, wait_ms = wait.as_millis() as u64, "retrying");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(Attempt { error, .. }) => return Err(error),
            Ok(doc) => return Ok(doc),
        }
    }
}

/// A failed attempt: `retry_after` is `None` when retrying makes no sense, `Some(None)` to retry
/// after the backoff, `Some(Some(d))` when the partner said how long to wait.
struct Attempt {
    error: FetchError,
    retry_after: Option<Option<Duration>>,
}

impl From<FetchError> for Attempt {
    fn from(error: FetchError) -> Attempt {
        Attempt { error, retry_after: None }
    }
}

/// One HTTP GET, streamed so that the size cap holds without buffering more than the cap.
async fn get_once(client: &reqwest::Client, url: &Url, limits: &FetchOptions, body: Option<Body<'_>>) -> Result<Document, Attempt> {
    let seconds = limits.timeout.as_secs();
    let classify = |e: reqwest::Error| {
        if e.is_timeout() {
            FetchError::Timeout { url: url.to_string(), seconds }.into()
        } else {
            let retry = e.is_connect().then_some(None);
            Attempt { error: FetchError::Connect { url: url.to_string(), message: error_chain(&e) }, retry_after: retry }
        }
    };
    let mut request = match body {
        None => client.get(url.clone()),
        Some(Body::Json(body)) => {
            client.post(url.clone()).header(reqwest::header::ACCEPT, "application/graphql-response+json, application/json").json(body)
        }
        Some(Body::Sparql { query, accept }) => client
            .post(url.clone())
            .header(reqwest::header::ACCEPT, accept)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(url::form_urlencoded::Serializer::new(String::new()).append_pair("query", query).finish()),
    }
    .timeout(limits.timeout);
    match &limits.credentials {
        Some(Credentials::Header { name, value }) => request = request.header(name, value),
        Some(Credentials::Basic { username, password }) => request = request.basic_auth(username, Some(password)),
        None => {}
    }
    let mut response = request.send().await.map_err(classify)?;
    let status = response.status();
    // GraphQL over HTTP answers a refused request with 400 and the errors in a JSON body: read it.
    let graphql_errors = matches!(body, Some(Body::Json(_)))
        && status == reqwest::StatusCode::BAD_REQUEST
        && response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"));
    if !status.is_success() && !graphql_errors {
        let retry_after = (status.as_u16() == 429 || status.is_server_error()).then(|| {
            response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
        });
        let error = match body {
            Some(Body::Sparql { .. }) => {
                FetchError::Refused { url: url.to_string(), status: status.to_string(), message: refusal_message(&mut response).await }
            }
            _ => FetchError::Status { url: url.to_string(), status: status.to_string() },
        };
        return Err(Attempt { error, retry_after });
    }
    if response.content_length().is_some_and(|n| n > limits.max_bytes) {
        return Err(FetchError::TooLarge { url: url.to_string(), cap: limits.max_bytes }.into());
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if bytes.len() as u64 + chunk.len() as u64 > limits.max_bytes {
            return Err(FetchError::TooLarge { url: url.to_string(), cap: limits.max_bytes }.into());
        }
        limits.count(url.as_str(), chunk.len())?;
        bytes.extend_from_slice(&chunk);
    }
    Ok(Document { url: url.to_string(), content_type, bytes })
}

/// The start of a refusal's body, as one line of text: what the endpoint said was wrong.
async fn refusal_message(response: &mut reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < MAX_REFUSAL_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(MAX_REFUSAL_BYTES);
    let text = String::from_utf8_lossy(&bytes).split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() { "(it gave no message)".to_owned() } else { text }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

fn read_path(path: &Path, limits: &FetchOptions) -> Result<Vec<Document>, FetchError> {
    let file_err = |p: &Path, e: std::io::Error| FetchError::File { path: p.display().to_string(), message: e.to_string() };
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| file_err(path, e))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_owned()]
    };
    files
        .into_iter()
        .map(|f| {
            let len = std::fs::metadata(&f).map_err(|e| file_err(&f, e))?.len();
            if len > limits.max_bytes {
                return Err(FetchError::TooLarge { url: format!("file://{}", f.display()), cap: limits.max_bytes });
            }
            let bytes = std::fs::read(&f).map_err(|e| file_err(&f, e))?;
            limits.count(&format!("file://{}", f.display()), bytes.len())?;
            Ok(Document { url: format!("file://{}", f.display()), content_type: None, bytes })
        })
        .collect()
}
