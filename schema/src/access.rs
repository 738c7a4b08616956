//! Who the caller is, the record policies, and the guard each field read passes.
//!
//! Tiers come from the vocabulary (one declaration per property); a property it does not declare
//! is steward-only. Record policies raise them per record: an embargoed record shows only the
//! properties the vocabulary marks `musubi:visibleUnderEmbargo` below STEWARD (and is left out of
//! lists, counts and search), a sensitive one needs CONTROLLED for its REGISTERED properties. A
//! denied field resolves to `null` with a `FORBIDDEN` error naming the tier it needs; the rest of
//! the response is served. The error never echoes the value. Every allowed read of a CONTROLLED or
//! STEWARD field is noted in the request's [`AuditCollector`](crate::audit::AuditCollector).

use std::collections::HashSet;

use async_graphql::{Context, Error, ErrorExtensions};
use musubi_ontology::rdf::NamedNodeRef;
use musubi_ontology::read_model::{MergedRecord, Node, ReadModel};
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab::{self as v, Vocabulary};

use crate::Hub;
use crate::audit::AuditCollector;

/// The caller as the schema sees it; built by the gateway from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tier: Tier,
    /// Accessions of the datasets the caller holds a grant for (CONTROLLED reads).
    pub grants: HashSet<String>,
    /// Who the caller is, for the audit log; `None` for anonymous callers.
    pub subject: Option<String>,
    /// Who vouched for the caller (the token issuer, or `api-key`), for the audit log.
    pub issuer: Option<String>,
}

impl Principal {
    pub fn anonymous() -> Principal {
        Principal { tier: Tier::Public, grants: HashSet::new(), subject: None, issuer: None }
    }

    /// Whether the caller may read a field of `tier` on the dataset `accession`.
    pub fn may_read(&self, tier: Tier, accession: Option<&str>) -> bool {
        match tier {
            Tier::Controlled if self.tier < Tier::Steward => {
                self.tier >= Tier::Registered && accession.is_some_and(|a| self.grants.contains(a))
            }
            _ => self.tier >= tier,
        }
    }

    /// Whether the caller may read a field of `tier` on at least one dataset (a filter on a field
    /// the caller can read nowhere is refused outright).
    pub fn may_read_somewhere(&self, tier: Tier) -> bool {
        match tier {
            Tier::Controlled if self.tier < Tier::Steward => self.tier >= Tier::Registered && !self.grants.is_empty(),
            _ => self.tier >= tier,
        }
    }
}

/// What a record's own data says about how it is shown (the record policies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordPolicy {
    /// `musubi:embargoUntil` is still ahead (or is not a date: fail closed).
    pub embargoed: bool,
    /// `musubi:sensitive` is true.
    pub sensitive: bool,
}

/// What a record's nodes state about its policy, from which its policy on any day follows (the
/// search index keeps these per record, so that a search needs no walk of the read model).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyFacts {
    pub sensitive: bool,
    /// Some source states an embargo that is not a date: embargoed whatever the day (fails closed).
    undated_embargo: bool,
    /// The latest `musubi:embargoUntil` date any source states (`YYYY-MM-DD`): the record is
    /// embargoed while it is after today. Kept as the date alone, not every stated value, since
    /// search asks this of every matching record.
    latest_embargo: Option<[u8; 10]>,
}

impl PolicyFacts {
    pub fn of_nodes(nodes: impl IntoIterator<Item = impl std::borrow::Borrow<Node>>) -> PolicyFacts {
        let mut facts = PolicyFacts::default();
        for node in nodes {
            let node = node.borrow();
            for until in node.strings(v::MUSUBI_EMBARGO_UNTIL) {
                facts.add_embargo(until);
            }
            facts.sensitive |= node.strings(v::MUSUBI_SENSITIVE).iter().any(|s| matches!(s.trim(), "true" | "1"));
        }
        facts
    }

    pub fn of(model: &ReadModel, record: &MergedRecord) -> PolicyFacts {
        PolicyFacts::of_nodes(model.members(record).map(|(_, n)| n))
    }

    /// One source's `musubi:embargoUntil`.
    fn add_embargo(&mut self, until: &str) {
        match embargo_date(until) {
            Some(date) => self.latest_embargo = self.latest_embargo.max(Some(date)),
            None => self.undated_embargo = true,
        }
    }

    /// The policy on `today` (an `xsd:date`).
    pub fn on(&self, today: &str) -> RecordPolicy {
        let embargoed = self.undated_embargo || self.latest_embargo.is_some_and(|date| date.as_slice() > today.as_bytes());
        RecordPolicy { embargoed, sensitive: self.sensitive }
    }
}

impl RecordPolicy {
    /// The policy of a record from what any of its nodes states: one source's embargo or
    /// sensitive flag is enough. `today` is an `xsd:date` (`YYYY-MM-DD`).
    pub fn of_nodes(nodes: impl IntoIterator<Item = impl std::borrow::Borrow<Node>>, today: &str) -> RecordPolicy {
        PolicyFacts::of_nodes(nodes).on(today)
    }

    pub fn of(model: &ReadModel, record: &MergedRecord, today: &str) -> RecordPolicy {
        RecordPolicy::of_nodes(model.members(record).map(|(_, n)| n), today)
    }
}

/// The date of an embargo `until` (an xsd:date or dateTime), or none if it is not one.
fn embargo_date(until: &str) -> Option<[u8; 10]> {
    let date: [u8; 10] = until.trim().as_bytes().get(..10)?.try_into().ok()?;
    let is_date = date.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    is_date.then_some(date)
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

pub(crate) fn hub<'a>(ctx: &Context<'a>) -> &'a Hub {
    ctx.data_unchecked::<std::sync::Arc<Hub>>()
}

pub(crate) fn principal<'a>(ctx: &Context<'a>) -> &'a Principal {
    ctx.data::<Principal>().expect("the gateway puts a Principal in every request")
}

/// Checks that the caller may read `property` in `scope`.
pub(crate) fn guard(ctx: &Context<'_>, property: NamedNodeRef<'_>, scope: &Scope) -> Result<(), Error> {
    let hub = hub(ctx);
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
    !policy.embargoed || !hub(ctx).enforced() || principal(ctx).tier >= Tier::Steward
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

    #[test]
    fn controlled_needs_a_grant_for_that_dataset() {
        let mut p = Principal { tier: Tier::Registered, grants: HashSet::from(["JGAD000001".to_owned()]), subject: None, issuer: None };
        assert!(p.may_read(Tier::Controlled, Some("JGAD000001")));
        assert!(!p.may_read(Tier::Controlled, Some("JGAD000002")));
        assert!(!p.may_read(Tier::Controlled, None));
        assert!(!p.may_read(Tier::Steward, Some("JGAD000001")));
        assert!(p.may_read_somewhere(Tier::Controlled));
        p.tier = Tier::Steward;
        assert!(p.may_read(Tier::Controlled, Some("JGAD000002")));
        assert!(!Principal::anonymous().may_read(Tier::Registered, None));
        assert!(!Principal::anonymous().may_read_somewhere(Tier::Controlled));
    }

    #[test]
    fn an_embargo_holds_until_its_date_and_a_bad_date_embargoes() {
        let embargoed = |untils: &[&str], today: &str| {
            let mut facts = PolicyFacts::default();
            untils.iter().for_each(|u| facts.add_embargo(u));
            facts.on(today).embargoed
        };
        assert!(embargoed(&["2099-01-01"], "2026-11-25"));
        assert!(embargoed(&["2026-11-26T00:00:00Z"], "2026-11-25"));
        assert!(!embargoed(&["2026-11-25"], "2026-11-25"), "released on the day");
        assert!(!embargoed(&["2001-01-01"], "2026-11-25"));
        assert!(embargoed(&["next spring"], "2026-11-25"), "fail closed");
        assert!(embargoed(&["2001-01-01", "2099-01-01", "2002-01-01"], "2026-11-25"), "any source's embargo holds");
        assert!(embargoed(&["2001-01-01", "soon"], "2026-11-25"));
        assert!(!embargoed(&[], "2026-11-25"));
    }

    #[test]
    fn policies_raise_tiers() {
        let vocabulary = Vocabulary::builtin();
        let sensitive = RecordPolicy { embargoed: false, sensitive: true };
        let embargoed = RecordPolicy { embargoed: true, sensitive: false };
        assert_eq!(effective_tier(&vocabulary, v::MUSUBI_CONTACT_EMAIL.as_str(), sensitive), Tier::Controlled);
        assert_eq!(effective_tier(&vocabulary, v::DCT_DESCRIPTION.as_str(), sensitive), Tier::Public);
        assert_eq!(effective_tier(&vocabulary, v::DCT_DESCRIPTION.as_str(), embargoed), Tier::Steward);
        assert_eq!(effective_tier(&vocabulary, v::DCT_TITLE.as_str(), embargoed), Tier::Public);
    }
}
