//! What tier enforcement costs: one 100-record page of `datasets` (with a text filter and fields
//! of every tier, nested distributions included) for a caller holding grants for half the datasets,
//! with enforcement on (guards, record policies, filter and search checks, the audit collector)
//! and switched off (`ApiState::without_enforcement`, only in this `bench` feature build).
//!
//! Run: `cargo bench -p musubi-schema --features bench --bench tiers`. Prints the figures; asserts
//! nothing about time.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use musubi_read_model::{ReadModel, SourceView};
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab::Vocabulary;
use musubi_schema::{AuditCollector, ApiState, ApiSchema, Principal};

const RECORDS: usize = 150;
const RUNS: usize = 60;

const PAGE: &str = r#"{ datasets(first: 100, filter: { text: "cohort" }) { totalCount nodes {
    accession title { value lang } description { value } keywords accessLevel releaseDate
    contactEmail sampleAttributes downloadUrls internalIds
    distributions { title { value } format accessUrl downloadUrl } } } }"#;

/// Synthetic datasets shaped like the harvested ones: every tier represented, some records
/// sensitive, a few embargoed.
fn model() -> ReadModel {
    let mut ttl = String::from(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .\n\
         @prefix m: <https://w3id.org/musubi/vocab#> . @prefix d: <https://w3id.org/musubi/dataset/> .\n",
    );
    for i in 0..RECORDS {
        let sensitive = if i % 5 == 0 { "m:sensitive true ;" } else { "" };
        let embargo = if i % 17 == 0 { "m:embargoUntil \"2999-01-01\" ;" } else { "" };
        writeln!(
            ttl,
            "d:JGAD{i:06} a dcat:Dataset ; dct:identifier \"JGAD{i:06}\" ; dct:title \"Cohort study {i}\"@en , \"コホート {i}\"@ja ;\n\
             dct:description \"Whole-exome sequencing of cohort {i}, tumour and normal.\"@en ; dcat:keyword \"exome\" , \"cohort\" ;\n\
             dct:issued \"2020-01-01\" ; m:accessLevel m:ControlledAccess ; m:contactEmail \"desk{i}@example.org\" ;\n\
             m:sampleAttribute \"stage II\" , \"stage III\" ; m:internalId \"JSUB{i:06}\" ; {sensitive} {embargo}\n\
             dcat:distribution [ a dcat:Distribution ; dct:title \"BAM files\" ; dct:format \"BAM\" ;\n\
               dcat:accessURL <https://example.org/{i}> ; dcat:downloadURL <https://example.org/{i}/files.tar> ] ."
        )
        .expect("string");
    }
    let triples = musubi_ontology::parse_triples(ttl.as_bytes(), musubi_ontology::RdfFormat::Turtle, "http://example.org/").expect("turtle");
    ReadModel::default().with_source(SourceView::from_triples("bench", triples))
}

fn caller() -> Principal {
    Principal {
        tier: Tier::Controlled,
        grants: (0..RECORDS).step_by(2).map(|i| format!("JGAD{i:06}")).collect::<HashSet<_>>(),
        subject: Some("bench".to_owned()),
        issuer: Some("bench".to_owned()),
    }
}

async fn median(schema: &ApiSchema) -> Duration {
    let mut times = Vec::with_capacity(RUNS);
    for run in 0..RUNS + 5 {
        let collector = AuditCollector::new();
        let start = Instant::now();
        let response = schema.execute(async_graphql::Request::new(PAGE).data(caller()).data(collector.clone())).await;
        let elapsed = start.elapsed();
        assert!(response.data.to_string().matches("JGAD").count() >= 100, "a full page");
        std::hint::black_box(collector.take());
        if run >= 5 {
            times.push(elapsed);
        }
    }
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let vocabulary = Arc::new(Vocabulary::builtin());
    let model = model();
    let enforced = musubi_schema::build(Arc::new(ApiState::new(vocabulary.clone(), model.clone(), Vec::new())));
    let unenforced = musubi_schema::build(Arc::new(ApiState::new(vocabulary, model, Vec::new()).without_enforcement()));
    let (on, off) = runtime.block_on(async { (median(&enforced).await, median(&unenforced).await) });
    println!("100-record page, {RUNS} runs, median:");
    println!("  enforcement on : {on:?}");
    println!("  enforcement off: {off:?}");
    println!("  ratio on/off   : {:.2}", on.as_secs_f64() / off.as_secs_f64());
}
