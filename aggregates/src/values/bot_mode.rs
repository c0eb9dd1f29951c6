//! Whether a bot trades with real money.

super::string_enum! {
    /// `dry_run` simulates orders; `live` places real ones and needs exchange credentials.
    pub enum BotMode (field = "mode", what = "bot mode") {
        DryRun => "dry_run",
        Live => "live",
    }
}

impl BotMode {
    /// freqtrade's `dry_run` setting for this mode.
    pub fn is_dry_run(&self) -> bool {
        matches!(self, Self::DryRun)
    }
}
