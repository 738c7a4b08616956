//! Access requests, grants, outcomes and fee statements in GraphQL: the [`Mutation`] root (submit, withdraw, approve, reject, revoke,
//! register an outcome) and the process fields of the query root ([`RequestQuery`]).
//!
//! Each field has a fixed tier (`tiers.rs`: REGISTERED for researchers' fields, STEWARD for the
//! committee's, PUBLIC for outcomes) enforced before its resolver runs, and each resolver checks
//! the caller again (whose request, which organisation). Inputs are validated whole before
//! anything is stored; an error names the field (`input.period.end`, …).

use async_graphql::{Context, Error, ErrorExtensions, ID, InputObject, Object, Result, SimpleObject};
use musubi_ontology::tier::Tier;

use musubi_platform::duo::Decision;
use musubi_platform::fees::{self, Affiliation, UsageKind};
use musubi_platform::ledger::{self, LedgerError, Party, RequestedDataset, ResearchUse, Step, input, researcher};

use crate::access::{guard_tier, api, principal};
use crate::errors::BAD_USER_INPUT;
use crate::ledger::{AccessGrant, AccessRequest, FeeStatement, Outcome, OutcomeKind, RequestState, UserClass};

const MAX_TEXT: usize = 10_000;

pub(crate) fn to_error(e: LedgerError) -> Error {
    let message = e.to_string();
    match e {
        LedgerError::Input { field, .. } => Error::new(message).extend_with(|_, x| {
            x.set("code", BAD_USER_INPUT);
            x.set("field", field.as_str());
        }),
        LedgerError::Transition { state, step, .. } => Error::new(message).extend_with(|_, x| {
            x.set("code", "INVALID_TRANSITION");
            x.set("state", state.as_str());
            x.set("transition", step);
        }),
        LedgerError::NotFound { .. } => Error::new(message).extend_with(|_, x| x.set("code", "NOT_FOUND")),
        LedgerError::Forbidden(_) => Error::new(message).extend_with(|_, x| x.set("code", "FORBIDDEN")),
        LedgerError::Store(_) | LedgerError::Audit(_) | LedgerError::Malformed(_) | LedgerError::Meter(_) => Error::new(message).extend_with(|_, x| x.set("code", "INTERNAL_SERVER_ERROR")),
    }
}

/// Research use in DUO terms (DUOS v4's research purpose).
#[derive(Debug, Clone, InputObject)]
pub struct ResearchUseInput {
    /// Disease-specific research: MONDO CURIEs (e.g. "MONDO:0005148") the hub's MONDO knows.
    #[graphql(default)]
    pub diseases: Vec<String>,
    /// Health, medical or biomedical research.
    #[graphql(default)]
    pub health_medical_biomedical: bool,
    /// Population origins or ancestry research.
    #[graphql(default)]
    pub population_origins: bool,
    /// Methods development.
    #[graphql(default)]
    pub methods: bool,
    /// The use is commercial (for profit).
    pub commercial: bool,
}

#[derive(Debug, Clone, InputObject)]
pub struct PeriodInput {
    /// xsd:date, e.g. 2026-12-01.
    pub start: String,
    /// xsd:date, after `start`.
    pub end: String,
}

#[derive(Debug, Clone, InputObject)]
pub struct AccessRequestInput {
    /// Accessions of CONTROLLED datasets (e.g. JGAD000001).
    pub datasets: Vec<String>,
    /// What the research is, in words.
    pub purpose: String,
    pub research_use: ResearchUseInput,
    pub institution: String,
    pub period: PeriodInput,
    /// Everyone who will use the data (names or ORCIDs), the requester included.
    pub members: Vec<String>,
    /// The user class, when the credential states none.
    pub user_class: Option<UserClass>,
}

#[derive(Debug, Clone, InputObject)]
pub struct OutcomeInput {
    pub kind: OutcomeKind,
    pub title: String,
    /// A publication's DOI (10.xxxx/…); a publication needs a DOI or a PMID.
    pub doi: Option<String>,
    /// A publication's PubMed id (digits).
    pub pmid: Option<String>,
    /// A patent number, product name, or derived dataset's accession or URL (needed for those kinds).
    pub identifier: Option<String>,
    /// The datasets used: each one you hold or held a grant for.
    pub datasets: Vec<String>,
}

fn text(field: &str, value: &str, problems: &mut Vec<LedgerError>) -> String {
    let t = value.trim();
    if t.is_empty() {
        problems.push(input(field, "is empty"));
    } else if t.len() > MAX_TEXT {
        problems.push(input(field, format!("is {} bytes; at most {MAX_TEXT}", t.len())));
    }
    t.to_owned()
}

fn date(field: &str, value: &str, problems: &mut Vec<LedgerError>) -> Option<musubi_ontology::xsd::Date> {
    match value.trim().parse() {
        Ok(d) => Some(d),
        Err(_) => {
            problems.push(input(field, format!("{value:?} is not an xsd:date such as 2026-12-01")));
            None
        }
    }
}

/// All problems at once: one problem as itself (its field in `extensions.field`); several as
/// one error on `input` listing each with its field.
fn first_or_all(mut problems: Vec<LedgerError>) -> Result<(), LedgerError> {
    match problems.len() {
        0 => Ok(()),
        1 => Err(problems.remove(0)),
        n => {
            let message = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            Err(LedgerError::Input { field: "input".to_owned(), message: format!("{n} problems: {message}") })
        }
    }
}

/// The request's validated record (verdicts given), or every problem with it.
fn validate_request(ctx: &Context<'_>, party: Party, input_: AccessRequestInput) -> Result<ledger::AccessRequest, LedgerError> {
    let hub = api(ctx);
    let model = hub.model();
    let mut problems = Vec::new();
    if input_.datasets.is_empty() {
        problems.push(input("input.datasets", "name at least one dataset"));
    }
    // Each dataset as the caller may see it: an embargoed one answers as an unknown one; its
    // access level and conditions only where the caller may read them.
    let today = crate::access::today();
    let mut datasets: Vec<(RequestedDataset, Option<Tier>)> = Vec::new();
    for (i, accession) in input_.datasets.iter().enumerate() {
        let field = format!("input.datasets[{i}]");
        let accession = accession.trim();
        if datasets.iter().any(|(d, _)| d.dataset == accession) {
            problems.push(input(&field, format!("{accession} is named twice")));
            continue;
        }
        let listed = |r: &&musubi_read_model::MergedRecord| crate::access::listed(ctx, crate::access::RecordPolicy::of(r, &today));
        let Some(record) = model.dataset(accession).filter(listed) else {
            problems.push(input(&field, format!("no dataset {accession} in the hub")));
            continue;
        };
        let level_tier = crate::access::effective_tier(hub.vocabulary(), musubi_ontology::vocab::MUSUBI_ACCESS_LEVEL.as_str(), crate::access::RecordPolicy::of(record, &today));
        if hub.enforced() && guard_tier(ctx, level_tier, Some(accession)).is_err() {
            problems.push(input(&field, format!("{accession}'s access level needs the {level_tier} tier to read; ask its data access committee")));
            continue;
        }
        if model.access_level(record) != Some(musubi_ontology::vocab::AccessLevel::Controlled) {
            problems.push(input(&field, format!("{accession} is not a CONTROLLED dataset; its fields need no grant")));
            continue;
        }
        // The same data use `matchDataUse` shows: the dataset's own conditions, its policies'
        // (and the suggestions a steward confirmed), as far as the caller may read them.
        let (conditions, unreadable) = match crate::duo::readable_data_use(ctx, &model, record, &today) {
            Ok(data) => (data.iris(), None),
            Err(tier) => (Vec::new(), Some(tier)),
        };
        datasets.push((RequestedDataset { dataset: accession.to_owned(), verdict: Decision::NeedsReview, rule: String::new(), conditions }, unreadable));
    }
    let purpose = text("input.purpose", &input_.purpose, &mut problems);
    let institution = text("input.institution", &input_.institution, &mut problems);
    let ru = input_.research_use;
    let mut diseases = Vec::new();
    for (i, d) in ru.diseases.iter().enumerate() {
        let curie = musubi_ontology::disease::term_curie(&musubi_ontology::disease::term_iri(d.trim()));
        let known = hub.diseases().label(&curie).is_some() || hub.diseases().ancestors(&curie).len() > 1 || hub.diseases().descendants(&curie).len() > 1;
        if !curie.starts_with("MONDO:") || !known {
            problems.push(input(&format!("input.researchUse.diseases[{i}]"), format!("{d:?} is not a MONDO disease the hub knows")));
        } else {
            diseases.push(curie);
        }
    }
    if ru.diseases.is_empty() && !ru.health_medical_biomedical && !ru.population_origins && !ru.methods {
        problems.push(input("input.researchUse", "state the research use: diseases, healthMedicalBiomedical, populationOrigins or methods"));
    }
    let start = date("input.period.start", &input_.period.start, &mut problems);
    let end = date("input.period.end", &input_.period.end, &mut problems);
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        problems.push(input("input.period.end", format!("{e} is not after the start {s}")));
    }
    let members: Vec<String> = input_.members.iter().map(|m| m.trim().to_owned()).collect();
    if members.is_empty() {
        problems.push(input("input.members", "name at least one member"));
    }
    for (i, m) in members.iter().enumerate() {
        if m.is_empty() {
            problems.push(input(&format!("input.members[{i}]"), "is empty"));
        }
    }
    let affiliation = ctx.data_opt::<Affiliation>();
    let organisation = affiliation.map(|a| a.organisation.clone()).unwrap_or_else(|| institution.clone());
    let user_class = affiliation.and_then(|a| a.user_class).or(input_.user_class.map(Into::into));
    if user_class.is_none() {
        problems.push(input("input.userClass", "your credential states no user class; give ACADEMIC, INDUSTRY or PUBLIC_SECTOR"));
    }
    first_or_all(problems)?;
    let research_use = ResearchUse {
        diseases,
        health_medical_biomedical: ru.health_medical_biomedical,
        population_origins: ru.population_origins,
        methods: ru.methods,
        commercial: ru.commercial,
    };
    let datasets = datasets
        .into_iter()
        .map(|(mut d, unreadable)| {
            (d.verdict, d.rule) = match unreadable {
                None => research_use.verdict(&d.conditions, hub.diseases()),
                Some(tier) => (Decision::NeedsReview, crate::duo::unreadable_conditions(tier)),
            };
            d
        })
        .collect();
    Ok(ledger::AccessRequest {
        id: String::new(),
        state: ledger::RequestState::Submitted,
        requester: party,
        organisation,
        user_class: user_class.expect("checked above"),
        purpose,
        research_use,
        institution,
        period_start: start.expect("checked").to_string(),
        period_end: end.expect("checked").to_string(),
        members,
        datasets,
        submitted_at: String::new(),
        transitions: Vec::new(),
        grant: None,
    })
}

fn comment(field: &str, value: Option<String>, required: bool) -> Result<Option<String>, LedgerError> {
    let value = value.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    match value {
        None if required => Err(input(field, "give the reason (it goes to the audit log)")),
        Some(c) if c.len() > MAX_TEXT => Err(input(field, format!("is {} bytes; at most {MAX_TEXT}", c.len()))),
        v => Ok(v),
    }
}

/// Whether the caller may see request `r`: its requester, or a steward.
fn may_see(ctx: &Context<'_>, r: &ledger::AccessRequest) -> bool {
    let p = principal(ctx);
    p.tier >= Tier::Steward || Party::of(p).as_ref() == Some(&r.requester)
}

/// The process mutations (merged into the root `Mutation`).
#[derive(Debug, Default)]
pub struct RequestMutation;

#[Object]
impl RequestMutation {
    /// Requests access to CONTROLLED datasets (REGISTERED). Each dataset gets a DUO verdict
    /// against its data-use conditions; the request waits for the committee.
    async fn submit_access_request(&self, ctx: &Context<'_>, input: AccessRequestInput) -> Result<Option<AccessRequest>> {
        guard_tier(ctx, Tier::Registered, None)?;
        let p = principal(ctx);
        let party = researcher(p).map_err(to_error)?;
        let request = validate_request(ctx, party, input).map_err(to_error)?;
        let hub = api(ctx);
        Ok(Some(AccessRequest(hub.ledger().submit(request, p, hub.audit_log()).map_err(to_error)?)))
    }

    /// Withdraws your own submitted request (REGISTERED).
    async fn withdraw_access_request(&self, ctx: &Context<'_>, id: ID, comment: Option<String>) -> Result<Option<AccessRequest>> {
        guard_tier(ctx, Tier::Registered, None)?;
        let c = self::comment("comment", comment, false).map_err(to_error)?;
        let hub = api(ctx);
        Ok(Some(AccessRequest(hub.ledger().decide(&id, Step::Withdraw, principal(ctx), c, None, hub.audit_log()).map_err(to_error)?)))
    }

    /// Approves a submitted request (STEWARD): issues a grant on its datasets to the requester,
    /// effective at once, until `expires` (xsd:dateTime, in the future).
    async fn approve_access_request(&self, ctx: &Context<'_>, id: ID, comment: String, expires: String) -> Result<Option<AccessRequest>> {
        guard_tier(ctx, Tier::Steward, None)?;
        let c = self::comment("comment", Some(comment), true).map_err(to_error)?;
        let at: musubi_ontology::xsd::DateTime = expires
            .trim()
            .parse()
            .map_err(|_| to_error(input("expires", format!("{expires:?} is not an xsd:dateTime such as 2027-03-31T23:59:59Z"))))?;
        if at <= musubi_ontology::now() {
            return Err(to_error(input("expires", format!("{at} is not in the future"))));
        }
        let hub = api(ctx);
        Ok(Some(AccessRequest(hub.ledger().decide(&id, Step::Approve, principal(ctx), c, Some(at.to_string()), hub.audit_log()).map_err(to_error)?)))
    }

    /// Rejects a submitted request (STEWARD), with the reason.
    async fn reject_access_request(&self, ctx: &Context<'_>, id: ID, comment: String) -> Result<Option<AccessRequest>> {
        guard_tier(ctx, Tier::Steward, None)?;
        let c = self::comment("comment", Some(comment), true).map_err(to_error)?;
        let hub = api(ctx);
        Ok(Some(AccessRequest(hub.ledger().decide(&id, Step::Reject, principal(ctx), c, None, hub.audit_log()).map_err(to_error)?)))
    }

    /// Revokes an active grant (STEWARD): CONTROLLED on its datasets ends at the grantee's next request.
    async fn revoke_grant(&self, ctx: &Context<'_>, id: ID, comment: String) -> Result<Option<AccessGrant>> {
        guard_tier(ctx, Tier::Steward, None)?;
        let c = self::comment("comment", Some(comment), true).map_err(to_error)?.expect("required");
        let hub = api(ctx);
        Ok(Some(hub.ledger().revoke(&id, principal(ctx), c, hub.audit_log()).map(AccessGrant).map_err(to_error)?))
    }

    /// Registers an outcome of data use (REGISTERED) on datasets you hold or held a grant for;
    /// it shows publicly on those datasets and in the `outcomes` feed.
    async fn register_outcome(&self, ctx: &Context<'_>, #[graphql(name = "input")] outcome: OutcomeInput) -> Result<Option<Outcome>> {
        guard_tier(ctx, Tier::Registered, None)?;
        let p = principal(ctx);
        let party = researcher(p).map_err(to_error)?;
        let hub = api(ctx);
        let mut problems = Vec::new();
        let title = text("input.title", &outcome.title, &mut problems);
        let doi = outcome.doi.map(|d| d.trim().trim_start_matches("https://doi.org/").trim_start_matches("doi:").to_owned());
        if let Some(d) = &doi {
            let valid = d.strip_prefix("10.").and_then(|r| r.split_once('/')).is_some_and(|(reg, suffix)| {
                (4..=9).contains(&reg.len()) && reg.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !suffix.is_empty() && !suffix.contains(char::is_whitespace)
            });
            if !valid {
                problems.push(input("input.doi", format!("{d:?} is not a DOI such as 10.1038/s41586-020-2308-7")));
            }
        }
        let pmid = outcome.pmid.map(|p| p.trim().to_owned());
        if let Some(p) = &pmid
            && (p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            problems.push(input("input.pmid", format!("{p:?} is not a PubMed id (digits, e.g. 32461654)")));
        }
        let identifier = outcome.identifier.map(|i| i.trim().to_owned()).filter(|i| !i.is_empty());
        match outcome.kind {
            OutcomeKind::Publication if doi.is_none() && pmid.is_none() => problems.push(input("input.doi", "a publication needs a DOI or a PMID")),
            OutcomeKind::Patent | OutcomeKind::Product | OutcomeKind::DerivedDataset if identifier.is_none() => {
                problems.push(input("input.identifier", "give the patent number, product name or derived dataset's accession"))
            }
            _ => {}
        }
        if outcome.datasets.is_empty() {
            problems.push(input("input.datasets", "name at least one dataset used"));
        }
        let mut datasets = Vec::new();
        for (i, d) in outcome.datasets.iter().enumerate() {
            let d = d.trim().to_owned();
            let held = p.tier >= Tier::Steward || p.grants.contains(&d) || hub.ledger().ever_granted(&party, &d);
            if !held {
                problems.push(input(&format!("input.datasets[{i}]"), format!("you hold and held no grant for {d}")));
            } else if !datasets.contains(&d) {
                datasets.push(d);
            }
        }
        first_or_all(problems).map_err(to_error)?;
        let record = ledger::Outcome {
            id: String::new(),
            sequence: 0,
            kind: outcome.kind.into(),
            title,
            doi,
            pmid,
            identifier,
            datasets,
            registered_at: String::new(),
            registered_by: party.subject,
        };
        Ok(Some(Outcome(hub.ledger().register_outcome(record).map_err(to_error)?)))
    }
}

/// A page of the outcome feed.
#[derive(Debug, Clone, SimpleObject)]
pub struct OutcomeConnection {
    /// Newest first.
    pub nodes: Vec<Outcome>,
    /// Pass as `after` for the next (older) page; null on the last page.
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

/// The process fields of the query root.
#[derive(Debug, Default)]
pub struct RequestQuery;

#[Object]
impl RequestQuery {
    /// One access request: your own, or any for a steward.
    async fn access_request(&self, ctx: &Context<'_>, id: ID) -> Result<Option<AccessRequest>> {
        guard_tier(ctx, Tier::Registered, None)?;
        Ok(api(ctx).ledger().request(&id).filter(|r| may_see(ctx, r)).map(AccessRequest))
    }

    /// Access requests: your own, or all for a steward; optionally in one state.
    async fn access_requests(&self, ctx: &Context<'_>, state: Option<RequestState>) -> Result<Option<Vec<AccessRequest>>> {
        guard_tier(ctx, Tier::Registered, None)?;
        Ok(Some(api(ctx).ledger().requests().into_iter().filter(|r| may_see(ctx, r) && state.is_none_or(|s| r.state == s.into())).map(AccessRequest).collect()))
    }

    /// Grants: your own, or all for a steward.
    async fn grants(&self, ctx: &Context<'_>) -> Result<Option<Vec<AccessGrant>>> {
        guard_tier(ctx, Tier::Registered, None)?;
        let p = principal(ctx);
        let me = Party::of(p);
        Ok(Some(api(ctx)
            .ledger()
            .grants()
            .into_iter()
            .filter(|g| p.tier >= Tier::Steward || me.as_ref() == Some(&g.grantee))
            .map(AccessGrant)
            .collect()))
    }

    /// New outcomes of data use, newest first (public).
    async fn outcomes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "`endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<Option<OutcomeConnection>> {
        let first = first.unwrap_or(20);
        if !(1..=100).contains(&first) {
            return Err(crate::errors::bad_input("first", format!("asks for {first} outcomes; a page holds 1 to 100")));
        }
        // Newest first, only those the caller may see (none on a dataset embargoed for it).
        let hidden = crate::access::Hidden::of(ctx);
        let mut visible = api(ctx).ledger().outcomes().into_iter().rev().filter(|o| !o.datasets.iter().any(|d| hidden.contains(d))).peekable();
        // The cursor is the last outcome's id: it says nothing about the outcomes around it.
        if let Some(after) = after
            && !visible.by_ref().any(|o| o.id == after)
        {
            return Err(crate::errors::bad_input("after", "is not a cursor this feed issued (take `endCursor` from a previous page)"));
        }
        let nodes: Vec<Outcome> = visible.by_ref().take(first as usize).map(Outcome).collect();
        let has_next_page = visible.peek().is_some();
        let end_cursor = nodes.last().filter(|_| has_next_page).map(|o| o.0.id.clone());
        Ok(Some(OutcomeConnection { nodes, end_cursor, has_next_page }))
    }

    /// An organisation's fee statement for a month (`YYYY-MM`, default this month): for
    /// stewards and the organisation's own members. Its `csv` is the export.
    async fn fee_statement(&self, ctx: &Context<'_>, organisation: String, month: Option<String>) -> Result<Option<FeeStatement>> {
        guard_tier(ctx, Tier::Registered, None)?;
        let p = principal(ctx);
        let member = ctx.data_opt::<Affiliation>().is_some_and(|a| a.organisation == organisation);
        if p.tier < Tier::Steward && !member {
            return Err(to_error(LedgerError::Forbidden(format!("only stewards and members of {organisation} see its statements"))));
        }
        let month = month.unwrap_or_else(fees::this_month);
        let valid = month.len() == 7 && format!("{month}-01").parse::<musubi_ontology::xsd::Date>().is_ok();
        if !valid {
            return Err(crate::errors::bad_input("month", format!("{month:?} is not a month such as 2026-11")));
        }
        let hub = api(ctx);
        let mut counts = hub.ledger().meter().counts(&organisation, &month);
        for g in hub.ledger().grants_issued_in(&month).into_iter().filter(|g| g.organisation == organisation) {
            *counts.entry((g.user_class, UsageKind::Grant)).or_default() += 1;
        }
        Ok(Some(FeeStatement(fees::FeeStatement::new(&organisation, &month, &hub.fee_schedule(), counts))))
    }
}
