//! Prometheus metrics, served at `GET /metrics` in Prometheus' text format.
//!
//! Two kinds: what the service counts as it works (commands, health checks, trade
//! syncs, runtime errors, WebSocket subscribers), kept in [`metrics()`] and updated
//! where the work happens; and what the read models hold (bots by status, health and
//! runtime; jobs by kind and status; each projector's lag; the trade sync's lag), read
//! at each scrape by [`scrape`], so every instance reports the same fleet and nothing
//! drifts from the database.
//!
//! One registry per process: the instruments are global, as the work they count is.

mod scrape;

use std::sync::LazyLock;
use std::time::Instant;

use prometheus::{
    Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry,
};

pub use scrape::{ScrapeState, router};

/// Latency buckets in seconds, 1 ms to 60 s: commands take milliseconds, a health
/// check or a trade sync of a slow bot seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Every instrument of the service.
pub struct Metrics {
    registry: Registry,
    /// `aggregate`, `command`, `outcome` (see [`CommandOutcome`]).
    pub commands: IntCounterVec,
    /// `aggregate`, `command`.
    pub command_seconds: HistogramVec,
    /// `outcome` (see [`PollOutcome`]).
    health_checks: IntCounterVec,
    health_check_seconds: Histogram,
    /// `outcome` (see [`PollOutcome`]).
    trade_syncs: IntCounterVec,
    trade_sync_seconds: Histogram,
    /// `runtime`, `kind` (the [`crate::runtime::RuntimeError`] variant).
    pub runtime_errors: IntCounterVec,
    /// Open GraphQL WebSockets.
    pub subscribers: IntGauge,
    // Read from the database at each scrape.
    bots: IntGaugeVec,
    jobs: IntGaugeVec,
    job_queue: IntGaugeVec,
    projection_lag_events: IntGaugeVec,
    projection_lag_seconds: GaugeVec,
    trade_sync_lag: Gauge,
    scrape_errors: IntGaugeVec,
}

/// The service's instruments.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    /// Its events were committed (or it changed nothing).
    Ok,
    /// The domain refused it (bad input, a conflict with the aggregate's state).
    Rejected,
    /// Another writer kept winning the race for the aggregate.
    Conflict,
    /// The event store failed or did not answer.
    Failed,
}

impl CommandOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandOutcome::Ok => "ok",
            CommandOutcome::Rejected => "rejected",
            CommandOutcome::Conflict => "conflict",
            CommandOutcome::Failed => "failed",
        }
    }
}

/// How one poll of a bot's API (a health check, a trade sync) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOutcome {
    Ok,
    /// The bot asked us to slow down (HTTP 429).
    RateLimited,
    Failed,
}

impl PollOutcome {
    const ALL: [PollOutcome; 3] = [
        PollOutcome::Ok,
        PollOutcome::RateLimited,
        PollOutcome::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PollOutcome::Ok => "ok",
            PollOutcome::RateLimited => "rate_limited",
            PollOutcome::Failed => "failed",
        }
    }
}

impl Metrics {
    fn new() -> Self {
        let registry =
            Registry::new_custom(Some("anytrade".into()), None).unwrap_or_else(|_| Registry::new());
        let latency = |name: &str, help: &str| {
            HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec())
        };
        let metrics = Self {
            commands: IntCounterVec::new(
                Opts::new(
                    "commands_total",
                    "Commands run on the aggregates, by outcome.",
                ),
                &["aggregate", "command", "outcome"],
            )
            .expect("valid metric"),
            command_seconds: HistogramVec::new(
                latency(
                    "command_duration_seconds",
                    "Time to decide a command and commit its events.",
                ),
                &["aggregate", "command"],
            )
            .expect("valid metric"),
            health_checks: IntCounterVec::new(
                Opts::new(
                    "health_checks_total",
                    "Health checks of running bots, by outcome.",
                ),
                &["outcome"],
            )
            .expect("valid metric"),
            health_check_seconds: Histogram::with_opts(latency(
                "health_check_duration_seconds",
                "Time one health check of a bot took (ping, show_config, health).",
            ))
            .expect("valid metric"),
            trade_syncs: IntCounterVec::new(
                Opts::new(
                    "trade_syncs_total",
                    "Trade syncs of running bots, by outcome.",
                ),
                &["outcome"],
            )
            .expect("valid metric"),
            trade_sync_seconds: Histogram::with_opts(latency(
                "trade_sync_duration_seconds",
                "Time one trade sync of a bot took.",
            ))
            .expect("valid metric"),
            runtime_errors: IntCounterVec::new(
                Opts::new(
                    "runtime_errors_total",
                    "Errors of the runtimes (docker, kubernetes, local), by kind.",
                ),
                &["runtime", "kind"],
            )
            .expect("valid metric"),
            subscribers: IntGauge::new(
                "subscribers",
                "GraphQL WebSocket connections open (live dashboards).",
            )
            .expect("valid metric"),
            bots: IntGaugeVec::new(
                Opts::new("bots", "Bots by lifecycle status, health and runtime."),
                &["status", "health", "runtime"],
            )
            .expect("valid metric"),
            jobs: IntGaugeVec::new(
                Opts::new("jobs", "Backtests and hyperopts by status."),
                &["kind", "status"],
            )
            .expect("valid metric"),
            job_queue: IntGaugeVec::new(
                Opts::new("job_queue_depth", "Jobs waiting for a free slot (pending)."),
                &["kind"],
            )
            .expect("valid metric"),
            projection_lag_events: IntGaugeVec::new(
                Opts::new(
                    "projection_lag_events",
                    "Committed events a read model has not applied yet.",
                ),
                &["projection"],
            )
            .expect("valid metric"),
            projection_lag_seconds: GaugeVec::new(
                Opts::new(
                    "projection_lag_seconds",
                    "Age of the oldest committed event a read model has not applied yet.",
                ),
                &["projection"],
            )
            .expect("valid metric"),
            trade_sync_lag: Gauge::new(
                "trade_sync_lag_seconds",
                "Longest time since a running bot's trades were last synced (or since it started).",
            )
            .expect("valid metric"),
            scrape_errors: IntGaugeVec::new(
                Opts::new(
                    "scrape_errors",
                    "1 when a figure read from the database at this scrape could not be read.",
                ),
                &["figure"],
            )
            .expect("valid metric"),
            registry,
        };
        metrics.register_all();
        metrics
    }

    fn register_all(&self) {
        let build_info = IntGaugeVec::new(
            Opts::new("build_info", "The running build; always 1."),
            &["version"],
        )
        .expect("valid metric");
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        // Every outcome shows from the start, at 0, so a rate of failures has a series.
        for outcome in PollOutcome::ALL {
            self.health_checks.with_label_values(&[outcome.as_str()]);
            self.trade_syncs.with_label_values(&[outcome.as_str()]);
        }
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(build_info),
            Box::new(self.commands.clone()),
            Box::new(self.command_seconds.clone()),
            Box::new(self.health_checks.clone()),
            Box::new(self.health_check_seconds.clone()),
            Box::new(self.trade_syncs.clone()),
            Box::new(self.trade_sync_seconds.clone()),
            Box::new(self.runtime_errors.clone()),
            Box::new(self.subscribers.clone()),
            Box::new(self.bots.clone()),
            Box::new(self.jobs.clone()),
            Box::new(self.job_queue.clone()),
            Box::new(self.projection_lag_events.clone()),
            Box::new(self.projection_lag_seconds.clone()),
            Box::new(self.trade_sync_lag.clone()),
            Box::new(self.scrape_errors.clone()),
        ];
        for collector in collectors {
            if let Err(e) = self.registry.register(collector) {
                tracing::error!(error = %e, "a metric cannot be registered");
            }
        }
        // CPU, memory, open files and threads of this process, unprefixed as
        // Prometheus' other exporters name them.
        let process = prometheus::process_collector::ProcessCollector::for_self();
        if let Err(e) = prometheus::register(Box::new(process)) {
            tracing::debug!(error = %e, "the process metrics are registered already");
        }
    }

    /// Counts a command and its latency.
    pub fn command(&self, aggregate: &str, command: &str, outcome: CommandOutcome, since: Instant) {
        self.commands
            .with_label_values(&[aggregate, command, outcome.as_str()])
            .inc();
        self.command_seconds
            .with_label_values(&[aggregate, command])
            .observe(since.elapsed().as_secs_f64());
    }

    /// Counts a health check of a bot and its latency.
    pub fn health_check(&self, outcome: PollOutcome, since: Instant) {
        self.health_checks
            .with_label_values(&[outcome.as_str()])
            .inc();
        self.health_check_seconds
            .observe(since.elapsed().as_secs_f64());
    }

    /// Counts a trade sync of a bot and its latency.
    pub fn trade_sync(&self, outcome: PollOutcome, since: Instant) {
        self.trade_syncs
            .with_label_values(&[outcome.as_str()])
            .inc();
        self.trade_sync_seconds
            .observe(since.elapsed().as_secs_f64());
    }

    /// Everything, in Prometheus' text format.
    fn encode(&self) -> String {
        let mut families = self.registry.gather();
        families.extend(prometheus::gather());
        prometheus::TextEncoder::new()
            .encode_to_string(&families)
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot encode the metrics");
                String::new()
            })
    }
}

/// A counted WebSocket subscriber: counted while it lives.
pub struct Subscriber(());

impl Subscriber {
    pub fn connected() -> Self {
        metrics().subscribers.inc();
        Self(())
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        metrics().subscribers.dec();
    }
}
