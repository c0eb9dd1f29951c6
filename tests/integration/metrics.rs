//! `GET /metrics`: every figure the issue names, in a format `promtool check metrics`
//! accepts, scraped by a real Prometheus server whose query API then answers them.
//! The Prometheus parts are skipped, saying so, where Debian's `prometheus` package is
//! not installed.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::app::TestApp;
use crate::cli::free_port;
use crate::helpers::poll_until;

/// The families the service exports, each with what a scrape must show of it.
const FAMILIES: &[&str] = &[
    "anytrade_build_info",
    "anytrade_bots",
    "anytrade_health_checks_total",
    "anytrade_health_check_duration_seconds",
    "anytrade_trade_syncs_total",
    "anytrade_trade_sync_duration_seconds",
    "anytrade_trade_sync_lag_seconds",
    "anytrade_projection_lag_events",
    "anytrade_projection_lag_seconds",
    "anytrade_commands_total",
    "anytrade_command_duration_seconds",
    "anytrade_jobs",
    "anytrade_job_queue_depth",
    "anytrade_subscribers",
    "anytrade_scrape_errors",
    "process_resident_memory_bytes",
];

async fn scrape(app: &TestApp) -> String {
    let response = reqwest::get(format!("http://{}/metrics", app.address))
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    response.text().await.expect("body")
}

/// The value of the one sample named `name` whose labels include every `labels` pair.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .find(|line| {
            labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

/// A bot created (left `creating`: the test app runs no runtime) and a command refused, so the figures are not all 0.
async fn some_activity(app: &TestApp) {
    crate::graphql_live::create_bot(app).await;
    let error = app
        .query_error(
            r#"mutation { createExchange(input: { name: "not an exchange!" }) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error["code"], "VALIDATION", "{error}");
}

#[tokio::test]
async fn metrics_show_the_fleet_the_work_and_the_build() {
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    let text = scrape(&app).await;
    for family in FAMILIES {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} missing:\n{text}"
        );
    }
    let bots = sample(
        &text,
        "anytrade_bots",
        &[("status", "creating"), ("health", "unknown")],
    );
    assert_eq!(bots, Some(1.0), "{text}");
    assert_eq!(
        sample(&text, "anytrade_bots", &[("status", "running")]),
        Some(0.0),
        "every status shows, 0 when no bot has it:\n{text}"
    );
    let created = sample(
        &text,
        "anytrade_commands_total",
        &[
            ("aggregate", "bot"),
            ("command", "CreateBot"),
            ("outcome", "ok"),
        ],
    );
    assert!(created.is_some_and(|n| n >= 1.0), "{text}");
    let refused = sample(
        &text,
        "anytrade_commands_total",
        &[("command", "CreateExchange"), ("outcome", "rejected")],
    );
    assert!(refused.is_some_and(|n| n >= 1.0), "{text}");
    assert_eq!(
        sample(
            &text,
            "anytrade_projection_lag_events",
            &[("projection", "bots")]
        ),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "anytrade_job_queue_depth", &[("kind", "backtest")]),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "anytrade_scrape_errors", &[("figure", "bots")]),
        Some(0.0),
        "{text}"
    );
    assert!(!text.contains(crate::app::ADMIN_PASSWORD));
}

#[tokio::test]
async fn promtool_finds_nothing_to_fix_in_the_metrics() {
    if which("promtool").is_none() {
        eprintln!("SKIPPED: promtool not installed (Debian package prometheus)");
        return;
    }
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    let text = scrape(&app).await;
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    std::io::Write::write_all(&mut check.stdin.take().expect("stdin"), text.as_bytes())
        .expect("feed promtool");
    let output = check.wait_with_output().expect("promtool ends");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{said}");
    assert!(said.trim().is_empty(), "promtool: {said}");
}

#[tokio::test]
async fn a_real_prometheus_scrapes_the_service_and_answers_its_series() {
    let Some(prometheus) = which("prometheus") else {
        eprintln!("SKIPPED: prometheus not installed (Debian package prometheus)");
        return;
    };
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: anytrade\n    \
             static_configs:\n      - targets: ['{}']\n",
            app.address
        ),
    )
    .expect("write the config");
    let port = free_port();
    let server = Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let server = KillOnDrop(server);

    let client = reqwest::Client::new();
    let query = |expr: &'static str| {
        let client = client.clone();
        async move {
            let url = reqwest::Url::parse_with_params(
                &format!("http://127.0.0.1:{port}/api/v1/query"),
                [("query", expr)],
            )
            .map_err(|e| e.to_string())?;
            let answer: Value = client
                .get(url)
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            let results = answer["data"]["result"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if results.is_empty() {
                Err(format!("no series yet for {expr}: {answer}"))
            } else {
                Ok(results)
            }
        }
    };
    let within = (Duration::from_secs(60), Duration::from_millis(500));
    let up = poll_until(within.0, within.1, || query("up{job=\"anytrade\"} == 1")).await;
    assert_eq!(up.len(), 1, "{up:?}");
    let bots = poll_until(within.0, within.1, || {
        query("sum(anytrade_bots{status=\"creating\"})")
    })
    .await;
    assert_eq!(bots[0]["value"][1], "1", "{bots:?}");
    let commands = poll_until(within.0, within.1, || {
        query("anytrade_commands_total{command=\"CreateBot\",outcome=\"ok\"}")
    })
    .await;
    assert!(!commands.is_empty());
    let version = poll_until(within.0, within.1, || query("anytrade_build_info")).await;
    assert_eq!(
        version[0]["metric"]["version"],
        env!("CARGO_PKG_VERSION"),
        "{version:?}"
    );

    // Every query of the Grafana dashboard in docker/ is PromQL Prometheus accepts, over
    // families the service exports.
    let text = scrape(&app).await;
    for expr in dashboard_queries() {
        let family = expr
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|word| word.starts_with("anytrade_") || word.starts_with("process_"))
            .map(|word| word.trim_end_matches("_bucket"))
            .collect::<Vec<_>>();
        // Runtime errors have series from the first error on (a test below makes one).
        for name in family
            .into_iter()
            .filter(|name| *name != "anytrade_runtime_errors_total")
        {
            assert!(
                text.contains(&format!("# TYPE {name} ")),
                "{name} in {expr}"
            );
        }
        let concrete = expr
            .replace("$__rate_interval", "1m")
            .replace("$job", "anytrade");
        let url = reqwest::Url::parse_with_params(
            &format!("http://127.0.0.1:{port}/api/v1/query"),
            [("query", concrete.as_str())],
        )
        .expect("url");
        let answer: Value = client
            .get(url)
            .send()
            .await
            .expect("query")
            .json()
            .await
            .expect("answer");
        assert_eq!(answer["status"], "success", "{expr}: {answer}");
    }
    drop(server);
}

/// Every PromQL expression of `docker/grafana/anytrade.json`.
fn dashboard_queries() -> Vec<String> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/grafana/anytrade.json");
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the dashboard"))
            .expect("JSON");
    let queries: Vec<String> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|panel| panel["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|target| target["expr"].as_str().map(str::to_owned))
        .collect();
    assert!(queries.len() >= 15, "{queries:?}");
    queries
}

/// A child process killed when the test ends, passing or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| std::path::Path::new(dir).join(program))
        .find(|path| path.is_file())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_that_fails_to_start_counts_a_runtime_error() {
    use crate::bot_lifecycle::{
        BROKEN, PROVISION_WITHIN, act, create_bot, managing_app, sandbox_exchange, strategy,
        wait_for_status,
    };
    let data = tempfile::tempdir().expect("data dir");
    let _reaper = crate::sandbox::Reaper(data.path().to_owned());
    let simulator = crate::sandbox::simulator().await;
    let app = managing_app(data.path(), |_| {}).await;
    let errors = |text: &str| {
        text.lines()
            .filter(|line| line.starts_with("anytrade_runtime_errors_total{"))
            .filter(|line| line.contains("runtime=\"local\""))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    let before = errors(&scrape(&app).await);
    let exchange = sandbox_exchange(&app, &simulator).await;
    let broken = strategy(&app, "broken", BROKEN).await;
    let bot = create_bot(&app, "broken-bot", &exchange, &broken, json!({})).await;
    wait_for_status(&app, &bot, "STOPPED", PROVISION_WITHIN).await;
    act(&app, "startBot", &bot).await;
    wait_for_status(&app, &bot, "ERROR", Duration::from_secs(120)).await;
    let text = scrape(&app).await;
    assert!(errors(&text) > before, "{text}");
}
