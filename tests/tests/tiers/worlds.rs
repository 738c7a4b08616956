//! The property test: two worlds that differ only in what a caller may not see answer that caller
//! alike — data, errors, counts, cursors, scores, highlights, verdicts, ids.
//!
//! How the worlds are built. The fixtures are harvested once (the matrix's hub, with its
//! stewardship source) and their graphs read back, node by node. Each case then draws, from a
//! seeded generator:
//! - a vocabulary whose tiers are reassigned at random (four in ten properties get a random tier),
//!   but for the properties that decide which record is which (identifiers, `owl:sameAs`, the
//!   embargo and sensitive flags): the hub's answers for those are structural, not guarded values;
//! - an embargo on random datasets, studies and samples, a sensitive flag on random datasets
//!   (stated by an extra source, as a stewardship feed would), grants for the granted caller, and
//!   outcomes a steward registers on random datasets.
//!
//! That is world A. For each caller below STEWARD (anonymous, registered, granted), world B is
//! world A with everything that caller may not see changed: what it may see is computed as the
//! schema defines it — a record's properties at their effective tier (record policy, grant), and
//! the nodes a record links to along links it may read, at the same scope; a dataset's data use
//! (its conditions and its policies', those that name it too) where it may read them — and every
//! other value is dropped, replaced (by other text, heavy in words the queries search for, or by
//! another node's IRI) or kept, at random (a node keeps one value, changed, where all would go:
//! whether a source describes a linked node shows, as a link to an undescribed one is not
//! shown); embargoed records keep only what shows under an
//! embargo, and gain hidden text; links to them are dropped; visible records gain values in
//! fields the caller may not read; outcomes that used a hidden dataset, and other researchers'
//! requests, exist in A only. Both worlds then answer the same queries from that caller —
//! every field of every dataset and study two levels deep, every record by accession (hidden ones
//! too), searches with facets, sorts, filters and second pages by cursor, the text filter, the
//! outcome feed, DUO verdicts, access requests, source counts — and the answers must be equal,
//! byte for byte, once the random ids and the clock are masked.
//!
//! A failure names the seed, the case, the caller and the query, and the first place the answers
//! differ; `MUSUBI_WORLDS=<cases>` and `MUSUBI_WORLDS_SEED=<seed>` run more cases or replay one.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use musubi_ontology::rdf::{Literal, NamedNode, NamedOrBlankNode, NamedOrBlankNodeRef, Term, TermRef, Triple};
use musubi_read_model::{MergedRecord, ReadModel, SourceView};
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab::{self as v, Vocabulary};
use musubi_schema::access::{RecordPolicy, effective_tier};
use musubi_schema::{AuditCollector, ApiState, Principal, SourceInfo};
use serde_json::{Value, json};

use super::{INTROSPECTION, ask, fields_by_type, harvested_hub, selection};

/// Properties that decide which record is which, or its policy: kept PUBLIC and unchanged.
const STRUCTURAL: &[&str] = &[
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
    "http://purl.org/dc/terms/identifier",
    "https://w3id.org/musubi/vocab#sourceRecordId",
    "http://www.w3.org/2002/07/owl#sameAs",
    "http://www.w3.org/2004/02/skos/core#exactMatch",
    "https://w3id.org/musubi/vocab#embargoUntil",
    "https://w3id.org/musubi/vocab#sensitive",
];
const STRUCTURAL_FIELDS: &[&str] = &["accession", "sameAs", "embargoUntil", "sensitive", "sourceRecordId"];

/// Words the queries search for: hidden text is made of them, so that a statistic counted over
/// it would move the scores.
const WORDS: &[&str] = &["cancer", "genome", "cohort", "japanese", "exome", "study", "ゲノム", "肺がん", "解析", "tumour", "sequencing", "blood"];

/// SplitMix64: small, seeded, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    fn words(&mut self) -> String {
        let n = 1 + self.below(6);
        (0..n).map(|_| WORDS[self.below(WORDS.len())]).collect::<Vec<_>>().join(" ")
    }
}

fn today() -> String {
    musubi_ontology::now().to_string().chars().take(10).collect()
}

/// A node's key in a view: its IRI, or `_:` and its blank node id.
fn key(id: NamedOrBlankNodeRef<'_>) -> String {
    match id {
        NamedOrBlankNodeRef::NamedNode(n) => n.as_str().to_owned(),
        NamedOrBlankNodeRef::BlankNode(b) => format!("_:{}", b.as_str()),
    }
}

/// One world's graphs: per source, its triples.
type Graphs = BTreeMap<String, Vec<Triple>>;

fn model_of(graphs: &Graphs) -> ReadModel {
    let mut model = ReadModel::default();
    for (source, triples) in graphs {
        model = model.with_source(SourceView::from_triples(source, triples.clone()));
    }
    model
}

/// Every record of a model with whether it is a dataset.
fn records(model: &ReadModel) -> Vec<(&MergedRecord, bool)> {
    model.datasets().iter().map(|r| (r, true)).chain(model.studies().iter().chain(model.samples()).map(|r| (r, false))).collect()
}

/// The names of a record: its members' accessions and IRIs, and the IRIs linked to it.
fn names(record: &MergedRecord) -> Vec<String> {
    let mut out: Vec<String> = record.members.iter().flat_map(|m| [m.accession.clone(), key(m.id.as_ref())]).collect();
    out.extend(record.iris.iter().map(|i| i.as_str().to_owned()));
    out.retain(|n| !n.starts_with("_:") && !n.is_empty());
    out
}

/// What `caller` may see of `model`: (source, node, property) triples' subjects and predicates
/// whose values it may read somewhere, and the names of the records hidden from it.
fn seen_by(model: &ReadModel, vocabulary: &Vocabulary, caller: &Principal) -> (HashSet<(String, String, String)>, BTreeSet<String>) {
    let today = today();
    let hidden: BTreeSet<String> = records(model)
        .into_iter()
        .filter(|(r, _)| RecordPolicy::of(r, &today).embargoed && caller.tier < Tier::Steward)
        .flat_map(|(r, _)| names(r))
        .collect();
    // Another record's nodes are never read in this record's scope (a link to a record shows
    // its accession at most, read in its own).
    let record_nodes: HashSet<String> = records(model).iter().flat_map(|(r, _)| r.members.iter().map(|m| key(m.id.as_ref()))).collect();
    let mut seen = HashSet::new();
    for (record, is_dataset) in records(model) {
        let policy = RecordPolicy::of(record, &today);
        let scope = is_dataset.then(|| record.key().accession.clone());
        let readable = |p: &str| caller.may_read(effective_tier(vocabulary, p, policy), scope.as_deref());
        // The record's nodes, then the nodes it links to along readable links (any depth).
        let mut queue: Vec<(Arc<SourceView>, NamedOrBlankNode)> =
            record.members.iter().filter_map(|m| Some((model.view(&m.source)?.clone(), m.id.clone()))).collect();
        let mut visited = HashSet::new();
        while let Some((view, id)) = queue.pop() {
            if !visited.insert((view.source.clone(), key(id.as_ref()))) {
                continue;
            }
            let Some(node) = view.node(&id) else { continue };
            for (p, values) in node.properties() {
                if !readable(p) {
                    continue;
                }
                seen.insert((view.source.clone(), key(node.id()), p.to_owned()));
                for value in values {
                    match value {
                        TermRef::BlankNode(b) => queue.push((view.clone(), b.into_owned().into())),
                        TermRef::NamedNode(n) if !hidden.contains(n.as_str()) && !record_nodes.contains(n.as_str()) => {
                            let target = NamedOrBlankNode::from(n.into_owned());
                            for other in model.views().filter(|o| o.contains(&target)) {
                                queue.push((other.clone(), target.clone()));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        // A dataset's data use reads the policies that name it, where its data use is readable.
        let data_use = [v::MUSUBI_DATA_USE_CONDITION, v::ODRL_HAS_POLICY, v::MUSUBI_DATASET_ACCESSION];
        if is_dataset && !(policy.embargoed && caller.tier < Tier::Steward) && data_use.iter().all(|p| readable(p.as_str())) {
            let accessions: Vec<String> = record.members.iter().map(|m| m.accession.clone()).collect();
            for view in model.views() {
                for node in view.of_type(v::ODRL_POLICY) {
                    if node.strings(v::MUSUBI_DATASET_ACCESSION).iter().any(|a| accessions.iter().any(|x| x == a)) {
                        for p in [v::MUSUBI_DATA_USE_CONDITION, v::MUSUBI_DATASET_ACCESSION] {
                            seen.insert((view.source.clone(), key(node.id()), p.as_str().to_owned()));
                        }
                    }
                }
            }
        }
    }
    (seen, hidden)
}

/// World A's graphs with everything `caller` may not see changed (see the module's opening).
fn twin(graphs: &Graphs, vocabulary: &Vocabulary, caller: &Principal, rng: &mut Rng) -> Graphs {
    let model = model_of(graphs);
    let (seen, hidden) = seen_by(&model, vocabulary, caller);
    let today = today();
    let iris: Vec<NamedNode> = graphs
        .values()
        .flatten()
        .filter_map(|t| match &t.subject {
            NamedOrBlankNode::NamedNode(n) => Some(n.clone()),
            NamedOrBlankNode::BlankNode(_) => None,
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut out = Graphs::new();
    for (source, triples) in graphs {
        let mut kept = Vec::new();
        for t in triples {
            let p = t.predicate.as_str();
            let names_hidden = match &t.object {
                Term::NamedNode(n) => hidden.contains(n.as_str()),
                Term::Literal(l) => hidden.contains(l.value()),
                _ => false,
            };
            if STRUCTURAL.contains(&p) {
                kept.push(t.clone());
            } else if names_hidden {
                // A link to a hidden record is never shown: gone.
            } else if seen.contains(&(source.clone(), key(t.subject.as_ref()), p.to_owned())) {
                kept.push(t.clone());
            } else {
                match rng.below(3) {
                    0 => {}
                    1 => {
                        let object: Term = match &t.object {
                            Term::Literal(l) => match l.language() {
                                Some(lang) => Literal::new_language_tagged_literal_unchecked(rng.words(), lang).into(),
                                None => Literal::new_simple_literal(rng.words()).into(),
                            },
                            _ if rng.chance(0.5) && !iris.is_empty() => iris[rng.below(iris.len())].clone().into(),
                            _ => NamedNode::new_unchecked(format!("https://example.org/hidden/{}", rng.next())).into(),
                        };
                        kept.push(Triple::new(t.subject.clone(), t.predicate.clone(), object));
                    }
                    _ => kept.push(t.clone()),
                }
            }
        }
        // Whether a source describes a linked node at all shows (a link to a node no source
        // describes is not shown): a node keeps one value, changed, where all would go.
        let mut described: HashSet<NamedOrBlankNode> = kept.iter().map(|t| t.subject.clone()).collect();
        for t in triples {
            if described.insert(t.subject.clone()) {
                kept.push(Triple::new(t.subject.clone(), t.predicate.clone(), Literal::new_simple_literal(rng.words())));
            }
        }
        out.insert(source.clone(), kept);
    }
    // Hidden values added: text on embargoed records, values of unreadable fields on visible ones.
    let literal_fields: Vec<&str> = vocabulary
        .properties()
        .filter(|p| p.graphql_field.is_some() && !STRUCTURAL.contains(&p.iri.as_str()))
        .map(|p| p.iri.as_str())
        .collect();
    for (record, is_dataset) in records(&model) {
        let policy = RecordPolicy::of(record, &today);
        let scope = is_dataset.then(|| record.key().accession.clone());
        let NamedOrBlankNode::NamedNode(subject) = &record.key().id else { continue };
        for _ in 0..2 {
            let p = literal_fields[rng.below(literal_fields.len())];
            if !caller.may_read(effective_tier(vocabulary, p, policy), scope.as_deref()) && rng.chance(0.5) {
                // In the record's own source (a new source would show in its `sources`).
                let triple = Triple::new(subject.clone(), NamedNode::new_unchecked(p), Literal::new_simple_literal(rng.words()));
                out.get_mut(&*record.key().source).expect("the record's source").push(triple);
            }
        }
    }
    out
}

/// A random world: its vocabulary's Turtle and its graphs (the fixtures plus a policy source).
struct World {
    vocabulary: Arc<Vocabulary>,
    graphs: Graphs,
    grants: Vec<String>,
    /// Outcomes a steward registers: (datasets, title).
    outcomes: Vec<(Vec<String>, String)>,
    /// Accessions the queries name: every dataset, study and sample, and one no record has.
    datasets: Vec<String>,
    studies: Vec<String>,
    samples: Vec<String>,
}

fn random_world(base: &Graphs, rng: &mut Rng) -> World {
    let tiers = ["Public", "Registered", "Controlled", "Steward"];
    let turtle: String = v::BUILTIN_TURTLE
        .lines()
        .map(|line| {
            let field = line.split("musubi:graphqlField \"").nth(1).and_then(|f| f.split('"').next());
            match (line.trim_start().starts_with('#'), line.split("musubi:tier musubi:").nth(1), field) {
                (false, Some(rest), Some(field)) if !STRUCTURAL_FIELDS.contains(&field) && rng.chance(0.4) => {
                    let old = rest.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("");
                    line.replacen(&format!("musubi:tier musubi:{old}"), &format!("musubi:tier musubi:{}", tiers[rng.below(4)]), 1)
                }
                _ => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let vocabulary = Arc::new(Vocabulary::from_turtle(&turtle, "random.ttl").expect("the random vocabulary parses"));
    let model = model_of(base);
    let mut policy = Vec::new();
    let embargo = Literal::new_typed_literal("2999-12-31", NamedNode::new_unchecked("http://www.w3.org/2001/XMLSchema#date"));
    for (record, is_dataset) in records(&model) {
        let NamedOrBlankNode::NamedNode(subject) = &record.key().id else { continue };
        if rng.chance(0.15) {
            policy.push(Triple::new(subject.clone(), v::MUSUBI_EMBARGO_UNTIL, embargo.clone()));
        }
        if is_dataset && rng.chance(0.2) {
            policy.push(Triple::new(subject.clone(), v::MUSUBI_SENSITIVE, Literal::from(true)));
        }
    }
    let mut graphs = base.clone();
    graphs.insert("random-policy".to_owned(), policy);
    let datasets: Vec<String> = model.datasets().iter().map(|r| r.key().accession.clone()).collect();
    let studies = model.studies().iter().map(|r| r.key().accession.clone()).collect();
    let samples = model.samples().iter().map(|r| r.key().accession.clone()).collect();
    let grants = (0..1 + rng.below(3)).map(|_| datasets[rng.below(datasets.len())].clone()).collect();
    let outcomes = (0..4)
        .map(|i| ((0..1 + rng.below(2)).map(|_| datasets[rng.below(datasets.len())].clone()).collect(), format!("Outcome {i}: {}", rng.words())))
        .collect();
    World { vocabulary, graphs, grants, outcomes, datasets, studies, samples }
}

struct Served {
    schema: musubi_schema::ApiSchema,
}

impl Served {
    async fn new(vocabulary: Arc<Vocabulary>, graphs: &Graphs, sources: &[SourceInfo]) -> Served {
        let hub = Arc::new(ApiState::new(vocabulary, model_of(graphs), sources.to_vec()));
        Served { schema: musubi_schema::build(hub) }
    }

    async fn ask(&self, principal: &Principal, query: &str) -> Value {
        let request = async_graphql::Request::new(query).data(principal.clone()).data(AuditCollector::new());
        serde_json::to_value(self.schema.execute(request).await).expect("json")
    }
}

/// The random ids (AR-…, GR-…, OUT-…) and the clock's instants, masked.
fn masked(value: &Value) -> Value {
    fn mask(s: &str) -> String {
        let chars: Vec<char> = s.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < chars.len() {
            let rest: String = chars[i..].iter().take(40).collect();
            let id = ["AR-", "GR-", "OUT-"].iter().find(|p| rest.starts_with(*p)).filter(|p| {
                let digits: Vec<char> = rest.chars().skip(p.len()).take(12).collect();
                digits.len() == 12 && digits.iter().all(|c| c.is_ascii_hexdigit())
            });
            if let Some(prefix) = id {
                out.push_str(prefix);
                out.push_str("ID");
                i += prefix.len() + 12;
                continue;
            }
            let b: Vec<char> = chars[i..].iter().take(19).copied().collect();
            let datetime = b.len() == 19
                && b.iter().enumerate().all(|(j, c)| match j {
                    4 | 7 => *c == '-',
                    10 => *c == 'T',
                    13 | 16 => *c == ':',
                    _ => c.is_ascii_digit(),
                });
            if datetime {
                out.push_str("TIME");
                i += 19;
                while i < chars.len() && (chars[i].is_ascii_digit() || matches!(chars[i], '.' | 'Z' | '+' | ':' | '-')) {
                    i += 1;
                }
                continue;
            }
            out.push(chars[i]);
            i += 1;
        }
        out
    }
    match value {
        Value::String(s) => Value::String(mask(s)),
        Value::Array(a) => Value::Array(a.iter().map(masked).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), masked(v))).collect()),
        v => v.clone(),
    }
}

/// The first place two answers differ.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                if let Some(d) = first_difference(x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null), &format!("{path}/{k}")) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}/{i}")))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worlds_that_differ_only_in_what_a_caller_may_not_see_answer_it_alike() {
    let setup = harvested_hub().await;
    let steward = Principal { tier: Tier::Steward, subject: Some("dac-member".into()), issuer: Some("https://idp.example.org".into()), ..Principal::anonymous() };
    let base_model = ReadModel::load(&*setup.store).expect("the harvested graphs");
    let mut base = Graphs::new();
    for view in base_model.views() {
        let mut triples = Vec::new();
        for node in view.nodes() {
            let subject = node.id().into_owned();
            for (p, values) in node.properties() {
                for value in values {
                    triples.push(Triple::new(subject.clone(), NamedNode::new_unchecked(p), value.into_owned()));
                }
            }
        }
        base.insert(view.source.clone(), triples);
    }
    let sources: Vec<SourceInfo> = {
        let r = ask(&setup.app, &steward, "{ sources { id name kind endpoint lastHarvest lastAttempt lastChange recordCount lastError } }").await;
        serde_json::from_value::<Vec<Value>>(r["data"]["sources"].clone())
            .expect("sources")
            .into_iter()
            .map(|s| SourceInfo {
                id: s["id"].as_str().expect("id").to_owned(),
                name: s["name"].as_str().unwrap_or("").to_owned(),
                kind: s["kind"].as_str().unwrap_or("").to_owned(),
                endpoint: s["endpoint"].as_str().unwrap_or("").to_owned(),
                last_harvest: s["lastHarvest"].as_str().map(str::to_owned),
                last_attempt: s["lastAttempt"].as_str().map(str::to_owned),
                last_change: s["lastChange"].as_str().map(str::to_owned),
                record_count: s["recordCount"].as_i64(),
                last_error: s["lastError"].as_str().map(str::to_owned),
                warnings: None,
            })
            .collect()
    };
    let types = fields_by_type(&ask(&setup.app, &steward, INTROSPECTION).await);
    let (dataset_fields, study_fields, sample_fields) = (selection(&types, "Dataset", 2), selection(&types, "Study", 2), selection(&types, "Sample", 1));
    let lookup_fields = selection(&types, "Dataset", 1);

    let seed: u64 = std::env::var("MUSUBI_WORLDS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261206);
    let cases: u64 = std::env::var("MUSUBI_WORLDS").ok().and_then(|s| s.parse().ok()).unwrap_or(4);
    let mut compared = 0usize;
    for case in 0..cases {
        let mut rng = Rng(seed.wrapping_add(case.wrapping_mul(0x1000_0001)));
        let world = random_world(&base, &mut rng);
        let callers = [
            ("anonymous", Principal::anonymous()),
            ("registered", Principal { tier: Tier::Registered, subject: Some("researcher-r".into()), issuer: Some("https://idp.example.org".into()), ..Principal::anonymous() }),
            (
                "granted",
                Principal {
                    tier: Tier::Registered,
                    grants: world.grants.iter().cloned().collect(),
                    subject: Some("researcher-c".into()),
                    issuer: Some("https://idp.example.org".into()),
                },
            ),
        ];
        let a_model = model_of(&world.graphs);
        let register = |(datasets, title): &(Vec<String>, String)| {
            let list = datasets.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>().join(", ");
            format!(r#"mutation {{ registerOutcome(input: {{ kind: PRODUCT, title: {title:?}, identifier: "p", datasets: [{list}] }}) {{ id }} }}"#)
        };
        for (name, caller) in &callers {
            // World A afresh for each caller (its own requests land in it), with every outcome and
            // another researcher's request; B with the outcomes the caller may see only.
            let a = Served::new(world.vocabulary.clone(), &world.graphs, &sources).await;
            let twin_graphs = twin(&world.graphs, &world.vocabulary, caller, &mut rng);
            let b = Served::new(world.vocabulary.clone(), &twin_graphs, &sources).await;
            let (_, hidden) = seen_by(&a_model, &world.vocabulary, caller);
            for outcome in &world.outcomes {
                a.ask(&steward, &register(outcome)).await;
                if !outcome.0.iter().any(|d| hidden.contains(d)) {
                    b.ask(&steward, &register(outcome)).await;
                }
            }
            let other = Principal { subject: Some("someone-else".into()), ..callers[1].1.clone() };
            a.ask(&other, &submit(&world.datasets[..3])).await;

            let quoted = |list: &[String]| list.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>().join(", ");
            let mut queries = vec![
                format!("{{ datasets(first: 100) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {dataset_fields} }} }} }}"),
                format!("{{ studies(first: 100) {{ {study_fields} }} }}"),
                "{ sources { id recordCount } }".to_owned(),
                // How each field's values came together, with the links among them.
                format!(
                    "{{ datasets(first: 100) {{ nodes {{ {} }} }} }}",
                    ["title", "description", "study", "duoCodes", "policies", "contactEmail", "sampleAttributes", "keywords", "relations", "distributions", "accessLevel"]
                        .iter()
                        .map(|f| format!("{f}: claims(field: {f:?}) {{ value lang source }}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                "{ outcomes(first: 50) { nodes { id kind title identifier datasets registeredAt registeredBy sequence } hasNextPage endCursor } }".to_owned(),
                "{ outcomes(first: 1) { nodes { id title } hasNextPage endCursor } }".to_owned(),
                format!("{{ matchDataUse(purpose: {{ healthMedical: true, commercial: false }}, datasets: [{}, \"JGAD999999\"]) {{ dataset found outcome rule dataUse {{ terms {{ code }} diseases unknownTerms }} }} }}", quoted(&world.datasets)),
                "{ datasets(first: 100, filter: { accessLevel: [CONTROLLED, OPEN] }) { totalCount nodes { accession } } }".to_owned(),
                "{ search(first: 10, facets: [SOURCE, ACCESS_LEVEL, TYPE, ASSAYS, PLATFORMS, REFERENCE_GENOMES, DISEASES, DUO_CODES, ORGANISATIONS, RELEASE_YEAR, SUBJECT_COUNT_RANGE]) { totalCount edges { cursor score node { ... on Dataset { accession } ... on Study { accession } } } facets { field values { value label count } } } }".to_owned(),
                "{ search(first: 5, sort: RELEASE_DATE) { totalCount edges { cursor node { ... on Dataset { accession } ... on Study { accession } } } } }".to_owned(),
                "{ search(first: 5, sort: SUBJECT_COUNT, order: ASC, filter: { kind: [DATASET], releaseDate: { from: \"2010\" } }) { totalCount edges { cursor node { ... on Dataset { accession } } } } }".to_owned(),
                "{ search(first: 5, filter: { subjectCount: { min: 10 }, accessLevel: [CONTROLLED] }) { totalCount edges { cursor } } }".to_owned(),
            ];
            for word in WORDS.iter().take(8) {
                queries.push(format!(
                    "{{ search(query: {word:?}, first: 2, facets: [ASSAYS, DISEASES, ACCESS_LEVEL]) {{ totalCount edges {{ cursor score highlights node {{ ... on Dataset {{ accession }} ... on Study {{ accession }} }} }} pageInfo {{ hasNextPage endCursor }} facets {{ field values {{ value count }} }} }} }}"
                ));
                queries.push(format!("{{ datasets(first: 100, filter: {{ text: {word:?} }}) {{ totalCount nodes {{ accession }} }} }}"));
            }
            for (kind, accessions, fields) in [("dataset", &world.datasets, &lookup_fields), ("study", &world.studies, &selection(&types, "Study", 1)), ("sample", &world.samples, &sample_fields)] {
                for chunk in accessions.chunks(12) {
                    let aliases: Vec<String> = chunk.iter().enumerate().map(|(i, a)| format!("r{i}: {kind}(id: {a:?}) {{ {fields} }}")).collect();
                    queries.push(format!("{{ {} }}", aliases.join(" ")));
                }
            }
            if caller.tier >= Tier::Registered {
                for accession in world.datasets.iter().step_by(4).chain(world.grants.iter()) {
                    queries.push(submit(std::slice::from_ref(accession)));
                }
                queries.push("{ accessRequests { id state datasets { dataset verdict rule conditions } } }".to_owned());
            }
            let mut i = 0;
            while i < queries.len() {
                let query = queries[i].clone();
                let (x, y) = (masked(&a.ask(caller, &query).await), masked(&b.ask(caller, &query).await));
                if let Some(difference) = first_difference(&x, &y, "") {
                    let query: String = query.chars().take(400).collect();
                    panic!("seed {seed}, case {case}, caller {name}: the worlds answer differently at {difference}\nquery: {query}…");
                }
                compared += 1;
                // The next page, by the cursor the first gave (the same in both, as just checked).
                if let Some(cursor) = ["search", "datasets"].iter().find_map(|r| x["data"][r]["pageInfo"]["endCursor"].as_str()).filter(|_| query.contains("first: 2")) {
                    queries.insert(i + 1, query.replacen("first: 2", &format!("first: 2, after: {cursor:?}"), 1));
                }
                if let Some(cursor) = x["data"]["outcomes"]["endCursor"].as_str().filter(|_| query.contains("outcomes(first: 1)")) {
                    queries.insert(i + 1, format!("{{ outcomes(first: 2, after: {cursor:?}) {{ nodes {{ title datasets }} hasNextPage }} }}"));
                }
                i += 1;
            }
        }
    }
    assert!(compared > 100, "{compared} answers compared");
}

/// An access request for `datasets`, as a researcher would send it.
fn submit(datasets: &[String]) -> String {
    let list = datasets.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>().join(", ");
    format!(
        r#"mutation {{ submitAccessRequest(input: {{ datasets: [{list}], purpose: "Cohort comparison", researchUse: {{ healthMedicalBiomedical: true, commercial: false }},
        institution: "Kyoto University", period: {{ start: "2026-12-01", end: "2027-11-30" }}, members: ["Hanako Yamada"], userClass: ACADEMIC }}) {{ id state datasets {{ dataset verdict rule conditions }} }} }}"#
    )
}

#[test]
fn the_generator_and_the_mask_do_what_they_say() {
    let mut a = Rng(7);
    let mut b = Rng(7);
    assert_eq!((0..5).map(|_| a.next()).collect::<Vec<_>>(), (0..5).map(|_| b.next()).collect::<Vec<_>>());
    assert_eq!(masked(&json!(["no access request AR-3F9A2C71B0D4", "2026-12-06T20:50:51.123Z", "OUT-12"])), json!(["no access request AR-ID", "TIME", "OUT-12"]));
}
