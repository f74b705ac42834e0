"""Indicators against plain reference implementations."""

from __future__ import annotations

import numpy as np

from app.signals import indicators as ind

X = 100 + np.cumsum(np.random.default_rng(3).standard_normal(3000))


def ref_ema(x, n):
    out = np.full(len(x), np.nan)
    a = 2 / (n + 1)
    out[n - 1] = x[:n].mean()
    for i in range(n, len(x)):
        out[i] = a * x[i] + (1 - a) * out[i - 1]
    return out


def test_sma_and_ema_match_the_definitions():
    assert np.allclose(ind.sma(X, 20)[19:], [X[i - 19 : i + 1].mean() for i in range(19, len(X))])
    assert np.isnan(ind.sma(X, 20)[:19]).all()
    assert np.allclose(ind.ema(X, 26), ref_ema(X, 26), equal_nan=True, atol=1e-9)


def test_bollinger_bands_are_two_deviations_around_the_mean():
    mid, up, lo = ind.bollinger(X, 20, 2)
    i = 500
    sd = X[i - 19 : i + 1].std()
    assert np.isclose(up[i] - mid[i], 2 * sd) and np.isclose(mid[i] - lo[i], 2 * sd)


def test_rsi_is_bounded_and_follows_direction():
    up = np.arange(100, dtype=float)
    assert ind.rsi(up)[-1] == 100.0
    r = ind.rsi(X)
    assert np.nanmin(r) >= 0 and np.nanmax(r) <= 100


def test_macd_line_is_the_difference_of_two_emas():
    line, sig, hist = ind.macd(X)
    assert np.allclose(line, ref_ema(X, 12) - ref_ema(X, 26), equal_nan=True)
    assert np.allclose(hist, line - sig, equal_nan=True)


def test_vwap_restarts_each_session():
    h = low = c = np.array([10.0, 20.0, 30.0, 40.0])
    v = np.array([1.0, 1.0, 1.0, 3.0])
    out = ind.vwap(h, low, c, v, session_starts=np.array([2]))
    assert out[1] == 15.0 and out[2] == 30.0 and out[3] == (30 + 120) / 4
