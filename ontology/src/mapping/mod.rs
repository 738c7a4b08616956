//! The mapping engine: RML (the W3C KG-Construct mapping language) turns a partner's records into
//! hub RDF.
//!
//! Partners write mappings as RML Turtle files, a standard they can also run in other engines; no
//! source needs Rust code. This is the subset the first sources need, read in both the current
//! namespace (`http://w3id.org/rml/`) and the legacy one (`http://semweb.mmlab.be/ns/rml#` with
//! `rr:`):
//! - logical source iterator as JSONPath over one fetched record (the connector has already
//!   split pages into records, so one mapping serves a file and a paged API alike);
//! - subject maps with template / reference / constant, `rml:class`, IRI or blank node;
//! - predicate-object maps with references, templates and constants, `rml:datatype`,
//!   `rml:language`, `rml:termType`;
//! - referencing object maps (`rml:parentTriplesMap`) with or without `rml:joinCondition`.
//!
//! Not yet: graph maps, language maps, CSV and XPath sources (they come with the connector kinds
//! that need them).

mod json;
mod parse;
mod template;

use oxigraph::model::{BlankNode, Literal, NamedNode, NamedOrBlankNode, Term, Triple};
use serde_json::Value;

use json::Reference;
use template::Template;

/// A mapping file that cannot be used: names the file and the triples map.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct MappingError {
    pub origin: String,
    pub message: String,
}

/// A record the mapping could not turn into RDF: names the triples map and the value.
#[derive(Debug, thiserror::Error)]
#[error("triples map {triples_map}: {message}")]
pub struct RecordError {
    pub triples_map: String,
    pub message: String,
}

/// A parsed RML mapping.
#[derive(Debug, Clone)]
pub struct Mapping {
    maps: Vec<TriplesMap>,
}

#[derive(Debug, Clone)]
struct TriplesMap {
    /// The map's IRI or blank node, for error messages.
    name: String,
    /// `None` means the whole record (`$`).
    iterator: Option<Reference>,
    subject: TermMap,
    classes: Vec<NamedNode>,
    predicate_objects: Vec<PredicateObjectMap>,
}

#[derive(Debug, Clone)]
struct PredicateObjectMap {
    predicates: Vec<TermMap>,
    objects: Vec<ObjectMap>,
}

#[derive(Debug, Clone)]
enum ObjectMap {
    Term(TermMap),
    Parent { triples_map: usize, joins: Vec<(Reference, Reference)> },
}

#[derive(Debug, Clone)]
struct TermMap {
    value: TermValue,
    term_type: TermType,
    language: Option<String>,
    datatype: Option<NamedNode>,
}

#[derive(Debug, Clone)]
enum TermValue {
    Constant(Term),
    Reference(Reference),
    Template(Template),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TermType {
    Iri,
    BlankNode,
    Literal,
}

impl Mapping {
    /// Parses an RML mapping written in Turtle; `origin` names it in errors.
    pub fn from_turtle(text: &str, origin: &str) -> Result<Mapping, MappingError> {
        parse::parse(text, origin)
    }

    /// Maps one record. Appends the triples to `out` and returns the subjects of the triples maps
    /// that iterate over the record itself: the records' own entities, which get provenance.
    pub fn map_record(&self, record: &Value, out: &mut Vec<Triple>) -> Result<Vec<NamedOrBlankNode>, RecordError> {
        let mut roots = Vec::new();
        for map in &self.maps {
            for item in iterations(map, record) {
                let subjects = subjects(map, item)?;
                for subject in &subjects {
                    for class in &map.classes {
                        out.push(Triple::new(subject.clone(), crate::vocab::RDF_TYPE, class.clone()));
                    }
                    for pom in &map.predicate_objects {
                        let predicates = pom
                            .predicates
                            .iter()
                            .map(|p| eval(p, item, &map.name))
                            .collect::<Result<Vec<_>, _>>()?
                            .into_iter()
                            .flatten()
                            .map(|t| match t {
                                Term::NamedNode(n) => Ok(n),
                                other => Err(RecordError {
                                    triples_map: map.name.clone(),
                                    message: format!("predicate {other} is not an IRI"),
                                }),
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        for object_map in &pom.objects {
                            let objects = match object_map {
                                ObjectMap::Term(t) => eval(t, item, &map.name)?,
                                ObjectMap::Parent { triples_map, joins } => {
                                    self.parent_subjects(*triples_map, joins, record, item)?
                                }
                            };
                            for predicate in &predicates {
                                for object in &objects {
                                    out.push(Triple::new(subject.clone(), predicate.clone(), object.clone()));
                                }
                            }
                        }
                    }
                }
                if map.iterator.is_none() {
                    roots.extend(subjects);
                }
            }
        }
        roots.dedup();
        Ok(roots)
    }

    fn parent_subjects(
        &self,
        parent: usize,
        joins: &[(Reference, Reference)],
        record: &Value,
        child_item: &Value,
    ) -> Result<Vec<Term>, RecordError> {
        let parent_map = &self.maps[parent];
        if joins.is_empty() {
            // Same iteration: the parent's subject for this very item.
            return Ok(subjects(parent_map, child_item)?.into_iter().map(Term::from).collect());
        }
        let mut found = Vec::new();
        for parent_item in iterations(parent_map, record) {
            let matches = joins.iter().all(|(child, parent)| {
                let child_values = child.strings(child_item);
                parent.strings(parent_item).iter().any(|v| child_values.contains(v))
            });
            if matches {
                found.extend(subjects(parent_map, parent_item)?.into_iter().map(Term::from));
            }
        }
        Ok(found)
    }
}

fn iterations<'a>(map: &TriplesMap, record: &'a Value) -> Vec<&'a Value> {
    match &map.iterator {
        None => vec![record],
        Some(path) => path.nodes(record),
    }
}

fn subjects(map: &TriplesMap, item: &Value) -> Result<Vec<NamedOrBlankNode>, RecordError> {
    eval(&map.subject, item, &map.name)?
        .into_iter()
        .map(|t| match t {
            Term::NamedNode(n) => Ok(n.into()),
            Term::BlankNode(b) => Ok(b.into()),
            other => Err(RecordError {
                triples_map: map.name.clone(),
                message: format!("subject {other} is neither an IRI nor a blank node"),
            }),
        })
        .collect()
}

/// Evaluates a term map against one iteration item. A reference to a missing or null value
/// yields no term (and so no triple), as RML specifies.
fn eval(map: &TermMap, item: &Value, triples_map: &str) -> Result<Vec<Term>, RecordError> {
    let values: Vec<String> = match &map.value {
        TermValue::Constant(t) => return Ok(vec![t.clone()]),
        TermValue::Reference(r) => r.strings(item),
        TermValue::Template(t) => t.expand(item, map.term_type == TermType::Iri),
    };
    values
        .into_iter()
        .map(|v| match map.term_type {
            TermType::Iri => NamedNode::new(&v).map(Term::from).map_err(|e| RecordError {
                triples_map: triples_map.to_owned(),
                message: format!("{v:?} is not a valid IRI: {e}"),
            }),
            TermType::BlankNode => Ok(BlankNode::new_unchecked(format!("b{:016x}", fnv1a(&v))).into()),
            TermType::Literal => Ok(match (&map.language, &map.datatype) {
                (Some(lang), _) => Literal::new_language_tagged_literal_unchecked(v, lang.clone()).into(),
                (None, Some(dt)) => Literal::new_typed_literal(v, dt.clone()).into(),
                (None, None) => Literal::new_simple_literal(v).into(),
            }),
        })
        .collect()
}

/// Blank nodes made from a value get a stable label, so the same value names the same node
/// across records of one source (e.g. one disease shared by several datasets).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Runs a SPARQL CONSTRUCT over a staging graph and returns what it builds: the post-processing
/// step for what RML cannot express (and the whole mapping for sources that are RDF already).
pub fn construct(triples: &[Triple], query: &str, origin: &str) -> Result<Vec<Triple>, MappingError> {
    use oxigraph::model::GraphNameRef;
    use oxigraph::sparql::{QueryResults, SparqlEvaluator};
    let err = |message: String| MappingError { origin: origin.to_owned(), message };
    let store = oxigraph::store::Store::new().map_err(|e| err(e.to_string()))?;
    store
        .extend(triples.iter().map(|t| t.as_ref().in_graph(GraphNameRef::DefaultGraph).into_owned()))
        .map_err(|e| err(e.to_string()))?;
    let prepared = SparqlEvaluator::new().parse_query(query).map_err(|e| err(format!("not a valid SPARQL query: {e}")))?;
    match prepared.on_store(&store).execute().map_err(|e| err(format!("SPARQL evaluation failed: {e}")))? {
        QueryResults::Graph(triples) => triples.collect::<Result<Vec<_>, _>>().map_err(|e| err(e.to_string())),
        _ => Err(err("the post-processing query must be a CONSTRUCT query".to_owned())),
    }
}

#[cfg(test)]
mod tests;
