//! Configuration: built-in defaults, then an optional TOML file, then environment
//! variables (`ANYTRADE_*`, plus `DATABASE_URL`). Anything invalid stops the start
//! with the offending key and the reason.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use anytrade_aggregates::values::{CpuLimit, FreqtradeVersion, MemoryLimit, ResourceLimits};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {key}: {reason}")]
pub struct ConfigError {
    pub key: String,
    pub reason: String,
}

/// A string that never prints (connection strings, keys).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Redacted(String);

impl Redacted {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Redacted {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Which runtime runs bots and jobs when a bot does not name one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeChoice {
    /// In a Kubernetes cluster → kubernetes; Docker reachable → docker; else local.
    Auto,
    Docker,
    Kubernetes,
    Local,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DockerSettings {
    pub socket: String,
    pub network: String,
    /// Bots' and jobs' directories, mounted into their containers (default
    /// `<data_dir>/docker`); the engine must see the same path.
    pub data_path: Option<PathBuf>,
    /// The freqtrade image; `{version}` stands for the bot's freqtrade version.
    pub image: String,
    /// Pull the image from its registry when the engine lacks it. Off by default: the
    /// default image is built locally by `scripts/freqtrade-image`.
    pub pull: bool,
    /// How long a bot may take until its REST API answers.
    pub start_timeout_secs: u64,
    /// Where each bot's secrets file is written to be mounted into its container: a
    /// tmpfs the engine's host sees at the same path, so keys never reach a disk.
    pub secrets_path: PathBuf,
    /// `uid:gid` containers run as when AnyTrade runs as root (else they run as
    /// AnyTrade's own user); never root. The default is the image's `ftuser`.
    pub user: String,
}

impl Default for DockerSettings {
    fn default() -> Self {
        Self {
            socket: "unix:///var/run/docker.sock".into(),
            network: "anytrade-network".into(),
            data_path: None,
            image: "anytrade/freqtrade:{version}".into(),
            pull: false,
            start_timeout_secs: 120,
            secrets_path: PathBuf::from("/dev/shm/anytrade"),
            user: "1000:1000".into(),
        }
    }
}

impl DockerSettings {
    /// `user` as `(uid, gid)`; errors name the key. Root is refused: a container that
    /// runs strategy code never runs as root.
    pub fn user_ids(&self) -> Result<(u32, u32), ConfigError> {
        user_ids(&self.user, "runtime.docker.user")
    }
}

/// How the control plane reaches a bot's REST API in a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KubernetesReach {
    /// Inside the cluster: the Service's DNS name; outside: its cluster IP.
    Auto,
    /// `http://<service>.<namespace>.svc:8080`: the control plane runs in the cluster.
    ClusterDns,
    /// `http://<cluster IP>:8080`: the control plane runs where service addresses are
    /// routed (on a node, or a network routed to the service range).
    ClusterIp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KubernetesSettings {
    /// Where bots and jobs run; the namespace must exist.
    pub namespace: String,
    /// The kubeconfig to use outside a cluster; unset: `KUBECONFIG` or `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// The storage class of bots' `user_data` volumes.
    pub storage_class: String,
    /// The size of a bot's `user_data` volume, as a Kubernetes quantity.
    pub volume_size: String,
    /// The freqtrade image; `{version}` stands for the bot's freqtrade version.
    pub image: String,
    /// `Always`, `IfNotPresent` or `Never`.
    pub image_pull_policy: String,
    /// `uid:gid` pods run as; never root. The default is the image's `ftuser`.
    pub user: String,
    /// The `anytrade.owner` label of everything this control plane makes: control
    /// planes sharing a namespace each manage only their own.
    pub owner: String,
    pub reach: KubernetesReach,
    /// Where a job's pod sends its results: this service's address as pods see it.
    /// Unset inside a cluster: `http://anytrade.<its namespace>.svc:<listen port>`.
    pub results_url: Option<String>,
    /// The largest upload of a job's results, in bytes.
    pub max_results_bytes: usize,
    /// How long a bot may take until its REST API answers (pulling its image included).
    pub start_timeout_secs: u64,
}

impl Default for KubernetesSettings {
    fn default() -> Self {
        Self {
            namespace: "anytrade".into(),
            kubeconfig: None,
            storage_class: "standard".into(),
            volume_size: "1Gi".into(),
            image: "anytrade/freqtrade:{version}".into(),
            image_pull_policy: "IfNotPresent".into(),
            user: "1000:1000".into(),
            owner: "anytrade".into(),
            reach: KubernetesReach::Auto,
            results_url: None,
            max_results_bytes: 64 * 1024 * 1024,
            start_timeout_secs: 300,
        }
    }
}

impl KubernetesSettings {
    /// The settings as the runtime needs them; errors name the key.
    pub fn check(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: String| ConfigError {
            key: format!("runtime.kubernetes.{key}"),
            reason,
        };
        if !is_dns_label(&self.namespace) {
            return Err(invalid(
                "namespace",
                format!(
                    "{:?} must be a DNS label (a-z, 0-9, '-', at most 63)",
                    self.namespace
                ),
            ));
        }
        if !is_label_value(&self.owner) {
            return Err(invalid(
                "owner",
                format!(
                    "{:?} must be a label value (letters, digits, '-', '_', '.', at most 63, starting and ending alphanumeric)",
                    self.owner
                ),
            ));
        }
        if !["Always", "IfNotPresent", "Never"].contains(&self.image_pull_policy.as_str()) {
            return Err(invalid(
                "image_pull_policy",
                format!(
                    "{:?} must be Always, IfNotPresent or Never",
                    self.image_pull_policy
                ),
            ));
        }
        let size_ok = self
            .volume_size
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .parse::<u64>()
            .is_ok_and(|n| n > 0);
        if !size_ok {
            return Err(invalid(
                "volume_size",
                format!("{:?} must be a size like \"1Gi\"", self.volume_size),
            ));
        }
        if let Some(url) = &self.results_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(invalid(
                "results_url",
                format!("{url:?} must be an http:// or https:// URL"),
            ));
        }
        if self.max_results_bytes == 0 {
            return Err(invalid("max_results_bytes", "must be above 0".into()));
        }
        Ok(())
    }

    /// `user` as `(uid, gid)`; errors name the key. Root is refused.
    pub fn user_ids(&self) -> Result<(u32, u32), ConfigError> {
        user_ids(&self.user, "runtime.kubernetes.user")
    }
}

fn is_dns_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

fn is_label_value(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// `text` as numeric `(uid, gid)`, never root; errors name `key`.
fn user_ids(text: &str, key: &str) -> Result<(u32, u32), ConfigError> {
    let invalid = |reason: &str| ConfigError {
        key: key.into(),
        reason: format!("{text:?} {reason}"),
    };
    let numeric = "must be numeric uid:gid, like \"1000:1000\"";
    let (uid, gid) = text.split_once(':').ok_or_else(|| invalid(numeric))?;
    let uid: u32 = uid.parse().map_err(|_| invalid(numeric))?;
    let gid: u32 = gid.parse().map_err(|_| invalid(numeric))?;
    if uid == 0 || gid == 0 {
        return Err(invalid("must not be root (uid or gid 0)"));
    }
    Ok((uid, gid))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalSettings {
    /// Where each bot's directory (config, `user_data`, trade database) lives;
    /// defaults to `<data_dir>/local/bots`.
    pub data_path: Option<PathBuf>,
    /// Where bots' logs go; defaults to `<data_dir>/local/logs`.
    pub log_path: Option<PathBuf>,
    /// Where freqtrade is installed, one virtual environment per version; defaults to
    /// `<data_dir>/freqtrade`.
    pub freqtrade_path: Option<PathBuf>,
    /// The Python that makes those virtual environments.
    pub python: String,
    /// Ports bots' REST APIs may use, like `"8100-8199"`; unset: any free port.
    pub api_ports: Option<String>,
    /// Seconds a bot may take from start until its REST API answers.
    pub start_timeout_secs: u64,
}

impl Default for LocalSettings {
    fn default() -> Self {
        Self {
            data_path: None,
            log_path: None,
            freqtrade_path: None,
            python: "python3".into(),
            api_ports: None,
            start_timeout_secs: 120,
        }
    }
}

impl LocalSettings {
    /// `api_ports` as a range; errors name the key.
    pub fn api_port_range(&self) -> Result<Option<RangeInclusive<u16>>, ConfigError> {
        let Some(text) = &self.api_ports else {
            return Ok(None);
        };
        let invalid = || ConfigError {
            key: "runtime.local.api_ports".into(),
            reason: format!(
                "{text:?} must be a port range like \"8100-8199\" (low to high, 1-65535)"
            ),
        };
        let (low, high) = text.split_once('-').ok_or_else(invalid)?;
        let low: u16 = low.trim().parse().map_err(|_| invalid())?;
        let high: u16 = high.trim().parse().map_err(|_| invalid())?;
        if low == 0 || low > high {
            return Err(invalid());
        }
        Ok(Some(low..=high))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeSettings {
    pub default: RuntimeChoice,
    /// Whether this instance carries out bot lifecycle requests and reconciles the
    /// runtimes. Turn it off on extra API-only replicas: one instance should manage.
    pub manage: bool,
    /// Seconds between two comparisons of the bots that should run with what the
    /// runtimes run.
    pub reconcile_interval_secs: u64,
    /// How many times a bot whose process is gone (an engine restart, a kill) is
    /// started again within `restart_window_secs`; 0 leaves it in error.
    pub restart_limit: u32,
    pub restart_window_secs: u64,
    pub docker: DockerSettings,
    pub kubernetes: KubernetesSettings,
    pub local: LocalSettings,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self {
            default: RuntimeChoice::Auto,
            manage: true,
            reconcile_interval_secs: 30,
            restart_limit: 3,
            restart_window_secs: 600,
            docker: DockerSettings::default(),
            kubernetes: KubernetesSettings::default(),
            local: LocalSettings::default(),
        }
    }
}

/// How the workers poll running bots' freqtrade APIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorSettings {
    /// Whether this instance runs the health monitor and the trade sync (one instance
    /// should).
    pub enabled: bool,
    /// Seconds between two health checks of a bot.
    pub health_interval_secs: u64,
    /// Failed checks in a row that make a bot unhealthy (status error).
    pub unhealthy_after: u32,
    /// Failed checks in a row after which its instance is stopped.
    pub stop_after: u32,
    /// Seconds between two trade syncs of a bot.
    pub trade_sync_interval_secs: u64,
    /// Seconds a request to a bot may take.
    pub request_timeout_secs: u64,
    /// Requests in flight at once, per worker.
    pub concurrency: usize,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            health_interval_secs: 30,
            unhealthy_after: 3,
            stop_after: 10,
            trade_sync_interval_secs: 60,
            request_timeout_secs: 10,
            concurrency: 32,
        }
    }
}

/// How backtests and hyperopts run (the job executor runs where `runtime.manage` is on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobSettings {
    /// Backtests that may run at once; more wait, pending.
    pub max_backtests: usize,
    /// Hyperopts that may run at once (each uses every core it is given).
    pub max_hyperopts: usize,
    /// Milliseconds between two looks at running jobs (progress, outcome).
    pub poll_interval_ms: u64,
    /// The freqtrade release jobs run with.
    pub freqtrade_version: String,
    /// Each job's CPU limit (`1.5`, `1500m`) where the runtime enforces one (docker);
    /// none by default.
    #[serde(deserialize_with = "string_or_number")]
    pub cpu: Option<String>,
    /// Each job's memory limit (`2Gi`, `512Mi`) where the runtime enforces one
    /// (docker), so a hyperopt cannot take the memory live bots need; none by default.
    pub memory: Option<String>,
}

/// A setting written as text or as a bare number (`cpu = 2`, `ANYTRADE_JOBS__CPU=2`).
fn string_or_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(f64),
    }
    Ok(
        Option::<Raw>::deserialize(deserializer)?.map(|raw| match raw {
            Raw::Text(text) => text,
            Raw::Number(number) => number.to_string(),
        }),
    )
}

impl JobSettings {
    /// The limits every job runs with (checked when the settings load).
    pub fn resources(&self) -> Result<ResourceLimits, ConfigError> {
        let cpu = self
            .cpu
            .as_deref()
            .map(CpuLimit::parse)
            .transpose()
            .map_err(|e| ConfigError {
                key: "jobs.cpu".into(),
                reason: e.to_string(),
            })?;
        let memory = self
            .memory
            .as_deref()
            .map(MemoryLimit::parse)
            .transpose()
            .map_err(|e| ConfigError {
                key: "jobs.memory".into(),
                reason: e.to_string(),
            })?;
        Ok(ResourceLimits { cpu, memory })
    }
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            max_backtests: 2,
            max_hyperopts: 1,
            poll_interval_ms: 2000,
            freqtrade_version: FreqtradeVersion::default().as_str().to_owned(),
            cpu: None,
            memory: None,
        }
    }
}

/// What one client may hold of the HTTP server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// HTTP connections served at once; more wait in the listen queue.
    pub max_connections: usize,
    /// Seconds a request's head (request line and headers) may take to arrive.
    pub header_timeout_secs: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            header_timeout_secs: 10,
        }
    }
}

/// `anytrade serve --sandbox`: the exchange simulator served by the service, so a bot
/// can dry-run with no exchange account and no internet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxSettings {
    /// Serve the simulator, register the `sandbox` exchange and add the example
    /// strategies (`--sandbox` sets it).
    pub enabled: bool,
    /// Where the simulator listens. Unset: `127.0.0.1:8650` when bots run as local
    /// processes, `0.0.0.0:8650` when they run in containers, which must reach it.
    pub listen: Option<SocketAddr>,
    /// The simulator's address as bots reach it (`http://host:port`). Unset: derived
    /// from the default runtime (`127.0.0.1` for local processes,
    /// `host.docker.internal` for containers); required with the kubernetes runtime.
    pub url: Option<String>,
    /// Seed of the synthetic prices: the same seed serves the same prices.
    pub seed: u64,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: None,
            url: None,
            seed: 1,
        }
    }
}

/// The whole service configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// Everything AnyTrade keeps on disk: the embedded database, bot data.
    pub data_dir: PathBuf,
    /// An external PostgreSQL; when unset AnyTrade runs its own under `data_dir`.
    pub database_url: Option<Redacted>,
    /// Directory of `initdb`/`pg_ctl` for the embedded database; found when unset.
    pub postgres_bin_dir: Option<PathBuf>,
    pub log_format: LogFormat,
    /// A tracing filter such as `info` or `anytrade=debug,sqlx=warn`.
    pub log_level: String,
    /// Base64 of 32 random bytes (`anytrade keygen`).
    pub encryption_key: Option<Redacted>,
    /// Older keys, comma-separated, still accepted for decryption after a rotation.
    pub previous_encryption_keys: Option<Redacted>,
    /// Name of the first admin user, created on the first start (no users yet).
    pub admin_username: String,
    /// Password of that first admin; needed only while there are no users, and stored
    /// only as an argon2 hash.
    pub admin_password: Option<Redacted>,
    /// Base64 of at least 32 bytes that signs login tokens (HS256). When unset, a key is
    /// derived from `encryption_key`, so tokens survive restarts with nothing to add.
    pub jwt_secret: Option<Redacted>,
    pub runtime: RuntimeSettings,
    pub monitor: MonitorSettings,
    pub jobs: JobSettings,
    pub http: HttpSettings,
    pub sandbox: SandboxSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: default_data_dir(),
            database_url: None,
            postgres_bin_dir: None,
            log_format: LogFormat::Text,
            log_level: "info".into(),
            encryption_key: None,
            previous_encryption_keys: None,
            admin_username: "admin".into(),
            admin_password: None,
            jwt_secret: None,
            runtime: RuntimeSettings::default(),
            monitor: MonitorSettings::default(),
            jobs: JobSettings::default(),
            http: HttpSettings::default(),
            sandbox: SandboxSettings::default(),
        }
    }
}

/// `/var/lib/anytrade` for root (a system service), else `~/.local/share/anytrade`.
fn default_data_dir() -> PathBuf {
    if nix::unistd::Uid::effective().is_root() {
        return PathBuf::from("/var/lib/anytrade");
    }
    match std::env::var_os("XDG_DATA_HOME").or_else(|| {
        std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/share").into_os_string())
    }) {
        Some(base) => Path::new(&base).join("anytrade"),
        None => PathBuf::from("./data"),
    }
}

/// Top-level keys that may come from `ANYTRADE_<KEY>`; nested keys use `__`
/// (`ANYTRADE_RUNTIME__DOCKER__SOCKET`). `ANYTRADE_RUNTIME` alone sets `runtime.default`.
/// Those also in [`SECRET_KEYS`] are read as exact strings by [`secret_env`].
const ENV_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "postgres_bin_dir",
    "log_format",
    "log_level",
    "encryption_key",
    "previous_encryption_keys",
    "admin_username",
    "admin_password",
    "jwt_secret",
    "runtime",
    "monitor",
    "jobs",
    "http",
    "sandbox",
];

/// Keys whose values are secrets. Their environment variables are taken as exact
/// strings (figment would read `0123…` as a number and drop the zero), and errors
/// about them never quote the value.
const SECRET_KEYS: &[&str] = &[
    "database_url",
    "encryption_key",
    "previous_encryption_keys",
    "admin_password",
    "jwt_secret",
];

/// The secret settings present in the environment, as exact strings.
fn secret_env() -> BTreeMap<String, String> {
    Env::prefixed("ANYTRADE_")
        .only(SECRET_KEYS)
        .iter()
        .filter(|(key, _)| ENV_KEYS.contains(&key.as_str()))
        .chain(Env::raw().only(&["database_url"]).iter())
        .map(|(key, value)| (key.as_str().to_owned(), value))
        .collect()
}

impl Settings {
    /// The configured previous keys, one string each.
    pub fn previous_keys(&self) -> Vec<String> {
        self.previous_encryption_keys
            .as_ref()
            .map(|keys| {
                keys.expose()
                    .split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first admin's password, if one is configured (blank counts as unset).
    pub fn admin_password(&self) -> Option<&str> {
        non_blank(self.admin_password.as_ref())
    }

    /// The configured token signing secret in base64, if any (blank counts as unset).
    pub fn jwt_secret(&self) -> Option<&str> {
        non_blank(self.jwt_secret.as_ref())
    }

    /// Loads the configuration from `file` (if given) and the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::from_figment(Self::figment(file))
    }

    fn figment(file: Option<&Path>) -> Figment {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment
            .merge(
                Env::prefixed("ANYTRADE_")
                    .map(|key| match key.as_str().to_ascii_lowercase().as_str() {
                        "runtime" => "runtime.default".into(),
                        other => other.replace("__", ".").into(),
                    })
                    .filter(|key| {
                        let top = key.as_str().split('.').next().unwrap_or_default();
                        ENV_KEYS.contains(&top) && !SECRET_KEYS.contains(&top)
                    })
                    .split("."),
            )
            .merge(Serialized::defaults(secret_env()))
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Settings = figment.extract().map_err(|e| {
            let key = if e.path.is_empty() {
                "(file)".to_owned()
            } else {
                e.path.join(".")
            };
            let reason = if SECRET_KEYS.contains(&key.as_str()) {
                "must be a string (the value is a secret, so it is not shown)".to_owned()
            } else {
                e.kind.to_string()
            };
            ConfigError { key, reason }
        })?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log_level) {
            return Err(ConfigError {
                key: "log_level".into(),
                reason: format!("not a tracing filter: {e}"),
            });
        }
        self.runtime.local.api_port_range()?;
        self.runtime.docker.user_ids()?;
        let monitor = &self.monitor;
        for (key, value) in [
            ("monitor.health_interval_secs", monitor.health_interval_secs),
            (
                "monitor.trade_sync_interval_secs",
                monitor.trade_sync_interval_secs,
            ),
            ("monitor.request_timeout_secs", monitor.request_timeout_secs),
            ("monitor.concurrency", monitor.concurrency as u64),
            ("jobs.max_backtests", self.jobs.max_backtests as u64),
            ("jobs.max_hyperopts", self.jobs.max_hyperopts as u64),
            ("jobs.poll_interval_ms", self.jobs.poll_interval_ms),
            ("http.max_connections", self.http.max_connections as u64),
            ("http.header_timeout_secs", self.http.header_timeout_secs),
            (
                "monitor.unhealthy_after",
                u64::from(monitor.unhealthy_after),
            ),
        ] {
            if value == 0 {
                return Err(ConfigError {
                    key: key.into(),
                    reason: "must be at least 1".into(),
                });
            }
        }
        self.jobs.resources()?;
        if let Err(e) = FreqtradeVersion::parse(&self.jobs.freqtrade_version) {
            return Err(ConfigError {
                key: "jobs.freqtrade_version".into(),
                reason: e.to_string(),
            });
        }
        if monitor.stop_after < monitor.unhealthy_after {
            return Err(ConfigError {
                key: "monitor.stop_after".into(),
                reason: "must not be less than monitor.unhealthy_after".into(),
            });
        }
        if self.runtime.reconcile_interval_secs == 0 {
            return Err(ConfigError {
                key: "runtime.reconcile_interval_secs".into(),
                reason: "must be at least 1".into(),
            });
        }
        if self.runtime.restart_window_secs == 0 {
            return Err(ConfigError {
                key: "runtime.restart_window_secs".into(),
                reason: "must be at least 1".into(),
            });
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError {
                key: "data_dir".into(),
                reason: "must not be empty".into(),
            });
        }
        if let Some(url) = &self.database_url
            && !(url.expose().starts_with("postgres://")
                || url.expose().starts_with("postgresql://"))
        {
            return Err(ConfigError {
                key: "database_url".into(),
                reason: "must start with postgres:// or postgresql://".into(),
            });
        }
        // The reasons below never quote the value: these are credentials.
        if let Err(reason) = crate::credential_rules::check_username(&self.admin_username) {
            return Err(ConfigError {
                key: "admin_username".into(),
                reason,
            });
        }
        if let Some(password) = self.admin_password()
            && let Err(reason) =
                crate::credential_rules::check_password(password, &self.admin_username)
        {
            return Err(ConfigError {
                key: "admin_password".into(),
                reason,
            });
        }
        if let Some(secret) = self.jwt_secret() {
            crate::credential_rules::decode_secret(secret).map_err(|reason| ConfigError {
                key: "jwt_secret".into(),
                reason,
            })?;
        }
        Ok(())
    }
}

fn non_blank(value: Option<&Redacted>) -> Option<&str> {
    value.map(Redacted::expose).filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
// figment's `Jail` closures must return its (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    fn load_in(jail: &Jail, file: Option<&str>) -> Result<Settings, ConfigError> {
        let _ = jail;
        Settings::load(file.map(Path::new))
    }

    #[test]
    fn defaults_need_nothing() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            let settings = load_in(jail, None).expect("defaults are valid");
            assert_eq!(settings.listen.port(), 8080);
            assert_eq!(settings.runtime.default, RuntimeChoice::Auto);
            assert!(settings.database_url.is_none());
            Ok(())
        });
    }

    #[test]
    fn environment_overrides_the_file() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "anytrade.toml",
                "listen = \"0.0.0.0:9000\"\nlog_format = \"json\"\n[runtime.docker]\nnetwork = \"fleet\"\n",
            )?;
            jail.set_env("ANYTRADE_LISTEN", "127.0.0.1:9100");
            jail.set_env("ANYTRADE_RUNTIME", "local");
            jail.set_env("ANYTRADE_RUNTIME__KUBERNETES__NAMESPACE", "bots");
            jail.set_env("ANYTRADE_HTTP__MAX_CONNECTIONS", "250");
            jail.set_env("DATABASE_URL", "postgres://u:pw@db/anytrade");
            let s = load_in(jail, Some("anytrade.toml")).expect("valid");
            assert_eq!(s.http.max_connections, 250);
            assert_eq!(s.listen, "127.0.0.1:9100".parse().unwrap());
            assert_eq!(s.log_format, LogFormat::Json);
            assert_eq!(s.runtime.default, RuntimeChoice::Local);
            assert_eq!(s.runtime.docker.network, "fleet");
            assert_eq!(s.runtime.kubernetes.namespace, "bots");
            assert_eq!(
                s.database_url.as_ref().map(Redacted::expose),
                Some("postgres://u:pw@db/anytrade")
            );
            assert!(!format!("{s:?}").contains("pw@db"));
            Ok(())
        });
    }

    #[test]
    fn invalid_values_name_the_key() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("ANYTRADE_RUNTIME", "podman");
            let e = load_in(jail, None).unwrap_err();
            assert_eq!(e.key, "runtime.default");
            assert!(e.reason.contains("podman"), "{}", e.reason);
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("ANYTRADE_LISTEN", "not-an-address");
            assert_eq!(load_in(jail, None).unwrap_err().key, "listen");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("ANYTRADE_LOG_LEVEL", "info,[[[");
            assert_eq!(load_in(jail, None).unwrap_err().key, "log_level");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("DATABASE_URL", "mysql://x");
            assert_eq!(load_in(jail, None).unwrap_err().key, "database_url");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("ANYTRADE_JOBS__MEMORY", "lots");
            assert_eq!(load_in(jail, None).unwrap_err().key, "jobs.memory");
            jail.set_env("ANYTRADE_JOBS__MEMORY", "2Gi");
            jail.set_env("ANYTRADE_JOBS__CPU", "-1");
            assert_eq!(load_in(jail, None).unwrap_err().key, "jobs.cpu");
            jail.set_env("ANYTRADE_JOBS__CPU", "1500m");
            let jobs = load_in(jail, None).expect("valid").jobs;
            let limits = jobs.resources().expect("limits");
            assert_eq!(limits.memory.map(|m| m.bytes()), Some(2 << 30));
            assert_eq!(limits.cpu.map(|c| c.millicores()), Some(1500));
            jail.set_env("ANYTRADE_JOBS__CPU", "2");
            let jobs = load_in(jail, None).expect("a bare number").jobs;
            let cpu = jobs.resources().expect("limits").cpu;
            assert_eq!(cpu.map(|c| c.millicores()), Some(2000));
            Ok(())
        });
    }

    #[test]
    fn auth_settings_default_to_an_admin_named_admin() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            let s = load_in(jail, None).expect("defaults are valid");
            assert_eq!(s.admin_username, "admin");
            assert!(s.admin_password().is_none());
            assert!(s.jwt_secret().is_none());
            Ok(())
        });
    }

    #[test]
    fn auth_settings_come_from_the_environment_and_never_print() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            let secret = "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cy1vbmx5IQ==";
            jail.set_env("ANYTRADE_ADMIN_USERNAME", "root.ops");
            // Looks like a number to figment; must stay the exact string.
            jail.set_env("ANYTRADE_ADMIN_PASSWORD", "0040927518630274591");
            jail.set_env("ANYTRADE_JWT_SECRET", secret);
            let s = load_in(jail, None).expect("valid");
            assert_eq!(s.admin_username, "root.ops");
            assert_eq!(s.admin_password(), Some("0040927518630274591"));
            assert_eq!(s.jwt_secret(), Some(secret));
            let printed = format!("{s:?}");
            assert!(!printed.contains("0040927518630274591"), "{printed}");
            assert!(!printed.contains(secret), "{printed}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.clear_env();
            // Only the plain DATABASE_URL names the database.
            jail.set_env("ANYTRADE_DATABASE_URL", "postgres://u:pw@db/x");
            assert!(load_in(jail, None).expect("valid").database_url.is_none());
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "anytrade.toml",
                "admin_username = \"boss\"\nadmin_password = \"a long passphrase\"\n",
            )?;
            jail.set_env("ANYTRADE_JWT_SECRET", "");
            let s = load_in(jail, Some("anytrade.toml")).expect("valid");
            assert_eq!(s.admin_username, "boss");
            assert_eq!(s.admin_password(), Some("a long passphrase"));
            assert!(s.jwt_secret().is_none(), "blank is unset");
            Ok(())
        });
    }

    #[test]
    fn a_secret_of_the_wrong_type_is_not_quoted() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("anytrade.toml", "admin_password = 987654321098765\n")?;
            let e = load_in(jail, Some("anytrade.toml")).unwrap_err();
            assert_eq!(e.key, "admin_password");
            assert!(!e.to_string().contains("987654321098765"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn invalid_auth_settings_name_the_key_not_the_value() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("ANYTRADE_ADMIN_USERNAME", "no spaces please");
            let e = load_in(jail, None).unwrap_err();
            assert_eq!(e.key, "admin_username");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("ANYTRADE_ADMIN_PASSWORD", "hunter2");
            let e = load_in(jail, None).unwrap_err();
            assert_eq!(e.key, "admin_password");
            assert!(e.reason.contains("at least 12"), "{e}");
            assert!(!e.to_string().contains("hunter2"));
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.clear_env();
            // 31 bytes: one short.
            jail.set_env(
                "ANYTRADE_JWT_SECRET",
                "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MA==",
            );
            let e = load_in(jail, None).unwrap_err();
            assert_eq!(e.key, "jwt_secret");
            assert!(e.reason.contains("at least 32"), "{e}");
            assert!(!e.to_string().contains("MDEyMzQ1"));
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("ANYTRADE_JWT_SECRET", "not base64 at all!");
            let e = load_in(jail, None).unwrap_err();
            assert_eq!(e.key, "jwt_secret");
            assert!(!e.to_string().contains("not base64 at all"));
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("anytrade.toml", "[runtime.docker]\nsocekt = \"x\"\n")?;
            let e = load_in(jail, Some("anytrade.toml")).unwrap_err();
            assert!(e.reason.contains("socekt"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            assert!(load_in(jail, Some("nope.toml")).is_err());
            Ok(())
        });
    }

    #[test]
    fn kubernetes_settings_are_checked_and_errors_name_the_key() {
        let good = KubernetesSettings::default();
        assert!(good.check().is_ok());
        assert_eq!(good.user_ids().expect("ids"), (1000, 1000));
        type Spoil = fn(&mut KubernetesSettings);
        let cases: [(Spoil, &str); 6] = [
            (
                |k| k.namespace = "Bots!".into(),
                "runtime.kubernetes.namespace",
            ),
            (|k| k.owner = "-x".into(), "runtime.kubernetes.owner"),
            (
                |k| k.image_pull_policy = "Sometimes".into(),
                "runtime.kubernetes.image_pull_policy",
            ),
            (
                |k| k.volume_size = "big".into(),
                "runtime.kubernetes.volume_size",
            ),
            (
                |k| k.results_url = Some("ftp://x".into()),
                "runtime.kubernetes.results_url",
            ),
            (
                |k| k.max_results_bytes = 0,
                "runtime.kubernetes.max_results_bytes",
            ),
        ];
        for (spoil, key) in cases {
            let mut settings = KubernetesSettings::default();
            spoil(&mut settings);
            let error = settings.check().expect_err(key);
            assert_eq!(error.key, key);
        }
        let root = KubernetesSettings {
            user: "0:0".into(),
            ..Default::default()
        };
        assert_eq!(
            root.user_ids().expect_err("root").key,
            "runtime.kubernetes.user"
        );
    }
}
