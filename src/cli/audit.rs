//! `anytrade audit`: answers about the log's history and integrity.

use std::io::Write;

use clap::Subcommand;

use crate::app::Database;
use crate::audit::chain;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every event's hash and check each aggregate's chain: names the first
    /// broken link of each broken chain and exits non-zero when there is one.
    Verify,
}

pub async fn run(command: AuditCommand, database: &Database) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify => verify(database).await,
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
