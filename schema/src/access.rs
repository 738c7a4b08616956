//! Who the caller is, the record policies, and the guard each field read passes.
//!
//! Tiers come from the vocabulary (one declaration per property); a property it does not declare
//! is steward-only. Record policies raise them per record: an embargoed record is, below STEWARD,
//! one the hub does not have (not listed, counted, found, linked or answered by accession; a
//! vocabulary that marks properties `musubi:visibleUnderEmbargo` announces it by those), a sensitive one needs CONTROLLED for its REGISTERED properties. A
//! denied field resolves to `null` with a `FORBIDDEN` error naming the tier it needs; the rest of
//! the response is served. The error never echoes the value. Every allowed read of a CONTROLLED or
//! STEWARD field is noted in the request's [`AuditCollector`](musubi_platform::audit::AuditCollector).

use std::sync::Arc;

use async_graphql::{Context, Error, ErrorExtensions};
use musubi_ontology::rdf::{NamedNodeRef, TermRef};
use musubi_read_model::{MergedRecord, Node};
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab::Vocabulary;

use crate::ApiState;
use musubi_platform::audit::AuditCollector;

pub use musubi_platform::Principal;

/// What a record's own data says about how it is shown (the record policies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordPolicy {
    /// `musubi:embargoUntil` is still ahead (or is not a date: fail closed).
    pub embargoed: bool,
    /// `musubi:sensitive` is true.
    pub sensitive: bool,
}

pub use musubi_read_model::PolicyFacts;

impl RecordPolicy {
    /// The policy of a record from what any of its nodes states: one source's embargo or
    /// sensitive flag is enough. `today` is an `xsd:date` (`YYYY-MM-DD`).
    pub fn of_nodes(nodes: impl IntoIterator<Item = impl std::borrow::Borrow<Node>>, today: &str) -> RecordPolicy {
        RecordPolicy::on(&PolicyFacts::of_nodes(nodes), today)
    }

    /// The record's policy, from the facts kept with it when it was merged (no node is read).
    pub fn of(record: &MergedRecord, today: &str) -> RecordPolicy {
        RecordPolicy::on(&record.policy, today)
    }

    #[inline]
    pub fn on(facts: &PolicyFacts, today: &str) -> RecordPolicy {
        RecordPolicy { embargoed: facts.embargoed_on(today), sensitive: facts.sensitive }
    }
}

/// Today as an `xsd:date` (UTC), for embargoes.
pub fn today() -> String {
    musubi_ontology::now().to_string().chars().take(10).collect()
}

/// The record a value is read as part of: the dataset whose grant CONTROLLED fields need, and the
/// record policy. Nested entities (a dataset's distributions, policies, people) keep their
/// dataset's scope; a link to another record (a study) leaves it for that record's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub dataset: Option<String>,
    pub policy: RecordPolicy,
}

/// The tier `property` needs on a record with `policy`.
pub fn effective_tier(vocabulary: &Vocabulary, property: &str, policy: RecordPolicy) -> Tier {
    let mut tier = vocabulary.tier_of(property);
    if policy.sensitive && tier == Tier::Registered {
        tier = Tier::Controlled;
    }
    if policy.embargoed && !vocabulary.visible_under_embargo(property) {
        tier = Tier::Steward;
    }
    tier
}

pub(crate) fn api<'a>(ctx: &Context<'a>) -> &'a ApiState {
    ctx.data_unchecked::<std::sync::Arc<ApiState>>()
}

pub(crate) fn principal<'a>(ctx: &Context<'a>) -> &'a Principal {
    ctx.data::<Principal>().expect("the gateway puts a Principal in every request")
}

/// Checks that the caller may read `property` in `scope`.
pub(crate) fn guard(ctx: &Context<'_>, property: NamedNodeRef<'_>, scope: &Scope) -> Result<(), Error> {
    let hub = api(ctx);
    if !hub.enforced() {
        return Ok(());
    }
    let tier = effective_tier(hub.vocabulary(), property.as_str(), scope.policy);
    guard_tier(ctx, tier, scope.dataset.as_deref())
}

/// Checks that the caller may read a field of `tier` (of the dataset `dataset`), and notes the
/// read for the audit log when the tier is CONTROLLED or above.
pub(crate) fn guard_tier(ctx: &Context<'_>, tier: Tier, dataset: Option<&str>) -> Result<(), Error> {
    let principal = principal(ctx);
    if !principal.may_read(tier, dataset) {
        return Err(forbidden(tier));
    }
    if tier >= Tier::Controlled {
        // No collector, no read: a CONTROLLED value never leaves unaudited (fail closed).
        let collector = ctx
            .data::<AuditCollector>()
            .map_err(|_| Error::new("the audit log is not available; CONTROLLED and STEWARD fields cannot be read"))?;
        let grant_used = tier == Tier::Controlled && principal.tier < Tier::Steward;
        collector.note(dataset, ctx.item.node.name.node.as_str(), grant_used);
    }
    Ok(())
}

/// Whether lists, counts and search may include a record with `policy` for this caller.
pub(crate) fn listed(ctx: &Context<'_>, policy: RecordPolicy) -> bool {
    !policy.embargoed || !api(ctx).enforced() || principal(ctx).tier >= Tier::Steward
}

/// Whether a record with `policy`, asked for by its accession, answers this caller: an embargoed
/// record below STEWARD answers as an accession no record has (its existence is what the embargo
/// protects), unless the vocabulary announces embargoed records
/// ([`Vocabulary::announces_embargoed`]).
pub(crate) fn answers(ctx: &Context<'_>, policy: RecordPolicy) -> bool {
    listed(ctx, policy) || api(ctx).vocabulary().announces_embargoed()
}

/// The names (accessions, IRIs) of the records hidden from this caller: embargoed ones, below
/// STEWARD. A link to one — a dataset's study, a version's datasets, a policy's or a
/// publication's dataset accessions, a DMP item's deposits, a claim, an outcome — is not shown,
/// wherever it is resolved: the embargo hides that the record exists and what links to it.
pub(crate) struct Hidden {
    /// None when nothing is hidden from this caller (a steward; no record states an embargo).
    names: Option<(Arc<crate::Snapshot>, String)>,
}

impl Hidden {
    /// Hides nothing.
    pub(crate) fn none() -> Hidden {
        Hidden { names: None }
    }

    pub(crate) fn of(ctx: &Context<'_>) -> Hidden {
        let hub = api(ctx);
        if !hub.enforced() || principal(ctx).tier >= Tier::Steward {
            return Hidden { names: None };
        }
        let snapshot = hub.snapshot();
        if snapshot.embargo_names.is_empty() {
            return Hidden { names: None };
        }
        Hidden { names: Some((snapshot, today())) }
    }

    /// Whether `name` names a hidden record.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.names.as_ref().is_some_and(|(snapshot, today)| snapshot.embargo_names.get(name).is_some_and(|f| f.embargoed_on(today)))
    }

    /// Whether the value `t` is a link to (or the accession of) a hidden record.
    pub(crate) fn names(&self, t: TermRef<'_>) -> bool {
        match t {
            _ if self.names.is_none() => false,
            TermRef::NamedNode(n) => self.contains(n.as_str()),
            TermRef::Literal(l) => self.contains(l.value()),
            TermRef::BlankNode(_) => false,
        }
    }
}

pub(crate) fn forbidden(tier: Tier) -> Error {
    Error::new(format!("this field needs the {tier} tier"))
        .extend_with(|_, e| {
            e.set("code", "FORBIDDEN");
            e.set("requiredTier", tier.name());
        })
}

/// A filter argument on a field the caller may not read: refused, naming the argument and the tier,
/// never the value asked for.
pub(crate) fn forbidden_filter(argument: &str, tier: Tier) -> Error {
    Error::new(format!("filtering on `{argument}` needs the {tier} tier")).extend_with(|_, e| {
        e.set("code", "FORBIDDEN");
        e.set("requiredTier", tier.name());
        e.set("argument", argument);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use musubi_ontology::vocab as v;

    #[test]
    fn policies_raise_tiers() {
        let vocabulary = Vocabulary::builtin();
        let sensitive = RecordPolicy { embargoed: false, sensitive: true };
        let embargoed = RecordPolicy { embargoed: true, sensitive: false };
        assert_eq!(effective_tier(&vocabulary, v::MUSUBI_CONTACT_EMAIL.as_str(), sensitive), Tier::Controlled);
        assert_eq!(effective_tier(&vocabulary, v::DCT_DESCRIPTION.as_str(), sensitive), Tier::Public);
        assert_eq!(effective_tier(&vocabulary, v::DCT_DESCRIPTION.as_str(), embargoed), Tier::Steward);
        assert_eq!(effective_tier(&vocabulary, v::DCT_TITLE.as_str(), embargoed), Tier::Steward);
    }
}
