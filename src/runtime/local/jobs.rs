//! Backtests and hyperopts on the local runtime: each job owns `<jobs>/<job id>/`
//! (config, `user_data`, `job.log`, and `job.json`, the record of its progress), and a
//! supervisor task runs its freqtrade steps one after another.
//!
//! A job does not survive a control-plane restart: its supervisor is gone, so a job
//! without a recorded outcome that nobody supervises is reported as interrupted (and
//! `cancel_job` or `cleanup` ends what is left of it).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use anytrade_aggregates::values::RuntimeKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::process::{self, Launch, ProcessId};
use super::{LocalRuntime, STOP_GRACE, tail};
use crate::runtime::files::{user_data_file, write_atomically, write_run_files};
use crate::runtime::output::{FATAL_MARKER, failure_lines};
use crate::runtime::{Instance, InstanceState, JobKind, JobSpec, RuntimeError, labels};

/// `job.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JobRecord {
    kind: JobKind,
    /// The step running or last run, from 0.
    step: usize,
    steps: usize,
    process: Option<ProcessId>,
    outcome: Option<Outcome>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Outcome {
    Finished,
    Failed { detail: String },
    Cancelled,
}

impl LocalRuntime {
    fn job_dir(&self, job_id: Uuid) -> PathBuf {
        self.config.jobs_dir.join(job_id.to_string())
    }

    fn job_log(&self, job_id: Uuid) -> PathBuf {
        self.job_dir(job_id).join("job.log")
    }

    async fn read_job(&self, job_id: Uuid) -> Option<JobRecord> {
        read_record(&self.job_dir(job_id)).await
    }

    async fn write_job(&self, job_id: Uuid, record: &JobRecord) -> Result<(), RuntimeError> {
        write_record(&self.job_dir(job_id), record).await
    }

    fn is_supervised(&self, job_id: Uuid) -> bool {
        self.supervised
            .lock()
            .is_ok_and(|jobs| jobs.contains_key(&job_id))
    }

    fn job_instance(&self, job_id: Uuid, kind: JobKind, state: InstanceState) -> Instance {
        Instance {
            runtime_id: format!("job-{job_id}"),
            kind: RuntimeKind::Local,
            state,
            labels: BTreeMap::from([
                (labels::MANAGED.to_owned(), "true".to_owned()),
                (labels::KIND.to_owned(), kind.as_str().to_owned()),
                (labels::JOB_ID.to_owned(), job_id.to_string()),
            ]),
            api_url: None,
        }
    }

    pub(super) async fn local_job_status(
        &self,
        job_id: Uuid,
    ) -> Result<Option<Instance>, RuntimeError> {
        let Some(record) = self.read_job(job_id).await else {
            return Ok(None);
        };
        let state = match &record.outcome {
            Some(Outcome::Finished) => InstanceState::Finished,
            Some(Outcome::Failed { detail }) => InstanceState::Exited {
                detail: detail.clone(),
            },
            Some(Outcome::Cancelled) => InstanceState::Exited {
                detail: "cancelled".into(),
            },
            None if self.is_supervised(job_id) => InstanceState::Running,
            None => InstanceState::Exited {
                detail: "interrupted: the control plane restarted while it ran".into(),
            },
        };
        Ok(Some(self.job_instance(job_id, record.kind, state)))
    }

    pub(super) async fn local_run_job(&self, spec: &JobSpec) -> Result<Instance, RuntimeError> {
        if let Some(instance) = self.local_job_status(spec.job_id).await? {
            return Ok(instance);
        }
        if spec.steps.iter().all(Vec::is_empty) {
            return Err(RuntimeError::NoSteps(spec.job_id));
        }
        let executable = self.installs.ensure(&spec.freqtrade_version).await?;
        let dir = self.job_dir(spec.job_id);
        let config_file = write_run_files(&dir, &spec.strategy, &spec.config).await?;
        let record = JobRecord {
            kind: spec.kind,
            step: 0,
            steps: spec.steps.len(),
            process: None,
            outcome: None,
        };
        self.write_job(spec.job_id, &record).await?;
        if let Ok(mut jobs) = self.supervised.lock() {
            jobs.insert(spec.job_id, false);
        }
        let supervisor = Supervisor {
            job_id: spec.job_id,
            dir,
            supervised: self.supervised.clone(),
        };
        let steps = spec.steps.clone();
        tokio::spawn(async move {
            let outcome = supervisor
                .run(record.clone(), &executable, &config_file, &steps)
                .await;
            let finished = JobRecord {
                outcome: Some(outcome),
                ..read_record(&supervisor.dir).await.unwrap_or(record)
            };
            if let Err(e) = write_record(&supervisor.dir, &finished).await {
                tracing::warn!(job = %supervisor.job_id, error = %e, "cannot record the job's outcome");
            }
            if let Ok(mut jobs) = supervisor.supervised.lock() {
                jobs.remove(&supervisor.job_id);
            }
        });
        Ok(self.job_instance(spec.job_id, spec.kind, InstanceState::Running))
    }

    pub(super) async fn local_cancel_job(&self, job_id: Uuid) -> Result<(), RuntimeError> {
        let Some(record) = self.read_job(job_id).await else {
            return Err(RuntimeError::NotFound(format!("job-{job_id}")));
        };
        if record.outcome.is_some() {
            return Ok(());
        }
        let supervised = match self.supervised.lock() {
            Ok(mut jobs) => jobs
                .get_mut(&job_id)
                .map(|cancelled| *cancelled = true)
                .is_some(),
            Err(_) => false,
        };
        if let Some(process) = record.process {
            process.terminate(STOP_GRACE).await;
        }
        if !supervised {
            // Nobody else will record it.
            let cancelled = JobRecord {
                outcome: Some(Outcome::Cancelled),
                ..record
            };
            self.write_job(job_id, &cancelled).await?;
        }
        Ok(())
    }

    pub(super) async fn local_job_logs(
        &self,
        job_id: Uuid,
        lines: usize,
    ) -> Result<Vec<String>, RuntimeError> {
        tail(&self.job_log(job_id), lines).await
    }

    pub(super) async fn local_job_file(
        &self,
        job_id: Uuid,
        path: &str,
    ) -> Result<Option<Vec<u8>>, RuntimeError> {
        user_data_file(&self.job_dir(job_id), path).await
    }

    /// Ends the job if it runs and removes its directory.
    pub(super) async fn remove_job(&self, job_id: Uuid) -> Result<(), RuntimeError> {
        if self.read_job(job_id).await.is_some() {
            self.local_cancel_job(job_id).await?;
        }
        let dir = self.job_dir(job_id);
        if dir.exists() {
            tokio::fs::remove_dir_all(&dir)
                .await
                .map_err(RuntimeError::io(format!("remove {}", dir.display())))?;
        }
        Ok(())
    }

    pub(super) async fn list_jobs(&self) -> Result<Vec<Instance>, RuntimeError> {
        let mut entries = match tokio::fs::read_dir(&self.config.jobs_dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(RuntimeError::io("list the jobs directory")(e)),
        };
        let mut instances = Vec::new();
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(RuntimeError::io("list the jobs directory"))?
        {
            let Some(job_id) = entry
                .file_name()
                .to_str()
                .and_then(|n| Uuid::parse_str(n).ok())
            else {
                continue;
            };
            if let Some(instance) = self.local_job_status(job_id).await? {
                instances.push(instance);
            }
        }
        Ok(instances)
    }
}

/// The task that runs one job's steps.
struct Supervisor {
    job_id: Uuid,
    dir: PathBuf,
    /// Jobs being supervised, and whether each was cancelled.
    supervised: Jobs,
}

impl Supervisor {
    fn is_cancelled(&self) -> bool {
        self.supervised
            .lock()
            .is_ok_and(|jobs| jobs.get(&self.job_id).copied().unwrap_or(false))
    }

    /// Runs the steps in order until one fails or the job is cancelled.
    async fn run(
        &self,
        mut record: JobRecord,
        executable: &std::path::Path,
        config_file: &std::path::Path,
        steps: &[Vec<String>],
    ) -> Outcome {
        let job_id = self.job_id;
        let dir = &self.dir;
        let log = dir.join("job.log");
        for (index, step) in steps.iter().enumerate() {
            let Some((subcommand, rest)) = step.split_first() else {
                continue;
            };
            if self.is_cancelled() {
                return Outcome::Cancelled;
            }
            let mut arguments: Vec<OsString> = vec![
                subcommand.into(),
                "--config".into(),
                config_file.into(),
                "--userdir".into(),
                dir.join("user_data").into(),
            ];
            arguments.extend(rest.iter().map(OsString::from));
            let log_start = tokio::fs::metadata(&log)
                .await
                .map(|m| m.len())
                .unwrap_or(0);
            let launched = process::spawn(Launch {
                executable,
                arguments,
                dir,
                log: &log,
                environment: &[],
            });
            let (mut child, process) = match launched {
                Ok(launched) => launched,
                Err(e) => {
                    return Outcome::Failed {
                        detail: format!("step {} ({subcommand}): {e}", index + 1),
                    };
                }
            };
            record.step = index;
            record.process = Some(process);
            if let Err(e) = write_record(dir, &record).await {
                tracing::warn!(job = %job_id, error = %e, "cannot record the job's step");
            }
            let status = child.wait().await;
            if self.is_cancelled() {
                return Outcome::Cancelled;
            }
            // freqtrade 2026.9 exits with 0 after some fatal errors (a configuration
            // error, say), so a step also fails when freqtrade's top-level logger
            // reported an error during it.
            let output = read_from(&log, log_start).await;
            let fatal = output.iter().any(|line| line.contains(FATAL_MARKER));
            match status {
                Ok(status) if status.success() && !fatal => {}
                Ok(status) => {
                    let reason =
                        failure_lines(&output).unwrap_or_else(|| "no error in its log".into());
                    return Outcome::Failed {
                        detail: format!("step {} ({subcommand}) {status}: {reason}", index + 1),
                    };
                }
                Err(e) => {
                    return Outcome::Failed {
                        detail: format!(
                            "step {} ({subcommand}) could not be waited for: {e}",
                            index + 1
                        ),
                    };
                }
            }
        }
        Outcome::Finished
    }
}

/// The lines appended to `log` after byte `offset` (at most the last 256 KiB of them).
async fn read_from(log: &std::path::Path, offset: u64) -> Vec<String> {
    const WINDOW: u64 = 256 * 1024;
    let Ok(bytes) = tokio::fs::read(log).await else {
        return Vec::new();
    };
    let length = bytes.len() as u64;
    let from = offset.max(length.saturating_sub(WINDOW)).min(length);
    let section = bytes.get(from as usize..).unwrap_or_default();
    String::from_utf8_lossy(section)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Jobs supervised by this control plane, and whether each was cancelled.
pub(super) type Jobs = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Uuid, bool>>>;

async fn read_record(dir: &std::path::Path) -> Option<JobRecord> {
    let text = tokio::fs::read(dir.join("job.json")).await.ok()?;
    serde_json::from_slice(&text).ok()
}

async fn write_record(dir: &std::path::Path, record: &JobRecord) -> Result<(), RuntimeError> {
    let text = serde_json::to_vec(record).map_err(|e| RuntimeError::Io {
        action: "serialize the job record".into(),
        source: e.into(),
    })?;
    write_atomically(&dir.join("job.json"), &text)
        .await
        .map_err(RuntimeError::io("write the job record"))
}
