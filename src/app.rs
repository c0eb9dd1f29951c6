//! Start-up and shut-down of the whole service, in the order things depend on each
//! other: configuration, keys, database, migrations, HTTP.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use anytrade_aggregates::values::RuntimeKind;
use anytrade_projections::{EventLog, Projections, runner};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::{self, AuthState, TokenKeys};
use crate::config::{JobSettings, KubernetesReach, MonitorSettings, RuntimeChoice, Settings};
use crate::crypto::Keyring;
use crate::db::{self, Availability, embedded::EmbeddedPostgres};
use crate::graphql::ApiContext;
use crate::hub::Hub;
use crate::job_executor::JobExecutor;
use crate::lifecycle::{Lifecycle, RestartPolicy};
use crate::lookup::PgLookup;
use crate::monitor::clients::BotClients;
use crate::monitor::health::{HealthMonitor, HealthPolicy};
use crate::monitor::trade_sync::TradeSync;
use crate::runtime::docker::{DockerConfig, DockerRuntime};
use crate::runtime::kubernetes::{Cluster, KubernetesConfig, KubernetesRuntime, Reach};
use crate::runtime::local::{LocalConfig, LocalRuntime};
use crate::runtime::{Counted, Runtime, RuntimeMap, Runtimes};
use crate::sandbox::{Sandbox, SandboxError};
use crate::server::ConnectionLimits;
use crate::store::Commands;

/// Who stops the embedded cluster when the database is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// The service: it stops the cluster when it stops, also one a killed service left.
    Service,
    /// A one-shot command: it stops the cluster only if it started it, so a running
    /// service keeps its database.
    OneShot,
}

/// The database the service uses, and the embedded cluster behind it if it owns one.
pub struct Database {
    pub pool: PgPool,
    /// The embedded cluster to stop on close.
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Connects to `DATABASE_URL`, or starts the embedded cluster when it is unset;
    /// then applies migrations.
    pub async fn open(settings: &Settings, ownership: Ownership) -> anyhow::Result<Self> {
        let (options, embedded) = match &settings.database_url {
            Some(url) => (db::options_from_url(url.expose())?, None),
            None => {
                let embedded = EmbeddedPostgres::new(
                    &settings.data_dir,
                    settings.postgres_bin_dir.as_deref(),
                )?;
                let (options, started) = embedded.start().await?;
                let stop_on_close = started || ownership == Ownership::Service;
                (options, stop_on_close.then_some(embedded))
            }
        };
        let database = async {
            let pool = db::connect(options, 20).await?;
            db::migrate(&pool).await?;
            anyhow::Ok(pool)
        }
        .await;
        match database {
            Ok(pool) => Ok(Self { pool, embedded }),
            Err(e) => {
                if let Some(embedded) = embedded {
                    let _ = embedded.stop().await;
                }
                Err(e)
            }
        }
    }

    /// Closes the pool, then stops the embedded cluster if this process owns one.
    pub async fn close(self) -> anyhow::Result<()> {
        self.pool.close().await;
        if let Some(embedded) = self.embedded {
            embedded.stop().await?;
        }
        Ok(())
    }
}

/// The runtimes at hand, configured from `settings`: local always, docker when its
/// engine answers, kubernetes when asked for (in a cluster, a kubeconfig set, or the
/// default) and its API server answers.
async fn runtimes(settings: &Settings, pool: &PgPool) -> anyhow::Result<Runtimes> {
    let local = &settings.runtime.local;
    let base = settings.data_dir.join("local");
    let config = LocalConfig {
        bots_dir: local.data_path.clone().unwrap_or_else(|| base.join("bots")),
        jobs_dir: base.join("jobs"),
        logs_dir: local.log_path.clone().unwrap_or_else(|| base.join("logs")),
        freqtrade_dir: local
            .freqtrade_path
            .clone()
            .unwrap_or_else(|| settings.data_dir.join("freqtrade")),
        python: local.python.clone(),
        api_ports: local.api_port_range()?,
        start_timeout: Duration::from_secs(local.start_timeout_secs),
    };
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()?;
    let local: Arc<dyn Runtime> = Arc::new(LocalRuntime::new(config, http.clone()));
    let mut available = RuntimeMap::from([(RuntimeKind::Local, local)]);
    let docker = &settings.runtime.docker;
    let docker_config = DockerConfig {
        data_dir: docker
            .data_path
            .clone()
            .unwrap_or_else(|| settings.data_dir.join("docker")),
        network: docker.network.clone(),
        image: docker.image.clone(),
        pull: docker.pull,
        start_timeout: Duration::from_secs(docker.start_timeout_secs),
        secrets_dir: docker.secrets_path.clone(),
        unprivileged: docker.user_ids()?,
    };
    match DockerRuntime::connect(&docker.socket, docker_config, http.clone()).await {
        Ok(runtime) => {
            available.insert(RuntimeKind::Docker, Arc::new(runtime));
        }
        Err(e) => tracing::info!(error = %e, "the docker runtime is not available"),
    }
    if let Some(runtime) = kubernetes(settings, pool, http).await? {
        available.insert(RuntimeKind::Kubernetes, Arc::new(runtime));
    }
    let counted = available
        .into_iter()
        .map(|(kind, runtime)| (kind, Arc::new(Counted(runtime)) as Arc<dyn Runtime>))
        .collect();
    Ok(Runtimes::new(
        settings.runtime.default,
        counted,
        &settings.runtime.docker.socket,
    ))
}

/// The kubernetes runtime when it is asked for: inside a cluster, with a kubeconfig
/// set, or as the default runtime. Bad settings stop the start; an API server that
/// does not answer leaves the runtime out.
async fn kubernetes(
    settings: &Settings,
    pool: &PgPool,
    http: reqwest::Client,
) -> anyhow::Result<Option<KubernetesRuntime>> {
    let kube = &settings.runtime.kubernetes;
    let in_cluster = crate::runtime::in_cluster();
    let wanted = in_cluster
        || kube.kubeconfig.is_some()
        || settings.runtime.default == RuntimeChoice::Kubernetes;
    if !wanted {
        return Ok(None);
    }
    kube.check()?;
    let user = kube.user_ids()?;
    let client = match kube_client(kube.kubeconfig.as_deref()).await {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(error = %e, "the kubernetes runtime is not available");
            return Ok(None);
        }
    };
    let reach = match kube.reach {
        KubernetesReach::Auto if in_cluster => Reach::ClusterDns,
        KubernetesReach::Auto | KubernetesReach::ClusterIp => Reach::ClusterIp,
        KubernetesReach::ClusterDns => Reach::ClusterDns,
    };
    let results_url = kube.results_url.clone().or_else(|| {
        let namespace = crate::runtime::own_namespace()?;
        Some(format!(
            "http://anytrade.{namespace}.svc:{}",
            settings.listen.port()
        ))
    });
    let config = KubernetesConfig {
        cluster: Cluster {
            namespace: kube.namespace.clone(),
            owner: kube.owner.clone(),
            image: kube.image.clone(),
            pull_policy: kube.image_pull_policy.clone(),
            user,
            storage_class: kube.storage_class.clone(),
            volume_size: kube.volume_size.clone(),
        },
        reach,
        results_url,
        start_timeout: Duration::from_secs(kube.start_timeout_secs),
    };
    match KubernetesRuntime::connect(client, config, pool.clone(), http).await {
        Ok(runtime) => Ok(Some(runtime)),
        Err(e) => {
            tracing::warn!(error = %e, "the kubernetes runtime is not available");
            Ok(None)
        }
    }
}

/// A client from `kubeconfig`, or else as kubectl would find one (in a cluster, the
/// service account; else `KUBECONFIG` or `~/.kube/config`).
async fn kube_client(kubeconfig: Option<&std::path::Path>) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let file = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read the kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(file, &Default::default()).await?
        }
        None => kube::Config::infer().await?,
    };
    Ok(kube::Client::try_from(config)?)
}

/// What the background workers share.
struct Workers<'a> {
    pool: &'a PgPool,
    commands: &'a Arc<Commands>,
    keyring: &'a Arc<Keyring>,
    hub: &'a Hub,
    stopped: &'a watch::Receiver<bool>,
}

impl Workers<'_> {
    /// The bot lifecycle manager and reconciler.
    fn lifecycle(
        &self,
        runtimes: Runtimes,
        projections: &Projections,
        interval: Duration,
        restarts: RestartPolicy,
    ) -> tokio::task::JoinHandle<()> {
        Lifecycle::new(
            self.commands.clone(),
            runtimes,
            self.pool.clone(),
            self.keyring.clone(),
            restarts,
        )
        .spawn(
            self.hub.clone(),
            projections.clone(),
            interval,
            self.stopped.clone(),
        )
    }

    /// The job executor, running backtests and hyperopts.
    fn jobs(
        &self,
        runtimes: Runtimes,
        projections: &Projections,
        settings: &JobSettings,
    ) -> tokio::task::JoinHandle<()> {
        JobExecutor::new(
            self.commands.clone(),
            runtimes,
            self.pool.clone(),
            settings.clone(),
        )
        .spawn(self.hub.clone(), projections.clone(), self.stopped.clone())
    }

    /// The health monitor and the trade sync, sharing one client per bot.
    fn monitors(
        &self,
        runtimes: Runtimes,
        monitor: &MonitorSettings,
    ) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
        let clients = Arc::new(BotClients::new(
            self.pool.clone(),
            self.keyring.clone(),
            crate::freqtrade::client::http_client()?,
            Duration::from_secs(monitor.request_timeout_secs),
        ));
        let trade_sync = TradeSync::new(
            self.pool.clone(),
            self.commands.clone(),
            clients.clone(),
            Duration::from_secs(monitor.trade_sync_interval_secs),
            monitor.concurrency,
        );
        let health = HealthMonitor::new(
            self.pool.clone(),
            self.commands.clone(),
            clients,
            runtimes,
            HealthPolicy {
                interval: Duration::from_secs(monitor.health_interval_secs),
                unhealthy_after: monitor.unhealthy_after,
                stop_after: monitor.stop_after,
                concurrency: monitor.concurrency,
            },
        );
        Ok(vec![
            trade_sync.spawn(self.hub.clone(), self.stopped.clone()),
            health.spawn(self.stopped.clone()),
        ])
    }
}

/// The running service.
pub struct Application {
    listener: TcpListener,
    database: Database,
    keyring: Arc<Keyring>,
    token_keys: TokenKeys,
    commands: Arc<Commands>,
    projections: Projections,
    hub: Hub,
    /// The health monitor's threshold, which the API's health status follows.
    unhealthy_after: u32,
    background: Vec<tokio::task::JoinHandle<()>>,
    stop_background: watch::Sender<bool>,
    /// Whether the database answers, probed every second.
    availability: Availability,
    connection_limits: ConnectionLimits,
    /// The largest upload of a job's results, when jobs run in a cluster (else the
    /// upload endpoint is not served).
    results_upload: Option<usize>,
    /// The runtime of bots that name none.
    default_runtime: RuntimeKind,
    /// The runtimes at hand, for the pages that read a bot's log.
    runtimes: Runtimes,
    /// Where this service reaches the sandbox exchange it serves (`--sandbox`).
    sandbox_url: Option<String>,
}

/// The sandbox exchange, served and registered, when `sandbox.enabled`.
async fn start_sandbox(
    settings: &Settings,
    default_runtime: RuntimeKind,
    pool: &PgPool,
    commands: &Commands,
    stopped: &watch::Receiver<bool>,
) -> Result<Option<Sandbox>, SandboxError> {
    if !settings.sandbox.enabled {
        return Ok(None);
    }
    let sandbox = Sandbox::start(&settings.sandbox, default_runtime, stopped.clone()).await?;
    sandbox.register(pool, commands).await?;
    Ok(Some(sandbox))
}

impl Application {
    /// Checks keys, opens the database and binds the listener; serves nothing yet.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let keyring = Arc::new(Keyring::from_base64(
            settings.encryption_key.as_ref().map(|k| k.expose()),
            &settings.previous_keys(),
        )?);
        let token_keys = TokenKeys::from_settings(settings)?;
        let database = Database::open(settings, Ownership::Service).await?;
        if let Err(e) = auth::ensure_first_admin(&database.pool, settings).await {
            database.close().await?;
            return Err(e.into());
        }
        let listener = match TcpListener::bind(settings.listen).await {
            Ok(listener) => listener,
            Err(e) => {
                database.close().await?;
                return Err(e).with_context(|| format!("cannot listen on {}", settings.listen));
            }
        };
        let pool = database.pool.clone();
        let log = EventLog::new(pool.clone());
        let commands = Arc::new(Commands::new(
            &pool,
            &log,
            Arc::new(PgLookup::new(pool.clone())),
        ));
        let (stop_background, stopped) = watch::channel(false);
        let (projections, mut background) = runner::spawn(
            pool,
            log.clone(),
            anytrade_projections::all(),
            stopped.clone(),
        )
        .await?;
        let (hub, hub_task) = Hub::start(log, stopped.clone()).await?;
        background.push(hub_task);
        let availability = Availability::default();
        background.push(availability.watch(database.pool.clone(), stopped.clone()));
        let workers = Workers {
            pool: &database.pool,
            commands: &commands,
            keyring: &keyring,
            hub: &hub,
            stopped: &stopped,
        };
        let runtimes = runtimes(settings, &database.pool).await?;
        let kubernetes_jobs = runtimes.has(RuntimeKind::Kubernetes);
        let default_runtime = runtimes.default_kind();
        let why = match settings.runtime.default {
            RuntimeChoice::Auto => {
                "detected: kubernetes inside a cluster, else docker when its engine answers, else local"
            }
            _ => "configured (runtime.default, ANYTRADE_RUNTIME)",
        };
        tracing::info!(
            runtime = default_runtime.as_str(),
            why,
            "the default runtime of bots and jobs"
        );
        let sandbox = match start_sandbox(
            settings,
            default_runtime,
            &database.pool,
            &commands,
            &stopped,
        )
        .await
        {
            Ok(sandbox) => sandbox,
            Err(e) => {
                database.close().await?;
                return Err(e.into());
            }
        };
        let sandbox_url = sandbox.map(|sandbox| {
            background.push(sandbox.task);
            sandbox.local_url
        });
        if settings.runtime.manage {
            let interval = Duration::from_secs(settings.runtime.reconcile_interval_secs);
            let restarts = RestartPolicy {
                limit: settings.runtime.restart_limit,
                window: Duration::from_secs(settings.runtime.restart_window_secs),
            };
            let lifecycle = workers.lifecycle(runtimes.clone(), &projections, interval, restarts);
            background.push(lifecycle);
            background.push(workers.jobs(runtimes.clone(), &projections, &settings.jobs));
        }
        if settings.monitor.enabled {
            background.extend(workers.monitors(runtimes.clone(), &settings.monitor)?);
        }
        Ok(Self {
            listener,
            database,
            keyring,
            token_keys,
            commands,
            projections,
            hub,
            unhealthy_after: settings.monitor.unhealthy_after,
            background,
            stop_background,
            availability,
            default_runtime,
            runtimes,
            sandbox_url,
            results_upload: kubernetes_jobs
                .then_some(settings.runtime.kubernetes.max_results_bytes),
            connection_limits: ConnectionLimits {
                max_connections: settings.http.max_connections,
                header_timeout: Duration::from_secs(settings.http.header_timeout_secs),
            },
        })
    }

    /// The database pool the service uses.
    pub fn pool(&self) -> &PgPool {
        &self.database.pool
    }

    /// The command side, shared by the API handlers.
    pub fn commands(&self) -> &Arc<Commands> {
        &self.commands
    }

    /// The subscription hub.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// How far each read model has applied the log.
    pub fn projections(&self) -> &Projections {
        &self.projections
    }

    /// The keys secrets are sealed with; loaded at start so a bad key stops the start.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `stop` resolves, then drains connections and closes the database.
    pub async fn run_until_stopped(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let pool = self.database.pool.clone();
        let api = ApiContext {
            pool: pool.clone(),
            commands: self.commands.clone(),
            projections: self.projections.clone(),
            keyring: self.keyring.clone(),
            hub: self.hub.clone(),
            http: reqwest::Client::new(),
            unhealthy_after: self.unhealthy_after,
            availability: self.availability.clone(),
            users: Arc::new(auth::CurrentUsers::new(pool.clone())),
            sandbox_url: self.sandbox_url.clone(),
        };
        let mut background = self.background;
        background.push(
            api.users
                .clone()
                .follow_changes(self.stop_background.subscribe()),
        );
        let mut router = crate::http::router(pool.clone(), self.availability.clone()).merge(
            crate::metrics::router(crate::metrics::ScrapeState {
                pool: pool.clone(),
                default_runtime: self.default_runtime,
                unhealthy_after: self.unhealthy_after,
            }),
        );
        if let Some(max_bytes) = self.results_upload {
            router = router.merge(crate::job_uploads::router(pool.clone(), max_bytes));
        }
        let router = router
            .merge(auth::router(AuthState {
                pool,
                keys: self.token_keys.clone(),
                users: api.users.clone(),
                throttle: Default::default(),
            }))
            .merge(crate::web::router(crate::web::WebState {
                pool: self.database.pool.clone(),
                keys: self.token_keys.clone(),
                users: api.users.clone(),
                default_runtime: self.default_runtime,
                unhealthy_after: self.unhealthy_after,
                runtimes: self.runtimes,
                log: self.hub.log().clone(),
            }))
            .merge(crate::graphql::router(api, self.token_keys.clone()));
        tracing::info!(address = %self.listener.local_addr()?, "AnyTrade is serving");
        crate::server::serve(self.listener, router, self.connection_limits, stop).await;
        self.stop_background.send_replace(true);
        for task in background {
            let _ = task.await;
        }
        self.database.close().await?;
        Ok(())
    }
}
