//! musubi-bench: the tools that measure the hub, kept out of the binary its users run.
//!
//! - [`generate`]: `musubi-bench gen`, realistic partner payloads at national-database scale;
//! - [`peers`]: `musubi-bench index` (the portal query on the hub's search index in process) and
//!   `musubi-bench naive-sparql` (a SPARQL query per field), what the hub is measured against;
//! - [`mapping`]: `musubi-bench mapping`, the RML engine's throughput on JSON, CSV and XML, beside
//!   morph-kgc's on the same mapping and files (`--morph-kgc`);
//! - [`run`]: `musubi-bench run`, the end-to-end benchmark (gen, harvest, serve, wrk, the peers);
//! - [`soak`]: `musubi-bench soak`, minutes of mixed load while sources are harvested on schedule;
//! - [`processes`]: finding, running and watching the `musubi` processes the two drive.
//!
//! Architecture invariant: imports the gateway and the schema to measure them; nothing imports
//! this crate but its own binary and tests. Nothing here asserts a time.

/// Why a benchmark step could not run, in words (printed by `musubi-bench`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed(pub String);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

impl From<String> for Failed {
    fn from(message: String) -> Failed {
        Failed(message)
    }
}

impl From<&str> for Failed {
    fn from(message: &str) -> Failed {
        Failed(message.to_owned())
    }
}

/// For steps that add their own context to a message.
impl From<Failed> for String {
    fn from(f: Failed) -> String {
        f.0
    }
}

pub mod generate;
pub mod mapping;
pub mod peers;
pub mod processes;
pub mod run;
pub mod soak;
