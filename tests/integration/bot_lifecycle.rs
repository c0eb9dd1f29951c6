//! Real freqtrade bots end to end, through GraphQL only: the local runtime installs
//! freqtrade (pinned 2026.9, into a cache shared by test runs), runs dry-run bots
//! against the exchange simulator, and the lifecycle manager and reconciler keep the
//! bots' recorded state and their processes in step.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::Duration;

use anytrade::config::RuntimeChoice;
use anytrade_aggregates::values::BotId;
use serde_json::{Value, json};

use crate::app::{Graphql, TestApp};
use crate::helpers::poll_until;
use crate::sandbox::{ALWAYS_ENTER, freqtrade_cache, sandbox_exchange_config, simulator};

/// Passes AnyTrade's checks, fails when freqtrade imports it.
pub(crate) const BROKEN: &str = r#"
from freqtrade.strategy import IStrategy
import anytrade_no_such_module


class Broken(IStrategy):
    timeframe = "1m"
    minimal_roi = {"0": 0.01}
    stoploss = -0.10

    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        return dataframe
"#;

const BOT: &str = "id status runtimeId apiUrl errorMessage";

/// The service managing bots on the local runtime, with everything under `data`.
pub(crate) async fn managing_app(
    data: &Path,
    adjust: impl FnOnce(&mut anytrade::config::Settings),
) -> TestApp {
    let data = data.to_owned();
    TestApp::spawn_with(move |settings| {
        settings.runtime.manage = true;
        settings.monitor.enabled = true;
        settings.runtime.default = RuntimeChoice::Local;
        settings.runtime.reconcile_interval_secs = 2;
        settings.data_dir = data.clone();
        settings.runtime.local.freqtrade_path = Some(freqtrade_cache());
        adjust(settings);
    })
    .await
}

/// The sandbox exchange: Binance's public API served by the simulator.
pub(crate) async fn sandbox_exchange(app: &impl Graphql, simulator: &str) -> String {
    let config = sandbox_exchange_config(simulator);
    app.query(
        "mutation($config: JSON!) { createExchange(input: { name: \"binance\", testMode: true, config: $config }) { id } }",
        json!({ "config": config }),
    )
    .await["createExchange"]["id"]
        .as_str()
        .expect("exchange id")
        .to_owned()
}

pub(crate) async fn strategy(app: &impl Graphql, name: &str, code: &str) -> String {
    app.query(
        "mutation($name: String!, $code: String!) { createStrategy(input: { name: $name, code: $code }) { id } }",
        json!({ "name": name, "code": code }),
    )
    .await["createStrategy"]["id"]
        .as_str()
        .expect("strategy id")
        .to_owned()
}

pub(crate) async fn create_bot(
    app: &impl Graphql,
    name: &str,
    exchange: &str,
    strategy: &str,
    extra: Value,
) -> String {
    let mut input = json!({
        "name": name,
        "exchangeId": exchange,
        "strategyId": strategy,
        "mode": "DRY_RUN",
        "runtime": "LOCAL",
        "config": { "pairs": ["BTC/USDT", "ETH/USDT"], "stakeAmount": "100", "maxOpenTrades": 2 },
    });
    if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
        input.extend(extra.clone());
    }
    app.query(
        &format!("mutation($input: CreateBotInput!) {{ createBot(input: $input) {{ {BOT} }} }}"),
        json!({ "input": input }),
    )
    .await["createBot"]["id"]
        .as_str()
        .expect("bot id")
        .to_owned()
}

pub(crate) async fn bot(app: &impl Graphql, id: &str) -> Value {
    app.query(
        &format!("query($id: ID!) {{ bot(id: $id) {{ {BOT} }} }}"),
        json!({ "id": id }),
    )
    .await["bot"]
        .clone()
}

pub(crate) async fn act(app: &impl Graphql, mutation: &str, id: &str) {
    let selection = if mutation == "deleteBot" {
        ""
    } else {
        "{ id }"
    };
    app.query(
        &format!("mutation($id: ID!) {{ {mutation}(id: $id) {selection} }}"),
        json!({ "id": id }),
    )
    .await;
}

/// Waits until the bot shows `status`, failing early if it lands in ERROR instead.
pub(crate) async fn wait_for_status(
    app: &impl Graphql,
    id: &str,
    status: &str,
    within: Duration,
) -> Value {
    poll_until(within, Duration::from_millis(250), || async {
        let bot = bot(app, id).await;
        if bot["status"] == status {
            return Ok(bot);
        }
        assert!(
            bot["status"] != "ERROR" || status == "ERROR",
            "bot failed while waiting for {status}: {bot}"
        );
        Err(format!("bot not {status}: {bot}"))
    })
    .await
}

pub(crate) fn kill(pids: &[u32]) {
    for pid in pids {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .expect("kill freqtrade");
    }
}

/// Pids of the freqtrade processes running bot `id` (found by its config path).
pub(crate) fn freqtrade_processes(id: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        let cmdline = String::from_utf8_lossy(&cmdline);
        if !zombie && cmdline.contains("trade") && cmdline.contains(id) {
            pids.push(pid);
        }
    }
    pids
}

/// The reasons of bot `id`'s `BotFailed` events, oldest first.
pub(crate) async fn failures(app: &TestApp, id: &str) -> Vec<String> {
    let payloads: Vec<Value> = sqlx::query_scalar(
        "SELECT payload FROM events WHERE aggregate_id = $1 AND event_type = 'BotFailed' ORDER BY sequence",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .expect("bot events");
    payloads
        .iter()
        .map(|p| {
            p["BotFailed"]["reason"]
                .as_str()
                .expect("reason")
                .to_owned()
        })
        .collect()
}

pub(crate) async fn wait_until_no_process(id: &str) {
    let (within, every) = (Duration::from_secs(30), Duration::from_millis(200));
    poll_until(within, every, || async {
        let pids = freqtrade_processes(id);
        if pids.is_empty() {
            Ok(())
        } else {
            Err(format!("freqtrade still runs for bot {id}: {pids:?}"))
        }
    })
    .await
}

/// Waits for one freqtrade process of bot `id` that is none of `before`.
async fn wait_for_new_process(id: &str, before: &[u32]) -> Vec<u32> {
    let deadline = tokio::time::Instant::now() + START_WITHIN;
    loop {
        let running = freqtrade_processes(id);
        if running.len() == 1 && running != before {
            return running;
        }
        assert!(tokio::time::Instant::now() < deadline, "bot not restarted");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The bot's own REST API answers, with the credentials AnyTrade made for it.
async fn assert_api_answers(app: &TestApp, id: &str, api_url: &str) {
    let client = reqwest::Client::new();
    let ping: Value = client
        .get(format!("{api_url}/api/v1/ping"))
        .send()
        .await
        .expect("ping")
        .json()
        .await
        .expect("ping body");
    assert_eq!(ping["status"], "pong");
    let keys = anytrade::crypto::Keyring::from_base64(
        app.settings.encryption_key.as_ref().map(|k| k.expose()),
        &[],
    )
    .expect("keys");
    let bot_id = uuid::Uuid::parse_str(id).expect("uuid");
    let (username, password) =
        anytrade::bot_credentials::load(&app.pool, &keys, BotId::from(bot_id))
            .await
            .expect("credentials readable")
            .expect("credentials stored");
    let config: Value = client
        .get(format!("{api_url}/api/v1/show_config"))
        .basic_auth(username, Some(password.as_str()))
        .send()
        .await
        .expect("show_config")
        .json()
        .await
        .expect("show_config body");
    assert_eq!(config["strategy"], "AlwaysEnter", "{config}");
    assert_eq!(config["dry_run"], true, "{config}");
    assert_eq!(config["exchange"], "binance", "{config}");
}

pub(crate) const START_WITHIN: Duration = Duration::from_secs(90);
/// Provisioning installs freqtrade on a machine that has never had it.
pub(crate) const PROVISION_WITHIN: Duration = Duration::from_secs(600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_bot_runs_real_freqtrade_through_its_whole_lifecycle() {
    let data = tempfile::tempdir().expect("data dir");
    let _reaper = crate::sandbox::Reaper(data.path().to_owned());
    let simulator = simulator().await;
    let app = managing_app(data.path(), |settings| {
        settings.runtime.restart_limit = 2;
    })
    .await;
    let exchange = sandbox_exchange(&app, &simulator).await;
    let strategy = strategy(&app, "always enter", ALWAYS_ENTER).await;
    let id = create_bot(&app, "e2e", &exchange, &strategy, json!({})).await;

    // Started at once, as a client of the plan's API does: a start asked for while the
    // bot is still being created is carried out once it is. Running, its API answers.
    act(&app, "startBot", &id).await;
    let running = wait_for_status(&app, &id, "RUNNING", PROVISION_WITHIN).await;
    let api_url = running["apiUrl"].as_str().expect("api url").to_owned();
    assert_api_answers(&app, &id, &api_url).await;
    assert_eq!(freqtrade_processes(&id).len(), 1);

    // Stop: the process ends.
    act(&app, "stopBot", &id).await;
    wait_for_status(&app, &id, "STOPPED", Duration::from_secs(60)).await;
    wait_until_no_process(&id).await;

    // Start, then restart: a new process replaces the old one.
    act(&app, "startBot", &id).await;
    wait_for_status(&app, &id, "RUNNING", START_WITHIN).await;
    let before = freqtrade_processes(&id);
    assert_eq!(before.len(), 1);
    act(&app, "restartBot", &id).await;
    let restarted = wait_for_status(&app, &id, "RUNNING", START_WITHIN).await;
    let after = freqtrade_processes(&id);
    assert_eq!(after.len(), 1, "one process after a restart");
    assert_ne!(before, after, "a restart runs a new process");
    assert_api_answers(&app, &id, restarted["apiUrl"].as_str().expect("api url")).await;

    // The control plane goes away while the bot runs and comes back: the bot is
    // adopted, not started a second time.
    let settings = app.shut_down().await;
    assert_eq!(
        freqtrade_processes(&id),
        after,
        "bots outlive the control plane"
    );
    let app = TestApp::restart(settings).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let adopted = wait_for_status(&app, &id, "RUNNING", Duration::from_secs(10)).await;
    assert_eq!(freqtrade_processes(&id), after, "adopted, not duplicated");
    assert_eq!(adopted["apiUrl"], restarted["apiUrl"]);

    // Rebuilding the read models replays the log: it starts and stops nothing. (The
    // bot keeps trading meanwhile; the trade sync's records are not commands of a
    // replay, so only the bots' own events count.)
    let bot_events = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events WHERE aggregate_type = 'bot'")
            .fetch_one(&app.pool)
            .await
            .expect("count bot events")
    };
    let events = bot_events().await;
    for projector in anytrade_projections::all() {
        anytrade_projections::rebuild::rebuild(&app.pool, &[projector.as_ref()])
            .await
            .expect("rebuild");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        freqtrade_processes(&id),
        after,
        "a replay touches no process"
    );
    assert_eq!(bot_events().await, events, "a replay issues no command");

    // The process dies while the control plane is down: it is started again, and
    // the loss is recorded.
    let settings = app.shut_down().await;
    kill(&after);
    wait_until_no_process(&id).await;
    let app = TestApp::restart(settings).await;
    let after = wait_for_new_process(&id, &after).await;
    wait_for_status(&app, &id, "RUNNING", START_WITHIN).await;
    let lost = failures(&app, &id).await;
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert!(
        lost[0].contains("freqtrade process is gone") && lost[0].contains("restart 1,"),
        "{lost:?}"
    );

    // The process dies behind the control plane's back: the reconciler notices
    // within one interval (2 s here) and starts it again: the second restart of the
    // two `runtime.restart_limit` allows here.
    kill(&after);
    let after = wait_for_new_process(&id, &after).await;
    wait_for_status(&app, &id, "RUNNING", START_WITHIN).await;
    let lost = failures(&app, &id).await;
    assert_eq!(lost.len(), 2, "{lost:?}");
    assert!(lost[1].contains("restart 2,"), "{lost:?}");

    // Once more, and the limit is reached: the bot stays in error with the reason.
    kill(&after);
    let failed = wait_for_status(&app, &id, "ERROR", Duration::from_secs(6)).await;
    let reason = failed["errorMessage"].as_str().expect("error message");
    assert!(
        reason.contains("freqtrade process is gone") && reason.contains("not started again"),
        "{reason}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(freqtrade_processes(&id).is_empty(), "not started again");

    // Delete: nothing is left, neither process nor files.
    act(&app, "deleteBot", &id).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = app
            .graphql_as(
                Some(&app.admin),
                "query($id: ID!) { bot(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        if body["data"]["bot"].is_null() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "bot not deleted: {body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    wait_until_no_process(&id).await;
    assert!(!data.path().join("local/bots").join(&id).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_that_cannot_run_fail_with_their_reason_and_leave_nothing_running() {
    let data = tempfile::tempdir().expect("data dir");
    let _reaper = crate::sandbox::Reaper(data.path().to_owned());
    let simulator = simulator().await;
    // Every API port the runtime may use is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port();
    let app = managing_app(data.path(), |settings| {
        settings.runtime.local.api_ports = Some(format!("{port}-{port}"));
    })
    .await;
    let exchange = sandbox_exchange(&app, &simulator).await;
    let good = strategy(&app, "always enter", ALWAYS_ENTER).await;
    let broken = strategy(&app, "broken", BROKEN).await;

    // A freqtrade release that does not exist: provisioning fails with pip's reason.
    let missing = create_bot(
        &app,
        "missing version",
        &exchange,
        &good,
        json!({ "freqtradeVersion": "1999.1" }),
    )
    .await;
    let failed = wait_for_status(&app, &missing, "ERROR", PROVISION_WITHIN).await;
    let reason = failed["errorMessage"].as_str().expect("reason");
    assert!(
        reason.starts_with("freqtrade 1999.1 cannot be installed: pip:"),
        "{reason}"
    );

    // The port is in use.
    let blocked = create_bot(&app, "no port", &exchange, &good, json!({})).await;
    wait_for_status(&app, &blocked, "STOPPED", PROVISION_WITHIN).await;
    act(&app, "startBot", &blocked).await;
    let failed = wait_for_status(&app, &blocked, "ERROR", START_WITHIN).await;
    assert_eq!(
        failed["errorMessage"],
        format!("no free port for the freqtrade API in {port}-{port}")
    );
    assert!(freqtrade_processes(&blocked).is_empty());
    drop(taken);

    // A strategy freqtrade cannot load: freqtrade exits at start and says why.
    let bad = create_bot(&app, "broken strategy", &exchange, &broken, json!({})).await;
    wait_for_status(&app, &bad, "STOPPED", PROVISION_WITHIN).await;
    act(&app, "startBot", &bad).await;
    let failed = wait_for_status(&app, &bad, "ERROR", START_WITHIN).await;
    let reason = failed["errorMessage"].as_str().expect("reason");
    assert!(reason.starts_with("freqtrade exited at start"), "{reason}");
    assert!(
        reason.contains("anytrade_no_such_module") || reason.contains("Broken"),
        "{reason}"
    );
    assert!(freqtrade_processes(&bad).is_empty());

    // A runtime this control plane does not have.
    let elsewhere = create_bot(
        &app,
        "on kubernetes",
        &exchange,
        &good,
        json!({ "runtime": "KUBERNETES" }),
    )
    .await;
    let failed = wait_for_status(&app, &elsewhere, "ERROR", Duration::from_secs(30)).await;
    let reason = failed["errorMessage"].as_str().expect("reason");
    assert!(
        reason
            .starts_with("runtime kubernetes is not available on this control plane (available: ")
            && reason.contains("local"),
        "{reason}"
    );

    // A process labelled as a bot this control plane does not know (left by a wiped
    // database, say) is removed by the reconciler, and the removal is recorded.
    let stranger = uuid::Uuid::new_v4();
    let mut orphan = plant_instance(&data.path().join("local/bots"), stranger);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while orphan.is_alive() {
        assert!(tokio::time::Instant::now() < deadline, "orphan not removed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recorded = loop {
        let recorded: Vec<(String, serde_json::Value)> =
            sqlx::query_as("SELECT event_type, payload FROM events WHERE aggregate_id = $1")
                .bind(stranger.to_string())
                .fetch_all(&app.pool)
                .await
                .expect("events");
        if !recorded.is_empty() || tokio::time::Instant::now() >= deadline {
            break recorded;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].0, "BotInstanceRemoved");
    assert_eq!(
        recorded[0].1["BotInstanceRemoved"]["reason"],
        "no bot owns it (the bot is deleted or unknown)"
    );
    assert!(
        !data
            .path()
            .join("local/bots")
            .join(stranger.to_string())
            .exists()
    );

    for id in [&missing, &blocked, &bad, &elsewhere] {
        act(&app, "deleteBot", id).await;
    }
    for id in [&missing, &blocked, &bad, &elsewhere] {
        wait_until_no_process(id).await;
    }
}

/// A process the local runtime would take for bot `bot`'s: a bot directory whose
/// `instance.json` names a running `sleep` in a process group of its own.
fn plant_instance(bots: &Path, bot: uuid::Uuid) -> Planted {
    let child = std::process::Command::new("sleep")
        .arg("300")
        .process_group(0)
        .spawn()
        .expect("sleep");
    let pid = child.id();
    let start_time = start_time(pid).expect("start time");
    let dir = bots.join(bot.to_string());
    std::fs::create_dir_all(&dir).expect("bot dir");
    let record = json!({
        "process": { "pid": pid, "start_time": start_time },
        "api_url": "http://127.0.0.1:9",
        "freqtrade_version": "2026.9",
    });
    std::fs::write(dir.join("instance.json"), record.to_string()).expect("record");
    Planted { child, start_time }
}

struct Planted {
    child: std::process::Child,
    start_time: u64,
}

impl Planted {
    fn is_alive(&mut self) -> bool {
        // Reap it if it ended; a zombie does not count.
        matches!(self.child.try_wait(), Ok(None))
            && start_time(self.child.id()) == Some(self.start_time)
    }
}

fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}
