//! The trade sync (README, "Trades"): reads each running bot's trades from
//! freqtrade every interval, and at once when `syncTrades` asks; carries out
//! `closeTrade` with a market `/forceexit`.
//!
//! A trade's opening and its closing are each recorded once, as events on the Trade
//! aggregate (keyed by bot and freqtrade trade id, so a re-sync records nothing new).
//! Open trades' current rate and profit change every poll: they go to `trade_marks`,
//! not the event log. Closed trades come from a full, id-keyed scan ([`trade_scan`]),
//! done when something may have closed: the first sync after start, a known open trade
//! gone from `/status`, a changed `total_trades`, and every tenth sync regardless.
//! Each sync ends by reading the bot's own profit summary (`/profit`) into
//! `bot_profit`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anytrade_aggregates::values::BotId;
use anytrade_aggregates::{BotEvent, TradeCommand, trade_aggregate_id};
use anytrade_projections::trades::{
    self,
    marks::{self, TradeMark},
};
use anytrade_projections::{Event, bots};
use futures::StreamExt;
use sqlx::PgPool;
use tokio::sync::watch;

use super::backoff::Backoff;
use super::clients::{BotClients, ClientError};
use super::in_flight::InFlight;
use super::profit_snapshot;
use super::schedule::due_now;
use super::trade_scan::{closed_trades, closing, opening};
use crate::freqtrade::client::{FreqtradeClient, FreqtradeError};
use crate::freqtrade::models::{ForceExit, OrderType, Trade};
use crate::hub::{FeedEvent, Hub};
use crate::metrics::PollOutcome;
use crate::store::{CommandError, CommandMetadata, Commands};

const ACTOR: &str = "system:trade-sync";
/// Syncs after which closed trades are scanned even when nothing hints at a change.
const FULL_SCAN_EVERY: u32 = 10;

/// What the last sync of a bot saw.
#[derive(Default)]
struct Seen {
    open: HashSet<i64>,
    closed_total: u64,
    syncs_since_scan: u32,
}

#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Freqtrade(#[from] FreqtradeError),
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("cannot read or write trades: {0}")]
    Database(#[from] sqlx::Error),
}

impl SyncError {
    /// What the bot's API answered, when the failure is its answer.
    fn freqtrade(&self) -> Option<&FreqtradeError> {
        match self {
            SyncError::Client(ClientError::Freqtrade(e)) | SyncError::Freqtrade(e) => Some(e),
            _ => None,
        }
    }

    fn rate_limited(&self) -> bool {
        matches!(self.freqtrade(), Some(FreqtradeError::RateLimited { .. }))
    }
}

pub struct TradeSync {
    pool: PgPool,
    commands: Arc<Commands>,
    clients: Arc<BotClients>,
    interval: Duration,
    concurrency: usize,
    in_flight: InFlight,
    seen: Mutex<HashMap<BotId, Seen>>,
    /// Bots that answered 429 or keep failing are skipped for a while.
    backoff: Backoff,
}

impl TradeSync {
    pub fn new(
        pool: PgPool,
        commands: Arc<Commands>,
        clients: Arc<BotClients>,
        interval: Duration,
        concurrency: usize,
    ) -> Arc<Self> {
        Arc::new(Self {
            pool,
            commands,
            clients,
            interval,
            concurrency,
            in_flight: InFlight::default(),
            seen: Mutex::default(),
            backoff: Backoff::default(),
        })
    }

    /// Syncs each running bot once per interval, and on request, until `stop`.
    pub fn spawn(
        self: Arc<Self>,
        hub: Hub,
        mut stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut requests = Box::pin(hub.events(None));
            let mut ticks = tokio::time::interval(Duration::from_secs(1));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = ticks.tick() => self.sync_due().await,
                    Some(event) = requests.next() => self.on_event(&event),
                    _ = async { drop(stop.wait_for(|stop| *stop).await) } => return,
                }
            }
        })
    }

    fn on_event(self: &Arc<Self>, event: &FeedEvent) {
        let Some(typed) = &event.typed else { return };
        let close = match &typed.event {
            Event::Bot(BotEvent::TradeSyncRequested) => None,
            Event::Bot(BotEvent::TradeCloseRequested { trade_id }) => Some(*trade_id),
            _ => return,
        };
        let bot = BotId::from(typed.aggregate_id);
        let this = self.clone();
        tokio::spawn(async move { this.on_request(bot, close).await });
    }

    async fn on_request(&self, bot: BotId, close: Option<i64>) {
        let api_url = match bots::running_api_url(&self.pool, bot).await {
            Ok(url) => url,
            Err(e) => {
                tracing::warn!(%bot, error = %e, "trade sync cannot read the bot");
                return;
            }
        };
        let Some(api_url) = api_url else { return };
        if let Some(trade) = close {
            let exited = async {
                let client = self.clients.get(bot, &api_url).await?;
                // A market order: closing a trade means now, not at a limit price the
                // market may never come back to.
                let exit = ForceExit {
                    order_type: Some(OrderType::Market),
                    ..ForceExit::trade(trade)
                };
                client.force_exit(&exit).await?;
                Ok::<_, SyncError>(())
            };
            if let Err(e) = exited.await {
                tracing::warn!(%bot, trade, error = %e, "closing a trade failed");
            }
        }
        self.sync(bot, &api_url).await;
    }

    async fn sync_due(self: &Arc<Self>) {
        let due = match bots::running_in_slot(&self.pool, due_now(self.interval)).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "trade sync cannot list bots");
                return;
            }
        };
        futures::stream::iter(due)
            .for_each_concurrent(self.concurrency, |(bot, api_url)| {
                let this = self.clone();
                async move { this.sync(bot, &api_url).await }
            })
            .await;
    }

    /// One sync of one bot; a bot already syncing is left to that sync, and a bot in
    /// backoff is skipped.
    async fn sync(&self, bot: BotId, api_url: &str) {
        if self.backoff.is_waiting(bot) {
            return;
        }
        let Some(_busy) = self.in_flight.begin(bot) else {
            return;
        };
        let started = std::time::Instant::now();
        let synced = self.sync_now(bot, api_url).await;
        let outcome = match &synced {
            Ok(()) => PollOutcome::Ok,
            Err(e) if e.rate_limited() => PollOutcome::RateLimited,
            Err(_) => PollOutcome::Failed,
        };
        crate::metrics::metrics().trade_sync(outcome, started);
        match synced {
            Ok(()) => self.backoff.succeeded(bot),
            Err(e) => self.failed(bot, e),
        }
    }

    async fn sync_now(&self, bot: BotId, api_url: &str) -> Result<(), SyncError> {
        let client = self.clients.get(bot, api_url).await?;
        let open = client.status().await?;
        let known = self.recorded(bot).await?;
        for trade in open.iter().filter(|t| !known.contains_key(&t.trade_id)) {
            let Some(opening) = opening(bot, trade) else {
                continue;
            };
            let command = TradeCommand::RecordTradeOpened { opening };
            self.record(bot, trade.trade_id, command).await?;
        }
        self.mark(bot, &open).await?;

        let open_ids: HashSet<i64> = open.iter().map(|t| t.trade_id).collect();
        if self.scan_due(bot, &client, &open_ids).await? {
            let (closed, consistent) = closed_trades(&client).await?;
            for trade in closed.values() {
                if known.get(&trade.trade_id) == Some(&false) {
                    continue;
                }
                let (Some(opening), Some(closing)) = (opening(bot, trade), closing(trade)) else {
                    continue;
                };
                let command = TradeCommand::RecordTradeClosed { opening, closing };
                self.record(bot, trade.trade_id, command).await?;
            }
            if let Ok(mut seen) = self.seen.lock() {
                let entry = seen.entry(bot).or_default();
                // An inconsistent scan is repeated at the next sync.
                entry.closed_total = if consistent {
                    closed.len() as u64
                } else {
                    u64::MAX
                };
                entry.syncs_since_scan = 0;
            }
        }
        if let Ok(mut seen) = self.seen.lock() {
            seen.entry(bot).or_default().open = open_ids;
        }
        // After the trades, so the summary is never ahead of what was recorded.
        profit_snapshot::store(&self.pool, bot, &client.profit().await?).await?;
        Ok(())
    }

    fn failed(&self, bot: BotId, error: SyncError) {
        match error.freqtrade() {
            Some(FreqtradeError::RateLimited { retry_after, .. }) => {
                self.backoff.rate_limited(bot, *retry_after, self.interval);
            }
            Some(FreqtradeError::Unauthorized { .. }) => self.clients.forget(bot),
            _ => self.backoff.failed(bot, self.interval),
        }
        tracing::info!(%bot, %error, "trade sync failed; a later one retries");
    }

    /// Whether closed trades must be scanned now (see the module docs).
    async fn scan_due(
        &self,
        bot: BotId,
        client: &FreqtradeClient,
        open_now: &HashSet<i64>,
    ) -> Result<bool, SyncError> {
        let hint = {
            let Ok(mut seen) = self.seen.lock() else {
                return Ok(true);
            };
            match seen.get_mut(&bot) {
                None => return Ok(true),
                Some(last) => {
                    last.syncs_since_scan += 1;
                    let vanished = last.open.iter().any(|id| !open_now.contains(id));
                    (vanished || last.syncs_since_scan >= FULL_SCAN_EVERY)
                        .then_some(())
                        .ok_or(last.closed_total)
                }
            }
        };
        match hint {
            Ok(()) => Ok(true),
            Err(closed_total) => Ok(client.trades(1, 0).await?.total_trades != closed_total),
        }
    }

    /// The bot's recorded trades: freqtrade id → still open.
    async fn recorded(&self, bot: BotId) -> Result<HashMap<i64, bool>, SyncError> {
        Ok(trades::recorded(&self.pool, bot).await?)
    }

    async fn record(&self, bot: BotId, trade: i64, command: TradeCommand) -> Result<(), SyncError> {
        let id = trade_aggregate_id(bot, trade);
        self.commands
            .trades
            .execute(&id, command, &CommandMetadata::issued_by(ACTOR))
            .await?;
        Ok(())
    }

    /// Keeps open trades' current values, and only those.
    async fn mark(&self, bot: BotId, open: &[Trade]) -> Result<(), SyncError> {
        let marks: Vec<TradeMark> = open
            .iter()
            .map(|t| TradeMark {
                bot_id: bot,
                freqtrade_trade_id: t.trade_id,
                current_rate: t.current_rate,
                profit_ratio: t.profit_ratio,
                profit_abs: t.profit_abs,
            })
            .collect();
        Ok(marks::replace(&self.pool, bot, &marks).await?)
    }
}
