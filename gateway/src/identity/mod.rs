//! Who the caller is: credentials on a request → [`Principal`].
//!
//! - [`config`]: the trusted issuers (TOML, errors with file:line:col);
//! - [`jwks`]: OpenID discovery and the issuers' key sets, cached, refreshed on an unknown `kid`;
//! - [`jwt`]: signature, algorithm and claim checks;
//! - [`introspection`]: opaque tokens, RFC 7662;
//! - [`passport`]: GA4GH visas → REGISTERED and dataset grants;
//! - [`api_keys`]: service accounts' keys, stored hashed.
//!
//! No credential: PUBLIC. A credential that is sent and fails is [`AuthError::Rejected`] with
//! its reason (401), never a quiet downgrade to anonymous; an issuer the hub cannot reach is
//! [`AuthError::Unavailable`] (503).

pub mod api_keys;
pub mod config;
pub mod introspection;
pub mod jwks;
pub mod jwt;
pub mod passport;

use std::path::Path;

use axum::http::{HeaderMap, header};
use musubi_ontology::identifiers::IdentifierSchemes;
use musubi_ontology::tier::Tier;
use musubi_schema::Principal;
use musubi_platform::fees::{Affiliation, UserClass};
use serde_json::{Map, Value};

pub use config::IdentityConfig;

use api_keys::ApiKeys;
use jwks::{KeyError, KeySets};

/// Longest credential read; a larger one is refused before any parsing.
pub const MAX_TOKEN: usize = 32 * 1024;

/// Why a sent credential was refused: `reason` is the short kind (expired, wrong audience, …),
/// `description` says what exactly. Neither echoes the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub reason: String,
    pub description: String,
}

impl Rejected {
    pub fn new(reason: &str, description: impl Into<String>) -> Rejected {
        Rejected { reason: reason.to_owned(), description: description.into() }
    }
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason, self.description)
    }
}

#[derive(Debug, Clone)]
pub enum AuthError {
    /// 401: the credential is not good.
    Rejected(Rejected),
    /// 503: the issuer could not be asked.
    Unavailable(String),
}

impl From<Rejected> for AuthError {
    fn from(r: Rejected) -> AuthError {
        AuthError::Rejected(r)
    }
}

/// The hub's identity set-up: trusted issuers, their keys, the API keys.
pub struct Identity {
    config: IdentityConfig,
    keys: KeySets,
    api_keys: Option<ApiKeys>,
    schemes: IdentifierSchemes,
    client: reqwest::Client,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").field("issuers", &self.config.issuers.len()).finish()
    }
}

impl Identity {
    /// `data`: the data folder whose `api-keys.json` holds the API keys (none without one).
    pub fn new(config: IdentityConfig, data: Option<&Path>, schemes: IdentifierSchemes) -> Identity {
        let client = reqwest::Client::builder()
            .user_agent(concat!("musubi/", env!("CARGO_PKG_VERSION"), " (token checks)"))
            .build()
            .expect("the HTTP client's TLS set-up is built in");
        Identity { keys: KeySets::new(client.clone()), config, api_keys: data.map(ApiKeys::new), schemes, client }
    }

    pub fn config(&self) -> &IdentityConfig {
        &self.config
    }

    pub(crate) fn keys(&self) -> &KeySets {
        &self.keys
    }

    pub(crate) fn schemes(&self) -> &IdentifierSchemes {
        &self.schemes
    }

    /// The caller a request's headers stand for.
    pub async fn principal(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        self.caller(headers).await.map(|(p, _)| p)
    }

    /// The caller a request's headers stand for, and the organisation and user class its
    /// credential states (fees): a token's `organisation` and `user_class` claims, an API key's
    /// own. None when the credential states no organisation.
    pub async fn caller(&self, headers: &HeaderMap) -> Result<(Principal, Option<Affiliation>), AuthError> {
        // Two of one header are as ambiguous as one of each: which would be the caller?
        for name in [header::AUTHORIZATION.as_str(), "x-api-key"] {
            if headers.get_all(name).iter().nth(1).is_some() {
                return Err(Rejected::new("malformed", format!("send one credential: the {name} header is sent more than once")).into());
            }
        }
        let bearer = headers.get(header::AUTHORIZATION);
        let api_key = headers.get("x-api-key");
        let credential = match (bearer, api_key) {
            (None, None) => return Ok((Principal::anonymous(), None)),
            (Some(_), Some(_)) => return Err(Rejected::new("malformed", "send one credential: Authorization or X-API-Key, not both").into()),
            (Some(value), None) => {
                if value.len() > MAX_TOKEN + 7 {
                    return Err(too_large(value.len()));
                }
                let text = value.to_str().map_err(|_| Rejected::new("malformed", "the Authorization header is not ASCII"))?;
                match text.split_once(' ') {
                    Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => token.trim(),
                    _ => return Err(Rejected::new("malformed", "the Authorization header must be `Bearer <token>`").into()),
                }
            }
            (None, Some(value)) => value.to_str().map_err(|_| Rejected::new("malformed", "the X-API-Key header is not ASCII"))?.trim(),
        };
        if credential.len() > MAX_TOKEN {
            return Err(too_large(credential.len()));
        }
        if credential.starts_with(api_keys::PREFIX) || api_key.is_some() {
            return match &self.api_keys {
                Some(keys) => Ok(keys.authenticate_affiliated(credential)?),
                None => Err(Rejected::new("invalid API key", "this hub has no API keys").into()),
            };
        }
        if jwt::looks_like_jwt(credential) {
            self.check_jwt(credential).await
        } else {
            self.check_opaque(credential).await
        }
    }

    async fn check_jwt(&self, token: &str) -> Result<(Principal, Option<Affiliation>), AuthError> {
        let unverified = jwt::peek(token)?;
        let iss = unverified.claim_str("iss").unwrap_or_default();
        let Some(issuer) = self.config.issuers.iter().find(|i| i.issuer == iss) else {
            return Err(Rejected::new("wrong issuer", format!("{iss:?} is not a trusted issuer")).into());
        };
        let discovery = self.keys.discover(&issuer.issuer).await.map_err(|e| AuthError::Unavailable(e.0))?;
        let key = match self.keys.key(&discovery.jwks_uri, unverified.kid.as_deref(), issuer.jwks_refresh).await {
            Ok(key) => key,
            Err(KeyError::Unknown(m)) => return Err(Rejected::new("unknown key", m).into()),
            Err(KeyError::Unavailable(e)) => return Err(AuthError::Unavailable(e.0)),
        };
        let alg = jwt::algorithm(&unverified.alg, &key, &issuer.algorithms)?;
        let expect = jwt::Expect { issuer: &issuer.issuer, audience: Some(&issuer.audience), leeway: issuer.leeway };
        let claims = jwt::verify(token, &key, alg, &expect)?;
        self.principal_from_claims(issuer, &claims).await
    }

    async fn check_opaque(&self, token: &str) -> Result<(Principal, Option<Affiliation>), AuthError> {
        let introspecting: Vec<_> = self.config.issuers.iter().filter(|i| i.introspection.is_some()).collect();
        if introspecting.is_empty() {
            return Err(Rejected::new("malformed", "not a JWT, and no trusted issuer introspects opaque tokens").into());
        }
        for issuer in introspecting {
            if let Some(claims) = introspection::introspect(&self.client, issuer, token).await? {
                return self.principal_from_claims(issuer, &claims).await;
            }
        }
        Err(Rejected::new("inactive", "no trusted issuer knows this token as active (expired, revoked or never issued)").into())
    }

    /// Tier and grants from verified claims: the role claim, then the passport's visas.
    async fn principal_from_claims(
        &self,
        issuer: &config::IssuerConfig,
        claims: &Map<String, Value>,
    ) -> Result<(Principal, Option<Affiliation>), AuthError> {
        let visas = passport::read(self, claims).await?;
        let steward = issuer.steward_role.as_ref().is_some_and(|role| {
            match Value::Object(claims.clone()).pointer(&role.pointer) {
                Some(Value::String(s)) => s.split(' ').any(|v| v == role.value),
                Some(Value::Array(values)) => values.iter().any(|v| v.as_str() == Some(role.value.as_str())),
                _ => false,
            }
        });
        let tier = if steward {
            Tier::Steward
        } else if !visas.grants.is_empty() {
            // A DAC's grant vets the researcher at least as far as ResearcherStatus does.
            Tier::Controlled
        } else if visas.researcher && visas.accepted_terms {
            Tier::Registered
        } else {
            Tier::Public
        };
        let subject = ["sub", "client_id", "username"].iter().find_map(|c| claims.get(*c).and_then(Value::as_str)).map(str::to_owned);
        tracing::debug!(issuer = %issuer.issuer, ?subject, %tier, grants = visas.grants.len(), dacs = ?visas.dacs, "caller identified");
        let affiliation = affiliation(claims)?;
        let principal = Principal { tier, grants: visas.grants.into_iter().collect(), subject, issuer: Some(issuer.issuer.clone()) };
        Ok((principal, affiliation))
    }
}

/// The organisation and user class a token states (fees): the `organisation` and `user_class`
/// claims. No organisation: none (not metered). A class the hub does not know refuses the token
/// rather than bill it as something else.
fn affiliation(claims: &Map<String, Value>) -> Result<Option<Affiliation>, Rejected> {
    let organisation = claims.get("organisation").and_then(Value::as_str).map(str::trim).filter(|o| !o.is_empty());
    let user_class = match claims.get("user_class") {
        None => None,
        Some(Value::String(c)) => Some(
            UserClass::parse(c)
                .ok_or_else(|| Rejected::new("malformed", format!("claim user_class {c:?}: use academic, industry or public_sector")))?,
        ),
        Some(_) => return Err(Rejected::new("malformed", "claim user_class must be a string")),
    };
    Ok(organisation.map(|o| Affiliation { organisation: o.to_owned(), user_class }))
}

fn too_large(len: usize) -> AuthError {
    Rejected::new("token too large", format!("{len} bytes; the hub reads credentials of at most {MAX_TOKEN} bytes")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn the_organisation_and_user_class_come_from_the_claims() {
        let a = affiliation(&claims(serde_json::json!({ "organisation": "Osaka Pharma", "user_class": "industry" }))).unwrap();
        assert_eq!(a, Some(Affiliation { organisation: "Osaka Pharma".into(), user_class: Some(UserClass::Industry) }));
        let a = affiliation(&claims(serde_json::json!({ "organisation": "NIBIOHN", "user_class": "public-sector" }))).unwrap();
        assert_eq!(a.unwrap().user_class, Some(UserClass::PublicSector));
        assert_eq!(affiliation(&claims(serde_json::json!({ "user_class": "academic" }))).unwrap(), None, "no organisation, not metered");
        let e = affiliation(&claims(serde_json::json!({ "organisation": "X", "user_class": "hobbyist" }))).unwrap_err();
        assert!(e.description.contains("hobbyist"), "{e}");
        assert!(affiliation(&claims(serde_json::json!({ "organisation": "X", "user_class": 3 }))).is_err());
    }
}
