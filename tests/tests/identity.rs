//! Who the caller is, end to end over HTTP: tokens from issuers on loopback (a key-set server
//! the test controls, and a real OpenID provider, `oidc-provider` from npm), GA4GH passport
//! visas, token attacks, API keys. What a caller may read is observed the way a user sees it:
//! fields served, or `null` with FORBIDDEN; a refused credential is a 401 with its reason.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use musubi_gateway::app::{App, Parts, load_manifests};
use musubi_gateway::identity::api_keys::ApiKeys;
use musubi_gateway::identity::{Identity, config};
use musubi_store::EmbeddedStore;
use musubi_ontology::vocab::Vocabulary;
use musubi_tests::{Partner, fixtures, manifests, write_manifests};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// A token issuer on loopback: discovery and a key set the test can change, counting fetches.

struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Jwk,
    /// The public key's bytes (an uncompressed P-256 point): what an attacker has.
    public: Vec<u8>,
}

fn new_key(kid: &str) -> SigningKey {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).expect("key");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).expect("key pair");
    let encoding = EncodingKey::from_ec_der(pkcs8.as_ref());
    let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256).expect("jwk");
    jwk.common.key_id = Some(kid.to_owned());
    SigningKey { kid: kid.to_owned(), encoding, jwk, public: pair.public_key().as_ref().to_vec() }
}

#[derive(Clone)]
struct IssuerState {
    issuer: Arc<Mutex<String>>,
    keys: Arc<Mutex<JwkSet>>,
    jwks_fetches: Arc<AtomicUsize>,
}

struct Issuer {
    url: String,
    state: IssuerState,
}

impl Issuer {
    async fn start(keys: &[&SigningKey]) -> Issuer {
        let state = IssuerState {
            issuer: Arc::default(),
            keys: Arc::new(Mutex::new(JwkSet { keys: keys.iter().map(|k| k.jwk.clone()).collect() })),
            jwks_fetches: Arc::default(),
        };
        let app = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(|State(s): State<IssuerState>| async move {
                    let issuer = s.issuer.lock().unwrap().clone();
                    axum::Json(json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/jwks") }))
                }),
            )
            .route(
                "/jwks",
                get(|State(s): State<IssuerState>| async move {
                    s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
                    axum::Json(s.keys.lock().unwrap().clone())
                }),
            )
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        *state.issuer.lock().unwrap() = url.clone();
        tokio::spawn(async move { axum::serve(listener, app).await.expect("issuer serves") });
        Issuer { url, state }
    }

    fn publish(&self, keys: &[&SigningKey]) {
        *self.state.keys.lock().unwrap() = JwkSet { keys: keys.iter().map(|k| k.jwk.clone()).collect() };
    }

    fn fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn sign(key: &SigningKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).expect("sign")
}

/// A token with a header of the test's choosing, signed (or not) by hand: what an attacker sends.
fn forge(header: &Value, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = URL_SAFE_NO_PAD.encode(sign(input.as_bytes()));
    format!("{input}.{signature}")
}

fn visa(key: &SigningKey, issuer: &str, exp: i64, kind: &str, value: &str, source: &str) -> String {
    sign(
        key,
        &json!({
            "iss": issuer, "sub": "11111111-1111-1111-1111-111111111111", "iat": now() - 60, "exp": exp,
            "ga4gh_visa_v1": { "type": kind, "value": value, "source": source, "by": "dac", "asserted": 1704067200 }
        }),
    )
}

// ---------------------------------------------------------------------------------------------
// The hub, with the humandbs datasets (JGAD000001, JGAD000002) harvested.

struct Served {
    addr: SocketAddr,
    _partners: (Partner, Partner),
    dir: tempfile::TempDir,
}

async fn hub(identity_toml: &str, env: &[(&str, &str)]) -> Served {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = write_manifests(&dir.path().join("sources"), &manifests(&humandbs, &dcat));
    let vocabulary = Vocabulary::builtin();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let config = config::parse(identity_toml, Path::new("identity.toml"), &|name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .expect("identity config is valid");
    let identity = Identity::new(config, Some(dir.path()), vocabulary.identifier_schemes().clone());
    let app = App::new(Parts::new(Arc::new(EmbeddedStore::in_memory()), load_manifests(&sources).expect("manifests"), vocabulary))
        .expect("hub starts")
        .with_identity(identity);
    support::harvest_all(&app).await;
    let addr = support::serve(app).await;
    Served { addr, _partners: (humandbs, dcat), dir }
}

const QUERY: &str = r#"{ a: dataset(id: "JGAD000001") { accession contactEmail downloadUrls internalIds }
                         b: dataset(id: "JGAD000002") { accession downloadUrls } }"#;

/// What one credential sees: for each probed field, `None` if served, else the tier it needs.
#[derive(Debug, PartialEq, Eq)]
struct Sees {
    contact_email: Option<String>,
    download_a: Option<String>,
    download_b: Option<String>,
    internal_ids: Option<String>,
}

fn sees(tier: &str) -> Sees {
    let need = |t: &str| Some(t.to_owned());
    match tier {
        "PUBLIC" => Sees { contact_email: need("REGISTERED"), download_a: need("CONTROLLED"), download_b: need("CONTROLLED"), internal_ids: need("STEWARD") },
        "REGISTERED" => Sees { contact_email: None, download_a: need("CONTROLLED"), download_b: need("CONTROLLED"), internal_ids: need("STEWARD") },
        "CONTROLLED for A" => Sees { contact_email: None, download_a: None, download_b: need("CONTROLLED"), internal_ids: need("STEWARD") },
        "STEWARD" => Sees { contact_email: None, download_a: None, download_b: None, internal_ids: None },
        other => panic!("{other}"),
    }
}

enum Credential<'a> {
    Bearer(&'a str),
    ApiKey(&'a str),
    Raw(&'a str),
}

async fn ask(addr: SocketAddr, credential: Credential<'_>) -> reqwest::Response {
    let request = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .header("content-type", "application/json")
        .body(json!({ "query": QUERY }).to_string());
    let request = match credential {
        Credential::Bearer(token) => request.bearer_auth(token),
        Credential::ApiKey(key) => request.header("x-api-key", key),
        Credential::Raw(value) => request.header("authorization", value),
    };
    request.send().await.expect("musubi answers")
}

/// Asks with `credential`, expects 200, and reports which probed fields were denied.
async fn seen_by(addr: SocketAddr, credential: Credential<'_>) -> Sees {
    let r = ask(addr, credential).await;
    let status = r.status();
    let body: Value = r.json().await.expect("json");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["a"]["accession"], "JGAD000001", "{body}");
    let denied = |alias: &str, field: &str| {
        body["errors"].as_array().into_iter().flatten().find(|e| e["path"][0] == alias && e["path"][1] == field).map(|e| {
            assert_eq!(e["extensions"]["code"], "FORBIDDEN", "{body}");
            e["extensions"]["requiredTier"].as_str().expect("tier").to_owned()
        })
    };
    Sees {
        contact_email: denied("a", "contactEmail"),
        download_a: denied("a", "downloadUrls"),
        download_b: denied("b", "downloadUrls"),
        internal_ids: denied("a", "internalIds"),
    }
}

/// Asks with `credential` and expects a 401 whose challenge names `reason`.
async fn refused(addr: SocketAddr, credential: Credential<'_>, reason: &str) {
    let r = ask(addr, credential).await;
    assert_eq!(r.status(), 401, "expected a 401 for {reason}");
    let challenge = r.headers().get("www-authenticate").expect("WWW-Authenticate").to_str().expect("ascii").to_owned();
    assert!(challenge.starts_with(r#"Bearer error="invalid_token", error_description=""#), "{challenge}");
    assert!(challenge.contains(&format!("description=\"{reason}:")), "expected the reason {reason:?} in {challenge}");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
    assert!(body.get("data").is_none(), "a refused caller gets no data: {body}");
}

fn issuer_toml(issuer: &str, extra: &str) -> String {
    format!(
        r#"
[[issuer]]
issuer = "{issuer}"
audience = "musubi"
algorithms = ["ES256", "RS256"]
steward_role = {{ claim = "/realm_access/roles", value = "musubi-steward" }}
{extra}
"#
    )
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn tokens_set_the_tier_and_every_attack_is_refused_with_its_reason() {
    let key = new_key("k1");
    let issuer = Issuer::start(&[&key]).await;
    let visa_key = new_key("v1");
    let visas = Issuer::start(&[&visa_key]).await;
    let rogue_key = new_key("v1");
    let rogue = Issuer::start(&[&rogue_key]).await;
    let toml = format!("{}\n[[visa_issuer]]\nissuer = \"{}\"\n", issuer_toml(&issuer.url, ""), visas.url);
    let hub = hub(&toml, &[]).await;
    let addr = hub.addr;

    let claims = |extra: Value| {
        let mut c = json!({ "iss": issuer.url, "aud": "musubi", "sub": "user-1", "iat": now(), "exp": now() + 300 });
        c.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        c
    };
    let valid = sign(&key, &claims(json!({})));

    // No credential, and a valid token without role or visas: PUBLIC.
    let anonymous = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .header("content-type", "application/json")
        .body(json!({ "query": QUERY }).to_string())
        .send()
        .await
        .expect("answer");
    assert_eq!(anonymous.status(), 200);
    assert_eq!(seen_by(addr, Credential::Bearer(&valid)).await, sees("PUBLIC"));

    // The role claim makes a steward.
    let steward = sign(&key, &claims(json!({ "realm_access": { "roles": ["reader", "musubi-steward"] } })));
    assert_eq!(seen_by(addr, Credential::Bearer(&steward)).await, sees("STEWARD"));

    // Visas, with the dataset and DAC named as humandbs-drs's issuer names them.
    let seed: Value = serde_json::from_slice(&std::fs::read(fixtures().join("humandbs-drs/issuer-seed.json")).expect("seed")).expect("json");
    let (dataset, dac) = (seed[0]["dataset_id"].as_str().unwrap(), seed[0]["dac_source"].as_str().unwrap());
    let good = |kind: &str, value: &str| visa(&visa_key, &visas.url, now() + 600, kind, value, dac);
    let registered = sign(
        &key,
        &claims(json!({ "ga4gh_passport_v1": [good("ResearcherStatus", "https://doi.org/10.1038/s41431-018-0219-y"), good("AcceptedTermsAndPolicies", "https://humandbs.dbcls.jp/en/guidelines")] })),
    );
    assert_eq!(seen_by(addr, Credential::Bearer(&registered)).await, sees("REGISTERED"));
    let only_status = sign(&key, &claims(json!({ "ga4gh_passport_v1": [good("ResearcherStatus", "x")] })));
    assert_eq!(seen_by(addr, Credential::Bearer(&only_status)).await, sees("PUBLIC"), "status without accepted terms is not enough");
    let controlled = sign(
        &key,
        &claims(json!({ "ga4gh_passport_v1": [good("ResearcherStatus", "x"), good("AcceptedTermsAndPolicies", "y"), good("ControlledAccessGrants", dataset)] })),
    );
    assert_eq!(seen_by(addr, Credential::Bearer(&controlled)).await, sees("CONTROLLED for A"));

    // The attacks.
    let es256 = json!({ "alg": "ES256", "kid": "k1", "typ": "JWT" });
    let other_key = new_key("k1");
    let attacks: Vec<(&str, String)> = vec![
        ("expired", sign(&key, &claims(json!({ "iat": now() - 900, "exp": now() - 600 })))),
        ("not yet valid", sign(&key, &claims(json!({ "nbf": now() + 600 })))),
        ("wrong issuer", sign(&key, &claims(json!({ "iss": "https://login.example.org" })))),
        ("wrong audience", sign(&key, &claims(json!({ "aud": "another-api" })))),
        ("bad signature", sign(&other_key, &claims(json!({})))),
        ("bad signature", {
            // The claims changed after signing.
            let parts: Vec<&str> = valid.split('.').collect();
            let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap().replace("user-1", "admin-1");
            format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload), parts[2])
        }),
        ("algorithm not allowed", forge(&json!({ "alg": "none", "kid": "k1" }), &claims(json!({})), |_| Vec::new())),
        ("algorithm not allowed", {
            // HS256 keyed with the issuer's public key: an HS/RS-confused verifier would accept it.
            let public = key.public.clone();
            forge(&json!({ "alg": "HS256", "kid": "k1" }), &claims(json!({})), move |input| {
                aws_lc_rs::hmac::sign(&aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &public), input).as_ref().to_vec()
            })
        }),
        ("unknown key", sign(&new_key("k-unknown"), &claims(json!({})))),
        ("token too large", sign(&key, &claims(json!({ "padding": "x".repeat(40 * 1024) })))),
        ("malformed", forge(&es256, &claims(json!({})), |_| b"sig".to_vec()).replacen("eyJ", "!!!", 1)),
        ("malformed", "not-a-jwt.at-all".to_owned()),
        ("visa from an untrusted issuer", {
            let forged = visa(&rogue_key, &rogue.url, now() + 600, "ControlledAccessGrants", dataset, dac);
            sign(&key, &claims(json!({ "ga4gh_passport_v1": [forged] })))
        }),
        ("visa unknown key", {
            // Signed by the rogue key, claiming the trusted issuer, pointing at the rogue key set.
            let mut header = Header::new(Algorithm::ES256);
            header.kid = Some("v1".to_owned());
            header.jku = Some(format!("{}/jwks", rogue.url));
            let forged = jsonwebtoken::encode(
                &header,
                &json!({ "iss": visas.url, "sub": "s", "exp": now() + 600, "ga4gh_visa_v1": { "type": "ControlledAccessGrants", "value": dataset, "source": dac, "by": "dac", "asserted": 1704067200 } }),
                &rogue_key.encoding,
            )
            .expect("sign");
            sign(&key, &claims(json!({ "ga4gh_passport_v1": [forged] })))
        }),
        ("visa expired", {
            let stale = visa(&visa_key, &visas.url, now() - 600, "ControlledAccessGrants", dataset, dac);
            sign(&key, &claims(json!({ "ga4gh_passport_v1": [good("ResearcherStatus", "x"), stale] })))
        }),
    ];
    for (reason, token) in &attacks {
        refused(addr, Credential::Bearer(token), reason).await;
    }
    refused(addr, Credential::Raw(&format!("Basic {valid}")), "malformed").await;
    refused(addr, Credential::Raw("Bearer"), "malformed").await;
    // The valid token still works after all that: nothing was poisoned.
    assert_eq!(seen_by(addr, Credential::Bearer(&valid)).await, sees("PUBLIC"));
    drop(hub);
}

#[tokio::test(flavor = "multi_thread")]
async fn rotated_keys_are_fetched_once_and_made_up_kids_cannot_hammer_the_issuer() {
    let old = new_key("2024");
    let issuer = Issuer::start(&[&old]).await;
    let hub = hub(&issuer_toml(&issuer.url, "jwks_refresh_seconds = 3600"), &[]).await;
    let claims = json!({ "iss": issuer.url, "aud": "musubi", "sub": "svc", "exp": now() + 300, "realm_access": { "roles": ["musubi-steward"] } });

    assert_eq!(seen_by(hub.addr, Credential::Bearer(&sign(&old, &claims))).await, sees("STEWARD"));
    assert_eq!(issuer.fetches(), 1);
    // Cached: no fetch per request.
    assert_eq!(seen_by(hub.addr, Credential::Bearer(&sign(&old, &claims))).await, sees("STEWARD"));
    assert_eq!(issuer.fetches(), 1);

    // The issuer rotates: a token with the new kid makes the hub refetch once.
    let new = new_key("2025");
    issuer.publish(&[&new]);
    assert_eq!(seen_by(hub.addr, Credential::Bearer(&sign(&new, &claims))).await, sees("STEWARD"));
    assert_eq!(issuer.fetches(), 2);
    // The retired key no longer verifies.
    refused(hub.addr, Credential::Bearer(&sign(&old, &claims)), "unknown key").await;

    // Made-up kids: refused, and within the refresh interval they cost the issuer nothing.
    for n in 0..5 {
        refused(hub.addr, Credential::Bearer(&sign(&new_key(&format!("bogus-{n}")), &claims)), "unknown key").await;
    }
    assert_eq!(issuer.fetches(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_issuer_that_cannot_be_reached_is_a_503_not_a_crash() {
    // A port that was just free: nothing listens there.
    let gone = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("addr");
    let url = format!("http://{gone}");
    let hub = hub(&issuer_toml(&url, ""), &[]).await;
    let token = sign(&new_key("k"), &json!({ "iss": url, "aud": "musubi", "exp": now() + 300 }));
    let r = ask(hub.addr, Credential::Bearer(&token)).await;
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "IDENTITY_UNAVAILABLE", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains(&url), "names the issuer: {body}");
    // The hub still serves everyone else.
    assert_eq!(ask(hub.addr, Credential::Raw("")).await.status(), 401);
    let anonymous = reqwest::Client::new()
        .post(format!("http://{}/graphql", hub.addr))
        .header("content-type", "application/json")
        .body(json!({ "query": QUERY }).to_string())
        .send()
        .await
        .expect("answer");
    assert_eq!(anonymous.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_stand_for_service_accounts_until_revoked() {
    let hub = hub("", &[]).await;
    let keys = ApiKeys::new(hub.dir.path());
    let schemes = Vocabulary::builtin();
    let (key, record) = keys
        .create("pipeline", "REGISTERED", &["https://ddbj.nig.ac.jp/search/entry/jga-dataset/JGAD000001".to_owned()], schemes.identifier_schemes())
        .expect("created");
    assert_eq!(seen_by(hub.addr, Credential::Bearer(&key)).await, sees("CONTROLLED for A"));
    assert_eq!(seen_by(hub.addr, Credential::ApiKey(&key)).await, sees("CONTROLLED for A"));
    refused(hub.addr, Credential::ApiKey(&format!("{key}0")), "invalid API key").await;
    refused(hub.addr, Credential::ApiKey("musubi_nope_nope"), "invalid API key").await;
    // A wrong secret for a real key id and a key id that does not exist get one answer: key ids
    // cannot be found by trying them.
    let id = key.split('_').nth(1).expect("musubi_<id>_<secret>");
    let challenge = |r: reqwest::Response| r.headers().get("www-authenticate").map(|v| v.to_str().expect("ascii").to_owned());
    let wrong_secret = challenge(ask(hub.addr, Credential::ApiKey(&format!("musubi_{id}_wrong"))).await);
    let no_such_id = challenge(ask(hub.addr, Credential::ApiKey("musubi_nosuchid_wrong")).await);
    assert!(wrong_secret.is_some() && wrong_secret == no_such_id, "{wrong_secret:?} / {no_such_id:?}");
    // Two API keys (the same twice, or a good and a bad one): ambiguous, refused like a key and a
    // token together; the first no longer wins.
    for second in [key.as_str(), "musubi_nope_nope"] {
        let r = reqwest::Client::new()
            .post(format!("http://{}/graphql", hub.addr))
            .header("content-type", "application/json")
            .header("x-api-key", &key)
            .header("x-api-key", second)
            .body(json!({ "query": QUERY }).to_string())
            .send()
            .await
            .expect("musubi answers");
        assert_eq!(r.status(), 401);
        let body: Value = r.json().await.expect("json");
        assert!(body["errors"][0]["message"].as_str().expect("message").contains("more than once"), "{body}");
    }
    // Revoked (as `musubi apikey revoke` does, on the running hub's data folder): refused at once.
    keys.revoke(&record.id).expect("revoked");
    refused(hub.addr, Credential::Bearer(&key), "revoked API key").await;
}

// ---------------------------------------------------------------------------------------------
// A real OpenID provider: oidc-provider (npm), tests/interop/oidc/provider.mjs.

/// The provider as a child process on a fixed loopback port (a restart keeps its issuer URL and
/// rotates its key); killed on drop.
struct OpenIdProvider {
    child: std::process::Child,
}

impl OpenIdProvider {
    fn start(port: u16) -> OpenIdProvider {
        use std::io::{BufRead, BufReader};
        let dir = musubi_tests::npm_peer("oidc", "oidc-provider").unwrap_or_else(|e| panic!("the OpenID provider cannot be installed: {e}"));
        let mut child = std::process::Command::new("node")
            .current_dir(&dir)
            .arg("provider.mjs")
            .arg(port.to_string())
            .arg(fixtures().join("humandbs-drs/issuer-seed.json"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `node` for the OpenID provider (is Node.js installed?): {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let started = BufReader::new(stdout).lines().map_while(Result::ok).any(|line| line.starts_with("listening "));
        assert!(started, "the OpenID provider exited before it listened");
        OpenIdProvider { child }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OpenIdProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client_credentials token from the provider; `resource` selects a JWT for musubi, none an
/// opaque token.
async fn token_from(issuer: &str, client: &str, resource: Option<&str>) -> String {
    let resource = resource.map(|r| format!("&resource={}", r.replace(':', "%3A").replace('/', "%2F"))).unwrap_or_default();
    let r = reqwest::Client::new()
        .post(format!("{issuer}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=client_credentials&client_id={client}&client_secret={client}-secret{resource}"))
        .send()
        .await
        .expect("the provider answers");
    let body: Value = r.json().await.expect("json");
    body["access_token"].as_str().unwrap_or_else(|| panic!("no token for {client}: {body}")).to_owned()
}

fn claims_of(jwt: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).expect("payload")).expect("base64")).expect("json")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_openid_provider_its_passports_its_opaque_tokens_and_its_key_rotation() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let issuer = format!("http://127.0.0.1:{port}");
    let provider = OpenIdProvider::start(port);
    let toml = format!(
        r#"
[[issuer]]
issuer = "{issuer}"
audience = "musubi"
algorithms = ["RS256"]
leeway_seconds = 0
steward_role = {{ claim = "roles", value = "musubi-steward" }}
introspection = {{ endpoint = "{issuer}/token/introspection", client_id = "musubi-hub", client_secret_env = "OIDC_HUB_SECRET" }}

[[visa_issuer]]
issuer = "{issuer}"
"#
    );
    let hub = hub(&toml, &[("OIDC_HUB_SECRET", "musubi-hub-secret")]).await;
    let api = Some("https://musubi.test/api");

    // JWT access tokens, each with its tier: none, a passport (visas signed by the provider,
    // naming the dataset as humandbs-drs does), a role.
    assert_eq!(seen_by(hub.addr, Credential::Bearer(&token_from(&issuer, "plain", api).await)).await, sees("PUBLIC"));
    let researcher = token_from(&issuer, "researcher", api).await;
    assert!(claims_of(&researcher)["ga4gh_passport_v1"].as_array().is_some_and(|v| v.len() == 3), "the provider issues a passport");
    assert_eq!(seen_by(hub.addr, Credential::Bearer(&researcher)).await, sees("CONTROLLED for A"));
    assert_eq!(seen_by(hub.addr, Credential::Bearer(&token_from(&issuer, "steward", api).await)).await, sees("STEWARD"));

    // Opaque tokens, through RFC 7662 introspection (the claims come from the provider).
    let opaque = token_from(&issuer, "researcher", None).await;
    assert!(!opaque.contains('.'), "an opaque token: {opaque}");
    assert_eq!(seen_by(hub.addr, Credential::Bearer(&opaque)).await, sees("CONTROLLED for A"));
    assert_eq!(seen_by(hub.addr, Credential::Bearer(&token_from(&issuer, "steward", None).await)).await, sees("STEWARD"));
    refused(hub.addr, Credential::Bearer("an-opaque-token-the-provider-never-issued"), "inactive").await;

    // HS256 keyed with the provider's real RSA public key (n): refused.
    let jwks: Value = reqwest::get(format!("{issuer}/jwks")).await.expect("jwks").json().await.expect("json");
    let n = URL_SAFE_NO_PAD.decode(jwks["keys"][0]["n"].as_str().expect("n")).expect("n");
    let kid = jwks["keys"][0]["kid"].as_str().expect("kid");
    let confused = forge(&json!({ "alg": "HS256", "kid": kid }), &claims_of(&researcher), |input| {
        aws_lc_rs::hmac::sign(&aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &n), input).as_ref().to_vec()
    });
    refused(hub.addr, Credential::Bearer(&confused), "algorithm not allowed").await;

    // A token that expires after 1 s, once it has expired (no leeway configured).
    let short = token_from(&issuer, "steward", Some("https://musubi.test/short")).await;
    let exp = claims_of(&short)["exp"].as_i64().expect("exp");
    while now() <= exp {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    refused(hub.addr, Credential::Bearer(&short), "expired").await;

    // Key rotation: the provider restarts with a new key (same issuer URL).
    provider.stop();
    let provider = OpenIdProvider::start(port);
    let rotated = token_from(&issuer, "researcher", api).await;
    assert_ne!(
        jsonwebtoken::decode_header(&rotated).expect("header").kid,
        jsonwebtoken::decode_header(&researcher).expect("header").kid,
        "the restart rotated the key"
    );
    assert_eq!(seen_by(hub.addr, Credential::Bearer(&rotated)).await, sees("CONTROLLED for A"));
    assert_eq!(seen_by(hub.addr, Credential::Bearer(&token_from(&issuer, "steward", api).await)).await, sees("STEWARD"));
    // Tokens under the retired key, and opaque tokens the restarted provider no longer knows.
    refused(hub.addr, Credential::Bearer(&researcher), "unknown key").await;
    refused(hub.addr, Credential::Bearer(&opaque), "inactive").await;
    drop(provider);
}
