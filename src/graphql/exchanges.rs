//! Exchanges: settings and credentials. Secret values go in through mutations, are
//! sealed before they reach a command, and never come out: the API shows each secret's
//! name, key id and when it was last set.

use anytrade_aggregates::values::{ExchangeName, SecretName};
use anytrade_aggregates::{DomainError, ExchangeCommand};
use anytrade_projections::exchanges::{self, ExchangeRow};
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::crypto::exchange_secret_context;
use crate::exchange_probe;

use super::bots::Bot;
use super::context::{ContextExt, execute, parse_id};
use super::errors;
use super::loaders::BotsByExchangeLoader;

/// Longest secret value accepted (API keys and private keys are far shorter).
const MAX_SECRET_LEN: usize = 16 * 1024;

#[derive(SimpleObject, Clone)]
pub struct ExchangeSecretInfo {
    pub name: String,
    /// Id of the key that sealed the current value.
    pub key_id: String,
    pub set_at: DateTime<Utc>,
}

#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Exchange {
    pub id: ID,
    /// binance, binanceus, coinbase, kraken, kucoin, bybit, okx, bitfinex, or sandbox
    /// (the exchange simulator `anytrade serve --sandbox` runs; test mode only).
    pub name: String,
    pub test_mode: bool,
    /// Non-secret freqtrade exchange settings, merged into each bot's config.
    pub config: Json<Value>,
    pub secrets: Vec<ExchangeSecretInfo>,
    /// Secrets this exchange needs for live trading that are not set yet.
    pub missing_secrets: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[ComplexObject]
impl Exchange {
    /// Bots trading on this exchange, oldest first.
    async fn bots(&self, ctx: &Context<'_>) -> Result<Vec<Bot>> {
        let Ok(id) = Uuid::parse_str(self.id.as_str()) else {
            return Ok(Vec::new());
        };
        let loader = ctx.data_unchecked::<DataLoader<BotsByExchangeLoader>>();
        Ok(loader
            .load_one(id)
            .await
            .map_err(|e| errors::internal("reading the read models", e))?
            .unwrap_or_default())
    }
}

impl From<ExchangeRow> for Exchange {
    fn from(row: ExchangeRow) -> Self {
        let secrets: Vec<ExchangeSecretInfo> = row
            .secrets
            .into_iter()
            .map(|s| ExchangeSecretInfo {
                name: s.name,
                key_id: s.key_id,
                set_at: s.set_at,
            })
            .collect();
        let missing_secrets = ExchangeName::parse(&row.name)
            .map(|name| {
                name.missing_secrets(secrets.iter().map(|s| s.name.as_str()))
                    .into_iter()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Self {
            id: ID(row.id.to_string()),
            name: row.name,
            test_mode: row.test_mode,
            config: Json(row.config),
            secrets,
            missing_secrets,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Exchanges by id, for [`super::loaders::ExchangeLoader`].
pub async fn load_many(
    pool: &sqlx::PgPool,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Exchange>, sqlx::Error> {
    let rows = exchanges::by_ids(pool, ids).await?;
    Ok(rows
        .into_iter()
        .map(|(id, row)| (id, Exchange::from(row)))
        .collect())
}

async fn load(ctx: &Context<'_>, id: Uuid) -> Result<Option<Exchange>> {
    let row = exchanges::get(&ctx.api().pool, id)
        .await
        .map_err(errors::database)?;
    Ok(row.map(Exchange::from))
}

async fn load_existing(ctx: &Context<'_>, id: Uuid) -> Result<Exchange> {
    load(ctx, id)
        .await?
        .ok_or_else(|| errors::not_found("id", "no such exchange"))
}

#[derive(Default)]
pub struct ExchangeQuery;

#[Object]
impl ExchangeQuery {
    async fn exchanges(&self, ctx: &Context<'_>) -> Result<Vec<Exchange>> {
        let rows = exchanges::all(&ctx.api().pool)
            .await
            .map_err(errors::database)?;
        Ok(rows.into_iter().map(Exchange::from).collect())
    }

    async fn exchange(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Exchange>> {
        load(ctx, parse_id("id", &id)?).await
    }
}

#[derive(InputObject)]
pub struct SecretInput {
    /// `api_key`, `api_secret`, `passphrase`, …
    pub name: String,
    pub value: String,
}

#[derive(InputObject)]
pub struct CreateExchangeInput {
    pub name: String,
    #[graphql(default = true)]
    pub test_mode: bool,
    pub config: Option<Json<Value>>,
    #[graphql(default)]
    pub secrets: Vec<SecretInput>,
}

#[derive(InputObject)]
pub struct UpdateExchangeInput {
    pub test_mode: Option<bool>,
    pub config: Option<Json<Value>>,
}

/// Checks a secret before anything is written, so a bad one changes nothing.
fn check_secret(index: Option<usize>, secret: &SecretInput) -> Result<()> {
    let at = |field: &str| match index {
        Some(i) => format!("secrets[{i}].{field}"),
        None => field.to_owned(),
    };
    SecretName::parse(&secret.name).map_err(|e| errors::domain(e.on_field(&at("name"))))?;
    if secret.value.is_empty() || secret.value.len() > MAX_SECRET_LEN {
        return Err(errors::validation(
            &at("value"),
            format!("must be 1 to {MAX_SECRET_LEN} bytes"),
        ));
    }
    Ok(())
}

/// What `testExchangeConnection` found.
#[derive(SimpleObject)]
pub struct ExchangeTestResult {
    /// Reachable, and the credentials it needs are there and readable (for an exchange
    /// in test mode, none are needed).
    pub ok: bool,
    pub reachable: bool,
    /// The public API address that was tried.
    pub endpoint: String,
    pub latency_ms: Option<f64>,
    pub message: String,
    pub missing_secrets: Vec<String>,
    /// Secrets that do not open with the configured keys (sealed under a key that is no
    /// longer configured, or damaged).
    pub unreadable_secrets: Vec<String>,
}

#[derive(Default)]
pub struct ExchangeMutation;

#[Object]
impl ExchangeMutation {
    async fn create_exchange(
        &self,
        ctx: &Context<'_>,
        input: CreateExchangeInput,
    ) -> Result<Exchange> {
        for (i, secret) in input.secrets.iter().enumerate() {
            check_secret(Some(i), secret)?;
        }
        let api = ctx.api();
        let meta = ctx.metadata()?;
        let id = Uuid::now_v7();
        let config = input
            .config
            .map(|c| c.0)
            .unwrap_or_else(|| Value::Object(Default::default()));
        let secrets = input
            .secrets
            .into_iter()
            .map(|secret| {
                let context = exchange_secret_context(id, &secret.name);
                let value = api.keyring.seal(&secret.value, &context);
                (secret.name, value)
            })
            .collect();
        let create = ExchangeCommand::CreateExchange {
            exchange_id: id,
            name: input.name,
            test_mode: input.test_mode,
            config,
            secrets,
        };
        let at = api
            .commands
            .exchanges
            .execute(&id, create, &meta)
            .await
            .map_err(errors::command)?;
        api.settle(at).await;
        load_existing(ctx, id).await
    }

    async fn update_exchange(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateExchangeInput,
    ) -> Result<Exchange> {
        let id = parse_id("id", &id)?;
        let api = ctx.api();
        let update = ExchangeCommand::UpdateExchange {
            test_mode: input.test_mode,
            config: input.config.map(|c| c.0),
        };
        execute(ctx, &api.commands.exchanges, &id, update).await?;
        load_existing(ctx, id).await
    }

    /// Deletes an exchange no bot uses.
    async fn delete_exchange(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        let api = ctx.api();
        execute(
            ctx,
            &api.commands.exchanges,
            &id,
            ExchangeCommand::DeleteExchange,
        )
        .await?;
        Ok(true)
    }

    /// Tries the exchange's public API and checks that the stored credentials are
    /// complete and open with the configured keys. Credentials are not sent anywhere.
    async fn test_exchange_connection(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<ExchangeTestResult> {
        let id = parse_id("id", &id)?;
        let api = ctx.api();
        let exchange = api
            .commands
            .exchanges
            .load_state(&id)
            .await
            .map_err(errors::command)?;
        let state = exchange
            .state()
            .filter(|s| !s.deleted)
            .ok_or_else(|| errors::not_found("id", "no such exchange"))?;
        let missing_secrets: Vec<String> = exchange
            .missing_secrets()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let unreadable_secrets: Vec<String> = state
            .secrets
            .iter()
            .filter(|(name, sealed)| {
                api.keyring
                    .open(sealed, &exchange_secret_context(id, name.as_str()))
                    .is_err()
            })
            .map(|(name, _)| name.to_string())
            .collect();
        // The sandbox's address in its config is the bots'; this service has its own.
        let endpoint = match (state.name, &api.sandbox_url) {
            (ExchangeName::Sandbox, Some(local)) => format!("{local}/api/v3/ping"),
            _ => exchange_probe::public_endpoint(state.name, &state.config.to_value()),
        };
        let reached = exchange_probe::reach(&api.http, &endpoint).await;
        let credentials_ready =
            unreadable_secrets.is_empty() && (state.test_mode || missing_secrets.is_empty());
        let message = match &reached {
            Ok(_) if credentials_ready => {
                "public API reachable; credentials complete and readable".to_owned()
            }
            Ok(_) => "public API reachable; credentials incomplete or unreadable".to_owned(),
            Err(why) => format!("public API not reachable: {why}"),
        };
        Ok(ExchangeTestResult {
            ok: reached.is_ok() && credentials_ready,
            reachable: reached.is_ok(),
            latency_ms: reached.as_ref().ok().map(|d| d.as_secs_f64() * 1000.0),
            endpoint,
            message,
            missing_secrets,
            unreadable_secrets,
        })
    }

    /// Sets a secret: adds it, or replaces (rotates) the value it had.
    async fn set_exchange_secret(
        &self,
        ctx: &Context<'_>,
        exchange_id: ID,
        name: String,
        value: String,
    ) -> Result<Exchange> {
        let secret = SecretInput { name, value };
        check_secret(None, &secret)?;
        let id = parse_id("exchangeId", &exchange_id)?;
        let api = ctx.api();
        let meta = ctx.metadata()?;
        let context = exchange_secret_context(id, &secret.name);
        let add = ExchangeCommand::AddExchangeSecret {
            name: secret.name.clone(),
            value: api.keyring.seal(&secret.value, &context),
        };
        let at = match api.commands.exchanges.execute(&id, add, &meta).await {
            Err(crate::store::CommandError::Domain(DomainError::Conflict { .. })) => {
                let rotate = ExchangeCommand::RotateExchangeSecret {
                    name: secret.name,
                    value: api.keyring.seal(&secret.value, &context),
                };
                api.commands.exchanges.execute(&id, rotate, &meta).await
            }
            other => other,
        }
        .map_err(|e| errors::command_on("exchangeId", e))?;
        api.settle(at).await;
        load_existing(ctx, id).await
    }

    async fn delete_exchange_secret(
        &self,
        ctx: &Context<'_>,
        exchange_id: ID,
        name: String,
    ) -> Result<Exchange> {
        let id = parse_id("exchangeId", &exchange_id)?;
        let api = ctx.api();
        let at = api
            .commands
            .exchanges
            .execute(
                &id,
                ExchangeCommand::RemoveExchangeSecret { name },
                &ctx.metadata()?,
            )
            .await
            .map_err(|e| errors::command_on("exchangeId", e))?;
        api.settle(at).await;
        load_existing(ctx, id).await
    }
}
