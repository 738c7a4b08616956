//! JWT checks: shape, algorithm, signature, issuer, audience, expiry and not-before.
//!
//! The algorithm is taken from the issuer's key, never from the token alone: the header's `alg`
//! must be one the issuer is configured for *and* fit the key's type (and the key's own `alg`
//! when it states one). So `none` never passes, and an HS256 token "signed" with an issuer's
//! public RSA key (the HS/RS confusion) is refused before any MAC is computed: the hub holds no
//! symmetric keys at all.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::Rejected;

/// A JWT's header and claims, read but not yet trusted.
#[derive(Debug)]
pub struct Unverified {
    pub alg: String,
    pub kid: Option<String>,
    pub jku: Option<String>,
    pub claims: Map<String, Value>,
}

impl Unverified {
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

/// Whether `token` has a JWT's shape (three base64url parts), so it is not an opaque token.
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3 && token.split('.').take(2).all(|p| !p.is_empty())
}

/// Reads a JWT's header and claims without checking anything but their shape; refuses `none`.
pub fn peek(token: &str) -> Result<Unverified, Rejected> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(Rejected::new("malformed", "a JWT has three dot-separated parts"));
    };
    let json = |part: &str, what: &str| -> Result<Map<String, Value>, Rejected> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| Rejected::new("malformed", format!("the {what} is not base64url")))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(Rejected::new("malformed", format!("the {what} is not a JSON object"))),
        }
    };
    let header = json(header, "header")?;
    let claims = json(payload, "payload")?;
    let Some(alg) = header.get("alg").and_then(Value::as_str) else {
        return Err(Rejected::new("malformed", "the header names no `alg`"));
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err(Rejected::new("algorithm not allowed", "`none`: unsigned tokens are never accepted"));
    }
    let text = |name: &str| header.get(name).and_then(Value::as_str).map(str::to_owned);
    Ok(Unverified { alg: alg.to_owned(), kid: text("kid"), jku: text("jku"), claims })
}

/// The algorithm to verify with: the header's, if the issuer allows it and it fits the key.
pub fn algorithm(header_alg: &str, key: &Jwk, allowed: &[Algorithm]) -> Result<Algorithm, Rejected> {
    let not_allowed = |why: String| Rejected::new("algorithm not allowed", why);
    let alg: Algorithm = header_alg.parse().map_err(|_| not_allowed(format!("{header_alg:?} is not a JWS algorithm")))?;
    if !allowed.contains(&alg) {
        let names: Vec<String> = allowed.iter().map(|a| format!("{a:?}")).collect();
        return Err(not_allowed(format!("{alg:?}; this issuer signs with {}", names.join(", "))));
    }
    let fits = match &key.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            alg,
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(ec) => matches!(
            (&ec.curve, alg),
            (EllipticCurve::P256, Algorithm::ES256) | (EllipticCurve::P384, Algorithm::ES384)
        ),
        AlgorithmParameters::OctetKeyPair(okp) => okp.curve == EllipticCurve::Ed25519 && alg == Algorithm::EdDSA,
        _ => false,
    };
    if !fits {
        return Err(not_allowed(format!("{alg:?} does not fit the issuer's key {:?}", key.common.key_id.as_deref().unwrap_or(""))));
    }
    // The key's own `alg`, when it states a JWS one (its name is the algorithm's).
    let stated = key.common.key_algorithm.and_then(|a| serde_json::to_value(a).ok()?.as_str()?.parse::<Algorithm>().ok());
    if let Some(stated) = stated
        && stated != alg
    {
        return Err(not_allowed(format!("{alg:?}, but the issuer's key is for {stated:?}")));
    }
    Ok(alg)
}

/// What the claims must satisfy besides the signature.
pub struct Expect<'a> {
    pub issuer: &'a str,
    /// `None` for visas, which name no audience.
    pub audience: Option<&'a str>,
    pub leeway: std::time::Duration,
}

/// Checks the signature with `key`, then issuer, audience, `exp` (required) and `nbf`.
pub fn verify(token: &str, key: &Jwk, alg: Algorithm, expect: &Expect<'_>) -> Result<Map<String, Value>, Rejected> {
    let decoding = DecodingKey::from_jwk(key).map_err(|e| Rejected::new("unknown key", format!("the issuer's key cannot be used: {e}")))?;
    let mut validation = Validation::new(alg);
    validation.leeway = expect.leeway.as_secs();
    validation.validate_nbf = true;
    validation.set_issuer(&[expect.issuer]);
    let mut required = vec!["exp", "iss"];
    match expect.audience {
        Some(aud) => {
            validation.set_audience(&[aud]);
            required.push("aud");
        }
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);
    match jsonwebtoken::decode::<Map<String, Value>>(token, &decoding, &validation) {
        Ok(data) => Ok(data.claims),
        Err(e) => Err(match e.kind() {
            ErrorKind::InvalidSignature => Rejected::new("bad signature", "the signature does not match the issuer's key"),
            ErrorKind::ExpiredSignature => Rejected::new("expired", "the token's `exp` has passed"),
            ErrorKind::ImmatureSignature => Rejected::new("not yet valid", "the token's `nbf` is in the future"),
            ErrorKind::InvalidIssuer => Rejected::new("wrong issuer", format!("the token is not from {}", expect.issuer)),
            ErrorKind::InvalidAudience => {
                Rejected::new("wrong audience", format!("the token is not for {:?}", expect.audience.unwrap_or_default()))
            }
            ErrorKind::MissingRequiredClaim(c) if c == "aud" => Rejected::new("wrong audience", "the token names no audience"),
            ErrorKind::MissingRequiredClaim(c) => Rejected::new("malformed", format!("the token has no `{c}` claim")),
            ErrorKind::InvalidAlgorithm => Rejected::new("algorithm not allowed", format!("expected {alg:?}")),
            other => Rejected::new("malformed", format!("{other:?}")),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &str) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    #[test]
    fn shapes_that_are_not_jwts_are_malformed() {
        for token in ["abc", "a.b", "a.b.c.d", "!!!.e30.x"] {
            let e = peek(token).unwrap_err();
            assert_eq!(e.reason, "malformed", "{token}: {e:?}");
        }
        let no_alg = format!("{}.{}.sig", b64(r#"{"typ":"JWT"}"#), b64("{}"));
        assert!(peek(&no_alg).unwrap_err().description.contains("alg"));
        let none = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64("{}"));
        assert_eq!(peek(&none).unwrap_err().reason, "algorithm not allowed");
        let ok = format!("{}.{}.sig", b64(r#"{"alg":"RS256","kid":"k1"}"#), b64(r#"{"iss":"https://a"}"#));
        let p = peek(&ok).unwrap();
        assert_eq!((p.alg.as_str(), p.kid.as_deref(), p.claim_str("iss")), ("RS256", Some("k1"), Some("https://a")));
    }

    #[test]
    fn the_algorithm_must_fit_the_key() {
        let rsa: Jwk = serde_json::from_value(serde_json::json!({"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"})).unwrap();
        let allowed = [Algorithm::RS256, Algorithm::ES256];
        assert_eq!(algorithm("RS256", &rsa, &allowed).unwrap(), Algorithm::RS256);
        for (alg, why) in [("HS256", "HS256"), ("ES256", "does not fit"), ("PS256", "PS256"), ("XX1", "not a JWS")] {
            let e = algorithm(alg, &rsa, &allowed).unwrap_err();
            assert_eq!(e.reason, "algorithm not allowed");
            assert!(e.description.contains(why), "{alg}: {}", e.description);
        }
        let stated: Jwk = serde_json::from_value(serde_json::json!({"kty":"RSA","alg":"RS512","n":"AQAB","e":"AQAB"})).unwrap();
        assert!(algorithm("RS256", &stated, &[Algorithm::RS256, Algorithm::RS512]).is_err());
    }
}
