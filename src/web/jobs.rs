//! Backtests and hyperopts: both lists with their status (newest first), the forms to
//! start one, a backtest's summary, per-pair table and equity curve, and a hyperopt's
//! progress and best parameters.

use anytrade_aggregates::JobStatus;
use anytrade_projections::jobs::{self, BacktestRow, HyperoptRow, JobFilter, JobOrder, JobRow};
use anytrade_projections::page::Direction;
use anytrade_projections::strategies;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::{WebState, charts, choices, current, render, unavailable};
use crate::auth::{Principal, Role};
use crate::graphql::BacktestSummary;

/// The most jobs of each kind the list shows.
const LISTED: i64 = 100;

/// One job as the lists show it.
pub struct JobLine {
    pub id: String,
    pub status: String,
    pub strategy: String,
    pub range: String,
    pub timeframe: String,
    pub pairs: String,
    /// Trades and profit of a completed backtest; epochs of a hyperopt.
    pub outcome: String,
    /// A hyperopt's percent done.
    pub progress: f64,
    pub created_at: String,
}

#[derive(Template)]
#[template(path = "web/jobs.html")]
struct JobsPage {
    backtests: Vec<JobLine>,
    hyperopts: Vec<JobLine>,
    admin: bool,
    exchanges: Vec<(String, String)>,
    strategies: Vec<(String, String)>,
}

/// `GET /ui/jobs`.
pub async fn page(State(state): State<WebState>, principal: Principal) -> Response {
    let principal = match current(&state, principal).await {
        Ok(principal) => principal,
        Err(refused) => return refused,
    };
    let admin = principal.role == Role::Admin;
    let order = JobOrder {
        direction: Direction::Desc,
        ..JobOrder::default()
    };
    let read = async {
        let names = strategies::names(&state.pool).await?;
        let strategy = |id: &Uuid| names.get(id).cloned().unwrap_or_default();
        let filter = JobFilter::default();
        let backtests = jobs::list::<BacktestRow>(&state.pool, &filter, order, None, LISTED)
            .await
            .map_err(super::page_error)?;
        let hyperopts = jobs::list::<HyperoptRow>(&state.pool, &filter, order, None, LISTED)
            .await
            .map_err(super::page_error)?;
        let backtests = backtests
            .rows
            .into_iter()
            .map(|(row, _)| {
                let summary = row
                    .job
                    .results
                    .as_ref()
                    .and_then(BacktestSummary::from_results);
                let outcome = summary
                    .map(|s| {
                        format!(
                            "{} trades, {:.2} {}",
                            s.total_trades.unwrap_or(0),
                            s.profit_total_abs.unwrap_or(0.0),
                            row.job.stake_currency
                        )
                    })
                    .unwrap_or_default();
                line(&row.job, strategy(&row.job.strategy_id), outcome, 0.0)
            })
            .collect();
        let hyperopts = hyperopts
            .rows
            .into_iter()
            .map(|(row, _)| {
                let outcome = format!("epoch {} of {}", row.epoch.unwrap_or(0), row.epochs);
                line(
                    &row.job,
                    strategy(&row.job.strategy_id),
                    outcome,
                    row.progress,
                )
            })
            .collect();
        let (exchanges, strategies) = if admin {
            choices(&state).await?
        } else {
            Default::default()
        };
        Ok::<_, sqlx::Error>(JobsPage {
            backtests,
            hyperopts,
            admin,
            exchanges,
            strategies,
        })
    };
    match read.await {
        Ok(page) => render(&page),
        Err(e) => unavailable(e),
    }
}

fn line(job: &JobRow, strategy: String, outcome: String, progress: f64) -> JobLine {
    JobLine {
        id: job.id.to_string(),
        status: job.status.as_str().to_ascii_uppercase(),
        strategy: format!("{strategy} v{}", job.strategy_version),
        range: format!("{} → {}", job.start_date, job.end_date),
        timeframe: job.timeframe.clone(),
        pairs: job.pairs.join(", "),
        outcome,
        progress,
        created_at: job.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

/// Job `id` of kind `J` and its strategy's name, for a caller the users table still
/// knows; otherwise the response to send instead (refused, not found, unavailable).
async fn load<J: jobs::Job>(
    state: &WebState,
    principal: Principal,
    id: Uuid,
) -> Result<(J, String), Response> {
    current(state, principal).await?;
    load_job(state, id).await
}

/// [`load`] for a caller already checked.
async fn load_job<J: jobs::Job>(state: &WebState, id: Uuid) -> Result<(J, String), Response> {
    let read = async {
        let Some(row) = jobs::get::<J>(&state.pool, id).await? else {
            return Ok(None);
        };
        let strategy = strategies::get(&state.pool, row.job().strategy_id).await?;
        let name = strategy.map(|s| s.name).unwrap_or_default();
        Ok::<_, sqlx::Error>(Some((row, name)))
    };
    match read.await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(StatusCode::NOT_FOUND.into_response()),
        Err(e) => Err(unavailable(e)),
    }
}

/// One pair's results in a backtest.
pub struct PairLine {
    pub pair: String,
    pub trades: i64,
    pub profit_abs: f64,
    pub profit_pct: f64,
    pub win_rate_pct: f64,
}

/// A backtest as its page (and each side of a comparison) shows it.
pub struct BacktestView {
    pub job: JobLine,
    pub summary: Option<BacktestSummary>,
    pub currency: String,
    pub pairs: Vec<PairLine>,
    /// The equity curve, drawn by [`charts::line`] (numbers only, no text).
    pub equity: Option<String>,
    pub first_close: String,
    pub last_close: String,
    pub error: Option<String>,
}

impl BacktestView {
    fn of(row: &BacktestRow, strategy: String) -> Self {
        let job = &row.job;
        let results = job.results.clone().unwrap_or(Value::Null);
        let closes = closed_trades(&results);
        let when = |ms: Option<&(f64, f64)>| {
            ms.and_then(|(ms, _)| chrono::DateTime::<Utc>::from_timestamp_millis(*ms as i64))
                .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
                .unwrap_or_default()
        };
        Self {
            job: line(job, strategy, String::new(), 0.0),
            summary: BacktestSummary::from_results(&results),
            currency: job.stake_currency.clone(),
            pairs: per_pair(&results),
            first_close: when(closes.iter().min_by(|a, b| a.0.total_cmp(&b.0))),
            last_close: when(closes.iter().max_by(|a, b| a.0.total_cmp(&b.0))),
            equity: charts::line(&charts::cumulative(closes)),
            error: job.error_message.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "web/backtest.html")]
struct BacktestPage {
    view: BacktestView,
    /// (id, label) of the other completed backtests, to compare this one with.
    others: Vec<(String, String)>,
}

/// `GET /ui/backtests/{id}`.
pub async fn backtest(
    State(state): State<WebState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    let (row, strategy) = match load::<BacktestRow>(&state, principal, id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let completed = JobFilter {
        statuses: Some(vec![JobStatus::Completed]),
        ..JobFilter::default()
    };
    let order = JobOrder {
        direction: Direction::Desc,
        ..JobOrder::default()
    };
    let others = match jobs::list::<BacktestRow>(&state.pool, &completed, order, None, LISTED).await
    {
        Ok(listed) => listed
            .rows
            .into_iter()
            .filter(|(other, _)| other.job.id != id)
            .map(|(other, _)| {
                let job = &other.job;
                let label = format!(
                    "{} · {} → {} · {}",
                    job.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                    job.start_date,
                    job.end_date,
                    job.timeframe
                );
                (job.id.to_string(), label)
            })
            .collect(),
        Err(e) => return unavailable(super::page_error(e)),
    };
    render(&BacktestPage {
        view: BacktestView::of(&row, strategy),
        others,
    })
}

/// The two backtests a comparison shows.
#[derive(Debug, Deserialize)]
pub struct Compared {
    a: Uuid,
    b: Uuid,
}

#[derive(Template)]
#[template(path = "web/compare.html")]
struct ComparePage {
    left: BacktestView,
    right: BacktestView,
    /// Both equity curves on one chart, the left one first.
    both: Option<String>,
}

/// `GET /ui/backtests/compare?a=…&b=…`: two backtests side by side.
pub async fn compare(
    State(state): State<WebState>,
    principal: Principal,
    Query(compared): Query<Compared>,
) -> Response {
    if let Err(refused) = current(&state, principal).await {
        return refused;
    }
    let (left, left_strategy) = match load_job::<BacktestRow>(&state, compared.a).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let (right, right_strategy) = match load_job::<BacktestRow>(&state, compared.b).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let curve = |row: &BacktestRow| {
        charts::cumulative(closed_trades(
            row.job.results.as_ref().unwrap_or(&Value::Null),
        ))
    };
    render(&ComparePage {
        both: charts::lines(&[&curve(&left), &curve(&right)]),
        left: BacktestView::of(&left, left_strategy),
        right: BacktestView::of(&right, right_strategy),
    })
}

/// (close time in ms, profit) of each closed trade freqtrade listed.
fn closed_trades(results: &Value) -> Vec<(f64, f64)> {
    results["trades"]
        .as_array()
        .map(|trades| {
            trades
                .iter()
                .filter_map(|t| Some((t["close_timestamp"].as_f64()?, t["profit_abs"].as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// The loss freqtrade gives an epoch it could not score (no trades, say): drawn, it
/// would flatten every real loss into a line.
const FAILED_EPOCH_LOSS: f64 = 100_000.0;

/// (epoch, loss) of each epoch the executor recorded with a finite loss that freqtrade
/// could score.
fn epoch_losses(results: &Value) -> Vec<(f64, f64)> {
    results["epoch_losses"]
        .as_array()
        .map(|epochs| {
            epochs
                .iter()
                .filter_map(|e| Some((e[0].as_f64()?, e[1].as_f64()?)))
                .filter(|(_, loss)| *loss < FAILED_EPOCH_LOSS)
                .collect()
        })
        .unwrap_or_default()
}

/// freqtrade's per-pair table, without its TOTAL line.
fn per_pair(results: &Value) -> Vec<PairLine> {
    results["results_per_pair"]
        .as_array()
        .map(|pairs| {
            pairs
                .iter()
                .filter(|p| p["key"] != "TOTAL")
                .filter_map(|p| {
                    Some(PairLine {
                        pair: p["key"].as_str()?.to_owned(),
                        trades: p["trades"].as_i64().unwrap_or(0),
                        profit_abs: p["profit_total_abs"].as_f64().unwrap_or(0.0),
                        profit_pct: p["profit_total"].as_f64().unwrap_or(0.0) * 100.0,
                        win_rate_pct: p["winrate"].as_f64().unwrap_or(0.0) * 100.0,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "web/hyperopt.html")]
struct HyperoptPage {
    job: JobLine,
    epochs: i32,
    epoch: i32,
    metric: String,
    spaces: String,
    /// Best parameters found, as (name, value) text.
    params: Vec<(String, String)>,
    loss: Option<f64>,
    /// Each epoch's loss, drawn by [`charts::line`].
    losses: Option<String>,
    error: Option<String>,
}

/// `GET /ui/hyperopts/{id}`.
pub async fn hyperopt(
    State(state): State<WebState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    let (row, strategy) = match load::<HyperoptRow>(&state, principal, id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let results = row.job.results.clone().unwrap_or(Value::Null);
    let params = results["params"]
        .as_object()
        .map(|params| {
            params
                .iter()
                .map(|(name, value)| (name.clone(), value.to_string()))
                .collect()
        })
        .unwrap_or_default();
    render(&HyperoptPage {
        job: line(&row.job, strategy, String::new(), row.progress),
        epochs: row.epochs,
        epoch: row.epoch.unwrap_or(0),
        metric: row.optimization_metric.as_str().to_ascii_uppercase(),
        spaces: row
            .spaces
            .iter()
            .map(|s| s.as_str().to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(", "),
        params,
        loss: results["loss"].as_f64(),
        losses: charts::line(&epoch_losses(&results)),
        error: row.job.error_message.clone(),
    })
}
