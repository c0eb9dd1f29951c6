//! A fleet of simulated freqtrade bots behind one listener, so the control plane can be
//! benchmarked against a thousand bots without running a thousand Python processes.
//!
//! Bot `n` (0-based) is served under `/bots/{n}`: its base URL is
//! `http://HOST:PORT/bots/{n}` and it answers freqtrade 2026.9's REST API under `/api/v1`
//! with the JSON shapes recorded in `tests/fixtures/freqtrade/`. `GET /stats` counts the
//! requests per endpoint, without auth.
//!
//! Trading is a pure function of (seed, bot, wall clock) ([`schedule`]): trades open every
//! period per bot and close after a varying hold; every fifth trade holds long enough to
//! close after newer ones. Nothing per trade is stored but the forced exits and a per-bot
//! cache of settled profit, so a request costs a few price evaluations whatever the
//! fleet's age.

mod auth;
mod http;
mod profit;
mod schedule;
mod time;
mod trade;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::serve::ListenerExt;

use auth::Auth;
use profit::{Closed, Summary};
use schedule::{BotPlan, Schedule};
use trade::{Market, Trade};

/// What the fleet simulates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetConfig {
    /// Bots `0..bots`.
    pub bots: u32,
    /// The API credentials every bot accepts (HTTP Basic and `/token/login`).
    pub username: String,
    pub password: String,
    /// Each bot opens a trade once per period (at least 1 ms).
    pub trade_period: Duration,
    /// The typical hold; each trade holds 0.5–1.5 times it, every fifth much longer.
    pub hold: Duration,
    /// The same seed gives the same trades and prices.
    pub seed: u64,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            bots: 1000,
            username: "anytrade".to_owned(),
            password: "anytrade".to_owned(),
            trade_period: Duration::from_secs(90),
            hold: Duration::from_secs(45),
            seed: 1,
        }
    }
}

/// The fleet's routes; the clock starts (T0) when this is called.
pub fn fleet_router(config: FleetConfig) -> Router {
    http::router(Fleet::new(config))
}

/// Serves the fleet on `listener` until `shutdown` completes.
pub async fn serve_fleet(
    listener: tokio::net::TcpListener,
    config: FleetConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Small JSON answers: do not let Nagle hold them back.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, fleet_router(config))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The whole fleet's state.
struct Fleet {
    schedule: Schedule,
    market: Market,
    bots: Box<[Bot]>,
    auth: Auth,
    stats: http::Stats,
    show_config: http::ShowConfigTemplate,
    started: Instant,
}

/// One bot: its constants and the little that requests change.
struct Bot {
    plan: BotPlan,
    state: Mutex<BotState>,
}

#[derive(Default)]
struct BotState {
    /// Trade id → when `POST /forceexit` closed it.
    forced: HashMap<u64, i64>,
    /// Trades `1..=settled` are folded into `closed`.
    settled: u64,
    closed: Closed,
}

impl Fleet {
    fn new(config: FleetConfig) -> Self {
        let schedule = Schedule::new(
            time::now_ms(),
            config.trade_period,
            config.hold,
            config.seed,
        );
        let bots = (0..config.bots)
            .map(|n| Bot {
                plan: schedule.bot(n),
                state: Mutex::new(BotState::default()),
            })
            .collect();
        Fleet {
            market: Market::new(config.seed),
            bots,
            auth: Auth::new(&config.username, &config.password),
            stats: http::Stats::default(),
            show_config: http::ShowConfigTemplate::new(schedule.max_open_trades()),
            started: Instant::now(),
            schedule,
        }
    }

    fn bot(&self, n: u32) -> Option<&Bot> {
        self.bots.get(usize::try_from(n).ok()?)
    }
}

/// One bot's trades at one instant, under its lock so forced exits are seen consistently.
struct View<'a> {
    fleet: &'a Fleet,
    n: u32,
    bot: &'a Bot,
    state: MutexGuard<'a, BotState>,
    now_ms: i64,
    /// Ids `1..=opened` exist.
    opened: u64,
    /// Ids `1..=settled` are closed for certain.
    settled: u64,
}

impl<'a> View<'a> {
    fn new(fleet: &'a Fleet, n: u32, bot: &'a Bot) -> Self {
        // A panic elsewhere cannot leave this state half-written: keep serving.
        let state = bot.state.lock().unwrap_or_else(PoisonError::into_inner);
        // Read the clock under the lock, so a forced exit is never in this view's future.
        let now_ms = time::now_ms();
        let schedule = &fleet.schedule;
        let opened = schedule.opened(&bot.plan, now_ms);
        let settled = schedule.settled(&bot.plan, now_ms).min(opened);
        View {
            fleet,
            n,
            bot,
            state,
            now_ms,
            opened,
            settled,
        }
    }

    fn exists(&self, id: u64) -> bool {
        (1..=self.opened).contains(&id)
    }

    fn is_open(&self, id: u64) -> bool {
        let natural = self.fleet.schedule.slot(&self.bot.plan, id).close_ms;
        let close = self
            .state
            .forced
            .get(&id)
            .map_or(natural, |forced| natural.min(*forced));
        self.exists(id) && self.now_ms < close
    }

    fn trade(&self, id: u64) -> Trade {
        Trade::at(
            &self.fleet.schedule,
            &self.fleet.market,
            &self.bot.plan,
            self.n,
            id,
            self.state.forced.get(&id).copied(),
            self.now_ms,
        )
    }

    /// Only trades after `settled` can be open.
    fn recent(&self) -> std::ops::RangeInclusive<u64> {
        self.settled + 1..=self.opened
    }

    fn open_trades(&self) -> Vec<Trade> {
        self.recent()
            .filter(|id| self.is_open(*id))
            .map(|id| self.trade(id))
            .collect()
    }

    /// Closed trades in id order, `limit` from `offset`, and how many there are in all.
    fn closed_page(&self, offset: u64, limit: u64) -> (Vec<Trade>, u64) {
        let recent_closed = self.recent().filter(|id| !self.is_open(*id));
        let total = self.settled + recent_closed.clone().count() as u64;
        let page: Vec<Trade> = (1..=self.settled)
            .chain(recent_closed)
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|id| self.trade(id))
            .collect();
        (page, total)
    }

    /// Closes open trade `id` now; false if it is not open.
    fn force_exit(&mut self, id: u64) -> bool {
        if !self.is_open(id) {
            return false;
        }
        let now_ms = self.now_ms;
        self.state.forced.insert(id, now_ms);
        true
    }

    /// Profit over all trades: settled ones from the cache (extended first), recent ones
    /// computed.
    fn summary(&mut self) -> Summary {
        while self.state.settled < self.settled {
            let id = self.state.settled + 1;
            let trade = self.trade(id);
            self.state.closed.add(&trade);
            self.state.settled = id;
        }
        let schedule = &self.fleet.schedule;
        let mut summary = Summary {
            closed: self.state.closed,
            trade_count: self.opened,
            first_open_ms: (self.opened > 0).then(|| schedule.slot(&self.bot.plan, 1).open_ms),
            latest_open_ms: (self.opened > 0)
                .then(|| schedule.slot(&self.bot.plan, self.opened).open_ms),
            ..Summary::default()
        };
        // The cache may run ahead of this view if the wall clock stepped back.
        let from = self.state.settled.max(self.settled) + 1;
        for id in from..=self.opened {
            let trade = self.trade(id);
            if trade.is_open() {
                summary.add_open(&trade);
            } else {
                summary.closed.add(&trade);
            }
        }
        summary
    }
}
