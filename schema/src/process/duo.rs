//! DUO verdicts for access requests: the research use against a dataset's data-use conditions,
//! decided by the ontology's DUO matcher (`musubi_ontology::duo`).

use musubi_ontology::disease::DiseaseHierarchy;

use super::{ResearchUse, VerdictOutcome};

/// The verdict on one dataset and the rule that decided it.
pub fn verdict(_research_use: &ResearchUse, conditions: &[String], _diseases: &DiseaseHierarchy) -> (VerdictOutcome, String) {
    if conditions.is_empty() {
        return (VerdictOutcome::NeedsReview, "the dataset states no DUO data-use conditions".to_owned());
    }
    (VerdictOutcome::NeedsReview, "DUO matcher not available".to_owned())
}
