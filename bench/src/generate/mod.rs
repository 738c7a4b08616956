//! `musubi-bench gen`: realistic partner payloads at national-database scale, for benchmarks and
//! load tests.
//!
//! One synthetic catalogue of N datasets is written in the formats real partners publish, so a
//! harvest of it takes the production path (the shipped mappings, the same kinds):
//! - `humandbs/` — NBDC Human Database dataset records as JSON (`humandbs.rs`), every dataset
//!   that NBDC would list (controlled JGA datasets and unrestricted DRA ones);
//! - `jga/` — the JGA XML export of the controlled datasets (`jga.rs`), the same JGAD accessions,
//!   so the hub merges two sources into one record as it does for the real fixtures;
//! - `dcat/` — a tenth of the catalogue as DCAT Turtle from a HealthDCAT-AP portal (`dcat.rs`),
//!   with MONDO disease themes;
//! - `mappings/` and `sources/*.toml`: manifests that harvest the three with the shipped
//!   mappings: `musubi --data D --sources DIR/sources harvest`.
//!
//! Deterministic: dataset `i` is drawn from its own generator seeded by (seed, i), so a catalogue
//! is the same whatever the chunking, and memory stays flat at any N (records are written as they
//! are drawn). Distributions follow the fixtures: diseases are the ones NBDC's Biobank Japan record
//! names (Zipf-weighted), assays, platforms and tissues come from NBDC's searchable fields, sizes
//! and subject counts are log-normal, releases grow year on year; the Japanese and English text
//! is drawn from Markov chains learned from the fixtures' own titles, summaries and methods.

mod corpus;
mod dcat;
mod humandbs;
mod jga;

use std::io::Write;
use std::path::{Path, PathBuf};

pub use corpus::Corpus;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub datasets: u64,
    pub out: PathBuf,
    pub seed: u64,
}

/// What was written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GenSummary {
    pub humandbs_records: u64,
    pub jga_records: u64,
    pub dcat_records: u64,
    pub files: u64,
    pub bytes: u64,
}

/// Records per humandbs JSON file (a page, as the partner's API would serve it).
const HUMANDBS_PAGE: u64 = 1_000;
/// Records per JGA XML or DCAT Turtle file.
const DUMP_CHUNK: u64 = 10_000;

/// SplitMix64: small, fast and fixed forever (a crate's generator may change its stream between
/// versions, and a seed must give the same catalogue next year).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The generator of record `i` of the catalogue of `seed`.
    pub fn for_record(seed: u64, i: u64) -> Rng {
        let mut r = Rng(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// A log-normal draw with the given median and spread (sigma of the log).
    pub fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        // Box–Muller.
        let (u1, u2) = (self.unit().max(f64::MIN_POSITIVE), self.unit());
        let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        median * (sigma * normal).exp()
    }

    /// An index drawn with the given weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// An index of a Zipf-like distribution over `n` items (rank r has weight 1/r).
    pub fn zipf(&mut self, n: usize) -> usize {
        let weights: Vec<f64> = (1..=n).map(|r| 1.0 / r as f64).collect();
        self.weighted(&weights)
    }
}

/// A disease as NBDC and Biobank Japan name them, with its ICD-10 code and MONDO term.
#[derive(Debug, Clone, Copy)]
pub struct Disease {
    pub ja: &'static str,
    pub en: &'static str,
    pub icd10: &'static str,
    pub mondo: &'static str,
}

/// The diseases of hum0014 (Biobank Japan)'s methods, most studied first, plus the MONDO fixture's
/// term (whose parent MONDO:0000624 then finds it).
pub const DISEASES: &[Disease] = &[
    Disease { ja: "２型糖尿病", en: "type 2 diabetes mellitus", icd10: "E11", mondo: "MONDO_0005148" },
    Disease { ja: "乳がん", en: "breast cancer", icd10: "C50", mondo: "MONDO_0007254" },
    Disease { ja: "大腸がん", en: "colorectal cancer", icd10: "C18", mondo: "MONDO_0005575" },
    Disease { ja: "胃がん", en: "gastric cancer", icd10: "C16", mondo: "MONDO_0001056" },
    Disease { ja: "心筋梗塞", en: "myocardial infarction", icd10: "I21", mondo: "MONDO_0005068" },
    Disease { ja: "肺腺がん", en: "lung adenocarcinoma", icd10: "C34", mondo: "MONDO_0005061" },
    Disease { ja: "前立腺がん", en: "prostate cancer", icd10: "C61", mondo: "MONDO_0008315" },
    Disease { ja: "心房細動", en: "atrial fibrillation", icd10: "I48", mondo: "MONDO_0004981" },
    Disease { ja: "心不全", en: "heart failure", icd10: "I50", mondo: "MONDO_0005252" },
    Disease { ja: "脳梗塞", en: "stroke", icd10: "I63", mondo: "MONDO_0005098" },
    Disease { ja: "アトピー性皮膚炎", en: "atopic dermatitis", icd10: "L20", mondo: "MONDO_0004980" },
    Disease { ja: "膵がん", en: "pancreatic cancer", icd10: "C25", mondo: "MONDO_0009831" },
    Disease { ja: "腎がん", en: "kidney cancer", icd10: "C64", mondo: "MONDO_0002367" },
    Disease { ja: "リンパ腫", en: "lymphoma", icd10: "C85", mondo: "MONDO_0005062" },
    Disease { ja: "認知症", en: "dementia", icd10: "F03", mondo: "MONDO_0001627" },
    Disease { ja: "緑内障", en: "glaucoma", icd10: "H40", mondo: "MONDO_0005041" },
    Disease { ja: "早発型小脳失調症", en: "early-onset cerebellar ataxia", icd10: "G111", mondo: "MONDO_0000437" },
    Disease { ja: "卵管良性腫瘍", en: "fallopian tube benign neoplasm", icd10: "D282", mondo: "MONDO_0000645" },
];

/// (assay as NBDC's `assayType`, Japanese, English, JGA's DATASET_TYPE, weight).
pub const ASSAYS: &[(&str, &str, &str, &str, f64)] = &[
    ("SNP array", "SNPアレイ", "SNP array genotyping", "Genotyping by array", 30.0),
    ("WGS", "全ゲノムシークエンス", "whole genome sequencing", "Whole genome shotgun sequencing", 20.0),
    ("WES", "エキソーム解析", "whole-exome sequencing", "Random exome sequencing", 18.0),
    ("Target Capture", "ターゲットキャプチャー解析", "target capture sequencing", "Targeted sequencing", 12.0),
    ("RNA-seq", "RNAシークエンス", "RNA sequencing", "Transcriptome sequencing", 10.0),
    ("Methylation array", "メチル化アレイ", "DNA methylation array", "Methylation profiling by array", 5.0),
    ("scRNA-seq", "シングルセルRNAシークエンス", "single-cell RNA sequencing", "Single cell transcriptome sequencing", 5.0),
];

/// (vendor, model, assays it serves) — the platforms NBDC and JGA records name.
pub const PLATFORMS: &[(&str, &str, &[&str])] = &[
    ("Illumina", "HumanOmniExpress-12 BeadChip", &["SNP array"]),
    ("Illumina", "Human610-Quad BeadChip", &["SNP array"]),
    ("Thermo Fisher Scientific", "Axiom Japonica Array", &["SNP array"]),
    ("Illumina", "HiSeq 2000", &["WGS", "WES", "Target Capture", "RNA-seq"]),
    ("Illumina", "HiSeq 2500", &["WGS", "WES", "Target Capture", "RNA-seq"]),
    ("Illumina", "HiSeq X Five", &["WGS"]),
    ("Illumina", "NovaSeq 6000", &["WGS", "WES", "RNA-seq", "scRNA-seq", "Target Capture"]),
    ("Illumina", "MiSeq", &["Target Capture"]),
    ("MGI", "DNBSEQ-G400", &["WGS", "WES"]),
    ("Illumina", "Infinium MethylationEPIC BeadChip", &["Methylation array"]),
    ("10x Genomics", "Chromium", &["scRNA-seq"]),
];

pub const TISSUES: &[&str] = &["peripheral blood", "tumor tissue", "normal tissue", "saliva", "cell line", "plasma"];

pub const GENOMES: &[(&str, f64)] = &[("GRCh37", 45.0), ("GRCh38", 45.0), ("T2T-CHM13", 5.0), ("hg19", 5.0)];

/// Institutions that submit to NBDC and JGA (Japanese, English).
pub const ORGANISATIONS: &[(&str, &str)] = &[
    ("理化学研究所 生命医科学研究センター", "RIKEN Center for Integrative Medical Sciences"),
    ("東京大学医科学研究所", "The Institute of Medical Science, The University of Tokyo"),
    ("国立がん研究センター", "National Cancer Center Japan"),
    ("東北大学 東北メディカル・メガバンク機構", "Tohoku Medical Megabank Organization, Tohoku University"),
    ("京都大学大学院医学研究科", "Graduate School of Medicine, Kyoto University"),
    ("大阪大学大学院医学系研究科", "Graduate School of Medicine, Osaka University"),
    ("国立遺伝学研究所", "National Institute of Genetics"),
    ("慶應義塾大学医学部", "Keio University School of Medicine"),
    ("国立成育医療研究センター", "National Center for Child Health and Development"),
    ("九州大学大学院医学研究院", "Graduate School of Medical Sciences, Kyushu University"),
];

/// One synthetic dataset: what every format writer renders.
#[derive(Debug, Clone)]
pub struct Synthetic {
    pub index: u64,
    /// JGAD… for controlled data, DRA… for unrestricted NBDC data, or a portal's own id.
    pub accession: String,
    pub study: String,
    pub controlled: bool,
    pub criteria: &'static str,
    pub disease: Disease,
    pub assay: usize,
    pub platform: usize,
    pub tissue: &'static str,
    pub genome: &'static str,
    pub subjects: u64,
    pub volume_gb: f64,
    pub release: String,
    pub organisation: usize,
    pub title_ja: String,
    pub title_en: String,
    pub description_ja: String,
    pub description_en: String,
    /// DUO codes of its policy (GRU, HMB, DS, … as DUO ids).
    pub duo: Vec<&'static str>,
}

/// Which partner publishes dataset `i`: a tenth come from a DCAT portal, the rest from NBDC.
pub fn from_dcat_portal(i: u64) -> bool {
    i % 10 == 9
}

/// Draws dataset `i` of the catalogue of `seed`.
pub fn draw(seed: u64, i: u64, corpus: &Corpus) -> Synthetic {
    let mut r = Rng::for_record(seed, i);
    let disease = DISEASES[r.zipf(DISEASES.len())];
    let assay = r.weighted(&ASSAYS.iter().map(|a| a.4).collect::<Vec<_>>());
    let fitting: Vec<usize> = (0..PLATFORMS.len()).filter(|p| PLATFORMS[*p].2.contains(&ASSAYS[assay].0)).collect();
    let platform = fitting[r.below(fitting.len())];
    // Arrays cover many people, sequencing fewer: medians from NBDC's records (97 exomes, 1,026
    // genomes, 269,000 genotyped).
    let median = match ASSAYS[assay].0 {
        "SNP array" => 2_000.0,
        "WGS" => 300.0,
        "scRNA-seq" => 20.0,
        _ => 100.0,
    };
    let subjects = r.log_normal(median, 1.3).clamp(1.0, 300_000.0) as u64;
    let per_subject_gb = match ASSAYS[assay].0 {
        "WGS" => 100.0,
        "WES" => 8.0,
        "RNA-seq" | "scRNA-seq" => 5.0,
        "Target Capture" => 1.0,
        _ => 0.05,
    };
    let volume_gb = (subjects as f64 * per_subject_gb * r.log_normal(1.0, 0.4) * 100.0).round() / 100.0;
    // Releases grow year on year (weight ∝ years since 2007), 2008–2026.
    let years: Vec<f64> = (2008..=2026).map(|y| (y - 2007) as f64).collect();
    let year = 2008 + r.weighted(&years);
    let release = format!("{year}-{:02}-{:02}", 1 + r.below(12), 1 + r.below(28));
    let controlled = r.unit() < 0.75;
    let criteria = if !controlled {
        "Unrestricted-access"
    } else if r.unit() < 0.9 {
        "Controlled-access (Type I)"
    } else {
        "Controlled-access (Type II)"
    };
    let accession = if from_dcat_portal(i) {
        format!("MSBD{:07}", i)
    } else if controlled {
        format!("JGAD{:06}", 100_000 + i)
    } else {
        format!("DRA{:06}", 100_000 + i)
    };
    let study = format!("hum{:04}", 1_000 + i / 4);
    let tissue = if ASSAYS[assay].0 == "scRNA-seq" { "cell line" } else { TISSUES[r.zipf(TISSUES.len())] };
    let genome = GENOMES[r.weighted(&GENOMES.iter().map(|g| g.1).collect::<Vec<_>>())].0;
    let organisation = r.zipf(ORGANISATIONS.len());
    let (_, assay_ja, assay_en, _, _) = ASSAYS[assay];
    let (title_ja, title_en) = match r.below(3) {
        0 => (
            format!("日本人{}患者{}名の{}データ", disease.ja, subjects, assay_ja),
            format!("{assay_en} data from {subjects} Japanese {} patients", disease.en),
        ),
        1 => (
            format!("{}の{}による関連解析", disease.ja, assay_ja),
            format!("Association study of {} by {assay_en}", disease.en),
        ),
        _ => (
            format!("{}{}検体の{}", disease.ja, subjects, assay_ja),
            format!("{} of {subjects} {} samples", capitalise(assay_en), disease.en),
        ),
    };
    let description_ja = format!("{}{}", corpus.japanese_sentence(&mut r), corpus.japanese_sentence(&mut r));
    let description_en = format!("{} {}", corpus.english_sentence(&mut r), corpus.english_sentence(&mut r));
    let duo = match r.weighted(&[40.0, 30.0, 20.0, 10.0]) {
        0 => vec!["DUO:0000042"],                // GRU
        1 => vec!["DUO:0000006"],                // HMB
        2 => vec!["DUO:0000007", "DUO:0000046"], // DS + NCU
        _ => vec!["DUO:0000006", "DUO:0000019"], // HMB + PUB
    };
    Synthetic {
        index: i,
        accession,
        study,
        controlled,
        criteria,
        disease,
        assay,
        platform,
        tissue,
        genome,
        subjects,
        volume_gb,
        release,
        organisation,
        title_ja,
        title_en,
        description_ja,
        description_en,
        duo,
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// A file of records being written, rolled over every `chunk` records.
struct Chunked {
    dir: PathBuf,
    prefix: &'static str,
    ext: &'static str,
    chunk: u64,
    head: &'static str,
    tail: &'static str,
    separator: &'static str,
    file: Option<std::io::BufWriter<std::fs::File>>,
    in_file: u64,
    files: u64,
    bytes: u64,
    records: u64,
}

impl Chunked {
    fn new(dir: PathBuf, prefix: &'static str, ext: &'static str, chunk: u64, head: &'static str, tail: &'static str, separator: &'static str) -> Chunked {
        Chunked { dir, prefix, ext, chunk, head, tail, separator, file: None, in_file: 0, files: 0, bytes: 0, records: 0 }
    }

    fn write(&mut self, record: &str) -> std::io::Result<()> {
        if self.file.is_none() {
            let path = self.dir.join(format!("{}-{:05}.{}", self.prefix, self.files + 1, self.ext));
            let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
            file.write_all(self.head.as_bytes())?;
            self.bytes += self.head.len() as u64;
            self.file = Some(file);
            self.files += 1;
        }
        let file = self.file.as_mut().expect("opened above");
        if self.in_file > 0 {
            file.write_all(self.separator.as_bytes())?;
            self.bytes += self.separator.len() as u64;
        }
        file.write_all(record.as_bytes())?;
        self.bytes += record.len() as u64;
        self.in_file += 1;
        self.records += 1;
        if self.in_file == self.chunk {
            self.close()?;
        }
        Ok(())
    }

    fn close(&mut self) -> std::io::Result<()> {
        if let Some(mut file) = self.file.take() {
            file.write_all(self.tail.as_bytes())?;
            self.bytes += self.tail.len() as u64;
            file.flush()?;
        }
        self.in_file = 0;
        Ok(())
    }
}

/// Writes the catalogue, its manifests and the mappings they name into `options.out`.
/// `progress` is told how many datasets are done, now and then.
pub fn generate(options: &GenOptions, mut progress: impl FnMut(u64)) -> std::io::Result<GenSummary> {
    let out = &options.out;
    for dir in ["humandbs", "jga", "dcat", "mappings", "sources"] {
        let dir = out.join(dir);
        // A second run must not leave the first run's extra chunks behind.
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(dir)?;
    }
    let corpus = Corpus::learn();
    let mut nbdc = Chunked::new(out.join("humandbs"), "datasets", "json", HUMANDBS_PAGE, "[\n", "\n]\n", ",\n");
    let mut jga = Chunked::new(out.join("jga"), "jga-dataset", "xml", DUMP_CHUNK, jga::HEAD, jga::TAIL, "\n");
    let mut dcat = Chunked::new(out.join("dcat"), "catalog", "ttl", DUMP_CHUNK, dcat::HEAD, "", "\n");
    for i in 0..options.datasets {
        let d = draw(options.seed, i, &corpus);
        if from_dcat_portal(i) {
            dcat.write(&dcat::record(&d))?;
        } else {
            nbdc.write(&humandbs::record(&d))?;
            if d.controlled {
                jga.write(&jga::record(&d))?;
            }
        }
        if (i + 1) % 10_000 == 0 {
            progress(i + 1);
        }
    }
    for chunked in [&mut nbdc, &mut jga, &mut dcat] {
        chunked.close()?;
    }
    let mut summary = GenSummary {
        humandbs_records: nbdc.records,
        jga_records: jga.records,
        dcat_records: dcat.records,
        files: nbdc.files + jga.files + dcat.files,
        bytes: nbdc.bytes + jga.bytes + dcat.bytes,
    };
    for (name, content) in manifests(&summary) {
        write_file(&out.join(name), content.as_bytes(), &mut summary)?;
    }
    for mapping in ["humandbs-dataset.rml.ttl", "jga.rml.ttl", "dcat.rq"] {
        let path = format!("mappings/{mapping}");
        let bytes = musubi_gateway::demo::file(&path).expect("the generator's mappings are bundled with the demo");
        write_file(&out.join(path), bytes, &mut summary)?;
    }
    Ok(summary)
}

fn write_file(path: &Path, bytes: &[u8], summary: &mut GenSummary) -> std::io::Result<()> {
    std::fs::write(path, bytes)?;
    summary.files += 1;
    summary.bytes += bytes.len() as u64;
    Ok(())
}

/// The manifests that harvest what was written, with the shipped mappings. A source with no
/// records (small N) gets no manifest: a harvest of nothing is refused, rightly.
fn manifests(summary: &GenSummary) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if summary.humandbs_records > 0 {
        out.push((
            "sources/gen-nbdc-datasets.toml",
            "# Generated by `musubi gen`: NBDC Human Database dataset records (JSON pages).\n\
             id = \"gen-nbdc-datasets\"\nname = \"Generated: NBDC datasets\"\nkind = \"json-api\"\n\
             endpoint = \"../humandbs\"\nmapping = \"../mappings/humandbs-dataset.rml.ttl\"\n\n\
             [paging]\nrecords = \"$[*]\"\n\n[record]\nid = \"datasetId\"\nurl = \"https://humandbs.dbcls.jp/en/{humVersionId}\"\n\n\
             [check]\nignore = [\n  \
             { field = \"originalMetadata.accession\", reason = \"the dataset's own accession (datasetId)\" },\n  \
             { field = \"originalMetadata.POLICY_REF.refname\", reason = \"the archive's alias of the policy; its accession is mapped\" },\n  \
             { field = \"originalMetadata.POLICY_REF.refcenter\", reason = \"the centre that holds the policy (NBDC)\" },\n]\n"
                .to_owned(),
        ));
    }
    if summary.jga_records > 0 {
        out.push((
            "sources/gen-jga.toml",
            "# Generated by `musubi gen`: the JGA XML export of the controlled datasets.\n\
             id = \"gen-jga\"\nname = \"Generated: JGA datasets (XML)\"\nkind = \"xml\"\n\
             endpoint = \"../jga\"\nmapping = \"../mappings/jga.rml.ttl\"\n\n\
             [paging]\nrecords = \"/DATASETS/DATASET\"\n\n[record]\nid = \"@accession\"\n"
                .to_owned(),
        ));
    }
    if summary.dcat_records > 0 {
        out.push((
            "sources/gen-dcat.toml",
            "# Generated by `musubi gen`: a HealthDCAT-AP portal's catalogue (Turtle).\n\
             id = \"gen-dcat\"\nname = \"Generated: DCAT portal\"\nkind = \"rdf-dump\"\n\
             endpoint = \"../dcat\"\nconstruct = [\"../mappings/dcat.rq\"]\n\n\
             [check]\nignore = [\n  \
             { field = \"http://healthdataportal.eu/ns/health#numberOfUniqueIndividuals\", reason = \"dcat.rq brings it into musubi:subjectCount\" },\n  \
             { field = \"http://purl.org/dc/terms/accessRights\", reason = \"dcat.rq brings it into sourceAccessLevel, normalised into accessLevel\" },\n]\n"
                .to_owned(),
        ));
    }
    out
}

/// Escapes text for XML content and attributes.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_catalogue_other_seed_other() {
        let corpus = Corpus::learn();
        let a = draw(7, 42, &corpus);
        let b = draw(7, 42, &corpus);
        let c = draw(8, 42, &corpus);
        assert_eq!(a.title_en, b.title_en);
        assert_eq!(a.description_ja, b.description_ja);
        assert!(a.title_en != c.title_en || a.description_ja != c.description_ja || a.release != c.release);
    }

    #[test]
    fn distributions_look_like_the_fixtures() {
        let corpus = Corpus::learn();
        let all: Vec<Synthetic> = (0..5_000).map(|i| draw(1, i, &corpus)).collect();
        let controlled = all.iter().filter(|d| d.controlled).count() as f64 / all.len() as f64;
        assert!((0.70..0.80).contains(&controlled), "{controlled}");
        // The most common disease is drawn far more often than the rarest (Zipf).
        let count = |ja: &str| all.iter().filter(|d| d.disease.ja == ja).count();
        assert!(count(DISEASES[0].ja) > 5 * count(DISEASES[DISEASES.len() - 1].ja));
        // Every platform fits its assay.
        assert!(all.iter().all(|d| PLATFORMS[d.platform].2.contains(&ASSAYS[d.assay].0)));
        // Later years have more releases.
        let year = |y: &str| all.iter().filter(|d| d.release.starts_with(y)).count();
        assert!(year("2025") > year("2009"));
        // Japanese text is Japanese.
        assert!(all[0].description_ja.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c)));
    }
}
