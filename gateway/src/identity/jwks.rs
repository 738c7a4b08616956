//! Issuers' signing keys: OpenID Connect discovery (`/.well-known/openid-configuration` →
//! `jwks_uri`) and the key sets themselves, cached.
//!
//! A key set is fetched once and kept; a token whose `kid` is not in it triggers a refetch (the
//! issuer rotated its keys), but at most one such refetch per `min_refresh` per key set, so a
//! stream of tokens with made-up `kid`s cannot make the hub hammer the issuer. An issuer that cannot be
//! reached is [`Unavailable`], which the HTTP layer answers with 503, not as the caller's fault.

use musubi_connectors::fetch::error_chain;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};

/// The issuer or its key set could not be read; the message names the URL.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// Why no key was found for a token.
#[derive(Debug, Clone)]
pub enum KeyError {
    /// The key set has no key with that `kid` (even after a refresh).
    Unknown(String),
    Unavailable(Unavailable),
}

/// Largest discovery document or key set read.
const MAX_DOCUMENT: usize = 512 * 1024;
/// How long one fetch may take.
const TIMEOUT: Duration = Duration::from_secs(10);

struct CachedSet {
    keys: Option<JwkSet>,
    /// When a fetch last started (successful or not).
    attempted: Instant,
    /// When an unknown `kid` last made the hub refetch: the rate limit counts from here.
    refreshed: Option<Instant>,
}

/// An issuer's discovery document, or when and why reading it last failed.
type Discovered = Result<Discovery, (Instant, Unavailable)>;

/// Discovery results and key sets, shared by all requests.
pub struct KeySets {
    client: reqwest::Client,
    discovered: Mutex<HashMap<String, Discovered>>,
    sets: tokio::sync::Mutex<HashMap<String, CachedSet>>,
}

/// What the hub reads from an issuer's discovery document.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub jwks_uri: String,
}

impl KeySets {
    pub fn new(client: reqwest::Client) -> KeySets {
        KeySets { client, discovered: Mutex::new(HashMap::new()), sets: tokio::sync::Mutex::new(HashMap::new()) }
    }

    /// The issuer's discovery document (cached once read). Its `issuer` must be the one asked
    /// for (OpenID Connect Discovery 1.0, §4.3), else a look-alike could hand out its own keys.
    pub async fn discover(&self, issuer: &str) -> Result<Discovery, Unavailable> {
        match self.discovered.lock().expect("discovery lock").get(issuer) {
            Some(Ok(d)) => return Ok(d.clone()),
            // A failure is remembered for a moment, so that requests do not queue up behind an
            // issuer that does not answer.
            Some(Err((at, e))) if at.elapsed() < FAILED_RETRY => return Err(e.clone()),
            _ => {}
        }
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let found = async {
            let bytes = get_capped(&self.client, &url).await?;
            let doc: Discovery = serde_json::from_slice(&bytes)
                .map_err(|e| Unavailable(format!("{url}: not an OpenID discovery document: {e}")))?;
            if doc.issuer != issuer {
                return Err(Unavailable(format!("{url}: names the issuer {:?}, not {issuer:?}", doc.issuer)));
            }
            Ok(doc)
        }
        .await;
        let remembered = found.clone().map_err(|e| (Instant::now(), e));
        self.discovered.lock().expect("discovery lock").insert(issuer.to_owned(), remembered);
        found
    }

    /// The key `kid` of the set at `jwks_uri` (the only key when `kid` is `None` and the set has
    /// one), refetching the set once when the key is unknown and the last fetch is at least
    /// `min_refresh` old.
    pub async fn key(&self, jwks_uri: &str, kid: Option<&str>, min_refresh: Duration) -> Result<Jwk, KeyError> {
        let mut sets = self.sets.lock().await;
        if let Some(key) = sets.get(jwks_uri).and_then(|c| c.keys.as_ref()).and_then(|set| find(set, kid)) {
            return Ok(key);
        }
        let (fetch, refreshed) = match sets.get(jwks_uri) {
            None => (true, None),
            Some(CachedSet { keys: None, attempted, refreshed }) => (attempted.elapsed() >= FAILED_RETRY, *refreshed),
            Some(CachedSet { refreshed, .. }) => match refreshed {
                Some(at) if at.elapsed() < min_refresh => (false, Some(*at)),
                _ => (true, Some(Instant::now())),
            },
        };
        if fetch {
            let known = sets.get(jwks_uri).and_then(|c| c.keys.clone());
            sets.insert(jwks_uri.to_owned(), CachedSet { keys: known, attempted: Instant::now(), refreshed });
            match self.fetch(jwks_uri).await {
                Ok(set) => {
                    tracing::info!(jwks_uri, keys = set.keys.len(), "key set fetched");
                    sets.get_mut(jwks_uri).expect("inserted above").keys = Some(set);
                }
                Err(e) if sets.get(jwks_uri).is_some_and(|c| c.keys.is_none()) => return Err(KeyError::Unavailable(e)),
                Err(e) => tracing::warn!(jwks_uri, error = %e, "key set refresh failed; keeping the keys already known"),
            }
        }
        match sets.get(jwks_uri).and_then(|c| c.keys.as_ref()) {
            Some(set) => find(set, kid).ok_or_else(|| {
                KeyError::Unknown(match kid {
                    Some(kid) => format!("unknown key: the issuer's key set has no key {kid:?}"),
                    None => format!("unknown key: the token names no kid and the issuer has {} keys", set.keys.len()),
                })
            }),
            None => Err(KeyError::Unavailable(Unavailable(format!("{jwks_uri}: the key set could not be read")))),
        }
    }

    async fn fetch(&self, jwks_uri: &str) -> Result<JwkSet, Unavailable> {
        let bytes = get_capped(&self.client, jwks_uri).await?;
        // Keys of kinds this hub cannot use are skipped, not fatal: an issuer may publish more.
        let raw: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| Unavailable(format!("{jwks_uri}: not a JSON key set: {e}")))?;
        let keys = raw
            .get("keys")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| Unavailable(format!("{jwks_uri}: not a JSON key set: no `keys` array")))?;
        let keys = keys.iter().filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok()).collect();
        Ok(JwkSet { keys })
    }
}

/// The key `kid`, or the only key when the token names none.
fn find(set: &JwkSet, kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(kid) => set.find(kid).cloned(),
        None if set.keys.len() == 1 => set.keys.first().cloned(),
        None => None,
    }
}

/// After a failed first fetch, how soon the next request may try again.
const FAILED_RETRY: Duration = Duration::from_secs(5);

/// A GET with a timeout and a size cap; any failure is the issuer's, named by URL.
pub(crate) async fn get_capped(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, Unavailable> {
    let mut response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| Unavailable(format!("{url}: cannot reach the issuer: {}", error_chain(&e))))?;
    if !response.status().is_success() {
        return Err(Unavailable(format!("{url}: the issuer answered HTTP {}", response.status())));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| Unavailable(format!("{url}: {}", error_chain(&e))))? {
        if bytes.len() + chunk.len() > MAX_DOCUMENT {
            return Err(Unavailable(format!("{url}: the answer is larger than {MAX_DOCUMENT} bytes")));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
