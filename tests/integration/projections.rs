//! Read models follow the log: every aggregate's commands show up in its tables, lookups
//! answer from them, and a rebuild from position 0 gives the same rows.

use std::sync::Arc;
use std::time::Duration;

use anytrade::crypto::Keyring;
use anytrade::lookup::PgLookup;
use anytrade::store::{CommandError, CommandMetadata, Commands, EventLog, LogPosition};
use anytrade_aggregates::values::BotId;
use anytrade_aggregates::{
    BacktestCommand, BotCommand, BotConfigInput, DomainError, ExchangeCommand, HyperoptCommand,
    JobInput, ResourcesInput, StrategyCommand, TradeClosing, TradeCommand, TradeOpening,
    trade_aggregate_id,
};
use anytrade_projections::runner;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{fresh_database, poll_until};
pub use crate::read_models::dump;

const CODE_V1: &str = "from freqtrade.strategy import IStrategy\n\nclass AlwaysIn(IStrategy):\n    timeframe = '5m'\n";
const CODE_V2: &str = "from freqtrade.strategy import IStrategy\n\nclass AlwaysIn(IStrategy):\n    timeframe = '15m'\n";

struct Fleet {
    pool: PgPool,
    commands: Commands,
    projections: anytrade_projections::Projections,
    stop: tokio::sync::watch::Sender<bool>,
    meta: CommandMetadata,
}

impl Fleet {
    async fn start() -> Self {
        let pool = fresh_database().await;
        let log = EventLog::new(pool.clone());
        let lookup = Arc::new(PgLookup::new(pool.clone()));
        let commands = Commands::new(&pool, &log, lookup);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let (projections, _tasks) =
            runner::spawn(pool.clone(), log, anytrade_projections::all(), stopped)
                .await
                .expect("projections start");
        Self {
            pool,
            commands,
            projections,
            stop,
            meta: CommandMetadata::issued_by("user:test"),
        }
    }

    /// Waits until the read models show the command that ended at `position`.
    async fn settled(&self, position: Option<LogPosition>) {
        let position = position.expect("the command changed something");
        assert!(
            self.projections
                .wait_for(position, Duration::from_secs(20))
                .await,
            "projections did not catch up"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_models_follow_every_aggregate_and_rebuild_identically() {
    let fleet = Fleet::start().await;
    let c = &fleet.commands;
    let m = &fleet.meta;
    let keys = Keyring::from_base64(Some(&Keyring::generate_key()), &[]).expect("key");

    let exchange = Uuid::now_v7();
    let x = exchange.to_string();
    c.exchanges
        .execute(
            &x.parse().expect("id"),
            ExchangeCommand::CreateExchange {
                exchange_id: exchange,
                name: "binance".into(),
                test_mode: true,
                config: json!({ "ccxt_config": { "enableRateLimit": true } }),
                secrets: Vec::new(),
            },
            m,
        )
        .await
        .expect("create exchange");
    for name in ["api_key", "api_secret"] {
        c.exchanges
            .execute(
                &x.parse().expect("id"),
                ExchangeCommand::AddExchangeSecret {
                    name: name.into(),
                    value: keys.seal("s3cret", &format!("exchange:{exchange}:{name}")),
                },
                m,
            )
            .await
            .expect("add secret");
    }
    let at = c
        .exchanges
        .execute(
            &x.parse().expect("id"),
            ExchangeCommand::UpdateExchange {
                test_mode: Some(false),
                config: None,
            },
            m,
        )
        .await
        .expect("update exchange");
    fleet.settled(at).await;

    let strategy = Uuid::now_v7();
    let s = strategy.to_string();
    let create_strategy = |id: Uuid, name: &str| StrategyCommand::CreateStrategy {
        strategy_id: id,
        name: name.into(),
        description: "enters on every candle".into(),
        code: CODE_V1.into(),
    };
    let at = c
        .strategies
        .execute(
            &s.parse().expect("id"),
            create_strategy(strategy, "Always In"),
            m,
        )
        .await
        .expect("create strategy");
    fleet.settled(at).await;
    // The name is taken now (case-insensitively), through the read model.
    let other = Uuid::now_v7();
    let taken = c
        .strategies
        .execute(&other, create_strategy(other, "always in"), m)
        .await
        .unwrap_err();
    assert!(
        matches!(taken, CommandError::Domain(DomainError::Conflict { ref field, .. }) if field == "name"),
        "{taken}"
    );
    let at = c
        .strategies
        .execute(
            &s.parse().expect("id"),
            StrategyCommand::UpdateStrategy {
                name: None,
                description: None,
                code: Some(CODE_V2.into()),
            },
            m,
        )
        .await
        .expect("new version");
    fleet.settled(at).await;

    let bot = Uuid::now_v7();
    let b = bot.to_string();
    c.bots
        .execute(
            &b.parse().expect("id"),
            BotCommand::CreateBot {
                bot_id: BotId::from(bot),
                name: "fleet-1".into(),
                exchange_id: exchange,
                strategy_id: strategy,
                mode: "dry_run".into(),
                runtime: Some("local".into()),
                config: BotConfigInput {
                    max_open_trades: Some(3),
                    stake_amount: Some("100".into()),
                    pairs: Some(vec!["BTC/USDT".into(), "ETH/USDT".into()]),
                    timeframe: Some("5m".into()),
                    dry_run: Some(true),
                    extra: None,
                },
                resources: ResourcesInput {
                    cpu: Some("500m".into()),
                    memory: Some("512Mi".into()),
                },
                freqtrade_version: None,
            },
            m,
        )
        .await
        .expect("create bot");
    for command in [
        BotCommand::ConfirmBotProvisioned {
            runtime_id: "pid-1".into(),
        },
        BotCommand::StartBot,
        BotCommand::ConfirmBotStarted {
            runtime_id: "pid-1".into(),
            api_url: "http://127.0.0.1:8081".into(),
        },
        BotCommand::ReportBotFailure {
            reason: "ping failed 3 times".into(),
        },
    ] {
        c.bots
            .execute(&b.parse().expect("id"), command, m)
            .await
            .expect("bot lifecycle");
    }
    let doomed_bot = Uuid::now_v7();
    c.bots
        .execute(
            &BotId::from(doomed_bot),
            BotCommand::CreateBot {
                bot_id: BotId::from(doomed_bot),
                name: "short-lived".into(),
                exchange_id: exchange,
                strategy_id: strategy,
                mode: "dry_run".into(),
                runtime: None,
                config: BotConfigInput::default(),
                resources: ResourcesInput::default(),
                freqtrade_version: None,
            },
            m,
        )
        .await
        .expect("create bot");
    c.bots
        .execute(&BotId::from(doomed_bot), BotCommand::DeleteBot, m)
        .await
        .expect("delete");
    let at = c
        .bots
        .execute(&BotId::from(doomed_bot), BotCommand::ConfirmBotDeleted, m)
        .await
        .expect("deleted");
    fleet.settled(at).await;

    // Bots use the exchange and the strategy now: neither may go.
    let in_use = c
        .exchanges
        .execute(&x.parse().expect("id"), ExchangeCommand::DeleteExchange, m)
        .await
        .unwrap_err();
    assert!(
        matches!(in_use, CommandError::Domain(DomainError::Conflict { .. })),
        "{in_use}"
    );
    let in_use = c
        .strategies
        .execute(&s.parse().expect("id"), StrategyCommand::DeleteStrategy, m)
        .await
        .unwrap_err();
    assert!(
        matches!(in_use, CommandError::Domain(DomainError::Conflict { .. })),
        "{in_use}"
    );

    let backtest = Uuid::now_v7();
    let job = backtest.to_string();
    c.backtests
        .execute(
            &job.parse().expect("id"),
            BacktestCommand::RequestBacktest {
                backtest_id: backtest,
                input: JobInput {
                    strategy_id: strategy,
                    exchange_id: Some(exchange),
                    start_date: "2026-01-01".into(),
                    end_date: "2026-02-01".into(),
                    timeframe: "5m".into(),
                    stake_amount: 100.0,
                    stake_currency: "USDT".into(),
                    pairs: vec!["BTC/USDT".into()],
                    config: None,
                },
            },
            m,
        )
        .await
        .expect("request backtest");
    c.backtests
        .execute(
            &job.parse().expect("id"),
            BacktestCommand::StartBacktest {
                runtime_id: "job-1".into(),
            },
            m,
        )
        .await
        .expect("start");
    c.backtests
        .execute(
            &job.parse().expect("id"),
            BacktestCommand::CompleteBacktest {
                results: json!({ "total_trades": 12, "profit_total": 0.05 }),
            },
            m,
        )
        .await
        .expect("complete");
    let hyperopt = Uuid::now_v7();
    let h = hyperopt.to_string();
    c.hyperopts
        .execute(
            &h.parse().expect("id"),
            HyperoptCommand::RequestHyperopt {
                hyperopt_id: hyperopt,
                input: JobInput {
                    strategy_id: strategy,
                    exchange_id: Some(exchange),
                    start_date: "2026-01-01".into(),
                    end_date: "2026-02-01".into(),
                    timeframe: "1h".into(),
                    stake_amount: 50.0,
                    stake_currency: "USDT".into(),
                    pairs: vec!["ETH/USDT".into()],
                    config: None,
                },
                epochs: 100,
                spaces: vec!["buy".into(), "roi".into()],
                optimization_metric: "sharpe".into(),
            },
            m,
        )
        .await
        .expect("request hyperopt");
    c.hyperopts
        .execute(
            &h.parse().expect("id"),
            HyperoptCommand::StartHyperopt {
                runtime_id: "job-2".into(),
            },
            m,
        )
        .await
        .expect("start");
    c.hyperopts
        .execute(
            &h.parse().expect("id"),
            HyperoptCommand::ReportHyperoptProgress {
                progress: 42.5,
                epoch: Some(43),
            },
            m,
        )
        .await
        .expect("progress");
    let opening = TradeOpening {
        bot_id: BotId::from(bot),
        trade_id: 1,
        pair: "BTC/USDT".into(),
        open_date: chrono::Utc::now() - chrono::Duration::hours(1),
        open_rate: 50_000.0,
        amount: 0.002,
        stake_amount: 100.0,
        strategy_name: "AlwaysIn".into(),
        timeframe_minutes: 5,
    };
    let closing = TradeClosing {
        close_date: chrono::Utc::now(),
        close_rate: 51_000.0,
        profit_abs: 2.0,
        profit_ratio: 0.02,
        exit_reason: "roi".into(),
    };
    let at = c
        .trades
        .execute(
            &trade_aggregate_id(BotId::from(bot), 1),
            TradeCommand::RecordTradeClosed { opening, closing },
            m,
        )
        .await
        .expect("record trade");
    fleet.settled(at).await;

    let pool = &fleet.pool;
    let (test_mode, secrets): (bool, Vec<String>) = sqlx::query_as(
        "SELECT test_mode, ARRAY(SELECT name FROM exchange_secrets WHERE exchange_id = e.id ORDER BY name)
           FROM exchanges e WHERE id = $1",
    )
    .bind(exchange)
    .fetch_one(pool)
    .await
    .expect("exchange row");
    assert!(!test_mode);
    assert_eq!(secrets, ["api_key", "api_secret"]);
    let (version, versions): (i32, i64) = sqlx::query_as(
        "SELECT current_version, (SELECT count(*) FROM strategy_versions WHERE strategy_id = s.id)
           FROM strategies s WHERE id = $1",
    )
    .bind(strategy)
    .fetch_one(pool)
    .await
    .expect("strategy row");
    assert_eq!((version, versions), (2, 2));
    let (status, error, api_url): (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT status, error_message, api_url FROM bots WHERE id = $1")
            .bind(bot)
            .fetch_one(pool)
            .await
            .expect("bot row");
    assert_eq!(status, "error");
    assert_eq!(error.as_deref(), Some("ping failed 3 times"));
    assert_eq!(api_url.as_deref(), Some("http://127.0.0.1:8081"));
    let bots: i64 = sqlx::query_scalar("SELECT count(*) FROM bots")
        .fetch_one(pool)
        .await
        .expect("count");
    assert_eq!(bots, 1, "the deleted bot is gone");
    let (status, trades): (String, Option<i64>) = sqlx::query_as(
        "SELECT status, (results->>'total_trades')::bigint FROM backtests WHERE id = $1",
    )
    .bind(backtest)
    .fetch_one(pool)
    .await
    .expect("backtest row");
    assert_eq!((status.as_str(), trades), ("completed", Some(12)));
    let (status, progress): (String, f64) =
        sqlx::query_as("SELECT status, progress FROM hyperopts WHERE id = $1")
            .bind(hyperopt)
            .fetch_one(pool)
            .await
            .expect("hyperopt row");
    assert_eq!((status.as_str(), progress), ("running", 42.5));

    let closed: Vec<bool> = sqlx::query_scalar("SELECT is_open FROM trades")
        .fetch_all(pool)
        .await
        .expect("trades");
    assert_eq!(closed, [false], "one closed trade");
    let totals: (i64, i64, f64) = sqlx::query_as(
        "SELECT open_trades, closed_trades, closed_profit::float8 FROM bot_trade_totals
          WHERE bot_id = $1",
    )
    .bind(bot)
    .fetch_one(pool)
    .await
    .expect("the bot's trade totals");
    assert_eq!(totals, (0, 1, 2.0), "opened and closed in one batch");

    let before = dump(pool).await;
    fleet.stop.send_replace(true);
    // The transaction that last wrote each row the tampering leaves alone: a rebuild
    // that only confirms a row does not write it again.
    let untouched = "SELECT id::text, xmin::text FROM bots
                     UNION ALL SELECT id::text, xmin::text FROM backtests ORDER BY 1";
    let writers: Vec<(String, String)> = sqlx::query_as(untouched)
        .fetch_all(pool)
        .await
        .expect("row versions");
    assert!(!writers.is_empty());
    // A rebuild repairs a read model gone wrong: a changed row, a changed parent whose
    // children cascade away, a missing row and a stray one.
    for tamper in [
        "UPDATE trades SET exit_reason = 'tampered'",
        "UPDATE bot_trade_totals SET closed_profit = closed_profit + 1",
        "UPDATE strategies SET name = name || '-tampered'",
        "DELETE FROM exchange_secrets WHERE name = 'api_key'",
        "INSERT INTO trades SELECT (jsonb_populate_record(NULL::trades, to_jsonb(t)
             || jsonb_build_object('id', gen_random_uuid(), 'freqtrade_trade_id', 999))).*
           FROM trades t",
    ] {
        let changed = sqlx::query(tamper).execute(pool).await.expect(tamper);
        assert!(changed.rows_affected() > 0, "{tamper} changed nothing");
    }
    assert_ne!(dump(pool).await, before);
    for projector in anytrade_projections::all() {
        anytrade_projections::rebuild::rebuild(pool, &[projector.as_ref()])
            .await
            .expect("rebuild");
    }
    assert_eq!(
        dump(pool).await,
        before,
        "a rebuild from position 0 changed the rows"
    );
    let rewritten: Vec<(String, String)> = sqlx::query_as(untouched)
        .fetch_all(pool)
        .await
        .expect("row versions");
    assert_eq!(
        rewritten, writers,
        "a rebuild rewrote rows it only confirmed"
    );

    // Into empty read models (a new one): the live tables are filled with their indexes
    // dropped and built again after, so the same rows come back under the same indexes
    // and constraints.
    let all = anytrade_projections::all();
    let all: Vec<_> = all.iter().map(|p| p.as_ref()).collect();
    let tables: Vec<&str> = all.iter().flat_map(|p| p.tables()).copied().collect();
    let definitions = "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
                         FROM pg_index WHERE indrelid::regclass::text = ANY($1)
                       UNION ALL
                       SELECT conname, pg_get_constraintdef(oid)
                         FROM pg_constraint WHERE conrelid::regclass::text = ANY($1)
                        ORDER BY 1, 2";
    let indexes: Vec<(String, String)> = sqlx::query_as(definitions)
        .bind(&tables)
        .fetch_all(pool)
        .await
        .expect("indexes");
    assert!(indexes.iter().any(|(name, _)| name == "trades_open_date"));
    sqlx::query(&format!("TRUNCATE {} CASCADE", tables.join(", ")))
        .execute(pool)
        .await
        .expect("empty the read models");
    anytrade_projections::rebuild::rebuild(pool, &all)
        .await
        .expect("rebuild into empty tables");
    assert_eq!(
        dump(pool).await,
        before,
        "a rebuild into empty tables differs"
    );
    let rebuilt: Vec<(String, String)> = sqlx::query_as(definitions)
        .bind(&tables)
        .fetch_all(pool)
        .await
        .expect("indexes");
    assert_eq!(
        rebuilt, indexes,
        "a rebuild into empty tables changed the indexes"
    );
    let duplicate = sqlx::query(
        "INSERT INTO trades SELECT (jsonb_populate_record(NULL::trades, to_jsonb(t)
             || jsonb_build_object('id', gen_random_uuid()))).* FROM trades t",
    )
    .execute(pool)
    .await
    .expect_err("the unique key of a trade holds after the fill");
    assert!(duplicate.to_string().contains("unique"), "{duplicate}");
}

/// A rebuild runs beside the live projector: commands keep landing while it replays,
/// queries keep seeing the old rows (never fewer exchanges than before), and the result
/// equals a rebuild of the finished log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_under_live_writes_equals_a_fresh_rebuild() {
    let fleet = Arc::new(Fleet::start().await);
    let pool = fleet.pool.clone();
    let create = |id: Uuid| ExchangeCommand::CreateExchange {
        exchange_id: id,
        name: "binance".into(),
        test_mode: true,
        config: json!({ "n": id.to_string() }),
        secrets: Vec::new(),
    };
    let mut seeded = None;
    for _ in 0..300 {
        let id = Uuid::now_v7();
        seeded = fleet
            .commands
            .exchanges
            .execute(&id, create(id), &fleet.meta)
            .await
            .expect("seed exchange");
    }
    fleet.settled(seeded).await;

    let (done, mut finished) = tokio::sync::watch::channel(false);
    let writer = {
        let fleet = fleet.clone();
        let mut finished = finished.clone();
        tokio::spawn(async move {
            let mut written = 0;
            while !*finished.borrow_and_update() {
                let id = Uuid::now_v7();
                let m = &fleet.meta;
                fleet
                    .commands
                    .exchanges
                    .execute(&id, create(id), m)
                    .await
                    .expect("create");
                let update = ExchangeCommand::UpdateExchange {
                    test_mode: Some(false),
                    config: None,
                };
                fleet
                    .commands
                    .exchanges
                    .execute(&id, update, m)
                    .await
                    .expect("update");
                written += 2;
            }
            written
        })
    };
    let reader = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut fewest = i64::MAX;
            while !*finished.borrow_and_update() {
                let count: i64 = sqlx::query_scalar("SELECT count(*) FROM exchanges")
                    .fetch_one(&pool)
                    .await
                    .expect("count");
                fewest = fewest.min(count);
            }
            fewest
        })
    };
    let events = || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&pool)
            .await
            .expect("count events");
        n
    };
    let before = events().await;
    // All read models in one pass, then each again on its own.
    let all = anytrade_projections::all();
    let all: Vec<_> = all.iter().map(|p| p.as_ref()).collect();
    anytrade_projections::rebuild::rebuild(&pool, &all)
        .await
        .expect("rebuild under writes");
    for projector in &all {
        anytrade_projections::rebuild::rebuild(&pool, &[*projector])
            .await
            .expect("rebuild under writes");
    }
    let during = events().await - before;
    done.send_replace(true);
    let written = writer.await.expect("writer");
    let fewest = reader.await.expect("reader");
    assert!(during > 0, "no command landed during the rebuild");
    assert!(written >= during, "{written} written, {during} seen");
    assert!(
        fewest >= 300,
        "queries saw {fewest} exchanges during the rebuild"
    );

    // Readers see an event once no older transaction runs anywhere in the cluster; a
    // busy machine (other tests' databases share it) can hold that back. The fresh
    // rebuild below runs with the live projectors stopped, so nothing would apply an
    // event it could not see yet: wait until every written event is visible.
    let last: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(&pool)
        .await
        .expect("last event");
    let head = poll_until(
        Duration::from_secs(60),
        Duration::from_millis(50),
        || async {
            let head = EventLog::new(pool.clone()).head().await.expect("head");
            if head.position >= last {
                Ok(head)
            } else {
                Err(format!("the log shows up to {} of {last}", head.position))
            }
        },
    )
    .await;
    fleet.settled(Some(head)).await;
    let live = dump(&pool).await;
    fleet.stop.send_replace(true);
    for projector in anytrade_projections::all() {
        anytrade_projections::rebuild::rebuild(&pool, &[projector.as_ref()])
            .await
            .expect("fresh rebuild");
    }
    assert_eq!(dump(&pool).await, live, "the rebuild under writes differs");
    let leftovers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'anytrade_rebuild_%'",
    )
    .fetch_one(&pool)
    .await
    .expect("schemas");
    assert_eq!(leftovers, 0, "scratch schemas are dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_each_read_models_lag_until_it_is_rebuilt() {
    use crate::audit::{AuditedStore, stderr, stdout};
    let store = AuditedStore::new().await;
    store.exchange().await;
    store.exchange().await;
    // Lag in seconds is now minus the oldest unapplied commit: wait a known
    // interval so it cannot round to zero on a fast machine.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let columns = |output: &str, name: &str| -> Vec<String> {
        let line = output
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} line in\n{output}"));
        line.split_whitespace().map(str::to_owned).collect()
    };

    let status = store.run(&["projections", "status"]);
    assert!(status.status.success(), "{}", stderr(&status));
    let status = stdout(&status);
    assert!(status.starts_with("log head: position 8\n"), "{status}");
    assert_eq!(columns(&status, "exchanges")[1..3], ["0", "8"], "{status}");
    let lag: f64 = columns(&status, "exchanges")[3]
        .trim_end_matches('s')
        .parse()
        .unwrap();
    assert!(lag >= 0.3, "{status}");

    let rebuilt = store.run(&["projections", "rebuild", "exchanges"]);
    assert!(rebuilt.status.success(), "{}", stderr(&rebuilt));
    assert!(stdout(&rebuilt).contains("exchanges: rebuilt from 8 events"));
    let status = stdout(&store.run(&["projections", "status"]));
    assert_eq!(
        columns(&status, "exchanges")[1..],
        ["8", "0", "0.0s"],
        "{status}"
    );
    assert_eq!(columns(&status, "bots")[1..3], ["0", "8"], "{status}");

    let unknown = store.run(&["projections", "rebuild", "robots"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("NAME: no read model \"robots\""),
        "{}",
        stderr(&unknown)
    );
}

/// Each bot's trade totals as the projector keeps them, and as the trades table sums.
async fn totals_and_sums(
    pool: &PgPool,
) -> (Vec<(Uuid, i64, i64, String)>, Vec<(Uuid, i64, i64, String)>) {
    let kept = sqlx::query_as(
        "SELECT bot_id, open_trades, closed_trades, closed_profit::text
           FROM bot_trade_totals ORDER BY bot_id",
    )
    .fetch_all(pool)
    .await
    .expect("totals");
    let summed = sqlx::query_as(
        "SELECT bot_id, count(*) FILTER (WHERE is_open), count(*) FILTER (WHERE NOT is_open),
                COALESCE(sum(profit_abs::numeric) FILTER (WHERE NOT is_open), 0)::text
           FROM trades GROUP BY bot_id ORDER BY bot_id",
    )
    .fetch_all(pool)
    .await
    .expect("sums");
    (kept, summed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trade_totals_match_the_trades_live_applied_again_and_rebuilt() {
    let fleet = Fleet::start().await;
    let pool = &fleet.pool;
    let (a, b) = (BotId::new(), BotId::new());
    let opening = |bot: BotId, trade_id: i64| TradeOpening {
        bot_id: bot,
        trade_id,
        pair: "BTC/USDT".into(),
        open_date: chrono::Utc::now() - chrono::Duration::hours(2),
        open_rate: 100.0,
        amount: 1.0,
        stake_amount: 100.0,
        strategy_name: "AlwaysIn".into(),
        timeframe_minutes: 5,
    };
    let mut last = None;
    // 30 trades per bot, in both bots' orders at once; every third one stays open.
    for trade_id in 1..=30 {
        for bot in [a, b] {
            let id = trade_aggregate_id(bot, trade_id);
            let command = if trade_id % 3 == 0 {
                TradeCommand::RecordTradeOpened {
                    opening: opening(bot, trade_id),
                }
            } else {
                TradeCommand::RecordTradeClosed {
                    opening: opening(bot, trade_id),
                    closing: TradeClosing {
                        close_date: chrono::Utc::now(),
                        close_rate: 101.0,
                        profit_abs: 0.1 * trade_id as f64 - 1.0,
                        profit_ratio: 0.01,
                        exit_reason: "roi".into(),
                    },
                }
            };
            last = fleet
                .commands
                .trades
                .execute(&id, command, &fleet.meta)
                .await
                .expect("record trade")
                .or(last);
        }
    }
    fleet.settled(last).await;
    let (kept, summed) = totals_and_sums(pool).await;
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(kept, summed, "the totals kept live");
    assert_eq!((kept[0].1, kept[0].2), (10, 20));

    // Every trade event applied again, in one batch: nothing moves.
    let head = EventLog::new(pool.clone()).head().await.expect("head");
    let filter = anytrade_projections::LogFilter {
        aggregate_type: Some(anytrade_projections::AggregateKind::Trade),
        ..Default::default()
    };
    let again = anytrade_projections::log::read_typed(
        pool,
        LogPosition::START,
        head,
        &filter,
        1_000,
        &[anytrade_projections::AggregateKind::Trade],
    )
    .await
    .expect("the trade events");
    assert_eq!(again.events.len(), 100, "60 openings, 40 closings");
    let projector: &dyn anytrade_projections::Projector =
        &anytrade_projections::trades::TradesProjector;
    let mut tx = pool.begin().await.expect("begin");
    projector
        .apply_all(&mut tx, again.events)
        .await
        .expect("applied again");
    tx.commit().await.expect("commit");
    assert_eq!(totals_and_sums(pool).await.0, kept, "applied twice");

    // A rebuild splits the events over two connections: the same totals.
    fleet.stop.send_replace(true);
    anytrade_projections::rebuild::rebuild(pool, &[projector])
        .await
        .expect("rebuild");
    assert_eq!(totals_and_sums(pool).await.0, kept, "rebuilt");
}
