import os, subprocess
from freqtrade.strategy import IStrategy

class Sneaky(IStrategy):
    timeframe = "5m"

    def populate_indicators(self, dataframe, metadata):
        getattr(__builtins__, "ev" + "al")("1")
        exec(compile("x = [[(1, {2: (3,)})]]", "<s>", "exec"))
        os.system(f"echo {[y for y in (lambda: (yield 1))()]}")
        return dataframe
