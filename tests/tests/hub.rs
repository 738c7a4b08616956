//! End to end: partner servers on loopback serving the real fixture files → manifests → harvest
//! → graph → GraphQL over HTTP. Expected values are read from the fixture files themselves.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use musubi_gateway::app::{App, Parts, load_manifests};
use musubi_store::EmbeddedStore;
use musubi_ontology::vocab::Vocabulary;
use musubi_tests::{Behaviour, Partner, dcat_datasets, graphql, json_records, manifests, write_manifests};
use serde_json::{Value, json};

/// Two partners (the NBDC APIs, the DCAT files), their manifests, and a hub over an in-memory
/// store that has harvested them all.
struct Setup {
    humandbs: Partner,
    dcat: Partner,
    app: App,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

async fn harvested_hub() -> Setup {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = write_manifests(&dir.path().join("sources"), &manifests(&humandbs, &dcat));
    let manifests = load_manifests(&sources).expect("manifests are valid");
    let app = App::new(Parts::new(Arc::new(EmbeddedStore::in_memory()), manifests, Vocabulary::builtin())).expect("hub starts");
    support::harvest_all(&app).await;
    let addr = support::serve(app.clone()).await;
    Setup { humandbs, dcat, app, addr, _dir: dir }
}

const ALL: &str = "{ datasets(first: 100) { totalCount nodes { accession source accessLevel sourceAccessLevel title { value lang } } } }";

fn nodes(response: &Value) -> &Vec<Value> {
    assert!(response.get("errors").is_none(), "unexpected errors: {response}");
    response["data"]["datasets"]["nodes"].as_array().expect("nodes")
}

fn find<'a>(nodes: &'a [Value], accession: &str) -> &'a Value {
    nodes.iter().find(|n| n["accession"] == accession).unwrap_or_else(|| panic!("{accession} is not served"))
}

fn titles(node: &Value) -> Vec<String> {
    let mut t: Vec<String> = node["title"].as_array().expect("titles").iter().map(|t| t["value"].as_str().expect("value").to_owned()).collect();
    t.sort();
    t
}

#[tokio::test]
async fn every_source_is_harvested_and_answers_over_graphql() {
    let setup = harvested_hub().await;
    let addr = setup.addr;
    let response = graphql(addr, ALL).await;
    let nodes = nodes(&response);

    // NBDC datasets, compared with the fixture records (read via next-link paging).
    let records = json_records("humandbs/dataset");
    assert!(records.len() > musubi_tests::PAGE_SIZE, "the fixtures must span several pages");
    for record in &records {
        let node = find(nodes, record["datasetId"].as_str().expect("datasetId"));
        assert_eq!(node["source"], "nbdc-datasets");
        assert_eq!(node["sourceAccessLevel"][0], record["criteria"]);
        let expected = match record["criteria"].as_str() {
            Some("Unrestricted-access") => "OPEN",
            _ => "CONTROLLED",
        };
        assert_eq!(node["accessLevel"], expected, "{node}");
        assert_eq!(titles(node), vec![record["originalMetadata"]["TITLE"].as_str().expect("TITLE").to_owned()]);
        assert_eq!(node["title"][0]["lang"], "en");
    }

    // FAIR Data Point and HealthDCAT-AP datasets, compared with the Turtle fixtures.
    for (folder, source) in [("fair-data-point", "fair-data-point"), ("healthdcat-ap", "healthdcat-ap")] {
        let expected = dcat_datasets(folder);
        assert!(!expected.is_empty());
        for (identifier, expected_titles) in expected {
            let node = find(nodes, &identifier);
            assert_eq!(node["source"], source);
            assert_eq!(titles(node), expected_titles, "{identifier}");
        }
    }
    let multilingual = find(nodes, "http://example.test/dataset/1");
    let langs: Vec<&str> = multilingual["title"].as_array().expect("titles").iter().filter_map(|t| t["lang"].as_str()).collect();
    assert!(langs.contains(&"en") && langs.contains(&"nl"), "{multilingual}");
    // HealthDCAT-AP states access as an EU authority IRI; the hub normalises it.
    assert_eq!(find(nodes, "http://example.com/dataset/1234567890")["accessLevel"], "CONTROLLED");

    let total = response["data"]["datasets"]["totalCount"].as_i64().expect("totalCount");
    assert_eq!(total as usize, nodes.len());

    // The study, with its titles in both languages (offset paging).
    let research = json_records("humandbs/research");
    let hum0001 = research.iter().find(|r| r["humId"] == "hum0001").expect("hum0001 fixture");
    let study = graphql(
        addr,
        r#"{ study(id: "hum0001") { accession title { value lang } principalInvestigators { name(lang: "en") { value } organization { name(lang: "ja") { value } } }
             grants { identifiers } versions { version releaseDate datasetAccessions } datasets { accession } } }"#,
    )
    .await;
    assert!(study.get("errors").is_none() && study["data"]["study"]["title"].as_array().is_some_and(|t| t.len() == 2), "{study}");
    let s = &study["data"]["study"];
    assert_eq!(s["accession"], "hum0001", "{study}");
    let title = |lang: &str| s["title"].as_array().expect("titles").iter().find(|t| t["lang"] == lang).expect("title")["value"].clone();
    assert_eq!(title("ja"), hum0001["title"]["ja"]);
    assert_eq!(title("en"), hum0001["title"]["en"]);
    assert_eq!(s["principalInvestigators"][0]["name"][0]["value"], hum0001["dataProvider"][0]["name"]["en"]["text"]);
    assert_eq!(
        s["principalInvestigators"][0]["organization"]["name"][0]["value"],
        hum0001["dataProvider"][0]["organization"]["name"]["ja"]["text"]
    );
    assert_eq!(s["grants"][0]["identifiers"][0], hum0001["grant"][0]["id"][0]);
    let version = json_records("humandbs/research-version").into_iter().find(|v| v["humVersionId"] == "hum0001-v1").expect("version");
    assert_eq!(s["versions"][0]["releaseDate"], version["versionReleaseDate"]);
    assert_eq!(s["versions"][0]["datasetAccessions"][0], version["datasets"][0]["datasetId"]);
    assert_eq!(s["datasets"][0]["accession"], "JGAD000002", "the dataset from another source links to its study");

    // `sources` reports each source's health.
    let sources = graphql(addr, "{ sources { id kind endpoint lastHarvest recordCount lastError } }").await;
    let sources = sources["data"]["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 6);
    for s in sources {
        assert!(s["lastHarvest"].is_string() && s["lastError"].is_null() && s["recordCount"].as_i64() > Some(0), "{s}");
    }
}

#[tokio::test]
async fn a_study_known_to_two_databases_is_one_record_that_either_accession_finds() {
    let setup = harvested_hub().await;
    // TogoID pairs a JGA study with hum0001 (read from the fixture, not assumed).
    let pairs = std::fs::read_to_string(musubi_tests::fixtures().join("togoid/jga_study-nbdc_human_db.tsv")).expect("togoid fixture");
    let jgas = pairs.lines().find_map(|l| l.strip_suffix("\thum0001")).expect("a JGA study paired with hum0001");
    let query = |id: &str| {
        format!(
            r#"{{ study(id: "{id}") {{ accession identifiers sources title(lang: "en") {{ value }}
                 claims(field: "accession") {{ value source }} provenance {{ source sourceRecordId }} }} }}"#
        )
    };
    let by_nbdc = graphql(setup.addr, &query("hum0001")).await;
    let by_jga = graphql(setup.addr, &query(jgas)).await;
    assert!(by_jga.get("errors").is_none(), "{by_jga}");
    assert_eq!(by_nbdc, by_jga, "both accessions find the same merged record");
    let study = &by_jga["data"]["study"];
    assert_eq!(study["accession"], "hum0001", "{study}");
    assert_eq!(study["identifiers"], json!(["hum0001", jgas]));
    let sources: Vec<&str> = study["sources"].as_array().expect("sources").iter().filter_map(Value::as_str).collect();
    assert!(sources.contains(&"nbdc-research") && sources.contains(&"togoid-jga-nbdc"), "{study}");
    // Each value says which source stated it.
    let claims = study["claims"].as_array().expect("claims");
    assert!(claims.contains(&json!({ "value": "hum0001", "source": "nbdc-research" })), "{study}");
    assert!(claims.contains(&json!({ "value": jgas, "source": "togoid-jga-nbdc" })), "{study}");
    let provenance = study["provenance"].as_array().expect("provenance");
    assert!(provenance.contains(&json!({ "source": "togoid-jga-nbdc", "sourceRecordId": jgas })), "{study}");

    // Listing studies shows the merged record once.
    let list = graphql(setup.addr, "{ studies(first: 100) { accession } }").await;
    let accessions: Vec<&str> = list["data"]["studies"].as_array().expect("studies").iter().filter_map(|s| s["accession"].as_str()).collect();
    assert_eq!(accessions.iter().filter(|a| **a == "hum0001").count(), 1, "{list}");
    assert!(!accessions.contains(&jgas), "the JGA accession is not a second record: {list}");

    // A field name the schema does not have is refused, naming it.
    let bad = graphql(setup.addr, r#"{ study(id: "hum0001") { claims(field: "nonsense") { value } } }"#).await;
    assert!(bad["errors"][0]["message"].as_str().is_some_and(|m| m.contains("nonsense")), "{bad}");
}

#[tokio::test]
async fn cursor_pages_cover_every_dataset_once_and_filters_apply() {
    let setup = harvested_hub().await;
    let addr = setup.addr;
    let everything: Vec<String> =
        nodes(&graphql(addr, ALL).await).iter().map(|n| n["accession"].as_str().expect("accession").to_owned()).collect();

    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let q = format!("{{ datasets(first: 3{after}) {{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ accession }} }} }} }}");
        let page = graphql(addr, &q).await;
        let c = &page["data"]["datasets"];
        assert_eq!(c["totalCount"].as_u64(), Some(everything.len() as u64));
        seen.extend(c["edges"].as_array().expect("edges").iter().map(|e| e["node"]["accession"].as_str().expect("acc").to_owned()));
        if c["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = format!(", after: \"{}\"", c["pageInfo"]["endCursor"].as_str().expect("cursor"));
    }
    assert_eq!(seen, everything);

    let filtered = graphql(addr, r#"{ datasets(filter: {source: ["nbdc-datasets"], accessLevel: [OPEN]}) { totalCount nodes { accession } } }"#).await;
    let open_nbdc: Vec<Value> = json_records("humandbs/dataset").into_iter().filter(|r| r["criteria"] == "Unrestricted-access").collect();
    assert_eq!(filtered["data"]["datasets"]["totalCount"].as_u64(), Some(open_nbdc.len() as u64), "{filtered}");
    assert_eq!(filtered["data"]["datasets"]["nodes"][0]["accession"], open_nbdc[0]["datasetId"]);

    // Words as `search` matches them (the record writes "lung adenocarcinomapatients").
    let text = graphql(addr, r#"{ datasets(filter: {text: "Lung adenocarcinomapatients"}) { totalCount nodes { accession } } }"#).await;
    assert_eq!(text["data"]["datasets"]["nodes"][0]["accession"], "JGAD000001", "{text}");
    assert_eq!(text["data"]["datasets"]["totalCount"], 1);
    // Text with no word (punctuation, regex syntax) and a word no record holds list nothing, without an error.
    let long = "ゲ".repeat(5_000) + &"x".repeat(5_000);
    for nothing in [r#"(*[.|\\"#, long.as_str()] {
        let query = json!({ "query": "query($t: String) { datasets(filter: {text: $t}) { totalCount nodes { accession } } }", "variables": { "t": nothing } });
        let r: Value = reqwest::Client::new().post(format!("http://{addr}/graphql")).json(&query).send().await.expect("answers").json().await.expect("json");
        assert_eq!(r["data"]["datasets"]["totalCount"], 0, "{nothing:.40}: {r}");
        assert!(r.get("errors").is_none(), "{r}");
    }

    let bad = graphql(addr, r#"{ datasets(after: "not-a-cursor") { totalCount } }"#).await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{bad}");
    let too_many = graphql(addr, "{ datasets(first: 5000) { totalCount } }").await;
    assert!(too_many["errors"][0]["message"].as_str().expect("message").contains("5,000 exceeds the limit 100"), "{too_many}");
}

#[tokio::test]
async fn a_failing_source_keeps_its_last_good_graph_and_the_others_land() {
    let Setup { humandbs, dcat, app, addr, _dir } = harvested_hub().await;
    let before = graphql(addr, ALL).await;

    find(nodes(&before), "JGAD000001");
    let check = |outcomes: Vec<(String, Result<musubi_connectors::HarvestReport, musubi_connectors::HarvestError>)>, expect: &str| {
        for (source, outcome) in outcomes {
            match (source.starts_with("nbdc"), outcome) {
                (true, Err(e)) => assert!(e.to_string().contains(expect), "{source}: {e}"),
                (true, Ok(_)) => panic!("{source} should have failed"),
                (false, outcome) => {
                    outcome.unwrap_or_else(|e| panic!("{source} should still land: {e}"));
                }
            }
        }
    };

    humandbs.behave(Behaviour::ServerError);
    check(app.harvest(&[]).await, "HTTP 500");
    assert_eq!(graphql(addr, ALL).await, before, "the last good graphs are still served");
    let sources = graphql(addr, "{ sources { id lastError lastHarvest recordCount } }").await;
    let nbdc = sources["data"]["sources"].as_array().expect("sources").iter().find(|s| s["id"] == "nbdc-datasets").expect("nbdc").clone();
    assert!(nbdc["lastError"].as_str().expect("error recorded").contains("HTTP 500"), "{nbdc}");
    assert!(nbdc["lastHarvest"].is_string() && nbdc["recordCount"].as_i64() > Some(0), "{nbdc}");

    humandbs.behave(Behaviour::Garbage);
    check(app.harvest(&[]).await, "not valid JSON at line 1");
    assert_eq!(graphql(addr, ALL).await, before);

    humandbs.stop().await;
    check(app.harvest(&[]).await, "cannot connect");
    assert_eq!(graphql(addr, ALL).await, before);

    // An RDF dump that turns to garbage fails alone too.
    dcat.behave(Behaviour::Garbage);
    let outcomes = app.harvest(&["fair-data-point".to_owned()]).await;
    let error = outcomes[0].1.as_ref().expect_err("garbage Turtle is refused").to_string();
    assert!(error.contains("not valid Turtle"), "{error}");
    assert_eq!(graphql(addr, ALL).await, before);
}

/// Each source's graph as a user would compare it: without harvest times, blank nodes unnamed.
fn graphs(app: &App) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let store = app.api_state().store().expect("a store");
    let unnamed = |t: String| if t.starts_with("_:") { "_:".to_owned() } else { t };
    app.manifests()
        .iter()
        .map(|m| {
            let graph = store.graph(musubi_connectors::source_graph(&m.id).as_ref()).expect("graph");
            let triples = graph
                .iter()
                .filter(|t| t.predicate.as_ref() != musubi_ontology::vocab::PROV_GENERATED_AT_TIME)
                .map(|t| format!("{} {} {}", unnamed(t.subject.to_string()), t.predicate, unnamed(t.object.to_string())))
                .collect();
            (m.id.clone(), triples)
        })
        .collect()
}

/// A large harvest spools its staged triples to disk a piece at a time instead of holding them
/// all: here every few triples, so each source is spooled many times.
#[tokio::test]
async fn a_harvest_spooled_to_disk_lands_and_answers_as_one_held_in_memory() {
    let Setup { humandbs, dcat, app, addr, _dir } = harvested_hub().await;
    let staging = tempfile::tempdir().expect("tempdir");
    let spooled = App::new(Parts::new(Arc::new(EmbeddedStore::in_memory()), app.manifests().to_vec(), Vocabulary::builtin()))
        .expect("hub starts")
        .with_staging(staging.path().join("staging"), 7);
    for (source, outcome) in spooled.harvest(&[]).await {
        let report = outcome.unwrap_or_else(|e| panic!("{source} failed: {e}"));
        // Sources with SPARQL CONSTRUCT post-processing need their whole graph: held in memory.
        let post_processed = !spooled.manifests().iter().find(|m| m.id == source).expect("manifest").construct.is_empty();
        assert_eq!(report.spooled, !post_processed, "{source}: {} triples", report.triples);
    }
    assert_eq!(graphs(&spooled), graphs(&app), "the same graph for every source");
    let spooled_addr = support::serve(spooled.clone()).await;
    let search = r#"{ search(query: "cancer", facets: [ASSAYS]) { totalCount facets { field values { value count } } nodes { ... on Dataset { accession } } } }"#;
    for query in [ALL, search, "{ studies(first: 100) { totalCount nodes { accession datasets { accession } } } }"] {
        assert_eq!(graphql(spooled_addr, query).await, graphql(addr, query).await, "{query}");
    }
    let left = |dir: &std::path::Path| std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left(&staging.path().join("staging")), 0, "no spool file is left");

    // A partner that breaks down after its first page: the spool is dropped, the last good
    // graph stays and is still served.
    let before = graphs(&spooled);
    let served = graphql(spooled_addr, ALL).await;
    humandbs.behave(Behaviour::BreaksAfter(1));
    let outcomes = spooled.harvest(&["nbdc-datasets".to_owned()]).await;
    let error = outcomes[0].1.as_ref().expect_err("a broken partner fails the harvest").to_string();
    assert!(error.contains("HTTP 500"), "{error}");
    assert_eq!(graphs(&spooled), before);
    assert_eq!(graphql(spooled_addr, ALL).await, served);
    assert_eq!(left(&staging.path().join("staging")), 0, "the failed harvest's spool is removed");

    // A staging folder that cannot be made (a file is in the way; a full disk fails alike): the
    // harvest fails naming the path, the last good graph stays and is served.
    humandbs.behave(Behaviour::Healthy);
    let blocked = staging.path().join("blocked");
    std::fs::write(&blocked, "not a folder").expect("write");
    let unwritable = spooled.clone().with_staging(blocked.join("staging"), 7);
    let outcomes = unwritable.harvest(&["nbdc-datasets".to_owned()]).await;
    let error = outcomes[0].1.as_ref().expect_err("nowhere to spool").to_string();
    assert!(error.contains("cannot spool a staged graph to") && error.contains("blocked"), "{error}");
    assert_eq!(graphs(&spooled), before);
    assert_eq!(graphql(spooled_addr, ALL).await, served);
    drop(dcat);
}

/// A large harvest's view is made from the triples it staged, spread by subject over files and
/// written to the view's file as it is made, never projected back out of the store: it holds
/// exactly what a view projected from the stored graph holds (nodes, properties, values, the
/// order of each class's nodes), and the staging folder is left empty.
#[tokio::test]
async fn a_spooled_harvest_makes_its_view_from_what_it_staged_exactly_as_the_graph_projects() {
    use musubi_ontology::vocab as v;
    use musubi_read_model::{SourceView, ViewFiles};
    let Setup { app, humandbs: _humandbs, dcat: _dcat, .. } = harvested_hub().await;
    let dir = tempfile::tempdir().expect("tempdir");
    // Every graph bulk-loaded as a generation, every few triples spooled: the national path.
    let store = EmbeddedStore::in_memory().with_bulk_threshold(1);
    let files = ViewFiles::new(dir.path().join("views"));
    let harvester = musubi_connectors::Harvester::new(reqwest::Client::new()).with_staging(dir.path().join("staging"), 7).with_view_files(files);
    let vocabulary = Vocabulary::builtin();
    let described = |view: &SourceView| -> std::collections::BTreeMap<String, Vec<(String, Vec<String>)>> {
        view.nodes()
            .map(|node| {
                let properties = node.properties().map(|(p, values)| (p.to_owned(), values.map(|t| t.to_string()).collect())).collect();
                (node.id().to_string(), properties)
            })
            .collect()
    };
    let spooled: Vec<_> = app.manifests().iter().filter(|m| m.construct.is_empty()).collect();
    assert!(spooled.len() >= 3, "JSON, XML and RDF sources are spooled");
    for manifest in spooled {
        let report = harvester.harvest(manifest, &store, &vocabulary).await.unwrap_or_else(|e| panic!("{}: {e}", manifest.id));
        assert!(report.spooled, "{}", manifest.id);
        let made = report.view.expect("a harvest that answers queries has a view");
        assert!(made.on_disk(), "{}: written to its file as it was made", manifest.id);
        let projected = SourceView::load(&store, musubi_connectors::source_graph(&manifest.id).as_ref(), &manifest.id).expect("projected");
        assert!(projected.len() > 1, "{}", manifest.id);
        assert_eq!(described(&made), described(&projected), "{}: the same nodes, properties and values", manifest.id);
        for class in [v::DCAT_DATASET, v::MUSUBI_STUDY, v::MUSUBI_SAMPLE] {
            let ids = |view: &SourceView| view.of_type(class).map(|n| n.id().to_string()).collect::<Vec<_>>();
            assert_eq!(ids(&made), ids(&projected), "{}: {class} in the same order", manifest.id);
        }
    }
    let left: Vec<_> = std::fs::read_dir(dir.path().join("staging")).expect("staging").map(|e| e.expect("entry").file_name()).collect();
    assert!(left.is_empty(), "nothing is left in the staging folder: {left:?}");

    // A views folder that cannot be written (a file is in the way; a full disk fails alike): the
    // harvest still lands, its view projected from the graph instead (said in the log), the same.
    let blocked = dir.path().join("blocked");
    std::fs::write(&blocked, "not a folder").expect("write");
    let harvester = musubi_connectors::Harvester::new(reqwest::Client::new())
        .with_staging(dir.path().join("staging"), 7)
        .with_view_files(ViewFiles::new(blocked.join("views")));
    let manifest = app.manifests().iter().find(|m| m.id == "nbdc-datasets").expect("manifest");
    let store = EmbeddedStore::in_memory().with_bulk_threshold(1);
    let report = harvester.harvest(manifest, &store, &vocabulary).await.expect("lands without its view file");
    let made = report.view.expect("a view");
    assert!(!made.on_disk(), "held in memory: its file could not be written");
    let projected = SourceView::load(&store, musubi_connectors::source_graph(&manifest.id).as_ref(), &manifest.id).expect("projected");
    assert_eq!(described(&made), described(&projected));
    assert_eq!(std::fs::read_dir(dir.path().join("staging")).expect("staging").count(), 0, "the spool is removed");
}

#[tokio::test]
async fn graphql_over_http_follows_the_spec() {
    let setup = harvested_hub().await;
    let addr = setup.addr;
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/graphql");

    // GET with the query in the URL.
    let r = client.get(&url).query(&[("query", "{ dataset(id: \"JGAD000001\") { accession } }")]).send().await.expect("GET");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["data"]["dataset"]["accession"], "JGAD000001");

    // A browser gets GraphiQL.
    let r = client.get(&url).header("accept", "text/html").send().await.expect("GET html");
    assert!(r.text().await.expect("html").to_lowercase().contains("graphiql"));

    // A query that does not parse: 400 under application/graphql-response+json, with a code.
    let r = client
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(r#"{"query": "{ datasets { "}"#)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 400);
    assert!(r.headers()["content-type"].to_str().expect("ct").starts_with("application/graphql-response+json"));
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED");
    assert!(body.get("data").is_none(), "a request error has no data entry: {body}");

    // Several operations and none named: the caller's error, a request error (400 without data
    // under application/graphql-response+json, 200 under application/json), not the hub's.
    for (accept, status) in [("application/graphql-response+json", 400), ("application/json", 200)] {
        for name in [None, Some("Missing")] {
            let mut body = json!({ "query": "query A { sources { id } } query B { studies(first: 1) { accession } }" });
            if let Some(name) = name {
                body["operationName"] = json!(name);
            }
            let r = client.post(&url).header("content-type", "application/json").header("accept", accept).body(body.to_string()).send().await.expect("POST");
            assert_eq!(r.status(), status, "{accept} {name:?}");
            let body: Value = r.json().await.expect("json");
            assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{accept} {name:?}: {body}");
        }
    }

    // A misspelt parameter is named, not ignored.
    let r = client.post(&url).header("content-type", "application/json").body(r#"{"qeury": "{ sources { id } }"}"#).send().await.expect("POST");
    assert_eq!(r.status(), 400);
    assert!(r.text().await.expect("body").contains("`qeury`"));

    // A field that does not exist fails validation, with a code.
    let body = graphql(addr, "{ datasets { nodes { noSuchField } } }").await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{body}");

    // Wrong media type.
    let r = client.post(&url).header("content-type", "text/plain").body("{}").send().await.expect("POST");
    assert_eq!(r.status(), 415);

    // A STEWARD field read anonymously is null with FORBIDDEN naming the tier; the rest is served.
    let body = graphql(addr, r#"{ dataset(id: "JGAD000001") { accession internalIds contactEmail } }"#).await;
    assert_eq!(body["data"]["dataset"]["accession"], "JGAD000001", "{body}");
    let errors = body["errors"].as_array().expect("errors");
    let internal = errors.iter().find(|e| e["path"][1] == "internalIds").expect("internalIds denied");
    assert_eq!(internal["extensions"]["code"], "FORBIDDEN");
    assert_eq!(internal["extensions"]["requiredTier"], "STEWARD");
    let email = errors.iter().find(|e| e["path"][1] == "contactEmail").expect("contactEmail denied");
    assert_eq!((&email["extensions"]["code"], &email["extensions"]["requiredTier"]), (&json!("FORBIDDEN"), &json!("REGISTERED")));
    // Null in place (present, not left out).
    let dataset = body["data"]["dataset"].as_object().expect("the dataset");
    assert!(dataset["internalIds"].is_null() && dataset["contactEmail"].is_null() && dataset.contains_key("internalIds") && dataset.contains_key("contactEmail"), "{body}");
    assert!(!body.to_string().contains("JSUB000002"), "a denied value must not leak: {body}");

    // A token that cannot be checked is refused, not treated as anonymous.
    let r = client.post(&url).header("content-type", "application/json").bearer_auth("abc").body(r#"{"query":"{ sources { id } }"}"#).send().await.expect("POST");
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));

    // An answer repeated from the response cache is sent as the bytes the first run sent, with
    // its status and media type, under either Accept (FORBIDDEN errors and nulls included).
    let query = r#"{"query":"{ dataset(id: \"JGAD000001\") { accession title { value lang } internalIds contactEmail } datasets(first: 3) { totalCount nodes { accession } } }"}"#;
    for accept in ["application/graphql-response+json", "application/json"] {
        let mut answers = Vec::new();
        for _ in 0..3 {
            let r = client.post(&url).header("content-type", "application/json").header("accept", accept).body(query).send().await.expect("POST");
            let media = r.headers()["content-type"].to_str().expect("ct").to_owned();
            answers.push((r.status(), media, r.bytes().await.expect("body")));
        }
        assert!(answers[0].2.windows(10).any(|w| w == b"JGAD000001") && answers[0].2.windows(9).any(|w| w == b"FORBIDDEN"), "{answers:?}");
        assert!(answers[0].1.starts_with(accept), "{answers:?}");
        assert!(answers.iter().all(|a| *a == answers[0]), "{accept}: {answers:?}");
    }
}

#[tokio::test]
async fn a_partner_that_answers_busy_is_retried_and_lands() {
    let setup = harvested_hub().await;
    setup.humandbs.behave(Behaviour::Flaky(0));
    for (source, outcome) in setup.app.harvest(&["nbdc-datasets".to_owned(), "nbdc-research".to_owned()]).await {
        let report = outcome.unwrap_or_else(|e| panic!("{source} should land after retries: {e}"));
        assert!(report.records > 0);
    }
}

#[tokio::test]
async fn partner_credentials_come_from_outside_the_manifest_and_are_sent() {
    use musubi_connectors::manifest::parse_manifest;
    let partner = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = |secret_file: &str| {
        parse_manifest(
            &format!(
                "id = \"secure\"\nkind = \"rdf-dump\"\nendpoint = \"{}\"\n[auth]\nkind = \"api-key\"\nsecret_file = \"{secret_file}\"\n",
                partner.url("/secure/files/fair-data-point/disgenet.ttl")
            ),
            &dir.path().join("secure.toml"),
        )
        .expect("manifest")
    };
    std::fs::write(dir.path().join("right.key"), format!("{}\n", musubi_tests::API_KEY)).expect("write");
    std::fs::write(dir.path().join("wrong.key"), "guess").expect("write");
    let store = EmbeddedStore::in_memory();
    let client = reqwest::Client::new();
    let vocabulary = Vocabulary::builtin();

    let report = musubi_connectors::harvest(&manifest("right.key"), &store, &vocabulary, &client).await.expect("the key is sent");
    assert_eq!(report.records, 1);
    let err = musubi_connectors::harvest(&manifest("wrong.key"), &store, &vocabulary, &client).await.expect_err("refused");
    assert!(err.to_string().contains("401") && !err.to_string().contains("guess"), "{err}");
    let err = musubi_connectors::harvest(&manifest("missing.key"), &store, &vocabulary, &client).await.expect_err("no secret");
    assert!(err.to_string().contains("missing.key"), "{err}");

    // A secret written into the manifest itself is refused at load.
    let err = parse_manifest(
        "id = \"s\"\nkind = \"rdf-dump\"\nendpoint = \"https://e.org\"\n[auth]\nkind = \"api-key\"\nsecret = \"abc\"\n",
        &dir.path().join("s.toml"),
    )
    .expect_err("inline secret");
    assert_eq!(err.line, 6, "{err}");
}

#[tokio::test]
async fn serve_harvests_scheduled_sources_in_the_background() {
    let partner = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = format!(
        "id = \"nbdc-datasets\"\nkind = \"json-api\"\nendpoint = \"{}\"\nmapping = \"{}\"\nschedule = \"1s\"\n\
         [paging]\nstyle = \"next-link\"\nrecords = \"$.data[*]\"\nnext = \"$.links.next\"\n",
        partner.url("/api/datasets"),
        musubi_tests::mappings().join("humandbs-dataset.rml.ttl").display()
    );
    let sources = write_manifests(&dir.path().join("sources"), &[("nbdc.toml", manifest)]);
    let app = App::new(Parts::new(Arc::new(EmbeddedStore::in_memory()), load_manifests(&sources).expect("manifest"), Vocabulary::builtin()))
        .expect("hub");
    let scheduler = app.start_scheduler();
    assert_eq!(scheduler.len(), 1);
    let addr = support::serve(app).await;

    // Never harvested: due at once. Then again every second, while queries are answered.
    let mut harvests = Vec::new();
    for _ in 0..100 {
        let r = graphql(addr, "{ sources { lastHarvest } datasets { totalCount } }").await;
        if let Some(t) = r["data"]["sources"][0]["lastHarvest"].as_str() {
            assert_eq!(r["data"]["datasets"]["totalCount"], 3, "{r}");
            if harvests.last() != Some(&t.to_owned()) {
                harvests.push(t.to_owned());
            }
        }
        if harvests.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(harvests.len() >= 2, "expected two scheduled harvests, saw {harvests:?}");

    // Stopped (as `serve` does at shutdown), the loop starts no further harvest.
    assert_eq!(scheduler.stop(std::time::Duration::from_secs(30)).await, 0, "a one-record harvest lands within the grace");
    let last = graphql(addr, "{ sources { lastAttempt } }").await["data"]["sources"][0]["lastAttempt"].clone();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let after = graphql(addr, "{ sources { lastAttempt } }").await["data"]["sources"][0]["lastAttempt"].clone();
    assert_eq!(after, last, "no harvest after the scheduler stopped");
}

/// Remembers every progress report.
#[derive(Default)]
struct Recorded(std::sync::Mutex<Vec<(String, usize, Option<usize>)>>);

impl musubi_connectors::Progress for Recorded {
    fn records(&self, source: &str, done: usize, expected: Option<usize>) {
        self.0.lock().expect("lock").push((source.to_owned(), done, expected));
    }
}

#[tokio::test]
async fn harvest_progress_counts_records_page_by_page_against_the_stated_total() {
    let setup = harvested_hub().await;
    let recorded = Arc::new(Recorded::default());
    let app = setup.app.clone().with_progress(recorded.clone());
    app.harvest(&["nbdc-research-versions".to_owned()]).await.remove(0).1.expect("harvest");
    let reports = recorded.0.lock().expect("lock").clone();
    let total = json_records("humandbs/research-version").len();
    // Offset paging states the total; each page advances the count, the last reaches it.
    assert!(reports.len() >= 2, "{reports:?}");
    assert!(reports.windows(2).all(|w| w[0].1 < w[1].1), "{reports:?}");
    assert_eq!(reports.last(), Some(&("nbdc-research-versions".to_owned(), total, Some(total))));
}

#[tokio::test]
async fn another_hub_harvests_this_one_over_graphql_with_cursor_paging() {
    // The partner is a musubi hub itself: its GraphQL API is a real partner GraphQL endpoint.
    let partner = harvested_hub().await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("datasets.graphql"),
        "query Page($first: Int, $after: String) { datasets(first: $first, after: $after) {
           nodes { accession title { value lang } sourceAccessLevel }
           pageInfo { hasNextPage endCursor } } }",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("musubi.rml.ttl"),
        r#"@prefix rml: <http://w3id.org/rml/> . @prefix dct: <http://purl.org/dc/terms/> .
           @prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix musubi: <https://w3id.org/musubi/vocab#> .
           <#D> rml:logicalSource [ rml:referenceFormulation rml:JSONPath ] ;
             rml:subjectMap [ rml:template "https://w3id.org/musubi/dataset/{accession}" ; rml:class dcat:Dataset ] ;
             rml:predicateObjectMap [ rml:predicate dct:identifier ; rml:objectMap [ rml:reference "accession" ] ] ,
               [ rml:predicate dct:title ; rml:objectMap [ rml:reference "title[*].value" ] ] ,
               [ rml:predicate musubi:sourceAccessLevel ; rml:objectMap [ rml:reference "sourceAccessLevel[*]" ] ] ."#,
    )
    .expect("write");
    let manifest = format!(
        "id = \"upstream\"\nkind = \"graphql\"\nendpoint = \"http://{}/graphql\"\nquery = \"../datasets.graphql\"\nmapping = \"../musubi.rml.ttl\"\n\
         [paging]\nstyle = \"cursor\"\npage_size = 3\nrecords = \"$.data.datasets.nodes[*]\"\n\
         cursor = \"$.data.datasets.pageInfo.endCursor\"\nhas_next = \"$.data.datasets.pageInfo.hasNextPage\"\n[record]\nid = \"accession\"\n",
        partner.addr
    );
    let sources = write_manifests(&dir.path().join("sources"), &[("upstream.toml", manifest)]);
    let downstream =
        App::new(Parts::new(Arc::new(EmbeddedStore::in_memory()), load_manifests(&sources).expect("manifest"), Vocabulary::builtin()))
            .expect("hub");
    let report = downstream.harvest(&[]).await.remove(0).1.expect("harvest over GraphQL");
    let addr = support::serve(downstream).await;

    let accessions = |r: &Value| -> Vec<String> {
        let mut a: Vec<String> = nodes(r).iter().map(|n| n["accession"].as_str().expect("accession").to_owned()).collect();
        a.sort();
        a
    };
    let upstream_all = accessions(&graphql(partner.addr, ALL).await);
    assert!(upstream_all.len() > 3, "several pages of 3");
    assert_eq!(report.records, upstream_all.len());
    let downstream_all = graphql(addr, ALL).await;
    assert_eq!(accessions(&downstream_all), upstream_all);
    assert_eq!(find(nodes(&downstream_all), "JGAD000001")["accessLevel"], "CONTROLLED", "normalised again downstream");

    // A query the partner refuses fails the harvest with the partner's own message.
    std::fs::write(dir.path().join("datasets.graphql"), "query Page($first: Int, $after: String) { datasets(first: $first, after: $after) { nodes { noSuchField } } }")
        .expect("write");
    let again = App::new(Parts::new(Arc::new(EmbeddedStore::in_memory()), load_manifests(&sources).expect("manifest"), Vocabulary::builtin())).expect("hub");
    let err = again.harvest(&[]).await.remove(0).1.expect_err("refused query").to_string();
    assert!(err.contains("answered with errors") && err.contains("noSuchField"), "{err}");
}
