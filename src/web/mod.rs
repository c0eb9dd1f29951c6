//! The web dashboard, served by the service itself at `/`: a page shell, its script and
//! style (all compiled into the binary, no build step, works offline), and HTML
//! fragments rendered on the server from compile-time-checked templates.
//!
//! The page keeps its token in the tab (`sessionStorage`) and sends it as a bearer
//! header: fragments are fetched with it, live updates come over the GraphQL
//! WebSocket with it in `connection_init`, and actions are GraphQL mutations with it.
//! So the token is never in a URL or a cookie, and the server checks every request
//! exactly as it checks the API's. A strict Content-Security-Policy allows only this
//! origin's script and style (no inline script).

mod bot;
mod charts;
mod events;
mod fleet;
mod jobs;
mod strategies;

use std::sync::Arc;

use anytrade_aggregates::values::RuntimeKind;
use anytrade_projections::EventLog;
use askama::Template;
use axum::Router;
use axum::extract::FromRef;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use sqlx::PgPool;

use crate::auth::{CheckError, CurrentUsers, Principal, TokenKeys};
use crate::runtime::Runtimes;

/// What the pages read.
#[derive(Clone)]
pub struct WebState {
    pub pool: PgPool,
    pub keys: TokenKeys,
    pub users: Arc<CurrentUsers>,
    /// The runtime of bots that name none.
    pub default_runtime: RuntimeKind,
    /// Failed health checks in a row that make a bot unhealthy.
    pub unhealthy_after: u32,
    /// Where a bot's log is read from.
    pub runtimes: Runtimes,
    /// The event log, for its page.
    pub log: EventLog,
}

impl FromRef<WebState> for TokenKeys {
    fn from_ref(state: &WebState) -> Self {
        state.keys.clone()
    }
}

/// Only this origin's script, style and connections; nothing may frame the page.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// `/`, `/assets/*` and the `/ui/*` fragments.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(shell))
        .route("/assets/app.js", get(script))
        .route("/assets/style.css", get(style))
        .route("/ui/fleet", get(fleet::page))
        .route("/ui/fleet/bots/{id}", get(fleet::row))
        .route("/ui/bots/{id}", get(bot::page))
        .route("/ui/strategies", get(strategies::page))
        .route("/ui/strategies/{id}", get(strategies::strategy))
        .route("/ui/events", get(events::page))
        .route("/ui/jobs", get(jobs::page))
        .route("/ui/backtests/compare", get(jobs::compare))
        .route("/ui/backtests/{id}", get(jobs::backtest))
        .route("/ui/hyperopts/{id}", get(jobs::hyperopt))
        .with_state(state)
        .layer(axum::middleware::map_response(secure))
}

/// The headers every page response carries.
async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[derive(Template)]
#[template(path = "web/shell.html")]
struct Shell {
    version: &'static str,
}

async fn shell() -> Response {
    render(&Shell {
        version: env!("CARGO_PKG_VERSION"),
    })
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("assets/app.js"),
    )
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("assets/style.css"),
    )
}

/// A template as an HTML response; a template that cannot render is an internal error.
fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            Html(html),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page cannot be rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The caller as the users table has them now (a deleted or disabled user's token,
/// or one from before a logout, is refused).
async fn current(state: &WebState, principal: Principal) -> Result<Principal, Response> {
    state.users.current(&principal).await.map_err(|e| match e {
        CheckError::Auth(e) => e.into_response(),
        CheckError::Database(e) => {
            tracing::warn!(error = %e, "cannot confirm a page's user");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    })
}

/// A read model could not be read.
fn unavailable(e: sqlx::Error) -> Response {
    tracing::warn!(error = %e, "a page's data cannot be read");
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

/// A page of a read model as a database error: the pages ask for no cursor they did not
/// issue, so a refused one is the database's fault as far as a reader can tell.
fn page_error(e: anytrade_projections::page::PageError) -> sqlx::Error {
    match e {
        anytrade_projections::page::PageError::Database(e) => e,
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

type Choices = Vec<(String, String)>;

/// The exchanges and strategies to pick from for a new bot or job, each by name.
async fn choices(state: &WebState) -> sqlx::Result<(Choices, Choices)> {
    let exchanges = anytrade_projections::exchanges::all(&state.pool)
        .await?
        .into_iter()
        .map(|e| (e.id.to_string(), e.name))
        .collect();
    let mut strategies: Choices = anytrade_projections::strategies::names(&state.pool)
        .await?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect();
    strategies.sort_by(|a, b| a.1.cmp(&b.1));
    Ok((exchanges, strategies))
}
