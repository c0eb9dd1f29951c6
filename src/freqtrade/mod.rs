//! Everything AnyTrade knows about freqtrade itself: its REST API (`client`, `models`)
//! and the config file a bot runs with (`config`).

pub mod client;
pub mod config;
pub mod models;
