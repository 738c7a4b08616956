//! Fees: use is metered per organisation and user class, priced by a fee schedule, and summed in
//! monthly statements.
//!
//! **Who pays.** The organisation and user class come from the credential, never from what a
//! request says about itself: a token's `organisation` and `user_class` claims, an API key's
//! `organisation` and `user_class` (set by `musubi apikey create --org --class`). A caller whose
//! credential names no organisation is not metered (anonymous, public use is free). A grant is
//! charged to the organisation and class of its access request, which took them from the
//! requester's credential (or, if it named none, from the request's `institution` and `userClass`).
//!
//! **What is counted.** Grants are counted from the grants themselves (issued in the month, so a
//! crash cannot count one that does not exist); exports and live queries (each GraphQL request
//! through the gateway) are counted by the [`Meter`], whose counts per month live in a named graph
//! of the store, written through at each [`Meter::record`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use musubi_ontology::rdf::{BlankNode, NamedNode, NamedOrBlankNode, Term, Triple};
use musubi_ontology::vocab as v;
use musubi_store::{GraphStore, Replacement, StoreError};
use serde::Deserialize;

use crate::triples::{Malformed, Reader, Writer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserClass {
    Academic,
    Industry,
    PublicSector,
}

impl UserClass {
    pub const ALL: [UserClass; 3] = [UserClass::Academic, UserClass::Industry, UserClass::PublicSector];

    /// The name in claims, key files and the fee schedule.
    pub fn name(self) -> &'static str {
        match self {
            UserClass::Academic => "academic",
            UserClass::Industry => "industry",
            UserClass::PublicSector => "public_sector",
        }
    }

    pub fn parse(s: &str) -> Option<UserClass> {
        UserClass::ALL.into_iter().find(|c| c.name().eq_ignore_ascii_case(s.trim()) || c.name().replace('_', "-").eq_ignore_ascii_case(s.trim()))
    }
}

/// The organisation and user class a credential states (the gateway puts it in each request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affiliation {
    pub organisation: String,
    pub user_class: Option<UserClass>,
}

/// What is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageKind {
    Grant,
    Export,
    LiveQuery,
}

impl UsageKind {
    pub const ALL: [UsageKind; 3] = [UsageKind::Grant, UsageKind::Export, UsageKind::LiveQuery];

    /// The name in statements and the store: `grant`, `export`, `live_query`.
    pub fn name(self) -> &'static str {
        match self {
            UsageKind::Grant => "grant",
            UsageKind::Export => "export",
            UsageKind::LiveQuery => "live_query",
        }
    }

    pub fn parse(name: &str) -> Option<UsageKind> {
        UsageKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// What the [`Meter`] counts (grants are counted from the grants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeteredUse {
    Export,
    LiveQuery,
}

impl From<MeteredUse> for UsageKind {
    fn from(u: MeteredUse) -> UsageKind {
        match u {
            MeteredUse::Export => UsageKind::Export,
            MeteredUse::LiveQuery => UsageKind::LiveQuery,
        }
    }
}

/// Counts per (organisation, class, kind) of one month.
type MonthCounts = BTreeMap<(String, UserClass, UsageKind), u64>;

/// Format 1 of a month's counts (one JSON literal, `musubi:usageCounts`): read to migrate.
#[derive(Deserialize)]
struct StoredCount {
    organisation: String,
    class: UserClass,
    kind: UsageKind,
    count: u64,
}

/// Usage counts, per month, written through to the store.
pub struct Meter {
    store: Arc<dyn GraphStore>,
    months: Mutex<BTreeMap<String, MonthCounts>>,
}

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Meter")
    }
}

fn month_graph(month: &str) -> NamedNode {
    v::process_graph("usage", month)
}

/// A month's counts as triples: `<month graph> musubi:usage [ a musubi:UsageCount ;
/// musubi:organisation …; musubi:userClass …; musubi:usageKind …; musubi:useCount n ]`.
fn month_triples(month: &str, counts: &MonthCounts) -> Vec<Triple> {
    let mut w = Writer::default();
    let s: NamedOrBlankNode = month_graph(month).into();
    for ((organisation, class, kind), count) in counts {
        let node: NamedOrBlankNode = BlankNode::default().into();
        w.add(s.clone(), v::MUSUBI_USAGE, Term::from(node.clone()));
        w.add(node.clone(), v::RDF_TYPE, v::MUSUBI_USAGE_COUNT_CLASS.into_owned());
        w.string(&node, v::MUSUBI_ORGANISATION, organisation);
        w.string(&node, v::MUSUBI_USER_CLASS, class.name());
        w.string(&node, v::MUSUBI_USAGE_KIND, kind.name());
        w.integer(&node, v::MUSUBI_USE_COUNT, *count as i64);
    }
    w.triples
}

/// A month's counts read back, and whether they were format 1 (to rewrite as triples).
fn read_month(name: &NamedNode, triples: Vec<Triple>) -> Result<(MonthCounts, bool), Malformed> {
    let mut counts = MonthCounts::new();
    if let Some(json) = triples.iter().find(|t| t.predicate.as_ref() == v::MUSUBI_USAGE_COUNTS_V1).and_then(|t| match &t.object {
        Term::Literal(l) => Some(l.value().to_owned()),
        _ => None,
    }) {
        let stored: Vec<StoredCount> =
            serde_json::from_str(&json).map_err(|e| Malformed { graph: name.as_str().to_owned(), problem: format!("its format-1 JSON: {e}") })?;
        counts.extend(stored.into_iter().map(|c| ((c.organisation, c.class, c.kind), c.count)));
        return Ok((counts, true));
    }
    let r = Reader::new(name, triples);
    let s: NamedOrBlankNode = name.clone().into();
    for usage in r.terms(&s, v::MUSUBI_USAGE) {
        let node: NamedOrBlankNode = match usage {
            Term::BlankNode(b) => b.clone().into(),
            Term::NamedNode(n) => n.clone().into(),
            other => return Err(r.malformed(format!("{other} is not a usage count"))),
        };
        let class = r.string(&node, v::MUSUBI_USER_CLASS)?;
        let kind = r.string(&node, v::MUSUBI_USAGE_KIND)?;
        let key = (
            r.string(&node, v::MUSUBI_ORGANISATION)?,
            UserClass::parse(&class).ok_or_else(|| r.malformed(format!("{class:?} is not a user class")))?,
            UsageKind::parse(&kind).ok_or_else(|| r.malformed(format!("{kind:?} is not a usage kind")))?,
        );
        let count = r.integer(&node, v::MUSUBI_USE_COUNT)?;
        counts.insert(key, u64::try_from(count).map_err(|_| r.malformed(format!("a count of {count}")))?);
    }
    Ok((counts, false))
}

/// The current month, `YYYY-MM` (UTC).
pub fn this_month() -> String {
    musubi_ontology::now().to_string().chars().take(7).collect()
}

/// Why the stored counts cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum MeterError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Malformed(#[from] Malformed),
}

impl Meter {
    /// The counts kept in `store`; a month still in format 1 (one JSON literal) is rewritten as
    /// triples.
    pub(crate) fn load(store: Arc<dyn GraphStore>) -> Result<Meter, MeterError> {
        let mut months = BTreeMap::new();
        let prefix = format!("{}usage/", v::PROCESS_GRAPH_PREFIX);
        for name in store.graph_names()? {
            let Some(month) = name.as_str().strip_prefix(&prefix) else { continue };
            let (counts, format_1) = read_month(&name, store.graph(name.as_ref())?)?;
            if format_1 {
                store.replace(&[Replacement { graph: name.as_ref(), triples: &month_triples(month, &counts) }])?;
            }
            months.insert(month.to_owned(), counts);
        }
        Ok(Meter { store, months: Mutex::new(months) })
    }

    /// Counts one use by `organisation` of class `class` this month, stored before it returns.
    pub fn record(&self, organisation: &str, class: UserClass, usage: MeteredUse) -> Result<(), StoreError> {
        let month = this_month();
        let mut months = self.months.lock().expect("meter lock");
        let mut counts = months.get(&month).cloned().unwrap_or_default();
        *counts.entry((organisation.to_owned(), class, usage.into())).or_default() += 1;
        let g = month_graph(&month);
        self.store.replace(&[Replacement { graph: g.as_ref(), triples: &month_triples(&month, &counts) }])?;
        months.insert(month, counts);
        Ok(())
    }

    /// `organisation`'s metered counts in `month`.
    pub fn counts(&self, organisation: &str, month: &str) -> BTreeMap<(UserClass, UsageKind), u64> {
        let months = self.months.lock().expect("meter lock");
        months
            .get(month)
            .into_iter()
            .flatten()
            .filter(|((o, _, _), _)| o == organisation)
            .map(|((_, c, k), n)| ((*c, *k), *n))
            .collect()
    }
}

/// Prices per user class, in the smallest unit of `currency` (e.g. yen). Read by the gateway from
/// `<data>/fees.toml`:
///
/// ```toml
/// currency = "JPY"
/// [academic]
/// grant = 10000
/// export = 500
/// live_query = 1
/// [industry]
/// …
/// ```
/// A class or price it leaves out costs nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeSchedule {
    #[serde(default = "default_currency")]
    pub currency: String,
    #[serde(default)]
    pub academic: Prices,
    #[serde(default)]
    pub industry: Prices,
    #[serde(default)]
    pub public_sector: Prices,
}

fn default_currency() -> String {
    "JPY".to_owned()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    #[serde(default)]
    pub grant: u64,
    #[serde(default)]
    pub export: u64,
    #[serde(default)]
    pub live_query: u64,
}

impl FeeSchedule {
    pub fn price(&self, class: UserClass, kind: UsageKind) -> u64 {
        let prices = match class {
            UserClass::Academic => &self.academic,
            UserClass::Industry => &self.industry,
            UserClass::PublicSector => &self.public_sector,
        };
        match kind {
            UsageKind::Grant => prices.grant,
            UsageKind::Export => prices.export,
            UsageKind::LiveQuery => prices.live_query,
        }
    }
}

/// One line of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeLine {
    pub user_class: UserClass,
    pub kind: UsageKind,
    pub count: u64,
    pub unit_price: u64,
    pub amount: u64,
}

/// An organisation's use in one month, priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeStatement {
    pub organisation: String,
    /// `YYYY-MM`.
    pub month: String,
    pub currency: String,
    pub lines: Vec<FeeLine>,
    pub total: u64,
}

impl FeeStatement {
    /// Prices `counts` (per class and kind) with `schedule`.
    pub fn new(organisation: &str, month: &str, schedule: &FeeSchedule, counts: BTreeMap<(UserClass, UsageKind), u64>) -> FeeStatement {
        let lines: Vec<FeeLine> = counts
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|((user_class, kind), count)| {
                let unit_price = schedule.price(user_class, kind);
                FeeLine { user_class, kind, count, unit_price, amount: unit_price * count }
            })
            .collect();
        FeeStatement {
            organisation: organisation.to_owned(),
            month: month.to_owned(),
            currency: schedule.currency.clone(),
            total: lines.iter().map(|l| l.amount).sum(),
            lines,
        }
    }

    pub fn to_csv(&self) -> String {
        let quote = |s: &str| if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() };
        let mut out = "organisation,month,user_class,kind,count,unit_price,amount,currency\n".to_owned();
        let org = quote(&self.organisation);
        for l in &self.lines {
            let kind = l.kind.name();
            out.push_str(&format!("{org},{},{},{kind},{},{},{},{}\n", self.month, l.user_class.name(), l.count, l.unit_price, l.amount, self.currency));
        }
        out.push_str(&format!("{org},{},TOTAL,,,,{},{}\n", self.month, self.total, self.currency));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use musubi_store::EmbeddedStore;

    #[test]
    fn counts_survive_reloading_and_statements_price_them() {
        let store: Arc<dyn GraphStore> = Arc::new(EmbeddedStore::in_memory());
        let meter = Meter::load(store.clone()).unwrap();
        for _ in 0..3 {
            meter.record("Osaka Pharma", UserClass::Industry, MeteredUse::LiveQuery).unwrap();
        }
        meter.record("Osaka Pharma", UserClass::Academic, MeteredUse::Export).unwrap();
        meter.record("Kyoto University", UserClass::Academic, MeteredUse::Export).unwrap();
        let month = this_month();
        let reloaded = Meter::load(store).unwrap();
        let counts = reloaded.counts("Osaka Pharma", &month);
        assert_eq!(counts, meter.counts("Osaka Pharma", &month));
        let schedule = FeeSchedule {
            currency: "JPY".into(),
            academic: Prices { grant: 0, export: 200, live_query: 0 },
            industry: Prices { grant: 50_000, export: 2_000, live_query: 10 },
            public_sector: Prices::default(),
        };
        let statement = FeeStatement::new("Osaka Pharma", &month, &schedule, counts);
        assert_eq!(statement.total, 3 * 10 + 200);
        let csv = statement.to_csv();
        assert!(csv.contains(&format!("Osaka Pharma,{month},industry,live_query,3,10,30,JPY")), "{csv}");
        assert!(csv.ends_with(&format!("Osaka Pharma,{month},TOTAL,,,,230,JPY\n")), "{csv}");
    }
}
