//! GA4GH Passport visas (`ga4gh_passport_v1`): what a researcher's visas let them read.
//!
//! Each visa is a JWT of its own, signed by a visa issuer the hub trusts (its key set is the one
//! configured or discovered for that issuer; a `jku` pointing anywhere else is refused), and must
//! not have expired. ResearcherStatus together with AcceptedTermsAndPolicies makes the caller
//! REGISTERED; each ControlledAccessGrants visa grants the dataset it names. Issuers name
//! datasets and DACs by their own IRIs (humandbs-drs: `https://ddbj.nig.ac.jp/search/entry/
//! jga-dataset/JGAD000001`); the vocabulary's identifier schemes turn those into the hub's
//! canonical IRIs, and the grant is the accession at the end of it — what the schema compares.

use std::collections::BTreeSet;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use musubi_ontology::identifiers::IdentifierSchemes;
use serde_json::{Map, Value};

use super::jwks::KeyError;
use super::{AuthError, Identity, Rejected, jwt};

/// What a passport's visas assert, once every visa has been checked.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Visas {
    pub researcher: bool,
    pub accepted_terms: bool,
    /// Dataset accessions granted.
    pub grants: BTreeSet<String>,
    /// The DACs that granted them (canonical IRIs), for the log.
    pub dacs: BTreeSet<String>,
}

const VISA_ALGORITHMS: [Algorithm; 7] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];
const VISA_LEEWAY: Duration = Duration::from_secs(30);
const VISA_JWKS_REFRESH: Duration = Duration::from_secs(60);

/// Checks every visa of the passport claim; one bad visa refuses the whole token (a caller
/// sending a forged or stale visa is not quietly served with the rest).
pub async fn read(identity: &Identity, claims: &Map<String, Value>) -> Result<Visas, AuthError> {
    let mut visas = Visas::default();
    let Some(passport) = claims.get("ga4gh_passport_v1") else {
        return Ok(visas);
    };
    let Some(list) = passport.as_array() else {
        return Err(Rejected::new("malformed", "`ga4gh_passport_v1` is not a list of visas").into());
    };
    for (n, visa) in list.iter().enumerate() {
        let n = n + 1;
        let Some(token) = visa.as_str() else {
            return Err(Rejected::new("malformed", format!("visa {n} of the passport is not a JWT string")).into());
        };
        let visa_claims = check_visa(identity, token).await.map_err(|e| match e {
            AuthError::Rejected(r) => AuthError::Rejected(Rejected {
                reason: if r.reason.starts_with("visa") { r.reason } else { format!("visa {}", r.reason) },
                description: format!("visa {n} of the passport: {}", r.description),
            }),
            other => other,
        })?;
        let Some(Value::Object(body)) = visa_claims.get("ga4gh_visa_v1") else {
            return Err(Rejected::new("malformed", format!("visa {n} of the passport has no `ga4gh_visa_v1` object")).into());
        };
        if body.contains_key("conditions") {
            // Conditions (visa X holds only together with visa Y) are not evaluated: fail closed.
            tracing::warn!(visa = n, "a visa with conditions is ignored");
            continue;
        }
        let text = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default();
        match text("type") {
            "ResearcherStatus" => visas.researcher = true,
            "AcceptedTermsAndPolicies" => visas.accepted_terms = true,
            "ControlledAccessGrants" => match dataset_accession(identity.schemes(), text("value")) {
                Some(accession) => {
                    visas.grants.insert(accession);
                    let source = text("source");
                    if !source.is_empty() {
                        visas.dacs.insert(identity.schemes().canonical(source).unwrap_or_else(|| source.to_owned()));
                    }
                }
                None => tracing::warn!(visa = n, value = text("value"), "a grant for no dataset the hub knows a scheme for is ignored"),
            },
            _ => {}
        }
    }
    Ok(visas)
}

/// One visa: from a trusted visa issuer, signed with a key of that issuer's set, not expired.
async fn check_visa(identity: &Identity, token: &str) -> Result<Map<String, Value>, AuthError> {
    let unverified = jwt::peek(token)?;
    let issuer = unverified.claim_str("iss").unwrap_or_default();
    let Some(trusted) = identity.config().visa_issuers.iter().find(|v| v.issuer == issuer) else {
        return Err(Rejected::new("visa from an untrusted issuer", format!("{issuer:?} is not a trusted visa issuer")).into());
    };
    let jwks_uri = match &trusted.jwks_uri {
        Some(uri) => uri.clone(),
        None => identity.keys().discover(issuer).await.map_err(|e| AuthError::Unavailable(e.0))?.jwks_uri,
    };
    if let Some(jku) = &unverified.jku
        && *jku != jwks_uri
    {
        return Err(Rejected::new("unknown key", format!("its jku {jku:?} is not the key set of {issuer} ({jwks_uri})")).into());
    }
    let key = match identity.keys().key(&jwks_uri, unverified.kid.as_deref(), VISA_JWKS_REFRESH).await {
        Ok(key) => key,
        Err(KeyError::Unknown(m)) => return Err(Rejected::new("unknown key", m).into()),
        Err(KeyError::Unavailable(e)) => return Err(AuthError::Unavailable(e.0)),
    };
    let alg = jwt::algorithm(&unverified.alg, &key, &VISA_ALGORITHMS)?;
    let claims = jwt::verify(token, &key, alg, &jwt::Expect { issuer, audience: None, leeway: VISA_LEEWAY })?;
    Ok(claims)
}

/// The hub's accession for a dataset named by any IRI an identifier scheme knows (or by the
/// bare accession): `https://ddbj.nig.ac.jp/resource/jga-dataset/JGAD000001` → `JGAD000001`.
pub fn dataset_accession(schemes: &IdentifierSchemes, value: &str) -> Option<String> {
    let iri = schemes.canonical(value).unwrap_or_else(|| value.to_owned());
    schemes.schemes().iter().filter(|s| s.canonical.ends_with("/dataset/")).find_map(|s| {
        let matches = |id: &str| s.id_pattern.as_ref().is_none_or(|p| p.is_match(id));
        match iri.strip_prefix(s.canonical.as_str()) {
            Some(id) if matches(id) => Some(id.to_owned()),
            _ if s.id_pattern.is_some() && matches(value) => Some(value.to_owned()),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use musubi_ontology::vocab::Vocabulary;

    #[test]
    fn dataset_identifiers_become_accessions() {
        let vocabulary = Vocabulary::builtin();
        let schemes = vocabulary.identifier_schemes();
        // As humandbs-drs's issuer names them (tests/fixtures/humandbs-drs/issuer-seed.json).
        for value in [
            "https://ddbj.nig.ac.jp/search/entry/jga-dataset/JGAD000001",
            "https://ddbj.nig.ac.jp/resource/jga-dataset/JGAD000001",
            "https://w3id.org/musubi/dataset/JGAD000001",
            "JGAD000001",
        ] {
            assert_eq!(dataset_accession(schemes, value).as_deref(), Some("JGAD000001"), "{value}");
        }
        for value in ["https://ddbj.nig.ac.jp/search/entry/jga-dac/JGAC000001", "https://example.org/JGAD000001x", "", "JGAS000001"] {
            assert_eq!(dataset_accession(schemes, value), None, "{value}");
        }
    }
}
