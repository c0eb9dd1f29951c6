//! Bots: one freqtrade bot each, with its settings, lifecycle status and where it runs.
//!
//! Mutations record what the user asks for as events; the runtime layer carries it out
//! and confirms each step. So a created bot reads CREATING until its runtime reports it
//! provisioned (then STOPPED), and a started bot reads STARTING until the runtime
//! reports it up (then RUNNING). Nothing here pretends a step happened.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use anytrade_aggregates as domain;
use anytrade_aggregates::BotCommand;
use anytrade_aggregates::values::BotId;
use anytrade_projections::bot_health::{self, BotHealth};
use anytrade_projections::bots::{self, BotRow};
use async_graphql::dataloader::DataLoader;
use async_graphql::{
    Context, Enum, ID, InputObject, InputValueError, InputValueResult, Json, Lookahead, Object,
    Result, Scalar, ScalarType, SimpleObject,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::context::{ContextExt, execute, parse_bot_id, parse_id};
use super::errors;
use super::exchanges::Exchange;
use super::loaders::{BotHealthLoader, ExchangeLoader, StrategyLoader};
use super::pagination::{Cursor, OrderDirection, Page, connection, decode_cursor, page_size};
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

    /// A deleted bot has no row, so its status is never shown; it reads as deleting.
    fn shown(status: domain::BotStatus) -> Self {
        match status {
            domain::BotStatus::Creating => Self::Creating,
            domain::BotStatus::Stopped => Self::Stopped,
            domain::BotStatus::Starting => Self::Starting,
            domain::BotStatus::Running => Self::Running,
            domain::BotStatus::Stopping => Self::Stopping,
            domain::BotStatus::Error => Self::Error,
            domain::BotStatus::Deleting | domain::BotStatus::Deleted => Self::Deleting,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "domain::values::BotMode")]
pub enum BotMode {
    /// Simulated trades against live market data.
    DryRun,
    /// Real orders with the exchange's credentials.
    Live,
}

/// Where a bot runs.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "domain::values::RuntimeKind")]
pub enum RuntimeType {
    Docker,
    Kubernetes,
    /// A child process of the service.
    Local,
}

/// What the user asked for while the bot was being created, carried out once it is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "domain::values::WantedState")]
pub enum WantedStatus {
    /// Start it.
    Running,
    /// Leave it stopped.
    Stopped,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "bot_health::HealthStatus")]
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

/// A bot as the `bots` read model shows it, with its exchange and strategy when the
/// page that holds it has read them already.
#[derive(Clone)]
pub struct Bot(pub BotRow, Owners);

impl Bot {
    pub fn new(row: BotRow) -> Self {
        Self(row, Owners::default())
    }
}

/// A page's exchanges and strategies, each read once for all its bots when the
/// selection asks for them (async-graphql's look-ahead): no DataLoader round (and its
/// batching delay) and no copy per bot. A bot outside a page reads them through the
/// DataLoaders.
#[derive(Clone, Default)]
struct Owners {
    exchanges: Option<Arc<HashMap<Uuid, Arc<Exchange>>>>,
    strategies: Option<Arc<HashMap<Uuid, Arc<Strategy>>>>,
}

impl Owners {
    /// Those of `rows` that `node` (the selection of a page's bot) asks for.
    async fn read(pool: &PgPool, rows: &[(BotRow, Cursor)], node: Lookahead<'_>) -> Result<Self> {
        let distinct = |id: fn(&BotRow) -> Uuid| {
            let mut ids: Vec<Uuid> = rows.iter().map(|(row, _)| id(row)).collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let (exchange_ids, strategy_ids) =
            (distinct(|r| r.exchange_id), distinct(|r| r.strategy_id));
        let (exchanges, strategies) = tokio::try_join!(
            shared(
                node.field("exchange").exists(),
                super::exchanges::load_many(pool, &exchange_ids)
            ),
            shared(
                node.field("strategy").exists(),
                super::strategies::load_many(pool, &strategy_ids)
            ),
        )
        .map_err(|e| errors::internal("reading the read models", e))?;
        Ok(Self {
            exchanges,
            strategies,
        })
    }
}

/// What `load` finds, each shared by every bot of the page; nothing (not even the
/// query) when the selection does not ask for it.
async fn shared<T>(
    wanted: bool,
    load: impl Future<Output = sqlx::Result<HashMap<Uuid, T>>>,
) -> sqlx::Result<Option<Arc<HashMap<Uuid, Arc<T>>>>> {
    if !wanted {
        return Ok(None);
    }
    let found = load.await?;
    Ok(Some(Arc::new(
        found.into_iter().map(|(id, v)| (id, Arc::new(v))).collect(),
    )))
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
            .load_one(self.0.id)
            .await
            .map_err(|e| errors::internal("reading the health checks", e))
    }
}

#[Object]
impl Bot {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn status(&self) -> BotStatus {
        BotStatus::shown(self.0.status)
    }

    async fn mode(&self) -> BotMode {
        self.0.mode.into()
    }

    /// Null: the service's default runtime (`ANYTRADE_RUNTIME`).
    async fn runtime(&self) -> Option<RuntimeType> {
        self.0.runtime.map(Into::into)
    }

    /// The container id, pod name or process id, once the runtime has provisioned it.
    async fn runtime_id(&self) -> Option<&str> {
        self.0.runtime_id.as_deref()
    }

    /// The bot's freqtrade REST API, once the runtime has reported it up.
    async fn api_url(&self) -> Option<&str> {
        self.0.api_url.as_deref()
    }

    async fn config(&self) -> Result<BotConfig> {
        let stored: StoredConfig =
            serde_json::from_value(self.0.config.clone()).map_err(|e| unexpected("config", e))?;
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
        let stored: StoredResources = serde_json::from_value(self.0.resources.clone())
            .map_err(|e| unexpected("resources", e))?;
        Ok(ResourceLimits {
            cpu: stored.cpu,
            memory: stored.memory,
        })
    }

    async fn freqtrade_version(&self) -> &str {
        &self.0.freqtrade_version
    }

    /// The version of its strategy the bot runs (pinned at creation or by `updateBot`).
    async fn strategy_version(&self) -> i32 {
        self.0.strategy_version
    }

    /// A start or stop asked for while the bot was CREATING, carried out once it is
    /// created; null when nothing is pending.
    async fn wanted_status(&self) -> Option<WantedStatus> {
        self.0.wanted.map(Into::into)
    }

    /// The last failure, while the status is ERROR (and kept until the next start).
    async fn error_message(&self) -> Option<&str> {
        self.0.error_message.as_deref()
    }

    async fn exchange(&self, ctx: &Context<'_>) -> Result<Option<Arc<Exchange>>> {
        let id = self.0.exchange_id;
        if let Some(read) = &self.1.exchanges {
            return Ok(read.get(&id).cloned());
        }
        ctx.data_unchecked::<DataLoader<ExchangeLoader>>()
            .load_one(id)
            .await
            .map(|found| found.map(Arc::new))
            .map_err(|e| errors::internal("reading the read models", e))
    }

    /// The strategy as it is now; `strategyVersion` tells which version the bot runs.
    async fn strategy(&self, ctx: &Context<'_>) -> Result<Option<Arc<Strategy>>> {
        let id = self.0.strategy_id;
        if let Some(read) = &self.1.strategies {
            return Ok(read.get(&id).cloned());
        }
        ctx.data_unchecked::<DataLoader<StrategyLoader>>()
            .load_one(id)
            .await
            .map(|found| found.map(Arc::new))
            .map_err(|e| errors::internal("reading the read models", e))
    }

    /// From the health monitor: HEALTHY when the bot answered within the last two
    /// minutes and is not failing its checks (`monitor.unhealthy_after` in a row),
    /// UNHEALTHY when it is or has not answered for longer, UNKNOWN before its first
    /// check (and for bots that do not run).
    async fn health_status(&self, ctx: &Context<'_>) -> Result<HealthStatus> {
        if !matches!(
            self.0.status,
            domain::BotStatus::Running | domain::BotStatus::Error
        ) {
            return Ok(HealthStatus::Unknown);
        }
        let health = self.health(ctx).await?;
        let unhealthy_after = ctx.api().unhealthy_after;
        Ok(bot_health::HealthStatus::judge(
            self.0.status,
            health.as_ref(),
            unhealthy_after,
            Utc::now(),
        )
        .into())
    }

    /// The last successful health check.
    async fn last_seen_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.health(ctx).await?.and_then(|h| h.last_seen_at))
    }

    /// Seconds since the runtime reported the bot up, while RUNNING; null otherwise.
    async fn uptime(&self) -> Option<i64> {
        if self.0.status != domain::BotStatus::Running {
            return None;
        }
        self.0
            .started_at
            .map(|started| (Utc::now() - started).num_seconds().max(0))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One bot, for queries and subscriptions.
pub(super) async fn load(pool: &PgPool, id: BotId) -> Result<Option<Bot>> {
    Ok(bots::get(pool, id)
        .await
        .map_err(errors::database)?
        .map(Bot::new))
}

async fn load_existing(ctx: &Context<'_>, id: BotId) -> Result<Bot> {
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

impl TryFrom<BotFilter> for bots::BotFilter {
    type Error = async_graphql::Error;

    fn try_from(filter: BotFilter) -> Result<Self> {
        Ok(Self {
            status: filter.status.map(BotStatus::domain),
            mode: filter.mode.map(Into::into),
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

impl From<BotOrder> for bots::BotOrder {
    fn from(order: BotOrder) -> Self {
        Self {
            field: match order.field {
                BotOrderField::Name => bots::BotOrderField::Name,
                BotOrderField::CreatedAt => bots::BotOrderField::CreatedAt,
                BotOrderField::Status => bots::BotOrderField::Status,
            },
            direction: order.direction.into(),
        }
    }
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
        let filter = bots::BotFilter::try_from(filter.unwrap_or_default())?;
        let order = bots::BotOrder::from(order_by.unwrap_or_default());
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let pool = &ctx.api().pool;
        let page = bots::list(pool, &filter, order, after.as_ref(), limit)
            .await
            .map_err(errors::page)?;
        let node = ctx.look_ahead().field("edges").field("node");
        let owners = Owners::read(pool, &page.rows, node).await?;
        Ok(connection(page, after.is_some(), |row| {
            Bot(row, owners.clone())
        }))
    }

    async fn bot(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Bot>> {
        load(&ctx.api().pool, parse_bot_id("id", &id)?).await
    }
}

/// How much a bot stakes per trade: a number greater than 0 (`50`, `0.05`; its text,
/// `"50"`, is taken too), or `"unlimited"` (freqtrade splits the balance). Checked when
/// the bot is created or updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakeAmount(String);

#[Scalar]
impl ScalarType for StakeAmount {
    fn parse(value: async_graphql::Value) -> InputValueResult<Self> {
        match value {
            // Rust writes floats out in full (0.00001, never 1e-5), as the domain reads them.
            async_graphql::Value::Number(n) => Ok(Self(match n.as_f64() {
                Some(amount) => amount.to_string(),
                None => n.to_string(),
            })),
            async_graphql::Value::String(text) => Ok(Self(text)),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> async_graphql::Value {
        async_graphql::Value::String(self.0.clone())
    }
}

/// A bot's freqtrade settings. A field left out keeps the value from the exchange's and
/// strategy's settings.
#[derive(InputObject, Default)]
pub struct BotConfigInput {
    /// 1 to 1000, or -1 for unlimited.
    pub max_open_trades: Option<i32>,
    /// An amount greater than 0 (`100`, `0.05`), or `"unlimited"`.
    pub stake_amount: Option<StakeAmount>,
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
            stake_amount: input.stake_amount.map(|s| s.0),
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

/// The runtime's name as commands take it.
fn runtime_name(runtime: RuntimeType) -> String {
    domain::values::RuntimeKind::from(runtime)
        .as_str()
        .to_owned()
}

#[derive(Default)]
pub struct BotMutation;

impl BotMutation {
    /// Runs `command` on bot `id`, waits for the read models and answers from them.
    async fn run(ctx: &Context<'_>, id: BotId, command: BotCommand) -> Result<Bot> {
        let api = ctx.api();
        execute(ctx, &api.commands.bots, &id, command).await?;
        load_existing(ctx, id).await
    }
}

#[Object]
impl BotMutation {
    /// Records a new bot (CREATING); the runtime provisions it, then it is STOPPED.
    async fn create_bot(&self, ctx: &Context<'_>, input: CreateBotInput) -> Result<Bot> {
        let exchange_id = parse_id("exchangeId", &input.exchange_id)?;
        let strategy_id = parse_id("strategyId", &input.strategy_id)?;
        let id = BotId::new();
        let create = BotCommand::CreateBot {
            bot_id: id,
            name: input.name,
            exchange_id,
            strategy_id,
            mode: domain::values::BotMode::from(input.mode)
                .as_str()
                .to_owned(),
            runtime: input.runtime.map(runtime_name),
            config: input.config.map(Into::into).unwrap_or_default(),
            resources: input.resources.map(Into::into).unwrap_or_default(),
            freqtrade_version: input.freqtrade_version,
        };
        Self::run(ctx, id, create).await
    }

    async fn update_bot(&self, ctx: &Context<'_>, id: ID, input: UpdateBotInput) -> Result<Bot> {
        let id = parse_bot_id("id", &id)?;
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
            runtime: input.runtime.map(runtime_name),
            freqtrade_version: input.freqtrade_version,
            strategy_version,
        };
        Self::run(ctx, id, update).await
    }

    /// Asks for the bot's removal (a running bot is stopped first). It reads DELETING
    /// until the runtime has removed it, then it is gone.
    async fn delete_bot(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_bot_id("id", &id)?;
        let api = ctx.api();
        execute(ctx, &api.commands.bots, &id, BotCommand::DeleteBot).await?;
        Ok(true)
    }

    /// From STOPPED or ERROR: the bot is STARTING until the runtime reports it up. While
    /// it is CREATING, the start is recorded (`wantedStatus` RUNNING) and carried out
    /// once it is created.
    async fn start_bot(&self, ctx: &Context<'_>, id: ID) -> Result<Bot> {
        Self::run(ctx, parse_bot_id("id", &id)?, BotCommand::StartBot).await
    }

    /// From RUNNING or STARTING: the bot is STOPPING until the runtime reports it down.
    /// While it is CREATING, a start asked for earlier is called off (`wantedStatus`
    /// STOPPED).
    async fn stop_bot(&self, ctx: &Context<'_>, id: ID) -> Result<Bot> {
        Self::run(ctx, parse_bot_id("id", &id)?, BotCommand::StopBot).await
    }

    /// From RUNNING: the bot is STARTING until the runtime reports it up again. While it
    /// is CREATING, as `startBot`.
    async fn restart_bot(&self, ctx: &Context<'_>, id: ID) -> Result<Bot> {
        Self::run(ctx, parse_bot_id("id", &id)?, BotCommand::RestartBot).await
    }
}
