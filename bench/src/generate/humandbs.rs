//! NBDC Human Database dataset records, shaped like humandbs's own JSON (the fixtures'
//! `humandbs/dataset/*.json`): bilingual experiment fields, the `searchable` summary and the
//! archive's original metadata.

use serde_json::json;

use super::{ASSAYS, ORGANISATIONS, PLATFORMS, Synthetic};

/// One dataset as a JSON object (one line, for a page file).
pub fn record(d: &Synthetic) -> String {
    let (assay, assay_ja, assay_en, dataset_type, _) = ASSAYS[d.assay];
    let (vendor, model, _) = PLATFORMS[d.platform];
    let (_, org_en) = ORGANISATIONS[d.organisation];
    let bilingual = |ja: &str, en: &str| json!({ "ja": { "text": ja }, "en": { "text": en } });
    let policy = if d.controlled {
        json!({ "id": "nbdc-policy", "name": { "ja": "NBDC policy", "en": "NBDC policy" }, "url": "https://humandbs.dbcls.jp/nbdc-policy" })
    } else {
        json!({ "id": "open-policy", "name": { "ja": "非制限公開", "en": "Unrestricted access" }, "url": "https://humandbs.dbcls.jp/en/data-use/unrestricted" })
    };
    let mut original = json!({
        "accession": d.accession,
        "center_name": if d.controlled { "Individual" } else { "NIG" },
        "alias": format!("GEN_{}", d.accession),
        "TITLE": d.title_en,
        "DESCRIPTION": d.description_en,
        "DATASET_TYPE": dataset_type,
        "lab_name": org_en,
    });
    if d.controlled {
        original["POLICY_REF"] = json!({ "refname": "JGAP000001", "refcenter": "NBDC", "accession": "JGAP000001" });
    }
    let record = json!({
        "datasetId": d.accession,
        "version": "v1",
        "versionReleaseDate": d.release,
        "humId": d.study,
        "humVersionId": format!("{}-v1", d.study),
        "releaseDate": d.release,
        "criteria": d.criteria,
        "typeOfData": { "ja": format!("{assay_ja} ({})", d.disease.ja), "en": format!("{assay_en} ({})", d.disease.en) },
        "experiments": [{
            "header": bilingual(&d.title_ja, &d.title_en),
            "data": {
                "Materials and Participants": bilingual(
                    &format!("{}患者 {}名 ({})", d.disease.ja, d.subjects, d.tissue),
                    &format!("{} {} patients ({})", d.subjects, d.disease.en, d.tissue)),
                "Experimental Method": bilingual(assay_ja, assay),
                "Platform": bilingual(&format!("{vendor} [{model}]"), &format!("{vendor} [{model}]")),
                "Sample Description": bilingual(&d.description_ja, &d.description_en),
                "Total Data Volume": bilingual(&format!("{} GB", d.volume_gb), &format!("{} GB", d.volume_gb)),
            },
            "searchable": {
                "subjectCount": d.subjects,
                "subjectCountType": "individual",
                "healthStatus": "affected",
                "diseases": [{ "label": d.disease.en, "icd10": d.disease.icd10 }],
                "tissues": [d.tissue],
                "isTumor": if d.tissue == "tumor tissue" { "tumor" } else { "normal" },
                "assayType": [assay],
                "platforms": [{ "vendor": vendor, "model": model }],
                "referenceGenome": [d.genome],
                "dataVolumeGb": d.volume_gb,
                "policies": [policy],
            },
        }],
        "originalMetadata": original,
    });
    record.to_string()
}
