//! The demo: real public records from NBDC, JGA, DDBJ, EGA, GA4GH Data Connect, a FAIR Data Point,
//! HealthDCAT-AP and TogoID, built into the binary so that `musubi serve --demo` needs nothing else.
//!
//! The files are written into `<data>/demo/` (fixtures, mappings, and the manifests under
//! `sources/`), then harvested like any partner's source: the demo takes the same path as
//! production, only the endpoints are local files.

use std::path::{Path, PathBuf};

/// (path under `<data>/demo/`, content).
const FILES: &[(&str, &[u8])] = &[
    ("fixtures/data-connect/search_1kgenomes_filter_populationcode.json", include_bytes!("../../tests/fixtures/data-connect/search_1kgenomes_filter_populationcode.json")),
    ("fixtures/data-connect/table_info_one_thousand_genomes_sample.json", include_bytes!("../../tests/fixtures/data-connect/table_info_one_thousand_genomes_sample.json")),
    ("fixtures/ddbj/bioproject-jsonld/PRJNA13193.jsonld", include_bytes!("../../tests/fixtures/ddbj/bioproject-jsonld/PRJNA13193.jsonld")),
    ("fixtures/ega/json/DAC_valid-1.json", include_bytes!("../../tests/fixtures/ega/json/DAC_valid-1.json")),
    ("fixtures/ega/json/dataset_valid-1.json", include_bytes!("../../tests/fixtures/ega/json/dataset_valid-1.json")),
    ("fixtures/ega/json/policy_valid-1.json", include_bytes!("../../tests/fixtures/ega/json/policy_valid-1.json")),
    ("fixtures/jga/dac.date.csv", include_bytes!("../../tests/fixtures/jga/dac.date.csv")),
    ("fixtures/jga/dataset.date.csv", include_bytes!("../../tests/fixtures/jga/dataset.date.csv")),
    ("fixtures/jga/jga-dac.xml", include_bytes!("../../tests/fixtures/jga/jga-dac.xml")),
    ("fixtures/jga/jga-dataset.xml", include_bytes!("../../tests/fixtures/jga/jga-dataset.xml")),
    ("fixtures/jga/jga-policy.xml", include_bytes!("../../tests/fixtures/jga/jga-policy.xml")),
    ("fixtures/jga/jga-study.xml", include_bytes!("../../tests/fixtures/jga/jga-study.xml")),
    ("fixtures/jga/policy.date.csv", include_bytes!("../../tests/fixtures/jga/policy.date.csv")),
    ("fixtures/jga/study.date.csv", include_bytes!("../../tests/fixtures/jga/study.date.csv")),
    ("fixtures/jga/dataset-policy-relation.csv", include_bytes!("../../tests/fixtures/jga/dataset-policy-relation.csv")),
    ("fixtures/jga/policy-dac-relation.csv", include_bytes!("../../tests/fixtures/jga/policy-dac-relation.csv")),
    ("fixtures/fair-data-point/comparative-genomics-catalog.ttl", include_bytes!("../../tests/fixtures/fair-data-point/comparative-genomics-catalog.ttl")),
    ("fixtures/fair-data-point/disgenet-html-page.ttl", include_bytes!("../../tests/fixtures/fair-data-point/disgenet-html-page.ttl")),
    ("fixtures/fair-data-point/disgenet-nanopubs-gzip.ttl", include_bytes!("../../tests/fixtures/fair-data-point/disgenet-nanopubs-gzip.ttl")),
    ("fixtures/fair-data-point/disgenet-textfile-gzip.ttl", include_bytes!("../../tests/fixtures/fair-data-point/disgenet-textfile-gzip.ttl")),
    ("fixtures/fair-data-point/disgenet.ttl", include_bytes!("../../tests/fixtures/fair-data-point/disgenet.ttl")),
    ("fixtures/fair-data-point/dtl-fdp.ttl", include_bytes!("../../tests/fixtures/fair-data-point/dtl-fdp.ttl")),
    ("fixtures/fair-data-point/goNlSvR5-dataset.ttl", include_bytes!("../../tests/fixtures/fair-data-point/goNlSvR5-dataset.ttl")),
    ("fixtures/fair-data-point/goNlSvR5-html.ttl", include_bytes!("../../tests/fixtures/fair-data-point/goNlSvR5-html.ttl")),
    ("fixtures/fair-data-point/goNlSvR5-textfile-gzip.ttl", include_bytes!("../../tests/fixtures/fair-data-point/goNlSvR5-textfile-gzip.ttl")),
    ("fixtures/fair-data-point/textmining-catalog.ttl", include_bytes!("../../tests/fixtures/fair-data-point/textmining-catalog.ttl")),
    ("fixtures/healthdcat-ap/dataset_health.ttl", include_bytes!("../../tests/fixtures/healthdcat-ap/dataset_health.ttl")),
    ("fixtures/healthdcat-ap/dataset_health_multilingual.ttl", include_bytes!("../../tests/fixtures/healthdcat-ap/dataset_health_multilingual.ttl")),
    ("fixtures/humandbs/dataset/DRA000908-v1.json", include_bytes!("../../tests/fixtures/humandbs/dataset/DRA000908-v1.json")),
    ("fixtures/humandbs/dataset/JGAD000001-v1.json", include_bytes!("../../tests/fixtures/humandbs/dataset/JGAD000001-v1.json")),
    ("fixtures/humandbs/dataset/JGAD000002-v1.json", include_bytes!("../../tests/fixtures/humandbs/dataset/JGAD000002-v1.json")),
    ("fixtures/humandbs/research-version/hum0001-v1.json", include_bytes!("../../tests/fixtures/humandbs/research-version/hum0001-v1.json")),
    ("fixtures/humandbs/research-version/hum0005-v1.json", include_bytes!("../../tests/fixtures/humandbs/research-version/hum0005-v1.json")),
    ("fixtures/humandbs/research-version/hum0014-v1.json", include_bytes!("../../tests/fixtures/humandbs/research-version/hum0014-v1.json")),
    ("fixtures/humandbs/research/hum0001.json", include_bytes!("../../tests/fixtures/humandbs/research/hum0001.json")),
    ("fixtures/humandbs/research/hum0014.json", include_bytes!("../../tests/fixtures/humandbs/research/hum0014.json")),
    ("mappings/data-connect-1000genomes.rml.ttl", include_bytes!("../../connectors/mappings/data-connect-1000genomes.rml.ttl")),
    ("mappings/ddbj-bioproject.rml.ttl", include_bytes!("../../connectors/mappings/ddbj-bioproject.rml.ttl")),
    ("mappings/ega-dac.rml.ttl", include_bytes!("../../connectors/mappings/ega-dac.rml.ttl")),
    ("mappings/ega-dataset.rml.ttl", include_bytes!("../../connectors/mappings/ega-dataset.rml.ttl")),
    ("mappings/ega-policy.rml.ttl", include_bytes!("../../connectors/mappings/ega-policy.rml.ttl")),
    ("mappings/biosample.rq", include_bytes!("../../connectors/mappings/biosample.rq")),
    ("mappings/ega.rq", include_bytes!("../../connectors/mappings/ega.rq")),
    ("mappings/humandbs-dataset.rml.ttl", include_bytes!("../../connectors/mappings/humandbs-dataset.rml.ttl")),
    ("mappings/humandbs-research.rml.ttl", include_bytes!("../../connectors/mappings/humandbs-research.rml.ttl")),
    ("mappings/humandbs-research-version.rml.ttl", include_bytes!("../../connectors/mappings/humandbs-research-version.rml.ttl")),
    ("fixtures/togoid/jga_study-jga_dataset.tsv", include_bytes!("../../tests/fixtures/togoid/jga_study-jga_dataset.tsv")),
    ("fixtures/togoid/jga_study-nbdc_human_db.tsv", include_bytes!("../../tests/fixtures/togoid/jga_study-nbdc_human_db.tsv")),
    ("mappings/togoid-jga-study-jga-dataset.rml.ttl", include_bytes!("../../connectors/mappings/togoid-jga-study-jga-dataset.rml.ttl")),
    ("mappings/togoid-jga-study-nbdc-human-db.rml.ttl", include_bytes!("../../connectors/mappings/togoid-jga-study-nbdc-human-db.rml.ttl")),
    ("mappings/jga.rml.ttl", include_bytes!("../../connectors/mappings/jga.rml.ttl")),
    ("mappings/jga-dates.rml.ttl", include_bytes!("../../connectors/mappings/jga-dates.rml.ttl")),
    ("mappings/jga-dataset-policy.rml.ttl", include_bytes!("../../connectors/mappings/jga-dataset-policy.rml.ttl")),
    ("mappings/jga-policy-dac.rml.ttl", include_bytes!("../../connectors/mappings/jga-policy-dac.rml.ttl")),
    ("mappings/dcat.rq", include_bytes!("../../connectors/mappings/dcat.rq")),
    ("fixtures/ddbj/bioproject-xml/PRJNA13193.xml", include_bytes!("../../tests/fixtures/ddbj/bioproject-xml/PRJNA13193.xml")),
    ("fixtures/ddbj/bioproject/ddbj_core_bioproject.xml", include_bytes!("../../tests/fixtures/ddbj/bioproject/ddbj_core_bioproject.xml")),
    ("fixtures/ega/xml/dac.xml", include_bytes!("../../tests/fixtures/ega/xml/dac.xml")),
    ("fixtures/ega/xml/dataset.xml", include_bytes!("../../tests/fixtures/ega/xml/dataset.xml")),
    ("fixtures/ega/xml/policy.xml", include_bytes!("../../tests/fixtures/ega/xml/policy.xml")),
    ("fixtures/ega/xml/study.xml", include_bytes!("../../tests/fixtures/ega/xml/study.xml")),
    ("mappings/ddbj-bioproject-xml.rml.ttl", include_bytes!("../../connectors/mappings/ddbj-bioproject-xml.rml.ttl")),
    ("mappings/ega-dac-xml.rml.ttl", include_bytes!("../../connectors/mappings/ega-dac-xml.rml.ttl")),
    ("mappings/ega-dataset-xml.rml.ttl", include_bytes!("../../connectors/mappings/ega-dataset-xml.rml.ttl")),
    ("mappings/ega-policy-xml.rml.ttl", include_bytes!("../../connectors/mappings/ega-policy-xml.rml.ttl")),
    ("mappings/ega-study-xml.rml.ttl", include_bytes!("../../connectors/mappings/ega-study-xml.rml.ttl")),
    ("sources/ddbj-bioproject-xml.toml", include_bytes!("../../gateway/demo/ddbj-bioproject-xml.toml")),
    ("sources/ega-dacs-xml.toml", include_bytes!("../../gateway/demo/ega-dacs-xml.toml")),
    ("sources/ega-datasets-xml.toml", include_bytes!("../../gateway/demo/ega-datasets-xml.toml")),
    ("sources/ega-policies-xml.toml", include_bytes!("../../gateway/demo/ega-policies-xml.toml")),
    ("sources/ega-studies-xml.toml", include_bytes!("../../gateway/demo/ega-studies-xml.toml")),
    ("fixtures/ddbj/biosample/ddbj_biosample_set.xml", include_bytes!("../../tests/fixtures/ddbj/biosample/ddbj_biosample_set.xml")),
    ("fixtures/ddbj/biosample-jsonld/SAMN19993849.jsonld", include_bytes!("../../tests/fixtures/ddbj/biosample-jsonld/SAMN19993849.jsonld")),
    ("mappings/ddbj-biosample-xml.rml.ttl", include_bytes!("../../connectors/mappings/ddbj-biosample-xml.rml.ttl")),
    ("mappings/ddbj-biosample.rml.ttl", include_bytes!("../../connectors/mappings/ddbj-biosample.rml.ttl")),
    ("sources/ddbj-biosample-xml.toml", include_bytes!("../../gateway/demo/ddbj-biosample-xml.toml")),
    ("sources/ddbj-biosample.toml", include_bytes!("../../gateway/demo/ddbj-biosample.toml")),
    ("sources/data-connect.toml", include_bytes!("../demo/data-connect.toml")),
    ("sources/ddbj-bioproject.toml", include_bytes!("../demo/ddbj-bioproject.toml")),
    ("sources/ega-dacs.toml", include_bytes!("../demo/ega-dacs.toml")),
    ("sources/ega-datasets.toml", include_bytes!("../demo/ega-datasets.toml")),
    ("sources/ega-policies.toml", include_bytes!("../demo/ega-policies.toml")),
    ("sources/fair-data-point.toml", include_bytes!("../demo/fair-data-point.toml")),
    ("sources/healthdcat-ap.toml", include_bytes!("../demo/healthdcat-ap.toml")),
    ("sources/jga.toml", include_bytes!("../demo/jga.toml")),
    ("sources/jga-dates.toml", include_bytes!("../demo/jga-dates.toml")),
    ("sources/jga-dataset-policy.toml", include_bytes!("../demo/jga-dataset-policy.toml")),
    ("sources/jga-policy-dac.toml", include_bytes!("../demo/jga-policy-dac.toml")),
    ("sources/nbdc-datasets.toml", include_bytes!("../demo/nbdc-datasets.toml")),
    ("sources/nbdc-research-versions.toml", include_bytes!("../demo/nbdc-research-versions.toml")),
    ("sources/nbdc-research.toml", include_bytes!("../demo/nbdc-research.toml")),
    ("sources/togoid-jga-datasets.toml", include_bytes!("../demo/togoid-jga-datasets.toml")),
    ("sources/togoid-jga-nbdc.toml", include_bytes!("../demo/togoid-jga-nbdc.toml")),
];

/// A bundled file by its path under `<data>/demo/` (e.g. `mappings/jga.rml.ttl`).
pub fn file(path: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|(p, _)| *p == path).map(|(_, content)| *content)
}

/// Writes the demo's files under `data/demo/` and returns the manifest folder.
pub fn install(data: &Path) -> std::io::Result<PathBuf> {
    let root = data.join("demo");
    for (path, content) in FILES {
        let target = root.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, content)?;
    }
    Ok(root.join("sources"))
}
