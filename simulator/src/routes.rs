//! The HTTP surface: Binance's public spot endpoints under `/api/v3`, a request log, and
//! a Binance-style 404 for anything else (logged at warn, so a freqtrade or ccxt upgrade
//! that calls something new shows up in the log).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::config::SimConfig;
use crate::error::ApiError;
use crate::exchange::Exchange;
use crate::{book, exchange_info, klines, ticker};

/// The simulator's routes over `config`.
pub fn router(config: SimConfig) -> Router {
    let exchange = Arc::new(Exchange::new(config));
    Router::new()
        .route("/api/v3/ping", get(ping))
        .route("/api/v3/time", get(time))
        .route("/api/v3/exchangeInfo", get(exchange_info::exchange_info))
        .route("/api/v3/klines", get(klines::klines))
        .route("/api/v3/depth", get(book::depth))
        .route("/api/v3/ticker/bookTicker", get(book::book_tickers))
        .route("/api/v3/ticker/24hr", get(ticker::day_stats))
        .route("/api/v3/ticker/price", get(ticker::prices))
        .fallback(unknown)
        .method_not_allowed_fallback(unknown)
        .layer(middleware::from_fn(log_request))
        .with_state(exchange)
}

async fn ping() -> Json<Value> {
    Json(json!({}))
}

async fn time(State(exchange): State<Arc<Exchange>>) -> Json<Value> {
    Json(json!({ "serverTime": exchange.now_ms() }))
}

async fn unknown(method: Method, request: Request) -> ApiError {
    let path = request.uri().path().to_owned();
    tracing::warn!(%method, uri = %request.uri(), "endpoint not simulated");
    ApiError::UnknownEndpoint {
        method: method.to_string(),
        path,
    }
}

/// Logs every request with its status and duration.
async fn log_request(request: Request, next: Next) -> Response {
    let (method, uri) = (request.method().clone(), request.uri().clone());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::debug!(
        %method,
        %uri,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}
