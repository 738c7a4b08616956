//! musubi-connectors: how partner databases get into the graph.
//!
//! - [`manifest`]: the TOML a partner writes to register a source, validated at load;
//! - [`kinds`]: one module per source kind (JSON REST API, RDF dump, CSV, GraphQL, SPARQL
//!   endpoint, XML), behind [`kinds::Connector`];
//! - [`fetch`]: HTTP and file reads with timeouts and size caps, per-source rate limits and
//!   credentials (API key, basic, OAuth2 client credentials), conditional requests;
//! - [`harvest`]: the runner that fetches, maps, checks and swaps a source's named graph;
//! - [`guards`]: what a harvest must not do without being told to (shrink, lose a property,
//!   records without ids, values that fail their datatype);
//! - [`check`]: the dry run a partner uses before going live (`musubi connector check`).
//!
//! Architecture invariant: imports `musubi-ontology` only; knows nothing of GraphQL or the
//! gateway's HTTP server.

mod cache;
pub mod check;
pub mod guards;
pub mod fetch;
pub mod harvest;
pub mod kinds;
pub mod manifest;

pub use harvest::{HarvestError, HarvestReport, SourceStatus, Harvester, harvest, source_status};
pub use kinds::{NoProgress, Progress};
pub use manifest::{FileError, Manifest, SourceKind, load_manifest, load_manifests};
