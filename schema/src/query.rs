//! Root queries: `dataset`, `datasets`, `study`, `studies`, `sources`.
//!
//! `datasets` is a Relay-style connection. Cursors name a position in the read model's order
//! (accession, source, IRI), not an offset, so paging does not skip or repeat records when a
//! harvest lands between two pages.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use musubi_ontology::rdf::{NamedNode, NamedOrBlankNode};
use musubi_ontology::read_model::{EntityKey, MergedRecord, ReadModel};
use musubi_ontology::vocab as v;

use crate::access::{guard, hub};
use crate::errors::bad_input;
use crate::types::{AccessLevel, Dataset, SourceInfo, Study};

/// Largest page a caller may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;
const DEFAULT_PAGE_SIZE: i32 = 20;

/// Which datasets to list. Conditions combine with AND.
#[derive(Debug, Default, InputObject)]
pub struct DatasetFilter {
    /// Only datasets from these sources (ids as in `sources`).
    pub source: Option<Vec<String>>,
    /// Only datasets with one of these normalised access levels.
    pub access_level: Option<Vec<AccessLevel>>,
    /// Words that must all occur (case-insensitively) in the accession, title, description or
    /// keywords.
    pub text: Option<String>,
}

#[derive(Debug, SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
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
    /// How many datasets match the filter, across all pages.
    pub total_count: i64,
}

#[derive(Debug)]
pub struct Query;

#[Object]
impl Query {
    /// One dataset by accession (e.g. "JGAD000001"). Where several sources hold it, the first
    /// source by id answers.
    async fn dataset(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Dataset>> {
        guard(ctx, v::DCT_IDENTIFIER, None)?;
        let model = hub(ctx).model();
        Ok(model.dataset(id.as_str()).map(|record| Dataset::new(&model, record)))
    }

    /// Datasets of every source, ordered by accession, a page at a time.
    async fn datasets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "A cursor from a previous page: the page starts after it.")] after: Option<String>,
        filter: Option<DatasetFilter>,
    ) -> Result<DatasetConnection> {
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&first) {
            return Err(bad_input("first", format!("asks for {first} datasets; a page holds 1 to {MAX_PAGE_SIZE}")));
        }
        let filter = filter.unwrap_or_default();
        // Filtering on a field is reading it: the caller must be allowed to see each field filtered on.
        // Listing datasets shows their accessions; a filter shows what it filters on.
        guard(ctx, v::DCT_IDENTIFIER, None)?;
        if filter.source.is_some() {
            guard(ctx, v::MUSUBI_SOURCE, None)?;
        }
        if filter.access_level.is_some() {
            guard(ctx, v::MUSUBI_ACCESS_LEVEL, None)?;
        }
        if filter.text.is_some() {
            for p in [v::DCT_IDENTIFIER, v::DCT_TITLE, v::DCT_DESCRIPTION, v::DCAT_KEYWORD] {
                guard(ctx, p, None)?;
            }
        }
        let after = after.map(|c| decode_cursor(&c)).transpose()?;

        let model = hub(ctx).model();
        let words: Vec<String> = filter.text.as_deref().unwrap_or("").split_whitespace().map(str::to_lowercase).collect();
        let matches = |r: &&MergedRecord| {
            if filter.source.as_ref().is_some_and(|wanted| !r.members.iter().any(|m| wanted.contains(&m.source))) {
                return false;
            }
            if let Some(levels) = &filter.access_level {
                match model.access_level(r) {
                    Some(l) if levels.contains(&AccessLevel::from(l)) => {}
                    _ => return false,
                }
            }
            words.is_empty() || text_matches(&model, r, &words)
        };
        let all: Vec<&MergedRecord> = model.datasets().iter().filter(matches).collect();
        let start = match &after {
            Some(cursor) => all.partition_point(|r| r.key <= *cursor),
            None => 0,
        };
        let page = &all[start..(start + first as usize).min(all.len())];
        let edges: Vec<DatasetEdge> =
            page.iter().map(|r| DatasetEdge { cursor: encode_cursor(&r.key), node: Dataset::new(&model, r) }).collect();
        Ok(DatasetConnection {
            nodes: edges.iter().map(|e| e.node.clone()).collect(),
            page_info: PageInfo {
                has_next_page: start + page.len() < all.len(),
                has_previous_page: start > 0,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            total_count: all.len() as i64,
        })
    }

    /// One study (research project) by accession (e.g. "hum0001").
    async fn study(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Study>> {
        guard(ctx, v::DCT_IDENTIFIER, None)?;
        let model = hub(ctx).model();
        Ok(model.study(id.as_str()).map(|record| Study::new(&model, record)))
    }

    /// Every study, ordered by accession (first 100 at most).
    async fn studies(&self, ctx: &Context<'_>, #[graphql(desc = "1 to 100 (default 20).")] first: Option<i32>) -> Result<Vec<Study>> {
        guard(ctx, v::DCT_IDENTIFIER, None)?;
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&first) {
            return Err(bad_input("first", format!("asks for {first} studies; a page holds 1 to {MAX_PAGE_SIZE}")));
        }
        let model = hub(ctx).model();
        Ok(model
            .studies()
            .iter()
            .take(first as usize)
            .map(|record| Study::new(&model, record))
            .collect())
    }

    /// The registered partner sources and the health of their harvests.
    async fn sources(&self, ctx: &Context<'_>) -> Result<Vec<SourceInfo>> {
        for p in [v::MUSUBI_LAST_HARVEST, v::MUSUBI_LAST_ATTEMPT, v::MUSUBI_RECORD_COUNT, v::MUSUBI_LAST_ERROR] {
            guard(ctx, p, None)?;
        }
        Ok(hub(ctx).sources().as_ref().clone())
    }
}

/// Whether every word occurs in an accession, title, description or keyword of any source's
/// node for the record.
fn text_matches(model: &ReadModel, record: &MergedRecord, words: &[String]) -> bool {
    let mut haystack = String::new();
    for (_, node) in model.members(record) {
        haystack.push_str(&node.accession().to_lowercase());
        for p in [v::DCT_TITLE, v::DCT_DESCRIPTION, v::DCAT_KEYWORD] {
            for s in node.strings(p) {
                haystack.push('\n');
                haystack.push_str(&s.to_lowercase());
            }
        }
        haystack.push('\n');
    }
    words.iter().all(|w| haystack.contains(w.as_str()))
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
    Ok(EntityKey { accession: (*accession).to_owned(), source: (*source).to_owned(), id })
}
