//! Every error leaves with `extensions.code`. Errors the service raises carry one
//! already (`errors`); async-graphql's own, for a document that does not parse, does
//! not validate (unknown fields, bad argument values, undeclared variables, too deep,
//! too complex) or whose values do not coerce, carry none: this adds it.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Variables};

/// The document is not GraphQL.
pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// The document is GraphQL, but not a valid request of this schema or within its limits.
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
/// A value the resolvers were given did not fit its type.
pub const INPUT_INVALID: &str = "VALIDATION";

pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(|e| coded(e, PARSE_FAILED))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| coded(e, VALIDATION_FAILED))
                .collect()
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        response.errors = std::mem::take(&mut response.errors)
            .into_iter()
            .map(|e| coded(e, INPUT_INVALID))
            .collect();
        response
    }
}

/// `error`, with `code` unless it has one.
pub fn coded(mut error: ServerError, code: &'static str) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    error
}
