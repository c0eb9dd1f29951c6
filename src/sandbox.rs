//! `anytrade serve --sandbox`: a first bot with no exchange account and no internet.
//! The service serves the exchange simulator (Binance's public API, synthetic prices),
//! registers a `sandbox` exchange pointing at it and adds the example strategies from
//! `templates/freqtrade/strategies/`, so a dry-run bot needs only `createBot` and
//! `startBot`.
//!
//! Registration is idempotent: a start finds the sandbox exchange it registered before
//! (by name) and only moves it when the simulator's address for bots changed; an
//! example strategy is added only while no strategy has its name.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anytrade_aggregates::values::{ExchangeName, RuntimeKind};
use anytrade_aggregates::{ExchangeCommand, StrategyCommand};
use anytrade_exchange_sim::{DEFAULT_PAIRS, SimConfig};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::watch;
use uuid::Uuid;

use crate::config::SandboxSettings;
use crate::store::{CommandError, CommandMetadata, Commands};
use crate::strategy_names::{self, ClaimError};

/// The simulator's port unless `sandbox.listen` says otherwise.
pub const DEFAULT_PORT: u16 = 8650;

/// Who registers the sandbox, in the event log.
const ACTOR: &str = "system:sandbox";

/// The example strategies: (name, code).
pub const EXAMPLE_STRATEGIES: &[(&str, &str)] = &[
    (
        "EmaCross",
        include_str!("../templates/freqtrade/strategies/EmaCross.py"),
    ),
    (
        "RsiReversion",
        include_str!("../templates/freqtrade/strategies/RsiReversion.py"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "sandbox.listen {address}: {source} (another program has the port? set \
         ANYTRADE_SANDBOX__LISTEN to a free address, such as 127.0.0.1:8651)"
    )]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "sandbox.url: must be set with the kubernetes runtime, to an http:// address \
         its pods reach the simulator at (ANYTRADE_SANDBOX__URL)"
    )]
    NoUrl,
    #[error("sandbox.url: {0}")]
    BadUrl(String),
    #[error("cannot register the sandbox exchange: {0}")]
    Register(#[from] CommandError),
    #[error("cannot read the exchanges or strategies: {0}")]
    Database(#[from] sqlx::Error),
}

/// The simulator, served until the service stops.
pub struct Sandbox {
    /// Where this service reaches it (probes).
    pub local_url: String,
    /// Where bots reach it.
    pub bot_url: String,
    pub task: tokio::task::JoinHandle<()>,
}

impl Sandbox {
    /// Binds the simulator's address and serves it until `stopped` turns true. The
    /// address defaults by `default_runtime` (see [`SandboxSettings`]).
    pub async fn start(
        settings: &SandboxSettings,
        default_runtime: RuntimeKind,
        mut stopped: watch::Receiver<bool>,
    ) -> Result<Self, SandboxError> {
        let address = settings.listen.unwrap_or_else(|| {
            let ip = match default_runtime {
                RuntimeKind::Local => Ipv4Addr::LOCALHOST,
                RuntimeKind::Docker | RuntimeKind::Kubernetes => Ipv4Addr::UNSPECIFIED,
            };
            SocketAddr::from((ip, DEFAULT_PORT))
        });
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| SandboxError::Bind { address, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { address, source })?;
        let bot_url = match &settings.url {
            Some(url) => checked_url(url)?,
            None => default_bot_url(default_runtime, bound.port())?,
        };
        let config = SimConfig {
            seed: settings.seed,
            ..SimConfig::default()
        };
        let shutdown = async move {
            let _ = stopped.wait_for(|stopped| *stopped).await;
        };
        let task = tokio::spawn(async move {
            if let Err(e) = anytrade_exchange_sim::serve(listener, config, shutdown).await {
                tracing::error!(error = %e, "the sandbox exchange stopped serving");
            }
        });
        tracing::info!(address = %bound, bot_url, "serving the sandbox exchange");
        Ok(Self {
            local_url: local_url(bound),
            bot_url,
            task,
        })
    }

    /// Registers the `sandbox` exchange (or points the registered one at this
    /// simulator) and adds the example strategies that no strategy's name holds.
    pub async fn register(&self, pool: &PgPool, commands: &Commands) -> Result<(), SandboxError> {
        let meta = CommandMetadata::issued_by(ACTOR);
        let config = exchange_config(&self.bot_url);
        let registered =
            anytrade_projections::exchanges::named(pool, ExchangeName::Sandbox.as_str()).await?;
        match registered.first() {
            Some(id) => {
                let update = ExchangeCommand::UpdateExchange {
                    test_mode: None,
                    config: Some(config),
                };
                commands.exchanges.execute(id, update, &meta).await?;
            }
            None => {
                let id = Uuid::now_v7();
                let create = ExchangeCommand::CreateExchange {
                    exchange_id: id,
                    name: ExchangeName::Sandbox.as_str().to_owned(),
                    test_mode: true,
                    config,
                    secrets: Vec::new(),
                };
                commands.exchanges.execute(&id, create, &meta).await?;
                tracing::info!(exchange_id = %id, "registered the sandbox exchange");
            }
        }
        for (name, code) in EXAMPLE_STRATEGIES {
            add_example(pool, commands, &meta, name, code).await?;
        }
        Ok(())
    }
}

async fn add_example(
    pool: &PgPool,
    commands: &Commands,
    meta: &CommandMetadata,
    name: &str,
    code: &str,
) -> Result<(), SandboxError> {
    let id = Uuid::now_v7();
    match strategy_names::claim(pool, &commands.strategies, name, id).await {
        Ok(_) => {}
        Err(ClaimError::Taken) => return Ok(()),
        Err(ClaimError::Database(e)) => return Err(e.into()),
        Err(ClaimError::Store(e)) => return Err(e.into()),
    }
    let create = StrategyCommand::CreateStrategy {
        strategy_id: id,
        name: name.to_owned(),
        description: "An example strategy for the sandbox exchange.".to_owned(),
        code: code.to_owned(),
    };
    if let Err(e) = commands.strategies.execute(&id, create, meta).await {
        strategy_names::release(pool, name, id).await?;
        return Err(e.into());
    }
    tracing::info!(strategy_id = %id, name, "added an example strategy");
    Ok(())
}

/// freqtrade's `exchange` section for the simulator at `url`: Binance's client with
/// its public API moved there, and the simulator's pairs.
pub fn exchange_config(url: &str) -> Value {
    let ccxt = json!({
        "urls": { "api": { "public": format!("{url}/api/v3") } },
        "options": { "fetchMarkets": { "types": ["spot"] } },
    });
    json!({
        "enable_ws": false,
        "only_from_ccxt": true,
        "ccxt_config": ccxt,
        "ccxt_async_config": ccxt,
        "pair_whitelist": DEFAULT_PAIRS,
    })
}

fn default_bot_url(runtime: RuntimeKind, port: u16) -> Result<String, SandboxError> {
    let host = match runtime {
        RuntimeKind::Local => "127.0.0.1",
        RuntimeKind::Docker => crate::runtime::docker::HOST_ALIAS,
        RuntimeKind::Kubernetes => return Err(SandboxError::NoUrl),
    };
    Ok(format!("http://{host}:{port}"))
}

/// `url` without a trailing slash, when it is an http(s) address with a host.
fn checked_url(url: &str) -> Result<String, SandboxError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| SandboxError::BadUrl(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(SandboxError::BadUrl(
            "must be an http:// or https:// address with a host".to_owned(),
        ));
    }
    if parsed.path() != "/" || parsed.query().is_some() {
        return Err(SandboxError::BadUrl(
            "must name only the scheme, host and port (the API path is added)".to_owned(),
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// How this process reaches a listener bound to `bound`.
fn local_url(bound: SocketAddr) -> String {
    let ip = match bound.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, bound.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bots_reach_the_simulator_by_their_runtime_unless_told() {
        assert_eq!(
            default_bot_url(RuntimeKind::Local, 8650).unwrap(),
            "http://127.0.0.1:8650"
        );
        assert_eq!(
            default_bot_url(RuntimeKind::Docker, 9000).unwrap(),
            "http://host.docker.internal:9000"
        );
        assert!(matches!(
            default_bot_url(RuntimeKind::Kubernetes, 8650),
            Err(SandboxError::NoUrl)
        ));
        assert_eq!(
            checked_url("http://sim.anytrade.svc:8650/").unwrap(),
            "http://sim.anytrade.svc:8650"
        );
        for bad in [
            "ftp://x:1",
            "not a url",
            "http://x:1/api/v3",
            "http://x:1/?a=b",
        ] {
            let e = checked_url(bad).unwrap_err();
            assert!(e.to_string().starts_with("sandbox.url: "), "{bad}: {e}");
        }
        assert_eq!(
            local_url("0.0.0.0:8650".parse().unwrap()),
            "http://127.0.0.1:8650"
        );
        assert_eq!(
            local_url("10.1.2.3:80".parse().unwrap()),
            "http://10.1.2.3:80"
        );
    }

    #[test]
    fn the_exchange_config_moves_binances_public_api_to_the_simulator() {
        let config = exchange_config("http://127.0.0.1:8650");
        assert_eq!(
            config["ccxt_config"]["urls"]["api"]["public"],
            "http://127.0.0.1:8650/api/v3"
        );
        assert_eq!(config["ccxt_async_config"], config["ccxt_config"]);
        assert_eq!(config["pair_whitelist"][0], "BTC/USDT");
    }
}
