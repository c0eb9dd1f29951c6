//! `anytrade audit`: answers about the log's history and integrity.

use std::io::Write;

use anytrade_projections::AggregateKind;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use uuid::Uuid;

use super::BadInput;
use super::events::{Output, parse_kind, parse_time};
use crate::app::Database;
use crate::audit::chain;
use crate::audit::fleet::{Fleet, FleetError};
use crate::audit::history::{self, AggregateRef, AuditError, Point};

/// Which aggregate: `TYPE ID`.
#[derive(Debug, Args)]
pub struct Aggregate {
    /// exchange, strategy, bot, backtest, hyperopt or trade.
    #[arg(value_name = "TYPE", value_parser = parse_kind)]
    kind: AggregateKind,
    #[arg(value_name = "ID")]
    id: Uuid,
}

impl Aggregate {
    fn as_ref(&self) -> AggregateRef {
        AggregateRef {
            kind: self.kind,
            id: self.id,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Each event of one aggregate: when, who, in which correlation, and the fields it
    /// changed (secrets only as set, rotated or removed).
    History {
        #[command(flatten)]
        aggregate: Aggregate,
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// The aggregate's state at a version or a time, as JSON.
    At {
        #[command(flatten)]
        aggregate: Aggregate,
        /// After its first N events.
        #[arg(long, value_name = "N", required_unless_present = "time", conflicts_with = "time",
              value_parser = clap::value_parser!(i64).range(1..))]
        version: Option<i64>,
        /// As it stood at this time (RFC 3339, or a date for its midnight UTC).
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        time: Option<DateTime<Utc>>,
    },
    /// Every exchange, strategy and bot as it stood at a time (read models rebuilt up to
    /// then in a scratch schema, printed, then dropped).
    Fleet {
        /// RFC 3339, or a date for its midnight UTC.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        time: DateTime<Utc>,
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// What changed between two versions; for a strategy, also a unified diff of its code.
    Diff {
        #[command(flatten)]
        aggregate: Aggregate,
        #[arg(value_name = "V1", value_parser = clap::value_parser!(i64).range(1..))]
        from: i64,
        #[arg(value_name = "V2", value_parser = clap::value_parser!(i64).range(1..))]
        to: i64,
    },
    /// Recompute every event's hash and check each aggregate's chain: names the first
    /// broken link of each broken chain and exits non-zero when there is one.
    Verify,
}

pub async fn run(command: AuditCommand, database: &Database) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify => verify(database).await,
        AuditCommand::History { aggregate, output } => {
            let entries = history::history(&database.pool, aggregate.as_ref(), 0, None)
                .await
                .map_err(|e| bad_input(e, "ID"))?;
            let mut out = std::io::stdout().lock();
            for entry in entries {
                match output {
                    Output::Ndjson => writeln!(out, "{}", serde_json::to_string(&entry)?)?,
                    Output::Table => {
                        writeln!(
                            out,
                            "v{}  {}  {}  by {}  correlation {}",
                            entry.version,
                            entry.committed_at.format("%Y-%m-%d %H:%M:%S%.3f"),
                            entry.event_type,
                            entry.actor.as_deref().unwrap_or("-"),
                            entry
                                .correlation_id
                                .map_or("-".to_owned(), |id| id.to_string()),
                        )?;
                        for change in &entry.changes {
                            writeln!(out, "    {change}")?;
                        }
                    }
                }
            }
            Ok(())
        }
        AuditCommand::At {
            aggregate,
            version,
            time,
        } => {
            let (point, argument) = match (version, time) {
                (Some(n), _) => (Point::Version(n), "--version"),
                (None, Some(t)) => (Point::Time(t), "--time"),
                (None, None) => {
                    return Err(BadInput::new("--version", "or --time is required").into());
                }
            };
            let snapshot = history::at(&database.pool, aggregate.as_ref(), point)
                .await
                .map_err(|e| bad_input(e, argument))?;
            println!("{}", serde_json::to_string_pretty(&snapshot)?);
            Ok(())
        }
        AuditCommand::Fleet { time, output } => {
            let fleet = crate::audit::fleet::at(&database.pool, time)
                .await
                .map_err(|e| match e {
                    FleetError::BeforeFirstEvent { .. } | FleetError::EmptyLog => {
                        BadInput::new("--time", e.to_string()).into()
                    }
                    e => anyhow::Error::from(e),
                })?;
            let mut out = std::io::stdout().lock();
            match output {
                Output::Ndjson => writeln!(out, "{}", serde_json::to_string(&fleet)?)?,
                Output::Table => print_fleet(&mut out, &fleet)?,
            }
            Ok(())
        }
        AuditCommand::Diff {
            aggregate,
            from,
            to,
        } => {
            let diff = history::between(&database.pool, aggregate.as_ref(), from, to)
                .await
                .map_err(|e| bad_input(e, "V1/V2"))?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{}: version {} ({}) -> version {} ({})",
                aggregate.as_ref(),
                diff.from.version,
                diff.from.event_type,
                diff.to.version,
                diff.to.event_type
            )?;
            if diff.changes.is_empty() {
                writeln!(out, "    no field changed")?;
            }
            for change in &diff.changes {
                writeln!(out, "    {change}")?;
            }
            if let Some(code) = &diff.code_diff {
                write!(out, "\n{code}")?;
            }
            Ok(())
        }
    }
}

fn print_fleet(out: &mut impl Write, fleet: &Fleet) -> std::io::Result<()> {
    let text = |row: &serde_json::Value, field: &str| match &row[field] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    writeln!(
        out,
        "fleet at {} ({} events)",
        fleet
            .time
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        fleet.events
    )?;
    writeln!(out, "exchanges ({})", fleet.exchanges.len())?;
    for row in &fleet.exchanges {
        let secrets: Vec<String> = row["secrets"]
            .as_array()
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        writeln!(
            out,
            "  {}  {}  test_mode={}  secrets: {}",
            text(row, "id"),
            text(row, "name"),
            text(row, "test_mode"),
            if secrets.is_empty() {
                "-".to_owned()
            } else {
                secrets.join(", ")
            }
        )?;
    }
    writeln!(out, "strategies ({})", fleet.strategies.len())?;
    for row in &fleet.strategies {
        writeln!(
            out,
            "  {}  {}  version {}  class {}",
            text(row, "id"),
            text(row, "name"),
            text(row, "current_version"),
            text(row, "class_name")
        )?;
    }
    writeln!(out, "bots ({})", fleet.bots.len())?;
    for row in &fleet.bots {
        writeln!(
            out,
            "  {}  {}  {}  {}  strategy {} v{}",
            text(row, "id"),
            text(row, "name"),
            text(row, "status"),
            text(row, "mode"),
            text(row, "strategy_id"),
            text(row, "strategy_version")
        )?;
    }
    Ok(())
}

/// Questions about something that is not in the log are the user's to correct (exit 2);
/// anything else is a failure.
fn bad_input(error: AuditError, argument: &str) -> anyhow::Error {
    match &error {
        AuditError::NotFound(_) => BadInput::new("ID", error.to_string()).into(),
        AuditError::VersionPastEnd { .. }
        | AuditError::VersionBeforeStart(_)
        | AuditError::BeforeFirstEvent { .. } => BadInput::new(argument, error.to_string()).into(),
        AuditError::MissingVersion { .. }
        | AuditError::Decode(_)
        | AuditError::Replay(_)
        | AuditError::Database(_) => error.into(),
    }
}

async fn verify(database: &Database) -> anyhow::Result<()> {
    let started_at = chrono::Utc::now();
    let report = chain::verify(&database.pool, 100_000, |done, total| {
        eprintln!("verified {done} of {total} events");
    })
    .await?;
    chain::record(&database.pool, started_at, &report).await?;
    let mut out = std::io::stdout().lock();
    for link in &report.broken {
        writeln!(out, "BROKEN {link}")?;
    }
    writeln!(
        out,
        "{} events in {} chains: {}",
        report.events,
        report.chains,
        if report.is_intact() {
            "every chain intact".to_owned()
        } else {
            format!("{} chain(s) broken", report.broken.len())
        }
    )?;
    if !report.is_intact() {
        anyhow::bail!("the event log does not verify");
    }
    Ok(())
}
