//! The platform's process records as GraphQL shows them: views of `musubi_platform`'s access
//! requests, grants, outcomes, fee statements and audit entries.
//!
//! The platform owns each record (one type per idea, and no GraphQL below the schema); a view
//! here wraps it and says which of its fields the API shows, under which names. Enums are the
//! platform's, mirrored with `remote` (async-graphql checks the two stay in step).

use async_graphql::{Enum, Object};
use musubi_platform::{audit, fees, ledger};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "musubi_platform::ledger::RequestState")]
pub enum RequestState {
    Submitted,
    Approved,
    Rejected,
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "musubi_platform::ledger::GrantState")]
pub enum GrantState {
    Active,
    Expired,
    Revoked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "musubi_platform::ledger::OutcomeKind")]
pub enum OutcomeKind {
    Publication,
    Patent,
    Product,
    DerivedDataset,
}

/// The matcher's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "musubi_platform::duo::Decision")]
pub enum DuoOutcome {
    Match,
    NoMatch,
    NeedsReview,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "musubi_platform::fees::UserClass")]
pub enum UserClass {
    Academic,
    Industry,
    PublicSector,
}

/// What is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "musubi_platform::fees::UsageKind")]
pub enum UsageKind {
    Grant,
    Export,
    LiveQuery,
}

#[derive(Debug, Clone)]
pub struct Party(pub ledger::Party);

/// Who did something: the subject and the issuer that vouched for it (a grant goes to both).
#[Object]
impl Party {
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    async fn issuer(&self) -> &str {
        &self.0.issuer
    }
}

#[derive(Debug, Clone)]
pub struct Transition(pub ledger::Transition);

/// One step taken, as its record keeps it (and the audit log repeats it).
#[Object]
impl Transition {
    /// Unique over the hub: `<record>#<n>`.
    async fn id(&self) -> &str {
        &self.0.id
    }
    /// The action, e.g. `accessRequest.approve`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn from(&self) -> Option<&str> {
        self.0.from.as_deref()
    }
    async fn to(&self) -> &str {
        &self.0.to
    }
    async fn by(&self) -> Party {
        Party(self.0.by.clone())
    }
    /// The caller's tier when they took the step.
    async fn tier(&self) -> &str {
        &self.0.tier
    }
    /// xsd:dateTime, UTC.
    async fn at(&self) -> &str {
        &self.0.at
    }
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }
}

fn transitions(all: &[ledger::Transition]) -> Vec<Transition> {
    all.iter().cloned().map(Transition).collect()
}

#[derive(Debug, Clone)]
pub struct ResearchUse(pub ledger::ResearchUse);

/// What the research is for, in DUO terms (DUOS v4's research purpose).
#[Object]
impl ResearchUse {
    /// Disease-specific research (DUO:0000007): the MONDO diseases (CURIEs, e.g. MONDO:0005148).
    async fn diseases(&self) -> &[String] {
        &self.0.diseases
    }
    /// Health, medical or biomedical research (DUO:0000006).
    async fn health_medical_biomedical(&self) -> bool {
        self.0.health_medical_biomedical
    }
    /// Population origins or ancestry research (DUO:0000011).
    async fn population_origins(&self) -> bool {
        self.0.population_origins
    }
    /// Methods development (DUO:0000031).
    async fn methods(&self) -> bool {
        self.0.methods
    }
    /// Commercial use (the opposite of DUO:0000046, non-commercial use only).
    async fn commercial(&self) -> bool {
        self.0.commercial
    }
}

#[derive(Debug, Clone)]
pub struct RequestedDataset(pub ledger::RequestedDataset);

/// A requested dataset and what DUO matching said about it at submission.
#[Object]
impl RequestedDataset {
    async fn dataset(&self) -> &str {
        &self.0.dataset
    }
    async fn verdict(&self) -> DuoOutcome {
        self.0.verdict.into()
    }
    /// The rule that decided it.
    async fn rule(&self) -> &str {
        &self.0.rule
    }
    /// The data-use conditions (DUO IRIs) the dataset carried when it was judged.
    async fn conditions(&self) -> &[String] {
        &self.0.conditions
    }
}

#[derive(Debug, Clone)]
pub struct AccessRequest(pub ledger::AccessRequest);

#[Object]
impl AccessRequest {
    async fn id(&self) -> &str {
        &self.0.id
    }
    async fn state(&self) -> RequestState {
        self.0.state.into()
    }
    async fn requester(&self) -> Party {
        Party(self.0.requester.clone())
    }
    /// Who the grant's use is metered to (see `feeStatement`).
    async fn organisation(&self) -> &str {
        &self.0.organisation
    }
    async fn user_class(&self) -> UserClass {
        self.0.user_class.into()
    }
    async fn purpose(&self) -> &str {
        &self.0.purpose
    }
    async fn research_use(&self) -> ResearchUse {
        ResearchUse(self.0.research_use.clone())
    }
    async fn institution(&self) -> &str {
        &self.0.institution
    }
    /// The research period (xsd:date).
    async fn period_start(&self) -> &str {
        &self.0.period_start
    }
    async fn period_end(&self) -> &str {
        &self.0.period_end
    }
    async fn members(&self) -> &[String] {
        &self.0.members
    }
    async fn datasets(&self) -> Vec<RequestedDataset> {
        self.0.datasets.iter().cloned().map(RequestedDataset).collect()
    }
    async fn submitted_at(&self) -> &str {
        &self.0.submitted_at
    }
    async fn transitions(&self) -> Vec<Transition> {
        transitions(&self.0.transitions)
    }
    /// The grant its approval issued.
    async fn grant(&self) -> Option<&str> {
        self.0.grant.as_deref()
    }
}

#[derive(Debug, Clone)]
pub struct AccessGrant(pub ledger::AccessGrant);

/// A grant as GraphQL shows it, with its state now.
#[Object]
impl AccessGrant {
    async fn id(&self) -> &str {
        &self.0.id
    }
    async fn request(&self) -> &str {
        &self.0.request
    }
    async fn grantee(&self) -> Party {
        Party(self.0.grantee.clone())
    }
    async fn organisation(&self) -> &str {
        &self.0.organisation
    }
    async fn user_class(&self) -> UserClass {
        self.0.user_class.into()
    }
    async fn datasets(&self) -> &[String] {
        &self.0.datasets
    }
    async fn issued(&self) -> &str {
        &self.0.issued
    }
    /// xsd:dateTime; CONTROLLED stops at this instant.
    async fn expires(&self) -> &str {
        &self.0.expires
    }
    async fn state(&self) -> GrantState {
        self.0.state(&musubi_ontology::now()).into()
    }
    async fn transitions(&self) -> Vec<Transition> {
        transitions(&self.0.transitions)
    }
}

#[derive(Debug, Clone)]
pub struct Outcome(pub ledger::Outcome);

/// A result of data use, shown publicly on the datasets it used (not while one of them is
/// embargoed, below STEWARD).
#[Object]
impl Outcome {
    async fn id(&self) -> &str {
        &self.0.id
    }
    async fn kind(&self) -> OutcomeKind {
        self.0.kind.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// A publication's DOI (10.…).
    async fn doi(&self) -> Option<&str> {
        self.0.doi.as_deref()
    }
    /// A publication's PubMed id.
    async fn pmid(&self) -> Option<&str> {
        self.0.pmid.as_deref()
    }
    /// A patent number, product name or derived dataset's accession/URL.
    async fn identifier(&self) -> Option<&str> {
        self.0.identifier.as_deref()
    }
    async fn datasets(&self) -> &[String] {
        &self.0.datasets
    }
    async fn registered_at(&self) -> &str {
        &self.0.registered_at
    }
    /// Its place in the feed (1 = the first outcome ever registered).
    async fn sequence(&self) -> Option<i64> {
        Some(self.0.sequence)
    }
    /// Who registered it: the credential's subject (a token's `sub`, an API key's id).
    async fn registered_by(&self) -> Option<&str> {
        Some(&self.0.registered_by)
    }
}

#[derive(Debug, Clone)]
pub struct FeeLine(pub fees::FeeLine);

/// One line of a statement.
#[Object]
impl FeeLine {
    async fn user_class(&self) -> UserClass {
        self.0.user_class.into()
    }
    async fn kind(&self) -> UsageKind {
        self.0.kind.into()
    }
    async fn count(&self) -> u64 {
        self.0.count
    }
    async fn unit_price(&self) -> u64 {
        self.0.unit_price
    }
    async fn amount(&self) -> u64 {
        self.0.amount
    }
}

#[derive(Debug, Clone)]
pub struct FeeStatement(pub fees::FeeStatement);

/// An organisation's use in one month, priced.
#[Object]
impl FeeStatement {
    async fn organisation(&self) -> &str {
        &self.0.organisation
    }
    /// `YYYY-MM`.
    async fn month(&self) -> &str {
        &self.0.month
    }
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    async fn lines(&self) -> Vec<FeeLine> {
        self.0.lines.iter().cloned().map(FeeLine).collect()
    }
    async fn total(&self) -> u64 {
        self.0.total
    }
    /// The statement as CSV (organisation, month, user class, kind, count, unit price, amount;
    /// a last TOTAL row), for accounting.
    async fn csv(&self) -> String {
        self.0.to_csv()
    }
}

#[derive(Debug, Clone)]
pub struct AuditRecord(pub audit::AuditEntry);

/// One line of the log, and the `AuditRecord` GraphQL shows stewards: a caller's reads of
/// CONTROLLED or STEWARD fields of one dataset in one request.
#[Object]
impl AuditRecord {
    /// The line number in the log (1-based): the entry's stable position across restarts. Not
    /// stored.
    async fn position(&self) -> u64 {
        self.0.position
    }
    /// When (xsd:dateTime, UTC).
    async fn at(&self) -> &str {
        &self.0.at
    }
    async fn subject(&self) -> Option<&str> {
        self.0.subject.as_deref()
    }
    /// The token issuer (or `api-key`) that vouched for the caller.
    async fn issuer(&self) -> Option<&str> {
        self.0.issuer.as_deref()
    }
    /// The caller's tier at the time.
    async fn tier(&self) -> &str {
        &self.0.tier
    }
    /// The dataset read, or none for fields outside a dataset.
    async fn dataset(&self) -> Option<&str> {
        self.0.dataset.as_deref()
    }
    /// The fields read (GraphQL names), each once.
    async fn fields(&self) -> &[String] {
        &self.0.fields
    }
    /// Whether a CONTROLLED field was read under a grant for the dataset.
    async fn grant_used(&self) -> bool {
        self.0.grant_used
    }
    /// For a process step (not a read): what was done, e.g. `accessRequest.approve`. Absent on
    /// reads.
    async fn action(&self) -> Option<&str> {
        self.0.action.as_deref()
    }
    /// The access request, grant or outcome the step was on.
    async fn record(&self) -> Option<&str> {
        self.0.record.as_deref()
    }
    /// The transition's id in the store: how the log is reconciled with the store at start.
    async fn transition(&self) -> Option<&str> {
        self.0.transition.as_deref()
    }
    /// Why (the reviewer's comment).
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }
}
