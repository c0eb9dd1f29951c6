use super::*;
use crate::error::DomainError;
use crate::garbage;

fn field_of<T: std::fmt::Debug>(result: Result<T, DomainError>) -> String {
    match result {
        Err(DomainError::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn reason_of<T: std::fmt::Debug>(result: Result<T, DomainError>) -> String {
    match result {
        Err(DomainError::Invalid { reason, .. }) => reason,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// Serializes `value`, checks the JSON, and reads it back unchanged.
fn round_trip<T>(value: &T, json: serde_json::Value)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    assert_eq!(serde_json::to_value(value).expect("serialize"), json);
    let back: T = serde_json::from_value(json).expect("deserialize");
    assert_eq!(&back, value);
}

#[test]
fn exchange_names() {
    for name in ExchangeName::ALL {
        assert_eq!(ExchangeName::parse(name.as_str()), Ok(*name));
    }
    assert_eq!(ExchangeName::ALL.len(), 9);
    assert_eq!(
        ExchangeName::parse("binanceus"),
        Ok(ExchangeName::BinanceUs)
    );
    assert_eq!(
        ExchangeName::parse("ftx"),
        Err(DomainError::invalid(
            "name",
            "unknown exchange \"ftx\"; expected one of: binance, binanceus, coinbase, kraken, kucoin, bybit, okx, bitfinex, sandbox"
        ))
    );
    assert_eq!(field_of(ExchangeName::parse("Binance")), "name");
    round_trip(&ExchangeName::Okx, serde_json::json!("okx"));
    assert!(serde_json::from_value::<ExchangeName>(serde_json::json!("nope")).is_err());
}

#[test]
fn required_secrets_per_exchange() {
    assert_eq!(
        ExchangeName::Binance.required_secrets(),
        &["api_key", "api_secret"]
    );
    for name in [
        ExchangeName::Coinbase,
        ExchangeName::Kucoin,
        ExchangeName::Okx,
    ] {
        assert_eq!(
            name.required_secrets(),
            &["api_key", "api_secret", "passphrase"]
        );
    }
    for name in ExchangeName::ALL.iter().filter(|n| !n.test_only()) {
        assert!(
            name.required_secrets()
                .starts_with(&["api_key", "api_secret"])
        );
    }
    // The sandbox has no accounts: nothing to keep, and nothing live to trade.
    assert!(ExchangeName::Sandbox.required_secrets().is_empty());
    assert!(ExchangeName::Sandbox.test_only());
    assert_eq!(ExchangeName::Sandbox.freqtrade_id(), "binance");
    assert_eq!(ExchangeName::Kraken.freqtrade_id(), "kraken");
}

#[test]
fn secret_names() {
    for ok in ["api_key", "a", "passphrase", "x9_", &"a".repeat(64)] {
        assert_eq!(
            SecretName::parse(ok).map(|n| n.to_string()),
            Ok(ok.to_owned())
        );
    }
    for bad in [
        "",
        "1abc",
        "_x",
        "Api_key",
        "api-key",
        "api key",
        "é",
        &"a".repeat(65),
    ] {
        assert_eq!(field_of(SecretName::parse(bad)), "name", "{bad:?}");
    }
    round_trip(
        &SecretName::parse("api_key").expect("valid"),
        serde_json::json!("api_key"),
    );
    assert!(serde_json::from_value::<SecretName>(serde_json::json!("API")).is_err());
}

#[test]
fn timeframes() {
    let all: Vec<&str> = Timeframe::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(
        all,
        [
            "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d",
            "1w", "1M"
        ]
    );
    assert_eq!(Timeframe::parse("1m"), Ok(Timeframe::M1));
    assert_eq!(Timeframe::parse("1M"), Ok(Timeframe::Month1));
    assert_eq!(Timeframe::parse("5m").map(|t| t.minutes()), Ok(5));
    assert_eq!(Timeframe::H4.minutes(), 240);
    assert_eq!(Timeframe::D1.minutes(), 1440);
    assert_eq!(Timeframe::W1.minutes(), 10_080);
    assert_eq!(Timeframe::Month1.minutes(), 43_200);
    assert_eq!(Timeframe::S1.minutes(), 0);
    assert_eq!(Timeframe::S1.seconds(), 1);
    for bad in ["", "2m", "1H", "60", "5 m", "1y"] {
        assert_eq!(field_of(Timeframe::parse(bad)), "timeframe", "{bad:?}");
    }
    round_trip(&Timeframe::M15, serde_json::json!("15m"));
}

#[test]
fn pairs_one_by_one() {
    let spot = Pair::parse("BTC/USDT").expect("valid");
    assert_eq!(
        (spot.base(), spot.quote(), spot.settle()),
        ("BTC", "USDT", None)
    );
    let futures = Pair::parse("ETH/USDT:USDT").expect("valid");
    assert_eq!(
        (futures.base(), futures.quote(), futures.settle()),
        ("ETH", "USDT", Some("USDT"))
    );
    assert!(Pair::parse("1INCH/USDT").is_ok());
    assert!(Pair::parse(&format!("{}/USDT", "A".repeat(20))).is_ok());

    assert_eq!(
        Pair::parse("btc/usdt"),
        Err(DomainError::invalid(
            "pair",
            "\"btc/usdt\" must be uppercase, like BTC/USDT"
        ))
    );
    for bad in [
        "",
        "BTC",
        "BTC/",
        "/USDT",
        "BTC/USDT:",
        "BTC/USDT:USDT:X",
        "BTC//USDT",
        "BTC-USDT",
        "BTC/US DT",
        "BTC/USDT/ETH",
        "BTÇ/USDT",
        &format!("{}/USDT", "A".repeat(21)),
    ] {
        let reason = reason_of(Pair::parse(bad));
        assert!(reason.contains("BASE/QUOTE"), "{bad:?}: {reason}");
    }
    round_trip(&futures, serde_json::json!("ETH/USDT:USDT"));
}

#[test]
fn pair_lists() {
    let pairs = Pairs::parse(&["BTC/USDT", "ETH/USDT"]).expect("valid");
    assert_eq!(pairs.len(), 2);
    assert!(!pairs.is_empty());
    assert_eq!(pairs.to_strings(), ["BTC/USDT", "ETH/USDT"]);
    round_trip(&pairs, serde_json::json!(["BTC/USDT", "ETH/USDT"]));

    let none: [&str; 0] = [];
    assert_eq!(
        Pairs::parse(&none),
        Err(DomainError::invalid(
            "pairs",
            "at least one pair is required"
        ))
    );
    let many: Vec<String> = (0..=MAX_PAIRS).map(|i| format!("C{i}/USDT")).collect();
    assert_eq!(field_of(Pairs::parse(&many)), "pairs");
    assert!(Pairs::parse(&many[..MAX_PAIRS]).is_ok());
    assert_eq!(
        Pairs::parse(&["BTC/USDT", "ETH/USDT", "eth/usdt"]),
        Err(DomainError::invalid(
            "pairs[2]",
            "\"eth/usdt\" must be uppercase, like BTC/USDT"
        ))
    );
    assert_eq!(
        Pairs::parse(&["BTC/USDT", "ETH/USDT", "BTC/USDT"]),
        Err(DomainError::invalid(
            "pairs[2]",
            "BTC/USDT repeats pairs[0]"
        ))
    );
    assert!(serde_json::from_value::<Pairs>(serde_json::json!([])).is_err());
}

#[test]
fn date_ranges() {
    let range = DateRange::parse("2024-01-01", "2024-03-01").expect("valid");
    assert_eq!(range.start().to_string(), "2024-01-01");
    assert_eq!(range.end().to_string(), "2024-03-01");
    assert_eq!(range.days(), 60);
    assert_eq!(range.timerange(), "20240101-20240301");
    round_trip(
        &range,
        serde_json::json!({"start": "2024-01-01", "end": "2024-03-01"}),
    );

    assert_eq!(
        DateRange::parse("2024-02-01", "2024-02-01"),
        Err(DomainError::invalid(
            "endDate",
            "must be after startDate (2024-02-01), got 2024-02-01"
        ))
    );
    assert_eq!(
        field_of(DateRange::parse("2024-03-01", "2024-02-01")),
        "endDate"
    );
    for bad in [
        "",
        "2024-1-01",
        "2024/01/01",
        "20240101",
        "2024-01-01T00:00",
        "x",
    ] {
        assert_eq!(
            field_of(DateRange::parse(bad, "2025-01-01")),
            "startDate",
            "{bad:?}"
        );
        assert_eq!(
            field_of(DateRange::parse("2020-01-01", bad)),
            "endDate",
            "{bad:?}"
        );
    }
    assert_eq!(
        DateRange::parse("2023-02-29", "2024-01-01"),
        Err(DomainError::invalid(
            "startDate",
            "\"2023-02-29\" is not a calendar date"
        ))
    );
    assert!(DateRange::parse("2024-02-29", "2024-03-01").is_ok());
    assert!(
        serde_json::from_value::<DateRange>(
            serde_json::json!({"start": "2024-03-01", "end": "2024-01-01"})
        )
        .is_err()
    );
}

#[test]
fn stake_amounts() {
    assert_eq!(
        StakeAmount::parse_amount(100.0).map(|s| s.amount()),
        Ok(Some(100.0))
    );
    assert_eq!(
        StakeAmount::parse("0.05").map(|s| s.amount()),
        Ok(Some(0.05))
    );
    assert_eq!(
        StakeAmount::parse("100").map(|s| s.amount()),
        Ok(Some(100.0))
    );
    let unlimited = StakeAmount::parse("unlimited").expect("valid");
    assert!(unlimited.is_unlimited());
    assert_eq!(unlimited.amount(), None);
    assert_eq!(unlimited.to_string(), "unlimited");

    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0] {
        assert_eq!(
            field_of(StakeAmount::parse_amount(bad)),
            "stakeAmount",
            "{bad}"
        );
    }
    for bad in [
        "",
        "0",
        "-5",
        "inf",
        "NaN",
        "1e3",
        "1.2.3",
        ".",
        "Unlimited",
        " 5",
        "5 USDT",
    ] {
        assert_eq!(field_of(StakeAmount::parse(bad)), "stakeAmount", "{bad:?}");
    }
    round_trip(&unlimited, serde_json::json!("unlimited"));
    round_trip(
        &StakeAmount::parse_amount(12.5).expect("valid"),
        serde_json::json!(12.5),
    );
    assert!(serde_json::from_value::<StakeAmount>(serde_json::json!(-1.0)).is_err());
}

#[test]
fn stake_currencies() {
    assert_eq!(
        StakeCurrency::parse("USDT").map(|c| c.to_string()),
        Ok("USDT".to_owned())
    );
    assert!(StakeCurrency::parse("BTC").is_ok());
    assert_eq!(
        StakeCurrency::parse("usdt"),
        Err(DomainError::invalid(
            "stakeCurrency",
            "\"usdt\" must be uppercase, like USDT"
        ))
    );
    for bad in ["", "U", "ABCDEFGHIJK", "US-DT", "US DT"] {
        assert_eq!(
            field_of(StakeCurrency::parse(bad)),
            "stakeCurrency",
            "{bad:?}"
        );
    }
    round_trip(
        &StakeCurrency::parse("EUR").expect("valid"),
        serde_json::json!("EUR"),
    );
}

#[test]
fn cpu_limits() {
    let cases = [
        ("0.5", 500, "500m"),
        ("2", 2000, "2"),
        ("500m", 500, "500m"),
        ("1.5", 1500, "1500m"),
        (".25", 250, "250m"),
        ("0.01", 10, "10m"),
        ("10m", 10, "10m"),
        ("64", 64_000, "64"),
        ("64000m", 64_000, "64"),
        ("0.125", 125, "125m"),
    ];
    for (input, millicores, canonical) in cases {
        let cpu = CpuLimit::parse(input).expect(input);
        assert_eq!(cpu.millicores(), millicores, "{input}");
        assert_eq!(cpu.to_string(), canonical, "{input}");
        assert_eq!(CpuLimit::parse(canonical), Ok(cpu));
    }
    assert_eq!(CpuLimit::parse("0.5").map(|c| c.cores()), Ok(0.5));
    assert_eq!(
        CpuLimit::parse("2").map(|c| c.nano_cpus()),
        Ok(2_000_000_000)
    );

    let out_of_range = [
        "0.009",
        "9m",
        "0",
        "0m",
        "64.001",
        "65",
        "64001m",
        "99999999999999999999",
    ];
    for bad in out_of_range {
        let reason = reason_of(CpuLimit::parse(bad));
        assert!(reason.contains("out of range"), "{bad}: {reason}");
    }
    assert_eq!(
        CpuLimit::parse("2x"),
        Err(DomainError::invalid(
            "resources.cpu",
            "unknown unit \"x\" in \"2x\": use cores (0.5, 2) or millicores (500m)"
        ))
    );
    assert!(reason_of(CpuLimit::parse("1.5m")).contains("unknown unit"));
    assert!(reason_of(CpuLimit::parse("0.0001")).contains("more than 3 decimals"));
    for bad in ["", "m", ".", "2.", "-1", "abc", "1..2", " 1"] {
        assert_eq!(field_of(CpuLimit::parse(bad)), "resources.cpu", "{bad:?}");
    }
    round_trip(
        &CpuLimit::parse("1500m").expect("valid"),
        serde_json::json!("1500m"),
    );
}

#[test]
fn memory_limits() {
    const MI: u64 = 1024 * 1024;
    let cases = [
        ("512Mi", 512 * MI, "512Mi"),
        ("64Mi", 64 * MI, "64Mi"),
        ("1Gi", 1024 * MI, "1Gi"),
        ("1.5Gi", 1536 * MI, "1536Mi"),
        ("1Ti", 1024 * 1024 * MI, "1Ti"),
        ("65536Ki", 64 * MI, "64Mi"),
        ("1G", 1_000_000_000, "1000000000"),
        ("1GB", 1_000_000_000, "1000000000"),
        ("512M", 512_000_000, "500000Ki"),
        ("100MB", 100_000_000, "100000000"),
        ("1T", 1_000_000_000_000, "976562500Ki"),
        ("268435456", 256 * MI, "256Mi"),
        ("268435456B", 256 * MI, "256Mi"),
    ];
    for (input, bytes, canonical) in cases {
        let memory = MemoryLimit::parse(input).expect(input);
        assert_eq!(memory.bytes(), bytes, "{input}");
        assert_eq!(memory.to_string(), canonical, "{input}");
        assert_eq!(MemoryLimit::parse(canonical), Ok(memory));
    }

    for bad in [
        "63Mi",
        "1025Gi",
        "2Ti",
        "0",
        "1Ki",
        "99999999999999999999999999Ti",
    ] {
        let reason = reason_of(MemoryLimit::parse(bad));
        assert!(reason.contains("out of range"), "{bad}: {reason}");
    }
    assert_eq!(
        MemoryLimit::parse("512mb"),
        Err(DomainError::invalid(
            "resources.memory",
            "unknown unit \"mb\" in \"512mb\"; use Ki, Mi, Gi, Ti, K, M, G, T (or KB, MB, GB, TB) or plain bytes"
        ))
    );
    for bad in ["512XB", "1 Gi", "Gi", "1GiB", "-1Gi"] {
        let reason = reason_of(MemoryLimit::parse(bad));
        assert!(
            reason.contains("unknown unit") || reason.contains("must be a number"),
            "{bad}: {reason}"
        );
    }
    for bad in ["", ".5Gi", "1.Gi", "1..5Gi", "."] {
        assert_eq!(
            field_of(MemoryLimit::parse(bad)),
            "resources.memory",
            "{bad:?}"
        );
    }
    round_trip(
        &MemoryLimit::parse("2Gi").expect("valid"),
        serde_json::json!("2Gi"),
    );
}

#[test]
fn resource_limits() {
    assert_eq!(
        ResourceLimits::parse(None, None),
        Ok(ResourceLimits::default())
    );
    let limits = ResourceLimits::parse(Some("1"), Some("1Gi")).expect("valid");
    assert_eq!(limits.cpu.map(|c| c.millicores()), Some(1000));
    assert_eq!(limits.memory.map(|m| m.to_string()).as_deref(), Some("1Gi"));
    assert_eq!(
        field_of(ResourceLimits::parse(Some("lots"), None)),
        "resources.cpu"
    );
    assert_eq!(
        field_of(ResourceLimits::parse(None, Some("lots"))),
        "resources.memory"
    );
    round_trip(&limits, serde_json::json!({"cpu": "1", "memory": "1Gi"}));
}

#[test]
fn bot_modes_and_runtimes() {
    assert_eq!(BotMode::parse("dry_run"), Ok(BotMode::DryRun));
    assert_eq!(BotMode::parse("live"), Ok(BotMode::Live));
    assert!(BotMode::DryRun.is_dry_run());
    assert!(!BotMode::Live.is_dry_run());
    for bad in ["dry-run", "DRY_RUN", "paper", ""] {
        assert_eq!(field_of(BotMode::parse(bad)), "mode", "{bad:?}");
    }
    round_trip(&BotMode::DryRun, serde_json::json!("dry_run"));

    for kind in RuntimeKind::ALL {
        assert_eq!(RuntimeKind::parse(kind.as_str()), Ok(*kind));
    }
    assert_eq!(field_of(RuntimeKind::parse("podman")), "runtime");
    round_trip(&RuntimeKind::Kubernetes, serde_json::json!("kubernetes"));
}

#[test]
fn freqtrade_versions() {
    assert_eq!(FreqtradeVersion::default().as_str(), "2026.9");
    for ok in ["2026.9", "2025.10", "2024.1.1", "2023.12.0", "2026.12.123"] {
        assert_eq!(
            FreqtradeVersion::parse(ok).map(|v| v.to_string()),
            Ok(ok.to_owned())
        );
    }
    for bad in [
        "",
        "2026",
        "2026.",
        "2026.0",
        "2026.13",
        "2026.09",
        "26.9",
        "2026.9.1.1",
        "v2026.9",
        "2026.9.01",
        "2026.9.1234",
        "stable",
        "2026.9-rc1",
    ] {
        assert_eq!(
            field_of(FreqtradeVersion::parse(bad)),
            "freqtradeVersion",
            "{bad:?}"
        );
    }
    round_trip(&FreqtradeVersion::default(), serde_json::json!("2026.9"));
}

#[test]
fn epochs() {
    assert_eq!(Epochs::parse(1).map(|e| e.get()), Ok(1));
    assert_eq!(Epochs::parse(10_000).map(|e| e.get()), Ok(10_000));
    for bad in [0, -1, 10_001, i64::MAX, i64::MIN] {
        assert_eq!(field_of(Epochs::parse(bad)), "epochs", "{bad}");
    }
    round_trip(&Epochs::parse(100).expect("valid"), serde_json::json!(100));
    assert!(serde_json::from_value::<Epochs>(serde_json::json!(0)).is_err());
}

#[test]
fn hyperopt_spaces() {
    let spaces = HyperoptSpaces::parse(&["buy", "sell", "buy", "roi"]).expect("valid");
    assert_eq!(
        spaces.as_slice(),
        [HyperoptSpace::Buy, HyperoptSpace::Sell, HyperoptSpace::Roi]
    );
    assert_eq!(spaces.to_strings(), ["buy", "sell", "roi"]);
    round_trip(&spaces, serde_json::json!(["buy", "sell", "roi"]));
    for space in HyperoptSpace::ALL {
        assert!(HyperoptSpaces::parse(&[space.as_str()]).is_ok());
    }
    let none: [&str; 0] = [];
    assert_eq!(
        HyperoptSpaces::parse(&none),
        Err(DomainError::invalid(
            "spaces",
            "at least one hyperopt space is required"
        ))
    );
    assert_eq!(
        field_of(HyperoptSpaces::parse(&["buy", "BUY"])),
        "spaces[1]"
    );
}

#[test]
fn optimization_metrics() {
    assert_eq!(
        OptimizationMetric::parse("sharpe"),
        Ok(OptimizationMetric::Sharpe)
    );
    assert_eq!(
        OptimizationMetric::Sharpe.hyperopt_loss(),
        "SharpeHyperOptLoss"
    );
    assert_eq!(
        field_of(OptimizationMetric::parse("sortino")),
        "optimizationMetric"
    );
    round_trip(&OptimizationMetric::Drawdown, serde_json::json!("drawdown"));
}

#[test]
fn progress() {
    assert_eq!(Progress::parse(0.0).map(|p| p.get()), Ok(0.0));
    assert_eq!(Progress::parse(100.0).map(|p| p.get()), Ok(100.0));
    assert_eq!(Progress::parse(42.5).map(|p| p.get()), Ok(42.5));
    for bad in [-0.1, 100.1, f64::NAN, f64::INFINITY] {
        assert_eq!(field_of(Progress::parse(bad)), "progress", "{bad}");
    }
    round_trip(
        &Progress::parse(12.5).expect("valid"),
        serde_json::json!(12.5),
    );
    assert!(serde_json::from_value::<Progress>(serde_json::json!(101.0)).is_err());
}

#[test]
fn long_inputs_are_cut_in_messages() {
    let long = "x".repeat(10_000);
    let reason = reason_of(Timeframe::parse(&long));
    assert!(reason.len() < 300, "{}", reason.len());
}

#[test]
fn garbage_never_panics_and_what_parses_round_trips() {
    let mut rng = garbage::Rng::new(42);
    for input in garbage::strings(400) {
        if let Ok(v) = ExchangeName::parse(&input) {
            assert_eq!(v.as_str(), input);
        }
        if let Ok(v) = SecretName::parse(&input) {
            assert_eq!(v.as_str(), input);
        }
        if let Ok(v) = Timeframe::parse(&input) {
            assert_eq!(v.as_str(), input);
        }
        if let Ok(v) = Pair::parse(&input) {
            assert_eq!(v.as_str(), input);
        }
        let _ = Pairs::parse(&[input.as_str(), "BTC/USDT"]);
        let _ = DateRange::parse(&input, "2030-01-01");
        let _ = DateRange::parse("2000-01-01", &input);
        if let Ok(v) = StakeAmount::parse(&input) {
            assert!(v.is_unlimited() || v.amount().is_some_and(|a| a > 0.0 && a.is_finite()));
        }
        let _ = StakeCurrency::parse(&input);
        if let Ok(v) = CpuLimit::parse(&input) {
            assert_eq!(CpuLimit::parse(&v.to_string()), Ok(v));
        }
        if let Ok(v) = MemoryLimit::parse(&input) {
            assert_eq!(MemoryLimit::parse(&v.to_string()), Ok(v));
        }
        let _ = ResourceLimits::parse(Some(&input), Some(&input));
        let _ = BotMode::parse(&input);
        let _ = RuntimeKind::parse(&input);
        if let Ok(v) = FreqtradeVersion::parse(&input) {
            assert_eq!(v.as_str(), input);
        }
        let _ = HyperoptSpaces::parse(&[input.as_str()]);
        let _ = OptimizationMetric::parse(&input);
        if let Ok(v) = EntityName::parse(&input) {
            assert_eq!(v.as_str(), input);
        }
        let _ = RuntimeId::parse(&input);
        if let Ok(v) = ApiUrl::parse(&input) {
            assert!(v.as_str().starts_with("http"));
        }
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(&input) {
            let _ = ConfigObject::parse("config", json);
        }
        let _ = ConfigObject::parse(
            "config",
            serde_json::json!({ input.clone(): [input.clone()] }),
        );
        // Numbers: the bit patterns of random u64s cover NaNs, infinities and subnormals.
        let bits = rng.next();
        let _ = StakeAmount::parse_amount(f64::from_bits(bits));
        let _ = Progress::parse(f64::from_bits(bits));
        let _ = Epochs::parse(bits as i64);
        let _ = MaxOpenTrades::parse(bits as i64);
        // Deserializing garbage JSON strings goes through parse as well.
        let json = serde_json::Value::String(input.clone());
        let _ = serde_json::from_value::<CpuLimit>(json.clone());
        let _ = serde_json::from_value::<StakeAmount>(json);
    }
}

#[test]
fn entity_names() {
    for ok in ["alpha", "RSI cross v2", "a.b-c_d", &"x".repeat(64)] {
        assert_eq!(
            EntityName::parse(ok).map(|n| n.to_string()),
            Ok(ok.to_owned())
        );
    }
    assert_eq!(
        EntityName::parse("   "),
        Err(DomainError::invalid("name", "must not be empty"))
    );
    for bad in ["a/b", "tab\t", "é", "x ", " x", &"x".repeat(65)] {
        assert_eq!(field_of(EntityName::parse(bad)), "name", "{bad:?}");
    }
    round_trip(
        &EntityName::parse("alpha").expect("valid"),
        serde_json::json!("alpha"),
    );
}

#[test]
fn max_open_trades() {
    assert_eq!(MaxOpenTrades::parse(-1).map(|m| m.limit()), Ok(None));
    assert_eq!(MaxOpenTrades::parse(3).map(|m| m.limit()), Ok(Some(3)));
    assert_eq!(MaxOpenTrades::parse(1000).map(|m| m.get()), Ok(1000));
    for bad in [0, -2, 1001, i64::MIN] {
        assert_eq!(
            field_of(MaxOpenTrades::parse(bad)),
            "maxOpenTrades",
            "{bad}"
        );
    }
    round_trip(
        &MaxOpenTrades::parse(-1).expect("valid"),
        serde_json::json!(-1),
    );
}

#[test]
fn runtime_ids_and_api_urls() {
    assert!(RuntimeId::parse("3f2a9c").is_ok());
    assert!(RuntimeId::parse("anytrade-bot-1234").is_ok());
    for bad in ["", "a b", "a\nb", &"x".repeat(257)] {
        assert_eq!(field_of(RuntimeId::parse(bad)), "runtimeId", "{bad:?}");
    }
    assert_eq!(
        ApiUrl::parse("http://10.0.0.7:8080/").map(|u| u.to_string()),
        Ok("http://10.0.0.7:8080".to_owned())
    );
    assert!(ApiUrl::parse("https://bot.example/api").is_ok());
    for bad in [
        "",
        "http://",
        "http:///x",
        "ftp://x",
        "localhost:8080",
        "http://a b",
    ] {
        assert_eq!(field_of(ApiUrl::parse(bad)), "apiUrl", "{bad:?}");
    }
}

#[test]
fn config_objects() {
    let config = ConfigObject::parse("config", serde_json::json!({"a": {"b": [1, {"c": 2}]}}))
        .expect("valid");
    assert!(!config.is_empty());
    round_trip(&config, serde_json::json!({"a": {"b": [1, {"c": 2}]}}));
    assert_eq!(
        ConfigObject::parse("config", serde_json::json!(null)),
        Err(DomainError::invalid(
            "config",
            "must be a JSON object, got null"
        ))
    );
    assert_eq!(
        ConfigObject::parse("config.extra", serde_json::json!({"x": [{"Api-Key": 1}]})),
        Err(DomainError::invalid(
            "config.extra.x[0].Api-Key",
            "credentials go in exchange secrets, not in config"
        ))
    );
    // Read back from the store, a credential is refused just the same.
    assert!(serde_json::from_value::<ConfigObject>(serde_json::json!({"secret": "x"})).is_err());
}
