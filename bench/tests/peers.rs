//! The raw-index and naive SPARQL-per-field peers (`musubi-bench index`, `naive-sparql`) answer
//! the portal query over a harvested (on-disk) data folder, and agree with the hub.

use std::process::Command;

use musubi_bench::generate::{GenOptions, generate};
use musubi_bench::processes::start_peer;
use musubi_gateway::app::{App, Config};
use musubi_schema::Principal;
use musubi_tests::graphql;

fn bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_musubi-bench"))
}

/// musubi-bench's portal query, with its keyword.
fn portal(first: u32) -> String {
    format!(
        r#"{{ search(query: "cancer", filter: {{ kind: [DATASET], assays: ["WGS"], referenceGenomes: ["GRCh38"] }},
                facets: [ASSAYS, REFERENCE_GENOMES], first: {first}) {{
            totalCount
            facets {{ field values {{ value count }} }}
            nodes {{ ... on Dataset {{ id accession title {{ value lang }} description {{ value lang }} accessLevel
                releaseDate subjectCount assays platforms referenceGenomes keywords sources }} }} }} }}"#
    )
}

/// The rows of the Markdown tables `bench index` prints: (threads, requests/s).
fn rows(table: &str) -> Vec<(usize, f64)> {
    table
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            Some((cells.first()?.parse().ok()?, cells.get(1)?.parse().ok()?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_bench_peers_answer_the_portal_query_as_the_hub_does() {
    let work = tempfile::tempdir().expect("tempdir");
    let (catalogue, data) = (work.path().join("gen"), work.path().join("data"));
    generate(&GenOptions { datasets: 300, out: catalogue.clone(), seed: 1 }, |_| {}).expect("the catalogue is written");
    let config = Config { sources: catalogue.join("sources"), ..Config::of_data(data.clone()) };
    let harvester = App::open_for_harvest(&config).expect("the data folder opens");
    for (source, outcome) in harvester.harvest(&[]).await {
        outcome.unwrap_or_else(|e| panic!("{source}: {e}"));
    }
    drop(harvester);

    // The hub's own answer (every match on one page), as an anonymous caller asks it.
    let app = App::open(&config).expect("the hub opens");
    let answer = app.execute(async_graphql::Request::new(portal(100)), Principal::anonymous()).await.expect("audited");
    drop(app);
    assert!(answer.errors.is_empty(), "{:?}", answer.errors);
    let hub = serde_json::json!({ "data": answer.data.into_json().expect("json") });
    let hub_total = hub["data"]["search"]["totalCount"].as_u64().unwrap_or_else(|| panic!("{hub}"));
    assert!(hub_total > 0, "the generated catalogue has WGS/GRCh38 datasets about cancer: {hub}");
    let hub_accessions: Vec<&str> = hub["data"]["search"]["nodes"].as_array().expect("nodes").iter().filter_map(|n| n["accession"].as_str()).collect();

    // The raw index finds what the hub finds, and measures each thread count twice.
    let out = bench().arg("index").arg("--data").arg(&data).args(["--threads", "1,2", "--seconds", "0.3", "--keyword", "cancer"]).output().expect("bench runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains(&format!("totalCount {hub_total},")), "{said}");
    let measured = rows(&said);
    assert_eq!(measured.iter().map(|(t, _)| *t).collect::<Vec<_>>(), [1, 2, 1, 2], "index only, then with fields: {said}");
    assert!(measured.iter().all(|(_, rps)| *rps > 0.0), "{said}");

    // The naive peer answers the same query text over the same store, field by field.
    let log = work.path().join("naive.log");
    let _naive = start_peer(bench().arg("naive-sparql").arg("--data").arg(&data).args(["--listen", "127.0.0.1:0"]), &log, "open http://").expect("the naive peer starts");
    let said = std::fs::read_to_string(&log).expect("its log");
    let addr = said.lines().find_map(|l| l.strip_prefix("open http://")).expect("its address").trim_end_matches("/graphql").parse().expect("an address");
    let naive = graphql(addr, &portal(20)).await;
    assert!(naive.get("errors").is_none(), "{naive}");
    let search = &naive["data"]["search"];
    let total = search["totalCount"].as_u64().unwrap_or_else(|| panic!("{naive}"));
    assert!(total > 0 && total.abs_diff(hub_total) * 4 <= hub_total, "roughly the hub's count ({hub_total}): {naive}");
    let facet = |field: &str| search["facets"].as_array().expect("facets").iter().find(|f| f["field"] == field).map(|f| f["values"].clone());
    assert_eq!(facet("assays"), Some(serde_json::json!([{ "value": "WGS", "count": total }])), "{naive}");
    assert_eq!(facet("referenceGenomes"), Some(serde_json::json!([{ "value": "GRCh38", "count": total }])), "{naive}");
    let nodes = search["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len() as u64, total.min(20));
    for node in nodes {
        let accession = node["accession"].as_str().expect("accession");
        assert!(hub_accessions.contains(&accession), "the hub finds {accession} too: {node}");
        assert_eq!(node["id"], accession);
        assert!(node["assays"].as_array().expect("assays").contains(&"WGS".into()), "{node}");
        assert!(node["referenceGenomes"].as_array().expect("genomes").contains(&"GRCh38".into()), "{node}");
        let text = format!("{}{}", node["title"], node["description"]).to_lowercase();
        assert!(text.contains("cancer"), "{node}");
        assert!(node["sources"].as_array().is_some_and(|s| !s.is_empty()) && node["accessLevel"].is_string(), "{node}");
        // The same record, field by field, as the hub shows it.
        let hub_node = hub["data"]["search"]["nodes"].as_array().expect("nodes").iter().find(|n| n["accession"] == accession).expect("in the hub");
        for field in ["title", "releaseDate", "subjectCount", "assays", "referenceGenomes", "sources", "accessLevel"] {
            assert_eq!(node[field], hub_node[field], "{accession}.{field}");
        }
    }
}
