//! `anytrade projections`: how far each read model is behind the log, and rebuilding
//! one from the start of the log.

use std::io::Write;
use std::sync::Arc;

use anytrade_projections::runner::{self, ProjectionStatus};
use anytrade_projections::{EventLog, Projector};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use sqlx::PgPool;

use super::BadInput;

#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Each read model's checkpoint, the log head, and the lag in events and seconds.
    Status,
    /// Rebuild a read model (or all of them) from the start of the log. Queries keep
    /// seeing the old rows until the new ones are complete.
    Rebuild {
        /// exchanges, strategies, bots, backtests, hyperopts or trades; all when omitted.
        name: Option<String>,
    },
}

pub async fn run(command: ProjectionsCommand, pool: &PgPool) -> anyhow::Result<()> {
    match command {
        ProjectionsCommand::Status => status(pool).await,
        ProjectionsCommand::Rebuild { name } => {
            let projectors = named(name.as_deref())?;
            let projectors: Vec<&dyn Projector> = projectors.iter().map(|p| p.as_ref()).collect();
            let events = anytrade_projections::rebuild::rebuild(pool, &projectors).await?;
            let names: Vec<&str> = projectors.iter().map(|p| p.name()).collect();
            println!("{}: rebuilt from {events} events", names.join(", "));
            Ok(())
        }
    }
}

/// The projector called `name`, or all of them.
fn named(name: Option<&str>) -> Result<Vec<Arc<dyn Projector>>, BadInput> {
    let all = anytrade_projections::all();
    let Some(name) = name else { return Ok(all) };
    let known: Vec<_> = all.iter().map(|p| p.name()).collect();
    let known = known.join(", ");
    all.into_iter()
        .find(|p| p.name() == name)
        .map(|p| vec![p])
        .ok_or_else(|| BadInput::new("NAME", format!("no read model {name:?}; known: {known}")))
}

async fn status(pool: &PgPool) -> anyhow::Result<()> {
    let log = EventLog::new(pool.clone());
    let head = log.head().await?;
    let statuses = runner::status(pool, &anytrade_projections::all()).await?;
    let now = Utc::now();
    let mut out = std::io::stdout().lock();
    writeln!(out, "log head: position {}", head.position)?;
    writeln!(
        out,
        "{}",
        row(["READ MODEL", "CHECKPOINT", "BEHIND", "LAG"])
    )?;
    for status in statuses {
        writeln!(out, "{}", status_row(&status, now))?;
    }
    Ok(())
}

fn row([name, checkpoint, behind, lag]: [&str; 4]) -> String {
    format!("{name:<12}  {checkpoint:>10}  {behind:>8}  {lag:>8}")
}

fn status_row(status: &ProjectionStatus, now: DateTime<Utc>) -> String {
    let lag = status
        .oldest_waiting
        .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
    row([
        status.name,
        &status.checkpoint.position.to_string(),
        &status.behind.to_string(),
        &format!("{lag:.1}s"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use anytrade_projections::LogPosition;

    #[test]
    fn lag_is_the_age_of_the_oldest_unapplied_event() {
        let now: DateTime<Utc> = "2026-12-05T10:00:10Z".parse().unwrap();
        let status = |behind, oldest: Option<&str>| ProjectionStatus {
            name: "bots",
            checkpoint: LogPosition {
                transaction_id: 9,
                position: 120,
            },
            behind,
            oldest_waiting: oldest.map(|t| t.parse().unwrap()),
        };
        let caught_up = status_row(&status(0, None), now);
        assert_eq!(caught_up, row(["bots", "120", "0", "0.0s"]));
        let behind = status_row(&status(7, Some("2026-12-05T10:00:07.500Z")), now);
        assert_eq!(behind, row(["bots", "120", "7", "2.5s"]));
    }

    #[test]
    fn an_unknown_read_model_is_bad_input() {
        assert_eq!(
            named(None).unwrap().len(),
            anytrade_projections::all().len()
        );
        assert_eq!(named(Some("bots")).unwrap()[0].name(), "bots");
        let unknown = named(Some("robots")).err().unwrap();
        assert_eq!(unknown.argument, "NAME");
        assert!(
            unknown.reason.contains("known: exchanges"),
            "{}",
            unknown.reason
        );
    }
}
