//! DUO matching: may a research purpose use data consented under these Data Use Ontology terms?
//!
//! A data access committee asks this for every dataset in every request. The hub answers with a
//! [`Verdict`] — match, no match, or needs review — and names the rule that decided it, so the
//! committee sees *why*. The logic follows DUOS v4 (Broad Institute's consent ontology):
//! - a disease-specific (DS) purpose for X matches data consented for general research use (GRU,
//!   NRES), for health/medical/biomedical research (HMB), or for DS of X or of an ancestor of X in
//!   MONDO (asked of [`DiseaseHierarchy::is_a`]);
//! - an HMB purpose matches GRU or HMB; population origins or ancestry research (POA) matches GRU
//!   or POA (HMB excludes it by DUO's definition); a purpose with none of these matches GRU only;
//! - a commercial purpose never matches data restricted to non-profit use (NPU, NCU, NPUNCU);
//!   methods development never matches NMDS; POA never matches NPOA;
//! - conditions the purpose cannot tell us about (genetic studies only, publication required,
//!   collaboration required, ethics approval required, geographic, time, user, project or
//!   institution limits, …) and terms it does not know make it abstain: needs review.
//!
//! A definite no outranks an abstention: a commercial request for NCU data that also requires
//! collaboration is refused, not sent to review.
//!
//! Free-text policies (JGA's JGAP records say "limited to the researchers who work on Lung Cancer
//! Study" rather than DUO codes) get codes *suggested* by [`suggest_from_text`], in English and
//! Japanese, for a steward to confirm; suggestions are never matched as if they were consent.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::Regex;

use musubi_ontology::disease::{term_curie, term_iri, DiseaseHierarchy};

/// The OBO PURL prefix of DUO terms.
pub const DUO_PREFIX: &str = "http://purl.obolibrary.org/obo/DUO_";

/// The DUO terms a dataset's data use may carry (DUO release in `duo.csv`): the five permissions
/// and the modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DuoTerm {
    /// No restriction (DUO:0000004).
    Nres,
    /// General research use (DUO:0000042).
    Gru,
    /// Health or medical or biomedical research (DUO:0000006).
    Hmb,
    /// Disease specific research (DUO:0000007); the diseases are in [`DataUse::diseases`].
    Ds,
    /// Population origins or ancestry research only (DUO:0000011).
    Poa,
    /// Research specific restrictions (DUO:0000012).
    Rs,
    /// No general methods research (DUO:0000015).
    Nmds,
    /// Genetic studies only (DUO:0000016).
    Gso,
    /// Not for profit, non commercial use only (DUO:0000018).
    Npuncu,
    /// Publication required (DUO:0000019).
    Pub,
    /// Collaboration required (DUO:0000020).
    Col,
    /// Ethics approval required (DUO:0000021).
    Irb,
    /// Geographical restriction (DUO:0000022).
    Gs,
    /// Publication moratorium (DUO:0000024).
    Mor,
    /// Time limit on use (DUO:0000025).
    Ts,
    /// User specific restriction (DUO:0000026).
    Us,
    /// Project specific restriction (DUO:0000027).
    Ps,
    /// Institution specific restriction (DUO:0000028).
    Is,
    /// Return to database or resource (DUO:0000029).
    Rtn,
    /// Clinical care use (DUO:0000043): widens use, restricts nothing.
    Cc,
    /// Population origins or ancestry research prohibited (DUO:0000044).
    Npoa,
    /// Not for profit organisation use only (DUO:0000045).
    Npu,
    /// Non-commercial use only (DUO:0000046).
    Ncu,
}

/// (term, DUO id, shorthand, label) as in `duo.csv`.
const TERMS: &[(DuoTerm, &str, &str, &str)] = &[
    (DuoTerm::Nres, "0000004", "NRES", "no restriction"),
    (DuoTerm::Gru, "0000042", "GRU", "general research use"),
    (DuoTerm::Hmb, "0000006", "HMB", "health or medical or biomedical research"),
    (DuoTerm::Ds, "0000007", "DS", "disease specific research"),
    (DuoTerm::Poa, "0000011", "POA", "population origins or ancestry research only"),
    (DuoTerm::Rs, "0000012", "RS", "research specific restrictions"),
    (DuoTerm::Nmds, "0000015", "NMDS", "no general methods research"),
    (DuoTerm::Gso, "0000016", "GSO", "genetic studies only"),
    (DuoTerm::Npuncu, "0000018", "NPUNCU", "not for profit, non commercial use only"),
    (DuoTerm::Pub, "0000019", "PUB", "publication required"),
    (DuoTerm::Col, "0000020", "COL", "collaboration required"),
    (DuoTerm::Irb, "0000021", "IRB", "ethics approval required"),
    (DuoTerm::Gs, "0000022", "GS", "geographical restriction"),
    (DuoTerm::Mor, "0000024", "MOR", "publication moratorium"),
    (DuoTerm::Ts, "0000025", "TS", "time limit on use"),
    (DuoTerm::Us, "0000026", "US", "user specific restriction"),
    (DuoTerm::Ps, "0000027", "PS", "project specific restriction"),
    (DuoTerm::Is, "0000028", "IS", "institution specific restriction"),
    (DuoTerm::Rtn, "0000029", "RTN", "return to database or resource"),
    (DuoTerm::Cc, "0000043", "CC", "clinical care use"),
    (DuoTerm::Npoa, "0000044", "NPOA", "population origins or ancestry research prohibited"),
    (DuoTerm::Npu, "0000045", "NPU", "not for profit organisation use only"),
    (DuoTerm::Ncu, "0000046", "NCU", "non-commercial use only"),
];

/// Modifiers whose condition lies outside what a purpose states: the matcher abstains on them.
const ABSTAIN: &[DuoTerm] = &[
    DuoTerm::Gso,
    DuoTerm::Pub,
    DuoTerm::Col,
    DuoTerm::Irb,
    DuoTerm::Gs,
    DuoTerm::Mor,
    DuoTerm::Ts,
    DuoTerm::Us,
    DuoTerm::Ps,
    DuoTerm::Is,
    DuoTerm::Rs,
    DuoTerm::Rtn,
];

impl DuoTerm {
    /// Every term, in `duo.csv`'s order of permissions then modifiers.
    pub fn all() -> impl Iterator<Item = DuoTerm> {
        TERMS.iter().map(|t| t.0)
    }

    fn row(self) -> &'static (DuoTerm, &'static str, &'static str, &'static str) {
        TERMS.iter().find(|t| t.0 == self).expect("every term has a row")
    }

    /// The OBO PURL, `http://purl.obolibrary.org/obo/DUO_0000042`.
    pub fn iri(self) -> String {
        format!("{DUO_PREFIX}{}", self.row().1)
    }

    /// The CURIE, `DUO:0000042`.
    pub fn curie(self) -> String {
        format!("DUO:{}", self.row().1)
    }

    /// The shorthand, `GRU`.
    pub fn code(self) -> &'static str {
        self.row().2
    }

    /// The English label from DUO.
    pub fn label(self) -> &'static str {
        self.row().3
    }

    /// Whether this is a data use permission (what research is allowed) rather than a modifier.
    pub fn is_permission(self) -> bool {
        matches!(self, DuoTerm::Nres | DuoTerm::Gru | DuoTerm::Hmb | DuoTerm::Ds | DuoTerm::Poa)
    }

    /// The term named by a DUO IRI, CURIE (`DUO:0000042`), OBO id (`DUO_0000042`) or shorthand
    /// (`GRU`, any case).
    pub fn parse(term: &str) -> Option<DuoTerm> {
        let term = term.trim();
        let iri = term_iri(term);
        if let Some(id) = iri.strip_prefix(DUO_PREFIX) {
            return TERMS.iter().find(|t| t.1 == id).map(|t| t.0);
        }
        TERMS.iter().find(|t| t.2.eq_ignore_ascii_case(term)).map(|t| t.0)
    }

    fn display(self) -> String {
        format!("{} ({})", self.code(), self.label())
    }
}

/// What a dataset's consent allows: DUO terms, the diseases a DS permission names, and any
/// terms the hub does not understand (kept, so the matcher abstains rather than ignores them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataUse {
    pub terms: BTreeSet<DuoTerm>,
    /// Disease term IRIs (MONDO) the DS permission is restricted to.
    pub diseases: BTreeSet<String>,
    /// Terms given that are neither known DUO terms nor disease terms, as given.
    pub unknown: BTreeSet<String>,
}

impl DataUse {
    /// Reads a list of terms as a policy carries them (`musubi:dataUseCondition` values): DUO
    /// IRIs/CURIEs/shorthands become [`DuoTerm`]s, other OBO terms (MONDO) the DS diseases, and
    /// anything else is kept in `unknown`.
    pub fn from_terms<S: AsRef<str>>(terms: impl IntoIterator<Item = S>) -> DataUse {
        let mut data = DataUse::default();
        for term in terms {
            let term = term.as_ref().trim();
            if term.is_empty() {
                continue;
            }
            if let Some(t) = DuoTerm::parse(term) {
                data.terms.insert(t);
                continue;
            }
            let iri = term_iri(term);
            if iri.starts_with("http://purl.obolibrary.org/obo/") && !iri.starts_with(DUO_PREFIX) {
                data.diseases.insert(iri);
            } else {
                data.unknown.insert(term.to_owned());
            }
        }
        if !data.diseases.is_empty() {
            data.terms.insert(DuoTerm::Ds);
        }
        data
    }

    /// Reads a DUOS v4 data-use document (`data-use-v4.json`'s consent side). Fields the hub has
    /// no DUO term for (`other`, `secondaryOther`) are kept in `unknown` so matching abstains.
    pub fn from_duos_json(doc: &serde_json::Value) -> Result<DataUse, DuoError> {
        DataUse::read_duos_json(doc).map_err(DuoError)
    }

    fn read_duos_json(doc: &serde_json::Value) -> Result<DataUse, String> {
        let obj = doc.as_object().ok_or("a DUOS data use must be a JSON object")?;
        let mut data = DataUse::default();
        let flag = |name: &str| obj.get(name).and_then(|v| v.as_bool()).unwrap_or(false);
        for (name, term) in [
            ("generalUse", DuoTerm::Gru),
            ("hmbResearch", DuoTerm::Hmb),
            ("populationOriginsAncestry", DuoTerm::Poa),
            ("methodsResearch", DuoTerm::Nmds),
            ("nonProfitUse", DuoTerm::Npu),
            ("ethicsApprovalRequired", DuoTerm::Irb),
            ("collaboratorRequired", DuoTerm::Col),
            ("geneticStudiesOnly", DuoTerm::Gso),
            ("publicationResults", DuoTerm::Pub),
        ] {
            if flag(name) {
                data.terms.insert(term);
            }
        }
        for (name, term) in [("geographicalRestrictions", DuoTerm::Gs), ("publicationMoratorium", DuoTerm::Mor)] {
            if obj.get(name).and_then(|v| v.as_str()).is_some_and(|s| !s.trim().is_empty()) {
                data.terms.insert(term);
            }
        }
        if let Some(diseases) = obj.get("diseaseRestrictions") {
            let list = diseases.as_array().ok_or("diseaseRestrictions must be an array of disease terms")?;
            for (i, d) in list.iter().enumerate() {
                let d = d.as_str().ok_or_else(|| format!("diseaseRestrictions[{i}] is not a string"))?;
                data.diseases.insert(term_iri(d));
            }
            if !data.diseases.is_empty() {
                data.terms.insert(DuoTerm::Ds);
            }
        }
        for name in ["other", "secondaryOther"] {
            if let Some(text) = obj.get(name).and_then(|v| v.as_str()).filter(|s| !s.trim().is_empty()) {
                data.unknown.insert(format!("{name}: {text}"));
            }
        }
        Ok(data)
    }

    /// The data use as IRIs: DUO terms, then diseases, then unknown terms as given.
    pub fn iris(&self) -> Vec<String> {
        self.terms
            .iter()
            .map(|t| t.iri())
            .chain(self.diseases.iter().cloned())
            .chain(self.unknown.iter().cloned())
            .collect()
    }

    fn has(&self, term: DuoTerm) -> bool {
        self.terms.contains(&term)
    }
}

/// What a requester means to do with the data, in DUOS v4's terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResearchPurpose {
    /// Disease-specific research on these diseases (MONDO IRIs or CURIEs).
    pub diseases: Vec<String>,
    /// Health/medical/biomedical research.
    pub health_medical: bool,
    /// Research on population origins or ancestry.
    pub population_origins: bool,
    /// Developing or validating methods (software, algorithms).
    pub methods: bool,
    /// Commercial use, or use by a for-profit organisation.
    pub commercial: bool,
    /// Any other aim, in words: a committee must read it.
    pub other: Option<String>,
}

impl ResearchPurpose {
    /// A purpose from DUO terms as a request form states them: DS (`DUO:0000007`, implied by any
    /// MONDO term given), HMB (`DUO:0000006` or biomedical research `DUO:0000037`), POA
    /// (`DUO:0000011` or ancestry research `DUO:0000033`), method development (`DUO:0000031`), and
    /// disease terms. Anything else is refused, naming it.
    pub fn from_terms<S: AsRef<str>>(terms: impl IntoIterator<Item = S>, commercial: bool) -> Result<ResearchPurpose, DuoError> {
        let mut purpose = ResearchPurpose { commercial, ..ResearchPurpose::default() };
        let mut ds = false;
        for term in terms {
            let term = term.as_ref().trim();
            let iri = term_iri(term);
            match (DuoTerm::parse(term), iri.strip_prefix(DUO_PREFIX)) {
                (Some(DuoTerm::Ds), _) => ds = true,
                (Some(DuoTerm::Hmb), _) | (_, Some("0000037")) => purpose.health_medical = true,
                (Some(DuoTerm::Poa), _) | (_, Some("0000033")) => purpose.population_origins = true,
                (_, Some("0000031")) => purpose.methods = true,
                (Some(DuoTerm::Gru | DuoTerm::Nres), _) => {}
                (None, None) if iri.starts_with("http://purl.obolibrary.org/obo/") => purpose.diseases.push(iri),
                _ => {
                    return Err(DuoError(format!(
                        "`{term}` is not a research purpose term: give DS with MONDO diseases, HMB, POA, \
                         DUO:0000031 (method development) or GRU"
                    )))
                }
            }
        }
        if ds && purpose.diseases.is_empty() {
            return Err(DuoError("a disease-specific purpose (DS) must name its disease (a MONDO term)".into()));
        }
        Ok(purpose)
    }
}

/// A data use or research purpose that cannot be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DuoError(pub String);

/// The three answers a matcher gives (stored in access requests as `MATCH`, `NO_MATCH`,
/// `NEEDS_REVIEW`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Decision {
    Match,
    NoMatch,
    NeedsReview,
}

impl Decision {
    pub fn parse(name: &str) -> Option<Decision> {
        [Decision::Match, Decision::NoMatch, Decision::NeedsReview].into_iter().find(|d| d.as_str() == name)
    }

    /// `MATCH`, `NO_MATCH`, `NEEDS_REVIEW`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Match => "MATCH",
            Decision::NoMatch => "NO_MATCH",
            Decision::NeedsReview => "NEEDS_REVIEW",
        }
    }
}

/// A verdict and the rule (or rules, `; `-separated) that decided it, in words for a committee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Decision,
    pub rule: String,
}

/// Decides whether `purpose` may use data consented under `data`; see the module docs for the
/// rules. `diseases` answers whether a purpose's disease is a kind of a consented one.
pub fn match_purpose(purpose: &ResearchPurpose, data: &DataUse, diseases: &DiseaseHierarchy) -> Verdict {
    let mut no: Vec<String> = Vec::new();
    let mut review: Vec<String> = Vec::new();
    let mut ok: Vec<String> = Vec::new();
    let name = |d: &str| match diseases.label(d) {
        Some(label) => format!("{} ({label})", term_curie(&term_iri(d))),
        None => term_curie(&term_iri(d)),
    };
    let consented = || data.diseases.iter().map(|d| name(d)).collect::<Vec<_>>().join(", ");

    let general = [DuoTerm::Gru, DuoTerm::Nres].into_iter().find(|t| data.has(*t));
    if let Some(general) = general {
        ok.push(format!("{}: data may be used for any research purpose", general.display()));
    } else if !data.terms.iter().any(|t| t.is_permission()) {
        review.push("data carries no DUO permission (GRU, HMB, DS, POA or NRES): the committee must judge".into());
    } else {
        for disease in &purpose.diseases {
            if data.has(DuoTerm::Hmb) {
                ok.push(format!("DS purpose {} fits HMB consent: disease research is health research", name(disease)));
            } else if data.has(DuoTerm::Ds) && data.diseases.is_empty() {
                review.push("data is DS but names no disease: the committee must judge".into());
            } else if data.has(DuoTerm::Ds) {
                match data.diseases.iter().find(|c| diseases.is_a(disease, c)) {
                    Some(c) if term_iri(disease) == *c => {
                        ok.push(format!("DS: purpose and consent are both for {}", name(c)));
                    }
                    Some(c) => ok.push(format!(
                        "DS: purpose disease {} is a kind of {}, which the data is consented for (MONDO ancestor)",
                        name(disease),
                        name(c)
                    )),
                    None => no.push(format!(
                        "DS: purpose disease {} is neither the consented disease nor a kind of it in MONDO (consented: {})",
                        name(disease),
                        consented()
                    )),
                }
            } else {
                no.push(format!("DS purpose {} is not covered by POA-only consent", name(disease)));
            }
        }
        if purpose.health_medical {
            if data.has(DuoTerm::Hmb) {
                ok.push("HMB: purpose and consent are both health/medical/biomedical research".into());
            } else if data.has(DuoTerm::Ds) {
                no.push(format!("HMB purpose is broader than the DS consent for {}", consented()));
            } else {
                no.push("HMB purpose is not covered by POA-only consent".into());
            }
        }
        if purpose.population_origins {
            if data.has(DuoTerm::Poa) {
                ok.push("POA: purpose and consent are both population origins or ancestry research".into());
            } else {
                no.push("POA purpose needs GRU or POA consent (HMB and DS exclude population origins or ancestry research)".into());
            }
        }
        if purpose.diseases.is_empty() && !purpose.health_medical && !purpose.population_origins {
            if purpose.other.is_none() {
                no.push("a purpose that is neither disease-specific, HMB nor POA needs GRU consent".into());
            }
        } else if data.has(DuoTerm::Poa) && !purpose.population_origins {
            no.push("data is consented for population origins or ancestry research only (POA)".into());
        }
    }

    if purpose.commercial {
        for t in [DuoTerm::Npu, DuoTerm::Ncu, DuoTerm::Npuncu] {
            if data.has(t) {
                no.push(format!("commercial purpose on data restricted to non-profit use: {}", t.display()));
            }
        }
    }
    if purpose.methods && data.has(DuoTerm::Nmds) {
        no.push(format!("methods development on data that forbids it: {}", DuoTerm::Nmds.display()));
    }
    if purpose.population_origins && data.has(DuoTerm::Npoa) {
        no.push(format!("POA purpose on data that forbids it: {}", DuoTerm::Npoa.display()));
    }
    for t in ABSTAIN {
        if data.has(*t) {
            review.push(format!("data requires {}: the matcher cannot judge this condition", t.display()));
        }
    }
    for unknown in &data.unknown {
        review.push(format!("data carries a term the matcher does not know: {unknown}"));
    }
    if let Some(other) = &purpose.other {
        review.push(format!("purpose states another aim the committee must read: {other}"));
    }

    let (outcome, rules) = if !no.is_empty() {
        (Decision::NoMatch, no)
    } else if !review.is_empty() {
        (Decision::NeedsReview, review)
    } else {
        (Decision::Match, ok)
    };
    Verdict { outcome, rule: rules.join("; ") }
}

/// A DUO term suggested for a free-text policy, with the words that suggested it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The DUO term IRI.
    pub duo: String,
    pub term: DuoTerm,
    /// The text span that suggested it.
    pub evidence: String,
    /// For DS: the disease terms (IRIs) recognised in the evidence; empty when none were, and a
    /// steward picks the disease.
    pub diseases: Vec<String>,
}

/// Suggests DUO terms for a free-text data use policy (English or Japanese). Without a disease
/// hierarchy, a "limited to research on X" phrase is DS when X reads like a disease and RS
/// (research specific) otherwise; [`suggest_from_text_with`] also names the MONDO terms.
pub fn suggest_from_text(text: &str) -> Vec<Suggestion> {
    suggest_from_text_with(text, &DiseaseHierarchy::new())
}

/// Keyword rules: (term, pattern). Patterns are case-insensitive; Japanese wording as NBDC and
/// DUO's Japanese labels (`duo-japanese.owl`) phrase it.
fn keyword_rules() -> &'static [(DuoTerm, Regex)] {
    static RULES: OnceLock<Vec<(DuoTerm, Regex)>> = OnceLock::new();
    RULES.get_or_init(|| {
        let rules: &[(DuoTerm, &str)] = &[
            (DuoTerm::Npu, r"private compan(?:y|ies)|for[- ]profit (?:organi[sz]ations?|compan(?:y|ies)|entit(?:y|ies))|民間企業|営利企業|営利団体|企業に(?:所属|勤務)"),
            (DuoTerm::Ncu, r"non[- ]?commercial|commercial (?:use|purposes?)|営利目的|商用利用|商業目的|非営利"),
            (DuoTerm::Irb, r"\bIRBs?\b|\bERB\b|institutional review board|ethic(?:s|al) (?:committee|review|approval|board)|倫理審査|倫理委員会"),
            (DuoTerm::Col, r"collaborat(?:e|ion|ing) with|collaboration (?:is )?required|共同研究"),
            (DuoTerm::Pub, r"(?:publish|make) (?:the )?results|results[^.]{0,40}available to [^.]{0,30}scientific community|成果を(?:公開|公表)"),
            (DuoTerm::Mor, r"publication moratorium|embargo|出版猶予|公表(?:を|は)(?:控え|猶予)"),
            (DuoTerm::Gso, r"genetic (?:studies|research) only|遺伝(?:学)?(?:的)?研究(?:のみ|に限)"),
            (DuoTerm::Rtn, r"return (?:the )?(?:derived|enriched|generated) data|(?:データベース|リソース)へ(?:の)?還元"),
            (DuoTerm::Nmds, r"(?:no|not?[^.]{0,20}) methods? development|手法開発(?:は|を)?(?:禁止|認め)"),
            (DuoTerm::Gs, r"outside (?:of )?japan|within japan|国外(?:への|に)|海外への持ち出し|国内に限"),
            (DuoTerm::Ts, r"time limit|利用期間の限定"),
            (DuoTerm::Hmb, r"health,? medical,? (?:or |and )?biomedical|健康/医療/生物医学"),
            (DuoTerm::Gru, r"general research use|一般研究利用"),
        ];
        rules
            .iter()
            .map(|(t, p)| (*t, Regex::new(&format!("(?i){p}")).expect("suggestion patterns are valid")))
            .collect()
    })
}

/// "limited to the researchers who work on X" and its Japanese forms: the X.
fn limited_to_rules() -> &'static [Regex] {
    static RULES: OnceLock<Vec<Regex>> = OnceLock::new();
    RULES.get_or_init(|| {
        [
            r"(?i)limited to (?:the )?(?:researchers?|research|studies|projects?)(?: who| that| which)? (?:works?|stud(?:y|ies)|research(?:es)?|focus(?:es)?) (?:on|in) ([^.;]+)",
            r"(?i)(?:only|solely) (?:be used )?for (?:research|studies) (?:on|of|into) ([^.;]+)",
            r"(?:本データの利用は|利用は)?([^、。]+?)(?:に関する|の)?(?:研究|解析)(?:に(?:従事す|携わ)る研究者)?(?:に|のみに)限(?:ります|る|定)",
        ]
        .iter()
        .map(|p| Regex::new(p).expect("suggestion patterns are valid"))
        .collect()
    })
}

fn diseaseish() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)cancer|tumou?r|carcinoma|neoplasm|sarcoma|leuka?emia|lymphoma|disease|disorder|syndrome|diabetes|infection|がん|癌|腫瘍|疾患|病|症")
            .expect("valid")
    })
}

/// Like [`suggest_from_text`], and names the diseases of `diseases` whose labels appear in a
/// "limited to research on X" phrase (tolerating a typo or two in long labels).
pub fn suggest_from_text_with(text: &str, diseases: &DiseaseHierarchy) -> Vec<Suggestion> {
    let mut out: Vec<Suggestion> = Vec::new();
    for (term, re) in keyword_rules() {
        if let Some(m) = re.find(text) {
            out.push(Suggestion { duo: term.iri(), term: *term, evidence: m.as_str().trim().to_owned(), diseases: vec![] });
        }
    }
    for re in limited_to_rules() {
        for caps in re.captures_iter(text) {
            let evidence = caps.get(0).map_or("", |m| m.as_str()).trim().to_owned();
            let topic = caps.get(1).map_or("", |m| m.as_str());
            let found = find_diseases(topic, diseases);
            let term = if !found.is_empty() || diseaseish().is_match(topic) { DuoTerm::Ds } else { DuoTerm::Rs };
            if !out.iter().any(|s| s.term == term && s.evidence == evidence) {
                out.push(Suggestion { duo: term.iri(), term, evidence, diseases: found });
            }
        }
    }
    out
}

/// Disease IRIs whose label occurs in `topic`, exactly or within a small edit distance.
fn find_diseases(topic: &str, diseases: &DiseaseHierarchy) -> Vec<String> {
    let words: Vec<String> = topic
        .split(|c: char| !c.is_alphanumeric() && c != '-' && c != '\'')
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect();
    let mut found = Vec::new();
    for (iri, label) in diseases.labels() {
        let label_words: Vec<String> = label.split_whitespace().map(str::to_lowercase).collect();
        let n = label_words.len();
        if n == 0 || n > words.len() {
            continue;
        }
        let wanted = label_words.join(" ");
        let allowed = if wanted.chars().count() >= 12 { wanted.chars().count() / 10 } else { 0 };
        if words.windows(n).any(|w| edit_distance(&w.join(" "), &wanted) <= allowed) {
            found.push(iri.to_owned());
        }
    }
    found
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real MONDO module: fallopian tube benign neoplasm (MONDO:0000645) is_a MONDO:0000624.
    const MONDO: &[u8] = include_bytes!("../../ontology/vocab/mondo_module.json");
    const CHILD: &str = "MONDO:0000645";
    const PARENT: &str = "MONDO:0000624";

    fn mondo() -> DiseaseHierarchy {
        let mut h = DiseaseHierarchy::new();
        h.add_obographs(MONDO, "mondo_module.json").unwrap();
        h
    }

    fn data(terms: &[&str]) -> DataUse {
        DataUse::from_terms(terms)
    }

    fn ds(disease: &str) -> ResearchPurpose {
        ResearchPurpose { diseases: vec![disease.into()], ..Default::default() }
    }

    fn hmb() -> ResearchPurpose {
        ResearchPurpose { health_medical: true, ..Default::default() }
    }

    fn poa() -> ResearchPurpose {
        ResearchPurpose { population_origins: true, ..Default::default() }
    }

    fn verdict(p: &ResearchPurpose, d: &DataUse) -> Verdict {
        match_purpose(p, d, &mondo())
    }

    #[track_caller]
    fn assert_verdict(v: &Verdict, outcome: Decision, rule_mentions: &str) {
        assert_eq!(v.outcome, outcome, "{v:?}");
        assert!(v.rule.contains(rule_mentions), "rule should mention {rule_mentions:?}: {v:?}");
    }

    #[test]
    fn terms_parse_from_iris_curies_and_shorthands() {
        assert_eq!(DuoTerm::parse("http://purl.obolibrary.org/obo/DUO_0000042"), Some(DuoTerm::Gru));
        assert_eq!(DuoTerm::parse("DUO:0000046"), Some(DuoTerm::Ncu));
        assert_eq!(DuoTerm::parse("duo_0000007"), None, "OBO ids are case-sensitive");
        assert_eq!(DuoTerm::parse("npuncu"), Some(DuoTerm::Npuncu));
        assert_eq!(DuoTerm::Irb.iri(), "http://purl.obolibrary.org/obo/DUO_0000021");
        let d = data(&["DUO:0000007", "MONDO:0000624", "DUO:0000032", "https://example.org/x"]);
        assert_eq!(d.terms, BTreeSet::from([DuoTerm::Ds]));
        assert_eq!(d.diseases, BTreeSet::from(["http://purl.obolibrary.org/obo/MONDO_0000624".to_owned()]));
        // DUO:0000032 (population research) is a purpose term, not a data use: kept as unknown.
        assert_eq!(d.unknown, BTreeSet::from(["DUO:0000032".to_owned(), "https://example.org/x".to_owned()]));
        assert_eq!(d.iris()[0], "http://purl.obolibrary.org/obo/DUO_0000007");
    }

    #[test]
    fn every_term_matches_duo_csv() {
        let csv = include_str!("../../tests/fixtures/duo/duo.csv");
        for t in DuoTerm::all() {
            let row = csv.lines().find(|l| l.starts_with(&t.curie())).unwrap_or_else(|| panic!("{t:?} not in duo.csv"));
            assert!(row.contains(&format!(",{},", t.code())), "{row}");
            assert!(row.contains(t.label()), "{row}");
        }
    }

    #[test]
    fn general_use_matches_every_purpose() {
        for gru in ["GRU", "NRES"] {
            for p in [ds(CHILD), hmb(), poa(), ResearchPurpose::default()] {
                assert_verdict(&verdict(&p, &data(&[gru])), Decision::Match, gru);
            }
        }
    }

    #[test]
    fn ds_purpose_matches_same_disease_and_mondo_ancestor_not_descendant() {
        assert_verdict(&verdict(&ds(CHILD), &data(&["DS", CHILD])), Decision::Match, "both for MONDO:0000645");
        let v = verdict(&ds(CHILD), &data(&["DUO:0000007", PARENT]));
        assert_verdict(&v, Decision::Match, "MONDO:0000645 (fallopian tube benign neoplasm) is a kind of MONDO:0000624");
        // Consent for the narrower disease does not cover research on the broader one.
        let v = verdict(&ds(PARENT), &data(&["DS", CHILD]));
        assert_verdict(&v, Decision::NoMatch, "neither the consented disease nor a kind of it");
        // Without the hierarchy the ancestor is unknown, so the same request is refused.
        let v = match_purpose(&ds(CHILD), &data(&["DS", PARENT]), &DiseaseHierarchy::new());
        assert_eq!(v.outcome, Decision::NoMatch);
    }

    #[test]
    fn ds_purpose_matches_hmb_but_hmb_purpose_does_not_match_ds() {
        assert_verdict(&verdict(&ds(CHILD), &data(&["HMB"])), Decision::Match, "fits HMB");
        assert_verdict(&verdict(&hmb(), &data(&["DS", PARENT])), Decision::NoMatch, "broader than the DS consent");
        assert_verdict(&verdict(&hmb(), &data(&["HMB"])), Decision::Match, "HMB");
        assert_verdict(&verdict(&ds(CHILD), &data(&["DS"])), Decision::NeedsReview, "names no disease");
    }

    #[test]
    fn population_origins_needs_gru_or_poa() {
        assert_verdict(&verdict(&poa(), &data(&["POA"])), Decision::Match, "POA");
        assert_verdict(&verdict(&poa(), &data(&["HMB"])), Decision::NoMatch, "POA purpose needs GRU or POA");
        assert_verdict(&verdict(&ds(CHILD), &data(&["POA"])), Decision::NoMatch, "POA-only");
        assert_verdict(&verdict(&hmb(), &data(&["POA"])), Decision::NoMatch, "POA-only");
        assert_verdict(&verdict(&poa(), &data(&["GRU", "NPOA"])), Decision::NoMatch, "NPOA");
        let general = ResearchPurpose::default();
        assert_verdict(&verdict(&general, &data(&["HMB"])), Decision::NoMatch, "needs GRU");
    }

    #[test]
    fn commercial_never_matches_non_profit_data() {
        let commercial = ResearchPurpose { commercial: true, ..hmb() };
        for code in ["NCU", "NPU", "NPUNCU"] {
            let v = verdict(&commercial, &data(&["GRU", code]));
            assert_verdict(&v, Decision::NoMatch, &format!("non-profit use: {code}"));
            // The same research done not for profit matches.
            assert_eq!(verdict(&hmb(), &data(&["GRU", code])).outcome, Decision::Match);
        }
        assert_eq!(verdict(&commercial, &data(&["HMB"])).outcome, Decision::Match);
        // A definite no outranks an abstention.
        let v = verdict(&commercial, &data(&["GRU", "NCU", "COL"]));
        assert_eq!(v.outcome, Decision::NoMatch, "{v:?}");
    }

    #[test]
    fn methods_development_on_nmds_data_does_not_match() {
        let methods = ResearchPurpose { methods: true, ..hmb() };
        assert_verdict(&verdict(&methods, &data(&["HMB", "NMDS"])), Decision::NoMatch, "NMDS");
        assert_eq!(verdict(&methods, &data(&["HMB"])).outcome, Decision::Match);
        assert_eq!(verdict(&hmb(), &data(&["HMB", "NMDS"])).outcome, Decision::Match);
    }

    #[test]
    fn conditions_it_cannot_judge_make_it_abstain() {
        for t in ABSTAIN {
            let v = verdict(&hmb(), &data(&["GRU", t.code()]));
            assert_verdict(&v, Decision::NeedsReview, &format!("data requires {}", t.code()));
        }
        assert_eq!(verdict(&hmb(), &data(&["GRU", "CC"])).outcome, Decision::Match, "CC restricts nothing");
        assert_verdict(&verdict(&hmb(), &data(&["IRB"])), Decision::NeedsReview, "no DUO permission");
        assert_verdict(&verdict(&hmb(), &data(&["GRU", "DUO:0000032"])), Decision::NeedsReview, "DUO:0000032");
        let other = ResearchPurpose { other: Some("train a chatbot".into()), ..Default::default() };
        assert_verdict(&verdict(&other, &data(&["GRU"])), Decision::NeedsReview, "train a chatbot");
    }

    #[test]
    fn purposes_from_terms_and_duos_json() {
        let p = ResearchPurpose::from_terms(["DUO:0000007", "MONDO:0000645", "DUO:0000031"], true).unwrap();
        assert_eq!(p.diseases, vec!["http://purl.obolibrary.org/obo/MONDO_0000645".to_owned()]);
        assert!(p.methods && p.commercial && !p.health_medical);
        let err = ResearchPurpose::from_terms(["DS"], false).unwrap_err();
        assert!(err.0.contains("must name its disease"), "{err}");
        let err = ResearchPurpose::from_terms(["NCU"], false).unwrap_err();
        assert!(err.0.starts_with("`NCU` is not a research purpose term"), "{err}");

        let doc = serde_json::json!({"diseaseRestrictions": ["MONDO:0000624"], "nonProfitUse": true,
            "ethicsApprovalRequired": true, "geographicalRestrictions": ""});
        let d = DataUse::from_duos_json(&doc).unwrap();
        assert_eq!(d.terms, BTreeSet::from([DuoTerm::Ds, DuoTerm::Npu, DuoTerm::Irb]));
        assert_eq!(verdict(&ds(CHILD), &d).outcome, Decision::NeedsReview);
        let err = DataUse::from_duos_json(&serde_json::json!({"diseaseRestrictions": "MONDO:1"})).unwrap_err();
        assert!(err.0.contains("diseaseRestrictions must be an array"), "{err}");
    }

    /// The JGA policy texts of the fixture, by accession.
    fn jga_policies() -> Vec<(String, String)> {
        let xml = include_str!("../../tests/fixtures/jga/jga-policy.xml");
        let doc = roxmltree::Document::parse(xml).unwrap();
        doc.descendants()
            .filter(|n| n.has_tag_name("POLICY"))
            .map(|p| {
                let text = p.children().find(|c| c.has_tag_name("POLICY_TEXT")).and_then(|c| c.text()).unwrap_or("");
                (p.attribute("accession").unwrap().to_owned(), text.to_owned())
            })
            .collect()
    }

    fn codes(s: &[Suggestion]) -> Vec<&'static str> {
        s.iter().map(|s| s.term.code()).collect()
    }

    #[test]
    fn suggestions_for_the_jga_policies() {
        // Real MONDO terms and labels for the two diseases these policies name.
        let ttl = br#"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
            @prefix obo: <http://purl.obolibrary.org/obo/> .
            obo:MONDO_0008903 rdfs:label "lung cancer" .
            obo:MONDO_0011719 rdfs:label "gastrointestinal stromal tumor" ; rdfs:subClassOf obo:MONDO_0005070 ."#;
        let mut h = DiseaseHierarchy::new();
        h.add_triples(&musubi_ontology::parse_triples(ttl, musubi_ontology::RdfFormat::Turtle, "http://example.org/").unwrap());
        let by: std::collections::HashMap<String, Vec<Suggestion>> =
            jga_policies().into_iter().map(|(acc, text)| (acc, suggest_from_text_with(&text, &h))).collect();
        assert_eq!(by.len(), 7);
        assert!(by["JGAP000001"].is_empty(), "the bare NBDC policy states no extra condition");
        assert_eq!(codes(&by["JGAP000002"]), ["DS"]);
        assert_eq!(by["JGAP000002"][0].diseases, ["http://purl.obolibrary.org/obo/MONDO_0008903"]);
        assert!(by["JGAP000002"][0].evidence.contains("Lung Cancer Study"));
        assert_eq!(codes(&by["JGAP000003"]), ["NPU"]);
        assert_eq!(by["JGAP000003"][0].evidence, "private companies");
        assert_eq!(codes(&by["JGAP000004"]), ["IRB"]);
        // "gastrointstinal" is misspelt in the source; the label still matches.
        assert_eq!(codes(&by["JGAP000005"]), ["DS"]);
        assert_eq!(by["JGAP000005"][0].diseases, ["http://purl.obolibrary.org/obo/MONDO_0011719"]);
        assert!(by["JGAP000006"].is_empty(), "{:?}", by["JGAP000006"]);
        // Bone marrow transplantation is a procedure, not a disease: research specific.
        assert_eq!(codes(&by["JGAP000007"]), ["NPU", "RS"]);
        assert_eq!(by["JGAP000002"][0].duo, DuoTerm::Ds.iri());
    }

    #[test]
    fn suggestions_from_japanese_wording() {
        // Written here after NBDC's Japanese policy pages (the fixture has only the English).
        let s = suggest_from_text("NBDCポリシーに加え、本データの利用は肺がん研究に従事する研究者に限ります。");
        assert_eq!(codes(&s), ["DS"]);
        assert!(s[0].evidence.contains("肺がん"), "{s:?}");
        let s = suggest_from_text("NBDCポリシーに加え、民間企業に所属する研究者は本データを利用できません。");
        assert_eq!(codes(&s), ["NPU"]);
        let s = suggest_from_text("利用者は所属機関の倫理審査委員会の承認を得ること。営利目的での利用は禁止します。");
        assert_eq!(codes(&s), ["NCU", "IRB"]);
        let s = suggest_from_text("データ提供者との共同研究が必須です。研究成果を公開すること。");
        assert_eq!(codes(&s), ["COL", "PUB"]);
        let s = suggest_from_text("骨髄移植に関する研究に限ります。");
        assert_eq!(codes(&s), ["RS"]);
        assert!(suggest_from_text("NBDC Policy").is_empty());
    }
}
