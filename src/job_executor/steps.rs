//! The freqtrade commands a job runs, from what was requested: the candles are
//! downloaded first (the timerange and timeframe of the job, the pairs of its config),
//! then the backtest or the hyperopt runs over them.

use anytrade_aggregates::JobSpec;
use anytrade_aggregates::values::{Epochs, HyperoptSpaces, OptimizationMetric};

/// What a hyperopt searches, besides the shared job spec.
pub struct Search<'a> {
    pub epochs: Epochs,
    pub spaces: &'a HyperoptSpaces,
    pub metric: OptimizationMetric,
}

fn download(spec: &JobSpec) -> Vec<String> {
    vec![
        "download-data".into(),
        "--timerange".into(),
        spec.dates.timerange(),
        "--timeframes".into(),
        spec.timeframe.to_string(),
    ]
}

/// Download, then backtest.
pub fn backtest(spec: &JobSpec) -> Vec<Vec<String>> {
    let test = vec![
        "backtesting".into(),
        "--strategy".into(),
        spec.strategy_class.clone(),
        "--timerange".into(),
        spec.dates.timerange(),
    ];
    vec![download(spec), test]
}

/// Download, then hyperopt. `--print-json` puts the best parameters in the log too, and
/// `--disable-param-export` keeps freqtrade from writing them beside the strategy.
pub fn hyperopt(spec: &JobSpec, search: &Search<'_>) -> Vec<Vec<String>> {
    let mut optimize: Vec<String> = vec![
        "hyperopt".into(),
        "--strategy".into(),
        spec.strategy_class.clone(),
        "--timerange".into(),
        spec.dates.timerange(),
        "--epochs".into(),
        search.epochs.get().to_string(),
        "--hyperopt-loss".into(),
        search.metric.hyperopt_loss().into(),
        "--print-json".into(),
        "--disable-param-export".into(),
        "--spaces".into(),
    ];
    optimize.extend(search.spaces.to_strings());
    vec![download(spec), optimize]
}

#[cfg(test)]
mod tests {
    use anytrade_aggregates::values::{
        ConfigObject, DateRange, Pairs, StakeAmount, StakeCurrency, Timeframe,
    };
    use uuid::Uuid;

    use super::*;

    fn spec() -> JobSpec {
        JobSpec {
            strategy_id: Uuid::nil(),
            exchange_id: None,
            strategy_version: 1,
            strategy_class: "RsiCross".into(),
            dates: DateRange::parse("2026-01-01", "2026-02-01").expect("dates"),
            timeframe: Timeframe::parse("15m").expect("timeframe"),
            stake_amount: StakeAmount::parse_amount(10.0).expect("stake"),
            stake_currency: StakeCurrency::parse("USDT").expect("currency"),
            pairs: Pairs::parse(&["BTC/USDT"]).expect("pairs"),
            config: ConfigObject::default(),
        }
    }

    #[test]
    fn a_backtest_downloads_its_candles_then_tests_the_pinned_class() {
        assert_eq!(
            backtest(&spec()),
            vec![
                vec![
                    "download-data",
                    "--timerange",
                    "20260101-20260201",
                    "--timeframes",
                    "15m"
                ],
                vec![
                    "backtesting",
                    "--strategy",
                    "RsiCross",
                    "--timerange",
                    "20260101-20260201"
                ],
            ]
        );
    }

    #[test]
    fn a_hyperopt_searches_the_requested_spaces_with_the_metrics_loss() {
        let spaces = HyperoptSpaces::parse(&["buy", "roi"]).expect("spaces");
        let search = Search {
            epochs: Epochs::parse(30).expect("epochs"),
            spaces: &spaces,
            metric: OptimizationMetric::Profit,
        };
        let steps = hyperopt(&spec(), &search);
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0][0], "download-data");
        let optimize = steps[1].join(" ");
        assert_eq!(
            optimize,
            "hyperopt --strategy RsiCross --timerange 20260101-20260201 --epochs 30 \
             --hyperopt-loss OnlyProfitHyperOptLoss --print-json --disable-param-export \
             --spaces buy roi"
        );
    }
}
