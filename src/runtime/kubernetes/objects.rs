//! What the kubernetes runtime asks the API server for, as plain values: the objects of
//! a bot (a Deployment of one freqtrade pod, its ConfigMap, Secret, Service and volume)
//! and of a job (a Job, its ConfigMap and the Secret holding its upload token). No I/O
//! here, so every rule is unit-tested against the expected manifests.
//!
//! A bot's Deployment keeps one pod and replaces it with `Recreate`, so two copies of a
//! bot never trade at once. Its secrets (the REST API's credentials, a live bot's
//! exchange keys) are only in the Secret, mounted as freqtrade's second config file;
//! the ConfigMap holds the config and the strategy. Every pod runs as a user other than
//! root with all capabilities dropped, no privilege escalation, a read-only root
//! filesystem, the runtime's default seccomp profile and no service-account token.
//!
//! The ConfigMap, Secret and Service of a bot are owned by its Deployment, so deleting
//! the Deployment removes them; the volume is not, so the bot's trade database survives
//! a Deployment deleted behind AnyTrade's back. A job's ConfigMap and Secret are owned
//! by its Job.

use std::collections::BTreeMap;

use anytrade_aggregates::values::{BotId, ResourceLimits};
use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::batch::v1::{Job, JobSpec as KubeJobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvVar, HTTPGetAction, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SeccompProfile, Secret, SecretVolumeSource, SecurityContext, Service,
    ServicePort, ServiceSpec, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::runtime::container::{
    API_PORT, SECRETS_DIR, SECRETS_FILE, WORKDIR, bot_labels, bot_limits, job_labels, job_script,
    listening_in_container,
};
pub use crate::runtime::container::{bot_runtime_id, job_runtime_id};
use crate::runtime::{BotSpec, JobSpec, labels};

/// Where a bot's or job's ConfigMap is mounted: `config.json` and the strategy.
pub const CONFIG_DIR: &str = "/anytrade/config";
/// The Secret key holding a job's upload token, mounted in [`SECRETS_DIR`].
pub const TOKEN_KEY: &str = "token";
/// The environment variable telling a job where to send its results.
pub const RESULTS_URL_VAR: &str = "ANYTRADE_RESULTS_URL";
/// The annotation carrying a digest of a bot's config, strategy and secrets: a change
/// replaces the pod, which reads its files only at start.
pub const CONFIG_DIGEST: &str = "anytrade.config-digest";
/// The container's name in every pod.
pub const CONTAINER: &str = "freqtrade";
/// The script a job's last step runs to send its results home.
const UPLOAD_SCRIPT: &str = include_str!("upload.py");
/// Seconds a pod gets to stop on SIGTERM before it is killed.
const STOP_GRACE_SECS: i64 = 20;

/// What every object of this control plane shares.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub namespace: String,
    /// The [`crate::runtime::container::OWNER`] label: which control plane made it.
    pub owner: String,
    /// The image, with `{version}` standing for the freqtrade version.
    pub image: String,
    pub pull_policy: String,
    /// `(uid, gid)` pods run as, never root.
    pub user: (u32, u32),
    pub storage_class: String,
    /// A bot's `user_data` volume size, as a quantity like `1Gi`.
    pub volume_size: String,
}

impl Cluster {
    fn image(&self, version: &str) -> String {
        self.image.replace("{version}", version)
    }

    fn meta(&self, name: String, labels: BTreeMap<String, String>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name),
            namespace: Some(self.namespace.clone()),
            labels: Some(labels),
            ..Default::default()
        }
    }

    fn pod_security(&self) -> PodSecurityContext {
        let (uid, gid) = self.user;
        PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(i64::from(uid)),
            run_as_group: Some(i64::from(gid)),
            // Volumes are made writable (and the secrets readable) for this group.
            fs_group: Some(i64::from(gid)),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// The seed plan's names for a bot's Service, ConfigMap, Secret and volume.
pub fn bot_service_name(bot_id: BotId) -> String {
    format!("bot-{bot_id}")
}

pub fn bot_config_name(bot_id: BotId) -> String {
    format!("bot-{bot_id}-config")
}

pub fn bot_secret_name(bot_id: BotId) -> String {
    format!("bot-{bot_id}-creds")
}

pub fn bot_volume_name(bot_id: BotId) -> String {
    format!("bot-{bot_id}-data")
}

pub fn job_secret_name(job_id: Uuid) -> String {
    format!("anytrade-job-{job_id}-upload")
}

/// The seed plan's labels (`app`, `bot-id`) beside AnyTrade's own.
fn all_bot_labels(bot_id: BotId, owner: &str) -> BTreeMap<String, String> {
    let mut all = bot_labels(bot_id, owner);
    all.insert("app".into(), "anytrade-bot".into());
    all.insert("bot-id".into(), bot_id.to_string());
    all
}

/// The label selector of everything this control plane made.
pub fn owned_selector(owner: &str) -> String {
    format!(
        "{}=true,{}={owner}",
        labels::MANAGED,
        crate::runtime::container::OWNER
    )
}

/// The bot's `user_data`: freqtrade's data, logs and trade database.
pub fn bot_volume(bot_id: BotId, cluster: &Cluster) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: cluster.meta(
            bot_volume_name(bot_id),
            all_bot_labels(bot_id, &cluster.owner),
        ),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name: Some(cluster.storage_class.clone()),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".into(),
                    Quantity(cluster.volume_size.clone()),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The bot's config (with the API listening on all of the pod's addresses) and
/// strategy, by file name.
pub fn bot_config(spec: &BotSpec, cluster: &Cluster) -> ConfigMap {
    let config = listening_in_container(&spec.config);
    ConfigMap {
        metadata: cluster.meta(
            bot_config_name(spec.bot_id),
            all_bot_labels(spec.bot_id, &cluster.owner),
        ),
        data: Some(BTreeMap::from([
            ("config.json".into(), pretty(&config)),
            (
                strategy_key(&spec.strategy.class_name),
                spec.strategy.code.clone(),
            ),
        ])),
        ..Default::default()
    }
}

/// The bot's secrets file, the only place its secrets are.
pub fn bot_secret(bot_id: BotId, cluster: &Cluster, secrets_file: &[u8]) -> Secret {
    Secret {
        metadata: cluster.meta(
            bot_secret_name(bot_id),
            all_bot_labels(bot_id, &cluster.owner),
        ),
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([(
            SECRETS_FILE.into(),
            ByteString(secrets_file.to_vec()),
        )])),
        ..Default::default()
    }
}

/// The bot's REST API inside the cluster, on [`API_PORT`].
pub fn bot_service(bot_id: BotId, cluster: &Cluster) -> Service {
    Service {
        metadata: cluster.meta(
            bot_service_name(bot_id),
            all_bot_labels(bot_id, &cluster.owner),
        ),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector(bot_id)),
            ports: Some(vec![ServicePort {
                name: Some("api".into()),
                port: i32::from(API_PORT),
                target_port: Some(IntOrString::String("api".into())),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn selector(bot_id: BotId) -> BTreeMap<String, String> {
    BTreeMap::from([(labels::BOT_ID.into(), bot_id.to_string())])
}

/// A digest of what the bot's pod reads at start, for [`CONFIG_DIGEST`].
pub fn config_digest(config: &ConfigMap, secret: &Secret) -> String {
    let mut digest = Sha256::new();
    for (key, value) in config.data.iter().flatten() {
        digest.update(key.as_bytes());
        digest.update([0]);
        digest.update(value.as_bytes());
        digest.update([0]);
    }
    for (key, value) in secret.data.iter().flatten() {
        digest.update(key.as_bytes());
        digest.update([0]);
        digest.update(&value.0);
        digest.update([0]);
    }
    let bytes = digest.finalize();
    bytes[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// The bot's Deployment: one `freqtrade trade` pod, replaced with `Recreate`, ready
/// when its REST API answers `ping`.
pub fn bot_deployment(spec: &BotSpec, cluster: &Cluster, digest: &str) -> Deployment {
    let bot_id = spec.bot_id;
    let labels = all_bot_labels(bot_id, &cluster.owner);
    let args = [
        "trade".to_owned(),
        "--config".into(),
        format!("{CONFIG_DIR}/config.json"),
        "--config".into(),
        format!("{SECRETS_DIR}/{SECRETS_FILE}"),
        "--userdir".into(),
        format!("{WORKDIR}/user_data"),
        "--strategy-path".into(),
        CONFIG_DIR.into(),
        "--db-url".into(),
        format!("sqlite:///{WORKDIR}/user_data/tradesv3.sqlite"),
    ];
    let container = Container {
        command: Some(vec!["freqtrade".into()]),
        args: Some(args.into()),
        ports: Some(vec![ContainerPort {
            name: Some("api".into()),
            container_port: i32::from(API_PORT),
            protocol: Some("TCP".into()),
            ..Default::default()
        }]),
        readiness_probe: Some(Probe {
            http_get: Some(HTTPGetAction {
                path: Some("/api/v1/ping".into()),
                port: IntOrString::String("api".into()),
                ..Default::default()
            }),
            period_seconds: Some(5),
            ..Default::default()
        }),
        resources: Some(resources(&bot_limits(&spec.resources))),
        ..freqtrade_container(cluster, &spec.freqtrade_version)
    };
    let volumes = pod_volumes(
        bot_config_name(bot_id),
        bot_secret_name(bot_id),
        Volume {
            name: "data".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: bot_volume_name(bot_id),
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    Deployment {
        metadata: cluster.meta(bot_runtime_id(bot_id), labels.clone()),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            revision_history_limit: Some(2),
            selector: LabelSelector {
                match_labels: Some(selector(bot_id)),
                ..Default::default()
            },
            strategy: Some(DeploymentStrategy {
                type_: Some("Recreate".into()),
                ..Default::default()
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(BTreeMap::from([(CONFIG_DIGEST.into(), digest.into())])),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    volumes: Some(volumes),
                    restart_policy: Some("Always".into()),
                    ..cluster_pod(cluster)
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Makes `meta` owned by `owner` (as the API server gave it back: its uid is needed),
/// so it is deleted with it; false, and `meta` unchanged, when `owner` has no uid yet.
pub fn owned_by(meta: &mut ObjectMeta, api_version: &str, kind: &str, owner: &ObjectMeta) -> bool {
    let (Some(name), Some(uid)) = (owner.name.clone(), owner.uid.clone()) else {
        return false;
    };
    meta.owner_references = Some(vec![OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name,
        uid,
        controller: Some(true),
        block_owner_deletion: None,
    }]);
    true
}

/// A job's config, strategy, the script of its steps and the script that sends its
/// results home.
pub fn job_config(spec: &JobSpec, cluster: &Cluster) -> ConfigMap {
    let class = &spec.strategy.class_name;
    let strategy = strategy_key(class);
    // The script starts with `set -e`, which the copy runs under too.
    let script = job_script(&spec.steps, &format!("{CONFIG_DIR}/config.json"));
    let (first, rest) = script.split_once('\n').unwrap_or((script.as_str(), ""));
    let steps = format!(
        "{first}\nmkdir -p {WORKDIR}/user_data/strategies\ncp {} {WORKDIR}/user_data/strategies/\n{rest}",
        shell_words::quote(&format!("{CONFIG_DIR}/{strategy}")),
    );
    ConfigMap {
        metadata: cluster.meta(
            job_runtime_id(spec.job_id),
            job_labels(spec.job_id, spec.kind, &cluster.owner),
        ),
        data: Some(BTreeMap::from([
            ("config.json".into(), pretty(&spec.config)),
            (strategy, spec.strategy.code.clone()),
            ("steps.sh".into(), steps),
            ("upload.py".into(), UPLOAD_SCRIPT.into()),
        ])),
        ..Default::default()
    }
}

/// The job's one-time upload token.
pub fn job_secret(spec: &JobSpec, cluster: &Cluster, token: &str) -> Secret {
    Secret {
        metadata: cluster.meta(
            job_secret_name(spec.job_id),
            job_labels(spec.job_id, spec.kind, &cluster.owner),
        ),
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([(
            TOKEN_KEY.into(),
            ByteString(token.as_bytes().to_vec()),
        )])),
        ..Default::default()
    }
}

/// The shell a job's pod runs: its steps, their output kept (on the pod's disk) for the
/// upload, then the upload, which carries the steps' exit status; the pod ends with that
/// status (or 125 when the results could not be sent). The shell is process 1, which
/// ignores a signal it has no handler for: its trap passes a stop on to the steps.
const JOB_SHELL: &str = "trap 'trap - TERM INT; kill -TERM 0 2>/dev/null; exit 143' TERM INT\n\
     { sh /anytrade/config/steps.sh; echo $? >/anytrade/user_data/anytrade-status; } 2>&1 \
     | tee /anytrade/user_data/anytrade-job.log &\n\
     wait $!\n\
     status=$(cat /anytrade/user_data/anytrade-status)\n\
     python3 /anytrade/config/upload.py \"$status\" /anytrade/user_data/anytrade-job.log || exit 125\n\
     exit \"$status\"\n";

/// A job: one pod that is never restarted nor retried (a failure is reported, not
/// repeated), sending its results to `results_url` when its steps end.
pub fn job(spec: &JobSpec, cluster: &Cluster, results_url: &str) -> Job {
    let labels = job_labels(spec.job_id, spec.kind, &cluster.owner);
    let container = Container {
        command: Some(vec!["/bin/sh".into(), "-c".into()]),
        args: Some(vec![JOB_SHELL.into()]),
        env: Some(vec![env("HOME", "/tmp"), env(RESULTS_URL_VAR, results_url)]),
        resources: (spec.resources != ResourceLimits::default())
            .then(|| resources(&spec.resources)),
        ..freqtrade_container(cluster, &spec.freqtrade_version)
    };
    Job {
        metadata: cluster.meta(job_runtime_id(spec.job_id), labels.clone()),
        spec: Some(KubeJobSpec {
            backoff_limit: Some(0),
            // Removed by AnyTrade once its results are in; this is the backstop.
            ttl_seconds_after_finished: Some(86_400),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    volumes: Some(pod_volumes(
                        job_runtime_id(spec.job_id),
                        job_secret_name(spec.job_id),
                        Volume {
                            name: "data".into(),
                            empty_dir: Some(EmptyDirVolumeSource::default()),
                            ..Default::default()
                        },
                    )),
                    restart_policy: Some("Never".into()),
                    ..cluster_pod(cluster)
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// What every pod of this control plane gets.
fn cluster_pod(cluster: &Cluster) -> PodSpec {
    PodSpec {
        security_context: Some(cluster.pod_security()),
        // freqtrade never talks to the API server.
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        termination_grace_period_seconds: Some(STOP_GRACE_SECS),
        ..Default::default()
    }
}

/// The freqtrade container of every pod of this control plane: the image for
/// `version`, its files mounted (config and strategy, secrets, `user_data`, `/tmp`,
/// also its home), and confined.
fn freqtrade_container(cluster: &Cluster, version: &str) -> Container {
    Container {
        name: CONTAINER.into(),
        image: Some(cluster.image(version)),
        image_pull_policy: Some(cluster.pull_policy.clone()),
        working_dir: Some(format!("{WORKDIR}/user_data")),
        env: Some(vec![env("HOME", "/tmp")]),
        volume_mounts: Some(vec![
            mount("config", CONFIG_DIR, true),
            mount("secrets", SECRETS_DIR, true),
            mount("data", &format!("{WORKDIR}/user_data"), false),
            mount("tmp", "/tmp", false),
        ]),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        // Where the pod's log is not served, its end still says why.
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    }
}

fn resources(limits: &ResourceLimits) -> ResourceRequirements {
    let mut quantities = BTreeMap::new();
    if let Some(cpu) = limits.cpu {
        quantities.insert("cpu".to_owned(), Quantity(format!("{}m", cpu.millicores())));
    }
    if let Some(memory) = limits.memory {
        quantities.insert("memory".to_owned(), Quantity(memory.bytes().to_string()));
    }
    // Requests equal to limits: the scheduler places what the pod may use.
    ResourceRequirements {
        limits: Some(quantities.clone()),
        requests: Some(quantities),
        ..Default::default()
    }
}

fn env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..Default::default()
    }
}

fn mount(volume: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: volume.into(),
        mount_path: path.into(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

/// The volumes [`freqtrade_container`] mounts: the ConfigMap, the Secret, `data` (the
/// `user_data`) and `/tmp`.
fn pod_volumes(config_map: String, secret: String, data: Volume) -> Vec<Volume> {
    vec![
        config_volume(config_map),
        secret_volume(secret),
        data,
        tmp_volume(),
    ]
}

fn config_volume(config_map: String) -> Volume {
    Volume {
        name: "config".into(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn secret_volume(secret: String) -> Volume {
    Volume {
        name: "secrets".into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret),
            // Readable by the pod's group only.
            default_mode: Some(0o440),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `/tmp`, also freqtrade's home: memory-backed and bounded.
fn tmp_volume() -> Volume {
    Volume {
        name: "tmp".into(),
        empty_dir: Some(EmptyDirVolumeSource {
            medium: Some("Memory".into()),
            size_limit: Some(Quantity("256Mi".into())),
        }),
        ..Default::default()
    }
}

fn strategy_key(class_name: &str) -> String {
    format!("{class_name}.py")
}

fn pretty(value: &serde_json::Value) -> String {
    // Serializing a JSON value cannot fail.
    serde_json::to_string_pretty(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use anytrade_aggregates::values::{CpuLimit, MemoryLimit};
    use serde_json::{Value, json};
    use zeroize::Zeroizing;

    use super::*;
    use crate::runtime::{JobKind, StrategyFile};

    fn cluster() -> Cluster {
        Cluster {
            namespace: "bots".into(),
            owner: "anytrade".into(),
            image: "anytrade/freqtrade:{version}".into(),
            pull_policy: "IfNotPresent".into(),
            user: (1000, 1000),
            storage_class: "standard".into(),
            volume_size: "1Gi".into(),
        }
    }

    fn bot() -> BotSpec {
        BotSpec {
            bot_id: BotId::from(Uuid::from_u128(7)),
            freqtrade_version: "2026.9".into(),
            config: json!({ "stake_currency": "USDT", "api_server": { "enabled": true } }),
            strategy: StrategyFile {
                class_name: "Sample".into(),
                code: "class Sample: pass\n".into(),
            },
            environment: vec![(
                "FREQTRADE__EXCHANGE__SECRET",
                Zeroizing::new("s3cret".into()),
            )],
            resources: ResourceLimits {
                cpu: Some(CpuLimit::parse("500m").expect("cpu")),
                memory: Some(MemoryLimit::parse("512Mi").expect("memory")),
            },
        }
    }

    /// `object` as the API server would get it, against the manifest in `testdata/`.
    fn assert_manifest(object: &impl serde::Serialize, file: &str) {
        let path = format!(
            "{}/src/runtime/kubernetes/testdata/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).expect("manifest");
        let expected: Value = serde_saphyr::from_str(&text).expect("YAML");
        let actual = serde_json::to_value(object).expect("JSON");
        assert_eq!(
            actual,
            expected,
            "{file} differs; built:\n{}",
            serde_json::to_string_pretty(&actual).expect("JSON")
        );
    }

    #[test]
    fn a_bot_is_a_deployment_of_one_confined_pod_replaced_with_recreate() {
        assert_manifest(
            &bot_deployment(&bot(), &cluster(), "0123abcd"),
            "bot-deployment.yaml",
        );
    }

    #[test]
    fn a_bots_service_and_volume_carry_its_labels() {
        let bot_id = bot().bot_id;
        assert_manifest(&bot_service(bot_id, &cluster()), "bot-service.yaml");
        assert_manifest(&bot_volume(bot_id, &cluster()), "bot-volume.yaml");
    }

    #[test]
    fn secrets_are_in_the_secret_and_never_in_the_config_map() {
        let spec = bot();
        let file = crate::runtime::container::secrets_file(&spec.environment);
        let secret = bot_secret(spec.bot_id, &cluster(), &file);
        let config = bot_config(&spec, &cluster());
        let config_text = serde_json::to_string(&config).expect("JSON");
        assert!(!config_text.contains("s3cret"), "{config_text}");
        let data = secret.data.as_ref().expect("data");
        let stored: Value = serde_json::from_slice(&data[SECRETS_FILE].0).expect("JSON");
        assert_eq!(stored, json!({ "exchange": { "secret": "s3cret" } }));
        let files = config.data.as_ref().expect("data");
        assert_eq!(files["Sample.py"], "class Sample: pass\n");
        let written: Value = serde_json::from_str(&files["config.json"]).expect("JSON");
        assert_eq!(
            written["api_server"],
            json!({ "enabled": true, "listen_ip_address": "0.0.0.0", "listen_port": 8080 })
        );
        assert_eq!(written["stake_currency"], "USDT");
    }

    #[test]
    fn the_digest_changes_with_the_config_and_the_secrets() {
        let spec = bot();
        let file = crate::runtime::container::secrets_file(&spec.environment);
        let secret = bot_secret(spec.bot_id, &cluster(), &file);
        let config = bot_config(&spec, &cluster());
        let digest = config_digest(&config, &secret);
        assert_eq!(digest, config_digest(&config, &secret));
        let other_secret = bot_secret(spec.bot_id, &cluster(), b"{}");
        assert_ne!(digest, config_digest(&config, &other_secret));
        let mut changed = spec;
        changed.config = json!({ "stake_currency": "BTC" });
        assert_ne!(
            digest,
            config_digest(&bot_config(&changed, &cluster()), &secret)
        );
    }

    #[test]
    fn a_job_runs_once_and_sends_its_results_home() {
        let spec = JobSpec {
            job_id: Uuid::from_u128(9),
            kind: JobKind::Backtest,
            freqtrade_version: "2026.9".into(),
            config: json!({}),
            strategy: StrategyFile {
                class_name: "Sample".into(),
                code: "class Sample: pass\n".into(),
            },
            steps: vec![vec![
                "backtesting".into(),
                "--strategy".into(),
                "Sample".into(),
            ]],
            resources: ResourceLimits::default(),
        };
        let url = "http://anytrade.example:8080/jobs/00000000-0000-0000-0000-000000000009/results";
        assert_manifest(&job(&spec, &cluster(), url), "job.yaml");
        let config = job_config(&spec, &cluster());
        let files = config.data.expect("data");
        assert_eq!(
            files["steps.sh"],
            "set -e\nmkdir -p /anytrade/user_data/strategies\n\
             cp /anytrade/config/Sample.py /anytrade/user_data/strategies/\n\
             echo 'anytrade-step 1 backtesting'\n\
             freqtrade backtesting --config /anytrade/config/config.json --userdir /anytrade/user_data --strategy Sample\n"
        );
        // The scripts in the pod name the paths and names the runtime uses.
        let upload = &files["upload.py"];
        for expected in [
            format!("\"{RESULTS_URL_VAR}\""),
            format!("\"{SECRETS_DIR}/{TOKEN_KEY}\""),
            format!("\"{WORKDIR}/user_data\""),
            format!("\"{}\"", crate::job_uploads::LOG_FILE),
        ] {
            assert!(upload.contains(&expected), "{expected} in upload.py");
        }
        assert!(
            upload
                .to_lowercase()
                .contains(crate::job_uploads::EXIT_STATUS_HEADER)
        );
        assert!(JOB_SHELL.contains(&format!("{CONFIG_DIR}/steps.sh")));
        assert!(JOB_SHELL.contains(&format!("{CONFIG_DIR}/upload.py")));
        let secret = job_secret(&spec, &cluster(), "t0ken");
        assert_eq!(secret.data.expect("data")[TOKEN_KEY].0, b"t0ken");
    }

    #[test]
    fn dependents_are_owned_by_what_the_api_server_returned() {
        let mut meta = ObjectMeta::default();
        let owner = ObjectMeta {
            name: Some("anytrade-bot-x".into()),
            uid: Some("1234".into()),
            ..Default::default()
        };
        assert!(owned_by(&mut meta, "apps/v1", "Deployment", &owner));
        let reference = &meta.owner_references.expect("owner")[0];
        assert_eq!(reference.uid, "1234");
        assert_eq!(reference.kind, "Deployment");
        assert_eq!(reference.controller, Some(true));
        // An owner not stored yet (no uid) owns nothing.
        let mut meta = ObjectMeta::default();
        assert!(!owned_by(
            &mut meta,
            "apps/v1",
            "Deployment",
            &ObjectMeta::default()
        ));
        assert!(meta.owner_references.is_none());
    }
}
