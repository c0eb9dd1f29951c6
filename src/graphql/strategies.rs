//! Strategies: freqtrade Python code with its version history. Every code change is a
//! new version; bots and jobs pin the version they run.

use std::collections::HashMap;
use std::sync::Arc;

use anytrade_aggregates::values::EntityName;
use anytrade_aggregates::{StrategyCode, StrategyCommand, analyze};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::bots::Bot;
use super::context::{ContextExt, parse_id};
use super::errors;
use super::loaders::BotsByStrategyLoader;
use super::pagination::{Cursor, Page, connection, contains_pattern, page_size};
use crate::strategy_names;

#[derive(SimpleObject, Clone, sqlx::FromRow)]
pub struct StrategyVersion {
    pub version: i32,
    pub sha256: String,
    /// The `IStrategy` class freqtrade loads.
    pub class_name: String,
    pub code: String,
    pub created_at: DateTime<Utc>,
}

#[derive(SimpleObject, Clone, sqlx::FromRow)]
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

/// Loads the version histories of many strategies in one query.
pub struct VersionsLoader(pub PgPool);

impl Loader<Uuid> for VersionsLoader {
    type Value = Vec<StrategyVersion>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        #[derive(sqlx::FromRow)]
        struct Row {
            strategy_id: Uuid,
            #[sqlx(flatten)]
            version: StrategyVersion,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT strategy_id, version, sha256, class_name, code, created_at
               FROM strategy_versions WHERE strategy_id = ANY($1) ORDER BY strategy_id, version",
        )
        .bind(keys)
        .fetch_all(&self.0)
        .await
        .map_err(Arc::new)?;
        let mut versions: HashMap<Uuid, Vec<StrategyVersion>> = HashMap::new();
        for row in rows {
            versions
                .entry(row.strategy_id)
                .or_default()
                .push(row.version);
        }
        Ok(versions)
    }
}

const SELECT: &str = "
SELECT s.id AS uuid, s.name, s.description, s.current_version AS version, s.class_name,
       s.sha256, COALESCE(v.code, '') AS code, s.created_at, s.updated_at
  FROM strategies s
  LEFT JOIN strategy_versions v ON v.strategy_id = s.id AND v.version = s.current_version";

/// Strategies by id, for [`super::loaders::StrategyLoader`].
pub async fn load_many(
    pool: &PgPool,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Strategy>, sqlx::Error> {
    let rows: Vec<Strategy> = sqlx::query_as(&format!("{SELECT} WHERE s.id = ANY($1)"))
        .bind(ids)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|s| (s.uuid, s)).collect())
}

pub async fn load(pool: &PgPool, id: Uuid) -> Result<Option<Strategy>> {
    sqlx::query_as(&format!("{SELECT} WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(errors::database)
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

fn push_filter(query: &mut QueryBuilder<'_, Postgres>, filter: &StrategyFilter) {
    query.push(" WHERE TRUE");
    if let Some(part) = &filter.name_contains {
        query
            .push(" AND s.name ILIKE ")
            .push_bind(contains_pattern(part));
    }
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
        let filter = filter.unwrap_or_default();
        let limit = page_size(first)?;
        let cursor = Cursor::decode(after.as_deref())?;
        let pool = &ctx.api().pool;

        let mut count = QueryBuilder::new("SELECT count(*) FROM strategies s");
        push_filter(&mut count, &filter);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(pool)
            .await
            .map_err(errors::database)?;

        let mut page = QueryBuilder::new(SELECT);
        push_filter(&mut page, &filter);
        if let Some(cursor) = &cursor {
            let key: DateTime<Utc> = cursor
                .key
                .parse()
                .map_err(|_| errors::validation("after", "not a cursor from this API"))?;
            page.push(" AND (s.created_at, s.id) > (")
                .push_bind(key)
                .push(", ")
                .push_bind(cursor.id)
                .push(")");
        }
        page.push(" ORDER BY s.created_at, s.id LIMIT ")
            .push_bind(limit + 1);
        let rows: Vec<Strategy> = page
            .build_query_as()
            .fetch_all(pool)
            .await
            .map_err(errors::database)?;
        Ok(connection(rows, limit, cursor.is_some(), total, |s| {
            Cursor {
                key: s.created_at.to_rfc3339(),
                id: s.uuid,
            }
        }))
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
async fn claim_name(pool: &PgPool, name: &str, id: Uuid) -> Result<bool> {
    strategy_names::reserve(pool, name, id)
        .await
        .map_err(|e| match e {
            Some(e) => errors::database(e),
            None => errors::error(
                "CONFLICT",
                format!("conflict name: a strategy named {name:?} already exists"),
                Some("name"),
            ),
        })
}

#[derive(Default)]
pub struct StrategyMutation;

#[Object]
impl StrategyMutation {
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
        claim_name(&api.pool, &name, id).await?;
        let create = StrategyCommand::CreateStrategy {
            strategy_id: id,
            name: input.name,
            description: input.description,
            code: input.code,
        };
        let result = api
            .commands
            .strategies
            .execute(&id.to_string(), create, &ctx.metadata()?)
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
                let claimed = claim_name(&api.pool, name, id).await?;
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
            .execute(&id.to_string(), update, &ctx.metadata()?)
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
            .execute(
                &id.to_string(),
                StrategyCommand::DeleteStrategy,
                &ctx.metadata()?,
            )
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
    async fn validate_strategy(&self, code: String) -> StrategyValidationResult {
        let analysis = analyze(&code);
        StrategyValidationResult {
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
        }
    }
}
