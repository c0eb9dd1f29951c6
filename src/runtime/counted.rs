//! A runtime whose errors are counted in the metrics (`anytrade_runtime_errors_total`,
//! by runtime and kind of error): every runtime the service uses is wrapped in one, so
//! no caller has to remember to count.

use std::sync::Arc;

use anytrade_aggregates::values::{BotId, RuntimeKind};
use async_trait::async_trait;
use uuid::Uuid;

use super::{BotSpec, Instance, JobSpec, Runtime, RuntimeError};

pub struct Counted(pub Arc<dyn Runtime>);

impl Counted {
    fn count<T>(&self, result: Result<T, RuntimeError>) -> Result<T, RuntimeError> {
        if let Err(e) = &result {
            let kind: &'static str = e.into();
            crate::metrics::metrics()
                .runtime_errors
                .with_label_values(&[self.0.kind().as_str(), kind])
                .inc();
        }
        result
    }
}

#[async_trait]
impl Runtime for Counted {
    fn kind(&self) -> RuntimeKind {
        self.0.kind()
    }

    fn runtime_id(&self, bot_id: BotId) -> String {
        self.0.runtime_id(bot_id)
    }

    async fn create_bot(&self, bot_id: BotId, version: &str) -> Result<Instance, RuntimeError> {
        self.count(self.0.create_bot(bot_id, version).await)
    }

    async fn start_bot(&self, spec: &BotSpec) -> Result<Instance, RuntimeError> {
        self.count(self.0.start_bot(spec).await)
    }

    async fn stop_bot(&self, bot_id: BotId) -> Result<(), RuntimeError> {
        self.count(self.0.stop_bot(bot_id).await)
    }

    async fn delete_bot(&self, bot_id: BotId) -> Result<(), RuntimeError> {
        self.count(self.0.delete_bot(bot_id).await)
    }

    async fn bot_status(&self, bot_id: BotId) -> Result<Option<Instance>, RuntimeError> {
        self.count(self.0.bot_status(bot_id).await)
    }

    async fn logs(&self, bot_id: BotId, lines: usize) -> Result<Vec<String>, RuntimeError> {
        self.count(self.0.logs(bot_id, lines).await)
    }

    async fn run_job(&self, spec: &JobSpec) -> Result<Instance, RuntimeError> {
        self.count(self.0.run_job(spec).await)
    }

    async fn job_status(&self, job_id: Uuid) -> Result<Option<Instance>, RuntimeError> {
        self.count(self.0.job_status(job_id).await)
    }

    async fn cancel_job(&self, job_id: Uuid) -> Result<(), RuntimeError> {
        self.count(self.0.cancel_job(job_id).await)
    }

    async fn job_logs(&self, job_id: Uuid, lines: usize) -> Result<Vec<String>, RuntimeError> {
        self.count(self.0.job_logs(job_id, lines).await)
    }

    async fn job_file(&self, job_id: Uuid, path: &str) -> Result<Option<Vec<u8>>, RuntimeError> {
        self.count(self.0.job_file(job_id, path).await)
    }

    async fn list_instances(&self) -> Result<Vec<Instance>, RuntimeError> {
        self.count(self.0.list_instances().await)
    }

    async fn cleanup(&self, runtime_id: &str) -> Result<(), RuntimeError> {
        self.count(self.0.cleanup(runtime_id).await)
    }
}
