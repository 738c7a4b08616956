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
use musubi_ontology::vocab as v;

use crate::access::{Hidden, RecordPolicy, Scope, guard, api, listed, today};
use crate::errors::bad_input;

mod agent;
mod dataset;
mod descriptors;
mod distribution;
mod funding;
mod policy;
mod publication;
mod record;
mod sample;
mod source;
mod study;

use agent::agents;
use dataset::outcomes_of;
use publication::publications;

pub use agent::Agent;
pub use dataset::{Dataset, DatasetFields};
pub use descriptors::{Attribute, Column, Concept, Disease};
pub use distribution::Distribution;
pub use funding::FundingGrant;
pub use policy::{ApprovedUse, Policy};
pub use publication::Publication;
pub use record::RecordFields;
pub use sample::{Sample, SampleFields};
pub use source::SourceInfo;
pub use study::{Study, StudyFields, StudyVersion};

/// A piece of text in one language (`lang` is null when the source did not say).
#[derive(Debug, Clone, SimpleObject, PartialEq, Eq)]
pub struct Text {
    pub value: String,
    pub lang: Option<String>,
}

/// A dataset's access level, normalised from what its source states.
// The vocabulary's `AccessLevel`, mirrored with `remote` (async-graphql keeps the two in step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "musubi_ontology::vocab::AccessLevel")]
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
        let model = api(ctx).model();
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
    /// When the hub harvested it (xsd:dateTime): the last harvest of its source that changed the
    /// source's graph (the source's `lastChange`), or the time its record states (a DMP plan's
    /// ingest).
    async fn harvested_at(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        if let Some(stated) = self.0.first(ctx, v::PROV_GENERATED_AT_TIME)? {
            return Ok(Some(stated));
        }
        let source = &self.0.primary().0.source;
        Ok(api(ctx).sources().iter().find(|s| &s.id == source).and_then(|s| s.last_change.clone()))
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
