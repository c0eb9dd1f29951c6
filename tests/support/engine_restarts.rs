//! The Docker engine restarted under a running fleet, again and again: the release
//! binary manages bots on the docker runtime (the stand-in image from
//! [`crate::side_effects::StandInImage`], so a container is up in a second) while the
//! engine is stopped and started by its service script. After each restart every bot
//! must be RUNNING again with exactly one running container, and (without the engine's
//! live-restore, as here) with the outage recorded once more on it as a `BotFailed`.
//! `scripts/bench chaos` runs it (third part); the integration test
//! `docker_runtime::bots_that_should_run_come_back_after_the_engine_restarts` is its
//! short form with real freqtrade. Included with `#[path]`; it needs
//! `crate::{crash_load, side_effects, docker_engine}`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::PgPool;

use crate::crash_load::{Api, Server};
use crate::docker_engine::{self, Restart};
use crate::side_effects::{
    StandInImage, create_bot, data, exchange_and_strategy, running_containers,
};

/// What to run.
pub struct Plan {
    pub binary: std::path::PathBuf,
    pub database_url: String,
    pub bots: usize,
    pub restarts: usize,
    /// `runtime.reconcile_interval_secs`: how soon the service looks.
    pub reconcile_secs: u64,
}

#[derive(Debug, Default)]
pub struct Report {
    pub restarts: Vec<Restart>,
    /// From the engine answering again until every bot ran again, per restart.
    pub back_after: Vec<Duration>,
    /// `BotFailed` events recorded per bot over the run (one per restart is expected).
    pub recorded: Vec<usize>,
    /// Whether the engine kept containers running (then nothing needs recording).
    pub live_restore: bool,
    /// What was wrong when the time to come back ran out.
    pub mismatches: Vec<String>,
}

impl Report {
    pub fn failures(&self) -> Vec<String> {
        let mut failures = self.mismatches.clone();
        if self.back_after.len() < self.restarts.len() {
            failures.push("bots did not come back after a restart".into());
        }
        failures
    }
}

/// Bot id → (status, `BotFailed` events recorded).
async fn bots(pool: &PgPool) -> HashMap<String, (String, usize)> {
    sqlx::query_as::<_, (String, String, i64)>(
        "SELECT b.id::text, b.status,
                (SELECT count(*) FROM events e
                  WHERE e.aggregate_id = b.id::text AND e.event_type = 'BotFailed')
           FROM bots b",
    )
    .fetch_all(pool)
    .await
    .expect("read bots")
    .into_iter()
    .map(|(id, status, failed)| (id, (status, failed as usize)))
    .collect()
}

/// What keeps the fleet from being back: each bot RUNNING with one running container
/// and `failed` outages recorded.
fn not_back(
    seen: &HashMap<String, (String, usize)>,
    containers: &[String],
    failed: usize,
) -> Vec<String> {
    let mut wrong = Vec::new();
    for (bot, (status, recorded)) in seen {
        let running = containers.iter().filter(|c| *c == bot).count();
        if status != "running" || running != 1 || *recorded != failed {
            wrong.push(format!(
                "bot {bot}: {status}, {running} containers, {recorded} outages recorded (expected {failed})"
            ));
        }
    }
    wrong.sort();
    wrong
}

pub async fn run(plan: &Plan) -> Report {
    let image = StandInImage::build();
    let mut env = image.settings();
    env.extend([
        ("ANYTRADE_RUNTIME__MANAGE", "true".into()),
        (
            "ANYTRADE_RUNTIME__RECONCILE_INTERVAL_SECS",
            plan.reconcile_secs.to_string(),
        ),
        // Every restart of this run may bring the bots back.
        (
            "ANYTRADE_RUNTIME__RESTART_LIMIT",
            (plan.restarts + 1).to_string(),
        ),
    ]);
    let server = Server::new(plan.binary.clone(), plan.database_url.clone(), env);
    let child = server.start(&mut Vec::new()).await;
    let mut api = Api::new(server.base().to_owned());
    let (exchange, strategy) = exchange_and_strategy(&mut api).await;
    for n in 0..plan.bots {
        let name = format!("through-{n}");
        let id = create_bot(&mut api, &name, &exchange, &strategy, "DOCKER").await;
        data(
            &mut api,
            "mutation($id: ID!) { startBot(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    }

    let pool = PgPool::connect(&plan.database_url)
        .await
        .expect("the service's database");
    let mut report = Report {
        live_restore: docker_engine::live_restore(),
        ..Report::default()
    };
    if let Err(wrong) = wait_until_back(&pool, &image, 0, Duration::from_secs(120)).await {
        report.mismatches = wrong;
        server.stop(child).await;
        return report;
    }
    for round in 1..=plan.restarts {
        let restart = tokio::task::spawn_blocking(docker_engine::restart)
            .await
            .expect("restart thread")
            .expect("the engine restarts");
        report.restarts.push(restart);
        let answering = Instant::now();
        let failed = if report.live_restore { 0 } else { round };
        match wait_until_back(&pool, &image, failed, Duration::from_secs(180)).await {
            Ok(()) => report.back_after.push(answering.elapsed()),
            Err(wrong) => {
                report.mismatches = wrong;
                break;
            }
        }
    }
    report.recorded = bots(&pool).await.values().map(|(_, n)| *n).collect();
    server.stop(child).await;
    report
}

async fn wait_until_back(
    pool: &PgPool,
    image: &StandInImage,
    failed: usize,
    within: Duration,
) -> Result<(), Vec<String>> {
    let deadline = Instant::now() + within;
    loop {
        let seen = bots(pool).await;
        let containers = running_containers(image.data.path());
        let wrong = not_back(&seen, &containers, failed);
        if wrong.is_empty() && !seen.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(wrong);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
