//! DUO in the API: a dataset's data use, `matchDataUse` (a verdict per dataset for a research
//! purpose), DUO codes suggested from free-text policies (STEWARD) and their confirmation.
//!
//! A dataset's data use is what its own nodes and its policies state as `musubi:dataUseCondition`
//! (DUO IRIs, and MONDO terms for DS), whichever source says it: a policy linked by
//! `odrl:hasPolicy`, a policy that names the dataset by `musubi:datasetAccession` (EGA), and codes
//! a steward confirmed for a free-text policy (kept in the `steward-duo` graph). The matching
//! itself is `musubi_platform::duo`.

use std::collections::BTreeSet;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use musubi_platform::duo::{self, DataUse, DuoTerm, ResearchPurpose};

use crate::ledger::DuoOutcome;
use musubi_ontology::rdf::{NamedNode, NamedOrBlankNode, NamedOrBlankNodeRef, TermRef, Triple};
use musubi_read_model::{MergedRecord, ReadModel};
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab as v;

use crate::access::{RecordPolicy, Scope, guard, guard_tier, api, listed, today};
use crate::errors::bad_input;

/// The source id of the graph holding steward-confirmed DUO codes.
pub const STEWARD_DUO_SOURCE: &str = "steward-duo";

/// Every DUO/MONDO term any node named `id` states, in any source.
fn conditions_of(model: &ReadModel, id: &NamedOrBlankNode, out: &mut BTreeSet<String>) {
    for view in model.views() {
        if let Some(node) = view.node(id) {
            out.extend(node.strings(v::MUSUBI_DATA_USE_CONDITION).into_iter().map(str::to_owned));
        }
    }
}

/// The data use of a merged dataset, from its nodes and its policies (what `matchDataUse`
/// judges; access requests judge the same).
pub fn data_use_of(model: &ReadModel, record: &MergedRecord) -> DataUse {
    let mut terms = BTreeSet::new();
    let mut accessions: BTreeSet<String> = BTreeSet::new();
    for (_, node) in model.members(record) {
        terms.extend(node.strings(v::MUSUBI_DATA_USE_CONDITION).into_iter().map(str::to_owned));
        accessions.insert(node.accession());
        for policy in node.values(v::ODRL_HAS_POLICY) {
            if let TermRef::NamedNode(n) = policy {
                conditions_of(model, &n.into_owned().into(), &mut terms);
            }
        }
    }
    // Policies that name the dataset (EGA policies list their datasets).
    for accession in &accessions {
        for policy in model.policies_naming(accession) {
            conditions_of(model, &policy.id().into_owned(), &mut terms);
        }
    }
    DataUse::from_terms(terms)
}

/// One DUO term.
#[derive(Debug, Clone, SimpleObject)]
pub struct DuoCode {
    /// The term's IRI (http://purl.obolibrary.org/obo/DUO_…).
    pub iri: String,
    /// Its shorthand (GRU, HMB, DS, NCU, …).
    pub code: String,
    pub label: String,
    /// A permission (what research is allowed) rather than a modifier.
    pub permission: bool,
}

impl From<DuoTerm> for DuoCode {
    fn from(t: DuoTerm) -> Self {
        DuoCode { iri: t.iri(), code: t.code().to_owned(), label: t.label().to_owned(), permission: t.is_permission() }
    }
}

/// What a dataset's consent allows, in DUO terms (from the dataset and its policies).
#[derive(Debug, Clone, SimpleObject)]
pub struct DataUseInfo {
    pub terms: Vec<DuoCode>,
    /// Diseases (MONDO IRIs) a disease-specific (DS) permission is restricted to.
    pub diseases: Vec<String>,
    /// Terms stated that the hub does not know (matching abstains on them).
    pub unknown_terms: Vec<String>,
}

impl From<&DataUse> for DataUseInfo {
    fn from(d: &DataUse) -> Self {
        DataUseInfo {
            terms: d.terms.iter().map(|t| DuoCode::from(*t)).collect(),
            diseases: d.diseases.iter().cloned().collect(),
            unknown_terms: d.unknown.iter().cloned().collect(),
        }
    }
}

/// What a dataset's data use reads: its own conditions, its policies' (linked from it, or naming
/// it by accession, as EGA's do), the links themselves.
pub(crate) const DATA_USE_READS: [musubi_ontology::rdf::NamedNodeRef<'static>; 3] =
    [v::MUSUBI_DATA_USE_CONDITION, v::ODRL_HAS_POLICY, v::MUSUBI_DATASET_ACCESSION];

/// The data use of `record` as the caller may read it — the dataset's own conditions and its
/// policies', both tier-checked on the record (and audited like any read) — or the tier reading
/// them needs (what `dataUse` would deny). Verdicts judge only what the caller may read.
pub(crate) fn readable_data_use(ctx: &Context<'_>, model: &ReadModel, record: &MergedRecord, today: &str) -> Result<DataUse, Tier> {
    let hub = api(ctx);
    let accession = record.key().accession.as_str();
    let policy = RecordPolicy::of(record, today);
    if hub.enforced() {
        for property in DATA_USE_READS {
            let tier = crate::access::effective_tier(hub.vocabulary(), property.as_str(), policy);
            guard_tier(ctx, tier, Some(accession)).map_err(|_| tier)?;
        }
    }
    Ok(data_use_of(model, record))
}

/// The rule of a verdict on conditions the caller may not read.
pub(crate) fn unreadable_conditions(tier: Tier) -> String {
    format!("the dataset's data use conditions need the {tier} tier to read: the committee reviews")
}

/// Reads the data use of a dataset the caller is looking at (its tiers checked).
pub(crate) fn dataset_data_use(ctx: &Context<'_>, scope: &Scope) -> Result<DataUseInfo> {
    for property in DATA_USE_READS {
        guard(ctx, property, scope)?;
    }
    let model = api(ctx).model();
    let record = scope.dataset.as_deref().and_then(|a| model.dataset(a));
    Ok(record.map(|r| DataUseInfo::from(&data_use_of(&model, r))).unwrap_or(DataUseInfo { terms: vec![], diseases: vec![], unknown_terms: vec![] }))
}

/// A research purpose, in DUOS v4's terms.
#[derive(Debug, Default, InputObject)]
pub struct ResearchPurposeInput {
    /// Disease-specific research on these diseases (MONDO IRIs or CURIEs, e.g. "MONDO:0000645").
    pub diseases: Option<Vec<String>>,
    /// Health/medical/biomedical research.
    #[graphql(default)]
    pub health_medical: bool,
    /// Research on population origins or ancestry.
    #[graphql(default)]
    pub population_origins: bool,
    /// Developing or validating methods (software, algorithms).
    #[graphql(default)]
    pub methods: bool,
    /// Commercial use, or use by a for-profit organisation.
    pub commercial: bool,
    /// Any other aim, in words (a committee must read it: needs review).
    pub other: Option<String>,
}

impl ResearchPurposeInput {
    pub(crate) fn purpose(&self) -> Result<ResearchPurpose> {
        let diseases = self.diseases.clone().unwrap_or_default();
        for (i, d) in diseases.iter().enumerate() {
            if !musubi_ontology::disease::term_iri(d).starts_with("http://purl.obolibrary.org/obo/MONDO_") {
                return Err(bad_input(&format!("purpose.diseases[{i}]"), format!("{d:?} is not a MONDO term (e.g. MONDO:0000645)")));
            }
        }
        Ok(ResearchPurpose {
            diseases,
            health_medical: self.health_medical,
            population_origins: self.population_origins,
            methods: self.methods,
            commercial: self.commercial,
            other: self.other.clone().filter(|o| !o.trim().is_empty()),
        })
    }
}

/// The verdict for one dataset.
#[derive(Debug, Clone, SimpleObject)]
pub struct DataUseVerdict {
    /// The accession asked about.
    pub dataset: String,
    /// Whether the hub has that dataset (an embargoed one is not found below STEWARD).
    pub found: bool,
    pub outcome: DuoOutcome,
    /// The rule that decided, in words.
    pub rule: String,
    /// The DUO terms the verdict was reached on.
    pub data_use: DataUseInfo,
}

/// A DUO code suggested from a free-text policy, for a steward to confirm.
#[derive(Debug, Clone, SimpleObject)]
pub struct DuoSuggestion {
    pub term: DuoCode,
    /// The words that suggested it.
    pub evidence: String,
    /// For DS: diseases recognised in the text (MONDO IRIs).
    pub diseases: Vec<String>,
}

/// Suggestions for a policy's texts.
pub(crate) fn suggestions(ctx: &Context<'_>, texts: &[String]) -> Vec<DuoSuggestion> {
    let diseases = api(ctx).diseases().clone();
    let mut out: Vec<DuoSuggestion> = Vec::new();
    for text in texts {
        for s in duo::suggest_from_text_with(text, &diseases) {
            if !out.iter().any(|o| o.term.iri == s.duo && o.evidence == s.evidence) {
                out.push(DuoSuggestion { term: s.term.into(), evidence: s.evidence, diseases: s.diseases });
            }
        }
    }
    out
}

#[derive(Debug, Default)]
pub struct DuoQuery;

#[Object]
impl DuoQuery {
    /// A verdict per dataset for a research purpose: match, no match or needs review, with the
    /// rule that decided (DUOS v4 logic over the datasets' public DUO codes and MONDO).
    async fn match_data_use(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What the data would be used for.")] purpose: ResearchPurposeInput,
        #[graphql(desc = "Dataset accessions (at most 100).")] datasets: Vec<async_graphql::ID>,
    ) -> Result<Option<Vec<DataUseVerdict>>> {
        if datasets.len() > 100 {
            return Err(bad_input("datasets", format!("asks about {} datasets; at most 100 at a time", datasets.len())));
        }
        let purpose = purpose.purpose()?;
        let hub = api(ctx);
        let model = hub.model();
        let today = today();
        let mut out = Vec::new();
        for id in datasets {
            let record = model.dataset(id.as_str()).filter(|r| listed(ctx, RecordPolicy::of(r, &today)));
            let Some(record) = record else {
                out.push(DataUseVerdict {
                    dataset: id.to_string(),
                    found: false,
                    outcome: DuoOutcome::NeedsReview,
                    rule: "no dataset with this accession".into(),
                    data_use: DataUseInfo { terms: vec![], diseases: vec![], unknown_terms: vec![] },
                });
                continue;
            };
            let (outcome, rule, data_use) = match readable_data_use(ctx, &model, record, &today) {
                Ok(data) => {
                    let verdict = duo::match_purpose(&purpose, &data, hub.diseases());
                    (verdict.outcome.into(), verdict.rule, DataUseInfo::from(&data))
                }
                Err(tier) => (DuoOutcome::NeedsReview, unreadable_conditions(tier), DataUseInfo { terms: vec![], diseases: vec![], unknown_terms: vec![] }),
            };
            out.push(DataUseVerdict { dataset: id.to_string(), found: true, outcome, rule, data_use });
        }
        Ok(Some(out))
    }
}

#[derive(Debug, Default)]
pub struct DuoMutation;

#[Object]
impl DuoMutation {
    /// Confirms a DUO code for a policy (typically one suggested from its free text): the policy
    /// then carries it as `dataUseCondition`, and matching uses it. STEWARD only. `diseases`
    /// (MONDO terms) go with a DS code.
    async fn confirm_duo_suggestion(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The policy's accession (e.g. JGAP000002) or IRI.")] policy: String,
        #[graphql(desc = "The DUO term (IRI, CURIE or shorthand, e.g. DS).")] duo: String,
        #[graphql(desc = "MONDO terms, with a DS term.")] diseases: Option<Vec<String>>,
    ) -> Result<Option<Vec<String>>> {
        guard_tier(ctx, Tier::Steward, None)?;
        let hub = api(ctx);
        let term = DuoTerm::parse(&duo).ok_or_else(|| bad_input("duo", format!("{duo:?} is not a DUO data use term (e.g. DUO:0000007, NCU)")))?;
        let model = hub.model();
        let iri = policy_iri(&model, &policy).ok_or_else(|| bad_input("policy", format!("no policy {policy:?} (give its accession or IRI)")))?;
        let mut terms = vec![term.iri()];
        for (i, d) in diseases.unwrap_or_default().iter().enumerate() {
            let d = musubi_ontology::disease::term_iri(d);
            if !d.starts_with("http://purl.obolibrary.org/obo/MONDO_") {
                return Err(bad_input(&format!("diseases[{i}]"), format!("{d:?} is not a MONDO term")));
            }
            terms.push(d);
        }
        let subject = NamedNode::new(iri.clone()).map_err(|e| bad_input("policy", e))?;
        let triples = terms.iter().map(|t| Triple::new(subject.clone(), v::MUSUBI_DATA_USE_CONDITION, NamedNode::new_unchecked(t.clone()))).collect();
        hub.add_to_graph(STEWARD_DUO_SOURCE, triples)?;
        let mut now = BTreeSet::new();
        conditions_of(&hub.model(), &NamedOrBlankNode::from(subject), &mut now);
        Ok(Some(now.into_iter().collect()))
    }
}

/// A policy's IRI from its IRI or accession (`JGAP000002`).
fn policy_iri(model: &ReadModel, policy: &str) -> Option<String> {
    model.views().flat_map(|view| view.of_type(v::ODRL_POLICY)).find_map(|n| match n.id() {
        NamedOrBlankNodeRef::NamedNode(iri) if iri.as_str() == policy || n.first(v::DCT_IDENTIFIER) == Some(policy) => Some(iri.as_str().to_owned()),
        _ => None,
    })
}
