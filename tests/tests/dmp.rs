//! The DMP catalog, sharing deadlines and DUO matching, end to end: AMED DMPs ingested through
//! the STEWARD mutation and the CLI path, an invalid plan refused whole with the graph unchanged,
//! deadlines that turn MET when the deposited record is harvested from a loopback JGA partner (or
//! a steward confirms a link), and DUO verdicts over the JGA datasets' policies, free-text ones
//! included once a steward confirms a suggested code.

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use musubi_gateway::app::{App, Parts, load_manifests};
use musubi_platform::dmp::SharingPolicy;
use musubi_store::{EmbeddedStore, GraphStore};
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab::Vocabulary;
use musubi_schema::Principal;
use musubi_tests::{Partner, jga_manifests, write_manifests};
use serde_json::{Value, json};

const AS_OF: &str = "2026-11-25";

fn steward() -> Principal {
    Principal { tier: Tier::Steward, grants: HashSet::new(), subject: Some("dac-member".into()), issuer: Some("https://idp.example.org".into()) }
}

async fn ask(app: &App, principal: &Principal, query: &str, variables: Value) -> Value {
    let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
    let response = app.execute(request, principal.clone()).await.expect("audit log written");
    serde_json::to_value(&response).expect("json")
}

struct Setup {
    app: App,
    store: Arc<EmbeddedStore>,
    _partner: Partner,
    _dir: tempfile::TempDir,
}

/// A hub that knows the JGA sources (served by a loopback partner) but has not harvested them.
async fn hub() -> Setup {
    let partner = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = write_manifests(&dir.path().join("sources"), &jga_manifests(&partner));
    let manifests = load_manifests(&folder).expect("manifests are valid");
    let store = Arc::new(EmbeddedStore::in_memory());
    let policy = SharingPolicy { periods: vec![("Genome data".into(), 6), ("Clinical data".into(), 12)], designated: vec!["jga".into()] };
    let app = App::new(Parts { sharing: policy, ..Parts::new(store.clone(), manifests, Vocabulary::builtin()) }).expect("hub starts");
    Setup { app, store, _partner: partner, _dir: dir }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(musubi_tests::fixtures().join("amed-dmp").join(name)).expect("fixture")
}

const INGEST: &str = "mutation($c: String!, $f: String) { ingestDmp(content: $c, fileName: $f) { id project items } }";
const ITEMS: &str = "{ dmpItems { id dataNumber title category sourceAccessLevel accessLevel availabilityStarts reasonForConcealment
    informedConsent informedConsentFormat contentSize clinicalRegistrations depositAccessions generatedOn
    plan { project projectNumber fundingProgramme funder { iri name } chiefResearcher { name } dataManager { name } } } }";
const DEADLINES: &str = "query($d: String) { sharingDeadlines(asOf: $d) { itemId category generatedOn months deadline status sharedAs } }";

fn statuses(answer: &Value) -> Vec<(String, String, String)> {
    answer["data"]["sharingDeadlines"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|d| (d["itemId"].as_str().unwrap().rsplit('/').next().unwrap().to_owned(), d["deadline"].as_str().unwrap().to_owned(), d["status"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dmp_is_ingested_shown_by_tier_and_its_deadlines_are_met_when_the_record_is_harvested() {
    let s = hub().await;
    let anonymous = Principal::anonymous();

    // Nothing yet; this answer is cached, and the ingest below (a mutation) must drop it.
    let before = ask(&s.app, &anonymous, ITEMS, json!({})).await;
    assert_eq!(before["data"]["dmpItems"], json!([]), "{before}");

    // Only a steward may ingest.
    let denied = ask(&s.app, &anonymous, INGEST, json!({"c": fixture("dmp-example.jsonld")})).await;
    assert_eq!(denied["errors"][0]["extensions"]["code"], "FORBIDDEN", "{denied}");
    assert!(s.store.graph_names().unwrap().is_empty(), "nothing stored");

    let ingested = ask(&s.app, &steward(), INGEST, json!({"c": fixture("dmp-example.jsonld"), "f": "dmp-example.jsonld"})).await;
    assert_eq!(ingested["data"]["ingestDmp"]["items"], 3, "{ingested}");
    let plan_id = ingested["data"]["ingestDmp"]["id"].as_str().unwrap().to_owned();

    // Public fields for everyone; concealment reasons, consent details, the data manager: STEWARD.
    let public = ask(&s.app, &anonymous, ITEMS, json!({})).await;
    let items = public["data"]["dmpItems"].as_array().unwrap_or_else(|| panic!("{public}"));
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["title"], "Whole genome sequences of tumour and matched normal tissue");
    assert_eq!(items[0]["accessLevel"], "CONTROLLED", "Restricted Closed Sharing is normalised");
    assert_eq!(items[0]["depositAccessions"], json!(["JGAD000001"]));
    assert_eq!(items[0]["plan"]["funder"]["name"], "Japan Agency for Medical Research and Development");
    assert_eq!(items[2]["accessLevel"], "CLOSED");
    for field in ["reasonForConcealment", "informedConsent", "informedConsentFormat"] {
        assert!(items[2][field].is_null(), "{field} leaked: {public}");
    }
    assert!(items[0]["plan"]["dataManager"].is_null());
    let denied: Vec<&str> = public["errors"].as_array().unwrap().iter().map(|e| e["extensions"]["requiredTier"].as_str().unwrap()).collect();
    assert!(!denied.is_empty() && denied.iter().all(|t| *t == "STEWARD"), "{public}");
    let full = ask(&s.app, &steward(), ITEMS, json!({})).await;
    assert!(full["errors"].is_null(), "{full}");
    assert_eq!(full["data"]["dmpItems"][2]["reasonForConcealment"], "The dataset includes personal information.");
    assert_eq!(full["data"]["dmpItems"][0]["plan"]["dataManager"]["name"], "Taro Sato");

    // Deadlines before JGA is harvested: genome data 6 months, clinical data 12.
    let before = ask(&s.app, &steward(), DEADLINES, json!({"d": AS_OF})).await;
    assert_eq!(
        statuses(&before),
        [("1".into(), "2024-10-01".into(), "OVERDUE".into()), ("2".into(), "2025-07-15".into(), "OVERDUE".into()), ("3".into(), "2027-10-01".into(), "DUE".into())],
        "{before}"
    );
    let denied = ask(&s.app, &anonymous, DEADLINES, json!({"d": AS_OF})).await;
    assert!(denied["data"]["sharingDeadlines"].is_null() && denied["errors"][0]["extensions"]["code"] == "FORBIDDEN", "{denied}");

    // JGAD000001 appears in the designated database: item 1 is met.
    support::harvest_all(&s.app).await;
    let after = ask(&s.app, &steward(), DEADLINES, json!({"d": AS_OF})).await;
    assert_eq!(statuses(&after)[0], ("1".into(), "2024-10-01".into(), "MET".into()), "{after}");
    assert_eq!(after["data"]["sharingDeadlines"][0]["sharedAs"], json!(["JGAD000001"]));
    let records = ask(&s.app, &anonymous, "{ dmpItems { depositedRecords { accession kind sources } } }", json!({})).await;
    assert_eq!(records["data"]["dmpItems"][0]["depositedRecords"], json!([{"accession": "JGAD000001", "kind": "DATASET", "sources": ["jga", "jga-dates"]}]), "{records}");

    // Item 2 names no accession; the hub suggests the harvested dataset whose title it shares
    // (stewards only), a steward confirms it, and the link survives re-ingesting the plan.
    let item2 = format!("{plan_id}/2");
    const SUGGEST: &str = "query($i: ID!) { dmpItem(id: $i) { suggestedRecords } }";
    let hidden = ask(&s.app, &anonymous, SUGGEST, json!({"i": item2})).await;
    assert!(hidden["data"]["dmpItem"]["suggestedRecords"].is_null(), "{hidden}");
    let suggested = ask(&s.app, &steward(), SUGGEST, json!({"i": item2})).await;
    assert_eq!(suggested["data"]["dmpItem"]["suggestedRecords"], json!(["JGAD000001"]), "{suggested}");
    let linked = ask(&s.app, &steward(), "mutation($i: ID!) { confirmDmpLink(item: $i, accession: \"JGAD000001\") }", json!({"i": item2})).await;
    assert_eq!(linked["data"]["confirmDmpLink"], json!(["JGAD000001"]), "{linked}");
    let csv = s.app.ingest_dmp(fixture("dmp-example.csv").as_bytes(), "dmp-example.csv").expect("the CSV plan is valid");
    assert_eq!(csv.source_id(), plan_id, "the same project: the CSV replaces the JSON-LD plan");
    let after = ask(&s.app, &steward(), DEADLINES, json!({"d": AS_OF})).await;
    assert_eq!(statuses(&after).iter().map(|(_, _, st)| st.as_str()).collect::<Vec<_>>(), ["MET", "MET", "DUE"], "{after}");
    let japanese = ask(&s.app, &steward(), "{ dmpItems { title reasonForConcealment } }", json!({})).await;
    assert_eq!(japanese["data"]["dmpItems"][0]["title"], "腫瘍部・正常部の全ゲノム配列", "{japanese}");
    assert_eq!(japanese["data"]["dmpItems"][2]["reasonForConcealment"], "個人情報を含むため");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_dmp_is_refused_whole_with_every_problem_and_the_graph_is_unchanged() {
    let s = hub().await;
    let ok = ask(&s.app, &steward(), INGEST, json!({"c": fixture("dmp-example.jsonld")})).await;
    assert!(ok["errors"].is_null(), "{ok}");
    let graphs = |store: &EmbeddedStore| {
        let mut all: Vec<String> = Vec::new();
        for g in store.graph_names().unwrap() {
            all.extend(store.graph(g.as_ref()).unwrap().iter().map(|t| format!("{g} {t}")));
        }
        all.sort();
        all
    };
    let before = graphs(&s.store);
    let items_before = ask(&s.app, &steward(), ITEMS, json!({})).await;

    // The same project, with a good first row and three bad cells in the second.
    let mut csv = fixture("dmp-example.csv");
    csv = csv.replacen(",2,体細胞変異コール,", ",2,,", 1).replacen(",公開,,,", ",全公開,,,", 1).replacen("2025-01-15", "2025-02-30", 1);
    let refused = ask(&s.app, &steward(), INGEST, json!({"c": csv, "f": "plan.csv"})).await;
    let error = &refused["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{refused}");
    let problems: Vec<&str> = error["extensions"]["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].starts_with("row 3, name: `name` is required"), "{problems:?}");
    assert!(problems[1].starts_with("row 3, column アクセス権: `accessRights` must be one of"), "{problems:?}");
    assert!(problems[2].starts_with("row 3, column データ生成日: `dateCreated`"), "{problems:?}");
    assert!(error["message"].as_str().unwrap().contains("plan.csv: the DMP is refused (3 problem(s)); nothing was ingested"), "{refused}");

    assert_eq!(graphs(&s.store), before, "the graph is unchanged");
    assert_eq!(ask(&s.app, &steward(), ITEMS, json!({})).await, items_before, "and so is what the API shows");
}

#[tokio::test(flavor = "multi_thread")]
async fn duo_verdicts_use_policy_codes_and_a_confirmed_suggestion_with_the_mondo_ancestor() {
    let s = hub().await;
    support::harvest_all(&s.app).await;
    let anonymous = Principal::anonymous();
    const MATCH: &str = "query($p: ResearchPurposeInput!) { matchDataUse(purpose: $p, datasets: [\"JGAD000001\", \"JGAD999999\"]) {
        dataset found outcome rule dataUse { terms { code } diseases } } }";
    let purpose = json!({"p": {"diseases": ["MONDO:0000645"], "commercial": false}});

    // JGAD000001's policy (JGAP000002) is free text: no DUO codes yet, so a committee decides.
    let first = ask(&s.app, &anonymous, MATCH, purpose.clone()).await;
    let verdicts = first["data"]["matchDataUse"].as_array().unwrap_or_else(|| panic!("{first}"));
    assert_eq!(verdicts[0]["outcome"], "NEEDS_REVIEW");
    assert!(verdicts[0]["rule"].as_str().unwrap().contains("no DUO permission"), "{first}");
    assert_eq!((verdicts[1]["found"].clone(), verdicts[1]["outcome"].clone()), (json!(false), json!("NEEDS_REVIEW")));

    // The suggestion from the policy's text is for stewards.
    const SUGGEST: &str = "{ dataset(id: \"JGAD000001\") { policies { accession duoSuggestions { term { code } evidence } } } }";
    let hidden = ask(&s.app, &anonymous, SUGGEST, json!({})).await;
    assert!(hidden["data"]["dataset"]["policies"][0]["duoSuggestions"].is_null(), "{hidden}");
    let shown = ask(&s.app, &steward(), SUGGEST, json!({})).await;
    let policy = &shown["data"]["dataset"]["policies"][0];
    assert_eq!(policy["accession"], "JGAP000002", "{shown}");
    assert_eq!(policy["duoSuggestions"][0]["term"]["code"], "DS");
    assert!(policy["duoSuggestions"][0]["evidence"].as_str().unwrap().contains("Lung Cancer Study"));

    // Only a steward confirms; then DS of MONDO:0000624 covers research on its child MONDO:0000645.
    const CONFIRM: &str = "mutation { confirmDuoSuggestion(policy: \"JGAP000002\", duo: \"DS\", diseases: [\"MONDO:0000624\"]) }";
    let denied = ask(&s.app, &anonymous, CONFIRM, json!({})).await;
    assert_eq!(denied["errors"][0]["extensions"]["code"], "FORBIDDEN", "{denied}");
    let confirmed = ask(&s.app, &steward(), CONFIRM, json!({})).await;
    assert!(confirmed["errors"].is_null(), "{confirmed}");
    let second = ask(&s.app, &anonymous, MATCH, purpose).await;
    let v = &second["data"]["matchDataUse"][0];
    assert_eq!(v["outcome"], "MATCH", "{second}");
    assert!(v["rule"].as_str().unwrap().contains("is a kind of MONDO:0000624"), "{second}");
    assert_eq!(v["dataUse"], json!({"terms": [{"code": "DS"}], "diseases": ["http://purl.obolibrary.org/obo/MONDO_0000624"]}));
    // HMB research is broader than the consent.
    let hmb = ask(&s.app, &anonymous, MATCH, json!({"p": {"healthMedical": true, "commercial": false}})).await;
    assert_eq!(hmb["data"]["matchDataUse"][0]["outcome"], "NO_MATCH", "{hmb}");
    let field = ask(&s.app, &anonymous, "{ dataset(id: \"JGAD000001\") { dataUse { terms { code label } diseases } } }", json!({})).await;
    assert_eq!(field["data"]["dataset"]["dataUse"]["terms"][0]["label"], "disease specific research", "{field}");
    let bad = ask(&s.app, &anonymous, MATCH, json!({"p": {"diseases": ["lung cancer"], "commercial": false}})).await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{bad}");
}
