//! Strategies: freqtrade Python code with its version history. Every code change is a
//! new version; bots and jobs pin the version they run.

use std::collections::HashMap;
use std::sync::Arc;

use anytrade_aggregates::values::EntityName;
use anytrade_aggregates::{StrategyAnalysis, StrategyCode, StrategyCommand, analyze};
use anytrade_projections::strategies::{self, StrategyRow, VersionRow};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::bots::Bot;
use super::context::{ApiContext, ContextExt, parse_id};
use super::errors;
use super::loaders::BotsByStrategyLoader;
use super::pagination::{Page, connection, decode_cursor, page_size};
use crate::strategy_names::{self, ClaimError};

#[derive(SimpleObject, Clone)]
pub struct StrategyVersion {
    pub version: i32,
    pub sha256: String,
    /// The `IStrategy` class freqtrade loads.
    pub class_name: String,
    pub code: String,
    pub created_at: DateTime<Utc>,
}

#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Strategy {
    #[graphql(skip)]
    pub uuid: Uuid,
    pub name: String,
    pub description: String,
    /// The current version's number.
    pub version: i32,
    pub class_name: String,
    pub sha256: String,
    /// The current version's code.
    pub code: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[ComplexObject]
impl Strategy {
    async fn id(&self) -> ID {
        ID(self.uuid.to_string())
    }

    /// Every version, oldest first.
    async fn versions(&self, ctx: &Context<'_>) -> Result<Vec<StrategyVersion>> {
        let loader = ctx.data_unchecked::<DataLoader<VersionsLoader>>();
        Ok(loader.load_one(self.uuid).await?.unwrap_or_default())
    }

    /// Bots running this strategy (any version), oldest first.
    async fn bots(&self, ctx: &Context<'_>) -> Result<Vec<Bot>> {
        let loader = ctx.data_unchecked::<DataLoader<BotsByStrategyLoader>>();
        Ok(loader
            .load_one(self.uuid)
            .await
            .map_err(|e| errors::internal("reading the read models", e))?
            .unwrap_or_default())
    }
}

impl From<VersionRow> for StrategyVersion {
    fn from(row: VersionRow) -> Self {
        Self {
            version: row.version,
            sha256: row.sha256,
            class_name: row.class_name,
            code: row.code,
            created_at: row.created_at,
        }
    }
}

impl From<StrategyRow> for Strategy {
    fn from(row: StrategyRow) -> Self {
        Self {
            uuid: row.id,
            name: row.name,
            description: row.description,
            version: row.version,
            class_name: row.class_name,
            sha256: row.sha256,
            code: row.code,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Loads the version histories of many strategies in one query.
pub struct VersionsLoader(pub PgPool);

impl Loader<Uuid> for VersionsLoader {
    type Value = Vec<StrategyVersion>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let versions = strategies::versions(&self.0, keys)
            .await
            .map_err(Arc::new)?;
        Ok(versions
            .into_iter()
            .map(|(id, rows)| (id, rows.into_iter().map(Into::into).collect()))
            .collect())
    }
}

/// Strategies by id, for [`super::loaders::StrategyLoader`].
pub async fn load_many(
    pool: &PgPool,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Strategy>, sqlx::Error> {
    let rows = strategies::by_ids(pool, ids).await?;
    Ok(rows.into_iter().map(|(id, row)| (id, row.into())).collect())
}

pub async fn load(pool: &PgPool, id: Uuid) -> Result<Option<Strategy>> {
    let row = strategies::get(pool, id).await.map_err(errors::database)?;
    Ok(row.map(Into::into))
}

async fn load_existing(ctx: &Context<'_>, id: Uuid) -> Result<Strategy> {
    load(&ctx.api().pool, id)
        .await?
        .ok_or_else(|| errors::not_found("id", "no such strategy"))
}

#[derive(InputObject, Default)]
pub struct StrategyFilter {
    /// Case-insensitive part of the name.
    pub name_contains: Option<String>,
}

#[derive(SimpleObject)]
pub struct CodeProblem {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

#[derive(SimpleObject)]
pub struct StrategyValidationResult {
    pub valid: bool,
    /// The `IStrategy` class, when there is exactly one.
    pub class_name: Option<String>,
    pub errors: Vec<CodeProblem>,
}

#[derive(Default)]
pub struct StrategyQuery;

#[Object]
impl StrategyQuery {
    /// Strategies, oldest first.
    async fn strategies(
        &self,
        ctx: &Context<'_>,
        filter: Option<StrategyFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Strategy>> {
        let filter = strategies::StrategyFilter {
            name_contains: filter.unwrap_or_default().name_contains,
        };
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let page = strategies::list(&ctx.api().pool, &filter, after.as_ref(), limit)
            .await
            .map_err(errors::page)?;
        Ok(connection(page, after.is_some(), Strategy::from))
    }

    async fn strategy(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Strategy>> {
        load(&ctx.api().pool, parse_id("id", &id)?).await
    }
}

#[derive(InputObject)]
pub struct CreateStrategyInput {
    pub name: String,
    #[graphql(default)]
    pub description: String,
    pub code: String,
}

#[derive(InputObject)]
pub struct UpdateStrategyInput {
    pub name: Option<String>,
    pub description: Option<String>,
    /// New code becomes a new version (unless it is the same as the current code).
    pub code: Option<String>,
}

/// Reserves `name` for strategy `id`, or CONFLICT on `name` when another strategy
/// has it. True when claimed now (rather than already held).
async fn claim_name(api: &ApiContext, name: &str, id: Uuid) -> Result<bool> {
    strategy_names::claim(&api.pool, &api.commands.strategies, name, id)
        .await
        .map_err(|e| match e {
            ClaimError::Taken => errors::error(
                "CONFLICT",
                format!("conflict name: a strategy named {name:?} already exists"),
                Some("name"),
            ),
            ClaimError::Database(e) => errors::database(e),
            ClaimError::Store(e) => errors::command(e),
        })
}

#[derive(Default)]
pub struct StrategyMutation;

#[Object]
impl StrategyMutation {
    #[graphql(complexity = "child_complexity + code_cost(&input.code)")]
    async fn create_strategy(
        &self,
        ctx: &Context<'_>,
        input: CreateStrategyInput,
    ) -> Result<Strategy> {
        let api = ctx.api();
        let id = Uuid::now_v7();
        // Bad input is reported before a taken name, as the aggregate would.
        EntityName::parse(&input.name).map_err(errors::domain)?;
        StrategyCode::parse(&input.code).map_err(errors::domain)?;
        let name = input.name.clone();
        claim_name(api, &name, id).await?;
        let create = StrategyCommand::CreateStrategy {
            strategy_id: id,
            name: input.name,
            description: input.description,
            code: input.code,
        };
        let result = api
            .commands
            .strategies
            .execute(&id, create, &ctx.metadata()?)
            .await;
        let at = match result {
            Ok(at) => at,
            Err(e) => {
                strategy_names::release(&api.pool, &name, id)
                    .await
                    .map_err(errors::database)?;
                return Err(errors::command(e));
            }
        };
        api.settle(at).await;
        load_existing(ctx, id).await
    }

    #[graphql(complexity = "child_complexity + input.code.as_deref().map_or(0, code_cost)")]
    async fn update_strategy(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateStrategyInput,
    ) -> Result<Strategy> {
        let id = parse_id("id", &id)?;
        let api = ctx.api();
        let renamed = match &input.name {
            Some(name) => {
                EntityName::parse(name).map_err(errors::domain)?;
                let before = load(&api.pool, id).await?.map(|s| s.name);
                let claimed = claim_name(api, name, id).await?;
                Some((name.clone(), before, claimed))
            }
            None => None,
        };
        let update = StrategyCommand::UpdateStrategy {
            name: input.name,
            description: input.description,
            code: input.code,
        };
        let result = api
            .commands
            .strategies
            .execute(&id, update, &ctx.metadata()?)
            .await;
        match (&result, renamed) {
            // Renamed: the old name is free now.
            (Ok(_), Some((name, Some(before), _))) if !before.eq_ignore_ascii_case(&name) => {
                strategy_names::release(&api.pool, &before, id)
                    .await
                    .map_err(errors::database)?;
            }
            // Refused: give back a name claimed for it.
            (Err(_), Some((name, _, true))) => {
                strategy_names::release(&api.pool, &name, id)
                    .await
                    .map_err(errors::database)?;
            }
            _ => {}
        }
        let at = result.map_err(errors::command)?;
        api.settle(at).await;
        load_existing(ctx, id).await
    }

    /// Deletes a strategy no bot uses.
    async fn delete_strategy(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        let api = ctx.api();
        let at = api
            .commands
            .strategies
            .execute(&id, StrategyCommand::DeleteStrategy, &ctx.metadata()?)
            .await
            .map_err(errors::command)?;
        strategy_names::release_all(&api.pool, id)
            .await
            .map_err(errors::database)?;
        api.settle(at).await;
        Ok(true)
    }

    /// Checks code without saving it: Python syntax, one `IStrategy` class, no
    /// forbidden calls. Every problem is listed with its line and column.
    /// Costs a complexity point per KiB of code, so aliases cannot multiply the parse.
    #[graphql(complexity = "child_complexity + code_cost(&code)")]
    async fn validate_strategy(&self, code: String) -> Result<StrategyValidationResult> {
        let analysis = analyze_off_workers(code).await?;
        Ok(StrategyValidationResult {
            valid: analysis.is_valid(),
            class_name: analysis.class_name,
            errors: analysis
                .problems
                .into_iter()
                .map(|p| CodeProblem {
                    line: p.line,
                    column: p.column,
                    message: p.message,
                })
                .collect(),
        })
    }
}

/// Parses at once, at most: the cores here.
static PARSES: Semaphore = Semaphore::const_new(2);

/// Analyzes `code` on the blocking pool, a bounded number at a time, so that a burst of
/// large validations waits its turn instead of stalling the async workers (an outside
/// probe blocked `/healthz` for 32 s with two requests of 1,000 aliases).
async fn analyze_off_workers(code: String) -> Result<StrategyAnalysis> {
    let _turn = PARSES
        .acquire()
        .await
        .map_err(|e| errors::internal("waiting to parse the code", e))?;
    tokio::task::spawn_blocking(move || analyze(&code))
        .await
        .map_err(|e| errors::internal("parsing the code", e))
}

/// A complexity point per KiB of strategy code an operation passes.
fn code_cost(code: &str) -> usize {
    code.len() / 1024
}
