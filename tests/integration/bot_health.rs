//! The health monitor against a real freqtrade bot: healthy while it answers,
//! unhealthy (status ERROR) after 3 failed checks while its process is frozen, running
//! again when it answers again, stopped after too many failures, and left in error
//! (then stopped by its user) by a control plane that finds it so when it starts.

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

use crate::app::TestApp;
use crate::bot_lifecycle::{
    START_WITHIN, act, create_bot, freqtrade_processes, managing_app, sandbox_exchange, strategy,
    wait_for_status, wait_until_no_process,
};
use crate::helpers::poll_until;
use crate::job_executor::event_types;
use crate::sandbox::{ALWAYS_ENTER, simulator};

async fn health(app: &TestApp, id: &str) -> Value {
    app.query(
        "query($id: ID!) { bot(id: $id) { status healthStatus lastSeenAt errorMessage } }",
        json!({ "id": id }),
    )
    .await["bot"]
        .clone()
}

async fn wait_for(app: &TestApp, id: &str, what: &str, accept: impl Fn(&Value) -> bool) -> Value {
    let every = Duration::from_millis(200);
    poll_until(Duration::from_secs(30), every, || async {
        let bot = health(app, id).await;
        if accept(&bot) {
            Ok(bot)
        } else {
            Err(format!("{what}: {bot}"))
        }
    })
    .await
}

fn signal(pids: &[u32], signal: Signal) {
    for pid in pids {
        kill(Pid::from_raw(*pid as i32), signal).expect("signal freqtrade");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_monitor_follows_a_real_bot() {
    let data = tempfile::tempdir().expect("data dir");
    let _reaper = crate::sandbox::Reaper(data.path().to_owned());
    let simulator = simulator().await;
    let app = managing_app(data.path(), |settings| {
        settings.monitor.health_interval_secs = 1;
        settings.monitor.request_timeout_secs = 2;
        settings.monitor.unhealthy_after = 3;
        settings.monitor.stop_after = 5;
        // Leave the process to the health monitor.
        settings.runtime.reconcile_interval_secs = 3600;
    })
    .await;
    let exchange = sandbox_exchange(&app, &simulator).await;
    let strategy = strategy(&app, "always enter", ALWAYS_ENTER).await;
    let id = create_bot(&app, "watched", &exchange, &strategy, json!({})).await;
    wait_for_status(&app, &id, "STOPPED", Duration::from_secs(600)).await;
    assert_eq!(health(&app, &id).await["healthStatus"], "UNKNOWN");
    act(&app, "startBot", &id).await;
    wait_for_status(&app, &id, "RUNNING", START_WITHIN).await;

    let healthy = wait_for(&app, &id, "healthy", |b| b["healthStatus"] == "HEALTHY").await;
    assert!(healthy["lastSeenAt"].is_string(), "{healthy}");

    // Frozen: alive, but its API does not answer.
    let pids = freqtrade_processes(&id);
    signal(&pids, Signal::SIGSTOP);
    let failed = wait_for(&app, &id, "unhealthy", |b| b["status"] == "ERROR").await;
    assert_eq!(failed["healthStatus"], "UNHEALTHY");
    let reason = failed["errorMessage"].as_str().expect("reason");
    assert!(
        reason.starts_with("unhealthy: 3 health checks failed in a row"),
        "{reason}"
    );

    // Answering again: running and healthy, the error cleared.
    signal(&pids, Signal::SIGCONT);
    let recovered = wait_for(&app, &id, "recovered", |b| b["status"] == "RUNNING").await;
    assert_eq!(recovered["errorMessage"], Value::Null);
    wait_for(&app, &id, "healthy again", |b| {
        b["healthStatus"] == "HEALTHY"
    })
    .await;

    // Frozen for good: after more than 5 failed checks its instance is stopped, and
    // that is recorded.
    signal(&pids, Signal::SIGSTOP);
    wait_until_no_process(&id).await;
    // The removal is recorded once the process is gone.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let recorded = loop {
        let recorded: Vec<String> = sqlx::query_scalar(
            "SELECT payload->'BotInstanceRemoved'->>'reason' FROM events
              WHERE aggregate_id = $1 AND event_type = 'BotInstanceRemoved'",
        )
        .bind(&id)
        .fetch_all(&app.pool)
        .await
        .expect("events");
        if !recorded.is_empty() || tokio::time::Instant::now() >= deadline {
            break recorded;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        recorded,
        ["stopped after 6 failed health checks in a row"],
        "{recorded:?}"
    );
    let types = event_types(&app, &id).await;
    // Only transitions are events: no event per check.
    assert_eq!(
        types,
        [
            "BotCreated",
            "BotProvisioned",
            "BotStartRequested",
            "BotStarted",
            "BotFailed",
            "BotRecovered",
            "BotFailed",
            "BotInstanceRemoved"
        ]
    );

    // A control plane that starts and finds it in error leaves it so (it did not see
    // it fail: a give-up or a failure from before it started); a user may stop it.
    let settings = app.shut_down().await;
    let app = TestApp::restart(settings).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(freqtrade_processes(&id).is_empty(), "not started again");
    assert_eq!(event_types(&app, &id).await, types);
    act(&app, "stopBot", &id).await;
    wait_for_status(&app, &id, "STOPPED", Duration::from_secs(30)).await;
    act(&app, "deleteBot", &id).await;
}
