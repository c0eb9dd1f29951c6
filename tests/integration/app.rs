//! The whole service on a random port against its own database, driven over HTTP as a
//! client would.

use std::net::SocketAddr;
use std::time::Duration;

use anytrade::app::Application;
use anytrade::auth::{Role, create_user};
use anytrade::config::{Redacted, Settings};
use anytrade::crypto::Keyring;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{fresh_database_url, poll_until};

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const VIEWER_PASSWORD: &str = "viewer-password-for-tests";

pub struct TestApp {
    pub address: SocketAddr,
    pub pool: PgPool,
    pub hub: anytrade::hub::Hub,
    /// How far the service's read models have applied the log.
    pub projections: anytrade_projections::Projections,
    pub admin: String,
    pub viewer: String,
    /// What it was started with, to start it again on the same database and keys.
    pub settings: Settings,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    serving: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// The service with its API only: lifecycle requests are recorded, not carried
    /// out (no runtime is touched), and no bot's API is polled.
    pub async fn spawn() -> Self {
        Self::spawn_with(|settings| {
            settings.runtime.manage = false;
            settings.monitor.enabled = false;
        })
        .await
    }

    /// The service with its settings adjusted by `adjust` (database, keys and admin
    /// are set before).
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings {
            listen: "127.0.0.1:0".parse().expect("address"),
            database_url: Some(Redacted::from(fresh_database_url().await)),
            encryption_key: Some(Redacted::from(Keyring::generate_key())),
            admin_password: Some(Redacted::from(ADMIN_PASSWORD.to_owned())),
            ..Settings::default()
        };
        adjust(&mut settings);
        let app = Self::start(settings).await;
        create_user(
            &app.pool,
            &anytrade::auth::Actor::system(),
            "viewer",
            VIEWER_PASSWORD,
            Role::Viewer,
        )
        .await
        .expect("viewer created");
        app.with_tokens().await
    }

    /// The service started again with the settings of one that was shut down.
    pub async fn restart(settings: Settings) -> Self {
        Self::start(settings).await.with_tokens().await
    }

    async fn with_tokens(mut self) -> Self {
        self.admin = self.login("admin", ADMIN_PASSWORD).await;
        self.viewer = self.login("viewer", VIEWER_PASSWORD).await;
        self
    }

    async fn start(settings: Settings) -> Self {
        let app = Application::build(&settings).await.expect("service builds");
        let address = app.local_addr().expect("bound");
        let pool = app.pool().clone();
        let hub = app.hub().clone();
        let projections = app.projections().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Self {
            address,
            pool,
            hub,
            projections,
            admin: String::new(),
            viewer: String::new(),
            settings,
            client: reqwest::Client::new(),
            stop: Some(stop),
            serving: Some(serving),
        }
    }

    /// Stops the service and waits until it has (what it started keeps running).
    pub async fn shut_down(mut self) -> Settings {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(serving) = self.serving.take() {
            serving
                .await
                .expect("service task")
                .expect("service stopped cleanly");
        }
        self.settings.clone()
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let response: Value = self
            .client
            .post(format!("http://{}/auth/login", self.address))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("login request")
            .json()
            .await
            .expect("login body");
        response["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {response}"))
            .to_owned()
    }

    /// The status and body of a login attempt, refused or not.
    pub async fn login_status(&self, username: &str, password: &str) -> (u16, Value) {
        let response = self
            .client
            .post(format!("http://{}/auth/login", self.address))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("login request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("login body"))
    }

    /// Posts a GraphQL request with an optional bearer token; returns the HTTP status
    /// and the whole response body.
    pub async fn graphql_as(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("http://{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("graphql request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("graphql body"))
    }

    /// As the admin; panics on errors and returns `data`.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.graphql_as(Some(&self.admin), query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// As the admin; expects exactly one error and returns its `extensions`.
    pub async fn query_error(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.graphql_as(Some(&self.admin), query, variables).await;
        assert_eq!(status, 200, "{body}");
        let errors = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors: {body}"));
        assert_eq!(errors.len(), 1, "{body}");
        errors[0]["extensions"].clone()
    }

    /// A command side on the service's database, standing in for the runtime layer and
    /// the workers (which confirm starts, record trades, …).
    pub fn commands(&self) -> anytrade::store::Commands {
        anytrade::store::Commands::new(
            &self.pool,
            &anytrade::store::EventLog::new(self.pool.clone()),
            std::sync::Arc::new(anytrade::lookup::PgLookup::new(self.pool.clone())),
        )
    }

    /// Waits until `count` subscriptions follow the live feed.
    pub async fn wait_for_subscribers(&self, count: usize) {
        let (within, every) = (Duration::from_secs(10), Duration::from_millis(10));
        poll_until(within, every, || async {
            let started = self.hub.subscribers();
            if started >= count {
                Ok(())
            } else {
                Err(format!("{started} of {count} subscriptions started"))
            }
        })
        .await
    }

    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .expect("count events")
    }
}

/// Anything that answers GraphQL as the admin: the service in-process, or a real
/// `anytrade serve` over HTTP.
pub trait Graphql: Sync {
    /// Panics on errors; returns `data`.
    fn query(
        &self,
        query: &str,
        variables: Value,
    ) -> impl std::future::Future<Output = Value> + Send;
}

/// A GraphQL request to a service at `base` (a spawned binary, a compose project) as
/// the holder of `token`; panics on errors and returns `data`.
pub async fn remote_query(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    let body: Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("graphql request")
        .json()
        .await
        .expect("graphql body");
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"].clone()
}

impl Graphql for TestApp {
    fn query(
        &self,
        query: &str,
        variables: Value,
    ) -> impl std::future::Future<Output = Value> + Send {
        TestApp::query(self, query, variables)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
