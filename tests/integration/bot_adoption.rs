//! The real `anytrade serve` killed with SIGKILL while a real freqtrade bot runs, then
//! started again: the bot kept running, and the new control plane adopts it instead
//! of starting a second one.

use std::process::Stdio;
use std::time::Duration;

use anytrade::crypto::Keyring;
use serde_json::{Value, json};

use crate::app::Graphql;
use crate::bot_lifecycle::{
    START_WITHIN, act, create_bot, freqtrade_processes, sandbox_exchange, strategy,
    wait_for_status, wait_until_no_process,
};
use crate::cli::{admin_token, anytrade, data_dir, free_port};
use crate::helpers::fresh_database_url;
use crate::sandbox::{ALWAYS_ENTER, freqtrade_cache, simulator};

const PASSWORD: &str = "first-admin-password";

/// `anytrade serve` as a separate process, and a logged-in admin client for it.
struct Served {
    process: std::process::Child,
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Served {
    async fn start(data: &std::path::Path, database_url: &str, key: &str) -> Self {
        let port = free_port();
        let process = anytrade()
            .arg("serve")
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("ANYTRADE_DATA_DIR", data)
            .env("ANYTRADE_LISTEN", format!("127.0.0.1:{port}"))
            .env("ANYTRADE_ENCRYPTION_KEY", key)
            .env("ANYTRADE_ADMIN_PASSWORD", PASSWORD)
            .env("ANYTRADE_RUNTIME", "local")
            .env("ANYTRADE_RUNTIME__LOCAL__FREQTRADE_PATH", freqtrade_cache())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start anytrade serve");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let token = admin_token(&base, PASSWORD).await;
        Self {
            process,
            base,
            token,
            client,
        }
    }

    fn kill(mut self) {
        self.process.kill().expect("SIGKILL");
        self.process.wait().expect("reaped");
    }
}

impl Graphql for Served {
    async fn query(&self, query: &str, variables: Value) -> Value {
        crate::app::remote_query(&self.client, &self.base, &self.token, query, variables).await
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_control_plane_adopts_its_running_bot_on_restart() {
    let data = data_dir();
    let _reaper = crate::sandbox::Reaper(data.path().to_owned());
    let database_url = fresh_database_url().await;
    let key = Keyring::generate_key();
    let simulator = simulator().await;

    let served = Served::start(data.path(), &database_url, &key).await;
    let exchange = sandbox_exchange(&served, &simulator).await;
    let strategy = strategy(&served, "always enter", ALWAYS_ENTER).await;
    let id = create_bot(&served, "survivor", &exchange, &strategy, json!({})).await;
    wait_for_status(&served, &id, "STOPPED", Duration::from_secs(600)).await;
    act(&served, "startBot", &id).await;
    let running = wait_for_status(&served, &id, "RUNNING", START_WITHIN).await;
    let pids = freqtrade_processes(&id);
    assert_eq!(pids.len(), 1);

    served.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        freqtrade_processes(&id),
        pids,
        "the bot outlives a killed control plane"
    );

    let served = Served::start(data.path(), &database_url, &key).await;
    // Give the startup pass time to look at the bot.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let adopted = wait_for_status(&served, &id, "RUNNING", Duration::from_secs(10)).await;
    assert_eq!(adopted["apiUrl"], running["apiUrl"]);
    assert_eq!(freqtrade_processes(&id), pids, "adopted, not started again");

    act(&served, "deleteBot", &id).await;
    wait_until_no_process(&id).await;
}
