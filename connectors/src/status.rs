//! A source's status, kept in the store beside its graph (so that it survives a restart): its
//! last harvest, attempt, change and error, what it landed, and what the next harvest is judged
//! against (see [`crate::guards`]).

use musubi_ontology::rdf::{Literal, NamedNode, Term, Triple};
use musubi_ontology::vocab::{self, source_graph, status_graph};
use musubi_store::{GraphStore, StoreError};

/// What the hub knows about a source's harvests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceStatus {
    /// When the last successful harvest finished (`xsd:dateTime`).
    pub last_harvest: Option<String>,
    pub last_attempt: Option<String>,
    pub record_count: Option<u64>,
    /// Why the last attempt failed; `None` once a harvest succeeds.
    pub last_error: Option<String>,
    /// What the last landed harvest warned of (a shrink an operator accepted).
    pub warnings: Vec<String>,
    /// The properties the last landed harvest stated (what the next is judged against).
    pub properties: std::collections::BTreeSet<String>,
    /// When the source's graph last changed: the last harvest that landed new content.
    pub last_change: Option<String>,
    /// What the graph that stands was harvested from (see [`crate::harvest::content_digest`]).
    pub content_digest: Option<String>,
}

pub(crate) fn status_triples(id: &str, status: &SourceStatus) -> Vec<Triple> {
    let subject = source_graph(id);
    let mut triples = Vec::new();
    let mut put = |p, o: Literal| triples.push(Triple::new(subject.clone(), p, o));
    if let Some(t) = &status.last_harvest {
        put(vocab::MUSUBI_LAST_HARVEST, Literal::new_typed_literal(t, vocab::XSD_DATE_TIME));
    }
    if let Some(t) = &status.last_attempt {
        put(vocab::MUSUBI_LAST_ATTEMPT, Literal::new_typed_literal(t, vocab::XSD_DATE_TIME));
    }
    if let Some(n) = status.record_count {
        put(vocab::MUSUBI_RECORD_COUNT, Literal::from(n as i64));
    }
    if let Some(e) = &status.last_error {
        put(vocab::MUSUBI_LAST_ERROR, Literal::new_simple_literal(e));
    }
    for w in &status.warnings {
        put(vocab::MUSUBI_LAST_WARNING, Literal::new_simple_literal(w));
    }
    if let Some(t) = &status.last_change {
        put(vocab::MUSUBI_LAST_CHANGE, Literal::new_typed_literal(t, vocab::XSD_DATE_TIME));
    }
    if let Some(d) = &status.content_digest {
        put(vocab::MUSUBI_CONTENT_DIGEST, Literal::new_simple_literal(d));
    }
    for p in &status.properties {
        if let Ok(p) = NamedNode::new(p) {
            triples.push(Triple::new(subject.clone(), vocab::MUSUBI_HARVESTED_PROPERTY, p));
        }
    }
    triples
}

/// A source's status as last recorded in the store.
pub fn source_status(store: &dyn GraphStore, id: &str) -> Result<SourceStatus, StoreError> {
    let mut status = SourceStatus::default();
    for t in store.graph(status_graph(id).as_ref())? {
        if t.predicate.as_ref() == vocab::MUSUBI_HARVESTED_PROPERTY
            && let Term::NamedNode(p) = &t.object
        {
            status.properties.insert(p.as_str().to_owned());
        }
        let Term::Literal(l) = &t.object else { continue };
        let value = Some(l.value().to_owned());
        match t.predicate.as_ref() {
            p if p == vocab::MUSUBI_LAST_HARVEST => status.last_harvest = value,
            p if p == vocab::MUSUBI_LAST_ATTEMPT => status.last_attempt = value,
            p if p == vocab::MUSUBI_LAST_ERROR => status.last_error = value,
            p if p == vocab::MUSUBI_RECORD_COUNT => status.record_count = l.value().parse().ok(),
            p if p == vocab::MUSUBI_LAST_WARNING => status.warnings.push(l.value().to_owned()),
            p if p == vocab::MUSUBI_LAST_CHANGE => status.last_change = value,
            p if p == vocab::MUSUBI_CONTENT_DIGEST => status.content_digest = value,
            _ => {}
        }
    }
    Ok(status)
}
