//! One command bus per aggregate type, sharing the pool, the log and the lookups.

use anytrade_aggregates::{Backtest, Bot, Exchange, Hyperopt, Services, Strategy, Trade};
use anytrade_projections::EventLog;
use sqlx::PgPool;

use super::CommandBus;

pub struct Commands {
    pub exchanges: CommandBus<Exchange>,
    pub strategies: CommandBus<Strategy>,
    pub bots: CommandBus<Bot>,
    pub backtests: CommandBus<Backtest>,
    pub hyperopts: CommandBus<Hyperopt>,
    pub trades: CommandBus<Trade>,
}

impl Commands {
    pub fn new(pool: &PgPool, log: &EventLog, lookup: Services) -> Self {
        Self {
            exchanges: CommandBus::new(pool.clone(), log.clone(), lookup.clone()),
            strategies: CommandBus::new(pool.clone(), log.clone(), lookup.clone()),
            bots: CommandBus::new(pool.clone(), log.clone(), lookup.clone()),
            backtests: CommandBus::new(pool.clone(), log.clone(), lookup.clone()),
            hyperopts: CommandBus::new(pool.clone(), log.clone(), lookup.clone()),
            trades: CommandBus::new(pool.clone(), log.clone(), lookup),
        }
    }
}
