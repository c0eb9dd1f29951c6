//! A typed client for one freqtrade bot's REST API (`/api/v1`).
//!
//! **Auth.** freqtrade takes HTTP Basic or a JWT on every endpoint but `/ping`. The client
//! logs in lazily (`POST /token/login` with the Basic credentials), caches the access token
//! (valid 15 minutes; reused for 14) and the refresh token (30 days), and refreshes with
//! `POST /token/refresh` when the access token has expired or a request answers 401; if the
//! refresh fails it logs in again. A bot whose token endpoints are missing (404, 405, 501,
//! or an answer that is not a token pair, e.g. behind a proxy that does not route them) is
//! spoken to with HTTP Basic from then on. Credentials and tokens never reach a log line or
//! an error message.
//!
//! **Timeouts.** Each attempt has its own deadline ([`DEFAULT_TIMEOUT`], or
//! [`FreqtradeClient::with_timeout`]). The connect timeout and the connection pool belong to
//! the shared `reqwest::Client` ([`http_client`] builds a suitable one), which the whole
//! control plane uses for all its bots.
//!
//! **Retries** (exponential backoff with jitter, [`RetryPolicy`]) only where repeating the
//! request cannot do harm or hide a real answer:
//! - reads (`GET`) retry on connect errors, timeouts, broken connections and a proxy's
//!   502/503/504;
//! - commands (`POST` start, stop, forceexit, forceenter, ...) retry only when the request
//!   never reached the bot: a refused connection, or a failure while obtaining a token. A
//!   command that timed out may have run, so forcing an entry twice is worse than reporting
//!   the timeout;
//! - `/ping` is a probe and answers for the moment it is asked: never retried;
//! - never retried: freqtrade's own errors (HTTP 502 with `{"error": ...}`, e.g. "trader is
//!   not running": asking again gives the same answer), 401, 404, 429 (the caller owns the
//!   pacing; [`FreqtradeError::retry_after`] tells it how long to wait), other 4xx/5xx and
//!   undecodable answers.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use tokio::time::Instant;
use zeroize::Zeroizing;

use super::models::{
    Balance, Count, Daily, ForceEnter, ForceEnterOutcome, ForceExit, Health, Logs, PairPerformance,
    Ping, Profit, ResultMessage, ShowConfig, StatusMessage, Trade, TradesPage,
};

/// Deadline of one attempt when [`FreqtradeClient::with_timeout`] is not used.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// freqtrade's largest page of `/trades`.
pub const MAX_TRADES_PAGE: u32 = 500;

/// The access token lives 15 minutes; renew it a minute early so a request in flight does
/// not carry a token that expires on the way.
const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 60);
/// The refresh token lives 30 days; stop using it a day early.
const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(29 * 24 * 60 * 60);
/// How much of an unexpected body an error message quotes.
const BODY_EXCERPT_CHARS: usize = 200;

/// A `reqwest::Client` suited to talking to many bots: short connect timeout, pooled
/// connections. Build it once and pass clones to every [`FreqtradeClient`].
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(4)
        .build()
}

/// The API user and password of a bot (`api_server.username` / `.password`). The password
/// is zeroed on drop and never printed.
#[derive(Clone)]
pub struct Credentials {
    username: String,
    password: Zeroizing<String>,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: Zeroizing::new(password.into()),
        }
    }

    pub fn username(&self) -> &str {
        &self.username
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// How often and how patiently transient failures are retried (see the module doc for
/// which failures count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: usize,
    /// The first delay; it doubles per retry, plus random jitter of up to the same again.
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// One attempt only.
    pub const fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            min_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    fn backoff(self) -> ExponentialBuilder {
        ExponentialBuilder::new()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .with_jitter()
    }
}

impl Default for RetryPolicy {
    /// Three retries after 250 ms, 500 ms and 1 s (plus jitter): rides out a bot restart's
    /// first seconds or a proxy hiccup without stalling a worker that polls many bots.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
        }
    }
}

/// Why a call to a bot failed. Each message names the endpoint (method and path) and never
/// credentials, tokens or the base URL's user info.
#[derive(Debug, thiserror::Error)]
pub enum FreqtradeError {
    /// 401: wrong API credentials, or a token the bot no longer accepts even after renewal.
    #[error("freqtrade {endpoint}: unauthorized (401)")]
    Unauthorized { endpoint: String },
    /// 404: an unknown trade id, or an endpoint this freqtrade version does not have.
    #[error("freqtrade {endpoint}: not found (404)")]
    NotFound { endpoint: String },
    /// 429, from freqtrade or a proxy in front of it; wait `retry_after` when given.
    #[error("freqtrade {endpoint}: rate limited (429){}", retry_after_text(*.retry_after))]
    RateLimited {
        endpoint: String,
        retry_after: Option<Duration>,
    },
    /// freqtrade's own error (HTTP 502 `{"error": ...}`): the bot understood the request and
    /// refused or failed it, e.g. "trader is not running".
    #[error("freqtrade {endpoint}: bot error: {message}")]
    BotError { endpoint: String, message: String },
    /// Any other unexpected status, with the start of the body.
    #[error("freqtrade {endpoint}: HTTP {code}: {body}")]
    Status {
        endpoint: String,
        code: u16,
        body: String,
    },
    /// No complete answer within the per-attempt deadline.
    #[error("freqtrade {endpoint}: no answer within {timeout:?}")]
    Timeout { endpoint: String, timeout: Duration },
    /// The bot could not be connected to; the request was not sent.
    #[error("freqtrade {endpoint}: unreachable: {reason}")]
    Unreachable { endpoint: String, reason: String },
    /// The connection broke after the request may have been sent.
    #[error("freqtrade {endpoint}: connection failed: {reason}")]
    Transport { endpoint: String, reason: String },
    /// The answer was not the JSON this client expects.
    #[error("freqtrade {endpoint}: unexpected response: {reason}")]
    Decode { endpoint: String, reason: String },
    /// The base URL given to [`FreqtradeClient::new`] is unusable.
    #[error("freqtrade client: invalid base URL: {reason}")]
    InvalidBaseUrl { reason: String },
}

fn retry_after_text(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(after) => format!(", retry after {}s", after.as_secs()),
        None => String::new(),
    }
}

impl FreqtradeError {
    /// How long the bot (or its proxy) asked to wait, for [`FreqtradeError::RateLimited`].
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FreqtradeError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A failure that may pass if the same request is sent again: the network or a proxy,
    /// not the bot's answer.
    pub fn is_transient(&self) -> bool {
        match self {
            FreqtradeError::Timeout { .. }
            | FreqtradeError::Unreachable { .. }
            | FreqtradeError::Transport { .. } => true,
            FreqtradeError::Status { code, .. } => matches!(code, 502..=504),
            _ => false,
        }
    }
}

/// A client for one bot. Cheap to clone; clones share the cached tokens.
#[derive(Clone)]
pub struct FreqtradeClient {
    http: reqwest::Client,
    /// As given, without a trailing slash.
    base_url: String,
    credentials: Credentials,
    timeout: Duration,
    retry: RetryPolicy,
    access_lifetime: Duration,
    refresh_lifetime: Duration,
    auth: Arc<Mutex<AuthState>>,
}

impl fmt::Debug for FreqtradeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FreqtradeClient")
            .field("base_url", &self.base_url)
            .field("username", &self.credentials.username)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl FreqtradeClient {
    /// A client for the bot whose API listens at `base_url` (e.g. `http://127.0.0.1:8080`;
    /// a path prefix of a reverse proxy is kept). Nothing is sent until the first call.
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        credentials: Credentials,
    ) -> Result<Self, FreqtradeError> {
        let invalid = |reason: &str| FreqtradeError::InvalidBaseUrl {
            reason: reason.to_owned(),
        };
        let url = Url::parse(base_url.trim()).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            // They would end up in log lines through base_url(); they belong in Credentials.
            return Err(invalid("user info belongs in Credentials, not in the URL"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("the URL must not have a query or fragment"));
        }
        Ok(FreqtradeClient {
            http,
            base_url: url.as_str().trim_end_matches('/').to_owned(),
            credentials,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            access_lifetime: ACCESS_TOKEN_LIFETIME,
            refresh_lifetime: REFRESH_TOKEN_LIFETIME,
            auth: Arc::new(Mutex::new(AuthState::default())),
        })
    }

    /// Sets the deadline of each attempt (a read may make several, see [`RetryPolicy`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The bot's API base URL, for log lines (it carries no credentials).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `GET /ping`, public: is the API up? One attempt, no credentials.
    pub async fn ping(&self) -> Result<Ping, FreqtradeError> {
        self.call(Call::get("/ping").public().once()).await
    }

    /// `GET /show_config`: version, state, strategy, exchange, dry-run, limits.
    pub async fn show_config(&self) -> Result<ShowConfig, FreqtradeError> {
        self.call(Call::get("/show_config")).await
    }

    /// `GET /health`: when the trading loop last ran.
    pub async fn health(&self) -> Result<Health, FreqtradeError> {
        self.call(Call::get("/health")).await
    }

    /// `GET /status`: the open trades (empty when there are none or the bot is stopped).
    pub async fn status(&self) -> Result<Vec<Trade>, FreqtradeError> {
        self.call(Call::get("/status")).await
    }

    /// `GET /profit`: the profit summary.
    pub async fn profit(&self) -> Result<Profit, FreqtradeError> {
        self.call(Call::get("/profit")).await
    }

    /// `GET /trades`: a page of closed trades ordered by id; `limit` is capped at
    /// [`MAX_TRADES_PAGE`] (and raised to 1).
    pub async fn trades(&self, limit: u32, offset: u64) -> Result<TradesPage, FreqtradeError> {
        let limit = limit.clamp(1, MAX_TRADES_PAGE);
        self.call(
            Call::get("/trades")
                .query("limit", limit.to_string())
                .query("offset", offset.to_string()),
        )
        .await
    }

    /// `GET /trade/{id}`: one trade, open or closed; [`FreqtradeError::NotFound`] if the bot
    /// has no such trade.
    pub async fn trade(&self, trade_id: i64) -> Result<Trade, FreqtradeError> {
        self.call(Call::get(format!("/trade/{trade_id}"))).await
    }

    /// `GET /balance`: the wallet.
    pub async fn balance(&self) -> Result<Balance, FreqtradeError> {
        self.call(Call::get("/balance")).await
    }

    /// `GET /count`: open trades against `max_open_trades`. A stopped bot answers with
    /// [`FreqtradeError::BotError`] ("trader is not running").
    pub async fn count(&self) -> Result<Count, FreqtradeError> {
        self.call(Call::get("/count")).await
    }

    /// `GET /performance`: closed-trade profit per pair.
    pub async fn performance(&self) -> Result<Vec<PairPerformance>, FreqtradeError> {
        self.call(Call::get("/performance")).await
    }

    /// `GET /daily`: profit of the last `days` UTC days (at least 1), newest first.
    pub async fn daily(&self, days: u32) -> Result<Daily, FreqtradeError> {
        self.call(Call::get("/daily").query("timescale", days.max(1).to_string()))
            .await
    }

    /// `GET /logs`: the last `limit` log records, or all freqtrade keeps in memory.
    pub async fn logs(&self, limit: Option<u32>) -> Result<Logs, FreqtradeError> {
        let mut call = Call::get("/logs");
        if let Some(limit) = limit {
            call = call.query("limit", limit.max(1).to_string());
        }
        self.call(call).await
    }

    /// `POST /start`: resume trading after `stop` ("starting trader ..." or "already
    /// running").
    pub async fn start(&self) -> Result<StatusMessage, FreqtradeError> {
        self.call(Call::post("/start", None)).await
    }

    /// `POST /stop`: stop the trading loop; the process and its API stay up.
    pub async fn stop(&self) -> Result<StatusMessage, FreqtradeError> {
        self.call(Call::post("/stop", None)).await
    }

    /// `POST /stopentry`: pause, no new entries; open trades are still managed and exited.
    /// Undone by `start` (freqtrade 2026.9 calls the state `paused`).
    pub async fn stop_entry(&self) -> Result<StatusMessage, FreqtradeError> {
        self.call(Call::post("/stopentry", None)).await
    }

    /// `POST /reload_config`: re-read the config file and strategy.
    pub async fn reload_config(&self) -> Result<StatusMessage, FreqtradeError> {
        self.call(Call::post("/reload_config", None)).await
    }

    /// `POST /forceexit`: exit one trade or all. Never retried once sent.
    pub async fn force_exit(&self, exit: &ForceExit) -> Result<ResultMessage, FreqtradeError> {
        let body = to_body("POST /api/v1/forceexit", exit)?;
        self.call(Call::post("/forceexit", Some(body))).await
    }

    /// `POST /forceenter`: open (or add to) a position. Never retried once sent.
    pub async fn force_enter(
        &self,
        enter: &ForceEnter,
    ) -> Result<ForceEnterOutcome, FreqtradeError> {
        let body = to_body("POST /api/v1/forceenter", enter)?;
        self.call(Call::post("/forceenter", Some(body))).await
    }

    // ---- request machinery --------------------------------------------------------------

    async fn call<T: DeserializeOwned>(&self, call: Call) -> Result<T, FreqtradeError> {
        let endpoint = call.endpoint();
        let url = self.url(&call)?;
        let backoff = match call.replay {
            Replay::Never => RetryPolicy::none().backoff(),
            _ => self.retry.backoff(),
        };
        let body = (|| self.attempt(&call, &url, &endpoint))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|failure: &Failure| failure.worth_retrying(call.replay))
            .notify(|failure: &Failure, delay: Duration| {
                tracing::warn!(
                    bot = %self.base_url,
                    error = %failure.error,
                    retry_in = ?delay,
                    "freqtrade request failed, retrying"
                );
            })
            .await
            .map_err(|failure| failure.error)?;
        serde_json::from_slice(&body).map_err(|e| FreqtradeError::Decode {
            endpoint,
            reason: e.to_string(),
        })
    }

    fn url(&self, call: &Call) -> Result<Url, FreqtradeError> {
        let mut url =
            Url::parse(&format!("{}/api/v1{}", self.base_url, call.path)).map_err(|e| {
                FreqtradeError::InvalidBaseUrl {
                    reason: e.to_string(),
                }
            })?;
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        Ok(url)
    }

    /// One attempt: authenticate, send, and on a 401 to a bearer token renew it and send
    /// once more (the bot did not act on a request it refused).
    async fn attempt(&self, call: &Call, url: &Url, endpoint: &str) -> Result<Vec<u8>, Failure> {
        let auth = if call.authenticated {
            self.authorization().await.map_err(Failure::unsent)?
        } else {
            Auth::None
        };
        let mut response = self.send(call, url, endpoint, &auth).await?;
        if response.status() == StatusCode::UNAUTHORIZED && matches!(auth, Auth::Bearer(_)) {
            self.forget_access_token(&auth).await;
            let auth = self.authorization().await.map_err(Failure::unsent)?;
            response = self.send(call, url, endpoint, &auth).await?;
        }
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| Failure::sent(self.transport_error(endpoint, e)))?;
        if status.is_success() {
            Ok(body.to_vec())
        } else {
            Err(Failure::sent(error_for_status(
                endpoint, status, &headers, &body,
            )))
        }
    }

    async fn send(
        &self,
        call: &Call,
        url: &Url,
        endpoint: &str,
        auth: &Auth,
    ) -> Result<reqwest::Response, Failure> {
        let mut request = self
            .http
            .request(call.method.clone(), url.clone())
            .timeout(self.timeout);
        request = self.authorize(request, auth);
        if let Some(body) = &call.body {
            request = request.json(body);
        } else if call.method == Method::POST {
            // freqtrade's command endpoints take no body; an explicit empty one keeps
            // proxies that insist on Content-Length happy.
            request = request.header(reqwest::header::CONTENT_LENGTH, "0");
        }
        request.send().await.map_err(|e| {
            let connect = e.is_connect();
            let error = self.transport_error(endpoint, e);
            if connect {
                Failure::unsent(error)
            } else {
                Failure::sent(error)
            }
        })
    }

    fn authorize(&self, request: reqwest::RequestBuilder, auth: &Auth) -> reqwest::RequestBuilder {
        match auth {
            Auth::None => request,
            Auth::Basic => request.basic_auth(
                &self.credentials.username,
                Some(self.credentials.password.as_str()),
            ),
            Auth::Bearer(token) => request.bearer_auth(token.as_str()),
        }
    }

    fn transport_error(&self, endpoint: &str, error: reqwest::Error) -> FreqtradeError {
        let endpoint = endpoint.to_owned();
        if error.is_timeout() {
            FreqtradeError::Timeout {
                endpoint,
                timeout: self.timeout,
            }
        } else if error.is_connect() {
            FreqtradeError::Unreachable {
                endpoint,
                reason: error_chain(error),
            }
        } else {
            FreqtradeError::Transport {
                endpoint,
                reason: error_chain(error),
            }
        }
    }

    // ---- tokens -------------------------------------------------------------------------

    /// The credentials for the next request: a cached access token, a renewed one, or
    /// Basic. Holding the lock while logging in makes concurrent callers wait for one login
    /// instead of each starting its own.
    async fn authorization(&self) -> Result<Auth, FreqtradeError> {
        let mut state = self.auth.lock().await;
        if state.basic_only {
            return Ok(Auth::Basic);
        }
        if let Some(access) = state.access.as_ref().filter(|t| t.is_fresh()) {
            return Ok(Auth::Bearer(access.value.clone()));
        }
        state.access = None;
        if let Some(refresh) = state.refresh.as_ref().filter(|t| t.is_fresh()) {
            let refresh = refresh.value.clone();
            match self.refresh(&refresh).await {
                Ok(access) => {
                    let token = Token::new(access, self.access_lifetime);
                    let auth = Auth::Bearer(token.value.clone());
                    state.access = Some(token);
                    return Ok(auth);
                }
                // The network: the refresh token may still be good, try again later.
                Err(e) if e.is_transient() => return Err(e),
                // Refused (expired, bot restarted with a new JWT secret, ...): log in anew.
                Err(e) => {
                    tracing::debug!(bot = %self.base_url, error = %e, "token refresh refused");
                }
            }
        }
        state.refresh = None;
        match self.login().await? {
            Login::Tokens(tokens) => {
                let access = Token::new(Zeroizing::new(tokens.access_token), self.access_lifetime);
                let auth = Auth::Bearer(access.value.clone());
                state.access = Some(access);
                let refresh = Zeroizing::new(tokens.refresh_token);
                state.refresh = Some(Token::new(refresh, self.refresh_lifetime));
                Ok(auth)
            }
            Login::Unavailable => {
                tracing::info!(
                    bot = %self.base_url,
                    "freqtrade token login unavailable, using HTTP Basic"
                );
                state.basic_only = true;
                Ok(Auth::Basic)
            }
        }
    }

    /// Drops the access token a request was refused with, unless a concurrent caller has
    /// already replaced it.
    async fn forget_access_token(&self, used: &Auth) {
        let Auth::Bearer(used) = used else { return };
        let mut state = self.auth.lock().await;
        if state.access.as_ref().is_some_and(|t| t.value == *used) {
            state.access = None;
        }
    }

    async fn login(&self) -> Result<Login, FreqtradeError> {
        const ENDPOINT: &str = "POST /api/v1/token/login";
        let (status, headers, body) = self
            .token_request("/token/login", ENDPOINT, &Auth::Basic)
            .await?;
        if matches!(
            status,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED
        ) {
            return Ok(Login::Unavailable);
        }
        if !status.is_success() {
            return Err(error_for_status(ENDPOINT, status, &headers, &body));
        }
        // A success that is not a token pair is some other service answering the path
        // (a UI fallback page, a proxy): Basic still works.
        Ok(serde_json::from_slice::<TokenPair>(&body).map_or(Login::Unavailable, Login::Tokens))
    }

    async fn refresh(
        &self,
        refresh_token: &Zeroizing<String>,
    ) -> Result<Zeroizing<String>, FreqtradeError> {
        const ENDPOINT: &str = "POST /api/v1/token/refresh";
        let auth = Auth::Bearer(refresh_token.clone());
        let (status, headers, body) = self
            .token_request("/token/refresh", ENDPOINT, &auth)
            .await?;
        if !status.is_success() {
            return Err(error_for_status(ENDPOINT, status, &headers, &body));
        }
        serde_json::from_slice::<AccessToken>(&body)
            .map(|t| Zeroizing::new(t.access_token))
            .map_err(|e| FreqtradeError::Decode {
                endpoint: ENDPOINT.to_owned(),
                reason: e.to_string(),
            })
    }

    async fn token_request(
        &self,
        path: &str,
        endpoint: &str,
        auth: &Auth,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), FreqtradeError> {
        let call = Call::post(path, None);
        let url = self.url(&call)?;
        let response = self
            .send(&call, &url, endpoint, auth)
            .await
            .map_err(|failure| failure.error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(endpoint, e))?;
        Ok((status, headers, body.to_vec()))
    }
}

/// Maps a non-success answer to the error a caller can act on.
fn error_for_status(
    endpoint: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> FreqtradeError {
    let endpoint = endpoint.to_owned();
    match status {
        StatusCode::UNAUTHORIZED => FreqtradeError::Unauthorized { endpoint },
        StatusCode::NOT_FOUND => FreqtradeError::NotFound { endpoint },
        StatusCode::TOO_MANY_REQUESTS => FreqtradeError::RateLimited {
            endpoint,
            retry_after: headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after),
        },
        StatusCode::BAD_GATEWAY => match serde_json::from_slice::<BotErrorBody>(body) {
            Ok(BotErrorBody { error }) => FreqtradeError::BotError {
                endpoint,
                message: error,
            },
            // No freqtrade error body: a proxy could not reach the bot.
            Err(_) => FreqtradeError::Status {
                endpoint,
                code: status.as_u16(),
                body: excerpt(body),
            },
        },
        _ => FreqtradeError::Status {
            endpoint,
            code: status.as_u16(),
            body: excerpt(body),
        },
    }
}

/// `Retry-After` as delay-seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let seconds = (at.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(seconds as u64))
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut cut: String = text.chars().take(BODY_EXCERPT_CHARS).collect();
    if text.chars().nth(BODY_EXCERPT_CHARS).is_some() {
        cut.push('…');
    }
    cut
}

/// The causes of a transport error without the URL reqwest puts in its own message.
fn error_chain(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn to_body<T: serde::Serialize>(
    endpoint: &str,
    value: &T,
) -> Result<serde_json::Value, FreqtradeError> {
    // Only fails on a non-finite float, which JSON cannot carry.
    serde_json::to_value(value).map_err(|e| FreqtradeError::Decode {
        endpoint: endpoint.to_owned(),
        reason: format!("request body: {e}"),
    })
}

/// `{"error": "..."}`, freqtrade's body for a bot-side failure (HTTP 502).
#[derive(Deserialize)]
struct BotErrorBody {
    error: String,
}

/// `POST /token/login`.
#[derive(Deserialize)]
struct TokenPair {
    access_token: String,
    refresh_token: String,
}

/// `POST /token/refresh`.
#[derive(Deserialize)]
struct AccessToken {
    access_token: String,
}

enum Login {
    Tokens(TokenPair),
    /// The bot (or what answers in front of it) has no token endpoints.
    Unavailable,
}

#[derive(Default)]
struct AuthState {
    /// Set once the token endpoints turned out to be unavailable.
    basic_only: bool,
    access: Option<Token>,
    refresh: Option<Token>,
}

struct Token {
    value: Zeroizing<String>,
    use_until: Instant,
}

impl Token {
    fn new(value: Zeroizing<String>, lifetime: Duration) -> Self {
        Token {
            value,
            use_until: Instant::now() + lifetime,
        }
    }

    fn is_fresh(&self) -> bool {
        Instant::now() < self.use_until
    }
}

enum Auth {
    None,
    Basic,
    Bearer(Zeroizing<String>),
}

/// When a failed request may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replay {
    /// A read: repeat on any transient failure.
    Safe,
    /// A command: repeat only if it cannot have reached the bot.
    IfUnsent,
    /// Never repeat.
    Never,
}

/// A failed attempt, and whether the request may have reached the bot.
struct Failure {
    error: FreqtradeError,
    sent: bool,
}

impl Failure {
    fn sent(error: FreqtradeError) -> Self {
        Failure { error, sent: true }
    }

    fn unsent(error: FreqtradeError) -> Self {
        Failure { error, sent: false }
    }

    fn worth_retrying(&self, replay: Replay) -> bool {
        match replay {
            Replay::Safe => self.error.is_transient(),
            Replay::IfUnsent => !self.sent && self.error.is_transient(),
            Replay::Never => false,
        }
    }
}

/// One API call, described before it is sent (so an attempt can be repeated).
struct Call {
    method: Method,
    /// Under `/api/v1`, starting with `/`.
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<serde_json::Value>,
    authenticated: bool,
    replay: Replay,
}

impl Call {
    fn get(path: impl Into<String>) -> Self {
        Call {
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: None,
            authenticated: true,
            replay: Replay::Safe,
        }
    }

    fn post(path: impl Into<String>, body: Option<serde_json::Value>) -> Self {
        Call {
            method: Method::POST,
            path: path.into(),
            query: Vec::new(),
            body,
            authenticated: true,
            replay: Replay::IfUnsent,
        }
    }

    fn query(mut self, name: &'static str, value: String) -> Self {
        self.query.push((name, value));
        self
    }

    fn public(mut self) -> Self {
        self.authenticated = false;
        self
    }

    fn once(mut self) -> Self {
        self.replay = Replay::Never;
        self
    }

    /// `GET /api/v1/status`: how errors and logs name the call.
    fn endpoint(&self) -> String {
        format!("{} /api/v1{}", self.method, self.path)
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
