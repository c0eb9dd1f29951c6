//! The event log as an audit trail: proof that it was not edited ([`chain`]).

pub mod chain;
