"""The label the model learns: does a long position opened at bar t's close and closed N bars later
gain after paying the fee twice?

``y[t] = 1`` when ``log(close[t+N] / close[t]) > -2 * log(1 - fee)`` (a round trip of two taker
fees of ``fee`` each), else 0. Undefined (``valid`` False) when bar t+N is missing or lies beyond
a gap: a label never spans a gap, as a feature window never does.
"""

from __future__ import annotations

import math

import numpy as np

from .candles import Candles

FEE = 0.001  # Binance spot taker fee, each side


def round_trip_cost(fee: float = FEE) -> float:
    """The log return a long needs to break even after buying and selling with ``fee`` each."""
    return -2.0 * math.log1p(-fee)


def forward_labels(c: Candles, horizon: int, fee: float = FEE) -> tuple[np.ndarray, np.ndarray]:
    """(y, valid): y as float64 (0/1, NaN where undefined) for every candle."""
    size = len(c)
    y = np.full(size, np.nan)
    valid = np.zeros(size, dtype=bool)
    if size <= horizon:
        return y, valid
    seg = c.segment_id()
    lc = np.log(c.close)
    ok = seg[horizon:] == seg[:-horizon]  # bar t+N in the same segment as bar t
    up = (lc[horizon:] - lc[:-horizon]) > round_trip_cost(fee)
    valid[:-horizon] = ok
    y[:-horizon] = np.where(ok, up.astype(np.float64), np.nan)
    return y, valid
