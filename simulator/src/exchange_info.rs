//! `GET /api/v3/exchangeInfo`: the market list ccxt loads before freqtrade will trade,
//! backtest or hyperopt. ccxt reads a spot market from a symbol without `contractType`,
//! `status: TRADING` as active, precision from `PRICE_FILTER.tickSize` and
//! `LOT_SIZE.stepSize`, and freqtrade's minimum stake from `NOTIONAL.minNotional`.
//! Fields are in Binance's order.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::config::Market;
use crate::error::ApiError;
use crate::exchange::Exchange;
use crate::fixed;
use crate::params::Params;

/// Largest order quantity and value, as Binance sets them for its big pairs.
const MAX_QTY: i64 = 9_000_000;
const MAX_NOTIONAL: i64 = 9_000_000;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeInfo {
    timezone: &'static str,
    server_time: i64,
    rate_limits: [RateLimit; 4],
    exchange_filters: [(); 0],
    symbols: Vec<Symbol>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RateLimit {
    rate_limit_type: &'static str,
    interval: &'static str,
    interval_num: u32,
    limit: u32,
}

const fn rate_limit(
    rate_limit_type: &'static str,
    interval: &'static str,
    interval_num: u32,
    limit: u32,
) -> RateLimit {
    RateLimit {
        rate_limit_type,
        interval,
        interval_num,
        limit,
    }
}

/// One spot symbol, as Binance lists it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Symbol {
    symbol: String,
    status: &'static str,
    base_asset: String,
    base_asset_precision: u32,
    quote_asset: String,
    quote_precision: u32,
    quote_asset_precision: u32,
    base_commission_precision: u32,
    quote_commission_precision: u32,
    order_types: [&'static str; 7],
    iceberg_allowed: bool,
    oco_allowed: bool,
    oto_allowed: bool,
    quote_order_qty_market_allowed: bool,
    allow_trailing_stop: bool,
    cancel_replace_allowed: bool,
    amend_allowed: bool,
    is_spot_trading_allowed: bool,
    is_margin_trading_allowed: bool,
    filters: Vec<Filter>,
    permissions: [&'static str; 0],
    permission_sets: [[&'static str; 1]; 1],
    default_self_trade_prevention_mode: &'static str,
    allowed_self_trade_prevention_modes: [&'static str; 3],
}

/// Binance's symbol filters, tagged by `filterType`.
#[derive(Debug, Serialize)]
#[serde(tag = "filterType", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Filter {
    #[serde(rename = "PRICE_FILTER", rename_all = "camelCase")]
    Price {
        min_price: String,
        max_price: String,
        tick_size: String,
    },
    #[serde(rename_all = "camelCase")]
    LotSize {
        min_qty: String,
        max_qty: String,
        step_size: String,
    },
    IcebergParts {
        limit: u32,
    },
    #[serde(rename_all = "camelCase")]
    MarketLotSize {
        min_qty: String,
        max_qty: String,
        step_size: String,
    },
    #[serde(rename_all = "camelCase")]
    TrailingDelta {
        min_trailing_above_delta: u32,
        max_trailing_above_delta: u32,
        min_trailing_below_delta: u32,
        max_trailing_below_delta: u32,
    },
    #[serde(rename_all = "camelCase")]
    PercentPriceBySide {
        bid_multiplier_up: &'static str,
        bid_multiplier_down: &'static str,
        ask_multiplier_up: &'static str,
        ask_multiplier_down: &'static str,
        avg_price_mins: u32,
    },
    #[serde(rename_all = "camelCase")]
    Notional {
        min_notional: String,
        apply_min_to_market: bool,
        max_notional: String,
        apply_max_to_market: bool,
        avg_price_mins: u32,
    },
    #[serde(rename_all = "camelCase")]
    MaxNumOrders {
        max_num_orders: u32,
    },
    #[serde(rename_all = "camelCase")]
    MaxNumAlgoOrders {
        max_num_algo_orders: u32,
    },
}

fn whole(units: i64) -> String {
    fixed::format(i128::from(units) * i128::from(fixed::ONE))
}

/// The filters of one symbol, as Binance lists them.
pub fn filters(market: &Market) -> Vec<Filter> {
    let tick = fixed::format_steps(1, market.price_decimals);
    let step = fixed::format_steps(1, market.qty_decimals);
    // Three orders of magnitude above the base price, well above the path's range.
    let magnitude = (market.base_price.log10().floor().max(0.0) as u32).min(7);
    vec![
        Filter::Price {
            min_price: tick.clone(),
            max_price: whole(10_i64.pow(magnitude + 3)),
            tick_size: tick,
        },
        Filter::LotSize {
            min_qty: step.clone(),
            max_qty: whole(MAX_QTY),
            step_size: step,
        },
        Filter::IcebergParts { limit: 10 },
        Filter::MarketLotSize {
            min_qty: whole(0),
            max_qty: whole(MAX_QTY),
            step_size: whole(0),
        },
        Filter::TrailingDelta {
            min_trailing_above_delta: 10,
            max_trailing_above_delta: 2000,
            min_trailing_below_delta: 10,
            max_trailing_below_delta: 2000,
        },
        Filter::PercentPriceBySide {
            bid_multiplier_up: "5",
            bid_multiplier_down: "0.2",
            ask_multiplier_up: "5",
            ask_multiplier_down: "0.2",
            avg_price_mins: 5,
        },
        Filter::Notional {
            min_notional: fixed::format_f64(market.min_notional),
            apply_min_to_market: true,
            max_notional: whole(MAX_NOTIONAL),
            apply_max_to_market: false,
            avg_price_mins: 5,
        },
        Filter::MaxNumOrders {
            max_num_orders: 200,
        },
        Filter::MaxNumAlgoOrders {
            max_num_algo_orders: 5,
        },
    ]
}

pub fn symbol(market: &Market) -> Symbol {
    Symbol {
        symbol: market.symbol(),
        status: "TRADING",
        base_asset: market.base.clone(),
        base_asset_precision: 8,
        quote_asset: market.quote.clone(),
        quote_precision: 8,
        quote_asset_precision: 8,
        base_commission_precision: 8,
        quote_commission_precision: 8,
        order_types: [
            "LIMIT",
            "LIMIT_MAKER",
            "MARKET",
            "STOP_LOSS",
            "STOP_LOSS_LIMIT",
            "TAKE_PROFIT",
            "TAKE_PROFIT_LIMIT",
        ],
        iceberg_allowed: true,
        oco_allowed: true,
        oto_allowed: true,
        quote_order_qty_market_allowed: true,
        allow_trailing_stop: true,
        cancel_replace_allowed: true,
        amend_allowed: true,
        is_spot_trading_allowed: true,
        is_margin_trading_allowed: false,
        filters: filters(market),
        permissions: [],
        permission_sets: [["SPOT"]],
        default_self_trade_prevention_mode: "EXPIRE_MAKER",
        allowed_self_trade_prevention_modes: ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }
}

pub async fn exchange_info(
    State(exchange): State<Arc<Exchange>>,
    params: Params,
) -> Result<Json<ExchangeInfo>, ApiError> {
    let (listings, _) = exchange.select(&params)?;
    Ok(Json(ExchangeInfo {
        timezone: "UTC",
        server_time: exchange.now_ms(),
        rate_limits: [
            rate_limit("REQUEST_WEIGHT", "MINUTE", 1, 6000),
            rate_limit("ORDERS", "SECOND", 10, 100),
            rate_limit("ORDERS", "DAY", 1, 200_000),
            rate_limit("RAW_REQUESTS", "MINUTE", 5, 61_000),
        ],
        exchange_filters: [],
        symbols: listings.iter().map(|l| symbol(&l.market)).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn filter(filters: &Value, kind: &str) -> Value {
        filters
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["filterType"] == kind)
            .unwrap()
            .clone()
    }

    #[test]
    fn btc_filters_match_binance() {
        let btc: Market = "BTC/USDT".parse().unwrap();
        let filters = serde_json::to_value(filters(&btc)).unwrap();
        let price = filter(&filters, "PRICE_FILTER");
        assert_eq!(
            price,
            json!({"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "10000000.00000000", "tickSize": "0.01000000"})
        );
        let lot = filter(&filters, "LOT_SIZE");
        assert_eq!(
            (lot["stepSize"].as_str(), lot["minQty"].as_str()),
            (Some("0.00001000"), Some("0.00001000"))
        );
        let notional = filter(&filters, "NOTIONAL");
        assert_eq!(notional["minNotional"], "5.00000000");
        assert_eq!(notional["applyMinToMarket"], true);
        assert_eq!(
            filter(&filters, "MAX_NUM_ALGO_ORDERS")["maxNumAlgoOrders"],
            5
        );
    }

    #[test]
    fn symbol_is_spot_and_trading() {
        let xrp: Market = "XRP/USDT".parse().unwrap();
        let s = serde_json::to_value(symbol(&xrp)).unwrap();
        assert_eq!(
            (s["symbol"].as_str(), s["status"].as_str()),
            (Some("XRPUSDT"), Some("TRADING"))
        );
        assert!(s.get("contractType").is_none());
        assert_eq!(s["permissionSets"], json!([["SPOT"]]));
        assert_eq!(s["isSpotTradingAllowed"], true);
        assert_eq!(filter(&s["filters"], "LOT_SIZE")["stepSize"], "1.00000000");
        assert_eq!(
            filter(&s["filters"], "PRICE_FILTER")["tickSize"],
            "0.00000100"
        );
        assert_eq!(
            filter(&s["filters"], "PRICE_FILTER")["maxPrice"],
            "1000.00000000"
        );
    }

    #[test]
    fn fields_keep_binance_order() {
        let btc: Market = "BTC/USDT".parse().unwrap();
        let text = serde_json::to_string(&symbol(&btc)).unwrap();
        assert!(
            text.starts_with(r#"{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC""#),
            "{text}"
        );
        assert!(
            text.contains(r#"{"filterType":"PRICE_FILTER","minPrice":"#),
            "{text}"
        );
    }
}
