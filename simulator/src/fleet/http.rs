//! The HTTP surface: one handler parses `/bots/{n}/api/v1/{endpoint}` itself (cheaper than a
//! route per endpoint and bot, and one place for freqtrade's 404/405/401 shapes), plus
//! `GET /stats`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::Caller;
use super::profit::{CountJson, ProfitJson};
use super::time::{IsoDate, now_ms};
use super::trade::{EXCHANGE, STAKE, STAKE_CURRENCY, STRATEGY, Shape, TradeJson, TradesJson};
use super::{Fleet, View};

/// freqtrade's largest `/trades` page.
const MAX_TRADES_PAGE: u64 = 500;
/// Largest request body read (`/forceexit`'s is a few dozen bytes).
const MAX_BODY: usize = 16 * 1024;

/// The endpoints counted by `/stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Ping,
    TokenLogin,
    TokenRefresh,
    ShowConfig,
    Health,
    Status,
    Trades,
    Trade,
    Profit,
    Count,
    ForceExit,
    Stats,
    /// Unknown paths and bots.
    NotFound,
}

const ENDPOINTS: [Endpoint; 13] = [
    Endpoint::Ping,
    Endpoint::TokenLogin,
    Endpoint::TokenRefresh,
    Endpoint::ShowConfig,
    Endpoint::Health,
    Endpoint::Status,
    Endpoint::Trades,
    Endpoint::Trade,
    Endpoint::Profit,
    Endpoint::Count,
    Endpoint::ForceExit,
    Endpoint::Stats,
    Endpoint::NotFound,
];

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Endpoint::Ping => "ping",
            Endpoint::TokenLogin => "token_login",
            Endpoint::TokenRefresh => "token_refresh",
            Endpoint::ShowConfig => "show_config",
            Endpoint::Health => "health",
            Endpoint::Status => "status",
            Endpoint::Trades => "trades",
            Endpoint::Trade => "trade",
            Endpoint::Profit => "profit",
            Endpoint::Count => "count",
            Endpoint::ForceExit => "forceexit",
            Endpoint::Stats => "stats",
            Endpoint::NotFound => "not_found",
        }
    }

    /// The method freqtrade serves the endpoint with.
    fn method(self) -> Method {
        match self {
            Endpoint::TokenLogin | Endpoint::TokenRefresh | Endpoint::ForceExit => Method::POST,
            _ => Method::GET,
        }
    }
}

/// Request counters: relaxed atomics, so counting never serialises the handlers.
#[derive(Debug, Default)]
pub struct Stats {
    by_endpoint: [AtomicU64; ENDPOINTS.len()],
    unauthorized: AtomicU64,
}

impl Stats {
    fn bump(&self, endpoint: Endpoint) {
        if let Some(counter) = self.by_endpoint.get(endpoint as usize) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn get(&self, endpoint: Endpoint) -> u64 {
        self.by_endpoint
            .get(endpoint as usize)
            .map_or(0, |counter| counter.load(Ordering::Relaxed))
    }
}

pub(super) fn router(fleet: Fleet) -> Router {
    Router::new()
        .route("/stats", get(stats))
        .fallback(bot_api)
        .with_state(Arc::new(fleet))
}

async fn stats(State(fleet): State<Arc<Fleet>>) -> Response {
    fleet.stats.bump(Endpoint::Stats);
    let by_endpoint: serde_json::Map<String, serde_json::Value> = ENDPOINTS
        .iter()
        .map(|e| (e.name().to_owned(), fleet.stats.get(*e).into()))
        .collect();
    let total: u64 = ENDPOINTS.iter().map(|e| fleet.stats.get(*e)).sum();
    json_response(
        StatusCode::OK,
        &json!({
            "bots": fleet.bots.len(),
            "requests_total": total,
            "requests_by_endpoint": by_endpoint,
            "unauthorized_total": fleet.stats.unauthorized.load(Ordering::Relaxed),
            "uptime_secs": fleet.started.elapsed().as_secs_f64(),
        }),
        256,
    )
}

/// `/bots/{n}/api/v1/<rest>` → (n, rest).
fn split_path(path: &str) -> Option<(u32, &str)> {
    let (bot, rest) = path.strip_prefix("/bots/")?.split_once('/')?;
    Some((bot.parse().ok()?, rest.strip_prefix("api/v1/")?))
}

/// The endpoint and, for `/trade/{id}`, the raw id.
fn parse_endpoint(rest: &str) -> Option<(Endpoint, &str)> {
    let endpoint = match rest {
        "ping" => Endpoint::Ping,
        "token/login" => Endpoint::TokenLogin,
        "token/refresh" => Endpoint::TokenRefresh,
        "show_config" => Endpoint::ShowConfig,
        "health" => Endpoint::Health,
        "status" => Endpoint::Status,
        "trades" => Endpoint::Trades,
        "profit" => Endpoint::Profit,
        "count" => Endpoint::Count,
        "forceexit" => Endpoint::ForceExit,
        _ => {
            let id = rest.strip_prefix("trade/").filter(|id| !id.contains('/'))?;
            return Some((Endpoint::Trade, id));
        }
    };
    Some((endpoint, ""))
}

async fn bot_api(State(fleet): State<Arc<Fleet>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let found = split_path(parts.uri.path()).and_then(|(n, rest)| {
        let bot = fleet.bot(n)?;
        let (endpoint, arg) = parse_endpoint(rest)?;
        Some((n, bot, endpoint, arg))
    });
    let Some((n, bot, endpoint, arg)) = found else {
        fleet.stats.bump(Endpoint::NotFound);
        tracing::debug!(method = %parts.method, uri = %parts.uri, "no such bot or endpoint");
        return detail(StatusCode::NOT_FOUND, "Not Found");
    };
    fleet.stats.bump(endpoint);
    if parts.method != endpoint.method() {
        return detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }

    let caller = if endpoint == Endpoint::Ping {
        Caller::Anonymous
    } else {
        fleet
            .auth
            .caller(parts.headers.get(AUTHORIZATION), n, now_ms() / 1000)
    };
    let allowed = match endpoint {
        Endpoint::Ping => true,
        Endpoint::TokenLogin => caller == Caller::Basic,
        Endpoint::TokenRefresh => caller == Caller::Refresh,
        _ => caller.may_call(),
    };
    if !allowed {
        fleet.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
        return detail(StatusCode::UNAUTHORIZED, "Unauthorized");
    }

    match endpoint {
        Endpoint::Ping => with_json_type(StatusCode::OK, Body::from(r#"{"status":"pong"}"#)),
        Endpoint::TokenLogin => {
            let now_s = now_ms() / 1000;
            let tokens = Tokens {
                access_token: fleet.auth.mint(false, n, now_s),
                refresh_token: Some(fleet.auth.mint(true, n, now_s)),
            };
            json_response(StatusCode::OK, &tokens, 160)
        }
        Endpoint::TokenRefresh => {
            let tokens = Tokens {
                access_token: fleet.auth.mint(false, n, now_ms() / 1000),
                refresh_token: None,
            };
            json_response(StatusCode::OK, &tokens, 96)
        }
        Endpoint::ShowConfig => fleet.show_config.render(n),
        Endpoint::Health => {
            let now = now_ms();
            let start = fleet.schedule.start_ms();
            let health = Health {
                last_process: IsoDate(now),
                last_process_ts: now / 1000,
                bot_start: IsoDate(start),
                bot_start_ts: start / 1000,
                bot_startup: IsoDate(start),
                bot_startup_ts: start / 1000,
            };
            json_response(StatusCode::OK, &health, 256)
        }
        Endpoint::Status => {
            let trades = View::new(&fleet, n, bot).open_trades();
            let json = TradesJson {
                trades: &trades,
                shape: Shape::Detail,
            };
            json_response(StatusCode::OK, &json, 64 + 3_000 * trades.len())
        }
        Endpoint::Trades => {
            let (limit, offset) = match trades_query(parts.uri.query()) {
                Ok(query) => query,
                Err((name, input)) => return int_parsing("query", name, input),
            };
            let (trades, total) = View::new(&fleet, n, bot).closed_page(offset, limit);
            let page = TradesPage {
                trades: TradesJson {
                    trades: &trades,
                    shape: Shape::History,
                },
                trades_count: trades.len(),
                offset,
                total_trades: total,
            };
            json_response(StatusCode::OK, &page, 96 + 3_600 * trades.len())
        }
        Endpoint::Trade => {
            let Ok(id) = arg.parse::<i64>() else {
                return int_parsing("path", "tradeid", arg);
            };
            let view = View::new(&fleet, n, bot);
            match u64::try_from(id).ok().filter(|id| view.exists(*id)) {
                Some(id) => {
                    let trade = view.trade(id);
                    drop(view);
                    let json = TradeJson {
                        trade: &trade,
                        shape: Shape::Detail,
                    };
                    json_response(StatusCode::OK, &json, 3_000)
                }
                None => detail(StatusCode::NOT_FOUND, "Trade not found."),
            }
        }
        Endpoint::Profit => {
            let summary = View::new(&fleet, n, bot).summary();
            let profit = ProfitJson {
                summary,
                bot_start_ms: fleet.schedule.start_ms(),
                now_ms: now_ms(),
            };
            json_response(StatusCode::OK, &profit, 2_400)
        }
        Endpoint::Count => {
            let open = View::new(&fleet, n, bot).open_trades();
            let count = CountJson {
                current: open.len() as u64,
                max: fleet.schedule.max_open_trades(),
                total_stake: open.iter().map(|t| t.stake).sum(),
            };
            json_response(StatusCode::OK, &count, 64)
        }
        Endpoint::ForceExit => force_exit(&fleet, n, bot, body).await,
        Endpoint::Stats | Endpoint::NotFound => detail(StatusCode::NOT_FOUND, "Not Found"),
    }
}

#[derive(Serialize)]
struct Tokens {
    access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

#[derive(Serialize)]
struct Health {
    last_process: IsoDate,
    last_process_ts: i64,
    bot_start: IsoDate,
    bot_start_ts: i64,
    bot_startup: IsoDate,
    bot_startup_ts: i64,
}

#[derive(Serialize)]
struct TradesPage<'a> {
    trades: TradesJson<'a>,
    trades_count: usize,
    offset: u64,
    total_trades: u64,
}

/// `/show_config`: the fixture's configuration with this fleet's strategy and limits,
/// serialised once; only the bot name differs between bots.
#[derive(Debug)]
pub struct ShowConfigTemplate {
    /// Up to and including `"bot_name":"fleet-bot-`.
    head: String,
    tail: String,
}

impl ShowConfigTemplate {
    const MARK: &'static str = "@BOT_NUMBER@";

    pub fn new(max_open_trades: u64) -> Self {
        let config = json!({
            "version": "2026.9",
            "strategy_version": null,
            "api_version": 2.5,
            "dry_run": true,
            "trading_mode": "spot",
            "margin_mode": "",
            "short_allowed": false,
            "stake_currency": STAKE_CURRENCY,
            "stake_amount": STAKE.to_string(),
            "available_capital": null,
            "stake_currency_decimals": 3,
            "max_open_trades": max_open_trades as f64,
            "minimal_roi": {"0": 0.001},
            "stoploss": -0.1,
            "stoploss_on_exchange": false,
            "trailing_stop": false,
            "trailing_stop_positive": null,
            "trailing_stop_positive_offset": 0.0,
            "trailing_only_offset_is_reached": false,
            "unfilledtimeout": {"entry": 10, "exit": 10, "unit": "minutes", "exit_timeout_count": 0},
            "order_types": {
                "entry": "limit",
                "exit": "limit",
                "emergency_exit": "market",
                "stoploss": "limit",
                "stoploss_on_exchange": false,
                "stoploss_on_exchange_interval": 60
            },
            "use_custom_stoploss": false,
            "timeframe": "1m",
            "timeframe_ms": 60000,
            "timeframe_min": 1,
            "exchange": EXCHANGE,
            "demo_trading": false,
            "strategy": STRATEGY,
            "force_entry_enable": true,
            "exit_pricing": {"price_side": "other", "use_order_book": true, "order_book_top": 1},
            "entry_pricing": {
                "price_side": "other",
                "use_order_book": true,
                "order_book_top": 1,
                "price_last_balance": 0.0,
                "check_depth_of_market": {"enabled": false, "bids_to_ask_delta": 1}
            },
            "bot_name": format!("fleet-bot-{}", Self::MARK),
            "state": "running",
            "runmode": "dry_run",
            "position_adjustment_enable": false,
            "max_entry_position_adjustment": -1
        });
        let text = config.to_string();
        let (head, tail) = text.split_once(Self::MARK).unwrap_or((&text, ""));
        ShowConfigTemplate {
            head: head.to_owned(),
            tail: tail.to_owned(),
        }
    }

    fn render(&self, n: u32) -> Response {
        let mut body = String::with_capacity(self.head.len() + self.tail.len() + 10);
        body.push_str(&self.head);
        body.push_str(itoa_u32(n, &mut [0; 10]));
        body.push_str(&self.tail);
        with_json_type(StatusCode::OK, Body::from(body))
    }
}

/// `n` in decimal, written into `buffer` (no allocation).
fn itoa_u32(mut n: u32, buffer: &mut [u8; 10]) -> &str {
    let mut start = buffer.len();
    for slot in buffer.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buffer
        .get(start..)
        .and_then(|digits| std::str::from_utf8(digits).ok())
        .unwrap_or("0")
}

/// `limit` and `offset` of `/trades`, or the parameter that is not an integer.
fn trades_query(query: Option<&str>) -> Result<(u64, u64), (&str, &str)> {
    let (mut limit, mut offset) = (MAX_TRADES_PAGE, 0);
    for pair in query.unwrap_or("").split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let target = match name {
            "limit" => &mut limit,
            "offset" => &mut offset,
            _ => continue,
        };
        let Ok(number) = value.parse::<i64>() else {
            return Err((name, value));
        };
        // SQLite treats negative limits and offsets as none.
        *target = u64::try_from(number).unwrap_or(if name == "limit" { u64::MAX } else { 0 });
    }
    Ok((limit.min(MAX_TRADES_PAGE), offset))
}

#[derive(Deserialize)]
struct ForceExitBody {
    tradeid: TradeIdField,
}

/// freqtrade takes the id as a string or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum TradeIdField {
    Number(i64),
    Text(String),
}

async fn force_exit(fleet: &Fleet, n: u32, bot: &super::Bot, body: Body) -> Response {
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large");
    };
    let Ok(request) = serde_json::from_slice::<ForceExitBody>(&bytes) else {
        let invalid = json!({"detail": [{
            "type": "missing",
            "loc": ["body", "tradeid"],
            "msg": "Field required",
        }]});
        return json_response(StatusCode::UNPROCESSABLE_ENTITY, &invalid, 96);
    };
    let target = match request.tradeid {
        TradeIdField::Number(id) => Some(id),
        TradeIdField::Text(text) if text == "all" => None,
        // An id that is not a number matches no trade: freqtrade's "invalid argument".
        TradeIdField::Text(text) => Some(text.trim().parse().unwrap_or(-1)),
    };
    let mut view = View::new(fleet, n, bot);
    let message = match target {
        None => {
            let open: Vec<u64> = view.recent().filter(|id| view.is_open(*id)).collect();
            for id in open {
                view.force_exit(id);
            }
            "Created exit orders for all open trades.".to_owned()
        }
        Some(id) => match u64::try_from(id) {
            Ok(id) if view.force_exit(id) => format!("Created exit order for trade {id}."),
            _ => {
                drop(view);
                let error = json!({"error": "Error querying /api/v1/forceexit: invalid argument"});
                return json_response(StatusCode::BAD_GATEWAY, &error, 80);
            }
        },
    };
    drop(view);
    json_response(StatusCode::OK, &json!({ "result": message }), 64)
}

/// FastAPI's 422 for a parameter that is not an integer.
fn int_parsing(location: &str, name: &str, input: &str) -> Response {
    let invalid = json!({"detail": [{
        "type": "int_parsing",
        "loc": [location, name],
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": input,
    }]});
    json_response(StatusCode::UNPROCESSABLE_ENTITY, &invalid, 192)
}

/// FastAPI's error shape, `{"detail": "..."}`; the message is static text without quotes.
fn detail(status: StatusCode, message: &'static str) -> Response {
    let body = match message {
        "Not Found" => r#"{"detail":"Not Found"}"#,
        "Unauthorized" => r#"{"detail":"Unauthorized"}"#,
        "Trade not found." => r#"{"detail":"Trade not found."}"#,
        _ => return json_response(status, &json!({ "detail": message }), 48),
    };
    with_json_type(status, Body::from(body))
}

/// Serialises straight into one buffer of about the right size.
fn json_response<T: Serialize>(status: StatusCode, value: &T, capacity: usize) -> Response {
    let mut buffer = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut buffer, value) {
        Ok(()) => with_json_type(status, Body::from(buffer)),
        Err(error) => {
            tracing::error!(%error, "serialising a response");
            with_json_type(
                StatusCode::INTERNAL_SERVER_ERROR,
                Body::from(r#"{"detail":"Internal Server Error"}"#),
            )
        }
    }
}

fn with_json_type(status: StatusCode, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(split_path("/bots/12/api/v1/status"), Some((12, "status")));
        assert_eq!(split_path("/bots/x/api/v1/status"), None);
        assert_eq!(split_path("/bots/1/api/v2/status"), None);
        assert_eq!(split_path("/bots/1"), None);
        assert_eq!(parse_endpoint("trade/7"), Some((Endpoint::Trade, "7")));
        assert_eq!(parse_endpoint("trade/7/x"), None);
        assert_eq!(parse_endpoint("balance"), None);
    }

    #[test]
    fn trades_query_defaults_and_clamps() {
        assert_eq!(trades_query(None).unwrap(), (500, 0));
        assert_eq!(trades_query(Some("limit=5&offset=10")).unwrap(), (5, 10));
        assert_eq!(
            trades_query(Some("limit=9999&order_by_id=true")).unwrap(),
            (500, 0)
        );
        assert_eq!(trades_query(Some("offset=-3")).unwrap(), (500, 0));
        assert!(trades_query(Some("limit=abc")).is_err());
    }

    #[test]
    fn show_config_names_the_bot() {
        let template = ShowConfigTemplate::new(3);
        assert!(template.head.ends_with(r#""bot_name":"fleet-bot-"#));
        assert_eq!(itoa_u32(0, &mut [0; 10]), "0");
        assert_eq!(itoa_u32(907, &mut [0; 10]), "907");
        assert_eq!(itoa_u32(u32::MAX, &mut [0; 10]), "4294967295");
    }

    #[test]
    fn every_endpoint_is_counted_in_its_own_slot() {
        for (index, endpoint) in ENDPOINTS.iter().enumerate() {
            assert_eq!(*endpoint as usize, index);
        }
    }
}
