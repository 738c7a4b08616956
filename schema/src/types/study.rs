//! A study (research project) and its releases.

use super::*;

/// A study (research project), e.g. an NBDC hum record or a JGA study.
#[derive(Debug, Clone, MergedObject)]
pub struct Study(RecordFields, StudyFields);

/// The fields only studies have.
#[derive(Debug, Clone)]
pub struct StudyFields(pub(super) Entity);

impl From<Entity> for Study {
    fn from(e: Entity) -> Study {
        // A study is its own record: its CONTROLLED fields have no single dataset scope, and its
        // policy is its own, not that of the dataset it was reached from.
        let policy = RecordPolicy::of_nodes(e.nodes().map(|(_, n)| n), &today());
        let entity = Entity { scope: Scope { dataset: None, policy }, ..e };
        Study(RecordFields(entity.clone()), StudyFields(entity))
    }
}

impl Study {
    pub(crate) fn new(model: &ReadModel, record: &MergedRecord, today: &str) -> Study {
        Study::from_scoped(Entity::merged(model, record, Scope { dataset: None, policy: RecordPolicy::of(record, today) }))
    }

    fn from_scoped(entity: Entity) -> Study {
        Study(RecordFields(entity.clone()), StudyFields(entity))
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
        let model = api(ctx).model();
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
        let model = api(ctx).model();
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

/// One release of a study.
#[derive(Debug, Clone)]
pub struct StudyVersion(pub(super) Entity);

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
        let model = api(ctx).model();
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
