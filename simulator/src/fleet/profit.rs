//! `/profit`: a bot's profit summary, folded over its trades in id order.
//!
//! Trades that are closed for good (older than the longest hold) are folded once into a
//! per-bot [`Closed`] cache; each request adds only the few recent trades on a copy, so
//! `/profit` costs the same after a day as after a minute.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::time::{FtDate, duration_text, humanized_ago};
use super::trade::{PAIR_COUNT, Trade, pair_name};

/// freqtrade's default dry-run wallet (1000) times `tradable_balance_ratio` (0.99): what
/// `/profit`'s ratios are relative to.
pub const STARTING_BALANCE: f64 = 990.0;

/// Statistics of closed trades, folded in trade-id order.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Closed {
    count: u64,
    sum_abs: f64,
    sum_ratio: f64,
    wins: u64,
    losses: u64,
    win_abs: f64,
    loss_abs: f64,
    duration_ms: f64,
    volume: f64,
    pair_abs: [f64; PAIR_COUNT],
    pair_ratio: [f64; PAIR_COUNT],
    pair_count: [u64; PAIR_COUNT],
    cumulative: f64,
    peak: f64,
    peak_ms: Option<i64>,
    drawdown_abs: f64,
    drawdown_ratio: f64,
    drawdown_start_ms: Option<i64>,
    drawdown_end_ms: Option<i64>,
}

impl Closed {
    /// Folds in one closed trade (open trades are ignored).
    pub fn add(&mut self, trade: &Trade) {
        let Some(exit) = trade.exit else { return };
        self.count += 1;
        self.sum_abs += trade.profit_abs;
        self.sum_ratio += trade.profit_ratio;
        if trade.profit_abs > 0.0 {
            self.wins += 1;
            self.win_abs += trade.profit_abs;
        } else if trade.profit_abs < 0.0 {
            self.losses += 1;
            self.loss_abs -= trade.profit_abs;
        }
        self.duration_ms += (exit.ms - trade.open_ms) as f64;
        self.volume += trade.stake + trade.exit_cost();
        if let Some(abs) = self.pair_abs.get_mut(trade.pair_slot) {
            *abs += trade.profit_abs;
        }
        if let Some(ratio) = self.pair_ratio.get_mut(trade.pair_slot) {
            *ratio += trade.profit_ratio;
        }
        if let Some(count) = self.pair_count.get_mut(trade.pair_slot) {
            *count += 1;
        }
        // Before any trade the peak is zero profit, dated at the start of trading.
        if self.peak_ms.is_none() {
            self.peak_ms = Some(trade.open_ms);
        }
        self.cumulative += trade.profit_abs;
        if self.cumulative > self.peak {
            self.peak = self.cumulative;
            self.peak_ms = Some(exit.ms);
        }
        let drawdown = self.peak - self.cumulative;
        if drawdown > self.drawdown_abs {
            self.drawdown_abs = drawdown;
            self.drawdown_ratio = drawdown / (STARTING_BALANCE + self.peak);
            self.drawdown_start_ms = self.peak_ms;
            self.drawdown_end_ms = Some(exit.ms);
        }
    }
}

/// The bot's trades at one instant, summarised.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub closed: Closed,
    pub open_count: u64,
    pub open_abs: f64,
    pub open_ratio: f64,
    pub open_stake: f64,
    /// Trades opened so far (open and closed).
    pub trade_count: u64,
    pub first_open_ms: Option<i64>,
    pub latest_open_ms: Option<i64>,
}

impl Summary {
    pub fn add_open(&mut self, trade: &Trade) {
        self.open_count += 1;
        self.open_abs += trade.profit_abs;
        self.open_ratio += trade.profit_ratio;
        self.open_stake += trade.stake;
    }
}

/// `/profit` of one bot at `now_ms`.
pub struct ProfitJson {
    pub summary: Summary,
    pub bot_start_ms: i64,
    pub now_ms: i64,
}

fn round8(value: f64) -> f64 {
    (value * 1e8).round() / 1e8
}

fn pct(ratio: f64) -> f64 {
    (ratio * 10_000.0).round() / 100.0
}

fn mean(sum: f64, count: u64) -> f64 {
    if count == 0 { 0.0 } else { sum / count as f64 }
}

/// A date freqtrade may not have: `""` and timestamp 0 when absent.
fn date_or_empty(ms: Option<i64>) -> (Option<FtDate>, i64) {
    (ms.map(FtDate), ms.unwrap_or(0))
}

impl Serialize for ProfitJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let s = &self.summary;
        let c = &s.closed;
        let closed_ratio_mean = mean(c.sum_ratio, c.count);
        let all_abs = c.sum_abs + s.open_abs;
        let all_ratio_sum = c.sum_ratio + s.open_ratio;
        let all_ratio_mean = mean(all_ratio_sum, c.count + s.open_count);
        let ago = |ms: i64| humanized_ago((self.now_ms - ms) / 1000);
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("profit_closed_coin", &round8(c.sum_abs))?;
        m.serialize_entry("profit_closed_percent_mean", &pct(closed_ratio_mean))?;
        m.serialize_entry("profit_closed_ratio_mean", &closed_ratio_mean)?;
        m.serialize_entry("profit_closed_percent_sum", &pct(c.sum_ratio))?;
        m.serialize_entry("profit_closed_ratio_sum", &c.sum_ratio)?;
        m.serialize_entry("profit_closed_percent", &pct(c.sum_abs / STARTING_BALANCE))?;
        m.serialize_entry("profit_closed_ratio", &(c.sum_abs / STARTING_BALANCE))?;
        m.serialize_entry("profit_closed_fiat", &0.0)?;
        m.serialize_entry("profit_all_coin", &round8(all_abs))?;
        m.serialize_entry("profit_all_percent_mean", &pct(all_ratio_mean))?;
        m.serialize_entry("profit_all_ratio_mean", &all_ratio_mean)?;
        m.serialize_entry("profit_all_percent_sum", &pct(all_ratio_sum))?;
        m.serialize_entry("profit_all_ratio_sum", &all_ratio_sum)?;
        m.serialize_entry("profit_all_percent", &pct(all_abs / STARTING_BALANCE))?;
        m.serialize_entry("profit_all_ratio", &(all_abs / STARTING_BALANCE))?;
        m.serialize_entry("profit_all_fiat", &0.0)?;
        m.serialize_entry("trade_count", &s.trade_count)?;
        m.serialize_entry("closed_trade_count", &c.count)?;
        let (first_date, first_ts) = date_or_empty(s.first_open_ms);
        m.serialize_entry("first_trade_date", &OrEmpty(first_date))?;
        m.serialize_entry(
            "first_trade_humanized",
            &s.first_open_ms.map_or(String::new(), ago),
        )?;
        m.serialize_entry("first_trade_timestamp", &first_ts)?;
        let (latest_date, latest_ts) = date_or_empty(s.latest_open_ms);
        m.serialize_entry("latest_trade_date", &OrEmpty(latest_date))?;
        m.serialize_entry(
            "latest_trade_humanized",
            &s.latest_open_ms.map_or(String::new(), ago),
        )?;
        m.serialize_entry("latest_trade_timestamp", &latest_ts)?;
        let avg_secs = (mean(c.duration_ms, c.count) / 1000.0).round() as i64;
        m.serialize_entry("avg_duration", &duration_text(avg_secs))?;
        // The best pair by summed profit ratio, among pairs with a closed trade.
        let best = c
            .pair_ratio
            .iter()
            .zip(&c.pair_abs)
            .zip(&c.pair_count)
            .enumerate()
            .filter(|(_, (_, count))| **count > 0)
            .map(|(slot, ((ratio, abs), _))| (pair_name(slot), *ratio, *abs))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let (best_pair, best_ratio, best_abs) = best.unwrap_or(("", 0.0, 0.0));
        m.serialize_entry("best_pair", best_pair)?;
        m.serialize_entry("best_rate", &pct(best_ratio))?;
        m.serialize_entry("best_pair_profit_ratio", &best_ratio)?;
        m.serialize_entry("best_pair_profit_abs", &round8(best_abs))?;
        m.serialize_entry("winning_trades", &c.wins)?;
        m.serialize_entry("losing_trades", &c.losses)?;
        // Infinity without losses, which freqtrade's JSON encoder (and serde_json) writes
        // as null.
        let profit_factor = if c.loss_abs > 0.0 {
            c.win_abs / c.loss_abs
        } else {
            f64::INFINITY
        };
        m.serialize_entry("profit_factor", &profit_factor)?;
        m.serialize_entry("winrate", &mean(c.wins as f64, c.count))?;
        // freqtrade's calculate_expectancy.
        let (avg_win, avg_loss) = (mean(c.win_abs, c.wins), mean(c.loss_abs, c.losses));
        let (win_rate, loss_rate) = (mean(c.wins as f64, c.count), mean(c.losses as f64, c.count));
        let expectancy = win_rate * avg_win - loss_rate * avg_loss;
        let expectancy_ratio = if avg_loss > 0.0 {
            (1.0 + avg_win / avg_loss) * win_rate - 1.0
        } else {
            100.0
        };
        m.serialize_entry("expectancy", &expectancy)?;
        m.serialize_entry("expectancy_ratio", &expectancy_ratio)?;
        // Risk ratios need daily returns; the simulator does not model them.
        for key in ["sharpe", "sortino", "sqn", "calmar", "cagr"] {
            m.serialize_entry(key, &0.0)?;
        }
        m.serialize_entry("max_drawdown", &c.drawdown_ratio)?;
        m.serialize_entry("max_drawdown_abs", &round8(c.drawdown_abs))?;
        let (dd_start, dd_start_ts) = date_or_empty(c.drawdown_start_ms);
        m.serialize_entry("max_drawdown_start", &OrEmpty(dd_start))?;
        m.serialize_entry("max_drawdown_start_timestamp", &dd_start_ts)?;
        let (dd_end, dd_end_ts) = date_or_empty(c.drawdown_end_ms);
        m.serialize_entry("max_drawdown_end", &OrEmpty(dd_end))?;
        m.serialize_entry("max_drawdown_end_timestamp", &dd_end_ts)?;
        let current = c.peak - c.cumulative;
        m.serialize_entry("current_drawdown", &(current / (STARTING_BALANCE + c.peak)))?;
        m.serialize_entry("current_drawdown_abs", &round8(current))?;
        m.serialize_entry("current_drawdown_high", &round8(c.peak))?;
        let (high, high_ts) = date_or_empty(c.peak_ms);
        m.serialize_entry("current_drawdown_start", &OrEmpty(high))?;
        m.serialize_entry("current_drawdown_start_timestamp", &high_ts)?;
        m.serialize_entry("trading_volume", &round8(c.volume + s.open_stake))?;
        m.serialize_entry("bot_start_timestamp", &self.bot_start_ms)?;
        m.serialize_entry("bot_start_date", &FtDate(self.bot_start_ms))?;
        m.end()
    }
}

/// A date, or `""` when there is none (freqtrade's `format_date(None)`).
struct OrEmpty(Option<FtDate>);

impl Serialize for OrEmpty {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(date) => date.serialize(serializer),
            None => serializer.serialize_str(""),
        }
    }
}

/// `/count`: open trades against the limit.
pub struct CountJson {
    pub current: u64,
    pub max: u64,
    pub total_stake: f64,
}

impl Serialize for CountJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(3))?;
        m.serialize_entry("current", &self.current)?;
        m.serialize_entry("max", &self.max)?;
        m.serialize_entry("total_stake", &round8(self.total_stake))?;
        m.end()
    }
}
