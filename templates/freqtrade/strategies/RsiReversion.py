"""Mean reversion on five-minute candles: buys when RSI says oversold below the lower
Bollinger band, sells when RSI says overbought, takes 2 % profit or cuts a 5 % loss.

An example for the sandbox and for hyperopt (the RSI levels are parameters). Not
advice; backtest before running it anywhere real."""

import talib.abstract as ta
from freqtrade.strategy import IStrategy, IntParameter
from technical import qtpylib


class RsiReversion(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {"0": 0.02, "60": 0.01, "180": 0}
    stoploss = -0.05
    process_only_new_candles = True
    startup_candle_count = 30

    buy_rsi = IntParameter(15, 45, default=35, space="buy")
    sell_rsi = IntParameter(55, 85, default=65, space="sell")

    def populate_indicators(self, dataframe, metadata):
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        bands = qtpylib.bollinger_bands(qtpylib.typical_price(dataframe), window=20, stds=2)
        dataframe["bb_lower"] = bands["lower"]
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        dataframe.loc[
            (dataframe["rsi"] < self.buy_rsi.value)
            & (dataframe["close"] < dataframe["bb_lower"])
            & (dataframe["volume"] > 0),
            "enter_long",
        ] = 1
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        dataframe.loc[dataframe["rsi"] > self.sell_rsi.value, "exit_long"] = 1
        return dataframe
