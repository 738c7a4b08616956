//! Source kinds, one module each, behind [`Connector`]: each turns a manifest into the source's
//! staged graph (mapped to the hub vocabulary, with provenance per record). What happens to the
//! staged graph afterwards (checks, the atomic swap) is the harvest runner's job, the same for
//! every kind.

pub mod json_api;
pub mod rdf_dump;

use std::future::Future;

use musubi_ontology::rdf::{Literal, NamedNode, NamedOrBlankNode, Triple};
use musubi_ontology::vocab;

use crate::harvest::HarvestError;
use crate::manifest::{Manifest, SourceKind};

/// What a harvest gathered before it is checked and swapped in.
#[derive(Debug, Default)]
pub struct Staged {
    pub triples: Vec<Triple>,
    /// Records read from the source (JSON records, or RDF entities with provenance).
    pub records: usize,
}

/// Everything a connector needs besides its manifest.
#[derive(Debug)]
pub struct Context<'a> {
    pub client: &'a reqwest::Client,
    /// When this harvest started, as an `xsd:dateTime` literal.
    pub harvested_at: &'a Literal,
}

/// A kind of partner source. Live-only kinds (GA4GH Beacon) will answer queries instead of
/// staging a graph; they get their own method when they come.
pub trait Connector {
    fn stage(&self, manifest: &Manifest, cx: &Context<'_>) -> impl Future<Output = Result<Staged, HarvestError>> + Send;
}

/// Stages a source with the connector of its kind.
pub async fn stage(manifest: &Manifest, cx: &Context<'_>) -> Result<Staged, HarvestError> {
    match manifest.kind {
        SourceKind::JsonApi => json_api::JsonApi.stage(manifest, cx).await,
        SourceKind::RdfDump => rdf_dump::RdfDump.stage(manifest, cx).await,
    }
}

/// Provenance of one record's entity: its id and URL at the source, and the harvest time. The
/// source itself is the named graph the triples land in.
pub(crate) fn provenance(subject: &NamedOrBlankNode, record_id: Option<&str>, record_url: &str, cx: &Context<'_>, out: &mut Vec<Triple>) {
    if let Some(id) = record_id {
        out.push(Triple::new(subject.clone(), vocab::MUSUBI_SOURCE_RECORD_ID, Literal::new_simple_literal(id)));
    }
    if let Ok(url) = NamedNode::new(record_url) {
        out.push(Triple::new(subject.clone(), vocab::MUSUBI_SOURCE_RECORD_URL, url));
    }
    out.push(Triple::new(subject.clone(), vocab::PROV_GENERATED_AT_TIME, cx.harvested_at.clone()));
}
