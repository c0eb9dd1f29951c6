//! One simulated trade, computed from the schedule and the price paths on each request,
//! and its JSON in freqtrade 2026.9's shapes (`tests/fixtures/freqtrade/`).

use std::f64::consts::TAU;
use std::fmt;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::schedule::{BotPlan, Schedule};
use super::time::FtDate;
use crate::config::default_base_price;
use crate::hash;
use crate::price::PricePath;

/// freqtrade's default dry-run fee, each way.
pub const FEE: f64 = 0.001;
/// Stake per trade in the stake currency.
pub const STAKE: f64 = 100.0;
pub const STAKE_CURRENCY: &str = "USDT";
pub const STRATEGY: &str = "FleetSim";
pub const EXCHANGE: &str = "binance";
/// The strategy's stop loss ratio.
const STOP_LOSS: f64 = -0.1;

/// A traded pair and its Binance precisions.
#[derive(Debug, PartialEq)]
pub struct PairSpec {
    pub pair: &'static str,
    pub base: &'static str,
    symbol: &'static str,
    amount_decimals: i32,
    price_decimals: i32,
    amount_precision: f64,
    price_precision: f64,
}

const PAIRS: [PairSpec; 3] = [
    PairSpec {
        pair: "BTC/USDT",
        base: "BTC",
        symbol: "BTCUSDT",
        amount_decimals: 5,
        price_decimals: 2,
        amount_precision: 0.00001,
        price_precision: 0.01,
    },
    PairSpec {
        pair: "ETH/USDT",
        base: "ETH",
        symbol: "ETHUSDT",
        amount_decimals: 4,
        price_decimals: 2,
        amount_precision: 0.0001,
        price_precision: 0.01,
    },
    PairSpec {
        pair: "SOL/USDT",
        base: "SOL",
        symbol: "SOLUSDT",
        amount_decimals: 3,
        price_decimals: 3,
        amount_precision: 0.001,
        price_precision: 0.001,
    },
];

/// The number of pairs trades rotate over.
pub const PAIR_COUNT: usize = PAIRS.len();

/// The name of rotation slot `slot`'s pair.
pub fn pair_name(slot: usize) -> &'static str {
    PAIRS.get(slot).map_or("", |spec| spec.pair)
}

/// Amplitude and period of the fleet's ripple on top of the exchange simulator's path:
/// that path moves ~1 % in half an hour, too little for minute-long holds to beat the fees,
/// so trades here would all lose; a ±0.4 % three-minute ripple gives winners and losers.
const RIPPLE: f64 = 0.004;
const RIPPLE_PERIOD_MS: i64 = 180_000;

/// The price paths of the traded pairs: the exchange simulator's paths for the same seed,
/// plus a ripple.
#[derive(Debug)]
pub struct Market {
    paths: [Prices; PAIR_COUNT],
}

/// One pair's price path.
#[derive(Debug)]
pub struct Prices {
    spec: &'static PairSpec,
    path: PricePath,
    ripple_phase: f64,
}

impl Prices {
    /// The unrounded price at `t_ms`.
    pub fn at(&self, t_ms: i64) -> f64 {
        let turn = t_ms.rem_euclid(RIPPLE_PERIOD_MS) as f64 / RIPPLE_PERIOD_MS as f64;
        self.path.at(t_ms) * (1.0 + RIPPLE * (TAU * turn + self.ripple_phase).sin())
    }
}

impl Market {
    pub fn new(seed: u64) -> Self {
        let [btc, eth, sol] = &PAIRS;
        let prices = |spec: &'static PairSpec| Prices {
            spec,
            path: PricePath::new(seed, spec.symbol, default_base_price(spec.base)),
            ripple_phase: TAU * hash::unit(hash::hash(seed ^ hash::fnv1a(spec.symbol), -1)),
        };
        Market {
            paths: [prices(btc), prices(eth), prices(sol)],
        }
    }

    /// The pair of rotation slot `index` (any number; taken modulo the pair count).
    pub fn pick(&self, index: u64) -> (usize, &'static PairSpec, &Prices) {
        let [a, b, c] = &self.paths;
        let (slot, prices) = match index % PAIR_COUNT as u64 {
            0 => (0, a),
            1 => (1, b),
            _ => (2, c),
        };
        (slot, prices.spec, prices)
    }
}

fn round_dp(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

fn floor_dp(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).floor() / scale
}

/// freqtrade rounds money to 8 decimals.
fn round8(value: f64) -> f64 {
    round_dp(value, 8)
}

/// A percentage as freqtrade shows it: the ratio times 100, to 2 decimals.
fn pct(ratio: f64) -> f64 {
    round_dp(ratio * 100.0, 2)
}

/// How a trade ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exit {
    pub ms: i64,
    pub rate: f64,
    /// By `POST /forceexit` rather than by the schedule (which plays the ROI exit).
    pub forced: bool,
}

impl Exit {
    fn reason(&self) -> &'static str {
        if self.forced { "force_exit" } else { "roi" }
    }
}

/// A trade as of one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trade {
    pub id: u64,
    pub pair: &'static PairSpec,
    /// Index of the pair in the rotation, for per-pair statistics.
    pub pair_slot: usize,
    /// Keys the order ids.
    key: u64,
    pub open_ms: i64,
    pub open_rate: f64,
    amount_requested: f64,
    pub amount: f64,
    pub stake: f64,
    fee_open_cost: f64,
    /// Stake plus entry fee: what profit ratios are relative to.
    open_value: f64,
    pub exit: Option<Exit>,
    /// The close rate of a closed trade, the current rate of an open one.
    pub mark_rate: f64,
    /// Profit at `mark_rate`, after both fees.
    pub profit_abs: f64,
    pub profit_ratio: f64,
    stop_loss_abs: f64,
}

impl Trade {
    /// Trade `id` (1-based, already opened by `now_ms`) of bot `bot` as of `now_ms`;
    /// `forced` is the time `POST /forceexit` closed it, if it did.
    pub fn at(
        schedule: &Schedule,
        market: &Market,
        plan: &BotPlan,
        bot: u32,
        id: u64,
        forced: Option<i64>,
        now_ms: i64,
    ) -> Trade {
        let slot = schedule.slot(plan, id);
        // Trades rotate over the pairs, each bot starting on a different one.
        let (pair_slot, pair, path) = market.pick(id.wrapping_add(u64::from(bot)));
        let open_rate = round_dp(path.at(slot.open_ms), pair.price_decimals);
        let amount_requested = round8(STAKE / open_rate);
        let amount = floor_dp(amount_requested, pair.amount_decimals);
        let stake = round8(amount * open_rate);
        let fee_open_cost = round8(stake * FEE);
        let open_value = round8(stake + fee_open_cost);

        let forced = forced.filter(|at| *at < slot.close_ms);
        let close_ms = forced.unwrap_or(slot.close_ms);
        let exit = (close_ms <= now_ms).then(|| Exit {
            ms: close_ms,
            rate: round_dp(path.at(close_ms), pair.price_decimals),
            forced: forced.is_some(),
        });
        let mark_rate = match exit {
            Some(exit) => exit.rate,
            None => round_dp(path.at(now_ms), pair.price_decimals),
        };
        let close_value = amount * mark_rate * (1.0 - FEE);
        Trade {
            id,
            pair,
            pair_slot,
            key: plan.key,
            open_ms: slot.open_ms,
            open_rate,
            amount_requested,
            amount,
            stake,
            fee_open_cost,
            open_value,
            exit,
            mark_rate,
            profit_abs: round8(close_value - open_value),
            profit_ratio: round8(close_value / open_value - 1.0),
            stop_loss_abs: round_dp(open_rate * (1.0 + STOP_LOSS), pair.price_decimals),
        }
    }

    pub fn is_open(&self) -> bool {
        self.exit.is_none()
    }

    /// The exit order's value (before its fee), for the trading volume.
    pub fn exit_cost(&self) -> f64 {
        self.exit
            .map_or(0.0, |exit| round8(self.amount * exit.rate))
    }

    fn fee_close_cost(&self) -> Option<f64> {
        self.exit.map(|exit| round8(self.amount * exit.rate * FEE))
    }
}

/// Which of freqtrade's trade serialisations to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `/status` and `/trade/{id}`: `to_json` plus the current-rate fields.
    Detail,
    /// `/trades`: the history form, with durations and fuller orders.
    History,
}

/// A trade serialised in one [`Shape`].
pub struct TradeJson<'a> {
    pub trade: &'a Trade,
    pub shape: Shape,
}

/// Many trades in one shape, as a JSON array.
pub struct TradesJson<'a> {
    pub trades: &'a [Trade],
    pub shape: Shape,
}

impl Serialize for TradesJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.trades.len()))?;
        for trade in self.trades {
            seq.serialize_element(&TradeJson {
                trade,
                shape: self.shape,
            })?;
        }
        seq.end()
    }
}

impl Serialize for TradeJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let t = self.trade;
        let exit = t.exit;
        let detail = self.shape == Shape::Detail;
        let closed_profit = |value: f64| exit.map(|_| value);
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("trade_id", &t.id)?;
        m.serialize_entry("pair", t.pair.pair)?;
        m.serialize_entry("base_currency", t.pair.base)?;
        m.serialize_entry("quote_currency", STAKE_CURRENCY)?;
        m.serialize_entry("is_open", &t.is_open())?;
        if detail {
            m.serialize_entry("is_short", &false)?;
        }
        m.serialize_entry("exchange", EXCHANGE)?;
        m.serialize_entry("amount", &t.amount)?;
        m.serialize_entry("amount_requested", &t.amount_requested)?;
        m.serialize_entry("stake_amount", &t.stake)?;
        m.serialize_entry("max_stake_amount", &t.stake)?;
        m.serialize_entry("strategy", STRATEGY)?;
        m.serialize_entry("enter_tag", "")?;
        m.serialize_entry("timeframe", &1)?;
        m.serialize_entry("fee_open", &FEE)?;
        m.serialize_entry("fee_open_cost", &t.fee_open_cost)?;
        m.serialize_entry("fee_open_currency", STAKE_CURRENCY)?;
        m.serialize_entry("fee_close", &FEE)?;
        m.serialize_entry("fee_close_cost", &t.fee_close_cost())?;
        m.serialize_entry("fee_close_currency", &exit.map(|_| STAKE_CURRENCY))?;
        m.serialize_entry("open_date", &FtDate(t.open_ms))?;
        m.serialize_entry("open_timestamp", &t.open_ms)?;
        m.serialize_entry("open_fill_date", &FtDate(t.open_ms))?;
        m.serialize_entry("open_fill_timestamp", &t.open_ms)?;
        m.serialize_entry("open_rate", &t.open_rate)?;
        m.serialize_entry("open_rate_requested", &t.open_rate)?;
        m.serialize_entry("open_trade_value", &t.open_value)?;
        m.serialize_entry("close_date", &exit.map(|e| FtDate(e.ms)))?;
        m.serialize_entry("close_timestamp", &exit.map(|e| e.ms))?;
        m.serialize_entry("close_rate", &exit.map(|e| e.rate))?;
        m.serialize_entry("close_rate_requested", &exit.map(|e| e.rate))?;
        m.serialize_entry("close_profit", &closed_profit(t.profit_ratio))?;
        m.serialize_entry("close_profit_pct", &closed_profit(pct(t.profit_ratio)))?;
        m.serialize_entry("close_profit_abs", &closed_profit(t.profit_abs))?;
        if !detail {
            let duration_s = exit.map(|e| (e.ms - t.open_ms) / 1000);
            m.serialize_entry("trade_duration_s", &duration_s)?;
            m.serialize_entry("trade_duration", &duration_s.map(|s| s / 60))?;
        }
        m.serialize_entry("profit_ratio", &t.profit_ratio)?;
        m.serialize_entry("profit_pct", &pct(t.profit_ratio))?;
        m.serialize_entry("profit_abs", &t.profit_abs)?;
        if detail {
            m.serialize_entry("profit_fiat", &None::<f64>)?;
        }
        m.serialize_entry("realized_profit", &exit.map_or(0.0, |_| t.profit_abs))?;
        m.serialize_entry("realized_profit_ratio", &closed_profit(t.profit_ratio))?;
        m.serialize_entry("exit_reason", &exit.map(|e| e.reason()))?;
        m.serialize_entry("exit_order_status", &exit.map(|_| "closed"))?;
        m.serialize_entry("stop_loss_abs", &t.stop_loss_abs)?;
        m.serialize_entry("stop_loss_ratio", &STOP_LOSS)?;
        m.serialize_entry("stop_loss_pct", &pct(STOP_LOSS))?;
        m.serialize_entry("stoploss_last_update", &None::<i64>)?;
        m.serialize_entry("stoploss_last_update_timestamp", &None::<i64>)?;
        m.serialize_entry("initial_stop_loss_abs", &t.stop_loss_abs)?;
        m.serialize_entry("initial_stop_loss_ratio", &STOP_LOSS)?;
        m.serialize_entry("initial_stop_loss_pct", &pct(STOP_LOSS))?;
        m.serialize_entry("min_rate", &t.open_rate.min(t.mark_rate))?;
        m.serialize_entry("max_rate", &t.open_rate.max(t.mark_rate))?;
        m.serialize_entry("leverage", &1.0)?;
        m.serialize_entry("interest_rate", &0.0)?;
        m.serialize_entry("liquidation_price", &None::<f64>)?;
        if !detail {
            m.serialize_entry("is_short", &false)?;
        }
        m.serialize_entry("trading_mode", "spot")?;
        m.serialize_entry("funding_fees", &0.0)?;
        m.serialize_entry("amount_precision", &t.pair.amount_precision)?;
        m.serialize_entry("price_precision", &t.pair.price_precision)?;
        m.serialize_entry("precision_mode", &4)?;
        if !detail {
            m.serialize_entry("precision_mode_price", &4)?;
            m.serialize_entry("contract_size", &1.0)?;
        }
        m.serialize_entry("nr_of_successful_entries", &1)?;
        m.serialize_entry("nr_of_successful_exits", &u8::from(exit.is_some()))?;
        m.serialize_entry("has_open_orders", &false)?;
        m.serialize_entry("orders", &OrdersJson(self))?;
        if detail {
            let stop_dist = round8(t.stop_loss_abs - t.mark_rate);
            let stop_dist_ratio = round8(stop_dist / t.mark_rate);
            let entry_dist = round8(t.amount * t.stop_loss_abs * (1.0 - FEE) - t.open_value);
            m.serialize_entry("stoploss_current_dist", &stop_dist)?;
            m.serialize_entry("stoploss_current_dist_pct", &pct(stop_dist_ratio))?;
            m.serialize_entry("stoploss_current_dist_ratio", &stop_dist_ratio)?;
            m.serialize_entry("stoploss_entry_dist", &entry_dist)?;
            m.serialize_entry(
                "stoploss_entry_dist_ratio",
                &round8(entry_dist / t.open_value),
            )?;
            m.serialize_entry("current_rate", &t.mark_rate)?;
            // As freqtrade: a closed trade's "total" (unrealised plus realised) is 0/null.
            let (total_abs, total_ratio) = match exit {
                Some(_) => (0.0, None),
                None => (t.profit_abs, Some(t.profit_ratio)),
            };
            m.serialize_entry("total_profit_abs", &total_abs)?;
            m.serialize_entry("total_profit_fiat", &None::<f64>)?;
            m.serialize_entry("total_profit_ratio", &total_ratio)?;
        }
        m.end()
    }
}

/// The trade's orders: the entry, then the exit once closed.
struct OrdersJson<'a>(&'a TradeJson<'a>);

impl Serialize for OrdersJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let TradeJson { trade, shape } = *self.0;
        let mut seq = serializer.serialize_seq(None)?;
        seq.serialize_element(&OrderJson {
            trade,
            shape,
            exit: None,
        })?;
        if let Some(exit) = trade.exit {
            seq.serialize_element(&OrderJson {
                trade,
                shape,
                exit: Some(exit),
            })?;
        }
        seq.end()
    }
}

/// One dry-run order: the entry (`exit: None`) or the exit.
struct OrderJson<'a> {
    trade: &'a Trade,
    shape: Shape,
    exit: Option<Exit>,
}

impl Serialize for OrderJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let t = self.trade;
        // freqtrade places the order ~50 ms before it fills; the trade's dates are the fill's.
        let (side, rate, filled_ms, tag, order_type) = match self.exit {
            None => ("buy", t.open_rate, t.open_ms, "", "limit"),
            Some(exit) => (
                "sell",
                exit.rate,
                exit.ms,
                exit.reason(),
                if exit.forced { "market" } else { "limit" },
            ),
        };
        let placed_ms = filled_ms - 48;
        let cost = match self.exit {
            None => t.stake,
            Some(_) => t.exit_cost(),
        };
        let order_id = OrderId {
            side,
            pair: t.pair.pair,
            draw: hash::hash(
                t.key,
                (t.id as i64)
                    .wrapping_mul(2)
                    .wrapping_add(i64::from(self.exit.is_some())),
            ),
        };
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("pair", t.pair.pair)?;
        m.serialize_entry("order_id", &order_id)?;
        m.serialize_entry("status", "closed")?;
        m.serialize_entry("remaining", &0.0)?;
        m.serialize_entry("amount", &t.amount)?;
        m.serialize_entry("safe_price", &rate)?;
        m.serialize_entry("cost", &cost)?;
        m.serialize_entry("filled", &t.amount)?;
        m.serialize_entry("ft_order_side", side)?;
        m.serialize_entry("order_type", order_type)?;
        m.serialize_entry("is_open", &false)?;
        m.serialize_entry("order_timestamp", &placed_ms)?;
        m.serialize_entry("order_filled_timestamp", &filled_ms)?;
        m.serialize_entry("ft_fee_base", &None::<f64>)?;
        m.serialize_entry("ft_order_tag", tag)?;
        if self.shape == Shape::History {
            m.serialize_entry("ft_is_entry", &self.exit.is_none())?;
            m.serialize_entry("average", &rate)?;
            m.serialize_entry("order_date", &FtDate(placed_ms))?;
            m.serialize_entry("order_filled_date", &FtDate(filled_ms))?;
            m.serialize_entry("price", &rate)?;
            m.serialize_entry("funding_fee", &0.0)?;
        }
        m.end()
    }
}

/// `dry_run_buy_BTC/USDT_<uuid>`, as freqtrade names dry-run orders; the uuid is drawn
/// from the trade so it is stable across requests.
struct OrderId {
    side: &'static str,
    pair: &'static str,
    draw: u64,
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = (self.draw, hash::mix(self.draw));
        write!(
            f,
            "dry_run_{}_{}_{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            self.side,
            self.pair,
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff,
        )
    }
}

impl Serialize for OrderId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const T0: i64 = 1_795_562_691_000;

    #[test]
    fn profit_follows_freqtrade() {
        let schedule = Schedule::new(T0, Duration::from_secs(90), Duration::from_secs(45), 1);
        let market = Market::new(1);
        let plan = schedule.bot(0);
        let slot = schedule.slot(&plan, 1);
        let open = Trade::at(&schedule, &market, &plan, 0, 1, None, slot.open_ms);
        assert!(open.is_open());
        let closed = Trade::at(&schedule, &market, &plan, 0, 1, None, slot.close_ms);
        let exit = closed.exit.unwrap();
        assert_eq!((exit.ms, exit.forced), (slot.close_ms, false));
        // profit = close value after fee / (stake + fee) - 1.
        let expected = closed.amount * exit.rate * (1.0 - FEE) / (closed.stake * (1.0 + FEE)) - 1.0;
        assert!((closed.profit_ratio - expected).abs() < 1e-6);
        assert!(closed.stake <= STAKE && closed.stake > STAKE * 0.99);
        // Forced earlier: closed then, at that instant's price.
        let forced = Trade::at(
            &schedule,
            &market,
            &plan,
            0,
            1,
            Some(slot.open_ms + 1),
            slot.open_ms + 1,
        );
        assert!(forced.exit.unwrap().forced);
    }

    #[test]
    fn trades_both_win_and_lose() {
        let schedule = Schedule::new(T0, Duration::from_secs(90), Duration::from_secs(45), 1);
        let market = Market::new(1);
        let (mut wins, mut losses) = (0, 0);
        for bot in 0..50 {
            let plan = schedule.bot(bot);
            for id in 1..=20 {
                let close = schedule.slot(&plan, id).close_ms;
                let trade = Trade::at(&schedule, &market, &plan, bot, id, None, close);
                if trade.profit_abs > 0.0 {
                    wins += 1;
                } else {
                    losses += 1;
                }
            }
        }
        assert!(wins > 100 && losses > 100, "{wins} wins, {losses} losses");
    }

    #[test]
    fn order_ids_look_like_freqtrade() {
        let id = OrderId {
            side: "buy",
            pair: "BTC/USDT",
            draw: 42,
        }
        .to_string();
        assert!(id.starts_with("dry_run_buy_BTC/USDT_"));
        assert_eq!(id.len(), "dry_run_buy_BTC/USDT_".len() + 36);
    }
}
