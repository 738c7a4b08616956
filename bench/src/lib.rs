//! musubi-bench: the tools that measure the hub, kept out of the binary its users run.
//!
//! - [`generate`]: `musubi-bench gen`, realistic partner payloads at national-database scale;
//! - [`peers`]: `musubi-bench index` (the portal query on the hub's search index in process) and
//!   `musubi-bench naive-sparql` (a SPARQL query per field), what the hub is measured against;
//! - [`run`]: `musubi-bench run`, the end-to-end benchmark (gen, harvest, serve, wrk, the peers);
//! - [`soak`]: `musubi-bench soak`, minutes of mixed load while sources are harvested on schedule;
//! - [`processes`]: finding, running and watching the `musubi` processes the two drive.
//!
//! Architecture invariant: imports the gateway and the schema to measure them; nothing imports
//! this crate but its own binary and tests. Nothing here asserts a time.

pub mod generate;
pub mod peers;
pub mod processes;
pub mod run;
pub mod soak;
