//! Typed answers of freqtrade's REST API (2026.9, `api_version` 2.x) and the bodies of
//! the two commands that take one (`forceenter`, `forceexit`).
//!
//! The structs keep only what the control plane reads. They are lenient on purpose: unknown
//! fields are ignored (serde's default) and fields freqtrade may omit or send as `null` are
//! `Option` or `#[serde(default)]`, so a newer bot that adds or drops a field does not break
//! the fleet. Floats freqtrade computes can arrive as `null`: its JSON encoder (orjson) turns
//! NaN and infinity into `null`, e.g. the current rate of a pair without a ticker.
//!
//! Dates: freqtrade prints trade dates as `"YYYY-MM-DD HH:MM:SS"` in UTC, without a zone,
//! and gives the same instant as a millisecond timestamp beside it (`open_timestamp`). The
//! models read the millisecond timestamps, which are exact and unambiguous. `/health` gives
//! ISO 8601 dates, `/daily` plain calendar dates, `/logs` float milliseconds.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `GET /ping`, the only public endpoint: `{"status": "pong"}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Ping {
    pub status: String,
}

/// `GET /show_config`: the subset of the bot's running configuration that freqtrade exposes
/// (no secrets). `api_version` tells which endpoints and fields the bot has.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShowConfig {
    pub api_version: f64,
    pub version: String,
    /// `running`, `stopped`, `paused` or `reload_config`.
    #[serde(default)]
    pub state: String,
    /// `dry_run`, `live`, `webserver`, ...
    #[serde(default)]
    pub runmode: String,
    #[serde(default)]
    pub strategy: Option<String>,
    #[serde(default)]
    pub strategy_version: Option<String>,
    #[serde(default)]
    pub exchange: String,
    #[serde(default)]
    pub dry_run: bool,
    /// `spot`, `margin` or `futures`.
    #[serde(default)]
    pub trading_mode: Option<String>,
    #[serde(default)]
    pub short_allowed: bool,
    /// The strategy's timeframe, e.g. `"5m"`.
    #[serde(default)]
    pub timeframe: Option<String>,
    /// Unlimited is `-1`.
    #[serde(default, deserialize_with = "int_from_number")]
    pub max_open_trades: i64,
    #[serde(default)]
    pub stake_currency: String,
    /// A number as text, or `"unlimited"`.
    #[serde(default, deserialize_with = "string_from_scalar")]
    pub stake_amount: String,
    #[serde(default)]
    pub force_entry_enable: bool,
    #[serde(default)]
    pub bot_name: String,
}

/// `GET /health`: when the bot last ran its trading loop. A loop that stops advancing while
/// the process is up is a hung bot.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Health {
    #[serde(deserialize_with = "opt_datetime")]
    pub last_process: Option<DateTime<Utc>>,
    /// Seconds since the epoch (not milliseconds, unlike trades).
    pub last_process_ts: Option<i64>,
    /// When the bot process started.
    #[serde(deserialize_with = "opt_datetime")]
    pub bot_start: Option<DateTime<Utc>>,
    pub bot_start_ts: Option<i64>,
    /// When the bot last (re)initialised, e.g. after `reload_config`.
    #[serde(deserialize_with = "opt_datetime")]
    pub bot_startup: Option<DateTime<Utc>>,
    pub bot_startup_ts: Option<i64>,
}

/// A trade as `/status` (open trades), `/trades` (closed trades), `/trade/{id}` and
/// `/forceenter` give it. Fields only an open trade has are `Option`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Trade {
    /// freqtrade's id, unique within one bot's database: with the bot it keys a trade.
    pub trade_id: i64,
    pub pair: String,
    #[serde(default)]
    pub base_currency: String,
    #[serde(default)]
    pub quote_currency: String,
    pub is_open: bool,
    #[serde(default)]
    pub is_short: bool,
    #[serde(default)]
    pub exchange: String,
    #[serde(default)]
    pub strategy: String,
    #[serde(default)]
    pub enter_tag: Option<String>,
    /// Minutes (an integer, not `"5m"`).
    #[serde(default)]
    pub timeframe: Option<u32>,
    pub amount: f64,
    #[serde(default)]
    pub amount_requested: Option<f64>,
    pub stake_amount: f64,
    #[serde(default)]
    pub max_stake_amount: Option<f64>,
    #[serde(default)]
    pub leverage: Option<f64>,
    #[serde(default)]
    pub trading_mode: Option<String>,

    pub open_rate: f64,
    #[serde(default)]
    pub open_rate_requested: Option<f64>,
    #[serde(default)]
    pub open_trade_value: Option<f64>,
    /// Read from `open_timestamp` (milliseconds), the exact form of `open_date`.
    #[serde(rename = "open_timestamp", deserialize_with = "ms_datetime")]
    pub open_date: DateTime<Utc>,
    #[serde(
        rename = "close_timestamp",
        default,
        deserialize_with = "opt_ms_datetime"
    )]
    pub close_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub close_rate: Option<f64>,

    /// Closed trades: the final profit ratio. Open trades: `null`.
    #[serde(default)]
    pub close_profit: Option<f64>,
    #[serde(default)]
    pub close_profit_abs: Option<f64>,
    /// Open trades: the profit at `current_rate`; closed trades: the final profit.
    #[serde(default)]
    pub profit_ratio: Option<f64>,
    #[serde(default)]
    pub profit_pct: Option<f64>,
    #[serde(default)]
    pub profit_abs: Option<f64>,
    /// Profit already taken by partial exits.
    #[serde(default)]
    pub realized_profit: Option<f64>,
    /// Open trades only: the latest exit-side price, `null` if the bot has no ticker.
    #[serde(default)]
    pub current_rate: Option<f64>,
    /// Open trades only: unrealised plus realised profit.
    #[serde(default)]
    pub total_profit_abs: Option<f64>,
    #[serde(default)]
    pub total_profit_ratio: Option<f64>,

    #[serde(default)]
    pub exit_reason: Option<String>,
    #[serde(default)]
    pub exit_order_status: Option<String>,
    #[serde(default)]
    pub stop_loss_abs: Option<f64>,
    #[serde(default)]
    pub stop_loss_ratio: Option<f64>,
    #[serde(default)]
    pub liquidation_price: Option<f64>,

    #[serde(default)]
    pub fee_open: Option<f64>,
    #[serde(default)]
    pub fee_open_cost: Option<f64>,
    #[serde(default)]
    pub fee_open_currency: Option<String>,
    #[serde(default)]
    pub fee_close: Option<f64>,
    #[serde(default)]
    pub fee_close_cost: Option<f64>,
    #[serde(default)]
    pub fee_close_currency: Option<String>,
    #[serde(default)]
    pub funding_fees: Option<f64>,

    #[serde(default)]
    pub has_open_orders: bool,
    #[serde(default)]
    pub orders: Vec<Order>,
}

/// One exchange order of a trade (entry, exit or stoploss).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Order {
    pub order_id: String,
    /// `buy`, `sell` or `stoploss`.
    #[serde(default)]
    pub ft_order_side: String,
    #[serde(default)]
    pub order_type: String,
    /// The exchange's status: `open`, `closed`, `canceled`, ...
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub is_open: bool,
    #[serde(default)]
    pub amount: Option<f64>,
    #[serde(default)]
    pub filled: Option<f64>,
    #[serde(default)]
    pub safe_price: Option<f64>,
    #[serde(default)]
    pub cost: Option<f64>,
    #[serde(
        rename = "order_timestamp",
        default,
        deserialize_with = "opt_ms_datetime"
    )]
    pub order_date: Option<DateTime<Utc>>,
    #[serde(
        rename = "order_filled_timestamp",
        default,
        deserialize_with = "opt_ms_datetime"
    )]
    pub order_filled_date: Option<DateTime<Utc>>,
}

/// `GET /trades?limit=&offset=`: one page of closed trades, oldest id first.
///
/// `total_trades` counts every closed trade, so a sync can tell when it has them all;
/// offsets shift when an older trade closes late, so sync by `trade_id`, not by offset.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TradesPage {
    pub trades: Vec<Trade>,
    /// Trades in this page.
    pub trades_count: u64,
    pub offset: u64,
    pub total_trades: u64,
}

/// `GET /profit`: the bot's profit summary. Ratios are fractions (0.01 is 1 %); the `_coin`
/// amounts are in the stake currency, the `_fiat` ones in `fiat_display_currency`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Profit {
    pub profit_closed_coin: f64,
    #[serde(default)]
    pub profit_closed_ratio: Option<f64>,
    #[serde(default)]
    pub profit_closed_percent: Option<f64>,
    #[serde(default)]
    pub profit_closed_fiat: Option<f64>,
    pub profit_all_coin: f64,
    #[serde(default)]
    pub profit_all_ratio: Option<f64>,
    #[serde(default)]
    pub profit_all_percent: Option<f64>,
    #[serde(default)]
    pub profit_all_fiat: Option<f64>,
    /// All trades, open and closed.
    pub trade_count: u64,
    pub closed_trade_count: u64,
    #[serde(default)]
    pub winning_trades: u64,
    #[serde(default)]
    pub losing_trades: u64,
    #[serde(default)]
    pub winrate: Option<f64>,
    #[serde(default)]
    pub profit_factor: Option<f64>,
    #[serde(default)]
    pub expectancy: Option<f64>,
    #[serde(default)]
    pub expectancy_ratio: Option<f64>,
    #[serde(default)]
    pub max_drawdown: Option<f64>,
    #[serde(default)]
    pub max_drawdown_abs: Option<f64>,
    #[serde(default)]
    pub trading_volume: Option<f64>,
    /// Humanised by freqtrade, e.g. `"0:05:00"`.
    #[serde(default)]
    pub avg_duration: String,
    #[serde(default)]
    pub best_pair: String,
    #[serde(default)]
    pub best_pair_profit_ratio: Option<f64>,
    /// `None` when the bot has no trade yet (freqtrade sends 0).
    #[serde(
        rename = "first_trade_timestamp",
        default,
        deserialize_with = "opt_ms_datetime"
    )]
    pub first_trade: Option<DateTime<Utc>>,
    #[serde(
        rename = "latest_trade_timestamp",
        default,
        deserialize_with = "opt_ms_datetime"
    )]
    pub latest_trade: Option<DateTime<Utc>>,
    #[serde(
        rename = "bot_start_timestamp",
        default,
        deserialize_with = "opt_ms_datetime"
    )]
    pub bot_start: Option<DateTime<Utc>>,
}

/// `GET /balance`: the wallet as the bot sees it (simulated in dry-run).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Balance {
    pub currencies: Vec<CurrencyBalance>,
    /// Total value in the stake currency.
    pub total: f64,
    /// The part of `total` the bot manages.
    #[serde(default)]
    pub total_bot: Option<f64>,
    /// The stake currency.
    pub stake: String,
    /// The fiat display currency, empty if none.
    #[serde(default)]
    pub symbol: String,
    /// `total` in `symbol`.
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub value_bot: Option<f64>,
    #[serde(default)]
    pub starting_capital: Option<f64>,
    #[serde(default)]
    pub starting_capital_ratio: Option<f64>,
    /// `"Simulated balances"` in dry-run.
    #[serde(default)]
    pub note: String,
}

/// One currency (or futures position) in [`Balance`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CurrencyBalance {
    pub currency: String,
    #[serde(default)]
    pub free: f64,
    #[serde(default)]
    pub balance: f64,
    #[serde(default)]
    pub used: f64,
    #[serde(default)]
    pub bot_owned: Option<f64>,
    /// Value in the stake currency.
    #[serde(default)]
    pub est_stake: Option<f64>,
    #[serde(default)]
    pub est_stake_bot: Option<f64>,
    #[serde(default)]
    pub stake: String,
    /// `long`/`short` for futures positions.
    #[serde(default)]
    pub side: String,
    #[serde(default)]
    pub leverage: Option<f64>,
    #[serde(default)]
    pub is_position: bool,
    #[serde(default)]
    pub position: Option<f64>,
    #[serde(default)]
    pub is_bot_managed: bool,
}

/// `GET /count`: open trades against the limit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Count {
    pub current: u64,
    /// Unlimited is `-1`.
    #[serde(deserialize_with = "int_from_number")]
    pub max: i64,
    /// Stake currently in open trades.
    pub total_stake: f64,
}

/// One row of `GET /performance`: closed-trade profit per pair, best first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PairPerformance {
    pub pair: String,
    #[serde(default)]
    pub profit_ratio: Option<f64>,
    #[serde(default)]
    pub profit_pct: Option<f64>,
    #[serde(default)]
    pub profit_abs: Option<f64>,
    pub count: u64,
}

/// `GET /daily?timescale=N`: profit per UTC day, newest first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Daily {
    pub data: Vec<DailyRow>,
    #[serde(default)]
    pub stake_currency: String,
    #[serde(default)]
    pub fiat_display_currency: String,
}

/// One day of [`Daily`]; days without a closed trade are present with zeros.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DailyRow {
    pub date: NaiveDate,
    pub abs_profit: f64,
    #[serde(default)]
    pub rel_profit: Option<f64>,
    #[serde(default)]
    pub starting_balance: Option<f64>,
    #[serde(default)]
    pub fiat_value: Option<f64>,
    pub trade_count: u64,
}

/// `GET /logs?limit=N`: the bot's most recent log records, oldest first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Logs {
    pub log_count: u64,
    pub logs: Vec<LogLine>,
}

/// One log record. freqtrade sends it as an array
/// `[formatted time, epoch milliseconds (float), logger, level, message]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub time: DateTime<Utc>,
    pub logger: String,
    /// `DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`.
    pub level: String,
    /// The message, with the traceback appended after a newline if there was one.
    pub message: String,
}

impl<'de> Deserialize<'de> for LogLine {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Read the fields by position and ignore any that a later version appends.
        let raw = Vec::<serde_json::Value>::deserialize(deserializer)?;
        let text = |i: usize| raw.get(i).and_then(|v| v.as_str()).map(str::to_owned);
        let millis = raw
            .get(1)
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| serde::de::Error::custom("log record without epoch milliseconds"))?;
        Ok(LogLine {
            time: datetime_from_millis(millis).map_err(serde::de::Error::custom)?,
            logger: text(2).unwrap_or_default(),
            level: text(3).unwrap_or_default(),
            message: text(4).unwrap_or_default(),
        })
    }
}

/// `{"status": "..."}`: the answer of `start`, `stop`, `stopentry` and `reload_config`,
/// a human-readable sentence such as `"starting trader ..."` or `"already running"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StatusMessage {
    pub status: String,
}

/// `{"result": "..."}`: the answer of `forceexit`, e.g.
/// `"Created exit order for trade 1."`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResultMessage {
    pub result: String,
}

/// The answer of `forceenter`: the new (or increased) trade, or freqtrade's
/// `{"status": "Error entering long trade for pair ..."}` when the order was not placed
/// without a bot-side error.
#[derive(Debug, Clone, PartialEq)]
pub enum ForceEnterOutcome {
    Entered(Box<Trade>),
    NotEntered { status: String },
}

impl<'de> Deserialize<'de> for ForceEnterOutcome {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Decided by the presence of `trade_id`, so a malformed trade reports its real fault
        // instead of serde's untagged "did not match any variant".
        let value = serde_json::Value::deserialize(deserializer)?;
        if value.get("trade_id").is_some() {
            let trade = Trade::deserialize(value).map_err(serde::de::Error::custom)?;
            return Ok(ForceEnterOutcome::Entered(Box::new(trade)));
        }
        match value.get("status").and_then(serde_json::Value::as_str) {
            Some(status) => Ok(ForceEnterOutcome::NotEntered {
                status: status.to_owned(),
            }),
            None => Err(serde::de::Error::custom(
                "neither a trade nor a status message",
            )),
        }
    }
}

/// Direction of a forced entry. Short needs margin or futures trading mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    #[default]
    Long,
    Short,
}

/// Order type of a forced entry or exit; without one the strategy's `order_types` decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderType {
    Market,
    Limit,
}

/// Body of `POST /forceenter`. Needs `force_entry_enable: true` in the bot's config.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForceEnter {
    pub pair: String,
    pub side: Side,
    /// Limit price; `None` takes the strategy's entry pricing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    #[serde(rename = "ordertype", skip_serializing_if = "Option::is_none")]
    pub order_type: Option<OrderType>,
    /// Stake in the stake currency; `None` takes the bot's `stake_amount`.
    #[serde(rename = "stakeamount", skip_serializing_if = "Option::is_none")]
    pub stake_amount: Option<f64>,
    /// freqtrade tags the trade `force_entry` when this is `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leverage: Option<f64>,
}

impl ForceEnter {
    /// A long entry on `pair` with everything else left to the strategy.
    pub fn long(pair: impl Into<String>) -> Self {
        ForceEnter {
            pair: pair.into(),
            side: Side::Long,
            price: None,
            order_type: None,
            stake_amount: None,
            entry_tag: None,
            leverage: None,
        }
    }

    /// A short entry on `pair` with everything else left to the strategy.
    pub fn short(pair: impl Into<String>) -> Self {
        ForceEnter {
            side: Side::Short,
            ..ForceEnter::long(pair)
        }
    }
}

/// Which trades `POST /forceexit` closes. freqtrade takes the id as a string, or `"all"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitTarget {
    Trade(i64),
    All,
}

impl Serialize for ExitTarget {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ExitTarget::Trade(id) => serializer.collect_str(id),
            ExitTarget::All => serializer.serialize_str("all"),
        }
    }
}

/// Body of `POST /forceexit`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForceExit {
    #[serde(rename = "tradeid")]
    pub trade: ExitTarget,
    #[serde(rename = "ordertype", skip_serializing_if = "Option::is_none")]
    pub order_type: Option<OrderType>,
    /// Partial exit of this amount (base currency); `None` exits the whole trade.
    /// Ignored by freqtrade for [`ExitTarget::All`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
}

impl ForceExit {
    /// Exit the whole of one trade with the strategy's exit order type.
    pub fn trade(trade_id: i64) -> Self {
        ForceExit {
            trade: ExitTarget::Trade(trade_id),
            order_type: None,
            amount: None,
        }
    }

    /// Exit every open trade of the bot.
    pub fn all() -> Self {
        ForceExit {
            trade: ExitTarget::All,
            order_type: None,
            amount: None,
        }
    }
}

// ---- lenient scalar readers -------------------------------------------------------------

/// A JSON scalar as freqtrade may send it for a date or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Int(i64),
    Float(f64),
    Text(String),
}

fn datetime_from_millis(millis: f64) -> Result<DateTime<Utc>, String> {
    if !millis.is_finite() {
        return Err(format!("timestamp {millis} is not a number"));
    }
    // Float milliseconds (from `/logs`) keep their sub-millisecond part as microseconds.
    let micros = (millis * 1000.0).round() as i64;
    DateTime::<Utc>::from_timestamp_micros(micros)
        .ok_or_else(|| format!("timestamp {millis} ms is out of range"))
}

/// Parses the date forms freqtrade uses: RFC 3339 (pydantic), `"YYYY-MM-DD HH:MM:SS"` in
/// UTC (freqtrade's own print format) with or without fractions, or epoch milliseconds.
fn parse_datetime(scalar: Scalar) -> Result<DateTime<Utc>, String> {
    match scalar {
        Scalar::Int(millis) => datetime_from_millis(millis as f64),
        Scalar::Float(millis) => datetime_from_millis(millis),
        Scalar::Text(text) => {
            if let Ok(date) = DateTime::parse_from_rfc3339(&text) {
                return Ok(date.with_timezone(&Utc));
            }
            // pydantic prints naive datetimes as `YYYY-MM-DDTHH:MM:SS`; freqtrade stores UTC.
            for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
                if let Ok(naive) = NaiveDateTime::parse_from_str(&text, format) {
                    return Ok(naive.and_utc());
                }
            }
            if let Ok(date) = DateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f%:z") {
                return Ok(date.with_timezone(&Utc));
            }
            Err(format!("unrecognised date {text:?}"))
        }
    }
}

fn opt_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<Scalar>::deserialize(d)? {
        None => Ok(None),
        Some(Scalar::Text(text)) if text.is_empty() => Ok(None),
        Some(scalar) => parse_datetime(scalar)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

fn ms_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    parse_datetime(Scalar::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// Millisecond timestamps where `null` or 0 mean "never" (freqtrade's `dt_ts_def(.., 0)`).
fn opt_ms_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<Scalar>::deserialize(d)? {
        None | Some(Scalar::Int(0)) => Ok(None),
        Some(Scalar::Float(0.0)) => Ok(None),
        Some(Scalar::Text(text)) if text.is_empty() => Ok(None),
        Some(scalar) => parse_datetime(scalar)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// An integer that Python may have written as a float (`3.0`) or as infinity (`null`
/// after orjson); infinity and `null` read as freqtrade's "unlimited", `-1`.
fn int_from_number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    match Option::<Scalar>::deserialize(d)? {
        None => Ok(-1),
        Some(Scalar::Int(n)) => Ok(n),
        Some(Scalar::Float(f)) if f.is_finite() && f.fract() == 0.0 => Ok(f as i64),
        Some(Scalar::Float(f)) => Err(serde::de::Error::custom(format!(
            "{f} is not a whole number"
        ))),
        Some(Scalar::Text(text)) => text
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a whole number"))),
    }
}

/// A value freqtrade documents as a string but older versions sent as a number.
fn string_from_scalar<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Option::<Scalar>::deserialize(d)? {
        None => String::new(),
        Some(Scalar::Int(n)) => n.to_string(),
        Some(Scalar::Float(f)) => f.to_string(),
        Some(Scalar::Text(text)) => text,
    })
}

#[cfg(test)]
#[path = "models_tests.rs"]
mod tests;
