//! `docker/compose.yaml` on the real engine: the control plane's image with PostgreSQL
//! comes up and answers, a bot created through it runs as a sibling container, and
//! `down` then `up` keeps everything (the bot still runs, adopted, and its exchange and
//! strategy are still there).
//!
//! Needs the images scripts/test builds with no registry (`scripts/control-plane-image`,
//! `scripts/postgres-image`, `scripts/freqtrade-image`), named by
//! `ANYTRADE_TEST_COMPOSE_IMAGE`; skipped, saying why, when it is unset.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::free_port;
use crate::helpers::poll_until;
use crate::sandbox::ALWAYS_ENTER;

const PASSWORD: &str = "compose admin passphrase";

/// One compose project, taken down with its volumes, bots and directories when dropped.
struct Project {
    name: String,
    env: Vec<(String, String)>,
    dirs: Vec<PathBuf>,
    base: String,
}

impl Project {
    fn new(image: String) -> Self {
        let name = format!("anytrade-compose-{}", std::process::id());
        let bots = PathBuf::from(format!("/var/tmp/{name}-bots"));
        let secrets = PathBuf::from(format!("/dev/shm/{name}"));
        for dir in [&bots, &secrets] {
            std::fs::create_dir_all(dir).expect("make dir");
            nix::unistd::chown(
                dir.as_path(),
                Some(nix::unistd::Uid::from_raw(10001)),
                Some(nix::unistd::Gid::from_raw(10001)),
            )
            .expect("chown to the control plane's user");
        }
        let socket = std::fs::metadata("/var/run/docker.sock").expect("the engine's socket");
        let listen = format!("127.0.0.1:{}", free_port());
        let env = [
            ("ANYTRADE_IMAGE", image),
            ("ANYTRADE_POSTGRES_IMAGE", "anytrade/postgres:15".into()),
            ("ANYTRADE_POSTGRES_PORT", free_port().to_string()),
            ("POSTGRES_PASSWORD", format!("pg-{}", uuid::Uuid::new_v4())),
            (
                "ANYTRADE_ENCRYPTION_KEY",
                anytrade::crypto::Keyring::generate_key(),
            ),
            ("ANYTRADE_ADMIN_PASSWORD", PASSWORD.into()),
            (
                "DOCKER_GID",
                std::os::unix::fs::MetadataExt::gid(&socket).to_string(),
            ),
            ("ANYTRADE_LISTEN", listen.clone()),
            ("ANYTRADE_BOTS_DIR", bots.display().to_string()),
            ("ANYTRADE_SECRETS_DIR", secrets.display().to_string()),
            ("ANYTRADE_SANDBOX", "true".into()),
            (
                "ANYTRADE_SANDBOX_LISTEN",
                format!("0.0.0.0:{}", free_port()),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Self {
            name,
            env,
            dirs: vec![bots, secrets],
            base: format!("http://{listen}"),
        }
    }

    fn compose(&self, args: &[&str]) -> Output {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/compose.yaml");
        let (program, mut full) = compose_command().expect("docker compose");
        full.extend(
            ["-p", &self.name, "-f", &file.display().to_string()]
                .iter()
                .map(|s| s.to_string()),
        );
        full.extend(args.iter().map(|s| s.to_string()));
        Command::new(program)
            .args(&full)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
            .expect("run compose")
    }

    fn up(&self) {
        let output = self.compose(&["up", "-d"]);
        assert!(output.status.success(), "up: {}", said(&output));
    }

    fn down(&self) {
        let output = self.compose(&["down"]);
        assert!(output.status.success(), "down: {}", said(&output));
    }

    fn logs(&self) -> String {
        said(&self.compose(&["logs", "--no-color", "--tail", "60", "anytrade"]))
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("control plane's log:\n{}", self.logs());
        }
        let _ = self.compose(&["down", "-v"]);
        // The bots it started keep running by design: remove them here.
        if let Ok(listed) = Command::new("docker")
            .args(["ps", "-aq", "--filter", "name=anytrade-bot-"])
            .output()
        {
            for id in String::from_utf8_lossy(&listed.stdout).split_whitespace() {
                let mounts = Command::new("docker")
                    .args(["inspect", "-f", "{{range .Mounts}}{{.Source}} {{end}}", id])
                    .output();
                let ours =
                    mounts.is_ok_and(|m| String::from_utf8_lossy(&m.stdout).contains(&self.name));
                if ours {
                    let _ = Command::new("docker").args(["rm", "-f", id]).output();
                }
            }
        }
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `docker compose` (the plugin) or `docker-compose`, whichever answers.
fn compose_command() -> Option<(&'static str, Vec<String>)> {
    let answers = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if answers("docker", &["compose", "version"]) {
        Some(("docker", vec!["compose".into()]))
    } else if answers("docker-compose", &["version"]) {
        Some(("docker-compose", Vec::new()))
    } else {
        None
    }
}

struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    /// Logs in as the admin once the control plane answers (at most 120 s).
    async fn connect(project: &Project) -> Self {
        let http = reqwest::Client::new();
        let base = project.base.clone();
        let token = poll_until(Duration::from_secs(120), Duration::from_millis(500), || {
            let (http, base) = (http.clone(), base.clone());
            async move {
                let answer: Value = http
                    .post(format!("{base}/auth/login"))
                    .json(&json!({ "username": "admin", "password": PASSWORD }))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .json()
                    .await
                    .map_err(|e| e.to_string())?;
                answer["token"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| answer.to_string())
            }
        })
        .await;
        Self { base, token, http }
    }

    async fn query(&self, query: &str, variables: Value) -> Value {
        crate::app::remote_query(&self.http, &self.base, &self.token, query, variables).await
    }

    async fn wait_for_bot(&self, id: &str, status: &str) -> Value {
        poll_until(
            Duration::from_secs(180),
            Duration::from_millis(500),
            || async {
                let bot = self
                .query(
                    "query($id: ID!) { bot(id: $id) { status runtime runtimeId errorMessage } }",
                    json!({ "id": id }),
                )
                .await["bot"]
                .clone();
                assert_ne!(bot["status"], "ERROR", "{bot}");
                if bot["status"] == status {
                    Ok(bot)
                } else {
                    Err(format!("not {status}: {bot}"))
                }
            },
        )
        .await
    }
}

fn container_running(name: &str) -> bool {
    Command::new("docker")
        .args(["inspect", "-f", "{{.State.Running}}", name])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "true")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compose_runs_the_control_plane_whose_bots_are_sibling_containers_and_keeps_its_data() {
    let Ok(image) = std::env::var("ANYTRADE_TEST_COMPOSE_IMAGE") else {
        eprintln!(
            "SKIPPED: ANYTRADE_TEST_COMPOSE_IMAGE is unset (scripts/test sets it after \
             building the images where a Docker engine and compose answer)"
        );
        return;
    };
    // Not while another test restarts the engine.
    let _engine = crate::docker_runtime::ENGINE.read().await;
    let project = Project::new(image);
    project.up();
    let client = Client::connect(&project).await;

    let data = client.query("{ exchanges { id name } }", json!({})).await;
    let exchange = data["exchanges"][0]["id"]
        .as_str()
        .expect("the sandbox")
        .to_owned();
    assert_eq!(data["exchanges"][0]["name"], "sandbox", "{data}");
    let strategy = client
        .query(
            "mutation($code: String!) { createStrategy(input: { name: \"always\", code: $code }) { id } }",
            json!({ "code": ALWAYS_ENTER }),
        )
        .await["createStrategy"]["id"]
        .as_str()
        .expect("strategy id")
        .to_owned();
    let bot = client
        .query(
            "mutation($e: ID!, $s: ID!) { createBot(input: { name: \"sibling\", exchangeId: $e,
               strategyId: $s, mode: DRY_RUN, config: { pairs: [\"BTC/USDT\"], stakeAmount: \"100\",
               maxOpenTrades: 1 } }) { id } }",
            json!({ "e": exchange, "s": strategy }),
        )
        .await["createBot"]["id"]
        .as_str()
        .expect("bot id")
        .to_owned();
    client
        .query(
            "mutation($id: ID!) { startBot(id: $id) { id } }",
            json!({ "id": bot }),
        )
        .await;
    let running = client.wait_for_bot(&bot, "RUNNING").await;
    assert_eq!(
        running["runtime"],
        serde_json::Value::Null,
        "the default: docker"
    );
    let container = format!("anytrade-bot-{bot}");
    assert!(
        container_running(&container),
        "{container} runs beside the control plane"
    );

    // Down and up again: the database and the bots' files are kept, the bot was left
    // running and is adopted, not started twice.
    project.down();
    assert!(
        container_running(&container),
        "bots outlive the control plane"
    );
    project.up();
    let client = Client::connect(&project).await;
    let again = client.wait_for_bot(&bot, "RUNNING").await;
    assert_eq!(
        again["runtimeId"], running["runtimeId"],
        "the same container"
    );
    let data = client
        .query(
            "{ exchanges { id } strategies(first: 10) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["exchanges"].as_array().map(Vec::len),
        Some(1),
        "{data}"
    );
    assert!(data.to_string().contains("\"always\""), "{data}");
    assert!(container_running(&container));
}
