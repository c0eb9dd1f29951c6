//! Crash under load: the real `anytrade` binary serves clients that send commands
//! (creates, updates, bot start/stop) and is SIGKILLed at random moments, then started
//! again on the same database. Afterwards the log is held against what the clients were
//! told. Shared by the integration test (a short run) and `scripts/bench chaos` (included
//! with `#[path]`; it needs `crate::read_models`).
//!
//! How a command is found in the log: each one carries a marker of its own (`mk-` and 32
//! hex digits) in a field its event records: the exchange's config, the strategy's name
//! or code, the bot's name. A bot's start and stop carry none; for those the bot's
//! recorded wish must be the one the last acknowledged command answered.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::process::{Child, Command};

const PASSWORD: &str = "crash-load-admin-password";
const CODE: &str =
    "from freqtrade.strategy import IStrategy\n\nclass Crash(IStrategy):\n    timeframe = '5m'\n";
const BOT_FIELDS: &str = "id wantedStatus";

/// What to run.
pub struct Plan {
    /// The `anytrade` executable.
    pub binary: PathBuf,
    /// An empty database for the service.
    pub database_url: String,
    pub clients: usize,
    pub kills: usize,
    /// How long the service serves between starts and kills, drawn uniformly.
    pub serve_for: Range<Duration>,
    /// Commands acknowledged in each serving window at least: on a loaded machine a
    /// window lasts longer (up to 30 s) until the clients got that many through.
    pub min_per_window: usize,
}

/// What happened, and what the log says about it.
#[derive(Debug, Default)]
pub struct Report {
    pub kills: usize,
    /// Commands answered with data and no error.
    pub acknowledged: usize,
    /// Sent without an answer (in flight when the service died) or answered 503: may or
    /// may not be in the log.
    pub unanswered: usize,
    /// Error codes answered, by code (`NO_CODE` for an error without one).
    pub refused: BTreeMap<String, usize>,
    /// HTTP statuses of 500 and above, other than 503.
    pub server_errors: usize,
    /// Acknowledged commands whose effect is not in the log, described.
    pub lost: Vec<String>,
    /// Commands found in the log more than once.
    pub duplicated: Vec<String>,
    /// Bots whose last command was acknowledged (their recorded wish is checked).
    pub bots_checked: usize,
    pub events: i64,
    /// From each start to `/readyz` answering 200.
    pub restarts: Vec<Duration>,
    /// From the last start until every projector's checkpoint was at the head.
    pub catch_up: Duration,
    /// Projectors not at the head after catching up (name, events behind).
    pub behind: Vec<(String, i64)>,
    /// Read-model tables that differ from a rebuild of the log.
    pub differs_from_rebuild: Vec<String>,
}

impl Report {
    /// Everything that must be zero or empty.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        let mut check = |bad: bool, what: String| {
            if bad {
                failures.push(what);
            }
        };
        check(!self.lost.is_empty(), format!("lost: {:?}", self.lost));
        check(
            !self.duplicated.is_empty(),
            format!("duplicated: {:?}", self.duplicated),
        );
        check(
            self.server_errors > 0,
            format!("{} HTTP 5xx other than 503", self.server_errors),
        );
        for code in ["NO_CODE", "INTERNAL"] {
            check(
                self.refused.contains_key(code),
                format!("errors answered {code}: {:?}", self.refused),
            );
        }
        check(
            !self.behind.is_empty(),
            format!("behind: {:?}", self.behind),
        );
        check(
            !self.differs_from_rebuild.is_empty(),
            format!("differ from a rebuild: {:?}", self.differs_from_rebuild),
        );
        failures
    }
}

/// Runs the plan: starts the service, runs the clients, kills and restarts it
/// `plan.kills` times, stops it, and checks the log.
pub async fn run(plan: &Plan) -> Report {
    let server = Server::new(plan.binary.clone(), plan.database_url.clone(), Vec::new());
    let mut report = Report::default();
    let mut child = server.start(&mut report.restarts).await;
    let ledgers: Vec<Arc<Mutex<Ledger>>> = (0..plan.clients)
        .map(|_| Arc::new(Mutex::new(Ledger::default())))
        .collect();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let clients: Vec<_> = ledgers
        .iter()
        .map(|ledger| {
            let client = Client::new(server.base().to_owned(), ledger.clone());
            tokio::spawn(client.run(stopped.clone()))
        })
        .collect();
    let serve = || serve_window(plan, &ledgers);
    for _ in 0..plan.kills {
        serve().await;
        child.kill().await.expect("SIGKILL the service");
        report.kills += 1;
        child = server.start(&mut report.restarts).await;
    }
    serve().await;
    stop.send(true).expect("clients listen");
    for client in clients {
        client.await.expect("client task");
    }

    let pool = PgPool::connect(&plan.database_url)
        .await
        .expect("connect to the service's database");
    let since_start = *report.restarts.last().expect("started");
    let caught_up = Instant::now();
    report.behind = wait_at_head(&pool).await;
    report.catch_up = since_start + caught_up.elapsed();
    server.stop(child).await;

    for ledger in &ledgers {
        ledger.lock().expect("ledger").tally(&mut report);
    }
    check_log(&pool, &ledgers, &mut report).await;
    let live = crate::read_models::dump(&pool).await;
    let projectors = anytrade_projections::all();
    let projectors: Vec<_> = projectors.iter().map(|p| p.as_ref()).collect();
    anytrade_projections::rebuild::rebuild(&pool, &projectors)
        .await
        .expect("rebuild every read model");
    let rebuilt = crate::read_models::dump(&pool).await;
    report.differs_from_rebuild = live
        .iter()
        .zip(&rebuilt)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.0.clone())
        .collect();
    report
}

/// Lets the service serve for a drawn while, and on until the clients got
/// `plan.min_per_window` more commands acknowledged (at most 30 s more).
async fn serve_window(plan: &Plan, ledgers: &[Arc<Mutex<Ledger>>]) {
    let acknowledged = || -> usize {
        ledgers
            .iter()
            .map(|ledger| ledger.lock().map(|l| l.acknowledged).unwrap_or(0))
            .sum()
    };
    let before = acknowledged();
    tokio::time::sleep(rand::rng().random_range(plan.serve_for.clone())).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged() < before + plan.min_per_window && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (up to 60 s) until every projector has applied the whole log; returns those
/// that did not.
async fn wait_at_head(pool: &PgPool) -> Vec<(String, i64)> {
    let projectors = anytrade_projections::all();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = anytrade_projections::runner::status(pool, &projectors)
            .await
            .expect("projection status");
        let behind: Vec<_> = status
            .iter()
            .filter(|s| s.behind > 0)
            .map(|s| (s.name.to_string(), s.behind))
            .collect();
        if behind.is_empty() || Instant::now() > deadline {
            return behind;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The `anytrade serve` process: the same port, data directory, database and keys on
/// each start. Lifecycle requests are carried out only when `env` turns
/// `ANYTRADE_RUNTIME__MANAGE` on; the monitors are off unless it turns them on.
pub struct Server {
    binary: PathBuf,
    database_url: String,
    env: Vec<(&'static str, String)>,
    port: u16,
    base: String,
    key: String,
    data: tempfile::TempDir,
}

impl Server {
    pub fn new(binary: PathBuf, database_url: String, env: Vec<(&'static str, String)>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Self {
            binary,
            database_url,
            env,
            port,
            base: format!("http://127.0.0.1:{port}"),
            key: anytrade::crypto::Keyring::generate_key(),
            data: tempfile::tempdir().expect("data dir"),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Its data directory (`ANYTRADE_DATA_DIR`).
    pub fn data_dir(&self) -> &std::path::Path {
        self.data.path()
    }

    /// Starts the service, waits until `/readyz` answers 200, and notes how long that
    /// took in `restarts`.
    pub async fn start(&self, restarts: &mut Vec<Duration>) -> Child {
        let started = Instant::now();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data.path().join("serve.log"))
            .expect("log file");
        let mut child = Command::new(&self.binary)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.database_url)
            .env("ANYTRADE_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("ANYTRADE_DATA_DIR", self.data.path())
            .env("ANYTRADE_ENCRYPTION_KEY", &self.key)
            .env("ANYTRADE_ADMIN_PASSWORD", PASSWORD)
            .env("ANYTRADE_RUNTIME__MANAGE", "false")
            .env("ANYTRADE_MONITOR__ENABLED", "false")
            .env("ANYTRADE_LOG_LEVEL", "warn")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("start anytrade serve");
        let http = reqwest::Client::new();
        let deadline = started + Duration::from_secs(120);
        loop {
            let ready = http
                .get(format!("{}/readyz", self.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status() == 200) {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("serve exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "not ready in time: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        restarts.push(started.elapsed());
        child
    }

    /// SIGTERM, and a clean exit.
    pub async fn stop(&self, mut child: Child) {
        let pid = child.id().expect("running") as i32;
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        )
        .expect("SIGTERM");
        let status = child.wait().await.expect("wait");
        assert!(status.success(), "serve failed on SIGTERM: {}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.path().join("serve.log")).unwrap_or_default()
    }
}

/// What a command's marker stands for: in which aggregate type's events it must appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Carrier {
    Exchange,
    Strategy,
    Bot,
}

impl Carrier {
    fn aggregate_type(self) -> &'static str {
        match self {
            Self::Exchange => "exchange",
            Self::Strategy => "strategy",
            Self::Bot => "bot",
        }
    }
}

/// One marked command and whether the client was told it happened.
#[derive(Debug)]
struct Sent {
    carrier: Carrier,
    marker: String,
    what: &'static str,
    acknowledged: bool,
}

/// A bot's start/stop history as one client saw it.
#[derive(Debug)]
struct BotTrack {
    id: String,
    /// `wantedStatus` as the last acknowledged command answered it.
    acknowledged_wish: Option<String>,
    /// Whether a command was sent after it without an answer.
    unsure: bool,
    /// The wish the next command asks for.
    next_start: bool,
}

/// What one client sent and was told.
#[derive(Debug, Default)]
struct Ledger {
    sent: Vec<Sent>,
    exchanges: Vec<String>,
    /// Exchanges acknowledged as created with an `api_key` secret.
    exchanges_with_secret: Vec<String>,
    strategies: Vec<String>,
    bots: Vec<BotTrack>,
    acknowledged: usize,
    unanswered: usize,
    refused: BTreeMap<String, usize>,
    server_errors: usize,
}

impl Ledger {
    fn tally(&self, report: &mut Report) {
        report.acknowledged += self.acknowledged;
        report.unanswered += self.unanswered;
        report.server_errors += self.server_errors;
        for (code, n) in &self.refused {
            *report.refused.entry(code.clone()).or_default() += n;
        }
    }
}

/// How the service answered one request.
pub enum Answer {
    /// `data` without errors.
    Data(Value),
    /// An error with this code: nothing was done.
    Refused(String),
    /// No answer, or 503: it may or may not have happened.
    Unanswered,
    /// An HTTP status of 500 or above other than 503 (a defect): it may or may not
    /// have happened.
    ServerError,
}

/// The admin's view of the GraphQL API across restarts: logs in when needed (again
/// after a 401) and retries only what was certainly not executed.
pub struct Api {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl Api {
    pub fn new(base: String) -> Self {
        Self {
            base,
            http: reqwest::Client::new(),
            token: None,
        }
    }

    /// Posts one request as the admin, logging in first when needed (again after a
    /// 401); retries only what was certainly not executed.
    pub async fn send(&mut self, query: &str, variables: Value) -> Answer {
        loop {
            let Some(token) = self.token().await else {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            let response = self
                .http
                .post(format!("{}/graphql", self.base))
                .bearer_auth(token)
                .timeout(Duration::from_secs(30))
                .json(&json!({ "query": query, "variables": variables }))
                .send()
                .await;
            let response = match response {
                Ok(response) => response,
                // Refused at connect: nothing was sent, so nothing ran.
                Err(e) if e.is_connect() => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                Err(_) => return Answer::Unanswered,
            };
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            match status {
                401 => self.token = None,
                503 => return Answer::Unanswered,
                500.. => return Answer::ServerError,
                _ => match body["errors"].as_array().and_then(|e| e.first()) {
                    Some(error) => {
                        let code = error["extensions"]["code"].as_str().unwrap_or("NO_CODE");
                        return Answer::Refused(code.to_owned());
                    }
                    None if body["data"].is_object() => return Answer::Data(body["data"].clone()),
                    None => return Answer::Refused("NO_CODE".into()),
                },
            }
        }
    }

    async fn token(&mut self) -> Option<String> {
        if self.token.is_none() {
            let response = self
                .http
                .post(format!("{}/auth/login", self.base))
                .timeout(Duration::from_secs(10))
                .json(&json!({ "username": "admin", "password": PASSWORD }))
                .send()
                .await
                .ok()?;
            let body: Value = response.json().await.ok()?;
            self.token = body["token"].as_str().map(str::to_owned);
        }
        self.token.clone()
    }
}

struct Client {
    api: Api,
    ledger: Arc<Mutex<Ledger>>,
}

impl Client {
    fn new(base: String, ledger: Arc<Mutex<Ledger>>) -> Self {
        Self {
            api: Api::new(base),
            ledger,
        }
    }

    async fn run(mut self, stopped: tokio::sync::watch::Receiver<bool>) {
        while !*stopped.borrow() {
            self.one_command().await;
        }
    }

    /// Picks a command the client's own aggregates allow, sends it and records the
    /// answer.
    async fn one_command(&mut self) {
        let (exchange, strategy, bot) = {
            let ledger = self.ledger.lock().expect("ledger");
            let mut rng = rand::rng();
            let pick = |items: &[String], rng: &mut rand::rngs::ThreadRng| {
                (!items.is_empty()).then(|| items[rng.random_range(0..items.len())].clone())
            };
            let bot = (!ledger.bots.is_empty()).then(|| rng.random_range(0..ledger.bots.len()));
            (
                pick(&ledger.exchanges, &mut rng),
                pick(&ledger.strategies, &mut rng),
                bot,
            )
        };
        let roll = rand::rng().random_range(0..100);
        match (exchange, strategy, bot) {
            (None, _, _) => self.create_exchange().await,
            (_, None, _) => self.create_strategy().await,
            (Some(exchange), Some(strategy), bot) => match (roll, bot) {
                (0..15, _) => self.create_exchange().await,
                (15..35, _) => self.update_exchange(&exchange).await,
                (35..45, _) => self.create_strategy().await,
                (45..65, _) => self.update_strategy(&strategy).await,
                (65..75, _) | (_, None) => self.create_bot(&exchange, &strategy).await,
                (_, Some(bot)) => self.start_or_stop(bot).await,
            },
        }
    }

    async fn create_exchange(&mut self) {
        let marker = marker();
        let answer = self
            .send(
                "mutation($config: JSON!) { createExchange(input: { name: \"binance\", \
                 config: $config, secrets: [{ name: \"api_key\", value: \"crash-key\" }] }) { id } }",
                json!({ "config": { "note": marker } }),
            )
            .await;
        let id = self.record(Carrier::Exchange, marker, "createExchange", &answer);
        if let Some(id) =
            id.and_then(|data| data["createExchange"]["id"].as_str().map(str::to_owned))
        {
            let mut ledger = self.ledger.lock().expect("ledger");
            ledger.exchanges.push(id.clone());
            ledger.exchanges_with_secret.push(id);
        }
    }

    async fn update_exchange(&mut self, id: &str) {
        let marker = marker();
        let answer = self
            .send(
                "mutation($id: ID!, $config: JSON!) { updateExchange(id: $id, input: { config: $config }) { id } }",
                json!({ "id": id, "config": { "note": marker } }),
            )
            .await;
        self.record(Carrier::Exchange, marker, "updateExchange", &answer);
    }

    async fn create_strategy(&mut self) {
        let marker = marker();
        let answer = self
            .send(
                "mutation($name: String!, $code: String!) { createStrategy(input: { name: $name, code: $code }) { id } }",
                json!({ "name": marker, "code": CODE }),
            )
            .await;
        let id = self.record(Carrier::Strategy, marker, "createStrategy", &answer);
        if let Some(id) =
            id.and_then(|data| data["createStrategy"]["id"].as_str().map(str::to_owned))
        {
            self.ledger.lock().expect("ledger").strategies.push(id);
        }
    }

    async fn update_strategy(&mut self, id: &str) {
        let marker = marker();
        let answer = self
            .send(
                "mutation($id: ID!, $code: String!) { updateStrategy(id: $id, input: { code: $code }) { version } }",
                json!({ "id": id, "code": format!("{CODE}# {marker}\n") }),
            )
            .await;
        self.record(Carrier::Strategy, marker, "updateStrategy", &answer);
    }

    async fn create_bot(&mut self, exchange: &str, strategy: &str) {
        let marker = marker();
        let answer = self
            .send(
                &format!("mutation($input: CreateBotInput!) {{ createBot(input: $input) {{ {BOT_FIELDS} }} }}"),
                json!({ "input": { "name": marker, "exchangeId": exchange, "strategyId": strategy, "mode": "DRY_RUN" } }),
            )
            .await;
        let data = self.record(Carrier::Bot, marker, "createBot", &answer);
        if let Some(id) = data.and_then(|data| data["createBot"]["id"].as_str().map(str::to_owned))
        {
            self.ledger.lock().expect("ledger").bots.push(BotTrack {
                id,
                acknowledged_wish: None,
                unsure: false,
                next_start: true,
            });
        }
    }

    async fn start_or_stop(&mut self, bot: usize) {
        let (id, start) = {
            let ledger = self.ledger.lock().expect("ledger");
            (ledger.bots[bot].id.clone(), ledger.bots[bot].next_start)
        };
        let mutation = if start { "startBot" } else { "stopBot" };
        let answer = self
            .send(
                &format!("mutation($id: ID!) {{ {mutation}(id: $id) {{ {BOT_FIELDS} }} }}"),
                json!({ "id": id }),
            )
            .await;
        let mut ledger = self.ledger.lock().expect("ledger");
        let track = &mut ledger.bots[bot];
        track.next_start = !start;
        match &answer {
            Answer::Data(data) => {
                track.acknowledged_wish =
                    data[mutation]["wantedStatus"].as_str().map(str::to_owned);
                track.unsure = false;
            }
            Answer::Unanswered | Answer::ServerError => track.unsure = true,
            Answer::Refused(_) => {}
        }
        ledger.count(&answer);
    }

    /// Notes a marked command's answer; returns its data when acknowledged.
    fn record(
        &self,
        carrier: Carrier,
        marker: String,
        what: &'static str,
        answer: &Answer,
    ) -> Option<Value> {
        let mut ledger = self.ledger.lock().expect("ledger");
        ledger.count(answer);
        if matches!(answer, Answer::Refused(_)) {
            return None;
        }
        let data = match answer {
            Answer::Data(data) => Some(data.clone()),
            _ => None,
        };
        ledger.sent.push(Sent {
            carrier,
            marker,
            what,
            acknowledged: data.is_some(),
        });
        data
    }

    /// Sends one request; an HTTP 5xx other than 503 is counted in the ledger.
    async fn send(&mut self, query: &str, variables: Value) -> Answer {
        let answer = self.api.send(query, variables).await;
        if matches!(answer, Answer::ServerError) {
            self.ledger.lock().expect("ledger").server_errors += 1;
        }
        answer
    }
}

impl Ledger {
    fn count(&mut self, answer: &Answer) {
        match answer {
            Answer::Data(_) => self.acknowledged += 1,
            Answer::Unanswered | Answer::ServerError => self.unanswered += 1,
            Answer::Refused(code) => *self.refused.entry(code.clone()).or_default() += 1,
        }
    }
}

fn marker() -> String {
    format!("mk-{}", uuid::Uuid::new_v4().simple())
}

/// Every marker in the log, counted per aggregate type.
async fn markers_in_log(pool: &PgPool) -> HashMap<(String, String), usize> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT aggregate_type, payload::text FROM events")
            .fetch_all(pool)
            .await
            .expect("read the log");
    let mut found = HashMap::new();
    for (aggregate_type, payload) in rows {
        let mut rest = payload.as_str();
        while let Some(at) = rest.find("mk-") {
            let candidate = rest[at..].get(..35).unwrap_or("");
            if candidate.len() == 35 && candidate[3..].bytes().all(|b| b.is_ascii_hexdigit()) {
                *found
                    .entry((aggregate_type.clone(), candidate.to_owned()))
                    .or_default() += 1;
            }
            rest = &rest[at + 3..];
        }
    }
    found
}

/// Holds the log and the read models against each client's ledger.
async fn check_log(pool: &PgPool, ledgers: &[Arc<Mutex<Ledger>>], report: &mut Report) {
    let found = markers_in_log(pool).await;
    report.events = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .expect("count events");
    let secrets: Vec<String> =
        sqlx::query_scalar("SELECT exchange_id::text FROM exchange_secrets WHERE name = 'api_key'")
            .fetch_all(pool)
            .await
            .expect("read exchange secrets");
    let wishes: HashMap<String, Option<String>> =
        sqlx::query_as::<_, (String, Option<String>)>("SELECT id::text, wanted FROM bots")
            .fetch_all(pool)
            .await
            .expect("read bots")
            .into_iter()
            .collect();
    for ledger in ledgers {
        let ledger = ledger.lock().expect("ledger");
        for sent in &ledger.sent {
            let key = (
                sent.carrier.aggregate_type().to_owned(),
                sent.marker.clone(),
            );
            let times = found.get(&key).copied().unwrap_or(0);
            if sent.acknowledged && times == 0 {
                report.lost.push(format!("{} {}", sent.what, sent.marker));
            }
            if times > 1 {
                report
                    .duplicated
                    .push(format!("{} {} ({times} times)", sent.what, sent.marker));
            }
        }
        for id in &ledger.exchanges_with_secret {
            if !secrets.contains(id) {
                report
                    .lost
                    .push(format!("createExchange {id}: its api_key"));
            }
        }
        for bot in ledger.bots.iter().filter(|b| !b.unsure) {
            let Some(wish) = &bot.acknowledged_wish else {
                continue;
            };
            report.bots_checked += 1;
            let recorded = wishes.get(&bot.id).cloned().flatten();
            if recorded.as_deref().map(str::to_uppercase).as_ref() != Some(wish) {
                report.lost.push(format!(
                    "bot {}: acknowledged wish {wish}, recorded {recorded:?}",
                    bot.id
                ));
            }
        }
    }
}
