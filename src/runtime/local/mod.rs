//! The local runtime: each bot a freqtrade child process on this machine.
//!
//! A bot owns `<bots>/<bot id>/` (its `config.json`, `user_data/` with the strategy
//! file, its SQLite trade database, and `instance.json`, the record of the process that
//! runs it) and writes stdout and stderr to `<logs>/<bot id>.log`. freqtrade comes from
//! a virtual environment per version ([`install`]). Processes run in their own process
//! group and outlive the control plane; after a restart they are found again through
//! `instance.json` ([`process`]). A process without a record (the control plane died
//! between starting it and writing the record), or left by a deleted bot, is a stray:
//! found by its `--userdir` argument, reported as running so the reconciler stops it,
//! and ended before its bot starts again, so a bot never runs twice. No isolation
//! between bots: for development, tests and single-host setups.

mod install;
mod jobs;
mod process;

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anytrade_aggregates::values::{BotId, RuntimeKind};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use uuid::Uuid;

use super::{
    BotSpec, Instance, InstanceState, JobSpec, Runtime, RuntimeError, api_answers, labels,
};
use crate::runtime::files::{write_atomically, write_run_files};
use crate::runtime::output::failure_lines;
use install::Installs;
use process::{Launch, ProcessId};

/// How long freqtrade gets to shut down on SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(20);

/// Where the local runtime keeps things, and how it starts bots.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// One directory per bot.
    pub bots_dir: PathBuf,
    /// One directory per backtest or hyperopt.
    pub jobs_dir: PathBuf,
    pub logs_dir: PathBuf,
    /// One virtual environment per freqtrade version.
    pub freqtrade_dir: PathBuf,
    pub python: String,
    /// Ports the bots' REST APIs may use; `None`: any free port.
    pub api_ports: Option<RangeInclusive<u16>>,
    /// How long a bot may take from spawn to its API answering.
    pub start_timeout: Duration,
}

pub struct LocalRuntime {
    config: LocalConfig,
    installs: Installs,
    http: reqwest::Client,
    /// How processes this control plane started ended, by bot (reaped as they exit).
    exits: Arc<Mutex<HashMap<BotId, String>>>,
    /// Ports handed to bots recently: free when probed, but their bot may not have
    /// bound them yet, so two starts at once must not both get one.
    handed_out: Mutex<HashMap<u16, std::time::Instant>>,
    supervised: jobs::Jobs,
}

/// `instance.json`: the process that runs a bot.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    process: ProcessId,
    api_url: String,
    freqtrade_version: String,
}

impl LocalRuntime {
    pub fn new(config: LocalConfig, http: reqwest::Client) -> Self {
        let installs = Installs::new(config.freqtrade_dir.clone(), config.python.clone());
        Self {
            config,
            installs,
            http,
            exits: Arc::default(),
            handed_out: Mutex::default(),
            supervised: Arc::default(),
        }
    }

    fn bot_dir(&self, bot_id: BotId) -> PathBuf {
        self.config.bots_dir.join(bot_id.to_string())
    }

    fn log_file(&self, bot_id: BotId) -> PathBuf {
        self.config.logs_dir.join(format!("{bot_id}.log"))
    }

    fn record_file(&self, bot_id: BotId) -> PathBuf {
        self.bot_dir(bot_id).join("instance.json")
    }

    async fn read_record(&self, bot_id: BotId) -> Option<Record> {
        let text = tokio::fs::read(self.record_file(bot_id)).await.ok()?;
        serde_json::from_slice(&text).ok()
    }

    fn instance(&self, bot_id: BotId, state: InstanceState, api_url: Option<String>) -> Instance {
        Instance {
            runtime_id: self.runtime_id(bot_id),
            kind: RuntimeKind::Local,
            state,
            labels: BTreeMap::from([
                (labels::MANAGED.to_owned(), "true".to_owned()),
                (labels::KIND.to_owned(), "bot".to_owned()),
                (labels::BOT_ID.to_owned(), bot_id.to_string()),
            ]),
            api_url,
        }
    }

    /// The bot's processes found by their `--userdir`, whatever the record says.
    fn processes_of(&self, bot_id: BotId) -> Vec<ProcessId> {
        self.processes_by_bot().remove(&bot_id).unwrap_or_default()
    }

    /// Every bot's processes found by command line, in one look at `/proc`: the only
    /// trace of a deleted bot's stray.
    fn processes_by_bot(&self) -> HashMap<BotId, Vec<ProcessId>> {
        use std::os::unix::ffi::OsStrExt;
        let bots_dir = self.config.bots_dir.as_os_str().as_bytes().to_vec();
        let mut by_bot: HashMap<BotId, Vec<ProcessId>> = HashMap::new();
        let found = process::with_argument(|argument| {
            argument.starts_with(&bots_dir) && argument.ends_with(b"/user_data")
        });
        for (process, argument) in found {
            let path = PathBuf::from(std::ffi::OsStr::from_bytes(&argument));
            let bot = path
                .strip_prefix(&self.config.bots_dir)
                .ok()
                .and_then(|relative| relative.components().next())
                .and_then(|first| first.as_os_str().to_str()?.parse::<BotId>().ok());
            if let Some(bot) = bot {
                by_bot.entry(bot).or_default().push(process);
            }
        }
        by_bot
    }

    /// Ends every process of the bot other than `keep`.
    async fn end_strays(&self, bot_id: BotId, keep: Option<ProcessId>) {
        for stray in self.processes_of(bot_id) {
            if Some(stray) != keep {
                tracing::warn!(bot = %bot_id, pid = stray.pid, "ending a stray freqtrade process");
                stray.terminate(STOP_GRACE).await;
            }
        }
    }

    /// The bot's instance: its recorded process if alive; else running as a stray when
    /// `has_processes` says a process of it was found; else made, ended, or none.
    async fn status_with(
        &self,
        bot_id: BotId,
        has_processes: impl FnOnce() -> bool,
    ) -> Result<Option<Instance>, RuntimeError> {
        let record = self.read_record(bot_id).await;
        if let Some(record) = record.as_ref().filter(|r| r.process.is_alive()) {
            let api_url = record.api_url.clone();
            return Ok(Some(self.instance(
                bot_id,
                InstanceState::Running,
                Some(api_url),
            )));
        }
        // Running without a record (or a deleted bot's leftover): a stray to stop.
        if has_processes() {
            return Ok(Some(self.instance(bot_id, InstanceState::Running, None)));
        }
        if !self.bot_dir(bot_id).exists() {
            return Ok(None);
        }
        let instance = match record {
            Some(_) => {
                let detail = match self.exit_detail(bot_id).await {
                    (status, Some(reason)) => format!("{status}: {reason}"),
                    (status, None) => status,
                };
                self.instance(bot_id, InstanceState::Exited { detail }, None)
            }
            None => self.instance(bot_id, InstanceState::Created, None),
        };
        Ok(Some(instance))
    }

    /// The bot's process as recorded, if it still runs.
    async fn running(&self, bot_id: BotId) -> Option<Record> {
        self.read_record(bot_id)
            .await
            .filter(|record| record.process.is_alive())
    }

    /// How the bot's last process ended: its exit status when this control plane saw
    /// it, and the last error lines of its log.
    async fn exit_detail(&self, bot_id: BotId) -> (String, Option<String>) {
        let status = self
            .exits
            .lock()
            .ok()
            .and_then(|exits| exits.get(&bot_id).cloned())
            .unwrap_or_else(|| "the process is gone".to_owned());
        let tail = self.logs(bot_id, 200).await.unwrap_or_default();
        (status, failure_lines(&tail))
    }

    fn free_port(&self) -> Result<u16, RuntimeError> {
        /// How long a handed-out port is kept from other starts: enough for freqtrade
        /// to bind it.
        const HELD: Duration = Duration::from_secs(120);
        let candidates: Box<dyn Iterator<Item = u16>> = match &self.config.api_ports {
            Some(range) => Box::new(range.clone()),
            None => Box::new(std::iter::repeat_n(0, 64)),
        };
        let mut handed_out = self.handed_out.lock().unwrap_or_else(|e| e.into_inner());
        handed_out.retain(|_, at| at.elapsed() < HELD);
        for port in candidates {
            if let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", port))
                && let Ok(address) = listener.local_addr()
                && !handed_out.contains_key(&address.port())
            {
                handed_out.insert(address.port(), std::time::Instant::now());
                return Ok(address.port());
            }
        }
        Err(RuntimeError::NoFreePort {
            range: match &self.config.api_ports {
                Some(range) => format!("{}-{}", range.start(), range.end()),
                None => "the ephemeral range".to_owned(),
            },
        })
    }

    /// Writes the bot's strategy and its config for `port`.
    async fn write_files(&self, spec: &BotSpec, port: u16) -> Result<PathBuf, RuntimeError> {
        let mut config = spec.config.clone();
        json_patch::merge(
            &mut config,
            &json!({ "api_server": { "listen_ip_address": "127.0.0.1", "listen_port": port } }),
        );
        tokio::fs::create_dir_all(&self.config.logs_dir)
            .await
            .map_err(RuntimeError::io(format!(
                "create {}",
                self.config.logs_dir.display()
            )))?;
        write_run_files(&self.bot_dir(spec.bot_id), &spec.strategy, &config).await
    }

    async fn spawn(
        &self,
        spec: &BotSpec,
        executable: &Path,
        config_file: &Path,
    ) -> Result<ProcessId, RuntimeError> {
        let dir = self.bot_dir(spec.bot_id);
        let database = format!("sqlite:///{}", dir.join("tradesv3.sqlite").display());
        let (mut child, process) = process::spawn(Launch {
            executable,
            arguments: vec![
                "trade".into(),
                "--config".into(),
                config_file.into(),
                "--userdir".into(),
                dir.join("user_data").into(),
                "--db-url".into(),
                database.into(),
            ],
            dir: &dir,
            log: &self.log_file(spec.bot_id),
            environment: &spec.environment,
        })?;
        let exits = self.exits.clone();
        let bot_id = spec.bot_id;
        if let Ok(mut exits) = exits.lock() {
            exits.remove(&bot_id);
        }
        tokio::spawn(async move {
            let status = match child.wait().await {
                Ok(status) => format!("freqtrade {status}"),
                Err(e) => format!("freqtrade could not be waited for: {e}"),
            };
            if let Ok(mut exits) = exits.lock() {
                exits.insert(bot_id, status);
            }
        });
        Ok(process)
    }

    /// Waits until the API answers, the process ends, or the start timeout passes.
    async fn wait_until_up(
        &self,
        bot_id: BotId,
        process: ProcessId,
        api_url: &str,
    ) -> Result<(), RuntimeError> {
        let deadline = tokio::time::Instant::now() + self.config.start_timeout;
        loop {
            if !process.is_alive() {
                // Let the reaper record the exit status.
                tokio::time::sleep(Duration::from_millis(200)).await;
                let (status, reason) = self.exit_detail(bot_id).await;
                let reason = reason.unwrap_or_else(|| "no error in its log".to_owned());
                return Err(RuntimeError::ExitedAtStart { status, reason });
            }
            if api_answers(&self.http, api_url).await {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(RuntimeError::StartTimeout {
                    api_url: api_url.to_owned(),
                    seconds: self.config.start_timeout.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn start(&self, spec: &BotSpec) -> Result<Instance, RuntimeError> {
        let executable = self.installs.ensure(&spec.freqtrade_version).await?;
        let port = self.free_port()?;
        let config_file = self.write_files(spec, port).await?;
        let api_url = format!("http://127.0.0.1:{port}");
        let process = self.spawn(spec, &executable, &config_file).await?;
        let record = Record {
            process,
            api_url: api_url.clone(),
            freqtrade_version: spec.freqtrade_version.clone(),
        };
        let written = match serde_json::to_vec(&record) {
            Ok(text) => Ok(write_atomically(&self.record_file(spec.bot_id), &text).await),
            Err(e) => Err(RuntimeError::Io {
                action: "serialize the instance record".into(),
                source: e.into(),
            }),
        };
        let started = match written {
            Ok(Ok(())) => self.wait_until_up(spec.bot_id, process, &api_url).await,
            Ok(Err(e)) => Err(RuntimeError::io("write the instance record")(e)),
            Err(e) => Err(e),
        };
        match started {
            Ok(()) => {
                tracing::info!(bot = %spec.bot_id, pid = process.pid, %api_url, "bot started");
                Ok(self.instance(spec.bot_id, InstanceState::Running, Some(api_url)))
            }
            Err(e) => {
                // Nothing is left running after a failed start.
                process.terminate(STOP_GRACE).await;
                let _ = tokio::fs::remove_file(self.record_file(spec.bot_id)).await;
                Err(e)
            }
        }
    }
}

#[async_trait]
impl Runtime for LocalRuntime {
    fn kind(&self) -> RuntimeKind {
        RuntimeKind::Local
    }

    fn runtime_id(&self, bot_id: BotId) -> String {
        format!("bot-{bot_id}")
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
        self.installs.ensure(freqtrade_version).await?;
        Ok(self.instance(bot_id, InstanceState::Created, None))
    }

    async fn start_bot(&self, spec: &BotSpec) -> Result<Instance, RuntimeError> {
        if let Some(record) = self.running(spec.bot_id).await {
            self.end_strays(spec.bot_id, Some(record.process)).await;
            return Ok(self.instance(spec.bot_id, InstanceState::Running, Some(record.api_url)));
        }
        self.end_strays(spec.bot_id, None).await;
        self.start(spec).await
    }

    async fn stop_bot(&self, bot_id: BotId) -> Result<(), RuntimeError> {
        if let Some(record) = self.read_record(bot_id).await {
            record.process.terminate(STOP_GRACE).await;
            tracing::info!(bot = %bot_id, pid = record.process.pid, "bot stopped");
        }
        self.end_strays(bot_id, None).await;
        match tokio::fs::remove_file(self.record_file(bot_id)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(RuntimeError::io("remove the instance record")(e))
            }
            _ => Ok(()),
        }
    }

    async fn delete_bot(&self, bot_id: BotId) -> Result<(), RuntimeError> {
        self.stop_bot(bot_id).await?;
        let dir = self.bot_dir(bot_id);
        if dir.exists() {
            tokio::fs::remove_dir_all(&dir)
                .await
                .map_err(RuntimeError::io(format!("remove {}", dir.display())))?;
        }
        let _ = tokio::fs::remove_file(self.log_file(bot_id)).await;
        if let Ok(mut exits) = self.exits.lock() {
            exits.remove(&bot_id);
        }
        Ok(())
    }

    async fn bot_status(&self, bot_id: BotId) -> Result<Option<Instance>, RuntimeError> {
        self.status_with(bot_id, || !self.processes_of(bot_id).is_empty())
            .await
    }

    async fn logs(&self, bot_id: BotId, lines: usize) -> Result<Vec<String>, RuntimeError> {
        tail(&self.log_file(bot_id), lines).await
    }

    async fn run_job(&self, spec: &JobSpec) -> Result<Instance, RuntimeError> {
        self.local_run_job(spec).await
    }

    async fn job_status(&self, job_id: Uuid) -> Result<Option<Instance>, RuntimeError> {
        self.local_job_status(job_id).await
    }

    async fn cancel_job(&self, job_id: Uuid) -> Result<(), RuntimeError> {
        self.local_cancel_job(job_id).await
    }

    async fn job_logs(&self, job_id: Uuid, lines: usize) -> Result<Vec<String>, RuntimeError> {
        self.local_job_logs(job_id, lines).await
    }

    async fn job_file(&self, job_id: Uuid, path: &str) -> Result<Option<Vec<u8>>, RuntimeError> {
        self.local_job_file(job_id, path).await
    }

    async fn list_instances(&self) -> Result<Vec<Instance>, RuntimeError> {
        let mut instances = self.list_jobs().await?;
        let mut processes = self.processes_by_bot();
        let mut entries = match tokio::fs::read_dir(&self.config.bots_dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(instances),
            Err(e) => return Err(RuntimeError::io("list the bots directory")(e)),
        };
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(RuntimeError::io("list the bots directory"))?
        {
            let Some(bot_id) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<BotId>().ok())
            else {
                continue;
            };
            let found = processes.remove(&bot_id).is_some();
            if let Some(instance) = self.status_with(bot_id, || found).await? {
                instances.push(instance);
            }
        }
        // Strays of bots whose directory is gone.
        for bot_id in processes.into_keys() {
            if let Some(instance) = self.status_with(bot_id, || true).await? {
                instances.push(instance);
            }
        }
        Ok(instances)
    }

    async fn cleanup(&self, runtime_id: &str) -> Result<(), RuntimeError> {
        let id = |prefix: &str| {
            runtime_id
                .strip_prefix(prefix)
                .and_then(|id| Uuid::parse_str(id).ok())
        };
        if let Some(bot_id) = id("bot-") {
            return self.delete_bot(BotId::from(bot_id)).await;
        }
        if let Some(job_id) = id("job-") {
            return self.remove_job(job_id).await;
        }
        Err(RuntimeError::NotFound(runtime_id.to_owned()))
    }
}

/// The last `lines` lines of `path` (at most its last 256 KiB are read).
async fn tail(path: &Path, lines: usize) -> Result<Vec<String>, RuntimeError> {
    const WINDOW: u64 = 256 * 1024;
    let mut file = match tokio::fs::File::open(path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(RuntimeError::io(format!("open {}", path.display()))(e)),
    };
    let length = file
        .metadata()
        .await
        .map_err(RuntimeError::io("read the log's size"))?
        .len();
    file.seek(std::io::SeekFrom::Start(length.saturating_sub(WINDOW)))
        .await
        .map_err(RuntimeError::io("seek in the log"))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .await
        .map_err(RuntimeError::io("read the log"))?;
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    let from = all.len().saturating_sub(lines);
    Ok(all.iter().skip(from).map(|l| (*l).to_owned()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tail_reads_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, "a\nb\nc\n").unwrap();
        assert_eq!(tail(&path, 2).await.unwrap(), ["b", "c"]);
        assert!(tail(&dir.path().join("none"), 2).await.unwrap().is_empty());
    }

    #[test]
    fn a_port_range_with_every_port_taken_is_reported() {
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = holder.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let runtime = LocalRuntime::new(
            LocalConfig {
                bots_dir: dir.path().join("bots"),
                jobs_dir: dir.path().join("jobs"),
                logs_dir: dir.path().join("logs"),
                freqtrade_dir: dir.path().join("freqtrade"),
                python: "python3".into(),
                api_ports: Some(port..=port),
                start_timeout: Duration::from_secs(1),
            },
            reqwest::Client::new(),
        );
        let error = runtime.free_port().unwrap_err().to_string();
        assert_eq!(
            error,
            format!("no free port for the freqtrade API in {port}-{port}")
        );
    }
}
