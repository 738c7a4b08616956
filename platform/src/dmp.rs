//! AMED Data Management Plans: read, validated whole, as catalog entries in the graph; and the
//! sharing deadlines that run from each data item's generation date.
//!
//! A plan comes as JSON-LD (the RO-Crate `@graph` NII-DG writes, with the AMED context of
//! `amed.yml`: one `DMPMetadata`, its `DMP` data items, the `Person`, `Organization`,
//! `RepositoryObject`, `DataDownload` and `ClinicalResearchRegistration` entities they point to)
//! or as CSV (a spreadsheet export: one row per data item, the plan's own columns repeated or
//! filled on the first row only; English or Japanese headers, see [`CSV_HEADERS`]). Both become
//! one [`Dmp`]. Two things the AMED schema has no field for are read as schema.org terms (the
//! RO-Crate context defines them): `dateCreated`, when the data was generated (sharing deadlines
//! run from it), and `sameAs`, the records the data was deposited as in partner databases.
//!
//! Validation collects *every* problem (row and column, or JSON path) before anything is
//! written; a plan with one problem is refused whole. A valid plan is staged as triples and
//! swapped into its own named graph (`source/dmp-<key>`) in one transaction, as a harvest swaps a
//! source's graph: re-ingesting a plan replaces it, and nothing is ever half-ingested.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use oxigraph::model::{Literal, NamedNode, NamedOrBlankNode, Term, Triple};

use musubi_read_model::SourceView;
use musubi_store::{GraphStore, Replacement, StoreError};
use musubi_ontology::vocab::{self as v, Vocabulary};

/// Data item IRIs and plan IRIs are minted under this prefix.
pub const DMP_IRI_PREFIX: &str = "https://w3id.org/musubi/dmp/";
/// Source (graph) ids of plans start with this.
pub const DMP_SOURCE_PREFIX: &str = "dmp-";

/// The four AMED access rights, in increasing openness.
pub const ACCESS_RIGHTS: [&str; 4] = ["Unshared", "Restricted Closed Sharing", "Restricted Open Sharing", "Unrestricted Open Sharing"];
const CONTENT_SIZES: [&str; 4] = ["1GB", "10GB", "100GB", "over100GB"];

/// One problem in a plan: where (CSV `row N, column C`, or a JSON path) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmpProblem {
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for DmpProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Why a plan was refused: every problem found, in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: the DMP is refused ({} problem(s)); nothing was ingested:\n{}", .problems.len(), .problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
pub struct DmpError {
    pub file: String,
    pub problems: Vec<DmpProblem>,
}

/// A person or organisation a plan names: its IRI (ORCID, ROR) when given, and its name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DmpAgent {
    pub iri: Option<String>,
    pub name: Option<String>,
}

/// A plan's data item (AMED `DMP` entity).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DmpItem {
    pub number: u32,
    pub name: String,
    pub description: String,
    /// AMED `keyword`: the data's category; sharing periods are configured per category.
    pub category: String,
    /// One of [`ACCESS_RIGHTS`].
    pub access_rights: String,
    pub availability_starts: Option<String>,
    pub reason_for_concealment: Option<String>,
    pub repository: Option<String>,
    pub distribution: Option<String>,
    pub content_size: Option<String>,
    /// `yes`, `no` or `unknown`.
    pub informed_consent: String,
    /// `AMED` or `other`.
    pub informed_consent_format: Option<String>,
    /// jRCT / UMIN-CTR registrations (URLs or ids).
    pub clinical_registrations: Vec<String>,
    /// Accessions of the records the data was deposited as.
    pub deposit_accessions: Vec<String>,
    /// When the data was generated (`xsd:date`).
    pub generated_on: Option<String>,
}

/// A validated AMED Data Management Plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dmp {
    /// The research project's name.
    pub project: String,
    /// AMED's project number (課題管理番号), when given: it keys the plan.
    pub project_number: Option<String>,
    pub funder: DmpAgent,
    pub funding: String,
    pub chief_researcher: DmpAgent,
    pub creators: Vec<DmpAgent>,
    pub hosting_institution: Option<DmpAgent>,
    pub data_manager: Option<DmpAgent>,
    pub repository: Option<String>,
    pub distribution: Option<String>,
    pub items: Vec<DmpItem>,
}

impl Dmp {
    /// The plan's stable key: from its project number, else its project name. Re-ingesting the
    /// same plan replaces it.
    pub fn key(&self) -> String {
        let basis = self.project_number.as_deref().unwrap_or(&self.project);
        // FNV-1a: stable across builds and platforms (std's hasher is not).
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in basis.trim().bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{hash:016x}")
    }

    /// The source id (and graph name suffix) the plan is stored under.
    pub fn source_id(&self) -> String {
        format!("{DMP_SOURCE_PREFIX}{}", self.key())
    }

    pub fn iri(&self) -> String {
        format!("{DMP_IRI_PREFIX}{}", self.key())
    }

    /// The IRI of data item `number` of this plan.
    pub fn item_iri(&self, number: u32) -> String {
        format!("{}/item/{number}", self.iri())
    }

    /// The plan as hub triples, provenance stamped `ingested_at`.
    pub fn triples(&self, ingested_at: &Literal) -> Vec<Triple> {
        let plan = NamedNode::new_unchecked(self.iri());
        let mut out = Vec::new();
        let mut agents = 0;
        let mut agent = |out: &mut Vec<Triple>, subject: &NamedNode, property, a: &DmpAgent| {
            let node = match &a.iri {
                Some(iri) => NamedNode::new_unchecked(iri.clone()),
                None => {
                    agents += 1;
                    NamedNode::new_unchecked(format!("{}/agent/{agents}", self.iri()))
                }
            };
            if let Some(name) = &a.name {
                out.push(Triple::new(node.clone(), v::FOAF_NAME, Literal::new_simple_literal(name)));
            }
            out.push(Triple::new(subject.clone(), property, node));
        };
        let lit = |s: &str| Term::from(Literal::new_simple_literal(s));
        let date = |s: &str| Term::from(Literal::new_typed_literal(s, v::XSD_DATE));
        let link = |s: &str| match NamedNode::new(s) {
            Ok(n) if s.starts_with("http://") || s.starts_with("https://") => Term::from(n),
            _ => lit(s),
        };
        out.push(Triple::new(plan.clone(), v::RDF_TYPE, v::MUSUBI_DATA_MANAGEMENT_PLAN));
        out.push(Triple::new(plan.clone(), v::DCT_IDENTIFIER, lit(&self.source_id())));
        out.push(Triple::new(plan.clone(), v::MUSUBI_DMP_PROJECT, lit(&self.project)));
        out.push(Triple::new(plan.clone(), v::PROV_GENERATED_AT_TIME, ingested_at.clone()));
        if let Some(n) = &self.project_number {
            out.push(Triple::new(plan.clone(), v::MUSUBI_DMP_PROJECT_NUMBER, lit(n)));
        }
        out.push(Triple::new(plan.clone(), v::MUSUBI_FUNDING_PROGRAMME, lit(&self.funding)));
        agent(&mut out, &plan, v::MUSUBI_DMP_FUNDER, &self.funder);
        agent(&mut out, &plan, v::MUSUBI_CHIEF_RESEARCHER, &self.chief_researcher);
        for c in &self.creators {
            agent(&mut out, &plan, v::MUSUBI_DATA_CREATOR, c);
        }
        if let Some(a) = &self.hosting_institution {
            agent(&mut out, &plan, v::MUSUBI_HOSTING_INSTITUTION, a);
        }
        if let Some(a) = &self.data_manager {
            agent(&mut out, &plan, v::MUSUBI_DATA_MANAGER, a);
        }
        if let Some(r) = &self.repository {
            out.push(Triple::new(plan.clone(), v::MUSUBI_DMP_REPOSITORY, link(r)));
        }
        if let Some(d) = &self.distribution {
            out.push(Triple::new(plan.clone(), v::MUSUBI_DMP_DISTRIBUTION, link(d)));
        }
        for item in &self.items {
            let s = NamedNode::new_unchecked(self.item_iri(item.number));
            let mut put = |p, o: Term| out.push(Triple::new(s.clone(), p, o));
            put(v::RDF_TYPE, v::MUSUBI_DMP_DATA_ITEM.into());
            put(v::DCT_IDENTIFIER, lit(&format!("{}/{}", self.source_id(), item.number)));
            put(v::MUSUBI_DMP_PLAN, plan.clone().into());
            put(v::MUSUBI_DATA_NUMBER, Literal::from(i64::from(item.number)).into());
            put(v::DCT_TITLE, lit(&item.name));
            put(v::DCT_DESCRIPTION, lit(&item.description));
            put(v::MUSUBI_DATA_CATEGORY, lit(&item.category));
            // The access level is normalised from this like any source's (`Unshared` → closed, …).
            put(v::MUSUBI_SOURCE_ACCESS_LEVEL, lit(&item.access_rights));
            put(v::MUSUBI_INFORMED_CONSENT, lit(&item.informed_consent));
            for (p, value) in [
                (v::MUSUBI_REASON_FOR_CONCEALMENT, &item.reason_for_concealment),
                (v::MUSUBI_CONTENT_SIZE_CLASS, &item.content_size),
                (v::MUSUBI_INFORMED_CONSENT_FORMAT, &item.informed_consent_format),
            ] {
                if let Some(value) = value {
                    put(p, lit(value));
                }
            }
            for (p, value) in [(v::MUSUBI_AVAILABILITY_STARTS, &item.availability_starts), (v::MUSUBI_GENERATED_ON, &item.generated_on)] {
                if let Some(value) = value {
                    put(p, date(value));
                }
            }
            for (p, value) in [(v::MUSUBI_DMP_REPOSITORY, &item.repository), (v::MUSUBI_DMP_DISTRIBUTION, &item.distribution)] {
                if let Some(value) = value {
                    put(p, link(value));
                }
            }
            for r in &item.clinical_registrations {
                put(v::MUSUBI_CLINICAL_REGISTRATION, lit(r));
            }
            for a in &item.deposit_accessions {
                put(v::MUSUBI_DEPOSIT_ACCESSION, lit(a));
            }
            out.push(Triple::new(plan.clone(), v::MUSUBI_DMP_ITEM, s));
        }
        out
    }
}

/// Stages a validated plan (its triples, access levels normalised as a harvest does) and swaps
/// it into its own graph in one transaction. Returns its projection for the read model.
pub fn ingest(store: &dyn GraphStore, vocabulary: &Vocabulary, dmp: &Dmp) -> Result<SourceView, StoreError> {
    let mut triples = dmp.triples(&Literal::from(musubi_ontology::now()));
    vocabulary.prepare_staged(&mut triples);
    let graph = v::source_graph(&dmp.source_id());
    store.replace(&[Replacement { graph: graph.as_ref(), triples: &triples }])?;
    Ok(SourceView::from_triples(&dmp.source_id(), triples))
}

/// Whether `source` (a read-model view id) holds a plan.
pub fn is_dmp_source(source: &str) -> bool {
    source.starts_with(DMP_SOURCE_PREFIX)
}

/// Reads a plan from its bytes, as JSON-LD when `file` ends in `.json`/`.jsonld` or the bytes
/// start with `{`, else as CSV.
pub fn parse(bytes: &[u8], file: &str) -> Result<Dmp, DmpError> {
    let lower = file.to_lowercase();
    let looks_json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if lower.ends_with(".jsonld") || lower.ends_with(".json") || looks_json { parse_jsonld(bytes, file) } else { parse_csv(bytes, file) }
}

/// Collects problems while reading; the plan is refused when there is any.
struct Problems(Vec<DmpProblem>);

impl Problems {
    fn add(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.0.push(DmpProblem { location: location.into(), message: message.into() });
    }
}

fn is_date(s: &str) -> bool {
    s.len() == 10 && oxsdatatypes::Date::from_str(s).is_ok()
}

/// The raw values of one data item, from either format, with where each came from.
#[derive(Default)]
struct RawItem {
    /// Where the item is (JSON path of its entity, or `row N`).
    at: String,
    /// field → (location, value)
    fields: HashMap<&'static str, (String, String)>,
    lists: HashMap<&'static str, Vec<String>>,
    /// The number its `@id` states (`#dmp:N`), JSON-LD only.
    id_number: Option<(String, String)>,
}

impl RawItem {
    fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
    }
    fn loc(&self, field: &str) -> String {
        self.fields.get(field).map_or_else(|| format!("{}, {field}", self.at), |(l, _)| l.clone())
    }
}

/// Validates one data item against `amed.yml`'s rules and normalises Japanese values.
fn validate_item(raw: &RawItem, plan_repository: bool, plan_distribution: bool, problems: &mut Problems) -> DmpItem {
    let mut item = DmpItem::default();
    let required = |field: &str, problems: &mut Problems| -> String {
        match raw.get(field) {
            Some(v) => v.trim().to_owned(),
            None => {
                problems.add(raw.loc(field), format!("`{field}` is required"));
                String::new()
            }
        }
    };
    match raw.get("dataNumber").map(|n| (n, n.trim().parse::<u32>())) {
        Some((_, Ok(n))) if n > 0 => item.number = n,
        Some((n, _)) => problems.add(raw.loc("dataNumber"), format!("`dataNumber` must be a positive integer, not {n:?}")),
        None => problems.add(raw.loc("dataNumber"), "`dataNumber` is required"),
    }
    if let Some((at, id)) = &raw.id_number {
        match id.strip_prefix("#dmp:") {
            Some(n) if item.number > 0 && n.parse::<u32>().ok() != Some(item.number) => {
                problems.add(at, format!("`@id` {id:?} does not carry the dataNumber {}", item.number))
            }
            Some(_) => {}
            None => problems.add(at, format!("`@id` must be `#dmp:<dataNumber>`, not {id:?}")),
        }
    }
    item.name = required("name", problems);
    item.description = required("description", problems);
    item.category = required("keyword", problems);
    item.access_rights = match raw.get("accessRights") {
        Some(a) => match access_rights(a) {
            Some(a) => a.to_owned(),
            None => {
                problems.add(raw.loc("accessRights"), format!("`accessRights` must be one of {ACCESS_RIGHTS:?} (or 非共有, 制限共有, 制限公開, 公開), not {a:?}"));
                String::new()
            }
        },
        None => {
            problems.add(raw.loc("accessRights"), "`accessRights` is required");
            String::new()
        }
    };
    item.availability_starts = raw.get("availabilityStarts").map(|s| s.trim().to_owned());
    if let Some(d) = &item.availability_starts
        && !is_date(d)
    {
        problems.add(raw.loc("availabilityStarts"), format!("`availabilityStarts` must be an ISO 8601 date (YYYY-MM-DD), not {d:?}"));
    }
    item.reason_for_concealment = raw.get("reasonForConcealment").map(|s| s.trim().to_owned());
    let concealed = matches!(item.access_rights.as_str(), "Unshared" | "Restricted Closed Sharing");
    if concealed && item.availability_starts.is_none() && item.reason_for_concealment.is_none() {
        problems.add(
            raw.loc("reasonForConcealment"),
            format!("`{}` data needs `availabilityStarts` or `reasonForConcealment`", item.access_rights),
        );
    }
    item.repository = raw.get("repository").map(|s| s.trim().to_owned());
    if item.repository.is_none() && !plan_repository {
        problems.add(raw.loc("repository"), "`repository` is required (here or once for the whole plan)");
    }
    item.distribution = raw.get("distribution").map(|s| s.trim().to_owned());
    if item.access_rights == "Unrestricted Open Sharing" && item.distribution.is_none() && !plan_distribution {
        problems.add(raw.loc("distribution"), "`Unrestricted Open Sharing` data needs a `distribution` (here or once for the whole plan)");
    }
    item.content_size = raw.get("contentSize").map(|s| {
        let s = s.trim();
        match s {
            "100GB超" | "100GB以上" | "100GB over" => "over100GB".to_owned(),
            _ => s.to_owned(),
        }
    });
    if let Some(c) = &item.content_size
        && !CONTENT_SIZES.contains(&c.as_str())
    {
        problems.add(raw.loc("contentSize"), format!("`contentSize` must be one of {CONTENT_SIZES:?}, not {c:?}"));
    }
    item.informed_consent = match raw.get("gotInformedConsent").map(str::trim) {
        Some("yes" | "はい" | "有" | "あり") => "yes".to_owned(),
        Some("no" | "いいえ" | "無" | "なし") => "no".to_owned(),
        Some("unknown" | "不明") => "unknown".to_owned(),
        Some(other) => {
            problems.add(raw.loc("gotInformedConsent"), format!("`gotInformedConsent` must be yes, no or unknown (はい, いいえ, 不明), not {other:?}"));
            String::new()
        }
        None => {
            problems.add(raw.loc("gotInformedConsent"), "`gotInformedConsent` is required");
            String::new()
        }
    };
    item.informed_consent_format = match raw.get("informedConsentFormat").map(str::trim) {
        Some("AMED" | "AMED書式" | "AMED様式") => Some("AMED".to_owned()),
        Some("other" | "その他") => Some("other".to_owned()),
        Some(other) => {
            problems.add(raw.loc("informedConsentFormat"), format!("`informedConsentFormat` must be AMED or other (その他), not {other:?}"));
            None
        }
        None => None,
    };
    if item.informed_consent == "yes" && item.informed_consent_format.is_none() && raw.get("informedConsentFormat").is_none() {
        problems.add(raw.loc("informedConsentFormat"), "`informedConsentFormat` is required when informed consent was obtained");
    }
    item.clinical_registrations = raw.lists.get("identifier").cloned().unwrap_or_default();
    item.deposit_accessions = raw.lists.get("sameAs").cloned().unwrap_or_default().into_iter().map(|a| accession_of(&a)).collect();
    for a in &item.deposit_accessions {
        if a.is_empty() || a.chars().any(char::is_whitespace) {
            problems.add(raw.loc("sameAs"), format!("a deposited record must be an accession or its URL, not {a:?}"));
        }
    }
    item.generated_on = raw.get("dateCreated").map(|s| s.trim().to_owned());
    if let Some(d) = &item.generated_on
        && !is_date(d)
    {
        problems.add(raw.loc("dateCreated"), format!("`dateCreated` (the generation date) must be an ISO 8601 date (YYYY-MM-DD), not {d:?}"));
    }
    item
}

/// AMED access rights from their English or Japanese wording.
fn access_rights(s: &str) -> Option<&'static str> {
    let s = s.trim();
    if let Some(a) = ACCESS_RIGHTS.iter().find(|a| a.eq_ignore_ascii_case(s)) {
        return Some(a);
    }
    Some(match s {
        "非共有" | "非共有・非公開" | "非公開" => ACCESS_RIGHTS[0],
        "制限共有" | "制限共有（クローズド）" => ACCESS_RIGHTS[1],
        "制限公開" | "制限公開（オープン）" => ACCESS_RIGHTS[2],
        "公開" | "非制限公開" => ACCESS_RIGHTS[3],
        _ => return None,
    })
}

/// The accession in a record URL (its last path segment), or the value as given.
fn accession_of(value: &str) -> String {
    let value = value.trim();
    if value.starts_with("http://") || value.starts_with("https://") {
        value.trim_end_matches('/').rsplit('/').next().unwrap_or(value).to_owned()
    } else {
        value.to_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// JSON-LD

/// Reads a plan from NII-DG's RO-Crate JSON-LD (`@graph` form, AMED context).
pub fn parse_jsonld(bytes: &[u8], file: &str) -> Result<Dmp, DmpError> {
    let fail = |location: String, message: String| DmpError { file: file.to_owned(), problems: vec![DmpProblem { location, message }] };
    let doc: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| fail(format!("line {}, column {}", e.line(), e.column()), format!("not JSON: {e}")))?;
    let graph = doc
        .get("@graph")
        .and_then(|g| g.as_array())
        .ok_or_else(|| fail("$".into(), "no `@graph` array: not an RO-Crate JSON-LD document".into()))?;
    let mut problems = Problems(Vec::new());
    let types_of = |e: &serde_json::Value| -> Vec<String> {
        match e.get("@type") {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(a)) => a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
            _ => vec![],
        }
    };
    let mut by_id: HashMap<&str, (usize, &serde_json::Value)> = HashMap::new();
    for (i, e) in graph.iter().enumerate() {
        if let Some(id) = e.get("@id").and_then(|v| v.as_str()) {
            by_id.insert(id, (i, e));
        }
    }
    let metas: Vec<(usize, &serde_json::Value)> = graph.iter().enumerate().filter(|(_, e)| types_of(e).iter().any(|t| t == "DMPMetadata")).collect();
    let (mi, meta) = match metas.as_slice() {
        [one] => *one,
        [] => return Err(fail("$['@graph']".into(), "no `DMPMetadata` entity: not an AMED DMP".into())),
        [_, (i, _), ..] => return Err(fail(format!("$['@graph'][{i}]"), "more than one `DMPMetadata` entity".into())),
    };
    let at = |i: usize, field: &str| format!("$['@graph'][{i}].{field}");
    let text = |e: &serde_json::Value, field: &str| e.get(field).and_then(|v| v.as_str()).map(str::to_owned);
    let id_ref = |v: &serde_json::Value| v.get("@id").and_then(|v| v.as_str()).map(str::to_owned);
    // An agent: an `{"@id"}` reference, named by its entity's `name` when the graph has it.
    let agent_ref = |field: &str, required: bool, problems: &mut Problems| -> Option<DmpAgent> {
        match meta.get(field) {
            None | Some(serde_json::Value::Null) => {
                if required {
                    problems.add(at(mi, field), format!("`{field}` is required"));
                }
                None
            }
            Some(v) => match id_ref(v) {
                Some(iri) => {
                    let name = by_id.get(iri.as_str()).and_then(|(_, e)| text(e, "name"));
                    Some(DmpAgent { iri: Some(iri), name })
                }
                None => {
                    problems.add(at(mi, field), format!("`{field}` must be an {{\"@id\": …}} reference"));
                    None
                }
            },
        }
    };
    let mut dmp = Dmp::default();
    match text(meta, "name").as_deref() {
        Some("AMED-DMP") => {}
        other => problems.add(at(mi, "name"), format!("must be \"AMED-DMP\", not {other:?}")),
    }
    // The project is the RO-Crate root entity (`about`: `./`): its name and identifier.
    let root = meta.get("about").and_then(id_ref).and_then(|id| by_id.get(id.as_str()).copied());
    match root {
        Some((ri, r)) => {
            match text(r, "name") {
                Some(n) if !n.trim().is_empty() => dmp.project = n.trim().to_owned(),
                _ => problems.add(at(ri, "name"), "the project (the root entity `./`) needs a `name`"),
            }
            dmp.project_number = match r.get("identifier") {
                Some(serde_json::Value::String(s)) => Some(s.trim().to_owned()),
                Some(v) => id_ref(v),
                None => None,
            };
        }
        None => problems.add(at(mi, "about"), "`about` must reference the root entity (`{\"@id\": \"./\"}`) present in `@graph`"),
    }
    dmp.funder = agent_ref("funder", true, &mut problems).unwrap_or_default();
    match text(meta, "funding") {
        Some(f) if !f.trim().is_empty() => dmp.funding = f.trim().to_owned(),
        _ => problems.add(at(mi, "funding"), "`funding` (the funding programme) is required"),
    }
    dmp.chief_researcher = agent_ref("chiefResearcher", true, &mut problems).unwrap_or_default();
    let parts: Vec<&serde_json::Value> = match meta.get("hasPart") {
        Some(serde_json::Value::Array(a)) => a.iter().collect(),
        _ => {
            problems.add(at(mi, "hasPart"), "`hasPart` must be an array of DMP references (empty if none)");
            Vec::new()
        }
    };
    let has_items = !parts.is_empty();
    match meta.get("creator") {
        Some(serde_json::Value::Array(a)) => {
            for (k, c) in a.iter().enumerate() {
                match id_ref(c) {
                    Some(iri) => {
                        let name = by_id.get(iri.as_str()).and_then(|(_, e)| text(e, "name"));
                        dmp.creators.push(DmpAgent { iri: Some(iri), name });
                    }
                    None => problems.add(format!("{}[{k}]", at(mi, "creator")), "must be an {\"@id\": …} reference"),
                }
            }
        }
        None if !has_items => {}
        _ => problems.add(at(mi, "creator"), "`creator` must be an array of Person references when the plan has data items"),
    }
    dmp.hosting_institution = agent_ref("hostingInstitution", has_items, &mut problems);
    dmp.data_manager = agent_ref("dataManager", has_items, &mut problems);
    dmp.repository = meta.get("repository").and_then(id_ref);
    dmp.distribution = meta.get("distribution").and_then(id_ref);

    let mut raws = Vec::new();
    for (k, part) in parts.iter().enumerate() {
        let here = format!("{}[{k}]", at(mi, "hasPart"));
        let Some(id) = id_ref(part) else {
            problems.add(here, "must be an {\"@id\": \"#dmp:N\"} reference");
            continue;
        };
        let Some((i, e)) = by_id.get(id.as_str()).copied() else {
            problems.add(here, format!("names {id:?}, which is not in `@graph`"));
            continue;
        };
        if !types_of(e).iter().any(|t| t == "DMP") {
            problems.add(format!("$['@graph'][{i}].@type"), format!("{id:?} is listed in hasPart but is not a `DMP` entity"));
            continue;
        }
        let mut raw = RawItem { at: format!("$['@graph'][{i}]"), id_number: Some((at(i, "@id"), id.clone())), ..RawItem::default() };
        for field in ["dataNumber", "name", "description", "keyword", "accessRights", "availabilityStarts", "reasonForConcealment", "contentSize", "gotInformedConsent", "informedConsentFormat", "dateCreated"] {
            let value = match e.get(field) {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                Some(serde_json::Value::Null) | None => None,
                Some(_) => {
                    problems.add(at(i, field), format!("`{field}` must be a string"));
                    None
                }
            };
            if let Some(value) = value {
                raw.fields.insert(field, (at(i, field), value));
            }
        }
        for field in ["repository", "distribution"] {
            if let Some(value) = e.get(field) {
                match id_ref(value) {
                    Some(iri) => {
                        raw.fields.insert(field, (at(i, field), iri));
                    }
                    None => problems.add(at(i, field), format!("`{field}` must be an {{\"@id\": …}} reference")),
                }
            }
        }
        for field in ["identifier", "sameAs"] {
            let values: Vec<&serde_json::Value> = match e.get(field) {
                Some(serde_json::Value::Array(a)) => a.iter().collect(),
                Some(v) => vec![v],
                None => continue,
            };
            let mut list = Vec::new();
            for (n, value) in values.into_iter().enumerate() {
                match value.as_str().map(str::to_owned).or_else(|| id_ref(value)) {
                    Some(s) => list.push(s),
                    None => problems.add(format!("{}[{n}]", at(i, field)), format!("`{field}` entries must be strings or {{\"@id\": …}} references")),
                }
            }
            raw.lists.insert(field, list);
            raw.fields.insert(field, (at(i, field), String::new()));
        }
        raws.push(raw);
    }
    finish(dmp, raws, problems, file)
}

/// Validates the items and the plan as a whole; the plan, or every problem.
fn finish(mut dmp: Dmp, raws: Vec<RawItem>, mut problems: Problems, file: &str) -> Result<Dmp, DmpError> {
    let mut seen: BTreeMap<u32, String> = BTreeMap::new();
    for raw in &raws {
        let item = validate_item(raw, dmp.repository.is_some(), dmp.distribution.is_some(), &mut problems);
        if item.number > 0 {
            if let Some(first) = seen.get(&item.number) {
                problems.add(raw.loc("dataNumber"), format!("data number {} is used twice (first at {first})", item.number));
            } else {
                seen.insert(item.number, raw.loc("dataNumber"));
            }
        }
        dmp.items.push(item);
    }
    if problems.0.is_empty() { Ok(dmp) } else { Err(DmpError { file: file.to_owned(), problems: problems.0 }) }
}

// ---------------------------------------------------------------------------------------------
// CSV

/// The CSV columns: (field, accepted headers). Headers match after trimming, ignoring ASCII
/// case; `備考` / `notes` columns are ignored; any other header is a problem (a column the hub
/// would silently drop). Plan columns may be filled on the first row only; a later row that
/// states a different value is a problem.
pub const CSV_HEADERS: &[(&str, &[&str])] = &[
    // The plan.
    ("project", &["project", "プロジェクト名", "研究開発課題名", "課題名"]),
    ("projectNumber", &["projectNumber", "課題管理番号"]),
    ("funder", &["funder", "資金配分機関", "配分機関"]),
    ("funding", &["funding", "事業名", "プログラム名"]),
    ("chiefResearcher", &["chiefResearcher", "研究開発代表者", "研究代表者"]),
    ("creator", &["creator", "データ作成者"]),
    ("hostingInstitution", &["hostingInstitution", "データ管理機関", "管理機関"]),
    ("dataManager", &["dataManager", "データ管理者"]),
    // The data item (one per row).
    ("dataNumber", &["dataNumber", "データ番号"]),
    ("name", &["name", "データの名称", "データ名称"]),
    ("description", &["description", "説明", "データの説明"]),
    ("keyword", &["keyword", "キーワード", "データ種別"]),
    ("accessRights", &["accessRights", "アクセス権"]),
    ("availabilityStarts", &["availabilityStarts", "公開予定日"]),
    ("reasonForConcealment", &["reasonForConcealment", "秘匿理由"]),
    ("repository", &["repository", "リポジトリ", "リポジトリ情報"]),
    ("distribution", &["distribution", "公開URL", "ダウンロードURL"]),
    ("contentSize", &["contentSize", "データ量", "概略データ量"]),
    ("gotInformedConsent", &["gotInformedConsent", "同意取得", "同意取得の有無"]),
    ("informedConsentFormat", &["informedConsentFormat", "同意書式", "同意の形式"]),
    ("identifier", &["identifier", "臨床研究登録", "jRCT/UMIN-CTR", "臨床研究登録番号"]),
    ("sameAs", &["sameAs", "accession", "登録番号", "アクセッション番号"]),
    ("dateCreated", &["dateCreated", "データ生成日", "生成日"]),
];

const PLAN_FIELDS: [&str; 8] = ["project", "projectNumber", "funder", "funding", "chiefResearcher", "creator", "hostingInstitution", "dataManager"];

/// Splits a cell listing several values (`;`, `；`, `、` or new lines).
fn split_list(cell: &str) -> Vec<String> {
    cell.split([';', '；', '、', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// An agent from a CSV cell: an IRI (ORCID, ROR) or a name.
fn agent_cell(cell: &str) -> DmpAgent {
    let cell = cell.trim();
    if cell.starts_with("http://") || cell.starts_with("https://") {
        DmpAgent { iri: Some(cell.to_owned()), name: None }
    } else {
        DmpAgent { iri: None, name: Some(cell.to_owned()) }
    }
}

/// Reads a plan from a spreadsheet export (CSV, UTF-8, optional BOM).
pub fn parse_csv(bytes: &[u8], file: &str) -> Result<Dmp, DmpError> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut problems = Problems(Vec::new());
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader.headers().map_err(|e| DmpError { file: file.to_owned(), problems: vec![DmpProblem { location: "row 1".into(), message: format!("cannot read the header row: {e}") }] })?.clone();
    let mut columns: Vec<Option<&'static str>> = Vec::new();
    for (c, h) in headers.iter().enumerate() {
        let h = h.trim();
        let field = CSV_HEADERS.iter().find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(h))).map(|(f, _)| *f);
        if field.is_none() && !matches!(h, "備考" | "notes" | "Notes" | "") {
            problems.add(format!("row 1, column {} ({h:?})", c + 1), format!("unknown column {h:?}: see the DMP CSV header map (README)"));
        }
        if let Some(f) = field
            && columns.contains(&Some(f))
        {
            problems.add(format!("row 1, column {} ({h:?})", c + 1), format!("a second column for `{f}`"));
        }
        columns.push(field);
    }
    for required in ["dataNumber", "name", "accessRights"] {
        if !columns.contains(&Some(required)) {
            let names = CSV_HEADERS.iter().find(|(f, _)| *f == required).map(|(_, n)| n.join(" / ")).unwrap_or_default();
            problems.add("row 1", format!("no `{required}` column ({names})"));
        }
    }
    let header_of = |c: usize| headers.get(c).unwrap_or("").trim().to_owned();
    let mut plan: HashMap<&'static str, (String, String)> = HashMap::new();
    let mut raws = Vec::new();
    for (r, record) in reader.records().enumerate() {
        let row = r + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.add(format!("row {row}"), format!("unreadable row: {e}"));
                continue;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() > headers.len() {
            problems.add(format!("row {row}"), format!("{} cells but only {} columns are named", record.len(), headers.len()));
        }
        let mut raw = RawItem { at: format!("row {row}"), ..RawItem::default() };
        for (c, cell) in record.iter().enumerate() {
            let Some(Some(field)) = columns.get(c).copied() else { continue };
            let location = format!("row {row}, column {}", header_of(c));
            let cell = cell.trim();
            if cell.is_empty() {
                continue;
            }
            if PLAN_FIELDS.contains(&field) {
                match plan.get(field) {
                    Some((first, value)) if value != cell => {
                        problems.add(location, format!("`{field}` is {cell:?} here but {value:?} at {first}: one plan per file"))
                    }
                    Some(_) => {}
                    None => {
                        plan.insert(field, (location, cell.to_owned()));
                    }
                }
            } else if matches!(field, "identifier" | "sameAs") {
                raw.lists.insert(field, split_list(cell));
                raw.fields.insert(field, (location, cell.to_owned()));
            } else {
                raw.fields.insert(field, (location, cell.to_owned()));
            }
        }
        raws.push(raw);
    }
    let mut dmp = Dmp::default();
    let plan_value = |field: &str| plan.get(field).map(|(_, v)| v.clone());
    let required = |field: &str, problems: &mut Problems| {
        plan_value(field).unwrap_or_else(|| {
            let names = CSV_HEADERS.iter().find(|(f, _)| *f == field).map(|(_, n)| n.join(" / ")).unwrap_or_default();
            problems.add("row 2", format!("the plan's `{field}` ({names}) is required on the first data row"));
            String::new()
        })
    };
    dmp.project = required("project", &mut problems);
    dmp.funding = required("funding", &mut problems);
    dmp.funder = agent_cell(&required("funder", &mut problems));
    dmp.chief_researcher = agent_cell(&required("chiefResearcher", &mut problems));
    if !raws.is_empty() {
        dmp.creators = split_list(&required("creator", &mut problems)).iter().map(|c| agent_cell(c)).collect();
        dmp.hosting_institution = Some(agent_cell(&required("hostingInstitution", &mut problems)));
        dmp.data_manager = Some(agent_cell(&required("dataManager", &mut problems)));
    }
    dmp.project_number = plan_value("projectNumber");
    finish(dmp, raws, problems, file)
}

// ---------------------------------------------------------------------------------------------
// Sharing deadlines

/// How long data of each category may stay unshared, and where sharing counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharingPolicy {
    /// (category, months from generation until it must be in a designated database). Categories
    /// match a data item's `keyword` ignoring case and surrounding space.
    pub periods: Vec<(String, u32)>,
    /// Source ids of the designated databases; empty means any source counts.
    pub designated: Vec<String>,
}

impl SharingPolicy {
    /// The period for `category`, if the policy sets one.
    pub fn months_for(&self, category: &str) -> Option<u32> {
        let category = category.trim().to_lowercase();
        self.periods.iter().find(|(c, _)| c.trim().to_lowercase() == category).map(|(_, m)| *m)
    }

    /// Whether a record held by `sources` is in a designated database.
    pub fn counts<S: AsRef<str>>(&self, sources: &[S]) -> bool {
        sources.iter().any(|s| !is_dmp_source(s.as_ref()) && (self.designated.is_empty() || self.designated.iter().any(|d| d == s.as_ref())))
    }
}

/// `date` (`YYYY-MM-DD`) plus `months`, clamped to the month's last day (2024-08-31 + 6 → 2025-02-28).
pub fn add_months(date: &str, months: u32) -> Option<String> {
    if !is_date(date) {
        return None;
    }
    let (y, m, d): (i64, i64, u32) = (date[..4].parse().ok()?, date[5..7].parse().ok()?, date[8..10].parse().ok()?);
    let total = y * 12 + (m - 1) + i64::from(months);
    let (y, m) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let last = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    Some(format!("{y:04}-{m:02}-{:02}", d.min(last)))
}

/// Where a data item stands against its sharing deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineStatus {
    /// The record is in a designated database.
    Met,
    /// Not shared yet; the deadline is today or later.
    Due,
    /// Not shared and the deadline has passed.
    Overdue,
}

/// The status of a deadline on `today` (both `YYYY-MM-DD`).
pub fn deadline_status(deadline: &str, met: bool, today: &str) -> DeadlineStatus {
    if met {
        DeadlineStatus::Met
    } else if today > deadline {
        DeadlineStatus::Overdue
    } else {
        DeadlineStatus::Due
    }
}

/// The data item node ids of a plan's view, in data number order.
pub fn items_of(view: &SourceView) -> Vec<NamedOrBlankNode> {
    let mut items: Vec<(i64, NamedOrBlankNode)> = view
        .of_type(v::MUSUBI_DMP_DATA_ITEM)
        .map(|n| (n.first(v::MUSUBI_DATA_NUMBER).and_then(|s| s.parse().ok()).unwrap_or(0), n.id().into_owned()))
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.to_string().cmp(&b.1.to_string())));
    items.into_iter().map(|(_, id)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use musubi_store::EmbeddedStore;

    const JSONLD: &[u8] = include_bytes!("../../tests/fixtures/amed-dmp/dmp-example.jsonld");
    const CSV: &[u8] = include_bytes!("../../tests/fixtures/amed-dmp/dmp-example.csv");

    #[test]
    fn a_jsonld_plan_reads_every_field() {
        let dmp = parse(JSONLD, "dmp-example.jsonld").unwrap();
        assert_eq!(dmp.funding, "Acceleration Transformative Research for Medical Innovation");
        assert_eq!(dmp.funder, DmpAgent { iri: Some("https://ror.org/01b9y6c26".into()), name: Some("Japan Agency for Medical Research and Development".into()) });
        assert_eq!(dmp.creators.len(), 2);
        assert_eq!(dmp.items.len(), 3);
        let genome = &dmp.items[0];
        assert_eq!((genome.number, genome.access_rights.as_str(), genome.category.as_str()), (1, "Restricted Closed Sharing", "Genome data"));
        assert_eq!(genome.deposit_accessions, ["JGAD000001"]);
        assert_eq!(genome.generated_on.as_deref(), Some("2024-04-01"));
        assert_eq!(genome.informed_consent_format.as_deref(), Some("AMED"));
        assert_eq!(genome.clinical_registrations, ["https://jrct.niph.go.jp/latest-detail/jRCT2031210001"]);
        assert_eq!(dmp.items[2].reason_for_concealment.as_deref(), Some("The dataset includes personal information."));
    }

    #[test]
    fn a_csv_plan_with_japanese_headers_reads_the_same_plan() {
        let csv = parse(CSV, "dmp-example.csv").unwrap();
        let jsonld = parse(JSONLD, "dmp-example.jsonld").unwrap();
        assert_eq!(csv.key(), jsonld.key(), "the same project number keys the same plan");
        assert_eq!(csv.items.len(), 3);
        assert_eq!(csv.items[0].access_rights, "Restricted Closed Sharing", "制限共有");
        assert_eq!(csv.items[0].informed_consent, "yes", "はい");
        assert_eq!(csv.items[1].access_rights, "Unrestricted Open Sharing");
        assert_eq!(csv.items[2].content_size.as_deref(), Some("over100GB"));
        assert_eq!(csv.creators.len(), 2);
        assert_eq!(csv.data_manager.as_ref().and_then(|a| a.iri.as_deref()), Some("https://orcid.org/0000-0002-1825-0097"));
    }

    #[test]
    fn an_invalid_csv_lists_every_problem_with_row_and_column() {
        let bad = "データ番号,データの名称,説明,キーワード,アクセス権,公開予定日,秘匿理由,リポジトリ,同意取得,同意書式,データ生成日,色\n\
                   1,Genome,WGS,Genome data,秘密,2030-13-01,,https://humandbs.dbcls.jp/,はい,,2024-04-01,red\n\
                   1,,x,Clinical,非共有,,,,maybe,,yesterday,\n";
        let err = parse_csv(bad.as_bytes(), "bad.csv").unwrap_err();
        let text = err.to_string();
        for expected in [
            "row 1, column 12 (\"色\"): unknown column",
            "row 2: the plan's `project`",
            "row 2, column アクセス権: `accessRights` must be one of",
            "row 2, column 公開予定日: `availabilityStarts` must be an ISO 8601 date",
            "row 2, informedConsentFormat: `informedConsentFormat` is required when informed consent was obtained",
            "row 3, name: `name` is required",
            "row 3, reasonForConcealment: `Unshared` data needs",
            "row 3, repository: `repository` is required",
            "row 3, column 同意取得: `gotInformedConsent` must be yes, no or unknown",
            "row 3, column データ生成日: `dateCreated`",
            "row 3, column データ番号: data number 1 is used twice (first at row 2, column データ番号)",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        assert!(text.starts_with("bad.csv: the DMP is refused"), "{text}");
    }

    #[test]
    fn an_invalid_jsonld_names_json_paths() {
        let mut doc: serde_json::Value = serde_json::from_slice(JSONLD).unwrap();
        let graph = doc["@graph"].as_array_mut().unwrap();
        let meta = graph.iter_mut().find(|e| e["@type"] == "DMPMetadata").unwrap();
        meta.as_object_mut().unwrap().remove("dataManager");
        meta["hasPart"].as_array_mut().unwrap().push(serde_json::json!({"@id": "#dmp:9"}));
        let item = graph.iter_mut().find(|e| e["@id"] == "#dmp:2").unwrap();
        item["dataNumber"] = serde_json::json!(7);
        item.as_object_mut().unwrap().remove("distribution");
        let err = parse_jsonld(&serde_json::to_vec(&doc).unwrap(), "x.jsonld").unwrap_err();
        let text = err.to_string();
        for expected in ["].dataManager: `dataManager` is required", "names \"#dmp:9\", which is not in `@graph`", "`@id` \"#dmp:2\" does not carry the dataNumber 7", "needs a `distribution`"] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        assert_eq!(err.problems.len(), 4, "{text}");
    }

    #[test]
    fn ingest_swaps_one_graph_and_a_second_ingest_replaces_it() {
        let store = EmbeddedStore::in_memory();
        let vocabulary = Vocabulary::builtin();
        let dmp = parse(JSONLD, "dmp-example.jsonld").unwrap();
        let view = ingest(&store, &vocabulary, &dmp).unwrap();
        assert_eq!(items_of(&view).len(), 3);
        let mut smaller = dmp.clone();
        smaller.items.truncate(1);
        let view = ingest(&store, &vocabulary, &smaller).unwrap();
        assert_eq!(items_of(&view).len(), 1);
        let graph = v::source_graph(&dmp.source_id());
        let stored = store.graph(graph.as_ref()).unwrap();
        assert_eq!(stored.iter().filter(|t| t.object == Term::from(v::MUSUBI_DMP_DATA_ITEM)).count(), 1);
        // The access rights are normalised like any source's.
        assert!(stored.iter().any(|t| t.predicate == v::MUSUBI_ACCESS_LEVEL));
    }

    #[test]
    fn deadlines_add_months_and_compare_with_today() {
        assert_eq!(add_months("2024-04-01", 6).as_deref(), Some("2024-10-01"));
        assert_eq!(add_months("2024-08-31", 6).as_deref(), Some("2025-02-28"));
        assert_eq!(add_months("2023-08-31", 6).as_deref(), Some("2024-02-29"));
        assert_eq!(add_months("2024-11-15", 14).as_deref(), Some("2026-01-15"));
        assert_eq!(add_months("someday", 6), None);
        assert_eq!(deadline_status("2024-10-01", false, "2024-10-01"), DeadlineStatus::Due);
        assert_eq!(deadline_status("2024-10-01", false, "2024-10-02"), DeadlineStatus::Overdue);
        assert_eq!(deadline_status("2024-10-01", true, "2030-01-01"), DeadlineStatus::Met);
        let policy = SharingPolicy { periods: vec![("Genome data".into(), 6)], designated: vec!["jga".into()] };
        assert_eq!(policy.months_for(" genome DATA "), Some(6));
        assert_eq!(policy.months_for("Clinical data"), None);
        assert!(policy.counts(&["nbdc", "jga"]));
        assert!(!policy.counts(&["nbdc"]));
        assert!(!SharingPolicy::default().counts(&["dmp-0123"]), "a plan's own graph never counts as shared");
    }
}
