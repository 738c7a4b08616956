//! Reads an RML mapping (Turtle) into [`Mapping`].

use std::collections::HashMap;

use oxigraph::io::{RdfFormat, RdfParser};
use oxigraph::model::{Graph, Literal, NamedNode, NamedOrBlankNode, Term, TermRef, Triple};
use oxiri::Iri;

use super::record::Reference;
use super::template::Template;
use super::{Formulation, Mapping, MappingError, ObjectMap, PredicateObjectMap, TermMap, TermType, TermValue, TriplesMap};
use oxigraph::model::vocab::rdf::TYPE as RDF_TYPE;

/// The namespaces a term is looked up in, current RML first.
const NAMESPACES: [&str; 3] =
    ["http://w3id.org/rml/", "http://www.w3.org/ns/r2rml#", "http://semweb.mmlab.be/ns/rml#"];

struct Reader<'a> {
    graph: Graph,
    origin: &'a str,
    /// The reference formulation of the triples map being read: how its references parse.
    formulation: std::cell::Cell<Formulation>,
}

impl Reader<'_> {
    fn err(&self, node: &NamedOrBlankNode, message: impl std::fmt::Display) -> MappingError {
        MappingError::new(self.origin, format!("{}: {message}", display(node)))
    }

    /// An error about `term` as the file writes it (placed at its line and column by [`parse`]).
    fn err_at(&self, node: &NamedOrBlankNode, term: &str, message: impl std::fmt::Display) -> MappingError {
        MappingError { term: Some(term.to_owned()), ..self.err(node, message) }
    }

    /// A term map with none of constant, reference, template: a misspelt one (`rml:refrence`)
    /// is named, with the term it was likely meant to be.
    fn misspelt(&self, node: &NamedOrBlankNode) -> Option<MappingError> {
        let known = ["constant", "reference", "template"];
        self.graph.triples_for_subject(node).find_map(|t| {
            let local = NAMESPACES.iter().find_map(|ns| t.predicate.as_str().strip_prefix(ns))?;
            let meant = known.iter().find(|k| local != **k && edit_distance(local, k) <= 2)?;
            Some(self.err_at(node, local, format!("rml:{local} is not an RML term; did you mean rml:{meant}?")))
        })
    }

    /// All objects of `node`'s property `local` in any RML namespace.
    fn all(&self, node: &NamedOrBlankNode, local: &str) -> Vec<Term> {
        NAMESPACES
            .iter()
            .flat_map(|ns| {
                let p = NamedNode::new_unchecked(format!("{ns}{local}"));
                self.graph.objects_for_subject_predicate(node, &p).map(TermRef::into_owned).collect::<Vec<_>>()
            })
            .collect()
    }

    fn one(&self, node: &NamedOrBlankNode, local: &str) -> Result<Option<Term>, MappingError> {
        let mut values = self.all(node, local);
        match values.len() {
            0 => Ok(None),
            1 => Ok(values.pop()),
            n => Err(self.err(node, format!("has {n} values for {local}; expected one"))),
        }
    }

    fn string(&self, node: &NamedOrBlankNode, local: &str) -> Result<Option<String>, MappingError> {
        match self.one(node, local)? {
            None => Ok(None),
            Some(Term::Literal(l)) => Ok(Some(l.value().to_owned())),
            Some(other) => Err(self.err(node, format!("{local} must be a string, found {other}"))),
        }
    }

    fn node(&self, node: &NamedOrBlankNode, term: Term, what: &str) -> Result<NamedOrBlankNode, MappingError> {
        match term {
            Term::NamedNode(n) => Ok(n.into()),
            Term::BlankNode(b) => Ok(b.into()),
            other => Err(self.err(node, format!("{what} must be a node, found {other}"))),
        }
    }

    fn is_rml(&self, term: &Term, local: &str) -> bool {
        matches!(term, Term::NamedNode(n) if NAMESPACES.iter().any(|ns| n.as_str() == format!("{ns}{local}")))
    }

    fn term_map(&self, node: &NamedOrBlankNode, role: Role) -> Result<TermMap, MappingError> {
        let constant = self.one(node, "constant")?;
        let reference = self.string(node, "reference")?;
        let template = self.string(node, "template")?;
        let value = match (constant, reference, template) {
            (Some(c), None, None) => TermValue::Constant(c),
            (None, Some(r), None) => TermValue::Reference(Reference::parse(&r, self.formulation.get()).map_err(|e| self.err_at(node, &r, e))?),
            (None, None, Some(t)) => TermValue::Template(Template::parse(&t, self.formulation.get()).map_err(|e| self.err_at(node, &t, e))?),
            (None, None, None) if role == Role::Subject && self.is_blank_typed(node)? => TermValue::Fresh,
            (None, None, None) => return Err(self.misspelt(node).unwrap_or_else(|| self.err(node, "needs one of rml:constant, rml:reference, rml:template"))),
            _ => return Err(self.err(node, "has more than one of rml:constant, rml:reference, rml:template")),
        };
        let language = match (self.string(node, "language")?, self.one(node, "languageMap")?) {
            (Some(l), None) => Some(Box::new(constant_term(Term::from(Literal::new_simple_literal(l))))),
            (None, Some(m)) => Some(Box::new(self.term_map(&self.node(node, m, "rml:languageMap")?, Role::Language)?)),
            (None, None) => None,
            (Some(_), Some(_)) => return Err(self.err(node, "has both rml:language and rml:languageMap")),
        };
        let datatype = match (self.one(node, "datatype")?, self.one(node, "datatypeMap")?) {
            (Some(Term::NamedNode(n)), None) => Some(Box::new(constant_term(n.into()))),
            (Some(other), None) => return Err(self.err(node, format!("rml:datatype must be an IRI, found {other}"))),
            (None, Some(m)) => Some(Box::new(self.term_map(&self.node(node, m, "rml:datatypeMap")?, Role::Object)?)),
            (None, None) => None,
            (Some(_), Some(_)) => return Err(self.err(node, "has both rml:datatype and rml:datatypeMap")),
        };
        let term_type = match self.one(node, "termType")? {
            Some(t) if self.is_rml(&t, "IRI") => TermType::Iri,
            Some(t) if self.is_rml(&t, "URI") => TermType::Uri,
            Some(t) if self.is_rml(&t, "UnsafeIRI") || self.is_rml(&t, "UnsafeURI") => TermType::UnsafeIri,
            Some(t) if self.is_rml(&t, "BlankNode") => TermType::BlankNode,
            Some(t) if self.is_rml(&t, "Literal") => TermType::Literal,
            Some(other) => return Err(self.err(node, format!("unknown rml:termType {other}"))),
            // R2RML defaults: objects from references, or with a language or datatype, are
            // literals; everything else is an IRI.
            None if role == Role::Language => TermType::Literal,
            None if role == Role::Object
                && (matches!(value, TermValue::Reference(_)) || language.is_some() || datatype.is_some()) =>
            {
                TermType::Literal
            }
            None => match &value {
                TermValue::Constant(Term::Literal(_)) => TermType::Literal,
                TermValue::Constant(Term::BlankNode(_)) => TermType::BlankNode,
                _ => TermType::Iri,
            },
        };
        if term_type == TermType::Literal && !matches!(role, Role::Object | Role::Language) {
            return Err(self.err(node, "only object maps may produce literals"));
        }
        if term_type == TermType::BlankNode && matches!(role, Role::Predicate) {
            return Err(self.err(node, "a predicate cannot be a blank node"));
        }
        if (language.is_some() || datatype.is_some()) && term_type != TermType::Literal {
            return Err(self.err(node, "a language or datatype needs a literal term type"));
        }
        if let TermValue::Constant(c) = &value {
            let fits = match c {
                Term::NamedNode(_) => matches!(term_type, TermType::Iri | TermType::Uri | TermType::UnsafeIri),
                Term::BlankNode(_) => term_type == TermType::BlankNode,
                Term::Literal(_) => term_type == TermType::Literal,
            };
            if !fits {
                return Err(self.err(node, format!("the constant {c} does not fit its rml:termType")));
            }
        }
        Ok(TermMap { value, term_type, language, datatype })
    }

    fn is_blank_typed(&self, node: &NamedOrBlankNode) -> Result<bool, MappingError> {
        Ok(self.one(node, "termType")?.is_some_and(|t| self.is_rml(&t, "BlankNode")))
    }

    /// A term map given either as `rml:xMap [ … ]` or with the constant shortcut `rml:x <iri>`.
    fn term_maps(&self, node: &NamedOrBlankNode, map: &str, shortcut: &str, role: Role) -> Result<Vec<TermMap>, MappingError> {
        let mut maps = Vec::new();
        for m in self.all(node, map) {
            let m = self.node(node, m, map)?;
            maps.push(self.term_map(&m, role)?);
        }
        for c in self.all(node, shortcut) {
            let term_type = match &c {
                Term::Literal(_) => TermType::Literal,
                Term::BlankNode(_) => TermType::BlankNode,
                _ => TermType::Iri,
            };
            if role != Role::Object && term_type == TermType::Literal {
                return Err(self.err(node, format!("{shortcut} {c} must be an IRI")));
            }
            maps.push(TermMap { value: TermValue::Constant(c), term_type, language: None, datatype: None });
        }
        Ok(maps)
    }
}

fn constant_term(t: Term) -> TermMap {
    let term_type = match &t {
        Term::Literal(_) => TermType::Literal,
        Term::BlankNode(_) => TermType::BlankNode,
        Term::NamedNode(_) => TermType::Iri,
    };
    constant_typed(t, term_type)
}

fn constant_typed(t: Term, term_type: TermType) -> TermMap {
    TermMap { value: TermValue::Constant(t), term_type, language: None, datatype: None }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Subject,
    Predicate,
    Object,
    Graph,
    /// A language map: its values are language tags, so literals.
    Language,
}

fn display(node: &NamedOrBlankNode) -> String {
    match node {
        NamedOrBlankNode::NamedNode(n) => format!("<{}>", n.as_str()),
        NamedOrBlankNode::BlankNode(_) => "a blank node".to_owned(),
    }
}

pub(super) fn parse(text: &str, origin: &str) -> Result<Mapping, MappingError> {
    let mut graph = Graph::new();
    // Relative IRIs (`<#Map>`) resolve against the mapping file's own location.
    let mut parser = RdfParser::from_format(RdfFormat::Turtle);
    if let Ok(with_base) = parser.clone().with_base_iri(format!("file://{origin}")) {
        parser = with_base;
    }
    for triple in parser.for_slice(text.as_bytes()) {
        let triple = triple.map_err(|e| {
            let position = e.location().map(|l| (l.start.line as usize + 1, l.start.column as usize + 1));
            MappingError { position, ..MappingError::new(origin, format!("not valid Turtle: {e}")) }
        })?;
        graph.insert(&Triple::from(triple));
    }
    let reader = Reader { graph, origin, formulation: std::cell::Cell::new(Formulation::JsonPath) };

    // Triples maps: whatever has a logical source, or is typed as one.
    let mut names: Vec<NamedOrBlankNode> = Vec::new();
    for ns in NAMESPACES {
        let ls = NamedNode::new_unchecked(format!("{ns}logicalSource"));
        names.extend(reader.graph.triples_for_predicate(&ls).map(|t| t.subject.into_owned()));
        let class = NamedNode::new_unchecked(format!("{ns}TriplesMap"));
        names.extend(reader.graph.subjects_for_predicate_object(RDF_TYPE, &class).map(|s| s.into_owned()));
    }
    names.sort_by_key(|n| n.to_string());
    names.dedup();
    if names.is_empty() {
        return Err(MappingError::new(origin, "declares no triples map"));
    }
    let index: HashMap<NamedOrBlankNode, usize> = names.iter().cloned().enumerate().map(|(i, n)| (n, i)).collect();

    let mut maps = Vec::new();
    for name in &names {
        let map = triples_map(&reader, name, &index).map_err(|e| {
            // Errors found in nested maps (blank nodes) are placed in their triples map.
            let prefix = display(name);
            if e.message.starts_with(&prefix) {
                e
            } else {
                MappingError { message: format!("{prefix}: {}", e.message), ..e }
            }
        })
        .map_err(|e| MappingError { position: e.position.or_else(|| e.term.as_deref().and_then(|t| locate(text, t))), ..e })?;
        maps.push(map);
    }
    Ok(Mapping::of(maps))
}

fn triples_map(reader: &Reader<'_>, name: &NamedOrBlankNode, index: &HashMap<NamedOrBlankNode, usize>) -> Result<TriplesMap, MappingError> {
    {
        let (iterator, source, formulation) = logical_source(reader, name)?;
        reader.formulation.set(formulation);
        let base = match reader.one(name, "baseIRI")? {
            None => None,
            Some(Term::NamedNode(n)) => Some(Iri::parse(n.into_string()).map_err(|e| reader.err(name, e))?),
            Some(Term::Literal(l)) => Some(Iri::parse(l.value().to_owned()).map_err(|e| reader.err(name, e))?),
            Some(other) => return Err(reader.err(name, format!("rml:baseIRI must be an IRI, found {other}"))),
        };
        let mut subjects = reader.term_maps(name, "subjectMap", "subject", Role::Subject)?;
        if subjects.len() != 1 {
            return Err(reader.err(name, format!("needs exactly one subject map, found {}", subjects.len())));
        }
        let subject_node = reader.one(name, "subjectMap")?;
        let mut classes = Vec::new();
        let mut graphs = Vec::new();
        if let Some(s) = subject_node {
            let s = reader.node(name, s, "rml:subjectMap")?;
            graphs = reader.term_maps(&s, "graphMap", "graph", Role::Graph)?;
            for c in reader.all(&s, "class") {
                match c {
                    Term::NamedNode(n) => classes.push(n),
                    other => return Err(reader.err(name, format!("rml:class must be an IRI, found {other}"))),
                }
            }
        }

        let mut predicate_objects = Vec::new();
        for pom in reader.all(name, "predicateObjectMap") {
            let pom = reader.node(name, pom, "rml:predicateObjectMap")?;
            let predicates = reader.term_maps(&pom, "predicateMap", "predicate", Role::Predicate)?;
            let pom_graphs = reader.term_maps(&pom, "graphMap", "graph", Role::Graph)?;
            if predicates.is_empty() {
                return Err(reader.err(name, "a predicate-object map has no predicate"));
            }
            let mut objects = Vec::new();
            for om in reader.all(&pom, "objectMap") {
                let om = reader.node(&pom, om, "rml:objectMap")?;
                if let Some(parent) = reader.one(&om, "parentTriplesMap")? {
                    let parent = reader.node(&om, parent, "rml:parentTriplesMap")?;
                    let Some(&parent_index) = index.get(&parent) else {
                        return Err(reader.err(name, format!("rml:parentTriplesMap {parent} is not a triples map of this file")));
                    };
                    let mut joins = Vec::new();
                    for jc in reader.all(&om, "joinCondition") {
                        let jc = reader.node(&om, jc, "rml:joinCondition")?;
                        // `rml:child "ref"` is short for `rml:childMap [ rml:reference "ref" ]`.
                        // The child reads this map's records, the parent its own.
                        let parent_formulation = logical_source(reader, &parent)?.2;
                        let side = |short: &str, map: &str, formulation: Formulation| -> Result<TermMap, MappingError> {
                            reader.formulation.set(formulation);
                            if let Some(r) = reader.string(&jc, short)? {
                                let r = Reference::parse(&r, formulation).map_err(|e| reader.err_at(name, &r, e))?;
                                return Ok(TermMap { value: TermValue::Reference(r), term_type: TermType::Literal, language: None, datatype: None });
                            }
                            let m = reader.one(&jc, map)?.ok_or_else(|| reader.err(name, format!("a join condition has no rml:{short}")))?;
                            reader.term_map(&reader.node(&jc, m, map)?, Role::Language)
                        };
                        let join = (side("child", "childMap", formulation)?, side("parent", "parentMap", parent_formulation)?);
                        reader.formulation.set(formulation);
                        joins.push(join);
                    }
                    objects.push(ObjectMap::Parent { triples_map: parent_index, joins });
                } else {
                    objects.push(ObjectMap::Term(reader.term_map(&om, Role::Object)?));
                }
            }
            for c in reader.all(&pom, "object") {
                let term_type = match &c {
                    Term::Literal(_) => TermType::Literal,
                    Term::BlankNode(_) => TermType::BlankNode,
                    _ => TermType::Iri,
                };
                objects.push(ObjectMap::Term(constant_typed(c, term_type)));
            }
            if objects.is_empty() {
                return Err(reader.err(name, "a predicate-object map has no object"));
            }
            predicate_objects.push(PredicateObjectMap { predicates, objects, graphs: pom_graphs });
        }
        let legacy_ns = NamedNode::new_unchecked(format!("{}logicalSource", NAMESPACES[2]));
        let legacy = reader.graph.object_for_subject_predicate(name, &legacy_ns).is_some();
        Ok(TriplesMap { name: display(name), source, iterator, subject: subjects.remove(0), classes, graphs, base, formulation, legacy, predicate_objects })
    }
}

/// A triples map's logical source: its iterator, the source it names, and its reference
/// formulation (`ql:XPath`/`rml:XPath`, `ql:CSV`/`rml:CSV`, else JSONPath).
fn logical_source(reader: &Reader<'_>, name: &NamedOrBlankNode) -> Result<(Option<Reference>, Option<String>, Formulation), MappingError> {
    let Some(ls) = reader.one(name, "logicalSource")? else {
        return Err(reader.err(name, "has no rml:logicalSource"));
    };
    let ls = reader.node(name, ls, "rml:logicalSource")?;
    let formulation = match reader.one(&ls, "referenceFormulation")? {
        Some(Term::NamedNode(n)) if n.as_str().ends_with("CSV") => Formulation::Csv,
        Some(Term::NamedNode(n)) if n.as_str().ends_with("XPath") => Formulation::XPath,
        _ => Formulation::JsonPath,
    };
    let iterator = match reader.string(&ls, "iterator")? {
        None => None,
        Some(it) if it.trim() == "$" && formulation != Formulation::XPath => None,
        Some(it) => Some(Reference::parse(&it, formulation).map_err(|e| reader.err_at(name, &it, e))?),
    };
    let source = match reader.one(&ls, "source")? {
        None => None,
        Some(Term::Literal(l)) => Some(l.value().to_owned()),
        Some(node) => {
            let node = reader.node(&ls, node, "rml:source")?;
            reader.string(&node, "path")?
        }
    };
    Ok((iterator, source, formulation))
}

/// Where `term` first stands in `text`, as a quoted string or a name (1-based line and column,
/// in characters).
fn locate(text: &str, term: &str) -> Option<(usize, usize)> {
    let at = [format!("\"{term}\""), format!("'{term}'"), format!(":{term}")].iter().find_map(|needle| text.find(needle.as_str()).map(|i| i + 1))?;
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..].chars().count() + 1;
    Some((line, column))
}

/// Levenshtein distance, for naming the term a misspelt one was meant to be.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            previous = current;
        }
    }
    row[b.len()]
}
