//! Root queries: `dataset`, `datasets`, `study`, `studies`, `sample`, `sources`, `auditLog`.
//!
//! `datasets` is a Relay-style connection. Cursors name a position in the read model's order
//! (accession, source, IRI), not an offset, so paging does not skip or repeat records when a
//! harvest lands between two pages.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use musubi_ontology::tier::Tier;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use musubi_ontology::rdf::{NamedNode, NamedOrBlankNode};
use musubi_read_model::{EntityKey, MergedRecord};
use musubi_ontology::vocab as v;

use crate::access::{RecordPolicy, Scope, answers, forbidden_filter, guard, guard_tier, api, listed, principal, today};
use crate::ledger::AuditRecord;
use crate::errors::bad_input;
use crate::tiers::argument_tier;
use crate::search::{CallerView, RecordKind, SearchArgs, SearchFilter, index_request};
use crate::types::{AccessLevel, Dataset, Sample, SourceInfo, Study};
use musubi_platform::audit::AuditCollector;

use crate::paging::PageInfo;
/// Page size when a caller names none.
const DEFAULT_PAGE_SIZE: i32 = 20;

/// Checks a requested page size against the configured limit ([`crate::Limits::page_size`]).
fn page_size(ctx: &Context<'_>, first: Option<i32>, what: &str) -> Result<usize> {
    let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
    let max = api(ctx).limits().page_size;
    match usize::try_from(first) {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(bad_input("first", format!("asks for {first} {what}; a page holds 1 to {max}"))),
    }
}

/// The cost of a paged list: its page size times its selection's cost.
fn paged_cost(first: Option<i32>, child: usize) -> usize {
    usize::try_from(first.unwrap_or(DEFAULT_PAGE_SIZE)).unwrap_or(0).max(1).saturating_mul(child)
}

/// Which datasets to list. Conditions combine with AND. Filtering on a field is reading it: a
/// filter on a field the caller may read on no record is refused, and a record whose field the
/// caller may not read never matches (each filter's tier is in its description).
// What each filter reads: `tiers::argument_reads`.
#[derive(Debug, Default, InputObject)]
pub struct DatasetFilter {
    /// Only datasets from these sources (ids as in `sources`).
    pub source: Option<Vec<String>>,
    /// Only datasets with one of these normalised access levels.
    pub access_level: Option<Vec<AccessLevel>>,
    /// Words that must all occur in the text of the fields you may read (accession, title,
    /// description, keywords, …), matched as `search(query:)` matches them: Japanese and English
    /// words, case and inflection aside.
    pub text: Option<String>,
}

impl DatasetFilter {
    /// The GraphQL names of the filters this one sets.
    fn set(&self) -> Vec<&'static str> {
        let mut set = Vec::new();
        if self.source.is_some() {
            set.push("source");
        }
        if self.access_level.is_some() {
            set.push("accessLevel");
        }
        if self.text.is_some() {
            set.push("text");
        }
        set
    }
}

#[derive(Debug, SimpleObject)]
pub struct DatasetEdge {
    pub cursor: String,
    pub node: Dataset,
}

#[derive(Debug, SimpleObject)]
pub struct DatasetConnection {
    pub edges: Vec<DatasetEdge>,
    /// The page's datasets, without cursors.
    pub nodes: Vec<Dataset>,
    pub page_info: PageInfo,
    /// How many datasets match the filter, across all pages (only those you may see).
    pub total_count: i64,
}

/// Which audit entries to list. Conditions combine with AND.
#[derive(Debug, Default, InputObject)]
pub struct AuditFilter {
    /// Only reads by this subject.
    pub subject: Option<String>,
    /// Only reads of this dataset (accession).
    pub dataset: Option<String>,
    /// Only reads at or after this time (xsd:dateTime, e.g. 2026-01-31T00:00:00Z).
    pub since: Option<String>,
    /// Only reads before this time (xsd:dateTime).
    pub until: Option<String>,
}

#[derive(Debug, SimpleObject)]
pub struct AuditEdge {
    pub cursor: String,
    pub node: AuditRecord,
}

#[derive(Debug, SimpleObject)]
pub struct AuditConnection {
    pub edges: Vec<AuditEdge>,
    pub page_info: PageInfo,
    /// Entries matching the filter, across all pages.
    pub total_count: i64,
}

#[derive(Debug, Default)]
pub struct Query;

/// Merged into the root `Query` (see `QueryRoot`).
#[Object(name = "CatalogQuery")]
impl Query {
    /// One dataset by accession (e.g. "JGAD000001"). Where several sources hold it, the first
    /// source by id answers. An embargoed dataset is `null` below STEWARD, as an unknown one is.
    async fn dataset(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Dataset>> {
        guard(ctx, v::DCT_IDENTIFIER, &Scope::default())?;
        let model = api(ctx).model();
        let today = today();
        Ok(model.dataset(id.as_str()).filter(|r| answers(ctx, RecordPolicy::of(r, &today))).map(|record| Dataset::new(&model, record, &today)))
    }

    /// Datasets of every source, ordered by accession, a page at a time. Embargoed datasets are
    /// listed, counted and found for stewards only.
    #[graphql(complexity = "paged_cost(first, child_complexity)")]
    async fn datasets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to the page-size limit (100 unless configured; default 20).")] first: Option<i32>,
        #[graphql(desc = "A cursor from a previous page: the page starts after it.")] after: Option<String>,
        filter: Option<DatasetFilter>,
    ) -> Result<Option<DatasetConnection>> {
        let first = page_size(ctx, first, "datasets")?;
        let filter = filter.unwrap_or_default();
        let hub = api(ctx);
        let vocabulary = hub.vocabulary();
        let principal = principal(ctx);
        let enforced = hub.enforced();
        // Listing datasets shows their accessions.
        guard(ctx, v::DCT_IDENTIFIER, &Scope::default())?;
        // A filter on a field the caller may read on no record is refused (not answered empty).
        for name in filter.set() {
            let tier = argument_tier(vocabulary, name);
            if enforced && !principal.may_read_somewhere(tier) {
                return Err(forbidden_filter(&format!("filter.{name}"), tier));
            }
        }
        let after = after.map(|c| decode_cursor(&c)).transpose()?;

        let snapshot = hub.snapshot();
        let model = &snapshot.model;
        let today = today();
        let datasets = model.datasets();
        // The page is read from the cursor's position on (the read model is in key order), so a
        // page costs its own size, not the whole list: an export pages through 100k datasets in
        // linear time.
        let start = match &after {
            Some(cursor) => datasets.partition_point(|r| r.key() <= cursor),
            None => 0,
        };
        let page_of = |page: Vec<&MergedRecord>, has_next_page: bool, has_previous_page: bool, total_count: usize| {
            let edges: Vec<DatasetEdge> =
                page.iter().map(|r| DatasetEdge { cursor: encode_cursor(r.key()), node: Dataset::new(model, r, &today) }).collect();
            DatasetConnection {
                nodes: edges.iter().map(|e| e.node.clone()).collect(),
                page_info: PageInfo {
                    has_next_page,
                    has_previous_page,
                    start_cursor: edges.first().map(|e| e.cursor.clone()),
                    end_cursor: edges.last().map(|e| e.cursor.clone()),
                },
                edges,
                total_count: total_count as i64,
            }
        };
        if filter.set().is_empty() {
            let shown = |r: &&MergedRecord| listed(ctx, RecordPolicy::of(r, &today));
            let mut rest = datasets[start..].iter().filter(shown);
            let page: Vec<&MergedRecord> = rest.by_ref().take(first).collect();
            let has_next_page = rest.next().is_some();
            // Counted only when asked for.
            let total_count = if ctx.look_ahead().field("totalCount").exists() { datasets.iter().filter(shown).count() } else { 0 };
            let has_previous_page = datasets[..start].iter().rev().any(|r| shown(&r));
            return Ok(Some(page_of(page, has_next_page, has_previous_page, total_count)));
        }
        // Filtered: the records are those `search` finds for the same text and filters (the
        // index, with the caller's visibility per field and record), listed in key order.
        let args = SearchArgs {
            query: filter.text.clone(),
            filter: Some(SearchFilter {
                kind: Some(vec![RecordKind::Dataset]),
                source: filter.source.clone(),
                access_level: filter.access_level.clone(),
                ..SearchFilter::default()
            }),
            ..SearchArgs::default()
        };
        let (request, _) = index_request(hub, principal, &args)?;
        let view = CallerView::of(hub, &snapshot, principal);
        let found = snapshot.index.matching(&request, &view).map_err(|e| async_graphql::Error::new(e.to_string()))?;
        // Datasets come first in the index, at their positions in the model: in key order.
        let docs = snapshot.index.docs();
        let at = found.partition_point(|m| docs[m.doc].position < start);
        let page = &found[at..found.len().min(at + first)];
        // A record found through CONTROLLED or STEWARD text says something of that text: a read.
        if let Some(text) = filter.text.as_deref() {
            let collector = ctx.data_opt::<AuditCollector>();
            let matched = snapshot.index.matched_tiers(page, text, &request.access).map_err(|e| async_graphql::Error::new(e.to_string()))?;
            for (m, tiers) in page.iter().zip(&matched) {
                if let Some(tier) = tiers.iter().max() {
                    let Some(collector) = collector else {
                        return Err(async_graphql::Error::new("the audit log is not available; a list filtered by CONTROLLED or STEWARD text cannot be answered"));
                    };
                    collector.note(Some(docs[m.doc].accession()), "filter.text", *tier == Tier::Controlled && principal.tier < Tier::Steward);
                }
            }
        }
        let records = page.iter().map(|m| &datasets[docs[m.doc].position]).collect();
        Ok(Some(page_of(records, found.len() > at + first, at > 0, found.len())))
    }

    /// Full-text search over datasets and studies, Japanese and English (titles, descriptions,
    /// keywords and every other text field you may read), with filters, facet counts, sort and
    /// cursors that stay valid while harvests land. Embargoed records are found by stewards only.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "paged_cost(first, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words to find (all of them); Japanese is matched by character bigrams.")] query: Option<String>,
        filter: Option<crate::search::SearchFilter>,
        #[graphql(desc = "Fields to count values of, over all matching records.")] facets: Option<Vec<crate::search::SearchFacet>>,
        #[graphql(desc = "Default RELEVANCE.")] sort: Option<crate::search::SearchSort>,
        #[graphql(desc = "Default DESC, but ASC for RELEVANCE without query text (by accession).")] order: Option<crate::search::SortOrder>,
        #[graphql(desc = "Page size, 1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "A cursor from a previous page of the same search: the page starts after it.")] after: Option<String>,
    ) -> Result<Option<crate::search::SearchConnection>> {
        guard(ctx, v::DCT_IDENTIFIER, &Scope::default())?;
        Ok(Some(crate::search::search(ctx, query, filter, facets, sort, order, first, after)?))
    }

    /// One study (research project) by accession (e.g. "hum0001"). An embargoed study is `null`
    /// below STEWARD, as an unknown one is.
    async fn study(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Study>> {
        guard(ctx, v::DCT_IDENTIFIER, &Scope::default())?;
        let model = api(ctx).model();
        let today = today();
        Ok(model.study(id.as_str()).filter(|r| answers(ctx, RecordPolicy::of(r, &today))).map(|record| Study::new(&model, record, &today)))
    }

    /// One sample (e.g. a BioSample, "SAMD00000001") by accession. An embargoed sample, like an
    /// embargoed dataset or study, is `null` below STEWARD, as an unknown one is.
    async fn sample(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Sample>> {
        guard(ctx, v::DCT_IDENTIFIER, &Scope::default())?;
        let model = api(ctx).model();
        let today = today();
        Ok(model.sample(id.as_str()).filter(|r| answers(ctx, RecordPolicy::of(r, &today))).map(|r| Sample::new(&model, r, &today)))
    }

    /// Every study, ordered by accession (up to the page-size limit; embargoed ones for stewards only).
    #[graphql(complexity = "paged_cost(first, child_complexity)")]
    async fn studies(&self, ctx: &Context<'_>, #[graphql(desc = "1 to the page-size limit (100 unless configured; default 20).")] first: Option<i32>) -> Result<Option<Vec<Study>>> {
        guard(ctx, v::DCT_IDENTIFIER, &Scope::default())?;
        let first = page_size(ctx, first, "studies")?;
        let model = api(ctx).model();
        let today = today();
        Ok(Some(model
            .studies()
            .iter()
            .filter(|r| listed(ctx, RecordPolicy::of(r, &today)))
            .take(first)
            .map(|record| Study::new(&model, record, &today))
            .collect()))
    }

    /// The registered partner sources and the health of their harvests. Below STEWARD, a
    /// source's record count leaves out its embargoed records (datasets, studies and samples).
    async fn sources(&self, ctx: &Context<'_>) -> Result<Option<Vec<SourceInfo>>> {
        for p in [v::MUSUBI_LAST_HARVEST, v::MUSUBI_LAST_ATTEMPT, v::MUSUBI_RECORD_COUNT, v::MUSUBI_LAST_ERROR, v::MUSUBI_LAST_WARNING] {
            guard(ctx, p, &Scope::default())?;
        }
        let hub = api(ctx);
        let snapshot = hub.snapshot();
        let today = today();
        let mut hidden: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
        for (sources, policy) in &snapshot.embargo_sources {
            if !listed(ctx, RecordPolicy::on(policy, &today)) {
                for source in sources {
                    *hidden.entry(source.as_str()).or_default() += 1;
                }
            }
        }
        let mut sources = hub.sources().as_ref().clone();
        for s in &mut sources {
            if let (Some(count), Some(h)) = (s.record_count.as_mut(), hidden.get(s.id.as_str())) {
                *count = (*count - h).max(0);
            }
        }
        Ok(Some(sources))
    }

    /// Who read which CONTROLLED and STEWARD fields, when (STEWARD). Oldest first, a page at a
    /// time; cursors are log positions.
    #[graphql(complexity = "paged_cost(first, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to the page-size limit (100 unless configured; default 20).")] first: Option<i32>,
        #[graphql(desc = "A cursor from a previous page: the page starts after it.")] after: Option<String>,
        filter: Option<AuditFilter>,
    ) -> Result<Option<AuditConnection>> {
        guard_tier(ctx, Tier::Steward, None)?;
        let first = page_size(ctx, first, "entries")?;
        let after = match after {
            Some(c) => decode_audit_cursor(&c)?,
            None => 0,
        };
        let filter = filter.unwrap_or_default();
        let time = |argument: &str, value: &Option<String>| -> Result<Option<musubi_ontology::xsd::DateTime>> {
            value
                .as_deref()
                .map(|s| s.parse().map_err(|_| bad_input(argument, "is not an xsd:dateTime such as 2026-01-31T00:00:00Z")))
                .transpose()
        };
        let since = time("filter.since", &filter.since)?;
        let until = time("filter.until", &filter.until)?;
        let filter = musubi_platform::audit::EntryFilter { subject: filter.subject, dataset: filter.dataset, since, until };
        let (entries, total, has_next) = api(ctx).audit_log().page(after, first, &filter).map_err(|e| async_graphql::Error::new(e.to_string()))?;
        let edges: Vec<AuditEdge> =
            entries.into_iter().map(|e| AuditEdge { cursor: encode_audit_cursor(e.position), node: AuditRecord(e) }).collect();
        Ok(Some(AuditConnection {
            page_info: PageInfo {
                has_next_page: has_next,
                has_previous_page: after > 0,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            total_count: total as i64,
        }))
    }
}

const AUDIT_CURSOR_VERSION: &str = "a1";

fn encode_audit_cursor(position: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{AUDIT_CURSOR_VERSION}\u{0}{position}"))
}

fn decode_audit_cursor(cursor: &str) -> Result<u64> {
    let invalid = || bad_input("after", "is not an audit log cursor this API issued (take `endCursor` from a previous page)");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (version, position) = text.split_once('\u{0}').ok_or_else(invalid)?;
    if version != AUDIT_CURSOR_VERSION {
        return Err(invalid());
    }
    position.parse().map_err(|_| invalid())
}

const CURSOR_VERSION: &str = "c1";

fn encode_cursor(k: &EntityKey) -> String {
    let id = match &k.id {
        NamedOrBlankNode::NamedNode(n) => format!("<{}", n.as_str()),
        NamedOrBlankNode::BlankNode(b) => format!("_{}", b.as_str()),
    };
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_VERSION}\u{0}{}\u{0}{}\u{0}{id}", k.accession, k.source))
}

fn decode_cursor(cursor: &str) -> Result<EntityKey> {
    let invalid = || bad_input("after", "is not a cursor this API issued (take `endCursor` from a previous page)");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let parts: Vec<&str> = text.split('\u{0}').collect();
    let [CURSOR_VERSION, accession, source, id] = parts.as_slice() else { return Err(invalid()) };
    let id: NamedOrBlankNode = if let Some(iri) = id.strip_prefix('<') {
        NamedNode::new(iri).map_err(|_| invalid())?.into()
    } else if let Some(b) = id.strip_prefix('_') {
        musubi_ontology::rdf::BlankNode::new(b).map_err(|_| invalid())?.into()
    } else {
        return Err(invalid());
    };
    Ok(EntityKey { accession: (*accession).to_owned(), source: std::sync::Arc::from(*source), id })
}
