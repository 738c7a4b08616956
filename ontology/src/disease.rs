//! The disease hierarchy (MONDO): which disease is a kind of which.
//!
//! Search needs it (a parent term finds datasets about its children) and so does DUO matching
//! (research on disease X may use data consented for research on an ancestor of X). Both ask the
//! same two questions, answered here from one hierarchy loaded once: [`DiseaseHierarchy::is_a`]
//! and [`DiseaseHierarchy::descendants`].
//!
//! Terms are read from OBO Graphs JSON (what MONDO and HPO publish as `*.json`) and from
//! `rdfs:subClassOf` triples (MONDO's OWL, or a graph harvested into the store). Term IRIs are
//! the OBO PURLs; CURIEs (`MONDO:0000645`, `MONDO_0000645`) are accepted wherever a term is asked
//! for.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use oxigraph::model::{NamedOrBlankNodeRef, TermRef, Triple};

const OBO: &str = "http://purl.obolibrary.org/obo/";
const SUBCLASS_OF: &str = "http://www.w3.org/2000/01/rdf-schema#subClassOf";
const LABEL: &str = "http://www.w3.org/2000/01/rdf-schema#label";

/// A loaded disease hierarchy (a DAG: MONDO terms may have several parents).
#[derive(Debug, Default, Clone)]
pub struct DiseaseHierarchy {
    parents: HashMap<String, BTreeSet<String>>,
    children: HashMap<String, BTreeSet<String>>,
    labels: HashMap<String, String>,
}

/// Why a hierarchy file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct DiseaseError {
    pub file: String,
    pub message: String,
}

/// The OBO PURL of a term given as a PURL, a CURIE (`MONDO:0000645`) or an OBO id
/// (`MONDO_0000645`); anything else is returned as given.
pub fn term_iri(term: &str) -> String {
    let term = term.trim();
    if term.starts_with("http://") || term.starts_with("https://") {
        return term.to_owned();
    }
    match term.split_once(':') {
        Some((prefix, local)) if !prefix.is_empty() && prefix.chars().all(|c| c.is_ascii_alphanumeric()) => {
            format!("{OBO}{prefix}_{local}")
        }
        _ if term.contains('_') => format!("{OBO}{term}"),
        _ => term.to_owned(),
    }
}

/// The CURIE of an OBO PURL (`MONDO:0000645`), or the IRI as given for others.
pub fn term_curie(iri: &str) -> String {
    match iri.strip_prefix(OBO).and_then(|local| local.split_once('_')) {
        Some((prefix, id)) => format!("{prefix}:{id}"),
        None => iri.to_owned(),
    }
}

impl DiseaseHierarchy {
    /// The hierarchy every hub knows without configuration: the MONDO module shipped in
    /// `vocab/mondo_module.json` (a real excerpt, from phenol's test resources; a deployment adds
    /// the full MONDO in `<data>/ontologies/`).
    pub fn builtin() -> DiseaseHierarchy {
        let mut diseases = DiseaseHierarchy::new();
        diseases
            .add_obographs(include_bytes!("../vocab/mondo_module.json"), "built-in mondo_module.json")
            .expect("the built-in MONDO module is OBO Graphs JSON");
        diseases
    }

    /// An empty hierarchy: every term is only itself.
    pub fn new() -> DiseaseHierarchy {
        DiseaseHierarchy::default()
    }

    /// Adds the `is_a` edges and labels of an OBO Graphs JSON document. `file` names it in errors.
    pub fn add_obographs(&mut self, json: &[u8], file: &str) -> Result<(), DiseaseError> {
        let error = |message: String| DiseaseError { file: file.to_owned(), message };
        let doc: serde_json::Value = serde_json::from_slice(json).map_err(|e| error(format!("not JSON: {e}")))?;
        let graphs = doc
            .get("graphs")
            .and_then(|g| g.as_array())
            .ok_or_else(|| error("no \"graphs\" array: not an OBO Graphs document".into()))?;
        for (g, graph) in graphs.iter().enumerate() {
            for (n, node) in graph.get("nodes").and_then(|n| n.as_array()).into_iter().flatten().enumerate() {
                let Some(id) = node.get("id").and_then(|v| v.as_str()) else {
                    return Err(error(format!("graphs[{g}].nodes[{n}] has no \"id\"")));
                };
                if let Some(label) = node.get("lbl").and_then(|v| v.as_str()) {
                    self.labels.insert(term_iri(id), label.to_owned());
                }
            }
            for (e, edge) in graph.get("edges").and_then(|e| e.as_array()).into_iter().flatten().enumerate() {
                let field = |name: &str| {
                    edge.get(name)
                        .and_then(|v| v.as_str())
                        .ok_or_else(|| error(format!("graphs[{g}].edges[{e}] has no \"{name}\"")))
                };
                let (sub, pred, obj) = (field("sub")?, field("pred")?, field("obj")?);
                if pred == "is_a" || pred == SUBCLASS_OF {
                    self.add_edge(&term_iri(sub), &term_iri(obj));
                }
            }
        }
        Ok(())
    }

    /// Adds `rdfs:subClassOf` edges between named classes and `rdfs:label`s from RDF triples
    /// (e.g. MONDO's OWL file parsed with [`crate::parse_triples`]).
    pub fn add_triples<'a>(&mut self, triples: impl IntoIterator<Item = &'a Triple>) {
        for t in triples {
            let NamedOrBlankNodeRef::NamedNode(subject) = t.subject.as_ref() else { continue };
            match (t.predicate.as_str(), t.object.as_ref()) {
                (SUBCLASS_OF, TermRef::NamedNode(parent)) => self.add_edge(subject.as_str(), parent.as_str()),
                (LABEL, TermRef::Literal(label)) => {
                    self.labels.entry(subject.as_str().to_owned()).or_insert_with(|| label.value().to_owned());
                }
                _ => {}
            }
        }
    }

    fn add_edge(&mut self, child: &str, parent: &str) {
        if child == parent {
            return;
        }
        self.parents.entry(child.to_owned()).or_default().insert(parent.to_owned());
        self.children.entry(parent.to_owned()).or_default().insert(child.to_owned());
    }

    /// How many terms have a parent or a child here.
    pub fn len(&self) -> usize {
        self.parents.keys().chain(self.children.keys()).collect::<BTreeSet<_>>().len()
    }

    pub fn is_empty(&self) -> bool {
        self.parents.is_empty()
    }

    /// The term's label, if the hierarchy has one.
    pub fn label(&self, term: &str) -> Option<&str> {
        self.labels.get(&term_iri(term)).map(String::as_str)
    }

    /// Whether `term` is `ancestor` or a descendant of it (reflexive and transitive).
    pub fn is_a(&self, term: &str, ancestor: &str) -> bool {
        let (term, ancestor) = (term_iri(term), term_iri(ancestor));
        term == ancestor || self.walk(&term, &self.parents).contains(&ancestor)
    }

    /// The term and all its ancestors, as IRIs, in a stable order.
    pub fn ancestors(&self, term: &str) -> Vec<String> {
        let term = term_iri(term);
        let mut out = self.walk(&term, &self.parents);
        out.insert(term);
        out.into_iter().collect()
    }

    /// The term and all its descendants, as IRIs, in a stable order: what a search for the term
    /// should match.
    pub fn descendants(&self, term: &str) -> Vec<String> {
        let term = term_iri(term);
        let mut out = self.walk(&term, &self.children);
        out.insert(term);
        out.into_iter().collect()
    }

    fn walk(&self, start: &str, edges: &HashMap<String, BTreeSet<String>>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start.to_owned()];
        while let Some(next) = stack.pop() {
            for up in edges.get(&next).into_iter().flatten() {
                if seen.insert(up.clone()) {
                    stack.push(up.clone());
                }
            }
        }
        seen
    }

    /// Every term's label, for listing (sorted by IRI).
    pub fn labels(&self) -> BTreeMap<&str, &str> {
        self.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real MONDO module in the shared fixtures: fallopian tube benign neoplasm is_a
    /// MONDO_0000624.
    const MONDO: &[u8] = include_bytes!("../vocab/mondo_module.json");

    #[test]
    fn mondo_child_is_a_parent_not_the_reverse() {
        let mut h = DiseaseHierarchy::new();
        h.add_obographs(MONDO, "mondo_module.json").unwrap();
        assert!(h.is_a("MONDO:0000645", "MONDO:0000624"));
        assert!(h.is_a("http://purl.obolibrary.org/obo/MONDO_0000645", "MONDO_0000624"));
        assert!(!h.is_a("MONDO:0000624", "MONDO:0000645"));
        assert!(h.is_a("MONDO:0000624", "MONDO:0000624"), "a term is itself");
        assert_eq!(
            h.descendants("MONDO:0000624"),
            vec!["http://purl.obolibrary.org/obo/MONDO_0000624", "http://purl.obolibrary.org/obo/MONDO_0000645"]
        );
        assert_eq!(h.label("MONDO:0000645"), Some("fallopian tube benign neoplasm"));
    }

    #[test]
    fn transitive_through_several_parents_from_rdf() {
        let ttl = br#"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
            @prefix obo: <http://purl.obolibrary.org/obo/> .
            obo:MONDO_3 rdfs:subClassOf obo:MONDO_2 , obo:MONDO_9 .
            obo:MONDO_2 rdfs:subClassOf obo:MONDO_1 ; rdfs:label "two" .
            obo:MONDO_1 rdfs:subClassOf [ a <http://www.w3.org/2002/07/owl#Restriction> ] ."#;
        let triples = crate::parse_triples(ttl, crate::RdfFormat::Turtle, "http://example.org/").unwrap();
        let mut h = DiseaseHierarchy::new();
        h.add_triples(&triples);
        assert!(h.is_a("MONDO:3", "MONDO:1"));
        assert!(h.is_a("MONDO:3", "MONDO:9"));
        assert!(!h.is_a("MONDO:2", "MONDO:9"));
        assert_eq!(h.ancestors("MONDO:2").len(), 2);
        assert_eq!(h.label("MONDO:2"), Some("two"));
    }

    #[test]
    fn a_file_that_is_not_obographs_is_named() {
        let err = DiseaseHierarchy::new().add_obographs(b"{\"nodes\": []}", "x.json").unwrap_err();
        assert!(err.to_string().starts_with("x.json: no \"graphs\""), "{err}");
        assert_eq!(term_curie("http://purl.obolibrary.org/obo/MONDO_0000645"), "MONDO:0000645");
    }
}
