//! Start-up and shut-down of the whole service, in the order things depend on each
//! other: configuration, keys, database, migrations, HTTP.

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::crypto::Keyring;
use crate::db::{self, embedded::EmbeddedPostgres};

/// The database the service uses, and the embedded cluster behind it if it owns one.
pub struct Database {
    pub pool: PgPool,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Connects to `DATABASE_URL`, or starts the embedded cluster when it is unset;
    /// then applies migrations.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let (options, embedded) = match &settings.database_url {
            Some(url) => (db::options_from_url(url.expose())?, None),
            None => {
                let embedded = EmbeddedPostgres::new(
                    &settings.data_dir,
                    settings.postgres_bin_dir.as_deref(),
                )?;
                let options = embedded.start().await?;
                (options, Some(embedded))
            }
        };
        let database = async {
            let pool = db::connect(options, 20).await?;
            db::migrate(&pool).await?;
            anyhow::Ok(pool)
        }
        .await;
        match database {
            Ok(pool) => Ok(Self { pool, embedded }),
            Err(e) => {
                if let Some(embedded) = embedded {
                    let _ = embedded.stop().await;
                }
                Err(e)
            }
        }
    }

    /// Closes the pool, then stops the embedded cluster if this process owns one.
    pub async fn close(self) -> anyhow::Result<()> {
        self.pool.close().await;
        if let Some(embedded) = self.embedded {
            embedded.stop().await?;
        }
        Ok(())
    }
}

/// The running service.
pub struct Application {
    listener: TcpListener,
    database: Database,
    keyring: Keyring,
}

impl Application {
    /// Checks keys, opens the database and binds the listener; serves nothing yet.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let keyring = Keyring::from_base64(
            settings.encryption_key.as_ref().map(|k| k.expose()),
            &settings.previous_keys(),
        )?;
        let database = Database::open(settings).await?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        Ok(Self {
            listener,
            database,
            keyring,
        })
    }

    /// The keys secrets are sealed with; loaded at start so a bad key stops the start.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `stop` resolves, then drains connections and closes the database.
    pub async fn run_until_stopped(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = crate::http::router(self.database.pool.clone());
        tracing::info!(address = %self.listener.local_addr()?, "AnyTrade is serving");
        let served = axum::serve(self.listener, router)
            .with_graceful_shutdown(stop)
            .await;
        self.database.close().await?;
        served.context("HTTP server failed")
    }
}
