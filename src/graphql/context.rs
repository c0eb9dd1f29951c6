//! What every resolver can reach, and the small steps every mutation takes: who is
//! asking, the command metadata, and waiting until the read models show the change.

use std::sync::Arc;
use std::time::Duration;

use anytrade_aggregates::values::BotId;
use anytrade_projections::{LogPosition, Projections};
use async_graphql::{Context, Result};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::{AuthError, Principal};
use crate::crypto::Keyring;
use crate::hub::Hub;
use crate::store::{CommandBus, CommandMetadata, Commands, Keyed};

use super::errors;

/// How long a mutation waits for the read models to show its effect.
const READ_YOUR_WRITES: Duration = Duration::from_secs(5);

/// Shared state of the API.
#[derive(Clone)]
pub struct ApiContext {
    pub pool: PgPool,
    pub commands: Arc<Commands>,
    pub projections: Projections,
    pub keyring: Arc<Keyring>,
    pub hub: Hub,
    /// One HTTP client (one connection pool) for calls to exchanges and bots.
    pub http: reqwest::Client,
    /// Failed health checks in a row that make a bot unhealthy (`monitor.unhealthy_after`).
    pub unhealthy_after: u32,
    /// Whether the database answers: while it does not, requests fail at once.
    pub availability: crate::db::Availability,
    /// Each token's user as they are now (deleted, demoted).
    pub users: Arc<crate::auth::CurrentUsers>,
    /// Where this service serves the sandbox exchange (`--sandbox`), for its probe.
    pub sandbox_url: Option<String>,
}

/// Per-request facts, set by the HTTP and WebSocket handlers.
pub type Authentication = Result<Principal, AuthError>;

pub trait ContextExt {
    fn api(&self) -> &ApiContext;
    fn principal(&self) -> Result<&Principal>;
    /// Metadata for a command issued by the caller.
    fn metadata(&self) -> Result<CommandMetadata>;
}

impl ContextExt for Context<'_> {
    fn api(&self) -> &ApiContext {
        self.data_unchecked::<ApiContext>()
    }

    fn principal(&self) -> Result<&Principal> {
        match self.data_opt::<Authentication>() {
            Some(Ok(principal)) => Ok(principal),
            Some(Err(e)) => Err(errors::auth(e)),
            None => Err(errors::auth(&AuthError::Missing)),
        }
    }

    fn metadata(&self) -> Result<CommandMetadata> {
        let principal = self.principal()?;
        Ok(CommandMetadata::issued_by(format!(
            "user:{}",
            principal.username
        )))
    }
}

impl ApiContext {
    /// Waits (bounded) until every read model has applied the log up to `position`, so
    /// the mutation's answer shows its own effect.
    pub async fn settle(&self, position: Option<LogPosition>) {
        if let Some(position) = position
            && !self.projections.wait_for(position, READ_YOUR_WRITES).await
        {
            tracing::warn!(
                ?position,
                "read models lag behind a mutation; answering with what they show"
            );
        }
    }
}

/// Runs `command` on aggregate `id` as the caller, and waits until the read models
/// show its effect: the common body of a mutation.
pub async fn execute<A>(
    ctx: &Context<'_>,
    bus: &CommandBus<A>,
    id: &A::Id,
    command: A::Command,
) -> Result<()>
where
    A: Keyed<Error = anytrade_aggregates::DomainError>,
    A::Command: Clone,
    for<'c> &'c A::Command: Into<&'static str>,
{
    let at = bus
        .execute(id, command, &ctx.metadata()?)
        .await
        .map_err(errors::command)?;
    ctx.api().settle(at).await;
    Ok(())
}

/// A GraphQL `ID` argument as a bot's id, or a VALIDATION error naming `field`.
pub fn parse_bot_id(field: &str, id: &async_graphql::ID) -> Result<BotId> {
    parse_id(field, id).map(BotId::from)
}

/// A GraphQL `ID` argument as a UUID, or a VALIDATION error naming `field`.
pub fn parse_id(field: &str, id: &async_graphql::ID) -> Result<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| errors::validation(field, "not a valid id"))
}
