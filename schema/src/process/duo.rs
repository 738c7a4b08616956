//! DUO verdicts for access requests: the research use against a dataset's data-use conditions
//! (`musubi:dataUseCondition`: DUO terms, and the MONDO diseases a DS permission names), decided
//! by the ontology's matcher ([`musubi_platform::duo::match_purpose`], DUOS v4 logic).

use musubi_ontology::disease::DiseaseHierarchy;
use musubi_platform::duo::{self, DataUse, ResearchPurpose};

use super::{ResearchUse, VerdictOutcome};

/// The verdict on one dataset and the rule that decided it. A dataset that states no conditions
/// at all is sent to review: its source said nothing about consent, which is not consent.
pub fn verdict(research_use: &ResearchUse, conditions: &[String], diseases: &DiseaseHierarchy) -> (VerdictOutcome, String) {
    if conditions.is_empty() {
        return (VerdictOutcome::NeedsReview, "the dataset states no DUO data-use conditions; the committee decides".to_owned());
    }
    let purpose = ResearchPurpose {
        diseases: research_use.diseases.clone(),
        health_medical: research_use.health_medical_biomedical,
        population_origins: research_use.population_origins,
        methods: research_use.methods,
        commercial: research_use.commercial,
        other: None,
    };
    let v = duo::match_purpose(&purpose, &DataUse::from_terms(conditions), diseases);
    let outcome = match v.outcome {
        duo::Outcome::Match => VerdictOutcome::Match,
        duo::Outcome::NoMatch => VerdictOutcome::NoMatch,
        duo::Outcome::NeedsReview => VerdictOutcome::NeedsReview,
    };
    (outcome, v.rule)
}
