//! The supported exchanges, and which credentials each needs.

super::string_enum! {
    /// An exchange AnyTrade can run bots against (freqtrade/ccxt's id).
    pub enum ExchangeName (field = "name", what = "exchange") {
        Binance => "binance",
        BinanceUs => "binanceus",
        Coinbase => "coinbase",
        Kraken => "kraken",
        Kucoin => "kucoin",
        Bybit => "bybit",
        Okx => "okx",
        Bitfinex => "bitfinex",
        /// AnyTrade's exchange simulator (`anytrade serve --sandbox`): Binance's public
        /// API with synthetic prices, for dry runs, backtests and hyperopts only.
        Sandbox => "sandbox",
    }
}

impl ExchangeName {
    /// Secret names a live bot needs on this exchange. Every exchange wants an API key and
    /// secret; Coinbase, KuCoin and OKX also want the key's passphrase.
    pub fn required_secrets(&self) -> &'static [&'static str] {
        match self {
            Self::Sandbox => &[],
            Self::Coinbase | Self::Kucoin | Self::Okx => &["api_key", "api_secret", "passphrase"],
            Self::Binance | Self::BinanceUs | Self::Kraken | Self::Bybit | Self::Bitfinex => {
                &["api_key", "api_secret"]
            }
        }
    }

    /// The exchange freqtrade (ccxt) is told it trades on: the sandbox serves Binance's
    /// API, so freqtrade drives it as Binance.
    pub fn freqtrade_id(&self) -> &'static str {
        match self {
            Self::Sandbox => Self::Binance.as_str(),
            other => other.as_str(),
        }
    }

    /// Whether the exchange only ever trades in test mode (no real market behind it).
    pub fn test_only(&self) -> bool {
        matches!(self, Self::Sandbox)
    }

    /// The required secrets not among `stored`, in the exchange's order.
    pub fn missing_secrets<'a>(
        &self,
        stored: impl Iterator<Item = &'a str> + Clone,
    ) -> Vec<&'static str> {
        self.required_secrets()
            .iter()
            .copied()
            .filter(|required| !stored.clone().any(|name| name == *required))
            .collect()
    }
}
