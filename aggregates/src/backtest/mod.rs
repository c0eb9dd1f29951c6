//! The Backtest aggregate: one run of a pinned strategy version over historical data.
//!
//! The job executor drives it (start, complete, fail); users request, cancel and delete.
//! The status rules are [`JobStatus::after`], shared with hyperopts.

mod commands;
mod events;
#[cfg(test)]
mod tests;

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

pub use commands::BacktestCommand;
pub use events::BacktestEvent;

use crate::error::DomainError;
use crate::failure::failure_message;
use crate::job::{JobAction, JobInput, JobSpec, JobStatus, parse_results};
use crate::lookup::Services;
use crate::values::RuntimeId;

const JOB: &str = "backtest";

/// A backtest as rebuilt from its events. `Default` is the not-yet-requested backtest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Backtest {
    state: Option<BacktestState>,
}

/// The backtest once requested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestState {
    pub id: Uuid,
    pub spec: JobSpec,
    pub status: JobStatus,
    pub runtime_id: Option<RuntimeId>,
    pub results: Option<Map<String, Value>>,
    pub error: Option<String>,
    pub deleted: bool,
}

impl Backtest {
    /// `None` until requested.
    pub fn state(&self) -> Option<&BacktestState> {
        self.state.as_ref()
    }

    fn existing(&self) -> Result<&BacktestState, DomainError> {
        match &self.state {
            None => Err(DomainError::not_found("id", "no such backtest")),
            Some(state) if state.deleted => {
                Err(DomainError::not_found("id", "the backtest was deleted"))
            }
            Some(state) => Ok(state),
        }
    }

    /// Checks that `action` is allowed now.
    fn check(&self, action: JobAction) -> Result<(), DomainError> {
        self.existing()?.status.after(action, JOB).map(|_| ())
    }

    async fn request(
        &mut self,
        backtest_id: Uuid,
        input: JobInput,
        lookup: &Services,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        if self.state.is_some() {
            self.existing()?;
            return Err(DomainError::conflict("id", "the backtest already exists"));
        }
        let spec = JobSpec::parse(input, lookup).await?;
        sink.write(BacktestEvent::BacktestRequested { backtest_id, spec }, self)
            .await;
        Ok(())
    }

    async fn delete(&mut self, sink: &EventSink<Self>) -> Result<(), DomainError> {
        if self.existing()?.status == JobStatus::Running {
            sink.write(BacktestEvent::BacktestCancelled, self).await;
        }
        sink.write(BacktestEvent::BacktestDeleted, self).await;
        Ok(())
    }
}

impl Aggregate for Backtest {
    const TYPE: &'static str = "backtest";
    type Command = BacktestCommand;
    type Event = BacktestEvent;
    type Error = DomainError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        lookup: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            BacktestCommand::RequestBacktest { backtest_id, input } => {
                return self.request(backtest_id, input, lookup, sink).await;
            }
            BacktestCommand::DeleteBacktest => return self.delete(sink).await,
            BacktestCommand::StartBacktest { runtime_id } => {
                self.check(JobAction::Start)?;
                BacktestEvent::BacktestStarted {
                    runtime_id: RuntimeId::parse(&runtime_id)?,
                }
            }
            BacktestCommand::CompleteBacktest { results } => {
                self.check(JobAction::Complete)?;
                BacktestEvent::BacktestCompleted {
                    results: parse_results(results)?,
                }
            }
            BacktestCommand::FailBacktest { error } => {
                self.check(JobAction::Fail)?;
                BacktestEvent::BacktestFailed {
                    error: failure_message(&error),
                }
            }
            BacktestCommand::CancelBacktest => {
                self.check(JobAction::Cancel)?;
                BacktestEvent::BacktestCancelled
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        if let BacktestEvent::BacktestRequested { backtest_id, spec } = event {
            self.state = Some(BacktestState {
                id: backtest_id,
                spec,
                status: JobStatus::Pending,
                runtime_id: None,
                results: None,
                error: None,
                deleted: false,
            });
            return;
        }
        let Some(state) = &mut self.state else {
            return;
        };
        match event {
            BacktestEvent::BacktestRequested { .. } => {}
            BacktestEvent::BacktestStarted { runtime_id } => {
                state.status = JobStatus::Running;
                state.runtime_id = Some(runtime_id);
            }
            BacktestEvent::BacktestCompleted { results } => {
                state.status = JobStatus::Completed;
                state.results = Some(results);
            }
            BacktestEvent::BacktestFailed { error } => {
                state.status = JobStatus::Failed;
                state.error = Some(error);
            }
            BacktestEvent::BacktestCancelled => state.status = JobStatus::Cancelled,
            BacktestEvent::BacktestDeleted => state.deleted = true,
        }
    }
}
