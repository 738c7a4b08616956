//! The response cache (moka): a repeated query is answered without running it again.
//!
//! - **Key**: the query text, operation name and variables, the caller's tier and grants, and who
//!   the caller is (subject, issuer, organisation and user class): answers about the caller's own
//!   requests, grants and fee statements depend on them, so two callers share an entry only when
//!   they are the same caller; anonymous callers (most of a portal's traffic) all share. A query
//!   naming `auditLog` (which changes with every audited read) is never cached, nor a mutation.
//! - **Audit**: an entry keeps the CONTROLLED and STEWARD reads its first run made; every hit
//!   appends them again for the caller it serves, as a run would. No audited value leaves
//!   unaudited because it came from the cache.
//! - **Bounds**: total size in bytes and time to live, both configurable ([`CacheSettings`]).
//!   An entry keeps its answer's data as JSON bytes, parsed again on a hit: held as a tree of
//!   GraphQL values it took about ten times its JSON, so a bound counted in JSON held ten times
//!   the memory it said. Its weight is what it holds: the JSON, its key, its errors and reads,
//!   and the cache's own overhead per entry.
//! - **Invalidation**: every harvest that ends (landed or failed: source status changes either
//!   way) starts a new generation and drops the entries of the old one. Per-source invalidation
//!   would keep little: lists, counts, filters and misses (`dataset(id:)` answering null) depend
//!   on every source, since any harvest can add a record to them. A run that straddles a harvest
//!   is not stored (its generation is gone by the time it ends).
//! - Only answers worth repeating are kept: no errors other than FORBIDDEN (a field above the
//!   caller's tier, the same on every run).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_graphql::Response;
use moka::sync::Cache;
use musubi_schema::Principal;
use musubi_platform::fees::Affiliation;
use musubi_platform::audit::Read;
use serde::Deserialize;

/// How big and how old cached responses may get. Deserialises from a `[cache]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct CacheSettings {
    /// Total size of the cached responses (their JSON), in bytes; 0 turns the cache off.
    pub bytes: u64,
    /// How long a response is served from the cache, in seconds.
    pub ttl_seconds: u64,
}

impl Default for CacheSettings {
    fn default() -> CacheSettings {
        CacheSettings { bytes: 64 * 1024 * 1024, ttl_seconds: 300 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    generation: u64,
    /// For a query that names `sources`: the sources' generation (see
    /// [`ResponseCache::invalidate_sources`]); 0 for any other.
    sources: u64,
    query: String,
    operation: Option<String>,
    variables: String,
    tier: String,
    grants: Vec<String>,
    subject: Option<String>,
    issuer: Option<String>,
    affiliation: Option<String>,
}

/// A cached response and the audited reads its run made.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The whole response as JSON, the body HTTP sends it as (a hit is sent as these bytes: no
    /// value tree parsed and written again per hit, which was most of a cached answer's work).
    pub(crate) body: axum::body::Bytes,
    /// The rest of the response (its data left null).
    rest: Response,
    pub(crate) reads: Vec<Read>,
}

/// The `data` of a response's JSON.
#[derive(Deserialize)]
struct Data {
    data: async_graphql::Value,
}

impl Entry {
    fn new(response: &Response, reads: Vec<Read>) -> Entry {
        let mut rest = Response::new(async_graphql::Value::Null);
        rest.extensions = response.extensions.clone();
        rest.cache_control = response.cache_control;
        rest.errors = response.errors.clone();
        rest.http_headers = response.http_headers.clone();
        let body = serde_json::to_vec(response).expect("GraphQL responses serialise").into();
        Entry { body, rest, reads }
    }

    /// The response, for callers in this process (HTTP sends [`Entry::body`]).
    pub(crate) fn response(&self) -> Response {
        let Data { data } = serde_json::from_slice(&self.body).expect("the JSON this entry wrote parses");
        let mut copy = Response::new(data);
        copy.extensions = self.rest.extensions.clone();
        copy.cache_control = self.rest.cache_control;
        copy.errors = self.rest.errors.clone();
        copy.http_headers = self.rest.http_headers.clone();
        copy
    }

    /// The bytes it holds, about: its JSON, its key, its errors and reads, and moka's and the
    /// allocator's overhead per entry.
    fn weight(&self, key: &Key) -> usize {
        const PER_ENTRY: usize = 512;
        let strings = key.query.len() + key.variables.len() + key.grants.iter().map(|g| g.len() + 24).sum::<usize>();
        let errors = if self.rest.errors.is_empty() { 0 } else { serde_json::to_vec(&self.rest.errors).map_or(0, |e| 4 * e.len()) };
        let reads = self.reads.iter().map(|r| 64 + r.field.len() + r.dataset.as_ref().map_or(0, String::len)).sum::<usize>();
        PER_ENTRY + self.body.len() + strings + errors + reads
    }
}

/// The cache shared by every request of one hub.
#[derive(Clone)]
pub struct ResponseCache {
    entries: Option<Cache<Key, Arc<Entry>>>,
    generation: Arc<AtomicU64>,
    sources: Arc<AtomicU64>,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache").field("entries", &self.entries.as_ref().map(Cache::entry_count)).finish()
    }
}

impl ResponseCache {
    pub fn new(settings: CacheSettings) -> ResponseCache {
        let entries = (settings.bytes > 0).then(|| {
            Cache::builder()
                .max_capacity(settings.bytes)
                .weigher(|key: &Key, entry: &Arc<Entry>| u32::try_from(entry.weight(key)).unwrap_or(u32::MAX))
                .time_to_live(Duration::from_secs(settings.ttl_seconds))
                .build()
        });
        ResponseCache { entries, generation: Arc::new(AtomicU64::new(0)), sources: Arc::new(AtomicU64::new(1)) }
    }

    /// The key of a request, or none when its answer must not be cached (mutations, `auditLog`).
    pub(crate) fn key(&self, request: &async_graphql::Request, principal: &Principal, affiliation: Option<&Affiliation>) -> Option<Key> {
        self.entries.as_ref()?;
        if request.query.contains("auditLog") || !request.uploads.is_empty() || is_mutation(request) {
            return None;
        }
        let mut grants: Vec<String> = principal.grants.iter().cloned().collect();
        grants.sort();
        Some(Key {
            generation: self.generation.load(Ordering::SeqCst),
            sources: if names_sources(&request.query) { self.sources.load(Ordering::SeqCst) } else { 0 },
            query: request.query.clone(),
            operation: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables).unwrap_or_default(),
            tier: principal.tier.name().to_owned(),
            grants,
            subject: principal.subject.clone(),
            issuer: principal.issuer.clone(),
            affiliation: affiliation.map(|a| format!("{}\u{0}{:?}", a.organisation, a.user_class)),
        })
    }

    pub(crate) fn get(&self, key: &Key) -> Option<Arc<Entry>> {
        self.entries.as_ref()?.get(key)
    }

    /// Keeps a response, unless it failed or a harvest ended while it ran.
    pub(crate) fn insert(&self, key: Key, response: &Response, reads: Vec<Read>) {
        let Some(entries) = &self.entries else { return };
        let repeatable = response.errors.iter().all(|e| {
            e.extensions.as_ref().and_then(|x| x.get("code")).is_some_and(|c| *c == async_graphql::Value::from("FORBIDDEN"))
        });
        let sources_changed = key.sources != 0 && key.sources != self.sources.load(Ordering::SeqCst);
        if !repeatable || key.generation != self.generation.load(Ordering::SeqCst) || sources_changed {
            return;
        }
        entries.insert(key, Arc::new(Entry::new(response, reads)));
    }

    /// Drops every entry: the graph changed (a harvest landed, a mutation ran).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }

    /// Drops the entries of queries that name `sources`: only the sources' status changed (a
    /// harvest found its source unchanged, or failed), every record is as it was. A query that
    /// could read the status names the field (an alias or a fragment still spells it).
    pub fn invalidate_sources(&self) {
        self.sources.fetch_add(1, Ordering::SeqCst);
        if let Some(entries) = &self.entries {
            for (key, _) in entries.iter() {
                if key.sources != 0 {
                    entries.invalidate(&*key);
                }
            }
        }
    }

    /// How many entries are held (for tests and status).
    pub fn len(&self) -> u64 {
        self.entries.as_ref().map_or(0, |e| {
            e.run_pending_tasks();
            e.entry_count()
        })
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether a query may read the sources' status (`sources { lastHarvest … }`).
fn names_sources(query: &str) -> bool {
    query.contains("sources")
}

/// Whether the request runs a mutation: its answer is never cached, and once it has run the
/// cached answers may be stale (a plan ingested, a grant approved, an outcome registered).
/// Text without the keyword cannot be one; text with it is parsed to be sure (a title may
/// say "mutation").
pub(crate) fn is_mutation(request: &async_graphql::Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    if !request.query.contains("mutation") {
        return false;
    }
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else { return false };
    let is = |ty: OperationType| ty == OperationType::Mutation;
    match &document.operations {
        DocumentOperations::Single(op) => is(op.node.ty),
        DocumentOperations::Multiple(ops) => match &request.operation_name {
            Some(name) => ops.get(name.as_str()).is_some_and(|op| is(op.node.ty)),
            None => ops.values().any(|op| is(op.node.ty)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{Name, Value};

    #[test]
    fn a_hit_answers_what_the_run_answered_and_an_entry_weighs_what_it_holds() {
        let mut hit = async_graphql::indexmap::IndexMap::new();
        hit.insert(Name::new("accession"), Value::from("JGAD000001"));
        hit.insert(Name::new("accessLevel"), Value::Enum(Name::new("CONTROLLED")));
        hit.insert(Name::new("subjectCount"), Value::from(1_200));
        hit.insert(Name::new("title"), Value::List(vec![Value::from("がんゲノム"), Value::Null]));
        let mut data = async_graphql::indexmap::IndexMap::new();
        data.insert(Name::new("dataset"), Value::Object(hit));
        let response = Response::new(Value::Object(data));
        let entry = Entry::new(&response, Vec::new());
        let json = |r: &Response| serde_json::to_string(r).expect("serialises");
        assert_eq!(json(&entry.response()), json(&response), "the same bytes reach the caller");
        assert_eq!(&entry.body[..], json(&response).as_bytes(), "and HTTP sends them as they were");
        let key = Key {
            generation: 0,
            sources: 0,
            query: "{ dataset(id: \"JGAD000001\") { accession } }".to_owned(),
            operation: None,
            variables: "{}".to_owned(),
            tier: "PUBLIC".to_owned(),
            grants: Vec::new(),
            subject: None,
            issuer: None,
            affiliation: None,
        };
        let weight = entry.weight(&key);
        assert!(weight >= entry.body.len() + key.query.len() + 512, "{weight}");
    }

    /// A harvest that landed nothing changes the sources' status only: the answers that name
    /// `sources` go, every other stays; and an answer to one that ran meanwhile is not kept.
    #[test]
    fn a_change_of_the_sources_status_drops_only_what_names_sources() {
        let cache = ResponseCache::new(CacheSettings::default());
        let anonymous = musubi_schema::Principal::anonymous();
        let ok = Response::new(Value::from("answer"));
        let request = |q: &str| async_graphql::Request::new(q);
        let (records, status) = ("{ datasets { totalCount } }", "{ s: sources { lastHarvest } }");
        for q in [records, status] {
            let key = cache.key(&request(q), &anonymous, None).expect("cached");
            cache.insert(key, &ok, Vec::new());
        }
        let during = cache.key(&request(status), &anonymous, None).expect("cached");
        cache.invalidate_sources();
        let hit = |q: &str| cache.key(&request(q), &anonymous, None).and_then(|k| cache.get(&k)).is_some();
        assert!(hit(records) && !hit(status));
        cache.insert(during, &ok, Vec::new());
        assert!(!hit(status), "an answer read before the status changed is not kept");
        cache.invalidate();
        assert!(!hit(records));
    }
}
