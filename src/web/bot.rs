//! A bot's page: its settings (credentials live with its exchange; values under
//! credential-like names are hidden anyway), its status history from its events, its
//! health, open trades at their last marks, closed trades a page at a time, its equity
//! curve and daily profit, and, for admins, the tail of its log.

use std::time::Duration;

use anytrade_aggregates::values::BotId;
use anytrade_projections::bots::{self, BotRow};
use anytrade_projections::page::{Cursor, Direction};
use anytrade_projections::trades::marks::{self, TradeMark};
use anytrade_projections::trades::{
    self, TradeFilter, TradeOrder, TradeOrderField, TradeRow, curve,
};
use anytrade_projections::{exchanges, page::PageError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::fleet::{FleetRow, rfc3339, rows, upper};
use super::{WebState, charts, current, render, unavailable};
use crate::audit::statuses::bot_statuses;
use crate::auth::Principal;

/// Closed trades per page.
const CLOSED_PAGE: i64 = 20;
/// Status changes shown, newest first.
const HISTORY: usize = 50;
/// Lines of the log's tail.
const LOG_LINES: usize = 100;
/// How long the page waits for the runtime's log before it shows none.
const LOG_WAIT: Duration = Duration::from_secs(3);
/// Points of the equity curve at most, whatever the number of trades.
const EQUITY_POINTS: i32 = 400;
/// Days of daily profit shown.
const DAYS: u64 = 60;

/// Where the closed trades' page starts: after the row this cursor names.
#[derive(Debug, Default, Deserialize)]
pub struct After {
    key: Option<String>,
    id: Option<Uuid>,
}

impl After {
    fn cursor(self) -> Option<Cursor> {
        Some(Cursor {
            key: self.key?,
            id: self.id?,
        })
    }
}

/// One trade as the tables show it; an open trade's close columns hold its last mark.
pub struct TradeLine {
    pub trade_id: i64,
    pub pair: String,
    pub opened: String,
    pub closed: String,
    pub open_rate: f64,
    /// Close rate, or the current rate of an open trade (when marked).
    pub rate: Option<f64>,
    pub stake: f64,
    pub profit_abs: Option<f64>,
    pub profit_pct: Option<f64>,
    pub exit_reason: String,
}

impl TradeLine {
    fn of(trade: &TradeRow, mark: Option<&TradeMark>) -> Self {
        let (rate, profit_abs, ratio) = match mark {
            Some(mark) => (mark.current_rate, mark.profit_abs, mark.profit_ratio),
            None => (trade.close_rate, trade.profit_abs, trade.profit_ratio),
        };
        Self {
            trade_id: trade.freqtrade_trade_id,
            pair: trade.pair.clone(),
            opened: rfc3339(trade.open_date),
            closed: trade.close_date.map(rfc3339).unwrap_or_default(),
            open_rate: trade.open_rate,
            rate,
            stake: trade.stake_amount,
            profit_abs,
            profit_pct: ratio.map(|r| r * 100.0),
            exit_reason: trade.exit_reason.clone().unwrap_or_default(),
        }
    }
}

/// One change of the bot's status.
pub struct HistoryLine {
    pub at: String,
    pub status: String,
    pub event: String,
    pub actor: String,
    pub reason: String,
}

/// Everything the page shows from the read models and the log of events.
struct BotView {
    row: FleetRow,
    /// (name, value) of each setting, in the order a person reads them.
    settings: Vec<(String, String)>,
    exchange_id: String,
    exchange: String,
    strategy_id: String,
    history: Vec<HistoryLine>,
    open: Vec<TradeLine>,
    closed: ClosedPage,
    charts: BotCharts,
}

#[derive(Template)]
#[template(path = "web/bot.html")]
struct BotPage {
    view: BotView,
    /// Admins get the Close buttons, and the log.
    admin: bool,
    /// The log's tail, or why there is none.
    log: Result<Vec<String>, String>,
}

/// `GET /ui/bots/{id}`, with `?key=…&id=…` for an older page of closed trades.
pub async fn page(
    State(state): State<WebState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Query(after): Query<After>,
) -> Response {
    let principal = match current(&state, principal).await {
        Ok(principal) => principal,
        Err(refused) => return refused,
    };
    let bot = BotId::from(id);
    let found = match bots::get(&state.pool, bot).await {
        Ok(found) => found,
        Err(e) => return unavailable(e),
    };
    let Some(stored) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let admin = principal.can_mutate();
    let (log, view) = tokio::join!(
        log_tail(&state, &stored, admin),
        read(&state, stored.clone(), after.cursor())
    );
    match view {
        Ok(view) => render(&BotPage { view, admin, log }),
        Err(PageError::Cursor(why)) => (StatusCode::BAD_REQUEST, why).into_response(),
        Err(PageError::Database(e)) => unavailable(e),
    }
}

/// What the page shows from the read models and the log of events.
async fn read(
    state: &WebState,
    stored: BotRow,
    after: Option<Cursor>,
) -> Result<BotView, PageError> {
    let pool = &state.pool;
    let bot = stored.id;
    let exchange = exchanges::get(pool, stored.exchange_id)
        .await?
        .map(|e| e.name)
        .unwrap_or_default();
    Ok(BotView {
        settings: settings(&stored),
        exchange_id: stored.exchange_id.to_string(),
        strategy_id: stored.strategy_id.to_string(),
        exchange,
        history: history(pool, bot).await,
        open: open_trades(pool, bot).await?,
        closed: closed_trades(pool, bot, after).await?,
        charts: charts_of(pool, bot, stored.created_at).await?,
        row: rows(state, vec![stored], Some(bot))
            .await?
            .pop()
            .ok_or(PageError::Database(sqlx::Error::RowNotFound))?,
    })
}

/// The bot's last status changes; none (and a warning) when its events cannot be read.
async fn history(pool: &sqlx::PgPool, bot: BotId) -> Vec<HistoryLine> {
    match bot_statuses(pool, bot, HISTORY).await {
        Ok(changes) => changes
            .into_iter()
            .map(|change| HistoryLine {
                at: rfc3339(change.at),
                status: upper(change.status.as_str()),
                event: change.event_type,
                actor: change.actor.unwrap_or_default(),
                reason: change.reason.unwrap_or_default(),
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, %bot, "a bot's status history cannot be read");
            Vec::new()
        }
    }
}

const NEWEST_FIRST: TradeOrder = TradeOrder {
    field: TradeOrderField::OpenDate,
    direction: Direction::Desc,
};

/// Open trades shown at most (freqtrade's `max_open_trades` is far below).
const OPEN_SHOWN: i64 = 100;

/// The bot's open trades (newest first), at their last marks.
async fn open_trades(pool: &sqlx::PgPool, bot: BotId) -> Result<Vec<TradeLine>, PageError> {
    let open = TradeFilter {
        is_open: Some(true),
        pair: None,
    };
    let open = trades::list(pool, bot, &open, NEWEST_FIRST, None, OPEN_SHOWN).await?;
    let keys: Vec<(BotId, i64)> = open
        .rows
        .iter()
        .map(|(t, _)| (bot, t.freqtrade_trade_id))
        .collect();
    let marked = marks::by_trades(pool, &keys).await?;
    Ok(open
        .rows
        .iter()
        .map(|(t, _)| TradeLine::of(t, marked.get(&(bot, t.freqtrade_trade_id))))
        .collect())
}

/// A page of closed trades, newest first.
pub struct ClosedPage {
    pub lines: Vec<TradeLine>,
    /// Closed trades in all.
    pub total: i64,
    /// The cursor of the next (older) page, if one follows.
    pub older: Option<Cursor>,
    /// Whether this is the first page.
    pub newest: bool,
}

async fn closed_trades(
    pool: &sqlx::PgPool,
    bot: BotId,
    after: Option<Cursor>,
) -> Result<ClosedPage, PageError> {
    let closed = TradeFilter {
        is_open: Some(false),
        pair: None,
    };
    let page = trades::list(
        pool,
        bot,
        &closed,
        NEWEST_FIRST,
        after.as_ref(),
        CLOSED_PAGE,
    )
    .await?;
    Ok(ClosedPage {
        older: page
            .has_next
            .then(|| page.rows.last().map(|(_, cursor)| cursor.clone()))
            .flatten(),
        lines: page
            .rows
            .iter()
            .map(|(t, _)| TradeLine::of(t, None))
            .collect(),
        total: page.total,
        newest: after.is_none(),
    })
}

/// The bot's charts, drawn by [`charts`] (numbers only, no text).
pub struct BotCharts {
    pub equity: Option<String>,
    pub daily: Option<String>,
    /// When the curve starts: the bot's creation.
    pub since: String,
    pub last_close: String,
}

/// The charts of `bot`: its equity from zero when it was `created`, and the profit of
/// each of the last [`DAYS`] days.
async fn charts_of(
    pool: &sqlx::PgPool,
    bot: BotId,
    created: DateTime<Utc>,
) -> sqlx::Result<BotCharts> {
    let equity = curve::equity(pool, bot, EQUITY_POINTS).await?;
    let ms = |at: &DateTime<Utc>| at.timestamp_millis() as f64;
    let points = std::iter::once((ms(&created), 0.0))
        .chain(equity.iter().map(|(at, profit)| (ms(at), *profit)))
        .collect();
    let today = Utc::now().date_naive();
    let first_day = today - chrono::Days::new(DAYS - 1);
    let since = first_day.and_time(chrono::NaiveTime::MIN).and_utc();
    let day = |date: NaiveDate| f64::from(date.num_days_from_ce());
    let days: Vec<(f64, f64)> = curve::daily(pool, bot, since)
        .await?
        .into_iter()
        .map(|(date, profit)| (day(date), profit))
        .collect();
    Ok(BotCharts {
        since: rfc3339(created),
        last_close: equity
            .last()
            .map(|(at, _)| rfc3339(*at))
            .unwrap_or_default(),
        // Only closed trades make a curve; the starting point alone does not.
        equity: (!equity.is_empty())
            .then(|| charts::line(&charts::cumulative(points)))
            .flatten(),
        daily: charts::bars(&days, (day(first_day), day(today))),
    })
}

/// The bot's settings as (name, value) text: how it runs and what it trades.
fn settings(stored: &BotRow) -> Vec<(String, String)> {
    let mut settings = vec![
        (
            "Freqtrade version".to_owned(),
            stored.freqtrade_version.clone(),
        ),
        (
            "Runtime id".to_owned(),
            stored.runtime_id.clone().unwrap_or_default(),
        ),
        (
            "API address".to_owned(),
            stored.api_url.clone().unwrap_or_default(),
        ),
        ("Created".to_owned(), rfc3339(stored.created_at)),
        (
            "Started".to_owned(),
            stored.started_at.map(rfc3339).unwrap_or_default(),
        ),
    ];
    let mut config = stored.config.clone();
    crate::redact::credential_like(&mut config);
    for (name, value) in [("config", &config), ("resources", &stored.resources)] {
        if let Value::Object(fields) = value {
            for (field, value) in fields {
                settings.push((format!("{name}.{field}"), setting(value)));
            }
        }
    }
    settings
}

/// A stored setting as a person reads it: text as is, a list of text joined, anything
/// else as JSON.
fn setting(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// The last lines of the bot's log from its runtime, or why there are none. Only for
/// admins: a log may say more than a viewer should see, and no API gives it to them.
async fn log_tail(state: &WebState, stored: &BotRow, admin: bool) -> Result<Vec<String>, String> {
    if !admin {
        return Err("The log is shown to admins.".to_owned());
    }
    let runtime = state
        .runtimes
        .for_bot(stored.runtime)
        .map_err(|e| e.to_string())?;
    match tokio::time::timeout(LOG_WAIT, runtime.logs(stored.id, LOG_LINES)).await {
        Ok(Ok(lines)) => Ok(lines),
        Ok(Err(e)) => Err(format!("the runtime has no log of it: {e}")),
        Err(_) => Err(format!(
            "the runtime did not answer within {} s",
            LOG_WAIT.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::setting;

    #[test]
    fn settings_read_as_text() {
        assert_eq!(
            setting(&json!(["BTC/USDT", "ETH/USDT"])),
            "BTC/USDT, ETH/USDT"
        );
        assert_eq!(setting(&json!("100")), "100");
        assert_eq!(setting(&json!(3)), "3");
        assert_eq!(setting(&json!(null)), "");
        assert_eq!(
            setting(&json!({ "order_types": { "entry": "market" } })),
            "{\n  \"order_types\": {\n    \"entry\": \"market\"\n  }\n}"
        );
    }
}
