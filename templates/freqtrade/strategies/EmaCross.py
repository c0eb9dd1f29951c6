"""Trend following on one-minute candles: buys when the fast EMA crosses above the
slow one, sells when it crosses back below, takes 1 % profit or cuts a 3 % loss.

An example for the sandbox: on the simulator's prices it trades within minutes.
Not advice; backtest before running it anywhere real."""

import talib.abstract as ta
from freqtrade.strategy import IStrategy, IntParameter
from technical import qtpylib


class EmaCross(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1m"
    minimal_roi = {"0": 0.01, "30": 0.004, "60": 0}
    stoploss = -0.03
    process_only_new_candles = True
    startup_candle_count = 60

    fast = IntParameter(3, 15, default=5, space="buy")
    slow = IntParameter(16, 60, default=21, space="buy")

    def populate_indicators(self, dataframe, metadata):
        for period in set(self.fast.range) | set(self.slow.range):
            dataframe[f"ema_{period}"] = ta.EMA(dataframe, timeperiod=period)
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        fast = dataframe[f"ema_{self.fast.value}"]
        slow = dataframe[f"ema_{self.slow.value}"]
        dataframe.loc[
            qtpylib.crossed_above(fast, slow) & (dataframe["volume"] > 0), "enter_long"
        ] = 1
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        fast = dataframe[f"ema_{self.fast.value}"]
        slow = dataframe[f"ema_{self.slow.value}"]
        dataframe.loc[qtpylib.crossed_below(fast, slow), "exit_long"] = 1
        return dataframe
