//! HTTP: GraphQL over HTTP (GET and POST, per the GraphQL-over-HTTP spec), GraphiQL for browsers,
//! and the export's routes.
//!
//! Handlers are thin: take the [`Caller`] (an extractor, see [`crate::caller`]), read the
//! request, run the schema, shape the response. Cross-cutting concerns (tracing, timeouts, body limits) are tower layers set up in
//! [`router`]. A body over the limit (the query-size limit plus [`VARIABLES_ROOM`]) is refused
//! with 413 and a GraphQL error naming both numbers; the query limits themselves are the
//! schema's ([`musubi_schema::limits`]). `/export/…` streams datasets ([`crate::export`]).

use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::app::{Answer, App};
use crate::caller::{Caller, GRAPHQL_RESPONSE, error_response, header_str};

/// Room in a request body for variables and the JSON around the query, above the query-size
/// limit.
pub const VARIABLES_ROOM: usize = 64 * 1024;

/// The hub's routes and layers.
pub fn router(app: App) -> Router {
    let body_limit = app.limits().query_bytes + VARIABLES_ROOM;
    Router::new()
        .route("/", get(|| async { Redirect::to("/graphql") }))
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/export/datasets.ndjson", get(crate::export::ndjson))
        .route("/export/datasets.jsonld", get(crate::export::jsonld))
        .route("/health", get(|| async { "ok" }))
        .with_state(app)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(TraceLayer::new_for_http())
}

/// GET: GraphiQL for a browser, otherwise a query in the URL's parameters.
async fn graphql_get(State(app): State<App>, caller: Caller, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let accept = header_str(&headers, header::ACCEPT);
    if query.as_deref().is_none_or(str::is_empty) && accept.contains("text/html") {
        return Html(GraphiQLSource::build().endpoint("/graphql").title("musubi GraphiQL").finish()).into_response();
    }
    let request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or("")) {
        Ok(r) => r,
        Err(e) => return request_error(&accept, StatusCode::BAD_REQUEST, &format!("cannot read the query parameters: {e}")),
    };
    if is_mutation(&request.query) {
        let mut response = request_error(&accept, StatusCode::METHOD_NOT_ALLOWED, "mutations must be sent with POST");
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&app, &headers, caller, request).await
}

/// POST: a JSON body `{query, variables, operationName}`.
async fn graphql_post(State(app): State<App>, caller: Caller, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    let accept = header_str(&headers, header::ACCEPT);
    let body = match body {
        Ok(b) => b,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let limits = app.limits();
            let max = limits.query_bytes + VARIABLES_ROOM;
            let message = format!(
                "request body exceeds the limit {} bytes (the query-size limit {} plus {} for variables)",
                musubi_schema::limits::thousands(max),
                musubi_schema::limits::thousands(limits.query_bytes),
                musubi_schema::limits::thousands(VARIABLES_ROOM),
            );
            return error_response(&accept, StatusCode::PAYLOAD_TOO_LARGE, &message, musubi_schema::limits::LIMIT_EXCEEDED);
        }
        Err(rejection) => return request_error(&accept, rejection.status(), &format!("cannot read the body: {rejection}")),
    };
    let content_type = header_str(&headers, header::CONTENT_TYPE);
    if !content_type.starts_with("application/json") && !content_type.starts_with(GRAPHQL_RESPONSE) {
        return request_error(
            &accept,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("send the query as application/json, not {:?}", if content_type.is_empty() { "no content type" } else { &content_type }),
        );
    }
    let request = match read_request(&body) {
        Ok(r) => r,
        Err(message) => return request_error(&accept, StatusCode::BAD_REQUEST, &message),
    };
    execute(&app, &headers, caller, request).await
}

/// The parameters of a POST body, checked so that a misspelt one is named rather than ignored.
fn read_request(body: &[u8]) -> Result<async_graphql::Request, String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let serde_json::Value::Object(params) = &value else {
        return Err("the body must be a JSON object with a `query`".to_owned());
    };
    if let Some(unknown) = params.keys().find(|k| !["query", "variables", "operationName", "extensions"].contains(&k.as_str())) {
        return Err(format!("unknown parameter `{unknown}`; expected query, variables, operationName, extensions"));
    }
    if !params.get("query").is_some_and(serde_json::Value::is_string) {
        return Err("the parameter `query` must be a string".to_owned());
    }
    serde_json::from_value(value).map_err(|e| format!("the body is not a GraphQL request: {e}"))
}

async fn execute(app: &App, headers: &HeaderMap, caller: Caller, request: async_graphql::Request) -> Response {
    let accept = header_str(headers, header::ACCEPT);
    let media = if accept.contains(GRAPHQL_RESPONSE) { GRAPHQL_RESPONSE } else { "application/json" };
    let response = match app.answer(request, caller.principal, caller.affiliation).await {
        // Only answers that ran (no request error) are cached: sent as the bytes they were.
        Ok(Answer::Cached(entry)) => return (StatusCode::OK, [(header::CONTENT_TYPE, format!("{media}; charset=utf-8"))], entry.body.clone()).into_response(),
        Ok(Answer::Ran(r)) => r,
        Err(e) => {
            tracing::error!(%e, "audit log append failed; the response is withheld");
            return error_response(&accept, StatusCode::INTERNAL_SERVER_ERROR, "the audit log cannot be written; nothing was served", "INTERNAL_SERVER_ERROR");
        }
    };
    // A request that never reached execution (it did not parse or validate, said no operation
    // to run, or broke a limit) has no data.
    let request_failed = response.data == async_graphql::Value::Null
        && response.errors.iter().any(|e| {
            let code = e.extensions.as_ref().and_then(|x| x.get("code")).map(ToString::to_string).unwrap_or_default();
            ["GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", musubi_schema::errors::BAD_REQUEST, musubi_schema::limits::LIMIT_EXCEEDED]
                .iter()
                .any(|c| code.contains(c))
        });
    // A request error carries no `data` entry at all (GraphQL-over-HTTP, "request error").
    let body = if request_failed {
        serde_json::to_vec(&json!({ "errors": response.errors })).expect("GraphQL errors serialise")
    } else {
        serde_json::to_vec(&response).expect("GraphQL responses serialise")
    };
    let status = if media == GRAPHQL_RESPONSE && request_failed { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    (status, [(header::CONTENT_TYPE, format!("{media}; charset=utf-8"))], body).into_response()
}

fn request_error(accept: &str, status: StatusCode, message: &str) -> Response {
    error_response(accept, status, message, "BAD_REQUEST")
}

fn is_mutation(query: &str) -> bool {
    async_graphql::parser::parse_query(query).is_ok_and(|doc| {
        doc.operations.iter().any(|(_, op)| op.node.ty == async_graphql::parser::types::OperationType::Mutation)
    })
}
