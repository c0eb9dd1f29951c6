//! AnyTrade's own PostgreSQL cluster, for installations without `DATABASE_URL`.
//!
//! The cluster lives in `<data_dir>/postgres`, is created with `initdb` on first start,
//! started with the service and stopped with it. It listens only on a Unix socket inside
//! its own directory (mode 0700), so only its owner can reach it. PostgreSQL refuses to
//! run as root; when AnyTrade runs as root the cluster runs as the `postgres` user (or
//! `nobody` when there is none).

use std::path::{Path, PathBuf};
use std::process::Output;

use nix::unistd::{Uid, User};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tokio::process::Command;

const SUPERUSER: &str = "anytrade";
const DATABASE: &str = "anytrade";
const PORT: u16 = 5432;
/// Unix socket paths longer than this do not fit in `sockaddr_un`.
const MAX_SOCKET_PATH: usize = 107;

/// Why the embedded cluster could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no DATABASE_URL is set and PostgreSQL server binaries (initdb, pg_ctl) were not found; install them (Debian/Ubuntu: `apt-get install postgresql`), set postgres_bin_dir, or set DATABASE_URL"
    )]
    BinariesMissing,
    #[error(
        "running as root, but neither a `postgres` nor a `nobody` user exists to run PostgreSQL"
    )]
    NoUnprivilegedUser,
    #[error(
        "the embedded database socket path {0} is too long for a Unix socket; choose a shorter data_dir"
    )]
    PathTooLong(PathBuf),
    #[error("the embedded database path {0} contains a quote; choose another data_dir")]
    UnsupportedPath(PathBuf),
    #[error("{action} failed: {detail}")]
    Command { action: String, detail: String },
    #[error("cannot connect to the embedded database: {0}")]
    Connect(#[from] sqlx::Error),
}

/// A private PostgreSQL cluster under the data directory.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    cluster_dir: PathBuf,
    run_as: Option<User>,
}

impl EmbeddedPostgres {
    /// Finds the PostgreSQL binaries and decides who runs the cluster; starts nothing.
    pub fn new(data_dir: &Path, bin_dir: Option<&Path>) -> Result<Self, EmbeddedError> {
        let bin_dir = match bin_dir {
            Some(dir) => dir.to_path_buf(),
            None => find_bin_dir().ok_or(EmbeddedError::BinariesMissing)?,
        };
        if !bin_dir.join("initdb").is_file() || !bin_dir.join("pg_ctl").is_file() {
            return Err(EmbeddedError::BinariesMissing);
        }
        let run_as = if Uid::effective().is_root() {
            let user = ["postgres", "nobody"]
                .iter()
                .find_map(|name| User::from_name(name).ok().flatten())
                .ok_or(EmbeddedError::NoUnprivilegedUser)?;
            Some(user)
        } else {
            None
        };
        let data_dir = std::path::absolute(data_dir).map_err(|e| EmbeddedError::Command {
            action: "resolving data_dir".into(),
            detail: e.to_string(),
        })?;
        let cluster_dir = data_dir.join("postgres");
        let socket = cluster_dir.join(format!(".s.PGSQL.{PORT}"));
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(EmbeddedError::PathTooLong(socket));
        }
        if cluster_dir.to_string_lossy().contains(['\'', '"']) {
            return Err(EmbeddedError::UnsupportedPath(cluster_dir));
        }
        Ok(Self {
            bin_dir,
            cluster_dir,
            run_as,
        })
    }

    pub fn cluster_dir(&self) -> &Path {
        &self.cluster_dir
    }

    /// Initializes the cluster if needed, starts it unless it already runs (another
    /// `anytrade` process, or one that was killed), and returns how to connect to
    /// AnyTrade's database in it and whether this call started it.
    pub async fn start(&self) -> Result<(PgConnectOptions, bool), EmbeddedError> {
        self.prepare_dir()?;
        if !self.cluster_dir.join("PG_VERSION").exists() {
            tracing::info!(dir = %self.cluster_dir.display(), "initializing the embedded PostgreSQL cluster");
            self.run(
                "initdb",
                &[
                    "-D",
                    &self.cluster_dir.to_string_lossy(),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-instructions",
                ],
            )
            .await?;
        }
        let started = !self.is_running().await;
        if started {
            let dir = self.cluster_dir.to_string_lossy().into_owned();
            let options = format!(
                "-c listen_addresses='' -k '{dir}' -p {PORT} -c unix_socket_permissions=0700 -c track_commit_timestamp=on"
            );
            let log = self.cluster_dir.join("postgresql.log");
            self.run(
                "pg_ctl",
                &[
                    "start",
                    "-D",
                    &dir,
                    "-w",
                    "-t",
                    "120",
                    "-l",
                    &log.to_string_lossy(),
                    "-o",
                    &options,
                ],
            )
            .await?;
            tracing::info!(dir = %dir, "embedded PostgreSQL started");
        } else {
            tracing::info!(dir = %self.cluster_dir.display(), "embedded PostgreSQL already running; reusing it");
        }
        let admin = self.connect_options().database("postgres");
        let mut conn = admin.connect().await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(DATABASE)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            sqlx::query(&format!("CREATE DATABASE {DATABASE}"))
                .execute(&mut conn)
                .await?;
        }
        conn.close().await?;
        Ok((self.connect_options(), started))
    }

    /// Stops the cluster, letting running queries end quickly.
    pub async fn stop(&self) -> Result<(), EmbeddedError> {
        if self.is_running().await {
            self.run(
                "pg_ctl",
                &[
                    "stop",
                    "-D",
                    &self.cluster_dir.to_string_lossy(),
                    "-m",
                    "fast",
                    "-w",
                ],
            )
            .await?;
            tracing::info!("embedded PostgreSQL stopped");
        }
        Ok(())
    }

    fn connect_options(&self) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.cluster_dir)
            .port(PORT)
            .username(SUPERUSER)
            .database(DATABASE)
    }

    async fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .args(["status", "-D"])
            .arg(&self.cluster_dir)
            .output()
            .await
            .map(|out| out.status.success())
            .unwrap_or(false)
    }

    fn prepare_dir(&self) -> Result<(), EmbeddedError> {
        use std::os::unix::fs::PermissionsExt;
        let fail = |e: std::io::Error| EmbeddedError::Command {
            action: format!("creating {}", self.cluster_dir.display()),
            detail: e.to_string(),
        };
        std::fs::create_dir_all(&self.cluster_dir).map_err(fail)?;
        std::fs::set_permissions(&self.cluster_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(fail)?;
        if let Some(user) = &self.run_as {
            std::os::unix::fs::chown(
                &self.cluster_dir,
                Some(user.uid.as_raw()),
                Some(user.gid.as_raw()),
            )
            .map_err(fail)?;
        }
        Ok(())
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(program));
        command.current_dir("/").kill_on_drop(true);
        if let Some(user) = &self.run_as {
            command
                .uid(user.uid.as_raw())
                .gid(user.gid.as_raw())
                .env("HOME", &user.dir)
                .env("USER", &user.name);
        }
        command
    }

    async fn run(&self, program: &str, args: &[&str]) -> Result<Output, EmbeddedError> {
        let action = format!("{program} {}", args.first().copied().unwrap_or_default());
        let output = self
            .command(program)
            .args(args)
            .output()
            .await
            .map_err(|e| EmbeddedError::Command {
                action: action.clone(),
                detail: e.to_string(),
            })?;
        if output.status.success() {
            return Ok(output);
        }
        let mut detail = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if detail.is_empty() {
            detail = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        }
        if let Some(user) = &self.run_as {
            detail.push_str(&format!(
                " (the cluster runs as user `{}`, which must be able to reach {})",
                user.name,
                self.cluster_dir.display()
            ));
        }
        Err(EmbeddedError::Command { action, detail })
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` (Debian, Ubuntu), else `pg_config`'s.
fn find_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let out = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()?;
    let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    bin.join("initdb").is_file().then_some(bin)
}
