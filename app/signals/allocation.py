"""A suggested allocation across the user's assets from their price history: minimum variance and
risk parity (equal risk contributions), long only, each with its expected volatility. Numeric
arrays in floats (a suggestion shown as percentages; it places no order and touches no money).

- ``covariance(closes)``: the covariance of one-bar log returns of aligned close series.
- ``min_variance(cov)``: the fully invested long-only portfolio of least variance (the closed form
  Σ⁻¹1 / 1ᵀΣ⁻¹1, with assets whose weight would be negative set to zero and the rest solved again
  until none is: the exact long-only answer, found by active sets).
- ``risk_parity(cov)``: each asset adds the same share of the portfolio's variance, found by
  Newton's method on the convex problem min ½yᵀΣy − Σ log yᵢ / n (Spinu 2013), y scaled to sum 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from app.i18n import N_


class AllocationError(ValueError):
    """Too little or unusable history: the reason in words (an English message marked for
    translation; the window shows it translated)."""


def log_returns(closes: np.ndarray) -> np.ndarray:
    """(n-1, k) one-bar log returns of (n, k) aligned closes."""
    c = np.asarray(closes, dtype=np.float64)
    if c.ndim != 2 or len(c) < 3:
        raise AllocationError(N_("at least three aligned prices per asset are needed"))
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise AllocationError(N_("prices must be positive numbers"))
    return np.diff(np.log(c), axis=0)


def covariance(closes: np.ndarray) -> np.ndarray:
    r = log_returns(closes)
    return np.atleast_2d(np.cov(r, rowvar=False, ddof=1))


def _check(cov: np.ndarray) -> np.ndarray:
    s = np.asarray(cov, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] != s.shape[1] or not len(s):
        raise AllocationError(N_("the covariance must be a square matrix"))
    if not np.all(np.isfinite(s)) or not np.allclose(s, s.T, rtol=1e-10, atol=1e-14):
        raise AllocationError(N_("the covariance must be finite and symmetric"))
    if np.any(np.diag(s) <= 0):
        raise AllocationError(N_("an asset whose price never moved has no risk to weigh"))
    return s


def min_variance(cov: np.ndarray) -> np.ndarray:
    s = _check(cov)
    n = len(s)
    active = np.ones(n, dtype=bool)
    for _ in range(4 * n + 4):
        idx = np.flatnonzero(active)
        x = np.linalg.solve(s[np.ix_(idx, idx)], np.ones(len(idx)))
        x /= x.sum()
        if np.any(x < -1e-12):
            active[idx[int(np.argmin(x))]] = False  # the most negative weight leaves
            continue
        w = np.zeros(n)
        w[idx] = np.clip(x, 0.0, None)
        w /= w.sum()
        # Optimal when no asset left out would lower the variance: its marginal variance (Σw)ᵢ is
        # at least the portfolio's wᵀΣw (the KKT condition); else the best one comes back in.
        g, lam = s @ w, float(w @ s @ w)
        out = np.flatnonzero(~active)
        better = out[g[out] < lam * (1 - 1e-10)]
        if not len(better):
            return w
        active[better[int(np.argmin(g[better]))]] = True
    raise AllocationError(N_("no long-only minimum-variance portfolio was found"))


def risk_parity(cov: np.ndarray, tol: float = 1e-12, max_iter: int = 100) -> np.ndarray:
    s = _check(cov)
    n = len(s)
    b = np.full(n, 1.0 / n)
    y = 1.0 / np.sqrt(np.diag(s))
    y *= math.sqrt(1.0 / float(y @ s @ y))  # a good start: inverse volatility, unit variance
    for _ in range(max_iter):
        grad = s @ y - b / y
        if float(np.max(np.abs(grad))) < tol:
            break
        hess = s + np.diag(b / (y * y))
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while np.any(y - t * step <= 0):  # stay in y > 0
            t *= 0.5
        y = y - t * step
    w = y / y.sum()
    return w


def volatility(weights: np.ndarray, cov: np.ndarray, periods_per_year: float = 1.0) -> float:
    """Expected annualised volatility of the portfolio (cov of one-period returns)."""
    w = np.asarray(weights, dtype=np.float64)
    return math.sqrt(max(float(w @ cov @ w), 0.0) * periods_per_year)


def risk_contributions(weights: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Each asset's share of the portfolio's variance (sums to 1)."""
    w = np.asarray(weights, dtype=np.float64)
    total = float(w @ cov @ w)
    return w * (cov @ w) / total


@dataclass(frozen=True)
class Suggestion:
    assets: tuple[str, ...]
    min_variance: np.ndarray
    min_variance_vol: float  # annualised
    risk_parity: np.ndarray
    risk_parity_vol: float
    asset_vol: np.ndarray  # each asset's own annualised volatility
    current: np.ndarray | None  # the user's weights now, if given
    current_vol: float | None
    bars: int  # returns the estimate used


def suggest(
    closes: Mapping[str, Sequence[float] | np.ndarray],
    periods_per_year: float,
    current: Mapping[str, float] | None = None,
) -> Suggestion:
    """Both allocations over the assets of ``closes`` (aligned series, oldest first: the same
    timestamps for every asset); ``current``: the user's weights by asset (any scale)."""
    assets = tuple(closes)
    if len(assets) < 2:
        raise AllocationError(N_("an allocation needs at least two assets with a price history"))
    lengths = {len(v) for v in closes.values()}
    if len(lengths) != 1:
        raise AllocationError(N_("the price histories must be aligned (the same bars for every asset)"))
    c = np.column_stack([np.asarray(closes[a], dtype=np.float64) for a in assets])
    cov = covariance(c)
    mv, rp = min_variance(cov), risk_parity(cov)
    cur = cur_vol = None
    if current is not None:
        cw = np.array([max(float(current.get(a, 0.0)), 0.0) for a in assets])
        if cw.sum() > 0:
            cur = cw / cw.sum()
            cur_vol = volatility(cur, cov, periods_per_year)
    return Suggestion(
        assets,
        mv,
        volatility(mv, cov, periods_per_year),
        rp,
        volatility(rp, cov, periods_per_year),
        np.sqrt(np.diag(cov) * periods_per_year),
        cur,
        cur_vol,
        len(c) - 1,
    )


def align(series: Mapping[str, Mapping[int, float]]) -> dict[str, np.ndarray]:
    """Close series keyed by bar time → the bars every asset has, in time order."""
    if not series:
        return {}
    common = set.intersection(*(set(s) for s in series.values()))
    times = sorted(common)
    return {a: np.array([s[t] for t in times], dtype=np.float64) for a, s in series.items()}
