//! Query limits, the response cache and the bulk export, over HTTP against a served hub.
//!
//! The hub harvests a stewardship feed (an RDF dump with CONTROLLED values) through the
//! `rdf-dump` connector; callers are anonymous (PUBLIC) or hold an API key (STEWARD).

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use musubi_gateway::app::{App, Parts, load_manifests};
use musubi_gateway::identity::api_keys::ApiKeys;
use musubi_gateway::identity::{Identity, IdentityConfig};
use musubi_store::EmbeddedStore;
use musubi_ontology::vocab::Vocabulary;
use musubi_tests::write_manifests;
use serde_json::{Value, json};

/// `n` datasets, each with a public title and a CONTROLLED sample attribute.
fn feed(n: usize, title: &str) -> String {
    let mut ttl = String::from(
        "@prefix m: <https://w3id.org/musubi/vocab#> . @prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .\n",
    );
    for i in 1..=n {
        ttl.push_str(&format!(
            "<https://w3id.org/musubi/dataset/JGAD{i:06}> a dcat:Dataset ; dct:identifier \"JGAD{i:06}\" ; dct:title \"{title} {i}\"@en ;\n    m:sampleAttribute \"stage {i} quillwort\" .\n"
        ));
    }
    ttl
}

struct Served {
    app: App,
    addr: SocketAddr,
    steward_key: String,
    feed: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn hub(datasets: usize) -> Served {
    let dir = tempfile::tempdir().expect("tempdir");
    let feed_path = dir.path().join("stewardship.ttl");
    std::fs::write(&feed_path, feed(datasets, "Exomes")).expect("write");
    let sources = write_manifests(
        &dir.path().join("sources"),
        &[("stewardship.toml", format!("id = \"stewardship\"\nkind = \"rdf-dump\"\nendpoint = \"{}\"\n", feed_path.display()))],
    );
    let vocabulary = Vocabulary::builtin();
    let schemes = vocabulary.identifier_schemes().clone();
    let (steward_key, _) = ApiKeys::new(dir.path()).create("curator", "STEWARD", &[], &schemes).expect("key");
    let app = App::new(Parts::new(Arc::new(EmbeddedStore::in_memory()), load_manifests(&sources).expect("manifests"), vocabulary))
        .expect("hub starts")
        .with_identity(Identity::new(IdentityConfig::default(), Some(dir.path()), schemes));
    support::harvest_all(&app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = musubi_gateway::http::router(app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    Served { app, addr, steward_key, feed: feed_path, _dir: dir }
}

/// Posts a query (with variables, as a caller with `key` if any); the status and the JSON.
async fn post(addr: SocketAddr, key: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
    musubi_tests::graphql_status_as(addr, key, query, variables).await
}

/// The one error of a refused query: its message and extensions.
fn refusal(body: &Value) -> (&str, &Value) {
    assert!(body.get("data").is_none_or(Value::is_null), "a refused query has no data: {body}");
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("errors: {body}"));
    assert_eq!(errors.len(), 1, "{body}");
    (errors[0]["message"].as_str().expect("message"), &errors[0]["extensions"])
}

fn nested(levels: usize) -> String {
    let mut q = String::from("{ datasets { nodes { ");
    for _ in 0..levels {
        q.push_str("study { datasets { ");
    }
    q.push_str("accession");
    q.push_str(&" } }".repeat(levels));
    q.push_str(" } } }");
    q
}

/// Each hostile query is refused with an error naming the limit and the numbers, while normal
/// queries fired at the same time are answered in full.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_queries_are_refused_by_name_while_others_are_answered() {
    let hub = hub(30).await;
    let addr = hub.addr;
    let aliases: String = (0..200).map(|i| format!("a{i}: datasets(first: 1) {{ totalCount }} ")).collect();
    let tokens = format!("{{ datasets {{ nodes {{ {} }} }} }}", "id ".repeat(9_000));
    let deep_text = format!("{}{}", "{ a ".repeat(1_900), "}".repeat(1_900));
    // (name, query, variables, the limit named, the message's start)
    let hostile: Vec<(&str, String, Value, &str, &str)> = vec![
        ("depth bomb", nested(6), json!({}), "depth", "query depth 15 exceeds the limit 12"),
        ("nesting bomb", deep_text, json!({}), "depth", "query nesting (brackets) 1,900 exceeds the limit 20"),
        ("alias bomb", format!("{{ {aliases} }}"), json!({}), "aliases", "alias count 200 exceeds the limit 128"),
        ("huge first", "{ datasets(first: 1000000) { nodes { accession } } }".to_owned(), json!({}), "pageSize", "page size (`first` of `datasets`) 1,000,000 exceeds the limit 100"),
        ("huge first in a variable", "query Q($n: Int) { datasets(first: $n) { nodes { accession } } }".to_owned(), json!({ "n": 5000 }), "pageSize", "page size (`first` of `datasets`) 5,000 exceeds the limit 100"),
        (
            "cost explosion through nested lists",
            "{ datasets(first: 100) { nodes { study { datasets { title { value } study { datasets { accession title { value lang } } } } } } } }".to_owned(),
            json!({}),
            "cost",
            "query cost ",
        ),
        ("token flood", tokens, json!({}), "tokens", "query token count exceeds the limit 4,000"),
        ("40 kB query", format!("{{ datasets {{ totalCount }} }} #{}", "x".repeat(40_000)), json!({}), "queryBytes", "query size (bytes) 40,"),
    ];
    let mut tasks = Vec::new();
    for round in 0..5 {
        for (name, query, variables, limit, message) in hostile.clone() {
            tasks.push(tokio::spawn(async move {
                let (status, body) = post(addr, None, &query, variables).await;
                assert_eq!(status, 200, "{name}: application/json answers 200 with the error: {body}");
                let (text, extensions) = refusal(&body);
                assert!(text.starts_with(message), "{name}: {text}");
                assert_eq!(extensions["code"], "LIMIT_EXCEEDED", "{name}: {body}");
                assert_eq!(extensions["limit"], limit, "{name}: {body}");
                assert!(extensions["value"].as_u64() > extensions["max"].as_u64(), "{name}: {body}");
                if limit == "cost" {
                    assert!(text.ends_with("exceeds the limit 5,000"), "{text}");
                }
                round
            }));
        }
        // A 1 MB body is refused at the HTTP layer, naming the body limit.
        tasks.push(tokio::spawn(async move {
            let query = format!("{{ datasets {{ totalCount }} }} #{}", "x".repeat(1 << 20));
            let (status, body) = post(addr, None, &query, json!({})).await;
            assert_eq!(status, 413, "{body}");
            let (text, extensions) = refusal(&body);
            assert_eq!(text, "request body exceeds the limit 98,304 bytes (the query-size limit 32,768 plus 65,536 for variables)");
            assert_eq!(extensions["code"], "LIMIT_EXCEEDED");
            round
        }));
    }
    // Meanwhile, ordinary queries get their answers.
    let mut normal = Vec::new();
    for i in 0..40 {
        normal.push(tokio::spawn(async move {
            let (status, body) = post(addr, None, "query Page($after: String) { datasets(first: 10, after: $after) { totalCount nodes { accession title { value } } } }", json!({ "after": null })).await;
            assert_eq!(status, 200, "{body}");
            assert!(body.get("errors").is_none(), "normal query {i}: {body}");
            assert_eq!(body["data"]["datasets"]["totalCount"], 30);
            assert_eq!(body["data"]["datasets"]["nodes"].as_array().map(Vec::len), Some(10));
        }));
    }
    for t in tasks {
        t.await.expect("hostile query refused as expected");
    }
    for t in normal {
        t.await.expect("normal query answered");
    }
    // With the GraphQL response media type, a refused query is a request error: 400.
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(json!({ "query": nested(6) }).to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 400);
}

/// Limits come from the settings file's `[limits]` table; a misspelt key is named.
#[test]
fn limits_are_configured_in_the_settings_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("musubi.toml");
    std::fs::write(&file, "[limits]\ndepth = 6\ncost = 900\npage-size = 50\n\n[cache]\nttl-seconds = 5\n").expect("write");
    let settings = musubi_gateway::app::Settings::load(&file).expect("valid");
    assert_eq!((settings.limits.depth, settings.limits.cost, settings.limits.page_size, settings.limits.aliases), (6, 900, 50, 128));
    assert_eq!(settings.cache.ttl_seconds, 5);
    std::fs::write(&file, "[limits]\ndepht = 6\n").expect("write");
    let error = musubi_gateway::app::Settings::load(&file).expect_err("misspelt").to_string();
    assert!(error.contains("musubi.toml:2:1: field `depht`: unknown field"), "{error}");
    std::fs::write(&file, "[limits]\n  depth = 0\n").expect("write");
    let error = musubi_gateway::app::Settings::load(&file).expect_err("zero").to_string();
    assert!(error.contains("musubi.toml:2:3: field `depth`: [limits] depth = 0 would refuse every query"), "{error}");
}

/// Configured limits hold: a smaller page size and cost are enforced by the running hub.
#[tokio::test(flavor = "multi_thread")]
async fn configured_limits_are_enforced() {
    let hub = hub(3).await;
    let limits = musubi_schema::Limits { page_size: 2, cost: 10, ..Default::default() };
    let app = hub.app.clone().with_limits(limits);
    assert_eq!(app.limits().page_size, 2);
    let (_, body) = post(hub.addr, None, "{ datasets(first: 3) { nodes { accession } } }", json!({})).await;
    assert_eq!(refusal(&body).0, "page size (`first` of `datasets`) 3 exceeds the limit 2");
    let (_, body) = post(hub.addr, None, "{ datasets(first: 2) { nodes { accession title { value lang } sampleAttributes source sources } } }", json!({})).await;
    assert!(refusal(&body).0.starts_with("query cost ") && refusal(&body).0.ends_with("exceeds the limit 10"), "{body}");
    let (_, body) = post(hub.addr, None, "{ datasets(first: 2) { nodes { accession } } }", json!({})).await;
    assert_eq!(body["data"]["datasets"]["nodes"].as_array().map(Vec::len), Some(2), "{body}");
    // `search` is costed by its page size too.
    let (_, body) = post(hub.addr, None, "{ search(first: 2) { nodes { ... on Dataset { accession title { value lang } source sources } } } }", json!({})).await;
    assert!(refusal(&body).0.starts_with("query cost ") && refusal(&body).0.ends_with("exceeds the limit 10"), "{body}");
    let (_, body) = post(hub.addr, None, "{ search(first: 3) { nodes { ... on Dataset { accession } } } }", json!({})).await;
    assert_eq!(refusal(&body).0, "page size (`first` of `search`) 3 exceeds the limit 2");
}

const PAGE: &str = "query P($first: Int) { datasets(first: $first) { nodes { accession title { value } sampleAttributes } } }";

/// Every audit entry so far: subject, dataset, fields.
fn audited(app: &App) -> Vec<(Option<String>, Option<String>, Vec<String>)> {
    let (entries, _, _) = app.audit_log().page(0, usize::MAX, &Default::default()).expect("reads");
    entries.into_iter().map(|e| (e.subject, e.dataset, e.fields)).collect()
}

/// A repeated query is answered from the cache, per tier; a harvest drops what it answered; and
/// every answer with CONTROLLED values is audited, cached or not.
#[tokio::test(flavor = "multi_thread")]
async fn repeated_queries_come_from_the_cache_per_tier_and_are_audited_each_time() {
    let hub = hub(3).await;
    let (addr, key) = (hub.addr, hub.steward_key.as_str());
    let cache = hub.app.response_cache().clone();
    assert!(cache.is_empty());

    let (_, steward) = post(addr, Some(key), PAGE, json!({ "first": 3 })).await;
    assert!(steward.get("errors").is_none(), "{steward}");
    assert_eq!(steward["data"]["datasets"]["nodes"][0]["sampleAttributes"][0], "stage 1 quillwort");
    assert_eq!(cache.len(), 1);
    assert_eq!(audited(&hub.app).len(), 3, "one entry per dataset read");

    // The same query again: the same answer, from the cache (no new entry), audited again.
    let (_, again) = post(addr, Some(key), PAGE, json!({ "first": 3 })).await;
    assert_eq!(again, steward);
    assert_eq!(cache.len(), 1, "answered from the cache");
    let entries = audited(&hub.app);
    assert_eq!(entries.len(), 6, "a cached answer is audited like a run: {entries:?}");
    assert_eq!(entries[3..].iter().map(|e| e.2.clone()).collect::<Vec<_>>(), vec![vec!["sampleAttributes".to_owned()]; 3]);

    // Other variables, another entry.
    let (_, two) = post(addr, Some(key), PAGE, json!({ "first": 2 })).await;
    assert_eq!(two["data"]["datasets"]["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(cache.len(), 2);

    // A PUBLIC caller with the same query text never gets the steward's answer.
    let (_, public) = post(addr, None, PAGE, json!({ "first": 3 })).await;
    assert!(public["data"]["datasets"]["nodes"][0]["sampleAttributes"].is_null(), "{public}");
    assert_eq!(public["errors"][0]["extensions"]["code"], "FORBIDDEN", "{public}");
    assert!(!public.to_string().contains("quillwort"), "{public}");
    assert_eq!(cache.len(), 3, "its own entry");
    let (_, public_again) = post(addr, None, PAGE, json!({ "first": 3 })).await;
    assert_eq!(public_again, public);
    assert_eq!(audited(&hub.app).len(), 8, "the public reads audit nothing");

    // The audit log itself is never cached (it changes with every audited read).
    let log = "{ auditLog(first: 100) { totalCount } }";
    let (_, first) = post(addr, Some(key), log, json!({})).await;
    let (_, second) = post(addr, Some(key), log, json!({})).await;
    assert_eq!(first["data"]["auditLog"]["totalCount"], 8, "{first}");
    assert_eq!(second["data"]["auditLog"]["totalCount"], 9, "the first read of the log is an entry itself, which a run sees: {second}");
    assert_eq!(cache.len(), 3);

    // A harvest of the source lands new titles: the cache is dropped, the new data answers.
    std::fs::write(&hub.feed, feed(3, "Genomes")).expect("rewrite the feed");
    support::harvest_all(&hub.app).await;
    assert!(cache.is_empty(), "a landed harvest drops the cached answers");
    let (_, fresh) = post(addr, Some(key), PAGE, json!({ "first": 3 })).await;
    assert_eq!(fresh["data"]["datasets"]["nodes"][0]["title"][0]["value"], "Genomes 1", "{fresh}");
}

/// Every line of an NDJSON export.
async fn export_lines(addr: SocketAddr, path: &str, key: Option<&str>) -> (u16, String, Vec<Value>) {
    let mut request = reqwest::Client::new().get(format!("http://{addr}{path}"));
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.expect("answers");
    let status = response.status().as_u16();
    let media = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let text = response.text().await.expect("body");
    let lines = if path.contains(".ndjson") && status == 200 {
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
    } else {
        vec![serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))]
    };
    (status, media, lines)
}

/// The export streams every dataset the caller may see, through the tier guard and the audit:
/// CONTROLLED fields are absent for PUBLIC and present (and audited) for STEWARD; a cursor from
/// any line resumes after it, without repeats.
#[tokio::test(flavor = "multi_thread")]
async fn the_export_follows_tiers_and_resumes_from_a_cursor() {
    let hub = hub(250).await;
    let (addr, key) = (hub.addr, hub.steward_key.as_str());

    let (status, media, public) = export_lines(addr, "/export/datasets.ndjson", None).await;
    assert_eq!((status, media.as_str()), (200, "application/x-ndjson"));
    assert_eq!(public.len(), 250, "three internal pages, one stream");
    assert_eq!(public[0]["accession"], "JGAD000001");
    assert_eq!(public[0]["title"][0], json!({ "value": "Exomes 1", "lang": "en" }));
    assert!(public.iter().all(|r| r.get("sampleAttributes").is_none()), "CONTROLLED is absent for PUBLIC");
    assert!(public.iter().all(|r| r.get("internalIds").is_none()));
    assert!(audited(&hub.app).is_empty());

    let (_, _, steward) = export_lines(addr, "/export/datasets.ndjson", Some(key)).await;
    assert_eq!(steward.len(), 250);
    assert_eq!(steward[249]["sampleAttributes"][0], "stage 250 quillwort");
    let entries = audited(&hub.app);
    assert_eq!(entries.len(), 250, "each dataset's CONTROLLED read is audited");
    assert!(entries.iter().all(|e| e.0.is_some() && e.2.contains(&"sampleAttributes".to_owned())), "{:?}", &entries[..1]);

    // Resume after line 120: the rest, nothing twice.
    let cursor = public[119]["_cursor"].as_str().expect("cursor").to_owned();
    let (_, _, rest) = export_lines(addr, &format!("/export/datasets.ndjson?after={cursor}"), None).await;
    assert_eq!(rest.len(), 130);
    assert_eq!(rest[0]["accession"], "JGAD000121");
    let mut all: Vec<&Value> = public[..120].iter().chain(rest.iter()).map(|r| &r["accession"]).collect();
    all.dedup();
    assert_eq!(all.len(), 250);

    // A cursor the hub never issued is a 400 naming the parameter, before anything streams.
    let (status, _, body) = export_lines(addr, "/export/datasets.ndjson?after=bogus", None).await;
    assert_eq!(status, 400);
    assert!(body[0]["errors"][0]["message"].as_str().is_some_and(|m| m.contains("parameter `after`")), "{body:?}");

    // A credential that fails is refused before anything streams (never exported as anonymous):
    // a key the hub never issued, and a bearer token that is no token, on both formats.
    for path in ["/export/datasets.ndjson", "/export/datasets.jsonld"] {
        let (status, _, body) = export_lines(addr, path, Some("musubi_not-a-key-the-hub-issued")).await;
        assert_eq!(status, 401, "{path}: {body:?}");
        assert_eq!(body[0]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body:?}");
        let refused = reqwest::Client::new().get(format!("http://{addr}{path}")).bearer_auth("garbage").send().await.expect("answers");
        assert_eq!(refused.status().as_u16(), 401, "{path}");
        assert!(refused.headers().get("www-authenticate").is_some_and(|v| v.to_str().is_ok_and(|v| v.contains("invalid_token"))), "{path}");
    }

    // The Python example (standard library only) writes the same records; run again on its
    // file, it resumes after the last one and adds nothing.
    let out = hub._dir.path().join("python.ndjson");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/export.py");
    for _ in 0..2 {
        let (script, out) = (script.clone(), out.clone());
        let run = tokio::task::spawn_blocking(move || std::process::Command::new("python3").arg(script).arg(format!("http://{addr}")).arg(out).output())
            .await
            .expect("joins")
            .expect("python3 runs");
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let written: Vec<Value> = std::fs::read_to_string(hub._dir.path().join("python.ndjson")).expect("file").lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
        assert_eq!(written, public, "{}", String::from_utf8_lossy(&run.stdout));
    }

    // JSON-LD: one document, the vocabulary's IRIs in the context, texts language-tagged.
    let (status, media, doc) = export_lines(addr, "/export/datasets.jsonld", None).await;
    assert_eq!((status, media.as_str()), (200, "application/ld+json"));
    let doc = &doc[0];
    assert_eq!(doc["@context"]["title"]["@id"], "http://purl.org/dc/terms/title", "{}", doc["@context"]);
    assert_eq!(doc["@context"]["sampleAttributes"]["@id"], "https://w3id.org/musubi/vocab#sampleAttribute");
    let graph = doc["@graph"].as_array().expect("@graph");
    assert_eq!(graph.len(), 250);
    assert_eq!(graph[0]["@type"], "http://www.w3.org/ns/dcat#Dataset");
    assert_eq!(graph[0]["title"][0], json!({ "@value": "Exomes 1", "@language": "en" }));
    assert!(graph.iter().all(|r| r.get("sampleAttributes").is_none()));
}
