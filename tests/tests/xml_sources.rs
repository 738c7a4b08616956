//! The shipped XML mappings (DDBJ BioProject and BioSample, EGA) and the BioSample JSON-LD one,
//! over a partner on loopback serving the real fixtures: what a user looks for arrives through
//! GraphQL, a BioProject harvested as JSON-LD and as XML is one record, samples show under their
//! study, and `connector check` finds no field dropped without a reason. Expected values are read
//! from the fixtures with plain string search, not with the XPath engine under test.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use musubi_gateway::app::{App, Parts, load_manifests};
use musubi_store::{EmbeddedStore, GraphStore};
use musubi_ontology::vocab::Vocabulary;
use musubi_schema::Principal;
use musubi_tests::{Partner, fixtures, graphql, mappings, shipped_check, write_manifests};
use serde_json::Value;

/// A partner's statement that BioProject PRJDB1640 exists (the BioProject fixture holds other
/// projects; the BioSample fixture's first sample names this one).
const PRJDB1640: &str = "@prefix m: <https://w3id.org/musubi/vocab#> . @prefix dct: <http://purl.org/dc/terms/> .\n\
    <https://w3id.org/musubi/study/PRJDB1640> a m:Study ; dct:identifier \"PRJDB1640\" ; dct:title \"PRJDB1640\"@en .\n";

/// The BioSample manifests' post-processing (human samples are sensitive), as the demo's.
const BIOSAMPLE_RQ: &str = concat!("construct = [\"", env!("CARGO_MANIFEST_DIR"), "/../connectors/mappings/biosample.rq\"]\n");

fn manifest(id: &str, kind: &str, endpoints: &[String], mapping: &str, head: &str, demo: &str) -> (String, String) {
    let endpoints: Vec<String> = endpoints.iter().map(|e| format!("\"{e}\"")).collect();
    let mapping = if mapping.is_empty() { String::new() } else { format!("mapping = \"{}\"\n", mappings().join(mapping).display()) };
    let check = if demo.is_empty() { String::new() } else { shipped_check(demo) };
    (format!("{id}.toml"), format!("id = \"{id}\"\nkind = \"{kind}\"\nendpoint = [{}]\n{mapping}{head}\n{check}", endpoints.join(", ")))
}

fn sources(partner: &Partner, dir: &std::path::Path) -> Vec<(String, String)> {
    let file = |p: &str| partner.url(&format!("/files/{p}"));
    let ega = |what: &str, file_name: &str, records: &str, demo: &str| {
        let construct = if what == "policy" { format!("construct = [\"{}\"]\n", mappings().join("ega.rq").display()) } else { String::new() };
        manifest(
            demo.trim_end_matches(".toml"),
            "xml",
            &[partner.url(&format!("/files/ega/xml/{file_name}"))],
            &format!("ega-{what}-xml.rml.ttl"),
            &format!("{construct}[paging]\nrecords = \"{records}\"\n[record]\nid = [\"@accession\", \"@alias\"]"),
            demo,
        )
    };
    let stub = dir.join("prjdb1640.ttl");
    std::fs::write(&stub, PRJDB1640).expect("write");
    vec![
        manifest(
            "ddbj-bioproject-xml",
            "xml",
            &[file("ddbj/bioproject/ddbj_core_bioproject.xml"), file("ddbj/bioproject-xml/PRJNA13193.xml")],
            "ddbj-bioproject-xml.rml.ttl",
            "[paging]\nrecords = \"/PackageSet/Package\"\n[record]\nid = \"Project/Project/ProjectID/ArchiveID/@accession\"",
            "ddbj-bioproject-xml.toml",
        ),
        manifest(
            "ddbj-bioproject",
            "json-api",
            &[file("ddbj/bioproject-jsonld/PRJNA13193.jsonld")],
            "ddbj-bioproject.rml.ttl",
            "[record]\nid = \"identifier\"",
            "ddbj-bioproject.toml",
        ),
        manifest(
            "ddbj-biosample-xml",
            "xml",
            &[file("ddbj/biosample/ddbj_biosample_set.xml")],
            "ddbj-biosample-xml.rml.ttl",
            &format!("{BIOSAMPLE_RQ}[paging]\nrecords = \"/BioSampleSet/BioSample\"\n[record]\nid = \"Ids/Id[@namespace = 'BioSample']\""),
            "ddbj-biosample-xml.toml",
        ),
        manifest(
            "ddbj-biosample",
            "json-api",
            &[file("ddbj/biosample-jsonld/SAMN19993849.jsonld")],
            "ddbj-biosample.rml.ttl",
            &format!("{BIOSAMPLE_RQ}[record]\nid = \"identifier\""),
            "ddbj-biosample.toml",
        ),
        ega("dataset", "dataset.xml", "/DATASETS/DATASET", "ega-datasets-xml.toml"),
        ega("policy", "policy.xml", "/POLICY_SET/POLICY", "ega-policies-xml.toml"),
        ega("dac", "dac.xml", "/DAC_SET/DAC", "ega-dacs-xml.toml"),
        ega("study", "study.xml", "/STUDY_SET/STUDY", "ega-studies-xml.toml"),
        manifest("bioproject-stub", "rdf-dump", &[stub.display().to_string()], "", "", ""),
    ]
}

struct Setup {
    app: App,
    store: Arc<EmbeddedStore>,
    addr: SocketAddr,
    _partner: Partner,
    _dir: tempfile::TempDir,
}

async fn hub() -> Setup {
    let partner = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let manifests: Vec<(String, String)> = sources(&partner, dir.path());
    let refs: Vec<(&str, String)> = manifests.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let folder = write_manifests(&dir.path().join("sources"), &refs);
    let store = Arc::new(EmbeddedStore::in_memory());
    let app = App::new(Parts::new(store.clone(), load_manifests(&folder).expect("manifests"), Vocabulary::builtin())).expect("hub");
    support::harvest_all(&app).await;
    let addr = support::serve(app.clone()).await;
    Setup { app, store, addr, _partner: partner, _dir: dir }
}

/// A query as `principal` (the gateway's HTTP layer is what the anonymous queries go through).
async fn ask(app: &App, principal: &Principal, query: &str) -> Value {
    let response = app.execute(async_graphql::Request::new(query), principal.clone()).await.expect("audit log written");
    serde_json::to_value(response).expect("JSON")
}

fn data(response: &Value) -> &Value {
    assert!(response.get("errors").is_none(), "unexpected errors: {response}");
    &response["data"]
}

fn between<'t>(text: &'t str, open: &str, close: &str) -> Option<&'t str> {
    let start = text.find(open)? + open.len();
    Some(&text[start..start + text[start..].find(close)?])
}

fn fixture(path: &str) -> String {
    std::fs::read_to_string(fixtures().join(path)).expect("fixture")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bioprojects_from_xml_arrive_and_the_same_project_from_json_ld_is_one_record() {
    let setup = hub().await;
    let xml = fixture("ddbj/bioproject/ddbj_core_bioproject.xml");
    let packages: Vec<&str> = xml.split("<Package>").skip(1).collect();
    assert_eq!(packages.len(), 10);
    for package in packages {
        let accession = between(package, "accession=\"", "\"").expect("accession");
        let query = format!(
            r#"{{ study(id: "{accession}") {{ title {{ value }} organismNames keywords releaseDate grants {{ title {{ value }} }}
                 publications {{ pmid doi }} relatedPages attributes {{ label value }} }} }}"#
        );
        let response = graphql(setup.addr, &query).await;
        let study = &data(&response)["study"];
        assert_eq!(study["title"][0]["value"], between(package, "<Title>", "</Title>").expect("title"), "{accession}: {study}");
        assert_eq!(study["organismNames"][0], between(package, "<OrganismName>", "</OrganismName>").expect("organism"), "{study}");
        assert_eq!(study["releaseDate"], between(package, "<ProjectReleaseDate>", "</ProjectReleaseDate>").expect("date"), "{study}");
        let grants = package.matches("<Grant ").count();
        assert_eq!(study["grants"].as_array().expect("grants").len(), grants, "{accession}: every grant: {study}");
        let pmids = package.matches("<DbType>ePubmed</DbType>").count();
        let dois = package.matches("<DbType>eDOI</DbType>").count();
        let publications = study["publications"].as_array().expect("publications");
        assert_eq!(publications.iter().filter(|p| !p["pmid"].is_null()).count(), pmids, "{accession}: {study}");
        assert_eq!(publications.iter().filter(|p| !p["doi"].is_null()).count(), dois, "{accession}: {study}");
        assert_eq!(study["relatedPages"].as_array().expect("pages").len(), package.matches("<URL>").count(), "{study}");
        for area in ["Medical", "Agricultural", "Evolution", "Environmental"] {
            let relevant = package.contains(&format!("<{area}>yes</{area}>"));
            assert_eq!(study["keywords"].as_array().expect("keywords").iter().any(|k| k == area), relevant, "{accession} {area}: {study}");
        }
        if let Some(cultivar) = between(package, "<Cultivar>", "</Cultivar>") {
            assert!(study["attributes"].as_array().expect("attributes").iter().any(|a| a["label"] == "Cultivar" && a["value"] == cultivar), "{study}");
        }
    }

    // PRJNA13193 from DDBJ's JSON-LD and from BioProject XML: one record, both sources.
    let response = graphql(setup.addr, r#"{ study(id: "PRJNA13193") { sources title { value } organismNames } }"#).await;
    let study = &data(&response)["study"];
    assert_eq!(study["sources"], serde_json::json!(["ddbj-bioproject", "ddbj-bioproject-xml"]), "{study}");
    let studies = graphql(setup.addr, "{ studies(first: 100) { accession } }").await;
    let accessions: Vec<&Value> = data(&studies)["studies"].as_array().expect("studies").iter().map(|s| &s["accession"]).collect();
    assert_eq!(accessions.iter().filter(|a| **a == "PRJNA13193").count(), 1, "{studies}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_arrive_under_their_study_and_their_attributes_are_registered_only() {
    let setup = hub().await;
    let xml = fixture("ddbj/biosample/ddbj_biosample_set.xml");
    let first = xml.split("<BioSample ").nth(1).expect("a sample");
    let accession = between(first, "is_primary=\"1\">", "</Id>").expect("accession");
    let project = between(first, "attribute_name=\"bioproject_id\">", "</Attribute>").expect("project");
    let query = format!(
        r#"{{ study(id: "{project}") {{ samples {{ accession title {{ value }} organismNames models studyAccessions sources }} }}
             sample(id: "{accession}") {{ characteristics {{ label value }} }} }}"#
    );
    // Anonymous: the sample and its project link are public, its attributes are not.
    let response = graphql(setup.addr, &query).await;
    let samples = &response["data"]["study"]["samples"];
    assert_eq!(samples.as_array().map(Vec::len), Some(1), "{response}");
    assert_eq!(samples[0]["accession"], accession);
    assert_eq!(samples[0]["title"][0]["value"], between(first, "<Title>", "</Title>").expect("title"));
    assert_eq!(samples[0]["organismNames"][0], between(first, "<OrganismName>", "</OrganismName>").expect("organism"));
    assert_eq!(samples[0]["models"][0], between(first, "<Model>", "</Model>").expect("model"));
    assert_eq!(samples[0]["studyAccessions"], serde_json::json!([project]));
    assert!(response["data"]["sample"]["characteristics"].is_null(), "anonymous callers see no attributes: {response}");
    assert!(response.to_string().contains("this field needs the REGISTERED tier"), "{response}");

    // A registered researcher reads every attribute, as label/value pairs.
    let registered = Principal { tier: musubi_ontology::tier::Tier::Registered, ..Principal::anonymous() };
    let answer = ask(&setup.app, &registered, &query).await;
    let characteristics = data(&answer)["sample"]["characteristics"].as_array().expect("characteristics").clone();
    // Each of this sample's attributes with its own value (none of another sample's).
    let mut expected: Vec<(String, String)> = first
        .split("<Attribute attribute_name=\"")
        .skip(1)
        .map(|a| (a[..a.find('"').expect("name")].to_owned(), between(a, ">", "</Attribute>").expect("value").to_owned()))
        .collect();
    let mut shown: Vec<(String, String)> =
        characteristics.iter().map(|c| (c["label"].as_str().expect("label").to_owned(), c["value"].as_str().expect("value").to_owned())).collect();
    expected.sort();
    shown.sort();
    assert_eq!(shown, expected);

    // A sample from a human host is sensitive: its attributes are for stewards only.
    let human = xml.split("<BioSample ").find(|b| b.contains("<Attribute attribute_name=\"host\">Homo sapiens</Attribute>")).expect("a human-host sample");
    let human_id = between(human, "is_primary=\"1\">", "</Id>").expect("accession");
    let query = format!(r#"{{ sample(id: "{human_id}") {{ title {{ value }} characteristics {{ label }} }} }}"#);
    let answer = ask(&setup.app, &registered, &query).await;
    assert!(answer["data"]["sample"]["characteristics"].is_null() && answer.to_string().contains("CONTROLLED"), "{answer}");
    assert_eq!(answer["data"]["sample"]["title"][0]["value"], between(human, "<Title>", "</Title>").expect("title"));

    // The JSON-LD sample: its BioProject links, SRA accessions and attributes.
    let json: Value = serde_json::from_str(&fixture("ddbj/biosample-jsonld/SAMN19993849.jsonld")).expect("JSON");
    let steward = Principal { tier: musubi_ontology::tier::Tier::Steward, ..Principal::anonymous() };
    let answer = ask(&setup.app, &steward, r#"{ sample(id: "SAMN19993849") { title { value } studyAccessions characteristics { label value } contactPoints { name { value } email } } }"#).await;
    let sample = &data(&answer)["sample"];
    assert_eq!(sample["title"][0]["value"], json["title"]);
    let mut projects: Vec<&str> = json["dbXrefs"].as_array().expect("xrefs").iter().filter(|x| x["type"] == "bioproject").map(|x| x["identifier"].as_str().expect("id")).collect();
    projects.sort_unstable();
    let mut shown: Vec<&str> = sample["studyAccessions"].as_array().expect("accessions").iter().map(|a| a.as_str().expect("str")).collect();
    shown.sort_unstable();
    assert_eq!(shown, projects);
    assert_eq!(sample["characteristics"].as_array().expect("list").len(), json["attribute"].as_array().expect("attributes").len());
    let contact = &json["properties"]["Owner"]["Contacts"]["Contact"][0];
    let name = format!("{} {}", contact["Name"]["First"].as_str().expect("first"), contact["Name"]["Last"].as_str().expect("last"));
    assert_eq!(sample["contactPoints"], serde_json::json!([{ "name": [{ "value": name }], "email": contact["email"] }]), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ega_xml_records_arrive_in_the_shape_of_the_json_ones() {
    let setup = hub().await;
    let dataset_xml = fixture("ega/xml/dataset.xml");
    let alias = between(&dataset_xml, "<DATASET alias=\"", "\"").expect("alias");
    let query = format!(r#"{{ dataset(id: "{alias}") {{ iri title {{ value }} type {{ value }} attributes {{ label value }} relations relatedPages }} }}"#);
    let response = graphql(setup.addr, &query).await;
    let dataset = &data(&response)["dataset"];
    let center = between(&dataset_xml, "center_name=\"", "\"").expect("centre");
    // The IRI the JSON mapping mints from centre and alias ("!" IRI-safe encoded by the template).
    assert_eq!(dataset["iri"], format!("https://w3id.org/musubi/ega/{center}/{}", alias.replace('!', "%21")));
    assert_eq!(dataset["title"][0]["value"], between(&dataset_xml, "<TITLE>", "</TITLE>").expect("title"));
    assert_eq!(dataset["type"][0]["value"], between(&dataset_xml, "<DATASET_TYPE>", "</DATASET_TYPE>").expect("type"));
    assert_eq!(dataset["attributes"][0]["label"], between(&dataset_xml, "<TAG>", "</TAG>").expect("tag"));
    assert_eq!(dataset["relations"], serde_json::json!([between(&dataset_xml, "<POLICY_REF accession=\"", "\"").expect("policy")]));
    assert_eq!(dataset["relatedPages"].as_array().expect("pages").len(), dataset_xml.matches("<URL>").count());

    let study_xml = fixture("ega/xml/study.xml");
    let alias = between(&study_xml, "<STUDY alias=\"", "\"").expect("alias");
    let response = graphql(setup.addr, &format!(r#"{{ study(id: "{alias}") {{ title {{ value }} projectNames {{ value }} relations attributes {{ label }} }} }}"#)).await;
    let study = &data(&response)["study"];
    assert_eq!(study["title"][0]["value"], between(&study_xml, "<STUDY_TITLE>", "</STUDY_TITLE>").expect("title"));
    assert_eq!(study["projectNames"][0]["value"], between(&study_xml, "<CENTER_PROJECT_NAME>", "</CENTER_PROJECT_NAME>").expect("project"));
    assert_eq!(study["relations"].as_array().expect("relations").len(), study_xml.matches("<LABEL>").count(), "{study}");
    assert_eq!(study["attributes"].as_array().expect("attributes").len(), study_xml.matches("<TAG>").count(), "{study}");

    // The policy's DUO code, as a DUO IRI (ega.rq), as for the JSON policies.
    let policy_xml = fixture("ega/xml/policy.xml");
    let code = between(&policy_xml, "code=\"", "\"").expect("code");
    let graph = setup.store.graph(musubi_connectors::source_graph("ega-policies-xml").as_ref()).expect("graph");
    assert!(graph.iter().any(|t| t.object.to_string() == format!("<http://purl.obolibrary.org/obo/DUO_{code}>")), "{graph:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_check_finds_no_field_dropped_without_a_reason() {
    let setup = hub().await;
    let client = reqwest::Client::new();
    for manifest in setup.app.manifests().iter().filter(|m| m.id != "bioproject-stub") {
        let report = musubi_connectors::check::check(manifest, &EmbeddedStore::in_memory(), &Vocabulary::builtin(), &client).await.expect("check runs");
        assert!(report.records > 0, "{}", manifest.id);
        assert_eq!(report.unmapped, Vec::<(String, usize)>::new(), "{}: unmapped fields", manifest.id);
        assert!(report.violations.is_empty(), "{}: {:?}", manifest.id, report.violations);
        assert!(report.unused_ignores.is_empty(), "{}: stale ignores {:?}", manifest.id, report.unused_ignores);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_human_sample_in_json_ld_is_sensitive_too() {
    // The real JSON-LD sample, its organism made human (the fixture's is an ant fungus garden).
    let mut json: Value = serde_json::from_str(&fixture("ddbj/biosample-jsonld/SAMN19993849.jsonld")).expect("JSON");
    json["organism"] = serde_json::json!({ "identifier": 9606, "name": "Homo sapiens" });
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("SAMN19993849.jsonld");
    std::fs::write(&file, json.to_string()).expect("write");
    let (name, text) = manifest("ddbj-biosample", "json-api", &[file.display().to_string()], "ddbj-biosample.rml.ttl", &format!("{BIOSAMPLE_RQ}[record]\nid = \"identifier\""), "");
    let folder = write_manifests(&dir.path().join("sources"), &[(name.as_str(), text)]);
    let app = App::new(Parts::new(Arc::new(EmbeddedStore::in_memory()), load_manifests(&folder).expect("manifests"), Vocabulary::builtin())).expect("hub");
    support::harvest_all(&app).await;
    let query = r#"{ sample(id: "SAMN19993849") { organismNames characteristics { label } } }"#;
    let registered = Principal { tier: musubi_ontology::tier::Tier::Registered, ..Principal::anonymous() };
    let answer = ask(&app, &registered, query).await;
    assert_eq!(answer["data"]["sample"]["organismNames"], serde_json::json!(["Homo sapiens"]), "{answer}");
    assert!(answer["data"]["sample"]["characteristics"].is_null() && answer.to_string().contains("CONTROLLED"), "{answer}");
}
