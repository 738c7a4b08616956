//! Every IRI the code names, in one place: the vocabulary's terms and those of the standards it
//! maps to (as constants, [`NAMED_IN_CODE`] listing them all, so a test checks that every
//! `musubi:` one is declared in `vocab/musubi.ttl`), and the hub's own named graphs — of sources,
//! their status and the process records — and study IRIs, minted here and nowhere else.

use oxigraph::model::{NamedNode, NamedNodeRef};

pub const MUSUBI: &str = "https://w3id.org/musubi/vocab#";
/// Named graph of source `id` is `SOURCE_GRAPH_PREFIX` + `id`.
pub const SOURCE_GRAPH_PREFIX: &str = "https://w3id.org/musubi/source/";
/// ApiState IRIs of studies are minted from their accessions under this prefix (the identifier
/// schemes' canonical prefix in `vocab/musubi.ttl`).
pub const HUB_STUDY_PREFIX: &str = "https://w3id.org/musubi/study/";
/// The graph where the hub keeps what it knows about its sources (harvest times, errors).
pub const META_GRAPH: &str = "https://w3id.org/musubi/graph/meta";

macro_rules! iris {
    ($($(#[$doc:meta])* $name:ident = $iri:expr;)*) => {
        $($(#[$doc])* pub const $name: NamedNodeRef<'static> = NamedNodeRef::new_unchecked($iri);)*
        /// Every IRI named above (a test checks the `musubi:` ones are declared in the Turtle).
        pub const NAMED_IN_CODE: &[NamedNodeRef<'static>] = &[$($name),*];
    };
}

iris! {
    RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
    RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label";
    RDFS_RANGE = "http://www.w3.org/2000/01/rdf-schema#range";
    OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs";
    SKOS_EXACT_MATCH = "http://www.w3.org/2004/02/skos/core#exactMatch";
    XSD_STRING = "http://www.w3.org/2001/XMLSchema#string";
    XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer";
    XSD_DATE_TIME = "http://www.w3.org/2001/XMLSchema#dateTime";

    DCAT_CATALOG = "http://www.w3.org/ns/dcat#Catalog";
    DCAT_DATASET = "http://www.w3.org/ns/dcat#Dataset";
    DCAT_DISTRIBUTION = "http://www.w3.org/ns/dcat#Distribution";
    DCAT_LANDING_PAGE = "http://www.w3.org/ns/dcat#landingPage";
    DCAT_KEYWORD = "http://www.w3.org/ns/dcat#keyword";
    DCAT_VERSION = "http://www.w3.org/ns/dcat#version";
    DCAT_HAS_VERSION = "http://www.w3.org/ns/dcat#hasVersion";
    DCAT_DISTRIBUTION_PROP = "http://www.w3.org/ns/dcat#distribution";
    DCAT_DOWNLOAD_URL = "http://www.w3.org/ns/dcat#downloadURL";
    DCAT_ACCESS_URL = "http://www.w3.org/ns/dcat#accessURL";

    DCT_IDENTIFIER = "http://purl.org/dc/terms/identifier";
    DCT_TITLE = "http://purl.org/dc/terms/title";
    DCT_DESCRIPTION = "http://purl.org/dc/terms/description";
    DCT_TYPE = "http://purl.org/dc/terms/type";
    DCT_ISSUED = "http://purl.org/dc/terms/issued";
    DCT_MODIFIED = "http://purl.org/dc/terms/modified";
    DCT_IS_PART_OF = "http://purl.org/dc/terms/isPartOf";
    DCT_HAS_PART = "http://purl.org/dc/terms/hasPart";
    DCT_PUBLISHER = "http://purl.org/dc/terms/publisher";
    DCT_IS_REFERENCED_BY = "http://purl.org/dc/terms/isReferencedBy";
    DCT_ACCESS_RIGHTS = "http://purl.org/dc/terms/accessRights";
    DCT_FORMAT = "http://purl.org/dc/terms/format";

    FOAF_NAME = "http://xmlns.com/foaf/0.1/name";
    SCHEMA_AFFILIATION = "http://schema.org/affiliation";
    SCHEMA_FUNDING = "http://schema.org/funding";
    SCHEMA_FUNDER = "http://schema.org/funder";
    SCHEMA_URL = "http://schema.org/url";
    BIBO_DOI = "http://purl.org/ontology/bibo/doi";
    ODRL_HAS_POLICY = "http://www.w3.org/ns/odrl/2/hasPolicy";
    ODRL_POLICY = "http://www.w3.org/ns/odrl/2/Policy";
    PROV_GENERATED_AT_TIME = "http://www.w3.org/ns/prov#generatedAtTime";

    /// The store's graph of pointers from each generation-stored graph to its current generation.
    GENERATIONS_GRAPH = "https://w3id.org/musubi/store/generations";
    MUSUBI_GENERATION = "https://w3id.org/musubi/vocab#generation";
    MUSUBI_GENERATION_REVISION = "https://w3id.org/musubi/vocab#generationRevision";

    MUSUBI_STUDY = "https://w3id.org/musubi/vocab#Study";
    MUSUBI_SAMPLE = "https://w3id.org/musubi/vocab#Sample";
    MUSUBI_SAMPLE_CHARACTERISTIC = "https://w3id.org/musubi/vocab#sampleCharacteristic";
    MUSUBI_MODEL = "https://w3id.org/musubi/vocab#model";
    MUSUBI_STUDY_VERSION = "https://w3id.org/musubi/vocab#StudyVersion";
    MUSUBI_TIER = "https://w3id.org/musubi/vocab#tier";
    MUSUBI_GRAPHQL_FIELD = "https://w3id.org/musubi/vocab#graphqlField";
    MUSUBI_SOURCE_LABEL = "https://w3id.org/musubi/vocab#sourceLabel";
    MUSUBI_IDENTIFIER_SCHEME = "https://w3id.org/musubi/vocab#IdentifierScheme";
    MUSUBI_ID_PATTERN = "https://w3id.org/musubi/vocab#idPattern";
    MUSUBI_CANONICAL_PREFIX = "https://w3id.org/musubi/vocab#canonicalPrefix";
    MUSUBI_ALIAS_PREFIX = "https://w3id.org/musubi/vocab#aliasPrefix";
    MUSUBI_ACCESS_LEVEL_CLASS = "https://w3id.org/musubi/vocab#AccessLevel";
    MUSUBI_SOURCE_ACCESS_LEVEL = "https://w3id.org/musubi/vocab#sourceAccessLevel";
    MUSUBI_ACCESS_LEVEL = "https://w3id.org/musubi/vocab#accessLevel";
    MUSUBI_DATA_USE_CONDITION = "https://w3id.org/musubi/vocab#dataUseCondition";
    MUSUBI_DATA_ACCESS_COMMITTEE = "https://w3id.org/musubi/vocab#dataAccessCommittee";
    MUSUBI_PRINCIPAL_INVESTIGATOR = "https://w3id.org/musubi/vocab#principalInvestigator";
    MUSUBI_ASSAY = "https://w3id.org/musubi/vocab#assay";
    MUSUBI_PLATFORM = "https://w3id.org/musubi/vocab#platform";
    MUSUBI_REFERENCE_GENOME = "https://w3id.org/musubi/vocab#referenceGenome";
    MUSUBI_FILE_TYPE = "https://w3id.org/musubi/vocab#fileType";
    MUSUBI_DISEASE = "https://w3id.org/musubi/vocab#disease";
    MUSUBI_TISSUE = "https://w3id.org/musubi/vocab#tissue";
    MUSUBI_POPULATION = "https://w3id.org/musubi/vocab#population";
    MUSUBI_SEX = "https://w3id.org/musubi/vocab#sex";
    MUSUBI_AGE_GROUP = "https://w3id.org/musubi/vocab#ageGroup";
    MUSUBI_SUBJECT_COUNT = "https://w3id.org/musubi/vocab#subjectCount";
    MUSUBI_OUTCOME = "https://w3id.org/musubi/vocab#outcome";
    MUSUBI_DATA_VOLUME_GB = "https://w3id.org/musubi/vocab#dataVolumeGb";
    MUSUBI_METHODS = "https://w3id.org/musubi/vocab#methods";
    MUSUBI_PARTICIPANTS = "https://w3id.org/musubi/vocab#participants";
    MUSUBI_RELEASE_NOTE = "https://w3id.org/musubi/vocab#releaseNote";
    MUSUBI_CONTACT_EMAIL = "https://w3id.org/musubi/vocab#contactEmail";
    MUSUBI_SAMPLE_ATTRIBUTE = "https://w3id.org/musubi/vocab#sampleAttribute";
    MUSUBI_INTERNAL_ID = "https://w3id.org/musubi/vocab#internalId";
    MUSUBI_DRAFT = "https://w3id.org/musubi/vocab#draft";
    MUSUBI_EMBARGO_UNTIL = "https://w3id.org/musubi/vocab#embargoUntil";
    MUSUBI_SENSITIVE = "https://w3id.org/musubi/vocab#sensitive";
    MUSUBI_VISIBLE_UNDER_EMBARGO = "https://w3id.org/musubi/vocab#visibleUnderEmbargo";
    MUSUBI_POLICY_TEXT = "https://w3id.org/musubi/vocab#policyText";
    MUSUBI_ICD10 = "https://w3id.org/musubi/vocab#icd10";
    MUSUBI_MONDO = "https://w3id.org/musubi/vocab#mondo";
    MUSUBI_SOURCE_RECORD_ID = "https://w3id.org/musubi/vocab#sourceRecordId";
    MUSUBI_SOURCE_RECORD_URL = "https://w3id.org/musubi/vocab#sourceRecordUrl";
    MUSUBI_SOURCE = "https://w3id.org/musubi/vocab#source";
    MUSUBI_IRI = "https://w3id.org/musubi/vocab#iri";

    // DMP catalog (AMED Data Management Plans).
    MUSUBI_DATA_MANAGEMENT_PLAN = "https://w3id.org/musubi/vocab#DataManagementPlan";
    MUSUBI_DMP_DATA_ITEM = "https://w3id.org/musubi/vocab#DmpDataItem";
    MUSUBI_DMP_PROJECT = "https://w3id.org/musubi/vocab#dmpProject";
    MUSUBI_DMP_PROJECT_NUMBER = "https://w3id.org/musubi/vocab#dmpProjectNumber";
    MUSUBI_FUNDING_PROGRAMME = "https://w3id.org/musubi/vocab#fundingProgramme";
    MUSUBI_DMP_FUNDER = "https://w3id.org/musubi/vocab#dmpFunder";
    MUSUBI_CHIEF_RESEARCHER = "https://w3id.org/musubi/vocab#chiefResearcher";
    MUSUBI_DATA_CREATOR = "https://w3id.org/musubi/vocab#dataCreator";
    MUSUBI_HOSTING_INSTITUTION = "https://w3id.org/musubi/vocab#hostingInstitution";
    MUSUBI_DATA_MANAGER = "https://w3id.org/musubi/vocab#dataManager";
    MUSUBI_DMP_REPOSITORY = "https://w3id.org/musubi/vocab#dmpRepository";
    MUSUBI_DMP_DISTRIBUTION = "https://w3id.org/musubi/vocab#dmpDistribution";
    MUSUBI_DMP_ITEM = "https://w3id.org/musubi/vocab#dmpItem";
    MUSUBI_DMP_PLAN = "https://w3id.org/musubi/vocab#dmpPlan";
    MUSUBI_DATA_NUMBER = "https://w3id.org/musubi/vocab#dataNumber";
    MUSUBI_DATA_CATEGORY = "https://w3id.org/musubi/vocab#dataCategory";
    MUSUBI_AVAILABILITY_STARTS = "https://w3id.org/musubi/vocab#availabilityStarts";
    MUSUBI_REASON_FOR_CONCEALMENT = "https://w3id.org/musubi/vocab#reasonForConcealment";
    MUSUBI_CONTENT_SIZE_CLASS = "https://w3id.org/musubi/vocab#contentSizeClass";
    MUSUBI_INFORMED_CONSENT = "https://w3id.org/musubi/vocab#informedConsent";
    MUSUBI_INFORMED_CONSENT_FORMAT = "https://w3id.org/musubi/vocab#informedConsentFormat";
    MUSUBI_CLINICAL_REGISTRATION = "https://w3id.org/musubi/vocab#clinicalRegistration";
    MUSUBI_DEPOSIT_ACCESSION = "https://w3id.org/musubi/vocab#depositAccession";
    MUSUBI_GENERATED_ON = "https://w3id.org/musubi/vocab#generatedOn";
    XSD_DATE = "http://www.w3.org/2001/XMLSchema#date";

    // Molecular data, participants and approved uses (NBDC).
    MUSUBI_EXPERIMENT_TITLE = "https://w3id.org/musubi/vocab#experimentTitle";
    MUSUBI_EXPERIMENTAL_METHOD = "https://w3id.org/musubi/vocab#experimentalMethod";
    MUSUBI_TARGETS = "https://w3id.org/musubi/vocab#targets";
    MUSUBI_PLATFORM_DESCRIPTION = "https://w3id.org/musubi/vocab#platformDescription";
    MUSUBI_PLATFORM_VENDOR = "https://w3id.org/musubi/vocab#platformVendor";
    MUSUBI_SAMPLE_DESCRIPTION = "https://w3id.org/musubi/vocab#sampleDescription";
    MUSUBI_CELL_LINE = "https://w3id.org/musubi/vocab#cellLine";
    MUSUBI_LIBRARY_CONSTRUCTION = "https://w3id.org/musubi/vocab#libraryConstruction";
    MUSUBI_LIBRARY_KIT = "https://w3id.org/musubi/vocab#libraryKit";
    MUSUBI_FRAGMENTATION = "https://w3id.org/musubi/vocab#fragmentation";
    MUSUBI_READ_TYPE = "https://w3id.org/musubi/vocab#readType";
    MUSUBI_READ_LENGTH = "https://w3id.org/musubi/vocab#readLength";
    MUSUBI_SEQUENCING_DEPTH = "https://w3id.org/musubi/vocab#sequencingDepth";
    MUSUBI_TARGET_COVERAGE = "https://w3id.org/musubi/vocab#targetCoverage";
    MUSUBI_DATA_VOLUME = "https://w3id.org/musubi/vocab#dataVolume";
    MUSUBI_PROCESSED_DATA_TYPE = "https://w3id.org/musubi/vocab#processedDataType";
    MUSUBI_HAS_PHENOTYPE_DATA = "https://w3id.org/musubi/vocab#hasPhenotypeData";
    MUSUBI_COHORT = "https://w3id.org/musubi/vocab#cohort";
    MUSUBI_HEALTH_STATUS = "https://w3id.org/musubi/vocab#healthStatus";
    MUSUBI_TUMOR_STATUS = "https://w3id.org/musubi/vocab#tumorStatus";
    MUSUBI_SUBJECT_COUNT_TYPE = "https://w3id.org/musubi/vocab#subjectCountType";
    MUSUBI_SUBMITTER = "https://w3id.org/musubi/vocab#submitter";
    MUSUBI_VERSION_RELEASE_DATE = "https://w3id.org/musubi/vocab#versionReleaseDate";
    MUSUBI_DATA_RECORD = "https://w3id.org/musubi/vocab#dataRecord";
    MUSUBI_APPROVED_USE = "https://w3id.org/musubi/vocab#approvedUse";
    MUSUBI_USER = "https://w3id.org/musubi/vocab#user";
    MUSUBI_DATASET_ACCESSION = "https://w3id.org/musubi/vocab#datasetAccession";
    MUSUBI_PROJECT_NAME = "https://w3id.org/musubi/vocab#projectName";
    DCT_DATE_SUBMITTED = "http://purl.org/dc/terms/dateSubmitted";
    SCHEMA_START_DATE = "http://schema.org/startDate";
    SCHEMA_END_DATE = "http://schema.org/endDate";
    SCHEMA_ADDRESS_COUNTRY = "http://schema.org/addressCountry";
    FOAF_PAGE = "http://xmlns.com/foaf/0.1/page";

    // Catalogue terms: DCAT 3, DCAT-AP, HealthDCAT-AP, DPV, CSVW.
    HEALTH_HEALTH_CATEGORY = "http://healthdataportal.eu/ns/health#healthCategory";
    HEALTH_HEALTH_THEME = "http://healthdataportal.eu/ns/health#healthTheme";
    HEALTH_NUMBER_OF_RECORDS = "http://healthdataportal.eu/ns/health#numberOfRecords";
    HEALTH_MIN_TYPICAL_AGE = "http://healthdataportal.eu/ns/health#minTypicalAge";
    HEALTH_MAX_TYPICAL_AGE = "http://healthdataportal.eu/ns/health#maxTypicalAge";
    HEALTH_HDAB = "http://healthdataportal.eu/ns/health#hdab";
    HEALTH_PUBLISHER_NOTE = "http://healthdataportal.eu/ns/health#publisherNote";
    HEALTH_PUBLISHER_TYPE = "http://healthdataportal.eu/ns/health#publisherType";
    HEALTH_TRUSTED_DATA_HOLDER = "http://healthdataportal.eu/ns/health#trustedDataHolder";
    HEALTH_HAS_CODING_SYSTEM = "http://healthdataportal.eu/ns/health#hasCodingSystem";
    HEALTH_HAS_CODE_VALUES = "http://healthdataportal.eu/ns/health#hasCodeValues";
    HEALTH_ANALYTICS = "http://healthdataportal.eu/ns/health#analytics";
    MUSUBI_RETENTION_START = "https://w3id.org/musubi/vocab#retentionStart";
    MUSUBI_RETENTION_END = "https://w3id.org/musubi/vocab#retentionEnd";
    MUSUBI_TEMPORAL_START = "https://w3id.org/musubi/vocab#temporalStart";
    MUSUBI_TEMPORAL_END = "https://w3id.org/musubi/vocab#temporalEnd";
    MUSUBI_PROVENANCE_STATEMENT = "https://w3id.org/musubi/vocab#provenanceStatement";
    MUSUBI_RIGHTS_STATEMENT = "https://w3id.org/musubi/vocab#rightsStatement";
    MUSUBI_OTHER_IDENTIFIER = "https://w3id.org/musubi/vocab#otherIdentifier";
    MUSUBI_QUALITY_CERTIFICATE = "https://w3id.org/musubi/vocab#qualityCertificate";
    DPV_HAS_LEGAL_BASIS = "https://w3id.org/dpv#hasLegalBasis";
    DPV_HAS_PURPOSE = "https://w3id.org/dpv#hasPurpose";
    DPV_HAS_PERSONAL_DATA = "https://w3id.org/dpv#hasPersonalData";
    DCATAP_APPLICABLE_LEGISLATION = "http://data.europa.eu/r5r/applicableLegislation";
    DCT_ACCRUAL_PERIODICITY = "http://purl.org/dc/terms/accrualPeriodicity";
    DCT_ALTERNATIVE = "http://purl.org/dc/terms/alternative";
    DCT_CONFORMS_TO = "http://purl.org/dc/terms/conformsTo";
    DCT_CREATOR = "http://purl.org/dc/terms/creator";
    DCT_LANGUAGE = "http://purl.org/dc/terms/language";
    DCT_LICENSE = "http://purl.org/dc/terms/license";
    DCT_RELATION = "http://purl.org/dc/terms/relation";
    DCT_SPATIAL = "http://purl.org/dc/terms/spatial";
    DCAT_THEME = "http://www.w3.org/ns/dcat#theme";
    DCAT_SPATIAL_RESOLUTION = "http://www.w3.org/ns/dcat#spatialResolutionInMeters";
    DCAT_TEMPORAL_RESOLUTION = "http://www.w3.org/ns/dcat#temporalResolution";
    DCAT_MEDIA_TYPE = "http://www.w3.org/ns/dcat#mediaType";
    ADMS_SAMPLE = "http://www.w3.org/ns/adms#sample";
    ADMS_VERSION_NOTES = "http://www.w3.org/ns/adms#versionNotes";
    FOAF_HOMEPAGE = "http://xmlns.com/foaf/0.1/homepage";
    FOAF_MBOX = "http://xmlns.com/foaf/0.1/mbox";
    SKOS_PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel";
    SKOS_NOTATION = "http://www.w3.org/2004/02/skos/core#notation";
    SKOS_DEFINITION = "http://www.w3.org/2004/02/skos/core#definition";
    CSVW_COLUMN = "http://www.w3.org/ns/csvw#column";
    CSVW_NAME = "http://www.w3.org/ns/csvw#name";
    CSVW_DATATYPE = "http://www.w3.org/ns/csvw#datatype";
    CSVW_DESCRIBES = "http://www.w3.org/ns/csvw#describes";
    MUSUBI_ALLOWED_VALUE = "https://w3id.org/musubi/vocab#allowedValue";

    // Archive records (EGA).
    MUSUBI_ATTRIBUTE = "https://w3id.org/musubi/vocab#attribute";
    RDF_VALUE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#value";
    MUSUBI_SUBMISSION_ACCESSION = "https://w3id.org/musubi/vocab#submissionAccession";
    MUSUBI_DUO_TERM_ID = "https://w3id.org/musubi/vocab#duoTermId";
    MUSUBI_DUO_LABEL = "https://w3id.org/musubi/vocab#duoLabel";
    DCAT_CONTACT_POINT = "http://www.w3.org/ns/dcat#contactPoint";
    SCHEMA_TELEPHONE = "http://schema.org/telephone";

    // Archive projects and citations (DDBJ BioProject).
    MUSUBI_ORGANISM = "https://w3id.org/musubi/vocab#organism";
    MUSUBI_ORGANISM_NAME = "https://w3id.org/musubi/vocab#organismName";
    DCT_CREATED = "http://purl.org/dc/terms/created";
    DCT_BIBLIOGRAPHIC_CITATION = "http://purl.org/dc/terms/bibliographicCitation";
    BIBO_PMID = "http://purl.org/ontology/bibo/pmid";

    // Source bookkeeping in the meta graph.
    MUSUBI_LAST_HARVEST = "https://w3id.org/musubi/vocab#lastHarvest";
    MUSUBI_LAST_ATTEMPT = "https://w3id.org/musubi/vocab#lastAttempt";
    MUSUBI_LAST_ERROR = "https://w3id.org/musubi/vocab#lastError";
    MUSUBI_RECORD_COUNT = "https://w3id.org/musubi/vocab#recordCount";
    MUSUBI_LAST_WARNING = "https://w3id.org/musubi/vocab#lastWarning";
    MUSUBI_HARVESTED_PROPERTY = "https://w3id.org/musubi/vocab#harvestedProperty";
    MUSUBI_LAST_CHANGE = "https://w3id.org/musubi/vocab#lastChange";
    MUSUBI_CONTENT_DIGEST = "https://w3id.org/musubi/vocab#contentDigest";

    // The platform's process records (`musubi_platform::ledger`, `fees`): access requests, access
    // grants (ODRL agreements), research outcomes and usage counts, one graph each under
    // PROCESS_GRAPH_PREFIX. Ordered values (members, datasets, transitions) are RDF lists.
    RDF_FIRST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first";
    RDF_REST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest";
    RDF_NIL = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil";
    RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment";
    XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean";
    PROV_AT_TIME = "http://www.w3.org/ns/prov#atTime";
    ODRL_AGREEMENT = "http://www.w3.org/ns/odrl/2/Agreement";
    MUSUBI_ACCESS_REQUEST_CLASS = "https://w3id.org/musubi/vocab#AccessRequest";
    MUSUBI_OUTCOME_CLASS = "https://w3id.org/musubi/vocab#Outcome";
    MUSUBI_TRANSITION_CLASS = "https://w3id.org/musubi/vocab#Transition";
    MUSUBI_USAGE_COUNT_CLASS = "https://w3id.org/musubi/vocab#UsageCount";
    MUSUBI_PROCESS_STATE = "https://w3id.org/musubi/vocab#processState";
    MUSUBI_REQUESTER = "https://w3id.org/musubi/vocab#requester";
    MUSUBI_GRANTEE = "https://w3id.org/musubi/vocab#grantee";
    MUSUBI_AGENT_SUBJECT = "https://w3id.org/musubi/vocab#agentSubject";
    MUSUBI_AGENT_ISSUER = "https://w3id.org/musubi/vocab#agentIssuer";
    MUSUBI_ORGANISATION = "https://w3id.org/musubi/vocab#organisation";
    MUSUBI_USER_CLASS = "https://w3id.org/musubi/vocab#userClass";
    MUSUBI_PURPOSE = "https://w3id.org/musubi/vocab#purpose";
    MUSUBI_RESEARCH_DISEASE = "https://w3id.org/musubi/vocab#researchDisease";
    MUSUBI_HEALTH_MEDICAL_BIOMEDICAL = "https://w3id.org/musubi/vocab#healthMedicalBiomedical";
    MUSUBI_POPULATION_ORIGINS = "https://w3id.org/musubi/vocab#populationOrigins";
    MUSUBI_METHODS_DEVELOPMENT = "https://w3id.org/musubi/vocab#methodsDevelopment";
    MUSUBI_COMMERCIAL_USE = "https://w3id.org/musubi/vocab#commercialUse";
    MUSUBI_INSTITUTION = "https://w3id.org/musubi/vocab#institution";
    MUSUBI_PERIOD_START = "https://w3id.org/musubi/vocab#periodStart";
    MUSUBI_PERIOD_END = "https://w3id.org/musubi/vocab#periodEnd";
    MUSUBI_MEMBERS = "https://w3id.org/musubi/vocab#members";
    MUSUBI_REQUESTED_DATASETS = "https://w3id.org/musubi/vocab#requestedDatasets";
    /// A dataset a process record concerns, by accession (unordered, for queries).
    MUSUBI_DATASET = "https://w3id.org/musubi/vocab#dataset";
    /// The same accessions in their order.
    MUSUBI_DATASET_LIST = "https://w3id.org/musubi/vocab#datasetList";
    MUSUBI_DUO_DECISION = "https://w3id.org/musubi/vocab#duoDecision";
    MUSUBI_CONDITION_LIST = "https://w3id.org/musubi/vocab#conditionList";
    MUSUBI_DUO_RULE = "https://w3id.org/musubi/vocab#duoRule";
    MUSUBI_SUBMITTED_AT = "https://w3id.org/musubi/vocab#submittedAt";
    MUSUBI_TRANSITIONS = "https://w3id.org/musubi/vocab#transitions";
    MUSUBI_ACTION = "https://w3id.org/musubi/vocab#action";
    MUSUBI_FROM_STATE = "https://w3id.org/musubi/vocab#fromState";
    MUSUBI_TO_STATE = "https://w3id.org/musubi/vocab#toState";
    MUSUBI_ACTOR = "https://w3id.org/musubi/vocab#actor";
    MUSUBI_CALLER_TIER = "https://w3id.org/musubi/vocab#callerTier";
    MUSUBI_ISSUED_GRANT = "https://w3id.org/musubi/vocab#issuedGrant";
    MUSUBI_GRANTED_REQUEST = "https://w3id.org/musubi/vocab#grantedRequest";
    MUSUBI_EXPIRES = "https://w3id.org/musubi/vocab#expires";
    MUSUBI_REVOKED = "https://w3id.org/musubi/vocab#revoked";
    MUSUBI_SEQUENCE = "https://w3id.org/musubi/vocab#sequence";
    MUSUBI_OUTCOME_KIND = "https://w3id.org/musubi/vocab#outcomeKind";
    MUSUBI_OUTCOME_IDENTIFIER = "https://w3id.org/musubi/vocab#outcomeIdentifier";
    MUSUBI_REGISTERED_AT = "https://w3id.org/musubi/vocab#registeredAt";
    MUSUBI_REGISTERED_BY = "https://w3id.org/musubi/vocab#registeredBy";
    MUSUBI_USAGE = "https://w3id.org/musubi/vocab#usage";
    MUSUBI_USAGE_KIND = "https://w3id.org/musubi/vocab#usageKind";
    MUSUBI_USE_COUNT = "https://w3id.org/musubi/vocab#useCount";
    /// Format 1 of the process records (before the crate split): the whole record as one JSON
    /// literal. Read once, to migrate a data folder written then; never written.
    MUSUBI_PROCESS_RECORD_V1 = "https://w3id.org/musubi/vocab#processRecord";
    /// Format 1 of a month's usage counts: one JSON literal. Read once, to migrate; never written.
    MUSUBI_USAGE_COUNTS_V1 = "https://w3id.org/musubi/vocab#usageCounts";
}

/// Named graphs of process records: `PROCESS_GRAPH_PREFIX` + `request/AR-…` (or `grant/GR-…`,
/// `outcome/OUT-…`, `usage/2026-12`).
pub const PROCESS_GRAPH_PREFIX: &str = "https://w3id.org/musubi/process/";

/// The graph (and the subject) of process record `id` of `kind` (`request`, `grant`, `outcome`,
/// `usage`).
pub fn process_graph(kind: &str, id: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{PROCESS_GRAPH_PREFIX}{kind}/{id}"))
}

/// The named graph that holds source `id`'s data.
pub fn source_graph(id: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{SOURCE_GRAPH_PREFIX}{id}"))
}

/// The graph where the hub keeps source `id`'s status (in [`META_GRAPH`]'s name space).
pub fn status_graph(id: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{META_GRAPH}/{id}"))
}

/// The hub's IRI of the study with `accession` (`None` if the accession cannot stand in an IRI).
pub fn hub_study(accession: &str) -> Option<NamedNode> {
    NamedNode::new(format!("{HUB_STUDY_PREFIX}{accession}")).ok()
}
