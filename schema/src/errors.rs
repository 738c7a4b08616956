//! Every error leaves with an `extensions.code`, whichever layer raised it:
//! `GRAPHQL_PARSE_FAILED`, `GRAPHQL_VALIDATION_FAILED`, `BAD_REQUEST` (no operation to run),
//! `BAD_USER_INPUT`, `FORBIDDEN`, `NOT_FOUND`, or `INTERNAL_SERVER_ERROR` for anything unclassified.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextValidation};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Error, ErrorExtensions, Response, ServerError, ServerResult, ValidationResult, Variables};

pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
/// A request the hub cannot run as sent (which operation to run is not said, or names none in
/// the document): the caller's error, a request error in GraphQL-over-HTTP's terms.
pub const BAD_REQUEST: &str = "BAD_REQUEST";

/// An error in what the caller sent (an argument, a cursor), saying what and where.
pub(crate) fn bad_input(argument: &str, message: impl std::fmt::Display) -> Error {
    Error::new(format!("argument `{argument}`: {message}")).extend_with(|_, e| {
        e.set("code", BAD_USER_INPUT);
        e.set("argument", argument);
    })
}

/// The extension that stamps codes on errors.
#[derive(Debug)]
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

fn stamp(error: &mut ServerError, code: &str) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        for error in &mut response.errors {
            let code = if error.message.starts_with("Invalid value for argument") || error.message.contains("Failed to parse") {
                BAD_USER_INPUT
            } else if error.message.starts_with("Operation name required") || error.message.starts_with("Unknown operation named") {
                BAD_REQUEST
            } else {
                "INTERNAL_SERVER_ERROR"
            };
            stamp(error, code);
        }
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables).await.map_err(|mut e| {
            stamp(&mut e, PARSE_FAILED);
            e
        })
    }

    async fn validation(&self, ctx: &ExtensionContext<'_>, next: NextValidation<'_>) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            errors.iter_mut().for_each(|e| stamp(e, VALIDATION_FAILED));
            errors
        })
    }
}
