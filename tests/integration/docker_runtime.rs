//! The docker runtime end to end, on this machine's Docker engine: bots and a backtest
//! run as containers of the freqtrade image (`scripts/freqtrade-image` builds it where
//! no registry is reachable; `scripts/test` does), trading against the exchange
//! simulator. Set `ANYTRADE_TEST_NO_DOCKER=1` to leave these tests out on a machine
//! without an engine; without it, a missing engine fails them.

use std::process::Command;
use std::time::Duration;

use anytrade::config::RuntimeChoice;
use serde_json::{Value, json};

use crate::app::TestApp;
use crate::bot_lifecycle::{
    PROVISION_WITHIN, START_WITHIN, act, create_bot, managing_app, sandbox_exchange, strategy,
    wait_for_status,
};
use crate::job_executor::{hyperopt_input, job_input, run, wait_for};
use crate::sandbox::{ALWAYS_ENTER, TUNABLE, simulator_for_containers};

const IMAGE: &str = "anytrade/freqtrade:{version}";

fn docker_wanted() -> bool {
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
    let env = inspected["Config"]["Env"].to_string();
    assert!(
        !env.contains("FREQTRADE__EXCHANGE__"),
        "a dry run gets no exchange keys"
    );

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
