//! `anytrade-fleet-sim`: N simulated freqtrade bots behind one port, bot `n` at
//! `http://HOST:PORT/bots/{n}`, until Ctrl-C or SIGTERM.
//!
//! Prints exactly one line to stdout, `listening on http://ADDR`, once bound, so a
//! benchmark that spawns it with `--listen 127.0.0.1:0` can read the address. Logs go to
//! stderr (`RUST_LOG`, default `warn`).

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use anytrade_exchange_sim::fleet::{FleetConfig, serve_fleet};
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// A fleet of simulated freqtrade REST APIs for benchmarking the control plane.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (port 0 picks a free one; the chosen one is printed).
    #[arg(
        long,
        env = "ANYTRADE_FLEET_SIM_LISTEN",
        default_value = "127.0.0.1:8660"
    )]
    listen: SocketAddr,
    /// Number of bots, served as /bots/0 .. /bots/{N-1}.
    #[arg(long, env = "ANYTRADE_FLEET_SIM_BOTS", default_value_t = 1000)]
    bots: u32,
    /// API username every bot accepts.
    #[arg(long, env = "ANYTRADE_FLEET_SIM_USERNAME", default_value = "anytrade")]
    username: String,
    /// API password every bot accepts (prefer the environment variable over the flag).
    #[arg(long, env = "ANYTRADE_FLEET_SIM_PASSWORD", hide_env_values = true)]
    password: String,
    /// Seconds between a bot's trade openings (fractions allowed).
    #[arg(
        long,
        env = "ANYTRADE_FLEET_SIM_TRADE_PERIOD_SECS",
        default_value_t = 90.0
    )]
    trade_period_secs: f64,
    /// Typical hold in seconds; each trade holds 0.5–1.5× it, every fifth much longer.
    #[arg(long, env = "ANYTRADE_FLEET_SIM_HOLD_SECS", default_value_t = 45.0)]
    hold_secs: f64,
    /// Seed of the schedule and prices: the same seed gives the same fleet.
    #[arg(long, env = "ANYTRADE_FLEET_SIM_SEED", default_value_t = 1)]
    seed: u64,
}

/// Seconds as a duration of at least 1 ms, refusing nonsense.
fn seconds(name: &str, value: f64) -> anyhow::Result<Duration> {
    if !(0.001..=315_360_000.0).contains(&value) {
        bail!("--{name} must be between 0.001 and 315360000 seconds, got {value}");
    }
    Ok(Duration::from_secs_f64(value))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let args = Args::parse();
    if args.bots == 0 {
        bail!("--bots must be at least 1");
    }
    let config = FleetConfig {
        bots: args.bots,
        username: args.username,
        password: args.password,
        trade_period: seconds("trade-period-secs", args.trade_period_secs)?,
        hold: seconds("hold-secs", args.hold_secs)?,
        seed: args.seed,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, bots = config.bots, seed = config.seed, "serving the freqtrade fleet simulator");
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on http://{address}")?;
        stdout.flush()?;
    }
    serve_fleet(listener, config, anytrade_exchange_sim::shutdown_signal()).await?;
    Ok(())
}
