//! The harvest guards against a partner that misbehaves while answering 200: a loopback server
//! offset-pages NBDC's real dataset records, one a page, and the test changes what it serves
//! between harvests. Each time the source's last good graph must stay, and the error must say what
//! the harvest saw; an operator can land a shrink deliberately, and values that fail their datatype
//! can be left out instead, when the manifest says so.

use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::routing::get;
use musubi_connectors::{HarvestError, source_graph};
use musubi_connectors::manifest::{Manifest, parse_manifest};
use musubi_connectors::{Harvester, source_status};
use musubi_ontology::rdf::Term;
use musubi_store::{EmbeddedStore, GraphStore};
use musubi_ontology::vocab::{self, Vocabulary};
use serde_json::{Value, json};

/// What the partner serves: its records, and whether pages after the first move them under
/// another key (a partner changing its page shape mid-harvest).
#[derive(Default)]
struct Feed {
    records: Vec<Value>,
    moved_after_first: bool,
}

type Shared = Arc<Mutex<Feed>>;

async fn page(State(feed): State<Shared>, Query(q): Query<std::collections::HashMap<String, usize>>) -> axum::Json<Value> {
    let feed = feed.lock().expect("feed");
    let offset = q.get("offset").copied().unwrap_or(0);
    let limit = q.get("limit").copied().unwrap_or(1);
    let items: Vec<Value> = feed.records.iter().skip(offset).take(limit).cloned().collect();
    let key = if feed.moved_after_first && offset > 0 { "items" } else { "data" };
    axum::Json(json!({ key: items, "total": feed.records.len() }))
}

/// A loopback partner serving the NBDC records, and its endpoint.
async fn partner() -> (Shared, String) {
    let feed: Shared = Arc::default();
    feed.lock().expect("feed").records = nbdc_records();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().route("/api/datasets", get(page)).with_state(feed.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (feed, format!("http://{addr}/api/datasets"))
}

/// The NBDC dataset fixtures (real records), in file order.
fn nbdc_records() -> Vec<Value> {
    musubi_tests::json_records("humandbs/dataset")
}

fn manifest(dir: &std::path::Path, endpoint: &str, mapping: &std::path::Path, extra: &str) -> Manifest {
    let text = format!(
        "id = \"nbdc-datasets\"\nkind = \"json-api\"\nendpoint = \"{endpoint}\"\nmapping = \"{}\"\nrate_limit = 500\n\
         [paging]\nstyle = \"offset\"\nrecords = \"$.data[*]\"\npage_size = 1\n[record]\nid = \"datasetId\"\n{extra}",
        mapping.display()
    );
    parse_manifest(&text, &dir.join("nbdc-datasets.toml")).unwrap_or_else(|e| panic!("{e}"))
}

/// The datasets the source's graph holds now, by accession.
fn accessions(store: &dyn GraphStore) -> Vec<String> {
    let graph = store.graph(source_graph("nbdc-datasets").as_ref()).expect("graph");
    let datasets: Vec<_> = graph
        .iter()
        .filter(|t| t.predicate.as_ref() == vocab::RDF_TYPE && t.object == Term::from(vocab::DCAT_DATASET.into_owned()))
        .map(|t| t.subject.clone())
        .collect();
    let mut out: Vec<String> = graph
        .into_iter()
        .filter(|t| t.predicate.as_ref() == vocab::DCT_IDENTIFIER && datasets.contains(&t.subject))
        .filter_map(|t| match t.object {
            Term::Literal(l) => Some(l.value().to_owned()),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_harvest_that_would_lose_data_does_not_land_and_says_what_it_saw() {
    let (feed, endpoint) = partner().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mapping = musubi_tests::mappings().join("humandbs-dataset.rml.ttl");
    let source = manifest(dir.path(), &endpoint, &mapping, "");
    let store = EmbeddedStore::in_memory();
    let vocabulary = Vocabulary::builtin();
    let harvester = Harvester::new(reqwest::Client::new());
    let all = ["DRA000908", "JGAD000001", "JGAD000002"];
    let harvest = |source: Manifest, harvester: Harvester| {
        let (store, vocabulary) = (&store, &vocabulary);
        async move { harvester.harvest(&source, store, vocabulary).await }
    };
    let refused = |result: Result<musubi_connectors::HarvestReport, HarvestError>| match result {
        Err(e) => e.to_string(),
        Ok(r) => panic!("landed {} records", r.records),
    };

    harvest(source.clone(), harvester.clone()).await.expect("the first harvest lands");
    assert_eq!(accessions(&store), all);

    // 1. Pages after the first move their records under another key: an error, not the end.
    feed.lock().expect("feed").moved_after_first = true;
    let err = refused(harvest(source.clone(), harvester.clone()).await);
    assert!(err.contains("offset=1") && err.contains("the page has no $.data") && err.contains("\"items\""), "{err}");
    assert_eq!(accessions(&store), all, "the last good graph stays");
    feed.lock().expect("feed").moved_after_first = false;

    // 2. Records without an id (or an empty one), and one id twice.
    {
        let mut f = feed.lock().expect("feed");
        let good = f.records[1].clone();
        f.records = vec![json!({ "foo": "bar" }), json!({ "datasetId": "" }), good.clone(), good];
    }
    let err = refused(harvest(source.clone(), harvester.clone()).await);
    assert!(err.contains("2 record(s) without an id: http://") && err.contains("offset=0&limit=1 record #0") && err.contains("offset=1&limit=1 record #0"), "{err}");
    assert!(err.contains("\"JGAD000001\" at") && err.contains("given to more than one record"), "{err}");
    assert_eq!(accessions(&store), all);

    // 3. The partner drops two records of three: more than the guard's fifth.
    feed.lock().expect("feed").records = nbdc_records()[..1].to_vec();
    let err = refused(harvest(source.clone(), harvester.clone()).await);
    assert!(err.contains("it would remove 2 of the source's 3 records (67 %; the guard allows 20 %)") && err.contains("--accept-shrink"), "{err}");
    assert_eq!(accessions(&store), all);
    // `connector check` says the same before anything is tried.
    let report = musubi_connectors::check::check(&source, &store, &vocabulary, &reqwest::Client::new()).await.expect("check");
    assert!(report.guards.as_ref().is_err_and(|why| why.contains("it would remove 2 of the source's 3 records")), "{:?}", report.guards);
    // … which an operator may land deliberately: it says so, in the report and the source's status.
    let report = harvest(source.clone(), harvester.clone().accepting_shrink(["nbdc-datasets".to_owned()])).await.expect("accepted");
    assert!(report.warnings.iter().any(|w| w.starts_with("accepted: it would remove 2")), "{:?}", report.warnings);
    assert_eq!(accessions(&store), ["DRA000908"]);
    let warnings = source_status(&store, "nbdc-datasets").expect("status").warnings;
    assert!(warnings.iter().any(|w| w.starts_with("accepted:")), "{warnings:?}");
    feed.lock().expect("feed").records = nbdc_records();
    harvest(source.clone(), harvester.clone()).await.expect("growing back lands");
    let warnings = source_status(&store, "nbdc-datasets").expect("status").warnings;
    assert!(warnings.is_empty(), "warnings are the last harvest's: {warnings:?}");

    // 4. A mapping reference that matches nothing (a misspelt field): a property every record
    // stated is gone.
    let text = std::fs::read_to_string(&mapping).expect("mapping");
    assert!(text.contains("rml:reference \"versionReleaseDate\""), "the shipped mapping reads versionReleaseDate");
    let misspelt = dir.path().join("misspelt.rml.ttl");
    std::fs::write(&misspelt, text.replace("rml:reference \"versionReleaseDate\"", "rml:reference \"versionReleseDate\"")).expect("write");
    let err = refused(harvest(manifest(dir.path(), &endpoint, &misspelt, ""), harvester.clone()).await);
    assert!(err.contains("no record states <https://w3id.org/musubi/vocab#versionReleaseDate> now"), "{err}");
    assert_eq!(accessions(&store), all);
    // Where the lost property is let go, the misspelt reference is still said, in the report and
    // the source's status, naming the field the records have; optional fields these records lack
    // are not.
    let letting_go = manifest(dir.path(), &endpoint, &misspelt, "[guards]\nkeep_properties = false\n");
    let report = harvest(letting_go, harvester.clone()).await.expect("lands");
    let said = "found no value in any of the 3 records: the records have \"versionReleaseDate\", not \"versionReleseDate\" (misspelt?)";
    assert!(report.warnings.iter().any(|w| w.contains(said)), "{:?}", report.warnings);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(source_status(&store, "nbdc-datasets").expect("status").warnings.iter().any(|w| w.contains(said)));
    harvest(source.clone(), harvester.clone()).await.expect("the mapping mended lands");
    assert!(source_status(&store, "nbdc-datasets").expect("status").warnings.is_empty());

    // 5. A value that is not valid for its datatype: refused by default; left out and said when
    // the manifest asks for that.
    {
        let mut f = feed.lock().expect("feed");
        f.records[0]["releaseDate"] = json!("not a date");
    }
    let err = refused(harvest(source.clone(), harvester.clone()).await);
    assert!(err.contains("\"not a date\" is not a valid xsd:date"), "{err}");
    let dropping = manifest(dir.path(), &endpoint, &mapping, "[guards]\ninvalid_values = \"drop\"\n");
    let report = harvest(dropping, harvester.clone()).await.expect("lands without the value");
    assert!(report.warnings.iter().any(|w| w.contains("left out") && w.contains("not a date")), "{:?}", report.warnings);
    let graph = store.graph(source_graph("nbdc-datasets").as_ref()).expect("graph");
    assert!(!graph.iter().any(|t| matches!(&t.object, Term::Literal(l) if l.value() == "not a date")), "the invalid value is not in the graph");
    assert_eq!(accessions(&store), all);

    // A manifest's guard settings are checked where they stand.
    let err = parse_manifest(
        &format!("id = \"x\"\nkind = \"json-api\"\nendpoint = \"{endpoint}\"\nmapping = \"{}\"\n[guards]\nmax_shrink = 20\n", mapping.display()),
        &dir.path().join("x.toml"),
    )
    .unwrap_err();
    assert_eq!((err.line, err.field.as_deref()), (6, Some("guards.max_shrink")), "{err}");
}

/// A scheduled harvest mostly finds what it found before. Reading the same documents under the
/// same manifest, mapping and vocabulary stages the same graph, so nothing is stored again: the
/// graph's generation stays, `lastHarvest` moves and `lastChange` does not. Any change (a
/// record at the partner, the mapping) lands as usual.
#[tokio::test(flavor = "multi_thread")]
async fn a_harvest_of_what_the_standing_graph_was_made_from_lands_nothing() {
    let (feed, endpoint) = partner().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mapping = musubi_tests::mappings().join("humandbs-dataset.rml.ttl");
    let source = manifest(dir.path(), &endpoint, &mapping, "");
    // Spooled and bulk-loaded as a generation, as a national database's graph is.
    let store = EmbeddedStore::in_memory().with_bulk_threshold(10);
    let vocabulary = Vocabulary::builtin();
    let harvester = Harvester::new(reqwest::Client::new()).with_staging(dir.path().join("staging"), 10);
    let graph = source_graph("nbdc-datasets");
    let harvest = |source: Manifest| {
        let (store, vocabulary, harvester) = (&store, &vocabulary, harvester.clone());
        async move { harvester.harvest(&source, store, vocabulary).await }
    };
    let generation = || store.generation(graph.as_ref()).expect("generation").expect("stored as a generation");
    let pause = || std::thread::sleep(std::time::Duration::from_millis(5)); // harvest times differ

    let first = harvest(source.clone()).await.expect("the first harvest lands");
    assert!(!first.unchanged && first.spooled);
    let (landed, status) = (generation(), source_status(&store, "nbdc-datasets").expect("status"));
    assert_eq!(status.last_change, status.last_harvest);
    let triples = store.graph(graph.as_ref()).expect("graph");

    pause();
    let again = harvest(source.clone()).await.expect("lands");
    assert!(again.unchanged && again.view.is_none() && again.records == 3, "{again:?}");
    assert_eq!(generation(), landed, "nothing was stored again");
    assert_eq!(store.graph(graph.as_ref()).expect("graph"), triples);
    let now = source_status(&store, "nbdc-datasets").expect("status");
    assert!(now.last_harvest > status.last_harvest && now.last_change == status.last_change, "{now:?}");
    assert_eq!(std::fs::read_dir(dir.path().join("staging")).expect("staging").count(), 0, "its spool is gone");

    // A failed attempt between two alike: the same content clears its error, landing nothing.
    feed.lock().expect("feed").moved_after_first = true;
    assert!(harvest(source.clone()).await.is_err());
    assert!(source_status(&store, "nbdc-datasets").expect("status").last_error.is_some());
    feed.lock().expect("feed").moved_after_first = false;
    assert!(harvest(source.clone()).await.expect("lands").unchanged);
    assert_eq!((source_status(&store, "nbdc-datasets").expect("status").last_error, generation()), (None, landed.clone()));

    // One record changed at the partner: it lands.
    feed.lock().expect("feed").records[2]["version"] = json!("v-corrected");
    pause();
    let changed = harvest(source.clone()).await.expect("lands");
    assert!(!changed.unchanged && changed.view.is_some(), "a new view for the read model");
    let moved = generation();
    assert_ne!(moved, landed);
    let graph_now = store.graph(graph.as_ref()).expect("graph");
    assert!(graph_now.iter().any(|t| matches!(&t.object, Term::Literal(l) if l.value() == "v-corrected")));
    let after = source_status(&store, "nbdc-datasets").expect("status");
    assert!(after.last_change > status.last_change && after.last_change == after.last_harvest, "{after:?}");

    // The same documents under another mapping (or manifest) make another graph: it lands.
    let edited = dir.path().join("edited.rml.ttl");
    std::fs::write(&edited, std::fs::read_to_string(&mapping).expect("mapping") + "\n# edited\n").expect("write");
    assert!(!harvest(manifest(dir.path(), &endpoint, &edited, "")).await.expect("lands").unchanged);
    assert_ne!(generation(), moved);
    assert!(!harvest(manifest(dir.path(), &endpoint, &edited, "[guards]\nmax_shrink = 0.5\n")).await.expect("lands").unchanged);
    assert!(harvest(manifest(dir.path(), &endpoint, &edited, "[guards]\nmax_shrink = 0.5\n")).await.expect("lands").unchanged);
    let mut scheduled = manifest(dir.path(), &endpoint, &edited, "[guards]\nmax_shrink = 0.5\n");
    scheduled.schedule = Some(std::time::Duration::from_secs(3600));
    assert!(harvest(scheduled).await.expect("lands").unchanged, "a schedule says when, not what");
}
