//! AnyTrade: the control plane for fleets of freqtrade bots.
//!
//! Commands from the API go to the domain aggregates (`anytrade-aggregates`), whose
//! events land in the PostgreSQL event store ([`store`]); readers tail the ordered log
//! to build read models and drive the runtimes.

pub mod app;
pub mod audit;
pub mod auth;
pub mod bot_credentials;
pub mod cli;
pub mod config;
pub mod credential_rules;
pub mod crypto;
pub mod db;
pub mod exchange_probe;
pub mod freqtrade;
pub mod graphql;
pub mod http;
pub mod hub;
pub mod job_executor;
pub mod job_uploads;
pub mod key_rotation;
pub mod lifecycle;
pub mod lookup;
pub mod metrics;
pub mod monitor;
pub mod redact;
pub mod runtime;
pub mod sandbox;
pub mod server;
pub mod shutdown;
pub mod store;
pub mod strategy_names;
pub mod telemetry;
pub mod web;

/// mimalloc for every binary that links the service (the server, its tests and
/// benchmarks): glibc's malloc and free took about a quarter of the service's CPU when
/// serving GraphQL pages (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
