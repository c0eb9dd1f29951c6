//! Workers that keep what AnyTrade knows of running bots current by asking their
//! freqtrade REST APIs: the health monitor, and (sharing its per-bot clients) the
//! trade sync, which also keeps each bot's own profit summary.

mod backoff;
pub mod clients;
pub mod health;
mod in_flight;
mod profit_snapshot;
mod schedule;
mod trade_scan;
pub mod trade_sync;
