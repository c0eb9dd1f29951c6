//! Candle timeframes freqtrade understands.

super::string_enum! {
    /// A candle length, spelled as freqtrade and ccxt spell it (`1M` is a month, `1m` a
    /// minute).
    pub enum Timeframe (field = "timeframe", what = "timeframe") {
        S1 => "1s",
        M1 => "1m",
        M3 => "3m",
        M5 => "5m",
        M15 => "15m",
        M30 => "30m",
        H1 => "1h",
        H2 => "2h",
        H4 => "4h",
        H6 => "6h",
        H8 => "8h",
        H12 => "12h",
        D1 => "1d",
        D3 => "3d",
        W1 => "1w",
        Month1 => "1M",
    }
}

impl Timeframe {
    /// Length of one candle in seconds (a month counts 30 days, as in ccxt).
    pub fn seconds(&self) -> u32 {
        const MINUTE: u32 = 60;
        const HOUR: u32 = 60 * MINUTE;
        const DAY: u32 = 24 * HOUR;
        match self {
            Self::S1 => 1,
            Self::M1 => MINUTE,
            Self::M3 => 3 * MINUTE,
            Self::M5 => 5 * MINUTE,
            Self::M15 => 15 * MINUTE,
            Self::M30 => 30 * MINUTE,
            Self::H1 => HOUR,
            Self::H2 => 2 * HOUR,
            Self::H4 => 4 * HOUR,
            Self::H6 => 6 * HOUR,
            Self::H8 => 8 * HOUR,
            Self::H12 => 12 * HOUR,
            Self::D1 => DAY,
            Self::D3 => 3 * DAY,
            Self::W1 => 7 * DAY,
            Self::Month1 => 30 * DAY,
        }
    }

    /// Length of one candle in whole minutes, as freqtrade reports a trade's timeframe
    /// (`1s` is 0, like freqtrade's `timeframe_to_minutes`).
    pub fn minutes(&self) -> u32 {
        self.seconds() / 60
    }
}
