//! What a hyperopt optimizes for.

super::string_enum! {
    /// The objective of a hyperopt run.
    pub enum OptimizationMetric (field = "optimizationMetric", what = "optimization metric") {
        Sharpe => "sharpe",
        Profit => "profit",
        Trades => "trades",
        Drawdown => "drawdown",
    }
}

impl OptimizationMetric {
    /// freqtrade's built-in loss function for this metric (`--hyperopt-loss`).
    pub fn hyperopt_loss(&self) -> &'static str {
        match self {
            Self::Sharpe => "SharpeHyperOptLoss",
            Self::Profit => "OnlyProfitHyperOptLoss",
            Self::Trades => "ShortTradeDurHyperOptLoss",
            Self::Drawdown => "MaxDrawDownHyperOptLoss",
        }
    }
}
