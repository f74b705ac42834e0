"""Labels (net of fees, never across a gap) and the forecast metrics against brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.signals import metrics as M
from app.signals.candles import make_candles
from app.signals.labels import forward_labels, round_trip_cost

HOUR = 3_600_000


def candles(closes, gap_at=None):
    n = len(closes)
    t = np.arange(n, dtype=np.int64) * HOUR
    if gap_at is not None:
        t[gap_at:] += 3 * HOUR
    c = np.asarray(closes, dtype=float)
    return make_candles("BTC/USDT", "1h", np.column_stack([t, c, c, c, c, np.ones(n)]))


def test_label_is_a_gain_after_two_fees_over_the_horizon():
    cost = round_trip_cost(0.001)
    assert cost == pytest.approx(0.0020010, abs=1e-7)
    up = math.exp(cost) * 1.0001  # just enough
    flat = math.exp(cost) * 0.9999  # a gain, but not after fees
    y, valid = forward_labels(candles([100, 100, 100 * up, 100 * flat, 100]), horizon=2)
    assert valid.tolist() == [True, True, True, False, False]
    assert y[:3].tolist() == [1.0, 0.0, 0.0]  # 100 → 100·up; 100 → 100·flat; 100·up → 100
    assert np.isnan(y[3:]).all()


def test_a_label_never_spans_a_gap():
    y, valid = forward_labels(candles(np.linspace(100, 120, 10), gap_at=5), horizon=2)
    assert np.isnan(y[~valid]).all()
    assert valid.tolist() == [True, True, True, False, False, True, True, True, False, False]


def test_auc_matches_counting_pairs_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.round(rng.random(300) * 0.3 + y * 0.1, 2)  # many ties
    pos, neg = p[y == 1], p[y == 0]
    pairs = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert M.auc(y, p) == pytest.approx(pairs / (len(pos) * len(neg)), abs=1e-12)
    assert math.isnan(M.auc(np.ones(5), np.linspace(0, 1, 5)))


def test_brier_ece_and_the_reliability_table():
    y = np.array([0, 0, 1, 1, 1, 0, 1, 0])
    p = np.array([0.05, 0.15, 0.95, 0.85, 0.55, 0.55, 0.55, 0.45])
    assert M.brier(y, p) == pytest.approx(np.mean((p - y) ** 2))
    rows = {round(r.lo, 1): r for r in M.reliability(y, p)}
    assert rows[0.5].n == 3 and rows[0.5].observed == pytest.approx(2 / 3) and rows[0.5].mean_forecast == 0.55
    expected = (1 * 0.05 + 1 * 0.15 + 1 * 0.05 + 1 * 0.15 + 3 * abs(2 / 3 - 0.55) + 1 * 0.45) / 8
    assert M.ece(y, p) == pytest.approx(expected)


def test_long_flat_backtest_pays_a_fee_on_each_entry_and_exit():
    close = np.array([100.0, 110.0, 121.0, 100.0, 110.0])
    held = np.array([True, True, False, True, False])  # 100→121 held, then 100→110
    r = M.long_flat_backtest(close, held, fee=0.001)
    assert r.trades == 2
    assert r.strategy_return == pytest.approx(1.21 * 1.10 * 0.999**4 - 1)
    assert r.buy_hold_return == pytest.approx(1.10 * 0.999**2 - 1)
    assert r.exposure == pytest.approx(3 / 4)
