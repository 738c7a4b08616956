//! The grants that funded the work (not access grants: those are the ledger's).

use super::*;

/// A grant that funded the work.
#[derive(Debug, Clone)]
pub struct FundingGrant(pub(super) Entity);

// Shown as `Grant`, the API's name since the first release.
#[Object(name = "Grant")]
impl FundingGrant {
    /// Grant numbers.
    async fn identifiers(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCT_IDENTIFIER)?))
    }
    async fn title(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::DCT_TITLE, lang.as_deref())?))
    }
    /// The funding agency or programme.
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agent>> {
        Ok(self.0.links(ctx, v::SCHEMA_FUNDER)?.into_iter().next().map(Agent::node))
    }
}
