//! Each GraphQL field's tier, as introspection shows it and as fields outside the graph enforce it.
//!
//! When the schema is built, every field of every object type is classified ([`classify`]):
//! it shows graph properties (their vocabulary tiers apply, raised by record policies), it is
//! public by construction (a connection, a wrapper: it shows no value of its own), it has a fixed
//! tier (the audit log: STEWARD), or nothing declares it — then it is STEWARD-only (fail closed).
//! The classification is written into the schema as a `@tier(requires: …)` directive and a line
//! of the field's description, from the vocabulary loaded at start (a changed tier shows without
//! a rebuild). [`FieldTierGuard`] enforces the fixed and undeclared tiers at resolve time; fields
//! that show properties are guarded in their resolvers, which know the record.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest, NextResolve, ResolveInfo};
use async_graphql::parser::types::Directive;
use async_graphql::registry::{MetaDirective, MetaDirectiveInvocation, MetaInputValue, MetaType, Registry};
use async_graphql::{
    ContextDirective, CustomDirective, CustomDirectiveFactory, Enum, Name, PathSegment, Response, ServerError, ServerResult, Value,
};
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab::{self as v, Vocabulary};

use crate::Principal;
use musubi_platform::audit::AuditCollector;

/// The tiers, as GraphQL names them (the `@tier` directive's argument type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "Tier")]
pub enum TierName {
    Public,
    Registered,
    Controlled,
    Steward,
}

/// How a field's tier is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldRule {
    /// Shows these graph properties: the strictest of their tiers, raised by record policies.
    Properties(Vec<String>),
    /// Shows no value of its own (a connection, an edge, a wrapper); what it holds has its tiers.
    Structural,
    /// A tier that is not a graph property's.
    Fixed(Tier),
    /// Nothing declares it: STEWARD-only.
    Undeclared,
}

/// A field's tier on an ordinary record, a sensitive one and an embargoed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTier {
    pub rule: FieldRule,
    pub requires: Tier,
    pub sensitive: Tier,
    pub embargoed: Tier,
}

/// Fields whose name alone does not say what they show. Everything else that shows a graph
/// property is found by the vocabulary's `musubi:graphqlField`.
fn declared_rule(ty: &str, field: &str) -> Option<FieldRule> {
    use FieldRule::*;
    let props = |ps: &[musubi_ontology::rdf::NamedNodeRef<'static>]| Properties(ps.iter().map(|p| p.as_str().to_owned()).collect());
    Some(match (ty, field) {
        ("DatasetConnection" | "DatasetEdge" | "PageInfo" | "Text" | "Claim", _) => Structural,
        // Search results: records have their own tiers; scores, highlights and facet counts are
        // computed only from what the caller may read on each record (schema/src/search.rs).
        ("SearchConnection" | "SearchEdge" | "Facet" | "FacetValue", _) => Structural,
        ("Query", "auditLog") | ("AuditConnection" | "AuditEdge" | "AuditRecord", _) => Fixed(Tier::Steward),
        // Processes (`process/api.rs`): researchers' fields are REGISTERED (each resolver then
        // shows a caller only their own requests, grants and organisation), the committee's
        // STEWARD; outcomes are public, the return to the people who gave the data (a
        // dataset's `outcomes` is the vocabulary's `musubi:outcome`, so embargoes apply).
        // Who registered an outcome, and how many came before it, are the committee's to see.
        ("Outcome", "registeredBy" | "sequence") => Fixed(Tier::Steward),
        ("Query", "outcomes") | ("Outcome" | "OutcomeConnection", _) => Fixed(Tier::Public),
        ("Query", "accessRequest" | "accessRequests" | "grants" | "feeStatement")
        | ("Mutation", "submitAccessRequest" | "withdrawAccessRequest" | "registerOutcome")
        | ("AccessRequest" | "RequestedDataset" | "ResearchUse" | "Transition" | "Party" | "AccessGrant", _)
        | ("FeeStatement" | "FeeLine", _) => Fixed(Tier::Registered),
        ("Mutation", "approveAccessRequest" | "rejectAccessRequest" | "revokeGrant") => Fixed(Tier::Steward),
        // DUO: a dataset's data use and the verdicts show its (public) DUO codes; suggestions
        // from free text await a steward's confirmation.
        ("Dataset", "dataUse") => props(&crate::duo::DATA_USE_READS),
        ("Query", "matchDataUse") => props(&crate::duo::DATA_USE_READS),
        ("DataUseInfo" | "DuoCode" | "DataUseVerdict" | "DuoSuggestion", _) => Structural,
        ("Policy", "duoSuggestions") => Fixed(Tier::Steward),
        // The DMP catalog: each field shows the property it names (below, by graphqlField);
        // deadlines, suggestions and every mutation are STEWARD.
        ("Query", "dmps" | "dmpItems" | "dmpItem") => props(&[v::MUSUBI_DMP_ITEM]),
        ("Query", "sharingDeadlines") | ("SharingDeadline", _) => Fixed(Tier::Steward),
        ("DmpItem", "suggestedRecords") => Fixed(Tier::Steward),
        // The records a data item was deposited as: their accessions and sources, both checked
        // by `depositedRecords` itself.
        ("DmpItem", "depositedRecords") => props(&[v::MUSUBI_DEPOSIT_ACCESSION, v::MUSUBI_SOURCE]),
        ("DepositedRecord", _) => Structural,
        ("Mutation", "ingestDmp" | "confirmDmpLink" | "confirmDuoSuggestion") | ("DmpIngestResult", _) => Fixed(Tier::Steward),
        // `claims` applies the tier of the field it is asked about.
        (_, "claims") => Structural,
        // One entry per source: as much a value as `sources`.
        (_, "provenance") => props(&[v::MUSUBI_SOURCE]),
        ("Query", "dataset" | "datasets" | "study" | "studies" | "sample" | "search") => props(&[v::DCT_IDENTIFIER]),
        ("Query", "sources") => props(&[v::MUSUBI_LAST_HARVEST, v::MUSUBI_LAST_ATTEMPT, v::MUSUBI_RECORD_COUNT, v::MUSUBI_LAST_ERROR, v::MUSUBI_LAST_WARNING]),
        // A source's registration (its manifest), not graph data.
        ("SourceInfo", "id" | "name" | "kind" | "endpoint") => Fixed(Tier::Public),
        (_, "id" | "identifiers") => props(&[v::DCT_IDENTIFIER]),
        (_, "sources") => props(&[v::MUSUBI_SOURCE]),
        ("Study", "datasets" | "samples") | ("Sample", "studies" | "studyAccessions") => props(&[v::DCT_IS_PART_OF]),
        ("StudyVersion", "datasetAccessions") => props(&[v::DCT_HAS_PART]),
        ("Distribution", "downloadUrl") => props(&[v::DCAT_DOWNLOAD_URL]),
        _ => return None,
    })
}

/// The tier of field `field` of type `ty`.
pub fn classify(vocabulary: &Vocabulary, ty: &str, field: &str) -> FieldTier {
    let rule = declared_rule(ty, field).unwrap_or_else(|| {
        let mut properties: Vec<String> =
            vocabulary.properties().filter(|p| p.graphql_field.as_deref() == Some(field)).map(|p| p.iri.clone()).collect();
        properties.sort();
        if properties.is_empty() { FieldRule::Undeclared } else { FieldRule::Properties(properties) }
    });
    let fixed = |t: Tier| FieldTier { rule: rule.clone(), requires: t, sensitive: t, embargoed: t };
    match &rule {
        FieldRule::Structural => fixed(Tier::Public),
        FieldRule::Fixed(t) => fixed(*t),
        FieldRule::Undeclared => fixed(Tier::Steward),
        // Root fields are not part of a record: record policies do not apply to them.
        FieldRule::Properties(ps) if ty == "Query" => fixed(ps.iter().map(|p| vocabulary.tier_of(p)).max().unwrap_or(Tier::Steward)),
        FieldRule::Properties(ps) => {
            let under = |policy| {
                ps.iter().map(|p| crate::access::effective_tier(vocabulary, p, policy)).max().unwrap_or(Tier::Steward)
            };
            FieldTier {
                requires: under(Default::default()),
                sensitive: under(crate::access::RecordPolicy { embargoed: false, sensitive: true }),
                embargoed: under(crate::access::RecordPolicy { embargoed: true, sensitive: false }),
                rule,
            }
        }
    }
}

/// Filter, facet and sort names that read no field: `kind` (what a record is) and `text` (it
/// matches only the fields the caller may read on each record).
const READS_NOTHING: [&str; 2] = ["kind", "text"];

/// What the filter, facet or sort key `name` (of `datasets` or `search`) reads — filtering on a
/// field is reading it: a search [`musubi_search::Field`]'s properties; none for `kind` and
/// `text`; `None` for a name that states nothing (STEWARD-only: fail closed; the schema's tests
/// check that every filter states what it reads).
pub fn argument_reads(name: &str) -> Option<&'static [musubi_ontology::rdf::NamedNodeRef<'static>]> {
    if READS_NOTHING.contains(&name) {
        return Some(&[]);
    }
    musubi_search::Field::named(name).map(musubi_search::Field::reads)
}

/// The tier needed to filter, count or sort on `name` at all: the strictest of what it reads.
pub fn argument_tier(vocabulary: &Vocabulary, name: &str) -> Tier {
    match argument_reads(name) {
        Some(properties) => properties.iter().map(|p| vocabulary.tier_of(p.as_str())).max().unwrap_or(Tier::Public),
        None => Tier::Steward,
    }
}

/// The inputs of the process mutations (`process/api.rs`).
const PROCESS_INPUTS: &[&str] = &["AccessRequestInput", "ResearchUseInput", "PeriodInput", "OutcomeInput"];

type Table = HashMap<String, HashMap<String, FieldTier>>;

/// Registers the `@tier` directive and annotates every field with its tier, as the schema is
/// built; the table it computes is what [`FieldTierGuard`] enforces.
pub(crate) struct TierDirective {
    pub vocabulary: Arc<Vocabulary>,
    pub table: Arc<OnceLock<Table>>,
}

fn tier_value(t: Tier) -> Value {
    Value::Enum(Name::new(t.name()))
}

fn describe(t: &FieldTier) -> String {
    let mut line = match t.rule {
        FieldRule::Structural => "Tier: PUBLIC by construction (shows no value of its own; what it holds has its own tiers).".to_owned(),
        FieldRule::Undeclared => "Tier: STEWARD (no tier is declared for it: fail closed).".to_owned(),
        _ => format!("Tier: {}.", t.requires),
    };
    if t.sensitive != t.requires {
        line.push_str(&format!(" {} on a sensitive record.", t.sensitive));
    }
    if t.embargoed != t.requires {
        line.push_str(&format!(" {} on an embargoed record.", t.embargoed));
    }
    line
}

fn invocation(t: &FieldTier) -> MetaDirectiveInvocation {
    let mut args = async_graphql::indexmap::IndexMap::new();
    args.insert("requires".to_owned(), tier_value(t.requires));
    if t.sensitive != t.requires {
        args.insert("sensitive".to_owned(), tier_value(t.sensitive));
    }
    if t.embargoed != t.requires {
        args.insert("embargoed".to_owned(), tier_value(t.embargoed));
    }
    MetaDirectiveInvocation { name: "tier".to_owned(), args }
}

fn append_line(description: &mut Option<String>, line: &str) {
    *description = Some(match description.take() {
        Some(d) if !d.is_empty() => format!("{d}\n\n{line}"),
        _ => line.to_owned(),
    });
}

fn input_value(name: &str, ty: &str, description: &str) -> MetaInputValue {
    MetaInputValue {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        ty: ty.to_owned(),
        deprecation: Default::default(),
        default_value: None,
        visible: None,
        inaccessible: false,
        tags: Vec::new(),
        is_secret: false,
        directive_invocations: Vec::new(),
    }
}

impl CustomDirectiveFactory for TierDirective {
    fn name(&self) -> Cow<'static, str> {
        "tier".into()
    }

    fn register(&self, registry: &mut Registry) {
        use async_graphql::registry::__DirectiveLocation as L;
        let mut args = async_graphql::indexmap::IndexMap::new();
        args.insert("requires".to_owned(), input_value("requires", "Tier!", "The tier a caller needs to read the field."));
        args.insert("sensitive".to_owned(), input_value("sensitive", "Tier", "The tier it needs on a record marked sensitive."));
        args.insert("embargoed".to_owned(), input_value("embargoed", "Tier", "The tier it needs on a record under embargo."));
        registry.add_directive(MetaDirective {
            name: "tier".to_owned(),
            description: Some(
                "Who may read this field (from the hub vocabulary; CONTROLLED means a grant for the dataset). \
                 A denied field is null with a FORBIDDEN error."
                    .to_owned(),
            ),
            locations: vec![L::FIELD_DEFINITION, L::INPUT_FIELD_DEFINITION],
            args,
            is_repeatable: false,
            visible: None,
            composable: None,
        });
        let mut table = Table::new();
        for ty in registry.types.values_mut() {
            match ty {
                MetaType::Object { name, fields, .. } if !name.starts_with("__") => {
                    for field in fields.values_mut().filter(|f| !f.name.starts_with("__")) {
                        let tier = classify(&self.vocabulary, name, &field.name);
                        append_line(&mut field.description, &describe(&tier));
                        field.directive_invocations.push(invocation(&tier));
                        table.entry(name.clone()).or_default().insert(field.name.clone(), tier);
                    }
                }
                MetaType::InputObject { name, input_fields, .. } if !name.starts_with("__") => {
                    for field in input_fields.values_mut() {
                        let (tier, line) = if name == "DatasetFilter" {
                            let tier = argument_tier(&self.vocabulary, &field.name);
                            let line = match argument_reads(&field.name) {
                                Some([]) => "Tier: PUBLIC; matches only the fields you may read on each record.".to_owned(),
                                Some(_) => format!("Tier: {tier} (filtering on a field reads it); records whose field you may not read do not match."),
                                None => "Tier: STEWARD (the filter states no property: fail closed).".to_owned(),
                            };
                            (tier, line)
                        } else if PROCESS_INPUTS.contains(&name.as_str()) {
                            (Tier::Registered, "Tier: REGISTERED (the mutation that takes it says who may send it).".to_owned())
                        } else if name == "ResearchPurposeInput" {
                            // A question about public DUO codes.
                            (Tier::Public, "Tier: PUBLIC.".to_owned())
                        } else if name == "SearchFilter" {
                            let tier = argument_tier(&self.vocabulary, &field.name);
                            let known = argument_reads(&field.name).is_some();
                            let line = if known {
                                format!("Tier: {tier} (filtering on a field reads it); records whose field you may not read do not match.")
                            } else {
                                "Tier: STEWARD (the filter states no property: fail closed).".to_owned()
                            };
                            (tier, line)
                        } else if name == "DateRange" || name == "IntRange" {
                            (Tier::Public, "Tier: PUBLIC here; the filter it is given to has its own.".to_owned())
                        } else {
                            // Other inputs filter STEWARD-only lists (the audit log).
                            (Tier::Steward, "Tier: STEWARD.".to_owned())
                        };
                        append_line(&mut field.description, &line);
                        field.directive_invocations.push(MetaDirectiveInvocation {
                            name: "tier".to_owned(),
                            args: [("requires".to_owned(), tier_value(tier))].into_iter().collect(),
                        });
                    }
                }
                _ => {}
            }
        }
        // `register` runs once per schema build.
        let _ = self.table.set(table);
    }

    fn create(&self, _ctx: &ContextDirective<'_>, _directive: &Directive) -> ServerResult<Box<dyn CustomDirective>> {
        // A type-system directive: validation refuses it in queries, so this is never reached.
        struct Passthrough;
        impl CustomDirective for Passthrough {}
        Ok(Box::new(Passthrough))
    }
}

/// Enforces the tiers of fields that show no graph property (fixed or undeclared), per request.
pub(crate) struct FieldTierGuard {
    pub table: Arc<OnceLock<Table>>,
    pub hub: Arc<crate::ApiState>,
}

impl ExtensionFactory for FieldTierGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FieldTierCheck { table: self.table.clone(), hub: self.hub.clone(), nulled: Mutex::new(Vec::new()) })
    }
}

struct FieldTierCheck {
    table: Arc<OnceLock<Table>>,
    hub: Arc<crate::ApiState>,
    /// Errors of the fields this request answered null, added to its errors at the end.
    nulled: Mutex<Vec<ServerError>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for FieldTierCheck {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        response.errors.extend(self.nulled.lock().expect("nulled lock").drain(..));
        response
    }

    async fn resolve(&self, ctx: &ExtensionContext<'_>, info: ResolveInfo<'_>, next: NextResolve<'_>) -> ServerResult<Option<Value>> {
        // A field that fails (denied, or refused input) is null with its error, and the rest of
        // the response is served (GraphQL's rule for nullable fields: async-graphql would leave
        // the field out, and its object null once every field is left out). Every field that
        // can be denied is nullable (`every_deniable_field_is_nullable`).
        let nullable = !info.return_type.ends_with('!');
        let path = path_of(info.path_node);
        match self.check_then_resolve(ctx, info, next).await {
            Err(mut error) if nullable => {
                if error.path.is_empty() {
                    error.path = path;
                }
                self.nulled.lock().expect("nulled lock").push(error);
                Ok(Some(Value::Null))
            }
            answer => answer,
        }
    }
}

fn path_of(node: &async_graphql::QueryPathNode<'_>) -> Vec<PathSegment> {
    let mut path = Vec::new();
    let mut node = Some(node);
    while let Some(n) = node {
        path.push(match n.segment {
            async_graphql::QueryPathSegment::Name(name) => PathSegment::Field(name.to_owned()),
            async_graphql::QueryPathSegment::Index(i) => PathSegment::Index(i),
        });
        node = n.parent;
    }
    path.reverse();
    path
}

impl FieldTierCheck {
    async fn check_then_resolve(&self, ctx: &ExtensionContext<'_>, info: ResolveInfo<'_>, next: NextResolve<'_>) -> ServerResult<Option<Value>> {
        // List items resolve with the list type as parent; their fields come next. Introspection
        // (`__schema`, `__type`, `__typename`, at the root too) is public: the schema's shape,
        // with each field's tier, is what every caller needs to see.
        if info.is_for_introspection || info.name.starts_with("__") || info.parent_type.starts_with('[') || !self.hub.enforced() {
            return next.run(ctx, info).await;
        }
        // Fixed tiers: the root field's resolver notes the read for the audit log (the audit log's
        // own entries are not logged field by field). Undeclared fields are noted here.
        let (tier, note) = match self.table.get().and_then(|t| t.get(info.parent_type)).and_then(|f| f.get(info.name)) {
            Some(FieldTier { rule: FieldRule::Fixed(t), .. }) => (*t, false),
            Some(FieldTier { rule: FieldRule::Properties(_) | FieldRule::Structural, .. }) => return next.run(ctx, info).await,
            Some(FieldTier { rule: FieldRule::Undeclared, .. }) | None => (Tier::Steward, true),
        };
        let principal = ctx.data_opt::<Principal>();
        let collector = ctx.data_opt::<AuditCollector>();
        let allowed = principal.is_some_and(|p| p.may_read(tier, None)) && (tier < Tier::Controlled || collector.is_some());
        if allowed {
            if let Some(c) = collector.filter(|_| note && tier >= Tier::Controlled) {
                c.note_hub_field(info.name);
            }
            return next.run(ctx, info).await;
        }
        let mut error = ServerError::new(format!("this field needs the {tier} tier"), None);
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", "FORBIDDEN");
        extensions.set("requiredTier", tier.name());
        error.extensions = Some(extensions);
        Err(error)
    }
}
