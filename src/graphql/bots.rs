//! Bots: one freqtrade bot each, with its settings, lifecycle status and where it runs.
//!
//! Mutations record what the user asks for as events; the runtime layer carries it out
//! and confirms each step. So a created bot reads CREATING until its runtime reports it
//! provisioned (then STOPPED), and a started bot reads STARTING until the runtime
//! reports it up (then RUNNING). Nothing here pretends a step happened.

use std::collections::HashMap;

use anytrade_aggregates as domain;
use anytrade_aggregates::BotCommand;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::context::{ContextExt, execute, parse_id};
use super::errors;
use super::exchanges::Exchange;
use super::loaders::{BotHealth, BotHealthLoader, ExchangeLoader, StrategyLoader};
use super::pagination::{Cursor, OrderDirection, Page, connection, contains_pattern, page_size};
use super::strategies::Strategy;

/// Where a bot is in its life. Requests (start, stop, restart, delete) move it to a
/// transitional status; the runtime's confirmation moves it on.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum BotStatus {
    /// Created; the runtime is preparing its container, pod or process.
    Creating,
    Stopped,
    /// Asked to start (or restart); the runtime has not reported it up yet.
    Starting,
    Running,
    /// Asked to stop; the runtime has not reported it down yet.
    Stopping,
    /// Something failed; see `errorMessage`. It can be started, updated or deleted.
    Error,
    /// Asked to be deleted; it disappears once the runtime has removed it.
    Deleting,
}

impl BotStatus {
    /// In lifecycle order, which is also the order of `orderBy: { field: STATUS }`.
    const ALL: [Self; 7] = [
        Self::Creating,
        Self::Stopped,
        Self::Starting,
        Self::Running,
        Self::Stopping,
        Self::Error,
        Self::Deleting,
    ];

    fn domain(self) -> domain::BotStatus {
        match self {
            Self::Creating => domain::BotStatus::Creating,
            Self::Stopped => domain::BotStatus::Stopped,
            Self::Starting => domain::BotStatus::Starting,
            Self::Running => domain::BotStatus::Running,
            Self::Stopping => domain::BotStatus::Stopping,
            Self::Error => domain::BotStatus::Error,
            Self::Deleting => domain::BotStatus::Deleting,
        }
    }

    /// The name the read model stores.
    fn as_db(self) -> &'static str {
        self.domain().as_str()
    }

    fn from_db(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_db() == text)
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum BotMode {
    /// Simulated trades against live market data.
    DryRun,
    /// Real orders with the exchange's credentials.
    Live,
}

impl BotMode {
    fn as_db(self) -> &'static str {
        match self {
            Self::DryRun => domain::values::BotMode::DryRun.as_str(),
            Self::Live => domain::values::BotMode::Live.as_str(),
        }
    }

    fn from_db(text: &str) -> Option<Self> {
        [Self::DryRun, Self::Live]
            .into_iter()
            .find(|m| m.as_db() == text)
    }
}

/// Where a bot runs.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum RuntimeType {
    Docker,
    Kubernetes,
    /// A child process of the service.
    Local,
}

impl RuntimeType {
    fn as_db(self) -> &'static str {
        use domain::values::RuntimeKind;
        match self {
            Self::Docker => RuntimeKind::Docker.as_str(),
            Self::Kubernetes => RuntimeKind::Kubernetes.as_str(),
            Self::Local => RuntimeKind::Local.as_str(),
        }
    }

    fn from_db(text: &str) -> Option<Self> {
        [Self::Docker, Self::Kubernetes, Self::Local]
            .into_iter()
            .find(|r| r.as_db() == text)
    }
}

/// Failed checks in a row that make a bot UNHEALTHY (the health monitor's default).
const UNHEALTHY_AFTER: i32 = 3;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum HealthStatus {
    /// Answered its last health check recently.
    Healthy,
    /// Missed its recent health checks.
    Unhealthy,
    /// No health check result to judge by.
    Unknown,
}

/// A bot's freqtrade settings on top of its exchange's and strategy's. A null field
/// keeps the value from those layers.
#[derive(SimpleObject)]
pub struct BotConfig {
    /// 1 to 1000, or -1 for unlimited.
    pub max_open_trades: Option<i64>,
    /// `"unlimited"` or a decimal number such as `"100"` or `"0.05"`.
    pub stake_amount: Option<String>,
    pub pairs: Option<Vec<String>>,
    pub timeframe: Option<String>,
    /// Further freqtrade settings, merged last.
    pub extra: Json<Value>,
}

/// CPU and memory limits in canonical Kubernetes spelling (`"500m"`, `"2"`, `"512Mi"`);
/// null leaves the runtime's default.
#[derive(SimpleObject)]
pub struct ResourceLimits {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

/// The `config` column as the domain's `BotConfig` serializes it; read leniently so a
/// row never fails to show.
#[derive(Deserialize)]
struct StoredConfig {
    max_open_trades: Option<i64>,
    /// A number, or the string `"unlimited"`.
    stake_amount: Option<Value>,
    pairs: Option<Vec<String>>,
    timeframe: Option<String>,
    #[serde(default)]
    extra: Map<String, Value>,
}

/// The `resources` column: canonical strings, as `ResourceLimits` serializes them.
#[derive(Deserialize)]
struct StoredResources {
    cpu: Option<String>,
    memory: Option<String>,
}

/// A row of the `bots` read model.
#[derive(Clone, sqlx::FromRow)]
pub struct Bot {
    id: Uuid,
    name: String,
    exchange_id: Uuid,
    strategy_id: Uuid,
    strategy_version: i32,
    status: String,
    mode: String,
    runtime: Option<String>,
    runtime_id: Option<String>,
    api_url: Option<String>,
    config: Value,
    resources: Value,
    freqtrade_version: String,
    error_message: Option<String>,
    started_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn unexpected(column: &str, value: impl std::fmt::Display) -> async_graphql::Error {
    errors::internal(
        "reading the read models",
        format!("bots.{column} holds an unexpected value: {value}"),
    )
}

impl Bot {
    async fn health(&self, ctx: &Context<'_>) -> Result<Option<BotHealth>> {
        ctx.data_unchecked::<DataLoader<BotHealthLoader>>()
            .load_one(self.id)
            .await
            .map_err(|e| errors::internal("reading the health checks", e))
    }
}

#[Object]
impl Bot {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.name
    }

    async fn status(&self) -> Result<BotStatus> {
        BotStatus::from_db(&self.status).ok_or_else(|| unexpected("status", &self.status))
    }

    async fn mode(&self) -> Result<BotMode> {
        BotMode::from_db(&self.mode).ok_or_else(|| unexpected("mode", &self.mode))
    }

    /// Null: the service's default runtime (`ANYTRADE_RUNTIME`).
    async fn runtime(&self) -> Result<Option<RuntimeType>> {
        self.runtime
            .as_deref()
            .map(|r| RuntimeType::from_db(r).ok_or_else(|| unexpected("runtime", r)))
            .transpose()
    }

    /// The container id, pod name or process id, once the runtime has provisioned it.
    async fn runtime_id(&self) -> Option<&str> {
        self.runtime_id.as_deref()
    }

    /// The bot's freqtrade REST API, once the runtime has reported it up.
    async fn api_url(&self) -> Option<&str> {
        self.api_url.as_deref()
    }

    async fn config(&self) -> Result<BotConfig> {
        let stored: StoredConfig =
            serde_json::from_value(self.config.clone()).map_err(|e| unexpected("config", e))?;
        let stake_amount = match stored.stake_amount {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text),
            Some(Value::Number(n)) => Some(match n.as_f64() {
                Some(amount) => amount.to_string(),
                None => n.to_string(),
            }),
            Some(other) => return Err(unexpected("config.stake_amount", other)),
        };
        Ok(BotConfig {
            max_open_trades: stored.max_open_trades,
            stake_amount,
            pairs: stored.pairs,
            timeframe: stored.timeframe,
            extra: Json(Value::Object(stored.extra)),
        })
    }

    async fn resources(&self) -> Result<ResourceLimits> {
        let stored: StoredResources = serde_json::from_value(self.resources.clone())
            .map_err(|e| unexpected("resources", e))?;
        Ok(ResourceLimits {
            cpu: stored.cpu,
            memory: stored.memory,
        })
    }

    async fn freqtrade_version(&self) -> &str {
        &self.freqtrade_version
    }

    /// The version of its strategy the bot runs (pinned at creation or by `updateBot`).
    async fn strategy_version(&self) -> i32 {
        self.strategy_version
    }

    /// The last failure, while the status is ERROR (and kept until the next start).
    async fn error_message(&self) -> Option<&str> {
        self.error_message.as_deref()
    }

    async fn exchange(&self, ctx: &Context<'_>) -> Result<Option<Exchange>> {
        ctx.data_unchecked::<DataLoader<ExchangeLoader>>()
            .load_one(self.exchange_id)
            .await
            .map_err(|e| errors::internal("reading the read models", e))
    }

    /// The strategy as it is now; `strategyVersion` tells which version the bot runs.
    async fn strategy(&self, ctx: &Context<'_>) -> Result<Option<Strategy>> {
        ctx.data_unchecked::<DataLoader<StrategyLoader>>()
            .load_one(self.strategy_id)
            .await
            .map_err(|e| errors::internal("reading the read models", e))
    }

    /// From the health monitor: HEALTHY when the bot answered within the last two
    /// minutes and is not failing its checks, UNHEALTHY when it is or has not answered
    /// for longer, UNKNOWN before its first check (and for bots that do not run).
    async fn health_status(&self, ctx: &Context<'_>) -> Result<HealthStatus> {
        let status = BotStatus::from_db(&self.status);
        if !matches!(status, Some(BotStatus::Running | BotStatus::Error)) {
            return Ok(HealthStatus::Unknown);
        }
        Ok(match self.health(ctx).await? {
            None => HealthStatus::Unknown,
            Some(health) if health.consecutive_failures >= UNHEALTHY_AFTER => {
                HealthStatus::Unhealthy
            }
            Some(health) => match health.last_seen_at {
                Some(seen) if Utc::now() - seen <= chrono::Duration::minutes(2) => {
                    HealthStatus::Healthy
                }
                Some(_) => HealthStatus::Unhealthy,
                None => HealthStatus::Unknown,
            },
        })
    }

    /// The last successful health check.
    async fn last_seen_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.health(ctx).await?.and_then(|h| h.last_seen_at))
    }

    /// Seconds since the runtime reported the bot up, while RUNNING; null otherwise.
    async fn uptime(&self) -> Option<i64> {
        if BotStatus::from_db(&self.status) != Some(BotStatus::Running) {
            return None;
        }
        self.started_at
            .map(|started| (Utc::now() - started).num_seconds().max(0))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

const SELECT: &str = "
SELECT b.id, b.name, b.exchange_id, b.strategy_id, b.strategy_version, b.status, b.mode,
       b.runtime, b.runtime_id, b.api_url, b.config, b.resources, b.freqtrade_version,
       b.error_message, b.started_at, b.created_at, b.updated_at
  FROM bots b";

/// What bots belong to, for the DataLoaders in [`super::loaders`].
#[derive(Clone, Copy)]
pub enum Owner {
    Exchange,
    Strategy,
}

/// The bots of many exchanges or strategies in one query, each list oldest first.
pub async fn load_by(
    pool: &PgPool,
    owner: Owner,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Bot>>, sqlx::Error> {
    let column = match owner {
        Owner::Exchange => "exchange_id",
        Owner::Strategy => "strategy_id",
    };
    let rows: Vec<Bot> = sqlx::query_as(&format!(
        "{SELECT} WHERE b.{column} = ANY($1) ORDER BY b.created_at, b.id"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await?;
    let mut bots: HashMap<Uuid, Vec<Bot>> = HashMap::new();
    for bot in rows {
        let key = match owner {
            Owner::Exchange => bot.exchange_id,
            Owner::Strategy => bot.strategy_id,
        };
        bots.entry(key).or_default().push(bot);
    }
    Ok(bots)
}

pub(super) async fn load(pool: &PgPool, id: Uuid) -> Result<Option<Bot>> {
    sqlx::query_as(&format!("{SELECT} WHERE b.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(errors::database)
}

async fn load_existing(ctx: &Context<'_>, id: Uuid) -> Result<Bot> {
    load(&ctx.api().pool, id)
        .await?
        .ok_or_else(|| errors::not_found("id", "no such bot"))
}

#[derive(InputObject, Default)]
pub struct BotFilter {
    pub status: Option<BotStatus>,
    pub mode: Option<BotMode>,
    pub exchange_id: Option<ID>,
    pub strategy_id: Option<ID>,
    /// Case-insensitive part of the name.
    pub name_contains: Option<String>,
}

/// [`BotFilter`] with its ids parsed.
struct Filter {
    status: Option<BotStatus>,
    mode: Option<BotMode>,
    exchange_id: Option<Uuid>,
    strategy_id: Option<Uuid>,
    name_contains: Option<String>,
}

impl TryFrom<BotFilter> for Filter {
    type Error = async_graphql::Error;

    fn try_from(filter: BotFilter) -> Result<Self> {
        Ok(Self {
            status: filter.status,
            mode: filter.mode,
            exchange_id: filter
                .exchange_id
                .as_ref()
                .map(|id| parse_id("filter.exchangeId", id))
                .transpose()?,
            strategy_id: filter
                .strategy_id
                .as_ref()
                .map(|id| parse_id("filter.strategyId", id))
                .transpose()?,
            name_contains: filter.name_contains,
        })
    }
}

fn push_filter(query: &mut QueryBuilder<'_, Postgres>, filter: &Filter) {
    query.push(" WHERE TRUE");
    if let Some(status) = filter.status {
        query.push(" AND b.status = ").push_bind(status.as_db());
    }
    if let Some(mode) = filter.mode {
        query.push(" AND b.mode = ").push_bind(mode.as_db());
    }
    if let Some(id) = filter.exchange_id {
        query.push(" AND b.exchange_id = ").push_bind(id);
    }
    if let Some(id) = filter.strategy_id {
        query.push(" AND b.strategy_id = ").push_bind(id);
    }
    if let Some(part) = &filter.name_contains {
        query
            .push(" AND b.name ILIKE ")
            .push_bind(contains_pattern(part));
    }
}

#[derive(Enum, Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum BotOrderField {
    Name,
    #[default]
    CreatedAt,
    /// Lifecycle order: CREATING, STOPPED, STARTING, RUNNING, STOPPING, ERROR, DELETING.
    Status,
}

/// How to sort a list; ties are broken by id, in the same direction.
#[derive(InputObject, Default)]
pub struct BotOrder {
    #[graphql(default)]
    pub field: BotOrderField,
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// Keyset pagination over one sort field: the SQL sort key, its value in a cursor, and
/// the cursor's tag, so a cursor from one ordering is refused by another.
impl BotOrder {
    /// `field:direction:`, the start of every cursor key this ordering issues.
    fn tag(&self) -> String {
        let field = match self.field {
            BotOrderField::Name => "name",
            BotOrderField::CreatedAt => "created_at",
            BotOrderField::Status => "status",
        };
        let direction = match self.direction {
            OrderDirection::Asc => "asc",
            OrderDirection::Desc => "desc",
        };
        format!("{field}:{direction}:")
    }

    fn sql_direction(&self) -> &'static str {
        match self.direction {
            OrderDirection::Asc => "ASC",
            OrderDirection::Desc => "DESC",
        }
    }

    /// The SQL expression rows are sorted by.
    fn sort_key(&self) -> String {
        match self.field {
            BotOrderField::Name => "b.name".to_owned(),
            BotOrderField::CreatedAt => "b.created_at".to_owned(),
            BotOrderField::Status => {
                let names: Vec<String> = BotStatus::ALL
                    .iter()
                    .map(|s| format!("'{}'", s.as_db()))
                    .collect();
                format!(
                    "COALESCE(array_position(ARRAY[{}], b.status), 0)",
                    names.join(", ")
                )
            }
        }
    }

    /// The cursor of `bot` in this ordering.
    fn cursor(&self, bot: &Bot) -> Cursor {
        let value = match self.field {
            BotOrderField::Name => bot.name.clone(),
            BotOrderField::CreatedAt => bot.created_at.to_rfc3339(),
            BotOrderField::Status => status_rank(&bot.status).to_string(),
        };
        Cursor {
            key: format!("{}{value}", self.tag()),
            id: bot.id,
        }
    }

    /// Restricts `query` to the rows strictly after `cursor`.
    fn push_after(&self, query: &mut QueryBuilder<'_, Postgres>, cursor: &Cursor) -> Result<()> {
        let refused = || errors::validation("after", "not a cursor from this API");
        let value = cursor.key.strip_prefix(&self.tag()).ok_or_else(|| {
            errors::validation(
                "after",
                "the cursor comes from another ordering; start again without `after`",
            )
        })?;
        let comparison = match self.direction {
            OrderDirection::Asc => ">",
            OrderDirection::Desc => "<",
        };
        query.push(format!(" AND ({}, b.id) {comparison} (", self.sort_key()));
        match self.field {
            BotOrderField::Name => query.push_bind(value.to_owned()),
            BotOrderField::CreatedAt => {
                let at: DateTime<Utc> = value.parse().map_err(|_| refused())?;
                query.push_bind(at)
            }
            BotOrderField::Status => {
                let rank: i32 = value.parse().map_err(|_| refused())?;
                query.push_bind(rank)
            }
        };
        query.push(", ").push_bind(cursor.id).push(")");
        Ok(())
    }

    fn push_order_by(&self, query: &mut QueryBuilder<'_, Postgres>) {
        let direction = self.sql_direction();
        query.push(format!(
            " ORDER BY {} {direction}, b.id {direction}",
            self.sort_key()
        ));
    }
}

/// A status's place in [`BotStatus::ALL`], 1-based like SQL's `array_position`; 0 for
/// an unknown status (as the SQL sort key's `COALESCE`).
fn status_rank(status: &str) -> i32 {
    BotStatus::ALL
        .iter()
        .position(|s| s.as_db() == status)
        .and_then(|i| i32::try_from(i + 1).ok())
        .unwrap_or(0)
}

#[derive(Default)]
pub struct BotQuery;

#[Object]
impl BotQuery {
    /// Bots, oldest first unless `orderBy` says otherwise.
    async fn bots(
        &self,
        ctx: &Context<'_>,
        filter: Option<BotFilter>,
        order_by: Option<BotOrder>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Bot>> {
        let filter = Filter::try_from(filter.unwrap_or_default())?;
        let order = order_by.unwrap_or_default();
        let limit = page_size(first)?;
        let cursor = Cursor::decode(after.as_deref())?;
        let pool = &ctx.api().pool;

        let mut page = QueryBuilder::new(SELECT);
        push_filter(&mut page, &filter);
        if let Some(cursor) = &cursor {
            order.push_after(&mut page, cursor)?;
        }
        order.push_order_by(&mut page);
        page.push(" LIMIT ").push_bind(limit + 1);

        let mut count = QueryBuilder::new("SELECT count(*) FROM bots b");
        push_filter(&mut count, &filter);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(pool)
            .await
            .map_err(errors::database)?;

        let rows: Vec<Bot> = page
            .build_query_as()
            .fetch_all(pool)
            .await
            .map_err(errors::database)?;
        Ok(connection(rows, limit, cursor.is_some(), total, |bot| {
            order.cursor(bot)
        }))
    }

    async fn bot(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Bot>> {
        load(&ctx.api().pool, parse_id("id", &id)?).await
    }
}

/// A bot's freqtrade settings. A field left out keeps the value from the exchange's and
/// strategy's settings.
#[derive(InputObject, Default)]
pub struct BotConfigInput {
    /// 1 to 1000, or -1 for unlimited.
    pub max_open_trades: Option<i32>,
    /// `"unlimited"` or a decimal number greater than 0, such as `"100"` or `"0.05"`
    /// (text, so that freqtrade's `"unlimited"` can be expressed).
    pub stake_amount: Option<String>,
    /// Trading pairs such as `"BTC/USDT"`, without repeats.
    pub pairs: Option<Vec<String>>,
    /// A candle length freqtrade knows: `1m`, `5m`, `1h`, `1d`, …
    pub timeframe: Option<String>,
    /// Redundant with the mode; when given it must agree with it.
    pub dry_run: Option<bool>,
    /// Further freqtrade settings (a JSON object), merged last. No credentials, and none
    /// of the keys AnyTrade sets itself (`dry_run`, `max_open_trades`, `stake_amount`,
    /// `timeframe`, `strategy`, `api_server`, `exchange.name`).
    pub extra: Option<Json<Value>>,
}

impl From<BotConfigInput> for domain::BotConfigInput {
    fn from(input: BotConfigInput) -> Self {
        Self {
            max_open_trades: input.max_open_trades.map(i64::from),
            stake_amount: input.stake_amount,
            pairs: input.pairs,
            timeframe: input.timeframe,
            dry_run: input.dry_run,
            extra: input.extra.map(|e| e.0),
        }
    }
}

/// CPU like `"0.5"` or `"500m"`, memory like `"512Mi"` or `"2Gi"`; a limit left out
/// keeps the runtime's default.
#[derive(InputObject, Default)]
pub struct ResourcesInput {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

impl From<ResourcesInput> for domain::ResourcesInput {
    fn from(input: ResourcesInput) -> Self {
        Self {
            cpu: input.cpu,
            memory: input.memory,
        }
    }
}

#[derive(InputObject)]
pub struct CreateBotInput {
    pub name: String,
    pub exchange_id: ID,
    /// The strategy's current version is pinned.
    pub strategy_id: ID,
    /// LIVE needs an exchange with test mode off.
    pub mode: BotMode,
    /// Null: the service's default runtime.
    pub runtime: Option<RuntimeType>,
    pub config: Option<BotConfigInput>,
    pub resources: Option<ResourcesInput>,
    /// A freqtrade release such as `2026.9`; by default the one AnyTrade is tested with.
    pub freqtrade_version: Option<String>,
}

/// Only while the bot is STOPPED or in ERROR. Fields left out stay; a given `config` or
/// `resources` replaces the whole previous one.
#[derive(InputObject, Default)]
pub struct UpdateBotInput {
    pub name: Option<String>,
    pub config: Option<BotConfigInput>,
    pub resources: Option<ResourcesInput>,
    pub runtime: Option<RuntimeType>,
    pub freqtrade_version: Option<String>,
    /// Pins the bot to another existing version of its strategy.
    pub strategy_version: Option<i32>,
}

#[derive(Default)]
pub struct BotMutation;

impl BotMutation {
    /// Runs `command` on bot `id`, waits for the read models and answers from them.
    async fn run(ctx: &Context<'_>, id: Uuid, command: BotCommand) -> Result<Bot> {
        let api = ctx.api();
        execute(ctx, &api.commands.bots, &id.to_string(), command).await?;
        load_existing(ctx, id).await
    }
}

#[Object]
impl BotMutation {
    /// Records a new bot (CREATING); the runtime provisions it, then it is STOPPED.
    async fn create_bot(&self, ctx: &Context<'_>, input: CreateBotInput) -> Result<Bot> {
        let exchange_id = parse_id("exchangeId", &input.exchange_id)?;
        let strategy_id = parse_id("strategyId", &input.strategy_id)?;
        let id = Uuid::now_v7();
        let create = BotCommand::CreateBot {
            bot_id: id,
            name: input.name,
            exchange_id,
            strategy_id,
            mode: input.mode.as_db().to_owned(),
            runtime: input.runtime.map(|r| r.as_db().to_owned()),
            config: input.config.map(Into::into).unwrap_or_default(),
            resources: input.resources.map(Into::into).unwrap_or_default(),
            freqtrade_version: input.freqtrade_version,
        };
        Self::run(ctx, id, create).await
    }

    async fn update_bot(&self, ctx: &Context<'_>, id: ID, input: UpdateBotInput) -> Result<Bot> {
        let id = parse_id("id", &id)?;
        let strategy_version = input
            .strategy_version
            .map(|v| {
                u32::try_from(v).map_err(|_| {
                    errors::validation("strategyVersion", format!("must be 1 or more, got {v}"))
                })
            })
            .transpose()?;
        let update = BotCommand::UpdateBot {
            name: input.name,
            config: input.config.map(Into::into),
            resources: input.resources.map(Into::into),
            runtime: input.runtime.map(|r| r.as_db().to_owned()),
            freqtrade_version: input.freqtrade_version,
            strategy_version,
        };
        Self::run(ctx, id, update).await
    }

    /// Asks for the bot's removal (a running bot is stopped first). It reads DELETING
    /// until the runtime has removed it, then it is gone.
    async fn delete_bot(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        let api = ctx.api();
        execute(
            ctx,
            &api.commands.bots,
            &id.to_string(),
            BotCommand::DeleteBot,
        )
        .await?;
        Ok(true)
    }

    /// From STOPPED or ERROR: the bot is STARTING until the runtime reports it up.
    async fn start_bot(&self, ctx: &Context<'_>, id: ID) -> Result<Bot> {
        Self::run(ctx, parse_id("id", &id)?, BotCommand::StartBot).await
    }

    /// From RUNNING or STARTING: the bot is STOPPING until the runtime reports it down.
    async fn stop_bot(&self, ctx: &Context<'_>, id: ID) -> Result<Bot> {
        Self::run(ctx, parse_id("id", &id)?, BotCommand::StopBot).await
    }

    /// From RUNNING: the bot is STARTING until the runtime reports it up again.
    async fn restart_bot(&self, ctx: &Context<'_>, id: ID) -> Result<Bot> {
        Self::run(ctx, parse_id("id", &id)?, BotCommand::RestartBot).await
    }
}
