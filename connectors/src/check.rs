//! `connector check`: a dry harvest that shows what would change and what breaks the vocabulary,
//! before anything goes live. Nothing is written to the store.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use musubi_ontology::rdf::{NamedOrBlankNode, Term, Triple};
use musubi_store::{EmbeddedStore, GraphStore, Replacement};
use musubi_ontology::vocab::{self, Vocabulary};

use crate::fetch::Sessions;
use crate::error::HarvestError;
use crate::status::source_status;
use musubi_ontology::vocab::source_graph;
use crate::kinds::{self, Context};
use crate::manifest::Manifest;

/// One way a staged record breaks the hub vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    /// The record's id at the source (or its IRI).
    pub record: String,
    /// The property concerned (IRI).
    pub field: String,
    pub message: String,
}

/// What a harvest of the source would do now.
#[derive(Debug)]
pub struct CheckReport {
    pub records: usize,
    /// Record ids (sorted) new to the graph, changed, no longer present, and unchanged.
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
    pub violations: Vec<Violation>,
    /// Source fields the mapping leaves unmapped, with how many records have them (JSON, CSV,
    /// GraphQL, SPARQL SELECT and XML sources; an RDF dump's unmapped terms show as violations instead).
    pub unmapped: Vec<(String, usize)>,
    /// Source fields (or, for RDF dumps, unknown properties) the manifest's `[check] ignore`
    /// leaves out on purpose: the field, in how many records, and the manifest's reason.
    pub ignored: Vec<Ignored>,
    /// `[check] ignore` entries that matched no field of these records: stale, misspelt, or for
    /// fields these records happen to lack.
    pub unused_ignores: Vec<String>,
    /// The mapping's references that found no value in any of these records (`<triples map>
    /// reference`): misspelt, or for fields these records happen to lack. A harvest warns only of
    /// those that read a name near one the records use.
    pub unmatched_references: Vec<String>,
    /// What the harvest guards say of these records against the source's last landed harvest:
    /// why a harvest now would not land, or what it would land with even so.
    pub guards: Result<Vec<String>, String>,
}

/// A field left unmapped on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub field: String,
    pub records: usize,
    pub reason: String,
}

/// Stages the source as a harvest would and compares it with the source's current graph.
pub async fn check(
    manifest: &Manifest,
    store: &dyn GraphStore,
    vocabulary: &Vocabulary,
    client: &reqwest::Client,
) -> Result<CheckReport, HarvestError> {
    let cx = Context {
        client,
        source: &manifest.id,
        progress: &kinds::NoProgress,
        list_unmapped: true,
        sessions: &Sessions::default(),
        cache: None,
        stats: Default::default(),
        spooling: None,
    };
    let mut staged = crate::harvest::stage(manifest, &cx, vocabulary).await?;
    let current = store.graph(source_graph(&manifest.id).as_ref())?;

    // The store keeps values in canonical form ("4.0" as 4, xsd:nonNegativeInteger as
    // xsd:integer): compare what would be stored, not what the partner wrote.
    let new = records(&as_stored(&staged.triples, &manifest.id)?);
    let old = records(&current);
    // The guards, as a harvest would judge it (with `invalid_values = "drop"`, what it would drop).
    let mut in_memory = std::mem::take(&mut staged.triples);
    staged.census.observe(&mut in_memory, manifest.guards.invalid_values);
    staged.triples = in_memory;
    let before = source_status(store, &manifest.id)?;
    let guards = crate::guards::judge(&manifest.guards, &before, staged.records, &staged.census, crate::guards::Shrink::Refuse);
    let mut report = CheckReport {
        records: staged.records,
        added: Vec::new(),
        changed: Vec::new(),
        removed: Vec::new(),
        unchanged: 0,
        violations: Vec::new(),
        unmapped: Vec::new(),
        ignored: Vec::new(),
        unused_ignores: Vec::new(),
        unmatched_references: staged.census.unmatched_references(),
        guards,
    };
    for (id, facts) in &new {
        match old.get(id) {
            None => report.added.push(id.clone()),
            Some(before) if before != facts => report.changed.push(id.clone()),
            Some(_) => report.unchanged += 1,
        }
    }
    report.removed = old.keys().filter(|id| !new.contains_key(*id)).cloned().collect();
    let reason = |field: &str| manifest.ignore.iter().find(|i| i.covers(field)).map(|i| i.reason.clone());
    for (field, records) in std::mem::take(&mut staged.unmapped) {
        match reason(&field) {
            Some(reason) => report.ignored.push(Ignored { field, records, reason }),
            None => report.unmapped.push((field, records)),
        }
    }
    // An RDF dump keeps the terms it does not map; an ignored one is no violation.
    let mut unknown: BTreeMap<String, (BTreeSet<String>, String)> = BTreeMap::new();
    for v in violations(&staged.triples, vocabulary) {
        match reason(&v.field).filter(|_| v.message.starts_with(NOT_IN_VOCABULARY)) {
            Some(reason) => {
                unknown.entry(v.field).or_insert_with(|| (BTreeSet::new(), reason)).0.insert(v.record);
            }
            None => report.violations.push(v),
        }
    }
    report.ignored.extend(unknown.into_iter().map(|(field, (records, reason))| Ignored { field, records: records.len(), reason }));
    report.unused_ignores = manifest
        .ignore
        .iter()
        .filter(|i| !report.ignored.iter().any(|x| i.covers(&x.field)))
        .map(|i| i.field.clone())
        .collect();
    Ok(report)
}

/// The triples as the graph store would give them back (values in canonical form).
fn as_stored(triples: &[Triple], source: &str) -> Result<Vec<Triple>, HarvestError> {
    let scratch = EmbeddedStore::in_memory();
    let graph = source_graph(source);
    scratch.replace(&[Replacement { graph: graph.as_ref(), triples }])?;
    Ok(scratch.graph(graph.as_ref())?)
}

const NOT_IN_VOCABULARY: &str = "not in the hub vocabulary";

/// Each record (an entity with a source record id) and what is said of it, minus the harvest time
/// and blank-node labels (which differ between harvests without meaning a change).
fn records(triples: &[Triple]) -> BTreeMap<String, BTreeSet<String>> {
    let ids = record_ids(triples);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for t in triples {
        if t.predicate.as_ref() == vocab::PROV_GENERATED_AT_TIME {
            continue;
        }
        if let Some(id) = ids.get(&t.subject) {
            let object = match &t.object {
                Term::BlankNode(_) => "_:".to_owned(),
                other => other.to_string(),
            };
            out.entry(id.clone()).or_default().insert(format!("{} {object}", t.predicate));
        }
    }
    out
}

fn record_ids(triples: &[Triple]) -> HashMap<NamedOrBlankNode, String> {
    triples
        .iter()
        .filter(|t| t.predicate.as_ref() == vocab::MUSUBI_SOURCE_RECORD_ID)
        .filter_map(|t| match &t.object {
            Term::Literal(l) => Some((t.subject.clone(), l.value().to_owned())),
            _ => None,
        })
        .collect()
}

const STRING_LIKE: [&str; 5] = [
    "http://www.w3.org/2001/XMLSchema#string",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString",
    "http://www.w3.org/2001/XMLSchema#anyURI",
    "http://www.w3.org/2001/XMLSchema#normalizedString",
    "http://www.w3.org/2001/XMLSchema#token",
];

/// Unknown properties, values of the wrong datatype, and datasets or studies without an
/// accession or a title.
fn violations(triples: &[Triple], vocabulary: &Vocabulary) -> Vec<Violation> {
    let ids = record_ids(triples);
    let name = |s: &NamedOrBlankNode| ids.get(s).cloned().unwrap_or_else(|| s.to_string());
    let mut out = BTreeSet::new();
    for t in triples {
        if t.predicate.as_ref() == vocab::RDF_TYPE {
            continue;
        }
        let field = t.predicate.as_str().to_owned();
        let Some(decl) = vocabulary.property(&field) else {
            out.insert(Violation {
                record: name(&t.subject),
                field,
                message: format!("{NOT_IN_VOCABULARY}: map it to a hub property (unmapped, it would be steward-only)"),
            });
            continue;
        };
        let Some(range) = decl.datatype.as_deref() else { continue };
        let problem = match &t.object {
            Term::Literal(l) if STRING_LIKE.contains(&range) => {
                (!STRING_LIKE.contains(&l.datatype().as_str())).then(|| format!("expected text, found a {}", l.datatype().as_str()))
            }
            Term::Literal(l) if l.datatype().as_str() != range => {
                Some(format!("expected a {range}, found {:?} typed {}", l.value(), l.datatype().as_str()))
            }
            Term::Literal(l) if !valid_lexical(l.value(), range) => Some(format!("{:?} is not a valid {range}", l.value())),
            Term::Literal(_) => None,
            other => Some(format!("expected a literal ({range}), found {other}")),
        };
        if let Some(message) = problem {
            out.insert(Violation { record: name(&t.subject), field, message });
        }
    }
    // Required: every dataset and study has an accession and a title.
    for t in triples.iter().filter(|t| t.predicate.as_ref() == vocab::RDF_TYPE) {
        let Term::NamedNode(class) = &t.object else { continue };
        if class.as_ref() != vocab::DCAT_DATASET && class.as_ref() != vocab::MUSUBI_STUDY {
            continue;
        }
        for required in [vocab::DCT_IDENTIFIER, vocab::DCT_TITLE] {
            if !triples.iter().any(|x| x.subject == t.subject && x.predicate.as_ref() == required) {
                out.insert(Violation {
                    record: name(&t.subject),
                    field: required.as_str().to_owned(),
                    message: "missing: every dataset and study needs one".to_owned(),
                });
            }
        }
    }
    out.into_iter().collect()
}

fn valid_lexical(value: &str, datatype: &str) -> bool {
    use std::str::FromStr;
    match datatype.strip_prefix("http://www.w3.org/2001/XMLSchema#") {
        Some("integer") => oxsd::Integer::from_str(value).is_ok(),
        Some("decimal") => oxsd::Decimal::from_str(value).is_ok(),
        Some("boolean") => oxsd::Boolean::from_str(value).is_ok(),
        Some("date") => oxsd::Date::from_str(value).is_ok(),
        Some("dateTime") => oxsd::DateTime::from_str(value).is_ok(),
        _ => true,
    }
}

use musubi_ontology::xsd as oxsd;
