//! What backtests and hyperopts share: the job specification and the job status machine.
//!
//! Both run a pinned version of a strategy over historical data with the same inputs, and
//! both go pending → running → completed | failed | cancelled. Keeping the rules here means
//! the two aggregates cannot drift apart.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::DomainError;
use crate::lookup::Services;
use crate::values::{ConfigObject, DateRange, Pairs, StakeAmount, StakeCurrency, Timeframe};

/// What to run: a strategy version over a period, market list and stake. Built only by
/// parsing user input, so every field is valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    pub strategy_id: Uuid,
    /// The exchange whose market data the job downloads. `None` only in jobs requested
    /// before jobs named an exchange; those cannot run.
    #[serde(default)]
    pub exchange_id: Option<Uuid>,
    /// The strategy's current version when the job was requested.
    pub strategy_version: u32,
    /// The `IStrategy` class of that version (freqtrade's `--strategy`).
    pub strategy_class: String,
    pub dates: DateRange,
    pub timeframe: Timeframe,
    /// Always a fixed amount: jobs have no balance to split.
    pub stake_amount: StakeAmount,
    pub stake_currency: StakeCurrency,
    pub pairs: Pairs,
    /// Extra freqtrade settings for this run (`{}` when none were given).
    pub config: ConfigObject,
}

/// The raw inputs of a job request, as the API received them: what a backtest and a
/// hyperopt request share. Dates are `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobInput {
    pub strategy_id: Uuid,
    /// Where the candles come from (its public API; no credentials are used). `None`:
    /// the only exchange, when there is exactly one.
    pub exchange_id: Option<Uuid>,
    pub start_date: String,
    pub end_date: String,
    pub timeframe: String,
    pub stake_amount: f64,
    pub stake_currency: String,
    pub pairs: Vec<String>,
    pub config: Option<Value>,
}

impl JobSpec {
    /// Parses every input (errors name `startDate`, `endDate`, `timeframe`, `stakeAmount`,
    /// `stakeCurrency`, `pairs[i]`, `config`), then pins the strategy's current version
    /// (NotFound on `strategyId` when it does not exist) and checks the exchange exists
    /// (NotFound on `exchangeId`); without an exchange, the only one is taken (Invalid on
    /// `exchangeId` when there is none or more than one).
    pub(crate) async fn parse(input: JobInput, lookup: &Services) -> Result<Self, DomainError> {
        let dates = DateRange::parse(&input.start_date, &input.end_date)?;
        let timeframe = Timeframe::parse(&input.timeframe)?;
        let stake_amount = StakeAmount::parse_amount(input.stake_amount)?;
        let stake_currency = StakeCurrency::parse(&input.stake_currency)?;
        let pairs = Pairs::parse(&input.pairs)?;
        let config = match input.config {
            Some(config) => ConfigObject::parse("config", config)?,
            None => ConfigObject::default(),
        };
        let strategy = lookup
            .strategy(input.strategy_id)
            .await?
            .ok_or_else(|| DomainError::not_found("strategyId", "no such strategy"))?;
        let exchange_id = match input.exchange_id {
            Some(id) => {
                lookup
                    .exchange(id)
                    .await?
                    .ok_or_else(|| DomainError::not_found("exchangeId", "no such exchange"))?;
                id
            }
            None => lookup.only_exchange().await?.ok_or_else(|| {
                DomainError::invalid(
                    "exchangeId",
                    "required: name the exchange whose market data the job uses (it may be left out only when exactly one exchange exists)",
                )
            })?,
        };
        Ok(Self {
            strategy_id: input.strategy_id,
            exchange_id: Some(exchange_id),
            strategy_version: strategy.current_version,
            strategy_class: strategy.class_name,
            dates,
            timeframe,
            stake_amount,
            stake_currency,
            pairs,
            config,
        })
    }
}

crate::values::string_enum! {
    /// The two kinds of job; the names are what runtimes label their jobs with.
    pub enum JobKind (field = "kind", what = "job kind") {
        Backtest => "backtest",
        Hyperopt => "hyperopt",
    }
}

crate::values::string_enum! {
    /// Where a job is in its life; the names are what events and read models store.
    pub enum JobStatus (field = "status", what = "job status") {
        Pending => "pending",
        Running => "running",
        Completed => "completed",
        Failed => "failed",
        Cancelled => "cancelled",
    }
}

// `string_enum!` declares the enum, so `#[default]` cannot be put on a variant.
#[allow(clippy::derivable_impls)]
impl Default for JobStatus {
    fn default() -> Self {
        Self::Pending
    }
}

/// What can happen to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobAction {
    Start,
    Complete,
    Fail,
    Cancel,
}

impl JobStatus {
    /// Completed, failed or cancelled: nothing more will happen.
    pub fn is_finished(&self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// The status after `action`, or a Conflict on `status`. `job` names the kind of job
    /// in the message (`backtest`, `hyperopt`).
    ///
    /// A pending job may fail (the runtime could not start it) or be cancelled; only a
    /// running job completes.
    pub fn after(self, action: JobAction, job: &str) -> Result<Self, DomainError> {
        use JobAction::*;
        use JobStatus::*;
        match (self, action) {
            (Pending, Start) => Ok(Running),
            (Running, Complete) => Ok(Completed),
            (Pending | Running, Fail) => Ok(Failed),
            (Pending | Running, Cancel) => Ok(Cancelled),
            (status, action) => {
                let verb = match action {
                    Start => "start",
                    Complete => "complete",
                    Fail => "fail",
                    Cancel => "cancel",
                };
                Err(DomainError::conflict(
                    "status",
                    format!("cannot {verb} a {job} that is {}", status.as_str()),
                ))
            }
        }
    }
}

/// Results of a finished job must be a JSON object (freqtrade's stats are). Errors name
/// `results`.
pub(crate) fn parse_results(results: Value) -> Result<Map<String, Value>, DomainError> {
    match results {
        Value::Object(map) => Ok(map),
        _ => Err(DomainError::invalid("results", "must be a JSON object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_machine() {
        use JobAction::*;
        use JobStatus::*;
        let all = [Pending, Running, Completed, Failed, Cancelled];
        let allowed = [
            (Pending, Start, Running),
            (Running, Complete, Completed),
            (Pending, Fail, Failed),
            (Running, Fail, Failed),
            (Pending, Cancel, Cancelled),
            (Running, Cancel, Cancelled),
        ];
        for status in all {
            for action in [Start, Complete, Fail, Cancel] {
                let expected = allowed
                    .iter()
                    .find(|(from, act, _)| *from == status && *act == action)
                    .map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(status.after(action, "job"), Ok(to)),
                    None => assert!(
                        matches!(status.after(action, "job"), Err(DomainError::Conflict { ref field, .. }) if field == "status"),
                        "{status:?} {action:?}"
                    ),
                }
            }
        }
        assert_eq!(
            Completed.after(Cancel, "backtest"),
            Err(DomainError::conflict(
                "status",
                "cannot cancel a backtest that is completed"
            ))
        );
        assert!(Completed.is_finished() && Failed.is_finished() && Cancelled.is_finished());
        assert!(!Pending.is_finished() && !Running.is_finished());
        assert_eq!(
            serde_json::to_value(Cancelled).ok(),
            Some(serde_json::json!("cancelled"))
        );
    }

    #[test]
    fn results_must_be_an_object() {
        assert!(parse_results(serde_json::json!({"total_trades": 3})).is_ok());
        assert_eq!(
            parse_results(serde_json::json!([1])),
            Err(DomainError::invalid("results", "must be a JSON object"))
        );
    }
}
