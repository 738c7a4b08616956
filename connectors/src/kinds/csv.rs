//! CSV and TSV files (over HTTP or from files): one record per row, mapped with RML whose logical
//! source reads CSV (references are column names), e.g. JGA's relation tables.

use musubi_rml::{Record, csv_rows};
use serde_json::Value;

use super::{Connector, Context, RecordMapper, Staged};
use crate::fetch;
use crate::error::HarvestError;
use crate::manifest::Manifest;

#[derive(Debug)]
pub struct Csv;

impl Connector for Csv {
    async fn stage(&self, manifest: &Manifest, cx: &Context<'_>) -> Result<Staged, HarvestError> {
        let mapper = RecordMapper::new(manifest)?;
        let limits = cx.fetch_options(manifest)?;
        let mut staged = Staged::default();
        for location in &manifest.endpoints {
            for doc in fetch::fetch_all(cx.client, location, &limits).await? {
                let doc = doc?;
                // The manifest's delimiter, else a tab for .tsv files, else a comma.
                let delimiter = manifest.delimiter.unwrap_or(if doc.url.ends_with(".tsv") { b'\t' } else { b',' });
                let rows = csv_rows(&doc.bytes, delimiter, (!manifest.columns.is_empty()).then_some(manifest.columns.as_slice())).map_err(|e| HarvestError::Parse { url: doc.url.clone(), message: e.into() })?;
                let Value::Array(rows) = rows else { unreachable!("csv_rows gives an array") };
                let records: Vec<Record<'_>> = rows.iter().map(Record::Json).collect();
                mapper.map(&records, &doc.url, cx, &mut staged)?;
            }
        }
        Ok(staged)
    }
}
