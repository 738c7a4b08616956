//! The two peers `musubi-bench run` measures the hub against, over the data folder
//! the hub harvested (BENCHMARKS.md). They open the graph store, so no `musubi serve` may run on
//! the same folder meanwhile.
//!
//! - [`index`] (`musubi-bench index`): the portal query answered by the hub's search index in this
//!   process, with the very request and caller view `search` builds
//!   ([`musubi_schema::search::index_request`], [`CallerView`]) for an anonymous (PUBLIC)
//!   caller: the limit the hub's GraphQL and HTTP layers can approach. Measured twice: the index
//!   alone, then with the 20 hits' 12 fields read from the read model into the page's JSON.
//! - [`naive_router`] (`musubi-bench naive-sparql`): the strawman the hub's one-lookup-per-page design
//!   is compared with, a GraphQL server over the same on-disk oxigraph store whose `search` finds
//!   the matching datasets with one SPARQL SELECT, counts facets with one GROUP BY each, and
//!   resolves every field of every node with a SPARQL query of its own. It accepts the portal
//!   query as `musubi-bench` sends it to the hub.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::{Context, EmptyMutation, EmptySubscription, Enum, InputObject, Object, Schema, SimpleObject, Union};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use musubi_read_model::MergedRecord;
use musubi_ontology::rdf::{NamedNode, NamedNodeRef, Term, TermRef};
use musubi_ontology::vocab::{self as v, AccessLevel as Level};
use musubi_schema::search::{CallerView, Facet, FacetValue, RecordKind, SearchArgs, SearchFacet, SearchFilter, index_request};
use musubi_schema::types::{AccessLevel, Text};
use musubi_schema::{Principal, Snapshot};
use musubi_search::{Kind, Page};
use oxigraph::sparql::{PreparedSparqlQuery, QueryResults, QuerySolution, SparqlEvaluator, Variable};
use oxigraph::store::Store;
use serde_json::{Value, json};

use musubi_gateway::app::App;

/// The portal query's arguments, as `musubi-bench` sends them to the hub: `keyword`, datasets
/// only, assay WGS and reference genome GRCh38, facets on both, 20 results.
pub fn portal_args(keyword: &str) -> SearchArgs {
    SearchArgs {
        query: Some(keyword.to_owned()),
        filter: Some(SearchFilter {
            kind: Some(vec![RecordKind::Dataset]),
            assays: Some(vec!["WGS".to_owned()]),
            reference_genomes: Some(vec!["GRCh38".to_owned()]),
            ..SearchFilter::default()
        }),
        facets: Some(vec![SearchFacet::Assays, SearchFacet::ReferenceGenomes]),
        first: Some(20),
        // The portal query selects no `edges.highlights`.
        highlights: false,
        ..SearchArgs::default()
    }
}

/// What one load level measured.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

/// Runs `work` on `threads` threads, each as often as it can, for `seconds`; `work` says whether
/// it succeeded.
pub fn measure(threads: usize, seconds: f64, work: impl Fn() -> bool + Sync) -> Figures {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let work = &work;
    let runs: Vec<(Vec<u64>, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(move || {
                    let mut latencies = Vec::new();
                    let mut errors = 0;
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        if !work() {
                            errors += 1;
                        }
                        latencies.push(t.elapsed().as_nanos() as u64);
                    }
                    (latencies, errors)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a bench thread panicked")).collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let errors = runs.iter().map(|(_, e)| e).sum();
    let mut latencies: Vec<u64> = runs.into_iter().flat_map(|(l, _)| l).collect();
    latencies.sort_unstable();
    let percentile = |q: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        latencies[((latencies.len() - 1) as f64 * q).round() as usize] as f64 / 1e6
    };
    Figures { requests_per_second: latencies.len() as f64 / elapsed, p50_ms: percentile(0.50), p99_ms: percentile(0.99), errors }
}

const TABLE_HEAD: &str = "| threads | requests/s | p50 ms | p99 ms | errors |\n| --- | --- | --- | --- | --- |";

fn row(threads: usize, f: Figures) -> String {
    format!("| {threads} | {:.0} | {:.3} | {:.3} | {} |", f.requests_per_second, f.p50_ms, f.p99_ms, f.errors)
}

/// `bench index`: the portal query for `keyword` against the hub's search index in this process,
/// at each thread count for `seconds`; prints the match count and two Markdown tables.
pub fn index(app: &App, keyword: &str, threads: &[usize], seconds: f64) -> Result<(), crate::Failed> {
    let hub = app.api_state();
    let snapshot = hub.snapshot();
    let principal = Principal::anonymous();
    let args = portal_args(keyword);
    let (request, _) = index_request(hub, &principal, &args).map_err(|e| e.message)?;
    let view = CallerView::of(hub, &snapshot, &principal);
    let search = || snapshot.index.search(&request, &view);
    let page = search().map_err(|e| e.to_string())?;
    println!(
        "raw index in process: {} records indexed; portal query {keyword:?} as a PUBLIC caller: totalCount {}, {} hits on the page",
        snapshot.index.len(),
        page.total,
        page.hits.len()
    );

    println!("\nindex only (the page's hits and facet counts; no fields, no GraphQL, no HTTP):\n\n{TABLE_HEAD}");
    for &t in threads {
        println!("{}", row(t, measure(t, seconds, || search().map(|p| black_box(p).total).is_ok())));
    }
    println!("\nindex + the hits' 12 fields read from the read model into the page's JSON (no GraphQL, no HTTP):\n\n{TABLE_HEAD}");
    for &t in threads {
        let figures = measure(t, seconds, || match search() {
            Ok(page) => black_box(serde_json::to_string(&page_json(&snapshot, &page)).map(|s| s.len())).is_ok(),
            Err(_) => false,
        });
        println!("{}", row(t, figures));
    }
    Ok(())
}

/// The portal page as the hub's GraphQL answer shapes it, read straight from the read model: the
/// reads the field resolvers make, without the per-field tier guard (all 12 fields are PUBLIC).
fn page_json(snapshot: &Snapshot, page: &Page) -> Value {
    let model = &snapshot.model;
    let nodes: Vec<Value> = page
        .hits
        .iter()
        .filter_map(|hit| {
            let doc = &snapshot.index.docs()[hit.doc];
            match doc.kind {
                Kind::Dataset => Some(dataset_json(snapshot, model.datasets().get(doc.position)?)),
                Kind::Study => None,
            }
        })
        .collect();
    let facets: Vec<Value> = page
        .facets
        .iter()
        .map(|(f, counts)| json!({ "field": f.name(), "values": counts.iter().map(|(value, count)| json!({ "value": value, "count": count })).collect::<Vec<_>>() }))
        .collect();
    json!({ "data": { "search": { "totalCount": page.total, "facets": facets, "nodes": nodes } } })
}

fn dataset_json(snapshot: &Snapshot, record: &MergedRecord) -> Value {
    let model = &snapshot.model;
    let nodes: Vec<_> = model.members(record).map(|(_, node)| node).collect();
    // Every source's values, each once (as `Entity::read` merges them).
    let terms = |property: NamedNodeRef<'_>| -> Vec<TermRef<'_>> {
        let mut out: Vec<TermRef<'_>> = Vec::new();
        for t in nodes.iter().flat_map(|n| n.values(property)) {
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out
    };
    let strings = |property| -> Vec<&str> {
        terms(property)
            .into_iter()
            .filter_map(|t| match t {
                TermRef::NamedNode(n) => Some(n.as_str()),
                TermRef::Literal(l) => Some(l.value()),
                _ => None,
            })
            .collect()
    };
    let texts = |property| -> Vec<Value> {
        terms(property)
            .into_iter()
            .filter_map(|t| match t {
                TermRef::Literal(l) => Some(json!({ "value": l.value(), "lang": l.language() })),
                _ => None,
            })
            .collect()
    };
    let accession = nodes.first().map(|n| n.accession()).unwrap_or_default();
    json!({
        "id": accession,
        "accession": accession,
        "title": texts(v::DCT_TITLE),
        "description": texts(v::DCT_DESCRIPTION),
        "accessLevel": model.access_level(record).map(|l| format!("{l:?}").to_uppercase()),
        "releaseDate": strings(v::DCT_ISSUED).first(),
        "subjectCount": strings(v::MUSUBI_SUBJECT_COUNT).iter().filter_map(|s| s.parse::<i64>().ok()).max(),
        "assays": strings(v::MUSUBI_ASSAY),
        "platforms": strings(v::MUSUBI_PLATFORM),
        "referenceGenomes": strings(v::MUSUBI_REFERENCE_GENOME),
        "keywords": strings(v::DCAT_KEYWORD),
        "sources": record.sources(),
    })
}

// ---------------------------------------------------------------------------------------------
// The naive peer: SPARQL per field.

/// The on-disk store and one prepared query per field (`?d` is bound per node).
pub struct NaiveStore {
    store: Store,
    fields: std::collections::HashMap<&'static str, PreparedSparqlQuery>,
}

impl std::fmt::Debug for NaiveStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NaiveStore")
    }
}

const PREFIXES: &str = "PREFIX dcat: <http://www.w3.org/ns/dcat#>\nPREFIX dct: <http://purl.org/dc/terms/>\nPREFIX musubi: <https://w3id.org/musubi/vocab#>\n";

/// Each field's query: `?v` its values on node `?d`, in any graph.
const FIELD_QUERIES: &[(&str, &str)] = &[
    ("identifier", "SELECT ?d ?v WHERE { ?d dct:identifier ?v }"),
    ("title", "SELECT ?d ?v WHERE { ?d dct:title ?v }"),
    ("description", "SELECT ?d ?v WHERE { ?d dct:description ?v }"),
    ("accessLevel", "SELECT ?d ?v WHERE { ?d musubi:accessLevel ?v }"),
    ("releaseDate", "SELECT ?d ?v WHERE { ?d dct:issued ?v }"),
    ("subjectCount", "SELECT ?d ?v WHERE { ?d musubi:subjectCount ?v }"),
    ("assays", "SELECT ?d ?v WHERE { ?d musubi:assay ?v }"),
    ("platforms", "SELECT ?d ?v WHERE { ?d musubi:platform ?v }"),
    ("referenceGenomes", "SELECT ?d ?v WHERE { ?d musubi:referenceGenome ?v }"),
    ("keywords", "SELECT ?d ?v WHERE { ?d dcat:keyword ?v }"),
    ("sources", "SELECT DISTINCT ?d ?v WHERE { GRAPH ?v { ?d ?p ?o } }"),
];

/// Parses a query to run over the union of every named graph (where the sources' records are).
fn prepare(query: &str) -> Result<PreparedSparqlQuery, String> {
    let mut prepared = SparqlEvaluator::new().parse_query(&format!("{PREFIXES}{query}")).map_err(|e| format!("{e}: {query}"))?;
    prepared.dataset_mut().set_default_graph_as_union();
    Ok(prepared)
}

fn solutions(query: PreparedSparqlQuery, store: &Store) -> async_graphql::Result<Vec<QuerySolution>> {
    match query.on_store(store).execute().map_err(|e| async_graphql::Error::new(format!("SPARQL: {e}")))? {
        QueryResults::Solutions(s) => Ok(s.collect::<Result<Vec<_>, _>>().map_err(|e| async_graphql::Error::new(format!("SPARQL: {e}")))?),
        _ => Err(async_graphql::Error::new("SPARQL: not a SELECT")),
    }
}

impl NaiveStore {
    pub fn new(store: Store) -> Result<NaiveStore, crate::Failed> {
        let fields = FIELD_QUERIES.iter().map(|(name, q)| Ok((*name, prepare(q)?))).collect::<Result<_, String>>()?;
        Ok(NaiveStore { store, fields })
    }

    /// One field of one node: one SPARQL query.
    fn field(&self, node: &NamedNode, name: &str) -> async_graphql::Result<Vec<Term>> {
        let query = self.fields.get(name).ok_or_else(|| async_graphql::Error::new(format!("no query for {name}")))?;
        let query = query.clone().substitute_variable(Variable::new_unchecked("d"), node.clone());
        Ok(solutions(query, &self.store)?.into_iter().filter_map(|s| s.get("v").cloned()).collect())
    }

    fn strings(&self, node: &NamedNode, name: &str) -> async_graphql::Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for t in self.field(node, name)? {
            let s = match t {
                Term::NamedNode(n) => n.into_string(),
                Term::Literal(l) => l.value().to_owned(),
                _ => continue,
            };
            if !out.contains(&s) {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn texts(&self, node: &NamedNode, name: &str) -> async_graphql::Result<Vec<Text>> {
        let mut out: Vec<Text> = Vec::new();
        for t in self.field(node, name)? {
            if let Term::Literal(l) = t {
                let text = Text { value: l.value().to_owned(), lang: l.language().map(str::to_owned) };
                if !out.contains(&text) {
                    out.push(text);
                }
            }
        }
        Ok(out)
    }
}

/// `s` as a SPARQL string literal (oxigraph's own escaping).
fn literal(s: &str) -> String {
    oxigraph::model::Literal::new_simple_literal(s).to_string()
}

/// Which records the naive peer finds; the portal query's filter fields.
#[derive(Debug, Default, InputObject)]
#[graphql(name = "SearchFilter")]
pub struct NaiveFilter {
    pub kind: Option<Vec<RecordKind>>,
    pub assays: Option<Vec<String>>,
    pub platforms: Option<Vec<String>>,
    pub reference_genomes: Option<Vec<String>>,
}

/// The facets the naive peer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "SearchFacet")]
pub enum NaiveFacet {
    Assays,
    Platforms,
    ReferenceGenomes,
}

impl NaiveFacet {
    fn property(self) -> (&'static str, &'static str) {
        match self {
            NaiveFacet::Assays => ("assays", "musubi:assay"),
            NaiveFacet::Platforms => ("platforms", "musubi:platform"),
            NaiveFacet::ReferenceGenomes => ("referenceGenomes", "musubi:referenceGenome"),
        }
    }
}

/// A dataset whose every field is a SPARQL query.
#[derive(Debug, Clone)]
pub struct NaiveDataset(NamedNode);

fn store<'a>(ctx: &Context<'a>) -> &'a NaiveStore {
    ctx.data_unchecked::<Arc<NaiveStore>>()
}

#[Object(name = "Dataset")]
impl NaiveDataset {
    async fn id(&self, ctx: &Context<'_>) -> async_graphql::Result<async_graphql::ID> {
        Ok(store(ctx).strings(&self.0, "identifier")?.into_iter().next().unwrap_or_else(|| self.0.as_str().to_owned()).into())
    }
    async fn accession(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(store(ctx).strings(&self.0, "identifier")?.into_iter().next().unwrap_or_else(|| self.0.as_str().to_owned()))
    }
    async fn title(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Text>> {
        store(ctx).texts(&self.0, "title")
    }
    async fn description(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Text>> {
        store(ctx).texts(&self.0, "description")
    }
    /// The most restrictive level any source states (as the hub merges it).
    async fn access_level(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<AccessLevel>> {
        Ok(store(ctx).strings(&self.0, "accessLevel")?.iter().filter_map(|iri| Level::from_iri(iri)).max().map(AccessLevel::from))
    }
    async fn release_date(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(store(ctx).strings(&self.0, "releaseDate")?.into_iter().next())
    }
    async fn subject_count(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
        Ok(store(ctx).strings(&self.0, "subjectCount")?.iter().filter_map(|s| s.parse().ok()).max())
    }
    async fn assays(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        store(ctx).strings(&self.0, "assays")
    }
    async fn platforms(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        store(ctx).strings(&self.0, "platforms")
    }
    async fn reference_genomes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        store(ctx).strings(&self.0, "referenceGenomes")
    }
    async fn keywords(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        store(ctx).strings(&self.0, "keywords")
    }
    /// Source ids: the named graphs that say something about the dataset (a bulk-loaded source
    /// graph's triples live in its generation, `<graph>#musubi-generation-<n>`).
    async fn sources(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        let mut sources: Vec<String> = store(ctx)
            .strings(&self.0, "sources")?
            .into_iter()
            .filter_map(|g| g.strip_prefix(v::SOURCE_GRAPH_PREFIX)?.split('#').next().map(str::to_owned))
            .collect();
        sources.sort();
        sources.dedup();
        Ok(sources)
    }
}

/// What the naive search finds (datasets only).
#[derive(Debug, Clone, Union)]
#[graphql(name = "SearchRecord")]
pub enum NaiveRecord {
    Dataset(NaiveDataset),
}

#[derive(Debug, SimpleObject)]
#[graphql(name = "SearchConnection")]
pub struct NaiveConnection {
    pub total_count: i64,
    pub facets: Vec<Facet>,
    pub nodes: Vec<NaiveRecord>,
}

#[derive(Debug, Default)]
pub struct NaiveQuery;

#[Object(name = "Query")]
impl NaiveQuery {
    /// Datasets whose title or description contains `query` (case-insensitive), with the given
    /// assays, platforms and reference genomes: one SELECT for the matches (counted here), one
    /// GROUP BY per facet, then a query per field of each of the first `first` nodes.
    async fn search(
        &self,
        ctx: &Context<'_>,
        query: Option<String>,
        filter: Option<NaiveFilter>,
        facets: Option<Vec<NaiveFacet>>,
        first: Option<i32>,
    ) -> async_graphql::Result<NaiveConnection> {
        let store = store(ctx);
        let filter = filter.unwrap_or_default();
        if filter.kind.as_ref().is_some_and(|k| k.iter().any(|k| *k != RecordKind::Dataset)) {
            return Err(async_graphql::Error::new("filter.kind: the naive peer finds datasets only"));
        }
        let first = usize::try_from(first.unwrap_or(20)).unwrap_or(0).clamp(1, 100);
        let mut pattern = String::from("?d a dcat:Dataset .\n");
        for (i, (property, values)) in
            [("musubi:assay", &filter.assays), ("musubi:platform", &filter.platforms), ("musubi:referenceGenome", &filter.reference_genomes)]
                .into_iter()
                .enumerate()
        {
            if let Some(values) = values {
                let list: Vec<String> = values.iter().map(|s| literal(s)).collect();
                pattern.push_str(&format!("?d {property} ?f{i} . FILTER(STR(?f{i}) IN ({}))\n", list.join(", ")));
            }
        }
        if let Some(text) = query.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            pattern.push_str(&format!(
                "FILTER EXISTS {{ ?d dct:title|dct:description ?text . FILTER(CONTAINS(LCASE(STR(?text)), {})) }}\n",
                literal(&text.to_lowercase())
            ));
        }
        let matches = solutions(prepare(&format!("SELECT DISTINCT ?d WHERE {{\n{pattern}}} ORDER BY ?d"))?, &store.store)?;
        let total = matches.len();
        let nodes = matches
            .into_iter()
            .filter_map(|s| match s.get("d") {
                Some(Term::NamedNode(n)) => Some(NaiveRecord::Dataset(NaiveDataset(n.clone()))),
                _ => None,
            })
            .take(first)
            .collect();
        let mut counted = Vec::new();
        for facet in facets.unwrap_or_default() {
            let (field, property) = facet.property();
            let query = format!(
                "SELECT ?value (COUNT(DISTINCT ?d) AS ?count) WHERE {{\n{pattern}?d {property} ?facet . BIND(STR(?facet) AS ?value)\n}} GROUP BY ?value ORDER BY DESC(?count) ?value"
            );
            let values = solutions(prepare(&query)?, &store.store)?
                .into_iter()
                .filter_map(|s| {
                    let value = match s.get("value")? {
                        Term::Literal(l) => l.value().to_owned(),
                        _ => return None,
                    };
                    let count = match s.get("count")? {
                        Term::Literal(l) => l.value().parse().ok()?,
                        _ => return None,
                    };
                    Some(FacetValue { value, label: None, count })
                })
                .collect();
            counted.push(Facet { field: field.to_owned(), values });
        }
        Ok(NaiveConnection { total_count: total as i64, facets: counted, nodes })
    }
}

pub type NaiveSchema = Schema<NaiveQuery, EmptyMutation, EmptySubscription>;

/// The naive peer's routes: `POST /graphql` (a JSON body `{query, variables}`) and `/health`.
/// Its resolvers run their SPARQL on the async workers, as a naive server would.
pub fn naive_router(store: Store) -> Result<Router, crate::Failed> {
    let schema = Schema::build(NaiveQuery, EmptyMutation, EmptySubscription).data(Arc::new(NaiveStore::new(store)?)).finish();
    Ok(Router::new()
        .route("/graphql", post(naive_graphql))
        .route("/health", get(|| async { "ok" }))
        .with_state(schema))
}

async fn naive_graphql(State(schema): State<NaiveSchema>, Json(request): Json<async_graphql::Request>) -> Json<async_graphql::Response> {
    Json(schema.execute(request).await)
}
