//! The `musubi` binary as an operator runs it: harvest into a data folder on disk, serve it,
//! restart it; and what it says when a manifest is wrong or a source fails.

use std::net::SocketAddr;
use std::path::Path;

use musubi_tests::{Behaviour, Partner, graphql, manifests, write_manifests};

mod common;
use common::{Killed, listening, listening_saying, musubi};

/// Starts `musubi serve` on a free port and returns it (killed on drop) with the address it
/// printed.
fn serve(data: &Path) -> (Killed, SocketAddr) {
    let mut command = musubi(data);
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    listening(command)
}

const QUERY: &str = "{ datasets(first: 100) { totalCount nodes { accession source title { value lang } accessLevel } } sources { id recordCount lastHarvest } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_harvest_of_unchanged_sources_is_answered_with_304s_and_says_so() {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    write_manifests(&data.path().join("sources"), &manifests(&humandbs, &dcat));
    let harvest = || {
        let out = musubi(data.path()).args(["harvest", "nbdc-research-versions", "fair-data-point"]).output().expect("harvest runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = harvest();
    assert!(!first.contains("unchanged"), "{first}");
    humandbs.forget_seen();
    dcat.forget_seen();

    let second = harvest();
    let pages = humandbs.seen().len() + dcat.seen().len();
    assert!(pages > 2 && humandbs.seen().iter().chain(&dcat.seen()).all(|s| s.status == 304), "nothing re-downloaded");
    let said: usize = second
        .lines()
        .filter_map(|l| l[..l.find(" unchanged (304)")?].rsplit(' ').next()?.parse::<usize>().ok())
        .sum();
    assert_eq!(said, pages, "{second}");
    // The same documents make the same graph: nothing is stored again.
    let lines: Vec<&str> = second.lines().filter(|l| l.starts_with("ok")).collect();
    assert!(lines.len() == 2 && lines.iter().all(|l| l.ends_with("unchanged since the last harvest, nothing landed")), "{second}");
    assert!(data.path().join("cache/fair-data-point").is_dir());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harvest_then_serve_then_restart_serves_the_same_data_without_harvesting() {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    write_manifests(&data.path().join("sources"), &manifests(&humandbs, &dcat));
    // What a harvest killed mid-way leaves: its spooled triples. The next run removes them.
    let staging = data.path().join("staging");
    std::fs::create_dir_all(&staging).expect("mkdir");
    std::fs::write(staging.join("graph-left-by-a-kill.nt"), "<http://e/s> <http://e/p> \"o\" .\n").expect("write");

    let out = musubi(data.path()).arg("harvest").output().expect("harvest runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "harvest failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for source in ["nbdc-research", "nbdc-research-versions", "nbdc-datasets", "fair-data-point", "healthdcat-ap"] {
        assert!(stdout.contains(&format!("ok     {source}:")), "{stdout}");
    }
    assert_eq!(std::fs::read_dir(&staging).expect("staging").count(), 0, "stale and new spool files are gone");

    let (server, addr) = serve(data.path());
    let first = graphql(addr, QUERY).await;
    drop(server);
    assert!(first["data"]["datasets"]["totalCount"].as_i64() > Some(5), "{first}");

    // The partners go away: a restart must not need them.
    humandbs.stop().await;
    dcat.stop().await;
    let (_server, addr) = serve(data.path());
    let second = graphql(addr, QUERY).await;
    assert_eq!(second, first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_source_is_named_and_the_exit_code_says_so() {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    write_manifests(&data.path().join("sources"), &manifests(&humandbs, &dcat));
    humandbs.behave(Behaviour::ServerError);
    let out = musubi(data.path()).arg("harvest").output().expect("harvest runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("FAILED nbdc-datasets:") && stderr.contains("HTTP 500"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok     fair-data-point:"), "the other sources still land");

    let out = musubi(data.path()).args(["harvest", "no-such-source"]).output().expect("harvest runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-source"));
}

#[test]
fn a_malformed_manifest_is_rejected_at_load_with_file_line_and_field() {
    let data = tempfile::tempdir().expect("tempdir");
    let sources = data.path().join("sources");
    std::fs::create_dir_all(&sources).expect("mkdir");
    std::fs::write(sources.join("a-missing.toml"), "id = \"a\"\nkind = \"rdf-dump\"\n").expect("write");
    std::fs::write(sources.join("b-kind.toml"), "id = \"b\"\nkind = \"gopher\"\nendpoint = \"https://e.org\"\n").expect("write");
    std::fs::write(sources.join("c-url.toml"), "id = \"c\"\nkind = \"rdf-dump\"\n\nendpoint = \"https://bad host/\"\n").expect("write");
    let out = musubi(data.path()).arg("harvest").output().expect("harvest runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("a-missing.toml:") && stderr.contains("field `endpoint`"), "{stderr}");
    assert!(stderr.contains("b-kind.toml:2:") && stderr.contains("field `kind`") && stderr.contains("gopher"), "{stderr}");
    assert!(stderr.contains("c-url.toml:4:") && stderr.contains("not a valid URL"), "{stderr}");
}

#[test]
fn a_data_folder_in_use_is_refused_with_a_clear_message() {
    let data = tempfile::tempdir().expect("tempdir");
    let (_server, _) = serve(data.path());
    let out = musubi(data.path()).arg("harvest").output().expect("harvest runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is in use by another musubi process"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_check_shows_what_a_harvest_would_change_and_what_breaks_the_vocabulary() {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    let sources = write_manifests(&data.path().join("sources"), &manifests(&humandbs, &dcat));
    let check = |manifest: &str| musubi(data.path()).args(["connector", "check"]).arg(sources.join(manifest)).output().expect("check runs");

    // Before any harvest: every record is new; the shipped NBDC mapping breaks nothing.
    let out = check("nbdc-datasets.toml");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("3 records: 3 added, 0 changed, 0 removed, 0 unchanged") && stdout.contains("+ JGAD000001"), "{stdout}");
    assert!(stdout.contains("no vocabulary violations"), "{stdout}");
    assert!(!data.path().join("graph").exists(), "a dry run writes nothing");
    // The shipped mapping leaves no field unmapped but those its manifest ignores, with the reason.
    assert!(!stdout.contains("leaves unmapped"), "{stdout}");
    assert!(stdout.contains("  originalMetadata.accession (in 3 record(s)): ignored (the dataset's own accession (datasetId))"), "{stdout}");
    assert!(!stdout.contains("matched no field"), "the shipped ignore list has no stale entry: {stdout}");
    // Without the ignore list, the same fields show as unmapped, with how many records have them.
    let bare = data.path().join("nbdc-datasets-bare.toml");
    let text = std::fs::read_to_string(sources.join("nbdc-datasets.toml")).expect("manifest");
    std::fs::write(&bare, &text[..text.find("\n[check]").expect("a [check] section")]).expect("write");
    let out = musubi(data.path()).args(["connector", "check"]).arg(&bare).output().expect("check runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("source field(s) the mapping leaves unmapped"), "{stdout}");
    assert!(stdout.contains("  originalMetadata.DATA_REFS.DATA_REF.refname (in 1 record(s))"), "{stdout}");

    // After a harvest the same check finds nothing to change.
    assert!(musubi(data.path()).args(["harvest", "nbdc-datasets"]).output().expect("harvest").status.success());
    let stdout = String::from_utf8_lossy(&check("nbdc-datasets.toml").stdout).into_owned();
    assert!(stdout.contains("0 added, 0 changed, 0 removed, 3 unchanged"), "{stdout}");

    // HealthDCAT-AP: the health terms are hub properties; the terms dcat.rq translates are
    // ignored with the reason; a term nobody declared is still a violation that fails the check.
    let out = check("healthdcat-ap.toml");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("health#hdab"), "{stdout}");
    assert!(
        stdout.contains("  http://healthdataportal.eu/ns/health#numberOfUniqueIndividuals (in 1 record(s)): ignored (dcat.rq brings it into musubi:subjectCount (subjectCount))"),
        "{stdout}"
    );
    let manifest = std::fs::read_to_string(sources.join("healthdcat-ap.toml")).expect("manifest");
    std::fs::write(sources.join("healthdcat-ap.toml"), manifest.replace("health#populationCoverage", "health#other")).expect("write");
    let out = check("healthdcat-ap.toml");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("field <http://healthdataportal.eu/ns/health#populationCoverage>: not in the hub vocabulary"), "{stdout}");
    // …and the misspelt entry is named as matching nothing.
    assert!(stdout.contains("1 [check] ignore entr(ies) matched no field of these records (stale, misspelt, or for fields these records lack):\n  http://healthdataportal.eu/ns/health#other\n"), "{stdout}");

    // A partner that is down is a failed check, named.
    humandbs.stop().await;
    let out = check("nbdc-datasets.toml");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"));
}

/// Posts `{ sources { id } }` with an API key; returns the status and the WWW-Authenticate header.
async fn with_key(addr: SocketAddr, key: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .header("content-type", "application/json")
        .bearer_auth(key)
        .body(r#"{"query":"{ sources { id } }"}"#)
        .send()
        .await
        .expect("musubi answers");
    let challenge = r.headers().get("www-authenticate").map(|v| v.to_str().expect("ascii").to_owned()).unwrap_or_default();
    (r.status().as_u16(), challenge)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apikey_create_list_revoke_on_a_running_hub() {
    let data = tempfile::tempdir().expect("tempdir");
    let out = musubi(data.path())
        .args(["apikey", "create", "--name", "nightly-export", "--tier", "REGISTERED", "--grant", "JGAD000001"])
        .output()
        .expect("apikey create runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let key = stdout.lines().find(|l| l.starts_with("musubi_")).expect("the key is printed").to_owned();
    let id = key.split('_').nth(1).expect("id").to_owned();
    let stored = std::fs::read_to_string(data.path().join("api-keys.json")).expect("key file");
    // The secret is what follows the id (base64url: it may hold `_` itself).
    let secret = key.splitn(3, '_').nth(2).expect("secret");
    assert!(!stored.contains(&key) && !stored.contains(secret), "only the hash is stored");

    let list = musubi(data.path()).args(["apikey", "list"]).output().expect("apikey list runs");
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(listed.contains(&id) && listed.contains("nightly-export") && listed.contains("JGAD000001") && listed.contains("active"), "{listed}");
    assert!(!listed.contains(&key), "list never shows a key");

    let (_server, addr) = serve(data.path());
    assert_eq!(with_key(addr, &key).await.0, 200);
    let out = musubi(data.path()).args(["apikey", "revoke", &id]).output().expect("apikey revoke runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (status, challenge) = with_key(addr, &key).await;
    assert_eq!(status, 401, "the running hub refuses a revoked key");
    assert!(challenge.contains("revoked API key"), "{challenge}");
    let listed = String::from_utf8_lossy(&musubi(data.path()).args(["apikey", "list"]).output().expect("list").stdout).into_owned();
    assert!(listed.contains("revoked"), "{listed}");

    let bad = musubi(data.path()).args(["apikey", "create", "--name", "x", "--tier", "ADMIN"]).output().expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--tier"));
}

#[test]
fn a_bad_identity_file_stops_the_hub_with_file_line_and_field() {
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        data.path().join("identity.toml"),
        "[[issuer]]\nissuer = \"https://login.example.org\"\naudience = \"musubi\"\nalgorithms = [\"HS256\"]\n",
    )
    .expect("write");
    let out = musubi(data.path()).args(["serve", "--listen", "127.0.0.1:0"]).output().expect("serve runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("identity.toml:4:14: field `algorithms`") && stderr.contains("symmetric"), "{stderr}");
}

/// `musubi dmp ingest` refuses an invalid plan whole (every problem on stderr, exit 1, nothing
/// stored); a valid one lands on disk, and a later `musubi dmp deadlines` (another process) judges
/// it by `<data>/sharing-policy.toml`.
#[test]
fn dmp_ingest_refuses_an_invalid_plan_and_deadlines_read_the_stored_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data folder");
    std::fs::write(data.join("sharing-policy.toml"), "designated = [\"jga\"]\n[periods]\n\"Genome data\" = 6\n\"Clinical data\" = 12\n")
        .expect("policy");
    let fixtures = musubi_tests::fixtures().join("amed-dmp");
    let csv = std::fs::read_to_string(fixtures.join("dmp-example.csv")).expect("fixture");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, csv.replacen("制限共有", "秘密", 1).replacen("2026-10-01", "2026-10-32", 1)).expect("write");

    let out = musubi(&data).args(["dmp", "ingest"]).arg(&bad).output().expect("musubi runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bad.csv: the DMP is refused (2 problem(s)); nothing was ingested"), "{stderr}");
    assert!(stderr.contains("row 2, column アクセス権: `accessRights` must be one of"), "{stderr}");
    assert!(stderr.contains("row 4, column データ生成日: `dateCreated`"), "{stderr}");
    let out = musubi(&data).args(["dmp", "deadlines", "--as-of", "2026-11-25"]).output().expect("musubi runs");
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 item(s)"), "nothing was stored: {out:?}");

    let out = musubi(&data).args(["dmp", "ingest"]).arg(fixtures.join("dmp-example.jsonld")).output().expect("musubi runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(": 3 data item(s)"), "{out:?}");
    let out = musubi(&data).args(["dmp", "deadlines", "--as-of", "2026-11-25"]).output().expect("musubi runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().skip(1).map(str::trim).collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("Overdue\t2024-10-01\t") && lines[0].contains("(Genome data, generated 2024-04-01 + 6 months)"), "{stdout}");
    assert!(lines[1].starts_with("Overdue\t2025-07-15\t"), "{stdout}");
    assert!(lines[2].starts_with("Due\t2027-10-01\t"), "{stdout}");
}

/// `musubi reindex` rebuilds the read model and the search index from the graph on disk and says
/// what they hold; `serve` builds the same at start, so a restarted hub answers searches at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_says_what_the_graph_holds_and_serve_searches_it() {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    write_manifests(&data.path().join("sources"), &manifests(&humandbs, &dcat));
    let out = musubi(data.path()).args(["harvest", "nbdc-datasets", "nbdc-research"]).output().expect("harvest runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = musubi(data.path()).arg("reindex").output().expect("reindex runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    let datasets = musubi_tests::json_records("humandbs/dataset").len();
    assert!(said.starts_with(&format!("indexed {datasets} datasets and 2 studies from the graph")), "{said}");

    let (_server, addr) = serve(data.path());
    let r = graphql(addr, r#"{ search(query: "ゲノム解析") { totalCount nodes { ... on Study { accession } } } }"#).await;
    assert_eq!(r["data"]["search"]["nodes"][0]["accession"], "hum0001", "{r}");
}

/// A partner's catalogue shrinking by two thirds, as an operator meets it: `musubi harvest`
/// refuses it (exit 1, what it saw, how to land it), `connector check` says so first, the served
/// `sources` shows why, and `--accept-shrink` lands it with the warning kept where `sources`
/// shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shrinking_source_is_refused_until_an_operator_accepts_it() {
    let work = tempfile::tempdir().expect("tempdir");
    let data = work.path().join("data");
    let catalogue = generate(work.path(), 40, 3);
    let sources = catalogue.join("sources");
    let harvest = |args: &[&str]| musubi(&data).arg("--sources").arg(&sources).arg("harvest").args(args).output().expect("harvest runs");
    let out = harvest(&[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    const SOURCE: &str = "gen-nbdc-datasets";
    let served = |query: &'static str| {
        let mut command = musubi(&data);
        command.arg("--sources").arg(&sources).args(["serve", "--listen", "127.0.0.1:0"]);
        async move {
            let (server, addr) = listening(command);
            let r = graphql(addr, query).await;
            drop(server);
            r
        }
    };
    const QUERY: &str = r#"{ sources { id recordCount lastError warnings } }"#;
    let status = |r: &serde_json::Value| r["data"]["sources"].as_array().expect("sources").iter().find(|s| s["id"] == SOURCE).expect("the source").clone();
    let before = status(&served(QUERY).await);
    let records = before["recordCount"].as_u64().expect("count");
    assert!(records > 10 && before["lastError"].is_null(), "{before}");

    // The partner now serves a third of its records.
    let mut removed = 0;
    for file in std::fs::read_dir(catalogue.join("humandbs")).expect("humandbs").map(|e| e.expect("entry").path()) {
        let mut list: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("json");
        let keep = list.len() / 3;
        removed += list.len() - keep;
        list.truncate(keep);
        std::fs::write(&file, serde_json::to_vec(&list).expect("json")).expect("write");
    }
    assert!(removed > 0);

    let out = harvest(&[SOURCE]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("FAILED {SOURCE}: ")) && stderr.contains("it would remove") && stderr.contains("--accept-shrink") && stderr.contains("the last good graph is kept"), "{stderr}");
    let check = musubi(&data).arg("--sources").arg(&sources).args(["connector", "check"]).arg(sources.join(format!("{SOURCE}.toml"))).output().expect("check runs");
    let said = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(1), "{said}");
    assert!(said.contains("a harvest now would NOT land (harvest guard): it would remove"), "{said}");
    let refused = status(&served(QUERY).await);
    assert_eq!(refused["recordCount"], before["recordCount"], "the last good graph serves: {refused}");
    assert!(refused["lastError"].as_str().is_some_and(|e| e.contains("it would remove")), "{refused}");

    let out = harvest(&["--accept-shrink", SOURCE, SOURCE]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("ok     {SOURCE}: ")) && stdout.contains("warning: accepted: it would remove"), "{stdout}");
    let landed = status(&served(QUERY).await);
    assert_eq!(landed["recordCount"].as_u64(), Some(records - removed as u64), "{landed}");
    assert!(landed["lastError"].is_null(), "{landed}");
    assert!(landed["warnings"].as_array().is_some_and(|w| w.iter().any(|w| w.as_str().is_some_and(|w| w.starts_with("accepted: it would remove")))), "{landed}");
}

/// A generated catalogue of `datasets` (`musubi-bench gen`) in `<work>/gen-<seed>`, returned.
fn generate(work: &Path, datasets: usize, seed: u64) -> std::path::PathBuf {
    let catalogue = work.join(format!("gen-{seed}"));
    let options = musubi_bench::generate::GenOptions { datasets: datasets as u64, out: catalogue.clone(), seed };
    musubi_bench::generate::generate(&options, |_| {}).expect("the catalogue is written");
    catalogue
}

/// `musubi serve` on `data`, with the line that says how it made its read model.
fn start_saying_read_model(data: &Path) -> (Killed, SocketAddr, String) {
    let mut command = musubi(data);
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    let (server, addr, said) = listening_saying(command);
    let line = said.into_iter().find(|l| l.starts_with("read model:")).expect("serve says how it made its read model");
    (server, addr, line)
}

/// Records and search of a generated catalogue, to compare what starts serve.
const KEPT_QUERY: &str = r#"{ datasets(first: 40) { totalCount nodes { accession title { value lang } releaseDate sources } }
                    search(query: "cancer", first: 5) { totalCount } }"#;

/// A generated catalogue of `datasets` (its NBDC graph of 60,000 triples or more is bulk-loaded
/// as a generation, as a national source's is), harvested into `data` by `musubi harvest`.
fn harvest_generated(work: &Path, data: &Path, datasets: usize, seed: u64) {
    let catalogue = generate(work, datasets, seed);
    let out = musubi(data).arg("--sources").arg(catalogue.join("sources")).arg("harvest").output().expect("harvest runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_reads_large_source_views_and_the_search_index_from_disk_and_never_ones_a_later_harvest_replaced() {
    let work = tempfile::tempdir().expect("tempdir");
    let data = work.path().join("data");
    harvest_generated(work.path(), &data, 1500, 1);

    // First start: the NBDC view is read from the file `musubi harvest` wrote as it landed the
    // graph (never projected back out of the store), the two small graphs are projected; the
    // records merged and the search index built (and kept).
    let (server, addr, said) = start_saying_read_model(&data);
    assert!(said.starts_with("read model: 1 source view(s) read from") && said.contains("2 projected"), "{said}");
    assert!(said.contains("; records merged; search index built;"), "{said}");
    assert!(data.join("views/gen-nbdc-datasets.view").exists(), "{said}");
    let first = graphql(addr, KEPT_QUERY).await;
    assert_eq!(first["data"]["datasets"]["totalCount"], 1500, "{first}");
    drop(server);

    // A restart reads it and the merged records, opens the index, and answers the same.
    let (server, addr, said) = start_saying_read_model(&data);
    assert!(said.starts_with("read model: 1 source view(s) read from") && said.contains("2 projected"), "{said}");
    assert!(said.contains("; merged records read; search index opened;"), "{said}");
    assert_eq!(graphql(addr, KEPT_QUERY).await, first);
    drop(server);

    // Another catalogue harvested by `musubi harvest` (no server running): it writes the new
    // generation's view in place of the old one's, so the next start reads the new view (the
    // merged records and the index, of the old views, are made again) and serves the new graph.
    harvest_generated(work.path(), &data, 1600, 2);
    let (server, addr, said) = start_saying_read_model(&data);
    assert!(said.starts_with("read model: 1 source view(s) read from") && said.contains("; records merged; search index built;"), "{said}");
    let after = graphql(addr, KEPT_QUERY).await;
    assert_eq!(after["data"]["datasets"]["totalCount"], 1600, "{after}");
    assert_ne!(after["data"]["datasets"]["nodes"], first["data"]["datasets"]["nodes"], "the new catalogue's records, not the old file's");
    drop(server);

    // `musubi reindex` writes both anew (here after they were lost), for the next start to read.
    std::fs::remove_dir_all(data.join("views")).expect("remove views");
    std::fs::remove_dir_all(data.join("index")).expect("remove index");
    let out = musubi(&data).arg("reindex").output().expect("reindex runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.starts_with("indexed 1600 datasets"), "{said}{}", String::from_utf8_lossy(&out.stderr));
    let (_server, addr, said) = start_saying_read_model(&data);
    assert!(said.starts_with("read model: 1 source view(s) read from") && said.contains("; merged records read; search index opened;"), "{said}");
    assert_eq!(graphql(addr, KEPT_QUERY).await, after);
}

/// A hub killed just after a harvest swapped a large source's graph in, before it kept the
/// source's view: the harvest wrote that view, the merged records and the search index first,
/// so the next start reads them instead of projecting the graph and indexing again, and serves
/// exactly what the graph holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_killed_as_a_harvest_lands_starts_from_the_view_the_harvest_wrote() {
    let work = tempfile::tempdir().expect("tempdir");
    let data = work.path().join("data");
    harvest_generated(work.path(), &data, 1500, 1);
    let (server, addr, _) = start_saying_read_model(&data);
    let before = graphql(addr, KEPT_QUERY).await;
    drop(server);

    // Another NBDC catalogue, harvested by the serving hub on schedule; it stops for good once
    // the graph is swapped in, and is killed there.
    let catalogue = generate(work.path(), 1600, 2);
    let scheduled = catalogue.join("scheduled");
    std::fs::create_dir_all(&scheduled).expect("mkdir");
    let manifest = std::fs::read_to_string(catalogue.join("sources/gen-nbdc-datasets.toml")).expect("manifest");
    std::fs::write(scheduled.join("gen-nbdc-datasets.toml"), format!("schedule = \"1s\"\n{manifest}")).expect("write");
    let mut command = musubi(&data);
    command.arg("--sources").arg(&scheduled).args(["serve", "--listen", "127.0.0.1:0"]).env("MUSUBI_TEST_PAUSE_HARVEST", "after-swap");
    let (mut server, _) = listening(command);
    let marker = data.join("paused-at-after-swap");
    for _ in 0..1200 {
        if marker.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(marker.exists(), "the scheduled harvest never landed");
    server.0.kill().expect("SIGKILL");
    server.0.wait().expect("reaped");
    let views = data.join("views");
    assert!(views.join("gen-nbdc-datasets.view.next").exists(), "the harvest wrote the view before it landed");

    let (server, addr, said) = start_saying_read_model(&data);
    assert!(said.starts_with("read model: 1 source view(s) read from") && said.contains("2 projected"), "not projected again: {said}");
    // The merged records and the search index were made before the graph landed too.
    assert!(said.contains("; merged records read; search index opened;"), "{said}");
    assert!(views.join("gen-nbdc-datasets.view").exists() && !views.join("gen-nbdc-datasets.view.next").exists());
    let after = graphql(addr, KEPT_QUERY).await;
    assert_ne!(after, before, "the new catalogue's records");
    drop(server);

    // What it served is what the graph holds: the same as after a reindex.
    let out = musubi(&data).arg("reindex").output().expect("reindex runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_server, addr, _) = start_saying_read_model(&data);
    assert_eq!(graphql(addr, KEPT_QUERY).await, after);
}

/// A harvest after a partner changed, removed and added a record writes only those into the
/// standing graph, and leaves the hub answering exactly as a harvest into an empty folder of the
/// same catalogue would — and as `reindex` rebuilds it from the graph.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_harvest_writes_only_what_changed_and_serves_what_a_full_harvest_would() {
    let work = tempfile::tempdir().expect("tempdir");
    let (incremental, full) = (work.path().join("incremental"), work.path().join("full"));
    let catalogue = generate(work.path(), 2000, 7);
    let sources = catalogue.join("sources");
    // Spooled (as a national source is, past 200,000 triples), so the NBDC source keeps each
    // record's triples for the next harvest.
    for data in [&incremental, &full] {
        std::fs::create_dir_all(data).expect("mkdir");
        std::fs::write(data.join("musubi.toml"), "[harvest]\nspool-every = 5000\n").expect("write");
    }
    let harvest = |data: &Path| {
        let out = musubi(data).arg("--sources").arg(&sources).arg("harvest").output().expect("harvest runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = harvest(&incremental);
    assert!(!first.contains("only what changed") && !first.contains("not mapped again"), "{first}");
    let line = |out: &str| out.lines().find(|l| l.starts_with("ok     gen-nbdc-datasets:")).expect("the source's line").to_owned();
    let count: usize = line(&first).split(": ").nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok()).expect("a count");

    // New bytes that say what they said: the same records, copied, not mapped; nothing lands.
    let file = catalogue.join("humandbs/datasets-00001.json");
    std::fs::OpenOptions::new().append(true).open(&file).and_then(|mut f| std::io::Write::write_all(&mut f, b"\n")).expect("append");
    let again = harvest(&incremental);
    assert!(line(&again).contains(&format!("; {count} records as they were, not mapped again")), "{again}");
    assert!(line(&again).contains("unchanged since the last harvest, nothing landed"), "{again}");

    // The partner changes one record's access, removes one, adds one.
    let mut records: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("json");
    let changed = records[0]["datasetId"].as_str().expect("id").to_owned();
    let removed = records[1]["datasetId"].as_str().expect("id").to_owned();
    records[0]["criteria"] = "Unrestricted-access".into();
    records[0]["originalMetadata"]["TITLE"] = "A title the partner changed".into();
    records.remove(1);
    let mut added = records[2].clone();
    added["datasetId"] = "JGAD199999".into();
    records.push(added);
    std::fs::write(&file, serde_json::to_vec(&records).expect("json")).expect("write");

    // A second document at the JGA partner (XML: a document is the unit there).
    let jga_line = |out: &str| out.lines().find(|l| l.starts_with("ok     gen-jga:")).expect("the JGA line").to_owned();
    let jga_count: usize = jga_line(&first).split(": ").nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok()).expect("a count");
    std::fs::write(
        catalogue.join("jga/jga-dataset-99999.xml"),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<DATASETS>
<DATASET alias="GEN_JGAD199998" center_name="Individual" accession="JGAD199998">
  <TITLE>A dataset a second JGA document adds</TITLE>
  <DATASET_TYPE>Whole genome shotgun sequencing</DATASET_TYPE>
  <POLICY_REF refname="JGAP000001" refcenter="nbdc" accession="JGAP000001"/>
</DATASET>
</DATASETS>
"#,
    )
    .expect("write");

    let second = harvest(&incremental);
    assert!(line(&second).contains("only what changed landed"), "{second}");
    // The first document's records copied, the new one's mapped.
    assert!(jga_line(&second).contains(&format!("{} records, ", jga_count + 1)), "{second}");
    assert!(jga_line(&second).contains(&format!("; {jga_count} records as they were, not mapped again; only what changed landed")), "{second}");
    // Only the changed and the added record were mapped.
    assert!(line(&second).contains(&format!("; {} records as they were, not mapped again", count - 2)), "{second}");
    harvest(&full);

    let query = format!(
        r#"{{ {KEPT} changed: dataset(id: "{changed}") {{ accessLevel title {{ value }} }} removed: dataset(id: "{removed}") {{ sources }} added: dataset(id: "JGAD199999") {{ accession title {{ value }} }} jga: dataset(id: "JGAD199998") {{ sources title {{ value }} }} }}"#,
        KEPT = &KEPT_QUERY[1..KEPT_QUERY.len() - 1]
    );
    let answer = |data: &Path| {
        let mut command = musubi(data);
        command.arg("--sources").arg(&sources).args(["serve", "--listen", "127.0.0.1:0"]);
        let query = query.clone();
        async move {
            let (server, addr) = listening(command);
            let r = graphql(addr, &query).await;
            drop(server);
            r
        }
    };
    let expected = answer(&full).await;
    assert_eq!(expected["data"]["changed"]["accessLevel"], "OPEN", "{expected}");
    assert!(expected["data"]["changed"]["title"].to_string().contains("A title the partner changed"), "{expected}");
    assert!(!expected["data"]["removed"].to_string().contains("gen-nbdc-datasets") && expected["data"]["added"]["accession"] == "JGAD199999", "{expected}");
    assert!(expected["data"]["jga"].to_string().contains("A dataset a second JGA document adds"), "{expected}");
    assert_eq!(answer(&incremental).await, expected);
    let out = musubi(&incremental).arg("--sources").arg(&sources).arg("reindex").output().expect("reindex runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(answer(&incremental).await, expected, "the graph holds what the views showed");

    // A change too large for a delta (every record of the first file renamed and retitled:
    // half the graph's lines): the graph is loaded whole, the other files' records still copied,
    // and the hub serves the new records and not the old.
    for r in &mut records {
        let id = format!("{}R", r["datasetId"].as_str().expect("id"));
        r["originalMetadata"]["TITLE"] = format!("Retitled {id}").into();
        r["datasetId"] = id.into();
    }
    std::fs::write(&file, serde_json::to_vec(&records).expect("json")).expect("write");
    let third = harvest(&incremental);
    assert!(!line(&third).contains("only what changed") && line(&third).contains(&format!("; {} records as they were", count - records.len())), "{third}");
    let mut command = musubi(&incremental);
    command.arg("--sources").arg(&sources).args(["serve", "--listen", "127.0.0.1:0"]);
    let (_server, addr) = listening(command);
    let renamed = graphql(addr, &format!(r#"{{ new: dataset(id: "{changed}R") {{ sources title {{ value }} }} old: dataset(id: "{changed}") {{ sources }} }}"#)).await;
    assert!(renamed["data"]["new"]["title"].to_string().contains(&format!("Retitled {changed}R")), "{renamed}");
    assert!(!renamed["data"]["old"].to_string().contains("gen-nbdc-datasets"), "{renamed}");
}
