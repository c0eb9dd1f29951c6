//! One place that turns every failure into a GraphQL error with `extensions.code`
//! (VALIDATION, NOT_FOUND, CONFLICT, UNAUTHENTICATED, FORBIDDEN, UNAVAILABLE, INTERNAL)
//! and, where known, `extensions.field`. Internal details are logged, never returned.

use anytrade_aggregates::DomainError;
use async_graphql::{Error, ErrorExtensions};

use crate::auth::{AuthError, CheckError};
use crate::store::CommandError;

pub fn error(code: &'static str, message: impl Into<String>, field: Option<&str>) -> Error {
    let field = field.map(str::to_owned);
    Error::new(message).extend_with(|_, e| {
        e.set("code", code);
        if let Some(field) = &field {
            e.set("field", field.as_str());
        }
    })
}

/// The database does not answer: try again shortly.
pub const UNAVAILABLE: &str = "UNAVAILABLE";

fn unavailable(context: &str, e: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %e, "{context}: the database is unavailable");
    error(
        UNAVAILABLE,
        format!("the database is unavailable while {context}; try again shortly"),
        None,
    )
}

pub fn validation(field: &str, reason: impl std::fmt::Display) -> Error {
    error(
        "VALIDATION",
        format!("invalid {field}: {reason}"),
        Some(field),
    )
}

pub fn not_found(field: &str, what: impl std::fmt::Display) -> Error {
    error("NOT_FOUND", what.to_string(), Some(field))
}

/// An unexpected failure: logged in full, answered with a generic message.
pub fn internal(context: &str, e: impl std::fmt::Display) -> Error {
    tracing::error!(error = %e, "{context}");
    error("INTERNAL", format!("internal error while {context}"), None)
}

pub fn domain(e: DomainError) -> Error {
    let message = e.to_string();
    match e {
        DomainError::Invalid { field, .. } => error("VALIDATION", message, Some(&field)),
        DomainError::NotFound { field, .. } => error("NOT_FOUND", message, Some(&field)),
        DomainError::Conflict { field, .. } => error("CONFLICT", message, Some(&field)),
        DomainError::Unavailable(reason) => internal("looking up related entities", reason),
    }
}

pub fn command(e: CommandError) -> Error {
    match e {
        CommandError::Domain(e) => domain(e),
        CommandError::Conflict { .. } => error("CONFLICT", e.to_string(), None),
        CommandError::Store(reason) => internal("writing to the event store", reason),
        CommandError::Unavailable(reason) => unavailable("running the command", reason),
    }
}

/// [`command`], for mutations that name the aggregate's id `id_field` (`exchangeId`,
/// `botId`) where the aggregate itself says `id`.
pub fn command_on(id_field: &str, e: CommandError) -> Error {
    match e {
        CommandError::Domain(d) if d.field() == Some("id") => domain(d.on_field(id_field)),
        other => command(other),
    }
}

pub fn auth(e: &AuthError) -> Error {
    error(e.code(), e.to_string(), None)
}

/// A token's user could not be confirmed: refused, or the users could not be read.
pub fn check(e: CheckError) -> Error {
    match e {
        CheckError::Auth(e) => auth(&e),
        CheckError::Database(e) => database(e),
    }
}

pub fn database(e: sqlx::Error) -> Error {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            unavailable("reading the read models", e)
        }
        e => internal("reading the read models", e),
    }
}

/// A page of a list: a cursor from elsewhere is the caller's mistake (`after`).
pub fn page(e: anytrade_projections::page::PageError) -> Error {
    use anytrade_projections::page::PageError;
    match e {
        PageError::Cursor(reason) => validation("after", reason),
        PageError::Database(e) => database(e),
    }
}
