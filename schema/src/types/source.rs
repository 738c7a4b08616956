//! The partner sources and the health of their harvests.

use super::*;

/// A registered partner source and the health of its harvests.
#[derive(Debug, Clone, SimpleObject, PartialEq, Eq)]
pub struct SourceInfo {
    /// The source id from its manifest; also names its graph.
    pub id: String,
    pub name: String,
    /// The connector kind (json-api, rdf-dump, …).
    pub kind: String,
    pub endpoint: String,
    /// When the last successful harvest finished (xsd:dateTime), null if never.
    pub last_harvest: Option<String>,
    /// When a harvest was last tried.
    pub last_attempt: Option<String>,
    /// When the source's graph last changed (xsd:dateTime): a harvest that read what the standing
    /// graph was made from lands nothing, and moves lastHarvest only.
    pub last_change: Option<String>,
    /// Records in the graph from the last successful harvest (below STEWARD, without its embargoed
    /// datasets, studies and samples).
    pub record_count: Option<i64>,
    /// Why the last attempt failed; null after a success.
    pub last_error: Option<String>,
    /// What the last landed harvest warned of: a shrink an operator accepted, values left out.
    pub warnings: Option<Vec<String>>,
}
