//! Every error leaves with `extensions.code`. Errors the service raises carry one
//! already (`errors`); async-graphql's own, for a document that does not parse, does
//! not validate (unknown fields, bad argument values, undeclared variables, too deep,
//! too complex) or whose values do not coerce, carry none: this adds it.

use async_graphql::{Response, ServerError};

/// The document is not GraphQL.
pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// The document is GraphQL, but not a valid request of this schema or within its limits.
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
/// A value the resolvers were given did not fit its type.
pub const INPUT_INVALID: &str = "VALIDATION";

/// `response` with a code on every error. An error without a path was raised before any
/// field ran (the document does not validate); one with a path, by a field's value.
pub fn code_all(mut response: Response) -> Response {
    for error in &mut response.errors {
        let code = if error.path.is_empty() {
            VALIDATION_FAILED
        } else {
            INPUT_INVALID
        };
        code_in_place(error, code);
    }
    response
}

/// `error`, with `code` unless it has one.
pub fn coded(mut error: ServerError, code: &'static str) -> ServerError {
    code_in_place(&mut error, code);
    error
}

fn code_in_place(error: &mut ServerError, code: &'static str) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
}
