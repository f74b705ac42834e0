"""Where the signal tests find the real candles (../shared/data); skipped when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.signals.candles import Candles, load_file

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
CANDLES = DATA / "candles" / "binance"


def candles_or_skip(symbol: str, timeframe: str = "1h") -> Candles:
    path = CANDLES / timeframe / f"{symbol.replace('/', '_')}-{timeframe}.csv.gz"
    if not path.exists():
        pytest.skip(f"the shared candles are not here ({path.relative_to(ROOT.parent)})")
    return load_file(path, gaps_from=CANDLES)
