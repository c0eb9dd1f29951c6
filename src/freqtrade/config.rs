//! The config file a bot's freqtrade runs with, and the environment that carries its
//! exchange credentials.
//!
//! Layers, each merged over the one before (RFC 7386 merge patch: objects merge key by
//! key, anything else replaces, `null` removes): the base template
//! (`templates/freqtrade/base_config.json`), the exchange (its name and its `config`,
//! which is freqtrade's `exchange` section), the bot's typed settings and its `extra`
//! overrides, and last what AnyTrade manages itself (mode, strategy, API server).
//! Strategies carry their settings in their code, so they add no layer of their own.
//!
//! Credentials never enter the file: they reach freqtrade as `FREQTRADE__EXCHANGE__*`
//! environment variables, which freqtrade reads over its config.

use anytrade_aggregates::{BotState, ExchangeState, JobSpec};
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

/// The base every bot's config starts from.
pub const BASE_TEMPLATE: &str = include_str!("../../templates/freqtrade/base_config.json");

/// The credentials of a bot's REST API, made anew for each start. They reach freqtrade
/// as environment variables, like the exchange's; the config file names only the user.
pub struct ApiCredentials {
    pub username: String,
    pub password: Zeroizing<String>,
    pub jwt_secret: Zeroizing<String>,
    pub ws_token: Zeroizing<String>,
}

impl ApiCredentials {
    pub fn generate() -> Self {
        // A letter first: freqtrade parses environment values as JSON when it can, and
        // an all-digit token would become a number.
        let random = || Zeroizing::new(format!("a{}", uuid::Uuid::new_v4().simple()));
        Self {
            username: "anytrade".to_owned(),
            password: random(),
            jwt_secret: Zeroizing::new(format!("{}{}", *random(), *random())),
            ws_token: random(),
        }
    }

    pub fn environment(&self) -> Vec<(&'static str, Zeroizing<String>)> {
        vec![
            ("FREQTRADE__API_SERVER__PASSWORD", self.password.clone()),
            (
                "FREQTRADE__API_SERVER__JWT_SECRET_KEY",
                self.jwt_secret.clone(),
            ),
            ("FREQTRADE__API_SERVER__WS_TOKEN", self.ws_token.clone()),
        ]
    }
}

/// What is wrong with a merged config, naming the config key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("freqtrade config `{key}` {reason}")]
pub struct ConfigError {
    pub key: String,
    pub reason: String,
}

impl ConfigError {
    fn new(key: &str, reason: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The bot's full freqtrade config, checked; the runtime adds where the API listens.
/// `strategy_class` is the class freqtrade loads from
/// `user_data/strategies/<strategy_class>.py`; `api_username` the REST API's user.
pub fn bot_config(
    exchange: &ExchangeState,
    bot: &BotState,
    strategy_class: &str,
    api_username: &str,
) -> Result<Value, ConfigError> {
    let mut config = template()?;

    json_patch::merge(
        &mut config,
        &json!({ "exchange": exchange.config.to_value() }),
    );

    json_patch::merge(&mut config, &typed_settings(bot));
    json_patch::merge(&mut config, &bot.config.extra.to_value());

    json_patch::merge(
        &mut config,
        &json!({
            "dry_run": bot.mode.is_dry_run(),
            "strategy": strategy_class,
            "bot_name": bot.name.as_str(),
            "exchange": { "name": exchange.name.freqtrade_id() },
            "api_server": { "enabled": true, "username": api_username },
        }),
    );
    check(&config)?;
    Ok(config)
}

/// The config a backtest or hyperopt of `job` runs with: the template, the exchange,
/// the job's settings and its `config` overrides, then what AnyTrade manages (always
/// dry run, the pinned strategy class, no API server).
pub fn job_config(exchange: &ExchangeState, job: &JobSpec) -> Result<Value, ConfigError> {
    let mut config = template()?;
    json_patch::merge(
        &mut config,
        &json!({ "exchange": exchange.config.to_value() }),
    );
    json_patch::merge(
        &mut config,
        &json!({
            "timeframe": job.timeframe,
            "stake_amount": job.stake_amount,
            "stake_currency": job.stake_currency,
            "exchange": { "pair_whitelist": job.pairs.to_strings() },
        }),
    );
    json_patch::merge(&mut config, &job.config.to_value());
    json_patch::merge(
        &mut config,
        &json!({
            "dry_run": true,
            "strategy": job.strategy_class,
            "exchange": { "name": exchange.name.freqtrade_id() },
            // freqtrade checks a present api_server section even when disabled.
            "api_server": null,
        }),
    );
    check(&config)?;
    Ok(config)
}

fn template() -> Result<Value, ConfigError> {
    serde_json::from_str(BASE_TEMPLATE)
        .map_err(|e| ConfigError::new("(template)", format!("is not valid JSON: {e}")))
}

/// The bot's typed settings as a merge patch (only those it sets).
fn typed_settings(bot: &BotState) -> Value {
    let settings = &bot.config;
    let mut patch = Map::new();
    if let Some(max) = &settings.max_open_trades {
        patch.insert("max_open_trades".into(), json!(max.get()));
    }
    if let Some(stake) = &settings.stake_amount {
        patch.insert("stake_amount".into(), json!(stake));
    }
    if let Some(timeframe) = &settings.timeframe {
        patch.insert("timeframe".into(), json!(timeframe));
    }
    if let Some(pairs) = &settings.pairs {
        patch.insert(
            "exchange".into(),
            json!({ "pair_whitelist": pairs.to_strings() }),
        );
    }
    Value::Object(patch)
}

/// The checks freqtrade would otherwise fail on only after starting, with a reason a
/// user can act on. (No credential can be in the file: `ConfigObject` refuses them in
/// every layer a user supplies.)
fn check(config: &Value) -> Result<(), ConfigError> {
    let exchange = config
        .get("exchange")
        .and_then(Value::as_object)
        .ok_or_else(|| ConfigError::new("exchange", "must be an object"))?;
    let static_pairs = config
        .get("pairlists")
        .and_then(Value::as_array)
        .and_then(|lists| lists.first())
        .and_then(|first| first.get("method"))
        .is_some_and(|method| method == "StaticPairList");
    let whitelist = exchange.get("pair_whitelist").and_then(Value::as_array);
    if static_pairs && whitelist.is_none_or(|pairs| pairs.is_empty()) {
        return Err(ConfigError::new(
            "exchange.pair_whitelist",
            "is empty: a bot on a static pair list needs pairs (set config.pairs)",
        ));
    }
    if !config.get("stake_currency").is_some_and(Value::is_string) {
        return Err(ConfigError::new(
            "stake_currency",
            "must be a currency code",
        ));
    }
    match config.get("stake_amount") {
        Some(Value::Number(n)) if n.as_f64().is_some_and(|n| n > 0.0) => {}
        Some(Value::String(s)) if s == "unlimited" => {}
        _ => {
            return Err(ConfigError::new(
                "stake_amount",
                "must be a number greater than 0 or \"unlimited\"",
            ));
        }
    }
    match config.get("max_open_trades").and_then(Value::as_i64) {
        Some(n) if n == -1 || n > 0 => {}
        _ => {
            return Err(ConfigError::new(
                "max_open_trades",
                "must be a positive integer or -1 (unlimited)",
            ));
        }
    }
    Ok(())
}

/// The environment variables that hand an exchange's secrets to freqtrade, by AnyTrade
/// secret name (`api_key`, `api_secret`, `passphrase`, …). Unknown names are skipped:
/// freqtrade has no place for them.
pub fn exchange_environment<'a>(
    secrets: impl IntoIterator<Item = (&'a str, Zeroizing<String>)>,
) -> Vec<(&'static str, Zeroizing<String>)> {
    secrets
        .into_iter()
        .filter_map(|(name, value)| {
            let variable = match name {
                "api_key" => "FREQTRADE__EXCHANGE__KEY",
                "api_secret" => "FREQTRADE__EXCHANGE__SECRET",
                "passphrase" => "FREQTRADE__EXCHANGE__PASSWORD",
                "uid" => "FREQTRADE__EXCHANGE__UID",
                _ => return None,
            };
            Some((variable, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anytrade_aggregates::values::{
        BotMode, ConfigObject, EntityName, ExchangeName, FreqtradeVersion, Pairs, ResourceLimits,
        StakeAmount,
    };
    use anytrade_aggregates::{BotConfig, BotStatus};
    use uuid::Uuid;

    fn exchange(config: Value) -> ExchangeState {
        ExchangeState {
            id: Uuid::nil(),
            name: ExchangeName::parse("binance").unwrap(),
            test_mode: true,
            config: ConfigObject::parse("config", config).unwrap(),
            secrets: Default::default(),
            deleted: false,
        }
    }

    fn bot(extra: Value) -> BotState {
        BotState {
            id: Uuid::nil().into(),
            name: EntityName::parse("alpha").unwrap(),
            exchange_id: Uuid::nil(),
            strategy_id: Uuid::nil(),
            strategy_version: 1,
            mode: BotMode::DryRun,
            runtime: None,
            config: BotConfig {
                max_open_trades: None,
                stake_amount: Some(StakeAmount::parse("100").unwrap()),
                pairs: Some(Pairs::parse(&["BTC/USDT", "ETH/USDT"]).unwrap()),
                timeframe: None,
                extra: ConfigObject::parse("config.extra", extra).unwrap(),
            },
            resources: ResourceLimits::default(),
            freqtrade_version: FreqtradeVersion::parse("2026.9").unwrap(),
            status: BotStatus::Starting,
            runtime_id: None,
            api_url: None,
            last_error: None,
            wanted: None,
            failed_while_running: false,
        }
    }

    #[test]
    fn layers_merge_in_order_and_managed_keys_win() {
        let exchange = exchange(json!({
            "enable_ws": false,
            "ccxt_config": { "urls": { "api": { "public": "http://127.0.0.1:8650/api/v3" } } },
            "pair_whitelist": ["SOL/USDT"],
        }));
        let bot = bot(json!({
            "stake_currency": "BTC",
            "exchange": { "enable_ws": true },
            "internals": { "process_throttle_secs": 1 },
        }));
        let config = bot_config(&exchange, &bot, "AlwaysEnter", "anytrade").unwrap();
        assert_eq!(config["exchange"]["name"], "binance");
        // The exchange layer reached the exchange section; the bot's extra overrode it.
        assert_eq!(
            config["exchange"]["ccxt_config"]["urls"]["api"]["public"],
            "http://127.0.0.1:8650/api/v3"
        );
        assert_eq!(config["exchange"]["enable_ws"], true);
        // The bot's pairs replace the exchange's list; arrays are replaced, not merged.
        assert_eq!(
            config["exchange"]["pair_whitelist"],
            json!(["BTC/USDT", "ETH/USDT"])
        );
        assert_eq!(config["stake_currency"], "BTC");
        assert_eq!(config["stake_amount"], 100.0);
        // Template values survive where nothing overrides them; nested objects merge.
        assert_eq!(config["max_open_trades"], 3);
        assert_eq!(config["internals"]["process_throttle_secs"], 1);
        assert_eq!(config["entry_pricing"]["price_side"], "same");
        assert_eq!(config["strategy"], "AlwaysEnter");
        assert_eq!(config["dry_run"], true);
        assert_eq!(config["api_server"]["username"], "anytrade");
        assert_eq!(config["api_server"]["verbosity"], "error");
        // No credential is in the file.
        assert!(config["api_server"].get("password").is_none());
    }

    #[test]
    fn a_job_runs_dry_with_its_own_settings_and_no_api_server() {
        let job = JobSpec {
            strategy_id: Uuid::nil(),
            exchange_id: None,
            strategy_version: 2,
            strategy_class: "AlwaysEnter".into(),
            dates: anytrade_aggregates::values::DateRange::parse("2026-01-01", "2026-01-05")
                .unwrap(),
            timeframe: anytrade_aggregates::values::Timeframe::parse("5m").unwrap(),
            stake_amount: StakeAmount::parse_amount(50.0).unwrap(),
            stake_currency: anytrade_aggregates::values::StakeCurrency::parse("USDT").unwrap(),
            pairs: Pairs::parse(&["SOL/USDT"]).unwrap(),
            config: ConfigObject::parse(
                "config",
                json!({ "max_open_trades": 5, "dry_run": false }),
            )
            .unwrap(),
        };
        let config = job_config(&exchange(json!({ "enable_ws": false })), &job).unwrap();
        assert_eq!(config["timeframe"], "5m");
        assert_eq!(config["stake_amount"], 50.0);
        assert_eq!(config["stake_currency"], "USDT");
        assert_eq!(config["exchange"]["pair_whitelist"], json!(["SOL/USDT"]));
        assert_eq!(config["exchange"]["enable_ws"], false);
        assert_eq!(config["max_open_trades"], 5);
        assert_eq!(
            config["dry_run"], true,
            "an override cannot make a job live"
        );
        assert_eq!(config["strategy"], "AlwaysEnter");
        assert!(config.get("api_server").is_none());
    }

    #[test]
    fn null_in_an_override_removes_the_setting() {
        let config = bot_config(
            &exchange(json!({})),
            &bot(json!({ "tradable_balance_ratio": null })),
            "S",
            "anytrade",
        )
        .unwrap();
        assert!(config.get("tradable_balance_ratio").is_none());
    }

    #[test]
    fn a_static_pair_list_without_pairs_is_refused() {
        let mut bot = bot(json!({}));
        bot.config.pairs = None;
        let error = bot_config(&exchange(json!({})), &bot, "S", "anytrade").unwrap_err();
        assert_eq!(error.key, "exchange.pair_whitelist");
    }

    #[test]
    fn overrides_that_break_freqtrade_are_named() {
        let cases = [
            (json!({ "stake_currency": 5 }), "stake_currency"),
            (json!({ "stake_amount": 0 }), "stake_amount"),
            (json!({ "max_open_trades": 0 }), "max_open_trades"),
            (json!({ "exchange": null }), "exchange.pair_whitelist"),
        ];
        for (extra, key) in cases {
            let error = bot_config(&exchange(json!({})), &bot(extra), "S", "anytrade").unwrap_err();
            assert_eq!(error.key, key);
        }
    }

    #[test]
    fn generated_api_credentials_differ_and_start_with_a_letter() {
        let (a, b) = (ApiCredentials::generate(), ApiCredentials::generate());
        assert_ne!(*a.password, *b.password);
        for (_, value) in a.environment() {
            assert!(value.starts_with('a') && value.len() >= 33);
        }
    }

    #[test]
    fn secrets_map_to_freqtrade_environment_variables() {
        let env = exchange_environment([
            ("api_key", Zeroizing::new("k".to_owned())),
            ("api_secret", Zeroizing::new("s".to_owned())),
            ("passphrase", Zeroizing::new("p".to_owned())),
            ("note", Zeroizing::new("x".to_owned())),
        ]);
        let names: Vec<_> = env.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "FREQTRADE__EXCHANGE__KEY",
                "FREQTRADE__EXCHANGE__SECRET",
                "FREQTRADE__EXCHANGE__PASSWORD"
            ]
        );
    }
}
