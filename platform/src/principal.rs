//! Who the caller is, as the platform and the schema see it.

use std::collections::HashSet;

use musubi_ontology::tier::Tier;

/// The caller: its tier, the datasets it holds grants for, who it is. Built by the gateway from
/// the request's credentials; the schema and the platform see this, never a header.
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
}
