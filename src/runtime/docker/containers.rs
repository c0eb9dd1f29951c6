//! What the docker runtime asks the engine for, as plain values: container names and
//! the create bodies of bot and job containers (the files, secrets file and job script
//! in them follow [`crate::runtime::container`]). No I/O here, so every rule (labels, mounts, secrets
//! only in a mounted file, the API published on loopback only, the confinement every
//! container gets) is unit-tested.
//!
//! Every container runs as a user other than root, with all capabilities dropped,
//! `no-new-privileges`, a read-only root filesystem (freqtrade writes its mounted
//! directory, and `/tmp`, a tmpfs that is also its home), a limit on processes, and
//! the engine's init as process 1.

use std::collections::HashMap;

use anytrade_aggregates::values::ResourceLimits;
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, PortBinding};

use crate::runtime::container::{
    API_PORT, SECRETS_DIR, SECRETS_FILE, WORKDIR, bot_labels, bot_limits, job_labels, job_script,
};
use crate::runtime::{BotSpec, JobSpec};

/// The name under which a container reaches the machine running the engine (a
/// sandbox exchange or anything else served there).
pub const HOST_ALIAS: &str = "host.docker.internal";

/// Processes and threads a container may run: freqtrade needs a few dozen, a
/// hyperopt one worker per core; a fork bomb in a strategy stops here.
pub const PIDS_LIMIT: i64 = 512;

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
    /// The [`crate::runtime::container::OWNER`] label: which control plane's container this is.
    pub owner: &'a str,
}

/// A bot container: `freqtrade trade` with the bot's directory mounted, its secrets in
/// a file of their own (never in the environment, which `docker inspect` shows), and
/// its API published on the host's loopback only, on a port the engine picks.
pub fn bot_body(spec: &BotSpec, shared: &Shared<'_>) -> ContainerCreateBody {
    let port = format!("{API_PORT}/tcp");
    let mut host = host_config(shared, &bot_limits(&spec.resources));
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
        labels: Some(bot_labels(spec.bot_id, shared.owner).into_iter().collect()),
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
        cmd: Some(vec![job_script(
            &spec.steps,
            &format!("{WORKDIR}/config.json"),
        )]),
        env: Some(vec!["HOME=/tmp".into()]),
        labels: Some(
            job_labels(spec.job_id, spec.kind, shared.owner)
                .into_iter()
                .collect(),
        ),
        host_config: Some(host_config(shared, &spec.resources)),
        ..Default::default()
    }
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

#[cfg(test)]
mod tests {
    use anytrade_aggregates::values::{BotId, CpuLimit, MemoryLimit};
    use serde_json::json;
    use uuid::Uuid;
    use zeroize::Zeroizing;

    use super::*;
    use crate::runtime::{JobKind, StrategyFile};

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
}
