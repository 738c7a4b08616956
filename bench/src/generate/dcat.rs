//! A HealthDCAT-AP portal's catalogue in Turtle (as the fixtures' `healthdcat-ap/*.ttl`): each
//! dataset with bilingual title and description, keywords, its disease as a MONDO theme, the
//! number of individuals and its access rights.

use super::{ASSAYS, ORGANISATIONS, Synthetic};

pub const HEAD: &str = "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n\
@prefix dct: <http://purl.org/dc/terms/> .\n\
@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n\
@prefix health: <http://healthdataportal.eu/ns/health#> .\n\
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n\
@prefix obo: <http://purl.obolibrary.org/obo/> .\n\n";

/// A Turtle string literal.
fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn record(d: &Synthetic) -> String {
    let (assay, assay_ja, assay_en, _, _) = ASSAYS[d.assay];
    let rights = if d.controlled { "RESTRICTED" } else { "PUBLIC" };
    format!(
        "<https://catalog.example.jp/dataset/{acc}> a dcat:Dataset ;\n  \
         dct:identifier {id} ;\n  dct:title {tja}@ja , {ten}@en ;\n  \
         dct:description {dja}@ja , {den}@en ;\n  \
         dcat:keyword {kja}@ja , {ken}@en , {assay} , {dis_en}@en , {dis_ja}@ja ;\n  \
         dcat:theme obo:{mondo} ;\n  health:healthTheme obo:{mondo} ;\n  \
         dct:issued \"{release}\"^^xsd:date ;\n  \
         health:numberOfUniqueIndividuals \"{subjects}\"^^xsd:nonNegativeInteger ;\n  \
         dct:publisher <https://catalog.example.jp/organisation/{org_id}> ;\n  \
         dct:accessRights <http://publications.europa.eu/resource/authority/access-right/{rights}> .\n\
         <https://catalog.example.jp/organisation/{org_id}> a foaf:Agent ; foaf:name {org} .\n",
        acc = d.accession,
        id = lit(&d.accession),
        tja = lit(&d.title_ja),
        ten = lit(&d.title_en),
        dja = lit(&d.description_ja),
        den = lit(&d.description_en),
        kja = lit(assay_ja),
        ken = lit(assay_en),
        assay = lit(assay),
        dis_en = lit(d.disease.en),
        dis_ja = lit(d.disease.ja),
        mondo = d.disease.mondo,
        release = d.release,
        subjects = d.subjects,
        org = lit(ORGANISATIONS[d.organisation].1),
        org_id = d.organisation,
    )
}
