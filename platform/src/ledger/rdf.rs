//! Process records as triples in the vocabulary (`musubi:AccessRequest`, `odrl:Agreement`,
//! `musubi:Outcome`, each step a `musubi:Transition`), one named graph per record, so that SPARQL
//! and a shared store read them as they read any graph. Values whose order the record keeps
//! (members, datasets, steps) are RDF lists.
//!
//! A data folder written before the crate split kept each record as one JSON literal
//! (`musubi:processRecord`, format 1); [`from_graph`] still reads it, and the ledger rewrites such
//! graphs as triples when it opens the folder.

use musubi_ontology::rdf::{Literal, NamedNode, NamedOrBlankNode, Term, Triple};
use musubi_ontology::vocab as v;

use super::{AccessGrant, AccessRequest, Outcome, OutcomeKind, Party, RequestState, RequestedDataset, ResearchUse, Transition};
use crate::duo::Decision;
use crate::fees::UserClass;
use crate::triples::{Malformed, Reader, Writer};

/// A record read back from its graph.
#[derive(Debug)]
pub(crate) enum Record {
    Request(AccessRequest),
    Grant(AccessGrant),
    Outcome(Outcome),
}

/// What kind of record graph `name` holds, from its name (`…/process/request/AR-…`).
pub(crate) fn kind_of(name: &str) -> Option<&str> {
    name.strip_prefix(v::PROCESS_GRAPH_PREFIX)?.split_once('/').map(|(kind, _)| kind)
}

/// Reads the record in graph `name` from its `triples`: as triples, or as format 1's JSON
/// literal (then `true`: the graph is to be rewritten). `None` for graphs that hold no record
/// (usage counts).
pub(crate) fn from_graph(name: &NamedNode, triples: Vec<Triple>) -> Result<Option<(Record, bool)>, Malformed> {
    let Some(kind) = kind_of(name.as_str()) else { return Ok(None) };
    if !matches!(kind, "request" | "grant" | "outcome") {
        return Ok(None);
    }
    let json = triples.iter().find(|t| t.predicate.as_ref() == v::MUSUBI_PROCESS_RECORD_V1).and_then(|t| match &t.object {
        Term::Literal(l) => Some(l.value().to_owned()),
        _ => None,
    });
    if let Some(json) = json {
        let bad = |e: serde_json::Error| Malformed { graph: name.as_str().to_owned(), problem: format!("its format-1 JSON: {e}") };
        let record = match kind {
            "request" => Record::Request(serde_json::from_str(&json).map_err(bad)?),
            "grant" => Record::Grant(serde_json::from_str(&json).map_err(bad)?),
            _ => Record::Outcome(serde_json::from_str(&json).map_err(bad)?),
        };
        return Ok(Some((record, true)));
    }
    let r = Reader::new(name, triples);
    let s: NamedOrBlankNode = name.clone().into();
    let record = match kind {
        "request" => Record::Request(read_request(&r, &s)?),
        "grant" => Record::Grant(read_grant(&r, &s)?),
        _ => Record::Outcome(read_outcome(&r, &s)?),
    };
    Ok(Some((record, false)))
}

fn subject(kind: &str, id: &str) -> NamedOrBlankNode {
    v::process_graph(kind, id).into()
}

fn party(w: &mut Writer, s: &NamedOrBlankNode, p: musubi_ontology::rdf::NamedNodeRef<'_>, party: &Party) {
    let node: NamedOrBlankNode = musubi_ontology::rdf::BlankNode::default().into();
    w.add(s.clone(), p, Term::from(node.clone()));
    w.string(&node, v::MUSUBI_AGENT_SUBJECT, &party.subject);
    w.string(&node, v::MUSUBI_AGENT_ISSUER, &party.issuer);
}

fn read_party(r: &Reader, s: &NamedOrBlankNode, p: musubi_ontology::rdf::NamedNodeRef<'_>) -> Result<Party, Malformed> {
    let node = r.node(s, p)?;
    Ok(Party { subject: r.string(&node, v::MUSUBI_AGENT_SUBJECT)?, issuer: r.string(&node, v::MUSUBI_AGENT_ISSUER)? })
}

fn transitions(w: &mut Writer, s: &NamedOrBlankNode, record: &NamedNode, all: &[Transition]) {
    let mut items = Vec::new();
    for (n, t) in all.iter().enumerate() {
        let node: NamedOrBlankNode = NamedNode::new_unchecked(format!("{}#{}", record.as_str(), n + 1)).into();
        w.add(node.clone(), v::RDF_TYPE, v::MUSUBI_TRANSITION_CLASS.into_owned());
        w.string(&node, v::DCT_IDENTIFIER, &t.id);
        w.string(&node, v::MUSUBI_ACTION, &t.action);
        w.optional(&node, v::MUSUBI_FROM_STATE, t.from.as_deref());
        w.string(&node, v::MUSUBI_TO_STATE, &t.to);
        party(w, &node, v::MUSUBI_ACTOR, &t.by);
        w.string(&node, v::MUSUBI_CALLER_TIER, &t.tier);
        w.typed(&node, v::PROV_AT_TIME, &t.at, v::XSD_DATE_TIME);
        w.optional(&node, v::RDFS_COMMENT, t.comment.as_deref());
        items.push(Term::from(node));
    }
    w.list(s, v::MUSUBI_TRANSITIONS, items);
}

fn read_transitions(r: &Reader, s: &NamedOrBlankNode) -> Result<Vec<Transition>, Malformed> {
    r.list(s, v::MUSUBI_TRANSITIONS)?
        .into_iter()
        .map(|item| {
            let node: NamedOrBlankNode = match item {
                Term::NamedNode(n) => n.into(),
                Term::BlankNode(b) => b.into(),
                other => return Err(r.malformed(format!("{other} is not a step"))),
            };
            Ok(Transition {
                id: r.string(&node, v::DCT_IDENTIFIER)?,
                action: r.string(&node, v::MUSUBI_ACTION)?,
                from: r.optional(&node, v::MUSUBI_FROM_STATE),
                to: r.string(&node, v::MUSUBI_TO_STATE)?,
                by: read_party(r, &node, v::MUSUBI_ACTOR)?,
                tier: r.string(&node, v::MUSUBI_CALLER_TIER)?,
                at: r.string(&node, v::PROV_AT_TIME)?,
                comment: r.optional(&node, v::RDFS_COMMENT),
            })
        })
        .collect()
}

fn datasets(w: &mut Writer, s: &NamedOrBlankNode, accessions: &[String]) {
    for d in accessions {
        w.string(s, v::MUSUBI_DATASET, d);
    }
    w.strings(s, v::MUSUBI_DATASET_LIST, accessions);
}

fn user_class(r: &Reader, s: &NamedOrBlankNode) -> Result<UserClass, Malformed> {
    let name = r.string(s, v::MUSUBI_USER_CLASS)?;
    UserClass::parse(&name).ok_or_else(|| r.malformed(format!("{name:?} is not a user class")))
}

/// An access request's graph.
pub(crate) fn request_triples(q: &AccessRequest) -> Vec<Triple> {
    let mut w = Writer::default();
    let g = v::process_graph("request", &q.id);
    let s: NamedOrBlankNode = g.clone().into();
    w.add(s.clone(), v::RDF_TYPE, v::MUSUBI_ACCESS_REQUEST_CLASS.into_owned());
    w.string(&s, v::DCT_IDENTIFIER, &q.id);
    w.string(&s, v::MUSUBI_PROCESS_STATE, q.state.name());
    party(&mut w, &s, v::MUSUBI_REQUESTER, &q.requester);
    w.string(&s, v::MUSUBI_ORGANISATION, &q.organisation);
    w.string(&s, v::MUSUBI_USER_CLASS, q.user_class.name());
    w.string(&s, v::MUSUBI_PURPOSE, &q.purpose);
    let u = &q.research_use;
    w.strings(&s, v::MUSUBI_RESEARCH_DISEASE, &u.diseases);
    w.boolean(&s, v::MUSUBI_HEALTH_MEDICAL_BIOMEDICAL, u.health_medical_biomedical);
    w.boolean(&s, v::MUSUBI_POPULATION_ORIGINS, u.population_origins);
    w.boolean(&s, v::MUSUBI_METHODS_DEVELOPMENT, u.methods);
    w.boolean(&s, v::MUSUBI_COMMERCIAL_USE, u.commercial);
    w.string(&s, v::MUSUBI_INSTITUTION, &q.institution);
    w.typed(&s, v::MUSUBI_PERIOD_START, &q.period_start, v::XSD_DATE);
    w.typed(&s, v::MUSUBI_PERIOD_END, &q.period_end, v::XSD_DATE);
    w.strings(&s, v::MUSUBI_MEMBERS, &q.members);
    let mut requested = Vec::new();
    for d in &q.datasets {
        let node: NamedOrBlankNode = musubi_ontology::rdf::BlankNode::default().into();
        w.string(&node, v::MUSUBI_DATASET, &d.dataset);
        w.string(&node, v::MUSUBI_DUO_DECISION, d.verdict.as_str());
        w.string(&node, v::MUSUBI_DUO_RULE, &d.rule);
        w.list(&node, v::MUSUBI_CONDITION_LIST, d.conditions.iter().map(|c| NamedNode::new(c).map_or_else(|_| Literal::new_simple_literal(c).into(), Term::from)));
        w.string(&s, v::MUSUBI_DATASET, &d.dataset);
        requested.push(Term::from(node));
    }
    w.list(&s, v::MUSUBI_REQUESTED_DATASETS, requested);
    w.typed(&s, v::MUSUBI_SUBMITTED_AT, &q.submitted_at, v::XSD_DATE_TIME);
    transitions(&mut w, &s, &g, &q.transitions);
    w.optional(&s, v::MUSUBI_ISSUED_GRANT, q.grant.as_deref());
    w.triples
}

fn read_request(r: &Reader, s: &NamedOrBlankNode) -> Result<AccessRequest, Malformed> {
    let state = r.string(s, v::MUSUBI_PROCESS_STATE)?;
    let state = RequestState::parse(&state).ok_or_else(|| r.malformed(format!("{state:?} is not a request state")))?;
    let datasets = r
        .list(s, v::MUSUBI_REQUESTED_DATASETS)?
        .into_iter()
        .map(|item| {
            let node: NamedOrBlankNode = match item {
                Term::NamedNode(n) => n.into(),
                Term::BlankNode(b) => b.into(),
                other => return Err(r.malformed(format!("{other} is not a requested dataset"))),
            };
            let decision = r.string(&node, v::MUSUBI_DUO_DECISION)?;
            Ok(RequestedDataset {
                dataset: r.string(&node, v::MUSUBI_DATASET)?,
                verdict: Decision::parse(&decision).ok_or_else(|| r.malformed(format!("{decision:?} is not a DUO decision")))?,
                rule: r.string(&node, v::MUSUBI_DUO_RULE)?,
                conditions: r.strings(&node, v::MUSUBI_CONDITION_LIST)?,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(AccessRequest {
        id: r.string(s, v::DCT_IDENTIFIER)?,
        state,
        requester: read_party(r, s, v::MUSUBI_REQUESTER)?,
        organisation: r.string(s, v::MUSUBI_ORGANISATION)?,
        user_class: user_class(r, s)?,
        purpose: r.string(s, v::MUSUBI_PURPOSE)?,
        research_use: ResearchUse {
            diseases: r.strings(s, v::MUSUBI_RESEARCH_DISEASE)?,
            health_medical_biomedical: r.boolean(s, v::MUSUBI_HEALTH_MEDICAL_BIOMEDICAL)?,
            population_origins: r.boolean(s, v::MUSUBI_POPULATION_ORIGINS)?,
            methods: r.boolean(s, v::MUSUBI_METHODS_DEVELOPMENT)?,
            commercial: r.boolean(s, v::MUSUBI_COMMERCIAL_USE)?,
        },
        institution: r.string(s, v::MUSUBI_INSTITUTION)?,
        period_start: r.string(s, v::MUSUBI_PERIOD_START)?,
        period_end: r.string(s, v::MUSUBI_PERIOD_END)?,
        members: r.strings(s, v::MUSUBI_MEMBERS)?,
        datasets,
        submitted_at: r.string(s, v::MUSUBI_SUBMITTED_AT)?,
        transitions: read_transitions(r, s)?,
        grant: r.optional(s, v::MUSUBI_ISSUED_GRANT),
    })
}

/// An access grant's graph (an ODRL agreement).
pub(crate) fn grant_triples(g: &AccessGrant) -> Vec<Triple> {
    let mut w = Writer::default();
    let name = v::process_graph("grant", &g.id);
    let s: NamedOrBlankNode = name.clone().into();
    w.add(s.clone(), v::RDF_TYPE, v::ODRL_AGREEMENT.into_owned());
    w.string(&s, v::DCT_IDENTIFIER, &g.id);
    w.string(&s, v::MUSUBI_PROCESS_STATE, if g.revoked { "REVOKED" } else { "ISSUED" });
    w.string(&s, v::MUSUBI_GRANTED_REQUEST, &g.request);
    party(&mut w, &s, v::MUSUBI_GRANTEE, &g.grantee);
    w.string(&s, v::MUSUBI_ORGANISATION, &g.organisation);
    w.string(&s, v::MUSUBI_USER_CLASS, g.user_class.name());
    datasets(&mut w, &s, &g.datasets);
    w.typed(&s, v::DCT_ISSUED, &g.issued, v::XSD_DATE_TIME);
    w.typed(&s, v::MUSUBI_EXPIRES, &g.expires, v::XSD_DATE_TIME);
    w.boolean(&s, v::MUSUBI_REVOKED, g.revoked);
    transitions(&mut w, &s, &name, &g.transitions);
    w.triples
}

fn read_grant(r: &Reader, s: &NamedOrBlankNode) -> Result<AccessGrant, Malformed> {
    Ok(AccessGrant {
        id: r.string(s, v::DCT_IDENTIFIER)?,
        request: r.string(s, v::MUSUBI_GRANTED_REQUEST)?,
        grantee: read_party(r, s, v::MUSUBI_GRANTEE)?,
        organisation: r.string(s, v::MUSUBI_ORGANISATION)?,
        user_class: user_class(r, s)?,
        datasets: r.strings(s, v::MUSUBI_DATASET_LIST)?,
        issued: r.string(s, v::DCT_ISSUED)?,
        expires: r.string(s, v::MUSUBI_EXPIRES)?,
        revoked: r.boolean(s, v::MUSUBI_REVOKED)?,
        transitions: read_transitions(r, s)?,
    })
}

/// A research outcome's graph.
pub(crate) fn outcome_triples(o: &Outcome) -> Vec<Triple> {
    let mut w = Writer::default();
    let s = subject("outcome", &o.id);
    w.add(s.clone(), v::RDF_TYPE, v::MUSUBI_OUTCOME_CLASS.into_owned());
    w.string(&s, v::DCT_IDENTIFIER, &o.id);
    w.string(&s, v::MUSUBI_PROCESS_STATE, "REGISTERED");
    w.integer(&s, v::MUSUBI_SEQUENCE, o.sequence);
    w.string(&s, v::MUSUBI_OUTCOME_KIND, o.kind.name());
    w.string(&s, v::DCT_TITLE, &o.title);
    w.optional(&s, v::BIBO_DOI, o.doi.as_deref());
    w.optional(&s, v::BIBO_PMID, o.pmid.as_deref());
    w.optional(&s, v::MUSUBI_OUTCOME_IDENTIFIER, o.identifier.as_deref());
    datasets(&mut w, &s, &o.datasets);
    w.typed(&s, v::MUSUBI_REGISTERED_AT, &o.registered_at, v::XSD_DATE_TIME);
    w.string(&s, v::MUSUBI_REGISTERED_BY, &o.registered_by);
    w.triples
}

fn read_outcome(r: &Reader, s: &NamedOrBlankNode) -> Result<Outcome, Malformed> {
    let kind = r.string(s, v::MUSUBI_OUTCOME_KIND)?;
    Ok(Outcome {
        id: r.string(s, v::DCT_IDENTIFIER)?,
        sequence: r.integer(s, v::MUSUBI_SEQUENCE)?,
        kind: OutcomeKind::parse(&kind).ok_or_else(|| r.malformed(format!("{kind:?} is not an outcome kind")))?,
        title: r.string(s, v::DCT_TITLE)?,
        doi: r.optional(s, v::BIBO_DOI),
        pmid: r.optional(s, v::BIBO_PMID),
        identifier: r.optional(s, v::MUSUBI_OUTCOME_IDENTIFIER),
        datasets: r.strings(s, v::MUSUBI_DATASET_LIST)?,
        registered_at: r.string(s, v::MUSUBI_REGISTERED_AT)?,
        registered_by: r.string(s, v::MUSUBI_REGISTERED_BY)?,
    })
}
