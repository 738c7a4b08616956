//! SPARQL 1.1 endpoint sources against a real endpoint: the `oxigraph` server on loopback,
//! loaded with the FAIR Data Point and HealthDCAT-AP fixtures. Harvested page by page with a
//! CONSTRUCT, and with a SELECT mapped by RML; an endpoint that refuses the query loses nothing.

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use musubi_connectors::source_graph;
use musubi_gateway::app::{App, Parts, load_manifests};
use musubi_ontology::rdf::{Literal, NamedOrBlankNode, Term, Triple};
use musubi_store::{EmbeddedStore, GraphStore, Replacement};
use musubi_ontology::vocab::{self, Vocabulary};
use musubi_tests::{Partner, SparqlServer, dcat_datasets, fixture_files, graphql, mappings, turtle_fixture, write_manifests};
use serde_json::Value;

const FOLDERS: [&str; 2] = ["fair-data-point", "healthdcat-ap"];

/// A partner's query: every catalog and dataset with what is said of it, in a stable order.
const CATALOG_QUERY: &str = "PREFIX dcat: <http://www.w3.org/ns/dcat#>
# Catalogs and datasets, as the partner's store holds them (DCAT already).
CONSTRUCT { ?s ?p ?o } WHERE {
  VALUES ?type { dcat:Catalog dcat:Dataset }
  ?s a ?type ; ?p ?o .
}
ORDER BY ?s ?p ?o";

/// Triples per page: small, so that the fixtures take many pages.
const PAGE: usize = 10;

fn endpoint() -> SparqlServer {
    SparqlServer::start(&FOLDERS.iter().flat_map(|f| fixture_files(f)).collect::<Vec<_>>())
}

/// A hub over an in-memory store with the given manifests (written with their query files).
fn hub(dir: &std::path::Path, files: &[(&str, String)], manifests: &[(&str, String)]) -> (App, Arc<EmbeddedStore>) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write");
    }
    let sources = write_manifests(&dir.join("sources"), manifests);
    let store = Arc::new(EmbeddedStore::in_memory());
    let app = App::new(Parts::new(store.clone(), load_manifests(&sources).expect("manifests are valid"), Vocabulary::builtin())).expect("hub");
    (app, store)
}

/// The datasets a source serves over GraphQL: accession → sorted titles (value, language).
async fn served(addr: std::net::SocketAddr, source: &str) -> Vec<(String, Vec<(String, Value)>)> {
    let response = graphql(addr, &format!(r#"{{ datasets(first: 100, filter: {{ source: ["{source}"] }}) {{ nodes {{ accession title {{ value lang }} }} }} }}"#)).await;
    assert!(response.get("errors").is_none(), "{response}");
    let mut out: Vec<(String, Vec<(String, Value)>)> = response["data"]["datasets"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            let mut titles: Vec<(String, Value)> =
                n["title"].as_array().expect("titles").iter().map(|t| (t["value"].as_str().expect("value").to_owned(), t["lang"].clone())).collect();
            titles.sort_by(|a, b| a.0.cmp(&b.0));
            (n["accession"].as_str().expect("accession").to_owned(), titles)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn expected_datasets() -> Vec<(String, Vec<String>)> {
    let mut expected: Vec<(String, Vec<String>)> = FOLDERS.iter().flat_map(|f| dcat_datasets(f)).collect();
    expected.sort();
    expected
}

fn object<'a>(graph: &'a [Triple], subject: &NamedOrBlankNode, predicate: musubi_ontology::rdf::NamedNodeRef<'_>) -> Option<&'a Term> {
    graph.iter().find(|t| &t.subject == subject && t.predicate.as_ref() == predicate).map(|t| &t.object)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_construct_is_harvested_page_by_page_with_provenance() {
    let server = endpoint();
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = format!(
        "id = \"catalog\"\nkind = \"sparql\"\nendpoint = \"{}\"\nquery = \"../catalog.rq\"\nconstruct = [\"{}\"]\n[paging]\npage_size = {PAGE}\n",
        server.url,
        mappings().join("dcat.rq").display()
    );
    let (app, store) = hub(dir.path(), &[("catalog.rq", CATALOG_QUERY.to_owned())], &[("catalog.toml", manifest)]);
    let report = app.harvest(&[]).await.remove(0).1.expect("the SPARQL source is harvested");

    // Every fixture statement about a catalog or dataset is in the source's graph (blank nodes
    // aside: their labels hold within one answer only).
    let fixture: Vec<Triple> = FOLDERS.iter().flat_map(|f| fixture_files(f)).flat_map(|f| turtle_fixture(&f)).collect();
    let records: HashSet<NamedOrBlankNode> = fixture
        .iter()
        .filter(|t| {
            t.predicate.as_ref() == vocab::RDF_TYPE
                && [vocab::DCAT_CATALOG, vocab::DCAT_DATASET].iter().any(|c| t.object == Term::from(c.into_owned()))
        })
        .map(|t| t.subject.clone())
        .collect();
    // The endpoint keeps values in canonical form ("…+00:00" is "…Z"), as any oxigraph store does.
    let canonical = EmbeddedStore::in_memory();
    let described: Vec<Triple> =
        fixture.iter().filter(|t| records.contains(&t.subject) && !matches!(t.object, Term::BlankNode(_))).cloned().collect();
    canonical.replace(&[Replacement { graph: source_graph("fixture").as_ref(), triples: &described }]).expect("store");
    let canonical = canonical.graph(source_graph("fixture").as_ref()).expect("graph");
    let expected: HashSet<&Triple> = canonical.iter().collect();
    assert!(expected.len() > 5 * PAGE, "the fixtures must take several pages ({} statements)", expected.len());
    let graph = store.graph(source_graph("catalog").as_ref()).expect("graph");
    let stored: HashSet<&Triple> = graph.iter().collect();
    let missing: Vec<_> = expected.iter().filter(|t| !stored.contains(*t)).collect();
    assert!(missing.is_empty(), "{} of {} statements missing: {missing:?}", missing.len(), expected.len());
    assert_eq!(report.records, records.len(), "a record per catalog and dataset");

    // Each record has its provenance: its identifier, the endpoint (the harvest time is the
    // source's, kept in its status: a harvest writes nothing of a record that did not change).
    for record in &records {
        let id = match object(&fixture, record, vocab::DCT_IDENTIFIER) {
            Some(Term::Literal(l)) => l.value().to_owned(),
            _ => record.to_string().trim_matches(['<', '>']).to_owned(),
        };
        assert_eq!(object(&graph, record, vocab::MUSUBI_SOURCE_RECORD_ID), Some(&Term::from(Literal::new_simple_literal(&id))), "{record}");
        assert_eq!(object(&graph, record, vocab::MUSUBI_SOURCE_RECORD_URL).map(ToString::to_string), Some(format!("<{}>", server.url)));
        assert!(object(&graph, record, vocab::PROV_GENERATED_AT_TIME).is_none(), "{record}");
    }

    // Served over GraphQL like any other source, post-processed by dcat.rq.
    let addr = support::serve(app).await;
    let served = served(addr, "catalog").await;
    let accessions: Vec<(String, Vec<String>)> =
        served.iter().map(|(a, titles)| (a.clone(), titles.iter().map(|t| t.0.clone()).collect())).collect();
    assert_eq!(accessions, expected_datasets());
    let response = graphql(addr, r#"{ dataset(id: "http://example.com/dataset/1234567890") { accessLevel provenance { source harvestedAt } } sources { id lastChange } }"#).await;
    assert_eq!(response["data"]["dataset"]["accessLevel"], "CONTROLLED", "{response}");
    // When it was harvested: the last harvest that changed its source.
    let provenance = &response["data"]["dataset"]["provenance"][0];
    let source = response["data"]["sources"].as_array().expect("sources").iter().find(|s| s["id"] == provenance["source"]).expect("its source");
    assert!(provenance["harvestedAt"].is_string() && provenance["harvestedAt"] == source["lastChange"], "{response}");
}

#[tokio::test(flavor = "multi_thread")]
async fn select_rows_are_mapped_with_rml_page_by_page() {
    let server = endpoint();
    let dir = tempfile::tempdir().expect("tempdir");
    let query = "PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?accession ?title (LANG(?title) AS ?lang) WHERE {
  ?dataset a dcat:Dataset ; dct:identifier ?accession ; dct:title ?title .
}
ORDER BY ?accession ?title";
    let mapping = r#"@prefix rml: <http://w3id.org/rml/> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
<#Dataset> rml:logicalSource [ rml:referenceFormulation rml:JSONPath ] ;
  rml:subjectMap [ rml:template "https://w3id.org/musubi/dataset/{accession}" ; rml:class dcat:Dataset ] ;
  rml:predicateObjectMap [ rml:predicate dct:identifier ; rml:objectMap [ rml:reference "accession" ] ] ,
    [ rml:predicate dct:title ; rml:objectMap [ rml:reference "title" ; rml:languageMap [ rml:reference "lang" ] ] ] ."#;
    let manifest = format!(
        "id = \"rows\"\nkind = \"sparql\"\nendpoint = \"{}\"\nquery = \"../rows.rq\"\nmapping = \"../rows.rml.ttl\"\n\
         [paging]\npage_size = 2\n[record]\nid = \"accession\"\n",
        server.url
    );
    let (app, store) =
        hub(dir.path(), &[("rows.rq", query.to_owned()), ("rows.rml.ttl", mapping.to_owned())], &[("rows.toml", manifest)]);
    let report = app.harvest(&[]).await.remove(0).1.expect("the SPARQL source is harvested");

    let expected = expected_datasets();
    let titles: usize = expected.iter().map(|(_, t)| t.len()).sum();
    assert!(titles > 2 * 2, "the rows must take several pages");
    assert_eq!(report.records, titles, "a record per row");
    let addr = support::serve(app).await;
    let served = served(addr, "rows").await;
    let plain: Vec<(String, Vec<String>)> = served.iter().map(|(a, t)| (a.clone(), t.iter().map(|t| t.0.clone()).collect())).collect();
    assert_eq!(plain, expected);
    // Languages come through the selected LANG(); a title without one has none.
    let multilingual = &served.iter().find(|(a, _)| a == "http://example.test/dataset/1").expect("multilingual dataset").1;
    assert!(multilingual.iter().any(|t| t.1 == "nl") && multilingual.iter().any(|t| t.1 == "en"), "{multilingual:?}");
    let health = &served.iter().find(|(a, _)| a == "http://example.com/dataset/1234567890").expect("HealthDCAT-AP dataset").1;
    assert_eq!(health[0].1, Value::Null, "{health:?}");

    let graph = store.graph(source_graph("rows").as_ref()).expect("graph");
    let subject = NamedOrBlankNode::from(musubi_ontology::rdf::NamedNode::new("https://w3id.org/musubi/dataset/goNlSvR5").expect("iri"));
    assert_eq!(object(&graph, &subject, vocab::MUSUBI_SOURCE_RECORD_ID), Some(&Term::from(Literal::new_simple_literal("goNlSvR5"))));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_that_refuses_the_query_is_quoted_and_the_last_good_graph_stays() {
    let server = endpoint();
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = |id: &str, extra: &str| {
        (format!("{id}.toml"), format!("id = \"{id}\"\nkind = \"sparql\"\nendpoint = \"{}\"\nquery = \"../{id}.rq\"\n{extra}", server.url))
    };
    let (good, capped) = (manifest("catalog", "retries = 1\n"), manifest("capped", "max_bytes = 1000\n"));
    let (app, store) = hub(
        dir.path(),
        &[("catalog.rq", CATALOG_QUERY.to_owned()), ("capped.rq", CATALOG_QUERY.to_owned())],
        &[(good.0.as_str(), good.1.clone()), (capped.0.as_str(), capped.1.clone())],
    );
    app.harvest(&["catalog".to_owned()]).await.remove(0).1.expect("first harvest");
    let before = store.graph(source_graph("catalog").as_ref()).expect("graph").len();

    // The partner's query now calls a function this endpoint does not have.
    let refused = CATALOG_QUERY.replace("?s a ?type ; ?p ?o .", "?s a ?type ; ?p ?o . FILTER(<http://example.org/fn>(?o))");
    std::fs::write(dir.path().join("catalog.rq"), refused).expect("write");
    let error = app.harvest(&["catalog".to_owned()]).await.remove(0).1.expect_err("the endpoint refuses").to_string();
    assert!(error.starts_with(&format!("{}: the SPARQL endpoint refused the query", server.url)), "{error}");
    assert!(error.contains("The custom function <http://example.org/fn> is not supported"), "the server's own words: {error}");
    assert_eq!(store.graph(source_graph("catalog").as_ref()).expect("graph").len(), before, "nothing stored, nothing lost");

    // An answer over the per-answer cap is refused too, and named.
    let error = app.harvest(&["capped".to_owned()]).await.remove(0).1.expect_err("over the cap").to_string();
    assert!(error.contains(&server.url) && error.contains("larger than the cap of 1000 bytes"), "{error}");

    let addr = support::serve(app).await;
    let sources = graphql(addr, "{ sources { id lastError recordCount } }").await;
    let catalog = sources["data"]["sources"].as_array().expect("sources").iter().find(|s| s["id"] == "catalog").expect("catalog").clone();
    assert!(catalog["lastError"].as_str().is_some_and(|e| e.contains("is not supported")) && catalog["recordCount"].as_i64() > Some(0), "{catalog}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_that_ignores_offset_is_stopped_not_read_forever() {
    let partner = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = format!(
        "id = \"stuck\"\nkind = \"sparql\"\nendpoint = \"{}\"\nquery = \"../catalog.rq\"\n",
        partner.url("/sparql-ignoring-offset")
    );
    let (app, store) = hub(dir.path(), &[("catalog.rq", CATALOG_QUERY.to_owned())], &[("stuck.toml", manifest)]);
    let error = app.harvest(&[]).await.remove(0).1.expect_err("a partner that ignores OFFSET").to_string();
    assert!(error.contains("(OFFSET 1000)") && error.contains("ignore LIMIT/OFFSET"), "{error}");
    assert!(store.graph(source_graph("stuck").as_ref()).expect("graph").is_empty(), "nothing stored");
}
