//! Data use: the policies that govern a dataset and the uses a committee approved.

use super::*;

/// A data use or access policy.
#[derive(Debug, Clone)]
pub struct Policy(pub(super) Entity);

#[Object]
impl Policy {
    async fn accession(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCT_IDENTIFIER)
    }
    async fn title(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::DCT_TITLE, lang.as_deref())?))
    }
    async fn text(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_POLICY_TEXT, lang.as_deref())?))
    }
    async fn description(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::DCT_DESCRIPTION, lang.as_deref())?))
    }
    /// Outcomes of this dataset's use that researchers registered (publications, patents,
    /// products, derived datasets), oldest first: public, the return to those who gave the data.
    async fn outcomes(&self, ctx: &Context<'_>) -> Result<Option<Vec<crate::ledger::Outcome>>> {
        outcomes_of(ctx, &self.0.scope).map(Some)
    }
    /// Data use conditions as DUO term IRIs.
    async fn duo_codes(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_DATA_USE_CONDITION)?))
    }
    /// DUO term ids as the source writes them (e.g. "DUO:0000046").
    async fn duo_term_ids(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_DUO_TERM_ID)?))
    }
    async fn duo_labels(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_DUO_LABEL, lang.as_deref())?))
    }
    /// DUO codes suggested from the policy's free text (e.g. JGA policies), for a steward to
    /// confirm with `confirmDuoSuggestion` (STEWARD).
    async fn duo_suggestions(&self, ctx: &Context<'_>) -> Result<Option<Vec<crate::duo::DuoSuggestion>>> {
        crate::access::guard_tier(ctx, musubi_ontology::tier::Tier::Steward, self.0.scope.dataset.as_deref())?;
        let texts: Vec<String> = self
            .0
            .nodes()
            .flat_map(|(_, n)| n.values(v::MUSUBI_POLICY_TEXT))
            .filter_map(|t| match t {
                TermRef::Literal(l) => Some(l.value().to_owned()),
                _ => None,
            })
            .collect();
        Ok(Some(crate::duo::suggestions(ctx, &texts)))
    }
    /// The committee that decides on access under this policy.
    async fn data_access_committee(&self, ctx: &Context<'_>) -> Result<Option<Agent>> {
        Ok(self.0.links(ctx, v::MUSUBI_DATA_ACCESS_COMMITTEE)?.into_iter().next().map(Agent::node))
    }
    /// The datasets the policy governs, by accession.
    async fn dataset_accessions(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_DATASET_ACCESSION)?))
    }
    async fn url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::SCHEMA_URL)
    }
}

/// Controlled access granted to a user: for which research, when, and to which datasets.
#[derive(Debug, Clone)]
pub struct ApprovedUse(pub(super) Entity);

#[Object]
impl ApprovedUse {
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<Agent>> {
        Ok(self.0.links(ctx, v::MUSUBI_USER)?.into_iter().next().map(Agent::node))
    }
    /// The research the data is used for.
    async fn title(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::DCT_TITLE, lang.as_deref())?))
    }
    async fn start_date(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::SCHEMA_START_DATE)
    }
    async fn end_date(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::SCHEMA_END_DATE)
    }
    async fn dataset_accessions(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_DATASET_ACCESSION)?))
    }
}
