//! Idempotent side effects under kills: the real binary manages bots on the local
//! runtime or the docker runtime, whose freqtrade is a stand-in that starts in
//! milliseconds (it serves `/api/v1/ping` on the port its config names, until SIGTERM):
//! installed where the local runtime looks for it, or as an image made from the
//! freqtrade image with the stand-in in freqtrade's place. Clients send random start,
//! stop, restart and delete commands while the service is SIGKILLed at random and
//! started again. At the end, once it has settled by itself, every bot runs exactly the
//! processes (or running containers) its recorded state calls for (one when RUNNING,
//! none otherwise, none for a deleted bot), and each bot whose last command was
//! acknowledged is where that command put it. Shared by the integration tests (short
//! runs) and `scripts/bench chaos` (included with `#[path]`; it needs
//! `crate::crash_load`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::crash_load::{Answer, Api, Server};

/// The freqtrade version the stand-in is installed as.
pub const VERSION: &str = "2026.9";
pub const CODE: &str =
    "from freqtrade.strategy import IStrategy\n\nclass Fast(IStrategy):\n    timeframe = '5m'\n";

/// The runtime the bots run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fleet {
    Local,
    Docker,
}

/// What to run.
pub struct Plan {
    pub binary: PathBuf,
    pub fleet: Fleet,
    pub database_url: String,
    pub bots: usize,
    /// Commands to send at least (more while kills remain: clients send until both are
    /// done).
    pub commands: usize,
    pub kills: usize,
    pub clients: usize,
    /// How long the service serves between starts and kills, drawn uniformly.
    pub serve_for: std::ops::Range<Duration>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub kills: usize,
    pub commands: usize,
    pub acknowledged: usize,
    pub unanswered: usize,
    pub server_errors: usize,
    /// Error codes answered, by code.
    pub refused: BTreeMap<String, usize>,
    /// Bots whose last command was acknowledged (their state is checked against it).
    pub bots_checked: usize,
    /// Bots deleted by an acknowledged command.
    pub deleted: usize,
    /// The most stand-ins seen running at once (looked at every 100 ms while the
    /// service serves, then while commands are still sent, and at the end): that bots
    /// really ran.
    pub peak_processes: usize,
    /// Bots RUNNING at the end, and processes running at the end.
    pub running: usize,
    pub processes: usize,
    /// From the last start until every bot was settled and matched.
    pub settled_after: Option<Duration>,
    /// What did not match when the time to settle ran out.
    pub mismatches: Vec<String>,
}

impl Report {
    pub fn failures(&self) -> Vec<String> {
        let mut failures = self.mismatches.clone();
        if self.settled_after.is_none() && failures.is_empty() {
            failures.push("never settled".into());
        }
        if self.server_errors > 0 {
            failures.push(format!("{} HTTP 5xx other than 503", self.server_errors));
        }
        for code in ["NO_CODE", "INTERNAL"] {
            if self.refused.contains_key(code) {
                failures.push(format!("errors answered {code}: {:?}", self.refused));
            }
        }
        failures
    }
}

/// The command a client last sent a bot, and whether it was acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Start,
    Stop,
    Restart,
    Delete,
}

impl Command {
    fn mutation(self) -> &'static str {
        match self {
            Self::Start => "startBot",
            Self::Stop => "stopBot",
            Self::Restart => "restartBot",
            Self::Delete => "deleteBot",
        }
    }

    fn random(rng: &mut impl Rng) -> Self {
        match rng.random_range(0..100) {
            0..35 => Self::Start,
            35..65 => Self::Stop,
            65..90 => Self::Restart,
            _ => Self::Delete,
        }
    }
}

#[derive(Debug)]
struct Last {
    command: Command,
    acknowledged: bool,
}

/// Every bot the clients made, with the last command each was sent.
#[derive(Debug, Default)]
struct Ledger {
    bots: BTreeMap<String, Option<Last>>,
    /// Which client commands each bot: one at a time per bot, so the last command
    /// answered is the last one carried out.
    owners: HashMap<String, usize>,
    acknowledged: usize,
    unanswered: usize,
    server_errors: usize,
    refused: BTreeMap<String, usize>,
}

/// Runs the plan and checks where it left the bots and their processes.
pub async fn run(plan: &Plan) -> Report {
    let stand_in = StandIn::install(plan.fleet);
    let mut env = vec![
        ("ANYTRADE_RUNTIME__MANAGE", "true".into()),
        ("ANYTRADE_RUNTIME__RECONCILE_INTERVAL_SECS", "1".into()),
        ("ANYTRADE_RUNTIME__LOCAL__START_TIMEOUT_SECS", "20".into()),
        ("ANYTRADE_RUNTIME__DOCKER__START_TIMEOUT_SECS", "20".into()),
    ];
    env.extend(stand_in.settings());
    let server = Server::new(plan.binary.clone(), plan.database_url.clone(), env);
    let mut restarts = Vec::new();
    let mut child = server.start(&mut restarts).await;
    let mut api = Api::new(server.base().to_owned());
    let (exchange, strategy) = exchange_and_strategy(&mut api).await;
    let world = Arc::new(World {
        base: server.base().to_owned(),
        runtime: stand_in.runtime(),
        exchange,
        strategy,
        ledger: Mutex::new(Ledger::default()),
        sent: AtomicUsize::new(0),
    });
    let clients = plan.clients.max(1);
    for n in 0..plan.bots {
        world.create_bot(&mut api, n % clients).await;
    }

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let clients: Vec<_> = (0..clients)
        .map(|client| tokio::spawn(world.clone().client(client, stopped.clone())))
        .collect();
    let mut report = Report::default();
    for _ in 0..plan.kills {
        // Counted every 100 ms while it serves: a bot may run between two kills only.
        let kill_at = Instant::now() + rand::rng().random_range(plan.serve_for.clone());
        while Instant::now() < kill_at {
            let running = stand_in.running(server.data_dir()).values().sum();
            report.peak_processes = report.peak_processes.max(running);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        child.kill().await.expect("SIGKILL the service");
        report.kills += 1;
        child = server.start(&mut restarts).await;
    }
    // The commands still to send, if the kills came first.
    while world.sent.load(Ordering::Relaxed) < plan.commands {
        let running = stand_in.running(server.data_dir()).values().sum();
        report.peak_processes = report.peak_processes.max(running);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).expect("clients listen");
    for client in clients {
        client.await.expect("client task");
    }

    let pool = PgPool::connect(&plan.database_url)
        .await
        .expect("the service's database");
    let since_start = *restarts.last().expect("started");
    let settling = Instant::now();
    let ledger = {
        let ledger = world.ledger.lock().expect("ledger");
        report.commands = world.sent.load(Ordering::Relaxed);
        report.acknowledged = ledger.acknowledged;
        report.unanswered = ledger.unanswered;
        report.server_errors = ledger.server_errors;
        report.refused = ledger.refused.clone();
        report.bots_checked = ledger
            .bots
            .values()
            .filter(|last| last.as_ref().is_some_and(|l| l.acknowledged))
            .count();
        report.deleted = ledger
            .bots
            .values()
            .filter(|last| {
                last.as_ref()
                    .is_some_and(|l| l.acknowledged && l.command == Command::Delete)
            })
            .count();
        ledger
            .bots
            .iter()
            .map(|(id, last)| {
                (
                    id.clone(),
                    last.as_ref().map(|l| (l.command, l.acknowledged)),
                )
            })
            .collect::<Vec<_>>()
    };
    let deadline = settling + Duration::from_secs(120);
    loop {
        let seen = Seen::now(&pool, stand_in.running(server.data_dir())).await;
        let mismatches = seen.mismatches(&ledger);
        if mismatches.is_empty() {
            report.settled_after = Some(since_start + settling.elapsed());
            report.running = seen.statuses.values().filter(|s| s.0 == "running").count();
            report.processes = seen.processes.values().sum();
            report.peak_processes = report.peak_processes.max(report.processes);
            break;
        }
        if Instant::now() > deadline {
            report.mismatches = mismatches;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.stop(child).await;
    report
}

/// An exchange (no simulator: the stand-in trades nothing) and the stand-in's
/// strategy, which every bot of a run uses.
pub async fn exchange_and_strategy(api: &mut Api) -> (String, String) {
    let exchange = data(
        api,
        "mutation { createExchange(input: { name: \"binance\" }) { id } }",
        json!({}),
    )
    .await["createExchange"]["id"]
        .as_str()
        .expect("exchange id")
        .to_owned();
    let strategy = data(
        api,
        "mutation($code: String!) { createStrategy(input: { name: \"fast\", code: $code }) { id } }",
        json!({ "code": CODE }),
    )
    .await["createStrategy"]["id"]
        .as_str()
        .expect("strategy id")
        .to_owned();
    (exchange, strategy)
}

/// Creates a dry-run bot of the stand-in's strategy on `runtime` (as the API names it)
/// and returns its id.
pub async fn create_bot(
    api: &mut Api,
    name: &str,
    exchange: &str,
    strategy: &str,
    runtime: &str,
) -> String {
    let input = json!({
        "name": name, "exchangeId": exchange, "strategyId": strategy,
        "mode": "DRY_RUN", "runtime": runtime, "freqtradeVersion": VERSION,
        "config": { "pairs": ["BTC/USDT"], "stakeAmount": "100", "maxOpenTrades": 1 },
    });
    data(
        api,
        "mutation($input: CreateBotInput!) { createBot(input: $input) { id } }",
        json!({ "input": input }),
    )
    .await["createBot"]["id"]
        .as_str()
        .expect("bot id")
        .to_owned()
}

/// `data` of a request that must succeed.
pub async fn data(api: &mut Api, query: &str, variables: Value) -> Value {
    loop {
        match api.send(query, variables.clone()).await {
            Answer::Data(data) => return data,
            Answer::Refused(code) => panic!("{query} refused: {code}"),
            Answer::Unanswered | Answer::ServerError => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
        }
    }
}

/// What the clients share.
struct World {
    base: String,
    /// The bots' runtime, as the API names it.
    runtime: &'static str,
    exchange: String,
    strategy: String,
    ledger: Mutex<Ledger>,
    sent: AtomicUsize,
}

impl World {
    async fn create_bot(&self, api: &mut Api, owner: usize) {
        let name = format!("bot-{}", uuid::Uuid::new_v4().simple());
        // A create whose answer was lost is sent again under a new name; the lost one
        // (if it landed) is a bot nobody commands, which must end STOPPED and idle.
        let id = create_bot(api, &name, &self.exchange, &self.strategy, self.runtime).await;
        let mut ledger = self.ledger.lock().expect("ledger");
        ledger.owners.insert(id.clone(), owner);
        ledger.bots.insert(id, None);
    }

    async fn client(self: Arc<Self>, me: usize, stopped: tokio::sync::watch::Receiver<bool>) {
        let mut api = Api::new(self.base.clone());
        while !*stopped.borrow() {
            // A moment between commands, as people and scripts leave: the runtime
            // carries some out before the next arrives.
            let think = rand::rng().random_range(10..60);
            tokio::time::sleep(Duration::from_millis(think)).await;
            let (bot, command) = {
                let ledger = self.ledger.lock().expect("ledger");
                let live: Vec<&String> = ledger
                    .bots
                    .iter()
                    .filter(|(id, last)| {
                        ledger.owners.get(*id) == Some(&me)
                            && !last.as_ref().is_some_and(|l| l.command == Command::Delete)
                    })
                    .map(|(id, _)| id)
                    .collect();
                let mut rng = rand::rng();
                let Some(bot) = live.choose(&mut rng).map(|id| (*id).clone()) else {
                    // More clients than bots: this one has none.
                    continue;
                };
                (bot, Command::random(&mut rng))
            };
            self.sent.fetch_add(1, Ordering::Relaxed);
            let query = format!(
                "mutation($id: ID!) {{ {} (id: $id) {} }}",
                command.mutation(),
                if command == Command::Delete {
                    ""
                } else {
                    "{ id }"
                }
            );
            let answer = api.send(&query, json!({ "id": bot })).await;
            let replace = {
                let mut ledger = self.ledger.lock().expect("ledger");
                let acknowledged = matches!(answer, Answer::Data(_));
                match &answer {
                    Answer::Data(_) => ledger.acknowledged += 1,
                    Answer::Unanswered => ledger.unanswered += 1,
                    Answer::ServerError => ledger.server_errors += 1,
                    Answer::Refused(code) => *ledger.refused.entry(code.clone()).or_default() += 1,
                }
                if !matches!(answer, Answer::Refused(_)) {
                    ledger.bots.insert(
                        bot,
                        Some(Last {
                            command,
                            acknowledged,
                        }),
                    );
                }
                command == Command::Delete && !matches!(answer, Answer::Refused(_))
            };
            if replace {
                self.create_bot(&mut api, me).await;
            }
        }
    }
}

/// The bots' recorded states and the stand-ins running, at one moment.
struct Seen {
    /// Bot id → (status, wanted, error message).
    statuses: HashMap<String, (String, Option<String>, Option<String>)>,
    /// Bot id → stand-ins (processes or containers) running for it.
    processes: HashMap<String, usize>,
}

impl Seen {
    async fn now(pool: &PgPool, processes: HashMap<String, usize>) -> Self {
        let statuses = sqlx::query_as::<_, (String, String, Option<String>, Option<String>)>(
            "SELECT id::text, status, wanted, error_message FROM bots",
        )
        .fetch_all(pool)
        .await
        .expect("read bots")
        .into_iter()
        .map(|(id, status, wanted, error)| (id, (status, wanted, error)))
        .collect();
        Self {
            statuses,
            processes,
        }
    }

    /// What does not match: the processes each bot's status calls for, settled states,
    /// and each acknowledged last command.
    fn mismatches(&self, ledger: &[(String, Option<(Command, bool)>)]) -> Vec<String> {
        let mut wrong = Vec::new();
        for (bot, count) in &self.processes {
            let status = self.statuses.get(bot).map(|s| s.0.as_str());
            if status != Some("running") || *count != 1 {
                wrong.push(format!("bot {bot} ({status:?}) has {count} running"));
            }
        }
        for (bot, (status, wanted, error)) in &self.statuses {
            if status == "running" && !self.processes.contains_key(bot) {
                wrong.push(format!("bot {bot} is running with nothing running"));
            }
            if !matches!(status.as_str(), "running" | "stopped") {
                wrong.push(format!(
                    "bot {bot} is {status} (wanted {wanted:?}, error {error:?})"
                ));
            }
        }
        for (bot, last) in ledger {
            let Some((command, true)) = last else {
                continue;
            };
            let status = self.statuses.get(bot).map(|s| s.0.as_str());
            let expected = match command {
                Command::Start | Command::Restart => Some("running"),
                Command::Stop => Some("stopped"),
                Command::Delete => None,
            };
            if status != expected {
                wrong.push(format!(
                    "bot {bot}: acknowledged {command:?}, status {status:?}"
                ));
            }
        }
        wrong.sort();
        wrong
    }
}

/// The stand-in for `freqtrade trade`, after its `#!` line: answers /api/v1/ping on
/// the address its (first) config names, and exits on SIGTERM as freqtrade does (in a
/// container it is process 1, which the kernel spares from signals it does not handle).
const STAND_IN: &str = r#"import http.server, json, signal, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
args = sys.argv[1:]
config = json.load(open(args[args.index("--config") + 1]))
api = config["api_server"]

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        found = self.path == "/api/v1/ping"
        body = b'{"status": "pong"}' if found else b'{}'
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

address = (api.get("listen_ip_address", "127.0.0.1"), api["listen_port"])
http.server.ThreadingHTTPServer(address, Handler).serve_forever()
"#;

/// The stand-in, where the fleet's runtime finds it.
enum StandIn {
    Local(FakeFreqtrade),
    Docker(StandInImage),
}

impl StandIn {
    fn install(fleet: Fleet) -> Self {
        match fleet {
            Fleet::Local => Self::Local(FakeFreqtrade::install()),
            Fleet::Docker => Self::Docker(StandInImage::build()),
        }
    }

    fn runtime(&self) -> &'static str {
        match self {
            Self::Local(_) => "LOCAL",
            Self::Docker(_) => "DOCKER",
        }
    }

    /// The service's settings that make its runtime run the stand-in.
    fn settings(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Local(fake) => vec![
                ("ANYTRADE_RUNTIME", "local".into()),
                (
                    "ANYTRADE_RUNTIME__LOCAL__FREQTRADE_PATH",
                    fake.root.path().to_string_lossy().into_owned(),
                ),
            ],
            Self::Docker(image) => image.settings(),
        }
    }

    /// Bot id → stand-ins running for it, for the service whose data directory is
    /// `data`.
    fn running(&self, data: &Path) -> HashMap<String, usize> {
        let mut running: HashMap<String, usize> = HashMap::new();
        match self {
            Self::Local(fake) => {
                let bots = data.join("local").join("bots");
                for config in fake.running_configs() {
                    let bot = config
                        .strip_prefix(&bots)
                        .ok()
                        .and_then(|rest| rest.components().next())
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .unwrap_or_else(|| format!("(not a bot's: {})", config.display()));
                    *running.entry(bot).or_default() += 1;
                }
            }
            Self::Docker(image) => {
                for bot in running_containers(image.data.path()) {
                    *running.entry(bot).or_default() += 1;
                }
            }
        }
        running
    }
}

/// The bot id of every running bot container of the control plane whose docker data
/// directory is `owner`.
pub fn running_containers(owner: &Path) -> Vec<String> {
    let owner = std::path::absolute(owner).expect("absolute path");
    let output = Process::new("docker")
        .args([
            "ps",
            "--filter",
            &format!("label=anytrade.owner={}", owner.display()),
            "--filter",
            "label=anytrade.kind=bot",
            "--format",
            "{{.Label \"anytrade.bot_id\"}}",
        ])
        .output()
        .expect("docker ps");
    assert!(output.status.success(), "docker ps: {output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// An image of the freqtrade image with the stand-in in freqtrade's place, built on
/// the engine (from the freqtrade image `scripts/freqtrade-image` builds, so no
/// registry is needed), and a docker data directory for the service to run it with.
/// The containers made with that directory are removed when this is dropped.
pub struct StandInImage {
    /// The image name for `runtime.docker.image`.
    pub template: String,
    /// For `runtime.docker.data_path`: containers are labelled with it.
    pub data: tempfile::TempDir,
}

impl Drop for StandInImage {
    fn drop(&mut self) {
        let owner = std::path::absolute(self.data.path()).expect("absolute path");
        let listed = Process::new("docker")
            .args(["ps", "-aq", "--filter"])
            .arg(format!("label=anytrade.owner={}", owner.display()))
            .output();
        let Ok(listed) = listed else { return };
        let ids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if !ids.is_empty() {
            let _ = Process::new("docker")
                .args(["rm", "-f"])
                .args(&ids)
                .output();
        }
    }
}

impl StandInImage {
    pub const BASE: &str = "anytrade/freqtrade:2026.9";

    /// The service's settings that make its docker runtime (the default) run it.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ANYTRADE_RUNTIME", "docker".into()),
            ("ANYTRADE_RUNTIME__DOCKER__IMAGE", self.template.clone()),
            (
                "ANYTRADE_RUNTIME__DOCKER__DATA_PATH",
                self.data.path().to_string_lossy().into_owned(),
            ),
        ]
    }

    pub fn build() -> Self {
        use std::os::unix::fs::PermissionsExt;
        let context = tempfile::tempdir().expect("build context");
        let script = format!("#!/opt/freqtrade/bin/python3\n{STAND_IN}");
        let executable = context.path().join("freqtrade");
        std::fs::write(&executable, script).expect("write the stand-in");
        std::fs::set_permissions(&executable, std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        std::fs::write(
            context.path().join("Dockerfile"),
            format!(
                "FROM {}\nCOPY freqtrade /opt/freqtrade/bin/freqtrade\n",
                Self::BASE
            ),
        )
        .expect("Dockerfile");
        let template = "anytrade/freqtrade-standin:{version}".to_owned();
        let built = Process::new("docker")
            .args(["build", "-q", "-t", &template.replace("{version}", VERSION)])
            .arg(context.path())
            .output()
            .expect("docker build");
        assert!(
            built.status.success(),
            "cannot build the stand-in image from {} (scripts/freqtrade-image builds it): {}",
            Self::BASE,
            String::from_utf8_lossy(&built.stderr)
        );
        Self {
            template,
            data: tempfile::tempdir().expect("docker data dir"),
        }
    }
}

/// A freqtrade stand-in installed where the local runtime looks for version
/// [`VERSION`]; every process of it is killed when this is dropped.
struct FakeFreqtrade {
    root: tempfile::TempDir,
    executable: PathBuf,
}

impl FakeFreqtrade {
    fn install() -> Self {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().expect("fake freqtrade root");
        let bin = root.path().join(VERSION).join("bin");
        std::fs::create_dir_all(&bin).expect("bin dir");
        // The runtime starts it with a clean environment: no PATH to find python by.
        let python = std::env::var_os("PATH")
            .into_iter()
            .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
            .map(|dir| dir.join("python3"))
            .find(|candidate| candidate.exists())
            .expect("python3 on PATH");
        let script = format!("#!{}\n{STAND_IN}", python.display());
        let executable = bin.join("freqtrade");
        std::fs::write(&executable, script).expect("write the stand-in");
        std::fs::set_permissions(&executable, std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        std::fs::write(
            root.path().join(VERSION).join(".anytrade-installed"),
            VERSION,
        )
        .expect("marker");
        Self { root, executable }
    }

    /// (pid, `--config` path) of every live process of the stand-in.
    fn processes(&self) -> Vec<(i32, PathBuf)> {
        let mut found = Vec::new();
        let me = self.executable.to_string_lossy().into_owned();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            if !args.contains(&me) {
                continue;
            }
            let zombie = std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|stat| {
                    stat.rsplit_once(')')
                        .map(|(_, rest)| rest.trim_start().starts_with('Z'))
                })
                .unwrap_or(true);
            let config = args
                .iter()
                .position(|a| a == "--config")
                .and_then(|i| args.get(i + 1));
            if let (false, Some(config)) = (zombie, config) {
                found.push((pid, PathBuf::from(config)));
            }
        }
        found
    }

    fn running_configs(&self) -> Vec<PathBuf> {
        self.processes()
            .into_iter()
            .map(|(_, config)| config)
            .collect()
    }
}

impl Drop for FakeFreqtrade {
    fn drop(&mut self) {
        for (pid, _) in self.processes() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
