//! The GraphQL object types, read from the read model.
//!
//! Every field that shows a graph property passes [`guard`] with that property's IRI first, so its
//! tier comes from the vocabulary. Nested entities carry the [`Scope`] of the record they hang off
//! (its dataset accession and record policy), so that CONTROLLED fields deep in a dataset are
//! checked against the grant for it and an embargo or sensitive flag reaches them too.

use std::sync::Arc;

use async_graphql::{Context, Enum, MergedObject, Object, Result, SimpleObject};
use musubi_ontology::rdf::{NamedNodeRef, NamedOrBlankNode, NamedOrBlankNodeRef, TermRef};
use musubi_read_model::{MergedRecord, Node, ReadModel, SourceView};
use musubi_ontology::vocab::{self as v, AccessLevel as OntologyAccessLevel};

use crate::access::{Hidden, RecordPolicy, Scope, guard, hub, listed, today};
use crate::errors::bad_input;

/// A piece of text in one language (`lang` is null when the source did not say).
#[derive(Debug, Clone, SimpleObject, PartialEq, Eq)]
pub struct Text {
    pub value: String,
    pub lang: Option<String>,
}

/// A dataset's access level, normalised from what its source states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AccessLevel {
    /// Anyone may download the data.
    Open,
    /// A registered researcher may download the data.
    Registered,
    /// A data access committee decides who may use the data.
    Controlled,
    /// The data is not shared.
    Closed,
}

impl From<OntologyAccessLevel> for AccessLevel {
    fn from(l: OntologyAccessLevel) -> Self {
        match l {
            OntologyAccessLevel::Open => AccessLevel::Open,
            OntologyAccessLevel::Registered => AccessLevel::Registered,
            OntologyAccessLevel::Controlled => AccessLevel::Controlled,
            OntologyAccessLevel::Closed => AccessLevel::Closed,
        }
    }
}

impl From<AccessLevel> for OntologyAccessLevel {
    fn from(l: AccessLevel) -> Self {
        match l {
            AccessLevel::Open => OntologyAccessLevel::Open,
            AccessLevel::Registered => OntologyAccessLevel::Registered,
            AccessLevel::Controlled => OntologyAccessLevel::Controlled,
            AccessLevel::Closed => OntologyAccessLevel::Closed,
        }
    }
}

/// One record (or linked node) as the hub shows it: its nodes in every source that describes
/// it, merged, and the dataset it is read for (tier scope).
#[derive(Debug, Clone)]
pub struct Entity {
    /// One node per source, read once when the entity is made (a view on disk reads a node
    /// from its file); the first is the primary (it names and orders the record).
    members: Vec<(Arc<SourceView>, Node)>,
    /// The record this entity is shown as part of: its dataset (grants) and policy.
    scope: Scope,
}

impl Entity {
    pub(crate) fn new(view: Arc<SourceView>, node: Node, scope: Scope) -> Entity {
        Entity { members: vec![(view, node)], scope }
    }

    /// The record the read model merged from every source that describes it.
    pub(crate) fn merged(model: &ReadModel, record: &MergedRecord, scope: Scope) -> Entity {
        let members = record
            .members
            .iter()
            .filter_map(|m| {
                let view = model.view(&m.source)?;
                // A node its view's file cannot give back (damaged) shows as its id alone: the
                // record is still listed, and a request never fails on it.
                Some((view.clone(), view.node(&m.id).unwrap_or_else(|| Node::bare(m.id.as_ref()))))
            })
            .collect();
        Entity { members, scope }
    }

    fn primary(&self) -> &(Arc<SourceView>, Node) {
        &self.members[0]
    }

    fn node(&self) -> &Node {
        &self.primary().1
    }

    fn id(&self) -> NamedOrBlankNode {
        self.node().id().into_owned()
    }

    fn nodes(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.members.iter().map(|(view, node)| (view.source.as_str(), node))
    }

    /// Checks the tier of `property`, then returns its values from every source, each once —
    /// but no link to a record hidden from the caller (see [`Entity::hidden`]).
    fn read(&self, ctx: &Context<'_>, property: NamedNodeRef<'_>) -> Result<Vec<TermRef<'_>>> {
        guard(ctx, property, &self.scope)?;
        let hidden = self.hidden(ctx);
        let mut out: Vec<TermRef<'_>> = Vec::new();
        for (_, node) in self.nodes() {
            for t in node.values(property) {
                if !out.contains(&t) && !hidden.names(t) {
                    out.push(t);
                }
            }
        }
        Ok(out)
    }

    /// Checks the tier of `property`, then returns each value with the source that states it
    /// (no link to a hidden record).
    fn claims(&self, ctx: &Context<'_>, property: NamedNodeRef<'_>) -> Result<Vec<(&str, TermRef<'_>)>> {
        guard(ctx, property, &self.scope)?;
        let hidden = self.hidden(ctx);
        Ok(self.nodes().flat_map(|(source, node)| node.values(property).map(move |t| (source, t))).filter(|(_, t)| !hidden.names(*t)).collect())
    }

    /// The records whose links this entity's values may not show the caller: embargoed ones.
    /// (An embargoed record's own values — its accession and title, all a caller below STEWARD
    /// reads of it — are not links.)
    fn hidden(&self, ctx: &Context<'_>) -> Hidden {
        if self.scope.policy.embargoed { Hidden::none() } else { Hidden::of(ctx) }
    }

    fn strings(&self, ctx: &Context<'_>, property: NamedNodeRef<'_>) -> Result<Vec<String>> {
        Ok(self.read(ctx, property)?.into_iter().filter_map(lexical).collect())
    }

    fn first(&self, ctx: &Context<'_>, property: NamedNodeRef<'_>) -> Result<Option<String>> {
        Ok(self.read(ctx, property)?.into_iter().find_map(lexical))
    }

    fn texts(&self, ctx: &Context<'_>, property: NamedNodeRef<'_>, lang: Option<&str>) -> Result<Vec<Text>> {
        Ok(self
            .read(ctx, property)?
            .into_iter()
            .filter_map(|t| match t {
                TermRef::Literal(l) => Some(Text { value: l.value().to_owned(), lang: l.language().map(str::to_owned) }),
                _ => None,
            })
            .filter(|t| lang.is_none_or(|want| t.lang.as_deref() == Some(want)))
            .collect())
    }

    /// The entities a property links to: in the linking source first, else in any source.
    fn links(&self, ctx: &Context<'_>, property: NamedNodeRef<'_>) -> Result<Vec<Entity>> {
        guard(ctx, property, &self.scope)?;
        let model = hub(ctx).model();
        let hidden = self.hidden(ctx);
        let mut out: Vec<Entity> = Vec::new();
        for (view, node) in &self.members {
            for t in node.values(property).filter(|t| !hidden.names(*t)) {
                let id = match t {
                    TermRef::NamedNode(n) => NamedOrBlankNode::from(n.into_owned()),
                    TermRef::BlankNode(b) => NamedOrBlankNode::from(b.into_owned()),
                    _ => continue,
                };
                // Blank nodes are local to their source; IRIs name one node across sources.
                if matches!(id, NamedOrBlankNode::NamedNode(_)) && out.iter().any(|e| e.node().id() == id.as_ref()) {
                    continue;
                }
                let target = match view.node(&id) {
                    Some(node) => Some((view.clone(), node)),
                    None => model.find(&id, &view.source).and_then(|v| Some((v.clone(), v.node(&id)?))),
                };
                if let Some((view, node)) = target {
                    out.push(Entity::new(view, node, self.scope.clone()));
                }
            }
        }
        Ok(out)
    }

    fn iri(&self) -> Option<String> {
        match self.node().id() {
            NamedOrBlankNodeRef::NamedNode(n) => Some(n.as_str().to_owned()),
            NamedOrBlankNodeRef::BlankNode(_) => None,
        }
    }
}

fn lexical(t: TermRef<'_>) -> Option<String> {
    match t {
        TermRef::NamedNode(n) => Some(n.as_str().to_owned()),
        TermRef::Literal(l) => Some(l.value().to_owned()),
        _ => None,
    }
}

/// Where one source's part of a record came from.
#[derive(Debug, Clone)]
pub struct Provenance(Entity);

#[Object]
impl Provenance {
    /// The source (connector) id; the record lives in that source's named graph.
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        guard(ctx, v::MUSUBI_SOURCE, &self.0.scope)?;
        Ok(Some(&self.0.primary().0.source))
    }
    /// The record's id at the source.
    async fn source_record_id(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_SOURCE_RECORD_ID)
    }
    /// The URL the record was read from.
    async fn source_record_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_SOURCE_RECORD_URL)
    }
    /// When the hub harvested it (xsd:dateTime).
    async fn harvested_at(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::PROV_GENERATED_AT_TIME)
    }
}

/// One value of a merged record's field, and the source that states it.
#[derive(Debug, Clone, SimpleObject, PartialEq, Eq)]
pub struct Claim {
    /// The value's lexical form (an IRI for links).
    pub value: String,
    /// Its language, for text.
    pub lang: Option<String>,
    /// The source (connector) id that states it.
    pub source: String,
}

/// The fields every record (dataset or study) has.
#[derive(Debug, Clone)]
pub struct Record(Entity);

#[Object]
impl Record {
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
        let vocabulary = hub(ctx).vocabulary();
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
    async fn grants(&self, ctx: &Context<'_>) -> Result<Option<Vec<Grant>>> {
        Ok(Some(self.0.links(ctx, v::SCHEMA_FUNDING)?.into_iter().map(Grant).collect()))
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
    /// Embargo end date: until then the record shows only its accession, title and release date
    /// below STEWARD, and is not listed, counted or found.
    async fn embargo_until(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_EMBARGO_UNTIL)
    }
    /// Provider contact e-mail (REGISTERED).
    async fn contact_email(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_CONTACT_EMAIL)?))
    }
}

/// A dataset (DCAT Dataset): the unit a researcher requests access to.
#[derive(Debug, Clone, MergedObject)]
pub struct Dataset(Record, DatasetFields);

/// The fields only datasets have.
#[derive(Debug, Clone)]
pub struct DatasetFields(Entity);

impl Dataset {
    /// The dataset as every source describes it; CONTROLLED fields are checked against the
    /// grant for its accession.
    pub(crate) fn new(model: &ReadModel, record: &MergedRecord, today: &str) -> Dataset {
        let scope = Scope { dataset: Some(record.key().accession.clone()), policy: RecordPolicy::of(record, today) };
        let entity = Entity::merged(model, record, scope);
        Dataset(Record(entity.clone()), DatasetFields(entity))
    }
}

#[Object]
impl DatasetFields {
    /// The same dataset in other databases.
    async fn same_as(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::OWL_SAME_AS)?))
    }
    /// The access level, normalised.
    /// Where sources disagree, the most restrictive level any of them states.
    async fn access_level(&self, ctx: &Context<'_>) -> Result<Option<AccessLevel>> {
        guard(ctx, v::MUSUBI_ACCESS_LEVEL, &self.0.scope)?;
        Ok(self.0.nodes().filter_map(|(_, n)| n.access_level()).max().map(AccessLevel::from))
    }
    /// The access level in the source's own words (NBDC criteria, dct:accessRights, …).
    async fn source_access_level(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_SOURCE_ACCESS_LEVEL)?))
    }
    async fn policies(&self, ctx: &Context<'_>) -> Result<Option<Vec<Policy>>> {
        Ok(Some(self.0.links(ctx, v::ODRL_HAS_POLICY)?.into_iter().map(Policy).collect()))
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
    /// What the dataset's consent allows, in DUO terms: from the dataset and its policies (what
    /// `matchDataUse` judges on).
    async fn data_use(&self, ctx: &Context<'_>) -> Result<Option<crate::duo::DataUseInfo>> {
        Ok(Some(crate::duo::dataset_data_use(ctx, &self.0.scope)?))
    }
    async fn data_access_committee(&self, ctx: &Context<'_>) -> Result<Option<Agent>> {
        Ok(self.0.links(ctx, v::MUSUBI_DATA_ACCESS_COMMITTEE)?.into_iter().next().map(Agent::node))
    }
    /// Publishers, described or named by IRI only (e.g. ORCIDs).
    async fn publishers(&self, ctx: &Context<'_>) -> Result<Option<Vec<Agent>>> {
        Ok(Some(agents(&self.0, ctx, v::DCT_PUBLISHER)?))
    }
    /// The study (research project) this dataset belongs to.
    async fn study(&self, ctx: &Context<'_>) -> Result<Option<Study>> {
        // The merged study any source's part-of link names (by any of its IRIs, so a link to an
        // NBDC research reaches the JGA study that is the same).
        // (`read` leaves out links to an embargoed study; its policy is checked here too, for a
        // study reached by an IRI only merging knows.)
        let model = hub(ctx).model();
        let today = today();
        for t in self.0.read(ctx, v::DCT_IS_PART_OF)? {
            if let TermRef::NamedNode(n) = t
                && let Some(record) = model.study_of_node(&n.into_owned().into())
                && listed(ctx, RecordPolicy::of(record, &today))
            {
                return Ok(Some(Study::new(&model, record, &today)));
            }
        }
        Ok(None)
    }
    async fn distributions(&self, ctx: &Context<'_>) -> Result<Option<Vec<Distribution>>> {
        Ok(Some(self.0.links(ctx, v::DCAT_DISTRIBUTION_PROP)?.into_iter().map(Distribution).collect()))
    }
    async fn assays(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_ASSAY)?))
    }
    async fn platforms(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_PLATFORM)?))
    }
    async fn reference_genomes(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_REFERENCE_GENOME)?))
    }
    async fn file_types(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_FILE_TYPE)?))
    }
    async fn diseases(&self, ctx: &Context<'_>) -> Result<Option<Vec<Disease>>> {
        Ok(Some(self.0.links(ctx, v::MUSUBI_DISEASE)?.into_iter().map(Disease).collect()))
    }
    async fn tissues(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_TISSUE)?))
    }
    async fn populations(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_POPULATION)?))
    }
    async fn sexes(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_SEX)?))
    }
    async fn age_groups(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_AGE_GROUP)?))
    }
    /// Number of subjects. Where a dataset lists several experiments, the largest count (the
    /// experiments of one dataset usually share their subjects, so a sum would overcount).
    async fn subject_count(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        Ok(self.0.strings(ctx, v::MUSUBI_SUBJECT_COUNT)?.iter().filter_map(|s| s.parse::<i64>().ok()).max())
    }
    /// Data volume in GB, summed over the dataset's experiments.
    async fn data_volume_gb(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        let values: Vec<f64> = self.0.strings(ctx, v::MUSUBI_DATA_VOLUME_GB)?.iter().filter_map(|s| s.parse().ok()).collect();
        Ok((!values.is_empty()).then(|| values.iter().sum()))
    }
    /// Headings of the source's molecular-data table, one per experiment.
    async fn experiment_titles(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_EXPERIMENT_TITLE, lang.as_deref())?))
    }
    async fn experimental_method(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_EXPERIMENTAL_METHOD, lang.as_deref())?))
    }
    /// Targeted genes or regions.
    async fn targets(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_TARGETS, lang.as_deref())?))
    }
    /// The platform in the source's words (e.g. "Illumina [HiSeq 2000]"); `platforms` has the models.
    async fn platform_description(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_PLATFORM_DESCRIPTION, lang.as_deref())?))
    }
    async fn platform_vendors(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_PLATFORM_VENDOR)?))
    }
    /// What was sampled (dataset-level, e.g. "DNA from peripheral blood").
    async fn sample_description(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_SAMPLE_DESCRIPTION, lang.as_deref())?))
    }
    async fn cell_lines(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_CELL_LINE, lang.as_deref())?))
    }
    async fn library_construction(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_LIBRARY_CONSTRUCTION, lang.as_deref())?))
    }
    async fn library_kits(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_LIBRARY_KIT)?))
    }
    async fn fragmentation(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_FRAGMENTATION, lang.as_deref())?))
    }
    /// Single-end or paired-end, in the source's words and as curated.
    async fn read_types(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_READ_TYPE, lang.as_deref())?))
    }
    async fn read_lengths(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_READ_LENGTH, lang.as_deref())?))
    }
    async fn sequencing_depths(&self, ctx: &Context<'_>) -> Result<Option<Vec<f64>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_SEQUENCING_DEPTH)?.iter().filter_map(|s| s.parse().ok()).collect()))
    }
    async fn target_coverages(&self, ctx: &Context<'_>) -> Result<Option<Vec<f64>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_TARGET_COVERAGE)?.iter().filter_map(|s| s.parse().ok()).collect()))
    }
    /// Total data volume in the source's words (e.g. "149 GB (1,627,990,590 reads)").
    async fn data_volume(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_DATA_VOLUME, lang.as_deref())?))
    }
    async fn processed_data_types(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_PROCESSED_DATA_TYPE)?))
    }
    async fn has_phenotype_data(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        Ok(self.0.first(ctx, v::MUSUBI_HAS_PHENOTYPE_DATA)?.map(|s| s == "true" || s == "1"))
    }
    async fn cohorts(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_COHORT)?))
    }
    /// Affected, healthy or mixed.
    async fn health_statuses(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_HEALTH_STATUS)?))
    }
    /// Tumour, normal or mixed.
    async fn tumor_statuses(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_TUMOR_STATUS)?))
    }
    /// What `subjectCount` counts: individuals or samples.
    async fn subject_count_type(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_SUBJECT_COUNT_TYPE)
    }
    /// Release date of this version of the dataset.
    async fn version_release_date(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_VERSION_RELEASE_DATE)
    }
    /// The archive's data records (JGAR…), one subject's or sample's files each (CONTROLLED).
    async fn data_records(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_DATA_RECORD)?))
    }
    /// Health categories (HealthDCAT-AP; EHDS categories).
    async fn health_categories(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::HEALTH_HEALTH_CATEGORY)?))
    }
    async fn health_themes(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::HEALTH_HEALTH_THEME)?))
    }
    async fn number_of_records(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        Ok(self.0.first(ctx, v::HEALTH_NUMBER_OF_RECORDS)?.and_then(|s| s.parse().ok()))
    }
    async fn min_typical_age(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        Ok(self.0.first(ctx, v::HEALTH_MIN_TYPICAL_AGE)?.and_then(|s| s.parse().ok()))
    }
    async fn max_typical_age(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        Ok(self.0.first(ctx, v::HEALTH_MAX_TYPICAL_AGE)?.and_then(|s| s.parse().ok()))
    }
    /// The health data access body that decides on access.
    async fn hdab(&self, ctx: &Context<'_>) -> Result<Option<Agent>> {
        Ok(self.0.links(ctx, v::HEALTH_HDAB)?.into_iter().next().map(Agent::node))
    }
    async fn publisher_note(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::HEALTH_PUBLISHER_NOTE, lang.as_deref())?))
    }
    async fn publisher_types(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::HEALTH_PUBLISHER_TYPE)?))
    }
    async fn trusted_data_holder(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        Ok(self.0.first(ctx, v::HEALTH_TRUSTED_DATA_HOLDER)?.map(|s| s == "true" || s == "1"))
    }
    /// Coding systems the data uses (e.g. ICD-10).
    async fn coding_systems(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::HEALTH_HAS_CODING_SYSTEM)?))
    }
    /// Codes the data uses (e.g. ICD-10 Y59.0).
    async fn code_values(&self, ctx: &Context<'_>) -> Result<Option<Vec<Concept>>> {
        Ok(Some(self.0.links(ctx, v::HEALTH_HAS_CODE_VALUES)?.into_iter().map(Concept).collect()))
    }
    /// Distributions with aggregate reports on the data.
    async fn analytics(&self, ctx: &Context<'_>) -> Result<Option<Vec<Distribution>>> {
        Ok(Some(self.0.links(ctx, v::HEALTH_ANALYTICS)?.into_iter().map(Distribution).collect()))
    }
    /// How long the data is kept: from.
    async fn retention_start(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_RETENTION_START)
    }
    async fn retention_end(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_RETENTION_END)
    }
    /// The period the data covers: from.
    async fn temporal_start(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_TEMPORAL_START)
    }
    async fn temporal_end(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_TEMPORAL_END)
    }
    /// Legal bases of processing (DPV IRIs, e.g. consent).
    async fn legal_bases(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DPV_HAS_LEGAL_BASIS)?))
    }
    /// Purposes the data may serve (DPV IRIs).
    async fn purposes(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DPV_HAS_PURPOSE)?))
    }
    /// Categories of personal data held (DPV IRIs: age, gender, health record, …).
    async fn personal_data_categories(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DPV_HAS_PERSONAL_DATA)?))
    }
    async fn applicable_legislation(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCATAP_APPLICABLE_LEGISLATION)?))
    }
    async fn accrual_periodicity(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCT_ACCRUAL_PERIODICITY)?))
    }
    async fn conforms_to(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCT_CONFORMS_TO)?))
    }
    /// Creators, described or named by IRI only (e.g. ORCIDs).
    async fn creators(&self, ctx: &Context<'_>) -> Result<Option<Vec<Agent>>> {
        Ok(Some(agents(&self.0, ctx, v::DCT_CREATOR)?))
    }
    async fn languages(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCT_LANGUAGE)?))
    }
    async fn licenses(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCT_LICENSE)?))
    }
    async fn spatial_coverage(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCT_SPATIAL)?))
    }
    async fn provenance_statement(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_PROVENANCE_STATEMENT)?))
    }
    async fn quality_certificates(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_QUALITY_CERTIFICATE)?))
    }
    async fn themes(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::DCAT_THEME)?))
    }
    async fn spatial_resolution_in_meters(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        Ok(self.0.first(ctx, v::DCAT_SPATIAL_RESOLUTION)?.and_then(|s| s.parse().ok()))
    }
    /// As an ISO 8601 duration (e.g. P1D).
    async fn temporal_resolution(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCAT_TEMPORAL_RESOLUTION)
    }
    async fn samples(&self, ctx: &Context<'_>) -> Result<Option<Vec<Distribution>>> {
        Ok(Some(self.0.links(ctx, v::ADMS_SAMPLE)?.into_iter().map(Distribution).collect()))
    }
    async fn version_notes(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::ADMS_VERSION_NOTES, lang.as_deref())?))
    }
    /// The columns (variables) of the dataset's data model.
    async fn columns(&self, ctx: &Context<'_>) -> Result<Option<Vec<Column>>> {
        Ok(Some(self.0.links(ctx, v::CSVW_COLUMN)?.into_iter().map(Column).collect()))
    }
    /// Per-sample attributes (CONTROLLED: needs a grant for this dataset).
    async fn sample_attributes(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_SAMPLE_ATTRIBUTE)?))
    }
    /// File access URLs of the dataset's distributions (CONTROLLED).
    async fn download_urls(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        guard(ctx, v::DCAT_DOWNLOAD_URL, &self.0.scope)?;
        let mut urls = self.0.strings(ctx, v::DCAT_DOWNLOAD_URL)?;
        for d in self.0.links(ctx, v::DCAT_DISTRIBUTION_PROP)? {
            urls.extend(d.strings(ctx, v::DCAT_DOWNLOAD_URL)?);
        }
        Ok(Some(urls))
    }
    /// Internal identifiers at the source (STEWARD).
    async fn internal_ids(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_INTERNAL_ID)?))
    }
    /// Whether the record is a draft (STEWARD).
    async fn draft(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        Ok(self.0.first(ctx, v::MUSUBI_DRAFT)?.map(|s| s == "true" || s == "1"))
    }
    /// Whether the record is sensitive: its REGISTERED fields need a grant for it.
    async fn sensitive(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        Ok(self.0.first(ctx, v::MUSUBI_SENSITIVE)?.map(|s| matches!(s.trim(), "true" | "1")))
    }
}

/// The outcomes registered on the dataset of `scope`, oldest first: none that also used a dataset
/// hidden from the caller (embargoed), whose title and DOI would describe it.
fn outcomes_of(ctx: &Context<'_>, scope: &Scope) -> Result<Vec<crate::ledger::Outcome>> {
    guard(ctx, v::MUSUBI_OUTCOME, scope)?;
    let Some(accession) = &scope.dataset else { return Ok(Vec::new()) };
    let hidden = Hidden::of(ctx);
    let outcomes = hub(ctx).ledger().outcomes().into_iter();
    Ok(outcomes.filter(|o| o.datasets.contains(accession) && !o.datasets.iter().any(|d| hidden.contains(d))).map(crate::ledger::Outcome).collect())
}

fn publications(e: &Entity, ctx: &Context<'_>) -> Result<Vec<Publication>> {
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

/// A study (research project), e.g. an NBDC hum record or a JGA study.
#[derive(Debug, Clone, MergedObject)]
pub struct Study(Record, StudyFields);

/// The fields only studies have.
#[derive(Debug, Clone)]
pub struct StudyFields(Entity);

impl From<Entity> for Study {
    fn from(e: Entity) -> Study {
        // A study is its own record: its CONTROLLED fields have no single dataset scope, and its
        // policy is its own, not that of the dataset it was reached from.
        let policy = RecordPolicy::of_nodes(e.nodes().map(|(_, n)| n), &today());
        let entity = Entity { scope: Scope { dataset: None, policy }, ..e };
        Study(Record(entity.clone()), StudyFields(entity))
    }
}

impl Study {
    pub(crate) fn new(model: &ReadModel, record: &MergedRecord, today: &str) -> Study {
        Study::from_scoped(Entity::merged(model, record, Scope { dataset: None, policy: RecordPolicy::of(record, today) }))
    }

    fn from_scoped(entity: Entity) -> Study {
        Study(Record(entity.clone()), StudyFields(entity))
    }
}

#[Object]
impl StudyFields {
    async fn methods(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_METHODS, lang.as_deref())?))
    }
    /// Project or research group the study belongs to (e.g. BioBank Japan).
    async fn project_names(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_PROJECT_NAME, lang.as_deref())?))
    }
    /// Who was granted controlled access to the study's data, for what and until when.
    async fn approved_uses(&self, ctx: &Context<'_>) -> Result<Option<Vec<ApprovedUse>>> {
        Ok(Some(self.0.links(ctx, v::MUSUBI_APPROVED_USE)?.into_iter().map(ApprovedUse).collect()))
    }
    /// Releases of the study, oldest first.
    async fn versions(&self, ctx: &Context<'_>) -> Result<Option<Vec<StudyVersion>>> {
        let mut versions: Vec<StudyVersion> = self.0.links(ctx, v::DCAT_HAS_VERSION)?.into_iter().map(StudyVersion).collect();
        // Ordered by their version numbers where the caller may read them (an order is a read:
        // one it may not make stays in the sources' order).
        if guard(ctx, v::DCAT_VERSION, &self.0.scope).is_ok() {
            versions.sort_by_key(|sv| sv.0.node().first(v::DCAT_VERSION).unwrap_or_default().trim_start_matches('v').parse::<u32>().unwrap_or(0));
        }
        Ok(Some(versions))
    }
    /// Samples taken for this study (its BioSamples), from every source.
    #[graphql(complexity = "crate::limits::UNPAGED_LIST_WEIGHT.saturating_mul(child_complexity)")]
    async fn samples(&self, ctx: &Context<'_>) -> Result<Option<Vec<Sample>>> {
        guard(ctx, v::DCT_IS_PART_OF, &self.0.scope)?;
        let model = hub(ctx).model();
        let Some(record) = model.study_of_node(&self.0.id()) else { return Ok(Some(Vec::new())) };
        let today = today();
        // A sample's link to the study is its own value: shown only where the caller may read it
        // on the sample (a sensitive one raises it).
        Ok(Some(model
            .samples_of_study(record)
            .map(|s| (s, Scope { dataset: None, policy: RecordPolicy::of(s, &today) }))
            .filter(|(_, scope)| listed(ctx, scope.policy) && guard(ctx, v::DCT_IS_PART_OF, scope).is_ok())
            .map(|(s, _)| Sample::new(&model, s, &today))
            .collect()))
    }
    /// Datasets that belong to this study, from every source (embargoed ones only for stewards).
    #[graphql(complexity = "crate::limits::UNPAGED_LIST_WEIGHT.saturating_mul(child_complexity)")]
    async fn datasets(&self, ctx: &Context<'_>) -> Result<Option<Vec<Dataset>>> {
        guard(ctx, v::DCT_IS_PART_OF, &self.0.scope)?;
        let model = hub(ctx).model();
        let Some(record) = model.study_of_node(&self.0.id()) else { return Ok(Some(Vec::new())) };
        let today = today();
        // A dataset's link to the study is the dataset's value: shown only where the caller may
        // read it on the dataset (a sensitive one raises it; a CONTROLLED one needs its grant).
        Ok(Some(model
            .datasets_of_study(record)
            .map(|d| (d, Scope { dataset: Some(d.key().accession.clone()), policy: RecordPolicy::of(d, &today) }))
            .filter(|(_, scope)| listed(ctx, scope.policy) && guard(ctx, v::DCT_IS_PART_OF, scope).is_ok())
            .map(|(d, _)| Dataset::new(&model, d, &today))
            .collect()))
    }
}

/// A biological sample (a BioSample record): its own record, public except its attributes.
#[derive(Debug, Clone, MergedObject)]
pub struct Sample(Record, SampleFields);

/// The fields only samples have.
#[derive(Debug, Clone)]
pub struct SampleFields(Entity);

impl Sample {
    pub(crate) fn new(model: &ReadModel, record: &MergedRecord, today: &str) -> Sample {
        // A sample has no dataset scope: on a sensitive (human) sample, CONTROLLED is for stewards.
        let entity = Entity::merged(model, record, Scope { dataset: None, policy: RecordPolicy::of(record, today) });
        Sample(Record(entity.clone()), SampleFields(entity))
    }
}

#[Object]
impl SampleFields {
    /// The sample's attributes as the submitter named them (REGISTERED; CONTROLLED on human samples).
    async fn characteristics(&self, ctx: &Context<'_>) -> Result<Option<Vec<Attribute>>> {
        Ok(Some(self.0.links(ctx, v::MUSUBI_SAMPLE_CHARACTERISTIC)?.into_iter().map(Attribute).collect()))
    }
    /// The submitter's contact people (their e-mail addresses are REGISTERED).
    async fn contact_points(&self, ctx: &Context<'_>) -> Result<Option<Vec<Agent>>> {
        Ok(Some(self.0.links(ctx, v::DCAT_CONTACT_POINT)?.into_iter().map(Agent::node).collect()))
    }
    /// Whether the sample is sensitive (a human or human-host sample): its REGISTERED fields need
    /// CONTROLLED, which on a sample (no dataset grant) only stewards hold.
    async fn sensitive(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        Ok(self.0.first(ctx, v::MUSUBI_SENSITIVE)?.map(|s| matches!(s.trim(), "true" | "1")))
    }
    /// The checklists (BioSample packages) the record follows.
    async fn models(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_MODEL)?))
    }
    /// The studies (BioProjects) the sample was taken for, as records where the hub has them.
    async fn studies(&self, ctx: &Context<'_>) -> Result<Option<Vec<Study>>> {
        guard(ctx, v::DCT_IS_PART_OF, &self.0.scope)?;
        let model = hub(ctx).model();
        let today = today();
        let mut out: Vec<Study> = Vec::new();
        let mut seen = Vec::new();
        for t in self.0.read(ctx, v::DCT_IS_PART_OF)? {
            let TermRef::NamedNode(n) = t else { continue };
            if let Some(record) = model.study_of_node(&NamedOrBlankNode::from(n.into_owned()))
                && !seen.contains(record.key())
                && listed(ctx, RecordPolicy::of(record, &today))
            {
                seen.push(record.key().clone());
                out.push(Study::new(&model, record, &today));
            }
        }
        Ok(Some(out))
    }
    /// Accessions of the studies the sample was taken for, also those the hub has no record of.
    async fn study_accessions(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self
            .0
            .read(ctx, v::DCT_IS_PART_OF)?
            .into_iter()
            .filter_map(|t| match t {
                TermRef::NamedNode(n) => Some(n.as_str().rsplit('/').next().unwrap_or(n.as_str()).to_owned()),
                _ => None,
            })
            .collect()))
    }
}

/// One release of a study.
#[derive(Debug, Clone)]
pub struct StudyVersion(Entity);

#[Object]
impl StudyVersion {
    async fn accession(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCT_IDENTIFIER)
    }
    async fn version(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCAT_VERSION)
    }
    async fn release_date(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCT_ISSUED)
    }
    async fn release_note(&self, ctx: &Context<'_>, lang: Option<String>) -> Result<Option<Vec<Text>>> {
        Ok(Some(self.0.texts(ctx, v::MUSUBI_RELEASE_NOTE, lang.as_deref())?))
    }
    /// Accessions of the datasets released in this version (embargoed ones only for stewards).
    async fn dataset_accessions(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        // (`read` leaves out links to embargoed datasets.)
        let model = hub(ctx).model();
        Ok(Some(
            self.0
                .read(ctx, v::DCT_HAS_PART)?
                .iter()
                .filter_map(|t| match t {
                    TermRef::NamedNode(n) => {
                        let id = NamedOrBlankNode::from(n.into_owned());
                        Some(model.find(&id, "").and_then(|view| view.node(&id)).map_or_else(
                            || n.as_str().rsplit('/').next().unwrap_or(n.as_str()).to_owned(),
                            |node| node.accession(),
                        ))
                    }
                    _ => None,
                })
                .collect(),
        ))
    }
}

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
    fn node(entity: Entity) -> Agent {
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
fn agents(e: &Entity, ctx: &Context<'_>, property: NamedNodeRef<'_>) -> Result<Vec<Agent>> {
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

/// A tag and its value, as a submitter attached them to a record.
#[derive(Debug, Clone)]
pub struct Attribute(Entity);

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
pub struct Concept(Entity);

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
pub struct Column(Entity);

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

/// Controlled access granted to a user: for which research, when, and to which datasets.
#[derive(Debug, Clone)]
pub struct ApprovedUse(Entity);

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

/// A grant that funded the work.
#[derive(Debug, Clone)]
pub struct Grant(Entity);

#[Object]
impl Grant {
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

/// A data use or access policy.
#[derive(Debug, Clone)]
pub struct Policy(Entity);

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

/// A disease studied, with its codes.
#[derive(Debug, Clone)]
pub struct Disease(Entity);

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

/// One way to get the data (DCAT Distribution).
#[derive(Debug, Clone)]
pub struct Distribution(Entity);

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

/// A registered partner source and the health of its harvests.
#[derive(Debug, Clone, SimpleObject, PartialEq, Eq)]
pub struct SourceInfo {
    /// The source id from its manifest; also names its graph.
    pub id: String,
    pub name: String,
    /// The connector kind (json-api, rdf-dump, …).
    pub kind: String,
    pub endpoint: String,
    /// When the last successful harvest finished (xsd:dateTime), null if never.
    pub last_harvest: Option<String>,
    /// When a harvest was last tried.
    pub last_attempt: Option<String>,
    /// When the source's graph last changed (xsd:dateTime): a harvest that read what the standing
    /// graph was made from lands nothing, and moves lastHarvest only.
    pub last_change: Option<String>,
    /// Records in the graph from the last successful harvest (below STEWARD, without its embargoed
    /// datasets, studies and samples).
    pub record_count: Option<i64>,
    /// Why the last attempt failed; null after a success.
    pub last_error: Option<String>,
    /// What the last landed harvest warned of: a shrink an operator accepted, values left out.
    pub warnings: Option<Vec<String>>,
}
