//! The HyperOpt aggregate: a search for the best parameters of a pinned strategy version.
//!
//! Same life as a backtest ([`JobStatus::after`]), plus progress reports while it runs:
//! hyperopts take hours, and dashboards show how far they got.

mod commands;
mod events;
#[cfg(test)]
mod tests;

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

pub use commands::HyperoptCommand;
pub use events::HyperoptEvent;

use crate::error::DomainError;
use crate::failure::failure_message;
use crate::job::{JobAction, JobInput, JobSpec, JobStatus, parse_results};
use crate::lookup::Services;
use crate::values::{Epochs, HyperoptSpaces, OptimizationMetric, Progress, RuntimeId};

const JOB: &str = "hyperopt";

/// A hyperopt as rebuilt from its events. `Default` is the not-yet-requested hyperopt.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hyperopt {
    state: Option<HyperoptState>,
}

/// The hyperopt once requested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HyperoptState {
    pub id: Uuid,
    pub spec: JobSpec,
    pub epochs: Epochs,
    pub spaces: HyperoptSpaces,
    pub optimization_metric: OptimizationMetric,
    pub status: JobStatus,
    pub progress: Progress,
    pub epoch: Option<u32>,
    pub runtime_id: Option<RuntimeId>,
    pub results: Option<Map<String, Value>>,
    pub error: Option<String>,
    pub deleted: bool,
}

/// The raw hyperopt-only inputs of a request.
struct SearchInput {
    epochs: i64,
    spaces: Vec<String>,
    optimization_metric: String,
}

impl Hyperopt {
    /// `None` until requested.
    pub fn state(&self) -> Option<&HyperoptState> {
        self.state.as_ref()
    }

    fn existing(&self) -> Result<&HyperoptState, DomainError> {
        match &self.state {
            None => Err(DomainError::not_found("id", "no such hyperopt")),
            Some(state) if state.deleted => {
                Err(DomainError::not_found("id", "the hyperopt was deleted"))
            }
            Some(state) => Ok(state),
        }
    }

    fn check(&self, action: JobAction) -> Result<&HyperoptState, DomainError> {
        let state = self.existing()?;
        state.status.after(action, JOB)?;
        Ok(state)
    }

    async fn request(
        &mut self,
        hyperopt_id: Uuid,
        job: JobInput,
        search: SearchInput,
        lookup: &Services,
        sink: &EventSink<Self>,
    ) -> Result<(), DomainError> {
        if self.state.is_some() {
            self.existing()?;
            return Err(DomainError::conflict("id", "the hyperopt already exists"));
        }
        let epochs = Epochs::parse(search.epochs)?;
        let spaces = HyperoptSpaces::parse(&search.spaces)?;
        let optimization_metric = OptimizationMetric::parse(&search.optimization_metric)?;
        let spec = JobSpec::parse(job, lookup).await?;
        let event = HyperoptEvent::HyperoptRequested {
            hyperopt_id,
            spec,
            epochs,
            spaces,
            optimization_metric,
        };
        sink.write(event, self).await;
        Ok(())
    }

    /// Progress is reported only while running and never goes back; a repeat of the
    /// current value is not news.
    fn progress(
        &self,
        progress: f64,
        epoch: Option<u32>,
    ) -> Result<Option<HyperoptEvent>, DomainError> {
        let state = self.existing()?;
        if state.status != JobStatus::Running {
            return Err(DomainError::conflict(
                "status",
                format!(
                    "cannot report progress of a hyperopt that is {}",
                    state.status
                ),
            ));
        }
        let progress = Progress::parse(progress)?;
        if progress < state.progress {
            return Err(DomainError::invalid(
                "progress",
                format!(
                    "must not go back: was {}, got {}",
                    state.progress.get(),
                    progress.get()
                ),
            ));
        }
        if let Some(epoch) = epoch
            && epoch > state.epochs.get()
        {
            return Err(DomainError::invalid(
                "epoch",
                format!(
                    "must be at most the {} epochs requested, got {epoch}",
                    state.epochs.get()
                ),
            ));
        }
        if progress == state.progress {
            return Ok(None);
        }
        Ok(Some(HyperoptEvent::HyperoptProgressReported {
            progress,
            epoch,
        }))
    }

    async fn delete(&mut self, sink: &EventSink<Self>) -> Result<(), DomainError> {
        if self.existing()?.status == JobStatus::Running {
            sink.write(HyperoptEvent::HyperoptCancelled, self).await;
        }
        sink.write(HyperoptEvent::HyperoptDeleted, self).await;
        Ok(())
    }
}

impl Aggregate for Hyperopt {
    const TYPE: &'static str = "hyperopt";
    type Command = HyperoptCommand;
    type Event = HyperoptEvent;
    type Error = DomainError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        lookup: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            HyperoptCommand::RequestHyperopt {
                hyperopt_id,
                input: job,
                epochs,
                spaces,
                optimization_metric,
            } => {
                let search = SearchInput {
                    epochs,
                    spaces,
                    optimization_metric,
                };
                return self.request(hyperopt_id, job, search, lookup, sink).await;
            }
            HyperoptCommand::DeleteHyperopt => return self.delete(sink).await,
            HyperoptCommand::ReportHyperoptProgress { progress, epoch } => {
                match self.progress(progress, epoch)? {
                    Some(event) => event,
                    None => return Ok(()),
                }
            }
            HyperoptCommand::StartHyperopt { runtime_id } => {
                self.check(JobAction::Start)?;
                HyperoptEvent::HyperoptStarted {
                    runtime_id: RuntimeId::parse(&runtime_id)?,
                }
            }
            HyperoptCommand::CompleteHyperopt { results } => {
                self.check(JobAction::Complete)?;
                HyperoptEvent::HyperoptCompleted {
                    results: parse_results(results)?,
                }
            }
            HyperoptCommand::FailHyperopt { error } => {
                self.check(JobAction::Fail)?;
                HyperoptEvent::HyperoptFailed {
                    error: failure_message(&error),
                }
            }
            HyperoptCommand::CancelHyperopt => {
                self.check(JobAction::Cancel)?;
                HyperoptEvent::HyperoptCancelled
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        if let HyperoptEvent::HyperoptRequested {
            hyperopt_id,
            spec,
            epochs,
            spaces,
            optimization_metric,
        } = event
        {
            self.state = Some(HyperoptState {
                id: hyperopt_id,
                spec,
                epochs,
                spaces,
                optimization_metric,
                status: JobStatus::Pending,
                progress: Progress::default(),
                epoch: None,
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
            HyperoptEvent::HyperoptRequested { .. } => {}
            HyperoptEvent::HyperoptStarted { runtime_id } => {
                state.status = JobStatus::Running;
                state.runtime_id = Some(runtime_id);
            }
            HyperoptEvent::HyperoptProgressReported { progress, epoch } => {
                state.progress = progress;
                if epoch.is_some() {
                    state.epoch = epoch;
                }
            }
            HyperoptEvent::HyperoptCompleted { results } => {
                state.status = JobStatus::Completed;
                state.results = Some(results);
            }
            HyperoptEvent::HyperoptFailed { error } => {
                state.status = JobStatus::Failed;
                state.error = Some(error);
            }
            HyperoptEvent::HyperoptCancelled => state.status = JobStatus::Cancelled,
            HyperoptEvent::HyperoptDeleted => state.deleted = true,
        }
    }
}
