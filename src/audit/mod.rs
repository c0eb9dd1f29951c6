//! The event log as an audit trail, exported and restored whole ([`archive`]): proof that it was not edited ([`chain`]), and each
//! aggregate's past as it was ([`history`], folded by [`state`], compared by [`diff`]),
//! and the whole fleet at a moment ([`fleet`]); a bot's status over its life
//! ([`statuses`]).

pub mod archive;
pub mod chain;
pub mod diff;
pub mod fleet;
pub mod history;
pub mod state;
pub mod statuses;
