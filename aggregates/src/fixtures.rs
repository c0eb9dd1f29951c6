//! Shared test data: strategy code good enough to pass the checks.

/// A small but realistic freqtrade strategy (modern syntax included: f-strings, `match`).
pub(crate) const SAMPLE_STRATEGY: &str = r#"# pragma pylint: disable=missing-docstring
from functools import reduce

import talib.abstract as ta
from pandas import DataFrame

from freqtrade.strategy import IStrategy, IntParameter


class RsiCross(IStrategy):
    """Buys when RSI leaves oversold, sells when it leaves overbought."""

    INTERFACE_VERSION = 3
    timeframe = "5m"
    can_short: bool = False
    minimal_roi = {"60": 0.01, "30": 0.02, "0": 0.04}
    stoploss = -0.10
    trailing_stop = False
    buy_rsi = IntParameter(10, 40, default=30, space="buy")
    sell_rsi = IntParameter(60, 90, default=70, space="sell")

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        dataframe["ema"] = dataframe["close"].ewm(span=20).mean()
        self.dp.send_msg(f"indicators for {metadata['pair']:>10}")
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        conditions = [
            dataframe["rsi"] > self.buy_rsi.value,
            dataframe["volume"] > 0,
        ]
        dataframe.loc[reduce(lambda a, b: a & b, conditions), "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        match metadata.get("pair"):
            case "BTC/USDT":
                threshold = self.sell_rsi.value
            case _:
                threshold = 75
        dataframe.loc[dataframe["rsi"] > threshold, "exit_long"] = 1
        return dataframe
"#;

/// A second, different strategy (another version's worth of code).
pub(crate) const OTHER_STRATEGY: &str = r#"from freqtrade.strategy import IStrategy


class EmaCross(IStrategy):
    timeframe = "1h"
    stoploss = -0.05
    minimal_roi = {"0": 0.1}

    def populate_indicators(self, dataframe, metadata):
        dataframe["fast"] = dataframe["close"].ewm(span=12).mean()
        dataframe["slow"] = dataframe["close"].ewm(span=26).mean()
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        dataframe.loc[dataframe["fast"] > dataframe["slow"], "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        dataframe.loc[dataframe["fast"] < dataframe["slow"], "exit_long"] = 1
        return dataframe
"#;
