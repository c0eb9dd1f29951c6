//! The kubernetes runtime end to end, against a real API server (`scripts/lib/kube.sh`
//! starts one: kube-apiserver and kube-controller-manager 1.20, built from Debian's
//! source by `scripts/kube-apiserver`; `scripts/test` does, and exports `KUBECONFIG`).
//! There is no kubelet: [`Kubelet`] plays it, running each pod's container on this
//! machine's Docker engine. Each test has a namespace of its own.
//!
//! Set `ANYTRADE_TEST_NO_KUBE=1` to leave these tests out on a machine without the
//! API server; without it, a missing `KUBECONFIG` fails them.

use std::time::Duration;

use anytrade::config::{KubernetesReach, RuntimeChoice};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use crate::app::TestApp;
use crate::bot_lifecycle::{
    PROVISION_WITHIN, START_WITHIN, act, bot, create_bot, failures, sandbox_exchange, strategy,
    wait_for_status,
};
use crate::docker_runtime::{ENGINE, docker_wanted};
use crate::helpers::poll_until;
use crate::job_executor::{hyperopt_input, job_input, run, wait_for};
use crate::kubelet::Kubelet;
use crate::sandbox::{ALWAYS_ENTER, TUNABLE, simulator_for_containers};

/// Whether the API server is there to test against.
pub(crate) fn kube_wanted() -> bool {
    if std::env::var_os("ANYTRADE_TEST_NO_KUBE").is_some() {
        eprintln!("ANYTRADE_TEST_NO_KUBE is set: the kubernetes runtime is not tested");
        return false;
    }
    assert!(
        std::env::var_os("KUBECONFIG").is_some(),
        "KUBECONFIG must name the test API server (scripts/test starts one with scripts/lib/kube.sh), or set ANYTRADE_TEST_NO_KUBE=1"
    );
    docker_wanted()
}

pub(crate) async fn admin_client() -> Client {
    let path = std::env::var("KUBECONFIG").expect("KUBECONFIG");
    let file = kube::config::Kubeconfig::read_from(&path).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(file, &Default::default())
        .await
        .expect("kubeconfig");
    Client::try_from(config).expect("client")
}

/// A namespace of the test's own, deleted (with everything in it) when dropped.
pub(crate) struct TestNamespace {
    pub name: String,
    client: Client,
}

impl TestNamespace {
    pub async fn create(client: &Client) -> Self {
        let name = format!(
            "anytrade-test-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..10]
        );
        let namespace: Namespace =
            serde_json::from_value(json!({ "metadata": { "name": name } })).expect("namespace");
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .expect("create the test namespace");
        Self {
            name,
            client: client.clone(),
        }
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        let client = self.client.clone();
        let name = self.name.clone();
        // Best effort, in the background: the API server outlives the test.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = Api::<Namespace>::all(client)
                    .delete(&name, &DeleteParams::default())
                    .await;
            });
        }
    }
}

/// The manifests' Role, as `docker/kubernetes` deploys it.
pub(crate) fn manifest_role() -> Role {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docker/kubernetes/base/role.yaml"
    );
    let text = std::fs::read_to_string(path).expect("the manifests' Role");
    serde_saphyr::from_str(&text).expect("Role YAML")
}

/// A kubeconfig for a service account `account` of `namespace` bound to `role`: what
/// the control plane runs as in a cluster deployed from the manifests.
pub(crate) async fn service_account_kubeconfig(
    client: &Client,
    namespace: &str,
    account: &str,
    mut role: Role,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    let params = PostParams::default();
    let service_account: ServiceAccount =
        serde_json::from_value(json!({ "metadata": { "name": account } })).expect("account");
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    accounts
        .create(&params, &service_account)
        .await
        .expect("service account");
    role.metadata.name = Some(account.into());
    role.metadata.namespace = Some(namespace.into());
    Api::<Role>::namespaced(client.clone(), namespace)
        .create(&params, &role)
        .await
        .expect("role");
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": { "name": account },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account },
        "subjects": [{ "kind": "ServiceAccount", "name": account, "namespace": namespace }],
    }))
    .expect("binding");
    Api::<RoleBinding>::namespaced(client.clone(), namespace)
        .create(&params, &binding)
        .await
        .expect("role binding");
    // Kubernetes 1.20 makes each service account a token Secret.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let token = poll_until(
        Duration::from_secs(30),
        Duration::from_millis(200),
        || async {
            let account = accounts.get(account).await.expect("account");
            let Some(reference) = account.secrets.unwrap_or_default().into_iter().next() else {
                return Err("no token yet".to_owned());
            };
            let secret = secrets
                .get(&reference.name.unwrap_or_default())
                .await
                .expect("token secret");
            let data = secret.data.unwrap_or_default();
            match data.get("token") {
                Some(token) => Ok(String::from_utf8(token.0.clone()).expect("token text")),
                None => Err("no token yet".to_owned()),
            }
        },
    )
    .await;
    let admin = std::env::var("KUBECONFIG").expect("KUBECONFIG");
    let mut config: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(admin).expect("kubeconfig"))
            .expect("kubeconfig YAML");
    config["users"] = json!([{ "name": account, "user": { "token": token } }]);
    config["contexts"][0]["context"]["user"] = json!(account);
    let path = dir.join(format!("{account}.kubeconfig"));
    std::fs::write(&path, serde_json::to_vec(&config).expect("JSON")).expect("write kubeconfig");
    path
}

/// A free port on every address, for a service that pods must reach.
fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port()
}

/// A managing service on the kubernetes runtime in `namespace`, acting as a service
/// account with the manifests' Role: every test shows the Role is enough.
pub(crate) async fn kubernetes_app(data: &std::path::Path, namespace: &str) -> TestApp {
    let client = admin_client().await;
    let kubeconfig =
        service_account_kubeconfig(&client, namespace, "anytrade", manifest_role(), data).await;
    kubernetes_app_as(data, namespace, kubeconfig).await
}

pub(crate) async fn kubernetes_app_as(
    data: &std::path::Path,
    namespace: &str,
    kubeconfig: std::path::PathBuf,
) -> TestApp {
    let data = data.to_owned();
    let namespace = namespace.to_owned();
    let port = free_port();
    crate::bot_lifecycle::managing_app(&data.clone(), move |settings| {
        // Pods (containers on the engine's network) send job results here.
        settings.listen = format!("0.0.0.0:{port}").parse().expect("address");
        settings.runtime.default = RuntimeChoice::Kubernetes;
        let kube = &mut settings.runtime.kubernetes;
        kube.kubeconfig = Some(kubeconfig);
        kube.namespace = namespace;
        kube.reach = KubernetesReach::ClusterIp;
        kube.results_url = Some(format!("http://host.docker.internal:{port}"));
        kube.start_timeout_secs = 180;
        settings.jobs.poll_interval_ms = 500;
        settings.jobs.memory = Some("1536Mi".into());
        settings.monitor.health_interval_secs = 2;
        settings.monitor.trade_sync_interval_secs = 2;
    })
    .await
}

/// What each end-to-end test starts from: a namespace of its own with a fake kubelet,
/// a managing service on the kubernetes runtime, the sandbox exchange (the simulator,
/// as pods reach it) and a strategy that always enters.
struct Fleet {
    client: Client,
    namespace: TestNamespace,
    kubelet: Kubelet,
    _data: tempfile::TempDir,
    app: TestApp,
    exchange: String,
    always: String,
}

impl Fleet {
    async fn start() -> Self {
        let client = admin_client().await;
        let namespace = TestNamespace::create(&client).await;
        let kubelet = Kubelet::start(client.clone(), &namespace.name).await;
        let data = tempfile::tempdir().expect("data dir");
        let simulator = simulator_for_containers().await;
        let app = kubernetes_app(data.path(), &namespace.name).await;
        let exchange = sandbox_exchange(&app, &simulator).await;
        let always = strategy(&app, "always enter", ALWAYS_ENTER).await;
        Self {
            client,
            namespace,
            kubelet,
            _data: data,
            app,
            exchange,
            always,
        }
    }
}

fn labels_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Value {
    serde_json::to_value(meta.labels.clone().unwrap_or_default()).expect("labels")
}

/// The uid of the Deployment `meta` is owned by, if any.
fn owner_uid(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<String> {
    let owners = meta.owner_references.as_ref()?;
    let owner = owners.iter().find(|o| o.kind == "Deployment")?;
    Some(owner.uid.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_runs_in_a_namespace_trades_and_goes_with_its_objects() {
    if !kube_wanted() {
        return;
    }
    let _engine = ENGINE.read().await;
    let Fleet {
        client,
        namespace,
        kubelet,
        _data,
        app,
        exchange,
        always,
    } = Fleet::start().await;

    // Market orders fill at once in a dry run, whichever way the simulator's prices go.
    let mut input = crate::sandbox::market_orders(&["BTC/USDT", "ETH/USDT"], 2);
    if let Some(input) = input.as_object_mut() {
        input.insert("runtime".into(), json!("KUBERNETES"));
        input.insert(
            "resources".into(),
            json!({ "cpu": "500m", "memory": "768Mi" }),
        );
    }
    let id = create_bot(&app, "in the cluster", &exchange, &always, input).await;
    act(&app, "startBot", &id).await;
    let running = wait_for_status(&app, &id, "RUNNING", PROVISION_WITHIN).await;
    let name = format!("anytrade-bot-{id}");
    assert_eq!(running["runtimeId"], name.as_str());
    let api_url = running["apiUrl"].as_str().expect("api url").to_owned();
    assert!(
        api_url.starts_with("http://127.64."),
        "the Service's cluster IP: {api_url}"
    );

    // Its objects, labelled, owned by the Deployment; the volume is not owned.
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &namespace.name);
    let deployment = deployments.get(&name).await.expect("the bot's Deployment");
    let uid = deployment.metadata.uid.clone().expect("uid");
    let labels = labels_of(&deployment.metadata);
    assert_eq!(labels["anytrade.bot_id"], id.as_str());
    assert_eq!(labels["anytrade.managed"], "true");
    assert_eq!(labels["anytrade.owner"], "anytrade");
    assert_eq!(labels["bot-id"], id.as_str());
    let spec = deployment.spec.clone().expect("spec");
    assert_eq!(spec.replicas, Some(1));
    assert_eq!(
        spec.strategy.and_then(|s| s.type_).as_deref(),
        Some("Recreate")
    );
    let pod_spec = spec.template.spec.expect("pod spec");
    let limits = pod_spec.containers[0]
        .resources
        .clone()
        .and_then(|r| r.limits)
        .expect("limits");
    assert_eq!(limits["cpu"].0, "500m");
    assert_eq!(limits["memory"].0, (768u64 * 1024 * 1024).to_string());
    let config = Api::<ConfigMap>::namespaced(client.clone(), &namespace.name)
        .get(&format!("bot-{id}-config"))
        .await
        .expect("the bot's ConfigMap");
    assert_eq!(owner_uid(&config.metadata), Some(uid.clone()));
    let secret = Api::<Secret>::namespaced(client.clone(), &namespace.name)
        .get(&format!("bot-{id}-creds"))
        .await
        .expect("the bot's Secret");
    assert_eq!(owner_uid(&secret.metadata), Some(uid.clone()));
    let secrets_file = &secret.data.expect("secret data")["secrets.json"].0;
    let secrets: Value = serde_json::from_slice(secrets_file).expect("secrets JSON");
    let password = secrets["api_server"]["password"]
        .as_str()
        .expect("API password");
    let config_text = serde_json::to_string(&config.data).expect("config data");
    assert!(
        !config_text.contains(password),
        "the API password is only in the Secret"
    );
    let service = Api::<Service>::namespaced(client.clone(), &namespace.name)
        .get(&format!("bot-{id}"))
        .await
        .expect("the bot's Service");
    assert_eq!(owner_uid(&service.metadata), Some(uid.clone()));
    let volume = Api::<PersistentVolumeClaim>::namespaced(client.clone(), &namespace.name)
        .get(&format!("bot-{id}-data"))
        .await
        .expect("the bot's volume");
    assert_eq!(
        owner_uid(&volume.metadata),
        None,
        "the trade database outlives its Deployment"
    );

    // It runs for real: healthy (the monitor logs in with the Secret's password) and
    // its trades reach AnyTrade.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let seen = app
            .query(
                "query($id: ID!) { bot(id: $id) { healthStatus } trades(botId: $id, first: 1) { totalCount } }",
                json!({ "id": id }),
            )
            .await;
        let healthy = seen["bot"]["healthStatus"] == "HEALTHY";
        let trades = seen["trades"]["totalCount"].as_i64().unwrap_or(0);
        if healthy && trades > 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within 180 s: {seen}; the pod's log:\n{}",
            kubelet.logs(80)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        kubelet.containers().len(),
        1,
        "one pod runs: {:?}",
        kubelet.containers()
    );
    let pod_before = kubelet.containers();

    // The control plane goes away and comes back: the bot is adopted, not restarted.
    let settings = app.shut_down().await;
    let app = TestApp::restart(settings).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let adopted = wait_for_status(&app, &id, "RUNNING", Duration::from_secs(30)).await;
    assert_eq!(adopted["apiUrl"], api_url.as_str());
    assert_eq!(kubelet.containers(), pod_before, "adopted, not restarted");

    // Its Deployment deleted behind AnyTrade's back: the reconciler puts it back and
    // the loss is in the bot's history. Whichever sees it first records it: the
    // reconciler (its process gone) or, while the cluster is still taking the pod
    // down, the health monitor (its API refusing connections).
    deployments
        .delete(&name, &DeleteParams::foreground())
        .await
        .expect("delete the Deployment");
    poll_until(
        Duration::from_secs(120),
        Duration::from_millis(500),
        || async {
            let reasons = failures(&app, &id).await;
            let recorded = reasons.iter().any(|r| {
                r.contains("the freqtrade process is gone") || r.starts_with("unhealthy: ")
            });
            let status = bot(&app, &id).await["status"].clone();
            let back = deployments.get_opt(&name).await.expect("get").is_some();
            if recorded && status == "RUNNING" && back {
                Ok(())
            } else {
                Err(format!(
                    "not repaired yet: {status}, Deployment back: {back}, {reasons:?}"
                ))
            }
        },
    )
    .await;

    // Restarted: a new pod (new credentials in a new Secret), the same volume.
    let uid_before = deployments
        .get(&name)
        .await
        .expect("deployment")
        .metadata
        .uid;
    let containers_before = kubelet.containers();
    act(&app, "restartBot", &id).await;
    poll_until(
        Duration::from_secs(180),
        Duration::from_millis(500),
        || async {
            let running = bot(&app, &id).await["status"] == "RUNNING";
            let current = kubelet.containers();
            let replaced = current.len() == 1 && current != containers_before;
            if running && replaced {
                Ok(())
            } else {
                Err(format!("not restarted yet: {current:?}"))
            }
        },
    )
    .await;
    let restarted = deployments.get(&name).await.expect("deployment");
    assert_ne!(
        restarted.metadata.uid, uid_before,
        "a restart is a stop and a start"
    );

    // Stopped: the Deployment and what it owns go, the volume stays.
    act(&app, "stopBot", &id).await;
    wait_for_status(&app, &id, "STOPPED", Duration::from_secs(90)).await;
    assert!(deployments.get_opt(&name).await.expect("get").is_none());
    assert!(
        kubelet.containers().is_empty(),
        "{:?}",
        kubelet.containers()
    );
    let secrets_api = Api::<Secret>::namespaced(client.clone(), &namespace.name);
    poll_until(
        Duration::from_secs(30),
        Duration::from_millis(250),
        || async {
            match secrets_api
                .get_opt(&format!("bot-{id}-creds"))
                .await
                .expect("get")
            {
                None => Ok(()),
                Some(_) => Err("the Secret stays after a stop".to_owned()),
            }
        },
    )
    .await;
    let volumes = Api::<PersistentVolumeClaim>::namespaced(client.clone(), &namespace.name);
    assert!(
        volumes
            .get_opt(&format!("bot-{id}-data"))
            .await
            .expect("get")
            .is_some()
    );

    // Started again, then deleted: everything goes.
    act(&app, "startBot", &id).await;
    wait_for_status(&app, &id, "RUNNING", START_WITHIN).await;
    act(&app, "deleteBot", &id).await;
    poll_until(
        Duration::from_secs(90),
        Duration::from_millis(250),
        || async {
            let deployment = deployments.get_opt(&name).await.expect("get");
            let volume = volumes
                .get_opt(&format!("bot-{id}-data"))
                .await
                .expect("get");
            match (deployment, volume) {
                (None, None) => Ok(()),
                _ => Err("the bot's Deployment or volume stays after its deletion".to_owned()),
            }
        },
    )
    .await;
    assert!(
        kubelet.containers().is_empty(),
        "{:?}",
        kubelet.containers()
    );
}

/// Backtests and hyperopts run as Jobs whose last step sends the results home over
/// HTTP (no shared volume, no exec); a finished Job is removed once its results are in,
/// and a cancelled hyperopt's Job is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_as_kubernetes_jobs_and_send_their_results_home() {
    if !kube_wanted() {
        return;
    }
    let _engine = ENGINE.read().await;
    let Fleet {
        client,
        namespace,
        kubelet,
        _data,
        app,
        exchange,
        always,
    } = Fleet::start().await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), &namespace.name);

    let backtest = run(&app, "backtest", job_input(&always, &exchange)).await;
    let done = wait_for(&app, "backtest", &backtest, PROVISION_WITHIN, |job| {
        job["status"] != "PENDING" && job["status"] != "RUNNING"
    })
    .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let name = format!("anytrade-job-{backtest}");
    assert_eq!(done["runtimeId"], name.as_str());
    assert!(done["summary"]["totalTrades"].as_i64() > Some(0), "{done}");
    assert!(
        done["logOutput"]
            .as_str()
            .is_some_and(|log| log.contains("anytrade-step 2 backtesting")),
        "the log came home with the results: {done}"
    );
    poll_until(
        Duration::from_secs(30),
        Duration::from_millis(250),
        || async {
            match jobs.get_opt(&name).await.expect("get") {
                None => Ok(()),
                Some(_) => Err("the finished Job stays".to_owned()),
            }
        },
    )
    .await;

    // A strategy that fails while testing: the Job fails, with freqtrade's reason,
    // which came home in the log.
    let broken = strategy(&app, "broken", crate::job_executor::BROKEN).await;
    let failing = run(&app, "backtest", job_input(&broken, &exchange)).await;
    let failed = wait_for(&app, "backtest", &failing, PROVISION_WITHIN, |job| {
        job["status"] != "PENDING" && job["status"] != "RUNNING"
    })
    .await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    let reason = failed["errorMessage"].as_str().expect("reason");
    assert!(
        reason.contains("step 2 (backtesting)") && reason.contains("anytrade_broken_indicator"),
        "{reason}"
    );

    // A short hyperopt completes with every epoch's result.
    let tunable = strategy(&app, "tunable", TUNABLE).await;
    let short = run(&app, "hyperopt", hyperopt_input(&tunable, &exchange, 3)).await;
    let done = wait_for(&app, "hyperopt", &short, PROVISION_WITHIN, |job| {
        job["status"] != "PENDING" && job["status"] != "RUNNING"
    })
    .await;
    crate::job_executor::assert_short_hyperopt_completed(&done);

    // A bot whose strategy freqtrade cannot load: its pod ends at start, and the bot
    // fails with freqtrade's words (the end of its log, kept in the pod's status).
    let unloadable = strategy(&app, "unloadable", crate::bot_lifecycle::BROKEN).await;
    let bot = create_bot(
        &app,
        "unloadable",
        &exchange,
        &unloadable,
        json!({ "runtime": "KUBERNETES" }),
    )
    .await;
    act(&app, "startBot", &bot).await;
    let failed = wait_for_status(&app, &bot, "ERROR", PROVISION_WITHIN).await;
    let reason = failed["errorMessage"].as_str().expect("reason");
    assert!(
        reason.starts_with("freqtrade exited at start (freqtrade exit code"),
        "{reason}"
    );
    assert!(
        reason.contains("anytrade_no_such_module") || reason.contains("Broken"),
        "{reason}"
    );
    let bots: Api<Deployment> = Api::namespaced(client.clone(), &namespace.name);
    assert!(
        bots.get_opt(&format!("anytrade-bot-{bot}"))
            .await
            .expect("get")
            .is_none(),
        "a bot that cannot start is not left crash-looping"
    );

    // The one-time upload is spent: the job's token opens nothing any more, and a
    // guessed one nothing at all.
    let results = format!(
        "http://127.0.0.1:{}/jobs/{backtest}/results",
        app.address.port()
    );
    let refused = reqwest::Client::new()
        .put(&results)
        .header("authorization", "Bearer guessed")
        .header("x-anytrade-exit-status", "0")
        .body("not a zip")
        .send()
        .await
        .expect("upload");
    assert_eq!(refused.status(), 403);

    // A long hyperopt: cancelled, its Job and pod go.
    let long = run(&app, "hyperopt", hyperopt_input(&tunable, &exchange, 5000)).await;
    let long_name = format!("anytrade-job-{long}");
    poll_until(PROVISION_WITHIN, Duration::from_millis(500), || async {
        if kubelet.containers().iter().any(|c| c.contains(&long_name)) {
            Ok(())
        } else {
            Err("the hyperopt's pod does not run".to_owned())
        }
    })
    .await;
    app.query(
        "mutation($id: ID!) { cancelHyperopt(id: $id) }",
        json!({ "id": long }),
    )
    .await;
    poll_until(
        Duration::from_secs(60),
        Duration::from_millis(250),
        || async {
            let job = jobs.get_opt(&long_name).await.expect("get");
            let running = kubelet.containers().iter().any(|c| c.contains(&long_name));
            match (job, running) {
                (None, false) => Ok(()),
                _ => Err("the cancelled hyperopt's Job or pod stays".to_owned()),
            }
        },
    )
    .await;
    assert_eq!(
        crate::job_executor::job(&app, "hyperopt", &long).await["status"],
        "CANCELLED"
    );
}

/// A Role without a verb the runtime needs: the bot fails, saying what was refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_missing_a_verb_fails_the_bot_with_what_was_refused() {
    if !kube_wanted() {
        return;
    }
    let client = admin_client().await;
    let namespace = TestNamespace::create(&client).await;
    let data = tempfile::tempdir().expect("data dir");
    let mut role = manifest_role();
    for rule in role.rules.iter_mut().flatten() {
        if rule.resources.iter().flatten().any(|r| r == "deployments") {
            rule.verbs
                .retain(|verb| verb != "patch" && verb != "create");
        }
    }
    let kubeconfig =
        service_account_kubeconfig(&client, &namespace.name, "short", role, data.path()).await;
    let app = kubernetes_app_as(data.path(), &namespace.name, kubeconfig).await;
    let simulator = crate::sandbox::simulator().await;
    let exchange = sandbox_exchange(&app, &simulator).await;
    let always = strategy(&app, "always enter", ALWAYS_ENTER).await;
    let id = create_bot(
        &app,
        "refused",
        &exchange,
        &always,
        json!({ "runtime": "KUBERNETES" }),
    )
    .await;
    act(&app, "startBot", &id).await;
    let failed = wait_for_status(&app, &id, "ERROR", Duration::from_secs(60)).await;
    let reason = failed["errorMessage"].as_str().expect("reason");
    assert!(
        reason.starts_with("the Kubernetes API server refused:")
            && reason.contains("forbidden")
            && reason.contains("system:serviceaccount:")
            && reason.contains("cannot patch resource \"deployments\""),
        "{reason}"
    );
}

async fn client_from(kubeconfig: &std::path::Path) -> Client {
    let file = kube::config::Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(file, &Default::default())
        .await
        .expect("kubeconfig");
    Client::try_from(config).expect("client")
}

/// What changes when anything in a bot's objects does.
async fn versions(client: &Client, namespace: &str, id: &str) -> Vec<Option<String>> {
    let of =
        |meta: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| meta.resource_version;
    let deployment = Api::<Deployment>::namespaced(client.clone(), namespace)
        .get(&format!("anytrade-bot-{id}"))
        .await
        .expect("deployment");
    vec![
        // Its status is the controller's to change: its generation counts changes.
        deployment.metadata.generation.map(|g| g.to_string()),
        of(Api::<Service>::namespaced(client.clone(), namespace)
            .get(&format!("bot-{id}"))
            .await
            .expect("service")
            .metadata),
        of(Api::<ConfigMap>::namespaced(client.clone(), namespace)
            .get(&format!("bot-{id}-config"))
            .await
            .expect("config map")
            .metadata),
        of(Api::<Secret>::namespaced(client.clone(), namespace)
            .get(&format!("bot-{id}-creds"))
            .await
            .expect("secret")
            .metadata),
        of(
            Api::<PersistentVolumeClaim>::namespaced(client.clone(), namespace)
                .get(&format!("bot-{id}-data"))
                .await
                .expect("volume")
                .metadata,
        ),
    ]
}

/// Server-side apply of the same bot twice changes nothing; a new secret changes the
/// pod template; deleting the bot removes all of it. (No kubelet: nothing runs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_a_bot_twice_changes_nothing_and_deleting_it_removes_everything() {
    use anytrade::runtime::kubernetes::{Cluster, KubernetesConfig, KubernetesRuntime, Reach};
    use anytrade::runtime::{BotSpec, Runtime, StrategyFile};
    if !kube_wanted() {
        return;
    }
    let admin = admin_client().await;
    let namespace = TestNamespace::create(&admin).await;
    let dir = tempfile::tempdir().expect("dir");
    let kubeconfig = service_account_kubeconfig(
        &admin,
        &namespace.name,
        "anytrade",
        manifest_role(),
        dir.path(),
    )
    .await;
    let config = KubernetesConfig {
        cluster: Cluster {
            namespace: namespace.name.clone(),
            owner: "anytrade".into(),
            image: "anytrade/freqtrade:{version}".into(),
            pull_policy: "IfNotPresent".into(),
            user: (1000, 1000),
            storage_class: "standard".into(),
            volume_size: "1Gi".into(),
        },
        reach: Reach::ClusterIp,
        results_url: None,
        start_timeout: Duration::from_secs(5),
    };
    let runtime = KubernetesRuntime::connect(
        client_from(&kubeconfig).await,
        config,
        crate::helpers::fresh_database().await,
        reqwest::Client::new(),
    )
    .await
    .expect("the runtime connects as the manifests' service account");
    let bot_id: anytrade_aggregates::values::BotId = uuid::Uuid::new_v4().into();
    let id = bot_id.to_string();
    let name = format!("anytrade-bot-{id}");
    let spec = |password: &str| BotSpec {
        bot_id,
        freqtrade_version: "2026.9".into(),
        config: json!({ "strategy": "Sample", "dry_run": true }),
        strategy: StrategyFile {
            class_name: "Sample".into(),
            code: "class Sample: pass\n".into(),
        },
        environment: vec![(
            "FREQTRADE__API_SERVER__PASSWORD",
            zeroize::Zeroizing::new(password.to_owned()),
        )],
        resources: Default::default(),
    };

    runtime.create_bot(bot_id, "2026.9").await.expect("create");
    let first = runtime.apply_bot(&spec("one")).await.expect("apply");
    let before = versions(&admin, &namespace.name, &id).await;
    runtime
        .create_bot(bot_id, "2026.9")
        .await
        .expect("create again");
    let again = runtime.apply_bot(&spec("one")).await.expect("apply again");
    assert_eq!(first, again);
    assert_eq!(
        versions(&admin, &namespace.name, &id).await,
        before,
        "applying twice changed something"
    );

    let changed = runtime
        .apply_bot(&spec("two"))
        .await
        .expect("apply a new secret");
    assert_ne!(changed, first);
    let after = versions(&admin, &namespace.name, &id).await;
    assert_ne!(
        after[0], before[0],
        "the Deployment's pod template carries the new digest"
    );
    assert_ne!(after[3], before[3], "the Secret holds the new password");
    assert_eq!(after[1], before[1], "the Service is as it was");
    let instance = runtime
        .bot_status(bot_id)
        .await
        .expect("status")
        .expect("an instance");
    assert_eq!(
        instance.state,
        anytrade::runtime::InstanceState::Created,
        "nothing runs it here"
    );
    let listed = runtime.list_instances().await.expect("list");
    assert!(listed.iter().any(|i| i.runtime_id == name), "{listed:?}");

    runtime.delete_bot(bot_id).await.expect("delete");
    assert!(runtime.bot_status(bot_id).await.expect("status").is_none());
    let deployments = Api::<Deployment>::namespaced(admin.clone(), &namespace.name);
    assert!(deployments.get_opt(&name).await.expect("get").is_none());
    let claims = Api::<PersistentVolumeClaim>::namespaced(admin.clone(), &namespace.name);
    poll_until(
        Duration::from_secs(30),
        Duration::from_millis(250),
        || async {
            let left: Vec<bool> = vec![
                claims
                    .get_opt(&format!("bot-{id}-data"))
                    .await
                    .expect("get")
                    .is_some(),
                Api::<Secret>::namespaced(admin.clone(), &namespace.name)
                    .get_opt(&format!("bot-{id}-creds"))
                    .await
                    .expect("get")
                    .is_some(),
                Api::<ConfigMap>::namespaced(admin.clone(), &namespace.name)
                    .get_opt(&format!("bot-{id}-config"))
                    .await
                    .expect("get")
                    .is_some(),
                Api::<Service>::namespaced(admin.clone(), &namespace.name)
                    .get_opt(&format!("bot-{id}"))
                    .await
                    .expect("get")
                    .is_some(),
            ];
            if left.iter().any(|l| *l) {
                Err(format!(
                    "left after the deletion (volume, secret, config, service): {left:?}"
                ))
            } else {
                Ok(())
            }
        },
    )
    .await;
}
