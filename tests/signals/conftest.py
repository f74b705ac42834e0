"""Fixtures of the signal tests: real candles and the shipped model."""

from __future__ import annotations

import pytest
from signal_data import candles_or_skip

from app.signals.candles import Candles


@pytest.fixture(scope="session")
def btc_1h() -> Candles:
    return candles_or_skip("BTC/USDT")


@pytest.fixture(scope="session")
def shipped_model():
    from app.signals.registry import load_model

    return load_model()
