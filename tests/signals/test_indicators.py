"""Indicators against plain reference implementations and published values."""

from __future__ import annotations

import numpy as np
import pytest

from app.signals import indicators as ind

X = 100 + np.cumsum(np.random.default_rng(3).standard_normal(3000))

# StockCharts' RSI example (14 periods): closes and their published RSI from the 15th close on.
CLOSES = [
    44.34,
    44.09,
    44.15,
    43.61,
    44.33,
    44.83,
    45.10,
    45.42,
    45.84,
    46.08,
    45.89,
    46.03,
    45.61,
    46.28,
    46.28,
    46.00,
    46.03,
    46.41,
    46.22,
    45.64,
    46.21,
    46.25,
    45.71,
    46.45,
    45.78,
    45.35,
    44.03,
    44.18,
    44.22,
    44.57,
    43.42,
    42.66,
    43.13,
]
RSI_14 = [
    70.46,
    66.25,
    66.48,
    69.35,
    66.29,
    57.92,
    62.88,
    63.21,
    56.01,
    62.34,
    54.67,
    50.39,
    40.02,
    41.49,
    41.90,
    45.50,
    37.32,
    33.09,
    37.79,
]


def ref_sma(x, n):
    return np.array([np.nan if i < n - 1 else np.mean(x[i - n + 1 : i + 1]) for i in range(len(x))])


def ref_smooth(x, n, alpha, first=0):
    """The textbook recursion: a mean of the first n values, then y += alpha * (x - y)."""
    out = np.full(len(x), np.nan)
    if len(x) - first < n:
        return out
    out[first + n - 1] = np.mean(x[first : first + n])
    for i in range(first + n, len(x)):
        out[i] = out[i - 1] + alpha * (x[i] - out[i - 1])
    return out


def ref_ema(x, n, first=0):
    return ref_smooth(x, n, 2 / (n + 1), first)


def ref_rsi(close, n):
    out = np.full(len(close), np.nan)
    d = np.diff(close)
    gain, loss = np.maximum(d, 0), np.maximum(-d, 0)
    ag, al = gain[:n].mean(), loss[:n].mean()
    for i in range(n, len(close)):
        if i > n:
            ag = (ag * (n - 1) + gain[i - 1]) / n
            al = (al * (n - 1) + loss[i - 1]) / n
        out[i] = 50.0 if ag + al == 0 else 100 - 100 / (1 + ag / al) if al else 100.0
    return out


def test_sma_matches_the_definition_and_warms_up_with_nan():
    for n in (1, 2, 20, 200):
        assert np.allclose(ind.sma(X, n), ref_sma(X, n), equal_nan=True, rtol=0, atol=1e-9)
    assert np.isnan(ind.sma(X, 20)[:19]).all() and not np.isnan(ind.sma(X, 20)[19:]).any()
    assert np.isnan(ind.sma(X[:5], 20)).all()


def test_ema_matches_the_recursion_seeded_with_the_sma():
    for n in (1, 2, 9, 26, 200):
        assert np.allclose(ind.ema(X, n), ref_ema(X, n), equal_nan=True, rtol=0, atol=1e-9)
    assert ind.ema([1.0, 2.0, 3.0, 4.0], 3)[2] == 2.0  # seed: the mean of the first three
    assert ind.ema([1.0, 2.0, 3.0, 4.0], 3)[3] == 3.0  # 2 + 0.5 * (4 - 2)


def test_ema_skips_leading_nan():
    x = np.concatenate((np.full(10, np.nan), X[:200]))
    out = ind.ema(x, 9)
    assert np.isnan(out[:18]).all()
    assert np.allclose(out[10:], ref_ema(X[:200], 9), equal_nan=True)


def test_bollinger_bands_are_k_population_deviations_around_the_mean():
    mid, up, lo = ind.bollinger(X, 20, 2)
    for i in (19, 500, 2999):
        w = X[i - 19 : i + 1]
        assert mid[i] == pytest.approx(w.mean(), abs=1e-9)
        assert up[i] - mid[i] == pytest.approx(2 * w.std(), abs=1e-9)
        assert mid[i] - lo[i] == pytest.approx(2 * w.std(), abs=1e-9)
    assert np.isnan(mid[:19]).all() and np.isnan(up[:19]).all()


def test_bollinger_keeps_its_precision_on_high_prices_with_tiny_moves():
    # 100,000 with moves of a cent: a global sum of squares would lose the deviation entirely.
    x = 100_000 + np.cumsum(np.random.default_rng(5).standard_normal(200_000)) * 0.01
    _mid, up, lo = ind.bollinger(x, 20, 2)
    i = 199_999
    sd = x[i - 19 : i + 1].std()
    assert (up[i] - lo[i]) / 4 == pytest.approx(sd, rel=1e-6)


def test_rsi_matches_published_values_and_the_reference():
    r = ind.rsi(np.array(CLOSES), 14)
    assert np.isnan(r[:14]).all()
    assert np.round(r[14:], 2).tolist() == RSI_14
    assert np.allclose(ind.rsi(X, 14), ref_rsi(X, 14), equal_nan=True, atol=1e-9)


def test_rsi_edges():
    assert ind.rsi(np.arange(100, dtype=float))[-1] == 100.0  # only gains
    assert ind.rsi(np.arange(100, 0, -1, dtype=float))[-1] == 0.0  # only losses
    assert ind.rsi(np.full(50, 7.0))[-1] == 50.0  # no movement at all
    r = ind.rsi(X)
    assert np.nanmin(r) >= 0 and np.nanmax(r) <= 100
    assert np.isnan(ind.rsi(X[:14], 14)).all()


def test_macd_is_the_difference_of_two_emas_with_an_ema_signal():
    line, sig, hist = ind.macd(X)
    assert np.allclose(line, ref_ema(X, 12) - ref_ema(X, 26), equal_nan=True, atol=1e-9)
    assert np.allclose(sig, ref_ema(line, 9, first=25), equal_nan=True, atol=1e-9)
    assert np.allclose(hist, line - sig, equal_nan=True)
    assert np.isnan(sig[:33]).all() and not np.isnan(sig[33])


def test_vwap_is_cumulative_and_restarts_each_session():
    h = np.array([11.0, 21.0, 31.0, 41.0])
    low = np.array([9.0, 19.0, 29.0, 39.0])
    c = np.array([10.0, 20.0, 30.0, 40.0])
    v = np.array([1.0, 1.0, 1.0, 3.0])
    assert ind.vwap(h, low, c, v).tolist() == [10.0, 15.0, 20.0, (10 + 20 + 30 + 120) / 6]
    out = ind.vwap(h, low, c, v, session_starts=np.array([2]))
    assert out.tolist() == [10.0, 15.0, 30.0, (30 + 120) / 4]
    assert np.isnan(ind.vwap(h, low, c, np.array([0.0, 0.0, 1.0, 1.0]))[:2]).all()  # no volume yet


def test_a_million_points_come_out_whole_and_finite_after_warm_up():
    # How fast: ``python tests/perf/run.py indicators_1m_points_ms`` (about 0.2 s for all six here).
    x = 60_000 * np.exp(np.cumsum(np.random.default_rng(1).standard_normal(1_000_000) * 0.001))
    v = np.ones(len(x))
    outs = [ind.sma(x, 20), ind.ema(x, 26), ind.rsi(x), ind.vwap(x, x, x, v, np.arange(0, len(x), 1440))]
    outs += list(ind.bollinger(x, 20)) + list(ind.macd(x))
    for out in outs:
        assert len(out) == len(x) and np.isfinite(out[100:]).all()
