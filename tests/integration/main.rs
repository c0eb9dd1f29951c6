//! Integration tests against a real PostgreSQL (`DATABASE_URL`, started by
//! `scripts/test` when none is reachable) and the real `anytrade` binary.

mod app;
mod archive;
mod audit;
mod audit_history;
mod auth;
mod auth_attacks;
mod bot_adoption;
mod bot_health;
mod bot_lifecycle;
mod cli;
mod command_bus;
mod compose;
#[path = "../support/crash_load.rs"]
mod crash_load;
mod crash_under_load;
mod database_outage;
#[path = "../support/docker_engine.rs"]
mod docker_engine;
mod docker_runtime;
mod event_hash;
mod event_log;
mod events_cli;
mod first_bot;
#[path = "../support/fleet_bots.rs"]
mod fleet_bots;
mod golden;
mod graphql_access;
mod graphql_analytics;
mod graphql_audit;
mod graphql_bots;
mod graphql_exchanges;
mod graphql_fuzz;
#[path = "../support/graphql_fuzz.rs"]
mod graphql_fuzz_support;
mod graphql_jobs;
mod graphql_limits;
mod graphql_live;
mod graphql_strategies;
mod graphql_subscriptions;
mod graphql_trades;
mod graphql_users;
mod helpers;
mod job_executor;
mod job_uploads;
mod json_logs;
mod key_rotation;
#[path = "../support/kubelet.rs"]
mod kubelet;
mod kubernetes_runtime;
mod lifecycle_reports;
mod metrics;
mod monitor_faults;
mod plan_api;
mod projections;
#[path = "../support/read_models.rs"]
mod read_models;
mod runtime_jobs;
mod sandbox;
mod secret_exposure;
mod secrets;
#[path = "../support/side_effects.rs"]
mod side_effects;
mod trade_sync;
mod users_cli;
mod web_fleet;
mod web_jobs;
mod web_pages;
