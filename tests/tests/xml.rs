//! XML sources end to end: a partner on loopback serves JGA's real study set
//! (`fixtures/jga/jga-study.xml`), a manifest splits it into studies by XPath, a minimal RML
//! mapping (written here; the real JGA mappings are separate work) maps each study, and the hub
//! answers over GraphQL. Expected values are read from the fixture with plain string search, not
//! with the XPath engine under test.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use musubi_gateway::app::{App, Parts, load_manifests};
use musubi_store::EmbeddedStore;
use musubi_ontology::vocab::Vocabulary;
use musubi_tests::{Behaviour, Partner, fixtures, graphql, write_manifests};
use serde_json::Value;

/// Studies with their title, each PubMed publication, and the NBDC research page (from the
/// `STUDY_ATTRIBUTE` whose TAG is "NBDC Number") as a landing page. Publications are joined to
/// their study through the parent axis (`../../@accession`).
const MAPPING: &str = r#"
@prefix rml: <http://w3id.org/rml/> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix schema: <http://schema.org/> .
@prefix musubi: <https://w3id.org/musubi/vocab#> .
@prefix ex: <https://example.org/jga-study-test#> .

ex:Study a rml:TriplesMap ;
  rml:logicalSource [ rml:referenceFormulation rml:XPath ; rml:iterator "/STUDY_SET/STUDY" ] ;
  rml:subjectMap [ rml:template "https://w3id.org/musubi/study/{@accession}" ; rml:class musubi:Study ] ;
  rml:predicateObjectMap
    [ rml:predicate dct:identifier ; rml:objectMap [ rml:reference "@accession" ] ] ,
    [ rml:predicate dct:title ; rml:objectMap [ rml:reference "DESCRIPTOR/STUDY_TITLE" ; rml:language "en" ] ] ,
    [ rml:predicate dcat:landingPage ;
      rml:objectMap [ rml:template "https://humandbs.dbcls.jp/en/{STUDY_ATTRIBUTES/STUDY_ATTRIBUTE[TAG='NBDC Number']/VALUE}" ] ] ,
    [ rml:predicate dct:isReferencedBy ;
      rml:objectMap [ rml:parentTriplesMap ex:Publication ;
                      rml:joinCondition [ rml:child "@accession" ; rml:parent "../../@accession" ] ] ] .

ex:Publication a rml:TriplesMap ;
  rml:logicalSource [ rml:referenceFormulation rml:XPath ; rml:iterator "PUBLICATIONS/PUBLICATION[DB_TYPE='PUBMED']" ] ;
  rml:subjectMap [ rml:template "https://pubmed.ncbi.nlm.nih.gov/{@id}/" ; rml:class schema:ScholarlyArticle ] ;
  rml:predicateObjectMap [ rml:predicate dct:identifier ; rml:objectMap [ rml:reference "@id" ] ] .
"#;

/// One study of the fixture, read with string search.
#[derive(Debug, PartialEq)]
struct Study {
    accession: String,
    title: String,
    nbdc: Option<String>,
    publications: Vec<String>,
}

fn between<'t>(text: &'t str, open: &str, close: &str) -> Option<&'t str> {
    let start = text.find(open)? + open.len();
    Some(&text[start..start + text[start..].find(close)?])
}

fn fixture_studies() -> Vec<Study> {
    let text = std::fs::read_to_string(fixtures().join("jga/jga-study.xml")).expect("fixture");
    text.split("<STUDY alias=")
        .skip(1)
        .map(|block| Study {
            accession: between(block, "accession=\"", "\"").expect("accession").to_owned(),
            title: between(block, "<STUDY_TITLE>", "</STUDY_TITLE>").expect("title").to_owned(),
            nbdc: between(block, "<TAG>NBDC Number</TAG>", "</VALUE>").map(|v| v.trim().trim_start_matches("<VALUE>").to_owned()),
            publications: block.split("<PUBLICATION id=\"").skip(1).map(|p| p[..p.find('"').expect("id")].to_owned()).collect(),
        })
        .collect()
}

struct Setup {
    partner: Partner,
    app: App,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

fn manifest(dir: &std::path::Path, endpoint: &str) -> String {
    let mapping = dir.join("jga-study.rml.ttl");
    std::fs::write(&mapping, MAPPING).expect("mapping");
    format!(
        "id = \"jga-studies\"\nname = \"JGA studies (XML)\"\nkind = \"xml\"\nendpoint = \"{endpoint}\"\nmapping = \"{}\"\n\
         [paging]\nrecords = \"/STUDY_SET/STUDY\"\n[record]\nid = \"@accession\"\n\
         url = \"https://ddbj.nig.ac.jp/search/entry/jga-study/{{@accession}}\"\n",
        mapping.display()
    )
}

async fn hub() -> Setup {
    let partner = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let text = manifest(dir.path(), &partner.url("/files/jga/jga-study.xml"));
    let sources = write_manifests(&dir.path().join("sources"), &[("jga-studies.toml", text)]);
    let manifests = load_manifests(&sources).expect("manifest is valid");
    let app = App::new(Parts::new(Arc::new(EmbeddedStore::in_memory()), manifests, Vocabulary::builtin())).expect("hub starts");
    let addr = support::serve(app.clone()).await;
    Setup { partner, app, addr, _dir: dir }
}

const STUDIES: &str = "{ studies(first: 100) { accession title { value lang } landingPages publications { iri } \
                       provenance { sourceRecordId sourceRecordUrl } } }";

fn studies(response: &Value) -> &Vec<Value> {
    assert!(response.get("errors").is_none(), "unexpected errors: {response}");
    response["data"]["studies"].as_array().expect("studies")
}

#[tokio::test]
async fn jga_study_xml_is_split_into_studies_mapped_and_served() {
    let setup = hub().await;
    for (source, outcome) in setup.app.harvest(&[]).await {
        let report = outcome.unwrap_or_else(|e| panic!("{source} failed: {e}"));
        assert_eq!(report.records, fixture_studies().len());
    }
    let response = graphql(setup.addr, STUDIES).await;
    let served = studies(&response);
    let expected = fixture_studies();
    assert_eq!(served.len(), expected.len(), "{response}");
    assert!(expected.iter().any(|s| s.publications.len() > 1) && expected.iter().any(|s| s.nbdc.is_none()), "the fixture covers both");
    for study in &expected {
        let node = served.iter().find(|n| n["accession"] == study.accession.as_str()).unwrap_or_else(|| panic!("{} missing: {response}", study.accession));
        assert_eq!(node["title"], serde_json::json!([{ "value": study.title, "lang": "en" }]), "{node}");
        let pages: Vec<String> = study.nbdc.iter().map(|n| format!("https://humandbs.dbcls.jp/en/{n}")).collect();
        assert_eq!(node["landingPages"], serde_json::json!(pages), "{node}");
        let mut publications: Vec<&str> = node["publications"].as_array().expect("publications").iter().map(|p| p["iri"].as_str().expect("iri")).collect();
        publications.sort_unstable();
        let mut wanted: Vec<String> = study.publications.iter().map(|id| format!("https://pubmed.ncbi.nlm.nih.gov/{id}/")).collect();
        wanted.sort_unstable();
        assert_eq!(publications, wanted, "{} publications (no other study's): {node}", study.accession);
        // Per-record provenance: the study's own id and URL at the source.
        assert_eq!(node["provenance"][0]["sourceRecordId"], study.accession.as_str(), "{node}");
        assert_eq!(node["provenance"][0]["sourceRecordUrl"], format!("https://ddbj.nig.ac.jp/search/entry/jga-study/{}", study.accession), "{node}");
    }
}

#[tokio::test]
async fn connector_check_lists_the_xml_the_mapping_leaves_unmapped() {
    let setup = hub().await;
    let store = EmbeddedStore::in_memory();
    let report = musubi_connectors::check::check(&setup.app.manifests()[0], &store, &Vocabulary::builtin(), &reqwest::Client::new())
        .await
        .expect("check runs");
    let total = fixture_studies().len();
    assert_eq!((report.records, report.added.len()), (total, total));
    let unmapped: std::collections::BTreeMap<&str, usize> = report.unmapped.iter().map(|(f, n)| (f.as_str(), *n)).collect();
    // Every study has an abstract and a type; the mapping reads neither.
    assert_eq!(unmapped.get("DESCRIPTOR/STUDY_ABSTRACT"), Some(&total), "{unmapped:?}");
    assert_eq!(unmapped.get("DESCRIPTOR/STUDY_TYPES/STUDY_TYPE/@existing_study_type"), Some(&total), "{unmapped:?}");
    assert!(unmapped.contains_key("@alias") && unmapped.contains_key("GRANTS/GRANT/TITLE"), "{unmapped:?}");
    // What it reads is not listed: attributes, nested elements, the TAG its predicate compares.
    for read in ["@accession", "DESCRIPTOR/STUDY_TITLE", "PUBLICATIONS/PUBLICATION/@id", "PUBLICATIONS/PUBLICATION/DB_TYPE", "STUDY_ATTRIBUTES/STUDY_ATTRIBUTE/TAG"] {
        assert!(!unmapped.contains_key(read), "{read} is read: {unmapped:?}");
    }
    // Other attributes' values are not read ("Principal Investigator", …), in the studies that have them.
    let with_other_attributes = std::fs::read_to_string(fixtures().join("jga/jga-study.xml"))
        .expect("fixture")
        .split("<STUDY alias=")
        .filter(|b| b.matches("<TAG>").count() > b.matches("<TAG>NBDC Number</TAG>").count())
        .count();
    assert_eq!(unmapped.get("STUDY_ATTRIBUTES/STUDY_ATTRIBUTE/VALUE").copied().unwrap_or(0), with_other_attributes, "{unmapped:?}");
}

#[tokio::test]
async fn malformed_xml_is_named_with_url_line_and_column_and_the_last_good_graph_stays() {
    let setup = hub().await;
    support::harvest_all(&setup.app).await;
    let before = graphql(setup.addr, STUDIES).await;
    assert!(!studies(&before).is_empty());

    // The partner's export breaks off mid-document: the parser stops at its end.
    setup.partner.behave(Behaviour::Truncated);
    let outcomes = setup.app.harvest(&[]).await;
    let error = outcomes[0].1.as_ref().expect_err("a truncated document is refused").to_string();
    let text = std::fs::read_to_string(fixtures().join("jga/jga-study.xml")).expect("fixture");
    let half = &text[..text.len() / 2];
    let last_line = half.matches('\n').count() + 1;
    assert!(error.contains(&setup.partner.url("/files/jga/jga-study.xml")), "names the URL: {error}");
    assert!(error.contains(&format!("not well-formed XML at line {last_line} column ")), "names line and column: {error}");
    assert_eq!(graphql(setup.addr, STUDIES).await, before, "nothing of the broken document is stored");
    let sources = graphql(setup.addr, "{ sources { id lastError recordCount } }").await;
    let status = &sources["data"]["sources"][0];
    assert!(status["lastError"].as_str().is_some_and(|e| e.contains("not well-formed XML")), "{status}");
    assert_eq!(status["recordCount"], fixture_studies().len());
}

#[tokio::test]
async fn gzip_xml_files_in_a_folder_are_read_and_a_broken_one_stores_nothing() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("export");
    std::fs::create_dir(&folder).expect("folder");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(fixtures().join("jga/jga-study.xml")).expect("fixture")).expect("gzip");
    std::fs::write(folder.join("jga-study.xml.gz"), gz.finish().expect("gzip")).expect("write");
    let manifest = musubi_connectors::manifest::parse_manifest(&manifest(dir.path(), "export"), &dir.path().join("jga.toml")).expect("manifest");
    let store = EmbeddedStore::in_memory();
    let client = reqwest::Client::new();
    let report = musubi_connectors::harvest(&manifest, &store, &Vocabulary::builtin(), &client).await.expect("gzip XML is read");
    assert_eq!(report.records, fixture_studies().len());

    // A second file in the folder that is not XML at all fails the harvest, named by file, line
    // and column; the graph of the first harvest stays as it was.
    use musubi_store::GraphStore;
    let graph = musubi_connectors::source_graph("jga-studies");
    let before = store.graph(graph.as_ref()).expect("graph");
    std::fs::write(folder.join("notes.xml"), "<STUDY_SET>\n  <STUDY accession=\"JGAS9\">\n</STUDY_SET>\n").expect("write");
    let error = musubi_connectors::harvest(&manifest, &store, &Vocabulary::builtin(), &client).await.expect_err("broken XML").to_string();
    assert!(error.contains("notes.xml") && error.contains("not well-formed XML at line 3 column 1"), "{error}");
    assert_eq!(store.graph(graph.as_ref()).expect("graph"), before);
}
