"""The shipped strategies live in ``app.signals.strategies`` (the live runner trades them too);
re-exported here for the backtester's modules and older imports."""

from app.signals.strategies import STRATEGIES, OnnxSignal, SmaCross, crossings, make_strategy, sma

__all__ = ["STRATEGIES", "OnnxSignal", "SmaCross", "crossings", "make_strategy", "sma"]
