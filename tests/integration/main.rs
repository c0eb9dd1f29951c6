//! Integration tests against a real PostgreSQL (`DATABASE_URL`, started by
//! `scripts/test` when none is reachable) and the real `anytrade` binary.

mod auth;
mod cli;
mod command_bus;
mod event_log;
mod helpers;
mod projections;
mod secrets;
