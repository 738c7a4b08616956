//! musubi-gateway: the `musubi` binary.
//!
//! - [`app`]: opens the data folder, loads manifests and the vocabulary, runs harvests and keeps
//!   the schema's read model current;
//! - [`http`]: the axum router: GraphQL over HTTP, GraphiQL, the export's routes;
//! - [`caller`]: who the caller is, as an axum extractor (identity → [`musubi_schema::Principal`]);
//! - [`response_cache`]: the response cache (keyed by query and the caller's rights; audited on every hit);
//! - [`export`]: every dataset a caller may see, streamed as NDJSON or JSON-LD, resumable;
//! - [`identity`]: trusted token issuers, JWTs, introspection, GA4GH passports, API keys;
//! - [`demo`]: the bundled demo sources (fixtures, mappings, manifests);
//! - [`cli`]: the commands (`serve`, `harvest`, `reindex`, `connector check`, `dmp`, `apikey`).
//!
//! Architecture invariant: HTTP, tokens, config files and the CLI live here and nowhere else;
//! developers' tools (`gen`, the benchmark peers) live in `bench/`, outside this binary.

pub mod app;
pub mod response_cache;
pub mod caller;
pub mod cli;
pub mod demo;
pub mod export;
pub mod http;
pub mod identity;
