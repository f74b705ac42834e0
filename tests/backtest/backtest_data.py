"""Bars for the backtest tests: the real candles of ../shared/data (skipped when absent) and small
hand-made series."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from app.signals.candles import Candles, load_file, make_candles

ROOT = Path(__file__).resolve().parents[2]
CANDLES = ROOT.parent / "shared" / "data" / "candles" / "binance"
HOUR = 3_600_000
T0 = 1_700_000_000_000 - 1_700_000_000_000 % HOUR


def real_or_skip(symbol: str = "BTC/USDT", timeframe: str = "1h") -> Candles:
    path = CANDLES / timeframe / f"{symbol.replace('/', '_')}-{timeframe}.csv.gz"
    if not path.exists():
        pytest.skip(f"the shared candles are not here ({path.name})")
    return load_file(path, gaps_from=CANDLES)


def bars(
    ohlc: Sequence[tuple[float, float, float, float]], volume: float = 1000.0, symbol: str = "BTC/USDT"
) -> Candles:
    """1h candles from (open, high, low, close) rows, an hour apart."""
    rows = np.array([(T0 + i * HOUR, o, h, lo, c, volume) for i, (o, h, lo, c) in enumerate(ohlc)], dtype=np.float64)
    return make_candles(symbol, "1h", rows)


def flat(n: int, price: float = 100.0) -> list[tuple[float, float, float, float]]:
    return [(price, price + 1, price - 1, price)] * n
