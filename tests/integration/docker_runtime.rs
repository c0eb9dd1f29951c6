//! The docker runtime end to end, on this machine's Docker engine: bots and a backtest
//! run as containers of the freqtrade image (`scripts/freqtrade-image` builds it where
//! no registry is reachable; `scripts/test` does), trading against the exchange
//! simulator. Set `ANYTRADE_TEST_NO_DOCKER=1` to leave these tests out on a machine
//! without an engine; without it, a missing engine fails them. One test restarts the
//! engine: it holds [`ENGINE`] alone, every other use of the engine shares it.

use std::process::Command;
use std::time::Duration;

use anytrade::config::RuntimeChoice;
use serde_json::{Value, json};

use crate::app::TestApp;
use crate::bot_lifecycle::{
    PROVISION_WITHIN, START_WITHIN, act, create_bot, failures, managing_app, sandbox_exchange,
    strategy, wait_for_status,
};
use crate::docker_engine;
use crate::helpers::poll_until;
use crate::job_executor::{hyperopt_input, job_input, run, wait_for};
use crate::sandbox::{ALWAYS_ENTER, TUNABLE, sandbox_exchange_config, simulator_for_containers};

const IMAGE: &str = "anytrade/freqtrade:{version}";

pub(crate) fn docker_wanted() -> bool {
    if std::env::var_os("ANYTRADE_TEST_NO_DOCKER").is_some() {
        eprintln!("ANYTRADE_TEST_NO_DOCKER is set: the docker runtime is not tested");
        return false;
    }
    let image = IMAGE.replace("{version}", "2026.9");
    let present = Command::new("docker")
        .args(["image", "inspect", &image])
        .output()
        .expect("the docker command (set ANYTRADE_TEST_NO_DOCKER=1 where there is none)");
    assert!(
        present.status.success(),
        "{image} is missing: build it with scripts/freqtrade-image"
    );
    true
}

/// What `docker inspect` says of a container, `None` when there is none.
fn inspect(name: &str) -> Option<Value> {
    let output = Command::new("docker")
        .args(["inspect", name])
        .output()
        .expect("docker inspect");
    if !output.status.success() {
        return None;
    }
    let all: Value = serde_json::from_slice(&output.stdout).expect("inspect JSON");
    all.get(0).cloned()
}

/// The confinement every bot and job container gets, as the engine reports it.
fn assert_confined(inspected: &Value) {
    let host = &inspected["HostConfig"];
    assert_eq!(host["CapDrop"], json!(["ALL"]), "{host}");
    assert_eq!(host["SecurityOpt"], json!(["no-new-privileges:true"]));
    assert_eq!(host["ReadonlyRootfs"], true);
    assert!(host["Tmpfs"]["/tmp"].is_string(), "{host}");
    assert_eq!(host["PidsLimit"], 512);
    assert_eq!(host["Init"], true);
    assert_ne!(host["NetworkMode"], "host");
    assert_eq!(host["Privileged"], false);
    let user = inspected["Config"]["User"].as_str().expect("a user");
    let uid = user.split(':').next().expect("uid");
    assert!(!uid.is_empty() && uid != "0" && uid != "root", "{user}");
    for bindings in host["PortBindings"].as_object().into_iter().flatten() {
        for binding in bindings.1.as_array().into_iter().flatten() {
            assert_eq!(binding["HostIp"], "127.0.0.1", "{bindings:?}");
        }
    }
}

/// Removes, when dropped, the containers a test made, whatever happened.
struct Containers(Vec<String>);

impl Drop for Containers {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = Command::new("docker").args(["rm", "-f", name]).output();
        }
    }
}

async fn docker_app(data: &std::path::Path) -> TestApp {
    let data = data.to_owned();
    managing_app(&data.clone(), move |settings| {
        settings.runtime.default = RuntimeChoice::Docker;
        settings.runtime.docker.image = IMAGE.into();
        settings.runtime.docker.data_path = Some(data.join("docker"));
        settings.jobs.poll_interval_ms = 500;
        settings.jobs.memory = Some("1536Mi".into());
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_and_jobs_run_as_containers() {
    if !docker_wanted() {
        return;
    }
    let _engine = ENGINE.read().await;
    let data = tempfile::tempdir().expect("data dir");
    let simulator = simulator_for_containers().await;
    let app = docker_app(data.path()).await;
    let exchange = sandbox_exchange(&app, &simulator).await;
    let always = strategy(&app, "always enter", ALWAYS_ENTER).await;

    // A bot in a container: created, started, its API published on loopback.
    let id = create_bot(
        &app,
        "boxed",
        &exchange,
        &always,
        json!({ "runtime": "DOCKER", "resources": { "cpu": "500m", "memory": "768Mi" } }),
    )
    .await;
    let container = format!("anytrade-bot-{id}");
    let mut cleanup = Containers(vec![container.clone()]);
    // Started while its container is still being made: carried out once it is.
    act(&app, "startBot", &id).await;
    let running = wait_for_status(&app, &id, "RUNNING", PROVISION_WITHIN).await;
    assert_eq!(running["runtimeId"], container.as_str());
    let api_url = running["apiUrl"].as_str().expect("api url").to_owned();
    assert!(api_url.starts_with("http://127.0.0.1:"), "{api_url}");
    let ping: Value = reqwest::get(format!("{api_url}/api/v1/ping"))
        .await
        .expect("ping")
        .json()
        .await
        .expect("ping body");
    assert_eq!(ping["status"], "pong");
    let inspected = inspect(&container).expect("the bot's container");
    assert_eq!(
        inspected["Config"]["Labels"]["anytrade.bot_id"],
        id.as_str()
    );
    // Its limits reach the engine.
    assert_eq!(inspected["HostConfig"]["NanoCpus"], 500_000_000);
    assert_eq!(inspected["HostConfig"]["Memory"], 768 * 1024 * 1024);
    let started_at = inspected["State"]["StartedAt"].clone();
    assert_confined(&inspected);
    let env = inspected["Config"]["Env"].as_array().expect("env");
    assert!(
        env.iter().all(|v| v
            .as_str()
            .is_some_and(|v| v == "HOME=/tmp" || v.starts_with("PATH="))),
        "nothing but HOME and the image's PATH in the environment: {env:?}"
    );
    // The API password reached freqtrade in the secrets file: the monitor logs in.
    poll_until(
        Duration::from_secs(60),
        Duration::from_millis(500),
        || async {
            let status = app
                .query(
                    "query($id: ID!) { bot(id: $id) { healthStatus } }",
                    json!({ "id": id }),
                )
                .await["bot"]["healthStatus"]
                .clone();
            if status == "HEALTHY" {
                Ok(())
            } else {
                Err(format!("health {status}"))
            }
        },
    )
    .await;

    // The control plane goes away and comes back: the container is adopted.
    let settings = app.shut_down().await;
    let app = TestApp::restart(settings).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let adopted = wait_for_status(&app, &id, "RUNNING", Duration::from_secs(20)).await;
    assert_eq!(adopted["apiUrl"], api_url.as_str());
    assert_eq!(
        inspect(&container).expect("container")["State"]["StartedAt"],
        started_at,
        "adopted, not restarted"
    );

    // Stopped, started again, deleted.
    act(&app, "stopBot", &id).await;
    wait_for_status(&app, &id, "STOPPED", Duration::from_secs(60)).await;
    assert_eq!(
        inspect(&container).expect("container")["State"]["Running"],
        false
    );
    act(&app, "startBot", &id).await;
    wait_for_status(&app, &id, "RUNNING", START_WITHIN).await;
    act(&app, "deleteBot", &id).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while inspect(&container).is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the container stays"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(!data.path().join(format!("docker/bots/{id}")).exists());

    // A freqtrade version with no image, here where no registry answers: the bot
    // fails, saying how to get one.
    let unbuilt = create_bot(
        &app,
        "unbuilt",
        &exchange,
        &always,
        json!({ "runtime": "DOCKER", "freqtradeVersion": "2025.1" }),
    )
    .await;
    let failed = wait_for_status(&app, &unbuilt, "ERROR", Duration::from_secs(120)).await;
    let reason = failed["errorMessage"].as_str().expect("reason");
    assert!(
        reason.starts_with("image anytrade/freqtrade:2025.1 is not available")
            && reason.ends_with("build it with scripts/freqtrade-image 2025.1"),
        "{reason}"
    );

    // A backtest in a container, to its results.
    let backtest = run(&app, "backtest", job_input(&always, &exchange)).await;
    cleanup.0.push(format!("anytrade-job-{backtest}"));
    let done = wait_for(&app, "backtest", &backtest, PROVISION_WITHIN, |job| {
        job["status"] != "PENDING" && job["status"] != "RUNNING"
    })
    .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["runtimeId"], format!("anytrade-job-{backtest}"));
    assert!(done["summary"]["totalTrades"].as_i64() > Some(0), "{done}");
    let job_container = inspect(&format!("anytrade-job-{backtest}")).expect("job container");
    assert_confined(&job_container);
    assert_eq!(
        job_container["HostConfig"]["Memory"],
        1536 * 1024 * 1024,
        "jobs.memory reaches the engine"
    );
    assert!(
        done["logOutput"]
            .as_str()
            .is_some_and(|log| log.contains("anytrade-step 2 backtesting")),
        "{done}"
    );

    // A long hyperopt in a container reports progress; cancelling stops its container
    // and the job shows cancelled, not failed.
    let tunable = strategy(&app, "tunable", TUNABLE).await;
    let long = run(&app, "hyperopt", hyperopt_input(&tunable, &exchange, 5000)).await;
    let job_container = format!("anytrade-job-{long}");
    cleanup.0.push(job_container.clone());
    wait_for(&app, "hyperopt", &long, PROVISION_WITHIN, |job| {
        job["epoch"].as_i64() > Some(0) || job["status"] == "FAILED"
    })
    .await;
    assert_eq!(
        inspect(&job_container).expect("the job's container")["State"]["Running"],
        true
    );
    app.query(
        "mutation($id: ID!) { cancelHyperopt(id: $id) }",
        json!({ "id": long }),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while inspect(&job_container).expect("container")["State"]["Running"] == true {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cancelled hyperopt runs on"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        crate::job_executor::job(&app, "hyperopt", &long).await["status"],
        "CANCELLED"
    );
}

const PLANTED_KEY: &str = "planted-api-key-4b1d9e";
const PLANTED_SECRET: &str = "planted-api-secret-77c0fa";

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(needle))
        {
            found.push(path);
        }
    }
    found
}

/// A live bot's exchange keys reach its container only as a file on a tmpfs, readable
/// by the container's user alone: not in `docker inspect`, the bot's config, its
/// directory, its container's log or the bot's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_bots_keys_reach_its_container_as_a_private_file_only() {
    use std::os::unix::fs::MetadataExt;
    if !docker_wanted() {
        return;
    }
    let _engine = ENGINE.read().await;
    let data = tempfile::tempdir().expect("data dir");
    let secrets = tempfile::Builder::new()
        .prefix("anytrade-secrets-")
        .tempdir_in("/dev/shm")
        .expect("a directory on the tmpfs");
    let simulator = simulator_for_containers().await;
    let secrets_path = secrets.path().to_owned();
    let app = {
        let data = data.path().to_owned();
        managing_app(&data.clone(), move |settings| {
            settings.runtime.default = RuntimeChoice::Docker;
            settings.runtime.docker.image = IMAGE.into();
            settings.runtime.docker.data_path = Some(data.join("docker"));
            settings.runtime.docker.secrets_path = secrets_path;
        })
        .await
    };
    let exchange = app
        .query(
            "mutation($config: JSON!, $key: String!, $secret: String!) { createExchange(input: { name: \"binance\", testMode: false, config: $config, secrets: [{ name: \"api_key\", value: $key }, { name: \"api_secret\", value: $secret }] }) { id } }",
            json!({ "config": sandbox_exchange_config(&simulator), "key": PLANTED_KEY, "secret": PLANTED_SECRET }),
        )
        .await["createExchange"]["id"]
        .as_str()
        .expect("exchange id")
        .to_owned();
    let always = strategy(&app, "always enter", ALWAYS_ENTER).await;
    let id = create_bot(
        &app,
        "live",
        &exchange,
        &always,
        json!({ "runtime": "DOCKER", "mode": "LIVE" }),
    )
    .await;
    let container = format!("anytrade-bot-{id}");
    let _cleanup = Containers(vec![container.clone()]);
    act(&app, "startBot", &id).await;

    // While it starts: the file is on the tmpfs, 0400, the container user's.
    let file = secrets.path().join(&id).join("secrets.json");
    let inspected = poll_until(PROVISION_WITHIN, Duration::from_millis(100), || async {
        inspect(&container).ok_or_else(|| "no container yet".to_owned())
    })
    .await;
    let meta = std::fs::metadata(&file).expect("the secrets file");
    assert_eq!(meta.mode() & 0o777, 0o400);
    let user = inspected["Config"]["User"].as_str().expect("user");
    assert_eq!(format!("{}:{}", meta.uid(), meta.gid()), user);
    let parent = std::fs::metadata(file.parent().expect("dir")).expect("dir");
    assert_eq!(parent.mode() & 0o777, 0o700);
    let written: Value =
        serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("JSON");
    assert_eq!(written["exchange"]["key"], PLANTED_KEY);
    assert_eq!(written["exchange"]["secret"], PLANTED_SECRET);
    assert!(
        inspected["Mounts"]
            .as_array()
            .expect("mounts")
            .iter()
            .any(|m| {
                m["Destination"] == "/run/anytrade"
                    && m["RW"] == false
                    && m["Source"]
                        .as_str()
                        .is_some_and(|s| s.starts_with("/dev/shm/"))
            }),
        "{}",
        inspected["Mounts"]
    );
    assert_confined(&inspected);
    let host = &inspected["HostConfig"];
    assert_eq!(
        (host["NanoCpus"].clone(), host["Memory"].clone()),
        (json!(500_000_000), json!(512 * 1024 * 1024)),
        "the default limits"
    );

    // Whatever freqtrade makes of an exchange with no private API here, the keys are
    // nowhere else.
    let settled = poll_until(START_WITHIN, Duration::from_millis(500), || async {
        let bot = app
            .query(
                "query($id: ID!) { bot(id: $id) { status errorMessage } }",
                json!({ "id": id }),
            )
            .await["bot"]
            .clone();
        match bot["status"].as_str() {
            Some("RUNNING" | "ERROR" | "STOPPED") => Ok(bot),
            _ => Err(format!("{bot}")),
        }
    })
    .await;
    for planted in [PLANTED_KEY, PLANTED_SECRET] {
        let inspected = inspect(&container)
            .map(|c| c.to_string())
            .unwrap_or_default();
        assert!(!inspected.contains(planted), "docker inspect shows it");
        let logs = Command::new("docker")
            .args(["logs", &container])
            .output()
            .expect("docker logs");
        assert!(!String::from_utf8_lossy(&logs.stdout).contains(planted));
        assert!(!String::from_utf8_lossy(&logs.stderr).contains(planted));
        let bot_dir = data.path().join("docker/bots").join(&id);
        assert!(bot_dir.join("config.json").exists());
        assert_eq!(
            files_containing(&bot_dir, planted),
            Vec::<std::path::PathBuf>::new()
        );
        assert!(!settled.to_string().contains(planted), "{settled}");
    }
    act(&app, "deleteBot", &id).await;
    poll_until(
        Duration::from_secs(60),
        Duration::from_millis(250),
        || async {
            if file.parent().is_some_and(|d| d.exists()) {
                Err("the secrets stay".to_owned())
            } else {
                Ok(())
            }
        },
    )
    .await;
}

/// Every docker test shares the engine; the engine restart takes it alone.
pub(crate) static ENGINE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// The Docker engine restarts while two bots run (its containers stop with it: no
/// live-restore here): both come back by themselves, each with the loss recorded as a
/// `BotFailed` saying what the engine reported; a stopped bot stays stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_that_should_run_come_back_after_the_engine_restarts() {
    if !docker_wanted() {
        return;
    }
    if let Some(why) = docker_engine::cannot_restart() {
        eprintln!("{why}: the engine restart is not tested here");
        return;
    }
    let _engine = ENGINE.write().await;
    let data = tempfile::tempdir().expect("data dir");
    let simulator = simulator_for_containers().await;
    let app = docker_app(data.path()).await;
    let exchange = sandbox_exchange(&app, &simulator).await;
    let always = strategy(&app, "always enter", ALWAYS_ENTER).await;
    let docker = json!({ "runtime": "DOCKER" });
    let running = [
        create_bot(&app, "through-1", &exchange, &always, docker.clone()).await,
        create_bot(&app, "through-2", &exchange, &always, docker.clone()).await,
    ];
    let stopped = create_bot(&app, "stays-stopped", &exchange, &always, docker).await;
    let _cleanup = Containers(
        running
            .iter()
            .chain([&stopped])
            .map(|id| format!("anytrade-bot-{id}"))
            .collect(),
    );
    for id in &running {
        act(&app, "startBot", id).await;
    }
    for id in &running {
        wait_for_status(&app, id, "RUNNING", PROVISION_WITHIN).await;
    }
    wait_for_status(&app, &stopped, "STOPPED", PROVISION_WITHIN).await;
    let started_at: Vec<Value> = running
        .iter()
        .map(|id| {
            inspect(&format!("anytrade-bot-{id}")).expect("container")["State"]["StartedAt"].clone()
        })
        .collect();

    let restart = tokio::task::spawn_blocking(docker_engine::restart)
        .await
        .expect("restart thread")
        .expect("the engine restarts");
    let back = tokio::time::Instant::now();
    let contained = !docker_engine::live_restore();
    for (id, before) in running.iter().zip(&started_at) {
        let container = format!("anytrade-bot-{id}");
        poll_until(START_WITHIN, Duration::from_millis(250), || async {
            let bot = app
                .query(
                    "query($id: ID!) { bot(id: $id) { status } }",
                    json!({ "id": id }),
                )
                .await;
            let state = inspect(&container).map(|c| c["State"].clone());
            let restarted = state
                .as_ref()
                .is_some_and(|s| s["Running"] == true && (&s["StartedAt"] != before || !contained));
            if bot["bot"]["status"] == "RUNNING" && restarted {
                Ok(())
            } else {
                Err(format!("bot {bot}, container {state:?}"))
            }
        })
        .await;
        let api_url = wait_for_status(&app, id, "RUNNING", START_WITHIN).await["apiUrl"]
            .as_str()
            .expect("api url")
            .to_owned();
        let ping = reqwest::get(format!("{api_url}/api/v1/ping"))
            .await
            .expect("ping");
        assert!(ping.status().is_success());
        let lost = failures(&app, id).await;
        eprintln!("bot {id}: {lost:?}");
        if contained {
            assert_eq!(lost.len(), 1, "the outage is recorded once: {lost:?}");
            assert!(
                lost[0].contains("freqtrade process is gone") && lost[0].contains("exit code"),
                "{lost:?}"
            );
        }
    }
    eprintln!(
        "engine restart: stopped in {:.1} s, answering after {:.1} s; both bots running again {:.1} s later",
        restart.stopping.as_secs_f64(),
        restart.down.as_secs_f64(),
        back.elapsed().as_secs_f64()
    );
    assert_eq!(
        wait_for_status(&app, &stopped, "STOPPED", Duration::from_secs(1)).await["status"],
        "STOPPED"
    );
    assert!(failures(&app, &stopped).await.is_empty());
    let container = inspect(&format!("anytrade-bot-{stopped}"));
    assert!(
        container.is_none_or(|c| c["State"]["Running"] == false),
        "the stopped bot is not started"
    );
}
