//! JSON REST APIs (and JSON files): pages → records → RML → RDF.
//!
//! Paging: none (one document, or a folder of files), offset (`?offset=&limit=` until a short
//! page or the stated total; with a total, `concurrency` pages in flight) or next-link (follow a JSONPath to the next URL until there is
//! none). Each record is mapped on its own, so one mapping serves a file and a paged API alike.

use std::collections::HashSet;

use musubi_rml::Record;
use serde_json::Value;
use serde_json_path::JsonPath;
use url::Url;

use super::{Connector, Context, RecordMapper, RecordsPath, Staged, json_path};
use crate::fetch::{self, Document, FetchOptions};
use crate::error::HarvestError;
use crate::manifest::{Location, Manifest, PagingStyle};

/// Pages followed at most, so that a partner whose next link loops cannot hold a harvest forever.
const MAX_PAGES: usize = 100_000;

#[derive(Debug)]
pub struct JsonApi;

struct Plan<'a> {
    manifest: &'a Manifest,
    mapper: RecordMapper,
    records: Option<RecordsPath>,
    limits: FetchOptions,
}

impl Connector for JsonApi {
    async fn stage(&self, manifest: &Manifest, cx: &Context<'_>) -> Result<Staged, HarvestError> {
        let plan = Plan {
            manifest,
            records: RecordsPath::of(manifest)?,
            mapper: RecordMapper::new(manifest)?,
            limits: cx.fetch_options(manifest)?,
        };
        let mut staged = Staged::default();
        for location in &manifest.endpoints {
            match (manifest.paging.style, location) {
                (PagingStyle::None, _) | (_, Location::File(_)) => {
                    for doc in fetch::fetch_all(cx.client, location, &plan.limits).await? {
                        plan.page(&doc?, cx, &mut staged)?;
                    }
                }
                (PagingStyle::Offset, Location::Http(url)) => plan.offset_pages(url, cx, &mut staged).await?,
                (PagingStyle::NextLink, Location::Http(url)) => plan.next_link_pages(url, cx, &mut staged).await?,
                (PagingStyle::Cursor, Location::Http(url)) => plan.cursor_pages(url, cx, &mut staged).await?,
            }
        }
        Ok(staged)
    }
}

impl Plan<'_> {
    /// Offset paging. Once the first page states the total (and is full), the other pages are
    /// known in advance and fetched up to `concurrency` at a time, mapped in page order so that
    /// the staged graph is the same whatever order the answers come in.
    async fn offset_pages(&self, base: &Url, cx: &Context<'_>, staged: &mut Staged) -> Result<(), HarvestError> {
        let paging = &self.manifest.paging;
        let page_url = |offset: usize| {
            let mut url = base.clone();
            url.query_pairs_mut()
                .append_pair(&paging.offset_param, &offset.to_string())
                .append_pair(&paging.limit_param, &paging.page_size.to_string());
            url
        };
        let total_path = json_path(self.manifest, "paging.total", paging.total.as_deref())?;
        let mut offset = 0usize;
        for page_number in 0..MAX_PAGES {
            let doc = fetch::get(cx.client, &page_url(offset), &self.limits).await?;
            let (count, page) = self.page(&doc, cx, staged)?;
            offset += count;
            let total = total_path.as_ref().and_then(|t| t.query(&page).first()?.as_u64()).map(|t| t as usize);
            staged.expected = total;
            let done = match total {
                Some(total) => offset >= total || count == 0,
                None => count < paging.page_size,
            };
            if done {
                return Ok(());
            }
            if let (Some(total), 0, true) = (total, page_number, count == paging.page_size && self.manifest.concurrency > 1) {
                return self.known_pages(offset, total, &page_url, cx, staged).await;
            }
        }
        Err(HarvestError::Protocol(format!("{base}: more than {MAX_PAGES} pages; stopping")))
    }

    /// The pages from `first` up to the stated `total`, `concurrency` in flight at most.
    async fn known_pages(
        &self,
        first: usize,
        total: usize,
        page_url: &(dyn Fn(usize) -> Url + Sync),
        cx: &Context<'_>,
        staged: &mut Staged,
    ) -> Result<(), HarvestError> {
        use futures_util::{StreamExt, TryStreamExt};
        let page_size = self.manifest.paging.page_size;
        let offsets: Vec<usize> = (first..total).step_by(page_size).collect();
        if offsets.len() > MAX_PAGES {
            return Err(HarvestError::Protocol(format!("{}: more than {MAX_PAGES} pages; stopping", page_url(0))));
        }
        let last = *offsets.last().expect("total > first");
        let mut pages = futures_util::stream::iter(offsets.into_iter().map(|offset| {
            let url = page_url(offset);
            async move { fetch::get(cx.client, &url, &self.limits).await.map(|doc| (offset, doc)) }
        }))
        .buffered(self.manifest.concurrency);
        while let Some((offset, doc)) = pages.try_next().await? {
            let (count, _) = self.page(&doc, cx, staged)?;
            // The pages were planned from the page size: a short page before the last would
            // leave records out.
            if count < page_size && offset != last {
                return Err(HarvestError::Protocol(format!(
                    "{}: {count} records where {page_size} (paging.page_size) were asked for, before the last page; \
                     the partner pages differently (set concurrency = 1 to page one by one)",
                    doc.url
                )));
            }
        }
        Ok(())
    }

    async fn next_link_pages(&self, first: &Url, cx: &Context<'_>, staged: &mut Staged) -> Result<(), HarvestError> {
        let next_path = {
            let n = &self.manifest.paging.next;
            let n = if n.starts_with('$') { n.clone() } else { format!("$.{n}") };
            JsonPath::parse(&n).map_err(|e| {
                HarvestError::Config(format!("{}: field `paging.next`: not a valid JSONPath: {e}", self.manifest.file.display()))
            })?
        };
        let mut url = first.clone();
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            if !seen.insert(url.to_string()) {
                return Err(HarvestError::Protocol(format!("{url}: the next link points to a page already read (a loop)")));
            }
            let doc = fetch::get(cx.client, &url, &self.limits).await?;
            let (_, page) = self.page(&doc, cx, staged)?;
            let next = next_path.query(&page).first().and_then(Value::as_str).map(str::to_owned);
            match next {
                None => return Ok(()),
                Some(n) if n.is_empty() => return Ok(()),
                Some(n) => {
                    url = url.join(&n).map_err(|e| HarvestError::Protocol(format!("{url}: next link {n:?} is not a URL: {e}")))?;
                }
            }
        }
        Err(HarvestError::Protocol(format!("{first}: more than {MAX_PAGES} pages; stopping")))
    }

    fn page(&self, doc: &Document, cx: &Context<'_>, staged: &mut Staged) -> Result<(usize, Value), HarvestError> {
        map_page(doc, self.records.as_ref(), &self.mapper, cx, staged)
    }

    /// Cursor paging: the page says where the next one starts (`paging.cursor`), sent back as
    /// `?<cursor_param>=…`, until there is no cursor (or `paging.has_next` says false).
    async fn cursor_pages(&self, first: &Url, cx: &Context<'_>, staged: &mut Staged) -> Result<(), HarvestError> {
        let cursors = Cursors::new(self.manifest)?;
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = first.clone();
            if let Some(c) = &cursor {
                url.query_pairs_mut().append_pair(&self.manifest.paging.cursor_param, c);
            }
            let doc = fetch::get(cx.client, &url, &self.limits).await?;
            let (_, page) = self.page(&doc, cx, staged)?;
            match cursors.next(&page, cursor.as_deref(), &url)? {
                Some(next) => cursor = Some(next),
                None => return Ok(()),
            }
        }
        Err(HarvestError::Protocol(format!("{first}: more than {MAX_PAGES} pages; stopping")))
    }
}

/// Where a page keeps the next cursor, and whether there is a next page.
pub(crate) struct Cursors {
    cursor: JsonPath,
    has_next: Option<JsonPath>,
}

impl Cursors {
    pub(crate) fn new(manifest: &Manifest) -> Result<Cursors, HarvestError> {
        let cursor = json_path(manifest, "paging.cursor", Some(&manifest.paging.cursor))?.expect("given");
        let has_next = json_path(manifest, "paging.has_next", manifest.paging.has_next.as_deref())?;
        Ok(Cursors { cursor, has_next })
    }

    /// The next page's cursor, or `None` at the end. A cursor that does not move is an error
    /// (a partner that would otherwise be read forever).
    pub(crate) fn next(&self, page: &Value, current: Option<&str>, url: &Url) -> Result<Option<String>, HarvestError> {
        if self.has_next.as_ref().is_some_and(|h| h.query(page).first() != Some(&Value::Bool(true))) {
            return Ok(None);
        }
        let next = self.cursor.query(page).first().and_then(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        if next.is_some() && next.as_deref() == current {
            return Err(HarvestError::Protocol(format!("{url}: the cursor did not move ({next:?}); stopping")));
        }
        Ok(next)
    }
}

/// Maps every record of one JSON page; returns how many records it held, and the page. A page
/// without the records' container (`$.data` of `$.data[*]`) is an error, not an empty page: a
/// partner whose later pages change shape would otherwise end the harvest early, and the
/// records after it would be removed.
pub(crate) fn map_page(
    doc: &Document,
    records_path: Option<&RecordsPath>,
    mapper: &RecordMapper,
    cx: &Context<'_>,
    staged: &mut Staged,
) -> Result<(usize, Value), HarvestError> {
    let page: Value = serde_json::from_slice(&doc.bytes).map_err(|e| HarvestError::Parse {
        url: doc.url.clone(),
        message: format!("not valid JSON at line {} column {}: {e}", e.line(), e.column()),
    })?;
    if let Some(path) = records_path {
        path.check_shape(&page, &doc.url)?;
    }
    let records: Vec<&Value> = match records_path {
        Some(path) => path.path.query(&page).all(),
        None => match &page {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        },
    };
    if let Some(index) = records.iter().position(|r| !r.is_object()) {
        return Err(HarvestError::Parse { url: doc.url.clone(), message: format!("record #{index} is not a JSON object") });
    }
    let records: Vec<Record<'_>> = records.into_iter().map(Record::Json).collect();
    mapper.map(&records, &doc.url, cx, staged)?;
    Ok((records.len(), page))
}
