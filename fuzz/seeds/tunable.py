from functools import reduce

import talib.abstract as ta
from pandas import DataFrame

from freqtrade.strategy import DecimalParameter, IntParameter, IStrategy, merge_informative_pair


class Tunable(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1m"
    can_short: bool = False
    minimal_roi = {"60": 0.01, "30": 0.02, "0": 0.04}
    stoploss = -0.10
    buy_rsi = IntParameter(10, 40, default=30, space="buy")
    sell_rsi = DecimalParameter(60.0, 90.0, decimals=1, default=70.0, space="sell")

    @property
    def plot_config(self):
        return {"main_plot": {"tema": {}}, "subplots": {"RSI": {"rsi": {"color": "red"}}}}

    def informative_pairs(self):
        return [(pair, "5m") for pair in self.dp.current_whitelist()]

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        dataframe["tema"] = ta.TEMA(dataframe, timeperiod=9)
        if self.dp:
            informative = self.dp.get_pair_dataframe(metadata["pair"], "5m")
            dataframe = merge_informative_pair(dataframe, informative, self.timeframe, "5m", ffill=True)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        conditions = [dataframe["rsi"] < self.buy_rsi.value, dataframe["volume"] > 0]
        dataframe.loc[reduce(lambda a, b: a & b, conditions), ["enter_long", "enter_tag"]] = (1, "rsi")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[(dataframe["rsi"] > self.sell_rsi.value), "exit_long"] = 1
        return dataframe

    def custom_stoploss(self, pair, trade, current_time, current_rate, current_profit, **kwargs):
        match current_profit:
            case p if p > 0.05:
                return -0.01
            case _:
                return None
