//! The fields every record (dataset, study, sample) has.

use super::*;

/// The fields every record (dataset or study) has.
#[derive(Debug, Clone)]
pub struct RecordFields(pub(super) Entity);

#[Object]
impl RecordFields {
    /// The dataset's public id: its accession at the source (e.g. JGAD000001, DRA000908).
    async fn id(&self, ctx: &Context<'_>) -> Result<Option<async_graphql::ID>> {
        guard(ctx, v::DCT_IDENTIFIER, &self.0.scope)?;
        Ok(Some(self.0.node().accession().into()))
    }
    /// The accession, as the source states it.
    async fn accession(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        guard(ctx, v::DCT_IDENTIFIER, &self.0.scope)?;
        Ok(Some(self.0.node().accession()))
    }
    /// The IRI of the dataset in the graph.
    async fn iri(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        guard(ctx, v::MUSUBI_IRI, &self.0.scope)?;
        Ok(self.0.iri())
    }
    /// The first source (by id) that has the record; `sources` lists every one.
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        guard(ctx, v::MUSUBI_SOURCE, &self.0.scope)?;
        Ok(Some(&self.0.primary().0.source))
    }
    /// Every source that describes this record: the hub shows them merged, one record.
    async fn sources(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        guard(ctx, v::MUSUBI_SOURCE, &self.0.scope)?;
        let mut sources: Vec<String> = self.0.members.iter().map(|(view, _)| view.source.clone()).collect();
        sources.sort();
        sources.dedup();
        Ok(Some(sources))
    }
    /// Every accession the record has in the sources that describe it (e.g. a JGA study and
    /// the NBDC research it is).
    async fn identifiers(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCT_IDENTIFIER)?))
    }
    /// Where each source's part of the record came from and when. One entry per source, so it
    /// has the tier of `sources` (how many sources hold a record is itself a value).
    async fn provenance(&self, ctx: &Context<'_>) -> Result<Option<Vec<Provenance>>> {
        guard(ctx, v::MUSUBI_SOURCE, &self.0.scope)?;
        let scope = self.0.scope.clone();
        Ok(Some(self.0.members.iter().map(|(view, node)| Provenance(Entity::new(view.clone(), node.clone(), scope.clone()))).collect()))
    }
    /// The values of one field (named as in this schema, e.g. "title", "assays") with the source
    /// that states each: how the merged record's values came together. The field's own tier
    /// applies.
    async fn claims(&self, ctx: &Context<'_>, field: String) -> Result<Option<Vec<Claim>>> {
        let vocabulary = api(ctx).vocabulary();
        let properties: Vec<&str> = vocabulary
            .properties()
            .filter(|p| p.graphql_field.as_deref() == Some(field.as_str()))
            .map(|p| p.iri.as_str())
            .collect();
        if properties.is_empty() {
            return Err(bad_input("field", format!("names no field of a record's graph properties: {field:?}")));
        }
        let mut claims = Vec::new();
        for iri in properties {
            for (source, term) in self.0.claims(ctx, NamedNodeRef::new_unchecked(iri))? {
                let Some(value) = lexical(term) else { continue };
                let lang = match term {
                    TermRef::Literal(l) => l.language().map(str::to_owned),
                    _ => None,
                };
                claims.push(Claim { value, lang, source: source.to_owned() });
            }
        }
        Ok(Some(claims))
    }
    /// Landing pages at the source.
    async fn landing_pages(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCAT_LANDING_PAGE)?))
    }
    /// Title in every language the source gives; `lang` picks one (e.g. "ja", "en").
    async fn title(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::DCT_TITLE, lang.as_deref())?))
    }
    async fn description(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::DCT_DESCRIPTION, lang.as_deref())?))
    }
    async fn principal_investigators(&self, ctx: &Context<'_>) -> Result<Option<Vec<Agent>>> {
        Ok(Some(self.0.links(ctx, v::MUSUBI_PRINCIPAL_INVESTIGATOR)?.into_iter().map(Agent::node).collect()))
    }
    async fn grants(&self, ctx: &Context<'_>) -> Result<Option<Vec<FundingGrant>>> {
        Ok(Some(self.0.links(ctx, v::SCHEMA_FUNDING)?.into_iter().map(FundingGrant).collect()))
    }
    async fn publications(&self, ctx: &Context<'_>) -> Result<Option<Vec<Publication>>> {
        Ok(Some(publications(&self.0, ctx)?))
    }
    async fn release_date(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCT_ISSUED)
    }
    async fn modified(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCT_MODIFIED)
    }
    async fn version(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCAT_VERSION)
    }
    /// Type of data (e.g. "NGS (WGS)").
    #[graphql(name = "type")]
    async fn type_(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::DCT_TYPE, lang.as_deref())?))
    }
    async fn keywords(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCAT_KEYWORD)?))
    }
    async fn alternative_titles(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCT_ALTERNATIVE)?))
    }
    async fn relations(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCT_RELATION)?))
    }
    async fn other_identifiers(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_OTHER_IDENTIFIER)?))
    }
    /// The centre or laboratory that submitted the data to the archive.
    async fn submitters(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_SUBMITTER)?))
    }
    async fn submission_date(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCT_DATE_SUBMITTED)
    }
    /// Web pages about the study or its project.
    async fn related_pages(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::FOAF_PAGE)?))
    }
    /// Organisms studied, as NCBI Taxonomy IRIs.
    async fn organisms(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_ORGANISM)?))
    }
    async fn organism_names(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_ORGANISM_NAME)?))
    }
    async fn created(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCT_CREATED)
    }
    /// Tag-value attributes the submitter added to the record.
    async fn attributes(&self, ctx: &Context<'_>) -> Result<Option<Vec<Attribute>>> {
        Ok(Some(self.0.links(ctx, v::MUSUBI_ATTRIBUTE)?.into_iter().map(Attribute).collect()))
    }
    /// The archive submissions (EGAB…) the record came in.
    async fn submission_accessions(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_SUBMISSION_ACCESSION)?))
    }
    /// Materials and participants (who or what the data is from).
    async fn participants(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_PARTICIPANTS, lang.as_deref())?))
    }
    /// Embargo end date: until then the record is, below STEWARD, one the hub does not have (not
    /// listed, counted, found or linked; asked for by accession, `null`).
    async fn embargo_until(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_EMBARGO_UNTIL)
    }
    /// Provider contact e-mail (REGISTERED).
    async fn contact_email(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_CONTACT_EMAIL)?))
    }
}
