//! What describes a record's content: sample attributes, concepts (keywords), a table's
//! columns, diseases.

use super::*;

/// A tag and its value, as a submitter attached them to a record.
#[derive(Debug, Clone)]
pub struct Attribute(pub(super) Entity);

#[Object]
impl Attribute {
    async fn label(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::RDFS_LABEL)
    }
    async fn value(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::RDF_VALUE)
    }
}

/// A term of a code list or classification (SKOS concept).
#[derive(Debug, Clone)]
pub struct Concept(pub(super) Entity);

#[Object]
impl Concept {
    async fn iri(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        guard(ctx, v::MUSUBI_IRI, &self.0.scope)?;
        Ok(self.0.iri())
    }
    /// The code (e.g. "Y59.0").
    async fn notation(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::SKOS_NOTATION)
    }
    async fn pref_label(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::SKOS_PREF_LABEL, lang.as_deref())?))
    }
    async fn definition(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::SKOS_DEFINITION, lang.as_deref())?))
    }
}

/// A column (variable) of a dataset's data model (W3C CSVW).
#[derive(Debug, Clone)]
pub struct Column(pub(super) Entity);

#[Object]
impl Column {
    async fn name(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::CSVW_NAME)
    }
    /// The column's datatype (an IRI or a JSON Schema type name).
    async fn datatype(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::CSVW_DATATYPE)
    }
    /// What the column holds.
    async fn describes(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::CSVW_DESCRIBES, lang.as_deref())?))
    }
    /// The values the column allows, when the data model lists them.
    async fn allowed_values(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_ALLOWED_VALUE)?))
    }
}

/// A disease studied, with its codes.
#[derive(Debug, Clone)]
pub struct Disease(pub(super) Entity);

#[Object]
impl Disease {
    async fn label(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::RDFS_LABEL)
    }
    async fn icd10(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_ICD10)
    }
    async fn mondo(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_MONDO)
    }
}
