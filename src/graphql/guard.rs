//! Every operation needs a valid token, and only roles that may change things may run
//! a mutation. Checked once per request, before anything executes.

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Pos, ServerError};

use crate::auth::{AuthError, CurrentUsers};

use super::context::Authentication;
use super::errors;

/// Whether the caller may run `document`.
pub async fn admit(
    caller: Option<&Authentication>,
    users: &CurrentUsers,
    document: &ExecutableDocument,
) -> Result<(), ServerError> {
    let refuse = |e: &AuthError| errors::auth(e).into_server_error(Pos::default());
    let principal = match caller {
        Some(Ok(principal)) => principal,
        Some(Err(e)) => return Err(refuse(e)),
        None => return Err(refuse(&AuthError::Missing)),
    };
    // A WebSocket's operations come long after its token was checked: each is checked
    // again (an HTTP request's principal was confirmed just now, by its handler, and
    // passes at once).
    if principal.has_expired() {
        return Err(refuse(&AuthError::Expired));
    }
    match users.current(principal).await {
        Ok(now) if now.role == principal.role => {}
        Ok(_) => return Err(refuse(&AuthError::Revoked)),
        Err(e) => return Err(errors::check(e).into_server_error(Pos::default())),
    }
    let mutates = document
        .operations
        .iter()
        .any(|(_, op)| op.node.ty == OperationType::Mutation);
    if mutates && !principal.can_mutate() {
        return Err(refuse(&AuthError::Forbidden));
    }
    Ok(())
}
