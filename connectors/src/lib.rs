//! musubi-connectors: how partner databases get into the graph.
//!
//! - [`manifest`]: the TOML a partner writes to register a source, validated at load;
//! - [`kinds`]: one module per source kind (JSON REST API, RDF dump, CSV, GraphQL, SPARQL
//!   endpoint, XML), behind [`kinds::Connector`];
//! - [`fetch`]: HTTP and file reads with timeouts and size caps, per-source rate limits and
//!   credentials (API key, basic, OAuth2 client credentials), conditional requests;
//! - [`harvest`]: the runner that fetches, maps, checks and swaps a source's named graph;
//!   [`error`] says why one failed, [`status`] what the hub keeps of each source's harvests;
//! - [`guards`]: what a harvest must not do without being told to (shrink, lose a property,
//!   records without ids, values that fail their datatype);
//! - [`check`]: the dry run a partner uses before going live (`musubi connector check`).
//!
//! Architecture invariant: imports the ontology, the mapping engine (`musubi-rml`), the store and
//! the read model (a harvest writes its source's view) — nothing above them: knows nothing of
//! search, GraphQL or the gateway's HTTP server.

mod page_cache;
pub mod check;
pub mod error;
pub mod guards;
pub mod fetch;
pub mod harvest;
pub mod kinds;
pub mod manifest;
pub mod status;

pub use error::HarvestError;
pub use harvest::{HarvestReport, Harvester, harvest};
pub use musubi_ontology::vocab::source_graph;
pub use status::{SourceStatus, source_status};
pub use kinds::{NoProgress, Progress};
pub use manifest::{FileError, Manifest, SourceKind, load_manifest, load_manifests};
