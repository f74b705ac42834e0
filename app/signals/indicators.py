"""Technical indicators on float64 numpy arrays (features and drawing only; never money).
Warm-up values are NaN."""

from __future__ import annotations

import itertools

import numpy as np


def sma(x: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    if n <= 0 or len(x) < n:
        return out
    c = np.cumsum(np.insert(x.astype(float), 0, 0.0))
    out[n - 1 :] = (c[n:] - c[:-n]) / n
    return out


def ema(x: np.ndarray, n: int) -> np.ndarray:
    """Exponential moving average (alpha = 2/(n+1)), seeded with the SMA of the first n values.
    Blocks of values are filtered at once by a matrix product and chained by their carry, so a
    million points take tens of milliseconds without a Python loop per point."""
    x = np.asarray(x, dtype=float)
    out = np.full(len(x), np.nan)
    if n <= 0 or len(x) < n:
        return out
    alpha = 2.0 / (n + 1)
    out[n - 1] = x[:n].mean()
    rest = x[n:]
    if len(rest) == 0:
        return out
    block = 128
    nb = -(-len(rest) // block)
    padded = np.zeros(nb * block)
    padded[: len(rest)] = rest
    blocks = padded.reshape(nb, block)
    lag = np.arange(block)[:, None] - np.arange(block)[None, :]
    w = np.where(lag >= 0, alpha * (1 - alpha) ** np.maximum(lag, 0), 0.0)
    local = blocks @ w.T  # each block filtered from a zero start
    decay = (1 - alpha) ** np.arange(1, block + 1)
    carry = np.empty(nb)
    prev = out[n - 1]
    last_local, last_decay = local[:, -1], decay[-1]
    for b in range(nb):
        carry[b] = prev
        prev = last_local[b] + last_decay * prev
    vals = local + decay[None, :] * carry[:, None]
    out[n:] = vals.ravel()[: len(rest)]
    return out


def bollinger(x: np.ndarray, n: int = 20, k: float = 2.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mid = sma(x, n)
    x = np.asarray(x, dtype=float)
    sq = sma(x * x, n)
    sd = np.sqrt(np.maximum(sq - mid * mid, 0.0))
    return mid, mid + k * sd, mid - k * sd


def vwap(high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray,
         session_starts: np.ndarray | None = None) -> np.ndarray:
    """Cumulative VWAP of the typical price, restarting at each index in ``session_starts``."""
    tp = (np.asarray(high, float) + low + close) / 3
    pv, vol = tp * volume, np.asarray(volume, float)
    if session_starts is None or len(session_starts) == 0:
        cv = np.cumsum(vol)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(cv > 0, np.cumsum(pv) / cv, np.nan)
    out = np.empty(len(tp))
    bounds = [*sorted(set(int(s) for s in session_starts) | {0}), len(tp)]
    for a, b in itertools.pairwise(bounds):
        cv = np.cumsum(vol[a:b])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[a:b] = np.where(cv > 0, np.cumsum(pv[a:b]) / cv, np.nan)
    return out


def _wilder(x: np.ndarray, n: int) -> np.ndarray:
    """Wilder's smoothing = EMA with alpha 1/n, seeded with the mean of the first n."""
    return ema(x, 2 * n - 1)


def rsi(close: np.ndarray, n: int = 14) -> np.ndarray:
    close = np.asarray(close, float)
    out = np.full(len(close), np.nan)
    if len(close) <= n:
        return out
    d = np.diff(close)
    gain, loss = np.maximum(d, 0), np.maximum(-d, 0)
    ag, al = _wilder(gain, n), _wilder(loss, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        rs = ag / al
        r = np.where(al == 0, 100.0, 100 - 100 / (1 + rs))
    out[1:] = r
    return out


def macd(close: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    line = ema(close, fast) - ema(close, slow)
    sig = np.full(len(line), np.nan)
    valid = ~np.isnan(line)
    if valid.sum() >= signal:
        sig[valid] = ema(line[valid], signal)
    return line, sig, line - sig
