//! The event log as an audit trail: proof that it was not edited ([`chain`]), and each
//! aggregate's past as it was ([`history`], folded by [`state`], compared by [`diff`]).

pub mod chain;
pub mod diff;
pub mod history;
pub mod state;
