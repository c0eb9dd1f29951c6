//! `anytrade events`: the log for people (an aligned table) and for tools (NDJSON),
//! filtered in the database and streamed in batches, optionally followed live.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use anytrade_projections::log::read_matching;
use anytrade_projections::{AggregateKind, EventLog, LogFilter, LogPosition, LoggedEvent};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::BadInput;
use crate::audit::archive::{self, ImportError};
use crate::audit::chain;

/// How many events one read fetches: bounds memory however long the log is.
const BATCH: i64 = 1_000;
/// How often `--follow` looks for new events (the CLI gets no in-process signal).
const FOLLOW_POLL: Duration = Duration::from_millis(200);

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EventsCommand {
    #[command(subcommand)]
    pub action: Option<EventsAction>,
    #[command(flatten)]
    pub list: EventsArgs,
}

#[derive(Debug, Subcommand)]
pub enum EventsAction {
    /// Write the whole log (with hashes) to stdout as NDJSON, in position order.
    Export,
    /// Restore an export into an empty database: checks every line and hash, writes all
    /// or nothing, then verifies the chains and rebuilds the read models.
    Import {
        /// The export file; - for stdin.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only events of this aggregate type (exchange, strategy, bot, backtest, hyperopt,
    /// trade).
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_kind)]
    pub aggregate_type: Option<AggregateKind>,
    /// Only events of this aggregate.
    #[arg(long = "id", value_name = "UUID")]
    pub aggregate_id: Option<Uuid>,
    /// Only events of this type, e.g. BotStarted.
    #[arg(long)]
    pub event_type: Option<String>,
    /// Only events committed at or after this time (RFC 3339, or a date for its
    /// midnight UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<DateTime<Utc>>,
    /// Only events committed before this time.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<DateTime<Utc>>,
    /// Only events of commands issued by this actor, e.g. user:alice.
    #[arg(long)]
    pub actor: Option<String>,
    /// Only events of this correlation (one request and everything it caused).
    #[arg(long, value_name = "UUID")]
    pub correlation_id: Option<Uuid>,
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Keep printing events as they commit, until interrupted.
    #[arg(long)]
    pub follow: bool,
    /// Start after the event at this global position (the first column), e.g. where an
    /// earlier --follow stopped.
    #[arg(long, value_name = "POSITION")]
    pub after: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Aligned columns, one event per line.
    Table,
    /// One JSON object per line: the event with its payload and metadata.
    Ndjson,
}

pub(super) fn parse_kind(name: &str) -> Result<AggregateKind, String> {
    AggregateKind::parse(name).ok_or_else(|| {
        let known: Vec<_> = AggregateKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown aggregate type; known: {}", known.join(", "))
    })
}

/// An RFC 3339 time, or a date (`2026-12-05`) meaning its midnight UTC.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|date| date.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|_| "not an RFC 3339 time (2026-12-05T10:00:00Z) or a date (2026-12-05)".into())
}

impl EventsArgs {
    fn filter(&self) -> Result<LogFilter, BadInput> {
        if let Some(event_type) = &self.event_type {
            let owner = AggregateKind::of_event_type(event_type);
            if owner.is_none() || self.aggregate_type.is_some_and(|kind| owner != Some(kind)) {
                let scope = self.aggregate_type.map_or("any aggregate".to_owned(), |k| {
                    format!("{} aggregates", k.as_str())
                });
                return Err(BadInput::new(
                    "--event-type",
                    format!("{event_type:?} is not an event type of {scope}"),
                ));
            }
        }
        if let (Some(since), Some(until)) = (self.since, self.until)
            && until <= since
        {
            return Err(BadInput::new("--until", "must be later than --since"));
        }
        Ok(LogFilter {
            aggregate_type: self.aggregate_type,
            aggregate_id: self.aggregate_id,
            event_type: self.event_type.clone(),
            since: self.since,
            until: self.until,
            actor: self.actor.clone(),
            correlation_id: self.correlation_id,
        })
    }
}

pub async fn run(command: EventsCommand, pool: &PgPool) -> anyhow::Result<()> {
    match command.action {
        None => list(command.list, pool).await,
        Some(EventsAction::Export) => {
            let mut out = io::BufWriter::new(io::stdout());
            let events = archive::export(pool, &mut out).await?;
            eprintln!("exported {events} events");
            Ok(())
        }
        Some(EventsAction::Import { file }) => import(&file, pool).await,
    }
}

async fn import(file: &std::path::Path, pool: &PgPool) -> anyhow::Result<()> {
    let input: Box<dyn io::BufRead> = if file.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        let opened = std::fs::File::open(file)
            .map_err(|e| BadInput::new("FILE", format!("{}: {e}", file.display())))?;
        Box::new(io::BufReader::new(opened))
    };
    let imported = archive::import(pool, input).await.map_err(|e| match e {
        ImportError::Invalid { .. } => BadInput::new("FILE", e.to_string()).into(),
        e => anyhow::Error::from(e),
    })?;
    println!("imported {imported} events");
    let report = chain::verify(pool, 100_000, |_, _| {}).await?;
    if !report.is_intact() {
        anyhow::bail!(
            "the imported log does not verify: {} chain(s) broken",
            report.broken.len()
        );
    }
    println!("{} chains verified", report.chains);
    let projectors = anytrade_projections::all();
    let projectors: Vec<_> = projectors.iter().map(|p| p.as_ref()).collect();
    let events = anytrade_projections::rebuild::rebuild(pool, &projectors).await?;
    println!("read models rebuilt from {events} events");
    Ok(())
}

/// Prints the matching events; with `--follow`, goes on until the process is stopped.
async fn list(args: EventsArgs, pool: &PgPool) -> anyhow::Result<()> {
    let filter = args.filter()?;
    let log = EventLog::new(pool.clone());
    let after = match args.after {
        None => LogPosition::START,
        Some(position) => log
            .locate(position)
            .await?
            .ok_or_else(|| BadInput::new("--after", format!("no event at position {position}")))?,
    };
    print(&args, &filter, &log, pool, after).await
}

async fn print(
    args: &EventsArgs,
    filter: &LogFilter,
    log: &EventLog,
    pool: &PgPool,
    mut after: LogPosition,
) -> anyhow::Result<()> {
    let mut out = io::BufWriter::new(io::stdout());
    if args.output == Output::Table {
        writeln!(out, "{}", table_header())?;
    }
    loop {
        // Walk the log up to a head nothing can still commit before, so a follower
        // neither skips nor repeats an event.
        let upto = log.head().await?;
        loop {
            let batch = read_matching(pool, after, upto, filter, BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = last.log_position();
            for event in batch {
                let event = crate::hub::redacted(event);
                match args.output {
                    Output::Table => writeln!(out, "{}", table_row(&event))?,
                    Output::Ndjson => writeln!(out, "{}", ndjson(&event))?,
                }
            }
            out.flush()?;
        }
        after = after.max(upto);
        out.flush()?;
        if !args.follow {
            return Ok(());
        }
        tokio::time::sleep(FOLLOW_POLL).await;
    }
}

/// Column widths fit every value but the actor, so rows line up as they stream.
fn columns(cells: [&str; 8]) -> String {
    let [
        position,
        committed,
        kind,
        id,
        sequence,
        event_type,
        actor,
        correlation,
    ] = cells;
    format!(
        "{position:>9}  {committed:<24}  {kind:<8}  {id:<36}  {sequence:>5}  {event_type:<26}  \
         {actor:<24}  {correlation}"
    )
    .trim_end()
    .to_owned()
}

fn table_header() -> String {
    columns([
        "POSITION",
        "COMMITTED (UTC)",
        "TYPE",
        "ID",
        "SEQ",
        "EVENT",
        "ACTOR",
        "CORRELATION",
    ])
}

fn metadata_text<'a>(event: &'a LoggedEvent, key: &str) -> &'a str {
    event
        .metadata
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or("-")
}

fn table_row(event: &LoggedEvent) -> String {
    columns([
        &event.position.to_string(),
        &event
            .committed_at
            .format("%Y-%m-%d %H:%M:%S%.3f")
            .to_string(),
        &event.aggregate_type,
        &event.aggregate_id,
        &event.sequence.to_string(),
        &event.event_type,
        metadata_text(event, "actor"),
        metadata_text(event, "correlation_id"),
    ])
}

fn ndjson(event: &LoggedEvent) -> Value {
    json!({
        "position": event.position,
        "committed_at": event.committed_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "sequence": event.sequence,
        "event_type": event.event_type,
        "event_version": event.event_version,
        "payload": event.payload,
        "metadata": event.metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> LoggedEvent {
        LoggedEvent {
            position: 42,
            transaction_id: 7,
            committed_at: "2026-12-05T10:11:12.345678Z".parse().unwrap(),
            aggregate_type: "bot".into(),
            aggregate_id: "0196f1a0-0000-7000-8000-000000000001".into(),
            sequence: 3,
            event_type: "BotStarted".into(),
            event_version: "1.0".into(),
            payload: json!({ "BotStarted": {} }),
            metadata: json!({ "actor": "user:alice", "correlation_id": "c-1" }),
        }
    }

    #[test]
    fn rows_line_up_under_the_header() {
        let header = table_header();
        let row = table_row(&event());
        for title in ["TYPE", "ID", "EVENT", "ACTOR", "CORRELATION"] {
            let column = header.find(&format!("  {title}")).unwrap() + 2;
            let (before, at) = (row.as_bytes()[column - 1], row.as_bytes()[column]);
            assert!(
                before == b' ' && at != b' ',
                "{title} is not aligned:\n{header}\n{row}"
            );
        }
        assert!(
            row.starts_with("       42  2026-12-05 10:11:12.345"),
            "{row}"
        );
    }

    #[test]
    fn a_missing_actor_shows_as_a_dash() {
        let mut event = event();
        event.metadata = json!({});
        let row = table_row(&event);
        let cells: Vec<&str> = row.split_whitespace().rev().take(3).collect();
        assert_eq!(cells, ["-", "-", "BotStarted"], "{row}");
    }

    #[test]
    fn times_are_rfc3339_or_dates() {
        assert_eq!(
            parse_time("2026-12-05T10:00:00+01:00").unwrap(),
            "2026-12-05T09:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            parse_time("2026-12-05").unwrap(),
            "2026-12-05T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn an_event_type_must_belong_to_the_chosen_aggregate() {
        let args = |kind: Option<AggregateKind>, event_type: &str| EventsArgs {
            aggregate_type: kind,
            aggregate_id: None,
            event_type: Some(event_type.into()),
            since: None,
            until: None,
            actor: None,
            correlation_id: None,
            output: Output::Table,
            follow: false,
            after: None,
        };
        assert!(args(None, "BotStarted").filter().is_ok());
        assert!(
            args(Some(AggregateKind::Bot), "BotStarted")
                .filter()
                .is_ok()
        );
        let wrong = args(Some(AggregateKind::Exchange), "BotStarted")
            .filter()
            .unwrap_err();
        assert_eq!(wrong.argument, "--event-type");
        assert!(args(None, "BotExploded").filter().is_err());
    }
}
