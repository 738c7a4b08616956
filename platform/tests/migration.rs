//! A data folder written before the crate split kept each process record as one JSON literal.
//! `fixtures/process-format-1.nq` is every process graph of such a folder, dumped with the
//! `oxigraph` CLI from a demo hub that the previous build (8efff8c) served: three access requests
//! (approved; approved and its grant revoked; withdrawn), two grants, two outcomes and a month of
//! usage counts. The ledger opens it, rewrites every graph as triples, and reads back the same
//! records, then and at every later open.

use std::sync::Arc;

use musubi_ontology::rdf::NamedNodeRef;
use musubi_ontology::vocab as v;
use musubi_platform::audit::{AuditLog, EntryFilter};
use musubi_platform::fees::{UsageKind, UserClass};
use musubi_platform::ledger::{GrantState, Ledger, OutcomeKind, RequestState};
use musubi_store::{EmbeddedStore, GraphStore};

fn format_1_store() -> Arc<EmbeddedStore> {
    let store = EmbeddedStore::in_memory();
    let nquads = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/process-format-1.nq")).expect("fixture");
    store.oxigraph().load_from_slice(oxigraph::io::RdfFormat::NQuads, &nquads).expect("N-Quads load");
    Arc::new(store)
}

/// How many triples of the process graphs use `predicate`.
fn using(store: &EmbeddedStore, predicate: NamedNodeRef<'_>) -> usize {
    store.graph_names().unwrap().iter().filter(|g| g.as_str().starts_with(v::PROCESS_GRAPH_PREFIX)).flat_map(|g| store.graph(g.as_ref()).unwrap()).filter(|t| t.predicate.as_ref() == predicate).count()
}

#[test]
fn a_format_1_folder_is_migrated_to_triples_and_reads_back_the_same_records() {
    let store = format_1_store();
    assert_eq!(using(&store, v::MUSUBI_PROCESS_RECORD_V1), 7, "the fixture is format 1");
    assert_eq!(using(&store, v::MUSUBI_USAGE_COUNTS_V1), 1);
    let audit = AuditLog::in_memory();
    let ledger = Ledger::open(store.clone(), &audit).expect("the ledger opens a format-1 store");

    // Every record, as the old build served it.
    let requests = ledger.requests();
    let states: Vec<RequestState> = requests.iter().map(|r| r.state).collect();
    assert_eq!(states, [RequestState::Approved, RequestState::Withdrawn, RequestState::Approved], "oldest first");
    let taro = requests.iter().find(|r| r.purpose == "Pharmacogenomics of warfarin dosing").expect("Taro's request");
    assert_eq!(taro.members, ["Taro Sato", "Jiro Suzuki"], "members keep their order");
    assert_eq!(taro.research_use.diseases, ["MONDO:0000645"]);
    assert!(taro.research_use.health_medical_biomedical && !taro.research_use.commercial);
    assert_eq!((taro.period_start.as_str(), taro.period_end.as_str()), ("2026-12-01", "2027-12-01"));
    assert_eq!(taro.user_class, UserClass::Academic);
    assert_eq!(taro.requester.subject, "apikey:0f37651a (taro)");
    let steps: Vec<(&str, Option<&str>, &str)> = taro.transitions.iter().map(|t| (t.action.as_str(), t.from.as_deref(), t.to.as_str())).collect();
    assert_eq!(steps, [("accessRequest.submit", None, "SUBMITTED"), ("accessRequest.approve", Some("SUBMITTED"), "APPROVED")]);
    assert_eq!(taro.transitions[1].comment.as_deref(), Some("ethics approval seen"));
    let pharma = requests.iter().find(|r| r.purpose == "Commercial screening").expect("the company's request");
    let asked: Vec<&str> = pharma.datasets.iter().map(|d| d.dataset.as_str()).collect();
    assert_eq!(asked, ["JGAD000002", "JGAD000001"], "requested datasets keep their order");
    let now = musubi_ontology::now();
    let grants = ledger.grants();
    assert_eq!(grants.len(), 2);
    let revoked = grants.iter().find(|g| Some(&g.id) == pharma.grant.as_ref()).expect("the company's grant");
    assert_eq!(revoked.state(&now), GrantState::Revoked);
    assert_eq!(revoked.datasets, ["JGAD000002", "JGAD000001"]);
    assert_eq!(revoked.transitions.last().map(|t| t.action.as_str()), Some("grant.revoke"));
    assert_eq!(revoked.expires, "2998-06-30T12:00:00Z");
    let active = ledger.active_grants("apikey:0f37651a (taro)", "api-key", &now);
    assert!(active.contains("JGAD000001"), "Taro's grant still gives CONTROLLED: {active:?}");
    let outcomes = ledger.outcomes();
    let kinds: Vec<(i64, OutcomeKind)> = outcomes.iter().map(|o| (o.sequence, o.kind)).collect();
    assert_eq!(kinds, [(1, OutcomeKind::Publication), (2, OutcomeKind::DerivedDataset)]);
    assert_eq!(outcomes[0].doi.as_deref(), Some("10.1234/warfarin"));
    assert_eq!(outcomes[1].identifier.as_deref(), Some("https://example.org/af"));
    let osaka = ledger.meter().counts("Osaka Pharma", "2026-12");
    assert_eq!(osaka.get(&(UserClass::Industry, UsageKind::LiveQuery)), Some(&4));
    assert_eq!(osaka.get(&(UserClass::Industry, UsageKind::Export)), Some(&1));

    // Rewritten as triples: no JSON left, the vocabulary's terms in its place.
    assert_eq!(using(&store, v::MUSUBI_PROCESS_RECORD_V1), 0);
    assert_eq!(using(&store, v::MUSUBI_USAGE_COUNTS_V1), 0);
    assert_eq!(using(&store, v::MUSUBI_TRANSITIONS), 5, "three requests and two grants list their steps");
    assert_eq!(using(&store, v::MUSUBI_USE_COUNT), 3, "Osaka's live queries and export, Tohoku's live queries");

    // A fresh audit log is given every committed step again (the reconciliation at open).
    let (entries, _, _) = audit.page(0, 100, &EntryFilter::default()).expect("page");
    assert_eq!(entries.len(), 3 + 2 + 1 + 2 + 1, "submit ×3, approve ×2, withdraw, issue ×2, revoke");

    // Opened again (from triples this time): the same records.
    let again = Ledger::open(store.clone(), &AuditLog::in_memory()).expect("reopens");
    assert_eq!(again.requests(), requests);
    assert_eq!(again.grants(), grants);
    assert_eq!(again.outcomes(), outcomes);
    assert_eq!(again.meter().counts("Osaka Pharma", "2026-12"), osaka);
}

#[test]
fn a_record_graph_that_lost_a_value_is_an_error_naming_the_graph_and_the_value() {
    let store = format_1_store();
    Ledger::open(store.clone(), &AuditLog::in_memory()).expect("migrates");
    let request = store.graph_names().unwrap().into_iter().find(|g| g.as_str().contains("/process/request/")).expect("a request graph");
    let kept: Vec<_> = store.graph(request.as_ref()).unwrap().into_iter().filter(|t| t.predicate.as_ref() != v::MUSUBI_PURPOSE).collect();
    store.replace(&[musubi_store::Replacement { graph: request.as_ref(), triples: &kept }]).unwrap();
    let err = Ledger::open(store, &AuditLog::in_memory()).expect_err("a request without its purpose");
    let said = err.to_string();
    assert!(said.contains(request.as_str()) && said.contains("purpose"), "{said}");
}
