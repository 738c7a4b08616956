//! SPARQL 1.1 endpoints: musubi POSTs the manifest's query (SPARQL protocol, form-encoded) with
//! `LIMIT page_size OFFSET n` appended, page after page.
//!
//! - A CONSTRUCT answers RDF (N-Triples or Turtle), ideally in the hub's terms already; the
//!   manifest's `construct` files post-process it as for RDF dumps. Its records are its catalogs,
//!   datasets and studies, with provenance as in a dump (id: `dct:identifier`, URL: the
//!   endpoint). LIMIT counts solutions, not triples, so the end is the first empty page; each
//!   solution should therefore give at least one triple. Blank-node labels only hold within one
//!   answer, so each page's blank nodes are its own: a blank node's description must come in one
//!   page (page over entities with a sub-SELECT, or keep blank nodes out).
//! - A SELECT answers rows (variable → value as text), mapped with RML like CSV rows; the end is
//!   the first short page. `record.id` names the column holding the record id.
//!
//! Paged queries need a top-level ORDER BY (else an endpoint may order each page differently, and
//! pages overlap or miss records) and no LIMIT/OFFSET of their own: checked when the manifest
//! loads. A page size above the endpoint's own result cap (e.g. Virtuoso's ResultSetMaxRows)
//! would end the harvest early: keep `paging.page_size` at or below it.

use std::collections::{HashMap, HashSet};

use musubi_rml::Record;
use musubi_ontology::RdfFormat;
use musubi_ontology::rdf::{BlankNode, NamedOrBlankNode, Term, Triple};
use musubi_rml::sparql::{QueryForm, paged_query, select_rows};
use serde_json::Value;
use url::Url;

use super::rdf_dump::rdf_records;
use super::{Connector, Context, RecordMapper, Staged};
use crate::fetch::{self, Document};
use crate::error::HarvestError;
use crate::manifest::{Location, Manifest, PagingStyle};

/// Pages read at most, so that an endpoint that ignores OFFSET cannot hold a harvest forever.
const MAX_PAGES: usize = 100_000;
const CONSTRUCT_ACCEPT: &str = "application/n-triples, text/turtle;q=0.9";
const SELECT_ACCEPT: &str = "application/sparql-results+json, application/sparql-results+xml;q=0.9";

#[derive(Debug)]
pub struct Sparql;

impl Connector for Sparql {
    async fn stage(&self, manifest: &Manifest, cx: &Context<'_>) -> Result<Staged, HarvestError> {
        let query_file = manifest.query.as_ref().expect("validated: sparql manifests have a query");
        let query = std::fs::read_to_string(query_file)
            .map_err(|e| HarvestError::Config(format!("{}: cannot read: {e}", query_file.display())))?;
        let paged = manifest.paging.style == PagingStyle::Offset;
        let form = musubi_rml::sparql::harvestable(&query, paged).map_err(|m| HarvestError::Config(format!("{}: {m}", query_file.display())))?;
        let mapper = match form {
            QueryForm::Select => Some(RecordMapper::new(manifest)?),
            QueryForm::Construct => None,
        };
        let options = cx.fetch_options(manifest)?;
        let size = manifest.paging.page_size;
        let mut staged = Staged::default();
        for location in &manifest.endpoints {
            let Location::Http(url) = location else {
                return Err(HarvestError::Config(format!("{}: a sparql endpoint must be an http(s) URL", manifest.file.display())));
            };
            // CONSTRUCT: the endpoint's triples, each once, in the order they came.
            let mut graph: Vec<Triple> = Vec::new();
            let mut seen: HashSet<Triple> = HashSet::new();
            let mut previous: Option<Vec<u8>> = None;
            for number in 0..=MAX_PAGES {
                if number == MAX_PAGES {
                    return Err(HarvestError::Protocol(format!("{url}: more than {MAX_PAGES} pages; stopping")));
                }
                let offset = number * size;
                let text = if paged { paged_query(&query, size, offset) } else { query.clone() };
                let accept = if form == QueryForm::Construct { CONSTRUCT_ACCEPT } else { SELECT_ACCEPT };
                let doc = fetch::post_sparql(cx.client, url, &options, &text, accept).await?;
                let count = match &mapper {
                    None => {
                        let triples = parse_graph(&doc, url, offset)?;
                        let count = triples.len();
                        graph.extend(triples.into_iter().filter(|t| seen.insert(t.clone())));
                        count
                    }
                    Some(mapper) => {
                        let rows = select_rows(&doc.bytes, doc.content_type.as_deref())
                            .map_err(|m| HarvestError::Parse { url: at(url, offset), message: format!("not valid SELECT results: {m}") })?;
                        let Value::Array(rows) = rows else { unreachable!("select_rows gives an array") };
                        mapper.map(&rows.iter().map(Record::Json).collect::<Vec<_>>(), url.as_str(), cx, &mut staged)?;
                        rows.len()
                    }
                };
                let done = !paged || if mapper.is_none() { count == 0 } else { count < size };
                if done {
                    break;
                }
                if previous.as_ref() == Some(&doc.bytes) {
                    return Err(HarvestError::Protocol(format!(
                        "{}: the same answer as the page before: the endpoint seems to ignore LIMIT/OFFSET; stopping",
                        at(url, offset)
                    )));
                }
                previous = Some(doc.bytes);
            }
            if mapper.is_none() {
                staged.records += rdf_records(&graph, url.as_str(), &mut staged.triples);
                staged.triples.extend(graph);
                cx.report(&mut staged)?;
            }
        }
        Ok(staged)
    }
}

/// Names a page in messages.
fn at(url: &Url, offset: usize) -> String {
    format!("{url} (OFFSET {offset})")
}

/// A CONSTRUCT answer's triples, with blank nodes of its own (labels hold within one answer).
fn parse_graph(doc: &Document, url: &Url, offset: usize) -> Result<Vec<Triple>, HarvestError> {
    let parse_error = |message: String| HarvestError::Parse { url: at(url, offset), message };
    let format = match doc.content_type.as_deref() {
        Some(media) => match RdfFormat::from_media_type(media) {
            Some(f) => f,
            // Some endpoints label N-Triples text/plain; N-Triples is Turtle too.
            None if media == "text/plain" => RdfFormat::Turtle,
            None => return Err(parse_error(format!("the endpoint answered {media}, not RDF"))),
        },
        None => RdfFormat::Turtle,
    };
    let triples = musubi_ontology::parse_triples(&doc.bytes, format, url.as_str())
        .map_err(|m| parse_error(format!("not valid {}: {m}", format.name())))?;
    let mut fresh: HashMap<BlankNode, BlankNode> = HashMap::new();
    let mut own = |b: &BlankNode| fresh.entry(b.clone()).or_default().clone();
    Ok(triples
        .into_iter()
        .map(|t| {
            let subject = match t.subject {
                NamedOrBlankNode::BlankNode(b) => NamedOrBlankNode::BlankNode(own(&b)),
                named => named,
            };
            let object = match t.object {
                Term::BlankNode(b) => Term::BlankNode(own(&b)),
                other => other,
            };
            Triple::new(subject, t.predicate, object)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_answer_has_blank_nodes_of_its_own() {
        let url = Url::parse("https://e.org/sparql").unwrap();
        let page = |text: &str| Document { url: url.to_string(), content_type: Some("application/n-triples".to_owned()), bytes: text.as_bytes().to_vec() };
        let one = parse_graph(&page("<http://e.org/d1> <http://e.org/p> _:b0 .\n_:b0 <http://e.org/q> \"1\" .\n"), &url, 0).unwrap();
        let two = parse_graph(&page("<http://e.org/d2> <http://e.org/p> _:b0 .\n"), &url, 1).unwrap();
        let NamedOrBlankNode::BlankNode(node) = &one[1].subject else { panic!("{}", one[1]) };
        assert_eq!(one[0].object, Term::from(node.clone()), "within one answer, a label names one node");
        assert_ne!(one[0].object, two[0].object, "the same label in another answer is another node");
        let html = Document { url: url.to_string(), content_type: Some("text/html".to_owned()), bytes: b"<html>".to_vec() };
        let err = parse_graph(&html, &url, 20).unwrap_err().to_string();
        assert_eq!(err, "https://e.org/sparql (OFFSET 20): the endpoint answered text/html, not RDF");
    }
}
