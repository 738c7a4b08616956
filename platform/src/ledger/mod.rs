//! The ledger of the platform's process records: access requests, their review by the committee,
//! access grants, research outcomes of data use ([`crate::fees`] meters and prices use).
//!
//! **Lifecycle.** A request is `SUBMITTED`, then `APPROVED`, `REJECTED` or `WITHDRAWN`; nothing
//! leaves the last three ([`RequestState::check`] names the state and the step refused). An
//! approval issues a grant, `ACTIVE` until it expires (by the clock, checked at each request) or is
//! `REVOKED`. Every step is a [`Transition`] (id, who, when, why) kept in its record.
//!
//! **Storage.** Everything lives in the graph store, one named graph per request, grant and
//! outcome under [`v::PROCESS_GRAPH_PREFIX`] (the read model ignores them, so RocksDB persists them
//! like the sources' graphs), each record as triples in the hub vocabulary ([`rdf`]), read back at
//! start. A data folder whose records are still JSON literals (format 1, before the crate split)
//! is migrated when the ledger opens it: every such graph rewritten in one store transaction.
//!
//! **Crash safety: the store first, the audit log second, reconciled at start.** An approval
//! writes the request's graph (new state and its transition) and the grant's graph in ONE store
//! transaction: after a crash the grant exists whole or not at all. Only after the commit is the
//! step appended (fsynced) to the audit log, carrying the transition id. A crash between the two
//! leaves a committed transition the log lacks; [`Ledger::open`] appends every such transition
//! before the hub serves, so the log agrees with the store. The converse (a logged step whose
//! transaction never committed) cannot happen, because nothing is logged before its commit.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use musubi_store::{EmbeddedStore, GraphStore, Replacement, StoreError};
use musubi_ontology::tier::Tier;
use musubi_ontology::vocab as v;
use serde::Deserialize;

mod rdf;

use crate::audit::{AuditEntry, AuditError, AuditLog};
use crate::duo::{self, DataUse, Decision, ResearchPurpose};
use crate::fees::{Meter, UserClass};
use crate::principal::Principal;
use musubi_ontology::disease::DiseaseHierarchy;


/// Who did something: the subject and the issuer that vouched for it (a grant goes to both).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct Party {
    pub subject: String,
    pub issuer: String,
}

impl Party {
    pub fn of(principal: &Principal) -> Option<Party> {
        Some(Party { subject: principal.subject.clone()?, issuer: principal.issuer.clone().unwrap_or_default() })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestState {
    Submitted,
    Approved,
    Rejected,
    Withdrawn,
}

/// A step of the lifecycle of a request or a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Approve,
    Reject,
    Withdraw,
    Revoke,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Approve => "approve",
            Step::Reject => "reject",
            Step::Withdraw => "withdraw",
            Step::Revoke => "revoke",
        }
    }
}

impl RequestState {
    pub fn name(self) -> &'static str {
        match self {
            RequestState::Submitted => "SUBMITTED",
            RequestState::Approved => "APPROVED",
            RequestState::Rejected => "REJECTED",
            RequestState::Withdrawn => "WITHDRAWN",
        }
    }

    pub fn parse(name: &str) -> Option<RequestState> {
        [RequestState::Submitted, RequestState::Approved, RequestState::Rejected, RequestState::Withdrawn].into_iter().find(|s| s.name() == name)
    }

    /// The state machine: where `step` leads from here, or why it cannot be taken.
    pub fn check(self, id: &str, step: Step) -> Result<RequestState, LedgerError> {
        match (self, step) {
            (RequestState::Submitted, Step::Approve) => Ok(RequestState::Approved),
            (RequestState::Submitted, Step::Reject) => Ok(RequestState::Rejected),
            (RequestState::Submitted, Step::Withdraw) => Ok(RequestState::Withdrawn),
            (state, step) => Err(LedgerError::Transition { record: id.to_owned(), state: state.name().to_owned(), step: step.name() }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantState {
    Active,
    Expired,
    Revoked,
}

impl GrantState {
    pub fn name(self) -> &'static str {
        match self {
            GrantState::Active => "ACTIVE",
            GrantState::Expired => "EXPIRED",
            GrantState::Revoked => "REVOKED",
        }
    }
}

/// One step taken, as its record keeps it (and the audit log repeats it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Transition {
    /// Unique over the hub: `<record>#<n>`.
    pub id: String,
    /// The action, e.g. `accessRequest.approve`.
    pub action: String,
    pub from: Option<String>,
    pub to: String,
    pub by: Party,
    /// The caller's tier when they took the step.
    pub tier: String,
    /// xsd:dateTime, UTC.
    pub at: String,
    pub comment: Option<String>,
}

impl Transition {
    fn audit_entry(&self, record: &str) -> AuditEntry {
        AuditEntry {
            position: 0,
            at: self.at.clone(),
            subject: Some(self.by.subject.clone()),
            issuer: Some(self.by.issuer.clone()),
            tier: self.tier.clone(),
            dataset: None,
            fields: Vec::new(),
            grant_used: false,
            action: Some(self.action.clone()),
            record: Some(record.to_owned()),
            transition: Some(self.id.clone()),
            comment: self.comment.clone(),
        }
    }
}

/// What the research is for, in DUO terms (DUOS v4's research purpose).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResearchUse {
    /// Disease-specific research (DUO:0000007): the MONDO diseases (CURIEs, e.g. MONDO:0005148).
    pub diseases: Vec<String>,
    /// Health, medical or biomedical research (DUO:0000006).
    pub health_medical_biomedical: bool,
    /// Population origins or ancestry research (DUO:0000011).
    pub population_origins: bool,
    /// Methods development (DUO:0000031).
    pub methods: bool,
    /// Commercial use (the opposite of DUO:0000046, non-commercial use only).
    pub commercial: bool,
}

impl ResearchUse {
    /// The DUO decision on one dataset and the rule that decided it (DUOS v4 logic:
    /// [`duo::match_purpose`]). A dataset that states no conditions at all is sent to review: its
    /// source said nothing about consent, which is not consent.
    pub fn verdict(&self, conditions: &[String], diseases: &DiseaseHierarchy) -> (Decision, String) {
        if conditions.is_empty() {
            return (Decision::NeedsReview, "the dataset states no DUO data-use conditions; the committee decides".to_owned());
        }
        let purpose = ResearchPurpose {
            diseases: self.diseases.clone(),
            health_medical: self.health_medical_biomedical,
            population_origins: self.population_origins,
            methods: self.methods,
            commercial: self.commercial,
            other: None,
        };
        let v = duo::match_purpose(&purpose, &DataUse::from_terms(conditions), diseases);
        (v.outcome, v.rule)
    }
}

/// A requested dataset and what DUO matching said about it at submission.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedDataset {
    pub dataset: String,
    pub verdict: Decision,
    /// The rule that decided it.
    pub rule: String,
    /// The data-use conditions (DUO IRIs) the dataset carried when it was judged.
    pub conditions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRequest {
    pub id: String,
    pub state: RequestState,
    pub requester: Party,
    /// Who the grant's use is metered to (see [`fees`]).
    pub organisation: String,
    pub user_class: UserClass,
    pub purpose: String,
    pub research_use: ResearchUse,
    pub institution: String,
    /// The research period (xsd:date).
    pub period_start: String,
    pub period_end: String,
    pub members: Vec<String>,
    pub datasets: Vec<RequestedDataset>,
    pub submitted_at: String,
    pub transitions: Vec<Transition>,
    /// The grant its approval issued.
    pub grant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessGrant {
    pub id: String,
    pub request: String,
    pub grantee: Party,
    pub organisation: String,
    pub user_class: UserClass,
    pub datasets: Vec<String>,
    pub issued: String,
    /// xsd:dateTime; CONTROLLED stops at this instant.
    pub expires: String,
    pub revoked: bool,
    pub transitions: Vec<Transition>,
}

impl AccessGrant {
    /// The grant's state at `now`.
    pub fn state(&self, now: &musubi_ontology::xsd::DateTime) -> GrantState {
        if self.revoked {
            GrantState::Revoked
        } else if self.expires.parse::<musubi_ontology::xsd::DateTime>().is_ok_and(|e| e > *now) {
            GrantState::Active
        } else {
            // An expiry that does not parse gives no access (fail closed).
            GrantState::Expired
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutcomeKind {
    Publication,
    Patent,
    Product,
    DerivedDataset,
}

impl OutcomeKind {
    pub const ALL: [OutcomeKind; 4] = [OutcomeKind::Publication, OutcomeKind::Patent, OutcomeKind::Product, OutcomeKind::DerivedDataset];

    /// `PUBLICATION`, `PATENT`, `PRODUCT`, `DERIVED_DATASET`.
    pub fn name(self) -> &'static str {
        match self {
            OutcomeKind::Publication => "PUBLICATION",
            OutcomeKind::Patent => "PATENT",
            OutcomeKind::Product => "PRODUCT",
            OutcomeKind::DerivedDataset => "DERIVED_DATASET",
        }
    }

    pub fn parse(name: &str) -> Option<OutcomeKind> {
        OutcomeKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A result of data use, shown publicly on the datasets it used (not while one of them is
/// embargoed, below STEWARD).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub id: String,
    /// Its place in the feed (1 = the first outcome ever registered): STEWARD, as the number of
    /// outcomes is (the feed shows each caller the outcomes it may see).
    pub sequence: i64,
    pub kind: OutcomeKind,
    pub title: String,
    /// A publication's DOI (10.…).
    pub doi: Option<String>,
    /// A publication's PubMed id.
    pub pmid: Option<String>,
    /// A patent number, product name or derived dataset's accession/URL.
    pub identifier: Option<String>,
    pub datasets: Vec<String>,
    pub registered_at: String,
    /// Who registered it (a subject or an API key's id: STEWARD).
    pub registered_by: String,
}

/// Why a process step was refused.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// An input field is wrong: the field (GraphQL path) and what is wrong with it.
    #[error("{field}: {message}")]
    Input { field: String, message: String },
    #[error("{record} is {state}; it cannot {step}")]
    Transition { record: String, state: String, step: &'static str },
    #[error("no {kind} {id}")]
    NotFound { kind: &'static str, id: String },
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Malformed(#[from] crate::triples::Malformed),
    #[error("fee counts: {0}")]
    Meter(#[from] crate::fees::MeterError),
}

pub fn input(field: &str, message: impl Into<String>) -> LedgerError {
    LedgerError::Input { field: field.to_owned(), message: message.into() }
}

/// A point in an approval a crash test can stop at (see [`Ledger::with_pause`]).
pub type PauseHook = Arc<dyn Fn(&str) + Send + Sync>;

#[derive(Debug, Default)]
struct State {
    requests: BTreeMap<String, AccessRequest>,
    grants: BTreeMap<String, AccessGrant>,
    outcomes: Vec<Outcome>,
}

/// The process records, in memory and in the store; every change goes to the store first.
pub struct Ledger {
    store: Arc<dyn GraphStore>,
    state: Mutex<State>,
    /// Test-only: called at `before-commit` and `after-commit` of an approval.
    pause: Option<PauseHook>,
    meter: Meter,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ledger")
    }
}

fn now_string() -> String {
    musubi_ontology::now().to_string()
}

/// A new record id: `prefix` and 12 random hex digits, unused in `taken`. Not a count: a
/// sequential id would tell its holder how many requests, grants or outcomes it may not see.
fn new_id(prefix: &str, taken: impl Fn(&str) -> bool) -> String {
    loop {
        let mut bytes = [0u8; 6];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system's random source");
        let id = format!("{prefix}-{}", bytes.iter().map(|b| format!("{b:02X}")).collect::<String>());
        if !taken(&id) {
            return id;
        }
    }
}

impl Ledger {
    /// Ledger state in memory only (tests, tools).
    pub fn in_memory() -> Ledger {
        Ledger::open(Arc::new(EmbeddedStore::in_memory()), &AuditLog::in_memory()).expect("an empty store opens")
    }

    /// Reads every process record from `store`, and appends to `audit` each committed transition
    /// it lacks (a crash after a commit, before its audit line: see the module docs).
    pub fn open(store: Arc<dyn GraphStore>, audit: &AuditLog) -> Result<Ledger, LedgerError> {
        let mut state = State::default();
        let meter = Meter::load(store.clone())?;
        // Format-1 records (one JSON literal per graph) are rewritten as triples, all at once.
        let mut migrated: Vec<(musubi_ontology::rdf::NamedNode, Vec<musubi_ontology::rdf::Triple>)> = Vec::new();
        for name in store.graph_names()? {
            if rdf::kind_of(name.as_str()).is_none() {
                continue;
            }
            let Some((record, format_1)) = rdf::from_graph(&name, store.graph(name.as_ref())?)? else { continue };
            let triples = match record {
                rdf::Record::Request(r) => {
                    let t = format_1.then(|| rdf::request_triples(&r));
                    state.requests.insert(r.id.clone(), r);
                    t
                }
                rdf::Record::Grant(g) => {
                    let t = format_1.then(|| rdf::grant_triples(&g));
                    state.grants.insert(g.id.clone(), g);
                    t
                }
                rdf::Record::Outcome(o) => {
                    let t = format_1.then(|| rdf::outcome_triples(&o));
                    state.outcomes.push(o);
                    t
                }
            };
            if let Some(triples) = triples {
                migrated.push((name, triples));
            }
        }
        if !migrated.is_empty() {
            let replacements: Vec<Replacement<'_>> = migrated.iter().map(|(g, t)| Replacement { graph: g.as_ref(), triples: t }).collect();
            store.replace(&replacements)?;
            tracing::info!(records = migrated.len(), "process records migrated from JSON literals to triples");
        }
        state.outcomes.sort_by_key(|o| o.sequence);
        let logged = audit.transitions();
        let mut missing: Vec<AuditEntry> = Vec::new();
        for r in state.requests.values() {
            missing.extend(r.transitions.iter().filter(|t| !logged.contains(&t.id)).map(|t| t.audit_entry(&r.id)));
        }
        for g in state.grants.values() {
            missing.extend(g.transitions.iter().filter(|t| !logged.contains(&t.id)).map(|t| t.audit_entry(&g.id)));
        }
        missing.sort_by(|a, b| a.at.cmp(&b.at));
        audit.append_entries(missing)?;
        Ok(Ledger { store, state: Mutex::new(state), pause: None, meter })
    }

    /// Test-only: `hook` is called with `before-commit` and `after-commit` during each approval
    /// (the gateway's crash test pauses there and kills the server).
    pub fn with_pause(mut self, hook: PauseHook) -> Ledger {
        self.pause = Some(hook);
        self
    }

    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("process state lock")
    }

    fn transition(action: &str, record: &str, n: usize, from: Option<&str>, to: &str, by: &Principal, comment: Option<String>) -> Transition {
        Transition {
            id: format!("{record}#{n}"),
            action: action.to_owned(),
            from: from.map(str::to_owned),
            to: to.to_owned(),
            by: Party::of(by).unwrap_or(Party { subject: "(unknown)".to_owned(), issuer: String::new() }),
            tier: by.tier.name().to_owned(),
            at: now_string(),
            comment,
        }
    }

    /// Stores a new request (already validated, verdicts given) and logs its submission.
    pub fn submit(&self, mut request: AccessRequest, by: &Principal, audit: &AuditLog) -> Result<AccessRequest, LedgerError> {
        let mut state = self.lock();
        request.id = new_id("AR", |id| state.requests.contains_key(id));
        request.state = RequestState::Submitted;
        request.submitted_at = now_string();
        let t = Ledger::transition("accessRequest.submit", &request.id, 1, None, "SUBMITTED", by, None);
        request.transitions = vec![t.clone()];
        let g = v::process_graph("request", &request.id);
        self.store.replace(&[Replacement { graph: g.as_ref(), triples: &rdf::request_triples(&request) }])?;
        state.requests.insert(request.id.clone(), request.clone());
        drop(state);
        audit.append_entries(vec![t.audit_entry(&request.id)])?;
        Ok(request)
    }

    /// Approves, rejects or withdraws request `id`. An approval issues a grant to the requester
    /// until `expires`, in the same store transaction as the request's new state.
    pub fn decide(
        &self,
        id: &str,
        step: Step,
        by: &Principal,
        comment: Option<String>,
        expires: Option<String>,
        audit: &AuditLog,
    ) -> Result<AccessRequest, LedgerError> {
        let mut state = self.lock();
        let not_found = || LedgerError::NotFound { kind: "access request", id: id.to_owned() };
        let mut request = state.requests.get(id).cloned().ok_or_else(not_found)?;
        if step == Step::Withdraw && Party::of(by).as_ref() != Some(&request.requester) {
            // Below STEWARD, another researcher's request answers as a missing one: whether an
            // id is taken is not the caller's to learn (`accessRequest(id:)` says null for both).
            if by.tier < Tier::Steward {
                return Err(not_found());
            }
            return Err(LedgerError::Forbidden(format!("only the researcher who submitted {id} may withdraw it")));
        }
        let to = request.state.check(id, step)?;
        let from = request.state.name();
        let t = Ledger::transition(&format!("accessRequest.{}", step.name()), id, request.transitions.len() + 1, Some(from), to.name(), by, comment);
        request.state = to;
        request.transitions.push(t.clone());
        let mut entries = vec![t.audit_entry(id)];
        let grant = if step == Step::Approve {
            let gid = new_id("GR", |id| state.grants.contains_key(id));
            let issue = Ledger::transition("grant.issue", &gid, 1, None, "ACTIVE", by, t.comment.clone());
            entries.push(issue.audit_entry(&gid));
            request.grant = Some(gid.clone());
            Some(AccessGrant {
                id: gid,
                request: id.to_owned(),
                grantee: request.requester.clone(),
                organisation: request.organisation.clone(),
                user_class: request.user_class,
                datasets: request.datasets.iter().map(|d| d.dataset.clone()).collect(),
                issued: t.at.clone(),
                expires: expires.unwrap_or_default(),
                revoked: false,
                transitions: vec![issue],
            })
        } else {
            None
        };
        let rg = v::process_graph("request", id);
        let request_graph = rdf::request_triples(&request);
        let mut replacements = vec![Replacement { graph: rg.as_ref(), triples: &request_graph }];
        let grant_graph = grant.as_ref().map(|g| (v::process_graph("grant", &g.id), rdf::grant_triples(g)));
        if let Some((name, triples)) = &grant_graph {
            replacements.push(Replacement { graph: name.as_ref(), triples });
        }
        if let Some(pause) = self.pause.as_ref().filter(|_| grant.is_some()) {
            pause("before-commit");
        }
        // One transaction: the request's new state, its transition and the grant.
        self.store.replace(&replacements)?;
        if let Some(pause) = self.pause.as_ref().filter(|_| grant.is_some()) {
            pause("after-commit");
        }
        state.requests.insert(id.to_owned(), request.clone());
        if let Some(g) = grant {
            state.grants.insert(g.id.clone(), g);
        }
        drop(state);
        audit.append_entries(entries)?;
        Ok(request)
    }

    /// Revokes grant `id`: CONTROLLED on its datasets ends at once.
    pub fn revoke(&self, id: &str, by: &Principal, comment: String, audit: &AuditLog) -> Result<AccessGrant, LedgerError> {
        let mut state = self.lock();
        let mut grant = state.grants.get(id).cloned().ok_or_else(|| LedgerError::NotFound { kind: "grant", id: id.to_owned() })?;
        let now = musubi_ontology::now();
        let current = grant.state(&now);
        if current != GrantState::Active {
            return Err(LedgerError::Transition { record: id.to_owned(), state: current.name().to_owned(), step: Step::Revoke.name() });
        }
        let t = Ledger::transition("grant.revoke", id, grant.transitions.len() + 1, Some("ACTIVE"), "REVOKED", by, Some(comment));
        grant.revoked = true;
        grant.transitions.push(t.clone());
        let g = v::process_graph("grant", id);
        self.store.replace(&[Replacement { graph: g.as_ref(), triples: &rdf::grant_triples(&grant) }])?;
        state.grants.insert(id.to_owned(), grant.clone());
        drop(state);
        audit.append_entries(vec![t.audit_entry(id)])?;
        Ok(grant)
    }

    /// Registers an outcome (validated by the caller) at the end of the feed.
    pub fn register_outcome(&self, mut outcome: Outcome) -> Result<Outcome, LedgerError> {
        let mut state = self.lock();
        outcome.sequence = state.outcomes.len() as i64 + 1;
        outcome.id = new_id("OUT", |id| state.outcomes.iter().any(|o| o.id == id));
        outcome.registered_at = now_string();
        let g = v::process_graph("outcome", &outcome.id);
        self.store.replace(&[Replacement { graph: g.as_ref(), triples: &rdf::outcome_triples(&outcome) }])?;
        state.outcomes.push(outcome.clone());
        Ok(outcome)
    }

    pub fn request(&self, id: &str) -> Option<AccessRequest> {
        self.lock().requests.get(id).cloned()
    }

    /// Every request, oldest first (ids are random: they order nothing).
    pub fn requests(&self) -> Vec<AccessRequest> {
        let mut requests: Vec<AccessRequest> = self.lock().requests.values().cloned().collect();
        requests.sort_by(|a, b| a.submitted_at.cmp(&b.submitted_at).then_with(|| a.id.cmp(&b.id)));
        requests
    }

    pub fn grant(&self, id: &str) -> Option<AccessGrant> {
        self.lock().grants.get(id).cloned()
    }

    /// Every grant, oldest first.
    pub fn grants(&self) -> Vec<AccessGrant> {
        let mut grants: Vec<AccessGrant> = self.lock().grants.values().cloned().collect();
        grants.sort_by(|a, b| a.issued.cmp(&b.issued).then_with(|| a.id.cmp(&b.id)));
        grants
    }

    /// The datasets hub-issued grants give `subject` (vouched for by `issuer`) now: active ones
    /// only, so an expiry or a revocation takes effect at the caller's next request.
    pub fn active_grants(&self, subject: &str, issuer: &str, now: &musubi_ontology::xsd::DateTime) -> HashSet<String> {
        self.lock()
            .grants
            .values()
            .filter(|g| g.grantee.subject == subject && g.grantee.issuer == issuer && g.state(now) == GrantState::Active)
            .flat_map(|g| g.datasets.iter().cloned())
            .collect()
    }

    /// Whether `party` holds or ever held a hub grant for `dataset` (who may report outcomes).
    pub fn ever_granted(&self, party: &Party, dataset: &str) -> bool {
        self.lock().grants.values().any(|g| g.grantee == *party && g.datasets.iter().any(|d| d == dataset))
    }

    /// Outcomes, oldest first.
    pub fn outcomes(&self) -> Vec<Outcome> {
        self.lock().outcomes.clone()
    }

    /// Grants issued in `month` (`YYYY-MM`), for fee statements.
    pub fn grants_issued_in(&self, month: &str) -> Vec<AccessGrant> {
        self.lock().grants.values().filter(|g| g.issued.starts_with(month)).cloned().collect()
    }
}

/// Whether `principal` may act as a researcher (submit, withdraw, report outcomes).
pub fn researcher(principal: &Principal) -> Result<Party, LedgerError> {
    if principal.tier < Tier::Registered {
        return Err(LedgerError::Forbidden("this needs the REGISTERED tier".to_owned()));
    }
    Party::of(principal).ok_or_else(|| LedgerError::Forbidden("the credential names no subject".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(tier: Tier, subject: &str) -> Principal {
        Principal { tier, subject: Some(subject.to_owned()), issuer: Some("https://idp.example".to_owned()), ..Principal::anonymous() }
    }

    fn request() -> AccessRequest {
        AccessRequest {
            id: String::new(),
            state: RequestState::Submitted,
            requester: Party { subject: "r-1".into(), issuer: "https://idp.example".into() },
            organisation: "Kyoto University".into(),
            user_class: UserClass::Academic,
            purpose: "p".into(),
            research_use: ResearchUse::default(),
            institution: "Kyoto University".into(),
            period_start: "2026-01-01".into(),
            period_end: "2027-01-01".into(),
            members: vec!["r-1".into()],
            datasets: vec![RequestedDataset { dataset: "JGAD000001".into(), verdict: Decision::Match, rule: "x".into(), conditions: vec![] }],
            submitted_at: String::new(),
            transitions: Vec::new(),
            grant: None,
        }
    }

    /// The state machine refuses what it must, naming the state and the step; grants expire by
    /// the clock; and all of it reads back from the store, with the audit log reconciled.
    #[test]
    fn lifecycle_expiry_and_reopening() {
        let store: Arc<dyn GraphStore> = Arc::new(EmbeddedStore::in_memory());
        let audit = AuditLog::in_memory();
        let process = Ledger::open(store.clone(), &audit).unwrap();
        let researcher = principal(Tier::Registered, "r-1");
        let steward = principal(Tier::Steward, "dac-1");
        let a = process.submit(request(), &researcher, &audit).unwrap();
        let b = process.submit(request(), &researcher, &audit).unwrap();
        process.decide(&b.id, Step::Withdraw, &researcher, Some("changed plans".into()), None, &audit).unwrap();
        let err = process.decide(&b.id, Step::Approve, &steward, None, Some("2999-01-01T00:00:00Z".into()), &audit).unwrap_err();
        assert_eq!(err.to_string(), format!("{} is WITHDRAWN; it cannot approve", b.id));
        let err = process.decide(&a.id, Step::Withdraw, &principal(Tier::Registered, "someone-else"), None, None, &audit).unwrap_err();
        let missing = process.decide("AR-000000000000", Step::Withdraw, &principal(Tier::Registered, "someone-else"), None, None, &audit).unwrap_err();
        assert_eq!(err.to_string().replace(&a.id, "X"), missing.to_string().replace("AR-000000000000", "X"), "another's request answers as a missing one");
        assert!(matches!(err, LedgerError::NotFound { .. }), "{err}");
        assert!(a.id.starts_with("AR-") && a.id.len() == 15 && a.id != b.id, "{} {}", a.id, b.id);
        let approved = process.decide(&a.id, Step::Approve, &steward, Some("ok".into()), Some("2027-06-01T00:00:00Z".into()), &audit).unwrap();
        let grant = process.grant(approved.grant.as_deref().unwrap()).unwrap();
        let before: musubi_ontology::xsd::DateTime = "2027-05-31T23:59:59Z".parse().unwrap();
        let after: musubi_ontology::xsd::DateTime = "2027-06-01T00:00:00Z".parse().unwrap();
        assert!(process.active_grants("r-1", "https://idp.example", &before).contains("JGAD000001"));
        assert!(process.active_grants("r-1", "https://idp.example", &after).is_empty(), "expired at its instant");
        assert!(process.active_grants("r-1", "https://other.example", &before).is_empty(), "subject and issuer both count");
        assert_eq!(grant.state(&after), GrantState::Expired);
        let err = process.decide(&a.id, Step::Reject, &steward, Some("no".into()), None, &audit).unwrap_err();
        assert_eq!(err.to_string(), format!("{} is APPROVED; it cannot reject", a.id));

        // A fresh audit log (as if the lines were lost after their commits) is refilled from the store.
        let fresh = AuditLog::in_memory();
        let reopened = Ledger::open(store, &fresh).unwrap();
        assert_eq!(reopened.request(&a.id).unwrap(), approved);
        assert_eq!(reopened.grant(&grant.id).unwrap(), grant);
        let all = crate::audit::EntryFilter::default();
        let (entries, total, _) = fresh.page(0, 100, &all).unwrap();
        assert_eq!(total, audit.page(0, 100, &all).unwrap().1);
        let actions: Vec<&str> = entries.iter().filter_map(|e| e.action.as_deref()).collect();
        assert!(actions.contains(&"accessRequest.approve") && actions.contains(&"grant.issue") && actions.contains(&"accessRequest.withdraw"), "{actions:?}");
    }
}
