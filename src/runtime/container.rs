//! How freqtrade runs in a container, whoever runs the container (the docker engine or
//! a Kubernetes node): where its files are, the secrets file it reads, the script a job
//! runs, and the labels. Plain values only, so both runtimes follow one set of rules.

use std::collections::BTreeMap;

use anytrade_aggregates::values::{BotId, CpuLimit, MemoryLimit, ResourceLimits};
use serde_json::Value;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::output::{FATAL_MARKER, failure_lines};
use super::{InstanceState, JobKind, labels};

/// Where a bot's or job's files are in its container. Not `/freqtrade`: the official
/// image keeps freqtrade's own installation there.
pub const WORKDIR: &str = "/anytrade";
/// The port freqtrade's REST API listens on inside a bot container.
pub const API_PORT: u16 = 8080;
/// Where a bot's secrets are mounted (read-only) in its container.
pub const SECRETS_DIR: &str = "/run/anytrade";
/// The secrets file in it: a freqtrade config holding only the secret settings,
/// merged over `config.json` by a second `--config`.
pub const SECRETS_FILE: &str = "secrets.json";
/// Printed before each step of a job: `anytrade-step <n> <subcommand>`.
pub const STEP_MARKER: &str = "anytrade-step ";
/// Bots' limits when they set none (the seed plan's defaults).
pub const DEFAULT_BOT_CPU: &str = "0.5";
pub const DEFAULT_BOT_MEMORY: &str = "512Mi";
/// Label naming the control plane that made a container: one engine or namespace may
/// serve several control planes, and each lists and reconciles only its own.
pub const OWNER: &str = "anytrade.owner";

/// What runs a bot is named (a container, a Deployment).
pub fn bot_runtime_id(bot_id: BotId) -> String {
    format!("anytrade-bot-{bot_id}")
}

/// What runs a job is named (a container, a Job).
pub fn job_runtime_id(job_id: Uuid) -> String {
    format!("anytrade-job-{job_id}")
}

/// Whose a runtime id is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeIdOf {
    Bot(BotId),
    Job(Uuid),
}

/// The bot or job a runtime id (see [`bot_runtime_id`], [`job_runtime_id`]) names.
pub fn parse_runtime_id(runtime_id: &str) -> Option<RuntimeIdOf> {
    if let Some(id) = runtime_id.strip_prefix("anytrade-bot-") {
        return Some(RuntimeIdOf::Bot(id.parse().ok()?));
    }
    let id = runtime_id.strip_prefix("anytrade-job-")?;
    Some(RuntimeIdOf::Job(Uuid::parse_str(id).ok()?))
}

/// A bot's config with its REST API listening on every address of its container, on
/// [`API_PORT`].
pub fn listening_in_container(config: &Value) -> Value {
    let mut config = config.clone();
    json_patch::merge(
        &mut config,
        &serde_json::json!({
            "api_server": { "listen_ip_address": "0.0.0.0", "listen_port": API_PORT }
        }),
    );
    config
}

/// How a job ended, from its output and how its steps exited (`status`, like `exit
/// code 2`): finished when they succeeded and freqtrade logged no fatal error (it exits
/// 0 after some), else which step failed and freqtrade's words.
pub fn job_end(output: &[String], succeeded: bool, status: &str) -> InstanceState {
    let fatal = output.iter().any(|line| line.contains(FATAL_MARKER));
    if succeeded && !fatal {
        return InstanceState::Finished;
    }
    let step = last_step(output)
        .map(|(number, subcommand)| format!("step {number} ({subcommand})"))
        .unwrap_or_else(|| "the job".into());
    let reason = failure_lines(output).unwrap_or_else(|| "no error in its log".into());
    InstanceState::Exited {
        detail: format!("{step} {status}: {reason}"),
    }
}

/// A bot's limits, the defaults filling in what it does not set.
pub fn bot_limits(resources: &ResourceLimits) -> ResourceLimits {
    ResourceLimits {
        cpu: resources
            .cpu
            .or_else(|| CpuLimit::parse(DEFAULT_BOT_CPU).ok()),
        memory: resources
            .memory
            .or_else(|| MemoryLimit::parse(DEFAULT_BOT_MEMORY).ok()),
    }
}

/// The script a job runs: every argument quoted, `config` and the `user_data` under
/// [`WORKDIR`] given to each step, each step announced on its own line (see
/// [`STEP_MARKER`]), stopping at the first that fails.
pub fn job_script(steps: &[Vec<String>], config: &str) -> String {
    let mut script = String::from("set -e\n");
    for (index, step) in steps.iter().enumerate() {
        let Some((subcommand, arguments)) = step.split_first() else {
            continue;
        };
        let mut command = vec![
            "freqtrade".to_owned(),
            subcommand.clone(),
            "--config".into(),
            config.to_owned(),
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

/// The step a job's output was in at its end: `(number, subcommand)` of the last
/// [`STEP_MARKER`] line.
pub fn last_step(output: &[String]) -> Option<(usize, String)> {
    output.iter().rev().find_map(|line| {
        let rest = line.strip_prefix(STEP_MARKER)?;
        let (number, subcommand) = rest.split_once(' ')?;
        Some((number.parse().ok()?, subcommand.trim().to_owned()))
    })
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

/// What everything run for a bot is labelled with.
pub fn bot_labels(bot_id: BotId, owner: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (labels::MANAGED.into(), "true".into()),
        (OWNER.into(), owner.into()),
        (labels::KIND.into(), "bot".into()),
        (labels::BOT_ID.into(), bot_id.to_string()),
    ])
}

/// What everything run for a job is labelled with.
pub fn job_labels(job_id: Uuid, kind: JobKind, owner: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (labels::MANAGED.into(), "true".into()),
        (OWNER.into(), owner.into()),
        (labels::KIND.into(), kind.as_str().into()),
        (labels::JOB_ID.into(), job_id.to_string()),
    ])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
        let script = job_script(&steps, "/anytrade/config.json");
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

    #[test]
    fn runtime_ids_name_the_bot_or_the_job() {
        let bot = BotId::from(Uuid::from_u128(7));
        let job = Uuid::from_u128(9);
        assert_eq!(
            parse_runtime_id(&bot_runtime_id(bot)),
            Some(RuntimeIdOf::Bot(bot))
        );
        assert_eq!(
            parse_runtime_id(&job_runtime_id(job)),
            Some(RuntimeIdOf::Job(job))
        );
        assert_eq!(parse_runtime_id("anytrade-bot-nope"), None);
        assert_eq!(parse_runtime_id("other"), None);
    }

    #[test]
    fn a_job_ends_well_only_without_a_fatal_error() {
        let lines = |text: &[&str]| -> Vec<String> { text.iter().map(|l| l.to_string()).collect() };
        assert_eq!(
            job_end(
                &lines(&["anytrade-step 1 backtesting", "done"]),
                true,
                "exit code 0"
            ),
            InstanceState::Finished
        );
        let fatal = lines(&[
            "anytrade-step 2 backtesting",
            "2026-12-07 10:00:00 - freqtrade - ERROR - bad config",
        ]);
        assert_eq!(
            job_end(&fatal, true, "exit code 0"),
            InstanceState::Exited {
                detail: "step 2 (backtesting) exit code 0: bad config".into()
            }
        );
        assert_eq!(
            job_end(&[], false, "exit code 1"),
            InstanceState::Exited {
                detail: "the job exit code 1: no error in its log".into()
            }
        );
    }

    #[test]
    fn a_bot_without_limits_gets_the_defaults() {
        let limits = bot_limits(&ResourceLimits::default());
        assert_eq!(limits.cpu.map(|c| c.millicores()), Some(500));
        assert_eq!(limits.memory.map(|m| m.bytes()), Some(512 * 1024 * 1024));
        let own = ResourceLimits {
            cpu: Some(CpuLimit::parse("2").expect("cpu")),
            memory: None,
        };
        assert_eq!(bot_limits(&own).cpu.map(|c| c.millicores()), Some(2000));
    }
}
