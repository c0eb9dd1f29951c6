//! What the docker runtime asks the engine for, as plain values: container names, the
//! create bodies of bot and job containers, the secrets file a bot reads, and the shell
//! script a job container runs. No I/O here, so every rule (labels, mounts, secrets
//! only in a mounted file, the API published on loopback only, the confinement every
//! container gets) is unit-tested.
//!
//! Every container runs as a user other than root, with all capabilities dropped,
//! `no-new-privileges`, a read-only root filesystem (freqtrade writes its mounted
//! directory, and `/tmp`, a tmpfs that is also its home), a limit on processes, and
//! the engine's init as process 1.
//! A bot without limits of its own gets [`DEFAULT_BOT_CPU`] and [`DEFAULT_BOT_MEMORY`].

use std::collections::{BTreeMap, HashMap};

use anytrade_aggregates::values::{BotId, CpuLimit, MemoryLimit, ResourceLimits};
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, PortBinding};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::runtime::{BotSpec, JobKind, JobSpec, labels};

/// Where a bot's or job's directory is mounted in its container. Not `/freqtrade`: the
/// official image keeps freqtrade's own installation there.
pub const WORKDIR: &str = "/anytrade";
/// The port freqtrade's REST API listens on inside a bot container.
pub const API_PORT: u16 = 8080;
/// The name under which a container reaches the machine running the engine (a
/// sandbox exchange or anything else served there).
pub const HOST_ALIAS: &str = "host.docker.internal";

/// Where a bot's secrets directory is mounted (read-only) in its container.
pub const SECRETS_DIR: &str = "/run/anytrade";
/// The secrets file in it: a freqtrade config holding only the secret settings,
/// merged over `config.json` by a second `--config`.
pub const SECRETS_FILE: &str = "secrets.json";
/// Processes and threads a container may run: freqtrade needs a few dozen, a
/// hyperopt one worker per core; a fork bomb in a strategy stops here.
pub const PIDS_LIMIT: i64 = 512;
/// Bots' limits when they set none (the seed plan's defaults).
pub const DEFAULT_BOT_CPU: &str = "0.5";
pub const DEFAULT_BOT_MEMORY: &str = "512Mi";

pub fn bot_container(bot_id: BotId) -> String {
    format!("anytrade-bot-{bot_id}")
}

pub fn job_container(job_id: Uuid) -> String {
    format!("anytrade-job-{job_id}")
}

/// The engine's view of one container the runtime creates.
pub struct Shared<'a> {
    /// The image, already resolved for the freqtrade version.
    pub image: &'a str,
    pub network: &'a str,
    /// `uid:gid` the container runs as: the owner of the bind-mounted directories.
    pub user: &'a str,
    /// The host directory mounted at [`WORKDIR`].
    pub dir: &'a str,
    /// For a bot, the host directory (on a tmpfs) holding its [`SECRETS_FILE`].
    pub secrets: Option<&'a str>,
    /// The [`OWNER`] label: which control plane's container this is.
    pub owner: &'a str,
}

/// Label naming the data directory of the control plane that made a container: one
/// engine may serve several control planes, and each lists and reconciles only its own.
pub const OWNER: &str = "anytrade.owner";

/// A bot container: `freqtrade trade` with the bot's directory mounted, its secrets in
/// a file of their own (never in the environment, which `docker inspect` shows), and
/// its API published on the host's loopback only, on a port the engine picks.
pub fn bot_body(spec: &BotSpec, shared: &Shared<'_>) -> ContainerCreateBody {
    let port = format!("{API_PORT}/tcp");
    let resources = ResourceLimits {
        cpu: spec
            .resources
            .cpu
            .or_else(|| CpuLimit::parse(DEFAULT_BOT_CPU).ok()),
        memory: spec
            .resources
            .memory
            .or_else(|| MemoryLimit::parse(DEFAULT_BOT_MEMORY).ok()),
    };
    let mut host = host_config(shared, &resources);
    let mut cmd = vec![
        "trade".into(),
        "--config".into(),
        format!("{WORKDIR}/config.json"),
    ];
    if let Some(secrets) = shared.secrets {
        host.binds
            .get_or_insert_default()
            .push(format!("{secrets}:{SECRETS_DIR}:ro"));
        cmd.extend(["--config".into(), format!("{SECRETS_DIR}/{SECRETS_FILE}")]);
    }
    cmd.extend([
        "--userdir".into(),
        format!("{WORKDIR}/user_data"),
        "--db-url".into(),
        format!("sqlite:///{WORKDIR}/tradesv3.sqlite"),
    ]);
    host.port_bindings = Some(HashMap::from([(
        port.clone(),
        Some(vec![PortBinding {
            host_ip: Some("127.0.0.1".into()),
            host_port: Some(String::new()),
        }]),
    )]));
    ContainerCreateBody {
        image: Some(shared.image.into()),
        user: Some(shared.user.into()),
        working_dir: Some(WORKDIR.into()),
        entrypoint: Some(vec!["freqtrade".into()]),
        cmd: Some(cmd),
        env: Some(vec!["HOME=/tmp".into()]),
        exposed_ports: Some(vec![port]),
        labels: Some(bot_labels(spec.bot_id, shared.owner)),
        host_config: Some(host),
        ..Default::default()
    }
}

/// A job container: a shell runs the job's steps in order and stops at the first that
/// fails; each step is announced on its own line (see [`STEP_MARKER`]).
pub fn job_body(spec: &JobSpec, shared: &Shared<'_>) -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some(shared.image.into()),
        user: Some(shared.user.into()),
        working_dir: Some(WORKDIR.into()),
        entrypoint: Some(vec!["/bin/sh".into(), "-c".into()]),
        cmd: Some(vec![job_script(&spec.steps)]),
        env: Some(vec!["HOME=/tmp".into()]),
        labels: Some(job_labels(spec.job_id, spec.kind, shared.owner)),
        host_config: Some(host_config(shared, &spec.resources)),
        ..Default::default()
    }
}

/// Printed before each step of a job: `anytrade-step <n> <subcommand>`.
pub const STEP_MARKER: &str = "anytrade-step ";

/// The script a job container runs: every argument quoted, the config and `user_data`
/// of the mounted job directory given to each step.
pub fn job_script(steps: &[Vec<String>]) -> String {
    let mut script = String::from("set -e\n");
    for (index, step) in steps.iter().enumerate() {
        let Some((subcommand, arguments)) = step.split_first() else {
            continue;
        };
        let mut command = vec![
            "freqtrade".to_owned(),
            subcommand.clone(),
            "--config".into(),
            format!("{WORKDIR}/config.json"),
            "--userdir".into(),
            format!("{WORKDIR}/user_data"),
        ];
        command.extend(arguments.iter().cloned());
        script.push_str(&format!(
            "echo {}\n{}\n",
            shell_words::quote(&format!("{STEP_MARKER}{} {subcommand}", index + 1)),
            shell_words::join(&command)
        ));
    }
    script
}

/// The secrets file of a bot: its secret settings (`FREQTRADE__A__B` names, as
/// freqtrade reads them from the environment) as the nested config `{"a": {"b": …}}`.
/// Zeroized when dropped, like the values it is made of.
pub fn secrets_file(environment: &[(&'static str, Zeroizing<String>)]) -> Zeroizing<Vec<u8>> {
    let mut sections: BTreeMap<String, BTreeMap<String, &str>> = BTreeMap::new();
    for (name, value) in environment {
        let path = name.strip_prefix("FREQTRADE__").unwrap_or(name);
        if let Some((section, key)) = path.split_once("__") {
            sections
                .entry(section.to_lowercase())
                .or_default()
                .insert(key.to_lowercase(), value.as_str());
        }
    }
    // Serializing maps of strings cannot fail.
    Zeroizing::new(serde_json::to_vec(&sections).unwrap_or_default())
}

fn host_config(shared: &Shared<'_>, resources: &ResourceLimits) -> HostConfig {
    HostConfig {
        binds: Some(vec![format!("{}:{WORKDIR}", shared.dir)]),
        cap_drop: Some(vec!["ALL".into()]),
        security_opt: Some(vec!["no-new-privileges:true".into()]),
        readonly_rootfs: Some(true),
        tmpfs: Some(HashMap::from([(
            "/tmp".into(),
            "rw,nosuid,nodev,size=256m".into(),
        )])),
        pids_limit: Some(PIDS_LIMIT),
        // The engine's init is process 1 and passes signals on: freqtrade (or a job's
        // shell) as process 1 would ignore a SIGTERM it has no handler for yet, and a
        // stop right after a start would wait out the whole grace period.
        init: Some(true),
        network_mode: Some(shared.network.into()),
        extra_hosts: Some(vec![format!("{HOST_ALIAS}:host-gateway")]),
        // The engine keeps a container's output; a bot runs for months.
        log_config: Some(HostConfigLogConfig {
            typ: Some("json-file".into()),
            config: Some(HashMap::from([
                ("max-size".into(), "20m".into()),
                ("max-file".into(), "3".into()),
            ])),
        }),
        nano_cpus: resources.cpu.map(|cpu| cpu.nano_cpus()),
        memory: resources
            .memory
            .map(|memory| i64::try_from(memory.bytes()).unwrap_or(i64::MAX)),
        ..Default::default()
    }
}

/// What a bot's container is labelled with.
pub fn bot_labels(bot_id: BotId, owner: &str) -> HashMap<String, String> {
    HashMap::from([
        (labels::MANAGED.into(), "true".into()),
        (OWNER.into(), owner.into()),
        (labels::KIND.into(), "bot".into()),
        (labels::BOT_ID.into(), bot_id.to_string()),
    ])
}

/// What a job's container is labelled with.
pub fn job_labels(job_id: Uuid, kind: JobKind, owner: &str) -> HashMap<String, String> {
    HashMap::from([
        (labels::MANAGED.into(), "true".into()),
        (OWNER.into(), owner.into()),
        (labels::KIND.into(), kind.as_str().into()),
        (labels::JOB_ID.into(), job_id.to_string()),
    ])
}

/// The step a job's output was in at its end: `(number, subcommand)` of the last
/// [`STEP_MARKER`] line.
pub fn last_step(output: &[String]) -> Option<(usize, String)> {
    output.iter().rev().find_map(|line| {
        let rest = line.strip_prefix(STEP_MARKER)?;
        let (number, subcommand) = rest.split_once(' ')?;
        Some((number.parse().ok()?, subcommand.trim().to_owned()))
    })
}

#[cfg(test)]
mod tests {
    use anytrade_aggregates::values::{BotId, CpuLimit, MemoryLimit};
    use serde_json::json;
    use zeroize::Zeroizing;

    use super::*;
    use crate::runtime::StrategyFile;

    fn shared() -> Shared<'static> {
        Shared {
            image: "anytrade/freqtrade:2026.9",
            network: "anytrade-network",
            user: "1000:1000",
            dir: "/data/bots/b",
            secrets: Some("/dev/shm/anytrade/b"),
            owner: "/data",
        }
    }

    #[test]
    fn a_bot_container_trades_with_its_files_mounted_and_its_api_on_loopback() {
        let bot_id = BotId::from(Uuid::from_u128(7));
        let spec = BotSpec {
            bot_id,
            freqtrade_version: "2026.9".into(),
            config: json!({}),
            strategy: StrategyFile {
                class_name: "A".into(),
                code: String::new(),
            },
            environment: vec![(
                "FREQTRADE__API_SERVER__PASSWORD",
                Zeroizing::new("pw".into()),
            )],
            resources: ResourceLimits {
                cpu: Some(CpuLimit::parse("500m").expect("cpu")),
                memory: Some(MemoryLimit::parse("512Mi").expect("memory")),
            },
        };
        let body = bot_body(&spec, &shared());
        assert_eq!(body.image.as_deref(), Some("anytrade/freqtrade:2026.9"));
        assert_eq!(body.user.as_deref(), Some("1000:1000"));
        // Secrets only in the mounted file, never in the environment.
        assert_eq!(body.env, Some(vec!["HOME=/tmp".to_owned()]));
        let cmd = body.cmd.expect("cmd").join(" ");
        assert!(
            cmd.starts_with(
                "trade --config /anytrade/config.json --config /run/anytrade/secrets.json"
            ),
            "{cmd}"
        );
        let labels = body.labels.expect("labels");
        assert_eq!(labels["anytrade.bot_id"], bot_id.to_string());
        assert_eq!(labels["anytrade.managed"], "true");
        assert_eq!(labels["anytrade.owner"], "/data");
        let host = body.host_config.expect("host config");
        assert_eq!(
            host.binds,
            Some(vec![
                "/data/bots/b:/anytrade".to_owned(),
                "/dev/shm/anytrade/b:/run/anytrade:ro".to_owned()
            ])
        );
        assert_confined(&host);
        let published = &host.port_bindings.expect("ports")["8080/tcp"];
        let binding = &published.as_ref().expect("bindings")[0];
        assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(host.nano_cpus, Some(500_000_000));
        assert_eq!(host.memory, Some(512 * 1024 * 1024));
        assert_eq!(
            host.extra_hosts,
            Some(vec!["host.docker.internal:host-gateway".to_owned()])
        );
        let logs = host
            .log_config
            .expect("log config")
            .config
            .expect("options");
        assert_eq!(logs["max-size"], "20m");
    }

    /// What every container gets, bot or job.
    fn assert_confined(host: &HostConfig) {
        assert_eq!(host.cap_drop, Some(vec!["ALL".to_owned()]));
        assert_eq!(
            host.security_opt,
            Some(vec!["no-new-privileges:true".to_owned()])
        );
        assert_eq!(host.readonly_rootfs, Some(true));
        assert!(host.tmpfs.as_ref().is_some_and(|t| t.contains_key("/tmp")));
        assert_eq!(host.pids_limit, Some(PIDS_LIMIT));
        assert_eq!(host.init, Some(true));
        assert_eq!(host.network_mode.as_deref(), Some("anytrade-network"));
    }

    #[test]
    fn a_bot_without_limits_gets_the_defaults_and_a_job_is_confined_too() {
        let spec = BotSpec {
            bot_id: BotId::from(Uuid::from_u128(8)),
            freqtrade_version: "2026.9".into(),
            config: json!({}),
            strategy: StrategyFile {
                class_name: "A".into(),
                code: String::new(),
            },
            environment: Vec::new(),
            resources: ResourceLimits::default(),
        };
        let host = bot_body(&spec, &shared()).host_config.expect("host");
        assert_eq!(host.nano_cpus, Some(500_000_000));
        assert_eq!(host.memory, Some(512 * 1024 * 1024));
        let job = JobSpec {
            job_id: Uuid::from_u128(9),
            kind: JobKind::Backtest,
            freqtrade_version: "2026.9".into(),
            config: json!({}),
            strategy: spec.strategy,
            steps: vec![vec!["backtesting".into()]],
            resources: ResourceLimits::default(),
        };
        let job = job_body(&job, &shared());
        assert_eq!(job.env, Some(vec!["HOME=/tmp".to_owned()]));
        assert_confined(&job.host_config.expect("host"));
    }

    #[test]
    fn the_secrets_file_is_the_nested_config_freqtrade_reads_the_variables_as() {
        let file = secrets_file(&[
            ("FREQTRADE__EXCHANGE__KEY", Zeroizing::new("k\"ey".into())),
            ("FREQTRADE__EXCHANGE__SECRET", Zeroizing::new("s".into())),
            (
                "FREQTRADE__API_SERVER__PASSWORD",
                Zeroizing::new("pw".into()),
            ),
        ]);
        let parsed: serde_json::Value = serde_json::from_slice(&file).expect("JSON");
        assert_eq!(
            parsed,
            json!({
                "exchange": { "key": "k\"ey", "secret": "s" },
                "api_server": { "password": "pw" },
            })
        );
    }

    #[test]
    fn a_job_script_runs_each_step_quoted_and_announced() {
        let steps = vec![
            vec![
                "download-data".to_owned(),
                "--timerange".into(),
                "20260101-".into(),
            ],
            vec![
                "backtesting".to_owned(),
                "--strategy".into(),
                "it's; rm -rf /".into(),
            ],
        ];
        let script = job_script(&steps);
        assert_eq!(
            script,
            "set -e\n\
             echo 'anytrade-step 1 download-data'\n\
             freqtrade download-data --config /anytrade/config.json --userdir /anytrade/user_data --timerange 20260101-\n\
             echo 'anytrade-step 2 backtesting'\n\
             freqtrade backtesting --config /anytrade/config.json --userdir /anytrade/user_data --strategy 'it'\\''s; rm -rf /'\n"
        );
    }

    #[test]
    fn the_last_step_is_read_back_from_the_output() {
        let output: Vec<String> = [
            "anytrade-step 1 download-data",
            "downloading",
            "anytrade-step 2 hyperopt",
            "Traceback",
        ]
        .map(String::from)
        .into();
        assert_eq!(last_step(&output), Some((2, "hyperopt".to_owned())));
        assert_eq!(last_step(&output[1..2]), None);
    }
}
