//! What statistics from the caller's own view cost `search`: the same relevance query (first page,
//! then the next by its cursor) over 20,000 datasets with 0 %, 1 % and 10 % of them embargoed, for
//! an anonymous caller (the embargoed documents counted out of the statistics), a researcher with
//! grants for 50 datasets (CONTROLLED text counted on those only) and a steward (nothing counted
//! out: the statistics are the index's own, as every caller's were before), and with enforcement
//! switched off (`ApiState::without_enforcement`, only in this `bench` feature build).
//!
//! Run: `cargo bench -p musubi-schema --features bench --bench search`. Prints the figures;
//! asserts nothing about time.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use musubi_read_model::{ReadModel, SourceView};
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab::Vocabulary;
use musubi_schema::{AuditCollector, ApiState, ApiSchema, Principal};

const RECORDS: usize = 20_000;
const RUNS: usize = 40;
const QUERY: &str = r#"{ search(query: "cohort genome", first: 20) { totalCount edges { cursor score node { ... on Dataset { accession } } } pageInfo { endCursor } } }"#;

fn model(embargoed_every: Option<usize>) -> ReadModel {
    let mut ttl = String::from(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .\n\
         @prefix m: <https://w3id.org/musubi/vocab#> . @prefix d: <https://w3id.org/musubi/dataset/> .\n",
    );
    let topics = ["cohort", "genome", "exome", "tumour", "blood", "liver", "cohort genome", "metabolome"];
    for i in 0..RECORDS {
        let embargo = if embargoed_every.is_some_and(|n| i % n == 0) { "m:embargoUntil \"2999-01-01\" ;" } else { "" };
        let sensitive = if i % 7 == 0 { "m:sensitive true ;" } else { "" };
        writeln!(
            ttl,
            "d:JGAD{i:06} a dcat:Dataset ; dct:identifier \"JGAD{i:06}\" ; dct:title \"{} study {i}\"@en ;\n\
             dct:description \"Sequencing of {} samples, tumour and normal, from study {i}.\"@en ; dcat:keyword \"{}\" ;\n\
             m:contactEmail \"desk{i}@example.org\" ; m:sampleAttribute \"{} stage II\" ; m:internalId \"JSUB{i:06} genome\" ; {embargo} {sensitive}\n\
             m:accessLevel m:ControlledAccess .",
            topics[i % topics.len()],
            topics[(i / 3) % topics.len()],
            topics[(i / 5) % topics.len()],
            topics[(i / 11) % topics.len()],
        )
        .expect("string");
    }
    let triples = musubi_ontology::parse_triples(ttl.as_bytes(), musubi_ontology::RdfFormat::Turtle, "http://example.org/").expect("turtle");
    ReadModel::default().with_source(SourceView::from_triples("bench", triples))
}

fn callers() -> Vec<(&'static str, Principal)> {
    let granted = Principal {
        tier: Tier::Registered,
        grants: (0..RECORDS).step_by(RECORDS / 50).map(|i| format!("JGAD{i:06}")).collect::<HashSet<_>>(),
        subject: Some("bench".to_owned()),
        issuer: Some("bench".to_owned()),
    };
    vec![
        ("anonymous", Principal::anonymous()),
        ("granted (50)", granted),
        ("steward", Principal { tier: Tier::Steward, ..Principal::anonymous() }),
    ]
}

async fn ask(schema: &ApiSchema, principal: &Principal, query: &str) -> (Duration, serde_json::Value) {
    let start = Instant::now();
    let response = schema.execute(async_graphql::Request::new(query).data(principal.clone()).data(AuditCollector::new())).await;
    let elapsed = start.elapsed();
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    (elapsed, serde_json::to_value(&response.data).expect("json"))
}

/// Median times of the first page and of the next one by its cursor.
async fn medians(schema: &ApiSchema, principal: &Principal) -> (Duration, Duration) {
    let (mut first, mut next) = (Vec::new(), Vec::new());
    for run in 0..RUNS + 3 {
        let (t, page) = ask(schema, principal, QUERY).await;
        let cursor = page["search"]["pageInfo"]["endCursor"].as_str().expect("a next page").to_owned();
        let (u, _) = ask(schema, principal, &QUERY.replace("first: 20)", &format!("first: 20, after: {cursor:?})"))).await;
        if run >= 3 {
            first.push(t);
            next.push(u);
        }
    }
    first.sort();
    next.sort();
    (first[first.len() / 2], next[next.len() / 2])
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let vocabulary = Arc::new(Vocabulary::builtin());
    println!("search(query: \"cohort genome\", first: 20) over {RECORDS} datasets, {RUNS} runs, median first page / next page:");
    for (label, every) in [("0 % embargoed", None), ("1 % embargoed", Some(100)), ("10 % embargoed", Some(10))] {
        let model = model(every);
        let hub = Arc::new(ApiState::new(vocabulary.clone(), model.clone(), Vec::new()));
        let schema = musubi_schema::build(hub);
        let off = musubi_schema::build(Arc::new(ApiState::new(vocabulary.clone(), model, Vec::new()).without_enforcement()));
        println!("  {label}:");
        for (name, principal) in callers() {
            let (first, next) = runtime.block_on(medians(&schema, &principal));
            println!("    {name:<14} {first:>10.2?} / {next:>10.2?}");
        }
        let (first, next) = runtime.block_on(medians(&off, &callers()[0].1));
        println!("    {:<14} {first:>10.2?} / {next:>10.2?}", "enforcement off");
    }
}
