//! The DMP catalog in the API: plans and their data items (`dmps`, `dmpItems`, `dmpItem`), the
//! STEWARD-only `ingestDmp` and `confirmDmpLink` mutations, and `sharingDeadlines` (STEWARD).
//!
//! Each plan lives in its own graph (`source/dmp-<key>`, see `musubi_platform::dmp`); links a
//! steward confirms between a data item and a partner record live in the `steward-dmp-links`
//! graph, so re-ingesting a plan keeps them. A data item is read from every graph that describes
//! its IRI. Every field is guarded by the tier of the property it shows.

use std::sync::Arc;

use async_graphql::{Context, Enum, ErrorExtensions, Object, Result, SimpleObject};
use musubi_platform::dmp::{self, DeadlineStatus, Dmp};
use musubi_ontology::rdf::{Literal, NamedNode, NamedNodeRef, NamedOrBlankNode, Term, Triple};
use musubi_read_model::{ReadModel, SourceView};
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab as v;

use crate::ApiState;
use crate::access::{Hidden, RecordPolicy, Scope, guard, guard_tier, api, listed, today};
use crate::errors::bad_input;
use crate::types::AccessLevel;

/// The source id of the graph of steward-confirmed links between data items and records.
pub const STEWARD_LINKS_SOURCE: &str = "steward-dmp-links";

/// A node of the DMP catalog, read from every graph that describes it.
#[derive(Debug, Clone)]
struct CatalogNode {
    id: NamedOrBlankNode,
    views: Vec<Arc<SourceView>>,
}

impl CatalogNode {
    fn of(model: &ReadModel, id: NamedOrBlankNode) -> CatalogNode {
        let views = model.views().filter(|view| view.contains(&id)).cloned().collect();
        CatalogNode { id, views }
    }

    /// The values of `property` (its tier checked), but no link to a record hidden from the
    /// caller (a deposit accession of an embargoed record).
    fn values(&self, ctx: &Context<'_>, property: NamedNodeRef<'_>) -> Result<Vec<Term>> {
        guard(ctx, property, &Scope::default())?;
        let hidden = Hidden::of(ctx);
        let mut out: Vec<Term> = Vec::new();
        for view in &self.views {
            let Some(node) = view.node(&self.id) else { continue };
            for t in node.values(property) {
                if !out.iter().any(|o| o.as_ref() == t) && !hidden.names(t) {
                    out.push(t.into_owned());
                }
            }
        }
        Ok(out)
    }

    fn strings(&self, ctx: &Context<'_>, property: NamedNodeRef<'_>) -> Result<Vec<String>> {
        Ok(self.values(ctx, property)?.iter().filter_map(lexical).collect())
    }

    fn first(&self, ctx: &Context<'_>, property: NamedNodeRef<'_>) -> Result<Option<String>> {
        Ok(self.strings(ctx, property)?.into_iter().next())
    }

    fn agents(&self, ctx: &Context<'_>, property: NamedNodeRef<'_>) -> Result<Vec<DmpAgent>> {
        let model = api(ctx).model();
        Ok(self
            .values(ctx, property)?
            .into_iter()
            .filter_map(|t| match t {
                Term::NamedNode(n) => {
                    let node = CatalogNode::of(&model, n.clone().into());
                    let name = node.views.iter().find_map(|view| view.node(&node.id)?.first(v::FOAF_NAME).map(str::to_owned));
                    let minted = n.as_str().starts_with(dmp::DMP_IRI_PREFIX);
                    Some(DmpAgent { iri: (!minted).then(|| n.as_str().to_owned()), name })
                }
                _ => None,
            })
            .collect())
    }

    fn iri(&self) -> String {
        match &self.id {
            NamedOrBlankNode::NamedNode(n) => n.as_str().to_owned(),
            NamedOrBlankNode::BlankNode(b) => format!("_:{}", b.as_str()),
        }
    }
}

fn lexical(t: &Term) -> Option<String> {
    match t {
        Term::NamedNode(n) => Some(n.as_str().to_owned()),
        Term::Literal(l) => Some(l.value().to_owned()),
        _ => None,
    }
}

/// A person or organisation a plan names.
#[derive(Debug, Clone, SimpleObject)]
pub struct DmpAgent {
    /// ORCID, ROR or other IRI, when the plan gives one.
    pub iri: Option<String>,
    pub name: Option<String>,
}

/// An AMED Data Management Plan.
#[derive(Debug, Clone)]
pub struct DmpPlan(CatalogNode);

#[Object(name = "Dmp")]
impl DmpPlan {
    /// The plan's id in the hub (`dmp-<key>`, keyed by its project number).
    async fn id(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCT_IDENTIFIER)
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_DMP_PROJECT)
    }
    /// AMED's project number (課題管理番号).
    async fn project_number(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_DMP_PROJECT_NUMBER)
    }
    async fn funding_programme(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_FUNDING_PROGRAMME)
    }
    async fn funder(&self, ctx: &Context<'_>) -> Result<Option<DmpAgent>> {
        Ok(self.0.agents(ctx, v::MUSUBI_DMP_FUNDER)?.into_iter().next())
    }
    async fn chief_researcher(&self, ctx: &Context<'_>) -> Result<Option<DmpAgent>> {
        Ok(self.0.agents(ctx, v::MUSUBI_CHIEF_RESEARCHER)?.into_iter().next())
    }
    async fn data_creators(&self, ctx: &Context<'_>) -> Result<Option<Vec<DmpAgent>>> {
        Ok(Some(self.0.agents(ctx, v::MUSUBI_DATA_CREATOR)?))
    }
    async fn hosting_institution(&self, ctx: &Context<'_>) -> Result<Option<DmpAgent>> {
        Ok(self.0.agents(ctx, v::MUSUBI_HOSTING_INSTITUTION)?.into_iter().next())
    }
    /// STEWARD.
    async fn data_manager(&self, ctx: &Context<'_>) -> Result<Option<DmpAgent>> {
        Ok(self.0.agents(ctx, v::MUSUBI_DATA_MANAGER)?.into_iter().next())
    }
    /// Where the whole plan's data is managed, when it is one repository.
    async fn repository(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_DMP_REPOSITORY)
    }
    async fn distribution(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_DMP_DISTRIBUTION)
    }
    /// The plan's data items, by data number.
    async fn items(&self, ctx: &Context<'_>) -> Result<Option<Vec<DmpItem>>> {
        guard(ctx, v::MUSUBI_DMP_ITEM, &Scope::default())?;
        let model = api(ctx).model();
        Ok(Some(self
            .0
            .views
            .iter()
            .filter(|view| dmp::is_dmp_source(&view.source))
            .flat_map(|view| dmp::items_of(view))
            .map(|id| DmpItem(CatalogNode::of(&model, id)))
            .collect()))
    }
}

/// One data item of a plan: a catalog entry.
#[derive(Debug, Clone)]
pub struct DmpItem(CatalogNode);

/// A partner record a data item was deposited as.
#[derive(Debug, Clone, SimpleObject)]
pub struct DepositedRecord {
    pub accession: String,
    /// What the hub has it as: DATASET, STUDY or SAMPLE; null while no source has it.
    pub kind: Option<String>,
    /// The sources that have it (empty while none has).
    pub sources: Vec<String>,
}

/// The record `accession` names in the read model (not an embargoed one, below STEWARD), and its
/// kind and sources.
fn deposited(ctx: &Context<'_>, model: &ReadModel, accession: &str) -> DepositedRecord {
    let today = today();
    let found = [("DATASET", model.dataset(accession)), ("STUDY", model.study(accession)), ("SAMPLE", model.sample(accession))]
        .into_iter()
        .find_map(|(kind, r)| r.filter(|r| listed(ctx, RecordPolicy::of(r, &today))).map(|r| (kind, r)));
    match found {
        Some((kind, r)) => DepositedRecord { accession: accession.to_owned(), kind: Some(kind.to_owned()), sources: r.sources().into_iter().map(str::to_owned).collect() },
        None => DepositedRecord { accession: accession.to_owned(), kind: None, sources: vec![] },
    }
}

#[Object]
impl DmpItem {
    /// The item's id in the hub (`dmp-<key>/<data number>`).
    async fn id(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCT_IDENTIFIER)
    }
    async fn iri(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        guard(ctx, v::MUSUBI_IRI, &Scope::default())?;
        Ok(Some(self.0.iri()))
    }
    async fn data_number(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        Ok(self.0.first(ctx, v::MUSUBI_DATA_NUMBER)?.and_then(|n| n.parse().ok()))
    }
    /// The data's name.
    async fn title(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCT_TITLE)
    }
    async fn description(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::DCT_DESCRIPTION)
    }
    /// The data's category (AMED `keyword`), which sharing periods are set by.
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_DATA_CATEGORY)
    }
    /// AMED access rights as the plan states them (Unshared, Restricted Closed Sharing, …).
    async fn source_access_level(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_SOURCE_ACCESS_LEVEL)?))
    }
    /// The access rights, normalised.
    async fn access_level(&self, ctx: &Context<'_>) -> Result<Option<AccessLevel>> {
        Ok(self
            .0
            .values(ctx, v::MUSUBI_ACCESS_LEVEL)?
            .iter()
            .filter_map(|t| match t {
                Term::NamedNode(n) => v::AccessLevel::from_iri(n.as_str()),
                _ => None,
            })
            .max()
            .map(AccessLevel::from))
    }
    async fn availability_starts(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_AVAILABILITY_STARTS)
    }
    /// STEWARD.
    async fn reason_for_concealment(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_REASON_FOR_CONCEALMENT)
    }
    async fn repository(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_DMP_REPOSITORY)
    }
    async fn distribution(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_DMP_DISTRIBUTION)
    }
    /// 1GB, 10GB, 100GB or over100GB.
    async fn content_size(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_CONTENT_SIZE_CLASS)
    }
    /// yes, no or unknown (STEWARD).
    async fn informed_consent(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_INFORMED_CONSENT)
    }
    /// AMED or other (STEWARD).
    async fn informed_consent_format(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_INFORMED_CONSENT_FORMAT)
    }
    /// jRCT / UMIN-CTR registrations.
    async fn clinical_registrations(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_CLINICAL_REGISTRATION)?))
    }
    /// Accessions of the records the data was deposited as: from the plan, and links a steward
    /// confirmed.
    async fn deposit_accessions(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        Ok(Some(self.0.strings(ctx, v::MUSUBI_DEPOSIT_ACCESSION)?))
    }
    /// The records those accessions name in the hub, with the sources that have them.
    async fn deposited_records(&self, ctx: &Context<'_>) -> Result<Option<Vec<DepositedRecord>>> {
        guard(ctx, v::MUSUBI_SOURCE, &Scope::default())?;
        let accessions = self.0.strings(ctx, v::MUSUBI_DEPOSIT_ACCESSION)?;
        let model = api(ctx).model();
        Ok(Some(accessions.iter().map(|a| deposited(ctx, &model, a)).collect()))
    }
    /// When the data was generated (sharing deadlines run from it).
    async fn generated_on(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.0.first(ctx, v::MUSUBI_GENERATED_ON)
    }
    /// The plan the item belongs to.
    async fn plan(&self, ctx: &Context<'_>) -> Result<Option<DmpPlan>> {
        let model = api(ctx).model();
        Ok(self.0.values(ctx, v::MUSUBI_DMP_PLAN)?.into_iter().find_map(|t| match t {
            Term::NamedNode(n) => Some(DmpPlan(CatalogNode::of(&model, n.into()))),
            _ => None,
        }))
    }
    /// Harvested datasets and studies whose titles share most words with this item's name, for
    /// a steward to confirm with `confirmDmpLink` (STEWARD).
    async fn suggested_records(&self, ctx: &Context<'_>) -> Result<Option<Vec<String>>> {
        guard_tier(ctx, Tier::Steward, None)?;
        let model = api(ctx).model();
        let name = self.0.views.iter().find_map(|view| view.node(&self.0.id)?.first(v::DCT_TITLE).map(str::to_owned)).unwrap_or_default();
        let words = significant_words(&name);
        if words.is_empty() {
            return Ok(Some(vec![]));
        }
        let mut scored: Vec<(usize, String)> = Vec::new();
        for record in model.datasets().iter().chain(model.studies()) {
            let titles: Vec<String> = model.members(record).flat_map(|(_, n)| n.strings(v::DCT_TITLE).into_iter().map(str::to_owned).collect::<Vec<_>>()).collect();
            let shared = titles.iter().map(|t| significant_words(t).intersection(&words).count()).max().unwrap_or(0);
            if shared * 2 >= words.len() && shared >= 2 {
                scored.push((shared, record.key().accession.clone()));
            }
        }
        scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        Ok(Some(scored.into_iter().take(5).map(|(_, a)| a).collect()))
    }
}

fn significant_words(text: &str) -> std::collections::BTreeSet<String> {
    const STOP: [&str; 12] = ["the", "of", "and", "in", "a", "an", "for", "with", "from", "to", "on", "by"];
    text.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase).filter(|w| w.len() > 2 && !STOP.contains(&w.as_str())).collect()
}

/// Where a data item stands against its sharing deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SharingStatus {
    /// The record is in a designated database.
    Met,
    /// Not shared yet; the deadline is today or later.
    Due,
    /// Not shared and the deadline has passed.
    Overdue,
}

impl From<DeadlineStatus> for SharingStatus {
    fn from(s: DeadlineStatus) -> Self {
        match s {
            DeadlineStatus::Met => SharingStatus::Met,
            DeadlineStatus::Due => SharingStatus::Due,
            DeadlineStatus::Overdue => SharingStatus::Overdue,
        }
    }
}

/// One data item's sharing deadline.
#[derive(Debug, Clone, SimpleObject)]
pub struct SharingDeadline {
    /// The item's id (`dmp-<key>/<n>`).
    pub item_id: String,
    pub title: String,
    pub category: String,
    pub generated_on: String,
    /// The policy period for the category, in months.
    pub months: i32,
    /// Generation date plus the period.
    pub deadline: String,
    pub status: SharingStatus,
    /// The accessions found in a designated database.
    pub shared_as: Vec<String>,
}

/// Every data item with a generation date and a period for its category, as of `as_of`.
pub fn deadlines(hub: &ApiState, as_of: &str) -> Vec<SharingDeadline> {
    let model = hub.model();
    let policy = hub.sharing_policy();
    let mut out = Vec::new();
    for view in model.views().filter(|view| dmp::is_dmp_source(&view.source)) {
        for id in dmp::items_of(view) {
            let node = CatalogNode::of(&model, id);
            let all = |p: NamedNodeRef<'_>| -> Vec<String> {
                node.views.iter().flat_map(|view| view.node(&node.id).map(|n| n.strings(p).into_iter().map(str::to_owned).collect::<Vec<_>>()).unwrap_or_default()).collect()
            };
            let first = |p| all(p).into_iter().next();
            let (Some(category), Some(generated)) = (first(v::MUSUBI_DATA_CATEGORY), first(v::MUSUBI_GENERATED_ON)) else { continue };
            let Some(months) = policy.months_for(&category) else { continue };
            let Some(deadline) = dmp::add_months(&generated, months) else { continue };
            let shared_as: Vec<String> = all(v::MUSUBI_DEPOSIT_ACCESSION)
                .into_iter()
                .filter(|a| {
                    [model.dataset(a), model.study(a), model.sample(a)].into_iter().flatten().any(|r| policy.counts(&r.sources()))
                })
                .collect();
            let status = dmp::deadline_status(&deadline, !shared_as.is_empty(), as_of);
            out.push(SharingDeadline {
                item_id: first(v::DCT_IDENTIFIER).unwrap_or_default(),
                title: first(v::DCT_TITLE).unwrap_or_default(),
                category,
                generated_on: generated,
                months: i32::try_from(months).unwrap_or(i32::MAX),
                deadline,
                status: status.into(),
                shared_as,
            });
        }
    }
    out.sort_by(|a, b| a.deadline.cmp(&b.deadline).then_with(|| a.item_id.cmp(&b.item_id)));
    out
}

#[derive(Debug, Default)]
pub struct DmpQuery;

#[Object]
impl DmpQuery {
    /// Every ingested Data Management Plan.
    async fn dmps(&self, ctx: &Context<'_>) -> Result<Option<Vec<DmpPlan>>> {
        guard(ctx, v::MUSUBI_DMP_ITEM, &Scope::default())?;
        let model = api(ctx).model();
        let mut plans: Vec<DmpPlan> = model
            .views()
            .filter(|view| dmp::is_dmp_source(&view.source))
            .flat_map(|view| view.of_type(v::MUSUBI_DATA_MANAGEMENT_PLAN).map(|n| n.id().into_owned()).collect::<Vec<_>>())
            .map(|id| DmpPlan(CatalogNode::of(&model, id)))
            .collect();
        plans.sort_by_key(|p| p.0.iri());
        Ok(Some(plans))
    }

    /// The data items of every plan (catalog entries), optionally of one category.
    async fn dmp_items(&self, ctx: &Context<'_>, category: Option<String>) -> Result<Option<Vec<DmpItem>>> {
        guard(ctx, v::MUSUBI_DMP_ITEM, &Scope::default())?;
        if category.is_some() {
            guard(ctx, v::MUSUBI_DATA_CATEGORY, &Scope::default())?;
        }
        let model = api(ctx).model();
        let wanted = category.map(|c| c.trim().to_lowercase());
        Ok(Some(model
            .views()
            .filter(|view| dmp::is_dmp_source(&view.source))
            .flat_map(|view| {
                dmp::items_of(view).into_iter().filter(|id| {
                    wanted.as_ref().is_none_or(|w| view.node(id).is_some_and(|n| n.first(v::MUSUBI_DATA_CATEGORY).is_some_and(|c| c.trim().to_lowercase() == *w)))
                })
            })
            .map(|id| DmpItem(CatalogNode::of(&model, id)))
            .collect()))
    }

    /// One data item by id (`dmp-<key>/<data number>`).
    async fn dmp_item(&self, ctx: &Context<'_>, id: async_graphql::ID) -> Result<Option<DmpItem>> {
        guard(ctx, v::MUSUBI_DMP_ITEM, &Scope::default())?;
        let model = api(ctx).model();
        Ok(find_item(&model, id.as_str()).map(|id| DmpItem(CatalogNode::of(&model, id))))
    }

    /// Sharing deadlines of the data items whose category has a policy period (STEWARD):
    /// generation date + period; MET once a deposited record is in a designated database.
    async fn sharing_deadlines(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day to judge on (YYYY-MM-DD); default today (UTC).")] as_of: Option<String>,
        status: Option<Vec<SharingStatus>>,
    ) -> Result<Option<Vec<SharingDeadline>>> {
        guard_tier(ctx, Tier::Steward, None)?;
        let as_of = as_of.unwrap_or_else(today);
        if dmp::add_months(&as_of, 0).is_none() {
            return Err(bad_input("asOf", format!("{as_of:?} is not a date (YYYY-MM-DD)")));
        }
        Ok(Some(deadlines(api(ctx), &as_of).into_iter().filter(|d| status.as_ref().is_none_or(|s| s.contains(&d.status))).collect()))
    }
}

/// The node of the data item with id `id` (`dmp-<key>/<n>`).
fn find_item(model: &ReadModel, id: &str) -> Option<NamedOrBlankNode> {
    let source = id.split('/').next()?;
    let view = model.view(source).filter(|_| dmp::is_dmp_source(source))?;
    dmp::items_of(view).into_iter().find(|n| view.node(n).is_some_and(|n| n.first(v::DCT_IDENTIFIER) == Some(id)))
}

/// The input format of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DmpFormat {
    /// NII-DG RO-Crate JSON-LD with the AMED context.
    Jsonld,
    /// A spreadsheet export, one row per data item (English or Japanese headers).
    Csv,
}

/// Reads, validates and ingests a plan; the error lists every problem (with `problems` in its
/// extensions) and nothing is stored.
pub fn ingest(hub: &ApiState, content: &[u8], format: Option<DmpFormat>, file: &str) -> Result<Dmp, IngestError> {
    let dmp = match format {
        Some(DmpFormat::Jsonld) => dmp::parse_jsonld(content, file),
        Some(DmpFormat::Csv) => dmp::parse_csv(content, file),
        None => dmp::parse(content, file),
    }
    .map_err(IngestError::Invalid)?;
    let store = hub.store().ok_or(IngestError::NoStore)?;
    let view = dmp::ingest(store.as_ref(), hub.vocabulary(), &dmp).map_err(IngestError::Store)?;
    hub.replace_source(view);
    Ok(dmp)
}

/// Why a plan was not ingested.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Invalid(dmp::DmpError),
    #[error("this hub has no graph store to write to")]
    NoStore,
    #[error(transparent)]
    Store(musubi_store::StoreError),
}

/// What an ingest did.
#[derive(Debug, Clone, SimpleObject)]
pub struct DmpIngestResult {
    /// The plan's id (`dmp-<key>`); ingesting it again replaces it.
    pub id: String,
    pub project: String,
    pub items: i32,
}

#[derive(Debug, Default)]
pub struct DmpMutation;

#[Object]
impl DmpMutation {
    /// Ingests an AMED DMP (STEWARD): validated whole, then swapped into its own graph. An invalid
    /// plan is refused with every problem (row/column or JSON path) listed, and nothing is stored.
    async fn ingest_dmp(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The plan: JSON-LD text or CSV text (UTF-8).")] content: String,
        #[graphql(desc = "JSONLD or CSV; guessed from the content when not given.")] format: Option<DmpFormat>,
        #[graphql(desc = "A name for the file, used in error messages.")] file_name: Option<String>,
    ) -> Result<Option<DmpIngestResult>> {
        guard_tier(ctx, Tier::Steward, None)?;
        let hub = api(ctx);
        let file = file_name.unwrap_or_else(|| "content".to_owned());
        Ok(Some(match ingest(hub, content.as_bytes(), format, &file) {
            Ok(dmp) => Ok(DmpIngestResult { id: dmp.source_id(), project: dmp.project.clone(), items: dmp.items.len() as i32 }),
            Err(IngestError::Invalid(e)) => {
                let problems: Vec<String> = e.problems.iter().map(|p| p.to_string()).collect();
                Err(bad_input("content", &e).extend_with(|_, ext| ext.set("problems", problems.clone())))
            }
            Err(e) => Err(async_graphql::Error::new(e.to_string())),
        }?))
    }

    /// Confirms that a data item was deposited as the record `accession` (e.g. a suggested
    /// match), STEWARD only. Kept apart from the plan's graph, so re-ingesting the plan keeps it.
    async fn confirm_dmp_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The data item's id (`dmp-<key>/<n>`).")] item: async_graphql::ID,
        #[graphql(desc = "The record's accession (e.g. JGAD000001).")] accession: String,
    ) -> Result<Option<Vec<String>>> {
        guard_tier(ctx, Tier::Steward, None)?;
        let hub = api(ctx);
        let model = hub.model();
        let accession = accession.trim().to_owned();
        if accession.is_empty() || accession.chars().any(char::is_whitespace) {
            return Err(bad_input("accession", format!("{accession:?} is not an accession")));
        }
        let Some(NamedOrBlankNode::NamedNode(node)) = find_item(&model, item.as_str()) else {
            return Err(bad_input("item", format!("no DMP data item {:?}", item.as_str())));
        };
        hub.add_to_graph(STEWARD_LINKS_SOURCE, vec![Triple::new(node.clone(), v::MUSUBI_DEPOSIT_ACCESSION, Literal::new_simple_literal(&accession))])?;
        let node = CatalogNode::of(&hub.model(), NamedOrBlankNode::from(NamedNode::new_unchecked(node.as_str())));
        Ok(Some(node.views.iter().flat_map(|view| view.node(&node.id).map(|n| n.strings(v::MUSUBI_DEPOSIT_ACCESSION).into_iter().map(str::to_owned).collect::<Vec<_>>()).unwrap_or_default()).collect()))
    }
}
