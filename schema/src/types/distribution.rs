//! How a dataset's data is distributed (files, services).

use super::*;

/// One way to get the data (DCAT Distribution).
#[derive(Debug, Clone)]
pub struct Distribution(pub(super) Entity);

#[Object]
impl Distribution {
    async fn iri(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        guard(ctx, v::MUSUBI_IRI, &self.0.scope)?;
        Ok(self.0.iri())
    }
    async fn title(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::DCT_TITLE, lang.as_deref())?))
    }
    async fn format(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCT_FORMAT)?))
    }
    async fn access_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCAT_ACCESS_URL)
    }
    /// Direct file URL (CONTROLLED).
    async fn download_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCAT_DOWNLOAD_URL)
    }
    async fn media_type(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCAT_MEDIA_TYPE)
    }
    async fn licenses(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCT_LICENSE)?))
    }
    /// Who may do what with it, in the publisher's words.
    async fn rights_statement(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_RIGHTS_STATEMENT)?))
    }
    async fn version(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCAT_VERSION)
    }
}
