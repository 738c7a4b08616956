//! Who the caller is, and the guard each field read passes.
//!
//! Tiers come from the vocabulary (one declaration per property); a property it does not declare
//! is steward-only. A denied field resolves to `null` with a `FORBIDDEN` error naming the tier it
//! needs; the rest of the response is served. The error never echoes the value.

use std::collections::HashSet;

use async_graphql::{Context, Error, ErrorExtensions};
use musubi_ontology::rdf::NamedNodeRef;
use musubi_ontology::tier::Tier;

use crate::Hub;

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
}

pub(crate) fn hub<'a>(ctx: &Context<'a>) -> &'a Hub {
    ctx.data_unchecked::<std::sync::Arc<Hub>>()
}

pub(crate) fn principal<'a>(ctx: &Context<'a>) -> &'a Principal {
    ctx.data::<Principal>().expect("the gateway puts a Principal in every request")
}

/// Checks that the caller may read `property` (of the dataset `accession`, for CONTROLLED fields).
pub(crate) fn guard(ctx: &Context<'_>, property: NamedNodeRef<'_>, accession: Option<&str>) -> Result<(), Error> {
    let tier = hub(ctx).vocabulary().tier_of(property.as_str());
    if principal(ctx).may_read(tier, accession) {
        Ok(())
    } else {
        Err(forbidden(tier))
    }
}

pub(crate) fn forbidden(tier: Tier) -> Error {
    Error::new(format!("this field needs the {tier} tier"))
        .extend_with(|_, e| {
            e.set("code", "FORBIDDEN");
            e.set("requiredTier", tier.name());
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
        p.tier = Tier::Steward;
        assert!(p.may_read(Tier::Controlled, Some("JGAD000002")));
        assert!(!Principal::anonymous().may_read(Tier::Registered, None));
    }
}
