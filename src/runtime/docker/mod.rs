//! The docker runtime: every bot and every job is a container of the freqtrade image,
//! labelled `anytrade.*`, with its directory under `<data>/bots/<id>` or
//! `<data>/jobs/<id>` mounted at `/anytrade` (config, `user_data`, trade database).
//!
//! Containers outlive the control plane: a restarted control plane finds its bots and
//! jobs by their names and labels and adopts them. Only its own: containers carry the
//! control plane's data directory as a label, so control planes sharing an engine
//! never reconcile each other's bots away. A bot's REST API is published on the
//! host's loopback on a port the engine picks, read back from the container. A job is
//! one container whose shell runs its steps; its outcome is the container's exit code,
//! checked against freqtrade's own error line (freqtrade exits 0 after some fatal
//! errors), and a `cancelled` mark the runtime leaves when it stops a job on request.
//!
//! The image is `runtime.docker.image` with `{version}` replaced: by default
//! `anytrade/freqtrade:{version}`, which `scripts/freqtrade-image` builds on the engine
//! with no registry; with `runtime.docker.pull` on, a missing image is pulled.

mod containers;

pub use containers::HOST_ALIAS;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use anytrade_aggregates::values::{BotId, RuntimeKind};
use async_trait::async_trait;
use bollard::Docker;
use bollard::models::{
    ContainerInspectResponse, ContainerStateStatusEnum, ContainerSummary,
    ContainerSummaryStateEnum, NetworkCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, ListContainersOptionsBuilder,
    ListNetworksOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    StopContainerOptionsBuilder,
};
use futures::StreamExt;
use uuid::Uuid;

use super::container::{self, API_PORT, RuntimeIdOf};
use super::files::{hand_over, user_data_file, write_private, write_run_files};
use super::output::failure_lines;
use super::{
    BotSpec, Instance, InstanceState, JobSpec, Runtime, RuntimeError, api_answers, labels,
};
use containers::Shared;

/// Seconds a container gets to stop on SIGTERM before the engine kills it.
const STOP_GRACE_SECS: i32 = 20;
/// Directory (under the data directory, outside every mounted one, so code in a job
/// cannot forge or redirect it) holding one empty file per job cancelled on request.
const CANCELLED: &str = "cancelled";

pub struct DockerConfig {
    /// Where bots' and jobs' directories live; the engine must see the same path.
    pub data_dir: PathBuf,
    pub network: String,
    /// The image name, with `{version}` standing for the freqtrade version.
    pub image: String,
    /// Whether a missing image is pulled (else it must be built on the engine).
    pub pull: bool,
    pub start_timeout: Duration,
    /// Where bots' secrets files are written: a tmpfs the engine's host sees at the
    /// same path.
    pub secrets_dir: PathBuf,
    /// `(uid, gid)` containers run as when this process is root.
    pub unprivileged: (u32, u32),
}

pub struct DockerRuntime {
    docker: Docker,
    config: DockerConfig,
    http: reqwest::Client,
    /// `uid:gid` containers run as: this process's, or the unprivileged user when this
    /// process is root (never root).
    user: String,
    /// When this process is root: the `(uid, gid)` the files it lays out are handed to,
    /// so the container's user can write its directory and read its secrets.
    hand_to: Option<(u32, u32)>,
    /// This control plane's [`container::OWNER`] label value: its data directory.
    owner: String,
    /// One network check at a time in this process.
    making_network: tokio::sync::Mutex<()>,
}

fn engine(error: bollard::errors::Error) -> RuntimeError {
    RuntimeError::Engine(error.to_string())
}

fn is_missing(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

impl DockerRuntime {
    /// Connects to the engine at `socket` (speaking the API version it supports).
    pub async fn connect(
        socket: &str,
        config: DockerConfig,
        http: reqwest::Client,
    ) -> Result<Self, RuntimeError> {
        let docker = Docker::connect_with_socket(socket, 120, bollard::API_DEFAULT_VERSION)
            .map_err(engine)?
            .negotiate_version()
            .await
            .map_err(engine)?;
        let own = (
            nix::unistd::getuid().as_raw(),
            nix::unistd::getgid().as_raw(),
        );
        let hand_to = (own.0 == 0).then_some(config.unprivileged);
        let (uid, gid) = hand_to.unwrap_or(own);
        let user = format!("{uid}:{gid}");
        // The engine binds absolute paths only, and the owner label must be one name.
        let mut config = config;
        config.data_dir = std::path::absolute(&config.data_dir)
            .map_err(RuntimeError::io("resolve the docker data directory"))?;
        config.secrets_dir = std::path::absolute(&config.secrets_dir)
            .map_err(RuntimeError::io("resolve the docker secrets directory"))?;
        let owner = config.data_dir.to_string_lossy().into_owned();
        Ok(Self {
            docker,
            config,
            http,
            user,
            hand_to,
            owner,
            making_network: tokio::sync::Mutex::new(()),
        })
    }

    fn image(&self, version: &str) -> String {
        self.config.image.replace("{version}", version)
    }

    fn bot_dir(&self, bot_id: BotId) -> PathBuf {
        self.config.data_dir.join("bots").join(bot_id.to_string())
    }

    /// The bot's secrets directory, named by this control plane and the bot.
    fn secrets_dir(&self, bot_id: BotId) -> PathBuf {
        self.config.secrets_dir.join(bot_id.to_string())
    }

    fn job_dir(&self, job_id: Uuid) -> PathBuf {
        self.config.data_dir.join("jobs").join(job_id.to_string())
    }

    fn cancelled_mark(&self, job_id: Uuid) -> PathBuf {
        self.config
            .data_dir
            .join(CANCELLED)
            .join(job_id.to_string())
    }

    /// The image for `version`; pulled when the engine lacks it and pulling is on.
    async fn ensure_image(&self, version: &str) -> Result<String, RuntimeError> {
        let image = self.image(version);
        match self.docker.inspect_image(&image).await {
            Ok(_) => return Ok(image),
            Err(e) if is_missing(&e) => {}
            Err(e) => return Err(engine(e)),
        }
        if !self.config.pull {
            return Err(RuntimeError::Image {
                image,
                reason: format!(
                    "the engine does not have it (runtime.docker.pull is off); build it with scripts/freqtrade-image {version}"
                ),
            });
        }
        let options = CreateImageOptionsBuilder::new().from_image(&image).build();
        let mut pulling = self.docker.create_image(Some(options), None, None);
        while let Some(progress) = pulling.next().await {
            if let Err(e) = progress {
                return Err(RuntimeError::Image {
                    image,
                    reason: format!(
                        "{e}; without a registry, build it with scripts/freqtrade-image {version}"
                    ),
                });
            }
        }
        Ok(image)
    }

    /// The id of the bots' network, made when missing. The engine lets two networks
    /// share a name, and two starts (or two control planes) can race to make it: the
    /// oldest of that name is the one, later ones are removed where nothing uses them,
    /// and containers join the one by id.
    async fn ensure_network(&self) -> Result<String, RuntimeError> {
        let _alone = self.making_network.lock().await;
        if let Some(id) = self.oldest_network().await? {
            return Ok(id);
        }
        let request = NetworkCreateRequest {
            name: self.config.network.clone(),
            driver: Some("bridge".into()),
            labels: Some(HashMap::from([(labels::MANAGED.into(), "true".into())])),
            ..Default::default()
        };
        match self.docker.create_network(request).await {
            Ok(_) => {}
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => {}
            Err(e) => return Err(engine(e)),
        }
        self.oldest_network().await?.ok_or_else(|| {
            RuntimeError::Engine(format!("network {} vanished", self.config.network))
        })
    }

    /// The oldest network named `runtime.docker.network`; removes the others if unused.
    async fn oldest_network(&self) -> Result<Option<String>, RuntimeError> {
        let name = &self.config.network;
        let filters = HashMap::from([("name", vec![name.as_str()])]);
        let options = ListNetworksOptionsBuilder::new().filters(&filters).build();
        let mut named: Vec<(Option<chrono::DateTime<chrono::FixedOffset>>, String)> = self
            .docker
            .list_networks(Some(options))
            .await
            .map_err(engine)?
            .into_iter()
            // The filter matches parts of names.
            .filter(|network| network.name.as_ref() == Some(name))
            .filter_map(|network| {
                let created = network
                    .created
                    .as_deref()
                    .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok());
                Some((created, network.id?))
            })
            .collect();
        named.sort();
        let mut named = named.into_iter().map(|(_, id)| id);
        let oldest = named.next();
        for later in named {
            if let Err(e) = self.docker.remove_network(&later).await {
                tracing::warn!(network = %later, error = %e, "a second network of the bots' name stays");
            }
        }
        Ok(oldest)
    }

    async fn inspect(&self, name: &str) -> Result<Option<ContainerInspectResponse>, RuntimeError> {
        match self.docker.inspect_container(name, None).await {
            Ok(container) => Ok(Some(container)),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(engine(e)),
        }
    }

    async fn remove(&self, name: &str) -> Result<(), RuntimeError> {
        let options = RemoveContainerOptionsBuilder::new().force(true).build();
        match self.docker.remove_container(name, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) if is_missing(&e) => Ok(()),
            Err(e) => Err(engine(e)),
        }
    }

    async fn stop(&self, name: &str) -> Result<(), RuntimeError> {
        let options = StopContainerOptionsBuilder::new()
            .t(STOP_GRACE_SECS)
            .build();
        match self.docker.stop_container(name, Some(options)).await {
            Ok(()) => Ok(()),
            // bollard answers a stopped container's 304 with Ok.
            Err(e) if is_missing(&e) => Ok(()),
            Err(e) => Err(engine(e)),
        }
    }

    /// The container's last `lines` lines of output (stdout and stderr).
    async fn output(&self, name: &str, lines: usize) -> Result<Vec<String>, RuntimeError> {
        let options = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.docker.logs(name, Some(options));
        let mut text = String::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(output) => text.push_str(&String::from_utf8_lossy(&output.into_bytes())),
                Err(e) if is_missing(&e) => return Ok(Vec::new()),
                Err(e) => return Err(engine(e)),
            }
        }
        Ok(text.lines().map(str::to_owned).collect())
    }

    fn instance(
        &self,
        name: &str,
        container: &ContainerInspectResponse,
        state: InstanceState,
    ) -> Instance {
        let labels: BTreeMap<String, String> = container
            .config
            .as_ref()
            .and_then(|config| config.labels.clone())
            .unwrap_or_default()
            .into_iter()
            .collect();
        Instance {
            runtime_id: name.to_owned(),
            kind: RuntimeKind::Docker,
            state,
            labels,
            api_url: published_api(container),
        }
    }

    async fn create_and_start(
        &self,
        name: &str,
        body: bollard::models::ContainerCreateBody,
    ) -> Result<(), RuntimeError> {
        let options = CreateContainerOptionsBuilder::new().name(name).build();
        self.docker
            .create_container(Some(options), body)
            .await
            .map_err(engine)?;
        self.docker
            .start_container(name, None)
            .await
            .map_err(engine)
    }

    /// Waits until the bot's API answers, its container ends, or the start timeout
    /// passes; the bot is stopped when it does not come up.
    async fn wait_until_up(&self, name: &str) -> Result<Instance, RuntimeError> {
        let deadline = tokio::time::Instant::now() + self.config.start_timeout;
        loop {
            let Some(container) = self.inspect(name).await? else {
                return Err(RuntimeError::NotFound(name.to_owned()));
            };
            if !is_running(&container) {
                let tail = self.output(name, 200).await?;
                return Err(RuntimeError::ExitedAtStart {
                    status: exit_status(&container),
                    reason: failure_lines(&tail).unwrap_or_else(|| "no error in its log".into()),
                });
            }
            let instance = self.instance(name, &container, InstanceState::Running);
            if let Some(api_url) = &instance.api_url
                && api_answers(&self.http, api_url).await
            {
                return Ok(instance);
            }
            if tokio::time::Instant::now() >= deadline {
                self.stop(name).await?;
                return Err(RuntimeError::StartTimeout {
                    api_url: instance.api_url.unwrap_or_default(),
                    seconds: self.config.start_timeout.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// A job just started (nothing more is asked of the engine: the job runs, and a
    /// failure to read it back must not read as a failed start).
    fn job_instance(&self, spec: &JobSpec, name: &str) -> Instance {
        Instance {
            runtime_id: name.to_owned(),
            kind: RuntimeKind::Docker,
            state: InstanceState::Running,
            labels: container::job_labels(spec.job_id, spec.kind, &self.owner)
                .into_iter()
                .collect(),
            api_url: None,
        }
    }

    fn shared<'a>(&'a self, image: &'a str, network: &'a str, dir: &'a str) -> Shared<'a> {
        Shared {
            image,
            network,
            user: &self.user,
            dir,
            secrets: None,
            owner: &self.owner,
        }
    }

    /// Hands `dir` to the containers' user when this process is root.
    async fn hand_over(&self, dir: &std::path::Path) -> Result<(), RuntimeError> {
        match self.hand_to {
            Some(owner) => hand_over(dir, owner).await,
            None => Ok(()),
        }
    }

    /// How a job's container ended, from its exit code, output and cancelled mark.
    async fn job_state(
        &self,
        job_id: Uuid,
        name: &str,
        container: &ContainerInspectResponse,
    ) -> Result<InstanceState, RuntimeError> {
        if is_running(container) {
            return Ok(InstanceState::Running);
        }
        if is_created(container) {
            return Ok(InstanceState::Created);
        }
        if self.cancelled_mark(job_id).exists() {
            return Ok(InstanceState::Exited {
                detail: "cancelled".into(),
            });
        }
        let output = self.output(name, 2000).await?;
        let code = container.state.as_ref().and_then(|s| s.exit_code);
        Ok(container::job_end(
            &output,
            code == Some(0),
            &exit_status(container),
        ))
    }
}

fn is_running(container: &ContainerInspectResponse) -> bool {
    container.state.as_ref().is_some_and(|state| {
        matches!(
            state.status,
            Some(ContainerStateStatusEnum::RUNNING | ContainerStateStatusEnum::RESTARTING)
        ) || state.running == Some(true)
    })
}

/// Made but never started (a crash between the two, say).
fn is_created(container: &ContainerInspectResponse) -> bool {
    container
        .state
        .as_ref()
        .is_some_and(|state| state.status == Some(ContainerStateStatusEnum::CREATED))
}

fn exit_status(container: &ContainerInspectResponse) -> String {
    let state = container.state.as_ref();
    match state.and_then(|s| s.exit_code) {
        Some(code) if state.and_then(|s| s.oom_killed) == Some(true) => {
            format!("exit code {code}, out of memory")
        }
        Some(code) => format!("exit code {code}"),
        None => "no exit code".into(),
    }
}

/// `, ended at <time>` when the engine says when the container ended (to the second):
/// an outage is dated in the bot's history.
fn ended_at(container: &ContainerInspectResponse) -> String {
    container
        .state
        .as_ref()
        .and_then(|state| state.finished_at.as_deref())
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .filter(|at| at.timestamp() > 0)
        .map(|at| {
            let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            format!(", ended at {at}")
        })
        .unwrap_or_default()
}

/// A listed container as an instance: running, made, or ended (with the engine's
/// words for how).
fn summary_instance(summary: ContainerSummary) -> Option<Instance> {
    let name = summary
        .names
        .as_ref()?
        .first()?
        .trim_start_matches('/')
        .to_owned();
    let state = match summary.state {
        Some(ContainerSummaryStateEnum::RUNNING | ContainerSummaryStateEnum::RESTARTING) => {
            InstanceState::Running
        }
        Some(ContainerSummaryStateEnum::CREATED) => InstanceState::Created,
        _ => InstanceState::Exited {
            detail: summary.status.clone().unwrap_or_else(|| "ended".into()),
        },
    };
    let api_url = summary.ports.as_ref().and_then(|ports| {
        let port = ports
            .iter()
            .find(|p| p.private_port == API_PORT && p.public_port.is_some())?;
        Some(format!("http://127.0.0.1:{}", port.public_port?))
    });
    Some(Instance {
        runtime_id: name,
        kind: RuntimeKind::Docker,
        state,
        labels: summary.labels.unwrap_or_default().into_iter().collect(),
        api_url,
    })
}

/// `http://127.0.0.1:<port>` where the engine published the container's API port.
fn published_api(container: &ContainerInspectResponse) -> Option<String> {
    let ports = container.network_settings.as_ref()?.ports.as_ref()?;
    let bindings = ports.get(&format!("{API_PORT}/tcp"))?.as_ref()?;
    let port = bindings.iter().find_map(|b| b.host_port.clone())?;
    Some(format!("http://127.0.0.1:{port}"))
}

async fn remove_dir(dir: &std::path::Path) -> Result<(), RuntimeError> {
    match tokio::fs::remove_dir_all(dir).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(RuntimeError::io(format!("remove {}", dir.display()))(e)),
    }
}

#[async_trait]
impl Runtime for DockerRuntime {
    fn kind(&self) -> RuntimeKind {
        RuntimeKind::Docker
    }

    fn runtime_id(&self, bot_id: BotId) -> String {
        container::bot_runtime_id(bot_id)
    }

    async fn create_bot(
        &self,
        bot_id: BotId,
        freqtrade_version: &str,
    ) -> Result<Instance, RuntimeError> {
        let dir = self.bot_dir(bot_id);
        tokio::fs::create_dir_all(dir.join("user_data"))
            .await
            .map_err(RuntimeError::io(format!("create {}", dir.display())))?;
        self.ensure_image(freqtrade_version).await?;
        self.ensure_network().await?;
        let name = container::bot_runtime_id(bot_id);
        Ok(Instance {
            runtime_id: name,
            kind: RuntimeKind::Docker,
            state: InstanceState::Created,
            labels: container::bot_labels(bot_id, &self.owner)
                .into_iter()
                .collect(),
            api_url: None,
        })
    }

    async fn start_bot(&self, spec: &BotSpec) -> Result<Instance, RuntimeError> {
        let name = container::bot_runtime_id(spec.bot_id);
        if let Some(container) = self.inspect(&name).await? {
            if is_running(&container) {
                return Ok(self.instance(&name, &container, InstanceState::Running));
            }
            // A stopped container holds the last spec; this start may differ.
            self.remove(&name).await?;
        }
        let image = self.ensure_image(&spec.freqtrade_version).await?;
        let network = self.ensure_network().await?;
        let config = container::listening_in_container(&spec.config);
        let dir = self.bot_dir(spec.bot_id);
        write_run_files(&dir, &spec.strategy, &config).await?;
        self.hand_over(&dir).await?;
        let secrets = self.secrets_dir(spec.bot_id);
        let file = container::secrets_file(&spec.environment);
        write_private(&secrets, container::SECRETS_FILE, &file, self.hand_to).await?;
        let dir_text = dir.to_string_lossy().into_owned();
        let secrets_text = secrets.to_string_lossy().into_owned();
        let mut shared = self.shared(&image, &network, &dir_text);
        shared.secrets = Some(&secrets_text);
        let body = containers::bot_body(spec, &shared);
        let up = match self.create_and_start(&name, body).await {
            Ok(()) => self.wait_until_up(&name).await,
            Err(e) => Err(e),
        };
        if up.is_err() {
            // Nothing runs that needs them.
            remove_dir(&secrets).await?;
        }
        up
    }

    async fn stop_bot(&self, bot_id: BotId) -> Result<(), RuntimeError> {
        self.stop(&container::bot_runtime_id(bot_id)).await?;
        remove_dir(&self.secrets_dir(bot_id)).await
    }

    async fn delete_bot(&self, bot_id: BotId) -> Result<(), RuntimeError> {
        // Stopped first: freqtrade shuts down cleanly on SIGTERM, a forced remove kills.
        let name = container::bot_runtime_id(bot_id);
        self.stop(&name).await?;
        self.remove(&name).await?;
        remove_dir(&self.secrets_dir(bot_id)).await?;
        remove_dir(&self.bot_dir(bot_id)).await
    }

    async fn bot_status(&self, bot_id: BotId) -> Result<Option<Instance>, RuntimeError> {
        let name = container::bot_runtime_id(bot_id);
        let Some(container) = self.inspect(&name).await? else {
            return Ok(None);
        };
        let state = if is_running(&container) {
            InstanceState::Running
        } else {
            InstanceState::Exited {
                detail: format!(
                    "freqtrade {}{}",
                    exit_status(&container),
                    ended_at(&container)
                ),
            }
        };
        Ok(Some(self.instance(&name, &container, state)))
    }

    async fn logs(&self, bot_id: BotId, lines: usize) -> Result<Vec<String>, RuntimeError> {
        self.output(&container::bot_runtime_id(bot_id), lines).await
    }

    async fn run_job(&self, spec: &JobSpec) -> Result<Instance, RuntimeError> {
        let name = container::job_runtime_id(spec.job_id);
        if let Some(container) = self.inspect(&name).await? {
            if !is_created(&container) {
                let state = self.job_state(spec.job_id, &name, &container).await?;
                return Ok(self.instance(&name, &container, state));
            }
            self.docker
                .start_container(&name, None)
                .await
                .map_err(engine)?;
            return Ok(self.job_instance(spec, &name));
        }
        if spec.steps.iter().all(Vec::is_empty) {
            return Err(RuntimeError::NoSteps(spec.job_id));
        }
        let image = self.ensure_image(&spec.freqtrade_version).await?;
        let network = self.ensure_network().await?;
        let dir = self.job_dir(spec.job_id);
        write_run_files(&dir, &spec.strategy, &spec.config).await?;
        self.hand_over(&dir).await?;
        let dir_text = dir.to_string_lossy().into_owned();
        let body = containers::job_body(spec, &self.shared(&image, &network, &dir_text));
        self.create_and_start(&name, body).await?;
        Ok(self.job_instance(spec, &name))
    }

    async fn job_status(&self, job_id: Uuid) -> Result<Option<Instance>, RuntimeError> {
        let name = container::job_runtime_id(job_id);
        let Some(container) = self.inspect(&name).await? else {
            return Ok(None);
        };
        let state = self.job_state(job_id, &name, &container).await?;
        Ok(Some(self.instance(&name, &container, state)))
    }

    async fn cancel_job(&self, job_id: Uuid) -> Result<(), RuntimeError> {
        let name = container::job_runtime_id(job_id);
        let Some(container) = self.inspect(&name).await? else {
            return Err(RuntimeError::NotFound(name));
        };
        if !is_running(&container) {
            return Ok(());
        }
        let mark = self.cancelled_mark(job_id);
        let written = match mark.parent() {
            Some(parent) => tokio::fs::create_dir_all(parent).await,
            None => Ok(()),
        };
        written
            .and(tokio::fs::write(&mark, b"").await)
            .map_err(RuntimeError::io(format!("write {}", mark.display())))?;
        self.stop(&name).await
    }

    async fn job_logs(&self, job_id: Uuid, lines: usize) -> Result<Vec<String>, RuntimeError> {
        self.output(&container::job_runtime_id(job_id), lines).await
    }

    async fn job_file(&self, job_id: Uuid, path: &str) -> Result<Option<Vec<u8>>, RuntimeError> {
        user_data_file(&self.job_dir(job_id), path).await
    }

    async fn list_instances(&self) -> Result<Vec<Instance>, RuntimeError> {
        let filters = HashMap::from([(
            "label",
            vec![
                format!("{}=true", labels::MANAGED),
                format!("{}={}", container::OWNER, self.owner),
            ],
        )]);
        let options = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let summaries = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(engine)?;
        // From the listing alone: the reconcilers call this often, and a job's exact
        // outcome (which reads its output) is `job_status`'s business.
        Ok(summaries.into_iter().filter_map(summary_instance).collect())
    }

    async fn cleanup(&self, runtime_id: &str) -> Result<(), RuntimeError> {
        self.remove(runtime_id).await?;
        match container::parse_runtime_id(runtime_id) {
            Some(RuntimeIdOf::Bot(bot_id)) => {
                remove_dir(&self.secrets_dir(bot_id)).await?;
                remove_dir(&self.bot_dir(bot_id)).await
            }
            Some(RuntimeIdOf::Job(job_id)) => remove_dir(&self.job_dir(job_id)).await,
            None => Ok(()),
        }
    }
}
