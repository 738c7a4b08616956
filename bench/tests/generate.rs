//! `musubi-bench gen`: the generated catalogue harvests through the shipped mappings into the hub as
//! the real fixtures do (the NBDC and JGA records of one dataset merge into one), and the same seed
//! writes the same files.

use std::sync::Arc;

use musubi_gateway::app::{App, Parts, load_manifests};
use musubi_bench::generate::{GenOptions, generate};
use musubi_store::EmbeddedStore;
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab::Vocabulary;
use musubi_schema::Principal;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_catalogue_harvests_into_one_record_per_dataset() {
    let out = tempfile::tempdir().expect("tempdir");
    let options = GenOptions { datasets: 400, out: out.path().to_path_buf(), seed: 11 };
    let summary = generate(&options, |_| {}).expect("generates");
    // A tenth from the DCAT portal, the rest from NBDC; JGA exports NBDC's controlled ones.
    assert_eq!(summary.dcat_records, 40);
    assert_eq!(summary.humandbs_records, 360);
    assert!(summary.jga_records > 200 && summary.jga_records < 330, "{summary:?}");

    let manifests = load_manifests(&out.path().join("sources")).expect("generated manifests load");
    assert_eq!(manifests.len(), 3);
    let app = App::new(Parts::new(Arc::new(EmbeddedStore::in_memory()), manifests, Vocabulary::builtin())).expect("hub");
    for (source, outcome) in app.harvest(&[]).await {
        outcome.unwrap_or_else(|e| panic!("{source}: {e}"));
    }
    let steward = Principal { tier: Tier::Steward, grants: Default::default(), subject: Some("s".into()), issuer: Some("test".into()) };
    let query = r#"{ datasets(first: 1, filter: { text: "JGAD100000" }) { totalCount nodes { accession title { value } sources } }
                    all: datasets(first: 1) { totalCount } }"#;
    let response = app.execute(async_graphql::Request::new(query), steward).await.expect("audited");
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().expect("json");
    assert_eq!(data["all"]["totalCount"], 400, "one record per generated dataset: {data}");
    let first = &data["datasets"]["nodes"][0];
    assert_eq!(first["accession"], "JGAD100000");
    let sources = first["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 2, "NBDC's and JGA's records of JGAD100000 are one: {first}");

    // The same seed, the same catalogue.
    let again = tempfile::tempdir().expect("tempdir");
    generate(&GenOptions { out: again.path().to_path_buf(), ..options }, |_| {}).expect("generates");
    for file in ["humandbs/datasets-00001.json", "jga/jga-dataset-00001.xml", "dcat/catalog-00001.ttl"] {
        assert_eq!(std::fs::read(out.path().join(file)).unwrap(), std::fs::read(again.path().join(file)).unwrap(), "{file}");
    }
}
