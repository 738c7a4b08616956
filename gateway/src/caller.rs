//! Who the caller is, as an axum extractor: every route that serves data takes a [`Caller`], so
//! no handler can forget to ask (and none asks twice). A credential that was sent and failed is
//! refused (401, never downgraded to anonymous); one that cannot be checked now is a 503.
//! Also the shape every refusal has: a GraphQL-style `{"errors": [{message, extensions.code}]}`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use musubi_platform::fees::Affiliation;
use musubi_schema::Principal;
use serde_json::json;

use crate::app::App;
use crate::identity::{AuthError, Rejected};

/// The GraphQL-over-HTTP media type.
pub(crate) const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The caller of a request: their tier and grants, and the organisation fees are counted for.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub affiliation: Option<Affiliation>,
}

impl FromRequestParts<App> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Caller, Response> {
        let accept = header_str(&parts.headers, header::ACCEPT);
        match app.identity().caller(&parts.headers).await {
            Ok((principal, affiliation)) => Ok(Caller { principal, affiliation }),
            Err(AuthError::Rejected(rejected)) => Err(unauthorized(&accept, &rejected)),
            Err(AuthError::Unavailable(why)) => {
                tracing::warn!(%why, "cannot check a credential");
                Err(error_response(
                    &accept,
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("the credential cannot be checked now: {why}"),
                    "IDENTITY_UNAVAILABLE",
                ))
            }
        }
    }
}

/// 401 for a credential that was sent and failed (RFC 6750 §3): the reason in the challenge
/// and in the body.
fn unauthorized(accept: &str, rejected: &Rejected) -> Response {
    let message = rejected.to_string();
    let mut response = error_response(accept, StatusCode::UNAUTHORIZED, &message, "UNAUTHENTICATED");
    // The description is a quoted-string of visible ASCII (RFC 6750 §3).
    let description: String = message.chars().map(|c| if c == '"' || c == '\\' || !(' '..='~').contains(&c) { '\'' } else { c }).collect();
    let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{description}\"");
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// A refusal: `status`, and the message and code as a GraphQL error, in the media type the
/// caller accepts (`accept`: GraphQL-over-HTTP's, else plain JSON).
pub(crate) fn error_response(accept: &str, status: StatusCode, message: &str, code: &str) -> Response {
    let media = if accept.contains(GRAPHQL_RESPONSE) { GRAPHQL_RESPONSE } else { "application/json" };
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, [(header::CONTENT_TYPE, format!("{media}; charset=utf-8"))], body.to_string()).into_response()
}

pub(crate) fn header_str(headers: &HeaderMap, name: header::HeaderName) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}
