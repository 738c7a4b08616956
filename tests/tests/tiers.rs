//! The tier matrix: for an anonymous caller, a registered researcher, a researcher with a grant for
//! dataset A only, and a steward, over every field of every type reachable from a dataset, and
//! over filters, counts and text search: what may be seen is seen, and what may not leaves no
//! trace (no value, no count, no match, no echo in errors).
//!
//! Nothing here names a field. The expected tier of each field is read from the schema itself
//! (the `@tier(requires:, sensitive:, embargoed:)` directive in its SDL, checked against the
//! description line introspection shows), the queries are built from introspection, and the
//! steward's answers (who reads everything) are the values the others must see or must not. A new
//! field is covered by adding it to the schema.
//!
//! Samples (their own records, with no dataset scope) are walked the same way from `sample(id:)`,
//! over DDBJ's BioSample XML (one human-host sample, so sensitive).
//!
//! Data: the real fixtures harvested from loopback partners, plus a small stewardship source that
//! marks JGAD000001 (dataset A) sensitive, gives A and B (JGAD000002) CONTROLLED and REGISTERED
//! values (also nested: a distribution's download URL), and embargoes DRA000908; and records
//! linked to embargoed ones from visible ones, each way: a visible dataset and sample of an
//! embargoed study, an embargoed dataset and sample of a visible study (and in its version), a
//! policy naming an embargoed dataset and a sensitive one. Outcomes, DMP items and access
//! requests are linked to them in `links_to_embargoed_records_leave_no_trace`.
//!
//! `worlds_that_differ_only_in_what_a_caller_may_not_see_answer_it_alike` is the property test:
//! random tiers and embargoes over the same fixtures, and for each caller a second world that
//! differs only in what that caller may not read.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use musubi_gateway::app::{App, Parts, load_manifests};
use musubi_store::EmbeddedStore;
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab::Vocabulary;
use musubi_schema::Principal;
use musubi_tests::{Partner, manifests, write_manifests};
use serde_json::{Value, json};

#[path = "tiers/worlds.rs"]
mod worlds;

const A: &str = "JGAD000001";
const B: &str = "JGAD000002";
const EMBARGOED: &str = "DRA000908";
/// Embargoed records linked from visible ones.
const EMBARGOED_STUDY: &str = "hum9901";
const EMBARGOED_DATASET: &str = "JGAD990002";
const EMBARGOED_SAMPLE: &str = "SAMD99000002";
/// Visible records linked to embargoed ones (the dataset and the study are CONTROLLED).
const OF_EMBARGOED_STUDY: &str = "JGAD990001";
const VISIBLE_STUDY: &str = "hum9902";
const SENSITIVE_OF_VISIBLE_STUDY: &str = "JGAD990003";

/// What a partner stewardship feed would state about three harvested datasets.
const STEWARDSHIP: &str = r#"@prefix m: <https://w3id.org/musubi/vocab#> .
@prefix odrl: <http://www.w3.org/ns/odrl/2/> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://w3id.org/musubi/dataset/JGAD000001> a dcat:Dataset ; dct:identifier "JGAD000001" ; m:sensitive true ;
    m:sampleAttribute "tumour stage zephyrine" ;
    m:contactEmail "alveolar-desk@example.org" ;
    dcat:downloadURL <https://files.example.org/JGAD000001/quillwort.tar> ;
    dcat:distribution <https://files.example.org/JGAD000001/vcf> .
<https://files.example.org/JGAD000001/vcf> a dcat:Distribution ; dct:title "VCF files" ;
    dcat:downloadURL <https://files.example.org/JGAD000001/vcf/lanternfly.vcf.gz> .
<https://w3id.org/musubi/dataset/JGAD000002> a dcat:Dataset ; dct:identifier "JGAD000002" ; m:sampleAttribute "germline carrier marbleweed" ;
    m:contactEmail "bramblecourt-desk@example.org" ;
    dcat:distribution <https://files.example.org/JGAD000002/vcf> .
<https://files.example.org/JGAD000002/vcf> a dcat:Distribution ; dct:title "VCF files" ;
    dcat:downloadURL <https://files.example.org/JGAD000002/vcf/gallowglass.vcf.gz> .
<https://w3id.org/musubi/dataset/DRA000908> a dcat:Dataset ; dct:identifier "DRA000908" ; m:embargoUntil "2999-12-31"^^xsd:date ;
    m:internalId "embargo-ticket-nimbostratus" .

<https://w3id.org/musubi/study/hum9901> a m:Study ; dct:identifier "hum9901" ; dct:title "Quasar cohort study (unreleased)"@en ;
    dct:description "marigoldine cohort of an unreleased study"@en ; m:embargoUntil "2999-12-31"^^xsd:date .
<https://w3id.org/musubi/dataset/JGAD990001> a dcat:Dataset ; dct:identifier "JGAD990001" ; dct:title "Released exomes of a cohort"@en ;
    m:sourceAccessLevel "Controlled-access" ; dct:isPartOf <https://w3id.org/musubi/study/hum9901> ;
    m:dataUseCondition <http://purl.obolibrary.org/obo/DUO_0000042> .
<https://w3id.org/musubi/sample/SAMD99000001> a m:Sample ; dct:identifier "SAMD99000001" ; dct:title "A released sample of the cohort"@en ;
    dct:isPartOf <https://w3id.org/musubi/study/hum9901> .
<https://w3id.org/musubi/study/hum9902> a m:Study ; dct:identifier "hum9902" ; dct:title "Released cohort study"@en ;
    dcat:hasVersion <https://w3id.org/musubi/study/hum9902-v1> .
<https://w3id.org/musubi/study/hum9902-v1> a m:StudyVersion ; dct:identifier "hum9902-v1" ; dcat:version "v1" ;
    dct:hasPart <https://w3id.org/musubi/dataset/JGAD990002> , <https://w3id.org/musubi/dataset/JGAD990003> .
<https://w3id.org/musubi/dataset/JGAD990002> a dcat:Dataset ; dct:identifier "JGAD990002" ; dct:title "Unreleased genomes of a cohort"@en ;
    dct:description "tarragonite genomes, unreleased"@en ; m:sourceAccessLevel "Controlled-access" ;
    dct:isPartOf <https://w3id.org/musubi/study/hum9902> ; m:embargoUntil "2999-12-31"^^xsd:date ;
    m:dataUseCondition <http://purl.obolibrary.org/obo/DUO_0000007> , <http://purl.obolibrary.org/obo/DUO_0000046> ;
    m:internalId "embargo-ticket-cirrocumulus" .
<https://w3id.org/musubi/dataset/JGAD990003> a dcat:Dataset ; dct:identifier "JGAD990003" ; dct:title "Released genomes of a cohort"@en ;
    m:sourceAccessLevel "Controlled-access" ; dct:isPartOf <https://w3id.org/musubi/study/hum9902> ; m:sensitive true ;
    m:contactEmail "ptarmigan-desk@example.org" ; odrl:hasPolicy <https://w3id.org/musubi/policy/JGAP990001> .
<https://w3id.org/musubi/policy/JGAP990001> a odrl:Policy ; dct:identifier "JGAP990001" ; dct:title "Cohort data use policy"@en ;
    m:datasetAccession "JGAD990002" , "JGAD990003" ; m:dataUseCondition <http://purl.obolibrary.org/obo/DUO_0000042> .
<https://w3id.org/musubi/sample/SAMD99000002> a m:Sample ; dct:identifier "SAMD99000002" ; dct:title "An unreleased sample"@en ;
    dct:isPartOf <https://w3id.org/musubi/study/hum9902> ; m:embargoUntil "2999-12-31"^^xsd:date .
"#;

struct Caller {
    name: &'static str,
    principal: Principal,
}

fn callers() -> Vec<Caller> {
    let p = |tier: Tier, subject: &str, grants: &[&str]| Principal {
        tier,
        grants: grants.iter().map(|g| (*g).to_owned()).collect(),
        subject: Some(subject.to_owned()),
        issuer: Some("https://idp.example.org".to_owned()),
    };
    vec![
        Caller { name: "anonymous", principal: Principal::anonymous() },
        Caller { name: "registered", principal: p(Tier::Registered, "researcher-r", &[]) },
        Caller { name: "controlled-A", principal: p(Tier::Controlled, "researcher-c", &[A]) },
        Caller { name: "steward", principal: p(Tier::Steward, "dac-member", &[]) },
    ]
}

/// Whether `caller` may read a field of `tier` on the dataset `dataset` (the rule the issue states).
fn may(caller: &Principal, tier: Tier, dataset: Option<&str>) -> bool {
    match tier {
        Tier::Public => true,
        Tier::Registered => caller.tier >= Tier::Registered,
        Tier::Controlled => {
            caller.tier == Tier::Steward || (caller.tier >= Tier::Registered && dataset.is_some_and(|d| caller.grants.contains(d)))
        }
        Tier::Steward => caller.tier == Tier::Steward,
    }
}

fn tier_named(name: &str) -> Tier {
    Tier::ALL.into_iter().find(|t| t.name() == name).unwrap_or_else(|| panic!("unknown tier {name}"))
}

/// A field's declared tiers, read from the SDL's `@tier` directive.
#[derive(Debug, Clone, Copy)]
struct Declared {
    requires: Tier,
    sensitive: Tier,
    embargoed: Tier,
}

impl Declared {
    fn on(self, policy: Policy) -> Tier {
        if policy.embargoed {
            self.embargoed
        } else if policy.sensitive {
            self.sensitive
        } else {
            self.requires
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Policy {
    embargoed: bool,
    sensitive: bool,
}

/// The record a value is read as part of: its dataset (for grants) and its policy.
#[derive(Debug, Clone, Default)]
struct Scope {
    dataset: Option<String>,
    policy: Policy,
}

/// `type → field → declared tiers`, and `input → field → tier` for filters.
fn declared_tiers(sdl: &str) -> HashMap<String, HashMap<String, Declared>> {
    let mut out: HashMap<String, HashMap<String, Declared>> = HashMap::new();
    let mut current: Option<String> = None;
    let mut pending_field: Option<String> = None;
    let mut in_description = false;
    for line in sdl.lines() {
        if line.matches("\"\"\"").count() == 1 {
            in_description = !in_description;
            continue;
        }
        if in_description || line.contains("\"\"\"") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("type ").or_else(|| line.strip_prefix("input ")) {
            current = rest.split_whitespace().next().map(str::to_owned);
            continue;
        }
        if line == "}" {
            current = None;
            continue;
        }
        let Some(ty) = &current else { continue };
        if line.starts_with("\t\t") {
            continue;
        }
        let trimmed = line.trim();
        let name = if trimmed.starts_with(')') {
            pending_field.take()
        } else if trimmed.ends_with('(') {
            pending_field = trimmed.split('(').next().map(str::to_owned);
            continue;
        } else {
            trimmed.split([':', '(']).next().map(str::to_owned)
        };
        let Some(name) = name else { continue };
        let Some(args) = trimmed.split("@tier(").nth(1).and_then(|a| a.split(')').next()) else {
            panic!("{ty}.{name} has no @tier directive: {line}");
        };
        let arg = |key: &str| {
            args.split(',').map(str::trim).find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix(": "))).map(tier_named)
        };
        let requires = arg("requires").expect("requires");
        out.entry(ty.clone()).or_default().insert(
            name,
            Declared { requires, sensitive: arg("sensitive").unwrap_or(requires), embargoed: arg("embargoed").unwrap_or(requires) },
        );
    }
    out
}

/// An object type's fields, from introspection: name, the named type, whether it is an object,
/// and whether it takes a required argument.
#[derive(Debug, Clone)]
struct FieldInfo {
    name: String,
    named_type: String,
    is_object: bool,
    required_args: bool,
    description: String,
}

fn named(ty: &Value) -> (&str, &str) {
    let mut t = ty;
    while t["name"].is_null() {
        t = &t["ofType"];
    }
    (t["name"].as_str().expect("type name"), t["kind"].as_str().expect("kind"))
}

fn fields_by_type(introspection: &Value) -> HashMap<String, Vec<FieldInfo>> {
    let mut out = HashMap::new();
    for ty in introspection["data"]["__schema"]["types"].as_array().expect("types") {
        let Some(fields) = ty["fields"].as_array() else { continue };
        let name = ty["name"].as_str().expect("name");
        if name.starts_with("__") {
            continue;
        }
        let infos = fields
            .iter()
            .map(|f| {
                let (named_type, kind) = named(&f["type"]);
                FieldInfo {
                    name: f["name"].as_str().expect("field").to_owned(),
                    named_type: named_type.to_owned(),
                    is_object: kind == "OBJECT",
                    required_args: f["args"].as_array().expect("args").iter().any(|a| a["type"]["kind"] == "NON_NULL"),
                    description: f["description"].as_str().unwrap_or("").to_owned(),
                }
            })
            .collect();
        out.insert(name.to_owned(), infos);
    }
    out
}

const INTROSPECTION: &str = "{ __schema { types { name fields { name description args { name type { kind } }
    type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

/// A selection of every field of `ty` without required arguments, objects expanded `depth` deep.
fn selection(types: &HashMap<String, Vec<FieldInfo>>, ty: &str, depth: usize) -> String {
    let mut parts = Vec::new();
    for f in &types[ty] {
        if f.required_args {
            continue;
        }
        if f.is_object {
            if depth > 0 {
                parts.push(format!("{} {{ {} }}", f.name, selection(types, &f.named_type, depth - 1)));
            }
        } else {
            parts.push(f.name.clone());
        }
    }
    parts.join(" ")
}

/// The hub, harvested from loopback partners plus the stewardship source.
struct Setup {
    app: App,
    store: Arc<EmbeddedStore>,
    _partners: (Partner, Partner),
    _dir: tempfile::TempDir,
}

async fn harvested_hub() -> Setup {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let stewardship = dir.path().join("stewardship.ttl");
    std::fs::write(&stewardship, STEWARDSHIP).expect("write");
    let mut sources = manifests(&humandbs, &dcat);
    // Samples (one of them from a human host, so sensitive), reached from the root.
    sources.push((
        "ddbj-biosample-xml.toml",
        format!(
            "id = \"ddbj-biosample-xml\"\nkind = \"xml\"\nendpoint = \"{}\"\nmapping = \"{}\"\nconstruct = [\"{}\"]\n\
             [paging]\nrecords = \"/BioSampleSet/BioSample\"\n[record]\nid = \"Ids/Id[@namespace = 'BioSample']\"\n",
            dcat.url("/files/ddbj/biosample/ddbj_biosample_set.xml"),
            musubi_tests::mappings().join("ddbj-biosample-xml.rml.ttl").display(),
            musubi_tests::mappings().join("biosample.rq").display(),
        ),
    ));
    sources.push(("stewardship.toml", format!("id = \"stewardship\"\nkind = \"rdf-dump\"\nendpoint = \"{}\"\n", stewardship.display())));
    let folder = write_manifests(&dir.path().join("sources"), &sources);
    let manifests = load_manifests(&folder).expect("manifests are valid");
    let store = Arc::new(EmbeddedStore::in_memory());
    let app = App::new(Parts::new(store.clone(), manifests, Vocabulary::builtin())).expect("hub starts");
    support::harvest_all(&app).await;
    Setup { app, store, _partners: (humandbs, dcat), _dir: dir }
}

async fn ask(app: &App, principal: &Principal, query: &str) -> Value {
    let response = app.execute(async_graphql::Request::new(query), principal.clone()).await.expect("audit log written");
    serde_json::to_value(&response).expect("json")
}

fn today() -> String {
    musubi_ontology::now().to_string().chars().take(10).collect()
}

/// The policy of a dataset as the steward sees it.
fn policy_of(steward_dataset: &Value) -> Policy {
    Policy {
        embargoed: steward_dataset["embargoUntil"].as_str().is_some_and(|d| d.get(..10).unwrap_or(d) > today().as_str()),
        sensitive: steward_dataset["sensitive"] == true,
    }
}

/// Every string in a value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

fn path_key(path: &[Value]) -> String {
    path.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("/")
}

/// What one caller's walk found, for the coverage checks at the end.
#[derive(Default)]
struct Seen {
    /// (caller, tier) → fields seen with a non-empty value / denied.
    shown: BTreeMap<(String, Tier), usize>,
    denied: BTreeMap<(String, Tier), usize>,
}

struct Walk<'a> {
    types: &'a HashMap<String, Vec<FieldInfo>>,
    declared: &'a HashMap<String, HashMap<String, Declared>>,
    caller: &'a Caller,
    /// FORBIDDEN errors of the caller's response: path → required tier.
    denials: HashMap<String, String>,
    embargoed: &'a BTreeSet<String>,
    /// The names of the record walked from (its own accession is no link to it).
    own: BTreeSet<String>,
    seen: &'a mut Seen,
}

impl Walk<'_> {
    /// Compares the caller's `got` with the steward's `want` for an object of type `ty`, read in
    /// the scope of dataset `dataset` with `policy`.
    fn object(&mut self, ty: &str, want: &Value, got: &Value, path: &mut Vec<Value>, scope: &Scope, depth: usize) {
        let scope = match ty {
            "Dataset" => Scope { dataset: want["accession"].as_str().map(str::to_owned), policy: policy_of(want) },
            // A study or a sample is its own record, with no dataset a grant could name.
            "Study" | "Sample" => Scope { dataset: None, policy: policy_of(want) },
            _ => scope.clone(),
        };
        let (dataset, policy) = (scope.dataset.clone(), scope.policy);
        for f in self.types[ty].iter().filter(|f| !f.required_args && (!f.is_object || depth > 0)) {
            let declared = self.declared[ty][&f.name];
            // The description says the tier too (introspection without SDL).
            assert!(f.description.contains(&format!("Tier: {}", declared.requires.name())), "{ty}.{} description: {}", f.name, f.description);
            let tier = declared.on(policy);
            path.push(json!(f.name));
            let key = path_key(path);
            let w = &want[&f.name];
            let g = &got[&f.name];
            let who = self.caller.name;
            if may(&self.caller.principal, tier, dataset.as_deref()) {
                assert!(!self.denials.contains_key(&key), "{who} may read {ty}.{} ({tier}) at {key} but was denied", f.name);
                if !(w.is_null() || w == &json!([])) {
                    *self.seen.shown.entry((who.to_owned(), tier)).or_default() += 1;
                }
                if f.is_object {
                    self.list_or_object(&f.named_type, w, g, path, &scope, depth - 1);
                } else {
                    assert_eq!(g, &self.without_embargoed(w), "{who} reads {ty}.{} at {key}", f.name);
                }
            } else {
                assert!(g.is_null(), "{who} must not read {ty}.{} ({tier}) at {key}: {g}", f.name);
                assert!(got.as_object().is_some_and(|o| o.contains_key(&f.name)), "{who}: the denied {ty}.{} at {key} is null in place, not left out: {got}", f.name);
                assert_eq!(self.denials.get(&key).map(String::as_str), Some(tier.name()), "{who}: {ty}.{} at {key} needs a FORBIDDEN error naming {tier}", f.name);
                *self.seen.denied.entry((who.to_owned(), tier)).or_default() += 1;
            }
            path.pop();
        }
    }

    /// Whether a record linked as `want` (of type `ty`) is hidden from the caller: an embargoed
    /// dataset, study or sample, below STEWARD.
    fn hidden_link(&self, ty: &str, want: &Value) -> bool {
        self.caller.principal.tier < Tier::Steward && matches!(ty, "Dataset" | "Study" | "Sample") && policy_of(want).embargoed
    }

    fn list_or_object(&mut self, ty: &str, want: &Value, got: &Value, path: &mut Vec<Value>, scope: &Scope, depth: usize) {
        match want {
            Value::Array(items) => {
                // Embargoed records are not listed below STEWARD.
                let expected: Vec<&Value> = items.iter().filter(|i| !self.hidden_link(ty, i)).collect();
                let got = got.as_array().unwrap_or_else(|| panic!("{} at {}: a list, got {got}", self.caller.name, path_key(path)));
                assert_eq!(got.len(), expected.len(), "{} at {}", self.caller.name, path_key(path));
                for (i, (w, g)) in expected.into_iter().zip(got).enumerate() {
                    path.push(json!(i));
                    self.object(ty, w, g, path, scope, depth);
                    path.pop();
                }
            }
            Value::Null => assert!(got.is_null(), "{} at {}", self.caller.name, path_key(path)),
            // A link to an embargoed record (a dataset's study) is not shown.
            _ if self.hidden_link(ty, want) => assert!(got.is_null(), "{} at {}: a link to an embargoed record: {got}", self.caller.name, path_key(path)),
            _ => self.object(ty, want, got, path, scope, depth),
        }
    }

    /// A list of accessions leaves out other embargoed records below STEWARD.
    fn without_embargoed(&self, v: &Value) -> Value {
        match v {
            Value::Array(items) if self.caller.principal.tier < Tier::Steward => Value::Array(
                items.iter().filter(|i| !i.as_str().is_some_and(|s| self.embargoed.contains(s) && !self.own.contains(s))).cloned().collect(),
            ),
            _ => v.clone(),
        }
    }
}

/// Every embargoed record (dataset, study, sample) as the steward sees it: its names and sources.
async fn embargoed_records(app: &App, steward: &Principal) -> Vec<Value> {
    const FIELDS: &str = "identifiers iri embargoUntil sources";
    let r = ask(app, steward, &format!("{{ datasets(first: 100) {{ nodes {{ {FIELDS} }} }} studies(first: 100) {{ {FIELDS} }} }}")).await;
    let mut records: Vec<Value> = r["data"]["datasets"]["nodes"].as_array().expect("datasets").clone();
    records.extend(r["data"]["studies"].as_array().expect("studies").iter().cloned());
    for sample in ["SAMD99000001", EMBARGOED_SAMPLE] {
        let s = ask(app, steward, &format!(r#"{{ sample(id: "{sample}") {{ {FIELDS} }} }}"#)).await;
        records.push(s["data"]["sample"].clone());
    }
    records.retain(|r| policy_of(r).embargoed);
    records
}

/// A record's own names: its identifiers and IRI.
fn names_of(record: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for v in record["identifiers"].as_array().into_iter().flatten().chain([&record["iri"], &record["accession"]]) {
        if let Some(s) = v.as_str() {
            out.insert(s.to_owned());
        }
    }
    out
}

/// Below STEWARD, no value of a response names an embargoed record (but the record asked for,
/// `own`): not a link, not an accession in a list, not an error.
fn assert_no_trace(caller: &Caller, response: &Value, embargoed: &BTreeSet<String>, own: &BTreeSet<String>) {
    if caller.principal.tier == Tier::Steward {
        return;
    }
    let mut found = Vec::new();
    strings(response, &mut found);
    for s in found {
        assert!(!embargoed.contains(&s) || own.contains(&s), "{}: {s:?} names an embargoed record: {response}", caller.name);
    }
}

fn denials(response: &Value) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for e in response["errors"].as_array().into_iter().flatten() {
        assert_eq!(e["extensions"]["code"], "FORBIDDEN", "only tier denials are expected: {e}");
        let path = e["path"].as_array().expect("a denial names its path");
        out.insert(path_key(path), e["extensions"]["requiredTier"].as_str().expect("requiredTier").to_owned());
    }
    out
}

/// Denied values never appear in the caller's errors, whatever the path.
fn assert_no_echo(caller: &str, response: &Value, steward: &Value) {
    let errors = response["errors"].to_string();
    let mut visible = Vec::new();
    strings(&response["data"], &mut visible);
    let mut secret = Vec::new();
    strings(steward, &mut secret);
    // Errors name tiers by design; a value that happens to be a tier name proves nothing.
    let tier_names: Vec<&str> = Tier::ALL.iter().map(|t| t.name()).collect();
    for s in secret.iter().filter(|s| s.len() >= 6 && !visible.contains(s) && !tier_names.contains(&s.as_str())) {
        assert!(!errors.contains(s.as_str()), "{caller}: an error echoes the value {s:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tier_matrix_holds_on_every_field_filter_count_and_search() {
    let setup = harvested_hub().await;
    let app = &setup.app;
    let callers = callers();
    let steward = &callers[3];
    let declared = declared_tiers(&app.schema().sdl());
    let types = fields_by_type(&ask(app, &steward.principal, INTROSPECTION).await);
    const DEPTH: usize = 2;
    let dataset_selection = selection(&types, "Dataset", DEPTH);

    // Every dataset, as the steward sees it.
    let all = ask(app, &steward.principal, "{ datasets(first: 100) { totalCount nodes { accession } } }").await;
    let accessions: Vec<String> =
        all["data"]["datasets"]["nodes"].as_array().expect("nodes").iter().map(|n| n["accession"].as_str().expect("accession").to_owned()).collect();
    for required in [A, B, EMBARGOED] {
        assert!(accessions.iter().any(|a| a == required), "{required} is harvested");
    }
    let mut full: BTreeMap<String, Value> = BTreeMap::new();
    for accession in &accessions {
        let r = ask(app, &steward.principal, &format!(r#"{{ dataset(id: "{accession}") {{ {dataset_selection} }} }}"#)).await;
        assert!(r.get("errors").is_none(), "the steward reads everything: {r}");
        full.insert(accession.clone(), r["data"]["dataset"].clone());
    }
    let embargoed_datasets: BTreeSet<String> = full.iter().filter(|(_, d)| policy_of(d).embargoed).map(|(a, _)| a.clone()).collect();
    assert_eq!(embargoed_datasets, BTreeSet::from([EMBARGOED.to_owned(), EMBARGOED_DATASET.to_owned()]));
    assert!(policy_of(&full[A]).sensitive);
    // Every name (accession, IRI) of an embargoed record of any kind: below STEWARD no response
    // shows one (asked for by accession, the record answers as an unknown one).
    let embargoed_records = embargoed_records(app, &steward.principal).await;
    let embargoed: BTreeSet<String> = embargoed_records.iter().flat_map(names_of).collect();
    for name in [EMBARGOED, EMBARGOED_DATASET, EMBARGOED_STUDY, EMBARGOED_SAMPLE, "https://w3id.org/musubi/study/hum9901"] {
        assert!(embargoed.contains(name), "{name} in {embargoed:?}");
    }

    // 1. Every field of every type reachable from a dataset, for every caller and dataset.
    let mut seen = Seen::default();
    for caller in &callers {
        for (accession, want) in &full {
            let r = ask(app, &caller.principal, &format!(r#"{{ dataset(id: "{accession}") {{ {dataset_selection} }} }}"#)).await;
            if embargoed.contains(accession.as_str()) && caller.principal.tier < Tier::Steward {
                assert_eq!(r, json!({ "data": { "dataset": null } }), "{} asked for the embargoed {accession}", caller.name);
                continue;
            }
            let mut walk = Walk { types: &types, declared: &declared, caller, denials: denials(&r), embargoed: &embargoed, own: names_of(want), seen: &mut seen };
            walk.object("Dataset", want, &r["data"]["dataset"], &mut vec![json!("dataset")], &Scope::default(), DEPTH);
            assert_no_echo(caller.name, &r, want);
            assert_no_trace(caller, &r, &embargoed, &names_of(want));
        }
    }
    // Every sample, from the root, the same way: its own record (no dataset scope).
    let sample_selection = selection(&types, "Sample", DEPTH);
    let samples: Vec<String> = {
        let text = std::fs::read_to_string(musubi_tests::fixtures().join("ddbj/biosample/ddbj_biosample_set.xml")).expect("fixture");
        let mut samples: Vec<String> = text.split("is_primary=\"1\">").skip(1).map(|s| s[..s.find('<').expect("id")].to_owned()).collect();
        samples.extend(["SAMD99000001".to_owned(), EMBARGOED_SAMPLE.to_owned()]);
        samples
    };
    let mut sensitive_samples = 0;
    for accession in &samples {
        let query = format!(r#"{{ sample(id: "{accession}") {{ {sample_selection} }} }}"#);
        let want = ask(app, &steward.principal, &query).await;
        assert!(want.get("errors").is_none(), "the steward reads everything: {want}");
        let want = &want["data"]["sample"];
        sensitive_samples += usize::from(want["sensitive"] == true);
        for caller in &callers {
            let r = ask(app, &caller.principal, &query).await;
            if embargoed.contains(accession.as_str()) && caller.principal.tier < Tier::Steward {
                assert_eq!(r, json!({ "data": { "sample": null } }), "{} asked for the embargoed {accession}", caller.name);
                continue;
            }
            let mut walk = Walk { types: &types, declared: &declared, caller, denials: denials(&r), embargoed: &embargoed, own: names_of(want), seen: &mut seen };
            walk.object("Sample", want, &r["data"]["sample"], &mut vec![json!("sample")], &Scope::default(), DEPTH);
            assert_no_echo(caller.name, &r, want);
            assert_no_trace(caller, &r, &embargoed, &names_of(want));
        }
    }
    assert!(sensitive_samples > 0 && sensitive_samples < samples.len(), "both kinds of sample are covered");

    // The matrix is not vacuous: each tier was both shown and withheld where it should be.
    let count = |m: &BTreeMap<(String, Tier), usize>, who: &str, t: Tier| m.get(&(who.to_owned(), t)).copied().unwrap_or(0);
    for t in [Tier::Registered, Tier::Controlled, Tier::Steward] {
        assert!(count(&seen.shown, "steward", t) > 0, "the steward saw a {t} value");
        assert!(count(&seen.denied, "anonymous", t) > 0, "anonymous was denied a {t} field");
    }
    assert!(count(&seen.shown, "controlled-A", Tier::Controlled) > 0 && count(&seen.denied, "controlled-A", Tier::Controlled) > 0);
    assert!(count(&seen.shown, "registered", Tier::Registered) > 0 && count(&seen.denied, "registered", Tier::Controlled) > 0);

    // The record policies as the issue states them, over the declared tiers: a sensitive record
    // lifts REGISTERED to CONTROLLED; an embargoed one is STEWARD's alone, every field of it.
    for (field, d) in &declared["Dataset"] {
        if d.requires == Tier::Registered {
            assert_eq!(d.sensitive, Tier::Controlled, "Dataset.{field} on a sensitive record");
        }
        let structural = types["Dataset"].iter().any(|f| &f.name == field && f.description.contains("by construction"));
        if !structural && field != "id" && field != "identifiers" {
            assert_eq!(d.embargoed, Tier::Steward, "Dataset.{field} on an embargoed record");
        }
    }
    // Asked for by accession, an embargoed record answers below STEWARD exactly as an accession no
    // record has: its existence is what the embargo protects. The steward reads it whole.
    for caller in &callers {
        for (kind, embargoed) in [("dataset", EMBARGOED), ("dataset", EMBARGOED_DATASET), ("study", EMBARGOED_STUDY), ("sample", EMBARGOED_SAMPLE)] {
            let ask_for = |id: &str| format!(r#"{{ {kind}(id: "{id}") {{ accession title {{ value }} }} }}"#);
            let r = ask(app, &caller.principal, &ask_for(embargoed)).await;
            if caller.principal.tier >= Tier::Steward {
                assert_eq!(r["data"][kind]["accession"], json!(embargoed), "{r}");
            } else {
                let unknown = ask(app, &caller.principal, &ask_for("NOSUCH000001")).await;
                assert_eq!(r["data"][kind], Value::Null, "{} asked for {embargoed}: {r}", caller.name);
                assert_eq!(r.to_string(), unknown.to_string(), "{} asked for {embargoed}", caller.name);
            }
        }
    }

    // 2. `claims(field:)` applies the tier of the field it is asked about.
    let claimable: Vec<&FieldInfo> = types["Dataset"].iter().filter(|f| !f.required_args && f.name != "claims").collect();
    for caller in &callers {
        for (accession, want) in &full {
            let aliases: Vec<String> =
                claimable.iter().map(|f| format!(r#"c_{0}: claims(field: "{0}") {{ value source }}"#, f.name)).collect();
            let q = format!(r#"{{ dataset(id: "{accession}") {{ {} }} }}"#, aliases.join(" "));
            let r = ask(app, &caller.principal, &q).await;
            let policy = policy_of(want);
            if policy.embargoed && caller.principal.tier < Tier::Steward {
                assert_eq!(r, json!({ "data": { "dataset": null } }), "{}: claims on the embargoed {accession}", caller.name);
                continue;
            }
            for f in &claimable {
                let key = path_key(&[json!("dataset"), json!(format!("c_{}", f.name))]);
                let error = r["errors"].as_array().into_iter().flatten().find(|e| path_key(e["path"].as_array().expect("path")) == key);
                if error.is_some_and(|e| e["extensions"]["code"] == "BAD_USER_INPUT") {
                    continue; // not a field that shows a graph property
                }
                let tier = declared["Dataset"][&f.name].on(policy);
                let allowed = may(&caller.principal, tier, Some(accession));
                assert_eq!(error.is_none(), allowed, "{}: claims(field: {:?}) on {accession} ({tier}): {error:?}", caller.name, f.name);
                if let Some(e) = error {
                    assert_eq!((&e["extensions"]["code"], &e["extensions"]["requiredTier"]), (&json!("FORBIDDEN"), &json!(tier.name())));
                }
            }
            assert_no_echo(caller.name, &r, want);
        }
    }

    // 3. Counts: embargoed records are not listed or counted below STEWARD, nor in record counts.
    let steward_sources = ask(app, &steward.principal, "{ sources { id recordCount } }").await;
    for caller in &callers {
        let r = ask(app, &caller.principal, "{ datasets(first: 100) { totalCount nodes { accession } } studies(first: 100) { accession } sources { id recordCount } }").await;
        let listed: BTreeSet<String> =
            r["data"]["datasets"]["nodes"].as_array().expect("nodes").iter().map(|n| n["accession"].as_str().expect("acc").to_owned()).collect();
        let expected: BTreeSet<String> =
            accessions.iter().filter(|a| caller.principal.tier == Tier::Steward || !embargoed.contains(*a)).cloned().collect();
        assert_eq!(listed, expected, "{}", caller.name);
        assert_eq!(r["data"]["datasets"]["totalCount"], json!(expected.len()), "{}", caller.name);
        let studies: Vec<&str> = r["data"]["studies"].as_array().expect("studies").iter().map(|s| s["accession"].as_str().expect("acc")).collect();
        assert_eq!(studies.contains(&EMBARGOED_STUDY), caller.principal.tier == Tier::Steward, "{}: {studies:?}", caller.name);
        assert!(studies.contains(&VISIBLE_STUDY), "{}", caller.name);
        // Every embargoed record of the source (datasets, studies, samples) is left out of its count.
        let hidden_in_source = |id: &str| {
            let of_source = embargoed_records.iter().filter(|r| r["sources"].as_array().expect("sources").contains(&json!(id))).count() as i64;
            if caller.principal.tier < Tier::Steward { of_source } else { 0 }
        };
        for (mine, theirs) in r["data"]["sources"].as_array().expect("sources").iter().zip(steward_sources["data"]["sources"].as_array().expect("sources")) {
            let id = theirs["id"].as_str().expect("id");
            assert_eq!(mine["recordCount"].as_i64(), theirs["recordCount"].as_i64().map(|n| n - hidden_in_source(id)), "{}: {id}", caller.name);
        }
    }

    // 4. Filters: refused when the caller may read the field on no record; otherwise a record
    // matches only where the caller may read the field, and never an unlisted one.
    // The same for `search`'s filters (and facets) that name a Dataset field.
    let filter_tiers = declared["DatasetFilter"].iter().map(|(f, t)| ("datasets", f, t)).chain(
        // (Ranges, releaseDate and subjectCount, take an input object, not values: tests/search.rs.)
        declared["SearchFilter"]
            .iter()
            .filter(|(f, _)| !matches!(f.as_str(), "releaseDate" | "subjectCount"))
            .filter(|(f, _)| types["Dataset"].iter().any(|d| &d.name == *f && matches!(d.named_type.as_str(), "String" | "AccessLevel")))
            .map(|(f, t)| ("search", f, t)),
    );
    let mut search_filters = 0;
    for (root, filter, filter_tier) in filter_tiers {
        if filter == "text" {
            continue; // search, below
        }
        // Values to filter by: those the steward sees in the field of the same name.
        let mut values: Vec<Value> = full.values().flat_map(|d| match &d[filter] {
            Value::Array(a) => a.clone(),
            Value::Null => Vec::new(),
            v => vec![v.clone()],
        }).collect();
        values.sort_by_key(ToString::to_string);
        values.dedup();
        if root == "search" {
            // Search's filters include fields the fixtures leave empty (assays, platforms, …).
            search_filters += usize::from(!values.is_empty());
        } else {
            assert!(!values.is_empty(), "filter {filter} names a Dataset field with values");
        }
        let is_enum = types["Dataset"].iter().any(|d| &d.name == filter && d.named_type == "AccessLevel");
        for value in values {
            let literal = match &value {
                Value::String(s) if is_enum => s.clone(),
                v => v.to_string(),
            };
            let q = match root {
                "datasets" => format!("{{ datasets(first: 100, filter: {{ {filter}: [{literal}] }}) {{ totalCount nodes {{ accession }} }} }}"),
                _ => format!("{{ datasets: search(first: 100, filter: {{ kind: [DATASET], {filter}: [{literal}] }}) {{ totalCount nodes {{ ... on Dataset {{ accession }} }} }} }}"),
            };
            let steward_answer = ask(app, &steward.principal, &q).await;
            let steward_hits: BTreeSet<String> = steward_answer["data"]["datasets"]["nodes"]
                .as_array()
                .unwrap_or_else(|| panic!("{q}: {steward_answer}"))
                .iter()
                .map(|n| n["accession"].as_str().expect("acc").to_owned())
                .collect();
            for caller in &callers {
                let r = ask(app, &caller.principal, &q).await;
                let somewhere = may(&caller.principal, filter_tier.requires, None)
                    || (filter_tier.requires == Tier::Controlled && caller.principal.tier >= Tier::Registered && !caller.principal.grants.is_empty());
                if !somewhere {
                    assert!(r["data"]["datasets"].is_null(), "{}: filter {filter} must be refused: {r}", caller.name);
                    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN");
                    assert!(!r["errors"].to_string().contains(value.as_str().unwrap_or("\u{0}")), "{}: the refusal echoes the value", caller.name);
                    continue;
                }
                let hits: BTreeSet<String> = r["data"]["datasets"]["nodes"].as_array().expect("nodes").iter().map(|n| n["accession"].as_str().expect("acc").to_owned()).collect();
                let expected: BTreeSet<String> = steward_hits
                    .iter()
                    .filter(|a| caller.principal.tier == Tier::Steward || !embargoed.contains(*a))
                    .filter(|a| may(&caller.principal, declared["Dataset"][filter].on(policy_of(&full[*a])), Some(a)))
                    .cloned()
                    .collect();
                assert_eq!(hits, expected, "{}: {root} filter {filter} = {literal}", caller.name);
                assert_eq!(r["data"]["datasets"]["totalCount"], json!(expected.len()));
                if root == "search" {
                    // The facet over the same field counts exactly those records.
                    let facet: String = filter.chars().flat_map(|c| if c.is_ascii_uppercase() { vec!['_', c] } else { vec![c.to_ascii_uppercase()] }).collect();
                    let r = ask(app, &caller.principal, &format!("{{ search(filter: {{ kind: [DATASET] }}, facets: [{facet}]) {{ facets {{ values {{ value count }} }} }} }}")).await;
                    let shown = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                    let count = r["data"]["search"]["facets"][0]["values"].as_array().expect("facet values").iter().find(|v| v["value"] == shown.as_str()).map_or(0, |v| v["count"].as_u64().expect("count"));
                    assert_eq!(count as usize, expected.len(), "{}: facet {facet} value {shown}: {r}", caller.name);
                }
            }
        }
    }
    assert!(search_filters >= 2, "search filters were tried on fields with values");

    // 5. Text search, field by field: a word only field F of dataset D holds finds D for exactly
    // the callers who may read F on D (and D is listed for them).
    let mut searched = BTreeMap::<Tier, usize>::new();
    for (accession, want) in &full {
        let policy = policy_of(want);
        // The record's own fields (a linked record, such as its study, is another record).
        let by_field: Vec<(String, String)> = types["Dataset"]
            .iter()
            .filter(|f| !matches!(f.named_type.as_str(), "Dataset" | "Study"))
            .filter_map(|f| {
                let mut s = Vec::new();
                strings(&want[&f.name], &mut s);
                (!s.is_empty()).then(|| (f.name.clone(), s.join("\n").to_lowercase()))
            })
            .collect();
        for (field, text) in &by_field {
            let found = |r: &Value| r["data"]["datasets"]["nodes"].as_array().expect("nodes").iter().any(|n| n["accession"] == accession.as_str());
            let query = |word: &str| format!(r#"{{ datasets(first: 100, filter: {{ text: "{word}" }}) {{ totalCount nodes {{ accession }} }} }}"#);
            // A word only this field holds, that the steward's search finds (IRIs and numbers are
            // not searched text).
            let mut chosen = None;
            let candidates = text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 6)
                .filter(|w| by_field.iter().all(|(other, t)| other == field || !t.contains(*w)))
                .take(3);
            for word in candidates {
                if found(&ask(app, &steward.principal, &query(word)).await) {
                    chosen = Some(word);
                    break;
                }
            }
            let Some(word) = chosen else { continue };
            let q = query(word);
            let tier = declared["Dataset"][field].on(policy);
            *searched.entry(tier).or_default() += 1;
            for caller in &callers {
                let r = ask(app, &caller.principal, &q).await;
                let expected = may(&caller.principal, tier, Some(accession)) && (caller.principal.tier == Tier::Steward || !embargoed.contains(accession));
                assert_eq!(found(&r), expected, "{}: search for {word:?} (only in {accession}.{field}, {tier})", caller.name);
                let n = r["data"]["datasets"]["nodes"].as_array().expect("nodes").len();
                assert_eq!(r["data"]["datasets"]["totalCount"], json!(n));
                // `search` (the index: text per tier) finds it for the same callers.
                let s = ask(app, &caller.principal, &format!(r#"{{ search(query: "{word}", first: 100, filter: {{ kind: [DATASET] }}) {{ edges {{ highlights node {{ ... on Dataset {{ accession }} }} }} }} }}"#)).await;
                let edges = s["data"]["search"]["edges"].as_array().unwrap_or_else(|| panic!("{s}"));
                let hit = edges.iter().find(|e| e["node"]["accession"] == accession.as_str());
                assert_eq!(hit.is_some(), expected, "{}: search(query: {word:?}) (only in {accession}.{field}, {tier}): {s}", caller.name);
                for node in r["data"]["datasets"]["nodes"].as_array().expect("nodes") {
                    let a = node["accession"].as_str().expect("acc");
                    assert!(caller.principal.tier == Tier::Steward || !embargoed.contains(a), "{}: search found embargoed {a}", caller.name);
                }
            }
        }
    }
    for t in [Tier::Public, Tier::Registered, Tier::Controlled, Tier::Steward] {
        assert!(searched.get(&t).copied().unwrap_or(0) > 0, "search was tried on a {t} field: {searched:?}");
    }
}

/// The audit log holds each CONTROLLED read under a grant: who, which issuer, which dataset and
/// fields; a PUBLIC read leaves no entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controlled_reads_and_the_grants_used_are_audited() {
    let setup = harvested_hub().await;
    let callers = callers();
    let (anonymous, controlled, steward) = (&callers[0], &callers[2], &callers[3]);
    ask(&setup.app, &anonymous.principal, &format!(r#"{{ dataset(id: "{A}") {{ title {{ value }} sampleAttributes }} }}"#)).await;
    let r = ask(&setup.app, &controlled.principal, &format!(r#"{{ a: dataset(id: "{A}") {{ sampleAttributes downloadUrls contactEmail }} b: dataset(id: "{B}") {{ sampleAttributes }} }}"#)).await;
    assert_eq!(r["data"]["a"]["sampleAttributes"], json!(["tumour stage zephyrine"]), "{r}");
    let log = ask(&setup.app, &steward.principal, r#"{ auditLog(filter: { subject: "researcher-c" }) { totalCount edges { node { subject issuer tier dataset fields grantUsed } } } }"#).await;
    let entries = log["data"]["auditLog"]["edges"].as_array().unwrap_or_else(|| panic!("{log}"));
    assert_eq!(entries.len(), 1, "one entry: the denied read of B is not a read: {log}");
    assert_eq!(
        entries[0]["node"],
        json!({ "subject": "researcher-c", "issuer": "https://idp.example.org", "tier": "CONTROLLED", "dataset": A,
                "fields": ["contactEmail", "downloadUrls", "sampleAttributes"], "grantUsed": true })
    );
    let everyone = ask(&setup.app, &steward.principal, "{ auditLog(first: 100) { totalCount edges { node { subject } } } }").await;
    assert!(!everyone.to_string().contains("\"subject\":null"), "anonymous PUBLIC reads are not logged: {everyone}");
}

/// The facts around an embargoed record's values, for every caller below STEWARD: no link to it
/// from a visible record, no outcome that used it, no DMP deposit naming it, no search statistic
/// counting it; and asked about directly (an access request, a DUO verdict), it answers as an
/// accession no record has. Scores and cursors carry only the caller's own statistics; CONTROLLED
/// highlights are audited; who registered an outcome, and how many came before, are STEWARD.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_to_embargoed_records_leave_no_trace() {
    let setup = harvested_hub().await;
    let app = &setup.app;
    let callers = callers();
    let steward = &callers[3].principal;
    let embargoed_records = embargoed_records(app, steward).await;
    let embargoed: BTreeSet<String> = embargoed_records.iter().flat_map(names_of).collect();

    // Outcomes: one that used an embargoed dataset (and A), one on the sensitive dataset, one on B.
    let register = |datasets: &[&str], title: &str| {
        let datasets = datasets.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>().join(", ");
        format!(r#"mutation {{ registerOutcome(input: {{ kind: PUBLICATION, title: "{title}", doi: "10.1234/{}", datasets: [{datasets}] }}) {{ id }} }}"#, title.len())
    };
    for (datasets, title) in [(&[EMBARGOED_DATASET, A][..], "Findings from tarragonite genomes"), (&[SENSITIVE_OF_VISIBLE_STUDY][..], "A cohort paper"), (&[B][..], "A germline paper")] {
        let r = ask(app, steward, &register(datasets, title)).await;
        assert!(r["data"]["registerOutcome"]["id"].is_string(), "{r}");
    }
    // A DMP item a steward linked to the embargoed dataset and the embargoed sample.
    let plan = std::fs::read_to_string(musubi_tests::fixtures().join("amed-dmp/dmp-example.jsonld")).expect("fixture");
    let r = app.execute(async_graphql::Request::new("mutation($c: String!) { ingestDmp(content: $c, fileName: \"dmp-example.jsonld\") { items } }").variables(async_graphql::Variables::from_json(json!({ "c": plan }))), steward.clone()).await.expect("audit");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let items = ask(app, steward, "{ dmpItems { id } }").await;
    let item = items["data"]["dmpItems"][0]["id"].as_str().expect("an item").to_owned();
    for accession in [EMBARGOED_DATASET, EMBARGOED_SAMPLE, OF_EMBARGOED_STUDY] {
        let r = ask(app, steward, &format!(r#"mutation {{ confirmDmpLink(item: "{item}", accession: "{accession}") }}"#)).await;
        assert!(r.get("errors").is_none(), "{r}");
    }

    const FEED: &str = "{ outcomes(first: 10) { nodes { id title datasets registeredBy sequence } hasNextPage endCursor } }";
    let steward_feed = ask(app, steward, FEED).await;
    assert_eq!(steward_feed["data"]["outcomes"]["nodes"].as_array().expect("feed").len(), 3, "{steward_feed}");
    assert_eq!(steward_feed["data"]["outcomes"]["nodes"][2]["registeredBy"], "dac-member");
    assert_eq!(steward_feed["data"]["outcomes"]["nodes"][0]["sequence"], 3);
    // The steward sees every link the others do not (hiding is not losing them).
    let r = ask(app, steward, &format!(r#"{{ dataset(id: "{OF_EMBARGOED_STUDY}") {{ study {{ accession }} }} }}"#)).await;
    assert_eq!(r["data"]["dataset"]["study"]["accession"], EMBARGOED_STUDY, "{r}");
    let r = ask(app, steward, &format!(r#"{{ study(id: "{VISIBLE_STUDY}") {{ datasets {{ accession }} samples {{ accession }} versions {{ datasetAccessions }} }} }}"#)).await;
    for name in [EMBARGOED_DATASET, EMBARGOED_SAMPLE] {
        assert!(r.to_string().contains(&format!("\"{name}\"")), "the steward sees {name}: {r}");
    }
    let r = ask(app, steward, r#"{ sample(id: "SAMD99000001") { studyAccessions } }"#).await;
    assert!(r.to_string().contains(EMBARGOED_STUDY), "{r}");
    let r = ask(app, steward, &format!(r#"{{ dataset(id: "{A}") {{ outcomes {{ title }} }} }}"#)).await;
    assert!(r.to_string().contains("tarragonite"), "{r}");
    let r = ask(app, steward, "{ dmpItems { depositAccessions } }").await;
    assert!(r.to_string().contains(EMBARGOED_DATASET) && r.to_string().contains(EMBARGOED_SAMPLE), "{r}");

    let unknown = "JGAD999999";
    for caller in &callers[..3] {
        let who = caller.name;
        let p = &caller.principal;
        let trace = |r: &Value| assert_no_trace(caller, r, &embargoed, &BTreeSet::new());

        // Links, from each side (the matrix walks every field; here the links themselves).
        let r = ask(app, p, &format!(r#"{{ dataset(id: "{OF_EMBARGOED_STUDY}") {{ study {{ accession }} claims(field: "study") {{ value }} }} }}"#)).await;
        assert_eq!(r["data"]["dataset"]["study"], Value::Null, "{who}: {r}");
        trace(&r);
        let r = ask(app, p, &format!(r#"{{ study(id: "{VISIBLE_STUDY}") {{ datasets {{ accession }} samples {{ accession }} versions {{ datasetAccessions }} }} }}"#)).await;
        assert_eq!(r["data"]["study"]["versions"][0]["datasetAccessions"], json!([SENSITIVE_OF_VISIBLE_STUDY]), "{who}: {r}");
        trace(&r);
        let r = ask(app, p, r#"{ sample(id: "SAMD99000001") { studies { accession } studyAccessions } }"#).await;
        assert_eq!(r["data"]["sample"]["studies"], json!([]), "{who}: {r}");
        trace(&r);
        let r = ask(app, p, &format!(r#"{{ dataset(id: "{SENSITIVE_OF_VISIBLE_STUDY}") {{ policies {{ datasetAccessions }} dataUse {{ terms {{ code }} }} }} }}"#)).await;
        assert_eq!(r["data"]["dataset"]["policies"][0]["datasetAccessions"], json!([SENSITIVE_OF_VISIBLE_STUDY]), "{who}: {r}");
        trace(&r);

        // Outcomes: not one that used the embargoed dataset, in the feed or on A; who registered
        // them and their place in the count are STEWARD; the feed pages by opaque cursors.
        let feed = ask(app, p, FEED).await;
        let titles: Vec<&str> = feed["data"]["outcomes"]["nodes"].as_array().expect("feed").iter().map(|o| o["title"].as_str().expect("title")).collect();
        assert_eq!(titles, ["A germline paper", "A cohort paper"], "{who}: {feed}");
        for field in ["registeredBy", "sequence"] {
            assert!(feed["data"]["outcomes"]["nodes"][0].as_object().expect("node").get(field) == Some(&Value::Null), "{who}: {field}: {feed}");
            assert!(feed["errors"].as_array().expect("denied").iter().any(|e| e["path"][3] == field && e["extensions"]["requiredTier"] == "STEWARD"), "{who}: {feed}");
        }
        let first = ask(app, p, "{ outcomes(first: 1) { nodes { title } hasNextPage endCursor } }").await;
        let cursor = first["data"]["outcomes"]["endCursor"].as_str().expect("cursor").to_owned();
        assert_eq!(cursor, feed["data"]["outcomes"]["nodes"][0]["id"].as_str().expect("id"), "the cursor is the outcome's id");
        let next = ask(app, p, &format!(r#"{{ outcomes(first: 5, after: "{cursor}") {{ nodes {{ title }} hasNextPage }} }}"#)).await;
        assert_eq!(next["data"]["outcomes"], json!({ "nodes": [{ "title": "A cohort paper" }], "hasNextPage": false }), "{who}: {next}");
        let on_a = ask(app, p, &format!(r#"{{ dataset(id: "{A}") {{ outcomes {{ title }} }} }}"#)).await;
        assert_eq!(on_a["data"]["dataset"]["outcomes"], json!([]), "{who}: {on_a}");

        // DMP deposits.
        let r = ask(app, p, "{ dmpItems { depositAccessions depositedRecords { accession kind } } }").await;
        assert!(r.to_string().contains(OF_EMBARGOED_STUDY), "{who}: the visible deposit shows: {r}");
        trace(&r);

        // Asked directly, an embargoed record answers as an accession no record has: a DUO verdict,
        // an access request (and one on the sensitive CONTROLLED dataset judges its public codes).
        let verdicts = ask(app, p, &format!(r#"{{ matchDataUse(purpose: {{ healthMedical: true, commercial: false }}, datasets: ["{EMBARGOED_DATASET}", "{unknown}"]) {{ found outcome rule dataUse {{ terms {{ code }} }} }} }}"#)).await;
        let v = verdicts["data"]["matchDataUse"].as_array().unwrap_or_else(|| panic!("{verdicts}"));
        assert_eq!(v[0], v[1], "{who}: {verdicts}");
        if p.tier >= Tier::Registered {
            let submit = |datasets: &[&str]| {
                let input = json!({ "datasets": datasets, "purpose": "Cohort comparison", "researchUse": { "healthMedicalBiomedical": true, "commercial": false },
                    "institution": "Kyoto University", "period": { "start": "2026-12-01", "end": "2027-11-30" }, "members": ["Hanako Yamada"], "userClass": "ACADEMIC" });
                let request = async_graphql::Request::new("mutation($input: AccessRequestInput!) { submitAccessRequest(input: $input) { id datasets { dataset verdict rule conditions } } }")
                    .variables(async_graphql::Variables::from_json(json!({ "input": input })));
                let p = p.clone();
                async move { serde_json::to_value(app.execute(request, p).await.expect("audit")).expect("json") }
            };
            for hidden in [EMBARGOED_DATASET, EMBARGOED] {
                let (a, b) = (submit(&[hidden]).await, submit(&[unknown]).await);
                assert!(a["data"]["submitAccessRequest"].is_null(), "{who}: {a}");
                assert_eq!(a.to_string().replace(hidden, "X"), b.to_string().replace(unknown, "X"), "{who}: {hidden} answers as {unknown}");
            }
            let r = submit(&[OF_EMBARGOED_STUDY]).await;
            assert_eq!(r["data"]["submitAccessRequest"]["datasets"][0]["conditions"], json!(["http://purl.obolibrary.org/obo/DUO_0000042"]), "{who}: {r}");
            trace(&r);
        }

        // Search: nothing found, counted or scored from the embargoed records.
        let r = ask(app, p, r#"{ search(query: "marigoldine tarragonite") { totalCount } a: search(query: "marigoldine") { totalCount } b: search(query: "tarragonite") { totalCount } }"#).await;
        assert_eq!((r["data"]["a"]["totalCount"].as_i64(), r["data"]["b"]["totalCount"].as_i64()), (Some(0), Some(0)), "{who}: {r}");
        let all = ask(app, p, "{ search(first: 1) { totalCount } }").await["data"]["search"]["totalCount"].as_u64().expect("count");
        let r = ask(app, p, r#"{ search(query: "cohort", first: 1) { totalCount edges { cursor score } } }"#).await;
        let edges = r["data"]["search"]["edges"].as_array().unwrap_or_else(|| panic!("{r}"));
        trace(&r);
        // The cursor's statistics: the documents the caller may see, and only its tiers' text.
        let cursor = String::from_utf8(base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, edges[0]["cursor"].as_str().expect("cursor")).expect("base64")).expect("utf8");
        let stats = cursor.rsplit('\u{0}').next().expect("stats");
        let mut parts = stats.splitn(3, ';');
        assert_eq!(parts.next().and_then(|d| d.parse::<u64>().ok()), Some(all), "{who}: {cursor:?}");
        let tokens: Vec<u64> = parts.next().expect("tokens").split(',').map(|t| t.parse().expect("n")).collect();
        let readable = |t: usize| t <= p.tier.min(Tier::Registered) as usize || (t == Tier::Controlled as usize && !p.grants.is_empty());
        for (t, n) in tokens.iter().enumerate() {
            assert!(readable(t) || *n == 0, "{who}: tokens of tier {t} in {cursor:?}");
        }
        for entry in parts.next().expect("terms").split('|').filter(|e| !e.is_empty()) {
            let t: usize = entry.split(':').next().expect("tier").parse().expect("n");
            assert!(readable(t), "{who}: term counts of tier {t} in {cursor:?}");
        }
    }

    // The export (the datasets connection, streamed over HTTP) shows no link to them either.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = musubi_gateway::http::router(app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    let export = reqwest::get(format!("http://{addr}/export/datasets.ndjson")).await.expect("export").text().await.expect("body");
    let lines: Vec<Value> = export.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    let linked = lines.iter().find(|l| l["accession"] == OF_EMBARGOED_STUDY).expect("the visible dataset is exported");
    assert!(linked.get("study").is_none_or(Value::is_null), "{linked}");
    for line in &lines {
        assert_no_trace(&callers[0], line, &embargoed, &BTreeSet::new());
    }

    // CONTROLLED highlights are reads: audited with the grant used.
    let controlled = &callers[2].principal;
    let r = ask(app, controlled, r#"{ search(query: "zephyrine") { edges { highlights node { ... on Dataset { accession } } } } }"#).await;
    assert!(r["data"]["search"]["edges"][0]["highlights"][0].as_str().is_some_and(|h| h.contains("<em>zephyrine</em>")), "{r}");
    let log = ask(app, steward, r#"{ auditLog(first: 100, filter: { subject: "researcher-c" }) { edges { node { dataset fields grantUsed } } } }"#).await;
    let entries = log["data"]["auditLog"]["edges"].as_array().unwrap_or_else(|| panic!("{log}"));
    assert!(entries.iter().any(|e| e["node"] == json!({ "dataset": A, "fields": ["highlights", "search"], "grantUsed": true })), "{log}");

    // So is a list filtered by words only CONTROLLED text holds: finding A says something of it.
    let r = ask(app, controlled, r#"{ datasets(filter: { text: "zephyrine" }) { nodes { accession } } }"#).await;
    assert_eq!(r["data"]["datasets"]["nodes"], json!([{ "accession": A }]), "{r}");
    let log = ask(app, steward, r#"{ auditLog(first: 100, filter: { subject: "researcher-c" }) { edges { node { dataset fields grantUsed } } } }"#).await;
    let entries = log["data"]["auditLog"]["edges"].as_array().unwrap_or_else(|| panic!("{log}"));
    assert!(entries.iter().any(|e| e["node"] == json!({ "dataset": A, "fields": ["filter.text"], "grantUsed": true })), "{log}");
}
