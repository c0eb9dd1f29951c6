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
    }
}

impl ExchangeName {
    /// Secret names a live bot needs on this exchange. Every exchange wants an API key and
    /// secret; Coinbase, KuCoin and OKX also want the key's passphrase.
    pub fn required_secrets(&self) -> &'static [&'static str] {
        match self {
            Self::Coinbase | Self::Kucoin | Self::Okx => &["api_key", "api_secret", "passphrase"],
            Self::Binance | Self::BinanceUs | Self::Kraken | Self::Bybit | Self::Bitfinex => {
                &["api_key", "api_secret"]
            }
        }
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
