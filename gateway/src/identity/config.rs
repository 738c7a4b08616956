//! The identity configuration: which token issuers the hub trusts, and how far.
//!
//! One TOML file (`--identity FILE`, else `<data>/identity.toml` when it exists). Secrets never
//! stand in it: an introspection client secret is named by an environment variable or a file.
//! Every problem is reported with file, line, column and field, before the hub starts.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use musubi_ontology::located::{self, FileError};
use serde::Deserialize;
use toml::Spanned;

/// Every issuer the hub trusts.
#[derive(Debug, Clone, Default)]
pub struct IdentityConfig {
    pub issuers: Vec<IssuerConfig>,
    pub visa_issuers: Vec<VisaIssuerConfig>,
}

/// One trusted token issuer (an OpenID provider).
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// Exactly the tokens' `iss`; also where discovery starts.
    pub issuer: String,
    /// What the tokens' `aud` must contain.
    pub audience: String,
    /// Signature algorithms accepted from this issuer (asymmetric only: the hub holds no secrets).
    pub algorithms: Vec<Algorithm>,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// Shortest time between two key-set fetches triggered by an unknown `kid`.
    pub jwks_refresh: Duration,
    /// The claim (a JSON pointer, or a top-level claim name) and value that make a STEWARD.
    pub steward_role: Option<RoleClaim>,
    /// RFC 7662 introspection for opaque tokens.
    pub introspection: Option<IntrospectionConfig>,
}

#[derive(Debug, Clone)]
pub struct RoleClaim {
    /// A JSON pointer into the claims (`/realm_access/roles`).
    pub pointer: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct IntrospectionConfig {
    pub endpoint: String,
    pub client_id: String,
    /// Read at start from the environment variable or file the config names.
    pub client_secret: String,
}

/// A trusted GA4GH visa issuer (a passport broker or visa assertion source).
#[derive(Debug, Clone)]
pub struct VisaIssuerConfig {
    pub issuer: String,
    /// Its key set; found through OpenID discovery when not given.
    pub jwks_uri: Option<String>,
}

const ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    issuer: Vec<RawIssuer>,
    #[serde(default)]
    visa_issuer: Vec<RawVisaIssuer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssuer {
    issuer: Spanned<String>,
    audience: String,
    algorithms: Option<Spanned<Vec<String>>>,
    leeway_seconds: Option<u64>,
    jwks_refresh_seconds: Option<u64>,
    steward_role: Option<RawRole>,
    introspection: Option<Spanned<RawIntrospection>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    claim: Spanned<String>,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntrospection {
    endpoint: Spanned<String>,
    client_id: String,
    client_secret_env: Option<String>,
    client_secret_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVisaIssuer {
    issuer: Spanned<String>,
    jwks_uri: Option<Spanned<String>>,
}

/// Reads and validates the identity file.
pub fn load(file: &Path) -> Result<IdentityConfig, FileError> {
    let text = located::read(file)?;
    parse(&text, file, &|name| std::env::var(name).ok())
}

/// Validates identity-file text; `env` looks up environment variables (a parameter so tests
/// need not change the process environment).
pub fn parse(text: &str, file: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<IdentityConfig, FileError> {
    let at = |span: Option<Range<usize>>, field: Option<&str>, message: String| FileError::spanning(file, text, span, field, message);
    let raw: Raw = located::parse_toml(file, text)?;
    let mut config = IdentityConfig::default();
    for r in raw.issuer {
        let issuer = http_url(&r.issuer).map_err(|m| at(Some(r.issuer.span()), Some("issuer"), m))?;
        if config.issuers.iter().any(|i: &IssuerConfig| i.issuer == issuer) {
            return Err(at(Some(r.issuer.span()), Some("issuer"), format!("{issuer} is listed twice")));
        }
        let algorithms = match &r.algorithms {
            None => vec![Algorithm::RS256, Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA],
            Some(list) => list
                .get_ref()
                .iter()
                .map(|name| {
                    let alg: Algorithm = name.parse().map_err(|_| format!("{name:?} is not a JWS algorithm"))?;
                    if ASYMMETRIC.contains(&alg) {
                        Ok(alg)
                    } else {
                        Err(format!("{name} is symmetric: the hub verifies with public keys only (RS*, PS*, ES*, EdDSA)"))
                    }
                })
                .collect::<Result<Vec<_>, String>>()
                .map_err(|m| at(Some(list.span()), Some("algorithms"), m))?,
        };
        let steward_role = match r.steward_role {
            None => None,
            Some(role) => {
                let claim = role.claim.get_ref();
                if claim.is_empty() {
                    return Err(at(Some(role.claim.span()), Some("claim"), "names no claim".to_owned()));
                }
                let pointer = if claim.starts_with('/') { claim.clone() } else { format!("/{}", claim.replace('~', "~0").replace('/', "~1")) };
                Some(RoleClaim { pointer, value: role.value })
            }
        };
        let introspection = match r.introspection {
            None => None,
            Some(spanned) => {
                let span = spanned.span();
                let i = spanned.into_inner();
                let endpoint = http_url(&i.endpoint).map_err(|m| at(Some(i.endpoint.span()), Some("endpoint"), m))?;
                let client_secret = match (&i.client_secret_env, &i.client_secret_file) {
                    (Some(var), None) => env(var).ok_or_else(|| {
                        at(Some(span.clone()), Some("client_secret_env"), format!("the environment variable {var} is not set"))
                    })?,
                    (None, Some(path)) => {
                        let path = file.parent().unwrap_or(Path::new(".")).join(path);
                        std::fs::read_to_string(&path)
                            .map(|s| s.trim().to_owned())
                            .map_err(|e| at(Some(span.clone()), Some("client_secret_file"), format!("cannot read {}: {e}", path.display())))?
                    }
                    _ => {
                        return Err(at(
                            Some(span),
                            Some("introspection"),
                            "name the client secret with exactly one of client_secret_env, client_secret_file (never the secret itself)".to_owned(),
                        ));
                    }
                };
                Some(IntrospectionConfig { endpoint, client_id: i.client_id, client_secret })
            }
        };
        config.issuers.push(IssuerConfig {
            issuer,
            audience: r.audience,
            algorithms,
            leeway: Duration::from_secs(r.leeway_seconds.unwrap_or(30)),
            jwks_refresh: Duration::from_secs(r.jwks_refresh_seconds.unwrap_or(60)),
            steward_role,
            introspection,
        });
    }
    for r in raw.visa_issuer {
        let issuer = http_url(&r.issuer).map_err(|m| at(Some(r.issuer.span()), Some("issuer"), m))?;
        let jwks_uri = match &r.jwks_uri {
            None => None,
            Some(u) => Some(http_url(u).map_err(|m| at(Some(u.span()), Some("jwks_uri"), m))?),
        };
        config.visa_issuers.push(VisaIssuerConfig { issuer, jwks_uri });
    }
    Ok(config)
}

/// An http(s) URL, kept exactly as written (issuers compare as strings).
fn http_url(value: &Spanned<String>) -> Result<String, String> {
    let text = value.get_ref();
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text:?} is not an http(s) URL"));
    }
    Ok(text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<IdentityConfig, FileError> {
        parse(text, Path::new("identity.toml"), &|name| (name == "IDP_SECRET").then(|| "s3cret".to_owned()))
    }

    #[test]
    fn reads_issuers_roles_introspection_and_visa_issuers() {
        let config = parse_text(
            r#"
[[issuer]]
issuer = "https://login.example.org/realms/hub"
audience = "musubi"
algorithms = ["RS256"]
steward_role = { claim = "roles", value = "musubi-steward" }
introspection = { endpoint = "https://login.example.org/introspect", client_id = "musubi", client_secret_env = "IDP_SECRET" }

[[visa_issuer]]
issuer = "https://passport.example.org"
"#,
        )
        .unwrap();
        let issuer = &config.issuers[0];
        assert_eq!(issuer.algorithms, vec![Algorithm::RS256]);
        assert_eq!(issuer.steward_role.as_ref().unwrap().pointer, "/roles");
        assert_eq!(issuer.introspection.as_ref().unwrap().client_secret, "s3cret");
        assert_eq!(config.visa_issuers[0].issuer, "https://passport.example.org");
    }

    #[test]
    fn the_readme_example_is_valid() {
        let readme = include_str!("../../../README.md");
        let section = readme.split("## Who the caller is").nth(1).expect("README section");
        let example = section.split("```toml").nth(1).and_then(|b| b.split("```").next()).expect("toml block");
        let config = parse(example, Path::new("README.md"), &|name| (name == "MUSUBI_IDP_SECRET").then(|| "x".to_owned())).unwrap();
        assert_eq!((config.issuers.len(), config.visa_issuers.len()), (1, 1));
        assert_eq!(config.issuers[0].steward_role.as_ref().unwrap().pointer, "/realm_access/roles");
    }

    #[test]
    fn errors_name_line_column_and_field() {
        let e = parse_text("[[issuer]]\nissuer = \"https://a\"\naudience = \"m\"\nalgorithms = [\"HS256\"]\n").unwrap_err();
        assert_eq!((e.line, e.column, e.field.as_deref()), (4, 14, Some("algorithms")));
        assert!(e.message.contains("symmetric"), "{e}");

        let e = parse_text("[[issuer]]\nissuer = \"https://a\"\naudience = \"m\"\nintrospection = { endpoint = \"https://a/i\", client_id = \"m\", client_secret = \"x\" }\n").unwrap_err();
        assert!(e.to_string().starts_with("identity.toml:4:"), "{e}");
        assert!(e.message.contains("client_secret"), "{e}");

        let e = parse_text("[[issuer]]\nissuer = \"https://a\"\naudience = \"m\"\nintrospection = { endpoint = \"https://a/i\", client_id = \"m\", client_secret_env = \"UNSET\" }\n").unwrap_err();
        assert!(e.message.contains("UNSET is not set"), "{e}");

        let e = parse_text("[[issuer]]\nissuer = \"ftp://a\"\naudience = \"m\"\n").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (2, Some("issuer")));

        let e = parse_text("[[issuer]]\nissuer = \"https://a\"\n").unwrap_err();
        assert!(e.message.contains("audience"), "{e}");
    }
}
