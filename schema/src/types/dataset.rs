//! A dataset and the fields only datasets have.

use super::*;

/// A dataset (DCAT Dataset): the unit a researcher requests access to.
#[derive(Debug, Clone, MergedObject)]
pub struct Dataset(RecordFields, DatasetFields);

/// The fields only datasets have.
#[derive(Debug, Clone)]
pub struct DatasetFields(pub(super) Entity);

impl Dataset {
    /// The dataset as every source describes it; CONTROLLED fields are checked against the
    /// grant for its accession.
    pub(crate) fn new(model: &ReadModel, record: &MergedRecord, today: &str) -> Dataset {
        let scope = Scope { dataset: Some(record.key().accession.clone()), policy: RecordPolicy::of(record, today) };
        let entity = Entity::merged(model, record, scope);
        Dataset(RecordFields(entity.clone()), DatasetFields(entity))
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
        let model = api(ctx).model();
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
pub(super) fn outcomes_of(ctx: &Context<'_>, scope: &Scope) -> Result<Vec<crate::ledger::Outcome>> {
    guard(ctx, v::MUSUBI_OUTCOME, scope)?;
    let Some(accession) = &scope.dataset else { return Ok(Vec::new()) };
    let hidden = Hidden::of(ctx);
    let outcomes = api(ctx).ledger().outcomes().into_iter();
    Ok(outcomes.filter(|o| o.datasets.contains(accession) && !o.datasets.iter().any(|d| hidden.contains(d))).map(crate::ledger::Outcome).collect())
}

