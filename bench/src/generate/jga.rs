//! The JGA XML export (`jga-dataset.xml` in the fixtures) of the controlled datasets: the same
//! accessions NBDC lists, so the hub merges the two into one record.

use super::{ASSAYS, Synthetic, xml_escape};

pub const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DATASETS>\n";
pub const TAIL: &str = "\n</DATASETS>\n";

pub fn record(d: &Synthetic) -> String {
    let dataset_type = ASSAYS[d.assay].3;
    format!(
        "<DATASET alias=\"GEN_{acc}\" center_name=\"Individual\" accession=\"{acc}\">\n  \
         <IDENTIFIERS><SECONDARY_ID>JGAD{index:011}</SECONDARY_ID></IDENTIFIERS>\n  \
         <TITLE>{title}</TITLE>\n  <DESCRIPTION>{description}</DESCRIPTION>\n  \
         <DATASET_TYPE>{dataset_type}</DATASET_TYPE>\n  \
         <POLICY_REF refname=\"JGAP000001\" refcenter=\"nbdc\" accession=\"JGAP000001\"/>\n</DATASET>",
        acc = d.accession,
        index = d.index,
        title = xml_escape(&d.title_en),
        description = xml_escape(&format!("{} {}", d.description_en, d.description_ja)),
    )
}
