//! What a record's nodes state about how it may be shown — its embargo and whether it is
//! sensitive — gathered when records are merged and kept with them: listing or searching records
//! then needs no read of their nodes (a view on disk reads each node from its file).

use musubi_ontology::vocab;

use super::Node;

/// What a record's nodes state about its policy, from which its policy on any day follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyFacts {
    /// Some source says `musubi:sensitive` is true.
    pub sensitive: bool,
    /// Some source states an embargo that is not a date: embargoed whatever the day (fails closed).
    pub(super) undated_embargo: bool,
    /// The latest `musubi:embargoUntil` date any source states (`YYYY-MM-DD`): the record is
    /// embargoed while it is after today. Kept as the date alone, not every stated value.
    pub(super) latest_embargo: Option<[u8; 10]>,
}

impl PolicyFacts {
    /// What `nodes` (one record's, from every source) state: one source's embargo or sensitive
    /// flag is enough.
    pub fn of_nodes(nodes: impl IntoIterator<Item = impl std::borrow::Borrow<Node>>) -> PolicyFacts {
        let mut facts = PolicyFacts::default();
        for node in nodes {
            facts.add(&PolicyFacts::of_node(node.borrow()));
        }
        facts
    }

    pub(super) fn of_node(node: &Node) -> PolicyFacts {
        let mut facts = PolicyFacts::default();
        for until in node.strings(vocab::MUSUBI_EMBARGO_UNTIL) {
            facts.add_embargo(until);
        }
        facts.sensitive = node.strings(vocab::MUSUBI_SENSITIVE).iter().any(|s| matches!(s.trim(), "true" | "1"));
        facts
    }

    /// Both what `self` and what `other` state (another source's nodes of the same record).
    pub fn add(&mut self, other: &PolicyFacts) {
        self.sensitive |= other.sensitive;
        self.undated_embargo |= other.undated_embargo;
        self.latest_embargo = self.latest_embargo.max(other.latest_embargo);
    }

    /// One source's `musubi:embargoUntil`.
    pub fn add_embargo(&mut self, until: &str) {
        match embargo_date(until) {
            Some(date) => self.latest_embargo = self.latest_embargo.max(Some(date)),
            None => self.undated_embargo = true,
        }
    }

    /// Whether any source states an embargo, past or not.
    #[inline]
    pub fn states_embargo(&self) -> bool {
        self.undated_embargo || self.latest_embargo.is_some()
    }

    /// Whether the record is embargoed on `today` (an `xsd:date`, `YYYY-MM-DD`). Asked of every
    /// hit of a search: inlined across crates.
    #[inline]
    pub fn embargoed_on(&self, today: &str) -> bool {
        self.undated_embargo || self.latest_embargo.is_some_and(|date| date.as_slice() > today.as_bytes())
    }
}

/// The date of an embargo `until` (an xsd:date or dateTime), or none if it is not one.
fn embargo_date(until: &str) -> Option<[u8; 10]> {
    let date: [u8; 10] = until.trim().as_bytes().get(..10)?.try_into().ok()?;
    let is_date = date.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    is_date.then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_embargo_holds_until_its_date_and_a_bad_date_embargoes() {
        let embargoed = |untils: &[&str], today: &str| {
            let mut facts = PolicyFacts::default();
            untils.iter().for_each(|u| facts.add_embargo(u));
            facts.embargoed_on(today)
        };
        assert!(embargoed(&["2099-01-01"], "2026-11-25"));
        assert!(embargoed(&["2026-11-26T00:00:00Z"], "2026-11-25"));
        assert!(!embargoed(&["2026-11-25"], "2026-11-25"), "released on the day");
        assert!(!embargoed(&["2001-01-01"], "2026-11-25"));
        assert!(embargoed(&["next spring"], "2026-11-25"), "fail closed");
        assert!(embargoed(&["2001-01-01", "2099-01-01", "2002-01-01"], "2026-11-25"), "any source's embargo holds");
        assert!(embargoed(&["2001-01-01", "soon"], "2026-11-25"));
        assert!(!embargoed(&[], "2026-11-25"));
        // Two sources' facts together: the later date, and either's undated embargo.
        let (mut a, mut b) = (PolicyFacts::default(), PolicyFacts::default());
        a.add_embargo("2001-01-01");
        b.add_embargo("2099-01-01");
        a.add(&b);
        assert!(a.embargoed_on("2026-11-25"));
    }
}
