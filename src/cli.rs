//! The `anytrade` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::app::{Application, Database};
use crate::config::Settings;
use crate::crypto::Keyring;

/// AnyTrade: one control plane for a fleet of freqtrade bots.
#[derive(Debug, Parser)]
#[command(name = "anytrade", version, about)]
pub struct Cli {
    /// TOML configuration file; environment variables override it.
    #[arg(long, global = true, env = "ANYTRADE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the control plane: HTTP (/healthz, /readyz) until SIGTERM or Ctrl-C. Without
    /// DATABASE_URL it starts its own PostgreSQL under the data directory.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print a new encryption key to use as ANYTRADE_ENCRYPTION_KEY.
    Keygen,
}

/// Runs the parsed command line; errors end the process with a message.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Keygen = cli.command {
        println!("{}", Keyring::generate_key());
        return Ok(());
    }
    let settings = Settings::load(cli.config.as_deref())?;
    crate::telemetry::init(settings.log_format, &settings.log_level);
    match cli.command {
        Command::Serve => {
            let app = Application::build(&settings).await?;
            app.run_until_stopped(crate::shutdown::signal()).await
        }
        Command::Migrate => {
            let database = Database::open(&settings).await?;
            tracing::info!("migrations applied");
            database.close().await
        }
        Command::Keygen => Ok(()),
    }
}
