//! A Binance spot exchange simulator: the public REST endpoints freqtrade (through ccxt)
//! calls, with deterministic synthetic prices, so real freqtrade can dry-run trade,
//! download data, backtest and hyperopt with no internet.
//!
//! Prices are a pure function of (seed, symbol, instant) (`price.rs`); candles of every
//! interval aggregate one-minute bars of that path (`series.rs`), so any historical range
//! can be served and the running candle follows the wall clock. Run it in-process with
//! [`serve`] on `127.0.0.1:0`, or as the `anytrade-exchange-sim` binary.

#![forbid(unsafe_code)]
// Nothing here may panic on request input.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

mod book;
mod config;
mod error;
mod exchange;
mod exchange_info;
mod fixed;
pub mod fleet;
mod hash;
mod interval;
mod klines;
mod params;
mod price;
mod routes;
mod series;
mod ticker;

use std::future::Future;

pub use config::{Clock, ConfigError, DEFAULT_LISTED_AT_MS, DEFAULT_PAIRS, Market, SimConfig};
pub use error::ApiError;
pub use routes::router;

/// Serves the simulator on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: SimConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(config))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on Ctrl-C or SIGTERM: the binaries' graceful stop.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
