//! `search`: full text, filters, facets, sort and cursors over the search index
//! ([`musubi_search`]), with the tier guard applied to every part of it.
//!
//! A page is one lookup in the index (matching records, scores, facet counts, the page, the
//! highlights); its hits resolve to the ordinary `Dataset` and `Study` types, whose fields read
//! the read model the index was built from. Tiers: the text searched, scored and highlighted is
//! only the text the caller may read on each record (the index keeps text per tier; CONTROLLED
//! text counts only on datasets the caller holds a grant for); a filter, facet or sort key on a
//! field reads it, so a record whose field the caller may not read neither matches, nor counts,
//! nor sorts by it, and one the caller may read on no record is refused; embargoed records are
//! not found below STEWARD.

use std::path::Path;

use async_graphql::{Context, Enum, InputObject, Result, SimpleObject, Union};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use musubi_ontology::disease::{term_curie, term_iri};
use musubi_read_model::{MergedRecord, ReadModel};
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab::Vocabulary;
use musubi_search::{After, Doc, Field, Kind, OnDisk, Request, SearchIndex, SortBy, SortValue, Stats, TextAccess, Visibility};

use crate::access::{PolicyFacts, RecordPolicy, effective_tier, forbidden_filter, api, principal, today};
use crate::tiers::argument_tier;
use musubi_platform::audit::AuditCollector;
use crate::errors::bad_input;
use crate::paging::{MAX_PAGE_SIZE, PageInfo};
use crate::types::{AccessLevel, Dataset, Study};
use crate::{ApiState, Principal, Snapshot};

/// Builds the index of a read model, text filed under each property's tier on each record
/// (sensitive records raise REGISTERED text to CONTROLLED; embargoed records are left out of
/// searches below STEWARD altogether, so their text needs no tier of its own). With `on_disk`
/// (`<data>/index`), the index built from the same read model before is opened instead, or the
/// new one is kept there; `None` in the outcome when it was built in memory.
pub(crate) fn build_index(vocabulary: &Vocabulary, model: &ReadModel, on_disk: Option<&Path>) -> (SearchIndex, Vec<PolicyFacts>, Option<OnDisk>) {
    let tiers = |record: &MergedRecord| {
        let policy = RecordPolicy { embargoed: false, sensitive: record.policy.sensitive };
        move |property: &str| effective_tier(vocabulary, property, policy)
    };
    let kept = on_disk.map(|root| {
        SearchIndex::open_or_build(root, model, vocabulary, tiers).map_err(|e| {
            // A full disk costs the next start a rebuild, not search now.
            eprintln!("warning: cannot keep the search index in {}: {e}; building it in memory", root.display());
        })
    });
    let (index, outcome) = match kept {
        Some(Ok((index, outcome))) => (index, Some(outcome)),
        _ => {
            let index = SearchIndex::build(model, vocabulary, tiers).unwrap_or_else(|e| {
                // An index that cannot be built (tantivy in RAM: out of memory) leaves search
                // empty, not the hub down.
                eprintln!("warning: {e}; search answers nothing until the next harvest");
                SearchIndex::empty()
            });
            (index, None)
        }
    };
    let policies = index
        .docs()
        .iter()
        .map(|doc| {
            let record = match doc.kind {
                Kind::Dataset => model.datasets().get(doc.position),
                Kind::Study => model.studies().get(doc.position),
            };
            record.map(|r| r.policy).unwrap_or_default()
        })
        .collect();
    (index, policies, outcome)
}

/// What kind of record a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum RecordKind {
    Dataset,
    Study,
}

/// Which records to find. Conditions combine with AND; the values of one condition with OR.
/// Filtering on a field reads it: records whose field you may not read do not match.
#[derive(Debug, Default, InputObject)]
pub struct SearchFilter {
    /// Only datasets, or only studies.
    pub kind: Option<Vec<RecordKind>>,
    /// Only records one of these sources holds (ids as in `sources`).
    pub source: Option<Vec<String>>,
    pub access_level: Option<Vec<AccessLevel>>,
    /// Type of data (`type`).
    pub r#type: Option<Vec<String>>,
    pub assays: Option<Vec<String>>,
    pub platforms: Option<Vec<String>>,
    pub reference_genomes: Option<Vec<String>>,
    /// MONDO terms (`MONDO:0005070`, or their IRIs): a term finds records annotated with it or
    /// with any of its descendants.
    pub diseases: Option<Vec<String>>,
    /// DUO term IRIs, on the dataset or its policies.
    pub duo_codes: Option<Vec<String>>,
    /// Publishing organisations, by name.
    pub organisations: Option<Vec<String>>,
    pub release_date: Option<DateRange>,
    pub subject_count: Option<IntRange>,
}

/// Dates from..to, inclusive (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`).
#[derive(Debug, Default, InputObject)]
pub struct DateRange {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Numbers min..max, inclusive.
#[derive(Debug, Default, InputObject)]
pub struct IntRange {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

/// A field to count values of. Counts cover only the matching records on which you may read the
/// field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SearchFacet {
    Source,
    AccessLevel,
    Type,
    Assays,
    Platforms,
    ReferenceGenomes,
    Diseases,
    DuoCodes,
    Organisations,
    /// Release years.
    ReleaseYear,
    /// Subject counts by order of magnitude (1-9, 10-99, …, 10000+).
    SubjectCountRange,
}

impl SearchFacet {
    fn field(self) -> Field {
        match self {
            SearchFacet::Source => Field::Source,
            SearchFacet::AccessLevel => Field::AccessLevel,
            SearchFacet::Type => Field::Type,
            SearchFacet::Assays => Field::Assays,
            SearchFacet::Platforms => Field::Platforms,
            SearchFacet::ReferenceGenomes => Field::ReferenceGenomes,
            SearchFacet::Diseases => Field::Diseases,
            SearchFacet::DuoCodes => Field::DuoCodes,
            SearchFacet::Organisations => Field::Organisations,
            SearchFacet::ReleaseYear => Field::ReleaseYear,
            SearchFacet::SubjectCountRange => Field::SubjectCountRange,
        }
    }
}

/// The order of results. Records without the value (or whose value you may not read) come last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
pub enum SearchSort {
    /// Best match first (without query text: by accession).
    #[default]
    Relevance,
    ReleaseDate,
    SubjectCount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SortOrder {
    Asc,
    Desc,
}

/// A record search finds.
#[derive(Debug, Clone, Union)]
pub enum SearchRecord {
    Dataset(Dataset),
    Study(Study),
}

#[derive(Debug, SimpleObject)]
pub struct SearchEdge {
    pub cursor: String,
    pub node: SearchRecord,
    /// Relevance (BM25 over the text you may read); 0 without query text.
    pub score: f64,
    /// Fragments of the text you may read where the query matched, matched terms in `<em>`.
    pub highlights: Vec<String>,
}

#[derive(Debug, SimpleObject)]
pub struct FacetValue {
    pub value: String,
    /// A readable name where the hub knows one (a MONDO term's label).
    pub label: Option<String>,
    /// Matching records with this value that you may see.
    pub count: i64,
}

#[derive(Debug, SimpleObject)]
pub struct Facet {
    /// The filter this facet's values go to.
    pub field: String,
    pub values: Vec<FacetValue>,
}

#[derive(Debug, SimpleObject)]
pub struct SearchConnection {
    pub edges: Vec<SearchEdge>,
    pub nodes: Vec<SearchRecord>,
    pub page_info: PageInfo,
    /// Matching records you may see, across all pages.
    pub total_count: i64,
    pub facets: Vec<Facet>,
}

/// The caller's view of each record: embargo, and which fields it may read there. The fields a
/// caller may read depend only on the record's policy and on whether the caller holds a grant for
/// it, so the masks are computed once per request for each of those cases. Public so that
/// `musubi bench index` measures the index with the view `search` gives it.
pub struct CallerView<'a> {
    policies: &'a [PolicyFacts],
    /// Which records state a policy (see `Snapshot::policy_stated`).
    stated: &'a [u64],
    principal: &'a Principal,
    enforced: bool,
    today: String,
    /// Mask by (embargoed, sensitive, granted).
    masks: [u64; 8],
    /// The documents the caller may not see (embargoed today, below STEWARD).
    hidden: Vec<u32>,
}

impl<'a> CallerView<'a> {
    fn new(snapshot: &'a Snapshot, vocabulary: &Vocabulary, principal: &'a Principal, enforced: bool) -> CallerView<'a> {
        let mut masks = [0; 8];
        for (i, mask) in masks.iter_mut().enumerate() {
            let policy = RecordPolicy { embargoed: i & 4 != 0, sensitive: i & 2 != 0 };
            // A dataset the caller holds a grant for, or one it does not (any other accession).
            let granted = principal.grants.iter().next().map(String::as_str);
            let dataset = if i & 1 != 0 { granted } else { None };
            for field in Field::ALL {
                if field.reads().iter().all(|p| principal.may_read(effective_tier(vocabulary, p.as_str(), policy), dataset)) {
                    *mask |= 1 << field.position();
                }
            }
        }
        let today = today();
        let hidden = if enforced && principal.tier < Tier::Steward {
            snapshot.embargo_stated.iter().copied().filter(|o| snapshot.policies[*o as usize].embargoed_on(&today)).collect()
        } else {
            Vec::new()
        };
        CallerView { policies: &snapshot.policies, stated: &snapshot.policy_stated, principal, enforced, today, masks, hidden }
    }

    /// What `principal` sees of `snapshot`'s records, with the hub's enforcement (a benchmark
    /// cannot switch it off through this).
    pub fn of(hub: &ApiState, snapshot: &'a Snapshot, principal: &'a Principal) -> CallerView<'a> {
        CallerView::new(snapshot, hub.vocabulary(), principal, hub.enforced())
    }
}

impl Visibility for CallerView<'_> {
    fn mask(&self, ord: usize, doc: &Doc) -> Option<u64> {
        if !self.enforced {
            return Some(u64::MAX);
        }
        if ord >= self.policies.len() {
            return None;
        }
        // Grants name datasets; a study's CONTROLLED fields are for stewards.
        let granted = !self.principal.grants.is_empty() && doc.kind == Kind::Dataset && self.principal.grants.contains(doc.accession());
        // A record known to state no policy: neither embargoed nor sensitive (one not in the
        // bits has its facts read: fail closed).
        if self.stated.get(ord / 64).is_some_and(|bits| bits >> (ord % 64) & 1 == 0) {
            return Some(self.masks[usize::from(granted)]);
        }
        let policy = RecordPolicy::on(&self.policies[ord], &self.today);
        if policy.embargoed && self.principal.tier < Tier::Steward {
            return None;
        }
        Some(self.masks[usize::from(policy.embargoed) << 2 | usize::from(policy.sensitive) << 1 | usize::from(granted)])
    }

    fn hidden(&self) -> &[u32] {
        &self.hidden
    }
}

const CURSOR_VERSION: &str = "s1";

fn sort_name(sort: SearchSort, descending: bool) -> String {
    format!("{sort:?}/{}", if descending { "desc" } else { "asc" })
}

fn encode_cursor(sort: &str, value: &SortValue, key: &str, stats: Option<&Stats>) -> String {
    let stats = stats.map(Stats::encode).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_VERSION}\u{0}{sort}\u{0}{}\u{0}{key}\u{0}{stats}", value.encode()))
}

fn decode_cursor(cursor: &str, sort: &str) -> Result<After> {
    let invalid = || bad_input("after", "is not a search cursor this API issued (take `endCursor` from a previous page)");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.splitn(5, '\u{0}');
    let (Some(CURSOR_VERSION), Some(cursor_sort), Some(value), Some(key), Some(stats)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let stats = if stats.is_empty() { None } else { Some(Stats::decode(stats).ok_or_else(invalid)?) };
    if cursor_sort != sort {
        return Err(bad_input("after", format!("is a cursor of a search sorted by {cursor_sort}, not {sort}: page with the same sort and order")));
    }
    Ok(After { sort: SortValue::decode(value).ok_or_else(invalid)?, key: key.to_owned(), stats })
}

/// The arguments of `search`, as its resolver receives them, and whether the selection asks for
/// highlights.
#[derive(Debug, Default)]
pub struct SearchArgs {
    pub query: Option<String>,
    pub filter: Option<SearchFilter>,
    pub facets: Option<Vec<SearchFacet>>,
    pub sort: Option<SearchSort>,
    pub order: Option<SortOrder>,
    pub first: Option<i32>,
    pub after: Option<String>,
    /// `edges.highlights` is selected: only then does the index make snippets.
    pub highlights: bool,
}

/// The index request `search` makes for `args` on behalf of `principal`, and the sort name its
/// cursors carry. Filters, facets and sorts on a field the caller may read on no record are
/// refused here, as are a page size out of range, a bad date and a foreign cursor. Public so that
/// `musubi bench index` measures the index with exactly the request the resolver sends.
pub fn index_request<'a>(hub: &ApiState, principal: &'a Principal, args: &'a SearchArgs) -> Result<(Request<'a>, String)> {
    let first = args.first.unwrap_or(20);
    if !(1..=MAX_PAGE_SIZE).contains(&first) {
        return Err(bad_input("first", format!("asks for {first} records; a page holds 1 to {MAX_PAGE_SIZE}")));
    }
    let vocabulary = hub.vocabulary();
    let enforced = hub.enforced();
    let default_filter = SearchFilter::default();
    let filter = args.filter.as_ref().unwrap_or(&default_filter);
    let facets = args.facets.as_deref().unwrap_or_default();
    let sort = args.sort.unwrap_or_default();
    let descending = args.order.map_or(sort != SearchSort::Relevance, |o| o == SortOrder::Desc);
    // Filters, facets and sort keys on a field the caller may read on no record are refused.
    let mut used: Vec<(String, &str)> = Vec::new();
    let list = |field: Field, values: &Option<Vec<String>>, used: &mut Vec<(String, &str)>| {
        values.as_ref().map(|v| {
            used.push((format!("filter.{}", field.name()), field.name()));
            (field, v.clone())
        })
    };
    let mut filters: Vec<(Field, Vec<String>)> = Vec::new();
    filters.extend(list(Field::Source, &filter.source, &mut used));
    if let Some(levels) = &filter.access_level {
        used.push(("filter.accessLevel".into(), Field::AccessLevel.name()));
        filters.push((Field::AccessLevel, levels.iter().map(|l| format!("{l:?}").to_uppercase()).collect()));
    }
    filters.extend(list(Field::Type, &filter.r#type, &mut used));
    filters.extend(list(Field::Assays, &filter.assays, &mut used));
    filters.extend(list(Field::Platforms, &filter.platforms, &mut used));
    filters.extend(list(Field::ReferenceGenomes, &filter.reference_genomes, &mut used));
    filters.extend(list(Field::DuoCodes, &filter.duo_codes, &mut used));
    filters.extend(list(Field::Organisations, &filter.organisations, &mut used));
    if let Some(terms) = &filter.diseases {
        used.push(("filter.diseases".into(), Field::Diseases.name()));
        let diseases = hub.diseases();
        let expanded: Vec<String> = terms.iter().flat_map(|t| diseases.descendants(t)).collect();
        filters.push((Field::Diseases, expanded));
    }
    if filter.release_date.is_some() {
        used.push(("filter.releaseDate".into(), "releaseDate"));
    }
    if filter.subject_count.is_some() {
        used.push(("filter.subjectCount".into(), "subjectCount"));
    }
    for f in facets {
        used.push((format!("facets.{}", f.field().name()), f.field().name()));
    }
    match sort {
        SearchSort::ReleaseDate => used.push(("sort".into(), "releaseDate")),
        SearchSort::SubjectCount => used.push(("sort".into(), "subjectCount")),
        SearchSort::Relevance => {}
    }
    if enforced {
        for (argument, name) in &used {
            let tier = argument_tier(vocabulary, name);
            if !principal.may_read_somewhere(tier) {
                return Err(forbidden_filter(argument, tier));
            }
        }
    }
    let date = |d: &Option<String>, argument: &str| -> Result<Option<String>> {
        match d.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(d) if d.len() <= 10 && d.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() }) && matches!(d.len(), 4 | 7 | 10) => Ok(Some(d.to_owned())),
            Some(_) => Err(bad_input(argument, "is not a date such as 2024, 2024-03 or 2024-03-31")),
        }
    };
    let range = filter.release_date.as_ref();
    let release_date = (
        range.map(|r| date(&r.from, "filter.releaseDate.from")).transpose()?.flatten(),
        range.map(|r| date(&r.to, "filter.releaseDate.to")).transpose()?.flatten(),
    );
    let subject_count = filter.subject_count.as_ref().map_or((None, None), |r| (r.min, r.max));

    let sort_key = sort_name(sort, descending);
    let after = args.after.as_deref().map(|c| decode_cursor(c, &sort_key)).transpose()?;
    let access_tier = if enforced { principal.tier } else { Tier::Steward };
    let request = Request {
        text: args.query.as_deref(),
        kinds: filter.kind.as_ref().map(|k| k.iter().map(|k| if *k == RecordKind::Dataset { Kind::Dataset } else { Kind::Study }).collect()),
        filters,
        release_date,
        subject_count,
        facets: facets.iter().map(|f| f.field()).collect(),
        sort: match sort {
            SearchSort::Relevance => SortBy::Relevance,
            SearchSort::ReleaseDate => SortBy::ReleaseDate,
            SearchSort::SubjectCount => SortBy::SubjectCount,
        },
        descending,
        first: first as usize,
        after,
        access: TextAccess { tier: access_tier, grants: &principal.grants },
        highlights: args.highlights,
    };
    Ok((request, sort_key))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn search(
    ctx: &Context<'_>,
    query: Option<String>,
    filter: Option<SearchFilter>,
    facets: Option<Vec<SearchFacet>>,
    sort: Option<SearchSort>,
    order: Option<SortOrder>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<SearchConnection> {
    let hub = api(ctx);
    let principal = principal(ctx);
    let highlights = ctx.look_ahead().field("edges").field("highlights").exists();
    let args = SearchArgs { query, filter, facets, sort, order, first, after, highlights };
    let (request, sort_key) = index_request(hub, principal, &args)?;
    let snapshot: std::sync::Arc<Snapshot> = hub.snapshot();
    let view = CallerView::of(hub, &snapshot, principal);
    let page = snapshot.index.search(&request, &view).map_err(|e| async_graphql::Error::new(e.to_string()))?;

    let model = &snapshot.model;
    let today = today();
    // A CONTROLLED or STEWARD fragment is a read like any other: audited, and not served
    // without the request's audit collector (fail closed).
    let collector = ctx.data_opt::<AuditCollector>();
    let mut edges = Vec::new();
    for hit in &page.hits {
        let doc = &snapshot.index.docs()[hit.doc];
        let node = match doc.kind {
            Kind::Dataset => SearchRecord::Dataset(Dataset::new(model, &model.datasets()[doc.position], &today)),
            Kind::Study => SearchRecord::Study(Study::new(model, &model.studies()[doc.position], &today)),
        };
        let dataset = (doc.kind == Kind::Dataset).then(|| doc.accession());
        let mut highlights = Vec::new();
        for h in &hit.highlights {
            if h.tier >= Tier::Controlled {
                let Some(collector) = collector else { continue };
                let grant_used = h.tier == Tier::Controlled && principal.tier < Tier::Steward;
                collector.note(dataset, "highlights", grant_used);
            }
            highlights.push(h.html.clone());
        }
        // A hit found through CONTROLLED or STEWARD text says something of that text: a read.
        if let Some(tier) = hit.matched.iter().max() {
            let Some(collector) = collector else { return Err(async_graphql::Error::new("the audit log is not available; a search through CONTROLLED or STEWARD text cannot be answered")) };
            collector.note(dataset, "search", *tier == Tier::Controlled && principal.tier < Tier::Steward);
        }
        edges.push(SearchEdge { cursor: encode_cursor(&sort_key, &hit.sort, &doc.record_key, page.stats.as_ref()), node, score: f64::from(hit.score), highlights });
    }
    let diseases = hub.diseases();
    let facets = page
        .facets
        .into_iter()
        .map(|(f, counts)| {
            let name = f.name();
            Facet {
                field: name.to_owned(),
                values: counts
                    .into_iter()
                    .map(|(value, count)| {
                        let (value, label) = if name == "diseases" {
                            (term_curie(&value), diseases.label(&term_iri(&value)).map(str::to_owned))
                        } else {
                            (value, None)
                        };
                        FacetValue { value, label, count: count as i64 }
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(SearchConnection {
        nodes: edges.iter().map(|e| e.node.clone()).collect(),
        page_info: PageInfo {
            has_next_page: page.has_next,
            has_previous_page: request.after.is_some(),
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
        total_count: page.total as i64,
        facets,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use musubi_read_model::SourceView;

    use crate::{AuditCollector, ApiState, Principal, build};

    const RECORDS: &str = r#"@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
        @prefix m: <https://w3id.org/musubi/vocab#> . @prefix d: <https://w3id.org/musubi/dataset/> .
        d:D1 a dcat:Dataset ; dct:identifier "D1" ; dct:title "日本人肺がん患者の全ゲノム解析"@ja ; dct:issued "2020-01-01" ;
            m:assay "WGS" ; m:sampleAttribute "quillwort" .
        d:D2 a dcat:Dataset ; dct:identifier "D2" ; dct:title "Lung cancer exomes"@en ; dct:issued "2021-06-01" ; m:assay "WES" .
        d:D3 a dcat:Dataset ; dct:identifier "D3" ; dct:title "胃がんのゲノム"@ja ; m:assay "WGS" ; m:embargoUntil "2999-01-01" ."#;

    async fn ask(hub: &Arc<ApiState>, principal: Principal, query: &str) -> serde_json::Value {
        let schema = build(hub.clone());
        let r = schema.execute(async_graphql::Request::new(query).data(principal).data(AuditCollector::new())).await;
        serde_json::to_value(&r).expect("json")
    }

    fn hub() -> Arc<ApiState> {
        let triples = musubi_ontology::parse_triples(RECORDS.as_bytes(), musubi_ontology::RdfFormat::Turtle, "http://example.org/").expect("turtle");
        let model = musubi_read_model::ReadModel::default().with_source(SourceView::from_triples("s", triples));
        Arc::new(ApiState::new(Arc::new(musubi_ontology::vocab::Vocabulary::builtin()), model, Vec::new()))
    }

    fn accessions(body: &serde_json::Value) -> Vec<String> {
        body["data"]["search"]["nodes"].as_array().unwrap_or_else(|| panic!("{body}")).iter().map(|n| n["accession"].as_str().expect("accession").to_owned()).collect()
    }

    #[tokio::test]
    async fn japanese_and_english_text_facets_and_tiers() {
        let hub = hub();
        let q = |text: &str| format!(r#"{{ search(query: "{text}", facets: [ASSAYS]) {{ totalCount nodes {{ ... on Dataset {{ accession }} }} edges {{ highlights }} facets {{ field values {{ value count }} }} }} }}"#);
        let anonymous = Principal::anonymous();
        let body = ask(&hub, anonymous.clone(), &q("肺がん")).await;
        assert_eq!(accessions(&body), ["D1"], "{body}");
        assert!(body["data"]["search"]["edges"][0]["highlights"][0].as_str().expect("highlight").contains("<em>肺がん</em>"), "{body}");
        assert_eq!(accessions(&ask(&hub, anonymous.clone(), &q("cancers")).await), ["D2"], "stemmed");
        let body = ask(&hub, anonymous.clone(), &q("ゲノム")).await;
        assert_eq!(accessions(&body), ["D1"], "the embargoed D3 is not found: {body}");
        assert_eq!(body["data"]["search"]["facets"][0]["values"], serde_json::json!([{ "value": "WGS", "count": 1 }]));
        let steward = Principal { tier: musubi_ontology::tier::Tier::Steward, ..Principal::anonymous() };
        let body = ask(&hub, steward.clone(), &q("ゲノム")).await;
        let mut found = accessions(&body);
        found.sort();
        assert_eq!(found, ["D1", "D3"], "{body}");
        assert_eq!(body["data"]["search"]["facets"][0]["values"], serde_json::json!([{ "value": "WGS", "count": 2 }]));
        // CONTROLLED text: not for the public, found by the steward.
        assert_eq!(accessions(&ask(&hub, anonymous, &q("quillwort")).await), Vec::<String>::new());
        assert_eq!(accessions(&ask(&hub, steward, &q("quillwort")).await), ["D1"]);
    }

    /// Two worlds that differ only in what a caller may not read — a word in an embargoed record,
    /// in STEWARD text, in another dataset's CONTROLLED text — answer that caller's search byte for
    /// byte the same: hits, scores, cursors (which carry the statistics scores come from),
    /// highlights and totals. Before, the statistics were the whole index's (per-tier counts and a
    /// document total in every cursor).
    #[tokio::test]
    async fn scores_and_cursors_come_from_what_the_caller_may_read() {
        const SHOWN: &str = r#"@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
            @prefix m: <https://w3id.org/musubi/vocab#> . @prefix d: <https://w3id.org/musubi/dataset/> .
            d:D1 a dcat:Dataset ; dct:identifier "D1" ; dct:title "Lung cancer genomes of Japanese patients"@en ; m:sampleAttribute "cancer stage" .
            d:D2 a dcat:Dataset ; dct:identifier "D2" ; dct:title "Cancer exomes"@en ; dct:description "tumour and normal cancer pairs"@en ."#;
        let hidden = [
            // An embargoed record full of the word, STEWARD text and CONTROLLED text holding it.
            r#"d:D3 a dcat:Dataset ; dct:identifier "D3" ; dct:title "Gastric"@en ; dct:description "cancer cancer cancer"@en ; m:embargoUntil "2999-01-01" .
               d:D2 m:internalId "cancer-ticket" ; m:sampleAttribute "cancer cancer tissue" ."#,
            r#"d:D4 a dcat:Dataset ; dct:identifier "D4" ; dct:title "Liver"@en ; m:embargoUntil "2999-01-01" ."#,
        ];
        let world = |extra: &str| {
            let turtle = format!("{SHOWN}\n{extra}");
            let triples = musubi_ontology::parse_triples(turtle.as_bytes(), musubi_ontology::RdfFormat::Turtle, "http://example.org/").expect("turtle");
            let model = musubi_read_model::ReadModel::default().with_source(SourceView::from_triples("s", triples));
            Arc::new(ApiState::new(Arc::new(musubi_ontology::vocab::Vocabulary::builtin()), model, Vec::new()))
        };
        let prefixes = "@prefix dct: <http://purl.org/dc/terms/> . @prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix m: <https://w3id.org/musubi/vocab#> . @prefix d: <https://w3id.org/musubi/dataset/> .";
        let (a, b) = (world(&format!("{prefixes} {}", hidden[0])), world(&format!("{prefixes} {}", hidden[1])));
        let registered = |grants: &[&str]| Principal {
            tier: musubi_ontology::tier::Tier::Registered,
            grants: grants.iter().map(|g| (*g).to_owned()).collect(),
            subject: Some("r".into()),
            issuer: Some("i".into()),
        };
        let q = r#"{ search(query: "cancer", first: 1) { totalCount edges { cursor score highlights node { ... on Dataset { accession } } } pageInfo { endCursor } } }"#;
        for caller in [Principal::anonymous(), registered(&[]), registered(&["D1"])] {
            let (x, y) = (ask(&a, caller.clone(), q).await, ask(&b, caller.clone(), q).await);
            assert!(x.get("errors").is_none(), "{x}");
            assert_eq!(x, y, "{caller:?}");
            // The next page, from the cursor, too.
            let cursor = x["data"]["search"]["pageInfo"]["endCursor"].as_str().expect("cursor").to_owned();
            let next = q.replace("first: 1)", &format!(r#"first: 1, after: "{cursor}")"#));
            assert_eq!(ask(&a, caller.clone(), &next).await, ask(&b, caller.clone(), &next).await, "{caller:?}");
        }
        // The steward, who reads it all, sees the difference.
        let steward = Principal { tier: musubi_ontology::tier::Tier::Steward, ..Principal::anonymous() };
        assert_ne!(ask(&a, steward.clone(), q).await, ask(&b, steward, q).await);
    }

    /// A highlight of CONTROLLED text is a CONTROLLED read, and so is a hit found through it:
    /// both audited with the grant used; public text is not; without the request's audit
    /// collector such a search is not answered (fail closed).
    #[tokio::test]
    async fn highlights_and_hits_through_controlled_text_are_audited() {
        let hub = hub();
        let schema = build(hub.clone());
        let granted = Principal {
            tier: musubi_ontology::tier::Tier::Registered,
            grants: ["D1".to_owned()].into(),
            subject: Some("r".into()),
            issuer: Some("i".into()),
        };
        let reads = |q: &'static str| {
            let (schema, granted) = (schema.clone(), granted.clone());
            async move {
                let collector = AuditCollector::new();
                let r = schema.execute(async_graphql::Request::new(q).data(granted).data(collector.clone())).await;
                let body = serde_json::to_value(&r).expect("json");
                let mut reads: Vec<(Option<String>, String, bool)> = collector.take().into_iter().map(|r| (r.dataset, r.field, r.grant_used)).collect();
                reads.sort();
                (body, reads)
            }
        };
        let (body, seen) = reads(r#"{ search(query: "quillwort") { edges { highlights } } }"#).await;
        assert!(body["data"]["search"]["edges"][0]["highlights"][0].as_str().expect("highlight").contains("<em>quillwort</em>"), "{body}");
        assert_eq!(seen, [(Some("D1".to_owned()), "highlights".to_owned(), true), (Some("D1".to_owned()), "search".to_owned(), true)]);
        let (_, seen) = reads(r#"{ search(query: "quillwort") { totalCount edges { node { ... on Dataset { accession } } } } }"#).await;
        assert_eq!(seen, [(Some("D1".to_owned()), "search".to_owned(), true)], "a hit through CONTROLLED text, no highlight asked");
        let (_, seen) = reads(r#"{ search(query: "肺がん") { edges { highlights } } }"#).await;
        assert!(seen.is_empty(), "public text is not audited: {seen:?}");
        let r = schema.execute(async_graphql::Request::new(r#"{ search(query: "quillwort") { edges { highlights } } }"#).data(granted)).await;
        let body = serde_json::to_value(&r).expect("json");
        assert!(body["data"]["search"].is_null() && body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("audit log")), "{body}");
    }

    /// A forged cursor (statistics that cannot be) neither panics nor scores from the live index.
    #[tokio::test]
    async fn a_forged_cursor_is_refused_or_scored_from_itself() {
        use base64::Engine as _;
        let hub = hub();
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("s1\u{0}Relevance/asc\u{0}s0\u{0}x\u{0}0;0,0,0,0;0:cancer:99|3:cancer:7");
        let body = ask(&hub, Principal::anonymous(), &format!(r#"{{ search(query: "cancer", after: "{forged}") {{ totalCount edges {{ score }} }} }}"#)).await;
        assert!(body.get("errors").is_none(), "{body}");
    }

    #[tokio::test]
    async fn sorted_pages_by_cursor() {
        let hub = hub();
        let steward = Principal { tier: musubi_ontology::tier::Tier::Steward, ..Principal::anonymous() };
        let q = |after: &str| format!(r#"{{ search(sort: RELEASE_DATE, first: 1{after}) {{ totalCount nodes {{ ... on Dataset {{ accession }} }} pageInfo {{ hasNextPage endCursor }} }} }}"#);
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let body = ask(&hub, steward.clone(), &q(&after)).await;
            seen.extend(accessions(&body));
            let info = &body["data"]["search"]["pageInfo"];
            if info["hasNextPage"] != true {
                break;
            }
            after = format!(r#", after: "{}""#, info["endCursor"].as_str().expect("cursor"));
        }
        assert_eq!(seen, ["D2", "D1", "D3"], "newest first, undated last");
    }
}
