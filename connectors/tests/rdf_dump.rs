//! RDF dumps in each serialisation land in the source's graph with provenance.

use std::path::Path;

use musubi_connectors::manifest::parse_manifest;
use musubi_connectors::{harvest, source_status};
use musubi_read_model::SourceView;
use musubi_store::{EmbeddedStore, GraphStore};
use musubi_ontology::vocab::{self, AccessLevel, Vocabulary};

const NTRIPLES: &str = r#"<http://example.org/ds/nt> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/dcat#Dataset> .
<http://example.org/ds/nt> <http://purl.org/dc/terms/identifier> "NT-1" .
<http://example.org/ds/nt> <http://purl.org/dc/terms/title> "N-Triples dataset"@en .
"#;

const JSONLD: &str = r#"{
  "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/"},
  "@id": "http://example.org/ds/jsonld",
  "@type": "dcat:Dataset",
  "dct:identifier": "JSONLD-1",
  "dct:title": {"@value": "JSON-LD のデータセット", "@language": "ja"},
  "dct:accessRights": {"@id": "http://publications.europa.eu/resource/authority/access-right/PUBLIC"}
}"#;

#[tokio::test]
async fn n_triples_and_json_ld_files_are_harvested() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("dump");
    std::fs::create_dir_all(&dump).expect("mkdir");
    std::fs::write(dump.join("a.nt"), NTRIPLES).expect("write");
    std::fs::write(dump.join("b.jsonld"), JSONLD).expect("write");
    let manifest = parse_manifest("id = \"dump\"\nkind = \"rdf-dump\"\nendpoint = \"dump\"\n", &dir.path().join("dump.toml")).expect("manifest");

    let store = EmbeddedStore::in_memory();
    let report = harvest(&manifest, &store, &Vocabulary::builtin(), &reqwest::Client::new()).await.expect("harvest");
    assert_eq!(report.records, 2);

    let view = SourceView::from_triples("dump", store.graph(musubi_connectors::source_graph("dump").as_ref()).expect("graph"));
    let accessions: Vec<String> = view.datasets().map(|d| d.accession()).collect();
    assert_eq!(accessions, ["JSONLD-1", "NT-1"]);
    let jsonld = view.datasets().next().expect("dataset");
    assert_eq!(jsonld.first(vocab::DCT_TITLE), Some("JSON-LD のデータセット"));
    assert_eq!(jsonld.access_level(), Some(AccessLevel::Open));
    assert!(jsonld.first(vocab::MUSUBI_SOURCE_RECORD_URL).is_some_and(|u| u.ends_with("/dump/b.jsonld")));
    // The harvest time is the source's (its status), not a triple per record.
    assert!(jsonld.first(vocab::PROV_GENERATED_AT_TIME).is_none());
    let status = source_status(&store, "dump").expect("status");
    assert_eq!(status.record_count, Some(2));
    assert!(status.last_change.is_some());
}

#[tokio::test]
async fn an_empty_dump_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("empty.ttl"), "@prefix dct: <http://purl.org/dc/terms/> .\n").expect("write");
    let manifest = parse_manifest("id = \"e\"\nkind = \"rdf-dump\"\nendpoint = \"empty.ttl\"\n", &Path::new(dir.path()).join("e.toml")).expect("manifest");
    let store = EmbeddedStore::in_memory();
    let err = harvest(&manifest, &store, &Vocabulary::builtin(), &reqwest::Client::new()).await.expect_err("empty");
    assert!(err.to_string().contains("no records"), "{err}");
    assert!(store.graph(musubi_connectors::source_graph("e").as_ref()).expect("graph").is_empty());
    assert!(source_status(&store, "e").expect("status").last_error.is_some());
}

#[tokio::test]
async fn size_caps_per_document_and_per_harvest_hold() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("dump");
    std::fs::create_dir_all(&dump).expect("mkdir");
    std::fs::write(dump.join("a.nt"), NTRIPLES).expect("write");
    std::fs::write(dump.join("b.jsonld"), JSONLD).expect("write");
    let store = EmbeddedStore::in_memory();
    let run = |extra: &str| {
        let manifest = parse_manifest(&format!("id = \"dump\"\nkind = \"rdf-dump\"\nendpoint = \"dump\"\n{extra}\n"), &dir.path().join("dump.toml"))
            .expect("manifest");
        let store = &store;
        async move { harvest(&manifest, store, &Vocabulary::builtin(), &reqwest::Client::new()).await }
    };
    let smallest = NTRIPLES.len().min(JSONLD.len());
    let err = run(&format!("max_bytes = {}", smallest - 1)).await.expect_err("document cap");
    assert!(err.to_string().contains("larger than the cap"), "{err}");
    // Each document fits, both together do not.
    let err = run(&format!("max_harvest_bytes = {}", NTRIPLES.len() + JSONLD.len() - 1)).await.expect_err("harvest cap");
    assert!(err.to_string().contains("max_harvest_bytes"), "{err}");
    assert!(store.graph(musubi_connectors::source_graph("dump").as_ref()).expect("graph").is_empty());
    run(&format!("max_harvest_bytes = {}", NTRIPLES.len() + JSONLD.len())).await.expect("both fit");
    // Files are read as the harvest reaches them: the cap is met at the second, after the first
    // was read and parsed — the landed graph stays as it was.
    let landed = store.graph(musubi_connectors::source_graph("dump").as_ref()).expect("graph");
    assert!(!landed.is_empty());
    let err = run(&format!("max_harvest_bytes = {}", NTRIPLES.len() + JSONLD.len() - 1)).await.expect_err("harvest cap");
    assert!(err.to_string().contains("max_harvest_bytes"), "{err}");
    assert_eq!(store.graph(musubi_connectors::source_graph("dump").as_ref()).expect("graph"), landed);
}

#[tokio::test]
async fn gzip_dumps_are_read_and_broken_gzip_is_named() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(NTRIPLES.as_bytes()).expect("gzip");
    std::fs::write(dir.path().join("dump.nt.gz"), gz.finish().expect("gzip")).expect("write");
    let manifest = parse_manifest("id = \"gz\"\nkind = \"rdf-dump\"\nendpoint = \"dump.nt.gz\"\n", &dir.path().join("gz.toml")).expect("manifest");
    let store = EmbeddedStore::in_memory();
    let report = harvest(&manifest, &store, &Vocabulary::builtin(), &reqwest::Client::new()).await.expect("gzip dump");
    assert_eq!(report.records, 1);

    // A truncated archive is an error that names the file, and the last good graph stays.
    let full = std::fs::read(dir.path().join("dump.nt.gz")).expect("read");
    std::fs::write(dir.path().join("dump.nt.gz"), &full[..full.len() / 2]).expect("write");
    let err = harvest(&manifest, &store, &Vocabulary::builtin(), &reqwest::Client::new()).await.expect_err("truncated");
    assert!(err.to_string().contains("dump.nt.gz") && err.to_string().contains("gzip"), "{err}");
    assert!(!store.graph(musubi_connectors::source_graph("gz").as_ref()).expect("graph").is_empty());
}
