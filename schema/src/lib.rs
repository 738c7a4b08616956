//! musubi-schema: the GraphQL API.
//!
//! - [`access`]: the caller ([`Principal`]), record policies and the tier guard every field read
//!   goes through;
//! - [`tiers`]: each field's tier, shown in introspection (`@tier`) and enforced for fields that
//!   show no graph property;
//! - [`types`]: Dataset, Study and the entities they link to, read from the read model;
//! - [`query`]: the root queries and their filters and cursors;
//! - [`search`]: `search` over the search index ([`musubi_search`]), with the tier guard applied
//!   to its text, filters, facets, sort and highlights;
//! - [`errors`]: `extensions.code` on every error;
//! - [`requests`]: access requests (with DUO verdicts), review, grants, outcomes and fee
//!   statements, kept by the platform's ledger ([`musubi_platform::ledger`]); their query and
//!   mutation fields are REGISTERED or STEWARD by name in `tiers.rs`; [`ledger`] holds the views
//!   GraphQL shows of its records and of audit entries;
//! - [`duo`]: a dataset's data use (DUO), `matchDataUse`, DUO codes suggested from free-text
//!   policies and `confirmDuoSuggestion`;
//! - [`dmp`]: the DMP catalog (`dmps`, `dmpItems`, `ingestDmp`, `confirmDmpLink`) and
//!   `sharingDeadlines`.
//! - [`limits`]: depth, cost, page size, aliases, query size and tokens a request may ask.
//!
//! Every mutation passes `access::guard_tier(ctx, Tier::Steward, …)` (or the tier it needs) and
//! is audited like a read; the root query and mutation types merge one object per concern.
//!
//! Architecture invariant: the schema never sees HTTP. The gateway hands it a [`Principal`] and a
//! [`ApiState`]; resolvers answer from the read model (and `search` from the index built from it, in
//! the same [`Snapshot`]), never with a SPARQL query per field.

pub mod access;
pub mod dmp;
pub mod duo;
pub mod errors;
pub mod limits;
pub mod paging;
pub mod ledger;
pub mod requests;
pub mod query;
pub mod search;
pub mod tiers;
pub mod types;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use async_graphql::{EmptySubscription, MergedObject, Schema};
use musubi_ontology::disease::DiseaseHierarchy;
use musubi_platform::dmp::SharingPolicy;
use musubi_read_model::{ReadModel, SourceView};
use musubi_ontology::rdf::Triple;
use musubi_store::{GraphStore, Replacement, StoreError};
use musubi_ontology::vocab::Vocabulary;
use musubi_search::{OnDisk, SearchIndex};

pub use access::Principal;
pub use musubi_platform::audit::{AuditCollector, AuditLog};
pub use limits::Limits;
pub use musubi_platform::fees::FeeSchedule;
pub use musubi_platform::ledger::Ledger;
pub use query::Query;
pub use types::SourceInfo;

/// The root query: one object per concern.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(Query, duo::DuoQuery, dmp::DmpQuery, requests::RequestQuery);

/// The root mutation: one object per concern; every field is STEWARD unless it says otherwise
/// (the access-request mutations say who may send them).
#[derive(MergedObject, Default)]
pub struct Mutation(duo::DuoMutation, dmp::DmpMutation, requests::RequestMutation);

/// The schema type served by the gateway.
pub type ApiSchema = Schema<QueryRoot, Mutation, EmptySubscription>;

/// The read model and the search index built from it, swapped together so that a search's hits
/// always name records of the model that resolves them.
#[derive(Debug)]
pub struct Snapshot {
    pub model: Arc<ReadModel>,
    pub index: Arc<SearchIndex>,
    /// Each index document's record policy facts (by position in `index.docs()`).
    pub(crate) policies: Vec<access::PolicyFacts>,
    /// The documents whose records state an embargo (ascending): those hidden from a caller
    /// below STEWARD on a day are found among these, not among every document.
    pub(crate) embargo_stated: Vec<u32>,
    /// One bit per document: its record states a policy (an embargo, sensitive). A search asks
    /// for every hit what the caller may read there; for the rest (most records) that follows
    /// from the caller alone, without reading the record's facts (a million of them are 12 MB,
    /// read at random: a cache miss a hit).
    pub(crate) policy_stated: Vec<u64>,
    /// Every name (accession, IRI) of a record that states an embargo — dataset, study or
    /// sample — with its policy facts: a link to one is not shown while it is embargoed
    /// ([`access::Hidden`]). Few records state one; the map is empty in most hubs.
    pub(crate) embargo_names: std::collections::HashMap<String, access::PolicyFacts>,
    /// The sources and policy of each record (dataset, study, sample) that states an embargo: a
    /// source's record count below STEWARD leaves out those embargoed today.
    pub(crate) embargo_sources: Vec<(Vec<String>, access::PolicyFacts)>,
}

/// A snapshot made ahead of its swap ([`ApiState::prepare_source`]), and the one it was made from.
#[derive(Debug)]
pub struct Prepared {
    base: Arc<Snapshot>,
    snapshot: Snapshot,
}

impl Prepared {
    /// The read model it holds (to keep its merged records on disk before it is swapped in).
    pub fn model(&self) -> &ReadModel {
        &self.snapshot.model
    }
}

impl Snapshot {
    fn new(vocabulary: &Vocabulary, model: ReadModel, index_on_disk: Option<&Path>) -> (Snapshot, Option<OnDisk>) {
        let (index, policies, outcome) = search::build_index(vocabulary, &model, index_on_disk);
        let embargo_stated = policies.iter().enumerate().filter(|(_, p)| p.states_embargo()).map(|(o, _)| o as u32).collect();
        let mut policy_stated = vec![0u64; policies.len().div_ceil(64)];
        for (o, _) in policies.iter().enumerate().filter(|(_, p)| **p != access::PolicyFacts::default()) {
            policy_stated[o / 64] |= 1 << (o % 64);
        }
        let embargo_sources = model
            .datasets()
            .iter()
            .chain(model.studies())
            .chain(model.samples())
            .filter(|r| r.policy.states_embargo())
            .map(|r| (r.sources().into_iter().map(str::to_owned).collect(), r.policy))
            .collect();
        let embargo_names = model.embargo_names();
        let snapshot = Snapshot { model: Arc::new(model), index: Arc::new(index), policies, embargo_stated, policy_stated, embargo_names, embargo_sources };
        (snapshot, outcome)
    }
}

/// What the schema answers from: the read model and its search index, the vocabulary (for
/// tiers) and the sources. Shared by all requests; harvests swap in new snapshots.
pub struct ApiState {
    vocabulary: Arc<Vocabulary>,
    state: RwLock<Arc<Snapshot>>,
    /// Serialises snapshot updates (two harvests landing at once both count).
    updating: Mutex<()>,
    sources: RwLock<Arc<Vec<SourceInfo>>>,
    audit: Arc<AuditLog>,
    /// Which disease is a kind of which (MONDO), for search and DUO matching.
    diseases: Arc<DiseaseHierarchy>,
    /// Access requests, grants, outcomes and the usage meter (in the graph store).
    ledger: Arc<Ledger>,
    fees: RwLock<Arc<FeeSchedule>>,
    /// Tiers are enforced; only a benchmark build (feature `bench`) can switch this off.
    enforced: bool,
    /// What one query may ask (read per request by the limits extension and by resolvers).
    limits: RwLock<Limits>,
    /// Where mutations write (plans, confirmed links and DUO codes); none in read-only hubs.
    store: Option<Arc<dyn GraphStore>>,
    /// Sharing periods per data category and the designated databases.
    sharing: Arc<SharingPolicy>,
    /// Serialises read-modify-write updates of hub-written graphs, so that two stewards'
    /// confirmations at once both land.
    graph_writes: std::sync::Mutex<()>,
    /// Where each search index is kept for the next start (`<data>/index`); none: in memory.
    index_on_disk: Option<PathBuf>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState").field("store", &self.store.is_some()).field("enforced", &self.enforced).finish_non_exhaustive()
    }
}

impl ApiState {
    pub fn new(vocabulary: Arc<Vocabulary>, model: ReadModel, sources: Vec<SourceInfo>) -> ApiState {
        ApiState::with_index(vocabulary, model, sources, None).0
    }

    /// A hub keeping its search index in `root` (`<data>/index`) whenever it builds one, and
    /// opening the one there if it was built from the same read model (see
    /// `musubi_search::fingerprint`): a restart need not index every record again. Says whether
    /// it opened the index or built it.
    pub fn with_index_on_disk(vocabulary: Arc<Vocabulary>, model: ReadModel, sources: Vec<SourceInfo>, root: PathBuf) -> (ApiState, Option<OnDisk>) {
        ApiState::with_index(vocabulary, model, sources, Some(root))
    }

    /// The same hub, keeping each index it builds from now on in `root` (its present one stays
    /// as it was built): for a hub whose first model comes later (`musubi reindex`).
    pub fn with_index_kept_in(mut self, root: PathBuf) -> ApiState {
        self.index_on_disk = Some(root);
        self
    }

    /// Where the hub keeps its search indexes, if on disk.
    pub fn index_kept_in(&self) -> Option<&Path> {
        self.index_on_disk.as_deref()
    }

    fn with_index(vocabulary: Arc<Vocabulary>, model: ReadModel, sources: Vec<SourceInfo>, index_on_disk: Option<PathBuf>) -> (ApiState, Option<OnDisk>) {
        let (snapshot, outcome) = Snapshot::new(&vocabulary, model, index_on_disk.as_deref());
        let hub = ApiState {
            index_on_disk,
            vocabulary,
            state: RwLock::new(Arc::new(snapshot)),
            updating: Mutex::new(()),
            sources: RwLock::new(Arc::new(sources)),
            audit: Arc::new(AuditLog::in_memory()),
            diseases: Arc::new(DiseaseHierarchy::new()),
            ledger: Arc::new(Ledger::in_memory()),
            fees: RwLock::new(Arc::new(FeeSchedule::default())),
            enforced: true,
            limits: RwLock::new(Limits::default()),
            store: None,
            sharing: Arc::new(SharingPolicy::default()),
            graph_writes: std::sync::Mutex::new(()),
        };
        (hub, outcome)
    }

    /// The same hub, writing mutations to `store` (the graph store the read model comes from).
    pub fn with_store(mut self, store: Arc<dyn GraphStore>) -> ApiState {
        self.store = Some(store);
        self
    }

    pub fn store(&self) -> Option<&Arc<dyn GraphStore>> {
        self.store.as_ref()
    }

    /// The same hub, judging sharing deadlines by `policy`.
    pub fn with_sharing_policy(mut self, policy: SharingPolicy) -> ApiState {
        self.sharing = Arc::new(policy);
        self
    }

    pub fn sharing_policy(&self) -> &SharingPolicy {
        &self.sharing
    }

    /// Adds `triples` to the hub-written graph of `source` (e.g. steward links): read from the
    /// store, extended and replaced in one transaction, one update at a time; the new projection
    /// is swapped into the read model.
    pub fn add_to_graph(&self, source: &str, triples: Vec<Triple>) -> Result<(), StoreError> {
        let store = self.store.as_ref().ok_or_else(|| StoreError::Storage("this hub has no graph store to write to".into()))?;
        let graph = musubi_ontology::vocab::source_graph(&source);
        let _one_at_a_time = self.graph_writes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut all = store.graph(graph.as_ref())?;
        for t in triples {
            if !all.contains(&t) {
                all.push(t);
            }
        }
        store.replace(&[Replacement { graph: graph.as_ref(), triples: &all }])?;
        self.replace_source(SourceView::from_triples(source, all));
        Ok(())

    }

    /// Holds queries to `limits` from the next request on.
    pub fn set_limits(&self, limits: Limits) {
        *self.limits.write().expect("limits lock") = limits;
    }

    pub fn limits(&self) -> Limits {
        *self.limits.read().expect("limits lock")
    }

    /// The same hub, writing its audit entries to `log` (e.g. a file in the data folder).
    pub fn with_audit_log(mut self, log: Arc<AuditLog>) -> ApiState {
        self.audit = log;
        self
    }

    /// The same hub, knowing the disease hierarchy `diseases` (the gateway loads
    /// `<data>/ontologies/`).
    pub fn with_diseases(mut self, diseases: Arc<DiseaseHierarchy>) -> ApiState {
        self.diseases = diseases;
        self
    }

    /// The same hub, keeping its process records in `ledger` (the gateway opens it over the
    /// data folder's store).
    pub fn with_ledger(mut self, ledger: Arc<Ledger>) -> ApiState {
        self.ledger = ledger;
        self
    }

    /// Prices use with `fees` from now on (the gateway reads `<data>/fees.toml`).
    pub fn set_fee_schedule(&self, fees: FeeSchedule) {
        *self.fees.write().expect("fee schedule lock") = Arc::new(fees);
    }

    /// Access requests, grants, outcomes and the usage meter.
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    pub fn fee_schedule(&self) -> Arc<FeeSchedule> {
        self.fees.read().expect("fee schedule lock").clone()
    }

    pub fn diseases(&self) -> &Arc<DiseaseHierarchy> {
        &self.diseases
    }

    pub fn audit_log(&self) -> &Arc<AuditLog> {
        &self.audit
    }

    /// Switches tier enforcement off, to measure what it costs. Benchmarks only: the feature is
    /// never enabled by the binary, and nothing a request carries reaches this.
    #[cfg(feature = "bench")]
    pub fn without_enforcement(mut self) -> ApiState {
        self.enforced = false;
        self
    }

    pub(crate) fn enforced(&self) -> bool {
        self.enforced
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// The read model as of now; a request keeps one snapshot for its whole life.
    pub fn model(&self) -> Arc<ReadModel> {
        self.snapshot().model.clone()
    }

    /// The read model and its search index, as of now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.state.read().expect("snapshot lock").clone()
    }

    /// Swaps in one source's new projection after a harvest, and the search index rebuilt from
    /// the new model (requests keep answering from the old snapshot meanwhile).
    pub fn replace_source(&self, view: SourceView) {
        let _updating = self.updating.lock().expect("update lock");
        let model = self.model().with_source(view);
        self.swap(model);
    }

    /// The snapshot with one source's view replaced, made (records merged, the search index
    /// built, and kept on disk where the hub keeps it) but not swapped in: a harvest makes it
    /// before its graph lands, so that all it derives is on disk first. [`ApiState::install`] swaps it
    /// in.
    pub fn prepare_source(&self, view: SourceView) -> Prepared {
        let _updating = self.updating.lock().expect("update lock");
        let base = self.snapshot();
        let model = base.model.with_source(view);
        let (snapshot, _) = Snapshot::new(&self.vocabulary, model, self.index_on_disk.as_deref());
        Prepared { base, snapshot }
    }

    /// Swaps in `prepared`, unless another update (a DMP ingested meanwhile) changed the snapshot
    /// it was made from: then nothing changes and it says so (the caller replaces the source
    /// again).
    pub fn install(&self, prepared: Prepared) -> bool {
        let _updating = self.updating.lock().expect("update lock");
        let mut state = self.state.write().expect("snapshot lock");
        if !Arc::ptr_eq(&state, &prepared.base) {
            return false;
        }
        *state = Arc::new(prepared.snapshot);
        true
    }

    /// Swaps in a whole new read model (e.g. reloaded from the graph) and its index.
    pub fn replace_model(&self, model: ReadModel) {
        let _updating = self.updating.lock().expect("update lock");
        self.swap(model);
    }

    fn swap(&self, model: ReadModel) {
        let (snapshot, _) = Snapshot::new(&self.vocabulary, model, self.index_on_disk.as_deref());
        *self.state.write().expect("snapshot lock") = Arc::new(snapshot);
    }

    pub fn sources(&self) -> Arc<Vec<SourceInfo>> {
        self.sources.read().expect("sources lock").clone()
    }

    pub fn set_sources(&self, sources: Vec<SourceInfo>) {
        *self.sources.write().expect("sources lock") = Arc::new(sources);
    }
}

/// Builds the schema over a hub. Each request must carry a [`Principal`] in its data.
pub fn build(hub: Arc<ApiState>) -> ApiSchema {
    let table = Arc::new(OnceLock::new());
    // Codes are stamped outermost, so that errors added on the way out (fields answered null)
    // get theirs too.
    Schema::build(QueryRoot::default(), Mutation::default(), EmptySubscription)
        .extension(errors::ErrorCodes)
        .register_input_type::<tiers::TierName>()
        .directive(tiers::TierDirective { vocabulary: hub.vocabulary.clone(), table: table.clone() })
        .extension(tiers::FieldTierGuard { table, hub: hub.clone() })
        .extension(limits::QueryLimits(hub.clone()))
        .data(hub)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vocabulary names the GraphQL field that shows each property; a rename on either side
    /// must not leave a property unreachable (or a field reading an undeclared, steward-only one).
    #[test]
    fn every_vocabulary_field_is_in_the_schema() {
        let vocabulary = Arc::new(Vocabulary::builtin());
        let schema = build(Arc::new(ApiState::new(vocabulary.clone(), ReadModel::default(), Vec::new())));
        let sdl = schema.sdl();
        let fields: std::collections::HashSet<&str> = sdl
            .lines()
            .map(str::trim)
            .filter_map(|l| l.split(['(', ':']).next())
            .filter(|name| !name.is_empty() && !name.contains(' '))
            .collect();
        let mut missing: Vec<String> = vocabulary
            .properties()
            .filter_map(|p| p.graphql_field.clone())
            .filter(|f| !fields.contains(f.as_str()))
            .collect();
        missing.sort();
        assert!(missing.is_empty(), "declared in the vocabulary but not in the schema: {missing:?}");
    }

    /// Every field of every object type says its tier in the SDL (directive and description),
    /// and none is left undeclared (which would make it steward-only).
    #[test]
    fn every_field_shows_its_tier_and_none_is_undeclared() {
        let vocabulary = Arc::new(Vocabulary::builtin());
        let schema = build(Arc::new(ApiState::new(vocabulary.clone(), ReadModel::default(), Vec::new())));
        let sdl = schema.sdl();
        assert!(sdl.contains("directive @tier(requires: Tier!, sensitive: Tier, embargoed: Tier) on FIELD_DEFINITION | INPUT_FIELD_DEFINITION"), "{sdl}");
        assert!(sdl.contains("sampleAttributes: [String!] @tier(requires: CONTROLLED, embargoed: STEWARD)"), "{sdl}");
        assert!(sdl.contains("contactEmail: [String!] @tier(requires: REGISTERED, sensitive: CONTROLLED, embargoed: STEWARD)"), "{sdl}");
        assert!(sdl.contains("Tier: REGISTERED. CONTROLLED on a sensitive record. STEWARD on an embargoed record."), "{sdl}");
        assert!(sdl.contains("accessLevel: [AccessLevel!] @tier(requires: PUBLIC)"), "the filter says its tier: {sdl}");
        // A field line without @tier is a field the classification missed.
        let undeclared: Vec<String> =
            object_fields(&sdl).into_iter().filter(|(_, _, l)| l.contains("(no tier is declared") || !l.contains("@tier(")).map(|(ty, _, l)| format!("{ty}: {l}")).collect();
        assert!(undeclared.is_empty(), "fields without a declared tier: {undeclared:#?}");
        for (ty, field) in [("Dataset", "noSuchField"), ("Query", "somethingNew")] {
            assert_eq!(tiers::classify(&vocabulary, ty, field).requires, musubi_ontology::tier::Tier::Steward, "fail closed");
        }
    }

    /// The fields of the SDL's object types: (type, field, the line that holds its type and
    /// directives — for a field with arguments on lines of their own, the closing one).
    fn object_fields(sdl: &str) -> Vec<(String, String, String)> {
        let (mut out, mut current, mut pending, mut in_description) = (Vec::new(), None::<String>, None::<String>, false);
        for line in sdl.lines() {
            if line.matches("\"\"\"").count() == 1 {
                in_description = !in_description;
                continue;
            }
            if in_description || line.contains("\"\"\"") {
                continue;
            }
            if let Some(rest) = line.strip_prefix("type ") {
                current = rest.split_whitespace().next().map(str::to_owned);
                continue;
            }
            if line == "}" {
                current = None;
                continue;
            }
            let (Some(ty), false) = (&current, line.starts_with("\t\t")) else { continue };
            let trimmed = line.trim();
            if trimmed.ends_with('(') {
                pending = trimmed.split('(').next().map(str::to_owned);
                continue;
            }
            if trimmed.is_empty() || !trimmed.contains(':') || trimmed.starts_with("Tier:") {
                continue;
            }
            let name = if trimmed.starts_with(')') { pending.take().unwrap_or_default() } else { trimmed.split([':', '(']).next().unwrap_or_default().to_owned() };
            out.push((ty.clone(), name, trimmed.to_owned()));
        }
        out
    }

    /// A new filter must state what it reads; one that does not is steward-only.
    #[test]
    fn every_dataset_filter_states_what_it_reads() {
        let schema = build(Arc::new(ApiState::new(Arc::new(Vocabulary::builtin()), ReadModel::default(), Vec::new())));
        let sdl = schema.sdl();
        let block = sdl.split("input DatasetFilter {").nth(1).and_then(|b| b.split('}').next()).expect("DatasetFilter in the SDL");
        let filters: Vec<&str> = block
            .lines()
            .map(str::trim)
            .filter(|l| l.contains(": ") && l.contains("@tier"))
            .filter_map(|l| l.split(':').next())
            .collect();
        assert_eq!(filters.len(), 3, "{block}");
        for f in filters {
            assert!(tiers::argument_reads(f).is_some(), "filter {f} states no property it reads");
        }
    }

    /// Every `search` filter and facet names a field the index knows (with the properties it
    /// reads); one it does not know is STEWARD-only.
    #[test]
    fn every_search_filter_and_facet_states_what_it_reads() {
        let vocabulary = Vocabulary::builtin();
        let schema = build(Arc::new(ApiState::new(Arc::new(vocabulary.clone()), ReadModel::default(), Vec::new())));
        let sdl = schema.sdl();
        let block = sdl.split("input SearchFilter {").nth(1).and_then(|b| b.split('}').next()).expect("SearchFilter in the SDL");
        let filters: Vec<&str> = block.lines().map(str::trim).filter(|l| l.contains(": ") && l.contains("@tier")).filter_map(|l| l.split(':').next()).collect();
        assert_eq!(filters.len(), 12, "{block}");
        for f in filters {
            assert!(f == "kind" || musubi_search::Field::named(f).is_some(), "search filter {f} is not an index field");
            assert!(block.contains(&format!("{f}: ")) && !block.contains("fail closed"), "{block}");
        }
        assert_eq!(tiers::argument_tier(&vocabulary, "somethingNew"), musubi_ontology::tier::Tier::Steward, "fail closed");
        assert!(sdl.contains("search(") && sdl.contains("): SearchConnection @tier(requires: PUBLIC)"), "{sdl}");
    }

    /// A deployment changes a tier in its vocabulary file: introspection shows it, no rebuild.
    #[test]
    fn a_changed_tier_in_the_vocabulary_shows_in_introspection() {
        let text = musubi_ontology::vocab::BUILTIN_TURTLE.replace(
            "musubi:tier musubi:Public ; musubi:graphqlField \"tissues\"",
            "musubi:tier musubi:Controlled ; musubi:graphqlField \"tissues\"",
        );
        let vocabulary = Vocabulary::from_turtle(&text, "custom.ttl").expect("valid");
        let schema = build(Arc::new(ApiState::new(Arc::new(vocabulary), ReadModel::default(), Vec::new())));
        assert!(schema.sdl().contains("tissues: [String!] @tier(requires: CONTROLLED, embargoed: STEWARD)"));
    }

    fn hub_with(turtle: &str) -> Arc<ApiState> {
        let triples = musubi_ontology::parse_triples(turtle.as_bytes(), musubi_ontology::RdfFormat::Turtle, "http://example.org/").expect("turtle");
        let model = ReadModel::default().with_source(musubi_read_model::SourceView::from_triples("s", triples));
        Arc::new(ApiState::new(Arc::new(Vocabulary::builtin()), model, Vec::new()))
    }

    const ONE_DATASET: &str = r#"@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
        @prefix m: <https://w3id.org/musubi/vocab#> .
        <https://w3id.org/musubi/dataset/JGAD000001> a dcat:Dataset ; dct:identifier "JGAD000001" ; dct:title "Exomes" ;
            m:sampleAttribute "tumour-normal pairs" ; m:internalId "JSUB000002" ."#;

    /// Without the request's audit collector a CONTROLLED or STEWARD value is not served: nothing
    /// leaves unaudited, whoever asks (no Principal needed to see it fail closed).
    #[tokio::test]
    async fn without_an_audit_collector_controlled_reads_fail_closed() {
        let schema = build(hub_with(ONE_DATASET));
        let steward = Principal { tier: musubi_ontology::tier::Tier::Steward, ..Principal::anonymous() };
        let query = r#"{ dataset(id: "JGAD000001") { title { value } sampleAttributes internalIds } }"#;
        let r = schema.execute(async_graphql::Request::new(query).data(steward.clone())).await;
        let body = serde_json::to_value(&r).expect("json");
        assert_eq!(body["data"]["dataset"]["title"][0]["value"], "Exomes", "{body}");
        assert!(body["data"]["dataset"]["sampleAttributes"].is_null() && body["data"]["dataset"]["internalIds"].is_null(), "{body}");
        assert!(!body.to_string().contains("JSUB000002") && !body.to_string().contains("tumour"), "{body}");

        let collector = AuditCollector::new();
        let r = schema.execute(async_graphql::Request::new(query).data(steward).data(collector.clone())).await;
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let mut fields: Vec<String> = collector.take().into_iter().map(|r| r.field).collect();
        fields.sort();
        assert_eq!(fields, ["internalIds", "sampleAttributes"]);
    }

    /// A denied field is `null` with its FORBIDDEN error, in place, and the rest is served: also
    /// when every field asked for is denied (the record is there; async-graphql left a failed field
    /// out, and an object whose fields all failed became `null`, which reads as "not found").
    #[tokio::test]
    async fn a_denied_field_is_null_in_place_and_the_rest_is_served() {
        let schema = build(hub_with(ONE_DATASET));
        let ask = |q: &'static str| {
            let schema = schema.clone();
            async move {
                let r = schema.execute(async_graphql::Request::new(q).data(Principal::anonymous()).data(AuditCollector::new())).await;
                serde_json::to_value(&r).expect("json")
            }
        };
        let body = ask(r#"{ dataset(id: "JGAD000001") { title { value } sampleAttributes internalIds draft } }"#).await;
        assert_eq!(body["data"], serde_json::json!({ "dataset": { "title": [{ "value": "Exomes" }], "sampleAttributes": null, "internalIds": null, "draft": null } }), "{body}");
        let denied: Vec<(&str, &str)> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| (e["path"][1].as_str().expect("path"), e["extensions"]["requiredTier"].as_str().expect("tier")))
            .collect();
        assert_eq!(denied, [("sampleAttributes", "CONTROLLED"), ("internalIds", "STEWARD"), ("draft", "STEWARD")]);
        let body = ask(r#"{ dataset(id: "JGAD000001") { sampleAttributes } }"#).await;
        assert_eq!(body["data"], serde_json::json!({ "dataset": { "sampleAttributes": null } }), "{body}");
    }

    /// Every field a caller who reaches its type could be denied is nullable, so that its denial
    /// is `null` in place (a non-null field's error would null its parent): fields showing graph
    /// properties (a deployment's vocabulary may raise any tier) and fixed-tier fields above the
    /// tier that reaches their type.
    #[test]
    fn every_deniable_field_is_nullable() {
        let vocabulary = Arc::new(Vocabulary::builtin());
        let schema = build(Arc::new(ApiState::new(vocabulary.clone(), ReadModel::default(), Vec::new())));
        use musubi_ontology::tier::Tier;
        struct F {
            name: String,
            named: String,
            non_null: bool,
            tier: tiers::FieldTier,
        }
        let mut types: std::collections::HashMap<String, Vec<F>> = Default::default();
        for (ty, name, line) in object_fields(&schema.sdl()) {
            let Some((left, _)) = line.split_once(" @tier(") else { continue };
            let field_type = left.rsplit(": ").next().expect("type");
            let named = field_type.trim_matches(|c| c == '[' || c == ']' || c == '!').to_owned();
            let tier = tiers::classify(&vocabulary, &ty, &name);
            types.entry(ty).or_default().push(F { name, named, non_null: field_type.ends_with('!'), tier });
        }
        assert!(types["Dataset"].len() > 100, "the SDL was read");
        let mut offenders = Vec::new();
        for caller in [Tier::Public, Tier::Registered, Tier::Controlled] {
            // A field this caller may be denied: above its tier, or CONTROLLED (a grant is per dataset).
            let deniable = |t: Tier| t > caller || t == Tier::Controlled;
            // The types this caller reaches, through fields it may read on some record.
            let mut reached = vec!["Query".to_owned(), "Mutation".to_owned()];
            let mut i = 0;
            while i < reached.len() {
                for f in types.get(&reached[i]).into_iter().flatten() {
                    if (!deniable(f.tier.requires) || f.tier.requires == Tier::Controlled) && types.contains_key(&f.named) && !reached.contains(&f.named) {
                        reached.push(f.named.clone());
                    }
                }
                i += 1;
            }
            for ty in &reached {
                for f in types.get(ty).into_iter().flatten().filter(|f| f.non_null) {
                    // A field showing graph properties: a deployment's vocabulary may raise any tier.
                    let properties = matches!(f.tier.rule, tiers::FieldRule::Properties(_) | tiers::FieldRule::Undeclared);
                    if properties || deniable(f.tier.requires.max(f.tier.sensitive).max(f.tier.embargoed)) {
                        offenders.push(format!("{ty}.{}", f.name));
                    }
                }
            }
        }
        offenders.sort();
        offenders.dedup();
        assert!(offenders.is_empty(), "deniable but non-null: {offenders:#?}");
    }

    /// Introspection is public, at the root too: anonymous callers (GraphiQL, clients that
    /// generate code) read the schema's shape and each field's tier.
    #[tokio::test]
    async fn introspection_is_public() {
        let schema = build(hub_with(ONE_DATASET));
        let query = r#"query Type($name: String!) { __type(name: $name) { name fields { name description } } __schema { queryType { name } } }"#;
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(serde_json::json!({ "name": "Dataset" })))
            .data(Principal::anonymous());
        let r = schema.execute(request).await;
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let body = serde_json::to_value(&r).expect("json");
        assert_eq!(body["data"]["__type"]["name"], "Dataset", "{body}");
        assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query", "{body}");
    }

    /// The audit log is STEWARD-only, refused to others with FORBIDDEN, and pages by position.
    #[tokio::test]
    async fn the_audit_log_is_for_stewards_and_pages_by_position() {
        let hub = hub_with(ONE_DATASET);
        let schema = build(hub.clone());
        let steward = Principal { tier: musubi_ontology::tier::Tier::Steward, subject: Some("s-1".into()), ..Principal::anonymous() };
        for i in 0..3 {
            let reads = vec![musubi_platform::audit::Read { dataset: Some(format!("JGAD00000{i}")), field: "draft".into(), grant_used: false }];
            hub.audit_log().append(&steward, reads).expect("append");
        }
        let q = |after: &str| format!(r#"{{ auditLog(first: 2{after}, filter: {{subject: "s-1"}}) {{ totalCount edges {{ cursor node {{ position dataset subject }} }} pageInfo {{ hasNextPage endCursor }} }} }}"#);
        let anonymous = schema.execute(async_graphql::Request::new(q("")).data(Principal::anonymous()).data(AuditCollector::new())).await;
        let body = serde_json::to_value(&anonymous).expect("json");
        assert!(body["data"]["auditLog"].is_null(), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["requiredTier"], "STEWARD", "{body}");

        let first = schema.execute(async_graphql::Request::new(q("")).data(steward.clone()).data(AuditCollector::new())).await;
        let body = serde_json::to_value(&first).expect("json");
        assert_eq!(body["data"]["auditLog"]["totalCount"], 3, "{body}");
        assert_eq!(body["data"]["auditLog"]["edges"][1]["node"]["dataset"], "JGAD000001");
        let end = body["data"]["auditLog"]["pageInfo"]["endCursor"].as_str().expect("cursor").to_owned();
        let second = schema.execute(async_graphql::Request::new(q(&format!(", after: \"{end}\""))).data(steward).data(AuditCollector::new())).await;
        let body = serde_json::to_value(&second).expect("json");
        assert_eq!(body["data"]["auditLog"]["edges"][0]["node"]["position"], 3, "{body}");
        assert_eq!(body["data"]["auditLog"]["pageInfo"]["hasNextPage"], false);
    }
}
