//! What the user wants of a bot that cannot act on it yet.

super::string_enum! {
    /// A start, stop or restart asked for while the bot was being created, carried out
    /// once it is: `running` (start it) or `stopped` (leave it stopped).
    pub enum WantedState (field = "wanted", what = "wanted state") {
        Running => "running",
        Stopped => "stopped",
    }
}
