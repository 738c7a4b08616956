//! Publications that describe or use the data.

use super::*;

/// A publication that describes or uses the data.
#[derive(Debug, Clone)]
pub enum Publication {
    Node(Entity),
    /// Only the IRI is known; the scope is that of the record that cites it.
    Iri(String, Scope),
}

#[Object]
impl Publication {
    async fn iri(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        match self {
            Publication::Node(e) => {
                guard(ctx, v::MUSUBI_IRI, &e.scope)?;
                Ok(e.iri())
            }
            Publication::Iri(i, scope) => {
                guard(ctx, v::MUSUBI_IRI, scope)?;
                Ok(Some(i.clone()))
            }
        }
    }
    async fn title(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(match self {
            Publication::Node(e) => e.texts(ctx, v::DCT_TITLE, lang.as_deref()),
            Publication::Iri(_, scope) => guard(ctx, v::DCT_TITLE, scope).map(|()| Vec::new()),
        }?))
    }
    async fn pmid(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        match self {
            Publication::Node(e) => e.first(ctx, v::BIBO_PMID),
            Publication::Iri(_, scope) => guard(ctx, v::BIBO_PMID, scope).map(|()| None),
        }
    }
    /// Journal, year, volume and pages.
    async fn citation(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        match self {
            Publication::Node(e) => e.first(ctx, v::DCT_BIBLIOGRAPHIC_CITATION),
            Publication::Iri(_, scope) => guard(ctx, v::DCT_BIBLIOGRAPHIC_CITATION, scope).map(|()| None),
        }
    }
    async fn creators(&self, ctx: &Context<'_>) -> Result<Option<Vec<Agent>>> {
        Ok(Some(match self {
            Publication::Node(e) => agents(e, ctx, v::DCT_CREATOR),
            Publication::Iri(_, scope) => guard(ctx, v::DCT_CREATOR, scope).map(|()| Vec::new()),
        }?))
    }
    async fn doi(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        match self {
            Publication::Node(e) => e.first(ctx, v::BIBO_DOI),
            Publication::Iri(i, scope) => {
                guard(ctx, v::BIBO_DOI, scope)?;
                Ok(i.split_once("doi.org/").map(|(_, d)| d.to_owned()))
            }
        }
    }
    /// The datasets the publication reports on, as the source names them.
    async fn dataset_accessions(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(match self {
            Publication::Node(e) => e.strings(ctx, v::MUSUBI_DATASET_ACCESSION),
            // The same tier whether or not the source describes the publication.
            Publication::Iri(_, scope) => guard(ctx, v::MUSUBI_DATASET_ACCESSION, scope).map(|()| Vec::new()),
        }?))
    }
}

/// The publications a record names: described nodes, and IRIs (a DOI URL) the source does not
/// describe.
pub(super) fn publications(e: &Entity, ctx: &Context<'_>) -> Result<Vec<Publication>> {
    let linked = e.links(ctx, v::DCT_IS_REFERENCED_BY)?;
    let mut out = Vec::new();
    for t in e.read(ctx, v::DCT_IS_REFERENCED_BY)? {
        if let TermRef::NamedNode(n) = t {
            // A source may give only the IRI (e.g. a DOI URL) without describing it.
            match linked.iter().find(|l| l.iri().as_deref() == Some(n.as_str())) {
                Some(l) => out.push(Publication::Node(l.clone())),
                None => out.push(Publication::Iri(n.as_str().to_owned(), e.scope.clone())),
            }
        }
    }
    out.extend(linked.into_iter().filter(|l| l.iri().is_none()).map(Publication::Node));
    Ok(out)
}
