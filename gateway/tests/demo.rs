//! The bundled demo (`musubi serve --demo`): every manifest in `gateway/demo/` is installed, loads,
//! and harvests its bundled files without error, and `connector check` finds no field its
//! mapping drops without a reason. A demo manifest that does not parse, names a file the binary
//! does not bundle, or maps a field the vocabulary does not know fails here, not in front of a user.

use std::sync::Arc;

use musubi_gateway::app::{App, Parts, load_manifests};
use musubi_store::EmbeddedStore;
use musubi_ontology::vocab::Vocabulary;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_demo_source_is_installed_and_harvests() {
    let data = tempfile::tempdir().expect("tempdir");
    let sources = musubi_gateway::demo::install(data.path()).expect("demo installs");
    let mut shipped: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/demo"))
        .expect("demo folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    let mut installed: Vec<String> =
        std::fs::read_dir(&sources).expect("sources").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    shipped.sort();
    installed.sort();
    assert_eq!(installed, shipped, "every manifest in gateway/demo/ is bundled by demo.rs");

    let manifests = load_manifests(&sources).expect("the demo manifests are valid");
    let client = reqwest::Client::new();
    for manifest in &manifests {
        let report = musubi_connectors::check::check(manifest, &EmbeddedStore::in_memory(), &Vocabulary::builtin(), &client)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", manifest.id));
        // EGA's JSON example dataset has no accession yet (the JSON mapping reads only
        // egaAccession; the record is named by its alias through its source record id).
        let known = |v: &musubi_connectors::check::Violation| {
            manifest.id == "ega-datasets" && v.field == "http://purl.org/dc/terms/identifier" && v.message.starts_with("missing")
        };
        let violations: Vec<_> = report.violations.iter().filter(|v| !known(v)).collect();
        assert!(violations.is_empty(), "{}: {violations:?}", manifest.id);
        assert!(report.unmapped.is_empty(), "{}: fields dropped without a reason: {:?}", manifest.id, report.unmapped);
    }
    let store = Arc::new(EmbeddedStore::in_memory());
    let app = App::new(Parts::new(store.clone(), manifests.clone(), Vocabulary::builtin())).expect("hub starts");
    for (source, outcome) in app.harvest(&[]).await {
        let report = outcome.unwrap_or_else(|e| panic!("demo source {source} fails: {e}"));
        assert!(report.records > 0, "{source} harvests records");
    }
    // Right after a harvest, a dry run of the same files changes nothing: values the store keeps
    // in canonical form (DCAT's xsd:nonNegativeInteger counts, NBDC's "4.0" GB) are no change.
    for manifest in &manifests {
        let report = musubi_connectors::check::check(manifest, store.as_ref(), &Vocabulary::builtin(), &client).await.expect("check");
        assert!(report.changed.is_empty() && report.added.is_empty(), "{}: {:?} {:?}", manifest.id, report.changed, report.added);
        assert!(report.unchanged > 0, "{}: nothing unchanged", manifest.id);
    }
}
