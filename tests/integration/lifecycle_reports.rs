//! What the lifecycle manager does with a runtime's report that the bot cannot record.
//!
//! The real runtimes always report a start with a usable REST API address, so these
//! tests run the real lifecycle manager, on the real service and database, over a
//! runtime double that reports what a faulty runtime could: no address, or one that is
//! not a URL. The bot must fail at once, with the reason, rather than wait in STARTING
//! for the reconciler.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anytrade::config::RuntimeChoice;
use anytrade::crypto::Keyring;
use anytrade::lifecycle::{Lifecycle, RestartPolicy};
use anytrade::runtime::{
    BotSpec, Instance, InstanceState, JobSpec, Runtime, RuntimeError, Runtimes,
};
use anytrade_aggregates::values::{BotId, RuntimeKind};
use async_trait::async_trait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::TestApp;
use crate::helpers::poll_until;

/// Provisions every bot and "starts" it, reporting `api_url` as its address.
struct MisreportingRuntime {
    api_url: Option<String>,
}

impl MisreportingRuntime {
    fn instance(&self, bot_id: BotId, state: InstanceState) -> Instance {
        Instance {
            runtime_id: self.runtime_id(bot_id),
            kind: RuntimeKind::Local,
            state,
            labels: Default::default(),
            api_url: self.api_url.clone(),
        }
    }
}

#[async_trait]
impl Runtime for MisreportingRuntime {
    fn kind(&self) -> RuntimeKind {
        RuntimeKind::Local
    }

    fn runtime_id(&self, bot_id: BotId) -> String {
        format!("double-{bot_id}")
    }

    async fn create_bot(&self, bot_id: BotId, _: &str) -> Result<Instance, RuntimeError> {
        Ok(self.instance(bot_id, InstanceState::Created))
    }

    async fn start_bot(&self, spec: &BotSpec) -> Result<Instance, RuntimeError> {
        Ok(self.instance(spec.bot_id, InstanceState::Running))
    }

    async fn stop_bot(&self, _: BotId) -> Result<(), RuntimeError> {
        Ok(())
    }

    async fn delete_bot(&self, _: BotId) -> Result<(), RuntimeError> {
        Ok(())
    }

    async fn bot_status(&self, _: BotId) -> Result<Option<Instance>, RuntimeError> {
        Ok(None)
    }

    async fn logs(&self, _: BotId, _: usize) -> Result<Vec<String>, RuntimeError> {
        Ok(Vec::new())
    }

    async fn run_job(&self, spec: &JobSpec) -> Result<Instance, RuntimeError> {
        Err(RuntimeError::NoSteps(spec.job_id))
    }

    async fn job_status(&self, _: Uuid) -> Result<Option<Instance>, RuntimeError> {
        Ok(None)
    }

    async fn cancel_job(&self, _: Uuid) -> Result<(), RuntimeError> {
        Ok(())
    }

    async fn job_logs(&self, _: Uuid, _: usize) -> Result<Vec<String>, RuntimeError> {
        Ok(Vec::new())
    }

    async fn job_file(&self, _: Uuid, _: &str) -> Result<Option<Vec<u8>>, RuntimeError> {
        Ok(None)
    }

    async fn list_instances(&self) -> Result<Vec<Instance>, RuntimeError> {
        Ok(Vec::new())
    }

    async fn cleanup(&self, _: &str) -> Result<(), RuntimeError> {
        Ok(())
    }
}

/// Starts a bot through the API with the lifecycle manager over `runtime`, and returns
/// the bot once it left STARTING.
async fn start_with(runtime: MisreportingRuntime) -> Value {
    let app = TestApp::spawn().await;
    let keys = Keyring::from_base64(
        app.settings.encryption_key.as_ref().map(|k| k.expose()),
        &[],
    )
    .expect("keys");
    let runtimes = Runtimes::new(
        RuntimeChoice::Local,
        HashMap::from([(RuntimeKind::Local, Arc::new(runtime) as Arc<dyn Runtime>)]),
        "",
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let lifecycle = Lifecycle::new(
        Arc::new(app.commands()),
        runtimes,
        app.pool.clone(),
        Arc::new(keys),
        RestartPolicy::default(),
    )
    .spawn(
        app.hub.clone(),
        app.projections.clone(),
        Duration::from_secs(3600),
        stopped,
    );

    let exchange = crate::graphql_bots::create_exchange(&app).await;
    let code = "from freqtrade.strategy import IStrategy\n\nclass Misreported(IStrategy):\n    timeframe = '5m'\n";
    let strategy = app
        .query(
            "mutation($code: String!) { createStrategy(input: { name: \"m\", code: $code }) { id } }",
            json!({ "code": code }),
        )
        .await["createStrategy"]["id"]
        .clone();
    let bot = app
        .query(
            "mutation($e: ID!, $s: ID!) { createBot(input: { name: \"m\", exchangeId: $e, strategyId: $s, mode: DRY_RUN, config: { pairs: [\"BTC/USDT\"] } }) { id } }",
            json!({ "e": exchange, "s": strategy }),
        )
        .await["createBot"]["id"]
        .clone();
    app.query(
        "mutation($id: ID!) { startBot(id: $id) { id } }",
        json!({ "id": bot }),
    )
    .await;
    let settled = poll_until(
        Duration::from_secs(20),
        Duration::from_millis(100),
        || async {
            let shown = app
                .query(
                    "query($id: ID!) { bot(id: $id) { status errorMessage apiUrl } }",
                    json!({ "id": bot }),
                )
                .await["bot"]
                .clone();
            match shown["status"].as_str() {
                Some("CREATING" | "STOPPED" | "STARTING") => Err(format!("still {shown}")),
                _ => Ok(shown),
            }
        },
    )
    .await;
    stop.send_replace(true);
    lifecycle.await.expect("lifecycle stops");
    settled
}

#[tokio::test]
async fn a_start_reported_without_an_address_fails_the_bot_with_why() {
    let bot = start_with(MisreportingRuntime { api_url: None }).await;
    assert_eq!(bot["status"], "ERROR", "{bot}");
    let reason = bot["errorMessage"].as_str().expect("reason");
    assert!(reason.contains("no REST API address"), "{reason}");
}

#[tokio::test]
async fn a_start_reported_with_an_unusable_address_fails_the_bot_with_why() {
    let runtime = MisreportingRuntime {
        api_url: Some("not a url".into()),
    };
    let bot = start_with(runtime).await;
    assert_eq!(bot["status"], "ERROR", "{bot}");
    let reason = bot["errorMessage"].as_str().expect("reason");
    assert!(reason.contains("apiUrl"), "{reason}");
    assert_eq!(bot["apiUrl"], Value::Null);
}
