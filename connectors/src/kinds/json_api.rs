//! JSON REST APIs (and JSON files): pages → records → RML → RDF.
//!
//! Paging: none (one document, or a folder of files), offset (`?offset=&limit=` until a short
//! page or the stated total) or next-link (follow a JSONPath to the next URL until there is
//! none). Each record is mapped on its own, so one mapping serves a file and a paged API alike.

use std::collections::HashSet;

use serde_json::Value;
use serde_json_path::JsonPath;
use url::Url;

use super::{Connector, Context, RecordMapper, Staged, json_path};
use crate::fetch::{self, Document, FetchOptions};
use crate::harvest::HarvestError;
use crate::manifest::{Location, Manifest, PagingStyle};

/// Pages followed at most, so that a partner whose next link loops cannot hold a harvest forever.
const MAX_PAGES: usize = 100_000;

#[derive(Debug)]
pub struct JsonApi;

struct Plan<'a> {
    manifest: &'a Manifest,
    mapper: RecordMapper,
    records: Option<JsonPath>,
    limits: FetchOptions,
}

impl Connector for JsonApi {
    async fn stage(&self, manifest: &Manifest, cx: &Context<'_>) -> Result<Staged, HarvestError> {
        let plan = Plan {
            manifest,
            records: json_path(manifest, "paging.records", manifest.paging.records.as_deref())?,
            mapper: RecordMapper::new(manifest)?,
            limits: FetchOptions::for_manifest(manifest).map_err(HarvestError::Config)?,
        };
        let mut staged = Staged::default();
        for location in &manifest.endpoints {
            match (manifest.paging.style, location) {
                (PagingStyle::None, _) | (_, Location::File(_)) => {
                    for doc in fetch::fetch_all(cx.client, location, &plan.limits).await? {
                        plan.page(&doc, cx, &mut staged)?;
                    }
                }
                (PagingStyle::Offset, Location::Http(url)) => plan.offset_pages(url, cx, &mut staged).await?,
                (PagingStyle::NextLink, Location::Http(url)) => plan.next_link_pages(url, cx, &mut staged).await?,
            }
        }
        Ok(staged)
    }
}

impl Plan<'_> {
    async fn offset_pages(&self, base: &Url, cx: &Context<'_>, staged: &mut Staged) -> Result<(), HarvestError> {
        let paging = &self.manifest.paging;
        let mut offset = 0usize;
        for _ in 0..MAX_PAGES {
            let mut url = base.clone();
            url.query_pairs_mut()
                .append_pair(&paging.offset_param, &offset.to_string())
                .append_pair(&paging.limit_param, &paging.page_size.to_string());
            let doc = fetch::get(cx.client, &url, &self.limits).await?;
            let (count, page) = self.page(&doc, cx, staged)?;
            offset += count;
            let total = paging.total.as_deref().and_then(|t| {
                let t = if t.starts_with('$') { t.to_owned() } else { format!("$.{t}") };
                JsonPath::parse(&t).ok()?.query(&page).first()?.as_u64()
            });
            staged.expected = total.map(|t| t as usize);
            let done = match total {
                Some(total) => offset as u64 >= total || count == 0,
                None => count < paging.page_size,
            };
            if done {
                return Ok(());
            }
        }
        Err(HarvestError::Protocol(format!("{base}: more than {MAX_PAGES} pages; stopping")))
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

    /// Maps every record of one page; returns how many records it held, and the page.
    fn page(&self, doc: &Document, cx: &Context<'_>, staged: &mut Staged) -> Result<(usize, Value), HarvestError> {
        let page: Value = serde_json::from_slice(&doc.bytes).map_err(|e| HarvestError::Parse {
            url: doc.url.clone(),
            message: format!("not valid JSON at line {} column {}: {e}", e.line(), e.column()),
        })?;
        let records: Vec<&Value> = match &self.records {
            Some(path) => path.query(&page).all(),
            None => match &page {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            },
        };
        if let Some(index) = records.iter().position(|r| !r.is_object()) {
            return Err(HarvestError::Parse { url: doc.url.clone(), message: format!("record #{index} is not a JSON object") });
        }
        self.mapper.map(&records, &doc.url, cx, staged)?;
        Ok((records.len(), page))
    }
}
