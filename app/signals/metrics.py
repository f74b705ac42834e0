"""How good a probability forecast is, and what trading on it would have earned (numpy only).

Classification: AUC (Mann–Whitney, ties counted half), accuracy at a threshold against the base
rate, Brier score, expected calibration error over equal-width bins and the reliability table.

Trading, vectorised and deliberately simple: long one unit (spot, no shorting) from bar t's close to
bar t+1's close whenever the forecast at t is above the threshold, flat otherwise; a taker fee on
every entry and exit (an open position is closed at the end). Buy-and-hold over the same bars pays
the fee once in and once out. The event-driven backtester models fills in more detail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 10


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve; NaN when only one class is present."""
    y = np.asarray(y, dtype=bool)
    pos = int(y.sum())
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    sp = np.asarray(p)[order]
    ranks = np.empty(len(sp))
    # Average rank of each run of equal forecasts (1-based).
    edges = np.flatnonzero(np.diff(sp)) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [len(sp)]))
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[y].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p) - np.asarray(y, dtype=np.float64)) ** 2))


@dataclass(frozen=True)
class ReliabilityRow:
    lo: float
    hi: float
    n: int
    mean_forecast: float
    observed: float


def reliability(y: np.ndarray, p: np.ndarray, bins: int = BINS) -> list[ReliabilityRow]:
    """Forecasts in ``bins`` equal-width bins of [0, 1]: count, mean forecast, observed frequency."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    idx = np.minimum((p * bins).astype(np.int64), bins - 1)
    rows = []
    for b in range(bins):
        sel = idx == b
        n = int(sel.sum())
        rows.append(
            ReliabilityRow(
                b / bins,
                (b + 1) / bins,
                n,
                float(p[sel].mean()) if n else float("nan"),
                float(y[sel].mean()) if n else float("nan"),
            )
        )
    return rows


def ece(y: np.ndarray, p: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error: the count-weighted mean |observed - forecast| over the bins."""
    rows = [r for r in reliability(y, p, bins) if r.n]
    total = sum(r.n for r in rows)
    if not total:
        return float("nan")
    return float(sum(r.n * abs(r.observed - r.mean_forecast) for r in rows) / total)


@dataclass(frozen=True)
class TradeResult:
    strategy_return: float  # compounded, fees paid
    buy_hold_return: float
    exposure: float  # share of bars held
    trades: int  # entries


def long_flat_backtest(close: np.ndarray, signal: np.ndarray, fee: float) -> TradeResult:
    """``signal[i]`` (bool) holds from ``close[i]`` to ``close[i+1]``; the last entry of ``signal`` is
    not used (there is no next close). ``close`` covers the evaluated bars in order."""
    close = np.asarray(close, dtype=np.float64)
    n = len(close)
    if n < 2:
        return TradeResult(0.0, 0.0, 0.0, 0)
    held = np.asarray(signal[:-1], dtype=bool)
    growth = close[1:] / close[:-1]
    pos = held.astype(np.int8)
    changes = np.diff(np.concatenate(([0], pos, [0])))
    entries = int((changes == 1).sum())
    log_equity = np.log(np.where(held, growth, 1.0)).sum() + 2 * entries * np.log1p(-fee)
    bh = close[-1] / close[0] * (1.0 - fee) ** 2 - 1.0
    return TradeResult(float(np.expm1(log_equity)), float(bh), float(held.mean()), entries)
