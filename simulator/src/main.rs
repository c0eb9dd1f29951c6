//! `anytrade-exchange-sim`: serves the simulated Binance spot API until Ctrl-C or SIGTERM.
//! Requests are logged at debug (`RUST_LOG=anytrade_exchange_sim=debug`).

use std::io::IsTerminal;
use std::net::SocketAddr;

use anyhow::Context;
use anytrade_exchange_sim::{DEFAULT_PAIRS, Market, SimConfig};
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Deterministic Binance spot REST simulator for running freqtrade offline.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (port 0 picks a free one; the chosen address is logged).
    #[arg(long, env = "ANYTRADE_SIM_LISTEN", default_value = "127.0.0.1:8650")]
    listen: SocketAddr,
    /// Pairs to list, BASE/QUOTE or BASE/QUOTE=BASE_PRICE, comma-separated.
    #[arg(long, env = "ANYTRADE_SIM_PAIRS", value_delimiter = ',', default_values_t = DEFAULT_PAIRS.map(String::from))]
    pairs: Vec<String>,
    /// Seed of the price paths: the same seed always serves the same prices.
    #[arg(long, env = "ANYTRADE_SIM_SEED", default_value_t = 1)]
    seed: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let args = Args::parse();
    let markets = args
        .pairs
        .iter()
        .map(|p| p.parse::<Market>())
        .collect::<Result<Vec<_>, _>>()?;
    let config = SimConfig::new(markets, args.seed)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let pairs: Vec<String> = config.markets.iter().map(Market::pair).collect();
    tracing::info!(address = %listener.local_addr()?, pairs = %pairs.join(","), seed = config.seed, "serving the Binance spot simulator");
    anytrade_exchange_sim::serve(listener, config, anytrade_exchange_sim::shutdown_signal())
        .await?;
    Ok(())
}
