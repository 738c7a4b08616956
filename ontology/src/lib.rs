//! musubi-ontology: the hub's knowledge layer.
//!
//! Everything that knows what the data *means* lives here and nowhere else:
//! - [`iris`]: every IRI the code names, and the hub's own IRIs minted;
//! - [`vocab`]: the hub vocabulary (Turtle, shipped in `vocab/musubi.ttl`) with each property's
//!   access tier and GraphQL field, and the table that normalises access levels;
//! - [`tier`]: the access tiers and how they rank;
//! - [`identifiers`]: identifier schemes (alias IRIs to one canonical IRI), from the vocabulary;
//! - [`disease`]: the disease hierarchy (MONDO) that search and DUO matching both ask;
//! - [`located`]: the one error every file the hub reads reports (file, line, column, field).
//!
//! Architecture invariant: this crate imports no other musubi crate and knows nothing of HTTP,
//! GraphQL or manifests.

pub mod disease;
pub mod identifiers;
pub mod iris;
pub mod located;
pub mod tier;
pub mod vocab;

/// The RDF data model, so that callers name terms without depending on oxigraph themselves.
pub use oxigraph::model as rdf;
/// XSD datatypes (parsing and checking literal values).
pub use oxsdatatypes as xsd;
/// RDF serialisation formats the store and the mapping engine understand.
pub use oxigraph::io::RdfFormat;
/// Why an RDF document does not parse, with the position (line, column) where it stopped.
pub use oxigraph::io::RdfSyntaxError;

/// Parses an RDF document into triples (quads lose their graph: a source's data all lands in the
/// source's own graph). `base_iri` resolves relative IRIs; the error says where parsing stopped.
pub fn parse_triples(bytes: &[u8], format: RdfFormat, base_iri: &str) -> Result<Vec<rdf::Triple>, RdfSyntaxError> {
    let mut parser = oxigraph::io::RdfParser::from_format(format);
    if let Ok(with_base) = parser.clone().with_base_iri(base_iri) {
        parser = with_base;
    }
    parser
        .for_slice(bytes)
        .map(|q| q.map(rdf::Triple::from))
        .collect()
}

/// The current time as an `xsd:dateTime` (UTC), for provenance.
pub fn now() -> oxsdatatypes::DateTime {
    oxsdatatypes::DateTime::now()
}
