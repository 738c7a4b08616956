//! musubi-rml, the mapping engine: RML (the W3C KG-Construct mapping language) turns a partner's
//! records into hub RDF.
//!
//! Partners write mappings as RML Turtle files, a standard they can also run in other engines; no
//! source needs Rust code. This is the subset the first sources need, read in both the current
//! namespace (`http://w3id.org/rml/`) and the legacy one (`http://semweb.mmlab.be/ns/rml#` with
//! `rr:`):
//! - logical sources with JSONPath iterators, CSV rows, or XPath iterators over XML
//!   (`rml:XPath`, `ql:XPath`), over one fetched record (the connector has already split pages
//!   or documents into records, so one mapping serves a file and a paged API alike) or over whole
//!   documents named by `rml:path` (as the conformance suite runs it);
//! - subject maps with template / reference / constant, `rml:class`, IRI, URI, unsafe IRI or
//!   blank node, `rml:baseIRI`;
//! - predicate-object maps with references, templates and constants, datatypes and language
//!   tags (constant or mapped), JSON's natural datatypes, graph maps;
//! - referencing object maps (`rml:parentTriplesMap`) with or without join conditions.
//!
//! What a mapping reads is a [`Record`]: a JSON value, or an XML node of an [`XmlDocument`].
//! CSV (and TSV) logical sources iterate rows, given by [`csv_rows`] as objects (column → cell).
//! XPath is XPath 1.0 (`xpath.rs`: attributes, nested and repeated elements, `..`, predicates such
//! as `STUDY_ATTRIBUTE[TAG='x']/VALUE`, the core functions); a reference gives each selected
//! node's string-value. Over one XML record, an absolute iterator (`/STUDY_SET/STUDY`) finds
//! only what lies within the record, so the mapping written for the whole document serves its
//! records too. Its steps walk straight down to the record (20,000 records of one document map in
//! about 0.2 s in a release build), except steps with predicates (`/SET/STUDY[@x]`), which look at
//! every sibling: prefer a relative iterator or none there.
//!
//! All 76 RML-Core conformance cases pass, and 111 of the 117 legacy JSON, CSV and XML cases (the
//! six left out say why; `tests/rml_conformance.rs`). Legacy-namespace maps keep the R2RML
//! reading of values (plain strings, base IRIs joined as strings, bad IRIs skipped).
//!
//! [`sparql`] reads what a partner's SPARQL query is (form, ORDER BY, own LIMIT) and its SELECT
//! answers as rows, which map like CSV rows.
//!
//! Architecture invariant: imports no musubi crate; knows RDF, JSON, CSV and XML, not the hub's
//! vocabulary, manifests, stores or HTTP.

mod json;
mod parse;
mod record;
mod template;
mod xpath;
pub mod sparql;

use oxigraph::model::{BlankNode, GraphName, Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, Quad, Term, Triple};
use oxiri::Iri;
use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

pub use record::{Record, XmlDocument, XmlError};
use record::Reference;
use template::Template;
pub use xpath::{XPath, XmlNode};

/// A mapping file that cannot be used: names the file, where in it (line and column, in
/// characters, where the offending term can be placed), and the triples map.
#[derive(Debug, thiserror::Error)]
pub struct MappingError {
    pub origin: String,
    pub message: String,
    /// The offending term as the file writes it (a reference, a template, a misspelt RML term).
    pub term: Option<String>,
    /// 1-based line and column of `term` (or of a Turtle syntax error) in the file.
    pub position: Option<(usize, usize)>,
}

impl MappingError {
    pub(crate) fn new(origin: &str, message: impl Into<String>) -> MappingError {
        MappingError { origin: origin.to_owned(), message: message.into(), term: None, position: None }
    }
}

impl std::fmt::Display for MappingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "{}:{line}:{column}: {}", self.origin, self.message),
            None => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

/// What a partner sent, or a manifest wrote, that the engine cannot read: an XPath that is not
/// valid or selects no nodes, CSV that is not UTF-8, a SPARQL query or answer of the wrong kind.
/// The message says what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

impl From<String> for SourceError {
    fn from(message: String) -> SourceError {
        SourceError(message)
    }
}

/// For callers that add their own context to the message.
impl From<SourceError> for String {
    fn from(e: SourceError) -> String {
        e.0
    }
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
    /// Per triples map, each reference's key in [`Unmatched`] ("map reference"), in the order
    /// `map_references` calls them: made once, not formatted again for every record a harvest
    /// looks at.
    reference_keys: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
struct TriplesMap {
    /// The map's IRI or blank node, for error messages.
    name: String,
    /// The logical source's path or name (`rml:path`), when the mapping names one.
    source: Option<String>,
    /// `None` means the whole document (`$`).
    iterator: Option<Reference>,
    subject: TermMap,
    classes: Vec<NamedNode>,
    /// Graph maps of the subject map.
    graphs: Vec<TermMap>,
    /// `rml:baseIRI`: relative IRIs are resolved against it.
    base: Option<Iri<String>>,
    /// How references are read: JSONPath, CSV column names, or XPath.
    formulation: Formulation,
    /// Written in the legacy namespace (http://semweb.mmlab.be/ns/rml#): values keep the R2RML
    /// reading, where every referenced value is a plain string.
    legacy: bool,
    predicate_objects: Vec<PredicateObjectMap>,
}

/// The reference formulation of a logical source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Formulation {
    JsonPath,
    /// Rows of a CSV or TSV file, given as an array of objects (column → cell).
    Csv,
    XPath,
}

#[derive(Debug, Clone)]
struct PredicateObjectMap {
    predicates: Vec<TermMap>,
    objects: Vec<ObjectMap>,
    graphs: Vec<TermMap>,
}

#[derive(Debug, Clone)]
enum ObjectMap {
    Term(TermMap),
    /// Join conditions: (child map, parent map) pairs whose values must meet.
    Parent { triples_map: usize, joins: Vec<(TermMap, TermMap)> },
}

#[derive(Debug, Clone)]
struct TermMap {
    value: TermValue,
    term_type: TermType,
    /// `rml:language` (a constant) or `rml:languageMap`.
    language: Option<Box<TermMap>>,
    /// `rml:datatype` (a constant) or `rml:datatypeMap`.
    datatype: Option<Box<TermMap>>,
}

#[derive(Debug, Clone)]
enum TermValue {
    /// A new blank node for each iteration (a blank-node subject map with no value).
    Fresh,
    Constant(Term),
    Reference(Reference),
    Template(Template),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TermType {
    Iri,
    /// An IRI whose inserted values are percent-encoded down to ASCII (`rml:URI`).
    Uri,
    /// An IRI made from a template without percent-encoding the inserted values.
    UnsafeIri,
    BlankNode,
    Literal,
}

impl Mapping {
    /// Parses an RML mapping written in Turtle; `origin` names it in errors.
    pub fn from_turtle(text: &str, origin: &str) -> Result<Mapping, MappingError> {
        parse::parse(text, origin)
    }

    /// Sets the base IRI for triples maps that do not declare `rml:baseIRI`: relative IRIs made
    /// by templates and references are resolved against it.
    pub fn with_base(mut self, base: &str) -> Result<Mapping, MappingError> {
        let base = Iri::parse(base.to_owned())
            .map_err(|e| MappingError::new("base IRI", format!("{base:?}: {e}")))?;
        for map in &mut self.maps {
            map.base.get_or_insert_with(|| base.clone());
        }
        Ok(self)
    }

    /// Maps one record (every triples map iterates over it). Appends the triples to `out` and
    /// returns the subjects of the triples maps that iterate over the record itself: the record's
    /// own entities, which get provenance. Graph maps are not used here: a source's data all
    /// lands in the source's own graph.
    pub fn map_record<'a>(&self, record: impl Into<Record<'a>>, out: &mut Vec<Triple>) -> Result<Vec<NamedOrBlankNode>, RecordError> {
        self.map_record_in(record, None, out)
    }

    /// [`Mapping::map_record`] for a record read from the document `document` (its URL or
    /// path): triples maps whose logical source names a file (`rml:path`, `rml:source`) map only
    /// records of the document with that file name, so one mapping can serve a source whose
    /// files hold different tables (e.g. JGA's relation CSVs); maps that name none map every record.
    pub fn map_record_in<'a>(
        &self,
        record: impl Into<Record<'a>>,
        document: Option<&str>,
        out: &mut Vec<Triple>,
    ) -> Result<Vec<NamedOrBlankNode>, RecordError> {
        let record = record.into();
        let file_name = |path: &str| path.split(['?', '#']).next().unwrap_or(path).rsplit('/').next().unwrap_or(path).to_owned();
        let document = document.map(file_name);
        let reads = |map: &TriplesMap| match (&map.source, &document) {
            (Some(source), Some(document)) => file_name(source) == *document,
            _ => true,
        };
        let mut quads = Vec::new();
        let roots = self.run(&|map| reads(map).then_some(record), true, &mut quads)?;
        out.extend(quads.into_iter().map(Triple::from));
        Ok(roots)
    }

    /// Maps whole documents, each triples map reading the document its logical source names
    /// (`documents` gets the `rml:path`, or `None` when the map names none), into quads, graph
    /// maps included. This is RML as the conformance suites run it.
    pub fn map_documents<'a>(
        &self,
        documents: &dyn Fn(Option<&str>) -> Option<Record<'a>>,
        out: &mut Vec<Quad>,
    ) -> Result<(), RecordError> {
        self.run(&|map: &TriplesMap| documents(map.source.as_deref()), false, out).map(|_| ())
    }

    /// The fields of a record that no reference of the mapping reads: what a harvest would
    /// drop. For JSON records and CSV rows, patterns such as
    /// `experiments[*].data['Read Type'].en.text` (null values are not fields); for XML records,
    /// element paths and attributes below the record, such as `DESCRIPTOR/STUDY_TITLE` or
    /// `STUDY_TYPES/STUDY_TYPE/@existing_study_type` (`text()` for the record's own text).
    pub fn unmapped_fields<'a>(&self, record: impl Into<Record<'a>>) -> BTreeSet<String> {
        let record = record.into();
        let mut unmapped = BTreeSet::new();
        match record {
            Record::Json(value) => {
                let mut read: HashSet<*const Value> = HashSet::new();
                self.each_reference(record, &mut |r, item| {
                    if let (Reference::Json(r), Record::Json(item)) = (r, item) {
                        read.extend(r.nodes(item).into_iter().map(std::ptr::from_ref));
                    }
                });
                unread_leaves(value, &mut String::new(), &read, &mut unmapped);
            }
            Record::Xml(node) => {
                let mut read: HashSet<XmlNode<'a>> = HashSet::new();
                for map in &self.maps {
                    if let Some(Reference::XPath(iterator)) = &map.iterator {
                        read.extend(iterator.compared_nodes(node, Some(node)).iter().flat_map(XmlNode::subtree));
                    }
                }
                self.each_reference(record, &mut |r, item| {
                    if let (Reference::XPath(x), Record::Xml(item)) = (r, item) {
                        read.extend(x.read_nodes(item).iter().flat_map(XmlNode::subtree));
                    }
                });
                unread_xml(node, &read, &mut unmapped);
            }
        }
        unmapped
    }

    /// For a reference (as [`Mapping::references`] names it) that found no value: a name it reads
    /// that no record uses, and a name the records do use that it was likely meant to be
    /// (`TITEL`, `TITLE`). `None` when every name it reads is used, or none is near one: an
    /// optional field these records lack, not a misspelt one.
    pub fn misspelt(reference: &str, names: &BTreeSet<String>) -> Option<(String, String)> {
        let expression = reference.split_once("> ").map_or(reference, |(_, e)| e);
        reference_names(expression).into_iter().filter(|n| !names.contains(n)).find_map(|name| {
            let folded = name.to_lowercase();
            // An attribute is compared with attributes, an element or key with elements and keys.
            let kin = names.iter().filter(|k| k.starts_with('@') == name.starts_with('@'));
            let near = kin.clone().find(|k| k.to_lowercase() == folded).or_else(|| {
                // Short names are too near each other to tell (`date`, `data`).
                let letters = folded.trim_start_matches('@').chars().count();
                (letters >= 5).then(|| kin.clone().find(|k| k.chars().count() >= 5 && transpositions_distance(&folded, &k.to_lowercase()) <= 1 + letters / 8)).flatten()
            })?;
            Some((name, near.clone()))
        })
    }

    /// Every reference of the mapping (templates' too), as `<triples map> reference`: what
    /// [`Mapping::matched_references`] takes off as records show each finds a value.
    pub fn references(&self) -> Unmatched {
        let mut out = Unmatched::default();
        for (map, keys) in self.maps.iter().zip(&self.reference_keys) {
            for key in keys {
                out.references.insert(key.clone());
                out.idle.insert(map.name.clone());
            }
        }
        out
    }

    /// The mapping of `maps`, with each reference's key made.
    pub(crate) fn of(maps: Vec<TriplesMap>) -> Mapping {
        let mut mapping = Mapping { maps, reference_keys: Vec::new() };
        mapping.reference_keys = mapping
            .maps
            .iter()
            .map(|map| {
                let mut keys = Vec::new();
                mapping.map_references(map, &mut |r| keys.push(format!("{} {r}", map.name)));
                keys
            })
            .collect();
        mapping
    }

    /// Takes off `pending` (see [`Mapping::references`]) each reference that finds a value in
    /// `record` (read from `document`, as [`Mapping::map_record_in`] reads it), and each triples
    /// map that iterates something there: what is left after every record of a harvest matched
    /// nothing — a misspelt field, most likely.
    pub fn matched_references<'a>(&self, record: impl Into<Record<'a>>, document: Option<&str>, pending: &mut Unmatched) {
        let record = record.into();
        let file_name = |path: &str| path.split(['?', '#']).next().unwrap_or(path).rsplit('/').next().unwrap_or(path).to_owned();
        let document = document.map(file_name);
        for (map, keys) in self.maps.iter().zip(&self.reference_keys) {
            if pending.is_empty() {
                return;
            }
            if let (Some(source), Some(document)) = (&map.source, &document)
                && file_name(source) != *document
            {
                continue;
            }
            // A map none of whose references is still looked for is not iterated.
            if !keys.iter().any(|k| pending.references.contains(k)) {
                continue;
            }
            let items = iterations(map, record).unwrap_or_default();
            if items.is_empty() {
                continue;
            }
            pending.idle.remove(&map.name);
            let mut found = Vec::new();
            let mut keys = keys.iter();
            self.map_references(map, &mut |r| {
                let key = keys.next().expect("a key per reference, made by `Mapping::of`");
                if pending.references.contains(key) && items.iter().any(|item| r.finds(*item)) {
                    found.push(key.clone());
                }
            });
            for key in found {
                pending.references.remove(&key);
            }
        }
    }

    /// Calls `f` with every reference of one triples map's term maps.
    fn map_references(&self, map: &TriplesMap, f: &mut dyn FnMut(&Reference)) {
        let mut mark = |term_map: &TermMap| {
            let mut maps = vec![term_map];
            while let Some(m) = maps.pop() {
                match &m.value {
                    TermValue::Reference(r) => f(r),
                    TermValue::Template(t) => t.references().for_each(&mut *f),
                    TermValue::Constant(_) | TermValue::Fresh => {}
                }
                maps.extend(m.language.as_deref());
                maps.extend(m.datatype.as_deref());
            }
        };
        mark(&map.subject);
        map.graphs.iter().for_each(&mut mark);
        for pom in &map.predicate_objects {
            pom.predicates.iter().chain(&pom.graphs).for_each(&mut mark);
            for object in &pom.objects {
                match object {
                    ObjectMap::Term(t) => mark(t),
                    ObjectMap::Parent { joins, .. } => joins.iter().for_each(|(child, _)| mark(child)),
                }
            }
        }
    }

    /// Calls `f` with every reference of the mapping and each iteration item it reads in
    /// `record`.
    fn each_reference<'a>(&self, record: Record<'a>, f: &mut dyn FnMut(&Reference, Record<'a>)) {
        let mut mark = |term_map: &TermMap, item: Record<'a>| {
            let mut maps = vec![term_map];
            while let Some(m) = maps.pop() {
                match &m.value {
                    TermValue::Reference(r) => f(r, item),
                    TermValue::Template(t) => t.references().for_each(|r| f(r, item)),
                    TermValue::Constant(_) | TermValue::Fresh => {}
                }
                maps.extend(m.language.as_deref());
                maps.extend(m.datatype.as_deref());
            }
        };
        for map in &self.maps {
            for item in iterations(map, record).unwrap_or_default() {
                mark(&map.subject, item);
                map.graphs.iter().for_each(|g| mark(g, item));
                for pom in &map.predicate_objects {
                    pom.predicates.iter().chain(&pom.graphs).for_each(|p| mark(p, item));
                    for object in &pom.objects {
                        match object {
                            ObjectMap::Term(t) => mark(t, item),
                            ObjectMap::Parent { joins, .. } => joins.iter().for_each(|(child, _)| mark(child, item)),
                        }
                    }
                }
            }
        }
    }

    /// The logical sources the mapping names, for a caller that loads them.
    pub fn sources(&self) -> Vec<&str> {
        let mut s: Vec<&str> = self.maps.iter().filter_map(|m| m.source.as_deref()).collect();
        s.sort_unstable();
        s.dedup();
        s
    }

    fn run<'a>(
        &self,
        document: &dyn Fn(&TriplesMap) -> Option<Record<'a>>,
        skip_unavailable: bool,
        out: &mut Vec<Quad>,
    ) -> Result<Vec<NamedOrBlankNode>, RecordError> {
        let mut roots = Vec::new();
        for map in &self.maps {
            let Some(doc) = document(map) else {
                // A map whose logical source is another file of the source reads nothing here.
                if skip_unavailable {
                    continue;
                }
                return Err(RecordError { triples_map: map.name.clone(), message: "its logical source is not available".to_owned() });
            };
            for item in iterations(map, doc).map_err(|message| RecordError { triples_map: map.name.clone(), message })? {
                let subjects = subjects(map, item)?;
                if subjects.is_empty() {
                    continue;
                }
                let subject_graphs = graphs(&map.graphs, item, map)?;
                for subject in &subjects {
                    for class in &map.classes {
                        for g in &subject_graphs {
                            out.push(Quad::new(subject.clone(), oxigraph::model::vocab::rdf::TYPE, class.clone(), g.clone()));
                        }
                    }
                    for pom in &map.predicate_objects {
                        let mut pom_graphs = subject_graphs.clone();
                        if !pom.graphs.is_empty() {
                            pom_graphs = graphs(&pom.graphs, item, map)?;
                            if !map.graphs.is_empty() {
                                pom_graphs.extend(subject_graphs.iter().cloned());
                            }
                            pom_graphs.dedup();
                        }
                        let mut predicates = Vec::new();
                        for p in &pom.predicates {
                            for t in eval(p, item, map)? {
                                match t {
                                    Term::NamedNode(n) => predicates.push(n),
                                    other => {
                                        return Err(RecordError {
                                            triples_map: map.name.clone(),
                                            message: format!("predicate {other} is not an IRI"),
                                        });
                                    }
                                }
                            }
                        }
                        for object_map in &pom.objects {
                            let objects = match object_map {
                                ObjectMap::Term(t) => eval(t, item, map)?,
                                ObjectMap::Parent { triples_map, joins } => {
                                    self.parent_subjects(*triples_map, joins, document, item)?
                                }
                            };
                            for predicate in &predicates {
                                for object in &objects {
                                    for g in &pom_graphs {
                                        out.push(Quad::new(subject.clone(), predicate.clone(), object.clone(), g.clone()));
                                    }
                                }
                            }
                        }
                    }
                }
                // The record's own entities: those of the maps that iterate over the record itself.
                if map.iterator.is_none() || item.same(&doc) {
                    roots.extend(subjects);
                }
            }
        }
        roots.dedup();
        Ok(roots)
    }

    fn parent_subjects<'a>(
        &self,
        parent: usize,
        joins: &[(TermMap, TermMap)],
        document: &dyn Fn(&TriplesMap) -> Option<Record<'a>>,
        child_item: Record<'_>,
    ) -> Result<Vec<Term>, RecordError> {
        let parent_map = &self.maps[parent];
        if joins.is_empty() {
            // Same iteration: the parent's subject for this very item.
            return Ok(subjects(parent_map, child_item)?.into_iter().map(Term::from).collect());
        }
        let Some(parent_doc) = document(parent_map) else {
            return Err(RecordError { triples_map: parent_map.name.clone(), message: "its logical source is not available".to_owned() });
        };
        let mut found = Vec::new();
        let parent_items =
            iterations(parent_map, parent_doc).map_err(|message| RecordError { triples_map: parent_map.name.clone(), message })?;
        for parent_item in parent_items {
            let mut matches = true;
            for (child, parent) in joins {
                let child_values = strings(eval(child, child_item, parent_map)?);
                let parent_values = strings(eval(parent, parent_item, parent_map)?);
                matches &= parent_values.iter().any(|v| child_values.contains(v));
            }
            if matches {
                found.extend(subjects(parent_map, parent_item)?.into_iter().map(Term::from));
            }
        }
        found.dedup();
        Ok(found)
    }
}

fn unread_leaves(value: &Value, path: &mut String, read: &HashSet<*const Value>, out: &mut BTreeSet<String>) {
    let len = path.len();
    match value {
        Value::Null => {}
        Value::Object(fields) => {
            for (key, child) in fields {
                if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                } else {
                    path.push_str(&format!("['{}']", key.replace('\'', "\\'")));
                }
                unread_leaves(child, path, read, out);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            path.push_str("[*]");
            for item in items {
                unread_leaves(item, path, read, out);
            }
            path.truncate(len);
        }
        leaf => {
            if !read.contains(&std::ptr::from_ref(leaf)) {
                out.insert(if path.is_empty() { "$".to_owned() } else { path.clone() });
            }
        }
    }
}

/// The attributes and texts below an XML record that were not read, as paths from the record.
fn unread_xml<'a>(record: XmlNode<'a>, read: &HashSet<XmlNode<'a>>, out: &mut BTreeSet<String>) {
    let path = |node: XmlNode<'a>| -> String {
        let mut names = Vec::new();
        let mut at = Some(node);
        while let Some(n) = at.filter(|n| *n != record) {
            names.push(if n.is_attribute() { format!("@{}", n.name()) } else { n.name() });
            at = n.parent();
        }
        names.reverse();
        names.join("/")
    };
    for node in record.subtree() {
        for attribute in node.attributes() {
            if !read.contains(&attribute) {
                out.insert(path(attribute));
            }
        }
        if node.has_text() && !read.contains(&node) {
            let element = node.parent().filter(|p| *p != record);
            out.insert(element.map_or_else(|| "text()".to_owned(), path));
        }
    }
}

/// The iteration items of a triples map in a record (or document).
fn iterations<'a>(map: &TriplesMap, record: Record<'a>) -> Result<Vec<Record<'a>>, String> {
    match (&map.iterator, map.formulation, record) {
        (_, Formulation::Csv, Record::Json(Value::Array(rows))) => Ok(rows.iter().map(Record::Json).collect()),
        (None, _, _) => Ok(vec![record]),
        (Some(path), _, _) => path.items(record),
    }
}

/// Reads CSV (or, with `b'\t'`, TSV) into what CSV logical sources iterate over: an array with
/// one object per row, column name → cell text.
///
/// `columns`, when given, names the columns of a file without a header row; otherwise the first
/// row names them.
pub fn csv_rows(bytes: &[u8], delimiter: u8, columns: Option<&[String]>) -> Result<Value, SourceError> {
    read_csv(bytes, delimiter, columns).map_err(SourceError)
}

fn read_csv(bytes: &[u8], delimiter: u8, columns: Option<&[String]>) -> Result<Value, String> {
    // Not UTF-8: said where, with the likely cause (a Japanese file from Excel is Shift_JIS).
    if let Err(e) = std::str::from_utf8(bytes) {
        let at = e.valid_up_to();
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        return Err(format!(
            "the file is not UTF-8 (line {line}, byte {at}): musubi reads CSV as UTF-8; a file saved by Japanese Excel is often \
             Shift_JIS or CP932: convert it first (e.g. iconv -f CP932 -t UTF-8)"
        ));
    }
    // A quote opened and never closed reads the rest of the file as one cell, silently at the
    // end of a file, or as a short row before: say so, where the quote opens.
    if let Some(open) = unclosed_quote(bytes, delimiter) {
        let line = bytes[..open].iter().filter(|b| **b == b'\n').count() + 1;
        return Err(format!("a quoted cell opened on line {line} is never closed (the rest of the file would read as one cell)"));
    }
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(columns.is_none()).from_reader(bytes);
    let headers = match columns {
        Some(columns) => csv::StringRecord::from(columns.to_vec()),
        None => reader.headers().map_err(|e| format!("CSV header: {e}"))?.clone(),
    };
    let first_row = if columns.is_some() { 1 } else { 2 };
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("CSV row {}: {e}", i + first_row))?;
        // Named columns must cover every cell: a wider row would lose cells silently.
        if columns.is_some() && record.len() != headers.len() {
            return Err(format!("CSV row {}: {} cells, but the manifest names {} columns", i + first_row, record.len(), headers.len()));
        }
        let row: serde_json::Map<String, Value> =
            headers.iter().zip(record.iter()).map(|(h, v)| (h.to_owned(), Value::String(v.to_owned()))).collect();
        rows.push(Value::Object(row));
    }
    Ok(Value::Array(rows))
}

/// Where a quoted cell opens that no quote closes (a quote opens a cell only at its start;
/// `""` inside one is a quote).
fn unclosed_quote(bytes: &[u8], delimiter: u8) -> Option<usize> {
    #[derive(PartialEq)]
    enum State {
        CellStart,
        Plain,
        Quoted(usize),
        QuoteInQuoted(usize),
    }
    let mut state = State::CellStart;
    for (i, &b) in bytes.iter().enumerate() {
        let ends_cell = b == delimiter || b == b'\n' || b == b'\r';
        state = match state {
            State::CellStart if b == b'"' => State::Quoted(i),
            State::CellStart | State::Plain if ends_cell => State::CellStart,
            State::CellStart | State::Plain => State::Plain,
            State::Quoted(open) if b == b'"' => State::QuoteInQuoted(open),
            State::Quoted(open) => State::Quoted(open),
            State::QuoteInQuoted(open) if b == b'"' => State::Quoted(open),
            State::QuoteInQuoted(_) if ends_cell => State::CellStart,
            State::QuoteInQuoted(_) => State::Plain,
        };
    }
    match state {
        State::Quoted(open) => Some(open),
        _ => None,
    }
}

fn subjects(map: &TriplesMap, item: Record<'_>) -> Result<Vec<NamedOrBlankNode>, RecordError> {
    eval(&map.subject, item, map)?
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

/// The graphs a set of graph maps gives (the default graph when there are none).
fn graphs(maps: &[TermMap], item: Record<'_>, map: &TriplesMap) -> Result<Vec<GraphName>, RecordError> {
    if maps.is_empty() {
        return Ok(vec![GraphName::DefaultGraph]);
    }
    let mut out = Vec::new();
    for g in maps {
        for t in eval(g, item, map)? {
            out.push(match t {
                Term::NamedNode(n)
                    if matches!(n.as_str(), "http://w3id.org/rml/defaultGraph" | "http://www.w3.org/ns/r2rml#defaultGraph") =>
                {
                    GraphName::DefaultGraph
                }
                Term::NamedNode(n) => GraphName::NamedNode(n),
                Term::BlankNode(b) => GraphName::BlankNode(b),
                other => {
                    return Err(RecordError { triples_map: map.name.clone(), message: format!("graph {other} is not an IRI") });
                }
            });
        }
    }
    Ok(out)
}

/// What a harvest's records have not shown of a mapping yet (see [`Mapping::references`]): the
/// references that found no value, and the triples maps that iterated nothing (a map for records
/// this source does not have, such as studies in an export of datasets: its references say nothing
/// about the records).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unmatched {
    references: BTreeSet<String>,
    idle: BTreeSet<String>,
}

impl Unmatched {
    /// The references that found no value though their triples map iterated records.
    pub fn references(&self) -> impl Iterator<Item = &String> {
        self.references.iter().filter(|r| !r.split_once(' ').is_some_and(|(map, _)| self.idle.contains(map)))
    }

    /// Whether every reference found a value: nothing is left to look for in later records.
    pub fn is_empty(&self) -> bool {
        self.references.is_empty()
    }

    /// Records not looked at again (a harvest copies an unchanged record's triples from the last
    /// one) found what they found then, when `before` was what was left unmatched: only what
    /// neither the records looked at nor those before found stays unmatched.
    pub fn and_before(&mut self, before: &Unmatched) {
        self.references.retain(|r| before.references.contains(r));
        self.idle.retain(|m| before.idle.contains(m));
    }

    /// As one line of JSON, to keep until the next harvest ([`Unmatched::from_line`]).
    pub fn to_line(&self) -> String {
        serde_json::json!({ "references": self.references, "idle": self.idle }).to_string()
    }

    pub fn from_line(line: &str) -> Option<Unmatched> {
        let value: Value = serde_json::from_str(line).ok()?;
        let set = |key: &str| -> Option<BTreeSet<String>> { value.get(key)?.as_array()?.iter().map(|v| v.as_str().map(str::to_owned)).collect() };
        Some(Unmatched { references: set("references")?, idle: set("idle")? })
    }
}

/// Evaluates a term map against one iteration item. A reference to a missing or null value
/// yields no term (and so no triple), as RML specifies; one to a JSON array or object is an
/// error; an XPath reference gives each node's string-value.
fn eval(term_map: &TermMap, item: Record<'_>, map: &TriplesMap) -> Result<Vec<Term>, RecordError> {
    let err = |message: String| RecordError { triples_map: map.name.clone(), message };
    let values: Vec<Value> = match &term_map.value {
        TermValue::Constant(t) => return Ok(vec![t.clone()]),
        // Stable within one run: the item's address names its iteration.
        TermValue::Fresh => {
            let label = format!("f{:08x}{:x}", fnv1a(&map.name) as u32, item.address());
            return Ok(vec![BlankNode::new_unchecked(label).into()]);
        }
        TermValue::Reference(r) => r.scalars(item).map_err(err)?,
        TermValue::Template(t) => {
            let encoding = match term_map.term_type {
                TermType::Iri => template::Encoding::IriSafe,
                TermType::Uri => template::Encoding::UriSafe,
                TermType::UnsafeIri | TermType::BlankNode | TermType::Literal => template::Encoding::None,
            };
            t.expand(item, encoding).map_err(err)?.into_iter().map(Value::String).collect()
        }
    };
    let languages = match &term_map.language {
        Some(l) => strings(eval(l, item, map)?),
        None => Vec::new(),
    };
    let datatypes = match &term_map.datatype {
        Some(d) => strings(eval(d, item, map)?),
        None => Vec::new(),
    };
    let mut terms = Vec::new();
    for value in values {
        let lexical = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match term_map.term_type {
            TermType::Iri | TermType::Uri => match iri(&lexical, map) {
                Ok(iri) => terms.push(iri.into()),
                // R2RML (the legacy reading): a value that makes no IRI is a data error that
                // generates no term; RML-Core makes it an error.
                Err(_) if map.legacy => {}
                Err(e) => return Err(err(e)),
            },
            // An unsafe IRI is taken as written, even where it is not a valid IRI.
            TermType::UnsafeIri => terms.push(iri(&lexical, map).unwrap_or_else(|_| NamedNode::new_unchecked(lexical)).into()),
            TermType::BlankNode => terms.push(BlankNode::new_unchecked(format!("b{:016x}", fnv1a(&lexical))).into()),
            TermType::Literal => {
                if let Some(lang) = languages.first() {
                    let literal = Literal::new_language_tagged_literal(lexical, lang.as_str())
                        .map_err(|e| err(format!("{lang:?} is not a valid language tag: {e}")))?;
                    terms.push(literal.into());
                } else if let Some(dt) = datatypes.first() {
                    let dt = iri(dt, map).map_err(err)?;
                    terms.push(Literal::new_typed_literal(lexical, dt).into());
                } else {
                    // JSON numbers and booleans keep their natural datatype (RML-Core).
                    terms.push(match &value {
                        _ if map.legacy => Literal::new_simple_literal(lexical),
                        Value::Number(n) if n.is_i64() || n.is_u64() => Literal::new_typed_literal(lexical, oxigraph::model::vocab::xsd::INTEGER),
                        Value::Number(_) => Literal::new_typed_literal(lexical, XSD_DOUBLE),
                        Value::Bool(_) => Literal::new_typed_literal(lexical, XSD_BOOLEAN),
                        _ => Literal::new_simple_literal(lexical),
                    }
                    .into());
                }
            }
        }
    }
    Ok(terms)
}

const XSD_DOUBLE: NamedNodeRef<'static> = NamedNodeRef::new_unchecked("http://www.w3.org/2001/XMLSchema#double");
const XSD_BOOLEAN: NamedNodeRef<'static> = NamedNodeRef::new_unchecked("http://www.w3.org/2001/XMLSchema#boolean");

fn strings(terms: Vec<Term>) -> Vec<String> {
    terms
        .into_iter()
        .filter_map(|t| match t {
            Term::NamedNode(n) => Some(n.into_string()),
            Term::Literal(l) => Some(l.value().to_owned()),
            Term::BlankNode(_) => None,
        })
        .collect()
}

/// An absolute IRI, or one resolved against the triples map's base IRI.
fn iri(value: &str, map: &TriplesMap) -> Result<NamedNode, String> {
    match (Iri::parse(value.to_owned()), &map.base) {
        (Ok(iri), _) => Ok(NamedNode::from(iri)),
        // R2RML joins base and value as strings, without resolving dot segments.
        (Err(_), Some(base)) if map.legacy => {
            NamedNode::new(format!("{}{value}", base.as_str())).map_err(|e| format!("{value:?} is not a valid IRI: {e}"))
        }
        (Err(_), Some(base)) => base
            .resolve(value)
            .map(NamedNode::from)
            .map_err(|e| format!("{value:?} is not a valid IRI, even against the base <{}>: {e}", base.as_str())),
        (Err(e), None) => Err(format!("{value:?} is not a valid IRI: {e}")),
    }
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
    let err = |message: String| MappingError::new(origin, message);
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

/// The names a JSONPath or XPath expression reads: its quoted names (`['Cell Lines']`) and bare
/// ones (`.title`, `Project/Title`, `@accession`), without XPath's functions and axes.
fn reference_names(expression: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = expression.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' || c == '"' {
            let end = expression[i + 1..].find(c).map_or(expression.len(), |e| i + 1 + e);
            names.push(expression[i + 1..end].to_owned());
            while chars.peek().is_some_and(|(j, _)| *j <= end) {
                chars.next();
            }
        } else if c.is_alphabetic() || c == '_' || c == '@' && expression[i + 1..].starts_with(|d: char| d.is_alphabetic()) {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if d.is_alphanumeric() || d == '_' || d == '-' {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let name = &expression[i..end];
            // A function call or an axis (`text()`, `child::`) is no name of the record's.
            let rest = expression[end..].trim_start();
            if !rest.starts_with('(') && !rest.starts_with("::") {
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// Edit distance where swapping two neighbours counts one (optimal string alignment): `TITEL` is
/// one from `TITLE`.
fn transpositions_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod reference_names_tests {
    use super::*;

    #[test]
    fn a_misspelt_name_is_told_from_an_optional_one() {
        assert_eq!(reference_names("$.experiments[*].data['Cell Lines'].en.text"), ["experiments", "data", "Cell Lines", "en", "text"]);
        assert_eq!(reference_names("Project/ProjectID/ArchiveID/@accession"), ["Project", "ProjectID", "ArchiveID", "@accession"]);
        assert_eq!(reference_names("normalize-space(Title/text())"), ["Title"]);
        let names: BTreeSet<String> = ["TITLE", "experiments", "accession"].map(str::to_owned).into();
        assert_eq!(Mapping::misspelt("<m> $.TITEL", &names), Some(("TITEL".to_owned(), "TITLE".to_owned())));
        assert_eq!(Mapping::misspelt("<m> $.title", &names), Some(("title".to_owned(), "TITLE".to_owned())));
        assert_eq!(Mapping::misspelt("<m> $.experiments[*].ageGroup", &names), None, "an optional field none of these records has");
        assert_eq!(Mapping::misspelt("<m> $.TITLE", &names), None);
        // Short names are too near to tell; an attribute is not an element.
        let names: BTreeSet<String> = ["Data", "@accession", "Title"].map(str::to_owned).into();
        assert_eq!(Mapping::misspelt("<m> @date", &names), None);
        assert_eq!(Mapping::misspelt("<m> @acession", &names), Some(("@acession".to_owned(), "@accession".to_owned())));
        assert_eq!(Mapping::misspelt("<m> Accession", &names), None, "an element named like an attribute");
    }
}
