//! Bots of the fleet simulator (`anytrade_exchange_sim::fleet`) recorded as running: their
//! aggregates exist (so the monitors can record health and trades on them) and their API
//! credentials are stored, but no runtime runs them. Shared by the fleet benchmark and
//! the monitor tests (included with `#[path]`).

use anytrade::crypto::Keyring;
use anytrade::store::{CommandMetadata, Commands};
use anytrade_aggregates::BotCommand;
use anytrade_aggregates::testing::create_dry_run_bot;
use anytrade_aggregates::values::BotId;
use sqlx::PgPool;
use uuid::Uuid;

/// Where the simulated bots live and what they are recorded with.
pub struct SimulatedBots<'a> {
    /// The simulator's base URL: bot `n` answers under `{base}/bots/{n}`.
    pub base: &'a str,
    /// The password every simulated bot accepts for user `anytrade`.
    pub password: &'a str,
    pub exchange: Uuid,
    pub strategy: Uuid,
}

impl SimulatedBots<'_> {
    /// Records bots `0..count` as `fleet-{n}`, running at their simulated APIs.
    pub async fn record(
        &self,
        commands: &Commands,
        pool: &PgPool,
        keys: &Keyring,
        count: usize,
    ) -> Vec<BotId> {
        let meta = CommandMetadata::issued_by("setup:fleet");
        let mut ids = Vec::with_capacity(count);
        for n in 0..count {
            let id = BotId::new();
            let runtime_id = format!("fleet-{n}");
            let steps = [
                create_dry_run_bot(
                    id,
                    format!("fleet-{n}"),
                    self.exchange,
                    self.strategy,
                    &["BTC/USDT"],
                ),
                BotCommand::ConfirmBotProvisioned {
                    runtime_id: runtime_id.clone(),
                },
                BotCommand::StartBot,
                BotCommand::ConfirmBotStarted {
                    runtime_id,
                    api_url: format!("{}/bots/{n}", self.base),
                },
            ];
            for step in steps {
                commands.bots.execute(&id, step, &meta).await.expect("bot");
            }
            anytrade::bot_credentials::save(pool, keys, id, "anytrade", self.password)
                .await
                .expect("credentials");
            ids.push(id);
        }
        ids
    }
}
