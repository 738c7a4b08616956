//! Opaque tokens: RFC 7662 introspection at the issuer, through the `oauth2` crate.
//!
//! `oauth2`'s own HTTP client is reqwest 0.12; the workspace uses reqwest 0.13, so a small
//! adapter ([`send`]) carries oauth2's `http::Request` over the hub's client instead of
//! compiling a second HTTP stack.

use std::time::Duration;

use oauth2::basic::{BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenResponse, BasicTokenType};
use oauth2::{
    AccessToken, AsyncHttpClient, Client, ClientId, ClientSecret, EndpointNotSet, EndpointSet, ExtraTokenFields, HttpRequest, HttpResponse,
    IntrospectionUrl, RequestTokenError, StandardRevocableToken, StandardTokenIntrospectionResponse, TokenIntrospectionResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::config::IssuerConfig;
use super::{AuthError, Rejected};

/// The claims an introspection response carries beyond RFC 7662's (roles, passports, …).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extra {
    #[serde(flatten)]
    pub claims: Map<String, Value>,
}
impl ExtraTokenFields for Extra {}

type Introspection = StandardTokenIntrospectionResponse<Extra, BasicTokenType>;
type IntrospectionClient = Client<
    BasicErrorResponse,
    BasicTokenResponse,
    Introspection,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
>;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Asks `issuer` about an opaque token. `Ok(None)`: the issuer says it is not active.
/// `Ok(Some(claims))`: active, and every claim the issuer told (standard and extra).
pub async fn introspect(http: &reqwest::Client, issuer: &IssuerConfig, token: &str) -> Result<Option<Map<String, Value>>, AuthError> {
    let Some(config) = &issuer.introspection else {
        return Ok(None);
    };
    let url = IntrospectionUrl::new(config.endpoint.clone())
        .map_err(|e| AuthError::Unavailable(format!("{}: not a URL: {e}", config.endpoint)))?;
    let client: IntrospectionClient = Client::new(ClientId::new(config.client_id.clone()))
        .set_client_secret(ClientSecret::new(config.client_secret.clone()))
        .set_introspection_url(url);
    let access_token = AccessToken::new(token.to_owned());
    let response = client.introspect(&access_token).request_async(&Http(http)).await.map_err(|e| {
        let why = match e {
            RequestTokenError::ServerResponse(r) => format!("the issuer refused the hub's introspection request: {r}"),
            RequestTokenError::Request(e) => e.to_string(),
            RequestTokenError::Parse(e, _) => format!("not an introspection response: {e}"),
            RequestTokenError::Other(m) => m,
        };
        AuthError::Unavailable(format!("{}: {why}", config.endpoint))
    })?;
    if !response.active() {
        return Ok(None);
    }
    if let Some(iss) = response.iss()
        && iss != issuer.issuer
    {
        return Err(Rejected::new("wrong issuer", format!("the introspection answer names {iss}, not {}", issuer.issuer)).into());
    }
    // An audience, when the issuer states one, must be this hub's (a token for another API is
    // not a key to this one).
    if let Some(aud) = response.aud()
        && !aud.contains(&issuer.audience)
    {
        return Err(Rejected::new("wrong audience", format!("the token is not for {:?}", issuer.audience)).into());
    }
    if let Some(exp) = response.exp()
        && exp.timestamp() + (issuer.leeway.as_secs() as i64) < now_seconds()
    {
        return Err(Rejected::new("expired", "the token's `exp` has passed").into());
    }
    let mut claims = response.extra_fields().claims.clone();
    for (name, value) in [("sub", response.sub()), ("client_id", response.client_id().map(|c| c.as_str())), ("username", response.username())] {
        if let Some(v) = value {
            claims.insert(name.to_owned(), Value::String(v.to_owned()));
        }
    }
    Ok(Some(claims))
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Why an introspection request did not get an answer.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// The adapter: oauth2's HTTP client trait over the workspace's reqwest.
struct Http<'a>(&'a reqwest::Client);

impl<'c> AsyncHttpClient<'c> for Http<'_> {
    type Error = HttpError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(self.0, request))
    }
}

/// oauth2's request, sent with the workspace's reqwest.
async fn send(http: &reqwest::Client, request: HttpRequest) -> Result<HttpResponse, HttpError> {
    let (parts, body) = request.into_parts();
    let url = parts.uri.to_string();
    let response = http
        .request(parts.method, &url)
        .headers(parts.headers)
        .body(body)
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| HttpError(format!("cannot reach the issuer: {e}")))?;
    let mut builder = oauth2::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let bytes = response.bytes().await.map_err(|e| HttpError(format!("the issuer's answer broke off: {e}")))?;
    builder.body(bytes.to_vec()).map_err(|e| HttpError(e.to_string()))
}
