//! RDF dumps: Turtle, N-Triples, N-Quads, JSON-LD or RDF/XML, plain or gzip, over HTTP or from
//! files.
//!
//! The data is RDF already and mostly in the hub's terms (DCAT, DCTERMS); a manifest may add
//! SPARQL CONSTRUCT files (run by the harvest runner, for every kind) whose results are added to
//! the source's graph, to bring the rest of the source's terms into the hub vocabulary.

use musubi_ontology::RdfFormat;
use musubi_ontology::rdf::{NamedOrBlankNode, Term, Triple};
use musubi_ontology::vocab;

use super::{Connector, Context, Staged, provenance};
use crate::fetch::{self, Document};
use crate::error::HarvestError;
use crate::manifest::Manifest;

#[derive(Debug)]
pub struct RdfDump;

impl Connector for RdfDump {
    async fn stage(&self, manifest: &Manifest, cx: &Context<'_>) -> Result<Staged, HarvestError> {
        let limits = cx.fetch_options(manifest)?;
        let mut staged = Staged::default();
        let mut documents: Vec<(String, Vec<Triple>)> = Vec::new();
        for location in &manifest.endpoints {
            for doc in fetch::fetch_all(cx.client, location, &limits).await? {
                let doc = fetch::gunzip(doc?, limits.max_bytes)?;
                let triples = parse_document(&doc)?;
                documents.push((doc.url, triples));
            }
        }
        for (url, triples) in &documents {
            staged.records += rdf_records(triples, url, &mut staged.triples);
            staged.triples.extend(triples.iter().cloned());
            cx.report(&mut staged)?;
        }
        Ok(staged)
    }
}

/// Gives the records of RDF fetched from `url` (its catalogs, datasets and studies) their
/// provenance in `out`: the record id is the entity's `dct:identifier`, else its IRI. Returns how
/// many records there are. Shared with SPARQL CONSTRUCT sources.
pub(crate) fn rdf_records(triples: &[Triple], url: &str, out: &mut Vec<Triple>) -> usize {
    let mut records: Vec<NamedOrBlankNode> = triples
        .iter()
        .filter(|t| {
            t.predicate.as_ref() == vocab::RDF_TYPE
                && matches!(&t.object, Term::NamedNode(c) if [vocab::DCAT_DATASET, vocab::DCAT_CATALOG, vocab::MUSUBI_STUDY].contains(&c.as_ref()))
        })
        .map(|t| t.subject.clone())
        .collect();
    records.sort_by_cached_key(ToString::to_string);
    records.dedup();
    // Each subject's first identifier, in one pass (a scan per record was quadratic: 10,000
    // records took most of a minute).
    let mut identifiers: std::collections::HashMap<&NamedOrBlankNode, &str> = std::collections::HashMap::new();
    for t in triples.iter().filter(|t| t.predicate.as_ref() == vocab::DCT_IDENTIFIER) {
        if let Term::Literal(l) = &t.object {
            identifiers.entry(&t.subject).or_insert(l.value());
        }
    }
    for record in &records {
        let id = identifiers
            .get(record)
            .map(|v| (*v).to_owned())
            .or_else(|| match record {
                NamedOrBlankNode::NamedNode(n) => Some(n.as_str().to_owned()),
                NamedOrBlankNode::BlankNode(_) => None,
            });
        provenance(record, id.as_deref(), url, out);
    }
    records.len()
}

/// Parses one document; the format comes from the Content-Type, else the file extension, else
/// Turtle.
fn parse_document(doc: &Document) -> Result<Vec<Triple>, HarvestError> {
    let format = format_of(doc);
    musubi_ontology::parse_triples(&doc.bytes, format, &doc.url).map_err(|message| HarvestError::Parse {
        url: doc.url.clone(),
        message: format!("not valid {}: {message}", format.name()),
    })
}

fn format_of(doc: &Document) -> RdfFormat {
    if let Some(f) = doc.content_type.as_deref().and_then(RdfFormat::from_media_type) {
        return f;
    }
    let path = doc.url.split(['?', '#']).next().unwrap_or(&doc.url);
    match path.rsplit('.').next().unwrap_or("") {
        "json" => RdfFormat::from_extension("jsonld").unwrap_or(RdfFormat::Turtle),
        other => RdfFormat::from_extension(other).unwrap_or(RdfFormat::Turtle),
    }
}
