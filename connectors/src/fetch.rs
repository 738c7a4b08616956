//! Reading a source's bytes: over HTTP, or from a file or folder. Every read has a timeout and a
//! size cap, so a partner that is slow or sends too much cannot hold the hub.
//!
//! Politeness lives here too, per source ([`Session`]): every HTTP request (pages, files, token
//! requests, retries) waits for the source's rate limiter; credentials go with each request
//! (an OAuth2 bearer token is fetched once, kept until shortly before it expires, and renewed
//! once on a 401); and a harvest's GETs are conditional on the last successful harvest's
//! validators, reusing the stored page on `304 Not Modified` (see [`crate::cache`]).

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use oauth2::basic::BasicClient;
use oauth2::{AsyncHttpClient, AuthType, ClientId, ClientSecret, HttpRequest, HttpResponse, RequestTokenError, Scope, TokenResponse, TokenUrl};
use url::Url;

use crate::page_cache::{Entry, PageCache};
use crate::manifest::{Auth, ClientAuth, Location, Manifest, OAuth2, SecretError};

/// What went wrong reading a location; the message names the URL or path.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: the partner answered HTTP {status}")]
    Status { url: String, status: String },
    #[error("{url}: no answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("{url}: cannot connect: {message}")]
    Connect { url: String, message: String },
    /// The connection closed before the body its `Content-Length` announced was read.
    #[error("{url}: the answer ended after {got} of the {announced} bytes its Content-Length announced")]
    Truncated { url: String, got: u64, announced: u64 },
    #[error("{url}: the answer is larger than the cap of {cap} bytes")]
    TooLarge { url: String, cap: u64 },
    #[error("{url}: this harvest has read more than its cap of {cap} bytes in all (max_harvest_bytes)")]
    HarvestTooLarge { url: String, cap: u64 },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    /// A SPARQL endpoint that refused a query, with what it said.
    #[error("{url}: the SPARQL endpoint refused the query (HTTP {status}): {message}")]
    Refused { url: String, status: String, message: String },
    #[error("source {source_id}: no OAuth2 token from {token_url}: {message}")]
    Token { source_id: String, token_url: String, message: String },
}

/// One fetched document.
#[derive(Debug)]
pub struct Document {
    /// Where it came from: the URL, or `file://` + path.
    pub url: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// How every read of one source is made: limits, retries, the source's session (rate limiter,
/// credentials) and, for a harvest, its page cache and counts.
#[derive(Clone)]
pub struct FetchOptions {
    pub timeout: Duration,
    pub max_bytes: u64,
    /// Further attempts after a 429, a 5xx or a refused connection (not after a timeout: a slow
    /// partner is not made slower).
    pub retries: u32,
    /// Cap on all bytes one harvest reads, and what it has read so far.
    pub max_harvest_bytes: u64,
    read: Arc<AtomicU64>,
    /// The source id, for messages.
    source: String,
    session: Arc<Session>,
    cache: Option<Arc<PageCache>>,
    stats: Arc<FetchStats>,
}

impl std::fmt::Debug for FetchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret, even in a debug log.
        f.debug_struct("FetchOptions")
            .field("timeout", &self.timeout)
            .field("max_bytes", &self.max_bytes)
            .field("retries", &self.retries)
            .field("credentials", &self.session.credentials.as_ref().map(|_| "…"))
            .finish()
    }
}

/// Credentials resolved from the environment or a secrets file, sent with every HTTP request.
#[derive(Clone, PartialEq)]
pub enum Credentials {
    Header { name: reqwest::header::HeaderName, value: reqwest::header::HeaderValue },
    Basic { username: String, password: String },
    /// A bearer token from an OAuth2 token endpoint, with the client secret.
    OAuth2 { grant: OAuth2, client_secret: String },
}

/// What one harvest's reads came to, for its report.
#[derive(Debug, Default)]
pub struct FetchStats {
    /// HTTP requests sent (pages, files, token requests; retries too).
    pub requests: AtomicUsize,
    /// Pages the partner said were unchanged (304), reused from the cache.
    pub not_modified: AtomicUsize,
    /// A SHA-256 of every document read (its URL and bytes), in no particular order: what the
    /// harvest's content digest is made of (see [`crate::harvest`]).
    documents: std::sync::Mutex<Vec<[u8; 32]>>,
}

impl FetchStats {
    fn read(&self, doc: &Document) {
        let mut digest = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        digest.update(doc.url.as_bytes());
        digest.update(&[0]);
        digest.update(&doc.bytes);
        let mut sum = [0u8; 32];
        sum.copy_from_slice(digest.finish().as_ref());
        self.documents.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(sum);
    }

    /// The digests of the documents read so far, sorted (pages read concurrently arrive in any
    /// order).
    pub(crate) fn documents(&self) -> Vec<[u8; 32]> {
        let mut documents = self.documents.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        documents.sort_unstable();
        documents
    }
}

/// A source's state that outlives one harvest: its rate limiter and OAuth2 token. Shared by
/// all requests of the source, and by its harvests in one running hub.
pub struct Session {
    credentials: Option<Credentials>,
    /// Where the credentials may go: the origins (scheme, host, port) of the manifest's
    /// endpoints. A request to any other origin — a redirect's target, a next link to another
    /// host — goes without them.
    origins: Vec<url::Origin>,
    /// For a source with credentials: a client that follows no redirect, so that each hop is
    /// decided here (reqwest strips `Authorization` on a redirect to another host, but not an
    /// API key's header, nor a token request's form body).
    client: Option<reqwest::Client>,
    limiter: RateLimiter,
    token: tokio::sync::Mutex<Option<Token>>,
}

/// Redirects followed at most, by hand, for a source with credentials.
const MAX_REDIRECTS: usize = 10;

impl Session {
    /// Whether the credentials may go to `url`.
    fn trusts(&self, url: &Url) -> bool {
        self.origins.contains(&url.origin())
    }
}

/// Every source's [`Session`], by source id. Cheap to clone; clones share the sessions.
#[derive(Clone, Default)]
pub struct Sessions(Arc<std::sync::Mutex<HashMap<String, Arc<Session>>>>);

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

/// Why a source's session cannot be set up.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("source {source_id}: cannot set up its HTTP client: {message}")]
    Client { source_id: String, message: String },
}

impl Sessions {
    /// The source's session, with its secret read now (so a missing one fails before any
    /// request, and a changed one starts a new session: a rotated secret is picked up).
    pub fn for_manifest(&self, manifest: &Manifest) -> Result<Arc<Session>, SessionError> {
        let credentials = credentials(manifest)?;
        let interval = Duration::from_secs_f64(1.0 / manifest.rate_limit);
        let origins: Vec<url::Origin> = manifest
            .endpoints
            .iter()
            .filter_map(|l| match l {
                Location::Http(url) => Some(url.origin()),
                Location::File(_) => None,
            })
            .collect();
        let mut sessions = self.0.lock().expect("sessions lock");
        if let Some(session) =
            sessions.get(&manifest.id).filter(|s| s.credentials == credentials && s.limiter.interval == interval && s.origins == origins)
        {
            return Ok(session.clone());
        }
        let client = match &credentials {
            None => None,
            Some(_) => Some(
                reqwest::Client::builder()
                    .user_agent(concat!("musubi/", env!("CARGO_PKG_VERSION"), " (metadata harvester)"))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| SessionError::Client { source_id: manifest.id.clone(), message: error_chain(&e) })?,
            ),
        };
        let session = Arc::new(Session {
            credentials,
            origins,
            client,
            limiter: RateLimiter { interval, next: std::sync::Mutex::new(Instant::now()) },
            token: tokio::sync::Mutex::new(None),
        });
        sessions.insert(manifest.id.clone(), session.clone());
        Ok(session)
    }
}

fn credentials(manifest: &Manifest) -> Result<Option<Credentials>, SecretError> {
    Ok(match &manifest.auth {
        None => None,
        Some(Auth::ApiKey { header, secret }) => {
            let value = secret.read()?;
            let name = reqwest::header::HeaderName::from_bytes(header.as_bytes())
                .map_err(|e| SecretError { place: format!("{}: field `auth.header`", manifest.file.display()), problem: format!("{header:?}: {e}") })?;
            let mut value = reqwest::header::HeaderValue::from_str(&value)
                .map_err(|_| SecretError { place: secret.describe(), problem: "the secret is not a valid header value".to_owned() })?;
            value.set_sensitive(true);
            Some(Credentials::Header { name, value })
        }
        Some(Auth::Basic { username, secret }) => Some(Credentials::Basic { username: username.clone(), password: secret.read()? }),
        Some(Auth::OAuth2(grant)) => Some(Credentials::OAuth2 { grant: grant.clone(), client_secret: grant.secret.read()? }),
    })
}

/// Spaces a source's requests at least `interval` apart: each request books the next free slot
/// and sleeps until it. Hand-written rather than `governor`: a burst of one is what politeness
/// asks, and that is these few lines, where governor would bring its clock and lock crates.
struct RateLimiter {
    interval: Duration,
    next: std::sync::Mutex<Instant>,
}

impl RateLimiter {
    async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().expect("rate limiter lock");
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
    }
}

/// A bearer token and until when it is used.
struct Token {
    value: String,
    /// `None`: the endpoint did not say; the token is used until a 401.
    fresh_until: Option<Instant>,
}

/// Tokens are renewed this long before they expire (or at half their life, if shorter), so
/// that none expires on the way to the partner.
const TOKEN_MARGIN: Duration = Duration::from_secs(30);

fn fresh_until(obtained: Instant, expires_in: Option<Duration>) -> Option<Instant> {
    expires_in.map(|life| obtained + life - TOKEN_MARGIN.min(life / 2))
}

impl FetchOptions {
    /// The manifest's options over the source's session; a harvest adds its page cache and
    /// counts.
    pub(crate) fn new(manifest: &Manifest, session: Arc<Session>, cache: Option<Arc<PageCache>>, stats: Arc<FetchStats>) -> FetchOptions {
        FetchOptions {
            timeout: manifest.timeout,
            max_bytes: manifest.max_bytes,
            retries: manifest.retries,
            max_harvest_bytes: manifest.max_harvest_bytes,
            read: Default::default(),
            source: manifest.id.clone(),
            session,
            cache,
            stats,
        }
    }

    /// Counts `n` more bytes read by this harvest; fails once the harvest's cap is passed.
    fn count(&self, url: &str, n: usize) -> Result<(), FetchError> {
        let total = self.read.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if total > self.max_harvest_bytes {
            return Err(FetchError::HarvestTooLarge { url: url.to_owned(), cap: self.max_harvest_bytes });
        }
        Ok(())
    }

    /// The source's bearer token: the cached one while fresh, else a new one (one request at a
    /// time asks; the others wait for its answer).
    async fn bearer(&self, client: &reqwest::Client, grant: &OAuth2, client_secret: &str) -> Result<String, Attempt> {
        let mut token = self.session.token.lock().await;
        if let Some(t) = token.as_ref().filter(|t| t.fresh_until.is_none_or(|until| Instant::now() < until)) {
            return Ok(t.value.clone());
        }
        let obtained = Instant::now();
        let adapter = TokenHttp { client, options: self };
        let oauth = BasicClient::new(ClientId::new(grant.client_id.clone()))
            .set_client_secret(ClientSecret::new(client_secret.to_owned()))
            .set_auth_type(match grant.client_auth {
                ClientAuth::Basic => AuthType::BasicAuth,
                ClientAuth::Post => AuthType::RequestBody,
            })
            .set_token_uri(TokenUrl::from_url(grant.token_url.clone()));
        let mut request = oauth.exchange_client_credentials();
        for scope in &grant.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let answer = request.request_async(&adapter).await.map_err(|e| {
            let (message, retry_after) = match e {
                RequestTokenError::ServerResponse(r) => {
                    let description = r.error_description().map(|d| format!(" ({d})")).unwrap_or_default();
                    (format!("the token endpoint refused the client credentials: {}{description}", r.error().as_ref()), None)
                }
                RequestTokenError::Request(e) => (e.message, e.retry_after),
                RequestTokenError::Parse(e, _) => (format!("the answer is not an OAuth2 token response: {e}"), None),
                RequestTokenError::Other(m) => (m, None),
            };
            let error = FetchError::Token { source_id: self.source.clone(), token_url: grant.token_url.to_string(), message };
            Attempt { error, retry_after, stale_token: None }
        })?;
        let value = answer.access_token().secret().clone();
        *token = Some(Token { value: value.clone(), fresh_until: fresh_until(obtained, answer.expires_in()) });
        Ok(value)
    }

    /// Forgets the token a request was refused with (a 401), unless another request has renewed
    /// it meanwhile.
    async fn forget_token(&self, used: &str) {
        let mut token = self.session.token.lock().await;
        if token.as_ref().is_some_and(|t| t.value == used) {
            *token = None;
        }
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

/// Reads a location. A folder gives one document per file, sorted by name, each read when the
/// harvest comes to it: a national database's folder (gigabytes of files) is never held whole
/// in memory.
pub async fn fetch_all<'a>(client: &reqwest::Client, location: &Location, limits: &'a FetchOptions) -> Result<Documents<'a>, FetchError> {
    match location {
        Location::Http(url) => Ok(Documents { fetched: Some(get(client, url, limits).await?), files: Vec::new().into_iter(), limits }),
        Location::File(path) => Ok(Documents { fetched: None, files: files_at(path)?.into_iter(), limits }),
    }
}

/// The documents of a location ([`fetch_all`]), in order; a file is read as it is asked for.
pub struct Documents<'a> {
    fetched: Option<Document>,
    files: std::vec::IntoIter<PathBuf>,
    limits: &'a FetchOptions,
}

impl Iterator for Documents<'_> {
    type Item = Result<Document, FetchError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(doc) = self.fetched.take() {
            return Some(Ok(doc));
        }
        let file = self.files.next()?;
        Some(read_file(&file, self.limits))
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
    let mut renewed_token = false;
    let mut conditional = true;
    loop {
        match get_once(client, url, limits, body, conditional).await {
            // A 401 with a bearer token: the token may have been revoked or expired early; one
            // new token, one more try.
            Err(Attempt { stale_token: Some(token), .. }) if !renewed_token => {
                tracing::info!(%url, "the partner refused the OAuth2 token; asking for a new one");
                limits.forget_token(&token).await;
                renewed_token = true;
            }
            Err(Attempt { error, retry_after, .. }) if attempt < limits.retries && retry_after.is_some() => {
                let wait = retry_after.flatten().unwrap_or(BACKOFF * 2u32.pow(attempt)).min(MAX_RETRY_AFTER);
                tracing::info!(%url, %error, attempt = attempt + 1, wait_ms = wait.as_millis() as u64, "retrying");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(Attempt { error, .. }) => return Err(error),
            // 304, but the stored page went missing meanwhile: ask again without validators.
            Ok(None) => conditional = false,
            Ok(Some(doc)) => {
                limits.stats.read(&doc);
                return Ok(doc);
            }
        }
    }
}

/// A failed attempt: `retry_after` is `None` when retrying makes no sense, `Some(None)` to retry
/// after the backoff, `Some(Some(d))` when the partner said how long to wait. `stale_token` is
/// the bearer token a 401 refused.
struct Attempt {
    error: FetchError,
    retry_after: Option<Option<Duration>>,
    stale_token: Option<String>,
}

impl From<FetchError> for Attempt {
    fn from(error: FetchError) -> Attempt {
        Attempt { error, retry_after: None, stale_token: None }
    }
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Whether to wait and try again after this status, and how long the partner asked for.
fn retry_after(response: &reqwest::Response) -> Option<Option<Duration>> {
    let status = response.status();
    (status.as_u16() == 429 || status.is_server_error()).then(|| header(response, reqwest::header::RETRY_AFTER).and_then(|v| wait_for(&v)))
}

/// A `Retry-After` value: seconds, or an HTTP date (the wait until then; none if it is past).
fn wait_for(value: &str) -> Option<Duration> {
    let value = value.trim();
    match value.parse::<u64>() {
        Ok(seconds) => Some(Duration::from_secs(seconds)),
        Err(_) => {
            let at = httpdate::parse_http_date(value).ok()?;
            Some(at.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
        }
    }
}

/// One HTTP request, streamed so that the size cap holds without buffering more than the cap.
/// `Ok(None)`: a 304 whose stored page is gone.
async fn get_once(
    client: &reqwest::Client,
    url: &Url,
    limits: &FetchOptions,
    body: Option<Body<'_>>,
    conditional: bool,
) -> Result<Option<Document>, Attempt> {
    let seconds = limits.timeout.as_secs();
    let classify = |e: reqwest::Error| {
        if e.is_timeout() {
            FetchError::Timeout { url: url.to_string(), seconds }.into()
        } else {
            let retry = e.is_connect().then_some(None);
            Attempt { error: FetchError::Connect { url: url.to_string(), message: error_chain(&e) }, retry_after: retry, stale_token: None }
        }
    };
    // Only a harvest's GETs are conditional (a dry run has no cache; GraphQL is a POST).
    let cached = match (&limits.cache, body) {
        (Some(cache), None) if conditional => cache.lookup(url.as_str()),
        _ => None,
    };
    // A source with credentials follows redirects here, hop by hop: its credentials go only to
    // the origins its manifest names (and, once a hop has left them, to none after it).
    let session = &limits.session;
    let (client, by_hand) = match &session.client {
        Some(own) => (own, true),
        None => (client, false),
    };
    let mut current = url.clone();
    let mut body = body;
    let mut trusted = true;
    let mut bearer;
    let mut hops = 0;
    let mut response = loop {
        trusted &= session.trusts(&current);
        let mut request = match body {
            None => client.get(current.clone()),
            Some(Body::Json(body)) => {
                client.post(current.clone()).header(reqwest::header::ACCEPT, "application/graphql-response+json, application/json").json(body)
            }
            Some(Body::Sparql { query, accept }) => client
                .post(current.clone())
                .header(reqwest::header::ACCEPT, accept)
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(url::form_urlencoded::Serializer::new(String::new()).append_pair("query", query).finish()),
        }
        .timeout(limits.timeout);
        bearer = None;
        match &session.credentials {
            Some(_) if !trusted => {}
            Some(Credentials::Header { name, value }) => request = request.header(name, value),
            Some(Credentials::Basic { username, password }) => request = request.basic_auth(username, Some(password)),
            Some(Credentials::OAuth2 { grant, client_secret }) => {
                let token = limits.bearer(client, grant, client_secret).await?;
                request = request.bearer_auth(&token);
                bearer = Some(token);
            }
            None => {}
        }
        if let Some(entry) = cached.as_ref().filter(|_| hops == 0) {
            if let Some(etag) = &entry.etag {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(date) = &entry.last_modified {
                request = request.header(reqwest::header::IF_MODIFIED_SINCE, date);
            }
        }
        session.limiter.wait().await;
        limits.stats.requests.fetch_add(1, Ordering::Relaxed);
        let response = request.send().await.map_err(classify)?;
        let status = response.status();
        let location = header(&response, reqwest::header::LOCATION);
        let (true, true, Some(location)) = (by_hand, status.is_redirection() && status != reqwest::StatusCode::NOT_MODIFIED, location) else {
            break response;
        };
        if hops == MAX_REDIRECTS {
            return Err(FetchError::Connect { url: url.to_string(), message: format!("more than {MAX_REDIRECTS} redirects") }.into());
        }
        let next = current.join(&location).map_err(|e| FetchError::Connect { url: current.to_string(), message: format!("redirect to {location:?}, not a URL: {e}") })?;
        // 303, and 301/302 after a POST, continue as a GET (as browsers and reqwest do).
        if status == reqwest::StatusCode::SEE_OTHER || (body.is_some() && matches!(status.as_u16(), 301 | 302)) {
            body = None;
        }
        tracing::debug!(from = %current, to = %next, credentials = trusted && session.trusts(&next), "following a redirect");
        current = next;
        hops += 1;
    };
    let status = response.status();
    if let (reqwest::StatusCode::NOT_MODIFIED, Some(entry), Some(cache)) = (status, &cached, &limits.cache) {
        let Some(bytes) = cache.body(entry) else { return Ok(None) };
        cache.keep(entry);
        limits.stats.not_modified.fetch_add(1, Ordering::Relaxed);
        return Ok(Some(Document { url: url.to_string(), content_type: entry.content_type.clone(), bytes }));
    }
    // GraphQL over HTTP answers a refused request with 400 and the errors in a JSON body: read it.
    let graphql_errors = matches!(body, Some(Body::Json(_)))
        && status == reqwest::StatusCode::BAD_REQUEST
        && header(&response, reqwest::header::CONTENT_TYPE).is_some_and(|v| v.contains("json"));
    if !status.is_success() && !graphql_errors {
        let stale_token = bearer.filter(|_| status == reqwest::StatusCode::UNAUTHORIZED);
        let retry_after = retry_after(&response);
        let error = match body {
            Some(Body::Sparql { .. }) => {
                FetchError::Refused { url: url.to_string(), status: status.to_string(), message: refusal_message(&mut response).await }
            }
            _ => FetchError::Status { url: url.to_string(), status: status.to_string() },
        };
        return Err(Attempt { error, retry_after, stale_token });
    }
    if response.content_length().is_some_and(|n| n > limits.max_bytes) {
        return Err(FetchError::TooLarge { url: url.to_string(), cap: limits.max_bytes }.into());
    }
    let content_type = header(&response, reqwest::header::CONTENT_TYPE).map(|v| v.split(';').next().unwrap_or(&v).trim().to_owned());
    let etag = header(&response, reqwest::header::ETAG);
    let last_modified = header(&response, reqwest::header::LAST_MODIFIED);
    let mut bytes = Vec::new();
    let announced = response.content_length();
    // A body cut short of its Content-Length is said as such (reqwest calls it a body error,
    // which read as "cannot connect"); it may be the network: worth a retry.
    let cut = |e: reqwest::Error, got: usize| match announced {
        Some(announced) if (got as u64) < announced && !e.is_timeout() => Attempt {
            error: FetchError::Truncated { url: url.to_string(), got: got as u64, announced },
            retry_after: Some(None),
            stale_token: None,
        },
        _ => classify(e),
    };
    while let Some(chunk) = response.chunk().await.map_err(|e| cut(e, bytes.len()))? {
        if bytes.len() as u64 + chunk.len() as u64 > limits.max_bytes {
            return Err(FetchError::TooLarge { url: url.to_string(), cap: limits.max_bytes }.into());
        }
        limits.count(url.as_str(), chunk.len())?;
        bytes.extend_from_slice(&chunk);
    }
    if let (Some(cache), None, true) = (&limits.cache, body, etag.is_some() || last_modified.is_some()) {
        cache.store(&Entry::new(url.as_str(), etag, last_modified, content_type.clone(), bytes.len()), &bytes);
    }
    Ok(Some(Document { url: url.to_string(), content_type, bytes }))
}

/// oauth2's HTTP client, over the hub's reqwest client: token requests pass the source's rate
/// limiter and timeout like every other request. (oauth2's own `reqwest` feature would bring a
/// second reqwest and TLS stack.)
struct TokenHttp<'a> {
    client: &'a reqwest::Client,
    options: &'a FetchOptions,
}

/// Why a token request got no answer to read; retried like a page when it is worth it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct TokenHttpError {
    message: String,
    retry_after: Option<Option<Duration>>,
}

/// Token answers are small; a larger one is not a token.
const MAX_TOKEN_ANSWER: u64 = 64 * 1024;

impl<'c> AsyncHttpClient<'c> for TokenHttp<'_> {
    type Error = TokenHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, TokenHttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let failed = |message: String, retry_after| TokenHttpError { message, retry_after };
            let (parts, body) = request.into_parts();
            let request = self.client.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).timeout(self.options.timeout);
            self.options.session.limiter.wait().await;
            self.options.stats.requests.fetch_add(1, Ordering::Relaxed);
            let mut response = request.send().await.map_err(|e| {
                let retry = e.is_connect().then_some(None);
                failed(format!("cannot connect: {}", error_chain(&e)), retry)
            })?;
            let status = response.status();
            if status.as_u16() == 429 || status.is_server_error() {
                return Err(failed(format!("the token endpoint answered HTTP {status}"), retry_after(&response)));
            }
            // (The session's client follows no redirect: the client secret goes to the token
            // endpoint the manifest names, and nowhere it points on to.)
            if status.is_redirection() {
                let to = header(&response, reqwest::header::LOCATION).unwrap_or_default();
                return Err(failed(format!("the token endpoint answered HTTP {status}, a redirect to {to:?}: the client secret is not sent on; name the endpoint it redirects to as token_url"), None));
            }
            let mut answer = HttpResponse::new(Vec::new());
            *answer.status_mut() = status;
            *answer.headers_mut() = response.headers().clone();
            while let Some(chunk) = response.chunk().await.map_err(|e| failed(format!("reading the answer: {}", error_chain(&e)), None))? {
                if answer.body().len() as u64 + chunk.len() as u64 > MAX_TOKEN_ANSWER {
                    return Err(failed(format!("the answer is larger than {MAX_TOKEN_ANSWER} bytes"), None));
                }
                answer.body_mut().extend_from_slice(&chunk);
            }
            Ok(answer)
        })
    }
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

/// An error and its causes, one line (reqwest's own message alone hides why a request failed).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

fn file_error(path: &Path, e: std::io::Error) -> FetchError {
    FetchError::File { path: path.display().to_string(), message: e.to_string() }
}

/// The files of a location: a folder's, sorted by name (hidden ones left out), or the file.
fn files_at(path: &Path) -> Result<Vec<PathBuf>, FetchError> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| file_error(path, e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    Ok(files)
}

fn read_file(f: &Path, limits: &FetchOptions) -> Result<Document, FetchError> {
    let len = std::fs::metadata(f).map_err(|e| file_error(f, e))?.len();
    if len > limits.max_bytes {
        return Err(FetchError::TooLarge { url: format!("file://{}", f.display()), cap: limits.max_bytes });
    }
    let bytes = std::fs::read(f).map_err(|e| file_error(f, e))?;
    limits.count(&format!("file://{}", f.display()), bytes.len())?;
    let doc = Document { url: format!("file://{}", f.display()), content_type: None, bytes };
    limits.stats.read(&doc);
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_shortly_before_they_expire() {
        let now = Instant::now();
        assert_eq!(fresh_until(now, Some(Duration::from_secs(3600))), Some(now + Duration::from_secs(3570)));
        // A short-lived token is used for half its life rather than not at all.
        assert_eq!(fresh_until(now, Some(Duration::from_secs(10))), Some(now + Duration::from_secs(5)));
        assert_eq!(fresh_until(now, None), None, "no expiry stated: used until a 401");
    }

    /// `Retry-After` in seconds or as an HTTP date (it was read as seconds only: a date was
    /// ignored, and the partner asked again after a quarter of a second).
    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        assert_eq!(wait_for("120"), Some(Duration::from_secs(120)));
        let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(90));
        let wait = wait_for(&later).expect("a date");
        assert!(wait > Duration::from_secs(85) && wait <= Duration::from_secs(90), "{wait:?} for {later}");
        assert_eq!(wait_for("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO), "a date past: no wait");
        assert_eq!(wait_for("soon"), None);
    }

    /// A partner that closes the connection before the body its Content-Length announced is
    /// said to have cut its answer short (it read as "cannot connect"), and is retried.
    #[tokio::test]
    async fn a_body_cut_short_of_its_content_length_is_named() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let served = Arc::new(AtomicUsize::new(0));
        let count = served.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: application/json\r\n\r\n{\"data\": [").await;
                let _ = socket.shutdown().await;
            }
        });
        let dir = std::env::temp_dir();
        let manifest = crate::manifest::parse_manifest(
            &format!("id = \"cut\"\nkind = \"rdf-dump\"\nendpoint = \"http://{addr}/dump.ttl\"\nretries = 1\nrate_limit = 1000\n"),
            &dir.join("cut.toml"),
        )
        .expect("manifest");
        let session = Sessions::default().for_manifest(&manifest).expect("session");
        let options = FetchOptions::new(&manifest, session, None, Arc::default());
        let url = Url::parse(&format!("http://{addr}/dump.ttl")).expect("url");
        let err = get(&reqwest::Client::new(), &url, &options).await.expect_err("cut short").to_string();
        assert!(err.contains("the answer ended after 10 of the 100 bytes its Content-Length announced"), "{err}");
        assert_eq!(served.load(Ordering::SeqCst), 2, "retried once");
    }
}
