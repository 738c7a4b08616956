//! People, organisations and data access committees a record names.

use super::*;

/// A person, an organisation or a data access committee; or only its IRI, where a source names an
/// agent (an ORCID, say) without describing it.
#[derive(Debug, Clone)]
pub struct Agent {
    entity: Option<Entity>,
    iri: Option<String>,
    /// The tier scope of the record that names the agent.
    scope: Scope,
}

impl Agent {
    pub(super) fn node(entity: Entity) -> Agent {
        Agent { iri: entity.iri(), scope: entity.scope.clone(), entity: Some(entity) }
    }

    /// What the agent's node says of `property`, read with `read`; nothing for an agent known
    /// only by IRI, but the property's tier is checked either way, so a denied field is denied
    /// whether or not the source describes the agent.
    fn with<T: Default>(&self, ctx: &Context<'_>, property: NamedNodeRef<'_>, read: impl FnOnce(&Entity) -> Result<T>) -> Result<T> {
        guard(ctx, property, &self.scope)?;
        self.entity.as_ref().map_or_else(|| Ok(T::default()), read)
    }
}

/// The agents a property names: described nodes, and IRIs the source does not describe.
pub(super) fn agents(e: &Entity, ctx: &Context<'_>, property: NamedNodeRef<'_>) -> Result<Vec<Agent>> {
    let linked = e.links(ctx, property)?;
    let mut out: Vec<Agent> = e
        .read(ctx, property)?
        .iter()
        .filter_map(|t| match t {
            TermRef::NamedNode(n) if !linked.iter().any(|l| l.iri().as_deref() == Some(n.as_str())) => {
                Some(Agent { entity: None, iri: Some(n.as_str().to_owned()), scope: e.scope.clone() })
            }
            _ => None,
        })
        .collect();
    out.extend(linked.into_iter().map(Agent::node));
    Ok(out)
}

#[Object]
impl Agent {
    async fn iri(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        guard(ctx, v::MUSUBI_IRI, &self.scope)?;
        Ok(self.iri.clone())
    }
    async fn name(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.with(ctx, v::FOAF_NAME, |e| e.texts(ctx, v::FOAF_NAME, lang.as_deref()))?))
    }
    /// The organisation a person belongs to.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Agent>> {
        self.with(ctx, v::SCHEMA_AFFILIATION, |e| Ok(e.links(ctx, v::SCHEMA_AFFILIATION)?.into_iter().next().map(Agent::node)))
    }
    async fn country(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.with(ctx, v::SCHEMA_ADDRESS_COUNTRY, |e| e.first(ctx, v::SCHEMA_ADDRESS_COUNTRY))
    }
    async fn homepage(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.with(ctx, v::FOAF_HOMEPAGE, |e| e.first(ctx, v::FOAF_HOMEPAGE))
    }
    /// The committee's or organisation's accession (e.g. EGAC…), if it has one.
    async fn accession(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.with(ctx, v::DCT_IDENTIFIER, |e| e.first(ctx, v::DCT_IDENTIFIER))
    }
    async fn description(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.with(ctx, v::DCT_DESCRIPTION, |e| e.texts(ctx, v::DCT_DESCRIPTION, lang.as_deref()))?))
    }
    /// Whom to contact (e.g. a committee's contacts).
    async fn contact_points(&self, ctx: &Context<'_>) -> Result<Option<Vec<Agent>>> {
        Ok(Some(self.with(ctx, v::DCAT_CONTACT_POINT, |e| Ok(e.links(ctx, v::DCAT_CONTACT_POINT)?.into_iter().map(Agent::node).collect()))?))
    }
    /// Telephone number (REGISTERED).
    async fn telephone(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.with(ctx, v::SCHEMA_TELEPHONE, |e| e.first(ctx, v::SCHEMA_TELEPHONE))
    }
    /// E-mail address (REGISTERED).
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.with(ctx, v::FOAF_MBOX, |e| Ok(e.first(ctx, v::FOAF_MBOX)?.map(|m| m.trim_start_matches("mailto:").to_owned())))
    }
}
