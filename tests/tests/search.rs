//! Search end to end: the real fixtures harvested from loopback partners (NBDC's JSON APIs, the
//! DCAT files, one DCAT dataset written here annotated with a MONDO child term), searched through
//! the hub's GraphQL `search` field as four kinds of caller.
//!
//! What a person would expect: Japanese words (肺がん, 日本人, ゲノム) and English ones find the
//! records that hold them; recall on the fixtures' Japanese text is measured against plain
//! substring matching; a MONDO parent term finds the dataset annotated with its child; facet
//! counts are the number of matching records with each value; paging while a harvest lands
//! neither skips nor repeats; a public caller's search does not match CONTROLLED text, and facet
//! counts differ by tier.

use std::collections::BTreeSet;
use std::sync::Arc;

use musubi_gateway::app::{App, Parts, load_manifests};
use musubi_store::EmbeddedStore;
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab::Vocabulary;
use musubi_schema::Principal;
use musubi_tests::{Partner, manifests, write_manifests};
use serde_json::{Value, json};

/// What a stewardship feed says about harvested datasets: JGAD000001 gets a CONTROLLED value
/// (a per-sample attribute) and DRA000908 is embargoed.
const STEWARDSHIP: &str = r#"@prefix m: <https://w3id.org/musubi/vocab#> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://w3id.org/musubi/dataset/JGAD000001> a dcat:Dataset ; dct:identifier "JGAD000001" ;
    m:sampleAttribute "tumour stage zephyrine" .
<https://w3id.org/musubi/dataset/DRA000908> a dcat:Dataset ; dct:identifier "DRA000908" ; m:embargoUntil "2999-12-31"^^xsd:date .
"#;

struct Setup {
    app: App,
    _partners: (Partner, Partner),
    dir: tempfile::TempDir,
}

/// The hub with every fixture source harvested except `mondo-fixture` (which tests harvest when
/// they want the index to change).
async fn harvested_hub() -> Setup {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let stewardship = dir.path().join("stewardship.ttl");
    std::fs::write(&stewardship, STEWARDSHIP).expect("write");
    let mut sources = manifests(&humandbs, &dcat);
    sources.push(("stewardship.toml", format!("id = \"stewardship\"\nkind = \"rdf-dump\"\nendpoint = \"{}\"\n", stewardship.display())));
    sources.push((
        "mondo-fixture.toml",
        format!("id = \"mondo-fixture\"\nkind = \"rdf-dump\"\nendpoint = [\"{}\"]\n", dcat.url("/files/search/mondo-annotated-dataset.ttl")),
    ));
    let folder = write_manifests(&dir.path().join("sources"), &sources);
    let manifests = load_manifests(&folder).expect("manifests are valid");
    let app = App::new(Parts::new(Arc::new(EmbeddedStore::in_memory()), manifests, Vocabulary::builtin())).expect("hub starts");
    let ids: Vec<String> = app.manifests().iter().map(|m| m.id.clone()).filter(|id| id != "mondo-fixture").collect();
    for (source, outcome) in app.harvest(&ids).await {
        outcome.unwrap_or_else(|e| panic!("{source} failed: {e}"));
    }
    Setup { app, _partners: (humandbs, dcat), dir }
}

async fn ask(app: &App, principal: &Principal, query: &str) -> Value {
    let response = app.execute(async_graphql::Request::new(query), principal.clone()).await.expect("audit log written");
    serde_json::to_value(&response).expect("json")
}

fn steward() -> Principal {
    Principal { tier: Tier::Steward, subject: Some("dac".into()), ..Principal::anonymous() }
}

fn registered_with(grants: &[&str]) -> Principal {
    Principal { tier: Tier::Registered, subject: Some("r".into()), grants: grants.iter().map(|g| (*g).to_owned()).collect(), ..Principal::anonymous() }
}

const HIT: &str = "... on Dataset { accession } ... on Study { accession }";

/// The accessions a search finds, over every page.
async fn found(app: &App, principal: &Principal, arguments: &str) -> BTreeSet<String> {
    let q = format!("{{ search({arguments}, first: 100) {{ totalCount nodes {{ {HIT} }} }} }}");
    let r = ask(app, principal, &q).await;
    assert!(r.get("errors").is_none(), "{arguments}: {r}");
    let nodes = r["data"]["search"]["nodes"].as_array().expect("nodes");
    assert_eq!(r["data"]["search"]["totalCount"], nodes.len(), "one page holds them all");
    nodes.iter().map(|n| n["accession"].as_str().expect("accession").to_owned()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn japanese_and_english_queries_find_what_a_person_expects() {
    let setup = harvested_hub().await;
    let app = &setup.app;
    let anyone = Principal::anonymous();
    // NBDC's research hum0014 (Bio Bank Japan) names 肺がん and 日本人 in its grants and
    // publications; hum0001 is "SCA31罹患患者のゲノム解析データ".
    assert!(found(app, &anyone, r#"query: "肺がん""#).await.contains("hum0014"));
    assert!(found(app, &anyone, r#"query: "日本人""#).await.contains("hum0014"));
    let genome = found(app, &anyone, r#"query: "ゲノム""#).await;
    assert!(genome.is_superset(&set(&["hum0001", "hum0014"])), "{genome:?}");
    // JGAD000001: "whole-exome sequencing data from 97 Japanese lung adenocarcinomapatients" (sic:
    // the source runs two words together, which no word tokenizer recovers); its samples 肺腫瘍組織.
    assert!(found(app, &anyone, r#"query: "肺腫瘍""#).await.contains("JGAD000001"));
    assert!(found(app, &anyone, r#"query: "肺""#).await.contains("JGAD000001"), "one kanji finds the bigrams holding it");
    assert_eq!(found(app, &anyone, r#"query: "Japanese lung exome", filter: { kind: [DATASET] }"#).await, set(&["JGAD000001"]));
    // Stemming: "sequences" finds "sequence"/"sequencing" records.
    assert!(found(app, &anyone, r#"query: "SCA31 sequences""#).await.contains("hum0001"));
    // Highlights mark the matched Japanese in the text.
    let r = ask(app, &anyone, &format!(r#"{{ search(query: "ゲノム解析", filter: {{ kind: [STUDY] }}) {{ edges {{ highlights node {{ {HIT} }} }} }} }}"#)).await;
    let edge = r["data"]["search"]["edges"].as_array().expect("edges").iter().find(|e| e["node"]["accession"] == "hum0001").cloned().unwrap_or_else(|| panic!("{r}"));
    assert!(edge["highlights"].as_array().expect("highlights").iter().any(|h| h.as_str().expect("text").contains("<em>ゲノム解析</em>")), "{edge}");
}

/// Recall on the fixtures' Japanese text: every record (dataset or study) one of whose shown
/// text values — its own, or those of a node it links to (a grant's title, a disease's label) —
/// contains the word as written must be found. The expected set is computed here from the read
/// model by substring matching, independently of the index; precision is reported alongside.
#[tokio::test]
async fn recall_on_japanese_text_is_complete() {
    let setup = harvested_hub().await;
    let app = &setup.app;
    let model = app.api_state().model();
    let vocabulary = app.api_state().vocabulary();
    let shown = |p: &str| vocabulary.property(p).is_some_and(|d| d.graphql_field.is_some());
    let literals = |node: &musubi_read_model::Node| -> Vec<String> {
        node.properties()
            .filter(|(p, _)| shown(p))
            .flat_map(|(_, vs)| vs.filter_map(|v| match v {
                musubi_ontology::rdf::TermRef::Literal(l) => Some(l.value().to_owned()),
                _ => None,
            }))
            .collect()
    };
    let text_of = |record: &musubi_read_model::MergedRecord| -> String {
        let mut text = Vec::new();
        for (view, node) in model.members(record) {
            text.extend(literals(&node));
            for (p, values) in node.properties().filter(|(p, _)| shown(p)) {
                let _ = p;
                for v in values {
                    let id = match v {
                        musubi_ontology::rdf::TermRef::NamedNode(n) => musubi_ontology::rdf::NamedOrBlankNode::from(n.into_owned()),
                        musubi_ontology::rdf::TermRef::BlankNode(b) => musubi_ontology::rdf::NamedOrBlankNode::from(b.into_owned()),
                        _ => continue,
                    };
                    if let Some(linked) = view.node(&id).filter(|n| !n.has_type(musubi_ontology::vocab::DCAT_DATASET) && !n.has_type(musubi_ontology::vocab::MUSUBI_STUDY)) {
                        text.extend(literals(&linked));
                    }
                }
            }
        }
        text.join("\n")
    };
    let records: Vec<(String, String)> =
        model.datasets().iter().chain(model.studies()).map(|r| (r.key().accession.clone(), text_of(r))).collect();
    let words = ["肺がん", "日本人", "ゲノム", "全ゲノム", "肺", "肺腫瘍", "腫瘍組織", "解析", "抽出", "末梢血", "遺伝子", "遺伝要因", "疾患", "がん",
        "研究", "組織", "患者", "データ", "バイオバンク", "医科学", "東京大学", "京都大学", "脊髄小脳失調症", "多型", "理化学研究所"];
    let (mut expected_total, mut found_total, mut extra_total) = (0, 0, 0);
    let mut report = Vec::new();
    for word in words {
        let expected: BTreeSet<String> = records.iter().filter(|(_, t)| t.contains(word)).map(|(a, _)| a.clone()).collect();
        let got = found(app, &steward(), &format!(r#"query: "{word}""#)).await;
        let hits = expected.intersection(&got).count();
        expected_total += expected.len();
        found_total += hits;
        extra_total += got.len() - hits;
        report.push(format!("{word}: {hits}/{} found, {} more", expected.len(), got.len() - hits));
        assert!(expected.is_subset(&got), "{word}: substring matches {expected:?}, search found {got:?}");
    }
    assert!(expected_total >= 30, "the fixtures' Japanese text was exercised: {report:#?}");
    println!(
        "recall on {} Japanese words over {} records: {found_total}/{expected_total}; {extra_total} further hits (bigrams all present, not adjacent)\n{}",
        words.len(),
        records.len(),
        report.join("\n")
    );
}

#[tokio::test]
async fn a_mondo_parent_term_finds_the_dataset_annotated_with_its_child() {
    let setup = harvested_hub().await;
    let app = &setup.app;
    let anyone = Principal::anonymous();
    assert!(found(app, &anyone, r#"filter: { diseases: ["MONDO:0000624"] }"#).await.is_empty(), "not harvested yet");
    for (source, outcome) in app.harvest(&["mondo-fixture".to_owned()]).await {
        outcome.unwrap_or_else(|e| panic!("{source} failed: {e}"));
    }
    assert_eq!(found(app, &anyone, r#"filter: { diseases: ["MONDO:0000624"] }"#).await, set(&["MTD0001"]), "the parent finds the child");
    assert_eq!(found(app, &anyone, r#"filter: { diseases: ["http://purl.obolibrary.org/obo/MONDO_0000645"] }"#).await, set(&["MTD0001"]));
    assert!(found(app, &anyone, r#"filter: { diseases: ["MONDO:0005070"] }"#).await.is_empty(), "an unrelated term finds nothing");
    // The facet names the term with its label; Japanese text of the new record is searchable.
    let r = ask(app, &anyone, r#"{ search(query: "卵管", facets: [DISEASES, ASSAYS]) { totalCount facets { field values { value label count } } } }"#).await;
    assert_eq!(r["data"]["search"]["totalCount"], 1, "{r}");
    assert_eq!(r["data"]["search"]["facets"][0]["values"], json!([{ "value": "MONDO:0000645", "label": "fallopian tube benign neoplasm", "count": 1 }]));
}

/// Facet counts equal the number of matching records with each value, for every facet, with and
/// without a filter on the facet's own values.
#[tokio::test]
async fn facet_counts_equal_the_matching_records() {
    let setup = harvested_hub().await;
    let app = &setup.app;
    for principal in [Principal::anonymous(), steward()] {
        let facets = ["SOURCE", "ACCESS_LEVEL", "TYPE", "ASSAYS", "PLATFORMS", "REFERENCE_GENOMES", "DISEASES", "DUO_CODES", "ORGANISATIONS", "RELEASE_YEAR", "SUBJECT_COUNT_RANGE"];
        for query in ["", r#"query: "genome""#, r#"query: "ゲノム""#] {
            let args = if query.is_empty() { String::new() } else { format!("{query}, ") };
            let r = ask(app, &principal, &format!("{{ search({args}facets: [{}], first: 100) {{ totalCount facets {{ field values {{ value count }} }} }} }}", facets.join(", "))).await;
            assert!(r.get("errors").is_none(), "{r}");
            let mut counted = 0;
            for facet in r["data"]["search"]["facets"].as_array().expect("facets") {
                let field = facet["field"].as_str().expect("field");
                for value in facet["values"].as_array().expect("values") {
                    // The range facets count by year and by order of magnitude: checked against
                    // the range filters.
                    if field == "releaseYear" || field == "subjectCountRange" {
                        let v = value["value"].as_str().expect("v");
                        let filter = match field {
                            "releaseYear" => format!(r#"releaseDate: {{ from: "{v}", to: "{v}" }}"#),
                            _ => {
                                let (min, max) = v.split_once('-').unwrap_or((v.trim_end_matches('+'), ""));
                                if max.is_empty() { format!("subjectCount: {{ min: {min} }}") } else { format!("subjectCount: {{ min: {min}, max: {max} }}") }
                            }
                        };
                        let matching = found(app, &principal, &format!("{args}filter: {{ {filter} }}")).await;
                        assert_eq!(value["count"], matching.len(), "{field} = {v} ({query}): {matching:?}");
                        counted += 1;
                        continue;
                    }
                    let literal = match field {
                        "accessLevel" => value["value"].as_str().expect("v").to_owned(),
                        _ => json!(value["value"]).to_string(),
                    };
                    let matching = found(app, &principal, &format!("{args}filter: {{ {field}: [{literal}] }}")).await;
                    assert_eq!(value["count"], matching.len(), "{field} = {literal} ({query}): {matching:?}");
                    counted += 1;
                }
            }
            if query.is_empty() {
                assert!(counted >= 8, "the fixtures have facet values: {r}");
                let sources = &r["data"]["search"]["facets"][0]["values"];
                let total: i64 = sources.as_array().expect("v").iter().map(|v| v["count"].as_i64().expect("n")).sum();
                assert!(total >= r["data"]["search"]["totalCount"].as_i64().expect("n"), "every record has a source");
            }
        }
    }
}

/// Pages taken while harvests land neither skip nor repeat: every record present before and
/// after is seen exactly once, in order.
#[tokio::test(flavor = "multi_thread")]
async fn paging_while_a_harvest_lands_neither_skips_nor_repeats() {
    let setup = harvested_hub().await;
    let app = &setup.app;
    let principal = steward();
    // Relevance with query text too: the cursor carries the statistics the first page was scored
    // with, so records keep their scores though the harvest changes the corpus.
    for (round, sort) in ["", r#"query: "data sequencing", "#, "sort: RELEASE_DATE, ", "sort: SUBJECT_COUNT, order: ASC, "].into_iter().enumerate() {
        let round = round + 1;
        let all = |app: &App| {
            let app = app.clone();
            let principal = principal.clone();
            async move { found(&app, &principal, &format!("{sort}filter: {{ kind: [DATASET, STUDY] }}")).await }
        };
        let before = all(app).await;
        let mut seen: Vec<String> = Vec::new();
        let mut after = String::new();
        let mut pages = 0;
        let mut harvest = None;
        loop {
            let r = ask(app, &principal, &format!("{{ search({sort}first: 1{after}) {{ nodes {{ {HIT} }} pageInfo {{ hasNextPage endCursor }} }} }}")).await;
            assert!(r.get("errors").is_none(), "{r}");
            seen.extend(r["data"]["search"]["nodes"].as_array().expect("nodes").iter().map(|n| n["accession"].as_str().expect("a").to_owned()));
            pages += 1;
            if pages == 2 {
                // A re-harvest of every partner, running while the next pages are asked for, and
                // before them a source that lands a new record (which changes the corpus: its
                // size, its statistics).
                let ids: Vec<String> = app.manifests().iter().map(|m| m.id.clone()).filter(|id| id != "stewardship").collect();
                let background = app.clone();
                harvest = Some(tokio::spawn(async move { background.harvest(&ids).await }));
                let extra: String = (1..=round)
                    .map(|n| format!(
                        "<https://example.org/extra/{n}> a <http://www.w3.org/ns/dcat#Dataset> ; <http://purl.org/dc/terms/identifier> \"EXTRA{n}\" ;\n\
                         <http://purl.org/dc/terms/title> \"data sequencing data sequencing {n}\" ; <http://purl.org/dc/terms/issued> \"2019-0{n}-01\" ;\n\
                         <https://w3id.org/musubi/vocab#subjectCount> {n} .\n"
                    ))
                    .collect();
                std::fs::write(setup.dir.path().join("stewardship.ttl"), format!("{STEWARDSHIP}{extra}")).expect("write");
                for (source, outcome) in app.harvest(&["stewardship".to_owned()]).await {
                    outcome.unwrap_or_else(|e| panic!("{source} failed: {e}"));
                }
            }
            let info = &r["data"]["search"]["pageInfo"];
            if info["hasNextPage"] != true {
                break;
            }
            after = format!(r#", after: "{}""#, info["endCursor"].as_str().expect("cursor"));
        }
        for (source, outcome) in harvest.expect("harvest started").await.expect("harvest task") {
            outcome.unwrap_or_else(|e| panic!("{source} failed: {e}"));
        }
        let now = all(app).await;
        assert!(pages > 3 && now.contains(&format!("EXTRA{round}")) && !before.contains(&format!("EXTRA{round}")), "{sort}: the index changed while paging ({pages} pages)");
        let unique: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: a record was repeated: {seen:?}");
        let kept: BTreeSet<String> = before.intersection(&now).cloned().collect();
        assert!(kept.is_subset(&unique), "{sort}: skipped {:?}", kept.difference(&unique).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn tiers_bound_text_facets_filters_and_sort() {
    let setup = harvested_hub().await;
    let app = &setup.app;
    let anyone = Principal::anonymous();
    // CONTROLLED text (a per-sample attribute of JGAD000001): only with the grant, or a steward.
    assert!(found(app, &anyone, r#"query: "zephyrine""#).await.is_empty());
    assert!(found(app, &registered_with(&["JGAD000002"]), r#"query: "zephyrine""#).await.is_empty(), "a grant for another dataset");
    assert_eq!(found(app, &registered_with(&["JGAD000001"]), r#"query: "zephyrine""#).await, set(&["JGAD000001"]));
    assert_eq!(found(app, &steward(), r#"query: "zephyrine""#).await, set(&["JGAD000001"]));
    // Nor is it highlighted for a caller who may not read it, though the record is found.
    let r = ask(app, &registered_with(&["JGAD000001"]), r#"{ search(query: "zephyrine") { edges { highlights } } }"#).await;
    assert!(r["data"]["search"]["edges"][0]["highlights"][0].as_str().expect("h").contains("<em>zephyrine</em>"), "{r}");
    // The embargoed DRA000908 is found by stewards only, and counts for them only.
    assert!(!found(app, &anyone, r#"query: "HLA""#).await.contains("DRA000908"));
    assert!(found(app, &steward(), r#"query: "HLA""#).await.contains("DRA000908"));
    let counts = |r: &Value| r["data"]["search"]["facets"][0]["values"].as_array().expect("values").iter().map(|v| (v["value"].as_str().expect("v").to_owned(), v["count"].as_i64().expect("n"))).collect::<Vec<_>>();
    let q = "{ search(facets: [SOURCE], filter: { kind: [DATASET] }) { totalCount facets { values { value count } } } }";
    let public = ask(app, &anyone, q).await;
    let full = ask(app, &steward(), q).await;
    let nbdc = |c: &[(String, i64)]| c.iter().find(|(v, _)| v == "nbdc-datasets").map(|(_, n)| *n);
    assert_eq!(nbdc(&counts(&full)), nbdc(&counts(&public)).map(|n| n + 1), "the embargoed dataset counts for the steward only: {public} {full}");
    assert_eq!(full["data"]["search"]["totalCount"].as_i64(), public["data"]["search"]["totalCount"].as_i64().map(|n| n + 1));
    // A filter, facet or sort on a field the caller may read nowhere is refused, naming it.
    let text = musubi_ontology::vocab::BUILTIN_TURTLE.replace(
        "musubi:tier musubi:Public ; musubi:graphqlField \"assays\"",
        "musubi:tier musubi:Registered ; musubi:graphqlField \"assays\"",
    );
    assert_ne!(text, musubi_ontology::vocab::BUILTIN_TURTLE);
    let vocabulary = Vocabulary::from_turtle(&text, "custom.ttl").expect("valid");
    let hub = Arc::new(musubi_schema::ApiState::new(Arc::new(vocabulary), musubi_read_model::ReadModel::default(), Vec::new()));
    let schema = musubi_schema::build(hub);
    for q in ["{ search(facets: [ASSAYS]) { totalCount } }", r#"{ search(filter: { assays: ["WGS"] }) { totalCount } }"#] {
        let r = schema.execute(async_graphql::Request::new(q).data(Principal::anonymous()).data(musubi_schema::AuditCollector::new())).await;
        let body = serde_json::to_value(&r).expect("json");
        assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{q}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["requiredTier"], "REGISTERED", "{body}");
        let r = schema.execute(async_graphql::Request::new(q).data(registered_with(&[])).data(musubi_schema::AuditCollector::new())).await;
        assert!(r.errors.is_empty(), "{q}: {:?}", r.errors);
    }
}

#[tokio::test]
async fn bad_arguments_get_clear_errors() {
    let setup = harvested_hub().await;
    let app = &setup.app;
    let anyone = Principal::anonymous();
    let r = ask(app, &anyone, r#"{ search(first: 1) { pageInfo { endCursor } } }"#).await;
    let cursor = r["data"]["search"]["pageInfo"]["endCursor"].as_str().expect("cursor").to_owned();
    for (q, says) in [
        (format!(r#"{{ search(sort: RELEASE_DATE, after: "{cursor}") {{ totalCount }} }}"#), "sorted by"),
        (r#"{ search(after: "garbage") { totalCount } }"#.to_owned(), "not a search cursor"),
        (r#"{ search(first: 1000) { totalCount } }"#.to_owned(), "exceeds the limit 100"),
        (r#"{ search(filter: { releaseDate: { from: "last spring" } }) { totalCount } }"#.to_owned(), "filter.releaseDate.from"),
    ] {
        let r = ask(app, &anyone, &q).await;
        let message = r["errors"][0]["message"].as_str().unwrap_or_else(|| panic!("{q}: {r}"));
        assert!(message.contains(says) || r["errors"][0]["extensions"].to_string().contains(says), "{q}: {r}");
    }
    // Ranges filter: release dates and subject counts.
    let r = ask(app, &anyone, &format!(r#"{{ search(filter: {{ releaseDate: {{ from: "2000", to: "2100" }} }}, sort: RELEASE_DATE, first: 100) {{ totalCount nodes {{ {HIT} }} }} }}"#)).await;
    assert!(r["data"]["search"]["totalCount"].as_i64().expect("n") > 0, "{r}");
    let r = ask(app, &anyone, r#"{ search(filter: { releaseDate: { to: "1900" } }) { totalCount } }"#).await;
    assert_eq!(r["data"]["search"]["totalCount"], 0, "{r}");
}
