//! CSV sources: JGA's real relation table, mapped with the shipped RML, row by row.

use musubi_connectors::source_graph;
use musubi_connectors::harvest;
use musubi_connectors::manifest::parse_manifest;
use musubi_ontology::rdf::{NamedNode, Term, Triple};
use musubi_store::{EmbeddedStore, GraphStore};
use musubi_ontology::vocab::{self, Vocabulary};

fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

#[tokio::test]
async fn jga_dataset_policy_relations_are_mapped_row_by_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = repo("tests/fixtures/jga/dataset-policy-relation.csv");
    let manifest = parse_manifest(
        &format!(
            "id = \"jga-relations\"\nkind = \"csv\"\nendpoint = \"{}\"\nmapping = \"{}\"\n[record]\nid = \"entry_id\"\n",
            csv.display(),
            repo("connectors/mappings/jga-dataset-policy.rml.ttl").display()
        ),
        &dir.path().join("jga.toml"),
    )
    .expect("manifest");
    let store = EmbeddedStore::in_memory();
    let report = harvest(&manifest, &store, &Vocabulary::builtin(), &reqwest::Client::new()).await.expect("harvest");

    // Every row of the file, read here with a plain split (the file has no quoted fields).
    let text = std::fs::read_to_string(&csv).expect("fixture");
    let rows: Vec<Vec<&str>> = text.lines().skip(1).filter(|l| !l.is_empty()).map(|l| l.split(',').collect()).collect();
    assert_eq!(report.records, rows.len());
    let graph = store.graph(source_graph("jga-relations").as_ref()).expect("graph");
    for row in &rows {
        let expected = Triple::new(
            NamedNode::new(format!("https://w3id.org/musubi/dataset/{}", row[1])).expect("iri"),
            vocab::ODRL_HAS_POLICY,
            NamedNode::new(format!("https://w3id.org/musubi/policy/{}", row[2])).expect("iri"),
        );
        assert!(graph.contains(&expected), "missing {expected}");
        // Provenance names the row.
        let subject = expected.subject.clone();
        assert!(graph.iter().any(|t| t.subject == subject
            && t.predicate.as_ref() == vocab::MUSUBI_SOURCE_RECORD_ID
            && t.object == Term::from(musubi_ontology::rdf::Literal::new_simple_literal(row[0]))));
    }
}

#[tokio::test]
async fn a_malformed_row_is_named_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("bad.csv"), "entry_id,self_accession,parent_accession\n1,JGAD000001,JGAP000001\n2,JGAD000002\n").expect("write");
    let manifest = parse_manifest(
        &format!("id = \"bad\"\nkind = \"csv\"\nendpoint = \"bad.csv\"\nmapping = \"{}\"\n", repo("connectors/mappings/jga-dataset-policy.rml.ttl").display()),
        &dir.path().join("bad.toml"),
    )
    .expect("manifest");
    let store = EmbeddedStore::in_memory();
    let err = harvest(&manifest, &store, &Vocabulary::builtin(), &reqwest::Client::new()).await.expect_err("bad row");
    assert!(err.to_string().contains("bad.csv") && err.to_string().contains("row 3"), "{err}");
    assert!(store.graph(source_graph("bad").as_ref()).expect("graph").is_empty());
}

/// A file of many rows is mapped on every core: each row's triples still carry that row's own
/// id (the ids are read in row order, the triples come back from the threads in row order too).
#[tokio::test]
async fn rows_mapped_on_several_threads_keep_their_own_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("entry_id,self_accession,parent_accession\n");
    for i in 0..500 {
        text.push_str(&format!("row-{i},JGAD{i:06},JGAP{:06}\n", 1000 + i));
    }
    std::fs::write(dir.path().join("many.csv"), text).expect("write");
    let manifest = parse_manifest(
        &format!(
            "id = \"many\"\nkind = \"csv\"\nendpoint = \"many.csv\"\nmapping = \"{}\"\n[record]\nid = \"entry_id\"\n",
            repo("connectors/mappings/jga-dataset-policy.rml.ttl").display()
        ),
        &dir.path().join("many.toml"),
    )
    .expect("manifest");
    let store = EmbeddedStore::in_memory();
    let report = harvest(&manifest, &store, &Vocabulary::builtin(), &reqwest::Client::new()).await.expect("harvest");
    assert_eq!(report.records, 500);
    let graph = store.graph(source_graph("many").as_ref()).expect("graph");
    for i in 0..500 {
        let dataset = NamedNode::new(format!("https://w3id.org/musubi/dataset/JGAD{i:06}")).expect("iri");
        let policy = NamedNode::new(format!("https://w3id.org/musubi/policy/JGAP{:06}", 1000 + i)).expect("iri");
        assert!(graph.contains(&Triple::new(dataset.clone(), vocab::ODRL_HAS_POLICY, policy)), "row {i}: its policy");
        let ids: Vec<&Term> = graph.iter().filter(|t| t.subject == dataset.clone().into() && t.predicate.as_ref() == vocab::MUSUBI_SOURCE_RECORD_ID).map(|t| &t.object).collect();
        assert_eq!(ids, vec![&Term::from(musubi_ontology::rdf::Literal::new_simple_literal(format!("row-{i}")))], "row {i}: its own id");
    }
}
