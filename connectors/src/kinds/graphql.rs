//! A partner's own GraphQL endpoint: musubi POSTs the manifest's query, with the page size as
//! `$first` and the cursor as `$<cursor_param>` (cursor paging over a Relay-style connection),
//! and maps the records found at `paging.records` with RML. GraphQL errors fail the harvest.

use serde_json::{Value, json};

use super::json_api::{Cursors, map_page};
use super::{Connector, Context, RecordMapper, Staged};
use crate::fetch;
use crate::error::HarvestError;
use crate::manifest::{Location, Manifest};

/// Pages read at most, so that a partner whose cursor never ends cannot hold a harvest forever.
const MAX_PAGES: usize = 100_000;

#[derive(Debug)]
pub struct Graphql;

impl Connector for Graphql {
    async fn stage(&self, manifest: &Manifest, cx: &Context<'_>) -> Result<Staged, HarvestError> {
        let query_file = manifest.query.as_ref().expect("validated: graphql manifests have a query");
        let query = std::fs::read_to_string(query_file)
            .map_err(|e| HarvestError::Config(format!("{}: cannot read: {e}", query_file.display())))?;
        let mapper = RecordMapper::new(manifest)?;
        let records = super::RecordsPath::of(manifest)?;
        let cursors = Cursors::new(manifest)?;
        let options = cx.fetch_options(manifest)?;
        let mut staged = Staged::default();
        for location in &manifest.endpoints {
            let Location::Http(url) = location else {
                return Err(HarvestError::Config(format!("{}: a graphql endpoint must be an http(s) URL", manifest.file.display())));
            };
            let mut cursor: Option<String> = None;
            let mut pages = 0;
            loop {
                pages += 1;
                if pages > MAX_PAGES {
                    return Err(HarvestError::Protocol(format!("{url}: more than {MAX_PAGES} pages; stopping")));
                }
                let mut variables = json!({ "first": manifest.paging.page_size });
                variables[&manifest.paging.cursor_param] = cursor.clone().map_or(Value::Null, Value::String);
                let doc = fetch::post_json(cx.client, url, &options, &json!({ "query": query, "variables": variables })).await?;
                let answer = serde_json::from_slice::<Value>(&doc.bytes).unwrap_or(Value::Null);
                if let Some(errors) = answer.get("errors").and_then(Value::as_array).filter(|e| !e.is_empty()) {
                    let messages: Vec<&str> = errors.iter().filter_map(|e| e["message"].as_str()).collect();
                    return Err(HarvestError::Protocol(format!("{url}: the partner's GraphQL answered with errors: {}", messages.join("; "))));
                }
                let (_, page) = map_page(&doc, records.as_ref(), &mapper, cx, &mut staged)?;
                match cursors.next(&page, cursor.as_deref(), url)? {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        Ok(staged)
    }
}
