"""Shared data for the signal tests: the real candles in ../shared/data (skipped when absent)."""

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


@pytest.fixture(scope="session")
def btc_1h() -> Candles:
    return candles_or_skip("BTC/USDT")


@pytest.fixture(scope="session")
def shipped_model():
    from app.signals.registry import load_model

    return load_model()
