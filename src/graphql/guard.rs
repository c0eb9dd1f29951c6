//! Every operation needs a valid token, and only roles that may change things may run
//! a mutation. Checked once per request, before anything executes.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Pos, ServerResult, Variables};

use crate::auth::AuthError;

use super::context::{ApiContext, Authentication};
use super::errors;

pub struct AuthGuard;

impl ExtensionFactory for AuthGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AuthGuard)
    }
}

#[async_trait::async_trait]
impl Extension for AuthGuard {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let refuse = |e: &AuthError| errors::auth(e).into_server_error(Pos::default());
        let principal = match ctx.data_opt::<Authentication>() {
            Some(Ok(principal)) => principal,
            Some(Err(e)) => return Err(refuse(e)),
            None => return Err(refuse(&AuthError::Missing)),
        };
        // A WebSocket's operations come long after its token was checked: each is
        // checked again (an HTTP request's principal was confirmed just now, by its
        // handler, and passes at once).
        if principal.has_expired() {
            return Err(refuse(&AuthError::Expired));
        }
        if let Some(api) = ctx.data_opt::<ApiContext>() {
            match api.users.current(principal).await {
                Ok(now) if now.role == principal.role => {}
                Ok(_) => return Err(refuse(&AuthError::Revoked)),
                Err(e) => return Err(errors::check(e).into_server_error(Pos::default())),
            }
        }
        let mutates = document
            .operations
            .iter()
            .any(|(_, op)| op.node.ty == OperationType::Mutation);
        if mutates && !principal.can_mutate() {
            return Err(errors::auth(&AuthError::Forbidden).into_server_error(Pos::default()));
        }
        Ok(document)
    }
}
