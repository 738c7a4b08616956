//! XML documents (over HTTP or from files, plain or gzip): SRA-, JGA- and EGA-style record sets
//! such as `<STUDY_SET><STUDY accession="…">…</STUDY>…</STUDY_SET>`.
//!
//! Each document is parsed whole (under the fetch size caps), split into records by the
//! manifest's `paging.records` XPath (default: the document element is the one record), and
//! each record is mapped on its own with RML whose logical source reads XPath, so records get
//! their own provenance as JSON records do. A document that is not well-formed fails the
//! harvest with its URL, line and column, before anything is mapped.

use musubi_rml::{XPath, XmlDocument};

use super::{Connector, Context, RecordMapper, Staged};
use crate::fetch::{self, Document};
use crate::error::HarvestError;
use crate::manifest::Manifest;

#[derive(Debug)]
pub struct Xml;

impl Connector for Xml {
    async fn stage(&self, manifest: &Manifest, cx: &Context<'_>) -> Result<Staged, HarvestError> {
        let mapper = RecordMapper::new(manifest)?;
        let records = XPath::parse(manifest.paging.records.as_deref().unwrap_or("/*"))
            .map_err(|e| HarvestError::Config(format!("{}: field `paging.records`: {e}", manifest.file.display())))?;
        let limits = cx.fetch_options(manifest)?;
        let mut staged = Staged::default();
        for location in &manifest.endpoints {
            for doc in fetch::fetch_all(cx.client, location, &limits).await? {
                let doc = fetch::gunzip(doc?, limits.max_bytes)?;
                map_document(&doc, &records, &mapper, cx, &mut staged)?;
            }
        }
        Ok(staged)
    }
}

/// Parses one document, splits it into records and maps them.
fn map_document(doc: &Document, records: &XPath, mapper: &RecordMapper, cx: &Context<'_>, staged: &mut Staged) -> Result<(), HarvestError> {
    let parse_error = |message: String| HarvestError::Parse { url: doc.url.clone(), message };
    let text = std::str::from_utf8(&doc.bytes)
        .map_err(|e| parse_error(format!("not UTF-8 text (byte {} is not): musubi reads XML in UTF-8", e.valid_up_to())))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let xml = XmlDocument::parse(text).map_err(|e| parse_error(e.to_string()))?;
    let records = xml.select(records).map_err(|e| parse_error(format!("paging.records: {e}")))?;
    mapper.map_document(&records, &doc.url, &doc.bytes, cx, staged)
}
