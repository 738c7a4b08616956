//! Polite harvesting against a strict partner on loopback: OAuth2 client credentials, conditional
//! requests answered with 304, pages in flight bounded by `concurrency`, and the rate limit.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use musubi_connectors::source_graph;
use musubi_connectors::manifest::{Manifest, parse_manifest};
use musubi_connectors::{Harvester, source_status};
use musubi_ontology::rdf::Term;
use musubi_store::{EmbeddedStore, GraphStore};
use musubi_ontology::vocab::{self, Vocabulary};
use musubi_tests::{Behaviour, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, Partner, Validators, mappings};

/// A manifest in `dir`, with the secret (if any) written beside it.
fn manifest(dir: &Path, text: &str) -> Manifest {
    std::fs::write(dir.join("right.secret"), format!("{OAUTH_CLIENT_SECRET}\n")).expect("write");
    std::fs::write(dir.join("wrong.secret"), "not-the-secret-4242").expect("write");
    parse_manifest(text, &dir.join("source.toml")).unwrap_or_else(|e| panic!("{e}"))
}

/// NBDC research versions behind the partner's OAuth2, offset-paged.
fn research_versions(partner: &Partner, dir: &Path, auth: &str) -> Manifest {
    manifest(
        dir,
        &format!(
            "id = \"nbdc-research-versions\"\nkind = \"json-api\"\nendpoint = \"{}\"\nmapping = \"{}\"\nrate_limit = 200\n\
             [paging]\nstyle = \"offset\"\nrecords = \"$.data[*]\"\ntotal = \"$.total\"\npage_size = 2\n\
             [record]\nid = \"humVersionId\"\n{auth}",
            partner.url("/protected/api/research-versions"),
            mappings().join("humandbs-research-version.rml.ttl").display()
        ),
    )
}

fn oauth(partner: &Partner, secret_file: &str, extra: &str) -> String {
    format!(
        "[auth]\nkind = \"oauth2-client-credentials\"\ntoken_url = \"{}\"\nclient_id = \"{OAUTH_CLIENT_ID}\"\nsecret_file = \"{secret_file}\"\n{extra}",
        partner.url("/oauth/token")
    )
}

/// The source's graph as a user would compare it: without the harvest time, blank nodes unnamed.
fn graph(store: &dyn GraphStore, source: &str) -> BTreeSet<String> {
    store
        .graph(source_graph(source).as_ref())
        .expect("graph")
        .iter()
        .filter(|t| t.predicate.as_ref() != vocab::PROV_GENERATED_AT_TIME)
        .map(|t| {
            let object = if let Term::BlankNode(_) = t.object { "_:".to_owned() } else { t.object.to_string() };
            let subject = if t.subject.is_blank_node() { "_:".to_owned() } else { t.subject.to_string() };
            format!("{subject} {} {object}", t.predicate)
        })
        .collect()
}

fn statuses(partner: &Partner, path: &str) -> Vec<u16> {
    partner.seen().iter().filter(|s| s.uri.starts_with(path)).map(|s| s.status).collect()
}

#[tokio::test]
async fn oauth2_sources_share_one_token_across_requests_and_harvests_and_renew_it_on_a_401() {
    let partner = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let source = research_versions(&partner, dir.path(), &oauth(&partner, "right.secret", "scopes = [\"metadata:read\"]\n"));
    let store = EmbeddedStore::in_memory();
    let vocabulary = Vocabulary::builtin();
    let harvester = Harvester::new(reqwest::Client::new());

    let report = harvester.harvest(&source, &store, &vocabulary).await.expect("harvest with OAuth2");
    assert_eq!(report.records, musubi_tests::json_records("humandbs/research-version").len());
    let pages = statuses(&partner, "/protected/api/");
    assert!(pages.len() >= 2 && pages.iter().all(|s| *s == 200), "{pages:?}");
    let issued = partner.tokens_issued();
    assert_eq!(issued.len(), 1, "one token for every page: {issued:?}");
    assert_eq!(issued[0].client_auth, "client_secret_basic");
    assert_eq!(issued[0].scope.as_deref(), Some("metadata:read"));

    // A second harvest in the same running hub still uses the token it has.
    harvester.harvest(&source, &store, &vocabulary).await.expect("second harvest");
    assert_eq!(partner.tokens_issued().len(), 1);

    // The partner drops its tokens (expired early, revoked): one 401, a new token, and on.
    partner.revoke_tokens();
    partner.forget_seen();
    harvester.harvest(&source, &store, &vocabulary).await.expect("harvest after a 401");
    assert_eq!(partner.tokens_issued().len(), 2);
    assert_eq!(statuses(&partner, "/protected/api/").iter().filter(|s| **s == 401).count(), 1);

    // client_secret_post, for partners that want the secret in the form.
    let post = research_versions(&partner, dir.path(), &oauth(&partner, "right.secret", "client_auth = \"post\"\n"));
    Harvester::new(reqwest::Client::new()).harvest(&post, &store, &vocabulary).await.expect("client_secret_post");
    assert_eq!(partner.tokens_issued().last().map(|t| t.client_auth), Some("client_secret_post"));
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_clear_error_and_the_last_good_graph_stays() {
    let partner = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = EmbeddedStore::in_memory();
    let vocabulary = Vocabulary::builtin();
    let right = research_versions(&partner, dir.path(), &oauth(&partner, "right.secret", ""));
    Harvester::new(reqwest::Client::new()).harvest(&right, &store, &vocabulary).await.expect("harvest");
    let before = graph(&store, "nbdc-research-versions");
    assert!(!before.is_empty());

    let wrong = research_versions(&partner, dir.path(), &oauth(&partner, "wrong.secret", ""));
    let err = Harvester::new(reqwest::Client::new()).harvest(&wrong, &store, &vocabulary).await.expect_err("refused").to_string();
    assert!(err.contains("nbdc-research-versions") && err.contains(&partner.url("/oauth/token")), "{err}");
    assert!(err.contains("invalid_client"), "{err}");
    assert!(!err.contains("not-the-secret-4242") && !err.contains(OAUTH_CLIENT_SECRET), "no secret in messages: {err}");
    assert_eq!(partner.tokens_refused(), 1, "a refused client is not asked again and again");
    assert_eq!(graph(&store, "nbdc-research-versions"), before, "the last good graph stays");
    let status = source_status(&store, "nbdc-research-versions").expect("status");
    assert!(status.last_error.is_some_and(|e| e.contains("invalid_client")));
}

#[tokio::test]
async fn an_unchanged_source_is_answered_with_304s_and_gives_the_same_graph() {
    for validators in [Validators::Both, Validators::LastModified] {
        let partner = Partner::start().await;
        partner.send_validators(validators);
        let dir = tempfile::tempdir().expect("tempdir");
        let source = research_versions(&partner, dir.path(), &oauth(&partner, "right.secret", ""));
        let store = EmbeddedStore::in_memory();
        let vocabulary = Vocabulary::builtin();
        let cache = dir.path().join("cache");
        let harvester = Harvester::new(reqwest::Client::new()).with_cache(cache.clone());

        let first = harvester.harvest(&source, &store, &vocabulary).await.expect("first harvest");
        let pages = statuses(&partner, "/protected/api/").len();
        assert_eq!(first.not_modified, 0);
        let graph_before = graph(&store, "nbdc-research-versions");

        partner.forget_seen();
        let second = harvester.harvest(&source, &store, &vocabulary).await.expect("second harvest");
        assert_eq!(statuses(&partner, "/protected/api/"), vec![304; pages], "{validators:?}: nothing re-downloaded");
        assert_eq!((second.not_modified, second.records), (pages, first.records), "{validators:?}");
        assert_eq!(graph(&store, "nbdc-research-versions"), graph_before, "{validators:?}");

        // A damaged cache entry is only a full fetch of that page.
        let body = std::fs::read_dir(cache.join("nbdc-research-versions"))
            .expect("cache folder")
            .map(|e| e.expect("entry").path())
            .find(|p| p.extension().is_some_and(|x| x == "body"))
            .expect("a cached page");
        std::fs::write(&body, b"{\"trunc").expect("damage");
        partner.forget_seen();
        let third = harvester.harvest(&source, &store, &vocabulary).await.expect("harvest with a damaged cache");
        assert_eq!(third.not_modified, pages - 1);
        assert_eq!(statuses(&partner, "/protected/api/").iter().filter(|s| **s == 200).count(), 1);
        assert_eq!(graph(&store, "nbdc-research-versions"), graph_before);

        // A failed harvest leaves the cache of the last good one.
        partner.behave(Behaviour::ServerError);
        harvester.harvest(&source, &store, &vocabulary).await.expect_err("partner down");
        partner.behave(Behaviour::Healthy);
        let fifth = harvester.harvest(&source, &store, &vocabulary).await.expect("harvest after a failure");
        assert_eq!(fifth.not_modified, pages, "{validators:?}");
    }
}

/// JGA's dataset → policy relations, offset-paged one row a page.
fn jga(partner: &Partner, dir: &Path, concurrency: usize) -> Manifest {
    manifest(
        dir,
        &format!(
            "id = \"jga-relations\"\nkind = \"json-api\"\nendpoint = \"{}\"\nmapping = \"{}\"\nrate_limit = 1000\nconcurrency = {concurrency}\n\
             [paging]\nstyle = \"offset\"\nrecords = \"$.data[*]\"\ntotal = \"$.total\"\npage_size = 1\n[record]\nid = \"entry_id\"\n",
            partner.url("/api/jga/dataset-policy"),
            mappings().join("jga-dataset-policy.rml.ttl").display()
        ),
    )
}

#[tokio::test]
async fn pages_in_flight_never_exceed_the_concurrency_and_the_graph_does_not_depend_on_it() {
    let partner = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let vocabulary = Vocabulary::builtin();
    let rows = std::fs::read_to_string(musubi_tests::fixtures().join("jga/dataset-policy-relation.csv")).expect("fixture").lines().count() - 1;

    // The partner holds later pages until three are in flight: a hub that sent more at once
    // would be seen with more.
    partner.hold_pages_until(3);
    let concurrent = EmbeddedStore::in_memory();
    let report = Harvester::new(reqwest::Client::new()).harvest(&jga(&partner, dir.path(), 3), &concurrent, &vocabulary).await.expect("harvest");
    assert_eq!(report.records, rows);
    assert_eq!(partner.seen().len(), rows, "one request per page");
    assert_eq!(partner.max_in_flight(), 3);

    partner.hold_pages_until(0);
    partner.forget_seen();
    let sequential = EmbeddedStore::in_memory();
    Harvester::new(reqwest::Client::new()).harvest(&jga(&partner, dir.path(), 1), &sequential, &vocabulary).await.expect("harvest");
    assert_eq!(partner.max_in_flight(), 1);
    assert_eq!(graph(&concurrent, "jga-relations"), graph(&sequential, "jga-relations"));
}

#[tokio::test]
async fn every_request_token_included_waits_for_the_rate_limit() {
    let partner = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut source = research_versions(&partner, dir.path(), &oauth(&partner, "right.secret", ""));
    source.rate_limit = 20.0;
    source.concurrency = 4;
    source.paging.page_size = 1;
    let started = Instant::now();
    Harvester::new(reqwest::Client::new()).harvest(&source, &EmbeddedStore::in_memory(), &Vocabulary::builtin()).await.expect("harvest");
    // A lower bound only (a slow machine makes it larger, never smaller): the i-th request to
    // arrive cannot have left before the i-th slot, 1/20 s apart.
    let mut arrivals: Vec<Instant> = partner.seen().iter().map(|s| s.at).collect();
    arrivals.sort();
    assert!(arrivals.len() >= 4, "a token and three pages: {arrivals:?}");
    for (i, at) in arrivals.iter().enumerate() {
        assert!(*at >= started + Duration::from_millis(50) * i as u32, "request {i} came {:?} after the start", *at - started);
    }
}

/// Every kind of credential stays with the origins its manifest names: a redirect to another
/// host (a partner moving its files to a CDN) is followed without it — the API key's header
/// included, which reqwest's own redirects kept — and a redirect within the origin keeps it; a
/// token endpoint that redirects gets no client secret sent on. Each partner logs what it saw.
#[tokio::test(flavor = "multi_thread")]
async fn credentials_stay_with_their_origin_across_redirects() {
    let origin = Partner::start().await;
    let elsewhere = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("api.secret"), format!("{}\n", musubi_tests::API_KEY)).expect("write");
    let vocabulary = Vocabulary::builtin();
    let dump = "/files/fair-data-point/disgenet.ttl";
    let away = |status: u16| origin.url(&format!("/redirect?status={status}&to={}", elsewhere.url(dump)));
    let kinds = [
        ("api-key", "[auth]\nkind = \"api-key\"\nsecret_file = \"api.secret\"\n".to_owned()),
        ("basic", "[auth]\nkind = \"basic\"\nusername = \"hub\"\nsecret_file = \"api.secret\"\n".to_owned()),
        ("oauth2", oauth(&origin, "right.secret", "")),
    ];
    for (kind, auth) in &kinds {
        for status in [302, 307] {
            elsewhere.forget_seen();
            origin.forget_seen();
            let source = manifest(dir.path(), &format!("id = \"moved\"\nkind = \"rdf-dump\"\nendpoint = \"{}\"\n{auth}", away(status)));
            let store = EmbeddedStore::in_memory();
            let report = Harvester::new(reqwest::Client::new()).harvest(&source, &store, &vocabulary).await.unwrap_or_else(|e| panic!("{kind} {status}: {e}"));
            assert!(report.records > 0, "{kind}: the redirected dump landed");
            let asked = origin.seen().into_iter().find(|s| s.uri.starts_with("/redirect")).expect("the origin was asked");
            assert!(asked.authorization.is_some() || asked.api_key.is_some(), "{kind}: the origin got the credential: {asked:?}");
            let there = elsewhere.seen();
            assert!(!there.is_empty(), "{kind}: the redirect was followed");
            for seen in there {
                assert!(seen.authorization.is_none() && seen.api_key.is_none(), "{kind} {status}: a credential went to another origin: {seen:?}");
            }
        }
    }
    // Within the origin, the credential goes on: the secured file wants it.
    let within = origin.url(&format!("/redirect?to={}", origin.url("/secure/files/fair-data-point/disgenet.ttl")));
    let source = manifest(dir.path(), &format!("id = \"moved\"\nkind = \"rdf-dump\"\nendpoint = \"{within}\"\n{}", kinds[0].1));
    Harvester::new(reqwest::Client::new()).harvest(&source, &EmbeddedStore::in_memory(), &vocabulary).await.expect("same-origin redirect keeps the key");
    // A token endpoint that redirects: refused, naming it; the secret goes nowhere else.
    elsewhere.forget_seen();
    let moved_token = origin.url(&format!("/redirect?status=307&to={}", elsewhere.url("/oauth/token")));
    let auth = format!(
        "[auth]\nkind = \"oauth2-client-credentials\"\ntoken_url = \"{moved_token}\"\nclient_id = \"{OAUTH_CLIENT_ID}\"\nsecret_file = \"right.secret\"\nclient_auth = \"post\"\n"
    );
    let source = manifest(dir.path(), &format!("id = \"moved\"\nkind = \"rdf-dump\"\nendpoint = \"{}\"\n{auth}", origin.url(dump)));
    let err = Harvester::new(reqwest::Client::new()).harvest(&source, &EmbeddedStore::in_memory(), &vocabulary).await.expect_err("no token").to_string();
    assert!(err.contains("redirect") && err.contains("token_url"), "{err}");
    assert!(elsewhere.seen().is_empty() && elsewhere.tokens_issued().is_empty(), "nothing reached the other host");
}
