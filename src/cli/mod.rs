//! The `anytrade` command line.

mod audit;
mod events;
mod projections;
mod users;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use audit::AuditCommand;
pub use events::{EventsAction, EventsArgs, EventsCommand};
pub use projections::ProjectionsCommand;
pub use users::UsersCommand;

use crate::app::{Application, Database, Ownership};
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
    Serve {
        /// Also serve the exchange simulator, register a `sandbox` exchange on it (no
        /// keys needed) and add the example strategies: a dry-run bot with no exchange
        /// account and no internet.
        #[arg(long)]
        sandbox: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print a new encryption key to use as ANYTRADE_ENCRYPTION_KEY.
    Keygen,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Manage encryption keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// List or follow the event log, filtered, as a table or as NDJSON; export it whole
    /// and import it into an empty database.
    Events(EventsCommand),
    /// Browse the audit trail and prove it was not edited.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Manage the read models built from the event log.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Manage who may log in: add, list, change roles and passwords, disable, delete.
    #[command(subcommand)]
    Users(UsersCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-seal every stored secret under the current ANYTRADE_ENCRYPTION_KEY. Put the
    /// old key in ANYTRADE_PREVIOUS_ENCRYPTION_KEYS first; drop it once this reports
    /// nothing left to re-seal. No plaintext is written anywhere.
    Rotate,
}

/// Input the user must correct; the process exits with 2, as for clap's usage errors.
#[derive(Debug, thiserror::Error)]
#[error("{argument}: {reason}")]
pub struct BadInput {
    pub argument: String,
    pub reason: String,
}

impl BadInput {
    pub fn new(argument: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            argument: argument.into(),
            reason: reason.into(),
        }
    }
}

/// Runs the parsed command line; errors end the process with a message.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Keygen => {
            println!("{}", Keyring::generate_key());
            return Ok(());
        }
        Command::Schema => {
            print!("{}", crate::graphql::schema(None).sdl());
            return Ok(());
        }
        _ => {}
    }
    let mut settings = Settings::load(cli.config.as_deref())?;
    crate::telemetry::init(settings.log_format, &settings.log_level);
    match cli.command {
        Command::Serve { sandbox } => {
            settings.sandbox.enabled |= sandbox;
            let app = Application::build(&settings).await?;
            app.run_until_stopped(crate::shutdown::signal()).await
        }
        Command::Migrate => {
            let database = Database::open(&settings, Ownership::OneShot).await?;
            tracing::info!("migrations applied");
            database.close().await
        }
        Command::Keys(KeysCommand::Rotate) => {
            let keys = Keyring::from_base64(
                settings.encryption_key.as_ref().map(|k| k.expose()),
                &settings.previous_keys(),
            )?;
            let database = Database::open(&settings, Ownership::OneShot).await?;
            let pool = database.pool.clone();
            let log = anytrade_projections::EventLog::new(pool.clone());
            let lookup = std::sync::Arc::new(crate::lookup::PgLookup::new(pool.clone()));
            let commands = crate::store::Commands::new(&pool, &log, lookup);
            let rotated = crate::key_rotation::reseal_all(&pool, &commands, &keys).await;
            database.close().await?;
            let rotated = rotated?;
            println!(
                "re-sealed {} exchange secret(s) and {} bot API password(s) under key {}; \
                 {} exchange secret(s) already under it",
                rotated.resealed,
                rotated.bot_passwords,
                keys.current_key_id(),
                rotated.already_current
            );
            Ok(())
        }
        Command::Projections(command) => {
            let database = Database::open(&settings, Ownership::OneShot).await?;
            let result = projections::run(command, &database.pool).await;
            database.close().await?;
            result
        }
        Command::Events(args) => {
            let database = Database::open(&settings, Ownership::OneShot).await?;
            let result = events::run(args, &database.pool).await;
            database.close().await?;
            result
        }
        Command::Users(command) => {
            let database = Database::open(&settings, Ownership::OneShot).await?;
            let result = users::run(command, &database.pool).await;
            database.close().await?;
            result
        }
        Command::Audit(command) => {
            let database = Database::open(&settings, Ownership::OneShot).await?;
            let result = audit::run(command, &database).await;
            database.close().await?;
            result
        }
        Command::Keygen | Command::Schema => Ok(()),
    }
}
